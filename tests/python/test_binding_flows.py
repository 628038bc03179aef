"""The binding of the C core's validators, E-ID decryption and verdicts (tcfaceid._core +
tcfaceid/flows.py), against the in-process emulator's real results."""

from __future__ import annotations

import json
from typing import Any, Iterator

import pytest

import tcfaceid
import tcfaceid._core
from tcfaceid.emulator import (
    DEFAULT_MERCHANT_ID,
    DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM,
    DEFAULT_SECRET_ID,
    DEFAULT_SECRET_KEY,
    Config,
    Emulator,
    Merchant,
)

ID_NO = "110101199003071233"
NAME = "张三"


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(Config(port=0)) as e:
        yield e


@pytest.fixture(scope="module")
def client(emu: Emulator) -> Iterator[tcfaceid.Client]:
    with tcfaceid.Client(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, endpoint=emu.endpoint) as c:
        yield c


# ------------------------------------------------------------------------------------------------
# Validators
# ------------------------------------------------------------------------------------------------

BAD = [
    ("check_id_card", "110101199003071234"),  # wrong check character
    ("check_id_card", "11010119900307123x"),  # lowercase x
    ("check_id_card", "110101900307123"),  # 15-digit legacy
    ("check_id_card", "990101199003071233"),  # no such province
    ("check_id_card", "110101199002301235"),  # 30 February
    ("normalize_name", "Zhang San"),
    ("normalize_name", "张三3"),
    ("normalize_name", "张"),
    ("normalize_name", "·张三"),
    ("check_phone", "23800138000"),
    ("check_phone", "1380013800"),
    ("check_bank_card", "4111111111111112"),
    ("check_bank_card", "41111111111"),
    ("check_redirect_url", "ftp://example.com/secret-path"),
    ("check_redirect_url", "https:///nohost"),
    ("check_redirect_url", "https://example.com/a b"),
    ("check_validity_date", "20230230"),
    ("check_validity_date", "2023010"),
]


@pytest.mark.parametrize("func, value", BAD)
def test_validator_rejects_without_echoing_the_value(func: str, value: str) -> None:
    with pytest.raises(tcfaceid.InvalidArgumentError) as info:
        getattr(tcfaceid, func)(value)
    e = info.value
    assert isinstance(e, ValueError) and e.code == "invalid_argument"
    for text in (str(e), e.message, repr(e)):
        assert value not in text
        if len(value) >= 6:
            assert value[2:] not in text  # not even most of it


def test_validators_accept() -> None:
    assert tcfaceid.check_id_card(ID_NO) is None
    assert tcfaceid.check_id_card("11010119900307123X".replace("123X", "1233")) is None
    assert tcfaceid.check_id_card(ID_NO, today=1_700_000_000) is None
    assert tcfaceid.normalize_name(NAME) == NAME
    assert tcfaceid.normalize_name("  阿卜杜拉•买买提 ") == "阿卜杜拉·买买提"
    assert tcfaceid.normalize_name("阿卜杜拉.买买提") == "阿卜杜拉·买买提"
    assert tcfaceid.check_phone("13800138000") is None
    assert tcfaceid.phone_carrier("13800138000") == "CMCC"
    assert tcfaceid.phone_carrier("13490000000") == "CTCC"
    assert tcfaceid.phone_carrier("12345") is None
    assert tcfaceid.check_bank_card("4111111111111111") is None
    assert tcfaceid.check_redirect_url("HTTPS://example.com:8443/back?x=1") is None
    assert tcfaceid.check_validity_date("20301231") is None
    assert tcfaceid.check_validity_date("00000000") is None
    with pytest.raises(tcfaceid.InvalidArgumentError):
        tcfaceid.check_validity_date("00000000", allow_long_term=False)


