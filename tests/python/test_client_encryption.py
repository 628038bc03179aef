"""Field encryption through tcfaceid.Client (encrypt=True) against the in-process emulator.

The C core encrypts the request (tcf_encrypt_request, once per call) and decrypts the response
(tcf_decrypt_response); the emulator decrypts and encrypts with its own pure-Python code and its
own key pair, so the clients here are given the emulator's public keys. ``raw`` records the
parameters exactly as they reached the emulator, before its decryption: the proof that what went
over the wire was ciphertext."""

from __future__ import annotations

import copy
import threading
from typing import Any, Iterator

import pytest

import tcfaceid
from tcfaceid.emulator import (
    DEFAULT_SECRET_ID,
    DEFAULT_SECRET_KEY,
    EMULATOR_RSA_PUBLIC_KEY_PEM,
    EMULATOR_SM2_PUBLIC_KEY_PEM,
    Emulator,
)
from tcfaceid.emulator import encryption as emu_encryption

ID_NO = "110101199003071233"
NAME = "张三"
AES, SM4 = "AES-256-CBC", "SM4-GCM"
ALGORITHMS = (AES, SM4)


def new_client(emu: Emulator, algorithm: str = AES, *, whole_body: bool = False, encrypt: bool = True,
               keys: bool = True, **options: Any) -> tcfaceid.Client:
    encryption: dict[str, Any] = {"algorithm": algorithm, "whole_body": whole_body}
    if keys:
        encryption.update(rsa_public_key_pem=EMULATOR_RSA_PUBLIC_KEY_PEM,
                          sm2_public_key_pem=EMULATOR_SM2_PUBLIC_KEY_PEM)
    options.setdefault("retry", {"max_attempts": 1})
    return tcfaceid.Client(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, endpoint=emu.endpoint, proxy="", qps=False,
                           clock=emu.now, timeout=10.0, encrypt=encrypt, encryption=encryption, **options)


