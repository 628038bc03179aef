"""A full Tencent Cloud FaceID verification, end to end, on this machine.

What `make demo` runs. Nothing here talks to Tencent: the FaceID service is the
bundled emulator (``python -m tcfaceid.emulator``), started as a separate
process, exactly as you would run it next to your own backend.

The cast:

* the FaceID service  -- the emulator, on a free port of 127.0.0.1;
* your business backend -- a tiny web server in this script, whose
  ``/faceid/return`` page is the ``RedirectUrl`` the user comes back to;
* the user's browser  -- plain HTTP requests (urllib), like a browser would make.

The backend talks to FaceID through ``tcfaceid.Client`` (the tcfaceid C core
under a Python API): ``detect_auth`` -> a storable ``Session``, ``detect_result``
-> a ``Verdict`` decided on codes by the core, the E-ID calls, typed exceptions.

The tour:

1. the SaaS flow (DetectAuth -> the H5 page, where the person fails once and
   passes on the retry -> RedirectUrl -> GetDetectInfoEnhanced);
2. an E-ID (E证通) flow, whose identity comes back encrypted (SM2 + SM4) and is
   decrypted by the C core with the emulator's bundled test key;
3. an element check sent with field encryption (AES-256-CBC + RSA): the name
   and ID number leave this machine encrypted, the answer comes back decrypted;
4. a daily identity limit: the same ID number checked once too often gives
   RateLimitedError with the time it resets (00:00 Asia/Shanghai).

Run:  make demo          (or .venv/bin/python examples/demo.py)
      .venv/bin/python examples/demo.py --click
                         ... then open the printed verification page yourself.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import html.parser
import os
import queue
import subprocess
import sys
import tempfile
import threading
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator, Optional

REPO = Path(__file__).resolve().parents[1]
PYTHON_BINDINGS = REPO / "bindings" / "python"
if PYTHON_BINDINGS.is_dir() and str(PYTHON_BINDINGS) not in sys.path:
    sys.path.insert(0, str(PYTHON_BINDINGS))  # works without the editable install, too

try:
    import tcfaceid
    from tcfaceid import Client
except ImportError as exc:  # pragma: no cover - depends on the environment
    sys.exit(f"demo: the tcfaceid extension is not built ({exc}). Run `make demo`.")

from tcfaceid.emulator import (  # noqa: E402  (after the sys.path set-up above)
    DEFAULT_MERCHANT_ID,
    DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM,
    DEFAULT_SECRET_ID,
    DEFAULT_SECRET_KEY,
    EMULATOR_RSA_PUBLIC_KEY_PEM,
)

# The emulator's test identity (fake: it only passes the checksum) and its RuleId.
ID_CARD = "110101199003071233"
NAME = "张三"
RULE_ID = "1"
REGION = "ap-guangzhou"
START_TIMEOUT = 15  # seconds to wait for the emulator's first line
# A second test identity of the emulator, for the encrypted check.
ID_CARD_2 = "440304198512010027"
NAME_2 = "李四"
# The emulator runs with a low daily limit for IdCardVerification so that part 4 reaches it.
ID_LIMIT_PER_DAY = 3


class DemoError(Exception):
    """Something did not go as a real integration would need it to."""


def check(condition: bool, what: str) -> None:
    if not condition:
        raise DemoError(what)


# -- presentation -----------------------------------------------------------------
def mask_id(id_card: Optional[str]) -> str:
    """110101199003071233 -> 110***********1233: never print a whole ID number."""
    if not id_card:
        return "(none)"
    if len(id_card) <= 7:
        return "*" * len(id_card)
    return id_card[:3] + "*" * (len(id_card) - 7) + id_card[-4:]


def mask_name(name: Optional[str]) -> str:
    """张三 -> 张*."""
    if not name:
        return "(none)"
    return name[0] + "*" * (len(name) - 1)


def short(token: str) -> str:
    return token[:8] + "…" if len(token) > 12 else token


def step(title: str) -> None:
    print(f"\n== {title}")


def say(text: str) -> None:
    print(f"   {text}")


# -- the FaceID service: the emulator as a separate process ------------------------------
@contextlib.contextmanager
def emulator_process() -> Iterator[str]:
    """Start ``python -m tcfaceid.emulator --port 0`` (with a low daily limit for part 4); yield
    its URL; always stop it."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PYTHON_BINDINGS), env.get("PYTHONPATH")) if p)
    stderr_file = tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")
    config = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8")
    with config:
        config.write('{"limits": {"idcard_id_per_day": %d}}' % ID_LIMIT_PER_DAY)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tcfaceid.emulator", "--port", "0", "--config", config.name],
        stdout=subprocess.PIPE, stderr=stderr_file, stdin=subprocess.DEVNULL,
        text=True, encoding="utf-8", errors="replace", env=env,
    )
    lines: "queue.Queue[Optional[str]]" = queue.Queue()

    def read_stdout() -> None:  # also keeps the pipe drained while the emulator runs
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=read_stdout, name="emulator-stdout", daemon=True).start()
    try:
        try:
            first = lines.get(timeout=START_TIMEOUT)
        except queue.Empty:
            raise DemoError(f"the emulator printed nothing within {START_TIMEOUT} s") from None
        prefix = "tcfaceid emulator serving "
        if first is None or not first.startswith(prefix):
            stderr_file.seek(0)
            raise DemoError(f"the emulator did not start (first line {first!r}, exit code {proc.poll()}); "
                            f"its stderr:\n{stderr_file.read().strip() or '(empty)'}")
        yield first[len(prefix):].strip()
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        stderr_file.close()
        os.unlink(config.name)


