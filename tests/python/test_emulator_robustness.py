"""The emulator survives malformed input: no crash, no hang, always a well-formed answer.

Everything goes to 127.0.0.1 over raw sockets with a few seconds of timeout, so a
hang shows up as a failure, not as a stuck run. The random inputs come from a
fixed seed. After every batch a normal signed GetLiveCode call and
``GET /_emulator/health`` must still answer quickly.

What counts as a good answer:

* a well-framed API request to ``/`` (GET or POST, signed or not, whatever the
  body) gets HTTP 200, ``Content-Type: application/json`` and the envelope
  ``{"Response": {"Error": {"Code", "Message"}, "RequestId"}}``;
* malformed HTTP (a garbage request line, oversized or too many headers, a bad
  Content-Length, a body shorter than announced, broken chunking) may instead
  get a 4xx from the HTTP layer (501 for an unknown method, 505 for an unknown
  HTTP version), or a closed connection; never a 500, never silence until the
  timeout. No request may make the emulator print a traceback (its catch-all
  for its own bugs).

Several tests pin emulator bugs found (and fixed) while this file was written;
a comment on each says what used to go wrong.
"""

from __future__ import annotations

import errno
import base64
import copy
import hashlib
import hmac
import json
import random
import re
import socket
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any, Iterable, Optional, Union

import pytest
from emuclient import Api, sign_headers

from tcfaceid.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, Emulator
from tcfaceid.emulator.auth import v1_string_to_sign
from tcfaceid.emulator.identity import DEFAULT_PEOPLE
from tcfaceid.emulator.service import ACTIONS, SCHEMAS

SEED = 20240601
TIMEOUT = 5.0  # per exchange; a hang fails the test instead of blocking the run
ALIVE_WITHIN = 2.0  # seconds for the liveness probe after each batch
PERSON = DEFAULT_PEOPLE[0]
VALID_DETECT_AUTH = {"RuleId": "1", "IdCard": PERSON["id_card"], "Name": PERSON["name"]}
AUTH_CODES_OR_MISSING = re.compile(r"^(AuthFailure\.[A-Za-z]+|MissingParameter|InvalidParameter)$")
PARAM_ERRORS = {"InvalidParameter", "InvalidParameterValue", "MissingParameter", "UnknownParameter"}


def param_error(code: str) -> bool:
    """A parameter error, including the specific InvalidParameterValue.* codes (RuleIdNotExist...)."""
    return code in PARAM_ERRORS or code.startswith("InvalidParameterValue.")


Header = tuple[str, Union[str, bytes]]


# ---------------------------------------------------------------------------
# raw HTTP plumbing
# ---------------------------------------------------------------------------


@dataclass
class Resp:
    status: int
    headers: dict[str, list[str]]  # lower-case name -> values in order
    body: bytes
    complete: bool  # the whole body announced by Content-Length arrived

    def header(self, name: str) -> str:
        return self.headers.get(name, [""])[0]

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Exchange:
    data: bytes
    outcome: str  # "eof" | "reset" | "timeout" | "send-failed"
    seconds: float

    @property
    def responses(self) -> list[Resp]:
        return parse_responses(self.data)


def parse_responses(data: bytes) -> list[Resp]:
    """The HTTP/1.1 responses in ``data`` (several when pipelined)."""
    out: list[Resp] = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            break
        lines = head.split(b"\r\n")
        m = re.match(rb"HTTP/1\.[01] (\d{3})", lines[0])
        if not m:
            break
        status = int(m.group(1))
        headers: dict[str, list[str]] = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers.setdefault(name.strip().lower().decode("latin-1"), []).append(value.strip().decode("latin-1"))
        if 100 <= status < 200:
            data = rest
            continue
        if "content-length" in headers:
            n = int(headers["content-length"][0])
            body, data = rest[:n], rest[n:]
            out.append(Resp(status, headers, body, len(body) == n))
        else:
            out.append(Resp(status, headers, rest, True))
            data = b""
    return out


def port_of(emu: Emulator) -> int:
    return int(emu.host_port.rsplit(":", 1)[1])


def exchange(emu: Emulator, data: bytes, *, half_close: bool = True, timeout: float = TIMEOUT,
             chunks: Iterable[bytes] = ()) -> Exchange:
    """Send ``data`` (then ``chunks``), optionally half-close, and read until the server closes."""
    t0 = time.monotonic()
    deadline = t0 + timeout
    buf = b""
    with socket.create_connection(("127.0.0.1", port_of(emu)), timeout=timeout) as s:
        try:
            s.sendall(data)
            for c in chunks:
                s.sendall(c)
            if half_close:
                s.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            outcome = "send-failed"
        except OSError as e:  # ENOTCONN: the server already dropped the connection
            if e.errno != errno.ENOTCONN:
                raise
            outcome = "send-failed"
        else:
            outcome = ""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return Exchange(buf, "timeout", time.monotonic() - t0)
            s.settimeout(left)
            try:
                chunk = s.recv(1 << 16)
            except socket.timeout:
                return Exchange(buf, "timeout", time.monotonic() - t0)
            except ConnectionResetError:
                return Exchange(buf, outcome or "reset", time.monotonic() - t0)
            if not chunk:
                return Exchange(buf, outcome or "eof", time.monotonic() - t0)
            buf += chunk


def http_request(method: str, target: str, headers: Iterable[Header], body: bytes = b"", *,
                 content_length: Optional[Union[int, str]] = "auto", close: bool = True) -> bytes:
    lines = [f"{method} {target} HTTP/1.1".encode("latin-1")]
    for name, value in headers:
        lines.append(name.encode("latin-1") + b": " + (value if isinstance(value, bytes) else value.encode("latin-1")))
    if content_length == "auto":
        lines.append(b"Content-Length: %d" % len(body))
    elif content_length is not None:
        lines.append(f"Content-Length: {content_length}".encode("latin-1"))
    if close:
        lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def signed(emu: Emulator, action: str, body: bytes, *, replace: Optional[dict[str, Union[str, bytes]]] = None,
           drop: Iterable[str] = (), add: Iterable[Header] = (), content_length: Optional[Union[int, str]] = "auto",
           close: bool = True, method: str = "POST", query: str = "", sign_body: Optional[bytes] = None,
           **sign: Any) -> bytes:
    """A raw TC3-signed API request; ``replace``/``drop``/``add`` tamper with its headers after signing."""
    sign.setdefault("timestamp", emu.now())
    h: dict[str, Union[str, bytes]] = dict(
        sign_headers(emu.host_port, action, body if sign_body is None else sign_body, method=method, query=query, **sign)
    )
    for name in drop:
        h.pop(name, None)
    h.update(replace or {})
    target = "/" + (f"?{query}" if query else "")
    return http_request(method, target, [*h.items(), *add], body, content_length=content_length, close=close)


