"""Soak test (issue 7): 10,000 calls over 8 threads through ONE tcfaceid.Client against the emulator
in its own process, with about 5 % injected faults of every kind spread over the three retry classes
(read, session-create, billable), under the default retry policy (only the backoff delays are
shortened, so that it runs in well under two minutes).

Asserted: no crash (the calls run in this process); every call either succeeds with a plausible
answer or raises a tcfaceid.Error subclass, never anything else; every error's attempt count is
within max_attempts; no billable request is executed twice (the emulator's request and billing
counts, and the faults injected per action, account for every request); Python allocations
(tracemalloc) and RSS are stable after a warm-up; and no exception's str(), repr(), code or
message contains the secret key, an ID number, a name or a phone number used.

Faults are posted to the emulator's control API by the worker about to call the faulted action
(count 1, for that action), so each fault lands on a request of that action: the per-action
accounting below is exact.
"""

from __future__ import annotations

import collections
import contextlib
import gc
import json
import logging
import random
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any, Iterator, Optional

import pytest
from test_binding_threads import ROOT, control, rss_bytes

import tcfaceid
from tcfaceid.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY
from tcfaceid.emulator.identity import DEFAULT_PEOPLE

pytestmark = pytest.mark.slow

THREADS = 8
TOTAL_CALLS = 10_000
WARM_UP_PER_THREAD = 100  # calls per thread before the memory baseline
CALLS_PER_THREAD = TOTAL_CALLS // THREADS
FAULT_RATE = 0.05
MAX_ATTEMPTS = 3  # the default
TIMEOUT = 0.5  # per attempt; the latency fault waits longer than that
LATENCY = 1.2
# the default policy, with short backoff delays (the delays themselves are tested in C)
RETRY = {"base_delay": 0.001, "throttle_delay": 0.001, "max_delay": 0.01}

PEOPLE = [p for p in DEFAULT_PEOPLE[:3]]
FORBIDDEN = [DEFAULT_SECRET_KEY] + [p[k] for p in PEOPLE for k in ("name", "id_card", "phone")]

# action -> (retry class, weight)
ACTIONS = {
    "GetLiveCode": ("read", 20),
    "GetActionSequence": ("read", 20),
    "DetectAuth": ("session", 20),
    "IdCardVerification": ("billable", 25),
    "PhoneVerification": ("billable", 15),
}
BILLABLE = [a for a, (cls, _) in ACTIONS.items() if cls == "billable"]

# label -> control-API fault spec (without action/count); every kind the emulator can inject
FAULTS: dict[str, dict[str, Any]] = {
    "http_502": {"kind": "http_5xx", "status": 502},
    "http_503": {"kind": "http_5xx", "status": 503},
    "reset_before": {"kind": "reset", "phase": "before"},
    "reset_after": {"kind": "reset", "phase": "after"},
    "truncated": {"kind": "truncated"},
    "not_json": {"kind": "not_json"},
    "throttle": {"kind": "throttle"},
    "internal_error": {"kind": "internal_error"},
    "latency": {"kind": "latency", "seconds": LATENCY},
}
# faults that answer before the action runs: the request is not executed (nor billed)
NOT_EXECUTED = {"http_502", "http_503", "reset_before", "not_json", "throttle", "internal_error"}


@contextlib.contextmanager
def emulator_process(tmp_path: Path, config: dict[str, Any]) -> Iterator[str]:
    """The emulator in its own process, so that the memory measured is the client's; yields its URL."""
    path = tmp_path / "emulator.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    log = open(tmp_path / "emulator.stderr", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "tcfaceid.emulator", "--port", "0", "--config", str(path)],
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


def params(action: str, rng: random.Random) -> Optional[dict[str, str]]:
    p = rng.choice(PEOPLE)
    if action == "DetectAuth":
        return {"RuleId": "1", "IdCard": p["id_card"], "Name": p["name"]}
    if action == "IdCardVerification":
        return {"IdCard": p["id_card"], "Name": p["name"]}
    if action == "PhoneVerification":
        return {"IdCard": p["id_card"], "Name": p["name"], "Phone": p["phone"]}
    return None


