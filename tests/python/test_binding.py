"""The Python binding (tcfaceid._core + tcfaceid/client.py) against the signature vectors, the
in-process FaceID emulator and the official Python SDK.

Covered here: ``tcfaceid.sign`` on every shared vector; ``Client.call`` results and every error
class with its attributes; the sans-IO pair ``prepare`` / ``parse`` (sent with http.client, and
cross-checked with the official SDK on random requests); ``close`` and the context manager;
the ``tcfaceid`` logger (one line per call, nothing secret); imports (clean under ``-X dev -W
error``; the emulator importable without the extension).

Threads, leaks and the GIL: test_binding_threads.py. This file also runs under ASan + UBSan
(test_binding_asan.py), so it keeps every check deterministic and fast.
"""

from __future__ import annotations

import base64
import builtins
import datetime
import gc
import hashlib
import http.client
import json
import logging
import os
import pickle
import random
import re
import socket
import string
import subprocess
import sys
import threading
import time
import traceback
import types
import urllib.parse
import warnings
from pathlib import Path
from typing import Any, Iterator, Optional
from unittest import mock

import pytest

import tcfaceid
import tcfaceid._core
from tcfaceid.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, Config, Credential, Emulator
from tcfaceid.emulator.__main__ import make_cert

ROOT = Path(__file__).resolve().parents[2]
VECTORS = Path(__file__).resolve().parents[3] / "shared" / "vectors" / "tc3.json"

# Identity data of the emulator's default library (fictional) and a temporary (STS) credential.
ID_NO = "110101199003071233"
NAME = "张三"
PHONE = "13800138000"
TMP_ID = "AKIDtmpBindingTest0123456789abcdefEXAMPLE"
TMP_KEY = "TmpKeyBindingTest0123456789abcdefEXAMPLE"
TOKEN = "sts-token-BindingTest-5e8f0c1d2b3a49677f"
WRONG_KEY = "WrongKeyBindingTest0123456789abcdefEXAMPL"

SECRETS = (DEFAULT_SECRET_KEY, TMP_KEY, WRONG_KEY, TOKEN, ID_NO, NAME, PHONE)

ERROR_CLASSES = (
    "Error", "InvalidArgumentError", "JSONError", "CredentialsError", "AuthError", "ClockSkewError",
    "ThrottledError", "ServiceError", "InvalidParameterError", "TokenExpiredError", "TransportError",
    "TimeoutError", "TLSError", "HTTPError", "CryptoError", "StateError",
)


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------

def assert_clean(text: str, *also: str) -> None:
    """No secret key, token or identity data of the tests in ``text``."""
    for secret in (*SECRETS, *also):
        assert secret not in text, f"{secret!r} leaked into {text!r}"


def error_texts(e: BaseException) -> list[str]:
    texts = [str(e), repr(e)]
    for name in ("message", "code", "request_id"):
        value = getattr(e, name, None)
        if value is not None:
            texts.append(str(value))
    texts.extend(str(a) for a in e.args)
    return texts


def check_error(e: BaseException, cls: type, *, code: Optional[str] = None, http_status: Any = ...,
                retryable: Optional[bool] = None, request_id: Any = ..., also_secret: tuple[str, ...] = ()) -> None:
    """The exception is exactly ``cls`` with the documented attributes, and says nothing secret."""
    assert type(e) is cls, f"expected {cls.__name__}, got {type(e).__name__}: {e!r}"
    assert isinstance(e, tcfaceid.Error) and isinstance(e, Exception)
    for attr in ("code", "message", "request_id", "http_status", "retryable"):
        assert hasattr(e, attr), f"{cls.__name__} has no .{attr}"
    assert isinstance(e.code, str), repr(e.code)
    assert isinstance(e.message, str) and e.message, repr(e.message)
    assert e.request_id is None or (isinstance(e.request_id, str) and e.request_id), repr(e.request_id)
    assert e.http_status is None or type(e.http_status) is int, repr(e.http_status)
    assert type(e.retryable) is bool, repr(e.retryable)
    assert str(e), "str(e) is empty"
    if code is not None:
        assert e.code == code, (e.code, code)
    if http_status is not ...:
        assert e.http_status == http_status, (e.http_status, http_status)
    if retryable is not None:
        assert e.retryable is retryable, (e.retryable, retryable)
    if request_id is not ...:
        assert e.request_id == request_id, (e.request_id, request_id)
    for text in error_texts(e):
        assert_clean(text, *also_secret)


def raises(cls: type, fn: Any, *args: Any, **kwargs: Any) -> BaseException:
    """Calls ``fn``; returns the exception, which must be an instance of ``cls``."""
    try:
        fn(*args, **kwargs)
    except BaseException as e:  # noqa: BLE001 (checked right below)
        assert isinstance(e, cls), f"expected {cls.__name__}, got {type(e).__name__}: {e!r}"
        return e
    raise AssertionError(f"{getattr(fn, '__name__', fn)} did not raise {cls.__name__}")


def new_client(endpoint: str, secret_id: Optional[str] = DEFAULT_SECRET_ID,
               secret_key: Optional[str] = DEFAULT_SECRET_KEY, token: Optional[str] = None,
               **options: Any) -> "tcfaceid.Client":
    options.setdefault("proxy", "")  # never through a proxy: traffic stays on 127.0.0.1
    options.setdefault("timeout", 10.0)
    # One attempt and no client-side QPS limit: these tests are about single exchanges and the
    # mapping of each failure (retries and limits: test_reliability.py)
    options.setdefault("retry", {"max_attempts": 1})
    options.setdefault("qps", False)
    return tcfaceid.Client(secret_id, secret_key, token, endpoint=endpoint, **options)


def send(prepared: Any, timeout: float = 10.0) -> tuple[int, list[tuple[str, str]], bytes]:
    """Sends a PreparedRequest with http.client, exactly as prepared."""
    u = urllib.parse.urlsplit(prepared.url)
    assert u.scheme == "http" and u.hostname == "127.0.0.1"
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        conn.request(prepared.method, u.path or "/", body=prepared.body, headers=prepared.headers)
        resp = conn.getresponse()
        return resp.status, resp.getheaders(), resp.read()
    finally:
        conn.close()


def header(headers: dict[str, str], name: str) -> Optional[str]:
    found = [v for k, v in headers.items() if k.lower() == name.lower()]
    assert len(found) <= 1, f"header {name} given {len(found)} times"
    return found[0] if found else None


def start_session(client: Any, **extra: Any) -> str:
    return client.call("DetectAuth", {"RuleId": "1", "IdCard": ID_NO, "Name": NAME, **extra})["BizToken"]


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    creds = [Credential(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY), Credential(TMP_ID, TMP_KEY, token=TOKEN)]
    with Emulator(Config(port=0, qps_enabled=False, credentials=creds)) as emu:
        yield emu


@pytest.fixture
def cli(emulator: Emulator) -> Iterator[Any]:
    c = new_client(emulator.endpoint)
    yield c
    c.close()


def received(emu: Emulator) -> int:
    return sum(emu.stats()["received"].values())


# ------------------------------------------------------------------------------------------------
# 1. tcfaceid.sign on the shared vectors
# ------------------------------------------------------------------------------------------------

SIGN_INPUT_KEYS = {"algorithm", "secret_id", "secret_key", "token", "service", "host", "region", "action",
                   "version", "language", "timestamp", "method", "path", "content_type", "canonical_query",
                   "unsigned_payload", "signed_headers", "headers"}
VECTOR_METADATA = {"id", "description", "source", "verified_by", "request_headers_sent", "sdk_request_params",
                   "url_sent", "body_sent", "expected"}


def load_vectors() -> list[dict[str, Any]]:
    if not VECTORS.exists():
        pytest.fail(f"signature vectors not found at {VECTORS} (the shared/ checkout next to the repository)")
    return json.loads(VECTORS.read_text(encoding="utf-8"))["vectors"]


def _vector_params() -> list[Any]:
    if not VECTORS.exists():
        return [pytest.param(None, id="vectors-missing")]
    return [pytest.param(v, id=v["id"]) for v in json.loads(VECTORS.read_text(encoding="utf-8"))["vectors"]]


