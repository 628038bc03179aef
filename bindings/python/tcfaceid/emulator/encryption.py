"""The ``Encryption`` object (faceid-api.md §3): encrypted request fields, the
whole-body request (``EncryptedBody``) and encrypted responses (field level,
and whole body with ``IsEncryptResponse``).

The client wraps a fresh symmetric key with the service's public key: RSA
PKCS#1 v1.5 for AES-256-CBC, SM2 (C1C3C2) for SM4-GCM. The emulator holds its
own key pair for each (``Config.encryption_rsa_private_key_pem`` /
``encryption_sm2_private_key_pem``), so a client must be configured with the
emulator's public keys (``EMULATOR_RSA_PUBLIC_KEY_PEM`` /
``EMULATOR_SM2_PUBLIC_KEY_PEM``) instead of the service's.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import secrets
from dataclasses import dataclass
from typing import Any, Optional

from . import aesrsa, gm
from .errors import ApiError, invalid, missing

AES = "AES-256-CBC"
SM4 = "SM4-GCM"
BODY = "EncryptionBody"

# Which request fields each action can encrypt (faceid-api.md §3.3).
ENCRYPTABLE: dict[str, tuple[str, ...]] = {
    "DetectAuth": ("Name", "IdCard"),
    "GetEidToken": ("Name", "IdCard"),
    "IdCardVerification": ("Name", "IdCard"),
    "IdCardOCRVerification": ("Name", "IdCard"),
    "CheckIdNameDate": ("Name", "IdCard"),
    "ImageRecognition": ("Name", "IdCard"),
    "ImageRecognitionV2": ("Name", "IdCard"),
    "LivenessRecognition": ("Name", "IdCard"),
    "GetFaceIdToken": ("Name", "IdCard", "ImageBase64"),
    "BankCard2EVerification": ("Name", "BankCard"),
    "BankCardVerification": ("Name", "IdCard", "BankCard"),
    "BankCard4EVerification": ("Name", "IdCard", "Phone", "BankCard"),
    "CheckBankCardInformation": ("BankCard",),
    "PhoneVerificationCMCC": ("Name", "IdCard", "Phone"),
    "PhoneVerificationCTCC": ("Name", "IdCard", "Phone"),
    "PhoneVerificationCUCC": ("Name", "IdCard", "Phone"),
    "MinorsVerification": ("Name", "IdCard", "Mobile"),
    "CheckPhoneAndName": ("Name", "Mobile"),
    "MobileStatus": ("Mobile",),
    "MobileNetworkTimeVerification": ("Mobile",),
    "PhoneVerification": ("IdCard", "Name", "Phone"),  # top-level CiphertextBlob / EncryptList / Iv
}

# The sensitive response values encrypted field by field, as JSON paths.
RESPONSE_PATHS: dict[str, tuple[str, ...]] = {
    "GetDetectInfoEnhanced": ("Response.Text.IdCard", "Response.Text.Name", "Response.Text.OcrIdCard",
                              "Response.Text.OcrName"),
    "GetFaceIdResult": ("Response.IdCard", "Response.Name"),
    "CheckIdCardInformation": ("Response.IdNum", "Response.Name"),
}

BODY_REQUEST_ACTIONS = ("DetectAIFakeFaces",)


def decrypt_failed() -> ApiError:
    return ApiError("FailedOperation.DecryptSystemError", "解密失败。")


def unsupported_field() -> ApiError:
    return ApiError("InvalidParameter.UnsupportEncryptField", "存在不加密的字段，请参考文档修改。")


@dataclass
class Keys:
    """The emulator's private keys, parsed once."""

    rsa: aesrsa.RsaPrivateKey
    sm2: int

    @classmethod
    def from_pems(cls, rsa_pem: str, sm2_pem: str) -> "Keys":
        return cls(aesrsa.rsa_private_key_from_pem(rsa_pem), gm.sm2_private_key_from_pem(sm2_pem))


