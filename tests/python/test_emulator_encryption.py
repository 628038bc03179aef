"""Field encryption against the emulator: requests encrypted by the C core (build/release/
tcf-encrypt, configured with the emulator's public keys) are decrypted by the emulator's own
pure-Python AES / RSA / SM2 / SM4-GCM code, and responses it encrypts are decrypted by the C
core again, for every encryptable field of every action the emulator implements and both
algorithms. The pure-Python AES-256-CBC and RSA PKCS#1 v1.5 are checked against the OpenSSL
command line; a wrong tag, a key wrapped for another public key and an unsupported field are
refused as the service refuses them."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import code
from emuclient import Api

from tcfaceid.emulator import (
    EMULATOR_RSA_PUBLIC_KEY_PEM,
    EMULATOR_SM2_PUBLIC_KEY_PEM,
    Config,
    Emulator,
)
from tcfaceid.emulator import aesrsa, encryption, gm
from tcfaceid.emulator.config import EMULATOR_RSA_PRIVATE_KEY_PEM, EMULATOR_SM2_PRIVATE_KEY_PEM

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "build" / "release" / "tcf-encrypt"
OPENSSL = shutil.which("openssl")
AES, SM4 = "AES-256-CBC", "SM4-GCM"

ID, NAME, PHONE, CARD = "110101199003071233", "张三", "13800138000", "6212261000000000017"
IMAGE = base64.b64encode(b"\x89PNG fake image").decode()
VIDEO = base64.b64encode(b"\x00\x00\x00\x18ftypmp42" + b"v" * 4000).decode()


# ---- fixtures and helpers -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def tool() -> Path:
    out = subprocess.run(["make", "-s", "lib", "BUILD=build/release"], cwd=ROOT, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr
    assert TOOL.exists()
    return TOOL


@pytest.fixture(scope="module")
def keyfiles(tmp_path_factory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("keys")
    (d / "rsa.pem").write_text(EMULATOR_RSA_PUBLIC_KEY_PEM)
    (d / "sm2.pem").write_text(EMULATOR_SM2_PUBLIC_KEY_PEM)
    return {"rsa": str(d / "rsa.pem"), "sm2": str(d / "sm2.pem"), "dir": str(d)}


@pytest.fixture(scope="module")
def emu():
    with Emulator(Config(port=0, qps_enabled=False)) as e:
        yield e


@pytest.fixture
def client(emu: Emulator):
    c = Api(emu.endpoint, clock=emu.now)
    yield c
    c.close()


def encrypt(tool: Path, keyfiles: dict[str, str], action: str, params: dict[str, Any], algorithm: str,
            *extra: str, emulator_keys: bool = True) -> tuple[dict[str, Any], str]:
    """Encrypted parameters and the key (hex) from tcf-encrypt."""
    key_out = Path(keyfiles["dir"]) / "key.hex"
    args = [str(tool), "request", action, "--algorithm", algorithm, "--key-out", str(key_out), *extra]
    if emulator_keys:
        args += ["--rsa-public-key", keyfiles["rsa"], "--sm2-public-key", keyfiles["sm2"]]
    out = subprocess.run(args, input=json.dumps(params, ensure_ascii=False).encode(), capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr.decode()
    return json.loads(out.stdout), key_out.read_text().strip()


def decrypt(tool: Path, response: dict[str, Any], algorithm: str, key_hex: str) -> dict[str, Any]:
    out = subprocess.run([str(tool), "response", "--algorithm", algorithm, "--key", key_hex],
                         input=json.dumps(response, ensure_ascii=False).encode(), capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr.decode()
    return json.loads(out.stdout)


def without_request_id(resp: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resp.items() if k != "RequestId"}


def openssl(*args: str, input: bytes) -> bytes:
    if OPENSSL is None:
        pytest.fail("the openssl command is needed: run 'make deps'")
    out = subprocess.run([OPENSSL, *args], input=input, capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr.decode()
    return out.stdout


# ---- the emulator's pure-Python primitives ------------------------------------------------------

def test_aes256_cbc_nist_vector() -> None:
    key = bytes.fromhex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4")
    iv = bytes(range(16))
    pt = bytes.fromhex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
                       "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710")
    ct = aesrsa.aes256_cbc_encrypt(key, iv, pt)
    assert ct[:64].hex() == ("f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d"
                             "39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b")
    assert aesrsa.aes256_cbc_decrypt(key, iv, ct) == pt


@pytest.mark.parametrize("length", [0, 1, 15, 16, 17, 31, 32, 100, 1000])
def test_aes256_cbc_matches_openssl(length: int) -> None:
    key, iv = bytes(range(32, 64)), bytes(range(100, 116))
    data = bytes((i * 7 + length) & 0xFF for i in range(length))
    ours = aesrsa.aes256_cbc_encrypt(key, iv, data)
    theirs = openssl("enc", "-aes-256-cbc", "-K", key.hex(), "-iv", iv.hex(), input=data)
    assert ours == theirs
    assert aesrsa.aes256_cbc_decrypt(key, iv, theirs) == data
    assert openssl("enc", "-d", "-aes-256-cbc", "-K", key.hex(), "-iv", iv.hex(), input=ours) == data


def test_aes256_cbc_rejects_bad_input() -> None:
    key, iv = bytes(32), bytes(16)
    ct = aesrsa.aes256_cbc_encrypt(key, iv, b"x")
    for bad in (b"", ct[:15], ct + b"\x00"):
        with pytest.raises(ValueError):
            aesrsa.aes256_cbc_decrypt(key, iv, bad)
    with pytest.raises(ValueError):
        aesrsa.aes256_cbc_decrypt(bytes([1]) + key[1:], iv, aesrsa.aes256_cbc_encrypt(key, iv, b"0123456789abcde"))
    with pytest.raises(ValueError):
        aesrsa.aes256_cbc_encrypt(key[:16], iv, b"")


def test_rsa_pkcs1_decrypts_what_openssl_encrypts(tmp_path: Path) -> None:
    key = aesrsa.rsa_private_key_from_pem(EMULATOR_RSA_PRIVATE_KEY_PEM)
    assert key.size == 128  # RSA-1024, like the service's key
    assert aesrsa.rsa_public_key_pem(key) == EMULATOR_RSA_PUBLIC_KEY_PEM
    pub = tmp_path / "pub.pem"
    pub.write_text(EMULATOR_RSA_PUBLIC_KEY_PEM)
    for message in (b"k" * 32, bytes(range(32)), b"\x00" * 16):
        ct = openssl("pkeyutl", "-encrypt", "-pubin", "-inkey", str(pub), "-pkeyopt", "rsa_padding_mode:pkcs1",
                     input=message)
        assert aesrsa.rsa_pkcs1_decrypt(key, ct) == message
    priv = tmp_path / "priv.pem"
    priv.write_text(EMULATOR_RSA_PRIVATE_KEY_PEM)
    ct = aesrsa.rsa_pkcs1_encrypt(key.n, key.e, b"secret key")
    assert openssl("pkeyutl", "-decrypt", "-inkey", str(priv), "-pkeyopt", "rsa_padding_mode:pkcs1", input=ct) == b"secret key"
    with pytest.raises(ValueError):
        aesrsa.rsa_pkcs1_decrypt(key, bytes(128))
    with pytest.raises(ValueError):
        aesrsa.rsa_private_key_from_pem(EMULATOR_SM2_PRIVATE_KEY_PEM)


def test_emulator_sm2_key_pair_matches() -> None:
    d = gm.sm2_private_key_from_pem(EMULATOR_SM2_PRIVATE_KEY_PEM)
    assert gm.sm2_public_key(d) == gm.sm2_public_key_from_pem(EMULATOR_SM2_PUBLIC_KEY_PEM)


# ---- round trips through the emulator -------------------------------------------------------------

ROUND_TRIPS = [
    ("IdCardVerification", {"IdCard": ID, "Name": NAME}, "0"),
    ("IdCardVerification", {"IdCard": ID, "Name": "李四"}, "-1"),
    ("IdCardOCRVerification", {"IdCard": ID, "Name": NAME}, "0"),
    ("CheckIdNameDate", {"IdCard": ID, "Name": NAME, "ValidityBegin": "20150101", "ValidityEnd": "20350101"}, "0"),
    ("PhoneVerificationCMCC", {"IdCard": ID, "Name": NAME, "Phone": PHONE}, "0"),
    ("PhoneVerificationCUCC", {"IdCard": ID, "Name": NAME, "Phone": PHONE}, "-13"),
    ("PhoneVerificationCTCC", {"IdCard": "650102197806154350", "Name": "阿卜杜拉·买买提", "Phone": "13312345678"}, "0"),
    ("CheckPhoneAndName", {"Mobile": PHONE, "Name": NAME}, "0"),
    ("MobileStatus", {"Mobile": "15900001111"}, "0"),
    ("MobileNetworkTimeVerification", {"Mobile": "15900001111"}, "0"),
    ("BankCard2EVerification", {"Name": NAME, "BankCard": CARD}, "0"),
    ("BankCardVerification", {"Name": NAME, "IdCard": ID, "BankCard": CARD}, "0"),
    ("BankCard4EVerification", {"Name": NAME, "IdCard": ID, "BankCard": CARD, "Phone": PHONE}, "0"),
    ("CheckBankCardInformation", {"BankCard": "6228480000000000026"}, "0"),
    ("ImageRecognitionV2", {"IdCard": ID, "Name": NAME, "ImageBase64": IMAGE}, "Success"),
    ("LivenessRecognition", {"IdCard": ID, "Name": NAME, "LivenessType": "SILENT", "VideoBase64": VIDEO}, "Success"),
]
ENCRYPTED_ACTIONS = {a for a, _, _ in ROUND_TRIPS} | {"PhoneVerification", "DetectAuth", "GetEidToken"}


def test_every_emulated_action_with_encryptable_fields_is_covered() -> None:
    from tcfaceid.emulator.service import HANDLERS

    assert {a for a in encryption.ENCRYPTABLE if a in HANDLERS} == ENCRYPTED_ACTIONS


@pytest.mark.parametrize("algorithm", [AES, SM4])
@pytest.mark.parametrize("action, params, result", ROUND_TRIPS,
                         ids=[f"{a}{r}-{i}" for i, (a, _, r) in enumerate(ROUND_TRIPS)])
def test_encrypted_request_gives_the_plain_answer(tool, keyfiles, client: Api, algorithm: str, action: str,
                                                  params: dict, result: str) -> None:
    plain = client.call(action, params)
    assert plain.get("Result") == result, plain
    body, _ = encrypt(tool, keyfiles, action, params, algorithm)
    fields = [f for f in encryption.ENCRYPTABLE[action] if f in params]
    assert sorted(body["Encryption"]["EncryptList"]) == sorted(fields)
    assert body["Encryption"]["Algorithm"] == algorithm
    assert len(body["Encryption"]["TagList"]) == (len(fields) if algorithm == SM4 else 0)
    for f in fields:
        assert body[f] != params[f]
    answer = client.call(action, body)
    assert without_request_id(answer) == without_request_id(plain)


@pytest.mark.parametrize("phone, result", [(PHONE, "0"), ("13900000000", "-9")])
def test_phone_verification_top_level_encryption(tool, keyfiles, client: Api, phone: str, result: str) -> None:
    params = {"IdCard": ID, "Name": NAME, "Phone": phone}
    body, _ = encrypt(tool, keyfiles, "PhoneVerification", params, AES)
    assert "Encryption" not in body and set(body["EncryptList"]) == {"IdCard", "Name", "Phone"}
    assert body["Phone"] != phone and body["CiphertextBlob"] and body["Iv"]
    assert client.call("PhoneVerification", body)["Result"] == result
    # SM4-GCM has no top-level form: the C core refuses it locally
    out = subprocess.run([str(tool), "request", "PhoneVerification", "--algorithm", SM4], input=json.dumps(params).encode(),
                         capture_output=True)
    assert out.returncode == 1 and b"AES-256-CBC only" in out.stderr


@pytest.mark.parametrize("algorithm", [AES, SM4])
def test_detect_auth_then_field_level_and_whole_body_results(tool, keyfiles, emu: Emulator, client: Api,
                                                             algorithm: str) -> None:
    body, _ = encrypt(tool, keyfiles, "DetectAuth", {"RuleId": "1", "IdCard": ID, "Name": NAME}, algorithm)
    assert body["IdCard"] != ID and body["Name"] != NAME
    token = client.call("DetectAuth", body)["BizToken"]
    emu.complete(token, "pass")
    query = {"BizToken": token, "RuleId": "1", "InfoType": "1"}
    plain = client.call("GetDetectInfoEnhanced", query)
    assert plain["Text"]["IdCard"] == ID and plain["Text"]["Name"] == NAME  # the emulator read the plaintext

    # field level: the sensitive Text values come back under our key, with the server's IV
    req, key = encrypt(tool, keyfiles, "GetDetectInfoEnhanced", query, algorithm)
    assert req["Encryption"]["EncryptList"] == [] and "IsEncryptResponse" not in req
    resp = client.call("GetDetectInfoEnhanced", req)
    enc = resp["Encryption"]
    assert enc["Algorithm"] == algorithm and enc["Iv"] != req["Encryption"]["Iv"]
    assert set(enc["EncryptList"]) >= {"Response.Text.IdCard", "Response.Text.Name"}
    assert len(enc["TagList"]) == (len(enc["EncryptList"]) if algorithm == SM4 else 0)
    assert resp["Text"]["IdCard"] != ID
    back = decrypt(tool, {"Response": resp}, algorithm, key)["Response"]
    assert back["Text"] == plain["Text"]

    # whole body
    req, key = encrypt(tool, keyfiles, "GetDetectInfoEnhanced", query, algorithm, "--whole-body")
    assert req["IsEncryptResponse"] is True and req["Encryption"]["EncryptList"] == ["EncryptionBody"]
    resp = client.call("GetDetectInfoEnhanced", req)
    assert set(resp) == {"Encryption", "EncryptedBody", "RequestId"}
    assert ID not in json.dumps(resp, ensure_ascii=False)
    back = decrypt(tool, resp, algorithm, key)
    assert without_request_id(back) | {"Encryption": None} == without_request_id(plain) | {"Encryption": None}


@pytest.mark.parametrize("algorithm", [AES, SM4])
def test_large_whole_body_response(tool, keyfiles, emu: Emulator, client: Api, algorithm: str) -> None:
    """A video in the body: many SM4-GCM counter batches in C, checked against gm.py."""
    token = client.call("DetectAuth", {"RuleId": "1", "IdCard": ID, "Name": NAME})["BizToken"]
    emu.complete(token, "pass")
    query = {"BizToken": token, "RuleId": "1", "InfoType": "14"}
    plain = client.call("GetDetectInfoEnhanced", query)
    assert len(plain["VideoData"]["LivenessVideo"]) > 50_000
    req, key = encrypt(tool, keyfiles, "GetDetectInfoEnhanced", query, algorithm, "--whole-body")
    resp = client.call("GetDetectInfoEnhanced", req)
    back = decrypt(tool, resp, algorithm, key)
    assert back["VideoData"] == plain["VideoData"] and back["Text"] == plain["Text"]


def test_get_eid_token_encrypted(tool, keyfiles, client: Api) -> None:
    from tcfaceid.emulator import DEFAULT_MERCHANT_ID

    for algorithm in (AES, SM4):
        params = {"MerchantId": DEFAULT_MERCHANT_ID, "IdCard": ID, "Name": NAME, "Config": {"InputType": "4"}}
        body, _ = encrypt(tool, keyfiles, "GetEidToken", params, algorithm)
        assert body["IdCard"] != ID
        assert client.call("GetEidToken", body)["EidToken"]
        # a wrong name would be refused by the input-type-4 checks only if it reached them in clear
        bad, _ = encrypt(tool, keyfiles, "GetEidToken", {**params, "IdCard": "110101199003071234"}, algorithm)
        assert code(client.call("GetEidToken", bad)) == code(client.call("GetEidToken", {**params, "IdCard": "110101199003071234"}))


# ---- refusals -------------------------------------------------------------------------------------

def test_wrong_tag_is_refused(tool, keyfiles, client: Api) -> None:
    body, _ = encrypt(tool, keyfiles, "IdCardVerification", {"IdCard": ID, "Name": NAME}, SM4)
    tag = bytearray(base64.b64decode(body["Encryption"]["TagList"][0]))
    tag[0] ^= 1
    body["Encryption"]["TagList"][0] = base64.b64encode(bytes(tag)).decode()
    assert code(client.call("IdCardVerification", body)) == "FailedOperation.DecryptSystemError"
    # tags swapped between the fields, or missing: refused too
    body, _ = encrypt(tool, keyfiles, "IdCardVerification", {"IdCard": ID, "Name": NAME}, SM4)
    body["Encryption"]["TagList"].reverse()
    assert code(client.call("IdCardVerification", body)) == "FailedOperation.DecryptSystemError"
    body["Encryption"]["TagList"] = body["Encryption"]["TagList"][:1]
    assert code(client.call("IdCardVerification", body)) == "FailedOperation.DecryptSystemError"


@pytest.mark.parametrize("algorithm", [AES, SM4])
def test_key_for_another_public_key_or_tampered_value_is_refused(tool, keyfiles, client: Api, algorithm: str) -> None:
    # wrapped with the real service's public key: the emulator cannot unwrap it
    body, _ = encrypt(tool, keyfiles, "IdCardVerification", {"IdCard": ID, "Name": NAME}, algorithm, emulator_keys=False)
    assert code(client.call("IdCardVerification", body)) == "FailedOperation.DecryptSystemError"
    body, _ = encrypt(tool, keyfiles, "IdCardVerification", {"IdCard": ID, "Name": NAME}, algorithm)
    body["IdCard"] = base64.b64encode(b"\x00" * 32).decode()
    assert code(client.call("IdCardVerification", body)) == "FailedOperation.DecryptSystemError"
    body["IdCard"] = "not base64!"
    assert code(client.call("IdCardVerification", body)) == "FailedOperation.DecryptSystemError"


def test_unsupported_field_is_refused(tool, keyfiles, client: Api) -> None:
    body, _ = encrypt(tool, keyfiles, "DetectAuth", {"RuleId": "1", "IdCard": ID, "Name": NAME}, SM4)
    body["Encryption"]["EncryptList"].append("RuleId")
    assert code(client.call("DetectAuth", body)) == "InvalidParameter.UnsupportEncryptField"
    body, _ = encrypt(tool, keyfiles, "IdCardVerification", {"IdCard": ID, "Name": NAME}, AES)
    body["Encryption"]["EncryptList"] = ["Phone"]
    assert code(client.call("IdCardVerification", body)) == "InvalidParameter.UnsupportEncryptField"
    body, _ = encrypt(tool, keyfiles, "PhoneVerification", {"IdCard": ID, "Name": NAME, "Phone": PHONE}, AES)
    body["EncryptList"].append("VerifyMode")
    assert code(client.call("PhoneVerification", body)) == "InvalidParameter.UnsupportEncryptField"
    # and the C core refuses to encrypt a field the action does not allow
    out = subprocess.run([str(tool), "request", "IdCardVerification", "--field", "Phone"], input=b"{}",
                         capture_output=True)
    assert out.returncode == 1 and b"not an encryptable field" in out.stderr


def test_bad_encryption_objects(tool, keyfiles, client: Api) -> None:
    body, _ = encrypt(tool, keyfiles, "IdCardVerification", {"IdCard": ID, "Name": NAME}, AES)
    assert code(client.call("IdCardVerification", {**body, "Encryption": {**body["Encryption"], "Algorithm": "DES"}})) \
        == "InvalidParameterValue"
    assert code(client.call("IdCardVerification", {**body, "Encryption": {**body["Encryption"], "CiphertextBlob": ""}})) \
        == "MissingParameter"
    assert code(client.call("GetDetectInfoEnhanced", {"BizToken": "x", "RuleId": "1", "IsEncryptResponse": True})) \
        == "InvalidParameter"
    # the documented 16-character Iv form is accepted for AES
    key = bytes(range(32))
    iv_text = "0123456789abcdef"
    blob = base64.b64encode(aesrsa.rsa_pkcs1_encrypt(*_emulator_rsa_public(), key)).decode()
    enc_id = base64.b64encode(aesrsa.aes256_cbc_encrypt(key, iv_text.encode(), ID.encode())).decode()
    req = {"IdCard": enc_id, "Name": NAME, "Encryption": {"EncryptList": ["IdCard"], "CiphertextBlob": blob,
                                                          "Iv": iv_text, "Algorithm": AES, "TagList": []}}
    assert client.call("IdCardVerification", req)["Result"] == "0"


def _emulator_rsa_public() -> tuple[int, int]:
    key = aesrsa.rsa_private_key_from_pem(EMULATOR_RSA_PRIVATE_KEY_PEM)
    return key.n, key.e


@pytest.mark.parametrize("algorithm", [AES, SM4])
def test_whole_body_request_is_decrypted(tool, keyfiles, algorithm: str) -> None:
    """DetectAIFakeFaces (not emulated) sends its parameters in EncryptedBody; the emulator's
    decryption gives them back exactly."""
    params = {"FaceInput": IMAGE, "FaceInputType": 1}
    body, _ = encrypt(tool, keyfiles, "DetectAIFakeFaces", params, algorithm)
    assert set(body) == {"Encryption", "EncryptedBody"}
    assert body["Encryption"]["EncryptList"] == ["EncryptionBody"]
    keys = encryption.Keys.from_pems(EMULATOR_RSA_PRIVATE_KEY_PEM, EMULATOR_SM2_PRIVATE_KEY_PEM)
    plain, ctx, whole = encryption.decrypt_request(keys, "DetectAIFakeFaces", body)
    assert whole and plain == params and ctx is not None and ctx.algorithm == algorithm
