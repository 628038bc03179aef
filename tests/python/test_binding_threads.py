"""The Python binding under threads and over many calls: the GIL is released while a request is
in flight, one client serves 16 threads, close() may race with calls, and neither successful nor
failing calls leak memory or references.

The emulator runs in process (``qps_enabled=False``) except for the leak test, which starts it as a
subprocess so that the memory measured (tracemalloc, RSS) is the client's alone; the close() race
runs in a subprocess so that a crash fails one test instead of the whole session.
"""

from __future__ import annotations

import contextlib
import gc
import http.client
import json
import logging
import os
import subprocess
import sys
import textwrap
import threading
import time
import tracemalloc
import urllib.parse
import weakref
from pathlib import Path
from typing import Any, Iterator, Optional

import pytest

import tcfaceid
import tcfaceid._core
from tcfaceid.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, Config, Emulator

ROOT = Path(__file__).resolve().parents[2]
ID_NO = "110101199003071233"
NAME = "张三"
PHONE = "13800138000"
WRONG_KEY = "WrongKeyBindingTest0123456789abcdefEXAMPL"


def new_client(endpoint: str, secret_key: str = DEFAULT_SECRET_KEY, **options: Any) -> Any:
    options.setdefault("proxy", "")  # traffic stays on 127.0.0.1
    options.setdefault("timeout", 10.0)
    # single exchanges at full speed: retries and QPS limits are tested in test_reliability.py
    options.setdefault("retry", {"max_attempts": 1})
    options.setdefault("qps", False)
    return tcfaceid.Client(DEFAULT_SECRET_ID, secret_key, endpoint=endpoint, **options)


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(Config(port=0, qps_enabled=False)) as emu:
        yield emu


# ------------------------------------------------------------------------------------------------
# the GIL
# ------------------------------------------------------------------------------------------------

def test_gil_is_released_while_calls_wait(emulator: Emulator) -> None:
    """4 calls that each wait 0.5 s at the server: a pure-Python thread keeps counting meanwhile,
    and the 4 calls overlap instead of taking turns."""
    emulator.fault("latency", count=4, seconds=0.5, action="GetLiveCode")
    client = new_client(emulator.endpoint, timeout=5.0)
    marks: list[float] = []  # the time of every 1000th increment of the counter
    stop = threading.Event()

    def count() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            if n % 1000 == 0:
                marks.append(time.monotonic())

    starts: list[float] = [0.0] * 4
    ends: list[float] = [0.0] * 4
    errors: list[BaseException] = []
    barrier = threading.Barrier(5)

    def work(i: int) -> None:
        barrier.wait()
        starts[i] = time.monotonic()
        try:
            assert len(client.call("GetLiveCode")["LiveCode"]) == 4
        except BaseException as e:  # noqa: BLE001 (reported below)
            errors.append(e)
        ends[i] = time.monotonic()

    counter = threading.Thread(target=count)
    workers = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    try:
        counter.start()
        for t in workers:
            t.start()
        barrier.wait()
        t0 = time.monotonic()
        for t in workers:
            t.join(20)
        wall = time.monotonic() - t0
    finally:
        stop.set()
        counter.join(10)
        client.close()
    assert not errors, errors
    assert emulator.stats()["faults_applied"].get("latency") == 4
    for s, e in zip(starts, ends):
        assert e - s >= 0.45, "the latency fault was not applied"  # the test can only pass for a reason
    assert wall < 1.2, f"4 calls of 0.5 s took {wall:.2f} s: they ran one after the other"
    lo, hi = max(starts) + 0.05, min(ends) - 0.05
    in_flight = sum(1 for m in marks if lo <= m <= hi)
    assert hi - lo > 0.3
    assert in_flight >= 50, f"the counting thread made {in_flight * 1000} increments while 4 calls were in flight"


# ------------------------------------------------------------------------------------------------
# one client, many threads
# ------------------------------------------------------------------------------------------------