@dataclass
class Context:
    """What the response of an encrypted request needs."""

    algorithm: str
    key: bytes
    response: str = ""  # "", "fields" or "body"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise decrypt_failed()
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise decrypt_failed() from None


def _iv(text: Any, algorithm: str) -> bytes:
    """Base64 of the IV bytes (the SDKs); for AES a 16-character string that is not base64 of
    16 bytes is taken as the IV itself (the documented wording)."""
    if not isinstance(text, str) or not text:
        raise decrypt_failed()
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if algorithm == AES:
        if len(raw) == 16:
            return raw
        if len(text) == 16 and text.isascii():
            return text.encode("ascii")
        raise decrypt_failed()
    if not 1 <= len(raw) <= 64:
        raise decrypt_failed()
    return raw


def unwrap_key(keys: Keys, algorithm: str, blob: Any) -> bytes:
    raw = _unb64(blob)
    try:
        if algorithm == AES:
            key = aesrsa.rsa_pkcs1_decrypt(keys.rsa, raw)
        else:
            key = gm.sm2_decrypt(keys.sm2, raw if raw[:1] == b"\x04" else gm.sm2_ciphertext_from_der(raw))
    except ValueError:
        raise decrypt_failed() from None
    if len(key) != (32 if algorithm == AES else 16):
        raise decrypt_failed()
    return key


def open_value(algorithm: str, key: bytes, iv: bytes, ciphertext_b64: Any, tag_b64: Any = None) -> bytes:
    data = _unb64(ciphertext_b64)
    try:
        if algorithm == AES:
            return aesrsa.aes256_cbc_decrypt(key, iv, data)
        tag = _unb64(tag_b64)
        if len(tag) != 16:
            raise decrypt_failed()
        return gm.sm4_gcm_decrypt(key, iv, data, tag)
    except ValueError:
        raise decrypt_failed() from None


def seal_value(algorithm: str, key: bytes, iv: bytes, plaintext: bytes) -> tuple[str, Optional[str]]:
    if algorithm == AES:
        return _b64(aesrsa.aes256_cbc_encrypt(key, iv, plaintext)), None
    ct, tag = gm.sm4_gcm_encrypt(key, iv, plaintext)
    return _b64(ct), _b64(tag)


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise decrypt_failed() from None


def _decrypt_fields(params: dict[str, Any], names: list[Any], algorithm: str, key: bytes, iv_text: Any,
                    tags: list[Any]) -> None:
    iv = _iv(iv_text, algorithm)
    if algorithm == SM4 and len(tags) < len(names):
        raise decrypt_failed()
    for i, name in enumerate(names):
        value = params.get(name)
        if not isinstance(value, str) or not value:
            raise decrypt_failed()
        params[name] = _text(open_value(algorithm, key, iv, value, tags[i] if algorithm == SM4 else None))