class Raw:
    """The parameters of every API call as received (before the emulator decrypts them)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.lock = threading.Lock()

    def params(self, action: str) -> list[dict[str, Any]]:
        with self.lock:
            return [p for a, p in self.calls if a == action]


@pytest.fixture
def raw(monkeypatch: pytest.MonkeyPatch) -> Raw:
    rec = Raw()
    original = emu_encryption.decrypt_request

    def spy(keys: Any, action: str, params: dict[str, Any]) -> Any:
        with rec.lock:
            rec.calls.append((action, copy.deepcopy(params)))
        return original(keys, action, params)

    monkeypatch.setattr(emu_encryption, "decrypt_request", spy)
    return rec


@pytest.fixture(params=ALGORITHMS)
def algorithm(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def client(emu: Emulator, algorithm: str) -> Iterator[tcfaceid.Client]:
    with new_client(emu, algorithm) as c:
        yield c


def assert_encrypted(params: dict[str, Any], algorithm: str, fields: list[str]) -> None:
    enc = params["Encryption"]
    assert enc["Algorithm"] == algorithm
    assert sorted(enc["EncryptList"]) == sorted(fields)
    assert enc["CiphertextBlob"] and enc["Iv"]
    if algorithm == SM4:
        assert len(enc["TagList"]) == len(fields)
    for field in fields:
        assert params[field] not in (ID_NO, NAME) and ID_NO not in params[field] and NAME not in params[field]


# ---- requests ------------------------------------------------------------------------------------

def test_detect_auth_encrypted_session_end_to_end(emu: Emulator, client: tcfaceid.Client, algorithm: str,
                                                  raw: Raw) -> None:
    s = client.detect_auth("1", id_card=ID_NO, name=NAME, redirect_url="https://shop.example/back")
    assert s.biz_token in emu.service.sessions
    (sent,) = raw.params("DetectAuth")
    assert_encrypted(sent, algorithm, ["IdCard", "Name"])
    assert sent["RuleId"] == "1" and sent["RedirectUrl"] == "https://shop.example/back"
    # the emulator decrypted them: the session is bound to the plain identity
    emu.complete(s.biz_token, "pass")
    v = client.detect_result(s)
    assert v.passed and v.text is not None
    assert v.text["IdCard"] == ID_NO and v.text["Name"] == NAME
    # the flow's result read asked for an encrypted response, and got it back decrypted
    (read,) = raw.params("GetDetectInfoEnhanced")
    assert read["Encryption"]["Algorithm"] == algorithm and read["Encryption"]["EncryptList"] == []


def test_element_check_encrypted(emu: Emulator, client: tcfaceid.Client, algorithm: str, raw: Raw) -> None:
    r = client.call("IdCardVerification", {"IdCard": ID_NO, "Name": NAME})
    assert r["Result"] == "0"
    (sent,) = raw.params("IdCardVerification")
    assert_encrypted(sent, algorithm, ["IdCard", "Name"])
    # a mismatch is still a mismatch once decrypted
    r = client.call("IdCardVerification", {"IdCard": ID_NO, "Name": "李四"})
    assert r["Result"] != "0"


def test_per_call_override(emu: Emulator, algorithm: str, raw: Raw) -> None:
    with new_client(emu, algorithm) as c:
        assert c.call("IdCardVerification", {"IdCard": ID_NO, "Name": NAME}, encrypt=False)["Result"] == "0"
    with new_client(emu, algorithm, encrypt=False) as c:
        assert c.call("IdCardVerification", {"IdCard": ID_NO, "Name": NAME})["Result"] == "0"
        assert c.call("IdCardVerification", {"IdCard": ID_NO, "Name": NAME}, encrypt=True)["Result"] == "0"
    plain1, plain2, encrypted = raw.params("IdCardVerification")
    assert plain1 == plain2 == {"IdCard": ID_NO, "Name": NAME}
    assert_encrypted(encrypted, algorithm, ["IdCard", "Name"])


def test_action_without_encryption_is_sent_as_is(emu: Emulator, client: tcfaceid.Client) -> None:
    assert "LiveCode" in client.call("GetLiveCode")


# ---- responses -----------------------------------------------------------------------------------

def passed_session(emu: Emulator, client: tcfaceid.Client) -> str:
    s = client.detect_auth("1", id_card=ID_NO, name=NAME)
    emu.complete(s.biz_token, "pass")
    return s.biz_token


@pytest.mark.parametrize("whole_body", [False, True])
def test_get_detect_info_enhanced_decrypted(emu: Emulator, algorithm: str, whole_body: bool, raw: Raw) -> None:
    with new_client(emu, algorithm, whole_body=whole_body) as c:
        token = passed_session(emu, c)
        r = c.call("GetDetectInfoEnhanced", {"BizToken": token, "RuleId": "1", "InfoType": "0"})
        assert c.last_request_id
    assert r["Text"]["IdCard"] == ID_NO and r["Text"]["Name"] == NAME
    assert "RequestId" not in r
    (sent,) = raw.params("GetDetectInfoEnhanced")
    if whole_body:
        assert sent["Encryption"]["EncryptList"] == ["EncryptionBody"] and sent["IsEncryptResponse"] is True
        assert r["EncryptedBody"] == ""
    else:
        assert sent["Encryption"]["EncryptList"] == [] and "IsEncryptResponse" not in sent
        assert {"Text.IdCard", "Text.Name"} <= {p.replace("Response.", "") for p in r["Encryption"]["EncryptList"]}


def test_whole_body_does_not_break_other_actions(emu: Emulator, algorithm: str, raw: Raw) -> None:
    with new_client(emu, algorithm, whole_body=True) as c:
        assert c.call("IdCardVerification", {"IdCard": ID_NO, "Name": NAME})["Result"] == "0"
    (sent,) = raw.params("IdCardVerification")
    assert_encrypted(sent, algorithm, ["IdCard", "Name"])


# ---- failures and retries ------------------------------------------------------------------------

@pytest.mark.parametrize("algorithm_", ALGORITHMS)
def test_wrong_public_key_is_the_services_error(emu: Emulator, algorithm_: str) -> None:
    # no keys given: the documented (service's) public keys, which the emulator cannot unwrap
    with new_client(emu, algorithm_, keys=False) as c:
        with pytest.raises(tcfaceid.ServiceError) as info:
            c.call("IdCardVerification", {"IdCard": ID_NO, "Name": NAME})
    e = info.value
    assert e.code == "FailedOperation.DecryptSystemError" and e.request_id
    for text in (str(e), repr(e), e.message):
        assert ID_NO not in text and NAME not in text


def test_retry_resends_the_same_ciphertext(emu: Emulator, algorithm: str, raw: Raw) -> None:
    with new_client(emu, algorithm, retry={"max_attempts": 3, "base_delay": 0.01}) as c:
        token = passed_session(emu, c)
        emu.fault("http_5xx", count=1, action="GetDetectInfoEnhanced", phase="after")
        r = c.call("GetDetectInfoEnhanced", {"BizToken": token, "RuleId": "1", "InfoType": "0"})
    assert r["Text"]["IdCard"] == ID_NO
    first, second = raw.params("GetDetectInfoEnhanced")
    assert first == second  # same Encryption (CiphertextBlob, Iv) and body: encrypted once
    assert emu.stats()["received"]["GetDetectInfoEnhanced"] == 2


def test_bad_encryption_options(emu: Emulator) -> None:
    with pytest.raises(tcfaceid.InvalidArgumentError):
        tcfaceid.Client(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, endpoint=emu.endpoint, proxy="",
                        encryption={"algorithm": "DES"})
    with pytest.raises(tcfaceid.InvalidArgumentError):
        tcfaceid.Client(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, endpoint=emu.endpoint, proxy="",
                        encryption={"rsa_public_key_pem": "not a key"})
    with pytest.raises(TypeError):
        tcfaceid.Client(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, endpoint=emu.endpoint, proxy="",
                        encryption={"key": "x"})
    with new_client(emu) as c, pytest.raises(TypeError):
        c.call("GetLiveCode", encrypt=1)  # type: ignore[arg-type]
    with new_client(emu) as c, pytest.raises(tcfaceid.InvalidArgumentError):
        c.call("IdCardVerification", {"IdCard": 1, "Name": NAME})