def test_validator_argument_handling() -> None:
    # A birth date after "today" is rejected only when today is given.
    with pytest.raises(tcfaceid.InvalidArgumentError) as info:
        tcfaceid.check_id_card(ID_NO, today=315_532_800)  # 1980-01-01
    assert ID_NO not in str(info.value)
    with pytest.raises(tcfaceid.InvalidArgumentError):
        tcfaceid.check_id_card(ID_NO, -1)
    with pytest.raises(tcfaceid.InvalidArgumentError):
        tcfaceid.check_phone("138\x0000138000")
    with pytest.raises(TypeError):
        tcfaceid.check_phone(13800138000)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        tcfaceid.check_id_card(ID_NO, today="0")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        tcfaceid.normalize_name()  # type: ignore[call-arg]
    assert tcfaceid.check_id_card is tcfaceid._core.check_id_card


# ------------------------------------------------------------------------------------------------
# E-ID decryption
# ------------------------------------------------------------------------------------------------


def eid_result(client: tcfaceid.Client, emu: Emulator, scenario: str = "pass", merchant: str = DEFAULT_MERCHANT_ID) -> dict[str, Any]:
    token = client.call(
        "GetEidToken", {"MerchantId": merchant, "IdCard": ID_NO, "Name": NAME, "Config": {"InputType": "4"}}
    )["EidToken"]
    emu.complete(token, scenario)
    return client.call("GetEidResult", {"EidToken": token, "InfoType": "0"})


def test_decrypt_eid_info(emu: Emulator, client: tcfaceid.Client) -> None:
    info = eid_result(client, emu)["EidInfo"]
    expected = {"name": NAME, "idtype": "01", "idnum": ID_NO}
    assert tcfaceid.decrypt_eid_info(info, DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM) == expected
    assert tcfaceid.decrypt_eid_info(info, DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM.encode()) == expected
    raw = tcfaceid._core.eid_decrypt(info["DesKey"], info["UserInfo"], bytearray(DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM.encode()))
    assert isinstance(raw, bytes) and json.loads(raw) == expected


def test_decrypt_eid_info_without_identity_return() -> None:
    with Emulator(Config(port=0, merchants=[Merchant("M1")])) as emu:
        with tcfaceid.Client(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, endpoint=emu.endpoint) as client:
            info = eid_result(client, emu, merchant="M1")["EidInfo"]
    assert info["DesKey"] == "" and info["UserInfo"] == ""
    with pytest.raises(tcfaceid.StateError) as e:
        tcfaceid.decrypt_eid_info(info, DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM)
    assert e.value.code == "state" and e.value.message
    with pytest.raises(tcfaceid.StateError):
        tcfaceid.decrypt_eid_info(None, DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM)