def decrypt_request(keys: Keys, action: str, params: dict[str, Any]) -> tuple[dict[str, Any], Optional[Context], bool]:
    """Returns (plain parameters, context for the response, whether the body was encrypted whole)."""
    params = dict(params)
    legacy = ("CiphertextBlob", "EncryptList", "Iv")
    if action == "PhoneVerification" and any(params.get(k) not in (None, "", []) for k in legacy):
        names = params.get("EncryptList") or []
        if any(n not in ENCRYPTABLE[action] for n in names):
            raise unsupported_field()
        if not params.get("CiphertextBlob"):
            raise missing("CiphertextBlob")
        key = unwrap_key(keys, AES, params["CiphertextBlob"])
        if names:
            _decrypt_fields(params, list(names), AES, key, params.get("Iv"), [])
        for k in legacy:
            params.pop(k, None)
        return params, None, False

    enc = params.pop("Encryption", None)
    if not enc:
        if params.get("IsEncryptResponse"):
            raise ApiError("InvalidParameter", "IsEncryptResponse needs Encryption (Algorithm and CiphertextBlob).")
        if params.get("EncryptedBody"):
            raise missing("Encryption")
        return params, None, False
    algorithm = enc.get("Algorithm") or AES
    if algorithm not in (AES, SM4):
        raise invalid("Encryption.Algorithm", "AES-256-CBC or SM4-GCM")
    if not enc.get("CiphertextBlob"):
        raise missing("Encryption.CiphertextBlob")
    names = list(enc.get("EncryptList") or [])
    tags = list(enc.get("TagList") or [])
    body = names == [BODY]
    allowed = ENCRYPTABLE.get(action, ())
    if not body and any(n not in allowed for n in names):
        raise unsupported_field()
    if body and action not in RESPONSE_PATHS and action not in BODY_REQUEST_ACTIONS:
        raise unsupported_field()
    key = unwrap_key(keys, algorithm, enc["CiphertextBlob"])
    ctx = Context(algorithm, key)
    whole_request = False
    if body and params.get("EncryptedBody"):
        iv = _iv(enc.get("Iv"), algorithm)
        if algorithm == SM4 and not tags:
            raise decrypt_failed()
        plain = open_value(algorithm, key, iv, params["EncryptedBody"], tags[0] if algorithm == SM4 else None)
        try:
            inner = json.loads(_text(plain))
        except ValueError:
            raise decrypt_failed() from None
        if not isinstance(inner, dict) or "Encryption" in inner or "EncryptedBody" in inner:
            raise ApiError("InvalidParameter", "EncryptedBody must decrypt to the JSON object of the parameters.")
        rest = {k: v for k, v in params.items() if k != "EncryptedBody"}
        params = {**rest, **inner}
        whole_request = True
    elif names and not body:
        _decrypt_fields(params, names, algorithm, key, enc.get("Iv"), tags)
    if action in RESPONSE_PATHS:
        ctx.response = "body" if params.get("IsEncryptResponse") or (body and not whole_request) else "fields"
    params.pop("EncryptedBody", None)
    return params, ctx, whole_request


def _locate(doc: dict[str, Any], path: str) -> tuple[Optional[dict[str, Any]], str]:
    parts = path.split(".")
    cur: Any = doc
    for part in parts[:-1]:
        cur = cur.get(part) if isinstance(cur, dict) else None
    return (cur if isinstance(cur, dict) else None), parts[-1]


def encrypt_response(ctx: Optional[Context], action: str, out: dict[str, Any]) -> dict[str, Any]:
    """Encrypts the Response fields (without RequestId) as the request asked."""
    if ctx is None or not ctx.response:
        return out
    iv = secrets.token_bytes(16 if ctx.algorithm == AES else 12)
    if ctx.response == "body":
        plain = {k: v for k, v in out.items() if k not in ("Encryption", "EncryptedBody")}
        ct, tag = seal_value(ctx.algorithm, ctx.key, iv, json.dumps(plain, ensure_ascii=False).encode("utf-8"))
        return {
            "Encryption": {"EncryptList": [BODY], "CiphertextBlob": "", "Iv": _b64(iv), "Algorithm": ctx.algorithm,
                           "TagList": [tag] if tag else []},
            "EncryptedBody": ct,
        }
    out = copy.deepcopy(out)  # never change the session's own objects
    doc = {"Response": out}
    paths, tags = [], []
    for path in RESPONSE_PATHS[action]:
        parent, name = _locate(doc, path)
        value = parent.get(name) if parent is not None else None
        if not isinstance(value, str) or not value:
            continue
        ct, tag = seal_value(ctx.algorithm, ctx.key, iv, value.encode("utf-8"))
        parent[name] = ct  # type: ignore[index]
        paths.append(path)
        if tag:
            tags.append(tag)
    out["Encryption"] = {"EncryptList": paths, "CiphertextBlob": "", "Iv": _b64(iv), "Algorithm": ctx.algorithm,
                         "TagList": tags}
    out["EncryptedBody"] = ""
    return out
