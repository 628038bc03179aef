"""tcfaceid.resty in real nginx (Debian nginx + libnginx-mod-http-lua + lua-resty-core), against the
emulator: the example of docs/openresty.md, examples/openresty/nginx.conf, run as it is written,
with only the endpoint, ports, paths and the worker count replaced (``render``).

Every nginx runs as the current user in a temporary prefix (pid, logs and temp paths inside it),
master + one worker, listening on 127.0.0.1 on a free port, and is stopped and reaped even when a
test fails. Everything talks to 127.0.0.1 only.
"""

from __future__ import annotations

import base64
import http.client
import http.server
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import pytest

import tcfaceid
from tcfaceid.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, Config, Emulator

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "openresty" / "nginx.conf"
HANDLERS = REPO / "examples" / "openresty" / "lua"
DOC = REPO / "docs" / "openresty.md"
LUA_PATH = REPO / "bindings" / "lua"
JIT_CPATH = REPO / "build" / "lua" / "jit"
CORE_SO = JIT_CPATH / "tcfaceid" / "core.so"
MODULES = Path("/usr/lib/nginx/modules")

NAME, ID_NO = "张三", "110101199003071233"  # the emulator's fictional library person
START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0


# ---------------------------------------------------------------------------
# the LuaJIT build of the C module
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def lua_core() -> Path:
    """``make lua`` (quick when nothing changed): build/lua/jit/tcfaceid/core.so for LuaJIT."""
    proc = subprocess.run(["make", "--no-print-directory", "lua"], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, f"make lua failed:\n{proc.stdout}\n{proc.stderr}"
    assert CORE_SO.is_file(), f"make lua did not build {CORE_SO}"
    return CORE_SO


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    assert found, "nginx is not installed (make deps: Debian nginx libnginx-mod-http-lua lua-resty-core)"
    for module in ("ndk_http_module.so", "ngx_http_lua_module.so"):
        assert (MODULES / module).is_file(), f"{MODULES / module} is missing (Debian libnginx-mod-http-lua)"
    return found


# ---------------------------------------------------------------------------
# the example configuration, rendered for a test
# ---------------------------------------------------------------------------


def render(*, port: int, endpoint: str, upstream: str, tls: bool, ca_file: Optional[str] = None,
           extra: Optional[list[tuple[str, str]]] = None) -> str:
    """examples/openresty/nginx.conf with the test's endpoint, ports and paths. Each replaced text
    must occur exactly once, so the example cannot change shape without this test noticing."""
    text = EXAMPLE.read_text(encoding="utf-8")
    subs = [
        ("worker_processes auto;", "worker_processes 1;"),
        ('"/usr/local/share/lua/5.1/?.lua;/usr/local/share/lua/5.1/?/init.lua;',
         f'"{LUA_PATH}/?.lua;{LUA_PATH}/?/init.lua;'),
        ('lua_package_cpath "/usr/local/lib/lua/5.1/?.so;;";', f'lua_package_cpath "{JIT_CPATH}/?.so;;";'),
        ('endpoint = "https://faceid.tencentcloudapi.com",', f'endpoint = "{endpoint}",'),
        ('public_url = "http://127.0.0.1:8080",', f'public_url = "http://127.0.0.1:{port}",'),
        ("listen 127.0.0.1:8080;", f"listen 127.0.0.1:{port};"),
        ("server faceid.tencentcloudapi.com:443;", f"server {upstream};"),
    ]
    if tls:
        assert ca_file
        subs.append(("proxy_ssl_trusted_certificate /etc/ssl/certs/ca-certificates.crt;",
                     f"proxy_ssl_trusted_certificate {ca_file};"))
    else:
        subs.append(("proxy_pass https://tcfaceid_faceid/;", "proxy_pass http://tcfaceid_faceid/;"))
    for old, new in subs + (extra or []):
        assert text.count(old) == 1, f"examples/openresty/nginx.conf: expected {old!r} exactly once"
        text = text.replace(old, new)
    return text


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[int]:
    """The processes whose parent is pid (nginx's workers)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            out.append(int(entry.name))
    return out


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class Nginx:
    """nginx with a rendered example config in a temporary prefix; ``base`` is its URL."""

    def __init__(self, conf: str, port: int, env: Optional[dict[str, Optional[str]]] = None) -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.tmp = tempfile.TemporaryDirectory(prefix="tcfaceid-nginx-")
        self.prefix = Path(self.tmp.name)
        for d in ("logs", "temp"):
            (self.prefix / d).mkdir()
        (self.prefix / "lua").symlink_to(HANDLERS)  # $prefix/lua/faceid_verify.lua
        self.conf = self.prefix / "nginx.conf"
        self.conf.write_text(conf, encoding="utf-8")
        directives = "daemon off; master_process on;"
        if os.geteuid() == 0:  # otherwise the workers would switch to "nobody"
            directives += f" user {pwd.getpwuid(os.geteuid()).pw_name};"
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.prefix),
                    "TENCENTCLOUD_SECRET_ID": DEFAULT_SECRET_ID, "TENCENTCLOUD_SECRET_KEY": DEFAULT_SECRET_KEY}
        for name, value in (env or {}).items():  # None: left out
            if value is None:
                self.env.pop(name, None)
            else:
                self.env[name] = value
        self.proc = subprocess.Popen(
            [nginx_binary(), "-p", f"{self.prefix}/", "-c", str(self.conf), "-g", directives],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=self.env,
        )
        self.workers: list[int] = []
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"nginx exited ({self.proc.returncode}): {self.startup_errors()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    pass
            except OSError:
                time.sleep(0.05)
                continue
            self.workers = children(self.proc.pid)
            if self.workers:
                return
            time.sleep(0.05)
        raise AssertionError(f"nginx did not start within {START_TIMEOUT} s: {self.startup_errors()}")

    def startup_errors(self) -> str:
        err = b""
        if self.proc.poll() is not None and self.proc.stderr is not None:
            err = self.proc.stderr.read()
        return err.decode(errors="replace") + self.error_log()

    def error_log(self) -> str:
        path = self.prefix / "logs" / "error.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def access_log(self, wait_for: str = "", timeout: float = 5.0) -> str:
        """The access log, once it has a line with wait_for (written after the answer is sent)."""
        path = self.prefix / "logs" / "access.log"
        deadline = time.monotonic() + timeout
        while True:
            text = path.read_text(encoding="utf-8") if path.exists() else ""
            if wait_for in text or time.monotonic() > deadline:
                assert wait_for in text, text
                return text
            time.sleep(0.05)

    def stop(self) -> None:
        """Fast shutdown (SIGTERM), then SIGKILL for the master and any worker left."""
        workers = set(self.workers) | (set(children(self.proc.pid)) if self.proc.poll() is None else set())
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pid in workers:  # a worker outliving its master would keep the port
            deadline = time.monotonic() + STOP_TIMEOUT
            while alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if self.proc.stderr is not None:
            self.proc.stderr.close()
        self.tmp.cleanup()


def start_nginx(emu_endpoint: str, *, tls: bool = False, ca_file: Optional[str] = None,
                endpoint: Optional[str] = None, extra: Optional[list[tuple[str, str]]] = None) -> Nginx:
    """nginx for the emulator at emu_endpoint (http://127.0.0.1:PORT or https://...)."""
    authority = urllib.parse.urlsplit(emu_endpoint).netloc
    for attempt in range(3):  # a free port can be taken between the probe and nginx's bind
        port = free_port()
        conf = render(port=port, endpoint=endpoint or emu_endpoint, upstream=authority, tls=tls, ca_file=ca_file,
                      extra=extra)
        try:
            return Nginx(conf, port)
        except AssertionError as e:
            if "Address already in use" not in str(e) or attempt == 2:
                raise
    raise AssertionError("unreachable")


# ---------------------------------------------------------------------------
# a tiny browser
# ---------------------------------------------------------------------------


@dataclass
class Page:
    status: int
    headers: http.client.HTTPMessage
    body: str

    @property
    def verdict(self) -> Optional[str]:
        return self.headers.get("X-Verdict")


def fetch(url: str, form: Optional[dict[str, str]] = None, timeout: float = 30.0,
          headers: Optional[dict[str, str]] = None) -> Page:
    """GET (or POST a form to) url, without following redirects."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        path = u.path + ("?" + u.query if u.query else "")
        hdrs = dict(headers or {})
        if form is None:
            conn.request("GET", path, headers=hdrs)
        else:
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
            conn.request("POST", path, body=urllib.parse.urlencode(form).encode(), headers=hdrs)
        resp = conn.getresponse()
        return Page(resp.status, resp.headers, resp.read().decode("utf-8", errors="replace"))
    finally:
        conn.close()


def start_verification(nginx: Nginx, emu: Emulator, form: Optional[dict[str, str]] = None) -> str:
    """POST /verify/start; the BizToken of the page it redirects to."""
    page = fetch(nginx.base + "/verify/start", form or {"name": NAME, "id_card": ID_NO})
    assert page.status == 303, (page.status, page.body, nginx.error_log())
    location = page.headers["Location"]
    assert location.startswith(emu.endpoint + "/h5/verify?token="), location
    return tcfaceid.parse_redirect(location)


def verify(nginx: Nginx, emu: Emulator, scenario: str) -> Page:
    """The whole loop: start, the person on the page (the control API), the landing."""
    token = start_verification(nginx, emu)
    landing = emu.complete(token, scenario)["redirect"]
    assert landing.startswith(nginx.base + "/verify/return?state="), landing
    return fetch(landing)


def landing_of(emu: Emulator, token: str) -> str:
    """Where the verification page sends the browser back (the RedirectUrl with the token), without
    finishing the verification: the emulator's own rule, applied to the stored RedirectUrl."""
    from tcfaceid.emulator.saas import redirect_target

    url = redirect_target(emu.service.sessions[token].redirect_url, token)
    assert url
    return url


def received(emu: Emulator, action: str) -> int:
    return int(emu.stats()["received"].get(action, 0))


def attempts_shown(page: Page) -> list[list[str]]:
    return [re.findall(r"<td>([^<]*)</td>", row) for row in re.findall(r"<tr><td>.*?</tr>", page.body)]


def no_secrets_in(text: str, *secrets: str) -> None:
    for secret in (DEFAULT_SECRET_KEY, NAME, ID_NO, *secrets):
        assert secret not in text


# ---------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------


@pytest.fixture
def emu() -> Iterator[Emulator]:
    limits = {"saas_id_per_minute": 1000, "saas_id_per_day": 1000}
    with Emulator(Config(port=0, qps_enabled=False, limits=limits)) as e:
        yield e


@pytest.fixture
def nginx(emu: Emulator) -> Iterator[Nginx]:
    n = start_nginx(emu.endpoint)
    try:
        yield n
    finally:
        n.stop()


# ---------------------------------------------------------------------------
# the flows
# ---------------------------------------------------------------------------


def test_pass(nginx: Nginx, emu: Emulator) -> None:
    assert len(nginx.workers) == 1
    index = fetch(nginx.base + "/")
    assert index.status == 200 and 'action=/verify/start' in index.body
    page = verify(nginx, emu, "pass")
    assert page.status == 200, (page.body, nginx.error_log())
    assert page.verdict == "PASSED"
    assert "<p id=status>PASSED</p>" in page.body
    assert page.headers["Cache-Control"] == "no-store"
    [attempt] = attempts_shown(page)
    assert attempt[:4] == ["1", "0", "0", "0"] and float(attempt[4]) >= 70  # errcode, live, compare; Sim
    assert received(emu, "DetectAuth") == 1 and received(emu, "GetDetectInfoEnhanced") == 1
    log = nginx.error_log()
    assert "SaaS verdict PASSED code=0 attempts=1" in log
    no_secrets_in(log)  # (nginx adds the request line to its error log lines: the token is there)
    access = nginx.access_log('"GET /verify/return" 200')
    assert "token" not in access and "state" not in access


def test_retry_then_pass(nginx: Nginx, emu: Emulator) -> None:
    page = verify(nginx, emu, "retry_then_pass")
    assert page.verdict == "PASSED", (page.body, nginx.error_log())
    rows = attempts_shown(page)
    assert [r[:4] for r in rows] == [["1", "1002", "1002", "null"], ["2", "0", "0", "0"]]
    assert "billed: true" in page.body


def test_fail(nginx: Nginx, emu: Emulator) -> None:
    page = verify(nginx, emu, "fail_compare")
    assert page.status == 200 and page.verdict == "FAILED", (page.body, nginx.error_log())
    assert "Code: 2016" in page.body
    assert "Not verified." in page.body


def test_pending_then_passed(nginx: Nginx, emu: Emulator) -> None:
    """Back before finishing: PENDING; the same landing again once finished: the verdict."""
    token = start_verification(nginx, emu)
    landing = landing_of(emu, token)
    page = fetch(landing)
    assert page.status == 200 and page.verdict == "PENDING", (page.body, nginx.error_log())
    assert "Code: null" in page.body
    emu.complete(token, "pass")
    assert fetch(landing).verdict == "PASSED"
    assert received(emu, "GetDetectInfoEnhanced") == 2


def test_expired_results_window_without_a_call(nginx: Nginx, emu: Emulator) -> None:
    """3 days later the results are gone: EXPIRED, decided locally. nginx's clock is corrected by
    the skew learned from the service (AuthFailure.SignatureExpire -> re-signed once)."""
    token = start_verification(nginx, emu)
    landing = emu.complete(token, "pass")["redirect"]
    emu.advance(259200 + 60)
    # the next call is signed with nginx's clock, 3 days behind: refused, the skew learned from
    # the answer's Date, signed again
    start_verification(nginx, emu)
    assert received(emu, "DetectAuth") == 3
    assert emu.stats()["errors"].get("AuthFailure.SignatureExpire") == 1
    assert "signing with the corrected time" in nginx.error_log()
    page = fetch(landing)
    assert page.status == 200 and page.verdict == "EXPIRED", (page.body, nginx.error_log())
    assert "Please start again" in page.body
    assert received(emu, "GetDetectInfoEnhanced") == 0


def test_token_expired_by_the_service(nginx: Nginx, emu: Emulator) -> None:
    """Not finished within 7,200 s: the service says the BizToken expired -> EXPIRED (after the
    skew is learned from the first answer and the call signed again)."""
    token = start_verification(nginx, emu)
    landing = landing_of(emu, token)
    emu.advance(7200 + 60)
    page = fetch(landing)
    assert page.status == 200 and page.verdict == "EXPIRED", (page.body, nginx.error_log())
    assert received(emu, "GetDetectInfoEnhanced") == 2
    assert emu.stats()["errors"].get("AuthFailure.SignatureExpire") == 1


# ---------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------


def test_unknown_or_malformed_token_is_400_without_a_call(nginx: Nginx, emu: Emulator) -> None:
    for query in ("state=abc&token=NOT-A-SESSION", "state=abc", "state=abc&token=%00bad", ""):
        page = fetch(f"{nginx.base}/verify/return?{query}")
        assert page.status == 400, (query, page.body)
        assert page.verdict is None
    token = start_verification(nginx, emu)
    landing = emu.complete(token, "pass")["redirect"]
    tampered = re.sub(r"state=[0-9a-f]+", "state=" + "0" * 32, landing)
    assert tampered != landing and fetch(tampered).status == 400
    doubled = landing + "&state=" + "0" * 32
    assert fetch(doubled).status == 400
    assert received(emu, "GetDetectInfoEnhanced") == 0
    assert fetch(landing).verdict == "PASSED"


def test_bad_input_is_refused_before_the_paid_call(nginx: Nginx, emu: Emulator) -> None:
    page = fetch(nginx.base + "/verify/start", {"name": NAME, "id_card": "110101199003071234"})
    assert page.status == 400 and "Please check your input" in page.body, page.body
    assert received(emu, "DetectAuth") == 0
    assert fetch(nginx.base + "/verify/start").status == 405


def test_emulator_5xx_is_a_clear_error_page(nginx: Nginx, emu: Emulator) -> None:
    # DetectAuth may have created a session: not sent again, a 502 page
    emu.fault("http_5xx", count=1, status=502)
    page = fetch(nginx.base + "/verify/start", {"name": NAME, "id_card": ID_NO})
    assert page.status == 502, (page.body, nginx.error_log())
    assert "The verification service did not answer; please try again." in page.body
    assert "FaceID call failed (DetectAuth): http_status" in nginx.error_log()
    assert received(emu, "DetectAuth") == 1
    # a result read is retried (3 attempts); all failing: 502 too, and the session stays usable
    token = start_verification(nginx, emu)
    landing = emu.complete(token, "pass")["redirect"]
    emu.fault("http_5xx", count=3, status=503, action="GetDetectInfoEnhanced")
    assert fetch(landing).status == 502
    assert received(emu, "GetDetectInfoEnhanced") == 3
    assert fetch(landing).verdict == "PASSED"
    # a FaceID error envelope: logged with its code and RequestId
    emu.fault("internal_error", count=3)
    assert fetch(landing).status == 502
    log = nginx.error_log()
    assert re.search(r"FaceID call failed \(GetDetectInfoEnhanced\): InternalError \(RequestId [0-9a-f-]{36}\)", log)
    no_secrets_in(log)


def test_retries_follow_the_core_policy(nginx: Nginx, emu: Emulator) -> None:
    """Throttled: nothing ran, anything is sent again; a read after a transient failure too."""
    emu.fault("throttle", count=1, action="DetectAuth")
    token = start_verification(nginx, emu)
    assert received(emu, "DetectAuth") == 2
    landing = emu.complete(token, "retry_then_pass")["redirect"]
    emu.fault("http_5xx", count=2, status=502, action="GetDetectInfoEnhanced")
    page = fetch(landing)
    assert page.verdict == "PASSED", (page.body, nginx.error_log())
    assert received(emu, "GetDetectInfoEnhanced") == 3


def test_endpoint_down_is_a_transport_error(emu: Emulator) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    n = start_nginx(dead)
    try:
        page = fetch(n.base + "/verify/start", {"name": NAME, "id_card": ID_NO})
        assert page.status == 502
        log = n.error_log()
        assert "FaceID call failed (DetectAuth): transport" in log
        assert "Connection refused" in log
    finally:
        n.stop()


def test_missing_keys_stop_nginx_at_start(emu: Emulator) -> None:
    """The example makes its client in init_by_lua: no keys, no nginx (rather than 502s later)."""
    port = free_port()
    conf = render(port=port, endpoint=emu.endpoint, upstream=emu.host_port, tls=False)
    with pytest.raises(AssertionError, match="no_credentials"):
        Nginx(conf, port, env={"TENCENTCLOUD_SECRET_ID": None, "TENCENTCLOUD_SECRET_KEY": None})


@pytest.mark.parametrize(("fault", "options", "logged"), [
    ("http_5xx", {"status": 503}, "http_status"),
    ("truncated", {}, "transport"),
    ("reset", {}, "transport"),
    ("not_json", {}, "bad_json"),
])
def test_faults_become_502_pages_with_the_error_code_logged(nginx: Nginx, emu: Emulator, fault: str,
                                                            options: dict[str, Any], logged: str) -> None:
    emu.fault(fault, count=1, **options)
    page = fetch(nginx.base + "/verify/start", {"name": NAME, "id_card": ID_NO})
    assert page.status == 502, (page.body, nginx.error_log())
    assert f"FaceID call failed (DetectAuth): {logged} " in nginx.error_log()
    # one attempt: a DetectAuth that may have run is not sent again, by nginx or by the client
    assert received(emu, "DetectAuth") == 1
    assert start_verification(nginx, emu)  # and the next one works


def test_timeout(emu: Emulator) -> None:
    n = start_nginx(emu.endpoint, extra=[("proxy_read_timeout 30s;", "proxy_read_timeout 1s;")])
    try:
        emu.fault("latency", count=1, seconds=3)
        t0 = time.monotonic()
        page = fetch(n.base + "/verify/start", {"name": NAME, "id_card": ID_NO})
        assert page.status == 502 and time.monotonic() - t0 < 2.5
        log = n.error_log()
        assert "upstream timed out" in log
        assert "FaceID call failed (DetectAuth): timeout " in log
    finally:
        n.stop()


# A location added for the next test only (the example has no such thing): the client made in a
# request handler (keys from the environment nginx passes with `env`), a plain call, a call from a
# timer (no subrequests there), and a client pointed at a location that does not exist.
PROBE = """        location = /test/probe {
            content_by_lua_block {
                local resty = require("tcfaceid.resty")
                local faceid = assert(resty.new{ endpoint = "@ENDPOINT@" })
                local out = {}
                local resp, err = faceid:call("GetLiveCode", {})
                out[#out + 1] = "call " .. (resp and #resp.LiveCode or tostring(err))
                out[#out + 1] = "request_id " .. tostring(faceid.last_request_id ~= nil)
                local dict = ngx.shared.faceid_sessions
                ngx.timer.at(0, function()
                    local r, e = faceid:call("GetLiveCode", {})
                    dict:set("timer", "timer " .. tostring(r) .. " " .. e.kind)
                end)
                ngx.sleep(0.2)
                out[#out + 1] = dict:get("timer")
                local lost = assert(resty.new{ endpoint = "@ENDPOINT@", location = "/nowhere" })
                local r2, e2 = lost:call("GetLiveCode", {})
                out[#out + 1] = "nowhere " .. tostring(r2) .. " " .. e2.kind
                local ok, msg = pcall(resty.new, { endpont = "x" })
                out[#out + 1] = "typo " .. tostring(ok) .. " " .. tostring(msg):match("unknown option '%w+'")
                ngx.say(table.concat(out, "\\n"))
            }
        }

        location = /test/call {
            content_by_lua_block {
                local tcfaceid = require("tcfaceid")
                local faceid = assert(require("tcfaceid.resty").new{ endpoint = "@ENDPOINT@" })
                ngx.req.read_body()
                local resp, err = faceid:call(ngx.var.arg_action, ngx.req.get_body_data())
                if resp then
                    return ngx.say("ok ", tcfaceid.json_encode(resp))
                end
                ngx.say(err.kind, " ", err.code, " ", err.attempts, " ", tostring(err.retry_at), " ",
                        tostring(err.request_id ~= nil))
            }
        }

        location = /verify/return {"""


def probe_call(n: Nginx, action: str, params: dict[str, Any]) -> list[str]:
    """faceid:call(action, params) in nginx: ["ok", json] or [kind, code, attempts, retry_at, has_request_id]."""
    conn = http.client.HTTPConnection("127.0.0.1", n.port, timeout=30)
    try:
        conn.request("POST", "/test/call?action=" + action, body=json.dumps(params).encode())
        resp = conn.getresponse()
        body = resp.read().decode()
        assert resp.status == 200, (body, n.error_log())
        return body.strip().split(" ", 4 if not body.startswith("ok ") else 1)
    finally:
        conn.close()


def test_a_billable_call_that_may_have_run_is_ambiguous(emu: Emulator) -> None:
    n = start_nginx(emu.endpoint, extra=[("        location = /verify/return {", PROBE.replace("@ENDPOINT@", emu.endpoint))])
    try:
        params = {"IdCard": ID_NO, "Name": NAME}
        emu.fault("truncated", count=1, action="IdCardVerification")
        assert probe_call(n, "IdCardVerification", params) == ["ambiguous", "ambiguous", "1", "nil", "false"]
        assert received(emu, "IdCardVerification") == 1
        emu.fault("reset", count=1, action="GetLiveCode")  # a read: sent again
        assert probe_call(n, "GetLiveCode", {})[0] == "ok"
        assert received(emu, "GetLiveCode") == 2
        ok, data = probe_call(n, "IdCardVerification", params)
        assert ok == "ok" and json.loads(data)["Result"] == "0"
    finally:
        n.stop()


def test_the_daily_identity_limit_is_rate_limited_until_midnight() -> None:
    limits = {"idcard_name_per_day": 1}
    with Emulator(Config(port=0, qps_enabled=False, limits=limits)) as emu:
        n = start_nginx(emu.endpoint, extra=[("        location = /verify/return {", PROBE.replace("@ENDPOINT@", emu.endpoint))])
        try:
            params = {"IdCard": ID_NO, "Name": NAME}
            assert probe_call(n, "IdCardVerification", params)[0] == "ok"
            kind, code, attempts, retry_at, has_request_id = probe_call(n, "IdCardVerification", params)
            assert (kind, code, attempts, has_request_id) == ("rate_limited", "rate_limited", "1", "true")
            now = emu.now()
            assert int(retry_at) > now and (int(retry_at) + 8 * 3600) % 86400 == 0
        finally:
            n.stop()


def test_client_in_a_handler_a_timer_and_a_missing_location(emu: Emulator) -> None:
    probe = PROBE.replace("@ENDPOINT@", emu.endpoint)
    n = start_nginx(emu.endpoint, extra=[("        location = /verify/return {", probe)])
    try:
        page = fetch(n.base + "/test/probe")
        assert page.status == 200, (page.body, n.error_log())
        assert page.body.splitlines() == [
            "call 4",
            "request_id true",
            "timer nil state",
            "nowhere nil state",
            "typo false unknown option 'endpont'",
        ], n.error_log()
        assert received(emu, "GetLiveCode") == 1
    finally:
        n.stop()


# E-ID through tcfaceid.resty (the example has only the SaaS flow): two test locations.
EID_PROBE = """        location = /test/eid/start {
            content_by_lua_block {
                local faceid = assert(require("tcfaceid.resty").new{ endpoint = "@ENDPOINT@" })
                local s = assert(faceid:get_eid_token{ merchant_id = "@MERCHANT@", input_type = 4,
                                                       id_card = "@ID@", name = "@NAME@" })
                ngx.shared.faceid_sessions:set("eid:" .. s.eid_token, s:to_json())
                ngx.say(s.eid_token)
            }
        }

        location = /test/eid/wait {
            content_by_lua_block {
                local tcfaceid = require("tcfaceid")
                local faceid = assert(require("tcfaceid.resty").new{ endpoint = "@ENDPOINT@" })
                local s = assert(tcfaceid.session_from_json(
                    ngx.shared.faceid_sessions:get("eid:" .. ngx.var.arg_token)))
                local status, err = faceid:wait_eid(s, { interval = 0.2, timeout = 10 })
                local v = assert(faceid:eid_result(s, { parts = { "text", "eid_info" } }))
                local person = assert(tcfaceid.decrypt_eid_info(v.response.EidInfo, [[@PEM@]]))
                ngx.say(tostring(status), " ", tostring(err), " ", v.status, " ", person.idnum)
            }
        }

        location = /verify/return {"""


def test_eid_flow_waits_without_blocking_the_worker(emu: Emulator) -> None:
    """wait_eid polls with ngx.sleep: while it waits, the same (single) worker answers others."""
    from tcfaceid.emulator import DEFAULT_MERCHANT_ID, DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM

    probe = (EID_PROBE.replace("@ENDPOINT@", emu.endpoint).replace("@MERCHANT@", DEFAULT_MERCHANT_ID)
             .replace("@ID@", ID_NO).replace("@NAME@", NAME).replace("@PEM@", DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM))
    n = start_nginx(emu.endpoint, extra=[("        location = /verify/return {", probe)])
    try:
        started = fetch(n.base + "/test/eid/start")
        assert started.status == 200, (started.body, n.error_log())
        token = started.body.strip()
        with ThreadPoolExecutor(max_workers=1) as pool:
            t0 = time.monotonic()
            waiting = pool.submit(fetch, f"{n.base}/test/eid/wait?token={token}")
            time.sleep(0.5)
            quick = time.monotonic()
            assert fetch(n.base + "/").status == 200
            assert time.monotonic() - quick < 0.3  # not stuck behind the poller
            assert not waiting.done()
            emu.complete(token, "pass")
            page = waiting.result(timeout=10)
        assert page.status == 200, (page.body, n.error_log())
        assert page.body.strip() == f"finished nil PASSED {ID_NO}"
        assert time.monotonic() - t0 >= 0.5
        assert received(emu, "CheckEidTokenStatus") >= 3
    finally:
        n.stop()


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Records what nginx sends upstream; answers a FaceID error envelope."""

    seen: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.seen.append({"path": self.path, "headers": list(self.headers.items()), "body": body})
        out = b'{"Response":{"Error":{"Code":"InternalError","Message":"recorded"},"RequestId":"rec-1"}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args: Any) -> None:
        pass


def test_the_browser_request_does_not_go_upstream(emu: Emulator) -> None:
    """Only the signed headers reach FaceID: no cookie, no user agent, nothing of the browser."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    _Recorder.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    n = start_nginx(f"http://127.0.0.1:{server.server_address[1]}")
    try:
        page = fetch(n.base + "/verify/start", {"name": NAME, "id_card": ID_NO},
                     headers={"Cookie": "session=browser-secret", "User-Agent": "browser", "X-Forwarded-For": "1.2.3.4"})
        assert page.status == 502
    finally:
        n.stop()
        server.shutdown()
        server.server_close()
    assert len(_Recorder.seen) == 1
    req = _Recorder.seen[0]
    names = [k.lower() for k, _ in req["headers"]]
    assert sorted(names) == sorted(["host", "content-type", "x-tc-action", "x-tc-version", "x-tc-timestamp",
                                    "x-tc-requestclient", "authorization", "content-length"]), names
    headers = {k.lower(): v for k, v in req["headers"]}
    assert headers["host"] == f"127.0.0.1:{server.server_address[1]}"
    assert headers["x-tc-action"] == "DetectAuth"
    assert headers["authorization"].startswith("TC3-HMAC-SHA256 Credential=" + DEFAULT_SECRET_ID)
    assert req["path"] == "/" and int(headers["content-length"]) == len(req["body"])
    assert b"browser-secret" not in req["body"]


# ---------------------------------------------------------------------------
# non-blocking
# ---------------------------------------------------------------------------


@pytest.mark.slow
def test_twenty_concurrent_verifications_on_one_worker(nginx: Nginx, emu: Emulator) -> None:
    """Each verification makes two FaceID calls that take 1 s each (the emulator's latency fault):
    40 s one after the other. One worker that never blocks on them does all 20 in about 2 s."""
    assert len(nginx.workers) == 1
    n = 20
    emu.fault("latency", count=2 * n, seconds=1)

    def one(_: int) -> tuple[str, float]:
        t0 = time.monotonic()
        page = verify(nginx, emu, "pass")
        return page.verdict or f"{page.status}: {page.body}", time.monotonic() - t0

    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=n) as pool:
        results = list(pool.map(one, range(n)))
    elapsed = time.monotonic() - t0
    assert [v for v, _ in results] == ["PASSED"] * n, nginx.error_log()
    assert all(t >= 2.0 for _, t in results)  # every call did wait its second
    assert emu.stats()["faults_applied"] == {"latency": 2 * n}
    assert elapsed < 8.0, f"20 verifications took {elapsed:.1f} s"
    assert children(nginx.proc.pid) == nginx.workers  # the same single worker did it all


# ---------------------------------------------------------------------------
# TLS
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def emulator_cert() -> Iterator[tuple[str, str]]:
    openssl = shutil.which("openssl")
    assert openssl, "openssl is not installed (make deps)"
    with tempfile.TemporaryDirectory(prefix="tcfaceid-cert-") as d:
        cert, key = f"{d}/emulator-cert.pem", f"{d}/emulator-key.pem"
        subprocess.run(
            [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
             "-keyout", key, "-out", cert],
            check=True, capture_output=True,
        )
        yield cert, key


@pytest.fixture
def tls_emu(emulator_cert: tuple[str, str]) -> Iterator[Emulator]:
    cert, key = emulator_cert
    with Emulator(Config(port=0, qps_enabled=False, tls_cert=cert, tls_key=key)) as e:
        yield e


def test_tls_with_verification(tls_emu: Emulator, emulator_cert: tuple[str, str]) -> None:
    """HTTPS to the emulator with proxy_ssl_verify on, trusting only its certificate; the name
    checked (and sent as SNI) is the endpoint's host, localhost."""
    port = tls_emu.endpoint.rsplit(":", 1)[1]
    n = start_nginx(tls_emu.endpoint, tls=True, ca_file=emulator_cert[0], endpoint=f"https://localhost:{port}")
    try:
        page = verify(n, tls_emu, "retry_then_pass")
        assert page.verdict == "PASSED", (page.body, n.error_log())
        assert len(attempts_shown(page)) == 2
    finally:
        n.stop()


def test_tls_refuses_an_untrusted_certificate(tls_emu: Emulator) -> None:
    port = tls_emu.endpoint.rsplit(":", 1)[1]
    n = start_nginx(tls_emu.endpoint, tls=True, ca_file="/etc/ssl/certs/ca-certificates.crt",
                    endpoint=f"https://localhost:{port}")
    try:
        page = fetch(n.base + "/verify/start", {"name": NAME, "id_card": ID_NO})
        assert page.status == 502
        log = n.error_log()
        assert "certificate verify error" in log or "certificate verify failed" in log, log
        assert "FaceID call failed (DetectAuth): transport" in log
        assert received(tls_emu, "DetectAuth") == 0
    finally:
        n.stop()


# ---------------------------------------------------------------------------
# the documentation
# ---------------------------------------------------------------------------


def test_documentation_excerpts_match_the_example() -> None:
    """Every block of docs/openresty.md announced as coming from the example is in it verbatim."""
    doc = DOC.read_text(encoding="utf-8")
    sources = {
        "examples/openresty/nginx.conf": EXAMPLE.read_text(encoding="utf-8"),
        "examples/openresty/lua/faceid_verify.lua": (HANDLERS / "faceid_verify.lua").read_text(encoding="utf-8"),
    }
    blocks = re.findall(r"<!-- from (\S+) -->\n```\w*\n(.*?)```", doc, re.S)
    assert {path for path, _ in blocks} == set(sources), "docs/openresty.md must show both example files"
    for path, block in blocks:
        assert block in sources[path], f"{path}: {block[:200]}"


# ---------------------------------------------------------------------------
# element checks and PaaS calls through tcfaceid.resty (docs/checks.md)
# ---------------------------------------------------------------------------

# A location added for these tests only: faceid:<method>(params) with the params of the JSON body;
# "video_bytes_b64" becomes the raw bytes of params.video (what a handler reading an upload has),
# "video_base64_fill": n a base64 text of n characters (larger than nginx's request body limit).
CHECK_PROBE = """        location = /test/check {
            content_by_lua_block {
                local tcfaceid = require("tcfaceid")
                local faceid = assert(require("tcfaceid.resty").new{ endpoint = "@ENDPOINT@" })
                ngx.req.read_body()
                local params = tcfaceid.json_decode(ngx.req.get_body_data() or "{}")
                if params.video_bytes_b64 then
                    params.video = ngx.decode_base64(params.video_bytes_b64)
                    params.video_bytes_b64 = nil
                end
                if params.video_base64_fill then
                    params.video_base64 = string.rep("A", params.video_base64_fill)
                    params.video_base64_fill = nil
                end
                local method = ngx.var.arg_method
                local o, err
                if method == "get_live_code" then
                    o, err = faceid:get_live_code()
                    if o then
                        return ngx.say("code ", o)
                    end
                else
                    o, err = faceid[method](faceid, params)
                end
                if o then
                    return ngx.say("ok ", tcfaceid.json_encode({ action = o.action, status = o.status,
                        result = o.result, billed = o.billed == nil and tcfaceid.null or o.billed,
                        matched = o.matched == nil and tcfaceid.null or o.matched,
                        sim = o.sim or tcfaceid.null, request_id = o.request_id or tcfaceid.null,
                        response = o.response }))
                end
                ngx.say("err ", err.kind, " ", err.code, " ", tostring(err.retry_at), " ", err.message)
            }
        }

        location = /verify/return {"""


def probe_check(n: Nginx, method: str, params: dict[str, Any]) -> tuple[str, Any]:
    """faceid:<method>(params) in nginx: ("ok", outcome dict) | ("code", live code) |
    ("err", [kind, code, retry_at, message])."""
    conn = http.client.HTTPConnection("127.0.0.1", n.port, timeout=30)
    try:
        conn.request("POST", "/test/check?method=" + method, body=json.dumps(params).encode())
        resp = conn.getresponse()
        body = resp.read().decode()
        assert resp.status == 200, (body, n.error_log())
        head, _, rest = body.strip().partition(" ")
        if head == "ok":
            return head, json.loads(rest)
        if head == "code":
            return head, rest
        return head, rest.split(" ", 3)
    finally:
        conn.close()


def test_element_checks_and_liveness_through_nginx(emu: Emulator) -> None:
    n = start_nginx(emu.endpoint, extra=[("        location = /verify/return {",
                                          CHECK_PROBE.replace("@ENDPOINT@", emu.endpoint))])
    try:
        kind, o = probe_check(n, "id_card_verify", {"id_card": ID_NO, "name": NAME})
        assert kind == "ok", (o, n.error_log())
        assert (o["action"], o["status"], o["result"], o["billed"], o["matched"]) == \
            ("IdCardVerification", "matched", "0", True, True)
        assert isinstance(o["request_id"], str) and o["request_id"]
        kind, o = probe_check(n, "id_card_verify", {"id_card": ID_NO, "name": "李四"})
        assert (o["status"], o["matched"]) == ("mismatched", False)
        # LIP liveness with a small video given as raw bytes
        kind, code = probe_check(n, "get_live_code", {})
        assert kind == "code" and re.fullmatch(r"\d{4}", code)
        video = b"\x00\x00\x00\x18ftypisom" + bytes(range(256)) * 8
        kind, o = probe_check(n, "liveness_recognition", {
            "id_card": ID_NO, "name": NAME, "liveness_type": "LIP", "validate_data": code,
            "video_bytes_b64": base64.b64encode(video).decode()})
        assert kind == "ok", (o, n.error_log())
        assert (o["action"], o["status"], o["result"], o["billed"]) == \
            ("LivenessRecognition", "matched", "Success", True)
        assert o["sim"] >= 70 and isinstance(o["response"]["BestFrameBase64"], str)
        # a PaaS business result the service gave as an API error
        emu.fault("internal_error", count=1, action="LivenessCompare", code="FailedOperation.CompareLowSimilarity")
        kind, o = probe_check(n, "liveness_compare", {
            "liveness_type": "SILENT", "video_base64": base64.b64encode(video).decode(),
            "image_base64": "data:image/png;base64," + base64.b64encode(b"\x89PNG not a picture").decode()})
        assert kind == "ok", (o, n.error_log())
        assert (o["status"], o["result"], o["billed"]) == ("mismatched", "FailedOperation.CompareLowSimilarity", True)
        # carrier routing: a CUCC number goes to PhoneVerificationCUCC; when that action is not
        # enabled for the account, PhoneVerification answers
        li = {"phone": "18612345678", "id_card": "440304198512010027", "name": "李四", "route": "auto"}
        kind, o = probe_check(n, "phone_verify", li)
        assert (kind, o["action"], o["status"]) == ("ok", "PhoneVerificationCUCC", "matched"), (o, n.error_log())
        emu.fault("internal_error", count=1, action="PhoneVerificationCUCC", code="UnauthorizedOperation.Nonactivated")
        kind, o = probe_check(n, "phone_verify", li)
        assert (kind, o["action"], o["status"]) == ("ok", "PhoneVerification", "matched"), (o, n.error_log())
        assert received(emu, "PhoneVerificationCUCC") == 2 and received(emu, "PhoneVerification") == 1
        no_secrets_in(n.error_log())
    finally:
        n.stop()


def test_invalid_check_inputs_send_nothing_through_nginx(emu: Emulator) -> None:
    n = start_nginx(emu.endpoint, extra=[("        location = /verify/return {",
                                          CHECK_PROBE.replace("@ENDPOINT@", emu.endpoint))])
    try:
        before = emu.stats()["total"]
        kind, e = probe_check(n, "id_card_verify", {"id_card": "110101199003071234", "name": NAME})
        assert kind == "err" and e[0] == "invalid_argument" and "110101199003071234" not in e[3], e
        kind, e = probe_check(n, "bank_card_verify", {"id_card": ID_NO, "name": NAME, "bank_card": "6212261000000000018"})
        assert kind == "err" and e[0] == "invalid_argument", e
        kind, e = probe_check(n, "liveness_recognition", {
            "id_card": ID_NO, "name": NAME, "liveness_type": "SILENT",
            "video_base64_fill": 8 * 1024 * 1024 + 4})
        assert kind == "err" and e[0] == "invalid_argument" and "ffmpeg" in e[3], e
        assert emu.stats()["total"] == before
        # the daily identity limit of an element check: rate_limited until midnight (UTC+8)
        with emu.service.lock:
            emu.service.config.limits["element_per_day"] = 1
        assert probe_check(n, "mobile_status", {"phone": "18612345678"})[1]["status"] == "answered"
        kind, e = probe_check(n, "mobile_status", {"phone": "18612345678"})
        assert kind == "err" and e[0] == "rate_limited", e
        assert int(e[2]) > emu.now() and (int(e[2]) + 8 * 3600) % 86400 == 0
    finally:
        n.stop()
