"""The SaaS and E-ID verification flows through ``tcfaceid.Client`` (detect_auth, detect_result,
get_eid_token, eid_status, wait_eid, eid_result), ``Session`` / ``EidSession``,
``tcfaceid.parse_redirect`` and ``decrypt_eid_info``, against the in-process emulator.

What the emulator received is read two ways: ``emu.stats()`` (requests per action, counted on
arrival — "no request was made" means the totals did not move) and a recorder that wraps the
emulator's action handlers for the test (``seen``), so the exact parameters of every call that
reached a handler (the normalised name, the uppercased X, the InfoType of each
GetDetectInfoEnhanced) are visible. Faults are the emulator's own (``emu.fault``), plus, where a
fault must hit one particular call among several of the same action, a failure raised by the
recorder for that call.

Time: the client gets ``clock=emu.now``, so ``emu.advance`` moves the client's view of sessions
too. The client signs with the machine's clock, and the emulator refuses signatures more than
300 s from *its* clock; tests that advance the clock and then call the API widen that window with
the ``lenient_skew`` fixture (the subject of those tests is the token lifetime, not the signature).
"""

from __future__ import annotations

import base64
import copy
import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import FrozenInstanceError
from typing import Any, Callable, Iterator, Optional

import pytest

import tcfaceid
from tcfaceid.emulator import (
    DEFAULT_MERCHANT_ID,
    DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM,
    DEFAULT_SECRET_ID,
    DEFAULT_SECRET_KEY,
    Config,
    Emulator,
    Rule,
)
from tcfaceid.emulator import auth as emu_auth
from tcfaceid.emulator import service as emu_service
from tcfaceid.emulator.errors import ApiError

# The emulator's default library (fictional people; the numbers only pass the checksums).
ID_NO = "110101199003071233"
NAME = "张三"
LISI_ID, LISI = "440304198512010027", "李四"
HK_ID, HK_NAME = "81000019920101003X", "陈大文"  # Hong Kong residence permit, check character X
UYGHUR_ID, UYGHUR = "650102197806154350", "阿卜杜拉·买买提"  # U+00B7 between the parts

TOKEN_LIFETIME = 7200
EID_TOKEN_LIFETIME = 600
RESULTS_LIFETIME = 3 * 86400

RECORDED = ("DetectAuth", "GetDetectInfoEnhanced", "GetEidToken", "CheckEidTokenStatus", "GetEidResult")


# ------------------------------------------------------------------------------------------------
# fixtures and helpers
# ------------------------------------------------------------------------------------------------

def new_client(emu: Emulator, **options: Any) -> tcfaceid.Client:
    options.setdefault("proxy", "")  # never through a proxy: traffic stays on 127.0.0.1
    options.setdefault("timeout", 10.0)
    options.setdefault("clock", emu.now)
    # one exchange per call, at full speed: what the flows do with failures is the subject here
    # (the transport's retries and QPS limits: test_reliability.py)
    options.setdefault("retry", {"max_attempts": 1})
    options.setdefault("qps", False)
    return tcfaceid.Client(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, endpoint=emu.endpoint, **options)


@pytest.fixture
def client(emu: Emulator) -> Iterator[tcfaceid.Client]:
    with new_client(emu) as c:
        yield c