def sign_inputs(vector: dict[str, Any]) -> dict[str, Any]:
    """The vector's input keys, with ``body`` as bytes and ``params`` for v1."""
    unknown = set(vector) - SIGN_INPUT_KEYS - VECTOR_METADATA - {"body_utf8", "body_base64", "params_raw"}
    assert not unknown, f"{vector['id']}: keys this test does not know: {sorted(unknown)}"
    inputs = {k: vector[k] for k in SIGN_INPUT_KEYS if k in vector}
    if "body_utf8" in vector:
        inputs["body"] = vector["body_utf8"].encode("utf-8")
    elif "body_base64" in vector:
        inputs["body"] = base64.b64decode(vector["body_base64"], validate=True)
    if "params_raw" in vector:
        inputs["params"] = vector["params_raw"]
    return inputs


def test_vector_file_is_complete() -> None:
    vectors = load_vectors()
    assert len(vectors) == 27
    assert len({v["id"] for v in vectors}) == 27
    assert {v.get("algorithm") for v in vectors} == {"TC3-HMAC-SHA256", "HmacSHA1", "HmacSHA256"}


@pytest.mark.parametrize("vector", _vector_params())
def test_sign_every_vector(vector: Optional[dict[str, Any]]) -> None:
    if vector is None:
        pytest.fail(f"signature vectors not found at {VECTORS}")
    out = tcfaceid.sign(**sign_inputs(vector))
    assert isinstance(out, dict)
    assert set(out) == set(vector["expected"]), (sorted(out), sorted(vector["expected"]))
    for key, want in vector["expected"].items():
        got = out[key]
        assert type(got) is str, (key, type(got))
        assert got.encode("utf-8") == want.encode("utf-8"), f"{vector['id']} {key}:\n{got!r}\n!=\n{want!r}"
    # the same function as the module's own
    assert tcfaceid._core.sign(**sign_inputs(vector)) == out


def test_sign_body_str_bytes_bytearray_memoryview_agree() -> None:
    vector = next(v for v in load_vectors() if v["id"] == "V02")  # a body with non-ASCII text
    inputs = sign_inputs(vector)
    text = vector["body_utf8"]
    raw = text.encode("utf-8")
    assert len(raw) != len(text)  # really multi-byte
    padded = b"\x00junk" + raw + b"tail\xff"
    forms = {
        "str": text,
        "bytes": raw,
        "bytearray": bytearray(raw),
        "memoryview": memoryview(raw),
        "memoryview-slice": memoryview(padded)[5:5 + len(raw)],
        "memoryview-of-bytearray": memoryview(bytearray(raw)),
    }
    for name, body in forms.items():
        out = tcfaceid.sign(**{**inputs, "body": body})
        assert out == vector["expected"], name
    # buffers are released: the bytearray can be resized afterwards
    ba = bytearray(raw)
    tcfaceid.sign(**{**inputs, "body": ba})
    ba.extend(b" ")
    mv = memoryview(raw)
    tcfaceid.sign(**{**inputs, "body": mv})
    mv.release()
    # binary bodies (NUL, invalid UTF-8) are hashed as they are; large ones too (signed without the GIL)
    for binary in (b"\x00\xff\xfe{\"a\":\x00}", random.Random(1).randbytes(256 * 1024)):
        for form in (binary, bytearray(binary), memoryview(binary)):
            out = tcfaceid.sign(**{**inputs, "body": form, "content_type": "application/octet-stream"})
            assert out["hashed_payload"] == hashlib.sha256(binary).hexdigest()


@pytest.mark.parametrize("field, value", [
    ("secret_key", "SECRETVALUE with space"),
    ("secret_key", "SECRETVALUE\twith-tab"),
    ("secret_id", "AKID SECRETVALUE"),
])
def test_sign_rejects_white_space_in_secrets_without_echoing(field: str, value: str) -> None:
    inputs = sign_inputs(next(v for v in load_vectors() if v["id"] == "V01"))
    e = raises(tcfaceid.InvalidArgumentError, tcfaceid.sign, **{**inputs, field: value})
    check_error(e, tcfaceid.InvalidArgumentError, http_status=None, request_id=None, retryable=False,
                also_secret=(value, "SECRETVALUE"))
    assert isinstance(e, ValueError)
    assert field in e.message, e.message  # names the field, not the value


def test_sign_unknown_keyword_is_a_type_error() -> None:
    inputs = sign_inputs(next(v for v in load_vectors() if v["id"] == "V01"))
    with pytest.raises(TypeError):
        tcfaceid.sign(**inputs, bogus_option=1)
    with pytest.raises(TypeError):
        tcfaceid.sign(**{**inputs, "body_utf8": "{}"})  # the vector's key, not the function's


# ------------------------------------------------------------------------------------------------
# 2. Client.call against the emulator
# ------------------------------------------------------------------------------------------------

def test_exception_hierarchy() -> None:
    core = tcfaceid._core
    for name in ERROR_CLASSES:
        assert getattr(tcfaceid, name) is getattr(core, name), name
        assert issubclass(getattr(tcfaceid, name), tcfaceid.Error)
    assert issubclass(tcfaceid.Error, Exception)
    pairs = [("InvalidArgumentError", ValueError), ("JSONError", ValueError), ("ClockSkewError", tcfaceid.AuthError),
             ("InvalidParameterError", tcfaceid.ServiceError), ("InvalidParameterError", ValueError),
             ("TokenExpiredError", tcfaceid.ServiceError), ("TimeoutError", tcfaceid.TransportError),
             ("TimeoutError", builtins.TimeoutError), ("TLSError", tcfaceid.TransportError),
             ("HTTPError", tcfaceid.TransportError)]
    for name, base in pairs:
        assert issubclass(getattr(tcfaceid, name), base), (name, base)
    assert not issubclass(tcfaceid.AuthError, tcfaceid.ServiceError)
    assert not issubclass(tcfaceid.ThrottledError, tcfaceid.ServiceError)
    assert sorted(dir(tcfaceid)) == sorted(tcfaceid.__all__)
    # constructible from Python (the front raises some itself; tests mock failures) with the attributes
    e = tcfaceid.ServiceError("boom", code="InternalError", request_id="r-1", http_status=200, retryable=True)
    assert (e.message, e.code, e.request_id, e.http_status, e.retryable, e.attempts) == \
        ("boom", "InternalError", "r-1", 200, True, 0)
    e = tcfaceid.TimeoutError("slow")
    assert (e.message, e.code, e.request_id, e.http_status, e.retryable) == ("slow", "timeout", None, None, False)
    with pytest.raises(TypeError):
        tcfaceid.Error("x", bogus=1)
    assert tcfaceid.__version__ == "0.1.0"
    with pytest.raises(AttributeError):
        tcfaceid.NoSuchThing  # noqa: B018


def test_call_success_keeps_nulls_and_sets_request_id(emulator: Emulator, cli: Any) -> None:
    assert cli.last_request_id is None
    live = cli.call("GetLiveCode")
    assert isinstance(live, dict) and set(live) == {"LiveCode"}, live
    assert re.fullmatch(r"\d{4}", live["LiveCode"])
    rid = cli.last_request_id
    assert isinstance(rid, str) and re.fullmatch(r"[0-9a-f-]{36}", rid), rid

    token = start_session(cli, Extra="订单-0001")
    assert cli.last_request_id != rid
    info = cli.call("GetDetectInfoEnhanced", {"BizToken": token, "RuleId": "1", "InfoType": "0"})
    assert "RequestId" not in info
    assert info["Text"]["ErrCode"] is None and info["Text"]["ErrMsg"] is None
    assert info["Text"]["LivenessDetail"] == []
    assert info["Text"]["Extra"] == "订单-0001" and info["Text"]["Name"] == NAME
    assert info["IdCardData"]["OcrFront"] is None and info["IdCardData"]["Avatar"] is None
    assert info["BestFrame"] == {"BestFrame": None, "BestFrames": None}
    assert info["VideoData"] == {"LivenessVideo": None, "LivenessVideos": None}
    assert info["IntentionVerifyData"] is None and info["IsVerifyIntention"] is False
    assert info["Encryption"]["EncryptList"] == [] and info["EncryptedBody"] == ""

    emulator.complete(token, "pass")
    done = cli.call("GetDetectInfoEnhanced", {"BizToken": token, "RuleId": "1", "InfoType": "1"})
    assert done["Text"]["ErrCode"] == 0 and isinstance(done["Text"]["Sim"], str)
    assert done["IdCardData"] is None  # only the parts asked for

    # the request id is per thread
    seen: list[Any] = []
    t = threading.Thread(target=lambda: seen.append(cli.last_request_id))
    t.start()
    t.join()
    assert seen == [None]
    assert "Gu5t9x" not in repr(cli) and emulator.endpoint in repr(cli)
    assert cli.endpoint == emulator.endpoint


