"""The whole FaceID verification loop in a small WSGI app (standard library only, no framework).

Two flows, each a pair of endpoints (docs/flows.md explains every step):

* SaaS:  ``POST /start``      -> DetectAuth, store the session, 303 to ``session.url``;
         ``GET  /return``     -> the RedirectUrl landing: ``parse_redirect``, look the session up,
                                 GetDetectInfoEnhanced, show the verdict.
* E-ID:  ``POST /eid/start``  -> GetEidToken, store the session, 303 to ``session.url``;
         ``GET  /eid/return`` -> the same for GetEidResult (+ EidInfo decryption).

The token in the landing's query is never trusted: it is only used to find a session this app
created (unknown token: 400), together with a random ``state`` the app put in its own RedirectUrl;
the verdict always comes from the FaceID API, server-side. Nothing secret or personal is logged
(not the keys, not the tokens, not names or ID numbers).

Against the bundled emulator (its default keys, RuleId and MerchantId are the defaults here):

    python -m tcfaceid.emulator &                  # http://127.0.0.1:8455
    python examples/wsgi_flow.py --port 8000       # then open http://127.0.0.1:8000/

Against the real service, pass ``--endpoint https://faceid.tencentcloudapi.com``, your own
``--rule-id``/``--merchant-id``, ``--public-url`` (the address the person's browser reaches this
app at) and the keys in ``TENCENTCLOUD_SECRET_ID`` / ``TENCENTCLOUD_SECRET_KEY`` (leave out
``--secret-id``/``--secret-key``).
"""

from __future__ import annotations

import argparse
import hmac
import html
import logging
import os
import secrets
import signal
import sys
import threading
import urllib.parse
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any, Callable, Iterable, Optional
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.util import request_uri

PYTHON_BINDINGS = Path(__file__).resolve().parents[1] / "bindings" / "python"
if PYTHON_BINDINGS.is_dir() and str(PYTHON_BINDINGS) not in sys.path:
    sys.path.insert(0, str(PYTHON_BINDINGS))  # works without installing tcfaceid, too

import tcfaceid  # noqa: E402  (after the sys.path set-up above)

log = logging.getLogger("wsgi_flow")

StartResponse = Callable[..., Any]
MAX_FORM = 4096  # bytes of a POSTed form


