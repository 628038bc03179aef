"""Request authentication as the Tencent Cloud API 3.0 gateway does it.

Independent of the tcfaceid C core on purpose: written from the published
signing rules (TC3-HMAC-SHA256 and the legacy v1 HmacSHA1/HmacSHA256) with
hashlib/hmac only, so the emulator is a second opinion on every signature the
client makes, not a mirror of it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Mapping, Optional

from .errors import ApiError

TC3 = "TC3-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
MAX_SKEW = 300  # seconds; "Timestamp 和服务器时间相差不得超过五分钟"


@dataclass(frozen=True)
class Credential:
    secret_id: str
    secret_key: str
    token: Optional[str] = None  # set for temporary (STS) credentials
    account: str = "default"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def utc_date(timestamp: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(timestamp))


def tc3_signature(secret_key: str, date: str, service: str, string_to_sign: str) -> str:
    k_date = _hmac(("TC3" + secret_key).encode("utf-8"), date)
    k_service = _hmac(k_date, service)
    k_signing = _hmac(k_service, "tc3_request")
    return hmac.new(k_signing, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def tc3_canonical_request(
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    signed_headers: list[str],
    body: bytes,
    unsigned_payload: bool,
) -> str:
    """The canonical request as the server rebuilds it from what it received.

    ``headers`` maps lower-case names to values. Values are trimmed and
    lower-cased, as the documentation prescribes (the documentation's own
    example signs ``x-tc-action:describeinstances``).
    """
    canonical_headers = "".join(f"{name}:{headers.get(name, '').strip().lower()}\n" for name in signed_headers)
    payload_hash = sha256_hex(UNSIGNED_PAYLOAD.encode() if unsigned_payload else body)
    return "\n".join([method, path, query, canonical_headers, ";".join(signed_headers), payload_hash])


def parse_tc3_authorization(value: str) -> tuple[str, str, str, list[str], str]:
    """Split ``TC3-HMAC-SHA256 Credential=ID/DATE/SERVICE/tc3_request,
    SignedHeaders=a;b, Signature=hex`` into its parts; AuthFailure.InvalidAuthorization if malformed."""
    bad = ApiError("AuthFailure.InvalidAuthorization", "Authorization header is malformed.")
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != TC3:
        raise bad
    fields: dict[str, str] = {}
    for part in rest.split(","):
        key, sep, val = part.strip().partition("=")
        if not sep:
            raise bad
        fields[key.strip()] = val.strip()
    try:
        credential = fields["Credential"]
        signed = fields["SignedHeaders"]
        signature = fields["Signature"]
    except KeyError:
        raise bad from None
    scope = credential.split("/")
    if len(scope) != 4 or scope[3] != "tc3_request" or not scope[0]:
        raise bad
    signed_headers = signed.split(";")
    if not signature or any(not h or h != h.lower() for h in signed_headers):
        raise bad
    return scope[0], scope[1], scope[2], signed_headers, signature


def verify_tc3(
    *,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    credentials: Mapping[str, Credential],
    now: int,
    service: str = "faceid",
) -> Credential:
    """Verify a TC3-HMAC-SHA256 request; return the matching credential or raise ApiError.

    ``headers`` maps lower-case header names to values as received.
    """
    secret_id, date, scope_service, signed_headers, signature = parse_tc3_authorization(
        headers.get("authorization", "")
    )
    cred = credentials.get(secret_id)
    if cred is None:
        raise ApiError("AuthFailure.SecretIdNotFound", "The SecretId is not found, please ensure that your SecretId is correct.")
    ts_text = headers.get("x-tc-timestamp", "").strip()
    if not (ts_text.isascii() and ts_text.isdigit()) or len(ts_text) > 12:
        raise ApiError("MissingParameter" if not ts_text else "InvalidParameter", "The request must carry a valid X-TC-Timestamp header.")
    timestamp = int(ts_text)
    if abs(now - timestamp) > MAX_SKEW:
        raise ApiError(
            "AuthFailure.SignatureExpire",
            f"Signature expired. Timestamp and server time cannot differ by more than five minutes "
            f"(request {timestamp}, server {now}).",
        )
    if "content-type" not in signed_headers or "host" not in signed_headers or signed_headers != sorted(signed_headers):
        raise ApiError("AuthFailure.SignatureFailure", "SignedHeaders must list content-type and host in ASCII order.")
    canonical = tc3_canonical_request(
        method,
        path,
        query,
        headers,
        signed_headers,
        body,
        headers.get("x-tc-content-sha256", "").strip() == UNSIGNED_PAYLOAD,
    )
    string_to_sign = "\n".join([TC3, ts_text, f"{date}/{scope_service}/tc3_request", sha256_hex(canonical.encode("utf-8"))])
    expected = tc3_signature(cred.secret_key, date, scope_service, string_to_sign)
    if date != utc_date(timestamp) or scope_service != service or not _same(expected, signature):
        raise ApiError(
            "AuthFailure.SignatureFailure",
            "The provided credentials could not be validated. Please check your signature is correct.",
        )
    _check_token(cred, headers.get("x-tc-token"))
    return cred


def _same(expected: str, given: str) -> bool:
    """Constant-time comparison that also copes with non-ASCII input."""
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogatepass"))


def _check_token(cred: Credential, token: Optional[str]) -> None:
    if (cred.token or None) != (token or None):
        raise ApiError("AuthFailure.TokenFailure", "Token verification failed: the token is missing, invalid or expired.")


def v1_string_to_sign(method: str, host: str, path: str, params: Mapping[str, str]) -> str:
    pairs = sorted((k, v) for k, v in params.items() if k != "Signature")
    return f"{method}{host}{path}?" + "&".join(f"{k}={v}" for k, v in pairs)


def verify_v1(
    *,
    method: str,
    host: str,
    path: str,
    params: Mapping[str, str],
    credentials: Mapping[str, Credential],
    now: int,
) -> Credential:
    """Verify a legacy v1 (HmacSHA1 / HmacSHA256) request. ``params`` are the decoded parameters."""
    for required in ("SecretId", "Timestamp", "Nonce", "Signature"):
        if not params.get(required):
            raise ApiError("MissingParameter", f"The request is missing a required parameter `{required}`.")
    cred = credentials.get(params["SecretId"])
    if cred is None:
        raise ApiError("AuthFailure.SecretIdNotFound", "The SecretId is not found, please ensure that your SecretId is correct.")
    ts = params["Timestamp"]
    if not (ts.isascii() and ts.isdigit()) or len(ts) > 12:
        raise ApiError("InvalidParameter", "Timestamp must be an integer.")
    if abs(now - int(ts)) > MAX_SKEW:
        raise ApiError(
            "AuthFailure.SignatureExpire",
            "Signature expired. Timestamp and server time cannot differ by more than five minutes.",
        )
    digest = hashlib.sha256 if params.get("SignatureMethod") == "HmacSHA256" else hashlib.sha1
    string_to_sign = v1_string_to_sign(method, host, path, params)
    expected = base64.b64encode(hmac.new(cred.secret_key.encode(), string_to_sign.encode(), digest).digest()).decode()
    if not _same(expected, params["Signature"]):
        raise ApiError(
            "AuthFailure.SignatureFailure",
            "The provided credentials could not be validated. Please check your signature is correct.",
        )
    _check_token(cred, params.get("Token"))
    return cred
