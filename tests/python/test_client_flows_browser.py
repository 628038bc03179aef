"""One SaaS and one E-ID verification end to end through ``tcfaceid.Client``, with a real headless
Chromium in the person's place.

The business (this test) starts the flow with ``detect_auth`` / ``get_eid_token`` and a
``redirect_url`` on a tiny local HTTP server (its landing page), stores the session as JSON, and
sends the person to ``session.url``. The person (Chromium) opens the emulator's page, presses a
scenario button and is redirected back to the landing page. The business reads the token off the
landing URL with ``tcfaceid.parse_redirect`` — only to find its stored session — and pulls the
verdict server-side (``detect_result`` / ``eid_result``, then ``decrypt_eid_info`` for E-ID).

Browser setup as in test_emulator_browser.py: Debian's ``chromium`` and ``chromium-driver``,
Selenium Manager never used (its ``binary_paths`` fails the test if called), everything on
127.0.0.1.
"""

from __future__ import annotations

import os
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest

try:
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.selenium_manager import SeleniumManager
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError as exc:  # a broken venv must fail loudly, not skip
    raise ImportError(f"selenium is not installed in this environment ({exc}); run `make deps`") from exc

import tcfaceid
from tcfaceid.emulator import (
    DEFAULT_MERCHANT_ID,
    DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM,
    DEFAULT_SECRET_ID,
    DEFAULT_SECRET_KEY,
    Emulator,
)

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("TCFACEID_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("TCFACEID_CHROMEDRIVER", "/usr/bin/chromedriver")
CHROME_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
)
WAIT = 15  # seconds, for every explicit wait and page load (keep it <= 20)

ID_CARD = "110101199003071233"
NAME = "张三"
EID_NAME = "李四"
EID_ID_CARD = "440304198512010027"


# -- fixtures -----------------------------------------------------------------------
def _missing_browser() -> list[str]:
    return [p for p in (CHROMIUM, CHROMEDRIVER) if not (os.path.isfile(p) and os.access(p, os.X_OK))]


def _no_selenium_manager(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("Selenium Manager was invoked; it must never run (it would try to download a driver)")


class _NoBrowser:
    """Stands in for the driver when Chromium cannot be used: the first use fails the test."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __getattr__(self, name: str) -> Any:
        pytest.fail(self.reason, pytrace=False)


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    """One headless Chromium for the module, with a fresh profile; closed at the end."""
    missing = _missing_browser()
    if missing:
        yield _NoBrowser(  # type: ignore[misc]
            f"the browser tests need Debian's chromium and chromium-driver; missing: {', '.join(missing)}. "
            "Run `make deps` to install them.")
        return
    with pytest.MonkeyPatch.context() as mp, tempfile.TemporaryDirectory(prefix="tcfaceid-chromium-") as profile:
        mp.setenv("SE_OFFLINE", "true")
        mp.setattr(SeleniumManager, "binary_paths", _no_selenium_manager)
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for arg in CHROME_ARGS:
            options.add_argument(arg)
        options.add_argument(f"--user-data-dir={profile}")
        service = Service(executable_path=CHROMEDRIVER)
        try:
            driver = webdriver.Chrome(options=options, service=service)
        except WebDriverException as exc:
            yield _NoBrowser(  # type: ignore[misc]
                f"could not start {CHROMIUM} through {CHROMEDRIVER}: {exc.msg or exc}. "
                "If the chromium / chromium-driver packages are missing or broken, run `make deps`.")
            return
        try:
            driver.set_page_load_timeout(WAIT)
            driver.set_script_timeout(WAIT)
            yield driver
        finally:
            driver.quit()


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as e:
        yield e


@pytest.fixture
def client(emu: Emulator) -> Iterator[tcfaceid.Client]:
    with tcfaceid.Client(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, endpoint=emu.endpoint, clock=emu.now,
                         proxy="", timeout=10.0) as c:
        yield c


class Landing:
    """The business's page behind RedirectUrl: a tiny HTTP server on 127.0.0.1 that records the
    path and query of every GET and answers a small HTML page."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.lock = threading.Lock()
        landing = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server naming)
                if self.path == "/favicon.ico":
                    self.send_error(404)
                    return
                with landing.lock:
                    landing.requests.append(self.path)
                body = ("<!doctype html><html><head><meta charset=\"utf-8\"><title>Business</title></head>"
                        "<body><h1 id=\"landed\">Back at the business</h1></body></html>").encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="landing", daemon=True)
        self.thread.start()

    def seen(self) -> list[str]:
        with self.lock:
            return list(self.requests)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def landing() -> Iterator[Landing]:
    server = Landing()
    try:
        yield server
    finally:
        server.close()


