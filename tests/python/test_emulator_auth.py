"""The emulator's signature checks against every official vector, byte for byte,
and the AuthFailure answers of the API gateway."""

from __future__ import annotations

import base64
import http.client
import json
import urllib.parse
from pathlib import Path

import pytest
from emuclient import Api, sign_headers

from tcfaceid.emulator import Config, Credential, Emulator
from tcfaceid.emulator.auth import TC3, verify_tc3, verify_v1
from tcfaceid.emulator.errors import ApiError

VECTORS_PATH = Path(__file__).resolve().parents[3] / "shared" / "vectors" / "tc3.json"


def load_vectors() -> list[dict]:
    if not VECTORS_PATH.exists():
        pytest.fail(f"signature vectors not found at {VECTORS_PATH} (the project expects ../shared/vectors)")
    return json.loads(VECTORS_PATH.read_text(encoding="utf-8"))["vectors"]


VECTORS = load_vectors()
TC3_VECTORS = [v for v in VECTORS if v["algorithm"] == TC3]
V1_VECTORS = [v for v in VECTORS if v["algorithm"] != TC3]


def body_of(v: dict) -> bytes:
    return v["body_utf8"].encode("utf-8") if "body_utf8" in v else base64.b64decode(v["body_base64"])


def tc3_headers(v: dict) -> dict[str, str]:
    headers = {
        "authorization": v["expected"]["authorization"],
        "x-tc-timestamp": str(v["timestamp"]),
        "content-type": v["content_type"],
        "host": v["host"],
        "x-tc-action": v["action"],
    }
    if v["unsigned_payload"]:
        headers["x-tc-content-sha256"] = "UNSIGNED-PAYLOAD"
    if v.get("token"):
        headers["x-tc-token"] = v["token"]
    return headers


def verify_vector(v: dict, *, headers=None, body=None, now=None, key=None) -> Credential:
    creds = {v["secret_id"]: Credential(v["secret_id"], key or v["secret_key"], v.get("token"))}
    return verify_tc3(
        method=v["method"], path="/", query=v["canonical_query"], headers=headers or tc3_headers(v),
        body=body_of(v) if body is None else body, credentials=creds,
        now=v["timestamp"] if now is None else now, service=v["service"],
    )


def flip(data: bytes, i: int) -> bytes:
    b = bytearray(data)
    b[i] ^= 0x01
    return bytes(b)


@pytest.mark.parametrize("v", TC3_VECTORS, ids=[v["id"] for v in TC3_VECTORS])
def test_tc3_vector_accepted(v: dict) -> None:
    assert verify_vector(v).secret_id == v["secret_id"]


