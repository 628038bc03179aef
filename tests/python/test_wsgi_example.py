"""examples/wsgi_flow.py (the WSGI app of docs/flows.md) against the in-process emulator.

The app runs on a wsgiref server on 127.0.0.1 (port 0, in a thread); urllib plays the person's
browser and never follows a redirect by itself; ``emu.complete`` plays the person on the
verification page. Checked: the whole SaaS and E-ID loop (start -> page -> complete -> landing ->
verdict), failing scenarios, and that the landing trusts nothing in its URL: unknown, forged,
swapped or repeated tokens give 400, never PASSED, and never cost a paid call.
"""

from __future__ import annotations

import importlib.util
import re
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator, Optional

import pytest

import tcfaceid
from tcfaceid.emulator import (
    DEFAULT_MERCHANT_ID,
    DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM,
    DEFAULT_SECRET_ID,
    DEFAULT_SECRET_KEY,
    Emulator,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "wsgi_flow.py"
DOC = ROOT / "docs" / "flows.md"

# The emulator's default library person (fictional: the number only passes the checksum).
ID_NO = "110101199003071233"
NAME = "张三"
PAID = ("GetDetectInfoEnhanced", "GetEidResult", "DetectAuth", "GetEidToken")


def _load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("wsgi_flow", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


wsgi_flow = _load_example()


# -- a browser that does not follow redirects -------------------------------------------------
class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # hand the 3xx back to the caller


_BROWSER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


@dataclass
class Page:
    status: int
    headers: Message
    body: str

    @property
    def verdict(self) -> Optional[str]:
        return self.headers.get("X-Verdict")

    def shown_status(self) -> Optional[str]:
        m = re.search(r"<p id=status>([A-Z]+)</p>", self.body)
        return m.group(1) if m else None

    def shown_code(self) -> Optional[str]:
        m = re.search(r"Code: (-?\d+|None)[ ;]", self.body)
        return m.group(1) if m else None


def fetch(url: str, form: Optional[dict[str, str]] = None) -> Page:
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    try:
        with _BROWSER.open(url, data=data, timeout=10) as r:
            return Page(r.status, r.headers, r.read().decode("utf-8"))
    except urllib.error.HTTPError as e:
        with e:
            return Page(e.code, e.headers, e.read().decode("utf-8"))


# -- the app on a real server -------------------------------------------------------------------
@dataclass
class Site:
    base: str
    store: dict[str, dict[str, str]]
    client: tcfaceid.Client


@pytest.fixture
def site(emu: Emulator) -> Iterator[Site]:
    with tcfaceid.Client(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, endpoint=emu.endpoint, clock=emu.now) as client:
        server = wsgi_flow.serve(None, "127.0.0.1", 0)
        base = f"http://127.0.0.1:{server.server_address[1]}"
        store: dict[str, dict[str, str]] = {}
        server.set_app(wsgi_flow.make_app(client, "1", DEFAULT_MERCHANT_ID, base,
                                          sm2_private_key_pem=DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM, store=store))
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        try:
            yield Site(base, store, client)
        finally:
            server.shutdown()
            server.server_close()
            thread.join(5)


def received(emu: Emulator, action: str) -> int:
    return int(emu.stats()["received"].get(action, 0))


def start(site: Site, emu: Emulator, path: str = "/start", form: Optional[dict[str, str]] = None) -> str:
    """POST the start form, check the 303 to the emulator's page, open the page; the token."""
    page = fetch(site.base + path, {"name": NAME, "id_card": ID_NO} if form is None else form)
    assert page.status == 303, page.body
    url = page.headers["Location"]
    kind = "eid" if path.startswith("/eid") else "h5"
    assert url.startswith(f"{emu.endpoint}/{kind}/verify?token="), url
    assert fetch(url).status == 200  # the person opens the verification page
    token = tcfaceid.parse_redirect(url)
    assert token in site.store
    return token


def finish(site: Site, emu: Emulator, token: str, scenario: str, landing_path: str = "/return") -> Page:
    """The person completes the page; the browser follows the redirect to the app's landing."""
    done = emu.complete(token, scenario)
    landing = done["redirect"]
    assert landing.startswith(f"{site.base}{landing_path}?state="), landing
    assert tcfaceid.parse_redirect(landing) == token
    return fetch(landing)


def assert_no_identity(page: Page) -> None:
    assert ID_NO not in page.body and NAME not in page.body


# -- SaaS ---------------------------------------------------------------------------------------
def test_saas_pass(site: Site, emu: Emulator) -> None:
    token = start(site, emu)
    page = finish(site, emu, token, "pass")
    assert page.status == 200
    assert page.verdict == "PASSED" and page.shown_status() == "PASSED"
    assert page.shown_code() == "0" and "billed: True" in page.body
    assert_no_identity(page)
    assert received(emu, "GetDetectInfoEnhanced") >= 1


def test_saas_retry_then_pass_lists_both_attempts(site: Site, emu: Emulator) -> None:
    page = finish(site, emu, start(site, emu), "retry_then_pass")
    assert page.verdict == "PASSED"
    assert page.body.count("<tr><td>") == 2  # one row per LivenessDetail item
    assert "<td>1</td><td>1002</td><td>1002</td>" in page.body


@pytest.mark.parametrize("scenario, code", [("fail_liveness", 1002), ("fail_compare", 2016)])
def test_saas_failure_shows_failed_with_the_code(site: Site, emu: Emulator, scenario: str, code: int) -> None:
    page = finish(site, emu, start(site, emu), scenario)
    assert page.status == 200
    assert page.verdict == "FAILED" and page.shown_status() == "FAILED"
    assert page.shown_code() == str(code)
    assert "PASSED" not in page.body
    assert_no_identity(page)


def test_saas_landing_before_completion_is_pending(site: Site, emu: Emulator) -> None:
    token = start(site, emu)
    state = site.store[token]["state"]
    page = fetch(f"{site.base}/return?state={state}&token={token}")
    assert page.status == 200 and page.verdict == "PENDING"


def test_saas_results_after_three_days_are_expired_without_a_call(site: Site, emu: Emulator) -> None:
    token = start(site, emu)
    done = emu.complete(token, "pass")
    emu.advance(3 * 86400 + 1)
    before = received(emu, "GetDetectInfoEnhanced")
    page = fetch(done["redirect"])
    assert page.status == 200 and page.verdict == "EXPIRED"
    assert received(emu, "GetDetectInfoEnhanced") == before  # decided locally: no paid call


def test_bad_input_is_refused_before_any_request(site: Site, emu: Emulator) -> None:
    bad_id = ID_NO[:-1] + "4"  # wrong check character
    page = fetch(site.base + "/start", {"name": NAME, "id_card": bad_id})
    assert page.status == 400
    assert bad_id not in page.body
    assert received(emu, "DetectAuth") == 0
    assert not site.store


# -- the landing trusts nothing ----------------------------------------------------------------
@pytest.mark.parametrize("query", [
    "",
    "state=x",
    "token=",
    "state=x&token=0C5F1E2A-0000-4000-8000-000000000000",
    "state=x&token=%3Cscript%3E",
    "state=x&token=" + "A" * 200,
])
def test_unknown_or_malformed_token_is_400(site: Site, emu: Emulator, query: str) -> None:
    page = fetch(f"{site.base}/return?{query}")
    assert page.status == 400
    assert page.verdict is None and "PASSED" not in page.body
    assert "<script>" not in page.body
    assert received(emu, "GetDetectInfoEnhanced") == 0


def test_forged_landings_never_pass(site: Site, emu: Emulator) -> None:
    # A passed session, started through the app: its real landing passes ...
    passed = start(site, emu)
    good = emu.complete(passed, "pass")["redirect"]
    # ... a failed one, started through the app too ...
    failed = start(site, emu)
    failed_landing = emu.complete(failed, "fail_compare")["redirect"]
    # ... and a passed one that this app did not start (someone else's DetectAuth, same account).
    foreign = site.client.detect_auth("1", id_card=ID_NO, name=NAME,
                                      redirect_url=f"{site.base}/return?state=attacker")
    emu.complete(foreign.biz_token, "pass")
    failed_state = site.store[failed]["state"]
    forgeries = [
        f"{site.base}/return?token={passed}",                                    # no state
        f"{site.base}/return?state=guess&token={passed}",                        # wrong state
        f"{site.base}/return?state={failed_state}&token={passed}",               # swapped token
        failed_landing + f"&token={passed}",                                     # a second token
        f"{site.base}/return?token={passed}&" + failed_landing.split("?", 1)[1],  # same, in front
        f"{site.base}/return?state=attacker&token={foreign.biz_token}",          # not ours
        f"{site.base}/eid/return?" + good.split("?", 1)[1],                      # the other flow
    ]
    before = received(emu, "GetDetectInfoEnhanced")
    for url in forgeries:
        page = fetch(url)
        assert page.status == 400, url
        assert page.verdict is None and "PASSED" not in page.body, url
    assert received(emu, "GetDetectInfoEnhanced") == before
    # The genuine landings still give the server-side truth.
    assert fetch(failed_landing).verdict == "FAILED"
    assert fetch(good).verdict == "PASSED"


def test_other_pages(site: Site) -> None:
    index = fetch(site.base + "/")
    assert index.status == 200 and 'action=/start' in index.body and 'action=/eid/start' in index.body
    assert fetch(site.base + "/nowhere").status == 404
    assert fetch(site.base + "/start").status == 404  # GET: starting needs the POSTed form


# -- E-ID ---------------------------------------------------------------------------------------
def test_eid_pass_with_decrypted_identity(site: Site, emu: Emulator) -> None:
    token = start(site, emu, "/eid/start", {})  # InputType: the page reads the ID card
    page = finish(site, emu, token, "pass", "/eid/return")
    assert page.status == 200
    assert page.verdict == "PASSED" and page.shown_status() == "PASSED"
    assert "张*" in page.body and "110***********1233" in page.body  # decrypted EidInfo, masked
    assert_no_identity(page)
    assert received(emu, "GetEidResult") >= 1


def test_eid_with_identity_from_the_backend(site: Site, emu: Emulator) -> None:
    token = start(site, emu, "/eid/start", {"name": NAME, "id_card": ID_NO})
    assert finish(site, emu, token, "pass", "/eid/return").verdict == "PASSED"


def test_eid_failure_and_forgery(site: Site, emu: Emulator) -> None:
    token = start(site, emu, "/eid/start", {})
    page = finish(site, emu, token, "fail_liveness", "/eid/return")
    assert page.verdict == "FAILED" and page.shown_code() == "1002"
    assert "PASSED" not in page.body and "Verified:" not in page.body
    assert fetch(f"{site.base}/eid/return?state=guess&token={token}").status == 400
    assert fetch(f"{site.base}/return?state={site.store[token]['state']}&token={token}").status == 400


# -- the command line and the documentation ------------------------------------------------------
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_command_line(emu: Emulator, stop: int) -> None:
    proc = subprocess.Popen(
        [sys.executable, str(EXAMPLE), "--endpoint", emu.endpoint, "--secret-id", DEFAULT_SECRET_ID,
         "--secret-key", DEFAULT_SECRET_KEY, "--rule-id", "1", "--merchant-id", DEFAULT_MERCHANT_ID,
         "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        m = re.fullmatch(r"wsgi_flow serving (http://127\.0\.0\.1:\d+)/\n", line)
        assert m, line
        base = m.group(1)
        page = fetch(base + "/start", {"name": NAME, "id_card": ID_NO})
        assert page.status == 303 and page.headers["Location"].startswith(emu.endpoint + "/h5/verify?token=")
        token = tcfaceid.parse_redirect(page.headers["Location"])
        landing = emu.complete(token, "pass")["redirect"]
        assert landing.startswith(base + "/return?state=")
        assert fetch(landing).verdict == "PASSED"
    finally:
        proc.send_signal(stop)  # the app closes its server and client, and exits 0
        try:
            _, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
    assert proc.returncode == 0, err
    # Its log: no keys, no tokens, no identity data.
    for secret in (DEFAULT_SECRET_KEY, token, ID_NO, NAME):
        assert secret not in err


def test_documentation_excerpts_match_the_example() -> None:
    """Every code block of docs/flows.md announced as coming from the example is in it verbatim."""
    doc = DOC.read_text(encoding="utf-8")
    source = EXAMPLE.read_text(encoding="utf-8")
    blocks = re.findall(r"<!-- from examples/wsgi_flow\.py -->\n```python\n(.*?)```", doc, re.S)
    assert blocks, "docs/flows.md shows no excerpt of examples/wsgi_flow.py"
    for block in blocks:
        assert block in source, block[:200]
