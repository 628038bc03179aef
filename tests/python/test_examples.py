"""The examples of docs/examples.md, end to end against the emulator.

* examples/saas_backend.py: the flow functions (start, land, refresh, sweep) over SQLite, the WSGI
  and the ASGI adapters called directly (no server), a restart in the same process (a new Store
  and Client on the same file) and in new processes (the command line), the sweep that keeps
  verdicts from being lost within the 3-day window, and that the database holds no identity data.
* examples/eid_flow.py: its one command (built-in emulator, simulated person) and against an
  external emulator with a failing person.
* examples/c/verify.c: built with ``make example-c-build``, run through examples/with_emulator.py
  (``make example-c``'s command) and directly with a failing person and with a bad input.

The person's browser is urllib (never following redirects); the person on the page is
``emu.complete`` or the emulator's control API ``POST /_emulator/complete``.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email.message import Message
from io import BytesIO
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator, Optional
from wsgiref.util import setup_testing_defaults

import pytest

import tcfaceid
from tcfaceid.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, Emulator

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
ID_NO = "110101199003071233"  # the emulator's fictional library person
NAME = "张三"
APP = "http://app.example"  # the backend's public address in the in-process tests


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses resolve their annotations through it
    spec.loader.exec_module(module)
    return module


saas = _load("saas_backend")


# -- the browser -------------------------------------------------------------------------------
class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_BROWSER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


@dataclass
class Page:
    status: int
    headers: Message
    body: str


def fetch(url: str, form: Optional[dict[str, str]] = None, json_body: Any = None) -> Page:
    data = None
    headers = {}
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
    elif json_body is not None:
        data, headers = json.dumps(json_body).encode(), {"Content-Type": "application/json"}
    try:
        with _BROWSER.open(urllib.request.Request(url, data=data, headers=headers), timeout=15) as r:
            return Page(r.status, r.headers, r.read().decode())
    except urllib.error.HTTPError as e:
        return Page(e.code, e.headers, e.read().decode())


def received(emu: Emulator, action: str) -> int:
    return int(emu.stats()["received"].get(action, 0))


def person(emu: Emulator, page_url: str, scenario: str = "pass") -> str:
    """The person opens the page and finishes it; the landing URL the browser is sent to."""
    assert fetch(page_url).status == 200
    return emu.complete(tcfaceid.parse_redirect(page_url), scenario)["redirect"]


# -- the SaaS backend, in process ---------------------------------------------------------------
@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "verifications.sqlite3")


def make_flow(emu: Emulator, db: str) -> Any:
    client = tcfaceid.Client(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, endpoint=emu.endpoint, clock=emu.now)
    return saas.SaasFlow(client, saas.Store(db), "1", APP, clock=emu.now)


def close_flow(flow: Any) -> None:
    flow.store.close()
    flow.client.close()


@pytest.fixture
def flow(emu: Emulator, db: str) -> Iterator[Any]:
    f = make_flow(emu, db)
    yield f
    close_flow(f)


def call_wsgi(app: Any, method: str, target: str, form: Optional[dict[str, str]] = None) -> Page:
    path, _, query = target.partition("?")
    body = urllib.parse.urlencode(form).encode() if form else b""
    environ: dict[str, Any] = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query,
                               "CONTENT_LENGTH": str(len(body)), "wsgi.input": BytesIO(body)}
    setup_testing_defaults(environ)
    got: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        got["status"], got["headers"] = int(status.split()[0]), headers

    data = b"".join(app(environ, start_response))
    msg = Message()
    for k, v in got["headers"]:
        msg[k] = v
    return Page(got["status"], msg, data.decode())


def call_asgi(app: Any, method: str, target: str, form: Optional[dict[str, str]] = None) -> Page:
    path, _, query = target.partition("?")
    body = urllib.parse.urlencode(form).encode() if form else b""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query.encode(),
             "headers": [(b"content-type", b"application/x-www-form-urlencoded")]}
    sent: list[dict[str, Any]] = []
    chunks = [{"type": "http.request", "body": body[:5], "more_body": True},
              {"type": "http.request", "body": body[5:], "more_body": False}]

    async def receive() -> dict[str, Any]:
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    msg = Message()
    for k, v in sent[0]["headers"]:
        msg[k.decode()] = v.decode()
    return Page(sent[0]["status"], msg, sent[1]["body"].decode())


@pytest.mark.parametrize("call, make_app", [(call_wsgi, saas.wsgi_app), (call_asgi, saas.asgi_app)],
                         ids=["wsgi", "asgi"])
def test_saas_whole_loop_through_each_adapter(flow: Any, emu: Emulator, call: Any, make_app: Any) -> None:
    app = make_app(flow)
    assert call(app, "GET", "/").status == 200
    started = call(app, "POST", "/start", {"name": NAME, "id_card": ID_NO})
    assert started.status == 303, started.body
    url = started.headers["Location"]
    assert url.startswith(f"{emu.endpoint}/h5/verify?token=")
    landing = person(emu, url, "retry_then_pass")
    assert landing.startswith(f"{APP}/return?state=")
    page = call(app, "GET", landing[len(APP):])
    assert page.status == 200 and page.headers["X-Verdict"] == "PASSED", page.body
    assert "<p id=status>PASSED</p>" in page.body and "attempts: 2" in page.body
    assert NAME not in page.body and ID_NO not in page.body
    record = flow.store.get(tcfaceid.parse_redirect(landing))
    assert (record.status, record.code, record.billed, record.attempts) == ("PASSED", 0, True, 2)
    # Bad input: 400 with the library's message, nothing sent.
    before = received(emu, "DetectAuth")
    bad = call(app, "POST", "/start", {"name": NAME, "id_card": ID_NO[:-1] + "4"})
    assert bad.status == 400 and ID_NO[:-1] not in bad.body
    assert received(emu, "DetectAuth") == before
    # Landings that are not ours: 400, and no result call.
    before = received(emu, "GetDetectInfoEnhanced")
    token = record.token
    for target in ("/return", "/return?state=x&token=" + token, "/return?token=" + token,
                   "/return?state=x&token=%3Cscript%3E"):
        forged = call(app, "GET", target)
        assert forged.status == 400 and forged.headers["X-Verdict"] is None, target
    assert received(emu, "GetDetectInfoEnhanced") == before
    assert call(app, "GET", "/nowhere").status == 404


def test_saas_failure_is_stored_with_its_code(flow: Any, emu: Emulator) -> None:
    started = flow.start(name=NAME, id_card=ID_NO, user_ref="user-42")
    record = flow.land(person(emu, started.url, "fail_compare"))
    assert (record.status, record.code, record.user_ref) == ("FAILED", 2016, "user-42")
    assert record.meaning
    # A final verdict is answered from the database: no second call.
    before = received(emu, "GetDetectInfoEnhanced")
    assert flow.land(f"{APP}/return?state={record.state}&token={record.token}").status == "FAILED"
    assert received(emu, "GetDetectInfoEnhanced") == before


def test_saas_restart_finishes_a_verification_started_before(emu: Emulator, db: str) -> None:
    first = make_flow(emu, db)
    started = first.start(name=NAME, id_card=ID_NO)
    close_flow(first)  # the process goes away; only the database remains
    landing = person(emu, started.url)
    second = make_flow(emu, db)
    try:
        record = second.land(landing)
        assert record.status == "PASSED" and record.token == started.token
    finally:
        close_flow(second)


def test_saas_pending_verdict_is_fetched_again_by_the_sweep(flow: Any, emu: Emulator) -> None:
    started = flow.start(name=NAME, id_card=ID_NO)
    state = flow.store.get(started.token).state
    early = flow.land(f"{APP}/return?state={state}&token={started.token}")  # before the person is done
    assert early.status == "PENDING"
    abandoned = flow.start(name=NAME, id_card=ID_NO)  # the person never finishes this one
    person(emu, started.url)
    assert flow.sweep() == []  # both may still be on the page: nothing is due
    emu.advance(7200 + 60)  # the BizTokens' 2 hours are over: every verdict is final now
    swept = {r.token: r.status for r in flow.sweep()}
    assert swept == {started.token: "PASSED", abandoned.token: "EXPIRED"}
    assert flow.store.open_records() == []


def test_saas_sweep_fetches_verdicts_before_the_results_window_closes(flow: Any, emu: Emulator) -> None:
    started = flow.start(name=NAME, id_card=ID_NO)
    person(emu, started.url)  # passed, but the browser never came back to the landing
    record = flow.store.get(started.token)
    flow.store._db.execute("UPDATE verification SET expires_at = results_until")  # not yet due by expiry
    emu.advance(3 * 86400 - 5 * 3600)  # 5 hours left: within the sweep's 6-hour margin
    assert [r.status for r in flow.sweep()] == ["PASSED"]
    emu.advance(6 * 3600)  # the results are gone from the service now ...
    before = received(emu, "GetDetectInfoEnhanced")
    late = flow.land(f"{APP}/return?state={record.state}&token={record.token}")
    assert late.status == "PASSED"  # ... but not from the database
    assert received(emu, "GetDetectInfoEnhanced") == before


def test_saas_database_holds_no_identity_data(flow: Any, emu: Emulator, db: str) -> None:
    for scenario in ("pass", "fail_compare"):
        started = flow.start(name=NAME, id_card=ID_NO)
        flow.land(person(emu, started.url, scenario))
    rows = flow.store._db.execute("SELECT * FROM verification").fetchall()
    assert len(rows) == 2
    text = json.dumps([list(r) for r in rows], ensure_ascii=False)
    assert NAME not in text and ID_NO not in text
    flow.store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for f in Path(db).parent.iterdir():
        raw = f.read_bytes()
        assert NAME.encode() not in raw and ID_NO.encode() not in raw, f


# -- the SaaS backend's command line -----------------------------------------------------------------
def serve(*args: str) -> tuple[subprocess.Popen[str], str, list[str]]:
    proc = subprocess.Popen([sys.executable, str(EXAMPLES / "saas_backend.py"), "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    lines = []
    while True:
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.stderr else ""
        lines.append(line)
        m = re.fullmatch(r"saas_backend serving (http://127\.0\.0\.1:\d+)/\n", line)
        if m:
            return proc, m.group(1), lines


def stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    assert proc.returncode == 0, err
    return err


def test_saas_command_line_with_its_own_emulator(db: str) -> None:
    """The one command of docs/examples.md: the emulator comes with it."""
    proc, base, lines = serve("--db", db)
    try:
        emulator = re.search(r"emulator started at (http://\S+) ", lines[0])
        assert emulator, lines
        started = fetch(base + "/start", {"name": NAME, "id_card": ID_NO})
        assert started.status == 303
        url = started.headers["Location"]
        assert url.startswith(emulator.group(1) + "/h5/verify?token=")
        assert fetch(url).status == 200
        done = fetch(emulator.group(1) + "/_emulator/complete",
                     json_body={"token": tcfaceid.parse_redirect(url), "scenario": "pass"})
        landing = json.loads(done.body)["redirect"]
        assert fetch(landing).headers["X-Verdict"] == "PASSED"
    finally:
        err = stop(proc)
    for secret in (DEFAULT_SECRET_KEY, ID_NO, NAME, tcfaceid.parse_redirect(url)):
        assert secret not in err


def test_saas_command_line_restart_and_sweep(emu: Emulator, db: str) -> None:
    common = ("--endpoint", emu.endpoint, "--db", db)
    proc, base, _ = serve(*common)
    try:
        started = fetch(base + "/start", {"name": NAME, "id_card": ID_NO})
        assert started.status == 303
        pending = fetch(base + "/start", {"name": NAME, "id_card": ID_NO})  # left to the sweep
    finally:
        err = stop(proc)
    landing = person(emu, started.headers["Location"])
    person(emu, pending.headers["Location"])
    proc, base2, _ = serve(*common)  # a new process, on another port: the same database
    try:
        page = fetch(base2 + "/return?" + landing.split("?", 1)[1])
        assert page.status == 200 and page.headers["X-Verdict"] == "PASSED"
    finally:
        err += stop(proc)
    sweep = subprocess.run([sys.executable, str(EXAMPLES / "saas_backend.py"), "sweep", *common, "--margin",
                            str(4 * 86400)], capture_output=True, text=True, timeout=30)
    assert sweep.returncode == 0, sweep.stderr
    assert "1 verdict(s) fetched: PASSED" in sweep.stdout
    for secret in (DEFAULT_SECRET_KEY, ID_NO, NAME, tcfaceid.parse_redirect(landing)):
        assert secret not in err + sweep.stderr + sweep.stdout


# -- E-ID ------------------------------------------------------------------------------------------------
def run_example(*args: str, timeout: float = 60,
                env: Optional[dict[str, str]] = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env,
                          stdin=subprocess.DEVNULL)


def test_eid_example_one_command() -> None:
    out = run_example(sys.executable, str(EXAMPLES / "eid_flow.py"), "--interval", "0.2")
    assert out.returncode == 0, out.stdout + out.stderr
    for step in ("1. GetEidToken", "3. CheckEidTokenStatus: finished",
                 "the browser came back to the RedirectUrl with the same EidToken: True",
                 "4. GetEidResult: PASSED, code 0", "5. EidInfo decrypted: name 张*, ID 110***********1233"):
        assert step in out.stdout, out.stdout
    assert NAME not in out.stdout + out.stderr and ID_NO not in out.stdout + out.stderr


def test_eid_example_against_an_external_emulator(emu: Emulator) -> None:
    common = (sys.executable, str(EXAMPLES / "eid_flow.py"), "--endpoint", emu.endpoint, "--interval", "0.2")
    out = run_example(*common, "--person", "fail_liveness")
    assert out.returncode == 1, out.stdout + out.stderr
    assert "4. GetEidResult: FAILED, code 1002" in out.stdout and "5." not in out.stdout
    out = run_example(*common, "--person", "pass", "--name", NAME, "--id-card", ID_NO)  # InputType 4
    assert out.returncode == 0, out.stdout + out.stderr
    assert "the ID number is the one expected: True" in out.stdout
    assert received(emu, "CheckEidTokenStatus") >= 2 and received(emu, "GetEidResult") >= 2
    assert ID_NO not in out.stdout + out.stderr


# -- C -----------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def verify_c() -> Path:
    out = subprocess.run(["make", "-s", "example-c-build"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    binary = ROOT / "build" / "examples" / "verify"
    assert binary.is_file()
    return binary


def test_c_example_via_make_example_c_command(verify_c: Path) -> None:
    """What ``make example-c`` runs once the binary is built."""
    out = run_example(sys.executable, str(EXAMPLES / "with_emulator.py"), "--person", "pass", "--", str(verify_c))
    assert out.returncode == 0, out.stdout + out.stderr
    for line in ("1. DetectAuth: a session for 110***********1233", "3. verdict: PASSED", "ErrCode 0",
                 "4. IdCardVerification: matched (Result 0", "verified"):
        assert line in out.stdout, out.stdout
    assert ID_NO not in out.stdout + out.stderr and DEFAULT_SECRET_KEY not in out.stdout + out.stderr


def test_c_example_failure_and_bad_input(verify_c: Path, emu: Emulator) -> None:
    env = dict(os.environ, TENCENTCLOUD_SECRET_ID=DEFAULT_SECRET_ID, TENCENTCLOUD_SECRET_KEY=DEFAULT_SECRET_KEY,
               TCFACEID_ENDPOINT=emu.endpoint)
    proc = subprocess.Popen([str(verify_c), "--wait", "20"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            m = re.search(r"verifies at: (\S+)", line)
            if m:
                person(emu, m.group(1), "fail_compare")
                break
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, out + err
    assert "3. verdict: FAILED" in out and "ErrCode 2016" in out and "not verified" in out
    # A wrong check character: refused locally (exit 2), nothing sent.
    before = received(emu, "DetectAuth")
    bad = run_example(str(verify_c), "--endpoint", emu.endpoint, NAME, ID_NO[:-1] + "4", env=env)
    assert bad.returncode == 2 and "nothing was sent" in bad.stderr, bad.stdout + bad.stderr
    assert received(emu, "DetectAuth") == before
    assert ID_NO[:-1] not in bad.stdout + bad.stderr


# ---- the OpenResty example with one command (examples/openresty/run.py) ----

def test_openresty_example_with_one_command() -> None:
    made = subprocess.run(["make", "--no-print-directory", "lua"], cwd=ROOT, capture_output=True, text=True)
    assert made.returncode == 0, made.stdout + made.stderr
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    for scenario, code, word in (("pass", 0, "PASSED"), ("fail_compare", 1, "FAILED")):
        proc = subprocess.run([sys.executable, str(ROOT / "examples" / "openresty" / "run.py"), "--port", "0",
                               "--person", scenario], capture_output=True, text=True, timeout=60, env=env, cwd=ROOT)
        assert proc.returncode == code, proc.stdout + proc.stderr
        assert f"the landing page says {word}" in proc.stdout
        assert "110101199003071233" not in proc.stdout + proc.stderr and "张三" not in proc.stdout + proc.stderr
