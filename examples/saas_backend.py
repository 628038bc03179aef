"""A backend for FaceID's hosted verification (SaaS), WSGI or ASGI, with sessions kept in SQLite.

One command (an emulator is started inside, for you to click through its page):

    python examples/saas_backend.py                   # or: make example-saas
    # -> "saas_backend serving http://127.0.0.1:8000/": enter 张三 / 110101199003071233

The layers, each usable without the others:

* ``Store``: SQLite (stdlib ``sqlite3``), one row per verification: the session as
  ``Session.to_json()`` (BizToken, RuleId, Url, the three lifetimes: no name, no ID number), the
  random ``state`` put in the RedirectUrl, your own user reference, and the verdict summary
  (status, code, intention code, meaning, billed, number of attempts). No identity data is stored.
* ``SaasFlow``: the flow in plain functions, no web framework: ``start`` (DetectAuth, store),
  ``land`` (the RedirectUrl landing: parse_redirect, look up, check the state, fetch and store the
  verdict), ``refresh`` and ``sweep`` (fetch the verdicts still pending, so that none is lost
  within the 3-day results window: run ``python examples/saas_backend.py sweep`` from cron).
* ``handle``: one HTTP exchange as plain values (method, path, query, body -> ``Reply``).
* ``wsgi_app`` / ``asgi_app``: the two adapters, a few lines each (wsgiref serves the first; any
  ASGI server the second: ``--server asgi`` uses uvicorn when it is installed).

Because everything lives in the database, a restart (another process, another worker) finishes a
verification started before it: the landing finds the row, rebuilds the Session with
``Session.from_json`` and asks the service. Against the real service: ``--endpoint
https://faceid.tencentcloudapi.com``, your ``--rule-id``, ``--public-url`` (the HTTPS address the
person's browser reaches this app at), ``--db`` and the keys in TENCENTCLOUD_SECRET_ID /
TENCENTCLOUD_SECRET_KEY. docs/examples.md and docs/flows.md explain each step.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import html
import logging
import os
import secrets
import signal
import sqlite3
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any, Awaitable, Callable, Iterable, Optional
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

PYTHON_BINDINGS = Path(__file__).resolve().parents[1] / "bindings" / "python"
if PYTHON_BINDINGS.is_dir() and str(PYTHON_BINDINGS) not in sys.path:
    sys.path.insert(0, str(PYTHON_BINDINGS))  # works without installing tcfaceid, too

import tcfaceid  # noqa: E402  (after the sys.path set-up above)

log = logging.getLogger("saas_backend")

MAX_FORM = 4096  # bytes of a POSTed form
SWEEP_MARGIN = 6 * 3600  # sweep: fetch pending verdicts this long before their results expire
FINAL = ("PASSED", "FAILED", "EXPIRED")


# -- storage ----------------------------------------------------------------------------------
SCHEMA = """
CREATE TABLE IF NOT EXISTS verification (
    token         TEXT PRIMARY KEY,       -- the BizToken
    state         TEXT NOT NULL,          -- random, in our RedirectUrl; compared on the landing
    user_ref      TEXT,                   -- your user's id (not identity data)
    session       TEXT NOT NULL,          -- Session.to_json(): token, RuleId, Url, lifetimes
    expires_at    INTEGER NOT NULL,       -- the person must start before (DetectAuth + 2 h)
    results_until INTEGER NOT NULL,       -- results can be fetched until (DetectAuth + 3 days)
    status        TEXT NOT NULL DEFAULT 'STARTED',  -- STARTED, PENDING, PASSED, FAILED, EXPIRED
    code          INTEGER,                -- Text.ErrCode
    intention_code INTEGER,
    meaning       TEXT,                   -- the documented meaning of the deciding code
    billed        INTEGER,                -- 1, 0, NULL (unknown)
    attempts      INTEGER,
    checked_at    INTEGER                 -- when the verdict was last fetched
);
CREATE INDEX IF NOT EXISTS verification_open ON verification (status, results_until);
"""


@dataclass(frozen=True)
class Record:
    """One row: the stored session and the verdict summary (never identity data)."""

    token: str
    state: str
    user_ref: Optional[str]
    session: str
    expires_at: int
    results_until: int
    status: str
    code: Optional[int] = None
    intention_code: Optional[int] = None
    meaning: Optional[str] = None
    billed: Optional[bool] = None
    attempts: Optional[int] = None
    checked_at: Optional[int] = None

    @property
    def final(self) -> bool:
        return self.status in FINAL


class Store:
    """The verifications in one SQLite file, shared by threads (and by processes: WAL mode)."""

    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path, timeout=10, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        with self._lock:
            if path != ":memory:":
                self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(SCHEMA)

    def add(self, session: tcfaceid.Session, state: str, user_ref: Optional[str] = None) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO verification (token, state, user_ref, session, expires_at, results_until)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (session.biz_token, state, user_ref, session.to_json(), int(session.expires_at),
                 int(session.results_until)),
            )

    def get(self, token: str) -> Optional[Record]:
        with self._lock:
            row = self._db.execute("SELECT * FROM verification WHERE token = ?", (token,)).fetchone()
        return None if row is None else _record(row)

    def set_verdict(self, token: str, verdict: tcfaceid.Verdict, now: float) -> Record:
        with self._lock:
            self._db.execute(
                "UPDATE verification SET status = ?, code = ?, intention_code = ?, meaning = ?,"
                " billed = ?, attempts = ?, checked_at = ? WHERE token = ?",
                (verdict.status, verdict.code, verdict.intention_code, verdict.meaning,
                 None if verdict.billed is None else int(verdict.billed), len(verdict.attempts), int(now), token),
            )
        record = self.get(token)
        assert record is not None
        return record

    def open_records(self) -> list[Record]:
        """The verifications without a final verdict, the most urgent first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM verification WHERE status IN ('STARTED', 'PENDING') ORDER BY results_until"
            ).fetchall()
        return [_record(r) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _record(row: sqlite3.Row) -> Record:
    d = dict(row)
    d["billed"] = None if d["billed"] is None else bool(d["billed"])
    return Record(**d)


# -- the flow, in plain functions ----------------------------------------------------------------
class BadLanding(Exception):
    """A landing that is not one of ours: no valid token, unknown token, or the wrong state."""


@dataclass(frozen=True)
class Started:
    token: str
    url: str  # where to send the person's browser


@dataclass
class SaasFlow:
    """The SaaS flow over a Client and a Store. ``clock``: Unix seconds (the client's clock)."""

    client: tcfaceid.Client
    store: Store
    rule_id: str
    public_base_url: str  # where the person's browser reaches this app: the RedirectUrl's base
    clock: Callable[[], float] = field(default=time.time)

    def start(self, *, name: Optional[str] = None, id_card: Optional[str] = None,
              user_ref: Optional[str] = None) -> Started:
        """DetectAuth (inputs validated locally first: a bad one raises InvalidArgumentError and
        nothing is sent), then the session is stored before the person is sent anywhere."""
        state = secrets.token_urlsafe(16)
        session = self.client.detect_auth(
            self.rule_id, id_card=id_card or None, name=name or None,
            redirect_url=f"{self.public_base_url.rstrip('/')}/return?state={state}",
        )
        if session.url is None:
            raise tcfaceid.StateError("this RuleId has no H5 page (a mini-program or App SDK flow)")
        self.store.add(session, state, user_ref)
        log.info("verification started")
        return Started(session.biz_token, session.url)

    def land(self, landing_url: str) -> Record:
        """The RedirectUrl landing (full URL or path?query). The token only says which row to
        look at; the verdict comes from the service (or from the row, once it is final)."""
        try:
            token = tcfaceid.parse_redirect(landing_url)
        except tcfaceid.InvalidArgumentError:
            raise BadLanding("no valid verification token") from None
        record = self.store.get(token)
        query = urllib.parse.urlsplit(landing_url).query if "?" in landing_url else landing_url
        state = urllib.parse.parse_qs(query).get("state", [])
        if (record is None or len(state) != 1
                or not hmac.compare_digest(state[0].encode(), record.state.encode())):
            raise BadLanding("not a verification started here")
        return record if record.final else self.refresh(record)

    def refresh(self, record: Record) -> Record:
        """Fetch the verdict (text only) and store its summary. Past ``results_until`` the verdict
        is EXPIRED without a request (the results are gone)."""
        session = tcfaceid.Session.from_json(record.session)
        verdict = self.client.detect_result(session)
        log.info("verdict %s code=%s attempts=%d", verdict.status, verdict.code, len(verdict.attempts))
        return self.store.set_verdict(record.token, verdict, self.clock())

    def sweep(self, margin: float = SWEEP_MARGIN) -> list[Record]:
        """Fetch the verdicts that are still open and due: the person can no longer start
        (``expires_at`` passed: the verdict is final now, or EXPIRED for an abandoned flow), or
        the results are about to go (within ``margin`` of ``results_until``). Run it regularly
        (hourly): no verdict is then lost, even for people who never came back to the landing.
        Returns the records it updated; a failing call is logged and retried on the next sweep."""
        now = self.clock()
        done = []
        for record in self.store.open_records():
            if now < record.expires_at and now < record.results_until - margin:
                continue  # the person may still be on the page
            try:
                done.append(self.refresh(record))
            except tcfaceid.Error as e:  # e.code and RequestId only: never inputs
                log.warning("sweep: result call failed: %s (RequestId %s)", e.code, e.request_id)
        return done


# -- one HTTP exchange, framework-free ---------------------------------------------------------------
@dataclass
class Reply:
    status: int
    body: str
    location: Optional[str] = None
    verdict: Optional[str] = None

    def headers(self) -> list[tuple[str, str]]:
        h = [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")]
        if self.location:
            h.append(("Location", self.location))
        if self.verdict:
            h.append(("X-Verdict", self.verdict))  # for scripts and tests
        return h

    def encoded(self) -> bytes:
        return f"<!doctype html><meta charset=utf-8><title>tcfaceid</title>\n{self.body}\n".encode()


_REASONS = {200: "OK", 303: "See Other", 400: "Bad Request", 404: "Not Found", 413: "Payload Too Large",
            502: "Bad Gateway"}

_INDEX = """<h1>Face verification</h1>
<form method=post action=/start>
<label>Name <input name=name placeholder=张三></label>
<label>ID number <input name=id_card placeholder=110101199003071233></label>
<button>Verify</button></form>"""

_ADVICE = {"PASSED": "Verified.", "FAILED": "Not verified.", "EXPIRED": "Expired: please start again.",
           "PENDING": "Not finished yet: reload this page in a moment.", "STARTED": "Not finished yet."}


def _verdict_page(r: Record) -> str:
    meaning = f" ({html.escape(r.meaning)})" if r.meaning else ""
    return (f"<h1>Face verification</h1>\n<p id=status>{html.escape(r.status)}</p>\n"
            f"<p>{_ADVICE.get(r.status, '')}</p>\n"
            f"<p>Code: {r.code}{meaning}; billed: {r.billed}; attempts: {r.attempts}</p>")


def handle(flow: SaasFlow, method: str, path: str, query: str, body: bytes) -> Reply:
    """One request as plain values: the same for WSGI, ASGI or anything else."""
    try:
        if (method, path) == ("GET", "/"):
            return Reply(200, _INDEX)
        if (method, path) == ("POST", "/start"):
            if len(body) > MAX_FORM:
                return Reply(413, "<p>The form is too large.</p>")
            try:
                form = dict(urllib.parse.parse_qsl(body.decode("utf-8"), errors="strict"))
            except (UnicodeDecodeError, ValueError):
                return Reply(400, "<p>The form is not UTF-8.</p>")
            started = flow.start(name=form.get("name"), id_card=form.get("id_card"))
            return Reply(303, "", location=started.url)
        if (method, path) == ("GET", "/return"):
            record = flow.land(f"{path}?{query}")
            return Reply(200, _verdict_page(record), verdict=record.status)
        return Reply(404, "<p>No such page.</p>")
    except BadLanding:
        return Reply(400, "<p>This link does not belong to a verification started here.</p>")
    except tcfaceid.InvalidArgumentError as e:  # refused locally: nothing sent, nothing billed
        return Reply(400, f"<p>Please check your input: {html.escape(e.message)}</p>")
    except tcfaceid.Error as e:  # the service or the network: log e.code, never the inputs
        log.warning("FaceID call failed: %s (RequestId %s)", e.code, e.request_id)
        return Reply(502, "<p>The verification service did not answer; please try again.</p>")


# -- the adapters -------------------------------------------------------------------------------------
def wsgi_app(flow: SaasFlow) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_FORM:
            reply = Reply(413, "<p>The form is too large.</p>")
        else:
            body = environ["wsgi.input"].read(length) if length else b""
            reply = handle(flow, environ["REQUEST_METHOD"], environ.get("PATH_INFO") or "/",
                           environ.get("QUERY_STRING", ""), body)
        data = reply.encoded()
        start_response(f"{reply.status} {_REASONS.get(reply.status, '')}",
                       reply.headers() + [("Content-Length", str(len(data)))])
        return [data]

    return app


ASGIApp = Callable[[dict[str, Any], Callable[[], Awaitable[dict[str, Any]]],
                    Callable[[dict[str, Any]], Awaitable[None]]], Awaitable[None]]


def asgi_app(flow: SaasFlow) -> ASGIApp:
    """A raw ASGI 3 application (no framework). The flow's calls block, so they run in a worker
    thread (``asyncio.to_thread``); tcfaceid.AsyncClient is the native alternative."""

    async def app(scope: dict[str, Any], receive: Callable[[], Awaitable[dict[str, Any]]],
                  send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        body, more = b"", True
        while more and len(body) <= MAX_FORM:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
        if len(body) > MAX_FORM:
            reply = Reply(413, "<p>The form is too large.</p>")
        else:
            reply = await asyncio.to_thread(handle, flow, scope["method"], scope["path"] or "/",
                                            scope.get("query_string", b"").decode("latin-1"), body)
        data = reply.encoded()
        headers = [(k.lower().encode(), v.encode()) for k, v in reply.headers()]
        headers.append((b"content-length", str(len(data)).encode()))
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": data})

    return app


# -- serving -------------------------------------------------------------------------------------------
class QuietHandler(WSGIRequestHandler):
    """wsgiref's handler without its access log: that line has the query, i.e. the tokens."""

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        log.debug("%s %s %s", self.command, self.path.split("?", 1)[0], code)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's name)
        pass


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def _stop(signum: int, frame: Any) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once: a second one must not interrupt the clean-up
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


def main(argv: Optional[list[str]] = None) -> int:
    from tcfaceid.emulator import DEFAULT_RULE_IDS, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, Config, Emulator

    p = argparse.ArgumentParser(description="A FaceID SaaS backend (WSGI/ASGI, SQLite).")
    p.add_argument("command", nargs="?", choices=("serve", "sweep"), default="serve",
                   help="serve (default) or sweep: fetch the due pending verdicts once and exit")
    p.add_argument("--endpoint", help="FaceID endpoint; default: an emulator started in this process")
    p.add_argument("--secret-id", help="default: the emulator's example key for a loopback endpoint, "
                   "else TENCENTCLOUD_SECRET_ID / the tccli profile")
    p.add_argument("--secret-key")
    p.add_argument("--rule-id", default=DEFAULT_RULE_IDS[0])
    p.add_argument("--db", default=os.path.join(tempfile.gettempdir(), "tcfaceid-saas-backend.sqlite3"),
                   help="the SQLite file (default: %(default)s)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000, help="0: any free port")
    p.add_argument("--public-url", help="where browsers reach this app (default: the served URL)")
    p.add_argument("--server", choices=("wsgi", "asgi"), default="wsgi",
                   help="wsgi: wsgiref (stdlib); asgi: uvicorn, if installed")
    p.add_argument("--margin", type=float, default=SWEEP_MARGIN, help="sweep: seconds before results_until")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s %(levelname)s %(message)s")
    if args.command == "sweep" and not args.endpoint:
        p.error("sweep needs the --endpoint the verifications were started with")
    if args.server == "asgi":
        try:
            import uvicorn  # type: ignore[import-not-found]
        except ImportError:
            p.error("--server asgi needs uvicorn (pip install uvicorn); wsgi needs nothing")

    emulator = None
    endpoint = args.endpoint
    if endpoint is None:
        emulator = Emulator(Config(port=0)).start()
        endpoint = emulator.endpoint
        print(f"saas_backend: emulator started at {endpoint} (its page has a button per outcome)", flush=True)
    loopback = urllib.parse.urlsplit(endpoint).hostname in ("127.0.0.1", "localhost", "::1")
    secret_id, secret_key = args.secret_id, args.secret_key
    if secret_id is None and secret_key is None and loopback and not os.environ.get("TENCENTCLOUD_SECRET_ID"):
        secret_id, secret_key = DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY  # the emulator's documented pair

    store = Store(args.db)
    try:
        with tcfaceid.Client(secret_id, secret_key, endpoint=endpoint) as client:
            if args.command == "sweep":
                flow = SaasFlow(client, store, args.rule_id, args.public_url or "")
                updated = flow.sweep(args.margin)
                print(f"saas_backend sweep: {len(updated)} verdict(s) fetched: "
                      + ", ".join(r.status for r in updated), flush=True)
                return 0
            server = make_server(args.host, args.port, None, server_class=ThreadingWSGIServer,
                                 handler_class=QuietHandler)
            public = args.public_url or f"http://{args.host}:{server.server_address[1]}"
            flow = SaasFlow(client, store, args.rule_id, public)
            signal.signal(signal.SIGTERM, _stop)  # stop cleanly on SIGTERM as on Ctrl-C
            if args.server == "asgi":
                server.server_close()
                print(f"saas_backend serving {public}/ (ASGI, uvicorn)", flush=True)
                uvicorn.run(asgi_app(flow), host=args.host, port=server.server_address[1], log_level="warning",
                            access_log=False)
                return 0
            server.set_app(wsgi_app(flow))
            print(f"saas_backend serving {public}/", flush=True)
            try:
                server.serve_forever()
            except KeyboardInterrupt:
                pass
            finally:
                server.server_close()
    finally:
        store.close()
        if emulator is not None:
            emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
