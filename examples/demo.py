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
under a Python API): dicts in, dicts out, typed exceptions.

Part 1 is the SaaS flow (DetectAuth -> the H5 page -> RedirectUrl ->
GetDetectInfoEnhanced). Part 2 is an E-ID (E证通) flow, whose identity comes
back encrypted (SM2 + SM4) and is decrypted with the emulator's bundled test key.

Run:  cd /work/main && .venv/bin/python examples/demo.py
"""

from __future__ import annotations

import base64
import contextlib
import html.parser
import json
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
    gm,
)

# The emulator's test identity (fake: it only passes the checksum) and its RuleId.
ID_CARD = "110101199003071233"
NAME = "张三"
RULE_ID = "1"
REGION = "ap-guangzhou"
START_TIMEOUT = 15  # seconds to wait for the emulator's first line


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
    """Start ``python -m tcfaceid.emulator --port 0``; yield its URL; always stop it."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PYTHON_BINDINGS), env.get("PYTHONPATH")) if p)
    stderr_file = tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tcfaceid.emulator", "--port", "0"],
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

    def wait_for(self, path: str) -> dict[str, str]:
        try:
            got_path, query = self.arrivals.get(timeout=10)
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

    step("1. Backend: DetectAuth (start a verification for order %s)" % order)
    resp = client.call("DetectAuth", {
        "RuleId": RULE_ID,
        "IdCard": ID_CARD,
        "Name": NAME,
        "RedirectUrl": f"{backend.base_url}/faceid/return?order={order}",
        "Extra": f"order={order}",
    })
    check(bool(resp.get("BizToken")) and bool(resp.get("Url")), "DetectAuth returned no BizToken or Url")
    pending = {resp["BizToken"]: order}  # the backend's own record: which token belongs to which order
    say(f"for {mask_name(NAME)} / {mask_id(ID_CARD)}")
    say(f"BizToken {short(resp['BizToken'])}  (RequestId {client.last_request_id})")
    say(f"Url      {resp['Url'].split('?')[0]}?token=…  -> sent to the user's phone")

    step("2. User: opens the Url and chooses \"retry, then pass\"")
    form = browser.open_page(resp["Url"])
    say(f"the page offers: {', '.join(form.choices)}")
    landed = browser.submit(resp["Url"], form, "retry_then_pass")
    say(f"the browser was redirected to {landed.split('?')[0]}")

    step("3. Backend: the user is back on the RedirectUrl")
    query = backend.wait_for("/faceid/return")
    token = query["token"]
    say(f"landing got order={query.get('order')} token={short(token)}")
    check(pending.get(token) == order, "the landing's token is not one this backend created for the order")
    say("the token matches the BizToken this backend created for the order")

    step("4. Backend: GetDetectInfoEnhanced (InfoType \"1\": the text result first)")
    info = client.call("GetDetectInfoEnhanced", {"BizToken": token, "RuleId": RULE_ID, "InfoType": "1"})
    text = info.get("Text")
    check(text is not None, "GetDetectInfoEnhanced returned no Text")
    passed = text["ErrCode"] == 0  # the verdict is ErrCode 0, never a message
    say(f"person   {mask_name(text['Name'])} / {mask_id(text['IdCard'])}   Extra {text['Extra']!r}")
    details = text.get("LivenessDetail") or []
    say(f"attempts {len(details)}:")
    for i, d in enumerate(details, 1):
        say(f"  #{i}: Errcode={d['Errcode']} Livestatus={d['Livestatus']} "
            f"Comparestatus={d['Comparestatus']} Sim={d['Sim']}")
    say(f"ErrCode {text['ErrCode']}  ->  {'PASSED' if passed else 'NOT PASSED'}")
    check(len(details) == 2 and details[0]["Errcode"] != 0 and details[1]["Errcode"] == 0,
          "\"retry, then pass\" should have left a failed attempt followed by a passed one")

    if passed:  # the media are large: fetch them only when needed, after the verdict
        frame = client.call("GetDetectInfoEnhanced", {"BizToken": token, "RuleId": RULE_ID, "InfoType": "3"})
        best = (frame.get("BestFrame") or {}).get("BestFrame")
        check(bool(best), "no best frame for a passed verification")
        png = base64.b64decode(best)
        check(png.startswith(b"\x89PNG"), "the best frame is not a PNG")
        say(f"then InfoType \"3\": the best frame, a {len(png)}-byte PNG, for the case file")
    return passed