def test_params_forms_give_identical_results(emulator: Emulator, cli: Any) -> None:
    token = start_session(cli, Extra="备注 ✓ \u2028 \"q\"")
    emulator.complete(token, "retry_then_pass")
    params = {"BizToken": token, "RuleId": "1", "InfoType": "1"}
    text = json.dumps(params, ensure_ascii=False)
    raw = text.encode("utf-8")
    forms = {"dict": params, "bytes": raw, "str": text, "bytearray": bytearray(raw), "memoryview": memoryview(raw),
             "memoryview-slice": memoryview(b"[[" + raw + b"]]")[2:-2]}
    before = received(emulator)
    results = {name: cli.call("GetDetectInfoEnhanced", p) for name, p in forms.items()}
    assert received(emulator) == before + len(forms)
    first = results["dict"]
    assert first["Text"]["ErrCode"] == 0 and len(first["Text"]["LivenessDetail"]) == 2
    assert first["Text"]["Extra"] == "备注 ✓ \u2028 \"q\""
    for name, result in results.items():
        assert result == first, name
    # element check: the same answer whatever the form
    ident = {"IdCard": ID_NO, "Name": NAME}
    answers = [cli.call("IdCardVerification", p) for p in
               (ident, json.dumps(ident).encode(), json.dumps(ident, ensure_ascii=False),
                bytearray(json.dumps(ident).encode()), memoryview(json.dumps(ident).encode()))]
    assert answers[0]["Result"] == "0" and all(a == answers[0] for a in answers)
    # None and {} are the same empty object
    assert set(cli.call("GetLiveCode", None)) == set(cli.call("GetLiveCode", {})) == {"LiveCode"}
    with pytest.raises(TypeError):
        cli.call("GetLiveCode", [1, 2])
    with pytest.raises(TypeError):
        cli.call("GetLiveCode", 42)


def test_auth_error(emulator: Emulator) -> None:
    with new_client(emulator.endpoint, secret_key=WRONG_KEY) as c:
        e = raises(tcfaceid.AuthError, c.call, "DetectAuth", {"RuleId": "1", "IdCard": ID_NO, "Name": NAME})
        check_error(e, tcfaceid.AuthError, code="AuthFailure.SignatureFailure", http_status=200, retryable=False)
        assert e.request_id is not None and c.last_request_id == e.request_id
        assert e.attempts == 1
    # a temporary key without (or with a wrong) token
    with new_client(emulator.endpoint, TMP_ID, TMP_KEY) as c:
        e = raises(tcfaceid.AuthError, c.call, "GetLiveCode")
        check_error(e, tcfaceid.AuthError, code="AuthFailure.TokenFailure", retryable=False)
    with new_client(emulator.endpoint, TMP_ID, TMP_KEY, TOKEN) as c:
        assert "LiveCode" in c.call("GetLiveCode")
    with new_client(emulator.endpoint, "AKIDunknownBindingTest", DEFAULT_SECRET_KEY) as c:
        e = raises(tcfaceid.AuthError, c.call, "GetLiveCode")
        check_error(e, tcfaceid.AuthError, code="AuthFailure.SecretIdNotFound")
    # errors survive pickling (multiprocessing, task queues) with their attributes
    copy = pickle.loads(pickle.dumps(e))
    assert type(copy) is type(e) and str(copy) == str(e)
    assert (copy.code, copy.message, copy.request_id, copy.http_status, copy.retryable, copy.attempts) == \
        (e.code, e.message, e.request_id, e.http_status, e.retryable, e.attempts)


def test_clock_skew_error(emulator: Emulator, cli: Any) -> None:
    emulator.advance(600)
    # the first attempt is refused (AuthFailure.SignatureExpire); the client learns the offset
    # from the response's Date header and re-signs once
    assert "LiveCode" in cli.call("GetLiveCode")
    assert abs(cli.clock_offset - 600) <= 5, cli.clock_offset
    assert received(emulator) == 2
    assert "LiveCode" in cli.call("GetLiveCode")  # signed with the offset from now on
    assert received(emulator) == 3
    # the service's clock moves again: one re-sign per call follows it
    emulator.advance(600)
    assert "LiveCode" in cli.call("GetLiveCode")
    assert abs(cli.clock_offset - 1200) <= 5, cli.clock_offset
    emulator.set_time(time.time())
    assert "LiveCode" in cli.call("GetLiveCode")
    assert abs(cli.clock_offset) <= 5, cli.clock_offset
    # the error itself, through the sans-IO path (a request signed 10 minutes ago)
    status, headers, body = send(cli.prepare("GetLiveCode", {}, timestamp=int(time.time()) - 600))
    e = raises(tcfaceid.ClockSkewError, tcfaceid.parse, status, headers, body)
    check_error(e, tcfaceid.ClockSkewError, code="AuthFailure.SignatureExpire", http_status=200, retryable=False)
    assert isinstance(e, tcfaceid.AuthError)
    # the server's clock, from its Date header, to correct the skew
    assert abs(e.server_time - emulator.now()) <= 5, (e.server_time, emulator.now())


def test_throttled_error(emulator: Emulator, cli: Any) -> None:
    emulator.fault("throttle")
    e = raises(tcfaceid.ThrottledError, cli.call, "PhoneVerification", {"IdCard": ID_NO, "Name": NAME, "Phone": PHONE})
    check_error(e, tcfaceid.ThrottledError, code="RequestLimitExceeded", http_status=200, retryable=True)
    assert cli.last_request_id == e.request_id is not None
    emulator.fault("throttle", code="RequestLimitExceeded.UinLimitExceeded")
    e = raises(tcfaceid.ThrottledError, cli.call, "GetLiveCode")
    assert e.code == "RequestLimitExceeded.UinLimitExceeded"


def test_invalid_parameter_error(emulator: Emulator, cli: Any) -> None:
    lower_x = "11010519491231002x"
    e = raises(tcfaceid.InvalidParameterError, cli.call, "DetectAuth", {"RuleId": "1", "IdCard": lower_x, "Name": NAME})
    check_error(e, tcfaceid.InvalidParameterError, code="InvalidParameterValue", http_status=200, retryable=False,
                also_secret=(lower_x, lower_x.upper()))
    assert isinstance(e, tcfaceid.ServiceError) and isinstance(e, ValueError)
    assert cli.last_request_id == e.request_id is not None
    # an unknown BizToken is InvalidParameter
    e = raises(tcfaceid.InvalidParameterError, cli.call, "GetDetectInfoEnhanced",
               {"BizToken": "00000000-0000-0000-0000-000000000000", "RuleId": "1"})
    check_error(e, tcfaceid.InvalidParameterError, code="InvalidParameter")
    e = raises(tcfaceid.InvalidParameterError, cli.call, "GetLiveCode", {"Bogus": ID_NO})
    check_error(e, tcfaceid.InvalidParameterError, code="UnknownParameter")
    e = raises(tcfaceid.InvalidParameterError, cli.call, "DetectAuth", {"RuleId": "1"})
    check_error(e, tcfaceid.InvalidParameterError, code="InvalidParameter")


def test_service_error(emulator: Emulator, cli: Any) -> None:
    emulator.fault("internal_error")
    e = raises(tcfaceid.ServiceError, cli.call, "DetectAuth", {"RuleId": "1", "IdCard": ID_NO, "Name": NAME})
    check_error(e, tcfaceid.ServiceError, code="InternalError", http_status=200, retryable=True)
    assert cli.last_request_id == e.request_id is not None
    e = raises(tcfaceid.ServiceError, cli.call, "GetLiveCode2")  # an action the service does not have
    check_error(e, tcfaceid.ServiceError, code="InvalidAction", retryable=False)
    emulator.fault("internal_error", code="InternalError.UnKnown")
    e = raises(tcfaceid.ServiceError, cli.call, "GetLiveCode")
    check_error(e, tcfaceid.ServiceError, code="InternalError.UnKnown", retryable=True)