def v1_query(emu: Emulator, action: str, params: dict[str, str], method: str = "GET") -> str:
    """A query string signed with the legacy v1 HmacSHA256 scheme (the Host is the emulator's)."""
    q = {"Action": action, "Version": "2018-03-01", "SecretId": DEFAULT_SECRET_ID, "Timestamp": str(emu.now()),
         "Nonce": "12345", "SignatureMethod": "HmacSHA256", **params}
    to_sign = v1_string_to_sign(method, emu.host_port, "/", q)
    q["Signature"] = base64.b64encode(hmac.new(DEFAULT_SECRET_KEY.encode(), to_sign.encode(), hashlib.sha256).digest()).decode()
    return urllib.parse.urlencode(q)


def assert_envelope(resp: Resp) -> dict[str, Any]:
    """HTTP 200, application/json and the API envelope; returns the Response object."""
    assert resp.complete, resp
    assert resp.status == 200, (resp.status, resp.body[:300])
    assert resp.header("content-type").split(";")[0].strip() == "application/json", resp.headers
    doc = resp.json()
    assert isinstance(doc, dict) and list(doc) == ["Response"], doc
    r = doc["Response"]
    assert isinstance(r, dict)
    assert isinstance(r.get("RequestId"), str) and r["RequestId"], r
    if "Error" in r:
        err = r["Error"]
        assert isinstance(err, dict) and set(err) == {"Code", "Message"}, err
        assert isinstance(err["Code"], str) and err["Code"], err
        assert isinstance(err["Message"], str) and err["Message"], err
    return r


def error_code(r: dict[str, Any]) -> str:
    return r.get("Error", {}).get("Code", "")


def api_answer(ex: Exchange) -> dict[str, Any]:
    """A well-framed API request: exactly one complete envelope, no hang."""
    assert ex.outcome != "timeout", f"no answer within {TIMEOUT} s: {ex.data[:200]!r}"
    rs = ex.responses
    assert len(rs) == 1, (ex.outcome, ex.data[:500])
    return assert_envelope(rs[0])


def http_layer_answer(ex: Exchange, *, allowed: Iterable[int] = (400, 404, 405, 411, 413, 414, 431, 501, 505)) -> Optional[Resp]:
    """Malformed HTTP: an envelope, an HTTP-layer 4xx (or 501/505), or a closed connection. Never a hang or a 500."""
    assert ex.outcome != "timeout", f"no answer within {TIMEOUT} s: {ex.data[:200]!r}"
    rs = ex.responses
    if not rs:
        return None
    r = rs[0]
    if r.status == 200:
        assert_envelope(r)
    else:
        assert r.status in set(allowed), (r.status, r.body[:300])
    return r


def assert_alive(emu: Emulator) -> None:
    """A normal signed call and the health check still answer, and quickly."""
    t0 = time.monotonic()
    api = Api(emu.endpoint, clock=emu.now)
    api.conn.timeout = ALIVE_WITHIN + 1
    try:
        r = api.call("GetLiveCode", {})
        assert "Error" not in r and r["LiveCode"], r
        status, health = api.control("health", method="GET")
        assert status == 200 and health["ok"] is True, health
    finally:
        api.close()
    assert time.monotonic() - t0 < ALIVE_WITHIN


@pytest.fixture(scope="module")
def server():
    # QPS limits off: a few hundred requests a second must not turn into RequestLimitExceeded.
    with Emulator(qps_enabled=False) as e:
        yield e


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> random.Random:
    return random.Random(f"{SEED}:{request.node.name}")


@pytest.fixture(autouse=True)
def no_internal_errors(request: pytest.FixtureRequest, capfd: pytest.CaptureFixture[str]):
    """The emulator prints a traceback when a request hits a bug it did not foresee; none may appear."""
    yield
    err = capfd.readouterr().err
    if request.node.get_closest_marker("xfail") is None:
        assert "Traceback" not in err, err[-3000:]


# ---------------------------------------------------------------------------
# not HTTP at all
# ---------------------------------------------------------------------------


