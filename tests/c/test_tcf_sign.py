"""The tcf-sign tool (csrc/tools/tcf-sign.c): every shared vector piped in as it is, bad input,
and a cross-check against the official Python SDK (tencentcloud-sdk-python-common) on random
requests: the SDK builds and signs each request itself (network stubbed out, clock frozen) and
tcf-sign, given what the SDK put on the wire, must produce the same Authorization."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import random
import string
import subprocess
import warnings
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import parse_qsl

import pytest
from tencentcloud.common import credential as sdk_credential
from tencentcloud.common.abstract_client import AbstractClient
from tencentcloud.common.common_client import CommonClient
from tencentcloud.common.http.request import RequestInternal
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.common.sign import Sign

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT.parent / "shared" / "vectors" / "tc3.json"
BUILD = "build/release"
TOOL = ROOT / BUILD / "tcf-sign"
SEED = int(os.environ.get("TCF_SIGN_SEED", "20231114"))
EXAMPLE_ID = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"
EXAMPLE_KEY = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"


@pytest.fixture(scope="module")
def tool() -> Path:
    out = subprocess.run(["make", "-s", "lib", f"BUILD={BUILD}"], cwd=ROOT, capture_output=True, text=True,
                         timeout=600)
    if out.returncode != 0:
        pytest.fail(f"make lib failed:\n{out.stdout}\n{out.stderr}")
    assert TOOL.exists()
    return TOOL


def run(tool: Path, stdin: bytes | str, *args: str) -> tuple[int, Any, str]:
    data = stdin.encode("utf-8") if isinstance(stdin, str) else stdin
    out = subprocess.run([str(tool), *args], input=data, capture_output=True, timeout=60)
    text = out.stdout.decode("utf-8")
    try:
        doc = json.loads(text)
    except ValueError:
        doc = None
    return out.returncode, doc, text


def sign(tool: Path, request: dict[str, Any]) -> dict[str, str]:
    code, doc, text = run(tool, json.dumps(request))
    assert code == 0, f"tcf-sign failed ({code}): {text}\ninput: {request}"
    return doc


def load_vectors() -> list[dict[str, Any]]:
    if not VECTORS.exists():
        pytest.fail(f"signature vectors not found at {VECTORS}")
    return json.loads(VECTORS.read_text(encoding="utf-8"))["vectors"]


# ------------------------------------------------------------------------------------------------
# the shared vectors
# ------------------------------------------------------------------------------------------------

def test_every_vector_piped_in_as_is(tool: Path) -> None:
    vectors = load_vectors()
    assert len(vectors) == 27
    for vector in vectors:
        code, doc, text = run(tool, json.dumps(vector, ensure_ascii=False))
        assert code == 0, f"{vector['id']}: {text}"
        assert doc == vector["expected"], vector["id"]
        assert list(doc) == [k for k in ("hashed_payload", "canonical_request", "string_to_sign", "signature",
                                         "authorization") if k in vector["expected"]], vector["id"]


def test_options_compact_field_and_help(tool: Path) -> None:
    vector = next(v for v in load_vectors() if v["id"] == "DOC-B")
    code, doc, text = run(tool, json.dumps(vector), "--compact")
    assert code == 0 and doc == vector["expected"] and text.count("\n") == 1
    code, _, text = run(tool, json.dumps(vector), "--field", "canonical_request")
    assert code == 0 and text == vector["expected"]["canonical_request"] + "\n"
    code, doc, _ = run(tool, json.dumps(next(v for v in load_vectors() if v["id"] == "V16")), "--field",
                       "authorization")
    assert code == 1 and doc["error"]["code"] == "TCF_EINVAL"
    for flag in ("--help", "-h"):
        code, _, text = run(tool, b"", flag)
        assert code == 0 and text.startswith("usage: tcf-sign") and "Exit status" in text
    out = subprocess.run([str(tool), "--bogus"], input=b"{}", capture_output=True, timeout=60)
    assert out.returncode == 2 and b"usage" in out.stderr


# ------------------------------------------------------------------------------------------------
# bad input
# ------------------------------------------------------------------------------------------------

def base_request(**changes: Any) -> dict[str, Any]:
    request = {"secret_id": EXAMPLE_ID, "secret_key": EXAMPLE_KEY, "service": "faceid",
               "host": "faceid.tencentcloudapi.com", "method": "POST", "content_type": "application/json",
               "timestamp": 1700000000, "body_utf8": "{}"}
    request.update(changes)
    return {k: v for k, v in request.items() if v is not ...}


@pytest.mark.parametrize("stdin", [b"", b"   ", b"{", b"{\"a\": 1", b"[1, 2]", b"\"text\"", b"null",
                                   b"{\"a\": 1} {\"b\": 2}", b"{\"a\": 1, \"a\": 2}", b"\xff\xfe{}"])
def test_unreadable_or_invalid_json_exits_2(tool: Path, stdin: bytes) -> None:
    code, doc, text = run(tool, stdin)
    assert code == 2, text
    assert doc["error"]["code"] == "TCF_EJSON" and doc["error"]["message"]


@pytest.mark.parametrize("changes, message", [
    ({"secret_id": ...}, "secret_id is missing"),
    ({"secret_key": ""}, "secret_key is missing"),
    ({"secret_key": "SECRETVALUE with space"}, "secret_key contains white space"),
    ({"secret_id": "AKID\tSECRETVALUE"}, "secret_id contains white space"),
    ({"service": ...}, "service is missing"),
    ({"host": ...}, "host is missing"),
    ({"method": "PUT"}, "method must be"),
    ({"content_type": ...}, "content_type is missing"),
    ({"content_type": "application/json\r\nX-Evil: 1"}, "CR or LF"),
    ({"algorithm": "HMAC-SHA1"}, "unknown algorithm"),
    ({"timestamp": ...}, "\"timestamp\" is missing"),
    ({"timestamp": -1}, "timestamp -1 is out of range"),
    ({"timestamp": 253402300800}, "out of range"),
    ({"timestamp": "1700000000"}, "\"timestamp\" must be an integer"),
    ({"timestamp": 1.5}, "\"timestamp\" must be an integer"),
    ({"host": 7}, "\"host\" must be a string"),
    ({"host": "faceid\u0000.tencentcloudapi.com"}, "\"host\" contains a NUL"),
    ({"unsigned_payload": "yes"}, "\"unsigned_payload\" must be true or false"),
    ({"body_base64": "AAAA"}, "not both"),
    ({"body_utf8": ..., "body_base64": "Zg="}, "not valid base64"),
    ({"body_utf8": 1}, "\"body_utf8\" must be a string"),
    ({"signed_headers": "content-type;x-tc-action", "action": "DetectAuth"}, "must include content-type and host"),
    ({"signed_headers": "content-type;host;x-custom"}, "\"x-custom\" has no value"),
    ({"signed_headers": "content-type;;host"}, "empty name"),
    ({"signed_headers": "content-type;host;x-tc-action;X-TC-Action", "action": "A"}, "signed twice"),
    ({"signed_headers": "content-type;host;x bad", "headers": {"x bad": "1"}}, "not allowed in a header name"),
    ({"algorithm": "HmacSHA1"}, "params is missing"),
    ({"algorithm": "HmacSHA1", "params_raw": {"Action": ["x"]}}, "must be a string"),
    ({"algorithm": "HmacSHA256", "params_raw": {"Action": "DetectAuth"}}, "SignatureMethod=HmacSHA256"),
])
def test_bad_input_gives_an_error_object(tool: Path, changes: dict[str, Any], message: str) -> None:
    code, doc, text = run(tool, json.dumps(base_request(**changes)))
    assert code == 1, text
    assert set(doc) == {"error"} and set(doc["error"]) == {"code", "message"}
    assert doc["error"]["code"] == "TCF_EINVAL"
    assert message in doc["error"]["message"], doc["error"]["message"]
    assert "SECRETVALUE" not in text and EXAMPLE_KEY not in text


def test_extra_signed_headers_from_headers_object_and_mapped_keys(tool: Path) -> None:
    request = base_request(signed_headers="content-type;host;x-tc-action;x-tc-region;x-tc-timestamp;x-custom",
                           action="DetectAuth", region="ap-guangzhou", headers={"X-Custom": " Value "})
    doc = sign(tool, request)
    assert ("\nx-custom:value\nx-tc-action:detectauth\nx-tc-region:ap-guangzhou\nx-tc-timestamp:1700000000\n\n"
            "content-type;host;x-custom;x-tc-action;x-tc-region;x-tc-timestamp\n") in doc["canonical_request"]
    assert "SignedHeaders=content-type;host;x-custom;x-tc-action;x-tc-region;x-tc-timestamp," in doc["authorization"]


def test_bodies_with_nul_bytes_and_invalid_utf8(tool: Path) -> None:
    body = b"\x00\xff\xfe{\"a\":\x00\x80\xc3(}\x00"
    doc = sign(tool, base_request(body_utf8=..., body_base64=base64.b64encode(body).decode(),
                                  content_type="application/octet-stream"))
    assert doc["hashed_payload"] == hashlib.sha256(body).hexdigest()
    # a NUL inside body_utf8 ("\u0000") is part of the body
    doc = sign(tool, base_request(body_utf8="a\u0000b"))
    assert doc["hashed_payload"] == hashlib.sha256(b"a\x00b").hexdigest()
    # no body at all: the empty body
    doc = sign(tool, base_request(body_utf8=...))
    assert doc["hashed_payload"] == hashlib.sha256(b"").hexdigest()


# ------------------------------------------------------------------------------------------------
# cross-check with the official Python SDK
# ------------------------------------------------------------------------------------------------

KEY_CHARS = string.ascii_letters + string.digits + "!#$%&*+-./:;<=>?@[]^_{|}~" + "éß密钥"
TEXT_CHARS = string.ascii_letters + string.digits + " !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~\t\n" + \
    "阿卜杜拉·买买提é€\u2028\u00ad\u007f" + "\U0001F600"


def random_text(rng: random.Random, low: int, high: int, chars: str = TEXT_CHARS) -> str:
    return "".join(rng.choice(chars) for _ in range(rng.randint(low, high)))


def random_body(rng: random.Random) -> bytes:
    kind = rng.randrange(4)
    if kind == 0:  # arbitrary bytes: NUL, invalid UTF-8
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, 600)))
    if kind == 1:  # text with non-ASCII, NUL and the JSON-unfriendly characters
        return (random_text(rng, 0, 200) + "\x00" + random_text(rng, 0, 50)).encode("utf-8")
    if kind == 2:  # mostly zeros
        return b"\x00" * rng.randint(1, 300) + b"tail"
    return rng.randbytes(rng.randint(1000, 20000))


def random_timestamp(rng: random.Random) -> int:
    """Close to a UTC midnight between 1970 and 2100 (or anywhere in that day)."""
    day = rng.randint(0, 47482)
    offset = rng.choice([-2, -1, 0, 1, 2, rng.randrange(86400)])
    return max(0, day * 86400 + offset)


def random_params(rng: random.Random) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for _ in range(rng.randint(1, 6)):
        name = rng.choice(string.ascii_uppercase) + "".join(
            rng.choice(string.ascii_letters + string.digits + ".") for _ in range(rng.randint(0, 12)))
        params[name] = rng.choice([random_text(rng, 0, 30), rng.randint(-10**6, 10**9)])
    return params


def sdk_client(service: str, host: str, method: str, key: str, secret_id: str, *, unsigned: bool = False,
               sign_method: str = "TC3-HMAC-SHA256") -> CommonClient:
    http = HttpProfile(endpoint=host, reqMethod=method)
    profile = ClientProfile(httpProfile=http, signMethod=sign_method)
    profile.unsignedPayload = unsigned
    return CommonClient(service, "2018-03-01", sdk_credential.Credential(secret_id, key), "ap-guangzhou", profile)


def sdk_build(client: CommonClient, method: str, action: str, params: Any, data: bytes | None, options: dict,
              timestamp: int) -> RequestInternal:
    """Lets the SDK build and sign a request at a frozen time, without sending it."""
    req = RequestInternal(client._get_endpoint(), method, client._requestPath, header={})
    if data is not None:
        req.data = data
    with mock.patch("tencentcloud.common.abstract_client.time.time", return_value=float(timestamp)), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # datetime.utcfromtimestamp on newer Pythons
        client._build_req_inter(action, params, req, options)
    return req


def tcf_request_from_wire(req: RequestInternal, secret_id: str, key: str, service: str, timestamp: int) -> dict:
    """What tcf-sign needs, taken from what the SDK put on the request."""
    request = {"secret_id": secret_id, "secret_key": key, "service": service, "host": req.header["Host"],
               "method": req.method, "content_type": req.header["Content-Type"], "timestamp": timestamp,
               "unsigned_payload": req.header.get("X-TC-Content-SHA256") == "UNSIGNED-PAYLOAD"}
    assert req.header["X-TC-Timestamp"] == str(timestamp)
    if req.method == "GET":
        request["canonical_query"] = req.data
    else:
        body = req.data if isinstance(req.data, bytes) else req.data.encode("utf-8")
        request["body_base64"] = base64.b64encode(body).decode("ascii")
    return request


def utc_date(timestamp: int) -> str:
    return datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc).strftime("%Y-%m-%d")


def test_tc3_agrees_with_the_python_sdk_on_200_random_requests(tool: Path) -> None:
    rng = random.Random(SEED)
    kinds: dict[str, int] = {}
    midnight_pairs = 0
    for case in range(200):
        secret_id = "AKID" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(32))
        key = random_text(rng, 1, 64, KEY_CHARS)
        service = rng.choice(["faceid", "cvm", "cls", "sts", random_text(rng, 1, 12, string.ascii_lowercase)])
        host = rng.choice([f"{service}.tencentcloudapi.com", f"{service}.ap-shanghai.tencentcloudapi.com"])
        timestamp = random_timestamp(rng)
        midnight_pairs += timestamp % 86400 in (0, 86399)
        kind = rng.choice(["octet-stream", "json", "get", "other-content-type"])
        kinds[kind] = kinds.get(kind, 0) + 1
        unsigned = kind in ("octet-stream", "json") and rng.random() < 0.15
        method = "GET" if kind == "get" else "POST"
        where = f"case {case} ({kind}, seed {SEED})"

        if kind == "other-content-type":
            # Content types the SDK's client does not produce itself: the SDK's own canonical
            # request + signature function, on the same wire request.
            content_type = rng.choice(["application/json; charset=utf-8",
                                       "multipart/form-data; boundary=" + rng.randbytes(16).hex(),
                                       "application/octet-stream; charset=utf-8", "text/plain"])
            body = random_body(rng)
            req = RequestInternal(host, "POST", "/", header={"Content-Type": content_type, "Host": host,
                                                             "X-TC-Timestamp": str(timestamp)}, data=body)
            sdk_signature = AbstractClient._get_tc3_signature(None, None, req, utc_date(timestamp), service, key)
            sdk_authorization = None
        else:
            client = sdk_client(service, host, method, key, secret_id, unsigned=unsigned)
            if kind == "octet-stream":
                req = sdk_build(client, method, "UploadLog", None, random_body(rng), {"IsOctetStream": True},
                                timestamp)
            else:
                req = sdk_build(client, method, "DetectAuth", random_params(rng), None, {}, timestamp)
            sdk_authorization = req.header["Authorization"]
            sdk_signature = sdk_authorization.rsplit("Signature=", 1)[1]

        ours = sign(tool, tcf_request_from_wire(req, secret_id, key, service, timestamp))
        assert ours["signature"] == sdk_signature, where
        if sdk_authorization is not None:
            assert ours["authorization"] == sdk_authorization, where
        # the SDK's signing function on our string to sign (same date and service)
        date = ours["string_to_sign"].split("\n")[2].split("/")[0]
        assert date == utc_date(timestamp), where
        assert Sign.sign_tc3(key, date, service, ours["string_to_sign"]) == ours["signature"], where
    assert len(kinds) == 4 and min(kinds.values()) >= 30, kinds
    assert midnight_pairs >= 20


def test_v1_agrees_with_the_python_sdk_on_random_requests(tool: Path) -> None:
    rng = random.Random(SEED + 1)
    for case in range(50):
        secret_id = "AKID" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(32))
        key = random_text(rng, 1, 40, KEY_CHARS)
        method = rng.choice(["GET", "POST"])
        sign_method = rng.choice(["HmacSHA1", "HmacSHA256"])
        client = sdk_client("faceid", "faceid.tencentcloudapi.com", method, key, secret_id, sign_method=sign_method)
        params = random_params(rng)
        frozen = random_timestamp(rng)
        with mock.patch("tencentcloud.common.abstract_client.time.time", return_value=float(frozen)), \
                mock.patch("tencentcloud.common.abstract_client.random.randint", return_value=rng.randint(1, 10**9)):
            req = RequestInternal("faceid.tencentcloudapi.com", method, "/", header={})
            client._build_req_inter("DetectAuth", dict(params), req, {})
        sent = dict(parse_qsl(req.data, keep_blank_values=True))
        sdk_signature = sent.pop("Signature")
        request = {"algorithm": sign_method, "secret_key": key, "secret_id": secret_id, "method": method,
                   "host": "faceid.tencentcloudapi.com", "params_raw": sent}
        ours = sign(tool, request)
        assert ours["signature"] == sdk_signature, f"case {case} (seed {SEED + 1})"
        assert Sign.sign(key, ours["string_to_sign"], sign_method) == ours["signature"]