def check_answer(action: str, resp: dict[str, Any]) -> None:
    if action == "GetLiveCode":
        assert len(resp["LiveCode"]) == 4, resp
    elif action == "GetActionSequence":
        assert resp["ActionSequence"], resp
    elif action == "DetectAuth":
        assert resp["BizToken"] and resp["Url"], resp
    else:
        assert resp["Result"] == "0", resp  # the default people are all genuine


class Worker:
    """One thread's calls and its own tallies (merged after the run; nothing per call is kept)."""

    def __init__(self, index: int, client: tcfaceid.Client, endpoint: str) -> None:
        self.rng = random.Random(1000 + index)
        self.client = client
        self.endpoint = endpoint
        self.calls: collections.Counter[str] = collections.Counter()
        self.ok: collections.Counter[str] = collections.Counter()
        self.errors: collections.Counter[tuple[str, str]] = collections.Counter()
        self.posted: collections.Counter[tuple[str, str]] = collections.Counter()
        self.bad: list[str] = []  # anything but success or a tcfaceid.Error (kept short)
        self.leaks: list[str] = []
        self.over_attempts: list[str] = []
        names, weights = zip(*((a, w) for a, (_, w) in ACTIONS.items()))
        self.names, self.weights = list(names), list(weights)

    def one(self) -> None:
        action = self.rng.choices(self.names, self.weights)[0]
        if self.rng.random() < FAULT_RATE:
            label = self.rng.choice(sorted(FAULTS))
            control(self.endpoint, "faults", {**FAULTS[label], "action": action, "count": 1})
            self.posted[(action, label)] += 1
        self.calls[action] += 1
        try:
            resp = self.client.call(action, params(action, self.rng))
            check_answer(action, resp)
            self.ok[action] += 1
        except tcfaceid.Error as e:
            self.errors[(action, type(e).__name__)] += 1
            if not 1 <= e.attempts <= MAX_ATTEMPTS and len(self.over_attempts) < 10:
                self.over_attempts.append(f"{action}: {type(e).__name__} attempts={e.attempts}")
            texts = (str(e), repr(e), str(e.code), str(e.message))
            for value in FORBIDDEN:
                if any(value in t for t in texts) and len(self.leaks) < 10:
                    self.leaks.append(f"{type(e).__name__}: {value!r} in {texts!r}")
        except BaseException as e:  # noqa: BLE001 - reported below
            if len(self.bad) < 10:
                self.bad.append(f"{action}: {e!r}")