# -- helpers ------------------------------------------------------------------------
def wait(driver: webdriver.Chrome) -> WebDriverWait:
    return WebDriverWait(driver, WAIT)


def open_page(driver: webdriver.Chrome, url: str) -> None:
    driver.get(url)
    wait(driver).until(EC.presence_of_element_located((By.TAG_NAME, "h1")))


def click_and_land_on_business(driver: webdriver.Chrome, landing: Landing, button_id: str) -> str:
    """Press a scenario button and wait for the business's page; return the path+query it saw."""
    before = len(landing.seen())
    page_url = driver.current_url
    driver.find_element(By.ID, button_id).click()
    WebDriverWait(driver, WAIT, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.current_url != page_url and d.execute_script("return document.readyState") == "complete")
    if not driver.find_elements(By.ID, "landed"):
        body = driver.find_element(By.TAG_NAME, "body").text
        pytest.fail(f"after #{button_id} the browser is at {driver.current_url!r} showing {body[:300]!r}, "
                    "not at RedirectUrl")
    wait(driver).until(lambda _: len(landing.seen()) > before)
    seen = landing.seen()
    assert len(seen) == before + 1, f"the business's page was requested more than once: {seen}"
    return seen[-1]


# -- SaaS -----------------------------------------------------------------------------
def test_saas_flow_through_the_client(browser: webdriver.Chrome, emu: Emulator, client: tcfaceid.Client,
                                      landing: Landing) -> None:
    # The business starts the flow and keeps the session (as JSON, e.g. in its database).
    session = client.detect_auth("1", id_card=ID_CARD, name=NAME,
                                 redirect_url=f"{landing.base}/faceid/back?order=A-42", extra="order A-42")
    store = {session.biz_token: session.to_json()}
    assert session.url is not None and session.can_start(emu.now())

    # The person verifies (one failed attempt, then a pass) and comes back.
    open_page(browser, session.url)
    seen = click_and_land_on_business(browser, landing, "scenario-retry_then_pass")
    assert seen.startswith("/faceid/back?order=A-42&"), seen

    # The landing URL only says which session this is.
    token = tcfaceid.parse_redirect(browser.current_url)
    assert token == session.biz_token
    assert tcfaceid.parse_redirect(seen) == token  # the path+query the business's server received
    stored = tcfaceid.Session.from_json(store[token])
    assert stored == session

    # The verdict comes from the service, not from the URL.
    verdict = client.detect_result(stored, parts=("text", "best_frame"))
    assert verdict.status == "PASSED" and verdict.passed and verdict.code == 0
    assert len(verdict.attempts) == 2
    assert verdict.attempts[0].errcode == 1002 and verdict.attempts[1].errcode == 0
    assert isinstance(verdict.attempts[1].sim, float)
    assert verdict.part_errors == {}
    assert verdict.response["BestFrame"]["BestFrame"]
    assert verdict.text is not None and verdict.text["Extra"] == "order A-42"
    assert ID_CARD not in repr(verdict) and NAME not in repr(verdict)


# -- E-ID -----------------------------------------------------------------------------
def test_eid_flow_through_the_client(browser: webdriver.Chrome, emu: Emulator, client: tcfaceid.Client,
                                     landing: Landing) -> None:
    session = client.get_eid_token(DEFAULT_MERCHANT_ID, input_type=3,
                                   redirect_url=f"{landing.base}/eid/back?session=s-7")
    store = {session.eid_token: session.to_json()}
    assert session.url is not None
    assert client.eid_status(session) == "init"

    # The person types name and ID number on the E-ID page and passes.
    open_page(browser, session.url)
    assert client.eid_status(session) == "doing"
    browser.find_element(By.ID, "name").send_keys(EID_NAME)
    browser.find_element(By.ID, "id_card").send_keys(EID_ID_CARD)
    seen = click_and_land_on_business(browser, landing, "scenario-pass")
    assert seen.startswith("/eid/back?session=s-7&"), seen

    token = tcfaceid.parse_redirect(browser.current_url)
    assert token == session.eid_token
    stored = tcfaceid.EidSession.from_json(store[token])
    assert stored == session

    assert client.wait_eid(stored, interval=0.05, timeout=10) == "finished"
    verdict = client.eid_result(stored, parts=("text", "eid_info"))
    assert verdict.status == "PASSED" and verdict.code == 0
    identity = tcfaceid.decrypt_eid_info(verdict.response["EidInfo"], DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM)
    assert identity == {"name": EID_NAME, "idtype": "01", "idnum": EID_ID_CARD}