def test_token_expired_error(emulator: Emulator, cli: Any) -> None:
    # The client signs with the machine's clock and the emulator refuses a signature more than
    # 300 s from its own clock, so "create the token, advance 7201 s, read it" cannot work with
    # ``call`` alone. Instead the token is created in the emulator's past: its clock is set back
    # 7300 s, DetectAuth is signed for that time with the sans-IO ``prepare(timestamp=...)`` and
    # sent with http.client, then the clock is set to now and the live call sees a 7300 s old token.
    emulator.set_time(time.time() - 7300)
    prepared = cli.prepare("DetectAuth", {"RuleId": "1", "IdCard": ID_NO, "Name": NAME}, timestamp=emulator.now())
    token = cli.parse(*send(prepared))["BizToken"]
    emulator.set_time(time.time())
    e = raises(tcfaceid.TokenExpiredError, cli.call, "GetDetectInfoEnhanced", {"BizToken": token, "RuleId": "1"})
    check_error(e, tcfaceid.TokenExpiredError, code="InvalidParameterValue.BizTokenExpired", http_status=200,
                retryable=False, also_secret=(token,))
    assert isinstance(e, tcfaceid.ServiceError)
    assert cli.last_request_id == e.request_id is not None
    # the same through tcfaceid.parse on a response as the service sends it
    body = json.dumps({"Response": {"Error": {"Code": "InvalidParameterValue.BizTokenExpired", "Message": "BizToken过期。"},
                                    "RequestId": "rid-1"}}, ensure_ascii=False).encode("utf-8")
    e = raises(tcfaceid.TokenExpiredError, tcfaceid.parse, 200, [("Content-Type", "application/json")], body)
    check_error(e, tcfaceid.TokenExpiredError, code="InvalidParameterValue.BizTokenExpired", request_id="rid-1",
                http_status=200, retryable=False)
    assert e.message == "BizToken过期。"


def test_transport_error_connection_refused() -> None:
    with new_client("http://127.0.0.1:1") as c:
        t0 = time.monotonic()
        e = raises(tcfaceid.TransportError, c.call, "DetectAuth", {"RuleId": "1", "IdCard": ID_NO, "Name": NAME})
        assert time.monotonic() - t0 < 5
        check_error(e, tcfaceid.TransportError, http_status=None, request_id=None, retryable=True)
        assert c.last_request_id is None
        assert e.attempts == 1


def test_transport_error_reset_and_truncated(emulator: Emulator, cli: Any) -> None:
    emulator.fault("reset")
    e = raises(tcfaceid.TransportError, cli.call, "GetLiveCode")
    check_error(e, tcfaceid.TransportError, request_id=None)
    # the server ran the action: not safe to retry blindly
    assert e.retryable is False
    emulator.fault("truncated")
    e = raises(tcfaceid.TransportError, cli.call, "DetectAuth", {"RuleId": "1", "IdCard": ID_NO, "Name": NAME})
    check_error(e, tcfaceid.TransportError, retryable=False)
    assert "LiveCode" in cli.call("GetLiveCode")  # the client recovers


def test_timeout_error(emulator: Emulator) -> None:
    emulator.fault("latency", seconds=1.0)
    with new_client(emulator.endpoint, timeout=0.3) as c:
        t0 = time.monotonic()
        e = raises(tcfaceid.TimeoutError, c.call, "DetectAuth", {"RuleId": "1", "IdCard": ID_NO, "Name": NAME})
        elapsed = time.monotonic() - t0
        assert 0.25 <= elapsed < 0.9, elapsed
        check_error(e, tcfaceid.TimeoutError, http_status=None, request_id=None)
        assert isinstance(e, builtins.TimeoutError) and isinstance(e, tcfaceid.TransportError)
        assert isinstance(e, OSError)  # builtins.TimeoutError is an OSError
        assert c.last_request_id is None


