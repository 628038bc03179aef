"""The emulator's verification pages driven by a real headless Chromium.

A person opens DetectAuth's / GetEidToken's ``Url``, sees (or types) the
identity, presses one of the scenario buttons and is sent back to the
business's ``RedirectUrl``; the business then fetches the result through the
API. These tests do exactly that with Debian's ``chromium`` and
``chromium-driver`` (``make deps`` installs them), and check the result with
the signing client of ``emuclient.py``.

Selenium Manager is never used: the driver path is given to ``Service`` and
``SeleniumManager.binary_paths`` is replaced by a function that fails the test
if it is ever called, so nothing is downloaded.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest

try:
    from selenium import webdriver
    from selenium.common.exceptions import NoSuchElementException, WebDriverException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.selenium_manager import SeleniumManager
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError as exc:  # a broken venv must fail loudly, not skip
    raise ImportError(f"selenium is not installed in this environment ({exc}); run `make deps`") from exc

from emuclient import Api
from tcfaceid.emulator import DEFAULT_MERCHANT_ID, DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM, Emulator, gm

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
SCENARIOS_WITHOUT_INTENTION = ("pass", "fail_liveness", "fail_compare", "retry_then_pass", "abandon")


# -- fixtures -----------------------------------------------------------------------
def _missing_browser() -> list[str]:
    return [p for p in (CHROMIUM, CHROMEDRIVER) if not (os.path.isfile(p) and os.access(p, os.X_OK))]


def _no_selenium_manager(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("Selenium Manager was invoked; it must never run (it would try to download a driver)")


class _NoBrowser:
    """Stands in for the driver when Chromium cannot be used: the first use fails the test
    (FAILED with the reason, rather than an ERROR at setup or a skip)."""

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
    # One emulator per test: the expiry test moves the emulator's clock.
    with Emulator() as e:
        yield e


@pytest.fixture
def api(emu: Emulator) -> Iterator[Api]:
    client = Api(emu.endpoint, clock=emu.now)
    try:
        yield client
    finally:
        client.close()


class Landing:
    """The business's page behind RedirectUrl: a tiny HTTP server on 127.0.0.1 that
    records the path and query of every GET and answers a small HTML page."""

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
    # Wait for the navigation to finish wherever it ends, so a wrong landing fails fast and says where it went.
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


def click_and_land_on_done_page(driver: webdriver.Chrome, emu: Emulator, button_id: str, token: str) -> None:
    driver.find_element(By.ID, button_id).click()
    done = f"{emu.endpoint}/h5/done?token={urllib.parse.quote(token)}"
    wait(driver).until(EC.url_to_be(done))
    wait(driver).until(EC.presence_of_element_located((By.ID, "message")))


def http_status(url: str) -> int:
    """The HTTP status of a GET (for pages where the browser shows only the body)."""
    try:
        with urllib.request.urlopen(url, timeout=WAIT) as resp:
            return resp.status
    except urllib.error.HTTPError as e:
        e.close()
        return e.code


def query_of(path_and_query: str) -> tuple[str, list[tuple[str, str]]]:
    path, _, query = path_and_query.partition("?")
    return path, urllib.parse.parse_qsl(query, keep_blank_values=True)


def detect_auth(api: Api, redirect_url: str | None = None) -> tuple[str, str]:
    params: dict[str, Any] = {"RuleId": "1", "IdCard": ID_CARD, "Name": NAME}
    if redirect_url is not None:
        params["RedirectUrl"] = redirect_url
    resp = api.call("DetectAuth", params)
    assert "Error" not in resp, resp
    return resp["BizToken"], resp["Url"]


def detect_info(api: Api, token: str) -> dict[str, Any]:
    resp = api.call("GetDetectInfoEnhanced", {"BizToken": token, "RuleId": "1", "InfoType": "1"})
    assert "Error" not in resp, resp
    return resp["Text"]


def expected_mask_id(id_card: str) -> str:
    return id_card[:3] + "*" * (len(id_card) - 7) + id_card[-4:]


# -- SaaS (DetectAuth) --------------------------------------------------------------
def test_saas_pass_redirects_back_with_token(browser: webdriver.Chrome, emu: Emulator, api: Api,
                                             landing: Landing) -> None:
    original_query = "order=A-42&from=faceid&note=a%20b"
    redirect = f"{landing.base}/back/result?{original_query}"
    token, url = detect_auth(api, redirect)
    assert url == f"{emu.endpoint}/h5/verify?token={token}"

    open_page(browser, url)
    # The person sees who is being verified, masked; the full ID number never reaches the page.
    who = browser.find_element(By.CSS_SELECTOR, ".who").text
    assert "张*" in who, who
    assert expected_mask_id(ID_CARD) in who, who
    source = browser.page_source
    assert ID_CARD not in source
    assert NAME not in source
    buttons = [b.get_attribute("id") for b in browser.find_elements(By.CSS_SELECTOR, "form button[type=submit]")]
    assert buttons == [f"scenario-{s}" for s in SCENARIOS_WITHOUT_INTENTION]

    seen = click_and_land_on_business(browser, landing, "scenario-pass")
    path, pairs = query_of(seen)
    assert path == "/back/result"
    assert pairs == [("order", "A-42"), ("from", "faceid"), ("note", "a b"), ("token", token)], seen
    assert seen == f"/back/result?{original_query}&token={token}"
    assert browser.current_url == f"{redirect}&token={token}"

    text = detect_info(api, token)
    assert text["ErrCode"] == 0, text
    assert len(text["LivenessDetail"]) == 1, text["LivenessDetail"]
    assert text["LivenessDetail"][0]["Errcode"] == 0
    assert (text["IdCard"], text["Name"]) == (ID_CARD, NAME)


def test_saas_redirect_url_with_non_ascii_query(browser: webdriver.Chrome, emu: Emulator, api: Api,
                                                landing: Landing) -> None:
    # DetectAuth accepts a RedirectUrl whose query has Chinese text; the person must still get back to it.
    token, url = detect_auth(api, f"{landing.base}/back?city=深圳")
    open_page(browser, url)
    seen = click_and_land_on_business(browser, landing, "scenario-pass")
    assert query_of(seen) == ("/back", [("city", "深圳"), ("token", token)]), seen
    assert detect_info(api, token)["ErrCode"] == 0


def test_saas_retry_then_pass(browser: webdriver.Chrome, emu: Emulator, api: Api, landing: Landing) -> None:
    token, url = detect_auth(api, f"{landing.base}/back#top")
    open_page(browser, url)
    seen = click_and_land_on_business(browser, landing, "scenario-retry_then_pass")
    assert query_of(seen) == ("/back", [("token", token)])
    # the token goes into the query, before the fragment, which the browser keeps
    assert browser.current_url == f"{landing.base}/back?token={token}#top"

    text = detect_info(api, token)
    assert text["ErrCode"] == 0, text
    detail = text["LivenessDetail"]
    assert len(detail) == 2, detail
    assert detail[0]["Errcode"] != 0 and detail[0]["Livestatus"] != 0, detail[0]
    assert detail[1]["Errcode"] == 0 and detail[1]["Livestatus"] == 0, detail[1]


def test_saas_fail_compare_without_redirect_url(browser: webdriver.Chrome, emu: Emulator, api: Api) -> None:
    token, url = detect_auth(api)  # no RedirectUrl: the emulator's own done page
    open_page(browser, url)
    click_and_land_on_done_page(browser, emu, "scenario-fail_compare", token)
    assert browser.find_element(By.ID, "errcode").text == "ErrCode 2016"

    text = detect_info(api, token)
    assert text["ErrCode"] == 2016, text
    assert len(text["LivenessDetail"]) == 1
    assert text["LivenessDetail"][0]["Comparestatus"] == 2016


def test_saas_abandon_lands_on_done_page(browser: webdriver.Chrome, emu: Emulator, api: Api,
                                          landing: Landing) -> None:
    token, url = detect_auth(api, f"{landing.base}/back")
    open_page(browser, url)
    click_and_land_on_done_page(browser, emu, "scenario-abandon", token)
    assert "放弃" in browser.find_element(By.ID, "message").text
    with pytest.raises(NoSuchElementException):
        browser.find_element(By.ID, "errcode")
    assert landing.seen() == [], "abandoning must not send the person to RedirectUrl"

    text = detect_info(api, token)
    assert text["ErrCode"] is None, text
    assert text["LivenessDetail"] == []


def test_saas_expired_page_shows_errcode_15(browser: webdriver.Chrome, emu: Emulator, api: Api) -> None:
    token, url = detect_auth(api)
    emu.advance(7100)  # well inside the 7200 s of a BizToken: the page still works
    open_page(browser, url)
    assert browser.find_elements(By.ID, "scenario-pass"), "the page should still offer the scenarios"

    emu.advance(101)  # 7201 s after DetectAuth
    open_page(browser, url)
    assert browser.find_element(By.ID, "errcode").text == "ErrCode 15"
    assert not browser.find_elements(By.ID, "scenario-pass")
    assert http_status(url) == 410


# -- E-ID (GetEidToken) -------------------------------------------------------------
def get_eid_token(api: Api, redirect_url: str) -> tuple[str, str]:
    resp = api.call("GetEidToken", {"MerchantId": DEFAULT_MERCHANT_ID, "RedirectUrl": redirect_url,
                                    "Config": {"InputType": "3"}})
    assert "Error" not in resp, resp
    return resp["EidToken"], resp["Url"]


def type_identity_and_pass(browser: webdriver.Chrome, landing: Landing, url: str) -> str:
    """As the person: open the E-ID page, type name and ID number, press pass; return what the business saw."""
    open_page(browser, url)
    name_box = browser.find_element(By.ID, "name")
    id_box = browser.find_element(By.ID, "id_card")
    name_box.send_keys(EID_NAME)
    id_box.send_keys(EID_ID_CARD)
    assert name_box.get_attribute("value") == EID_NAME
    assert id_box.get_attribute("value") == EID_ID_CARD
    return click_and_land_on_business(browser, landing, "scenario-pass")


def test_eid_typed_identity_pass(browser: webdriver.Chrome, emu: Emulator, api: Api, landing: Landing) -> None:
    redirect = f"{landing.base}/eid/back?session=s-7"
    token, url = get_eid_token(api, redirect)
    assert url == f"{emu.endpoint}/eid/verify?token={token}"
    assert api.call("CheckEidTokenStatus", {"EidToken": token})["Status"] == "init"

    seen = type_identity_and_pass(browser, landing, url)
    assert query_of(seen) == ("/eid/back", [("session", "s-7"), ("token", token)]), seen
    assert browser.current_url == f"{redirect}&token={token}"

    assert api.call("CheckEidTokenStatus", {"EidToken": token})["Status"] == "finished"
    result = api.call("GetEidResult", {"EidToken": token, "InfoType": "0"})
    assert "Error" not in result, result
    assert result["Text"]["ErrCode"] == 0
    info = result["EidInfo"]
    assert info and info["DesKey"] and info["UserInfo"], info
    key = gm.sm2_decrypt(gm.sm2_private_key_from_pem(DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM),
                         base64.b64decode(info["DesKey"]))
    assert len(key) == 16
    plain = gm.sm4_ecb_decrypt(key, base64.b64decode(info["UserInfo"]))
    assert len(plain) % 16 == 0
    assert json.loads(plain.rstrip(b"\x00").decode("utf-8")) == {
        "name": EID_NAME, "idtype": "01", "idnum": EID_ID_CARD}


def assert_single_use_error(browser: webdriver.Chrome, url: str) -> None:
    browser.get(url)
    message = wait(browser).until(EC.presence_of_element_located((By.ID, "message"))).text
    assert "链接已失效" in message, f"a second open of the E-ID Url showed {message!r}, not the single-use error"
    assert not browser.find_elements(By.ID, "scenario-pass")
    assert http_status(url) == 410


def test_eid_url_single_use_after_completion(browser: webdriver.Chrome, emu: Emulator, api: Api,
                                             landing: Landing) -> None:
    token, url = get_eid_token(api, f"{landing.base}/eid/back")
    type_identity_and_pass(browser, landing, url)
    assert api.call("CheckEidTokenStatus", {"EidToken": token})["Status"] == "finished"
    # The E-ID Url can be used only once ("该 URL 有效为十分钟，且仅能使用一次"):
    # opening it again after the verification shows the single-use error.
    assert_single_use_error(browser, url)


def test_eid_url_single_use_before_completion(browser: webdriver.Chrome, emu: Emulator, api: Api,
                                              landing: Landing) -> None:
    token, url = get_eid_token(api, f"{landing.base}/eid/back")
    open_page(browser, url)
    assert browser.find_elements(By.ID, "name") and browser.find_elements(By.ID, "scenario-pass")
    assert api.call("CheckEidTokenStatus", {"EidToken": token})["Status"] == "doing"
    assert_single_use_error(browser, url)  # a reload is a second use
    assert landing.seen() == []