@pytest.fixture
def lenient_skew(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the emulator accept signatures made with the machine's clock after emu.advance()."""
    monkeypatch.setattr(emu_auth, "MAX_SKEW", 10 * 86400)


class Recorder:
    """The parameters of every call that reached the emulator's handlers, in order; and a way to
    make one particular call fail (``fail_when``)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.lock = threading.Lock()
        self.failures: list[tuple[str, Callable[[dict[str, Any]], bool], Callable[[], None]]] = []

    def params(self, action: str) -> list[dict[str, Any]]:
        with self.lock:
            return [p for a, p in self.calls if a == action]

    def info_types(self, action: str = "GetDetectInfoEnhanced") -> list[Optional[str]]:
        return [p.get("InfoType") for p in self.params(action)]

    def fail_when(self, action: str, predicate: Callable[[dict[str, Any]], bool], effect: Callable[[], None]) -> None:
        """When a call of ``action`` whose parameters satisfy ``predicate`` arrives, run
        ``effect`` (which may raise an ApiError: the call's answer)."""
        self.failures.append((action, predicate, effect))


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    rec = Recorder()
    for name in RECORDED:
        original = emu_service.HANDLERS[name]

        def wrapper(svc: Any, call: Any, p: dict[str, Any], _orig: Any = original, _name: str = name) -> Any:
            with rec.lock:
                rec.calls.append((_name, copy.deepcopy(p)))
            for action, predicate, effect in list(rec.failures):
                if action == _name and predicate(p):
                    effect()
            return _orig(svc, call, p)

        monkeypatch.setitem(emu_service.HANDLERS, name, wrapper)
    return rec


def total(emu: Emulator) -> int:
    return int(emu.stats()["total"])


def received(emu: Emulator, action: str) -> int:
    return int(emu.stats()["received"].get(action, 0))


def start(client: tcfaceid.Client, **kwargs: Any) -> tcfaceid.Session:
    kwargs.setdefault("id_card", ID_NO)
    kwargs.setdefault("name", NAME)
    return client.detect_auth("1", **kwargs)


def norm(text: str) -> str:
    return text.lower().replace("_", "").replace(".", "").replace(" ", "")


def check_local_refusal(emu: Emulator, fn: Callable[[], Any], field: tuple[str, ...], *values: str) -> BaseException:
    """``fn`` raises InvalidArgumentError before any request; the message names the field (any of
    the spellings in ``field``) and quotes none of ``values``."""
    before = emu.stats()
    with pytest.raises(tcfaceid.InvalidArgumentError) as info:
        fn()
    e = info.value
    after = emu.stats()
    assert after["total"] == before["total"], f"a request was made: {before['received']} -> {after['received']}"
    assert e.code == "invalid_argument", e.code
    texts = [str(e), repr(e), e.message, *(str(a) for a in e.args)]
    if field:
        assert any(norm(f) in norm(e.message) for f in field), f"{e.message!r} does not name {field}"
    for value in values:
        for text in texts:
            assert value not in text, f"the value leaked into {text!r}"
    return e


def http_get(url: str) -> int:
    """GET a page of the emulator (127.0.0.1 only, no proxy); returns the status."""
    assert url.startswith("http://127.0.0.1:"), url
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=10) as resp:
            resp.read()
            return int(resp.status)
    except urllib.error.HTTPError as e:
        e.close()
        return int(e.code)


# ------------------------------------------------------------------------------------------------
# SaaS: detect_auth and the session value
# ------------------------------------------------------------------------------------------------

def test_detect_auth_session(emu: Emulator, client: tcfaceid.Client, seen: Recorder) -> None:
    t0 = emu.now()
    s = client.detect_auth("1", id_card=ID_NO, name=NAME, redirect_url="https://shop.example/back?o=1",
                           extra="order-42")
    t1 = emu.now()
    assert isinstance(s, tcfaceid.Session)
    assert isinstance(s.biz_token, str) and s.biz_token in emu.service.sessions
    assert s.url == f"{emu.endpoint}/h5/verify?token={s.biz_token}"
    assert s.rule_id == "1" and s.extra == "order-42"
    for value in (s.created_at, s.expires_at, s.results_until):
        assert type(value) is int
    assert t0 <= s.created_at <= t1
    assert s.expires_at == s.created_at + TOKEN_LIFETIME
    assert s.results_until == s.created_at + RESULTS_LIFETIME
    assert seen.params("DetectAuth") == [{"RuleId": "1", "IdCard": ID_NO, "Name": NAME,
                                          "RedirectUrl": "https://shop.example/back?o=1", "Extra": "order-42"}]
    assert received(emu, "DetectAuth") == 1 and total(emu) == 1
    # no extra: None
    assert start(client).extra is None
    # frozen
    with pytest.raises((FrozenInstanceError, AttributeError)):
        s.biz_token = "X"  # type: ignore[misc]


def test_exports() -> None:
    for name in ("Session", "EidSession", "Verdict", "Attempt", "parse_redirect", "decrypt_eid_info"):
        assert name in tcfaceid.__all__, name
        assert getattr(tcfaceid, name) is not None


def test_session_can_start(emu: Emulator, client: tcfaceid.Client) -> None:
    s = start(client)
    assert s.can_start() is True
    assert s.can_start(s.created_at) is True
    assert s.can_start(s.expires_at) is True
    assert s.can_start(s.expires_at + 1) is False


def test_session_json_round_trip(emu: Emulator, client: tcfaceid.Client) -> None:
    s = start(client, redirect_url="https://shop.example/back", extra="中文 extra \"quoted\"")
    text = s.to_json()
    assert isinstance(text, str)
    obj = json.loads(text)
    assert isinstance(obj, dict) and s.biz_token in obj.values()
    back = tcfaceid.Session.from_json(text)
    assert back == s
    assert (back.biz_token, back.url, back.rule_id, back.extra, back.created_at, back.expires_at,
            back.results_until) == (s.biz_token, s.url, s.rule_id, s.extra, s.created_at, s.expires_at,
                                    s.results_until)
    assert back.to_json() == text
    # no url / extra survive as None
    bare = tcfaceid.Session.from_json(start(client).to_json())
    assert bare.extra is None


@pytest.mark.parametrize("text", ["", "null", "[]", "{}", "not json", '"a string"', "{\"biz_token\": \"x\"}"])
def test_session_from_json_refuses_garbage(text: str) -> None:
    with pytest.raises(tcfaceid.JSONError):
        tcfaceid.Session.from_json(text)


def test_session_from_json_refuses_tampering(emu: Emulator, client: tcfaceid.Client) -> None:
    obj = json.loads(start(client).to_json())
    for key in ("expires_at", "results_until"):
        if key in obj:  # the stored lifetimes must be the documented ones
            bad = dict(obj, **{key: obj[key] + 1})
            with pytest.raises(tcfaceid.JSONError):
                tcfaceid.Session.from_json(json.dumps(bad))
    with pytest.raises(tcfaceid.JSONError):
        tcfaceid.Session.from_json(json.dumps({**obj, "unknown_member": 1}))


def test_session_used_from_another_process(emu: Emulator, client: tcfaceid.Client) -> None:
    s = start(client)
    stored = s.to_json()  # e.g. in the business's database
    emu.complete(s.biz_token, "retry_then_pass")
    # another client object in this process
    with new_client(emu) as other:
        v = other.detect_result(tcfaceid.Session.from_json(stored))
    assert v.status == "PASSED" and len(v.attempts) == 2
    # and a real other process, which knows only the JSON text
    script = (
        "import sys, tcfaceid\n"
        "from tcfaceid.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY\n"
        "s = tcfaceid.Session.from_json(sys.stdin.read())\n"
        "with tcfaceid.Client(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, endpoint=sys.argv[1], proxy='') as c:\n"
        "    v = c.detect_result(s)\n"
        "print(v.status, v.code, len(v.attempts))\n"
    )
    done = subprocess.run([sys.executable, "-c", script, emu.endpoint], input=stored, capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["PASSED", "0", "2"]


def test_session_repr_hides_token(emu: Emulator, client: tcfaceid.Client) -> None:
    s = start(client, redirect_url="https://shop.example/back", extra="order-42")
    for text in (repr(s), str(s), f"{s!r}", repr([s])):
        assert s.biz_token not in text, text
        assert ID_NO not in text and NAME not in text
    assert "Session" in repr(s)


# ------------------------------------------------------------------------------------------------
# SaaS: detect_result and the verdicts
# ------------------------------------------------------------------------------------------------

def test_pass(emu: Emulator, client: tcfaceid.Client, seen: Recorder) -> None:
    s = start(client)
    emu.complete(s.biz_token, "pass")
    v = client.detect_result(s)
    assert isinstance(v, tcfaceid.Verdict)
    assert v.status == "PASSED" and v.passed and v.code == 0 and v.billed is True
    assert v.part_errors == {}
    assert len(v.attempts) == 1 and v.attempts[0].errcode == 0 and isinstance(v.attempts[0].sim, float)
    assert v.text is not None and v.text["ErrCode"] == 0 and v.text["IdCard"] == ID_NO
    assert isinstance(v.response, dict) and v.response["Text"] == v.text
    # one call, the text only, with the session's RuleId
    assert [(p["BizToken"], p["RuleId"], p.get("InfoType")) for p in seen.params("GetDetectInfoEnhanced")] == \
        [(s.biz_token, "1", "1")]
    assert received(emu, "GetDetectInfoEnhanced") == 1


def test_fail_liveness(emu: Emulator, client: tcfaceid.Client) -> None:
    s = start(client)
    emu.complete(s.biz_token, "fail_liveness")
    v = client.detect_result(s)
    assert v.status == "FAILED" and not v.passed and v.code == 1002 and v.reason
    assert len(v.attempts) == 1
    a = v.attempts[0]
    assert (a.errcode, a.livestatus, a.comparestatus, a.sim) == (1002, 1002, None, None)


def test_fail_compare(emu: Emulator, client: tcfaceid.Client) -> None:
    s = start(client)
    emu.complete(s.biz_token, "fail_compare", code=2006)
    v = client.detect_result(s)
    assert v.status == "FAILED" and v.code == 2006 and v.billed is True
    a = v.attempts[-1]
    assert (a.errcode, a.livestatus, a.comparestatus) == (2006, 0, 2006)
    assert isinstance(a.sim, float) and a.sim < 70


def test_retry_then_pass(emu: Emulator, client: tcfaceid.Client) -> None:
    s = start(client)
    emu.complete(s.biz_token, "retry_then_pass")
    v = client.detect_result(s)
    assert v.status == "PASSED" and v.code == 0
    assert len(v.attempts) == 2
    first, second = v.attempts
    assert (first.errcode, first.livestatus, first.comparestatus, first.sim) == (1002, 1002, None, None)
    assert (second.errcode, second.livestatus, second.comparestatus) == (0, 0, 0)
    assert type(second.sim) is float and 85 <= second.sim <= 99
    assert second.sim == float(v.text["LivenessDetail"][1]["Sim"])
    assert all(isinstance(a, tcfaceid.Attempt) for a in v.attempts)
    assert first.req_time_ms is not None and second.req_time_ms is not None
    assert first.req_time_ms <= second.req_time_ms


@pytest.mark.parametrize("how", ["abandon", "not_completed"])
def test_pending(emu: Emulator, client: tcfaceid.Client, how: str) -> None:
    s = start(client)
    if how == "abandon":
        emu.complete(s.biz_token, "abandon")
    v = client.detect_result(s)
    assert v.status == "PENDING" and not v.passed
    assert v.code is None and v.attempts == ()
    assert v.response is not None and v.part_errors == {}


def test_detect_result_bare_token(emu: Emulator, client: tcfaceid.Client, seen: Recorder) -> None:
    s = start(client)
    emu.complete(s.biz_token, "pass")
    v = client.detect_result(s.biz_token, rule_id="1")
    assert v.status == "PASSED"
    assert [p["RuleId"] for p in seen.params("GetDetectInfoEnhanced")] == ["1"]
    v = client.detect_result(s.biz_token, "1")
    assert v.status == "PASSED"


def test_detect_result_bare_token_needs_rule_id(emu: Emulator, client: tcfaceid.Client) -> None:
    s = start(client)
    before = total(emu)
    with pytest.raises((tcfaceid.InvalidArgumentError, TypeError)):
        client.detect_result(s.biz_token)
    assert total(emu) == before


def test_detect_result_bare_token_other_rule_is_a_service_error() -> None:
    # With a bare token the client cannot know the RuleId: the service's answer (非法BizToken) is raised.
    with Emulator(Config(port=0, rules=[Rule("1"), Rule("2")])) as emu, new_client(emu) as client:
        s = start(client)
        emu.complete(s.biz_token, "pass")
        with pytest.raises(tcfaceid.InvalidParameterError) as e:
            client.detect_result(s.biz_token, rule_id="2")
        assert e.value.code == "InvalidParameter"
        assert received(emu, "GetDetectInfoEnhanced") == 1


def test_mismatched_rule_id_refused_locally() -> None:
    with Emulator(Config(port=0, rules=[Rule("1"), Rule("2")])) as emu, new_client(emu) as client:
        s = start(client)
        emu.complete(s.biz_token, "pass")
        before = emu.stats()
        with pytest.raises(tcfaceid.InvalidArgumentError):
            client.detect_result(s, rule_id="2")
        assert emu.stats()["total"] == before["total"]
        assert received(emu, "GetDetectInfoEnhanced") == 0
        # the session's own RuleId, given explicitly, is fine
        assert client.detect_result(s, rule_id="1").status == "PASSED"


def test_token_expired_without_completion(emu: Emulator, client: tcfaceid.Client, lenient_skew: None) -> None:
    s = start(client)
    emu.advance(TOKEN_LIFETIME + 1)
    assert s.can_start(emu.now()) is False
    v = client.detect_result(s)  # the service says BizTokenExpired: a verdict, not an exception
    assert v.status == "EXPIRED" and not v.passed
    assert received(emu, "GetDetectInfoEnhanced") >= 1
    assert emu.stats()["errors"].get("InvalidParameterValue.BizTokenExpired", 0) >= 1
    # the same with a bare token
    assert client.detect_result(s.biz_token, rule_id="1").status == "EXPIRED"


def test_completed_results_outlive_the_token(emu: Emulator, client: tcfaceid.Client, lenient_skew: None) -> None:
    s = start(client)
    emu.complete(s.biz_token, "pass")
    emu.advance(TOKEN_LIFETIME + 1)
    assert client.detect_result(s).status == "PASSED"  # results stay for 3 days
    emu.advance(RESULTS_LIFETIME - TOKEN_LIFETIME - 60)  # a minute before the results window closes
    assert client.detect_result(s).status == "PASSED"
    assert received(emu, "GetDetectInfoEnhanced") == 2


def test_results_after_three_days_refused_locally(emu: Emulator, client: tcfaceid.Client) -> None:
    s = start(client)
    emu.complete(s.biz_token, "pass")
    emu.advance(RESULTS_LIFETIME + 1)
    before = emu.stats()
    v = client.detect_result(s)
    after = emu.stats()
    assert v.status == "EXPIRED" and not v.passed
    assert v.response is None
    assert after["total"] == before["total"], "a request was made for results known to be gone"
    assert received(emu, "GetDetectInfoEnhanced") == 0
    # also when other parts are asked for
    assert client.detect_result(s, parts=("text", "video")).status == "EXPIRED"
    assert total(emu) == before["total"]


def test_lifetimes_follow_the_client_clock(emu: Emulator) -> None:
    # The client's clock alone decides the local checks (the emulator's clock does not move here).
    now = [float(emu.now())]
    with new_client(emu, clock=lambda: now[0]) as client:
        s = start(client)
        assert s.created_at == int(now[0])
        emu.complete(s.biz_token, "pass")
        now[0] = s.expires_at + 1  # past the token's lifetime: results are still there, so it asks
        assert client.detect_result(s).status == "PASSED"
        now[0] = s.results_until  # the last second of the results window: still asks
        assert client.detect_result(s).status == "PASSED"
        assert received(emu, "GetDetectInfoEnhanced") == 2
        now[0] = s.results_until + 1  # then it does not
        assert client.detect_result(s).status == "EXPIRED"
        assert received(emu, "GetDetectInfoEnhanced") == 2


def test_wait_eid_default_timeout_follows_the_client_clock(emu: Emulator) -> None:
    now = [float(emu.now())]
    with new_client(emu, clock=lambda: now[0]) as client:
        s = eid_start(client, input_type=4, id_card=LISI_ID, name=LISI)
        now[0] = s.expires_at + 31  # by the client's clock the token died more than 30 s ago
        t0 = time.monotonic()
        with pytest.raises(tcfaceid.TimeoutError):
            client.wait_eid(s, interval=0.05)  # the emulator still says "init"
        assert time.monotonic() - t0 < 2
        assert 1 <= received(emu, "CheckEidTokenStatus") <= 2


# ------------------------------------------------------------------------------------------------
# SaaS: parts
# ------------------------------------------------------------------------------------------------

def test_parts_are_separate_calls(emu: Emulator, client: tcfaceid.Client, seen: Recorder) -> None:
    s = start(client)
    emu.complete(s.biz_token, "pass", video_bytes=4096)
    v = client.detect_result(s, parts=("text", "best_frame", "video"))
    assert v.status == "PASSED" and v.part_errors == {}
    types = seen.info_types()
    assert types[0] == "1", f"the text is fetched first, in its own call: {types}"
    assert sorted(types[1:]) == ["3", "4"], types
    assert received(emu, "GetDetectInfoEnhanced") == 3
    r = v.response
    assert r["Text"]["ErrCode"] == 0
    assert base64.b64decode(r["BestFrame"]["BestFrame"]).startswith(b"\x89PNG")
    video = base64.b64decode(r["VideoData"]["LivenessVideo"])
    assert len(video) == 4096 and video[4:8] == b"ftyp"


def test_parts_by_info_type_digits(emu: Emulator, client: tcfaceid.Client, seen: Recorder) -> None:
    s = start(client)
    emu.complete(s.biz_token, "pass")
    v = client.detect_result(s, parts=("1", "3"), best_frames=2)
    assert v.status == "PASSED"
    assert seen.info_types() == ["1", "3"]
    calls = seen.params("GetDetectInfoEnhanced")
    assert calls[1].get("BestFramesCount") == 2
    assert "BestFramesCount" not in calls[0], "the text call has no BestFramesCount"
    assert len(v.response["BestFrame"]["BestFrames"]) == 2


def test_parts_all(emu: Emulator, client: tcfaceid.Client) -> None:
    s = start(client)
    emu.complete(s.biz_token, "pass", video_bytes=1024)
    v = client.detect_result(s, parts=("all",))
    assert v.status == "PASSED" and v.part_errors == {}
    assert v.response["BestFrame"]["BestFrame"] and v.response["VideoData"]["LivenessVideo"]


@pytest.mark.parametrize("parts", [("bogus",), ("text", "9"), ("eid_info",)])
def test_parts_unknown_refused(emu: Emulator, client: tcfaceid.Client, parts: tuple[str, ...]) -> None:
    s = start(client)
    check_local_refusal(emu, lambda: client.detect_result(s, parts=parts), ())


def test_failing_media_call_lands_in_part_errors(emu: Emulator, client: tcfaceid.Client, seen: Recorder) -> None:
    s = start(client)
    emu.complete(s.biz_token, "pass")

    def fail() -> None:
        raise ApiError("InternalError", "内部错误。")

    seen.fail_when("GetDetectInfoEnhanced", lambda p: p.get("InfoType") == "4", fail)
    v = client.detect_result(s, parts=("text", "best_frame", "video"))
    assert v.status == "PASSED" and v.code == 0, "a failed media call must not fail the verdict"
    assert set(v.part_errors) == {"video"}, v.part_errors
    err = v.part_errors["video"]
    assert isinstance(err, tcfaceid.ServiceError) and err.code == "InternalError"
    assert v.response.get("VideoData") is None
    assert v.response["BestFrame"]["BestFrame"]
    assert received(emu, "GetDetectInfoEnhanced") == 3


def test_media_call_with_injected_http_fault(emu: Emulator, client: tcfaceid.Client, seen: Recorder) -> None:
    # The emulator's own fault injection: once the text call has arrived, the next
    # GetDetectInfoEnhanced (the video) gets an HTML 502 page.
    s = start(client)
    emu.complete(s.biz_token, "retry_then_pass")
    seen.fail_when("GetDetectInfoEnhanced", lambda p: p.get("InfoType") == "1",
                   lambda: emu.fault("http_5xx", status=502, action="GetDetectInfoEnhanced"))
    v = client.detect_result(s, parts=("text", "video"))
    assert v.status == "PASSED" and len(v.attempts) == 2
    assert set(v.part_errors) == {"video"}
    assert isinstance(v.part_errors["video"], tcfaceid.HTTPError)
    assert v.response.get("VideoData") is None
    assert emu.stats()["faults_applied"].get("http_5xx") == 1
    assert received(emu, "GetDetectInfoEnhanced") == 2


def test_id_card_part_with_ocr_rule(seen: Recorder) -> None:
    with Emulator(Config(port=0, rules=[Rule("1"), Rule("ocr", ocr=True)])) as emu, new_client(emu) as client:
        s = client.detect_auth("ocr")  # the person's card is read on the page: no IdCard / Name needed
        assert s.rule_id == "ocr"
        emu.complete(s.biz_token, "pass")
        v = client.detect_result(s, parts=("text", "id_card"), cut_id_card_image=True, id_card_avatar=True)
        assert v.status == "PASSED" and v.part_errors == {}
        calls = seen.params("GetDetectInfoEnhanced")
        assert [c.get("InfoType") for c in calls] == ["1", "2"]
        assert all(c["RuleId"] == "ocr" for c in calls)
        assert calls[1].get("IsCutIdCardImage") is True and calls[1].get("IsNeedIdCardAvatar") is True
        assert "IsCutIdCardImage" not in calls[0] and "IsNeedIdCardAvatar" not in calls[0]
        data = v.response["IdCardData"]
        for key in ("OcrFront", "OcrBack", "ProcessedFrontImage", "Avatar"):
            assert base64.b64decode(data[key]).startswith(b"\x89PNG"), key
        assert v.text["OcrIdCard"] == ID_NO and v.text["IdInfoFrom"] == "OCR"


def test_failing_text_call_raises(emu: Emulator, client: tcfaceid.Client) -> None:
    # The text decides the verdict: without it there is no verdict, so its failure is raised.
    s = start(client)
    emu.complete(s.biz_token, "pass")
    emu.fault("internal_error", action="GetDetectInfoEnhanced")
    with pytest.raises(tcfaceid.ServiceError):
        client.detect_result(s)


# ------------------------------------------------------------------------------------------------
# SaaS: intention
# ------------------------------------------------------------------------------------------------

QUESTIONS = [{"question": "您是否本人自愿办理此业务？", "answers": ["是", "是的"]},
             {"question": "您是否已知晓风险？", "answers": ["知晓"]}]
ACTIONS = ["请点头确认本人自愿办理", "请再次点头"]
READ_TEXT = "本人自愿办理此业务"


def test_intention_read_aloud(emu: Emulator, client: tcfaceid.Client, seen: Recorder) -> None:
    s = start(client, intention_verify_text=READ_TEXT)
    sent = seen.params("DetectAuth")[0]
    assert sent["IntentionVerifyText"] == READ_TEXT
    emu.complete(s.biz_token, "pass")
    v = client.detect_result(s)
    assert v.status == "PASSED" and v.intention_code == 0
    assert seen.info_types() == ["1", "5"], "the read-aloud result (InfoType 5) is fetched automatically"
    assert v.response["IntentionVerifyData"]["ErrorCode"] == 0
    assert v.response["IsVerifyIntention"] is True

    bad = start(client, intention_verify_text=READ_TEXT)
    emu.complete(bad.biz_token, "fail_intention")
    v = client.detect_result(bad)
    assert v.status == "FAILED" and v.code == 0 and v.intention_code == -10


def test_intention_questions(emu: Emulator, client: tcfaceid.Client, seen: Recorder) -> None:
    s = start(client, intention_questions=QUESTIONS)
    sent = seen.params("DetectAuth")[0]
    assert sent["IntentionQuestions"] == [{"Question": q["question"], "Answers": q["answers"]} for q in QUESTIONS]
    # IntentionType 0 (Q&A) is the service's default: sent as 0 or left out
    assert sent.get("Config", {}).get("IntentionType", 0) == 0
    assert "IntentionActions" not in sent
    assert emu.service.sessions[s.biz_token].intention == "0"
    emu.complete(s.biz_token, "pass")
    v = client.detect_result(s)
    assert v.status == "PASSED" and v.intention_code == 0
    assert seen.info_types() == ["1", "6"]
    assert v.response["IntentionQuestionResult"]["FinalResultDetailCode"] == 0

    bad = start(client, intention_questions=QUESTIONS, intention_type=0)  # a consistent explicit type
    emu.complete(bad.biz_token, "fail_intention")
    v = client.detect_result(bad)
    assert v.status == "FAILED" and v.code == 0 and v.intention_code == -301


def test_intention_actions(emu: Emulator, client: tcfaceid.Client, seen: Recorder) -> None:
    s = start(client, intention_actions=ACTIONS)
    sent = seen.params("DetectAuth")[0]
    assert sent["IntentionActions"] == [{"Text": t} for t in ACTIONS]
    assert sent["Config"]["IntentionType"] == 1
    assert emu.service.sessions[s.biz_token].intention == "1"
    emu.complete(s.biz_token, "fail_intention")
    v = client.detect_result(s)
    assert v.status == "FAILED" and v.code == 0 and v.intention_code == -301
    assert seen.info_types() == ["1", "6"]
    assert len(v.response["IntentionActionResult"]["Details"]) == len(ACTIONS)


def test_intention_part_asked_for_is_not_fetched_twice(emu: Emulator, client: tcfaceid.Client, seen: Recorder) -> None:
    s = start(client, intention_actions=ACTIONS)
    emu.complete(s.biz_token, "pass")
    v = client.detect_result(s, parts=("text", "intention_result"))
    assert v.status == "PASSED" and v.intention_code == 0
    assert seen.info_types() == ["1", "6"]
    r = start(client, intention_verify_text=READ_TEXT)
    emu.complete(r.biz_token, "pass")
    v = client.detect_result(r, parts=("text", "intention_verify"))
    assert v.status == "PASSED"
    assert seen.info_types()[2:] == ["1", "5"]


def test_failed_intention_fetch_never_passes(emu: Emulator, client: tcfaceid.Client, seen: Recorder) -> None:
    # Liveness and comparison passed, but the intention result (fetched automatically) could not be
    # read: the verdict must not say PASSED.
    s = start(client, intention_questions=QUESTIONS)
    emu.complete(s.biz_token, "pass")
    seen.fail_when("GetDetectInfoEnhanced", lambda p: p.get("InfoType") == "1",
                   lambda: emu.fault("internal_error", action="GetDetectInfoEnhanced"))
    v = client.detect_result(s)
    assert seen.info_types() == ["1"] and received(emu, "GetDetectInfoEnhanced") == 2
    assert v.status == "PENDING" and not v.passed, v
    assert v.code == 0
    assert set(v.part_errors) == {"intention_result"}
    assert isinstance(v.part_errors["intention_result"], tcfaceid.ServiceError)


def test_no_intention_no_extra_call(emu: Emulator, client: tcfaceid.Client, seen: Recorder) -> None:
    s = start(client)
    emu.complete(s.biz_token, "pass")
    client.detect_result(s)
    assert seen.info_types() == ["1"]


def test_intention_options_sent(emu: Emulator, client: tcfaceid.Client, seen: Recorder) -> None:
    start(client, intention_questions=QUESTIONS, intention_recognition=True, mouth_open_recognition=True, speed=2)
    config = seen.params("DetectAuth")[0]["Config"]
    assert config.get("IntentionType", 0) == 0
    assert config.get("IntentionRecognition") is True
    assert config.get("MouthOpenRecognition") is True
    assert config.get("Speed") == 2


# ------------------------------------------------------------------------------------------------
# SaaS: local validation (no request, no value in the message) and normalisation
# ------------------------------------------------------------------------------------------------

BAD_ID = "110101199003071234"  # wrong check character
LONG_NAME = "张" * 33


def _long_b64() -> str:
    return "A" * (3 * 1024 * 1024 + 4)


REFUSED: list[tuple[str, dict[str, Any], tuple[str, ...], tuple[str, ...]]] = [
    # (case, kwargs, field spellings, values that must not be quoted)
    ("id checksum", {"id_card": BAD_ID}, ("IdCard", "id_card"), (BAD_ID,)),
    ("id bad check character", {"id_card": "11010519491231002Y"}, ("IdCard", "id_card"),
     ("11010519491231002Y",)),
    ("name too long", {"name": LONG_NAME}, ("Name",), (LONG_NAME,)),
    ("redirect ftp", {"redirect_url": "ftp://shop.example/secret-path"}, ("RedirectUrl", "redirect_url"),
     ("secret-path",)),
    ("redirect javascript", {"redirect_url": "javascript:alert(1)"}, ("RedirectUrl", "redirect_url"), ("alert(1)",)),
    ("redirect too long", {"redirect_url": "https://shop.example/" + "p" * 1004}, ("RedirectUrl", "redirect_url"),
     ("p" * 50,)),
    ("extra too long", {"extra": "e" * 1025}, ("Extra",), ("e" * 50,)),
    ("extra too many bytes", {"extra": "中" * 342}, ("Extra",), ("中" * 20,)),  # 342 characters, 1026 bytes
    ("image bytes too large", {"image": b"\0" * (3 * 1024 * 1024 // 4 * 3 + 1)}, ("image", "ImageBase64"), ()),
    ("image base64 too large", {"image": _long_b64()}, ("image", "ImageBase64"), ()),
    ("image not base64", {"image": "not*base64!"}, ("image", "ImageBase64"), ("not*base64!",)),
    ("intention text too long", {"intention_verify_text": "读" * 121}, ("IntentionVerifyText", "intention"),
     ("读" * 20,)),
    ("questions and actions", {"intention_questions": QUESTIONS, "intention_actions": ACTIONS}, ("intention",), ()),
    ("type contradicts questions", {"intention_questions": QUESTIONS, "intention_type": 1}, ("intention",), ()),
    ("type contradicts actions", {"intention_actions": ACTIONS, "intention_type": 0}, ("intention",), ()),
    ("no rounds", {"intention_questions": []}, ("intention",), ()),
    ("11 question rounds", {"intention_questions": [{"question": "问题", "answers": ["是"]}] * 11}, ("intention",), ()),
    ("question too long", {"intention_questions": [{"question": "问" * 251, "answers": ["是"]}]}, ("intention",),
     ("问" * 50,)),
    ("no answers", {"intention_questions": [{"question": "问题", "answers": []}]}, ("intention",), ()),
    ("51 answers", {"intention_questions": [{"question": "问题", "answers": ["是"] * 51}]}, ("intention",), ()),
    ("answer too long", {"intention_questions": [{"question": "问题", "answers": ["是" * 11]}]}, ("intention",),
     ("是" * 11,)),
    ("no nod rounds", {"intention_actions": []}, ("intention",), ()),
    ("11 nod rounds", {"intention_actions": ["点头"] * 11}, ("intention",), ()),
    ("nod text too long", {"intention_actions": ["点" * 251]}, ("intention",), ("点" * 50,)),
    ("speed 4", {"speed": 4}, ("speed",), ()),
    ("speed -1", {"speed": -1}, ("speed",), ()),
]


@pytest.mark.parametrize("kwargs,field,values", [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_detect_auth_refused_locally(emu: Emulator, client: tcfaceid.Client, kwargs: dict[str, Any],
                                     field: tuple[str, ...], values: tuple[str, ...]) -> None:
    check_local_refusal(emu, lambda: start(client, **kwargs), field, *values)


def test_detect_auth_id_card_refused_with_identity_in_message_nowhere(emu: Emulator, client: tcfaceid.Client) -> None:
    # the other identity field of the call is not quoted either
    check_local_refusal(emu, lambda: client.detect_auth("1", id_card=BAD_ID, name=NAME), ("IdCard", "id_card"),
                        BAD_ID, NAME)


def test_lowercase_x_accepted_and_sent_uppercase(emu: Emulator, client: tcfaceid.Client, seen: Recorder) -> None:
    s = client.detect_auth("1", id_card=HK_ID.lower(), name=HK_NAME)
    assert seen.params("DetectAuth")[0]["IdCard"] == HK_ID
    assert emu.service.sessions[s.biz_token].id_card == HK_ID
    emu.complete(s.biz_token, "pass")
    assert client.detect_result(s).text["IdCard"] == HK_ID


@pytest.mark.parametrize("dot", ["•", "・", "．", "‧", "⋅", ".", "·"])
def test_name_interpunct_normalised(emu: Emulator, client: tcfaceid.Client, seen: Recorder, dot: str) -> None:
    s = client.detect_auth("1", id_card=UYGHUR_ID, name=f"阿卜杜拉{dot}买买提")
    assert seen.params("DetectAuth")[0]["Name"] == UYGHUR
    assert emu.service.sessions[s.biz_token].name == UYGHUR
    emu.complete(s.biz_token, "pass")
    assert client.detect_result(s).text["Name"] == UYGHUR


def test_name_of_32_characters_accepted(emu: Emulator, client: tcfaceid.Client, seen: Recorder) -> None:
    start(client, name="张" * 32)
    assert seen.params("DetectAuth")[0]["Name"] == "张" * 32


def test_extra_limits(emu: Emulator, client: tcfaceid.Client, seen: Recorder) -> None:
    start(client, extra="e" * 1024)
    start(client, extra="中" * 341)  # 1023 bytes
    assert [p["Extra"] for p in seen.params("DetectAuth")] == ["e" * 1024, "中" * 341]


PHOTO = bytes(range(256)) * 3 + b"tcfaceid photo"
PHOTO_B64 = base64.b64encode(PHOTO).decode()


@pytest.mark.parametrize("image", [
    PHOTO,
    PHOTO_B64,
    "data:image/jpeg;base64," + PHOTO_B64,
    "DATA:image/png;base64," + PHOTO_B64,
    "data:image/jpeg;base64,\n" + "\r\n".join(PHOTO_B64[i:i + 76] for i in range(0, len(PHOTO_B64), 76)) + "\n",
], ids=["bytes", "base64", "data-uri", "data-uri-uppercase", "data-uri-with-line-breaks"])
def test_image_accepted(emu: Emulator, client: tcfaceid.Client, seen: Recorder, image: Any) -> None:
    start(client, image=image)
    assert seen.params("DetectAuth")[0]["ImageBase64"] == PHOTO_B64


def test_image_of_exactly_3_mib_base64_accepted(emu: Emulator, client: tcfaceid.Client, seen: Recorder) -> None:
    raw = b"\x89PNG" + b"\0" * (3 * 1024 * 1024 // 4 * 3 - 4)  # base64: exactly 3,145,728 characters
    start(client, image=raw)
    sent = seen.params("DetectAuth")[0]["ImageBase64"]
    assert len(sent) == 3 * 1024 * 1024 and base64.b64decode(sent) == raw


def test_redirect_url_accepted(emu: Emulator, client: tcfaceid.Client, seen: Recorder) -> None:
    url = "https://shop.example/back?" + "q" * (1024 - len("https://shop.example/back?"))
    assert len(url) == 1024
    s = start(client, redirect_url=url)
    start(client, redirect_url="http://127.0.0.1:8080/back")
    assert [p["RedirectUrl"] for p in seen.params("DetectAuth")] == [url, "http://127.0.0.1:8080/back"]
    assert s.url is not None


# ------------------------------------------------------------------------------------------------
# Redaction
# ------------------------------------------------------------------------------------------------

def test_verdict_repr_hides_identity(emu: Emulator, client: tcfaceid.Client) -> None:
    s = start(client)
    emu.complete(s.biz_token, "retry_then_pass")
    v = client.detect_result(s, parts=("text", "best_frame"))
    assert v.text["IdCard"] == ID_NO and v.text["Name"] == NAME  # the data is there ...
    for text in (repr(v), str(v), f"{v!r}", repr([v])):  # ... but never shown
        assert ID_NO not in text and NAME not in text and s.biz_token not in text, text


# ------------------------------------------------------------------------------------------------
# E-ID
# ------------------------------------------------------------------------------------------------

def eid_start(client: tcfaceid.Client, **kwargs: Any) -> tcfaceid.EidSession:
    return client.get_eid_token(DEFAULT_MERCHANT_ID, **kwargs)


@pytest.mark.parametrize("input_type", [1, 2, 3, 4])
def test_get_eid_token_input_types(emu: Emulator, client: tcfaceid.Client, seen: Recorder, input_type: int) -> None:
    kwargs: dict[str, Any] = {"input_type": input_type}
    if input_type == 4:
        kwargs.update(id_card=LISI_ID, name=LISI)
    t0 = emu.now()
    s = eid_start(client, redirect_url="https://shop.example/eid/back", extra="e-7", **kwargs)
    t1 = emu.now()
    assert isinstance(s, tcfaceid.EidSession)
    assert s.eid_token in emu.service.eid_sessions
    assert s.url == f"{emu.endpoint}/eid/verify?token={s.eid_token}"
    assert s.merchant_id == DEFAULT_MERCHANT_ID and s.extra == "e-7"
    for value in (s.created_at, s.expires_at, s.results_until):
        assert type(value) is int
    assert t0 <= s.created_at <= t1
    assert s.expires_at == s.created_at + EID_TOKEN_LIFETIME
    assert s.results_until == s.created_at + RESULTS_LIFETIME
    sent = seen.params("GetEidToken")[0]
    assert sent["Config"]["InputType"] == str(input_type)
    assert emu.service.eid_sessions[s.eid_token].input_type == str(input_type)
    if input_type == 4:
        assert (sent["IdCard"], sent["Name"]) == (LISI_ID, LISI)


@pytest.mark.parametrize("kwargs", [
    {"input_type": 4},
    {"input_type": 4, "name": LISI},
    {"input_type": 4, "id_card": LISI_ID},
    {"input_type": 0},
    {"input_type": 5},
    {"id_card": BAD_ID, "name": LISI, "input_type": 4},
    {"redirect_url": "ftp://shop.example/back"},
    {"extra": "e" * 1025},
    {"speed": 4},
    {"speed": -1},
    {"use_intention_verify": True, "intention_questions": []},
    {"use_intention_verify": True, "intention_actions": ["点" * 251]},
], ids=["4-without-identity", "4-without-id", "4-without-name", "type-0", "type-5", "bad-id", "bad-redirect",
        "extra-too-long", "speed-4", "speed-minus-1", "no-question-rounds", "nod-text-too-long"])
def test_get_eid_token_refused_locally(emu: Emulator, client: tcfaceid.Client, kwargs: dict[str, Any]) -> None:
    secrets = tuple(v for k, v in kwargs.items() if k in ("id_card", "name"))
    check_local_refusal(emu, lambda: eid_start(client, **kwargs), (), *secrets)


def test_get_eid_token_lowercase_x_and_interpunct(emu: Emulator, client: tcfaceid.Client, seen: Recorder) -> None:
    eid_start(client, input_type=4, id_card=HK_ID.lower(), name=HK_NAME)
    eid_start(client, input_type=4, id_card=UYGHUR_ID, name="阿卜杜拉•买买提")
    sent = seen.params("GetEidToken")
    assert sent[0]["IdCard"] == HK_ID
    assert sent[1]["Name"] == UYGHUR


def test_eid_session_json_and_repr(emu: Emulator, client: tcfaceid.Client) -> None:
    s = eid_start(client, input_type=4, id_card=LISI_ID, name=LISI, extra="x")
    text = s.to_json()
    back = tcfaceid.EidSession.from_json(text)
    assert back == s and back.to_json() == text
    with pytest.raises(tcfaceid.JSONError):
        tcfaceid.EidSession.from_json("{}")
    assert s.can_start() is True
    assert s.can_start(s.expires_at) is True and s.can_start(s.expires_at + 1) is False
    for r in (repr(s), str(s)):
        assert s.eid_token not in r and LISI_ID not in r and LISI not in r
    with pytest.raises((FrozenInstanceError, AttributeError)):
        s.eid_token = "X"  # type: ignore[misc]


def test_saas_and_eid_sessions_do_not_mix(emu: Emulator, client: tcfaceid.Client) -> None:
    saas = start(client)
    eid = eid_start(client, input_type=4, id_card=LISI_ID, name=LISI)
    with pytest.raises(tcfaceid.JSONError):
        tcfaceid.Session.from_json(eid.to_json())
    with pytest.raises(tcfaceid.JSONError):
        tcfaceid.EidSession.from_json(saas.to_json())
    before = total(emu)
    with pytest.raises((TypeError, tcfaceid.InvalidArgumentError)):
        client.detect_result(eid)  # type: ignore[arg-type]
    with pytest.raises((TypeError, tcfaceid.InvalidArgumentError)):
        client.eid_result(saas)  # type: ignore[arg-type]
    with pytest.raises((TypeError, tcfaceid.InvalidArgumentError)):
        client.eid_status(saas)  # type: ignore[arg-type]
    assert total(emu) == before


def test_eid_status_progression(emu: Emulator, client: tcfaceid.Client) -> None:
    s = eid_start(client, input_type=4, id_card=LISI_ID, name=LISI)
    assert client.eid_status(s) == "init"
    assert client.eid_status(s.eid_token) == "init"
    assert http_get(s.url) == 200  # the person opens the page
    assert client.eid_status(s) == "doing"
    emu.complete(s.eid_token, "pass")
    assert client.eid_status(s) == "finished"
    assert client.eid_status(s.eid_token) == "finished"
    assert received(emu, "CheckEidTokenStatus") == 5


def test_eid_status_timeout(emu: Emulator, client: tcfaceid.Client, lenient_skew: None) -> None:
    s = eid_start(client, input_type=4, id_card=LISI_ID, name=LISI)
    emu.advance(EID_TOKEN_LIFETIME + 1)
    assert client.eid_status(s) == "timeout"


def test_wait_eid_finished(emu: Emulator, client: tcfaceid.Client) -> None:
    s = eid_start(client, input_type=4, id_card=LISI_ID, name=LISI)
    timer = threading.Timer(0.2, emu.complete, args=(s.eid_token, "pass"))
    timer.start()
    try:
        t0 = time.monotonic()
        assert client.wait_eid(s, interval=0.05, timeout=10) == "finished"
        elapsed = time.monotonic() - t0
    finally:
        timer.cancel()
        timer.join()
    assert 0.15 <= elapsed < 5, elapsed
    polls = received(emu, "CheckEidTokenStatus")
    assert 2 <= polls <= 60, polls  # it polled, at about the interval
    # already finished: one poll
    assert client.wait_eid(s.eid_token, interval=0.05, timeout=10) == "finished"
    assert received(emu, "CheckEidTokenStatus") == polls + 1


def test_wait_eid_tolerates_two_errors(emu: Emulator, client: tcfaceid.Client) -> None:
    s = eid_start(client, input_type=4, id_card=LISI_ID, name=LISI)
    emu.complete(s.eid_token, "pass")
    emu.fault("internal_error", count=1, action="CheckEidTokenStatus")
    emu.fault("http_5xx", count=1, status=502, action="CheckEidTokenStatus")
    assert client.wait_eid(s, interval=0.01, timeout=10) == "finished"
    assert received(emu, "CheckEidTokenStatus") == 3
    assert emu.stats()["faults_pending"] == []


def test_wait_eid_raises_on_third_error(emu: Emulator, client: tcfaceid.Client) -> None:
    s = eid_start(client, input_type=4, id_card=LISI_ID, name=LISI)
    emu.complete(s.eid_token, "pass")
    emu.fault("internal_error", count=3, action="CheckEidTokenStatus")
    with pytest.raises(tcfaceid.ServiceError) as e:
        client.wait_eid(s, interval=0.01, timeout=10)
    assert e.value.code == "InternalError"
    assert received(emu, "CheckEidTokenStatus") == 3
    assert client.wait_eid(s, interval=0.01, timeout=10) == "finished"  # the faults are used up


def test_wait_eid_throttled_twice(emu: Emulator, client: tcfaceid.Client) -> None:
    s = eid_start(client, input_type=4, id_card=LISI_ID, name=LISI)
    emu.complete(s.eid_token, "pass")
    emu.fault("throttle", count=2, action="CheckEidTokenStatus")
    assert client.wait_eid(s, interval=0.01, timeout=10) == "finished"
    assert received(emu, "CheckEidTokenStatus") == 3


def test_wait_eid_non_retryable_error_raises_at_once(emu: Emulator, client: tcfaceid.Client) -> None:
    s = eid_start(client, input_type=4, id_card=LISI_ID, name=LISI)
    emu.fault("not_json", count=1, action="CheckEidTokenStatus")  # HTTP 200 with an HTML page
    with pytest.raises(tcfaceid.Error) as e:
        client.wait_eid(s, interval=0.01, timeout=10)
    assert e.value.retryable is False
    assert received(emu, "CheckEidTokenStatus") == 1


def test_wait_eid_unknown_token_raises_at_once(emu: Emulator, client: tcfaceid.Client) -> None:
    with pytest.raises(tcfaceid.InvalidParameterError):
        client.wait_eid("00000000-0000-0000-0000-000000000000", interval=0.01, timeout=10)
    assert received(emu, "CheckEidTokenStatus") == 1


def test_wait_eid_token_expired_error_is_timeout(emu: Emulator, client: tcfaceid.Client) -> None:
    s = eid_start(client, input_type=4, id_card=LISI_ID, name=LISI)
    emu.fault("throttle", code="InvalidParameterValue.BizTokenExpired", action="CheckEidTokenStatus")
    assert client.wait_eid(s, interval=0.01, timeout=10) == "timeout"
    assert received(emu, "CheckEidTokenStatus") == 1


def test_wait_eid_timeout_after_token_expiry(emu: Emulator, client: tcfaceid.Client, lenient_skew: None) -> None:
    s = eid_start(client, input_type=4, id_card=LISI_ID, name=LISI)
    emu.advance(EID_TOKEN_LIFETIME + 1)
    t0 = time.monotonic()
    assert client.wait_eid(s, interval=0.05, timeout=10) == "timeout"
    assert time.monotonic() - t0 < 2
    assert client.wait_eid(s.eid_token, interval=0.05, timeout=10) == "timeout"


def test_wait_eid_raises_timeout_error(emu: Emulator, client: tcfaceid.Client) -> None:
    s = eid_start(client, input_type=4, id_card=LISI_ID, name=LISI)
    t0 = time.monotonic()
    with pytest.raises(tcfaceid.TimeoutError):
        client.wait_eid(s, interval=0.05, timeout=0.3)
    elapsed = time.monotonic() - t0
    assert 0.2 <= elapsed < 3, elapsed
    assert received(emu, "CheckEidTokenStatus") >= 2


def test_eid_result_with_eid_info(emu: Emulator, client: tcfaceid.Client, seen: Recorder) -> None:
    s = eid_start(client, input_type=4, id_card=LISI_ID, name=LISI)
    emu.complete(s.eid_token, "pass")
    v = client.eid_result(s, parts=("text", "eid_info"))
    assert v.status == "PASSED" and v.code == 0 and v.part_errors == {}
    # EidInfo only comes with InfoType 0 (every part): one call with "0", possibly after the text
    types = seen.info_types("GetEidResult")
    assert types in (["0"], ["1", "0"]), types
    assert received(emu, "GetEidResult") == len(types)
    info = v.response["EidInfo"]
    assert info["EidCode"] and info["DesKey"] and info["UserInfo"]
    assert tcfaceid.decrypt_eid_info(info, DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM) == \
        {"name": LISI, "idtype": "01", "idnum": LISI_ID}
    assert v.text["Name"] == "" and v.text["IdCard"] == ""  # E-ID never sends them in Text
    for r in (repr(v), str(v)):
        assert LISI not in r and LISI_ID not in r and s.eid_token not in r


def test_eid_result_text_only(emu: Emulator, client: tcfaceid.Client, seen: Recorder) -> None:
    s = eid_start(client, input_type=4, id_card=LISI_ID, name=LISI)
    emu.complete(s.eid_token, "retry_then_pass")
    v = client.eid_result(s)
    assert v.status == "PASSED" and len(v.attempts) == 2
    assert seen.info_types("GetEidResult") == ["1"]
    assert v.response.get("EidInfo") is None
    assert client.eid_result(s.eid_token).status == "PASSED"  # a bare token works too


def test_eid_result_ocr_identity(emu: Emulator, client: tcfaceid.Client) -> None:
    s = eid_start(client, input_type=1)
    emu.complete(s.eid_token, "pass")  # the person's card is read: the library's first person
    v = client.eid_result(s, parts=("text", "eid_info"))
    assert tcfaceid.decrypt_eid_info(v.response["EidInfo"], DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM) == \
        {"name": NAME, "idtype": "01", "idnum": ID_NO}


def test_eid_result_typed_identity(emu: Emulator, client: tcfaceid.Client) -> None:
    s = eid_start(client, input_type=3)
    emu.complete(s.eid_token, "pass", name=UYGHUR, id_card=UYGHUR_ID)
    v = client.eid_result(s, parts=("text", "eid_info"))
    assert v.passed
    assert tcfaceid.decrypt_eid_info(v.response["EidInfo"], DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM) == \
        {"name": UYGHUR, "idtype": "01", "idnum": UYGHUR_ID}


def test_eid_result_failed(emu: Emulator, client: tcfaceid.Client) -> None:
    s = eid_start(client, input_type=4, id_card=LISI_ID, name=LISI)
    emu.complete(s.eid_token, "fail_liveness")
    v = client.eid_result(s, parts=("text", "eid_info"))
    assert v.status == "FAILED" and v.code == 1002
    assert v.response.get("EidInfo") is None  # only after a passed flow


def test_eid_result_pending(emu: Emulator, client: tcfaceid.Client) -> None:
    s = eid_start(client, input_type=4, id_card=LISI_ID, name=LISI)
    v = client.eid_result(s)
    assert v.status == "PENDING" and v.code is None


@pytest.mark.parametrize("parts", [("video",), ("text", "video"), ("4",), ("text", "bogus")])
def test_eid_result_parts_refused(emu: Emulator, client: tcfaceid.Client, parts: tuple[str, ...]) -> None:
    s = eid_start(client, input_type=4, id_card=LISI_ID, name=LISI)
    emu.complete(s.eid_token, "pass")
    check_local_refusal(emu, lambda: client.eid_result(s, parts=parts), ())


def test_eid_result_media_parts(emu: Emulator, client: tcfaceid.Client, seen: Recorder) -> None:
    s = eid_start(client, input_type=4, id_card=LISI_ID, name=LISI)
    emu.complete(s.eid_token, "pass")
    v = client.eid_result(s, parts=("text", "best_frame"), best_frames=2)
    assert v.passed
    types = seen.info_types("GetEidResult")
    assert types == ["1", "3"], types
    assert len(v.response["BestFrame"]["BestFrames"]) == 2


def test_eid_result_media_failure_in_part_errors(emu: Emulator, client: tcfaceid.Client, seen: Recorder) -> None:
    s = eid_start(client, input_type=4, id_card=LISI_ID, name=LISI)
    emu.complete(s.eid_token, "pass")
    seen.fail_when("GetEidResult", lambda p: p.get("InfoType") == "1",
                   lambda: emu.fault("internal_error", action="GetEidResult"))
    v = client.eid_result(s, parts=("text", "best_frame"))
    assert v.status == "PASSED"
    assert set(v.part_errors) == {"best_frame"}
    assert isinstance(v.part_errors["best_frame"], tcfaceid.ServiceError)
    assert v.response.get("BestFrame") is None


def test_eid_intention(emu: Emulator, client: tcfaceid.Client, seen: Recorder) -> None:
    read = eid_start(client, input_type=4, id_card=LISI_ID, name=LISI, use_intention_verify=True,
                     intention_verify_text=READ_TEXT)
    qa = eid_start(client, input_type=4, id_card=LISI_ID, name=LISI, use_intention_verify=True,
                   intention_questions=QUESTIONS)
    nod = eid_start(client, input_type=4, id_card=LISI_ID, name=LISI, use_intention_verify=True,
                    intention_actions=ACTIONS)
    configs = [p["Config"] for p in seen.params("GetEidToken")]
    assert [c.get("IntentionMode") for c in configs] == ["1", "2", "3"]
    assert all(c.get("UseIntentionVerify") is True for c in configs)
    assert configs[0]["IntentionVerifyText"] == READ_TEXT
    assert configs[1]["IntentionQuestions"][0] == {"Question": QUESTIONS[0]["question"],
                                                   "Answers": QUESTIONS[0]["answers"]}
    assert configs[2]["IntentionActions"] == [{"Text": t} for t in ACTIONS]

    emu.complete(read.eid_token, "pass")
    emu.complete(qa.eid_token, "fail_intention")
    emu.complete(nod.eid_token, "pass")
    v = client.eid_result(read)
    assert v.status == "PASSED" and v.intention_code == 0
    assert seen.info_types("GetEidResult") == ["1", "5"]
    v = client.eid_result(qa)
    assert v.status == "FAILED" and v.code == 0 and v.intention_code == -301
    assert seen.info_types("GetEidResult")[2:] == ["1", "6"]
    v = client.eid_result(nod)
    assert v.status == "PASSED" and v.intention_code == 0


def test_eid_intention_both_lists_refused(emu: Emulator, client: tcfaceid.Client) -> None:
    check_local_refusal(emu, lambda: eid_start(client, use_intention_verify=True, intention_questions=QUESTIONS,
                                               intention_actions=ACTIONS), ("intention",))


def test_eid_result_expired_token(emu: Emulator, client: tcfaceid.Client, lenient_skew: None) -> None:
    s = eid_start(client, input_type=4, id_card=LISI_ID, name=LISI)
    emu.advance(EID_TOKEN_LIFETIME + 1)
    v = client.eid_result(s)
    assert v.status == "EXPIRED"
    assert received(emu, "GetEidResult") == 1


def test_eid_results_after_three_days_refused_locally(emu: Emulator, client: tcfaceid.Client) -> None:
    s = eid_start(client, input_type=4, id_card=LISI_ID, name=LISI)
    emu.complete(s.eid_token, "pass")
    emu.advance(RESULTS_LIFETIME + 1)
    before = total(emu)
    v = client.eid_result(s, parts=("text", "eid_info"))
    assert v.status == "EXPIRED" and v.response is None
    assert total(emu) == before


# ------------------------------------------------------------------------------------------------
# parse_redirect
# ------------------------------------------------------------------------------------------------

TOKEN = "3F2504E0-4F89-41D3-9A0C-0305E82C3301"


@pytest.mark.parametrize("url,expected", [
    (f"https://shop.example/faceid/back?token={TOKEN}", TOKEN),
    (f"https://shop.example/back?order=A-42&from=faceid&token={TOKEN}", TOKEN),
    (f"https://shop.example/back?token={TOKEN}&order=A-42", TOKEN),
    (f"https://shop.example/back?token={TOKEN}#top", TOKEN),
    (f"http://127.0.0.1:8080/back?city=%E6%B7%B1%E5%9C%B3&token={TOKEN}", TOKEN),
    (f"/faceid/back?order=1&token={TOKEN}", TOKEN),
    (f"token={TOKEN}", TOKEN),
    (f"order=1&token={TOKEN}", TOKEN),
    (f"next=/orders/7&token={TOKEN}", TOKEN),  # a bare query (WSGI QUERY_STRING) may hold a '/'
    (f"?token={TOKEN}", TOKEN),
    ("https://shop.example/back?token=AB%2DCD", "AB-CD"),
    ("https://shop.example/back?token=AB%2dcd", "AB-cd"),
    ("https://shop.example/back?token=%41%42%43", "ABC"),
    ("https://shop.example/back?token=a.b_c~d-e", "a.b_c~d-e"),
    (f"https://shop.example/back?token={TOKEN}&token={TOKEN}", TOKEN),  # repeated, the same value
    ("https://shop.example/back?xtoken=bad&token=good&tokens=bad", "good"),
    ("https://shop.example/back?token=" + "a" * 128, "a" * 128),
], ids=lambda v: v.replace(TOKEN, "TOKEN")[:60])
def test_parse_redirect(url: str, expected: str) -> None:
    assert tcfaceid.parse_redirect(url) == expected


@pytest.mark.parametrize("url", [
    "https://shop.example/back",
    "https://shop.example/back?order=1",
    "https://shop.example/back?token=",
    "https://shop.example/back?token",
    "https://shop.example/back?tokens=ABC",
    "https://shop.example/back#token=ABC",  # a fragment is not the query
    "https://shop.example/back#?token=ABC",
    "https://shop.example/back?order=1#&token=ABC",
    "https://shop.example/back?token=ABC&token=DEF",  # repeated with different values
    "https://shop.example/back?token=AB%20C",
    "https://shop.example/back?token=AB+C",
    "https://shop.example/back?token=AB%2FC",
    "https://shop.example/back?token=<script>",
    "https://shop.example/back?token=%E4%B8%AD",
    "https://shop.example/back?token=AB%",
    "https://shop.example/back?token=AB%zz",
    "https://shop.example/back?token=AB%00",
    "https://shop.example/back?token=" + "a" * 129,
    "",
], ids=lambda u: u[:60] or "empty")
def test_parse_redirect_refused(url: str) -> None:
    with pytest.raises(tcfaceid.InvalidArgumentError):
        tcfaceid.parse_redirect(url)


def test_parse_redirect_on_the_emulators_redirect(emu: Emulator, client: tcfaceid.Client) -> None:
    # The emulator adds token=<BizToken> to RedirectUrl's query (kept before any fragment).
    s = start(client, redirect_url="https://shop.example/back?city=深圳&order=7#top")
    landing = emu.complete(s.biz_token, "pass")["redirect"]
    token = tcfaceid.parse_redirect(landing)
    assert token == s.biz_token
    assert client.detect_result(token, rule_id="1").passed