@pytest.fixture
def tls_emulator(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[tuple[Emulator, Path, Path]]:
    certs, other = tmp_path / "certs", tmp_path / "other"
    assert make_cert(str(certs), "127.0.0.1") == 0
    assert make_cert(str(other), "127.0.0.1") == 0
    capsys.readouterr()
    with Emulator(Config(port=0, qps_enabled=False, tls_cert=str(certs / "emulator-cert.pem"),
                         tls_key=str(certs / "emulator-key.pem"))) as emu:
        yield emu, certs / "emulator-cert.pem", other / "emulator-cert.pem"


def test_tls_error_ca_bundle_and_verify_false(tls_emulator: Any, caplog: pytest.LogCaptureFixture) -> None:
    emu, cert, other_cert = tls_emulator
    assert emu.endpoint.startswith("https://127.0.0.1:")
    with new_client(emu.endpoint) as c:  # the system trust store: a self-signed certificate is refused
        e = raises(tcfaceid.TLSError, c.call, "GetLiveCode")
        check_error(e, tcfaceid.TLSError, http_status=None, request_id=None)
        assert isinstance(e, tcfaceid.TransportError)
    with new_client(emu.endpoint, ca_bundle=str(other_cert)) as c:  # another CA
        raises(tcfaceid.TLSError, c.call, "GetLiveCode")
    with new_client(emu.endpoint, ca_bundle=str(cert)) as c:
        assert "LiveCode" in c.call("GetLiveCode")
        assert c.last_request_id
    caplog.set_level(logging.DEBUG, logger="tcfaceid")
    with new_client(emu.endpoint, verify=False) as c:
        assert "LiveCode" in c.call("GetLiveCode")
    warned = [r for r in caplog.records if r.name == "tcfaceid" and r.levelno == logging.WARNING]
    assert warned and "TLS verification is OFF" in warned[0].getMessage(), [r.getMessage() for r in caplog.records]


def test_http_error(emulator: Emulator, cli: Any) -> None:
    emulator.fault("http_5xx", status=502)
    e = raises(tcfaceid.HTTPError, cli.call, "DetectAuth", {"RuleId": "1", "IdCard": ID_NO, "Name": NAME})
    check_error(e, tcfaceid.HTTPError, http_status=502, retryable=True, request_id=None)
    assert isinstance(e, tcfaceid.TransportError)
    assert "<html" not in str(e).lower()  # the body is not quoted
    emulator.fault("not_json", status=404)  # an HTML 404 page: not retryable
    e = raises(tcfaceid.HTTPError, cli.call, "GetLiveCode")
    check_error(e, tcfaceid.HTTPError, http_status=404, retryable=False)
    emulator.fault("http_5xx", status=503)
    e = raises(tcfaceid.HTTPError, cli.call, "GetLiveCode")
    check_error(e, tcfaceid.HTTPError, http_status=503, retryable=True)


def test_json_error_local_and_from_the_server(emulator: Emulator, cli: Any) -> None:
    before = received(emulator)
    bad = [b"[1]", b"{", b"null", b'"text"', b'{"IdCard":"%s","IdCard":"x"}' % ID_NO.encode(),
           b'{"Name":"\xff\xfe"}', b'{"a":' * 70 + b"1" + b"}" * 70, '{"IdCard": "%s"} trailing' % ID_NO,
           b'{"IdCard":"%s",' % ID_NO.encode()]
    for params in bad:
        e = raises(tcfaceid.JSONError, cli.call, "GetLiveCode", params)
        check_error(e, tcfaceid.JSONError, http_status=None, request_id=None, retryable=False)
        assert isinstance(e, ValueError)
        assert e.attempts == 0
    assert received(emulator) == before, "invalid parameters were sent"
    # a body that is not JSON, with HTTP 200
    emulator.fault("not_json")
    e = raises(tcfaceid.JSONError, cli.call, "GetLiveCode")
    check_error(e, tcfaceid.JSONError, http_status=200, request_id=None)


def test_invalid_argument_errors(emulator: Emulator, cli: Any) -> None:
    for action in ("detectAuth", "Detect Auth", "", "A" * 65, "Get/LiveCode"):
        e = raises(tcfaceid.InvalidArgumentError, cli.call, action)
        check_error(e, tcfaceid.InvalidArgumentError, http_status=None, request_id=None, retryable=False)
    e = raises(tcfaceid.InvalidArgumentError, tcfaceid.Client, DEFAULT_SECRET_ID, "SECRETVALUE with space",
               endpoint=emulator.endpoint)
    check_error(e, tcfaceid.InvalidArgumentError, also_secret=("SECRETVALUE",))
    raises(tcfaceid.InvalidArgumentError, tcfaceid.Client, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, language="fr-FR")
    raises(tcfaceid.InvalidArgumentError, tcfaceid.Client, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, endpoint="ftp://x")
    raises(tcfaceid.InvalidArgumentError, tcfaceid.Client, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, region="Bad Region")
    raises(tcfaceid.InvalidArgumentError, cli.prepare, "GetLiveCode", None, timestamp=-1)
    raises(tcfaceid.InvalidArgumentError, cli.call, "GetLive\x00Code")
    for bad in (0, -1.0, float("nan"), float("inf")):
        raises(tcfaceid.InvalidArgumentError, tcfaceid.Client, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, timeout=bad)
        raises(tcfaceid.InvalidArgumentError, tcfaceid.Client, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY,
               connect_timeout=bad)
    e = raises(tcfaceid.InvalidArgumentError, tcfaceid.Client, DEFAULT_SECRET_ID, None)
    check_error(e, tcfaceid.InvalidArgumentError, also_secret=(DEFAULT_SECRET_ID,))
    raises(tcfaceid.InvalidArgumentError, tcfaceid.Client, token=TOKEN)  # a token without keys
    with pytest.raises(TypeError):
        tcfaceid.Client(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, bogus=1)


def test_credentials_error_and_the_chain(emulator: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("TENCENTCLOUD_"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    assert not Path("/etc/tencentcloud/credentials").exists(), "this machine has a system-wide credentials file"

    def no_credentials() -> BaseException:
        try:
            c = tcfaceid.Client(endpoint=emulator.endpoint, proxy="")
        except tcfaceid.CredentialsError as e:
            return e
        try:
            return raises(tcfaceid.CredentialsError, c.call, "GetLiveCode")
        finally:
            c.close()

    before = received(emulator)
    e = no_credentials()
    check_error(e, tcfaceid.CredentialsError, http_status=None, request_id=None, retryable=False)
    assert received(emulator) == before
    assert isinstance(raises(tcfaceid.CredentialsError, tcfaceid.Client.from_env, endpoint=emulator.endpoint),
                      tcfaceid.Error)

    # the environment
    monkeypatch.setenv("TENCENTCLOUD_SECRET_ID", TMP_ID)
    monkeypatch.setenv("TENCENTCLOUD_SECRET_KEY", TMP_KEY)
    monkeypatch.setenv("TENCENTCLOUD_SESSION_TOKEN", TOKEN)
    with tcfaceid.Client(endpoint=emulator.endpoint, proxy="") as c:
        assert "LiveCode" in c.call("GetLiveCode")
    with tcfaceid.Client.from_env(endpoint=emulator.endpoint, proxy="") as c:
        assert "LiveCode" in c.call("GetLiveCode")
    for name in ("TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY", "TENCENTCLOUD_SESSION_TOKEN"):
        monkeypatch.delenv(name)

    # then the profile file
    (home / ".tencentcloud").mkdir()
    (home / ".tencentcloud" / "credentials").write_text(
        f"[default]\nsecret_id = {DEFAULT_SECRET_ID}\nsecret_key = {DEFAULT_SECRET_KEY}\n", encoding="utf-8")
    with tcfaceid.Client(endpoint=emulator.endpoint, proxy="") as c:
        assert "LiveCode" in c.call("GetLiveCode")


def test_from_env_error_has_the_attributes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Client.from_env raises CredentialsError itself (client.py): with a message, like the core's."""
    for name in list(os.environ):
        if name.startswith("TENCENTCLOUD_"):
            monkeypatch.delenv(name)
    e = raises(tcfaceid.CredentialsError, tcfaceid.Client.from_env, endpoint="http://127.0.0.1:1")
    check_error(e, tcfaceid.CredentialsError, code="no_credentials", http_status=None, request_id=None,
                retryable=False)
    assert "TENCENTCLOUD_SECRET_ID" in e.message


def test_no_silent_retry_on_a_reused_connection(emulator: Emulator, cli: Any) -> None:
    """"One attempt": when the server resets a kept-alive connection after running the action, the
    call fails; it is not sent again behind the caller's back (a second DetectAuth, a second bill)."""
    assert "LiveCode" in cli.call("GetLiveCode")  # a kept-alive connection now exists
    before = emulator.stats()["received"].get("DetectAuth", 0)
    emulator.fault("reset", phase="after", action="DetectAuth")
    e = raises(tcfaceid.TransportError, cli.call, "DetectAuth", {"RuleId": "1", "IdCard": ID_NO, "Name": NAME})
    check_error(e, tcfaceid.TransportError, request_id=None, retryable=False)
    assert emulator.stats()["received"].get("DetectAuth", 0) == before + 1


# ------------------------------------------------------------------------------------------------
# 3. sans-IO: prepare / parse
# ------------------------------------------------------------------------------------------------

def test_prepare_send_parse_equals_call(emulator: Emulator, cli: Any) -> None:
    token = start_session(cli)
    emulator.complete(token, "fail_compare")
    params = {"BizToken": token, "RuleId": "1", "InfoType": "1"}
    ts = int(time.time())
    prepared = cli.prepare("GetDetectInfoEnhanced", params, timestamp=ts)
    assert isinstance(prepared, tcfaceid.PreparedRequest)
    method, url, headers, body = prepared
    assert (method, url) == ("POST", emulator.endpoint + "/")
    assert type(body) is bytes and json.loads(body) == params
    assert body == json.dumps(params, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    assert isinstance(headers, dict) and all(type(k) is str and type(v) is str for k, v in headers.items())
    assert header(headers, "Host") == emulator.host_port
    assert header(headers, "Content-Type") == "application/json"
    assert header(headers, "X-TC-Action") == "GetDetectInfoEnhanced"
    assert header(headers, "X-TC-Version") == "2018-03-01"
    assert header(headers, "X-TC-Timestamp") == str(ts)
    assert header(headers, "X-TC-Token") is None
    auth = header(headers, "Authorization")
    date = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%d")
    assert auth.startswith(f"TC3-HMAC-SHA256 Credential={DEFAULT_SECRET_ID}/{date}/faceid/tc3_request, "
                           "SignedHeaders=content-type;host, Signature=")
    assert re.fullmatch(r"[0-9a-f]{64}", auth.rsplit("Signature=", 1)[1])
    assert DEFAULT_SECRET_KEY not in repr(prepared)

    status, resp_headers, resp_body = send(prepared)
    assert status == 200
    via_parse = cli.parse(status, resp_headers, resp_body)
    assert cli.last_request_id == json.loads(resp_body)["Response"]["RequestId"]
    via_call = cli.call("GetDetectInfoEnhanced", params)
    assert via_parse == via_call and via_parse["Text"]["ErrCode"] == 2016
    assert via_parse == tcfaceid.parse(status, dict(resp_headers), resp_body)

    # the same timestamp gives the same request; str/bytes params are sent exactly as given
    assert cli.prepare("GetDetectInfoEnhanced", params, timestamp=ts) == prepared
    spaced = b'{ "BizToken" : "%s", "RuleId":"1",  "InfoType":"1" }' % token.encode()
    p2 = cli.prepare("GetDetectInfoEnhanced", spaced, timestamp=ts)
    assert p2.body == spaced and p2.headers["Authorization"] != prepared.headers["Authorization"]
    assert cli.parse(*send(p2)) == via_call
    assert cli.prepare("GetLiveCode", None, timestamp=ts).body == b"{}"

    # temporary credentials add X-TC-Token; a prepared request signed long ago is refused
    with new_client(emulator.endpoint, TMP_ID, TMP_KEY, TOKEN, region="ap-guangzhou", language="en-US") as c:
        p3 = c.prepare("GetLiveCode", None, timestamp=int(time.time()))
        assert header(p3.headers, "X-TC-Token") == TOKEN
        assert header(p3.headers, "X-TC-Region") == "ap-guangzhou"
        assert header(p3.headers, "X-TC-Language") == "en-US"
        assert set(c.parse(*send(p3))) == {"LiveCode"}
        old = c.prepare("GetLiveCode", None, timestamp=int(time.time()) - 3600)
        e = raises(tcfaceid.ClockSkewError, c.parse, *send(old))
        check_error(e, tcfaceid.ClockSkewError, code="AuthFailure.SignatureExpire", http_status=200)
    # a large request (built without the GIL) is signed like tcfaceid.sign signs its bytes
    big = {"RuleId": "1", "IdCard": ID_NO, "Name": NAME, "Extra": "备" * 1000, "Pad": ["x" * 1000] * 40}
    p4 = cli.prepare("DetectAuth", big, timestamp=ts)
    assert len(p4.body) > 40000
    signed = tcfaceid.sign(secret_id=DEFAULT_SECRET_ID, secret_key=DEFAULT_SECRET_KEY, service="faceid",
                           host=emulator.host_port, method="POST", content_type="application/json", timestamp=ts,
                           body=p4.body)
    assert header(p4.headers, "Authorization") == signed["authorization"]
    e = raises(tcfaceid.InvalidParameterError, cli.parse, *send(p4))  # the server checked that signature
    assert e.code == "UnknownParameter"
    # prepare's timestamp defaults to now
    now = int(header(cli.prepare("GetLiveCode").headers, "X-TC-Timestamp"))
    assert abs(now - time.time()) <= 2


def test_client_parse_sets_last_request_id_on_errors_too(emulator: Emulator, cli: Any) -> None:
    """last_request_id is "the RequestId of this thread's last call (also on every exception)":
    Client.parse sets it on success, so a failed parse must not leave the previous one there."""
    ok = cli.parse(*send(cli.prepare("GetLiveCode", None, timestamp=int(time.time()))))
    assert set(ok) == {"LiveCode"}
    first = cli.last_request_id
    assert first
    old = cli.prepare("GetLiveCode", None, timestamp=int(time.time()) - 3600)
    e = raises(tcfaceid.ClockSkewError, cli.parse, *send(old))
    assert e.request_id and e.request_id != first
    assert cli.last_request_id == e.request_id, (cli.last_request_id, e.request_id)
    e = raises(tcfaceid.HTTPError, cli.parse, 502, [], b"<html>bad gateway</html>")
    assert cli.last_request_id is None


def test_parse_responses_directly() -> None:
    html = (b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center>"
            b"<hr><center>nginx</center></body></html>\n")
    for headers in ({"Content-Type": "text/html"}, [("Content-Type", "text/html")], []):
        e = raises(tcfaceid.HTTPError, tcfaceid.parse, 502, headers, html)
        check_error(e, tcfaceid.HTTPError, http_status=502, retryable=True, request_id=None)
    # exact numbers, nulls and key order; RequestId removed
    body = '{"Response":{"Sim":"87.13","Score":87.13,"Big":9007199254740993,"X":null,"名":"张三","RequestId":"r-9"}}'
    out = tcfaceid.parse(200, [("Date", "Tue, 14 Nov 2023 22:13:20 GMT")], body.encode("utf-8"))
    assert out == {"Sim": "87.13", "Score": 87.13, "Big": 9007199254740993, "X": None, "名": "张三"}
    assert list(out) == ["Sim", "Score", "Big", "X", "名"]
    for form in (bytearray(body.encode()), memoryview(body.encode())):
        assert tcfaceid.parse(200, {}, form) == out
    # a large answer (parsed without the GIL), exactly
    video = base64.b64encode(random.Random(2).randbytes(300 * 1024)).decode()
    big = ('{"Response":{"VideoData":{"LivenessVideo":"%s"},"Sim":"90.5","RequestId":"r-big"}}' % video).encode()
    data, request_id, server_time = tcfaceid._core.parse(200, [("Date", "Tue, 14 Nov 2023 22:13:20 GMT")], big)
    assert data == ('{"VideoData":{"LivenessVideo":"%s"},"Sim":"90.5"}' % video).encode()
    assert (request_id, server_time) == ("r-big", 1700000000)
    assert tcfaceid.parse(200, {}, memoryview(big))["VideoData"]["LivenessVideo"] == video
    # server_time from Date (any case), request_id from the body
    err = b'{"Response":{"Error":{"Code":"AuthFailure.SignatureExpire","Message":"expired"},"RequestId":"r-1"}}'
    e = raises(tcfaceid.ClockSkewError, tcfaceid.parse, 200, [("date", "Tue, 14 Nov 2023 22:13:20 GMT")], err)
    check_error(e, tcfaceid.ClockSkewError, request_id="r-1", http_status=200, retryable=False)
    assert e.server_time == 1700000000
    # an error envelope counts whatever the status
    err = b'{"Response":{"Error":{"Code":"InternalError","Message":"boom"},"RequestId":"r-2"}}'
    e = raises(tcfaceid.ServiceError, tcfaceid.parse, 500, {}, err)
    check_error(e, tcfaceid.ServiceError, code="InternalError", http_status=500, retryable=True, request_id="r-2")
    # bodies that are not a response
    for status, bad, cls in ((200, b"", tcfaceid.JSONError), (200, b'{"Response":', tcfaceid.JSONError),
                             (200, b"[1]", tcfaceid.JSONError), (200, b'{"a":1,"a":2}', tcfaceid.JSONError),
                             (429, b"", tcfaceid.HTTPError), (503, b'{"Response":{}}', tcfaceid.HTTPError)):
        e = raises(cls, tcfaceid.parse, status, {}, bad)
        check_error(e, cls, http_status=status)
    e = raises(tcfaceid.JSONError, tcfaceid.parse, 200, {}, b'{"Response":{"IdCard":"%s","Name":' % ID_NO.encode())
    check_error(e, tcfaceid.JSONError, retryable=True)  # truncated: retryable, and the body is not quoted
    with pytest.raises(TypeError):
        tcfaceid.parse(200, {}, "a str body")  # type: ignore[arg-type]


# -- cross-check with the official Python SDK ---------------------------------------------------

TEXT = (string.ascii_letters + string.digits + " !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~\t\n\r\b\f\x00\x01\x1f\x7f"
        + "张三阿卜杜拉·买买提é€ß\u2028\u2029\u00ad\ufeff\uffff" + "\U0001F600\U00010000\U0010FFFF")
# Object keys: anything but U+0000, which jansson (and so the core) cannot hold in a key.
KEY_TEXT = TEXT.replace("\x00", "")
KEY_CHARS = string.ascii_letters + string.digits + "!#$%&*+-./:;<=>?@[]^_{|}~"


def random_text(rng: random.Random, high: int, chars: str = TEXT) -> str:
    return "".join(rng.choice(chars) for _ in range(rng.randint(0, high)))


def random_value(rng: random.Random, depth: int) -> Any:
    kind = rng.randrange(8 if depth < 5 else 5)
    if kind == 0:
        return random_text(rng, 40)
    if kind == 1:
        return rng.randint(-2**63, 2**63 - 1)
    if kind == 2:
        return rng.choice([True, False, None])
    if kind == 3:
        return rng.choice([0.0, -1.5, 1e-7, 3.141592653589793, 1.7976931348623157e308, 87.13])
    if kind == 4:
        return ""
    if kind in (5, 6):
        return {random_text(rng, 12, KEY_TEXT): random_value(rng, depth + 1) for _ in range(rng.randint(0, 5))}
    return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 5))]


def random_timestamp(rng: random.Random) -> int:
    """Near a UTC midnight (or anywhere in the day) between 1970 and 2100."""
    day = rng.randint(0, 47482)
    return max(0, day * 86400 + rng.choice([-1, 0, 1, rng.randrange(86400)]))


def sdk_request(*, host: str, secret_id: str, secret_key: str, token: Optional[str], region: str, language: str,
                action: str, params: dict[str, Any], body: Optional[bytes], timestamp: int) -> Any:
    """The official SDK builds and signs a request at a frozen time without sending it. With ``body``,
    its JSON serializer is made to return exactly those bytes (so both sign the same bytes)."""
    from tencentcloud.common import credential as sdk_credential
    from tencentcloud.common.common_client import CommonClient
    from tencentcloud.common.http.request import RequestInternal
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile

    profile = ClientProfile(httpProfile=HttpProfile(endpoint=host, reqMethod="POST"), language=language)
    client = CommonClient("faceid", "2018-03-01", sdk_credential.Credential(secret_id, secret_key, token), region,
                          profile)
    req = RequestInternal(host, "POST", "/", header={})
    patches = [mock.patch("tencentcloud.common.abstract_client.time.time", return_value=float(timestamp))]
    if body is not None:
        fake_json = types.SimpleNamespace(dumps=lambda *a, **k: body)
        patches.append(mock.patch("tencentcloud.common.abstract_client.json", fake_json))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # datetime.utcfromtimestamp on newer Pythons
        for p in patches:
            p.start()
        try:
            client._build_req_inter(action, params, req, {})
        finally:
            for p in patches:
                p.stop()
    return req


def test_prepare_agrees_with_the_official_sdk_on_100_random_requests() -> None:
    seed = int(os.environ.get("TCF_BINDING_SEED", "20240229"))
    rng = random.Random(seed)
    modes: dict[str, int] = {}
    for case in range(100):
        secret_id = "AKID" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(32))
        secret_key = "".join(rng.choice(KEY_CHARS) for _ in range(rng.randint(1, 48)))
        token = rng.choice([None, "tok-" + "".join(rng.choice(KEY_CHARS) for _ in range(40))])
        region = rng.choice(["", "ap-guangzhou", "ap-shanghai"])
        language = rng.choice(["zh-CN", "en-US"])
        endpoint, host = rng.choice([("http://127.0.0.1:8455", "127.0.0.1:8455"),
                                     ("https://faceid.tencentcloudapi.com", "faceid.tencentcloudapi.com"),
                                     ("faceid.ap-shanghai.tencentcloudapi.com", "faceid.ap-shanghai.tencentcloudapi.com"),
                                     ("http://localhost:65535/", "localhost:65535")])
        timestamp = random_timestamp(rng)
        action = rng.choice(["DetectAuth", "GetDetectInfoEnhanced", "GetLiveCode", "X1"])
        params = {random_text(rng, 12, KEY_TEXT): random_value(rng, 1) for _ in range(rng.randint(0, 6))}
        mode = rng.choice(["sdk-serializes", "binding-serializes", "binding-serializes-str"])
        modes[mode] = modes.get(mode, 0) + 1
        where = f"case {case} ({mode}, seed {seed})"

        with tcfaceid.Client(secret_id, secret_key, token, endpoint=endpoint, region=region or None,
                             language=language, proxy="") as c:
            if mode == "sdk-serializes":  # the SDK's json.dumps text, given to prepare as bytes
                sdk = sdk_request(host=host, secret_id=secret_id, secret_key=secret_key, token=token, region=region,
                                  language=language, action=action, params=params, body=None, timestamp=timestamp)
                ours = c.prepare(action, sdk.data.encode("utf-8"), timestamp=timestamp)
                assert ours.body == sdk.data.encode("utf-8"), where
            else:  # the binding's serialization, signed by the SDK byte for byte
                ours = c.prepare(action, params if mode == "binding-serializes" else
                                 json.dumps(params, ensure_ascii=False), timestamp=timestamp)
                assert json.loads(ours.body) == params, where
                sdk = sdk_request(host=host, secret_id=secret_id, secret_key=secret_key, token=token, region=region,
                                  language=language, action=action, params=params, body=ours.body,
                                  timestamp=timestamp)
                assert sdk.data == ours.body
        assert header(ours.headers, "Authorization") == sdk.header["Authorization"], where
        for name in ("Host", "Content-Type", "X-TC-Action", "X-TC-Version", "X-TC-Timestamp"):
            assert header(ours.headers, name) == sdk.header[name], (where, name)
        assert header(ours.headers, "X-TC-Token") == sdk.header.get("X-TC-Token"), where
        assert header(ours.headers, "X-TC-Region") == (sdk.header.get("X-TC-Region") or None), where
        assert header(ours.headers, "X-TC-Language") == language, where
        assert ours.url == ("http://" if endpoint.startswith("http://") else "https://") + host + "/", where
    assert min(modes.values()) >= 20, modes