# -- the business backend's landing page (RedirectUrl) -----------------------------------
class Backend:
    """A minimal business backend: it serves the page the user is sent back to.

    A real backend looks the token up in its own records (which order started
    it), then asks FaceID for the result: the redirect itself proves nothing,
    anyone can open that URL with any token."""

    def __init__(self) -> None:
        self.arrivals: "queue.Queue[tuple[str, dict[str, str]]]" = queue.Queue()
        backend = self

        class Landing(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                if url.path not in ("/faceid/return", "/eid/return") or "token" not in query:
                    self.send_error(404)
                    return
                backend.arrivals.put((url.path, query))
                body = ("<!doctype html><meta charset=utf-8><title>Thank you</title>"
                        "<p>Thank you, we are checking the result of your verification.</p>").encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Landing)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="backend", daemon=True)

    def __enter__(self) -> "Backend":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, path: str, timeout: float = 10) -> dict[str, str]:
        try:
            got_path, query = self.arrivals.get(timeout=timeout)
        except queue.Empty:
            raise DemoError(f"nobody arrived at the backend's {path}") from None
        check(got_path == path, f"expected a visit to {path}, got {got_path}")
        return query


# -- the user's browser ------------------------------------------------------------------
class _Form(html.parser.HTMLParser):
    """The verification page's form: its action, hidden fields, text inputs and buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.action: Optional[str] = None
        self.fields: dict[str, str] = {}
        self.inputs: list[str] = []
        self.choices: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, Optional[str]]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = a.get("action")
        elif tag == "input" and a.get("type") == "hidden":
            self.fields[a.get("name", "")] = a.get("value", "")
        elif tag == "input":
            self.inputs.append(a.get("name", ""))
        elif tag == "button" and a.get("name") == "scenario":
            self.choices.append(a.get("value", ""))


class Browser:
    """What the user's phone browser does: open a URL, submit the form, follow redirects."""

    def __init__(self) -> None:
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def open_page(self, url: str) -> _Form:
        with self.opener.open(url, timeout=10) as resp:
            check(resp.status == 200, f"the verification page answered {resp.status}")
            check(resp.headers.get_content_type() == "text/html", "the verification page is not HTML")
            page = resp.read().decode(resp.headers.get_content_charset() or "utf-8")
        form = _Form()
        form.feed(page)
        check(form.action is not None, "the verification page has no form")
        return form

    def submit(self, page_url: str, form: _Form, choice: str, typed: Optional[dict[str, str]] = None) -> str:
        """Press the ``choice`` button; return the URL the browser ends up on."""
        check(choice in form.choices, f"the page offers no {choice!r} button (it has {form.choices})")
        data = urllib.parse.urlencode({**form.fields, **(typed or {}), "scenario": choice}).encode()
        target = urllib.parse.urljoin(page_url, form.action or "")
        with self.opener.open(urllib.request.Request(target, data=data, method="POST"), timeout=10) as resp:
            check(resp.status == 200, f"after the form the browser got HTTP {resp.status}")
            resp.read()
            return resp.geturl()