# -- the app ----------------------------------------------------------------------------------
def make_app(
    client: tcfaceid.Client,
    rule_id: str,
    merchant_id: Optional[str],
    public_base_url: str,
    *,
    sm2_private_key_pem: Optional[str] = None,
    store: Optional[dict[str, dict[str, str]]] = None,
) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    """The WSGI application.

    ``public_base_url`` is where the person's browser reaches this app (``http://127.0.0.1:8000``):
    the RedirectUrls are built from it. ``sm2_private_key_pem``: the merchant's key, to decrypt the
    E-ID identity (``EidInfo``); None: not decrypted. ``store``: token -> record; a dict in memory
    here, a database table in a real backend (the session is stored as ``session.to_json()``).
    """
    base = public_base_url.rstrip("/")
    sessions: dict[str, dict[str, str]] = {} if store is None else store
    lock = threading.Lock()

    def remember(kind: str, token: str, session_json: str, state: str) -> None:
        with lock:
            sessions[token] = {"kind": kind, "session": session_json, "state": state}

    def recall(kind: str, environ: dict[str, Any]) -> dict[str, str]:
        """The record of the landing's token, or _Reply(400). Trusts nothing in the URL."""
        try:
            token = tcfaceid.parse_redirect(request_uri(environ, include_query=True))
        except tcfaceid.InvalidArgumentError:
            raise _Reply(400, "Bad request", "This link has no valid verification token.") from None
        with lock:
            record = sessions.get(token)
        state = urllib.parse.parse_qs(environ.get("QUERY_STRING", "")).get("state", [])
        if (record is None or record["kind"] != kind or len(state) != 1
                or not hmac.compare_digest(state[0].encode(), record["state"].encode())):
            raise _Reply(400, "Bad request", "This link does not belong to a verification started here.")
        return record

    def start_saas(environ: dict[str, Any]) -> _Reply:
        form = _read_form(environ)
        state = secrets.token_urlsafe(16)
        # Validated locally (ID checksum, name, URL, lengths) before the paid call: a bad value
        # raises InvalidArgumentError naming the field, and nothing is sent.
        session = client.detect_auth(
            rule_id,
            id_card=form.get("id_card") or None,
            name=form.get("name") or None,
            redirect_url=f"{base}/return?state={state}",
        )
        if session.url is None:
            raise _Reply(502, "No page", "This RuleId has no H5 page (a mini-program or App SDK flow).")
        remember("saas", session.biz_token, session.to_json(), state)
        log.info("SaaS verification started")
        return _Reply(303, "See Other", "", location=session.url)

    def return_saas(environ: dict[str, Any]) -> _Reply:
        record = recall("saas", environ)
        session = tcfaceid.Session.from_json(record["session"])
        verdict = client.detect_result(session)  # the same RuleId, the text first
        log.info("SaaS verdict %s code=%s attempts=%d", verdict.status, verdict.code, len(verdict.attempts))
        return _Reply(200, "OK", _verdict_html("Face verification", verdict), verdict=verdict.status,
                      title="Face verification")

    def start_eid(environ: dict[str, Any]) -> _Reply:
        if not merchant_id:
            raise _Reply(404, "Not found", "E-ID is not configured (no MerchantId).")
        form = _read_form(environ)
        state = secrets.token_urlsafe(16)
        id_card, name = form.get("id_card") or None, form.get("name") or None
        session = client.get_eid_token(
            merchant_id,
            id_card=id_card,
            name=name,
            input_type=4 if id_card and name else None,  # 4: we pass them; else the console's default
            redirect_url=f"{base}/eid/return?state={state}",
        )
        remember("eid", session.eid_token, session.to_json(), state)
        log.info("E-ID verification started")
        return _Reply(303, "See Other", "", location=session.url)  # valid 10 minutes, once

    def return_eid(environ: dict[str, Any]) -> _Reply:
        record = recall("eid", environ)
        session = tcfaceid.EidSession.from_json(record["session"])
        verdict = client.eid_result(session, parts=("text", "eid_info"))
        log.info("E-ID verdict %s code=%s attempts=%d", verdict.status, verdict.code, len(verdict.attempts))
        extra = ""
        if verdict.passed and sm2_private_key_pem:
            try:
                person = tcfaceid.decrypt_eid_info((verdict.response or {}).get("EidInfo"), sm2_private_key_pem)
            except tcfaceid.StateError:  # identity return not enabled for this merchant
                extra = "<p>The identity was not returned (not enabled for this merchant).</p>"
            else:  # compare person["idnum"] with your records; show only a masked form
                extra = (f"<p>Verified: {html.escape(mask_name(person.get('name')))}, "
                         f"ID {html.escape(mask_id(person.get('idnum')))}</p>")
        return _Reply(200, "OK", _verdict_html("E-ID verification", verdict, extra), verdict=verdict.status,
                      title="E-ID verification")

    routes: dict[tuple[str, str], Callable[[dict[str, Any]], _Reply]] = {
        ("GET", "/"): lambda environ: _Reply(200, "OK", _INDEX, title="tcfaceid example"),
        ("POST", "/start"): start_saas,
        ("GET", "/return"): return_saas,
        ("POST", "/eid/start"): start_eid,
        ("GET", "/eid/return"): return_eid,
    }

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        handler = routes.get((environ["REQUEST_METHOD"], environ.get("PATH_INFO") or "/"))
        try:
            if handler is None:
                raise _Reply(404, "Not found", "No such page.")
            reply = handler(environ)
        except _Reply as r:
            reply = r
        except tcfaceid.InvalidArgumentError as e:  # refused locally: nothing was sent, nothing billed
            reply = _Reply(400, "Bad request", f"Please check your input: {e.message}")
        except tcfaceid.Error as e:  # the service or the network: e.code, never e's inputs
            log.warning("FaceID call failed: %s (RequestId %s)", e.code, e.request_id)
            reply = _Reply(502, "Bad gateway", "The verification service did not answer; please try again.")
        return reply.send(start_response)

    return app