def test_random_bytes_instead_of_http(server: Emulator, rng: random.Random) -> None:
    payloads: list[bytes] = []
    for _ in range(40):
        payloads.append(rng.randbytes(rng.randint(1, 4096)))
    for _ in range(20):  # printable junk with line breaks: reaches the request-line and header parsers
        words = ["".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ/ .:-_%?=\t") for _ in range(rng.randint(1, 40)))
                 for _ in range(rng.randint(1, 12))]
        payloads.append("\r\n".join(words).encode() + b"\r\n\r\n")
    for _ in range(10):  # a real request line, then garbage headers
        payloads.append(b"POST / HTTP/1.1\r\n" + rng.randbytes(rng.randint(1, 2048)) + b"\r\n\r\n")
    payloads += [b"", b"\r\n", b"\r\n\r\n", b"\x00" * 100, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64,
                 b"GET\r\n\r\n", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"]  # HTTP/0.9: test_http_0_9_request
    for p in payloads:
        http_layer_answer(exchange(server, p))
    assert_alive(server)


# ---------------------------------------------------------------------------
# well-framed HTTP, bad bodies
# ---------------------------------------------------------------------------


def _garbage_bodies(rng: random.Random) -> list[bytes]:
    valid = json.dumps({**VALID_DETECT_AUTH, "Extra": "x" * 40, "IntentionQuestions": [{"Question": "q?", "Answers": ["a"]}]},
                       ensure_ascii=False).encode()
    bodies = [rng.randbytes(rng.randint(1, 2048)) for _ in range(30)]
    bodies += [valid[: rng.randint(1, len(valid) - 1)] for _ in range(25)]  # truncated JSON
    bodies += [
        b"", b" ", b"\xff\xfe{}", b'{"RuleId": "\xff"}', b'{"RuleId": "\xc0\xaf"}', b'{"RuleId": "\xed\xa0\x80"}',
        b'{"RuleId": "\x80"}', b"\xef\xbb\xbf{}", "{}".encode("utf-16"), b'{"RuleId": "1"', b"{", b"}", b'{"a":}',
        b"[" * 100_000, b"{\"a\":" * 100_000, b"[" * 100_000 + b"]" * 100_000, b'{"RuleId": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
        b"[" * 500 + b"]" * 500, b"1e999", b"-1e999", b"1" * 5000, b'{"RuleId": 1e999}', b'{"RuleId": ' + b"9" * 5000 + b"}",
        b'{"Config": {"Speed": 1e999}}', b'{"Config": {"IntentionType": 123456789012345678901234567890}}',
        b'{"RuleId": 1.0e-99999}', b"NaN", b"Infinity", b"-Infinity", b'{"RuleId": NaN}', b'{"RuleId": Infinity}',
        b'{"Config": {"Speed": -Infinity}}', b"[]", b'"x"', b"1", b"null", b"true", b"false", b"[{}]",
        b'[{"RuleId": "1"}]', b'{"RuleId": "1", "RuleId": 2}', b'{"": 1}', b'{"\\u0000": 1}', b'{"RuleId": "\\ud800"}',
        b'{"RuleId": "1"}\x00', b'{"RuleId": "1"} {"RuleId": "1"}', b"\x00" * 64, b'{"RuleId": "1", }',
        b"{'RuleId': '1'}", b'{"RuleId": "1" /* c */}', b"\t\r\n {} \t\r\n",
    ]
    return bodies


@pytest.mark.parametrize("action", ["DetectAuth", "GetLiveCode"])
def test_signed_garbage_bodies_get_the_envelope(server: Emulator, rng: random.Random, action: str) -> None:
    seen: set[str] = set()
    for body in _garbage_bodies(rng):
        t0 = time.monotonic()
        r = api_answer(exchange(server, signed(server, action, body)))
        assert time.monotonic() - t0 < 2, body[:80]
        code = error_code(r)
        seen.add(code)
        if action == "DetectAuth" or body.strip() not in (b"{}", b""):
            # Nothing in the list is a valid DetectAuth, and no body but {} is a valid GetLiveCode.
            assert param_error(code), (body[:80], r)
    assert "InvalidParameter" in seen
    assert_alive(server)


def test_unsigned_garbage_bodies_get_the_envelope(server: Emulator, rng: random.Random) -> None:
    for i, body in enumerate(_garbage_bodies(rng)[::2]):
        content_type = ["application/json", "application/x-www-form-urlencoded", "text/plain", "", "application/json; charset=utf-8"][i % 5]
        headers: list[Header] = [("Host", server.host_port), ("X-TC-Action", "GetLiveCode"), ("X-TC-Version", "2018-03-01")]
        if content_type:
            headers.append(("Content-Type", content_type))
        r = api_answer(exchange(server, http_request("POST", "/", headers, body)))
        assert AUTH_CODES_OR_MISSING.match(error_code(r)) or param_error(error_code(r)), r
    assert_alive(server)


@pytest.mark.parametrize("value", ["\u00b2", "-\u00b3",  # were int('²') ValueErrors in api._coerce
                                   "1.5", "0x10", "", "-", " 1", "true", "99999999999999999999999"])
@pytest.mark.parametrize("how", ["tc3-get", "v1-get"])
def test_get_parameters_that_look_numeric(server: Emulator, value: str, how: str) -> None:
    # String parameters (GET, v1) are coerced to the schema's types; odd digits must not break that.
    params = {"BizToken": "x", "RuleId": "1", "BestFramesCount": value}
    if how == "tc3-get":
        query = urllib.parse.urlencode(params)
        data = signed(server, "GetDetectInfoEnhanced", b"", method="GET", query=query)
    else:
        data = http_request("GET", "/?" + v1_query(server, "GetDetectInfoEnhanced", params), [("Host", server.host_port)])
    r = api_answer(exchange(server, data))
    assert param_error(error_code(r)), r


def test_deeply_nested_get_parameter(server: Emulator) -> None:
    # GET parameters are flattened from dotted names: a 20,000-level path must not blow the stack.
    for name in ["IntentionQuestions" + ".0" * 20_000, "Config" + ".a" * 20_000, "X" + ".0" * 20_000]:
        query = urllib.parse.urlencode({"RuleId": "1", name: "x"})
        r = api_answer(exchange(server, signed(server, "DetectAuth", b"", method="GET", query=query)))
        assert param_error(error_code(r)), r
    assert_alive(server)


@pytest.mark.parametrize("case", ["unknown-key", "stored-extra", "stored-name"])
def test_lone_surrogate_escapes(server: Emulator, case: str) -> None:
    if case == "unknown-key":
        r = api_answer(exchange(server, signed(server, "DetectAuth", b'{"RuleId": "1", "\\ud800": 1}')))
        assert error_code(r) in ("InvalidParameter", "UnknownParameter"), r
        return
    field = "Extra" if case == "stored-extra" else "Name"
    params = json.dumps({**VALID_DETECT_AUTH, field: "a\ud800b"}).encode()  # ensure_ascii: the escape, valid UTF-8
    r = api_answer(exchange(server, signed(server, "DetectAuth", params)))
    if error_code(r):  # refusing the string up front is the better fix
        assert error_code(r).startswith("InvalidParameter"), r
        return
    server.complete(r["BizToken"], "pass")
    for action in ("GetDetectInfoEnhanced", "GetDetectInfo"):
        q = json.dumps({"BizToken": r["BizToken"], "RuleId": "1"}).encode()
        api_answer(exchange(server, signed(server, action, q)))


# ---------------------------------------------------------------------------
# wrong types
# ---------------------------------------------------------------------------

WRONG_VALUES: list[Any] = [
    1, -1, 0, 1.5, 10**30, -(10**30), True, False, "", "x", "x" * 5000, [], [1], ["x"], [[]], [{}], {}, {"a": 1},
    {"Question": "q"}, "\u00b2", "\x00", "\ud800", "𠀀" * 40,
]


def _detect_auth_paths() -> list[tuple[str, str]]:
    """Every DetectAuth parameter, nested ones as ``Parent.Child`` or ``Parent.0.Child``."""
    out = []
    for f in ACTIONS["DetectAuth"]["request"]:
        out.append((f["name"], f["type"]))
        t = f["type"]
        inner = t[t.find("<") + 1 : -1] if "<" in t else ""
        if inner in SCHEMAS:
            sep = ".0." if t.startswith("list<") else "."
            out += [(f"{f['name']}{sep}{g['name']}", g["type"]) for g in SCHEMAS[inner]]
    return out


def _with(params: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    p = copy.deepcopy(params)
    parts = path.split(".")
    if len(parts) == 1:
        p[path] = value
    elif len(parts) == 2:
        p[parts[0]] = {parts[1]: value}
    else:
        p[parts[0]] = [{parts[2]: value}]
    return p


def test_wrong_types_for_every_detect_auth_parameter(server: Emulator) -> None:
    paths = _detect_auth_paths()
    assert len(paths) >= 20  # the schema has 12 parameters and 12 nested fields
    sent = 0
    for path, ftype in paths:
        for value in WRONG_VALUES + [None, [None]]:
            body = json.dumps(_with(VALID_DETECT_AUTH, path, value), ensure_ascii=False).encode("utf-8", "surrogatepass")
            r = api_answer(exchange(server, signed(server, "DetectAuth", body)))
            sent += 1
            code = error_code(r)
            if code:
                # Encryption with a well-typed but bogus CiphertextBlob / EncryptList: what the service answers
                assert param_error(code) or code in ("FailedOperation.DecryptSystemError",
                                                     "InvalidParameter.UnsupportEncryptField"), (path, value, r)
            else:
                assert r["BizToken"] and r["Url"], r
            type_ok = (
                value is None
                or (ftype == "string" and isinstance(value, str))
                or (ftype in ("int64", "uint64") and type(value) is int and (ftype == "int64" or value >= 0))
                or (ftype == "bool" and isinstance(value, bool))
                or (ftype.startswith("list<") and isinstance(value, list))
                or (ftype.startswith("object<") and isinstance(value, dict))
            )
            if not type_ok:
                assert code == "InvalidParameter", (path, value, r)
    assert sent > 500
    assert_alive(server)


@pytest.mark.parametrize("path,value", [
    ("IntentionQuestions.0.Answers", [None]),  # was a TypeError in saas.check_intention: len(None)
    ("RedirectUrl", "http://[::1"),  # was a ValueError from urllib.parse.urlsplit
    ("RedirectUrl", "https://[bad"),
    ("IntentionQuestions", [None]),  # was a KeyError in api._check_nested (_TYPE_NAMES[inner])
    ("IntentionActions", [None]),
    ("IntentionActions", [None, {"Text": "t"}]),
])
def test_detect_auth_crashers(server: Emulator, path: str, value: Any) -> None:
    """Inputs that made the handlers raise (no answer, later an InternalError envelope)."""
    params = _with(VALID_DETECT_AUTH, path, value)
    if path.startswith("IntentionQuestions.0."):
        params["IntentionQuestions"][0]["Question"] = "q?"
    r = api_answer(exchange(server, signed(server, "DetectAuth", json.dumps(params).encode())))
    assert error_code(r) in ("InvalidParameter", "InvalidParameterValue"), r


def test_page_completion_with_non_ascii_redirect_url(server: Emulator) -> None:
    api = Api(server.endpoint, clock=server.now)
    try:
        r = api.call("DetectAuth", {**VALID_DETECT_AUTH, "RedirectUrl": "https://example.com/回调?a=é"})
    finally:
        api.close()
    form = urllib.parse.urlencode({"token": r["BizToken"], "scenario": "pass"}).encode()
    ex = exchange(server, http_request("POST", "/h5/complete", [("Host", server.host_port),
                                                                ("Content-Type", "application/x-www-form-urlencoded")], form))
    rs = ex.responses
    assert len(rs) == 1 and rs[0].status == 303, ex
    location = rs[0].header("location")
    assert location.isascii() and location.startswith("https://example.com/"), location


# ---------------------------------------------------------------------------
# HTTP framing and headers
# ---------------------------------------------------------------------------


def test_duplicate_and_odd_headers(server: Emulator) -> None:
    body = b"{}"
    good = lambda **kw: signed(server, "GetLiveCode", body, **kw)  # noqa: E731
    # Duplicates: the first value counts; the request is still answered with an envelope.
    for add in ([("X-TC-Action", "DetectAuth")], [("Content-Type", "text/plain")], [("Host", "evil.example")],
                [("Authorization", "garbage")], [("X-TC-Timestamp", "0")], [("X-TC-Version", "1999-01-01")],
                [("Content-Length", "2")], [("Connection", "keep-alive")], [("Transfer-Encoding", "identity")]):
        r = api_answer(exchange(server, good(add=add)))
        assert error_code(r) in ("", "AuthFailure.SignatureFailure"), (add, r)
    # Non-ASCII header values (latin-1 bytes and UTF-8 bytes) where the server reads them.
    for name, value in [("X-TC-Action", b"GetLiveCode\xe9"), ("X-TC-Action", "获取".encode()), ("X-TC-Version", b"\xff"),
                        ("Host", "主机.example".encode()), ("X-TC-Token", b"\xfe"), ("Content-Type", "application/json；".encode())]:
        r = api_answer(exchange(server, good(replace={name: value})))
        assert error_code(r), (name, r)
    # ... and where it does not read them (any envelope will do).
    for name, value in [("X-TC-Region", b"\x80\x81"), ("User-Agent", "客户端/1.0".encode()), ("X-TC-Language", b"\xff"),
                        ("Content-Type", b"application/json\xa0"), ("X-TC-Content-SHA256", b"\xc3\xa9")]:
        api_answer(exchange(server, good(add=[(name, value)] if name != "Content-Type" else (), replace={name: value}
                                         if name == "Content-Type" else None)))
    # Header oddities the parser must digest.
    for extra in ([("X-Empty", "")], [("X-Nul", "a\x00b")], [("X-Long", "v" * 8000)],
                  [(f"X-Many-{i}", str(i)) for i in range(80)], [("Expect", "100-continue")], [("Expect", "bogus")]):
        api_answer(exchange(server, good(add=extra)))
    assert_alive(server)


def test_oversized_and_malformed_header_sections(server: Emulator) -> None:
    base = [("Host", server.host_port), ("Content-Type", "application/json")]
    cases = [
        (http_request("POST", "/", [*base, ("X-Big", "a" * 70_000)], b"{}"), 431),  # a 70 KB header line
        (http_request("POST", "/", [*base, *[(f"X-H{i}", "v") for i in range(200)]], b"{}"), 431),  # 200 headers
        (http_request("POST", "/" + "a" * 70_000, base, b"{}"), 414),  # a 70 KB request line
        (b"POST / HTTP/1.1\r\nHost: x\r\nno colon here\r\nContent-Length: 0\r\n\r\n", None),
        (b"POST / HTTP/1.1\r\nHost: x\r\n folded: header\r\nContent-Length: 0\r\n\r\n", None),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n", None),  # header section never ends, then EOF
        (b"POST / HTTP/9.9\r\nContent-Length: 0\r\n\r\n", None),  # http.server sends its 505 without a status line
        (b"POST / HTTP/1.x\r\nContent-Length: 0\r\n\r\n", None),  # 400, also without a status line
        (b"POST /  HTTP/1.1 extra\r\n\r\n", None),
        (b"BREW / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 501),
        (b"post / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 501),
    ]
    for data, want in cases:
        ex = exchange(server, data)
        r = http_layer_answer(ex)
        assert ex.data, data[:60]  # some answer, not just a close
        if want is not None:
            assert r is not None and r.status == want, (data[:60], r)
    assert_alive(server)


# Was: AttributeError on self._headers_buffer in Handler._send, a traceback and no answer.
def test_http_0_9_request(server: Emulator, capfd: pytest.CaptureFixture[str]) -> None:
    ex = exchange(server, b"GET /\r\n\r\n")
    assert ex.outcome != "timeout"
    assert "Traceback" not in capfd.readouterr().err
    assert ex.data  # HTTP/0.9 has no status line: the bare body, or any error text


def test_bad_content_length(server: Emulator) -> None:
    body = json.dumps(VALID_DETECT_AUTH).encode()
    # Larger than the body, then the client closes: 400 or a closed connection, quickly.
    for declared in (len(body) + 1, len(body) + 1000, 10_000_000):
        ex = exchange(server, signed(server, "DetectAuth", body, content_length=declared))
        r = http_layer_answer(ex)
        assert r is None or r.status in (200, 400), r
        assert ex.seconds < 2
    # Negative or garbage: 400, or an envelope.
    for declared in ("-1", "-100", "abc", "", "0x10", "1e3", "\u00b2", " ", "99999999999999999999999999", "2, 2", "+-2"):
        r = http_layer_answer(exchange(server, signed(server, "DetectAuth", body, content_length=declared)))
        assert r is not None and r.status in (200, 400), (declared, r)
    assert_alive(server)


def test_twelve_megabyte_body_is_request_size_limit_exceeded(server: Emulator) -> None:
    big = b'{"RuleId": "' + b"a" * (12 * 1024 * 1024) + b'"}'
    for data in (signed(server, "DetectAuth", big), http_request("POST", "/", [("Host", server.host_port)], big)):
        ex = exchange(server, data, timeout=15)
        r = api_answer(ex)
        assert error_code(r) == "RequestSizeLimitExceeded", r
    assert_alive(server)


def test_forty_megabyte_declared_body(server: Emulator) -> None:
    head = signed(server, "DetectAuth", b"", content_length=40 * 1024 * 1024, sign_body=b"")
    ex = exchange(server, head + b"a" * 65536, half_close=False)
    # Either the envelope and then a close, or a close (even a reset) without reading 40 MB.
    assert ex.outcome in ("eof", "reset", "send-failed"), ex.outcome
    rs = ex.responses
    if rs and rs[0].complete:  # a reset may cut the answer short
        assert error_code(assert_envelope(rs[0])) == "RequestSizeLimitExceeded"
        assert rs[0].header("connection").lower() == "close"
    assert ex.seconds < 3
    assert_alive(server)


def _chunked(emu: Emulator, action: str, payload: bytes, encoded: bytes, *, add: Iterable[Header] = ()) -> bytes:
    return signed(emu, action, b"", sign_body=payload, content_length=None,
                  add=[("Transfer-Encoding", "chunked"), *add]) + encoded


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n" % len(data) + data + b"\r\n"


def test_chunked_bodies(server: Emulator, rng: random.Random) -> None:
    payload = json.dumps({}).encode()
    # Valid chunking: one chunk, byte-by-byte chunks, extensions and trailers; the signature covers the decoded body.
    for encoded in (_chunk(payload) + b"0\r\n\r\n", b"".join(_chunk(payload[i:i + 1]) for i in range(len(payload))) + b"0\r\n\r\n",
                    b"2;ext=1\r\n{}\r\n0\r\nX-Trailer: t\r\n\r\n", b"2\n{}\n0\n\n"):
        r = api_answer(exchange(server, _chunked(server, "GetLiveCode", payload, encoded)))
        assert "Error" not in r and r["LiveCode"], (encoded, r)
    # Also with a Content-Length that lies: chunking wins.
    r = api_answer(exchange(server, _chunked(server, "GetLiveCode", payload, _chunk(payload) + b"0\r\n\r\n",
                                             add=[("Content-Length", "1000")])))
    assert "Error" not in r, r
    da = json.dumps(VALID_DETECT_AUTH, ensure_ascii=False).encode()
    r = api_answer(exchange(server, _chunked(server, "DetectAuth", da, _chunk(da[:10]) + _chunk(da[10:]) + b"0\r\n\r\n")))
    assert r.get("BizToken"), r
    # Broken chunking: 400, an envelope or a close; never a hang.
    broken = [
        b"zz\r\n{}\r\n0\r\n\r\n", b"\r\n", b"", b"2\r\n{}\r\n", b"2\r\n{}", b"10\r\n{}\r\n0\r\n\r\n", b"2\r\n{}\r\n1\r\n",
        b"ffffffffffffffffffff\r\n", b"2" * 2000 + b"\r\n", b"2\r\n{}XX0\r\n\r\n", b"0\r\n", b"0\r\nX-Trailer",
        b"\xff\xfe\r\n\r\n", rng.randbytes(300), rng.randbytes(300),
    ]
    for encoded in broken:
        ex = exchange(server, _chunked(server, "GetLiveCode", payload, encoded))
        http_layer_answer(ex)
        assert ex.seconds < 2, encoded
    # Over the API's 10 MB limit: refused from the chunk header, without the data.
    r = api_answer(exchange(server, _chunked(server, "DetectAuth", b"", b"%x\r\n" % (12 * 1024 * 1024)), half_close=False))
    assert error_code(r) == "RequestSizeLimitExceeded", r
    assert_alive(server)


def test_negative_chunk_size_is_rejected_at_once(server: Emulator) -> None:
    ex = exchange(server, _chunked(server, "GetLiveCode", b"{}", b"-1\r\n{}\r\n0\r\n\r\n"), half_close=False, timeout=3)
    assert ex.outcome != "timeout", "hangs on a negative chunk size"
    rs = ex.responses
    assert rs and rs[0].status == 400, ex


@pytest.mark.parametrize("case", ["put", "unknown-path", "two-content-lengths"])
def test_unread_bodies_do_not_desynchronise_keep_alive(server: Emulator, case: str) -> None:
    smuggled = b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\n\r\n"
    if case == "put":
        data = http_request("PUT", "/", [("Host", server.host_port)], smuggled, close=False)
    elif case == "unknown-path":
        data = http_request("POST", "/nowhere", [("Host", server.host_port)], smuggled, close=False)
    else:
        data = signed(server, "GetLiveCode", b"{}", close=False, content_length=None,
                      add=[("Content-Length", "2"), ("Content-Length", str(2 + len(smuggled)))])
        data += smuggled
    ex = exchange(server, data, timeout=2)
    assert len(ex.responses) == 1, ex.data


def test_one_date_header(server: Emulator) -> None:
    r = exchange(server, signed(server, "GetLiveCode", b"{}")).responses[0]
    assert len(r.headers.get("date", [])) == 1, r.headers


# ---------------------------------------------------------------------------
# Authorization
# ---------------------------------------------------------------------------


def test_garbage_and_half_written_authorization(server: Emulator, rng: random.Random) -> None:
    body = b"{}"
    full = sign_headers(server.host_port, "GetLiveCode", body, timestamp=server.now())["Authorization"]
    values: list[Union[str, bytes]] = [
        "", " ", "TC3-HMAC-SHA256", "TC3-HMAC-SHA256 ", "Bearer abc", "Basic dXNlcjpwYXNz", ",,,", "=,=,=",
        "TC3-HMAC-SHA256 Credential=, SignedHeaders=, Signature=", "TC3-HMAC-SHA256 Credential=a/b/c/d, SignedHeaders=host, Signature=x",
        "TC3-HMAC-SHA256 Credential=AKID/2020-01-01/faceid/tc3_request, SignedHeaders=Content-Type;Host, Signature=00",
        "TC3-HMAC-SHA256 Credential=AKID/2020-01-01/faceid/tc3_request, SignedHeaders=;;, Signature=00",
        "TC3-HMAC-SHA256 Credential=///tc3_request, SignedHeaders=content-type;host, Signature=00",
        "tc3-hmac-sha256 " + full.split(" ", 1)[1], full + ",", full.replace("Credential=", "Credential:"),
        full.replace("Signature=", "Signature=Signature="), "TC3-HMAC-SHA256 " + "A" * 60_000,
        b"TC3-HMAC-SHA256 Credential=\xff\xfe/2020-01-01/faceid/tc3_request, SignedHeaders=content-type;host, Signature=00",
    ]
    values += [rng.randbytes(rng.randint(1, 200)).replace(b"\r", b"").replace(b"\n", b"") for _ in range(30)]
    values += ["".join(rng.choice("TC3-HMAC-SHA256 Credential=/,;Signature=abcdef0123456789 ") for _ in range(rng.randint(1, 120)))
               for _ in range(30)]
    cuts = sorted(set(range(0, len(full), 3)) | {len(full) - 1})
    values += [full[:n] for n in cuts]  # half-written, cut at every third character
    for v in values:
        r = api_answer(exchange(server, signed(server, "GetLiveCode", body, replace={"Authorization": v})))
        assert error_code(r).startswith("AuthFailure."), (v, r)
    assert len(values) > 140
    assert_alive(server)


def test_every_auth_failure(server: Emulator) -> None:
    body = json.dumps(VALID_DETECT_AUTH, ensure_ascii=False).encode()
    now = server.now()
    cases: list[tuple[str, bytes]] = [
        ("AuthFailure.InvalidAuthorization", http_request("POST", "/", [("Host", server.host_port), ("Content-Type", "application/json"),
                                                                         ("X-TC-Action", "DetectAuth"), ("X-TC-Version", "2018-03-01")], body)),
        ("AuthFailure.InvalidAuthorization", signed(server, "DetectAuth", body, replace={"Authorization": "HMAC x"})),
        ("AuthFailure.SecretIdNotFound", signed(server, "DetectAuth", body, secret_id="AKIDnobody")),
        ("AuthFailure.SignatureExpire", signed(server, "DetectAuth", body, timestamp=now - 301)),
        ("AuthFailure.SignatureExpire", signed(server, "DetectAuth", body, timestamp=now + 400)),
        ("AuthFailure.SignatureExpire", signed(server, "DetectAuth", body, timestamp=0)),
        ("AuthFailure.SignatureFailure", signed(server, "DetectAuth", body, secret_key="wrong")),
        ("AuthFailure.SignatureFailure", signed(server, "DetectAuth", body, sign_body=b"{}")),  # tampered body
        ("AuthFailure.SignatureFailure", signed(server, "DetectAuth", body, service="cvm")),
        ("AuthFailure.SignatureFailure", signed(server, "DetectAuth", body, replace={"Host": "other.example"})),
        ("AuthFailure.SignatureFailure", signed(server, "DetectAuth", body, replace={"Content-Type": "application/json; charset=utf-8"})),
        ("AuthFailure.SignatureFailure", signed(server, "DetectAuth", body, replace={"X-TC-Timestamp": str(now - 1)})),
        ("AuthFailure.TokenFailure", signed(server, "DetectAuth", body, token="sts-token")),
        ("MissingParameter", signed(server, "DetectAuth", body, drop=["X-TC-Timestamp"])),
        ("InvalidParameter", signed(server, "DetectAuth", body, replace={"X-TC-Timestamp": "12ab"})),
        ("InvalidParameter", signed(server, "DetectAuth", body, replace={"X-TC-Timestamp": "1" * 13})),
        ("MissingParameter", signed(server, "DetectAuth", body, drop=["X-TC-Action"])),
        ("MissingParameter", signed(server, "DetectAuth", body, drop=["X-TC-Version"])),
        ("InvalidAction", signed(server, "NoSuchAction", body)),
        ("NoSuchVersion", signed(server, "DetectAuth", body, version="2017-01-01")),
    ]
    auth = sign_headers(server.host_port, "DetectAuth", body, timestamp=now)["Authorization"]
    for old, new in [("SignedHeaders=content-type;host", "SignedHeaders=content-type"),
                     ("SignedHeaders=content-type;host", "SignedHeaders=host;content-type"),
                     ("/faceid/", "/cvm/"), (time.strftime("%Y-%m-%d", time.gmtime(now)), "2000-01-01")]:
        cases.append(("AuthFailure.SignatureFailure", signed(server, "DetectAuth", body, replace={"Authorization": auth.replace(old, new)})))
    # Legacy v1 signatures (query string or form), as far as the server gets with them.
    v1 = {"Action": "DetectAuth", "Version": "2018-03-01", "SecretId": DEFAULT_SECRET_ID, "Timestamp": str(now),
          "Nonce": "1", "Signature": "bogus", "RuleId": "1"}
    for expect, change in [("AuthFailure.SignatureFailure", {}), ("AuthFailure.SecretIdNotFound", {"SecretId": "AKIDnobody"}),
                           ("AuthFailure.SignatureExpire", {"Timestamp": str(now - 1000)}), ("MissingParameter", {"Nonce": ""}),
                           ("InvalidParameter", {"Timestamp": "abc"}), ("AuthFailure.InvalidAuthorization", {"Signature": None})]:
        q = {k: v for k, v in {**v1, **change}.items() if v is not None}
        qs = urllib.parse.urlencode(q)
        cases.append((expect, http_request("GET", "/?" + qs, [("Host", server.host_port)])))
        cases.append((expect, http_request("POST", "/", [("Host", server.host_port), ("Content-Type", "application/x-www-form-urlencoded")],
                                           qs.encode())))
    cases.append(("InvalidParameter", http_request("GET", "/?Signature=x&Action=%ff", [("Host", server.host_port)])))
    for expect, data in cases:
        r = api_answer(exchange(server, data))
        assert error_code(r) == expect, (expect, data[:300], r)
    assert_alive(server)


# Were: '²' passing str.isdigit() then int('²') raising ValueError; hmac.compare_digest raising
# TypeError on a non-ASCII str signature.
@pytest.mark.parametrize("case", ["tc3-timestamp", "tc3-signature", "v1-timestamp", "v1-signature"])
def test_non_ascii_digits_and_signatures(server: Emulator, case: str) -> None:
    body = b"{}"
    if case == "tc3-timestamp":
        data = signed(server, "GetLiveCode", body, replace={"X-TC-Timestamp": b"\xb2\xb3\xb9"})
    elif case == "tc3-signature":
        auth = sign_headers(server.host_port, "GetLiveCode", body, timestamp=server.now())["Authorization"]
        data = signed(server, "GetLiveCode", body, replace={"Authorization": auth[:-64].encode() + b"\xe9" * 64})
    else:
        q = {"Action": "GetLiveCode", "Version": "2018-03-01", "SecretId": DEFAULT_SECRET_ID, "Timestamp": str(server.now()),
             "Nonce": "1", "Signature": "x"}
        q["Timestamp" if case == "v1-timestamp" else "Signature"] = "\u00b2" if case == "v1-timestamp" else "\u00e9"
        data = http_request("GET", "/?" + urllib.parse.urlencode(q), [("Host", server.host_port)])
    r = api_answer(exchange(server, data))
    assert error_code(r) in ("InvalidParameter", "AuthFailure.SignatureFailure"), r


# ---------------------------------------------------------------------------
# concurrency
# ---------------------------------------------------------------------------


def test_stalled_connections_do_not_block_other_clients(server: Emulator) -> None:
    halves = [
        b"POS", b"POST / HTTP/1.1\r\n", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Le",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"Rule",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc",
        b"POST /_emulator/complete HTTP/1.1\r\nContent-Length: 50\r\n\r\n{",
    ]
    stalled: list[socket.socket] = []
    try:
        for i in range(50):
            s = socket.create_connection(("127.0.0.1", port_of(server)), timeout=TIMEOUT)
            stalled.append(s)
            if i % 7:  # some send nothing at all
                s.sendall(halves[i % len(halves)])
        time.sleep(0.2)
        t0 = time.monotonic()
        for _ in range(5):
            assert_alive(server)
        r = api_answer(exchange(server, signed(server, "DetectAuth", json.dumps(VALID_DETECT_AUTH).encode())))
        assert r.get("BizToken"), r
        assert time.monotonic() - t0 < 5
    finally:
        for s in stalled:
            s.close()
    assert_alive(server)


# ---------------------------------------------------------------------------
# the control API
# ---------------------------------------------------------------------------


def _control(emu: Emulator, what: str, body: Union[bytes, Any], method: str = "POST") -> Resp:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    ex = exchange(emu, http_request(method, f"/_emulator/{what}", [("Host", emu.host_port), ("Content-Type", "application/json")], raw))
    assert ex.outcome != "timeout"
    rs = ex.responses
    assert len(rs) == 1, (what, body, ex)
    r = rs[0]
    assert r.complete and r.status < 500, (what, body, r.status, r.body[:300])
    assert r.header("content-type").startswith("application/json")
    doc = r.json()
    if r.status >= 400:
        assert isinstance(doc.get("error"), str) and doc["error"], doc
    return r


def test_control_api_garbage() -> None:
    with Emulator(qps_enabled=False) as emu:
        api = Api(emu.endpoint, clock=emu.now)
        try:
            token = api.call("DetectAuth", VALID_DETECT_AUTH)["BizToken"]
        finally:
            api.close()
        not_json = [b"{", b"\xff\xfe", b"[" * 100_000, b"{'token': 1}", b"null x", b"\x00"]
        not_object = [b"[]", b"1", b'"token"', b"null", b"true"]
        cases: list[tuple[str, Any, int]] = []
        for what in ("complete", "faults", "clock", "identities", "reset"):
            cases += [(what, b, 400) for b in not_json + not_object]
        cases += [(what, b"x" * (2 * 1024 * 1024), 413) for what in ("complete", "clock")]
        cases += [
            ("complete", {}, 400), ("complete", {"token": 5}, 400), ("complete", {"token": None}, 400),
            ("complete", {"token": ["x"]}, 400), ("complete", {"token": "no-such-token"}, 404),
            ("complete", {"token": "", "scenario": "pass"}, 404),
            ("complete", {"token": token, "scenario": "bogus"}, 400), ("complete", {"token": token, "scenario": 5}, 400),
            ("complete", {"token": token, "scenario": None}, 400), ("complete", {"token": token, "scenario": ""}, 400),
            ("complete", {"token": token, "video_bytes": "x"}, 400), ("complete", {"token": token, "video_bytes": -1}, 400),
            ("complete", {"token": token, "video_bytes": True}, 400), ("complete", {"token": token, "video_bytes": 10**20}, 400),
            ("complete", {"token": token, "attempts": 5}, 400), ("complete", {"token": token, "attempts": "ab"}, 400),
            ("complete", {"token": token, "attempts": []}, 400), ("complete", {"token": token, "attempts": [1]}, 400),
            ("complete", {"token": token, "attempts": [{"liveness": "x"}]}, 400),
            ("complete", {"token": token, "attempts": [{"liveness": [1]}]}, 400),
            ("complete", {"token": token, "attempts": [{"compare": {}}]}, 400),
            ("complete", {"token": token, "attempts": {"a": 1}}, 400),
            ("complete", {"token": token, "scenario": "fail_liveness", "code": "x"}, 400),
            ("faults", {}, 400), ("faults", {"kind": "bogus"}, 400), ("faults", {"kind": 5}, 400),
            ("faults", {"kind": None}, 400), ("faults", {"kind": ["latency"]}, 400), ("faults", {"kind": "LATENCY"}, 400),
            ("faults", {"kind": "latency", "seconds": -1}, 400), ("faults", {"kind": "latency", "seconds": 601}, 400),
            ("faults", {"kind": "latency", "seconds": "1"}, 400), ("faults", {"kind": "latency", "seconds": True}, 400),
            ("faults", {"kind": "reset", "count": 0}, 400), ("faults", {"kind": "reset", "count": 1.5}, 400),
            ("faults", {"kind": "reset", "count": True}, 400), ("faults", {"kind": "reset", "count": 10**7}, 400),
            ("faults", {"kind": "reset", "actions": 5}, 400), ("faults", {"kind": "reset", "actions": [5]}, 400),
            ("faults", {"kind": "reset", "phase": "middle"}, 400), ("faults", {"kind": "truncated", "phase": "before"}, 400),
            ("faults", {"kind": "http_5xx", "status": 200}, 400), ("faults", {"kind": "http_5xx", "status": "503"}, 400),
            ("faults", {"kind": "not_json", "status": 99}, 400), ("faults", {"kind": "throttle", "code": 5}, 400),
            ("faults", {"kind": "reset", "bogus": 1}, 400),
            ("clock", {}, 400), ("clock", {"advance": "10"}, 400), ("clock", {"set": "x"}, 400),
            ("clock", {"advance": True}, 400), ("clock", {"advance": None, "set": None}, 400), ("clock", {"set": [1]}, 400),
            ("clock", {"advance": {"s": 1}}, 400),
            ("identities", {}, 400), ("identities", {"identities": "x"}, 400), ("identities", {"identities": [5]}, 400),
            ("identities", {"identities": [None]}, 400), ("identities", {"identities": [{"name": "x"}]}, 400),
            ("identities", {"identities": [{"name": "x", "id_card": "123"}]}, 400),
            ("identities", {"identities": [{"name": "x", "id_card": PERSON["id_card"], "bogus": 1}]}, 400),
            ("identities", {"identities": [["name", "id_card"]]}, 400),
            ("nowhere", {}, 404), ("health", b"", 404), ("stats", b"", 404),
        ]
        for what, body, want in cases:
            r = _control(emu, what, body)
            assert r.status == want, (what, body if not isinstance(body, bytes) else body[:40], r.status, r.body[:200])
        # Wrong methods: 404 for the POST-only endpoints; clock and faults answer any other method read-only.
        for method, what in [("GET", "complete"), ("GET", "reset"), ("GET", "identities"), ("PATCH", "health"),
                             ("DELETE", "stats"), ("HEAD", "nowhere")]:
            if method != "HEAD":
                assert _control(emu, what, b"", method=method).status == 404
        for method, what in [("PUT", "clock"), ("DELETE", "faults"), ("PATCH", "clock")]:
            assert _control(emu, what, {"advance": 1000, "kind": "reset"}, method=method).status in (200, 404, 405)
        # None of the bad faults was queued, the clock did not move, and the session is still open.
        faults = _control(emu, "faults", b"", method="GET").json()
        assert faults == {"pending": []}, faults
        assert abs(_control(emu, "clock", b"", method="GET").json()["now"] - time.time()) < 5
        assert _control(emu, "complete", {"token": token, "scenario": "pass"}).status == 200
        assert _control(emu, "complete", {"token": token, "scenario": "pass"}).status == 409
        assert_alive(emu)


def test_control_identities_are_checked_and_atomic() -> None:
    # Was: 200 for any field type, and a half-stored identity when a later field failed.
    with Emulator() as emu:
        before = emu.service.registry.by_id[PERSON["id_card"]]
        for bad in ({"name": 5, "id_card": PERSON["id_card"]}, {"name": "新", "id_card": PERSON["id_card"], "phone": 7},
                    {"name": "新", "id_card": PERSON["id_card"], "bank_card": ["a"]},
                    {"name": "新", "id_card": PERSON["id_card"], "photo": "yes"}):
            r = _control(emu, "identities", {"identities": [bad]})
            assert r.status == 400, (bad, r.body)
            assert emu.service.registry.by_id[PERSON["id_card"]] is before, bad
        assert_alive(emu)


@pytest.mark.parametrize("body", [b'{"advance": 1' + b"0" * 400 + b"}", b'{"set": 1e300}', b'{"set": NaN}',
                                  b'{"advance": Infinity}', b'{"set": -Infinity}', b'{"advance": -1e18}'])
def test_control_clock_rejects_unusable_times(body: bytes) -> None:
    with Emulator() as emu:
        ex = exchange(emu, http_request("POST", "/_emulator/clock", [("Host", emu.host_port)], body))
        rs = ex.responses
        try:
            assert rs and rs[0].status == 400, ex
        finally:
            assert_alive(emu)


@pytest.mark.parametrize("extra", [b'"attempts": [{"liveness": Infinity}]', b'"attempts": [{"liveness": 0, "compare": 1e999}]',
                                   b'"scenario": "fail_liveness", "code": 1e999'])
def test_control_complete_rejects_infinite_numbers(extra: bytes) -> None:
    with Emulator() as emu:
        api = Api(emu.endpoint, clock=emu.now)
        try:
            token = api.call("DetectAuth", VALID_DETECT_AUTH)["BizToken"]
        finally:
            api.close()
        body = b'{"token": "%s", ' % token.encode() + extra + b"}"
        rs = exchange(emu, http_request("POST", "/_emulator/complete", [("Host", emu.host_port)], body)).responses
        assert rs and rs[0].status == 400, rs
        assert_alive(emu)


def test_everything_still_works_at_the_end(server: Emulator) -> None:
    assert_alive(server)
    api = Api(server.endpoint, clock=server.now)
    try:
        r = api.call("DetectAuth", VALID_DETECT_AUTH)
        assert r["Url"].startswith(server.endpoint + "/h5/verify?token=")
        assert server.complete(r["BizToken"], "pass")["err_code"] == 0
        info = api.call("GetDetectInfoEnhanced", {"BizToken": r["BizToken"], "RuleId": "1"})
        assert info["Text"]["ErrCode"] == 0, info
    finally:
        api.close()