@pytest.mark.parametrize("v", TC3_VECTORS, ids=[v["id"] for v in TC3_VECTORS])
def test_tc3_vector_any_changed_byte_is_rejected(v: dict) -> None:
    body = body_of(v)
    # UNSIGNED-PAYLOAD does not cover the body (test_unsigned_payload_vector_ignores_body).
    positions = sorted({0, len(body) // 2, len(body) - 1}) if body and not v["unsigned_payload"] else []
    for i in positions:
        with pytest.raises(ApiError) as e:
            verify_vector(v, body=flip(body, i))
        assert e.value.code == "AuthFailure.SignatureFailure"
    for name in ("content-type", "host") + (("x-tc-action",) if "x-tc-action" in v["signed_headers"] else ()):
        headers = tc3_headers(v)
        value = headers[name]
        headers[name] = value[:-1] + chr(ord(value[-1]) ^ 1)
        with pytest.raises(ApiError) as e:
            verify_vector(v, headers=headers)
        assert e.value.code == "AuthFailure.SignatureFailure", name
    for delta in (1, -1):
        headers = tc3_headers(v)
        headers["x-tc-timestamp"] = str(v["timestamp"] + delta)
        with pytest.raises(ApiError) as e:
            verify_vector(v, headers=headers, now=v["timestamp"] + delta)
        assert e.value.code == "AuthFailure.SignatureFailure"
    key = v["secret_key"]
    for i in (0, len(key) - 1):
        with pytest.raises(ApiError) as e:
            verify_vector(v, key=key[:i] + chr(ord(key[i]) ^ 1) + key[i + 1:])
        assert e.value.code == "AuthFailure.SignatureFailure"
    headers = tc3_headers(v)
    sig = headers["authorization"][-64:]
    headers["authorization"] = headers["authorization"][:-64] + sig[:-1] + ("0" if sig[-1] != "0" else "1")
    with pytest.raises(ApiError) as e:
        verify_vector(v, headers=headers)
    assert e.value.code == "AuthFailure.SignatureFailure"


def test_unsigned_payload_vector_ignores_body() -> None:
    v = next(v for v in TC3_VECTORS if v["unsigned_payload"])
    verify_vector(v, body=b'{"RuleId":"other"}')
    headers = tc3_headers(v)
    del headers["x-tc-content-sha256"]
    with pytest.raises(ApiError):
        verify_vector(v, headers=headers)


def test_unsigned_headers_do_not_matter() -> None:
    v = next(v for v in TC3_VECTORS if v["id"] == "V01")
    headers = tc3_headers(v)
    headers["x-tc-action"] = "Anything"
    headers["x-tc-region"] = "ap-beijing"
    verify_vector(v, headers=headers)


@pytest.mark.parametrize("v", V1_VECTORS, ids=[v["id"] for v in V1_VECTORS])
def test_v1_vector(v: dict) -> None:
    creds = {v["secret_id"]: Credential(v["secret_id"], v["secret_key"])}
    params = dict(v["params_raw"], Signature=v["expected"]["signature"])
    now = int(params["Timestamp"])
    assert verify_v1(method=v["method"], host=v["host"], path="/", params=params, credentials=creds, now=now)
    for name in ("Name", "Nonce", "Action"):
        bad = dict(params, **{name: params[name] + "x"})
        with pytest.raises(ApiError) as e:
            verify_v1(method=v["method"], host=v["host"], path="/", params=bad, credentials=creds, now=now)
        assert e.value.code == "AuthFailure.SignatureFailure"
    with pytest.raises(ApiError) as e:
        verify_v1(method=v["method"], host=v["host"], path="/", params=params, now=now,
                  credentials={v["secret_id"]: Credential(v["secret_id"], v["secret_key"][:-1] + "x")})
    assert e.value.code == "AuthFailure.SignatureFailure"


# -- over HTTP ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def emu():
    cfg = Config(port=0)
    cfg.credentials.append(Credential("AKIDtemporary000000000000000000000001", "temporary-secret-key-0000000001", token="sts-token-1"))
    with Emulator(cfg) as e:
        yield e


def send_raw(emu: Emulator, method: str, target: str, body: bytes, headers: dict[str, str]):
    u = urllib.parse.urlsplit(emu.endpoint)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
    for k, val in headers.items():
        conn.putheader(k, val.encode("utf-8"))
    conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, resp.getheader("Content-Type"), json.loads(data)["Response"]


FACEID_TC3 = [v for v in TC3_VECTORS if v["service"] == "faceid"]


@pytest.mark.parametrize("v", FACEID_TC3, ids=[v["id"] for v in FACEID_TC3])
def test_vector_over_http_passes_authentication(emu: Emulator, v: dict) -> None:
    if v.get("token"):
        # Temporary credentials: the emulator must know the key with its token.
        with Emulator(Config(port=0, credentials=[Credential(v["secret_id"], v["secret_key"], v["token"])])) as tmp:
            check_vector_over_http(tmp, v)
    else:
        check_vector_over_http(emu, v)


def check_vector_over_http(emu: Emulator, v: dict) -> None:
    emu.set_time(v["timestamp"])
    headers = {k: val for k, val in v["request_headers_sent"].items() if k.lower() != "content-length"}
    status, ctype, resp = send_raw(emu, "POST", "/", body_of(v), headers)
    assert status == 200 and ctype == "application/json"
    code = resp.get("Error", {}).get("Code", "")
    assert not code.startswith("AuthFailure"), resp
    assert resp["RequestId"]
    # The same request one byte different is refused.
    body = body_of(v)
    status, _, resp = send_raw(emu, "POST", "/", body[:-1] + b" ", headers)
    code = resp.get("Error", {}).get("Code", "")
    if v["unsigned_payload"]:
        assert not code.startswith("AuthFailure"), resp
    else:
        assert code == "AuthFailure.SignatureFailure", resp


@pytest.mark.parametrize("v", V1_VECTORS, ids=[v["id"] for v in V1_VECTORS])
def test_v1_vector_over_http(emu: Emulator, v: dict) -> None:
    emu.set_time(int(v["params_raw"]["Timestamp"]))
    if v["method"] == "POST":
        status, _, resp = send_raw(emu, "POST", "/", v["body_sent"].encode(),
                                   {"Host": v["host"], "Content-Type": "application/x-www-form-urlencoded"})
    else:
        target = "/" + v["url_sent"].split("/", 3)[3]
        status, _, resp = send_raw(emu, "GET", target, b"", {"Host": v["host"]})
    assert status == 200
    code = resp.get("Error", {}).get("Code", "")
    assert not code.startswith("AuthFailure"), resp


@pytest.fixture
def api(emu: Emulator):
    made: list[Api] = []

    def make(emu: Emulator, **kw) -> Api:
        made.append(Api(emu.endpoint, clock=emu.now, **kw))
        return made[-1]

    yield make
    for a in made:
        a.close()


def error_code(resp: dict) -> str:
    return resp.get("Error", {}).get("Code", "")


def test_auth_failures(emu: Emulator, api) -> None:
    a = api(emu)
    ok = {"RuleId": "1", "IdCard": "110101199003071233", "Name": "张三"}
    assert "BizToken" in a.call("DetectAuth", ok)
    assert error_code(a.call("DetectAuth", ok, secret_id="AKIDunknown")) == "AuthFailure.SecretIdNotFound"
    assert error_code(a.call("DetectAuth", ok, secret_key="wrong")) == "AuthFailure.SignatureFailure"
    now = emu.now()
    assert "BizToken" in a.call("DetectAuth", ok, timestamp=now - 299)
    assert "BizToken" in a.call("DetectAuth", ok, timestamp=now + 299)
    assert error_code(a.call("DetectAuth", ok, timestamp=now - 302)) == "AuthFailure.SignatureExpire"
    assert error_code(a.call("DetectAuth", ok, timestamp=now + 302)) == "AuthFailure.SignatureExpire"
    assert error_code(a.call("DetectAuth", ok, service="cvm")) == "AuthFailure.SignatureFailure"
    assert error_code(a.call("DetectAuth", ok, version="2017-01-01")) == "NoSuchVersion"
    assert error_code(a.call("NoSuchThing", {})) == "InvalidAction"
    assert error_code(a.call("ApplyWebVerificationToken", {})) == "InvalidAction"
    assert error_code(a.call("Liveness", {})) == "ActionOffline"


def test_temporary_credentials(emu: Emulator, api) -> None:
    tmp = api(emu, secret_id="AKIDtemporary000000000000000000000001", secret_key="temporary-secret-key-0000000001")
    assert error_code(tmp.call("GetLiveCode", {})) == "AuthFailure.TokenFailure"
    assert error_code(tmp.call("GetLiveCode", {}, token="sts-token-2")) == "AuthFailure.TokenFailure"
    assert "LiveCode" in tmp.call("GetLiveCode", {}, token="sts-token-1")
    # A long-term key with a token it does not have.
    assert error_code(api(emu).call("GetLiveCode", {}, token="sts-token-1")) == "AuthFailure.TokenFailure"


def test_malformed_authorization_and_headers(emu: Emulator, api) -> None:
    a = api(emu)
    body = b"{}"
    headers = sign_headers(a.host, "GetLiveCode", body, timestamp=emu.now())
    for bad in ("Bearer x", "TC3-HMAC-SHA256", "TC3-HMAC-SHA256 Credential=a/b/c, Signature=x",
                "TC3-HMAC-SHA256 Credential=AKID/2024-01-01/faceid/tc3_request, SignedHeaders=host;content-type, Signature=ab"):
        h = dict(headers, Authorization=bad)
        status, _, data = a.raw("POST", "/", body, h)
        code = json.loads(data)["Response"]["Error"]["Code"]
        assert code in ("AuthFailure.InvalidAuthorization", "AuthFailure.SecretIdNotFound", "AuthFailure.SignatureFailure"), bad
    h = {k: val for k, val in headers.items() if k != "X-TC-Timestamp"}
    _, _, data = a.raw("POST", "/", body, h)
    assert json.loads(data)["Response"]["Error"]["Code"] == "MissingParameter"
    h = {k: val for k, val in headers.items() if k != "Authorization"}
    _, _, data = a.raw("POST", "/", body, h)
    assert json.loads(data)["Response"]["Error"]["Code"] == "AuthFailure.InvalidAuthorization"


def test_tc3_get_with_query(emu: Emulator, api) -> None:
    a = api(emu)
    query = "IdCard=110101199003071233&Name=" + urllib.parse.quote("张三")
    headers = sign_headers(a.host, "IdCardVerification", b"", timestamp=emu.now(), method="GET", query=query,
                           content_type="application/x-www-form-urlencoded")
    status, _, data = a.raw("GET", "/?" + query, b"", headers)
    resp = json.loads(data)["Response"]
    assert resp["Result"] == "0", resp
    # The signed query is the one received: reordering it breaks the signature.
    reordered = "Name=" + urllib.parse.quote("张三") + "&IdCard=110101199003071233"
    _, _, data = a.raw("GET", "/?" + reordered, b"", headers)
    assert json.loads(data)["Response"]["Error"]["Code"] == "AuthFailure.SignatureFailure"


def test_request_body_checks(emu: Emulator, api) -> None:
    a = api(emu)

    def code_for(body: bytes, content_type: str = "application/json") -> str:
        h = sign_headers(a.host, "DetectAuth", body, timestamp=emu.now(), content_type=content_type)
        status, headers, data = a.raw("POST", "/", body, h)
        assert status == 200 and headers["Content-Type"] == "application/json"
        return json.loads(data)["Response"].get("Error", {}).get("Code", "")

    assert code_for(b"{not json") == "InvalidParameter"
    assert code_for(b"[1,2]") == "InvalidParameter"
    assert code_for(b'{"RuleId": NaN}') == "InvalidParameter"
    assert code_for(b'{"RuleId": "\xff\xfe"}') == "InvalidParameter"
    assert code_for(b"[" * 50000) == "InvalidParameter"
    assert code_for(b'{"RuleId": 1}') == "InvalidParameter"
    assert code_for(b'{"RuleId": "1", "Bogus": 1}') == "UnknownParameter"
    assert code_for(b'{"IdCard": "1"}') == "MissingParameter"
    assert code_for(b'{"RuleId": "1", "Config": {"IntentionType": "x"}}') == "InvalidParameter"
    assert code_for(b'{"RuleId": "1"}', "multipart/form-data; boundary=x") == "InvalidParameter"
    big = b'{"RuleId": "1", "Extra": "' + b"a" * (10 * 1024 * 1024) + b'"}'
    assert code_for(big) == "RequestSizeLimitExceeded"