# ------------------------------------------------------------------------------------------------
# 4. close() and the context manager
# ------------------------------------------------------------------------------------------------

def test_close_and_context_manager(emulator: Emulator) -> None:
    c = new_client(emulator.endpoint)
    assert "LiveCode" in c.call("GetLiveCode")
    c.close()
    before = received(emulator)
    e = raises(tcfaceid.StateError, c.call, "GetLiveCode")
    check_error(e, tcfaceid.StateError, http_status=None, request_id=None, retryable=False)
    raises(tcfaceid.StateError, c.call, "DetectAuth", {"RuleId": "1", "IdCard": ID_NO, "Name": NAME})
    c.close()  # twice is fine
    c.close()
    assert received(emulator) == before
    repr(c)

    with new_client(emulator.endpoint) as c2:
        assert isinstance(c2, tcfaceid.Client)
        assert "LiveCode" in c2.call("GetLiveCode")
    raises(tcfaceid.StateError, c2.call, "GetLiveCode")
    c2.close()

    # closed also when the block raises
    with pytest.raises(KeyError):
        with new_client(emulator.endpoint) as c3:
            raise KeyError("x")
    raises(tcfaceid.StateError, c3.call, "GetLiveCode")

    # a client that is never closed is released by the garbage collector
    c4 = new_client(emulator.endpoint)
    c4.call("GetLiveCode")
    del c4
    gc.collect()