# -- the backend's FaceID client ------------------------------------------------------------
def faceid(endpoint: str) -> Client:
    """A client for the emulator: plain HTTP to 127.0.0.1 instead of faceid.tencentcloudapi.com."""
    # The emulator's documented test key; a real backend passes nothing and lets the client read
    # TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY or ~/.tencentcloud/credentials.
    return Client(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, endpoint=endpoint, region=REGION, timeout=10)


# -- part 1: SaaS ----------------------------------------------------------------------
def saas_flow(client: Client, backend: Backend, browser: Browser) -> bool:
    print("\n#### Part 1: SaaS verification (DetectAuth -> H5 page -> GetDetectInfoEnhanced)")
    order = "A1001"

    step("1. Backend: client.detect_auth (DetectAuth) for order %s" % order)
    session = client.detect_auth(
        RULE_ID, id_card=ID_CARD, name=NAME,
        redirect_url=f"{backend.base_url}/faceid/return?order={order}", extra=f"order={order}",
    )
    check(session.url is not None, "DetectAuth returned no Url")
    # the backend's own record: which session belongs to which order (stored as JSON, e.g. in a DB)
    store = {session.biz_token: (order, session.to_json())}
    say(f"for {mask_name(NAME)} / {mask_id(ID_CARD)}  (checked locally before the call)")
    say(f"BizToken {short(session.biz_token)}  (RequestId {client.last_request_id})")
    say(f"the user must start within 7,200 s; results can be fetched for 3 days "
        f"(until {session.results_until - session.created_at} s after creation)")
    url = session.url or ""
    say(f"Url      {url.split('?')[0]}?token=…  -> sent to the user's phone")

    step("2. User: opens the Url and chooses \"retry, then pass\"")
    form = browser.open_page(url)
    say(f"the page offers: {', '.join(form.choices)}")
    landed = browser.submit(url, form, "retry_then_pass")
    say(f"the browser was redirected to {landed.split('?')[0]}")

    step("3. Backend: the user is back on the RedirectUrl")
    query = backend.wait_for("/faceid/return")
    token = tcfaceid.parse_redirect(landed)  # only says which session: never trusted for the verdict
    say(f"landing got order={query.get('order')} token={short(token)}")
    check(token in store, "the landing's token is not one this backend created")
    stored_order, stored_json = store[token]
    check(stored_order == order, "the landing's token belongs to another order")
    session = tcfaceid.Session.from_json(stored_json)  # as another process would load it
    say("the token matches the session this backend stored for the order")

    step("4. Backend: client.detect_result (GetDetectInfoEnhanced: the text, then the best frame)")
    verdict = client.detect_result(session, parts=("text", "best_frame"))
    text = verdict.text or {}
    say(f"person   {mask_name(text.get('Name'))} / {mask_id(text.get('IdCard'))}   Extra {text.get('Extra')!r}")
    say(f"attempts {len(verdict.attempts)}:")
    for i, a in enumerate(verdict.attempts, 1):
        say(f"  #{i}: Errcode={a.errcode} Livestatus={a.livestatus} Comparestatus={a.comparestatus} "
            f"Sim={a.sim} billed={a.is_need_charge}")
    say(f"verdict  {verdict.status} (ErrCode {verdict.code}, billed {verdict.billed}): {verdict.reason}")
    check(len(verdict.attempts) == 2 and verdict.attempts[0].errcode != 0 and verdict.attempts[1].errcode == 0,
          "\"retry, then pass\" should have left a failed attempt followed by a passed one")
    check(not verdict.part_errors, f"a media part failed: {sorted(verdict.part_errors)}")
    best = ((verdict.response or {}).get("BestFrame") or {}).get("BestFrame")
    check(bool(best), "no best frame for a passed verification")
    png = base64.b64decode(best)
    check(png.startswith(b"\x89PNG"), "the best frame is not a PNG")
    say(f"the best frame (its own call, after the text): a {len(png)}-byte PNG, for the case file")
    return verdict.passed