def test_16_threads_200_calls_each_on_one_client(emulator: Emulator) -> None:
    client = new_client(emulator.endpoint)
    logger = logging.getLogger("tcfaceid")
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    handler = Collect(logging.INFO)
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    threads_n, calls_n = 16, 200
    tokens = []
    for k in range(4):
        tokens.append(client.call("DetectAuth", {"RuleId": "1", "IdCard": ID_NO, "Name": NAME,
                                                 "Extra": f"thread-{k}"})["BizToken"])
        emulator.complete(tokens[-1], "pass")
    before = sum(emulator.stats()["received"].values())
    request_ids: list[list[str]] = [[] for _ in range(threads_n)]
    errors: list[str] = []
    barrier = threading.Barrier(threads_n)

    def work(i: int) -> None:
        info = {"BizToken": tokens[i % 4], "RuleId": "1", "InfoType": "1"}
        barrier.wait()
        for j in range(calls_n):
            try:
                if j % 3 == 0:
                    r = client.call("GetLiveCode")
                    assert len(r["LiveCode"]) == 4
                elif j % 3 == 1:
                    r = client.call("GetActionSequence", b"{}")
                    assert r["ActionSequence"] in ("1,2", "2,1"), r
                else:
                    r = client.call("GetDetectInfoEnhanced", info)
                    assert r["Text"]["ErrCode"] == 0 and r["Text"]["Extra"] == f"thread-{i % 4}", r
                rid = client.last_request_id
                assert rid and (not request_ids[i] or rid != request_ids[i][-1])
                request_ids[i].append(rid)
            except BaseException as e:  # noqa: BLE001
                errors.append(f"thread {i} call {j}: {e!r}")
                return

    t0 = time.monotonic()
    threads = [threading.Thread(target=work, args=(i,)) for i in range(threads_n)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    elapsed = time.monotonic() - t0
    assert not any(t.is_alive() for t in threads), "threads are stuck"
    client.close()
    assert not errors, errors[:5]
    all_ids = [rid for ids in request_ids for rid in ids]
    assert len(all_ids) == threads_n * calls_n
    assert len(set(all_ids)) == len(all_ids), "a thread saw another thread's RequestId"
    assert sum(emulator.stats()["received"].values()) - before == threads_n * calls_n
    # one log line per call, written from the calling threads, each with its own RequestId
    call_lines = [line for line in lines if line.startswith("action=")][4:]  # after the 4 DetectAuth
    assert len(call_lines) == threads_n * calls_n
    logged_ids = {line.split("request_id=", 1)[1].split()[0] for line in call_lines}
    assert logged_ids == set(all_ids)
    assert elapsed < 60


def test_threads_sign_prepare_and_parse_large_inputs_concurrently(emulator: Emulator) -> None:
    """sign/prepare/parse release the GIL for large inputs: 8 threads at once get the same answers
    as one thread alone (no shared scratch state in the core or the binding)."""
    import hashlib
    import random

    client = new_client(emulator.endpoint)
    bodies = [random.Random(i).randbytes(64 * 1024 + i) for i in range(4)]
    params = [json.dumps({"RuleId": "1", "Extra": "备" * (8000 + i)}, ensure_ascii=False) for i in range(4)]
    answers = [json.dumps({"Response": {"Blob": "x" * (40000 + i), "RequestId": f"r-{i}"}}).encode() for i in range(4)]

    def sign(i: int) -> dict[str, str]:
        return tcfaceid.sign(secret_id=DEFAULT_SECRET_ID, secret_key=DEFAULT_SECRET_KEY, service="faceid",
                             host="faceid.tencentcloudapi.com", method="POST", content_type="application/octet-stream",
                             timestamp=1700000000 + i, body=bodies[i])

    want_sign = [sign(i) for i in range(4)]
    want_parse = [json.dumps({"Blob": "x" * (40000 + i)}).encode() for i in range(4)]
    want_prepare = [client.prepare("DetectAuth", params[i], timestamp=1700000000) for i in range(4)]
    for i in range(4):
        assert want_sign[i]["hashed_payload"] == hashlib.sha256(bodies[i]).hexdigest()
    errors: list[str] = []

    def work(t: int) -> None:
        try:
            for j in range(40):
                i = (t + j) % 4
                assert sign(i) == want_sign[i]
                assert client.prepare("DetectAuth", params[i], timestamp=1700000000) == want_prepare[i]
                data, rid, _ = tcfaceid._core.parse(200, [], answers[i])
                assert rid == f"r-{i}" and data == want_parse[i]
        except BaseException as e:  # noqa: BLE001
            errors.append(f"thread {t}: {e!r}")

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    client.close()
    assert not any(t.is_alive() for t in threads)
    assert not errors, errors[:3]


# ------------------------------------------------------------------------------------------------
# close() racing with calls
# ------------------------------------------------------------------------------------------------

RACE_SCRIPT = textwrap.dedent(r"""
    import collections, faulthandler, json, random, sys, threading, time
    faulthandler.enable()
    import tcfaceid
    from tcfaceid.emulator import Config, Emulator, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY

    rng = random.Random(7)
    outcomes = collections.Counter()
    bad = []
    with Emulator(Config(port=0, qps_enabled=False)) as emu:
        for rnd in range(16):
            emu.reset()
            slow = rnd % 2 == 1
            if slow:  # every call of the round is in flight when close() comes
                emu.fault("latency", count=1000, seconds=0.2)
            client = tcfaceid.Client(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, endpoint=emu.endpoint, proxy="",
                                     timeout=10, retry={"max_attempts": 1}, qps=False)
            started = threading.Barrier(9)

            def work(i):
                started.wait()
                while True:
                    try:
                        if i % 2:
                            r = client.call("GetLiveCode")
                            assert len(r["LiveCode"]) == 4
                        else:
                            client.prepare("GetLiveCode", {"i": i}, timestamp=1700000000)
                        outcomes["ok"] += 1
                    except tcfaceid.StateError:
                        outcomes["state"] += 1
                        return
                    except BaseException as e:
                        bad.append(repr(e))
                        return

            threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
            for t in threads:
                t.start()
            started.wait()
            time.sleep(0.1 if slow else rng.uniform(0, 0.03))
            closers = [threading.Thread(target=client.close) for _ in range(2)]
            for c in closers:
                c.start()
            client.close()
            for t in threads + closers:
                t.join(30)
            if any(t.is_alive() for t in threads + closers):
                print(json.dumps({"stuck": rnd}))
                sys.stdout.flush()
                import os
                os._exit(3)
            client.close()
            try:
                client.call("GetLiveCode")
            except tcfaceid.StateError:
                outcomes["after"] += 1
    print(json.dumps({"outcomes": outcomes, "bad": bad}))
""")


def test_close_racing_with_calls_does_not_crash() -> None:
    out = subprocess.run([sys.executable, "-X", "faulthandler", "-c", RACE_SCRIPT], capture_output=True, text=True,
                         timeout=120, cwd=str(ROOT))
    assert out.returncode == 0, f"exit {out.returncode}\n{out.stdout[-3000:]}\n{out.stderr[-6000:]}"
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["bad"] == [], report["bad"][:5]  # only success or StateError
    outcomes = report["outcomes"]
    assert outcomes["state"] == 16 * 8, outcomes  # every thread ended on StateError
    assert outcomes["after"] == 16 and outcomes["ok"] > 16 * 4, outcomes


# ------------------------------------------------------------------------------------------------
# leaks: references, Python memory, process memory
# ------------------------------------------------------------------------------------------------

@contextlib.contextmanager
def emulator_process(tmp_path: Path) -> Iterator[str]:
    """The emulator in its own process (QPS limits off, 8 KiB videos); yields its URL."""
    config = tmp_path / "emulator.json"
    config.write_text(json.dumps({"qps_enabled": False, "video_bytes": 8192}), encoding="utf-8")
    log = open(tmp_path / "emulator.stderr", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "tcfaceid.emulator", "--port", "0", "--config", str(config)],
                            stdout=subprocess.PIPE, stderr=log, cwd=str(ROOT))
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        assert line.startswith("tcfaceid emulator serving "), line
        yield line.split()[-1]
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        if proc.stdout:
            proc.stdout.close()
        log.close()