# -- pieces -----------------------------------------------------------------------------------
class _Reply(Exception):
    """An HTTP answer (raised to stop early, or returned)."""

    def __init__(self, status: int, reason: str, body: str, *, location: Optional[str] = None,
                 verdict: Optional[str] = None, title: Optional[str] = None) -> None:
        super().__init__(status)
        self.status, self.reason, self.body = status, reason, body
        self.location, self.verdict, self.title = location, verdict, title or reason

    def send(self, start_response: StartResponse) -> list[bytes]:
        body = (f"<!doctype html><meta charset=utf-8><title>{html.escape(self.title)}</title>\n"
                f"{self.body if self.status < 400 else '<p>' + html.escape(self.body) + '</p>'}\n").encode()
        headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body))),
                   ("Cache-Control", "no-store")]
        if self.location:
            headers.append(("Location", self.location))
        if self.verdict:
            headers.append(("X-Verdict", self.verdict))  # for scripts and tests
        start_response(f"{self.status} {self.reason}", headers)
        return [body]


def _read_form(environ: dict[str, Any]) -> dict[str, str]:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise _Reply(400, "Bad request", "Bad Content-Length.") from None
    if not 0 <= length <= MAX_FORM:
        raise _Reply(413, "Too large", "The form is too large.")
    raw = environ["wsgi.input"].read(length)
    try:
        return dict(urllib.parse.parse_qsl(raw.decode("utf-8"), errors="strict"))
    except (UnicodeDecodeError, ValueError):
        raise _Reply(400, "Bad request", "The form is not UTF-8.") from None


_ADVICE = {
    "PASSED": "Verified.",
    "FAILED": "Not verified.",
    "PENDING": "The verification is not finished yet. Reload this page in a moment.",
    "EXPIRED": "The verification expired. Please start again.",
}


def _verdict_html(title: str, verdict: tcfaceid.Verdict, extra: str = "") -> str:
    """The verdict: status, code and its meaning, billed flag, attempts. Never ``verdict.text``
    (identity data). Decisions use ``status``/``code`` only; the sentences are for people."""
    rows = "".join(
        f"<tr><td>{i}</td><td>{a.errcode}</td><td>{a.livestatus}</td><td>{a.comparestatus}</td>"
        f"<td>{a.sim}</td></tr>"
        for i, a in enumerate(verdict.attempts, 1)
    )
    meaning = f" ({html.escape(verdict.meaning)})" if verdict.meaning else ""
    return (
        f"<h1>{html.escape(title)}</h1>\n"
        f"<p id=status>{html.escape(verdict.status)}</p>\n"
        f"<p>{html.escape(_ADVICE.get(verdict.status, ''))}</p>\n"
        f"<p>Code: {verdict.code}{meaning}; intention code: {verdict.intention_code}; "
        f"billed: {verdict.billed}. {html.escape(verdict.reason)}</p>\n"
        f"<table><tr><th>attempt</th><th>Errcode</th><th>Livestatus</th><th>Comparestatus</th><th>Sim</th></tr>"
        f"{rows}</table>\n{extra}"
    )


def mask_id(id_card: Optional[str]) -> str:
    """110101199003071233 -> 110***********1233."""
    if not id_card:
        return "(none)"
    return "*" * len(id_card) if len(id_card) <= 7 else id_card[:3] + "*" * (len(id_card) - 7) + id_card[-4:]


def mask_name(name: Optional[str]) -> str:
    """张三 -> 张*."""
    return name[0] + "*" * (len(name) - 1) if name else "(none)"