REENTRANT_SCRIPT = r"""
import json, logging, sys
import tcfaceid
from tcfaceid.emulator import Config, Emulator, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY

out = {}
with Emulator(Config(port=0, qps_enabled=False)) as emu:
    client = tcfaceid.Client(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, endpoint=emu.endpoint, proxy="")

    class Reenter(logging.Handler):
        # a call from inside the log line of a call, then close() from inside a call
        depth = 0
        def emit(self, record):
            if "action=GetLiveCode" in record.getMessage() and Reenter.depth == 0:
                Reenter.depth += 1
                out["nested"] = sorted(client.call("GetActionSequence"))
                Reenter.depth -= 1
            elif "action=GetActionSequence" in record.getMessage() and "close" in out.get("plan", ""):
                client.close()
                out["closed_inside"] = True

    log = logging.getLogger("tcfaceid")
    log.addHandler(Reenter())
    log.setLevel(logging.INFO)
    out["first"] = sorted(client.call("GetLiveCode"))
    out["plan"] = "close"
    out["last"] = sorted(client.call("GetActionSequence"))  # completes although it closed the client
    try:
        client.call("GetLiveCode")
    except tcfaceid.StateError:
        out["after"] = "StateError"
    client.close()
    out["received"] = emu.stats()["received"]
print(json.dumps(out))
"""


def test_reentrant_call_and_close_from_the_log_callback() -> None:
    """The log callback runs inside a call: it may call the client again, and close() from there
    must neither deadlock nor free the client under the running call (run in a subprocess, with a
    time limit, so that a deadlock or a crash fails this test only)."""
    out = run_python("-X", "faulthandler", code=REENTRANT_SCRIPT, timeout=60)
    assert out.returncode == 0, f"exit {out.returncode}\n{out.stdout}\n{out.stderr[-6000:]}"
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["first"] == ["LiveCode"] and result["nested"] == ["ActionSequence"], result
    assert result["closed_inside"] is True and result["last"] == ["ActionSequence"], result
    assert result["after"] == "StateError", result
    assert result["received"] == {"GetLiveCode": 1, "GetActionSequence": 2}, result


class CannedServer:
    """A one-response-per-connection HTTP server on 127.0.0.1 that answers every request with
    ``body`` (for answers the emulator never gives)."""

    def __init__(self, body: bytes, status: str = "200 OK") -> None:
        self.body, self.status = body, status
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.1)
        self.stop = threading.Event()
        self.endpoint = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                data = b""
                try:
                    while b"\r\n\r\n" not in data:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                    head, _, rest = data.partition(b"\r\n\r\n")
                    length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
                    while len(rest) < length:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        rest += chunk
                    conn.sendall(b"HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                                 b"Connection: close\r\n\r\n%s" % (self.status.encode(), len(self.body), self.body))
                except (OSError, AttributeError, ValueError):
                    pass

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


def test_success_without_request_id(caplog: pytest.LogCaptureFixture) -> None:
    """A success envelope without RequestId (a gateway, a test double): the result, no
    last_request_id, and a log line that does not print a NULL pointer ("(null)")."""
    server = CannedServer(b'{"Response":{"LiveCode":"1234"}}')
    caplog.set_level(logging.INFO, logger="tcfaceid")
    try:
        with new_client(server.endpoint) as c:
            assert c.call("GetLiveCode") == {"LiveCode": "1234"}
            assert c.last_request_id is None
    finally:
        server.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "tcfaceid"]
    assert len(lines) == 1 and "action=GetLiveCode" in lines[0], lines
    assert "(null)" not in lines[0], lines[0]