# -- part 2: E-ID ----------------------------------------------------------------------
def eid_flow(client: Client, backend: Backend, browser: Browser) -> bool:
    print("\n#### Part 2: E-ID (E证通): the user types the identity; the backend decrypts it")

    step("1. Backend: client.get_eid_token (GetEidToken, InputType 3: the user enters name and ID)")
    session = client.get_eid_token(
        DEFAULT_MERCHANT_ID, input_type=3, redirect_url=f"{backend.base_url}/eid/return?order=B2002",
    )
    check(session.url is not None, "GetEidToken returned no Url")
    say(f"EidToken {short(session.eid_token)} (valid {session.expires_at - session.created_at} s); "
        f"status: {client.eid_status(session)}")

    step("2. User: opens the Url (valid once), types name and ID number, passes")
    url = session.url or ""
    form = browser.open_page(url)
    check({"name", "id_card"} <= set(form.inputs), "the E-ID page does not ask for name and ID number")
    landed = browser.submit(url, form, "pass", {"name": NAME, "id_card": ID_CARD})
    say(f"the browser was redirected to {landed.split('?')[0]}")
    backend.wait_for("/eid/return")
    check(tcfaceid.parse_redirect(landed) == session.eid_token, "the E-ID landing got another token")

    step("3. Backend: client.wait_eid (CheckEidTokenStatus every second, 2 errors tolerated)")
    status = client.wait_eid(session, interval=0.2)
    say(f"status {status}")
    check(status == "finished", f"the E-ID flow is {status!r}, not finished")

    step("4. Backend: client.eid_result (text, then EidInfo), then decrypt_eid_info (SM2 + SM4)")
    verdict = client.eid_result(session, parts=("text", "eid_info"))
    say(f"verdict  {verdict.status} (ErrCode {verdict.code}): {verdict.reason}")
    eid = (verdict.response or {}).get("EidInfo") or {}
    check(bool(eid.get("DesKey")) and bool(eid.get("UserInfo")), "GetEidResult returned no encrypted EidInfo")
    say(f"EidCode {eid['EidCode'][:12]}…  DesKey {len(base64.b64decode(eid['DesKey']))} bytes (SM2)  "
        f"UserInfo {len(base64.b64decode(eid['UserInfo']))} bytes (SM4-ECB)")
    # the merchant's SM2 private key (here: the emulator's bundled test key)
    identity = tcfaceid.decrypt_eid_info(eid, DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM)
    say(f"decrypted identity: name {mask_name(identity.get('name'))}, "
        f"idtype {identity.get('idtype')}, idnum {mask_id(identity.get('idnum'))}")
    check(identity.get("idnum") == ID_CARD and identity.get("name") == NAME,
          "the decrypted identity is not the one the user typed")
    return verdict.passed


# -- part 3: an encrypted element check ----------------------------------------------------
def encrypted_check(endpoint: str) -> bool:
    print("\n#### Part 3: an element check with field encryption (AES-256-CBC, key wrapped with RSA)")
    step("1. Backend: a client that encrypts every call's sensitive fields (encrypt=True)")
    # The emulator's own RSA key pair stands in for Tencent's documented public key.
    with Client(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, endpoint=endpoint, region=REGION, timeout=10,
                encrypt=True, encryption={"rsa_public_key_pem": EMULATOR_RSA_PUBLIC_KEY_PEM}) as client:
        say(f"IdCardVerification for {mask_name(NAME_2)} / {mask_id(ID_CARD_2)}: IdCard and Name are "
            f"sent as AES-256-CBC ciphertexts, the AES key wrapped with RSA (one key per request)")
        result = client.id_card_verify(ID_CARD_2, NAME_2)
        say(f"answer   {result.status} (Result {result.result}, billed {result.billed}): {result.meaning}")
        say(f"RequestId {result.request_id}")
        return result.status == "matched"


