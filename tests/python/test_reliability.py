"""Retries, the retry budget, deadlines, clock skew, client-side QPS limits and daily identity
limits, through tcfaceid.Client against the emulator (DESIGN.md §5, docs/reliability.md).

The fault matrix: for each retry class (read: GetLiveCode; session-create: DetectAuth; billable:
IdCardVerification) and each failure the emulator can inject, the number of requests the emulator
received, the final error class, and that no billable request was executed twice.
"""

from __future__ import annotations

import time
from typing import Any, Iterator, Optional

import pytest

import tcfaceid
from tcfaceid.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, Config, Emulator

ID_NO, NAME = "110101199003071233", "张三"
PARAMS = {
    "GetLiveCode": {},
    "DetectAuth": {"RuleId": "1", "IdCard": ID_NO, "Name": NAME},
    "IdCardVerification": {"IdCard": ID_NO, "Name": NAME},
}
# fast backoff so that the matrix runs in seconds; the delays themselves are tested in C
FAST = {"base_delay": 0.001, "throttle_delay": 0.001, "max_delay": 0.01}


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(Config(port=0)) as e:
        yield e


def client(endpoint: str, **options: Any) -> tcfaceid.Client:
    options.setdefault("proxy", "")
    options.setdefault("timeout", 5.0)
    options.setdefault("retry", dict(FAST))
    options.setdefault("qps", False)
    return tcfaceid.Client(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, endpoint=endpoint, **options)


def received(emu: Emulator, action: str) -> int:
    return int(emu.stats()["received"].get(action, 0))


def billed(emu: Emulator, action: str) -> int:
    return int(emu.stats()["billed"].get(action, 0))


# (fault kind, options) -> what one failed attempt looks like
FAULTS: dict[str, tuple[str, dict[str, Any]]] = {
    "reset_before": ("reset", {"phase": "before"}),
    "reset_after": ("reset", {"phase": "after"}),
    "http_502": ("http_5xx", {"status": 502}),
    "http_503": ("http_5xx", {"status": 503}),
    "internal_error": ("internal_error", {}),
    "throttled": ("throttle", {}),
    "timeout": ("latency", {"seconds": 1.5}),
    "truncated": ("truncated", {}),
    "html_body": ("not_json", {}),
}

ERROR_CLASS = {
    "reset_before": tcfaceid.TransportError,
    "reset_after": tcfaceid.TransportError,
    "http_502": tcfaceid.HTTPError,
    "http_503": tcfaceid.HTTPError,
    "internal_error": tcfaceid.ServiceError,
    "throttled": tcfaceid.ThrottledError,
    "timeout": tcfaceid.TimeoutError,
    "truncated": tcfaceid.TransportError,
    "html_body": tcfaceid.JSONError,
}
# transient for a read (retried); an HTML page with HTTP 200 is not (a proxy answering for the
# service will answer the same way again)
TRANSIENT = set(FAULTS) - {"html_body"}


def expected(cls: str, fault: str) -> str:
    """'retry' (sent again), 'ambiguous' (billable, not sent again) or 'raise' (not sent again)."""
    if fault not in TRANSIENT:
        return "raise"
    if fault == "throttled":
        return "retry"
    if cls == "read":
        return "retry"
    if cls == "billable":
        return "ambiguous"
    return "raise"


CLASSES = {"read": "GetLiveCode", "session": "DetectAuth", "billable": "IdCardVerification"}


@pytest.mark.parametrize("fault", sorted(FAULTS))
@pytest.mark.parametrize("cls", sorted(CLASSES))
def test_fault_matrix(emu: Emulator, cls: str, fault: str) -> None:
    action = CLASSES[cls]
    kind, options = FAULTS[fault]
    with client(emu.endpoint, timeout=1.0) as c:
        # a fault on the first attempt only
        emu.fault(kind, count=1, action=action, **options)
        what = expected(cls, fault)
        if what == "retry":
            resp = c.call(action, PARAMS[action])
            assert "Error" not in resp
            assert received(emu, action) == 2
        else:
            with pytest.raises(tcfaceid.Error) as info:
                c.call(action, PARAMS[action])
            e = info.value
            if what == "ambiguous":
                assert isinstance(e, tcfaceid.AmbiguousError), repr(e)
                assert e.code in ("ambiguous", "InternalError") and not e.retryable  # the API code, if any
                assert action in e.message
            else:
                assert isinstance(e, ERROR_CLASS[fault]), repr(e)
            assert e.attempts == 1
            assert received(emu, action) == 1
        # a billable action is executed (and billed) at most once
        if cls == "billable":
            assert billed(emu, action) <= 1