def test_soak_10000_calls_8_threads_5_percent_faults(tmp_path: Path) -> None:
    limits = {"saas_id_per_minute": 1_000_000, "saas_id_per_day": 1_000_000, "idcard_name_per_day": 1_000_000,
              "idcard_id_per_day": 1_000_000, "element_per_day": 1_000_000}
    config = {"qps_enabled": False, "limits": limits}
    logger = logging.getLogger("tcfaceid")
    old_level = logger.level
    # The core logs a warning whenever the retry budget runs out; pytest keeps every captured
    # record, which would look like a leak. The run-wide redaction guard (conftest.py) still sees
    # every line: it wraps the bridge from the core, ahead of the logger's level.
    logger.setLevel(logging.CRITICAL)
    with emulator_process(tmp_path, config) as endpoint:
        client = tcfaceid.Client(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, endpoint=endpoint, proxy="",
                                 timeout=TIMEOUT, retry=dict(RETRY), qps=False)
        workers = [Worker(i, client, endpoint) for i in range(THREADS)]
        warm = threading.Barrier(THREADS + 1)
        go = threading.Barrier(THREADS + 1)

        def run(w: Worker) -> None:
            try:
                for _ in range(WARM_UP_PER_THREAD):
                    w.one()
            finally:
                warm.wait(300)
            go.wait(300)
            for _ in range(CALLS_PER_THREAD - WARM_UP_PER_THREAD):
                w.one()

        threads = [threading.Thread(target=run, args=(w,), name=f"soak-{i}") for i, w in enumerate(workers)]
        tracemalloc.start(1)
        try:
            t0 = time.monotonic()
            for t in threads:
                t.start()
            warm.wait(300)  # every worker is parked at the barrier: a quiet moment to measure
            gc.collect()
            snap0, rss0 = tracemalloc.take_snapshot(), rss_bytes()
            go.wait(300)
            for t in threads:
                t.join(300)
            elapsed = time.monotonic() - t0
            alive = [t.name for t in threads if t.is_alive()]
            gc.collect()
            snap1, rss1 = tracemalloc.take_snapshot(), rss_bytes()
        finally:
            tracemalloc.stop()
            logger.setLevel(old_level)
        assert not alive, f"threads are stuck: {alive}"
        client.close()
        time.sleep(LATENCY + 0.3)  # a request held by a latency fault runs (and bills) after its client gave up
        stats = control(endpoint, "stats")

    calls: collections.Counter[str] = sum((w.calls for w in workers), collections.Counter())
    ok: collections.Counter[str] = sum((w.ok for w in workers), collections.Counter())
    errors: collections.Counter[tuple[str, str]] = sum((w.errors for w in workers), collections.Counter())
    posted: collections.Counter[tuple[str, str]] = sum((w.posted for w in workers), collections.Counter())
    summary = json.dumps({"elapsed": round(elapsed, 1), "ok": ok, "errors": {f"{a}:{c}": n for (a, c), n in errors.items()},
                          "faults_applied": stats["faults_applied"], "received": stats["received"],
                          "billed": stats["billed"]}, ensure_ascii=False)
    print(summary)

    # every call: success or a tcfaceid.Error, within max_attempts, with redacted texts
    assert sum(calls.values()) == TOTAL_CALLS
    assert [b for w in workers for b in w.bad] == []
    assert sum(ok.values()) + sum(errors.values()) == TOTAL_CALLS
    assert [x for w in workers for x in w.over_attempts] == []
    assert [x for w in workers for x in w.leaks] == []

    # the faults were injected (about 5 %, every kind, every class) and every one was used
    n_faults = sum(posted.values())
    assert 0.035 * TOTAL_CALLS < n_faults < 0.065 * TOTAL_CALLS, n_faults
    assert {label for _, label in posted} == set(FAULTS)
    assert {ACTIONS[a][0] for a, _ in posted} == {"read", "session", "billable"}
    assert stats["faults_pending"] == [], stats["faults_pending"]
    assert sum(stats["faults_applied"].values()) == n_faults
    assert sum(ok.values()) > 0.9 * TOTAL_CALLS, summary  # faults are rare; the rest succeeds
    received = stats["received"]
    assert sum(received.values()) > TOTAL_CALLS, "nothing was retried"
    assert sum(received.get(a, 0) for a in ACTIONS) <= MAX_ATTEMPTS * TOTAL_CALLS

    # no billable request executed twice
    for action in BILLABLE:
        sent, billed = received.get(action, 0), stats["billed"].get(action, 0)
        ambiguous = errors[(action, "AmbiguousError")]
        throttled = posted[(action, "throttle")]
        not_executed = sum(n for (a, label), n in posted.items() if a == action and label in NOT_EXECUTED)
        # a billable request is sent again only after the service throttled it (not executed)
        assert calls[action] <= sent <= calls[action] + throttled, (action, summary)
        # every request that reached the action was billed once (the emulator's own accounting) ...
        assert billed == sent - not_executed, (action, summary)
        # ... and belongs to a call that succeeded or was reported ambiguous
        assert ok[action] <= billed <= ok[action] + ambiguous, (action, summary)
        assert {c for (a, c) in errors if a == action} <= {"AmbiguousError", "ThrottledError", "JSONError"}, summary

    # memory: Python allocations and RSS stable after the warm-up
    filters = [tracemalloc.Filter(False, tracemalloc.__file__)]
    grown = sum(s.size_diff for s in snap1.filter_traces(filters).compare_to(snap0.filter_traces(filters), "filename"))
    assert grown < 256 * 1024, f"Python allocations grew by {grown} bytes over {TOTAL_CALLS} calls"
    assert rss1 - rss0 < 5 * 1024 * 1024, f"RSS grew by {(rss1 - rss0) / 1048576:.1f} MiB"
    assert elapsed < 90, elapsed