# -- part 4: a daily identity limit ------------------------------------------------------
def daily_limit(client: Client) -> bool:
    print("\n#### Part 4: a daily identity limit (the emulator allows %d checks of one ID number a day)"
          % ID_LIMIT_PER_DAY)
    step("1. Backend: client.id_card_verify for the same person, again and again")
    for i in range(1, ID_LIMIT_PER_DAY + 2):
        try:
            result = client.id_card_verify(ID_CARD, NAME)
        except tcfaceid.RateLimitedError as e:
            shanghai = datetime.timezone(datetime.timedelta(hours=8))
            when = datetime.datetime.fromtimestamp(e.retry_at or 0, shanghai)
            say(f"check #{i}: RateLimitedError — {e.message}")
            say(f"          retry_at {e.retry_at} = {when:%Y-%m-%d %H:%M} Asia/Shanghai; never retried "
                f"automatically (it cannot succeed before then), and not billed")
            return i == ID_LIMIT_PER_DAY + 1
        say(f"check #{i}: {result.status} (Result {result.result}, billed {result.billed})")
    return False


# -- --click: a verification for a person at a browser --------------------------------------
def click_through(client: Client, backend: Backend) -> None:
    print("\n#### Your turn: open the verification page in a browser")
    session = client.detect_auth(RULE_ID, redirect_url=f"{backend.base_url}/faceid/return?order=C3003")
    print(f"\n   {session.url}\n")
    say("choose an outcome on the page; this demo waits (Ctrl-C to stop) and then fetches the result")
    try:
        backend.wait_for("/faceid/return", timeout=7200)
    except KeyboardInterrupt:
        say("stopped")
        return
    verdict = client.detect_result(session)
    say(f"verdict  {verdict.status} (ErrCode {verdict.code}): {verdict.reason}")


# -- main ------------------------------------------------------------------------------
def main() -> int:
    # Everything here is on 127.0.0.1: keep any configured HTTP proxy out of the way.
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        os.environ.pop(var, None)
    print(__doc__.split("\n\n")[0])
    print(f"(The backend's calls go through tcfaceid.Client, tcfaceid {tcfaceid.__version__}.)")
    try:
        with emulator_process() as endpoint, Backend() as backend:
            print(f"FaceID service (emulator process): {endpoint}")
            print(f"business backend (this script):    {backend.base_url}")
            with faceid(endpoint) as client:
                browser = Browser()
                saas_ok = saas_flow(client, backend, browser)
                eid_ok = eid_flow(client, backend, browser)
                encrypted_ok = encrypted_check(endpoint)
                limit_ok = daily_limit(client)
                if "--click" in sys.argv[1:]:
                    click_through(client, backend)
    except tcfaceid.Error as e:  # every failure of the client: service errors, transport, TLS, ...
        print(f"\ndemo FAILED: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    except DemoError as e:
        print(f"\ndemo FAILED: {e}", file=sys.stderr)
        return 1
    except OSError as e:  # includes urllib's URLError / HTTPError
        print(f"\ndemo FAILED: network error: {e}", file=sys.stderr)
        return 1
    if not (saas_ok and eid_ok and encrypted_ok and limit_ok):
        print(f"\ndemo FAILED: SaaS {'passed' if saas_ok else 'did not pass'}, "
              f"E-ID {'passed' if eid_ok else 'did not pass'}, "
              f"encrypted check {'matched' if encrypted_ok else 'did not match'}, "
              f"daily limit {'reached' if limit_ok else 'not reached as expected'}", file=sys.stderr)
        return 1
    print("\nDone: both verifications PASSED, the encrypted check matched and the daily limit was "
          "reported with its reset time. The emulator has been stopped.")
    print("Next: docs/index.md (the docs), examples/ (a backend, E-ID, C, OpenResty), "
          "`.venv/bin/python examples/demo.py --click` (try the page yourself).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