@pytest.mark.parametrize("cls", sorted(CLASSES))
def test_connection_refused_is_retried_for_every_class(cls: str) -> None:
    with client("http://127.0.0.1:1", retry={**FAST, "max_attempts": 3}) as c:
        with pytest.raises(tcfaceid.TransportError) as info:
            c.call(CLASSES[cls], PARAMS[CLASSES[cls]])
        assert info.value.attempts == 3  # nothing ever left this machine: safe to send again


@pytest.mark.parametrize("fault", ["http_503", "internal_error", "reset_after", "throttled"])
def test_a_read_gives_up_after_max_attempts(emu: Emulator, fault: str) -> None:
    kind, options = FAULTS[fault]
    emu.fault(kind, count=10, action="GetLiveCode", **options)
    with client(emu.endpoint, retry={**FAST, "max_attempts": 4}) as c:
        with pytest.raises(ERROR_CLASS[fault]) as info:
            c.call("GetLiveCode")
        assert info.value.attempts == 4
        assert received(emu, "GetLiveCode") == 4
        # per call: no retries
        with emu.service.lock:
            emu.service.faults.clear()
        emu.fault(kind, count=10, action="GetLiveCode", **options)
        with pytest.raises(ERROR_CLASS[fault]):
            c.call("GetLiveCode", retry={"max_attempts": 1})
        assert received(emu, "GetLiveCode") == 5


def test_retry_billable_opt_in_may_bill_twice(emu: Emulator) -> None:
    emu.fault("reset", count=1, action="IdCardVerification", phase="after")
    with client(emu.endpoint, retry={**FAST, "retry_billable": True}) as c:
        resp = c.call("IdCardVerification", PARAMS["IdCardVerification"])
    assert resp["Result"] == "0"
    assert received(emu, "IdCardVerification") == 2
    assert billed(emu, "IdCardVerification") == 2  # exactly the risk the default avoids


def test_retry_budget_limits_retries_across_calls(emu: Emulator) -> None:
    emu.fault("http_5xx", count=100, action="GetLiveCode")
    with client(emu.endpoint, retry={**FAST, "max_attempts": 3, "budget": 2, "budget_per_s": 0.001}) as c:
        for _ in range(3):
            with pytest.raises(tcfaceid.HTTPError):
                c.call("GetLiveCode")
    # 3 first attempts + only 2 retries in all: the budget stops a retry storm
    assert received(emu, "GetLiveCode") == 5


def test_deadline_across_attempts(emu: Emulator) -> None:
    emu.fault("throttle", count=100, action="GetLiveCode")
    with client(emu.endpoint, retry={"max_attempts": 50, "throttle_delay": 0.2, "max_delay": 0.2,
                                     "deadline": 0.5}) as c:
        t0 = time.monotonic()
        with pytest.raises(tcfaceid.ThrottledError) as info:
            c.call("GetLiveCode")
        elapsed = time.monotonic() - t0
    assert elapsed < 2.0, elapsed
    assert 1 <= info.value.attempts < 50


def test_clock_skew_is_learned_and_visible(emu: Emulator) -> None:
    emu.advance(10 * 60)
    with client(emu.endpoint) as c:
        assert c.clock_offset == 0
        assert "LiveCode" in c.call("GetLiveCode")
        assert abs(c.clock_offset - 600) <= 5
        assert received(emu, "GetLiveCode") == 2
        for _ in range(3):
            c.call("GetLiveCode")
        assert received(emu, "GetLiveCode") == 5  # no more re-signing
    emu.advance(-20 * 60)
    with client(emu.endpoint) as c:
        c.call("GetLiveCode")
        assert abs(c.clock_offset + 600) <= 5


def test_client_side_qps_limit(emu: Emulator) -> None:
    with client(emu.endpoint, qps={"GetLiveCode": 5}) as c:
        t0 = time.monotonic()
        for _ in range(10):
            c.call("GetLiveCode")
        elapsed = time.monotonic() - t0
    # a burst of 5, then 5 more at 5 per second
    assert elapsed >= 0.8, elapsed
    with client(emu.endpoint, qps=False) as c:
        t0 = time.monotonic()
        for _ in range(10):
            c.call("GetLiveCode")
        assert time.monotonic() - t0 < 0.8