def test_decrypt_eid_info_wrong_key(emu: Emulator, client: tcfaceid.Client) -> None:
    from tcfaceid.emulator import gm

    info = eid_result(client, emu)["EidInfo"]
    wrong = gm.sm2_private_key_to_pem(gm.sm2_generate_private_key())  # not the merchant's
    with pytest.raises(tcfaceid.CryptoError) as e:
        tcfaceid.decrypt_eid_info(info, wrong)
    assert NAME not in str(e.value) and ID_NO not in str(e.value)
    with pytest.raises(tcfaceid.CryptoError):  # not base64
        tcfaceid.decrypt_eid_info({"DesKey": "!!", "UserInfo": info["UserInfo"]}, DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM)
    with pytest.raises(tcfaceid.InvalidArgumentError):  # not a private key
        tcfaceid.decrypt_eid_info(info, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")


# ------------------------------------------------------------------------------------------------
# Verdicts
# ------------------------------------------------------------------------------------------------


def saas_result(client: tcfaceid.Client, emu: Emulator, scenario: str, **extra: Any) -> dict[str, Any]:
    token = client.call("DetectAuth", {"RuleId": "1", "IdCard": ID_NO, "Name": NAME, **extra})["BizToken"]
    emu.complete(token, scenario)
    return client.call("GetDetectInfoEnhanced", {"BizToken": token, "RuleId": "1", "InfoType": "0"})


def test_verdict_pass(emu: Emulator, client: tcfaceid.Client) -> None:
    resp = saas_result(client, emu, "pass")
    v = tcfaceid.Verdict.from_response(resp)
    assert v.status == "PASSED" and v.passed and v.code == 0 and v.billed is True
    assert v.intention_code is None and v.reason
    assert len(v.attempts) == 1 and isinstance(v.attempts[0], tcfaceid.Attempt)
    a = v.attempts[0]
    assert a.errcode == 0 and a.livestatus == 0 and a.comparestatus == 0
    assert isinstance(a.sim, float) and isinstance(a.req_time_ms, int) and a.is_need_charge is True
    assert v.text == resp["Text"]
    # The same from the JSON bytes.
    same = tcfaceid.Verdict.from_response(json.dumps(resp, ensure_ascii=False).encode())
    assert same == v
    with pytest.raises(Exception):
        v.status = "FAILED"  # type: ignore[misc]


def test_verdict_failures(emu: Emulator, client: tcfaceid.Client) -> None:
    live = tcfaceid.Verdict.from_response(saas_result(client, emu, "fail_liveness"))
    assert live.status == "FAILED" and not live.passed and live.code == 1002
    assert live.attempts[0].comparestatus is None
    cmp = tcfaceid.Verdict.from_response(saas_result(client, emu, "fail_compare"))
    assert cmp.status == "FAILED" and cmp.code == 2016 and cmp.billed is True
    assert cmp.attempts[-1].comparestatus == 2016


def test_verdict_retry_and_abandon(emu: Emulator, client: tcfaceid.Client) -> None:
    retry = tcfaceid.Verdict.from_response(saas_result(client, emu, "retry_then_pass"))
    assert retry.status == "PASSED" and len(retry.attempts) == 2
    assert retry.attempts[0].errcode == 1002 and retry.attempts[1].errcode == 0
    gone = tcfaceid.Verdict.from_response(saas_result(client, emu, "abandon"))
    assert gone.status == "PENDING" and gone.code is None and not gone.passed and gone.attempts == ()


def test_verdict_intention(emu: Emulator, client: tcfaceid.Client) -> None:
    read_aloud = {"IntentionVerifyText": "本人自愿办理"}
    bad = tcfaceid.Verdict.from_response(saas_result(client, emu, "fail_intention", **read_aloud))
    assert bad.status == "FAILED" and bad.code == 0 and bad.intention_code not in (None, 0)
    good = tcfaceid.Verdict.from_response(saas_result(client, emu, "pass", **read_aloud))
    assert good.status == "PASSED" and good.intention_code == 0


def test_verdict_eid(emu: Emulator, client: tcfaceid.Client) -> None:
    v = tcfaceid.Verdict.from_response(eid_result(client, emu))
    assert v.passed and v.code == 0


def test_verdict_repr_hides_identity(emu: Emulator, client: tcfaceid.Client) -> None:
    resp = saas_result(client, emu, "pass")
    resp["Text"]["Name"], resp["Text"]["IdCard"] = NAME, ID_NO  # as with an OCR rule
    v = tcfaceid.Verdict.from_response(resp)
    assert v.text is not None and v.text["IdCard"] == ID_NO
    for text in (repr(v), str(v), f"{v!r}", repr([v])):
        assert ID_NO not in text and NAME not in text
    assert repr(v) == "Verdict(status='PASSED', code=0, attempts=1)"


def test_verdict_bad_input() -> None:
    with pytest.raises(tcfaceid.JSONError):
        tcfaceid.Verdict.from_response(b"not json")
    with pytest.raises(tcfaceid.JSONError) as e:
        tcfaceid.Verdict.from_response({"Text": {"ErrCode": "0"}})
    assert "ErrCode" in str(e.value)
    with pytest.raises(TypeError):
        tcfaceid._core.verdict(12)  # type: ignore[arg-type]
    pending = tcfaceid.Verdict.from_response({})
    assert pending.status == "PENDING" and pending.billed is None and pending.text is None


def test_reexports() -> None:
    import tcfaceid.flows

    for name in ("Verdict", "Attempt", "decrypt_eid_info"):
        assert getattr(tcfaceid, name) is getattr(tcfaceid.flows, name)
        assert name in tcfaceid.__all__
    for name in ("check_id_card", "normalize_name", "check_phone", "phone_carrier", "check_bank_card",
                 "check_redirect_url", "check_validity_date"):
        assert getattr(tcfaceid, name) is getattr(tcfaceid._core, name)