_INDEX = """<h1>tcfaceid example</h1>
<form method=post action=/start><fieldset><legend>Face verification (SaaS)</legend>
<label>Name <input name=name placeholder=张三></label>
<label>ID number <input name=id_card placeholder=110101199003071233></label>
<button>Verify</button></fieldset></form>
<form method=post action=/eid/start><fieldset><legend>E-ID (E证通)</legend>
<label>Name <input name=name></label> <label>ID number <input name=id_card></label>
(empty: the person's ID card is read on the page)
<button>Verify with E-ID</button></fieldset></form>
"""


# -- the server -------------------------------------------------------------------------------
class QuietHandler(WSGIRequestHandler):
    """wsgiref's handler without its access log: that line has the query, i.e. the tokens."""

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        log.debug("%s %s %s", self.command, self.path.split("?", 1)[0], code)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's name)
        pass


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def serve(app: Any, host: str = "127.0.0.1", port: int = 0) -> WSGIServer:
    """A threading wsgiref server for ``app`` (port 0: any free port). Call ``serve_forever``."""
    return make_server(host, port, app, server_class=ThreadingWSGIServer, handler_class=QuietHandler)


def _stop(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: Optional[list[str]] = None) -> int:
    from tcfaceid.emulator.config import (
        DEFAULT_MERCHANT_ID,
        DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM,
        DEFAULT_PORT,
        DEFAULT_RULE_IDS,
        DEFAULT_SECRET_ID,
        DEFAULT_SECRET_KEY,
    )

    p = argparse.ArgumentParser(description="The FaceID verification loop as a small WSGI app.")
    p.add_argument("--endpoint", default=f"http://127.0.0.1:{DEFAULT_PORT}",
                   help="FaceID endpoint (default: the bundled emulator's default address)")
    p.add_argument("--secret-id", help="default: the emulator's example key when the endpoint is "
                   "loopback, else TENCENTCLOUD_SECRET_ID / the tccli profile")
    p.add_argument("--secret-key", help="default: as --secret-id")
    p.add_argument("--rule-id", default=DEFAULT_RULE_IDS[0])
    p.add_argument("--merchant-id", default=DEFAULT_MERCHANT_ID, help="E-ID MerchantId ('' to disable E-ID)")
    p.add_argument("--sm2-key", metavar="PEM_FILE",
                   help="the merchant's SM2 private key, to decrypt EidInfo (default: the emulator's "
                   "public test key for its default merchant on a loopback endpoint)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000, help="0: any free port")
    p.add_argument("--public-url", help="where browsers reach this app (default: the served URL)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s %(levelname)s %(message)s")

    loopback = urllib.parse.urlsplit(args.endpoint).hostname in ("127.0.0.1", "localhost", "::1")
    secret_id, secret_key = args.secret_id, args.secret_key
    if secret_id is None and secret_key is None and loopback and not os.environ.get("TENCENTCLOUD_SECRET_ID"):
        secret_id, secret_key = DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY  # the emulator's documented pair
    pem = None
    if args.sm2_key:
        pem = Path(args.sm2_key).read_text(encoding="ascii")
    elif loopback and args.merchant_id == DEFAULT_MERCHANT_ID:
        pem = DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM

    with tcfaceid.Client(secret_id, secret_key, endpoint=args.endpoint) as client:
        server = serve(None, args.host, args.port)
        try:
            public = args.public_url or f"http://{args.host}:{server.server_address[1]}"
            server.set_app(make_app(client, args.rule_id, args.merchant_id or None, public,
                                    sm2_private_key_pem=pem))
            signal.signal(signal.SIGTERM, _stop)  # stop cleanly on SIGTERM as on Ctrl-C
            print(f"wsgi_flow serving {public}/", flush=True)
            try:
                server.serve_forever()
            except KeyboardInterrupt:
                pass
        finally:
            server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