# -- part 2: E-ID ----------------------------------------------------------------------
def decrypt_eid_info(des_key_b64: str, user_info_b64: str) -> dict[str, Any]:
    """EidInfo: DesKey is a 16-byte SM4 key encrypted with the merchant's SM2 public
    key (C1C3C2); UserInfo is JSON, zero-padded, SM4-ECB-encrypted with that key."""
    private_key = gm.sm2_private_key_from_pem(DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM)
    session_key = gm.sm2_decrypt(private_key, base64.b64decode(des_key_b64))
    check(len(session_key) == 16, f"DesKey decrypts to {len(session_key)} bytes, not a 16-byte SM4 key")
    plain = gm.sm4_ecb_decrypt(session_key, base64.b64decode(user_info_b64)).rstrip(b"\x00")
    return json.loads(plain.decode("utf-8"))


def eid_flow(client: Client, backend: Backend, browser: Browser) -> bool:
    print("\n#### Part 2: E-ID (E证通): the user types the identity; the backend decrypts it")

    step("1. Backend: GetEidToken (InputType \"3\": the user enters name and ID number)")
    token_resp = client.call("GetEidToken", {
        "MerchantId": DEFAULT_MERCHANT_ID,
        "Config": {"InputType": "3"},
        "RedirectUrl": f"{backend.base_url}/eid/return?order=B2002",
    })
    token, url = token_resp.get("EidToken"), token_resp.get("Url")
    check(bool(token) and bool(url), "GetEidToken returned no EidToken or Url")
    status = client.call("CheckEidTokenStatus", {"EidToken": token})["Status"]
    say(f"EidToken {short(token)}; CheckEidTokenStatus: {status}")

    step("2. User: opens the Url (valid once), types name and ID number, passes")
    form = browser.open_page(url)
    check({"name", "id_card"} <= set(form.inputs), "the E-ID page does not ask for name and ID number")
    landed = browser.submit(url, form, "pass", {"name": NAME, "id_card": ID_CARD})
    say(f"the browser was redirected to {landed.split('?')[0]}")
    check(backend.wait_for("/eid/return").get("token") == token, "the E-ID landing got another token")

    step("3. Backend: CheckEidTokenStatus")
    status = client.call("CheckEidTokenStatus", {"EidToken": token})["Status"]
    say(f"status {status}")
    check(status == "finished", f"the E-ID flow is {status!r}, not finished")

    step("4. Backend: GetEidResult, then decrypt EidInfo with the merchant's SM2 key")
    result = client.call("GetEidResult", {"EidToken": token})
    check(result.get("Text") is not None, "GetEidResult returned no Text")
    passed = result["Text"]["ErrCode"] == 0
    say(f"ErrCode {result['Text']['ErrCode']}  ->  {'PASSED' if passed else 'NOT PASSED'}")
    eid = result.get("EidInfo") or {}
    check(bool(eid.get("DesKey")) and bool(eid.get("UserInfo")), "GetEidResult returned no encrypted EidInfo")
    say(f"EidCode {eid['EidCode'][:12]}…  DesKey {len(base64.b64decode(eid['DesKey']))} bytes (SM2)  "
        f"UserInfo {len(base64.b64decode(eid['UserInfo']))} bytes (SM4-ECB)")
    identity = decrypt_eid_info(eid["DesKey"], eid["UserInfo"])
    say(f"decrypted identity: name {mask_name(identity.get('name'))}, "
        f"idtype {identity.get('idtype')}, idnum {mask_id(identity.get('idnum'))}")
    check(identity.get("idnum") == ID_CARD and identity.get("name") == NAME,
          "the decrypted identity is not the one the user typed")
    return passed


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
    except tcfaceid.Error as e:  # every failure of the client: service errors, transport, TLS, ...
        print(f"\ndemo FAILED: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    except DemoError as e:
        print(f"\ndemo FAILED: {e}", file=sys.stderr)
        return 1
    except OSError as e:  # includes urllib's URLError / HTTPError
        print(f"\ndemo FAILED: network error: {e}", file=sys.stderr)
        return 1
    if not (saas_ok and eid_ok):
        print(f"\ndemo FAILED: SaaS {'passed' if saas_ok else 'did not pass'}, "
              f"E-ID {'passed' if eid_ok else 'did not pass'}", file=sys.stderr)
        return 1
    print("\nDone: both verifications PASSED. The emulator has been stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