def control(endpoint: str, what: str, body: Optional[dict[str, Any]] = None) -> Any:
    u = urllib.parse.urlsplit(endpoint)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    try:
        conn.request("POST" if body is not None else "GET", f"/_emulator/{what}",
                     body=json.dumps(body).encode() if body is not None else None,
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        data = json.loads(resp.read())
        assert resp.status == 200, data
        return data
    finally:
        conn.close()


def rss_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def live_errors() -> int:
    return sum(1 for o in gc.get_objects() if isinstance(o, tcfaceid.Error))


WARM_UP = 600


def test_no_leaks_over_10000_calls_and_10000_failures(tmp_path: Path) -> None:
    with emulator_process(tmp_path) as endpoint:
        good = new_client(endpoint)
        wrong = new_client(endpoint, WRONG_KEY)
        refused = new_client("http://127.0.0.1:1")
        token = good.call("DetectAuth", {"RuleId": "1", "IdCard": ID_NO, "Name": NAME})["BizToken"]
        control(endpoint, "complete", {"token": token, "scenario": "pass"})
        # faults for two actions only: HTTP 502 pages and InternalError envelopes
        control(endpoint, "faults", {"kind": "http_5xx", "status": 502, "count": 100000, "action": "MobileStatus"})
        control(endpoint, "faults", {"kind": "internal_error", "count": 100000, "action": "GetActionSequence"})

        # Large requests and answers, so that leaking either per call shows in the RSS.
        detect = json.dumps({"RuleId": "1", "IdCard": ID_NO, "Name": NAME, "Extra": "备注" * 500,
                             "RedirectUrl": "https://example.com/cb?x=" + "a" * 990}, ensure_ascii=False).encode()
        video = {"BizToken": token, "RuleId": "1", "InfoType": "14"}
        video_text = json.dumps(video)
        video_bytes = video_text.encode()
        action_detect = "".join(["Detect", "Auth"])  # a str object of our own (not interned)
        action_info = "".join(["GetDetectInfo", "Enhanced"])
        truncated = detect[:-2]
        bad_token = {"BizToken": "00000000-0000-0000-0000-000000000000", "RuleId": "1"}
        mv_source = bytearray(video_bytes)
        first = good.call(action_info, video)
        assert len(first["VideoData"]["LivenessVideo"]) >= 8192, "the answer is not large"

        def succeed(i: int) -> None:
            k = i % 5
            if k == 0:
                assert good.call(action_detect, detect)["BizToken"]
            elif k == 1:
                r = good.call(action_info, video)
                assert r["VideoData"]["LivenessVideo"] == first["VideoData"]["LivenessVideo"]
            elif k == 2:
                assert good.call(action_info, video_text)["Text"]["ErrCode"] == 0
            elif k == 3:
                assert good.call(action_info, memoryview(mv_source))["Text"]["ErrCode"] == 0
            else:  # the C level directly: the result tuple's items are owned by us alone
                data, rid = good._core.call(action_info, mv_source)
                assert sys.getrefcount(data) == 2 and sys.getrefcount(rid) == 2
                assert len(data) > 8192

        weak_errors: list[Any] = []

        def fail(i: int) -> None:
            k = i % 6
            try:
                if k == 0:
                    good.call(action_info, bad_token)  # InvalidParameter from the service
                elif k == 1:
                    wrong.call(action_detect, detect)  # AuthFailure, large request
                elif k == 2:
                    good.call(action_detect, truncated)  # local JSONError, nothing sent
                elif k == 3:
                    refused.call("GetLiveCode")  # connection refused
                elif k == 4:
                    good.call("MobileStatus", {"Mobile": PHONE})  # HTTP 502 page
                else:
                    good.call("GetActionSequence")  # InternalError
            except tcfaceid.Error as e:
                assert e.code and e.message
                if i % 97 == 0:
                    weak_errors.append(weakref.ref(e))
            else:
                raise AssertionError(f"failure kind {k} succeeded")

        def refcounts() -> list[int]:
            return [sys.getrefcount(o) for o in (detect, video, video_text, video_bytes, action_detect, action_info,
                                                 truncated, bad_token, mv_source, token)]

        tracemalloc.start(1)
        try:
            for i in range(WARM_UP):  # pools, connections, caches
                succeed(i)
                fail(i)
            gc.collect()
            counts0, errors0 = refcounts(), live_errors()
            rss0 = rss_bytes()
            snap0 = tracemalloc.take_snapshot()
            t0 = time.monotonic()
            for i in range(10000):
                succeed(i)
            for i in range(10000):
                fail(i)
            elapsed = time.monotonic() - t0
            gc.collect()
            snap1 = tracemalloc.take_snapshot()
            rss1 = rss_bytes()
            counts1, errors1 = refcounts(), live_errors()
        finally:
            tracemalloc.stop()
        stats = control(endpoint, "stats")
        for c in (good, wrong, refused):
            c.close()

    assert counts1 == counts0, f"reference counts changed: {counts0} -> {counts1}"
    # the bytearray's buffer exports were released (a leaked buffer export makes it non-resizable)
    mv_source.extend(b" ")
    assert errors1 <= errors0, f"{errors1 - errors0} exception objects are still alive"
    assert weak_errors and all(r() is None for r in weak_errors), "exceptions are kept alive"
    filters = [tracemalloc.Filter(False, tracemalloc.__file__)]
    grown = sum(s.size_diff for s in snap1.filter_traces(filters).compare_to(snap0.filter_traces(filters), "filename"))
    assert grown < 256 * 1024, f"Python allocations grew by {grown} bytes over 20,000 calls"
    assert rss1 - rss0 < 5 * 1024 * 1024, f"RSS grew by {(rss1 - rss0) / 1048576:.1f} MiB over 20,000 calls"
    received = stats["received"]
    rounds = [*range(WARM_UP), *range(10000)]
    assert received.get("DetectAuth") == 1 + sum(i % 5 == 0 for i in rounds) + sum(i % 6 == 1 for i in rounds)
    assert received.get("MobileStatus") == sum(i % 6 == 4 for i in rounds), received
    assert received.get("GetActionSequence") == sum(i % 6 == 5 for i in rounds), received
    assert "GetLiveCode" not in received  # the refused calls
    assert elapsed < 60, elapsed