# ------------------------------------------------------------------------------------------------
# 5. logging
# ------------------------------------------------------------------------------------------------

class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_logging_one_line_per_call_and_nothing_secret(emulator: Emulator) -> None:
    logger = logging.getLogger("tcfaceid")
    capture = Capture()
    old_level = logger.level
    logger.addHandler(capture)
    logger.setLevel(logging.DEBUG)
    calls: list[tuple[str, Optional[str]]] = []  # (action, RequestId) of every call that was sent
    exception_texts: list[str] = []
    biz_tokens: list[str] = []
    prepared_for: list[tuple[Any, str, Any]] = []  # (client, action, params) to recompute signatures
    t_start = int(time.time())

    good = new_client(emulator.endpoint, TMP_ID, TMP_KEY, TOKEN)
    wrong = new_client(emulator.endpoint, TMP_ID, WRONG_KEY, TOKEN)
    slow = new_client(emulator.endpoint, TMP_ID, TMP_KEY, TOKEN, timeout=0.3)
    refused = new_client("http://127.0.0.1:1", TMP_ID, TMP_KEY, TOKEN)
    ident = {"IdCard": ID_NO, "Name": NAME}

    def do(client: Any, action: str, params: Any = None, *, fault: Optional[dict[str, Any]] = None,
           error: Optional[type] = None) -> Any:
        if fault:
            emulator.fault(**fault)
        prepared_for.append((client, action, params))
        try:
            result = client.call(action, params)
        except tcfaceid.Error as e:
            assert error is not None and isinstance(e, error), repr(e)
            exception_texts.extend(error_texts(e))
            exception_texts.append("".join(traceback.format_exception(e)))
            calls.append((action, e.request_id))
            return None
        assert error is None, f"{action} did not raise {error}"
        calls.append((action, client.last_request_id))
        return result

    try:
        for _ in range(3):
            token = do(good, "DetectAuth", {"RuleId": "1", **ident})["BizToken"]
            biz_tokens.append(token)
            do(good, "GetDetectInfoEnhanced", {"BizToken": token, "RuleId": "1", "InfoType": "1"})
            emulator.complete(token, "pass")
            do(good, "GetDetectInfoEnhanced", {"BizToken": token, "RuleId": "1", "InfoType": "1"})
            do(good, "PhoneVerification", {**ident, "Phone": PHONE})
            do(good, "CheckPhoneAndName", {"Mobile": PHONE, "Name": NAME})
            do(good, "MobileStatus", {"Mobile": PHONE})
            do(good, "DetectAuth", {"RuleId": "1", **ident, "RedirectUrl": "ftp://x/" + ID_NO},
               error=tcfaceid.InvalidParameterError)
            do(good, "GetDetectInfoEnhanced", {"BizToken": token + "0", "RuleId": "1"}, error=tcfaceid.InvalidParameterError)
            do(wrong, "DetectAuth", {"RuleId": "1", **ident}, error=tcfaceid.AuthError)
            do(good, "PhoneVerification", {**ident, "Phone": PHONE}, fault={"kind": "throttle"},
               error=tcfaceid.ThrottledError)
            do(good, "DetectAuth", {"RuleId": "1", **ident}, fault={"kind": "internal_error"},
               error=tcfaceid.ServiceError)
            do(good, "DetectAuth", {"RuleId": "1", **ident}, fault={"kind": "http_5xx", "status": 502},
               error=tcfaceid.HTTPError)
            do(good, "MobileStatus", {"Mobile": PHONE}, fault={"kind": "not_json"}, error=tcfaceid.JSONError)
            do(slow, "DetectAuth", {"RuleId": "1", **ident}, fault={"kind": "latency", "seconds": 0.6},
               error=tcfaceid.TimeoutError)
            do(refused, "DetectAuth", {"RuleId": "1", **ident}, error=tcfaceid.TransportError)
        # failures before sending: no request, and still nothing secret
        for params in (b'{"IdCard":"%s","IdCard":"%s"}' % (ID_NO.encode(), ID_NO.encode()), b"[1]"):
            try:
                good.call("DetectAuth", params)
            except tcfaceid.JSONError as e:
                exception_texts.extend(error_texts(e))
            else:
                raise AssertionError("JSONError expected")
    finally:
        logger.removeHandler(capture)
        logger.setLevel(old_level)
    t_end = int(time.time())
    # the signatures of every request of the run, whatever second it was signed in
    signatures = set()
    for client, action, params in prepared_for:
        for ts in range(t_start - 1, t_end + 2):
            auth = client.prepare(action, params, timestamp=ts).headers["Authorization"]
            signatures.add(auth.rsplit("Signature=", 1)[1])
    for c in (good, wrong, slow, refused):
        c.close()

    lines = [capture.format(r) for r in capture.records]
    call_lines = [r.getMessage() for r in capture.records if "action=" in r.getMessage()]
    assert len(call_lines) == len(calls), f"{len(call_lines)} lines for {len(calls)} calls:\n" + "\n".join(lines)
    for action, request_id in calls:
        if request_id is None:
            continue
        matching = [m for m in call_lines if request_id in m]
        assert len(matching) == 1, (action, request_id, matching)
        assert f"action={action} " in matching[0], matching[0]
    with_id = sum(1 for _, rid in calls if rid)
    assert with_id == 3 * 11, calls
    assert all(r.levelno >= logging.INFO for r in capture.records if "action=" in r.getMessage())

    assert len(signatures) >= 3 * len(set((a, json.dumps(p, sort_keys=True)) for _, a, p in prepared_for))
    forbidden = (*SECRETS, *biz_tokens, *signatures)
    for text in lines + exception_texts:
        for secret in forbidden:
            assert secret not in text, f"{secret!r} in {text!r}"
        assert "Signature=" not in text and "TC3-HMAC-SHA256" not in text, text
        assert not re.search(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])", text), text


# ------------------------------------------------------------------------------------------------
# 6. imports
# ------------------------------------------------------------------------------------------------

def run_python(*args: str, code: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("PYTHONWARNINGS", None)
    return subprocess.run([sys.executable, *args, "-c", code], capture_output=True, text=True, timeout=timeout,
                          cwd=str(ROOT), env=env)


def test_import_is_clean_under_dev_mode_and_warnings_as_errors() -> None:
    code = ("import tcfaceid; tcfaceid.Client; import tcfaceid._core\n"
            "c = tcfaceid.Client('AKIDx', 'key', endpoint='http://127.0.0.1:1', proxy='')\n"
            "c.prepare('GetLiveCode', {'a': 1}, timestamp=1700000000); c.close(); del c\n"
            "tcfaceid.sign(secret_id='AKIDx', secret_key='k', service='faceid', host='h', method='POST',"
            " content_type='application/json', timestamp=0, body=b'{}')\n")
    out = run_python("-X", "dev", "-W", "error", code=code)
    assert out.returncode == 0, out.stderr
    assert out.stderr == "", out.stderr
    assert out.stdout == ""


def test_emulator_imports_without_the_extension() -> None:
    code = r"""
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "tcfaceid._core":
            raise ImportError("tcfaceid._core is hidden by this test")
        return None
sys.meta_path.insert(0, Block())
import tcfaceid.emulator
from tcfaceid.emulator import Config, Emulator
import http.client, json
with Emulator(Config(port=0)) as emu:
    conn = http.client.HTTPConnection("127.0.0.1", int(emu.endpoint.rsplit(":", 1)[1]), timeout=10)
    conn.request("GET", "/_emulator/health")
    assert json.loads(conn.getresponse().read())["ok"] is True
    conn.close()
assert "tcfaceid._core" not in sys.modules
assert "tcfaceid.client" not in sys.modules
import tcfaceid
assert tcfaceid.__version__
try:
    tcfaceid.Client
except ImportError:
    pass
else:
    raise SystemExit("the blocker did not hide tcfaceid._core")
print("ok")
"""
    out = run_python("-X", "dev", "-W", "error", code=code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok" and out.stderr == "", (out.stdout, out.stderr)