def test_daily_element_limit_is_rate_limited_with_retry_at() -> None:
    with Emulator(Config(port=0, limits={"idcard_name_per_day": 2})) as emu:
        with client(emu.endpoint) as c:
            for _ in range(2):
                assert c.call("IdCardVerification", PARAMS["IdCardVerification"])["Result"] in ("0", "-1")
            with pytest.raises(tcfaceid.RateLimitedError) as info:
                c.call("IdCardVerification", PARAMS["IdCardVerification"])
        e = info.value
        assert e.attempts == 1 and not e.retryable
        assert received(emu, "IdCardVerification") == 3  # never retried
        now = emu.now()
        assert now < e.retry_at <= now + 86400
        assert (e.retry_at + 8 * 3600) % 86400 == 0  # 00:00 Asia/Shanghai
        assert e.request_id
        assert ID_NO not in str(e) and NAME not in str(e)


def test_identity_auth_limit_exceeded_is_rate_limited() -> None:
    with Emulator(Config(port=0, limits={"paas_id_per_minute": 1})) as emu:
        params: dict[str, Optional[str]] = {"IdCard": ID_NO, "Name": NAME, "ImageBase64": "iVBORw0KGgo="}
        with client(emu.endpoint) as c:
            try:
                c.call("ImageRecognitionV2", params)
            except tcfaceid.ServiceError:
                pass  # whatever the first answer (the photo is not a face): it counts
            with pytest.raises(tcfaceid.RateLimitedError) as info:
                c.call("ImageRecognitionV2", params)
        assert info.value.code == "FailedOperation.IdentityAuthLimitExceeded"
        assert info.value.retry_at and (info.value.retry_at + 8 * 3600) % 86400 == 0


def test_saas_daily_limit_2018_verdict_has_retry_at() -> None:
    with Emulator(Config(port=0, limits={"saas_id_per_minute": 1})) as emu:
        with client(emu.endpoint, clock=emu.now) as c:
            first = c.detect_auth("1", id_card=ID_NO, name=NAME)
            emu.complete(first.biz_token, "pass")
            assert c.detect_result(first).passed
            second = c.detect_auth("1", id_card=ID_NO, name=NAME)
            emu.complete(second.biz_token, "pass")
            v = c.detect_result(second)
    assert (v.status, v.code) == ("FAILED", 2018)
    assert v.retry_at is not None and v.retry_at > emu.now() and (v.retry_at + 8 * 3600) % 86400 == 0
    assert "00:00" in (v.meaning or "")


class _DyingKeepAlive:
    """A raw HTTP server on 127.0.0.1 that answers the first request of each connection and then,
    on that connection, reads the next request and closes without answering — what a server does
    when it drops an idle keep-alive connection just as the client reuses it. libcurl would then
    send the request again on a fresh connection; the client must not (the first one may have been
    executed)."""

    ANSWER = b'{"Response":{"Result":"0","Description":"ok","RequestId":"dying-1"}}'

    def __init__(self) -> None:
        import socket
        import threading

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.requests = 0
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def endpoint(self) -> str:
        return "http://127.0.0.1:%d" % self.sock.getsockname()[1]

    @staticmethod
    def _read_request(conn: Any) -> bool:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return False
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                return False
            body += chunk
        return True

    def _serve(self) -> None:
        import threading

        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._connection, args=(conn,), daemon=True).start()

    def _connection(self, conn: Any) -> None:
        with conn:
            first = True
            while self._read_request(conn):
                with self.lock:
                    self.requests += 1
                if not first:
                    return  # close without an answer
                first = False
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                             b"Connection: keep-alive\r\n\r\n%s" % (len(self.ANSWER), self.ANSWER))

    def close(self) -> None:
        self.sock.close()


def test_a_request_is_never_resent_by_libcurl_on_a_dead_keepalive_connection() -> None:
    server = _DyingKeepAlive()
    try:
        with client(server.endpoint, retry={"max_attempts": 1}) as c:
            assert c.call("IdCardVerification", PARAMS["IdCardVerification"])["Result"] == "0"
            with pytest.raises(tcfaceid.AmbiguousError, match="closed before any answer"):
                c.call("IdCardVerification", PARAMS["IdCardVerification"])
        assert server.requests == 2  # the second request was not sent again on a new connection
        # a read is retried by the client's own policy (a fresh attempt, re-signed)
        with client(server.endpoint, retry=dict(FAST, max_attempts=3)) as c:
            c.call("GetLiveCode", {})
            c.call("GetLiveCode", {})
        assert server.requests == 5
    finally:
        server.close()
