"""The emulator's HTTP(S) server: the API at ``/``, the verification pages under
``/h5/`` and ``/eid/``, and the control API under ``/_emulator/``."""

from __future__ import annotations

import dataclasses

import email.utils
import json
import socket
import ssl
import struct
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional

from . import api, eid, pages, saas
from .auth import verify_tc3, verify_v1
from .config import Config
from .errors import ApiError
from .identity import Person, id_card_problem
from .service import Fault, Service

MAX_API_BODY = 10 * 1024 * 1024  # RequestSizeLimitExceeded above this
MAX_DRAIN = 32 * 1024 * 1024  # larger bodies are not read at all: the connection is closed
MAX_CONTROL_BODY = 1024 * 1024
API_PATH = "/"
MAX_DEPTH = 32  # dotted parameter names (GET, v1)


class _Reject(Exception):
    """A request the server answers with a plain HTTP status (not an API envelope)."""

    def __init__(self, status: int, text: str, close: bool = False) -> None:
        super().__init__(text)
        self.status = status
        self.text = text
        self.close = close


def _flatten_params(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """``Filters.0.Name=x`` style parameters (GET and v1) into nested objects and lists.

    Keys may come in any order (the Go SDK sorts them: ``a.10`` before ``a.2``); a node
    whose keys are all indexes becomes a list, which must have no gaps."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = key.split(".")
        if len(parts) > MAX_DEPTH:
            raise ApiError("InvalidParameter", f"The parameter name `{key[:64]}…` is nested too deeply.")
        node = root
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ApiError("InvalidParameter", f"The parameter `{key}` conflicts with another parameter.")
            node = child
        if isinstance(node.get(parts[-1]), dict):
            raise ApiError("InvalidParameter", f"The parameter `{key}` conflicts with another parameter.")
        node[parts[-1]] = value
    return _listify(root, "")


def _listify(node: Any, path: str) -> Any:
    if not isinstance(node, dict):
        return node
    if node and all(k.isdigit() and k.isascii() for k in node):
        indexes = sorted(int(k) for k in node)
        if indexes != list(range(len(indexes))) or len(indexes) > 1000:
            raise ApiError("InvalidParameter", f"The list parameter `{path.rstrip('.')}` has missing or bad indexes.")
        return [_listify(node[str(i)], f"{path}{i}.") for i in indexes]
    return {k: _listify(v, f"{path}{k}.") for k, v in node.items()}


class Handler(BaseHTTPRequestHandler):
    server: "EmulatorHTTPServer"
    protocol_version = "HTTP/1.1"
    server_version = "tcfaceid-emulator"
    timeout = 60  # idle keep-alive connections and stalled requests

    # -- plumbing ----------------------------------------------------------------
    def setup(self) -> None:
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (signature of the base class)
        if not self.server.config.quiet:
            super().log_message(format, *args)

    def version_string(self) -> str:
        return self.server_version

    def date_time_string(self, timestamp: Optional[float] = None) -> str:
        """The ``Date`` header, from the emulator clock (clients learn their clock skew from it)."""
        return email.utils.formatdate(self.server.service.now() if timestamp is None else timestamp, usegmt=True)

    def _lower_headers(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for k, v in self.headers.items():
            out.setdefault(k.lower(), v)
        return out

    def _read_body(self, limit: int) -> bytes:
        codings = [c.strip().lower() for c in (self.headers.get("Transfer-Encoding") or "").split(",")
                   if c.strip() and c.strip().lower() != "identity"]
        if codings:
            if codings != ["chunked"]:
                raise _Reject(501, "only the chunked transfer coding is supported", close=True)
            return self._read_chunked(limit)
        lengths = self.headers.get_all("Content-Length") or []
        if len(set(lengths)) > 1:
            raise _Reject(400, "conflicting Content-Length headers", close=True)
        length_text = lengths[0] if lengths else None
        if length_text is None:
            return b""
        length_text = length_text.strip()
        if not (length_text.isascii() and length_text.isdigit()) or len(length_text) > 15:
            raise _Reject(400, "bad Content-Length", close=True)
        length = int(length_text)
        if length > limit:
            if length <= MAX_DRAIN:
                self._drain(length)
            else:
                self.close_connection = True
            raise ApiError("RequestSizeLimitExceeded", f"The request body is larger than {limit} bytes.")
        data = self.rfile.read(length)
        if len(data) != length:
            raise _Reject(400, "body shorter than Content-Length", close=True)
        return data

    def _drain(self, length: int) -> None:
        while length > 0:
            chunk = self.rfile.read(min(length, 1 << 20))
            if not chunk:
                break
            length -= len(chunk)

    def _read_chunked(self, limit: int) -> bytes:
        out = bytearray()
        while True:
            line = self.rfile.readline(1024)
            size_text = line.split(b";")[0].strip()
            if not size_text or len(size_text) > 16 or any(c not in b"0123456789abcdefABCDEF" for c in size_text):
                raise _Reject(400, "bad chunk", close=True)
            size = int(size_text, 16)
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(out)
            if len(out) + size > limit:
                self.close_connection = True
                raise ApiError("RequestSizeLimitExceeded", f"The request body is larger than {limit} bytes.")
            out += self.rfile.read(size)
            self.rfile.readline(1024)

    def _send(self, status: int, body: bytes, content_type: str, extra: Optional[dict[str, str]] = None) -> None:
        if self.request_version == "HTTP/0.9":  # no status line, no headers
            self.wfile.write(body)
            return
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        # Headers and body in one write: no Nagle / delayed-ACK stall between them.
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD":
            self._headers_buffer.append(body)
        self.flush_headers()

    def _send_json(self, status: int, obj: Any) -> None:
        self._send(status, json.dumps(obj, ensure_ascii=False).encode("utf-8"), "application/json")

    def _reset(self) -> None:
        """Drop the connection with a TCP reset (SO_LINGER 0)."""
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close_connection = True
        try:
            self.connection.close()
        except OSError:
            pass

    def _base_url(self) -> str:
        return self.server.public_url

    # -- routing -----------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        self._route()

    def do_POST(self) -> None:  # noqa: N802
        self._route()

    def do_HEAD(self) -> None:  # noqa: N802
        self._route()

    def do_PUT(self) -> None:  # noqa: N802
        self._route()

    def do_DELETE(self) -> None:  # noqa: N802
        self._route()

    def do_OPTIONS(self) -> None:  # noqa: N802
        self._route()

    def do_PATCH(self) -> None:  # noqa: N802
        self._route()

    def _route(self) -> None:
        path, _, query = self.path.partition("?")
        try:
            if path == API_PATH:
                self._api(query)
            elif path.startswith("/_emulator/"):
                self._control(path[len("/_emulator/"):], query)
            elif path in ("/h5/verify", "/eid/verify", "/h5/complete", "/eid/complete", "/h5/done"):
                self._page(path, query)
            else:
                raise _Reject(404, "not found")
        except _Reject as r:
            # The request's body may be unread: never reuse the connection after a rejection.
            self.close_connection = True
            self._send_json(r.status, {"error": r.text})
        except (ConnectionError, socket.timeout):
            self.close_connection = True
        except Exception:  # a bug in the emulator: keep serving, say so on stderr
            traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            try:
                self._send_json(500, {"error": "internal error in the emulator"})
            except OSError:
                pass

    # -- API ---------------------------------------------------------------------
    def _api(self, query: str) -> None:
        service = self.server.service
        request_id = str(uuid.uuid4())
        headers = self._lower_headers()
        signed_v3 = "authorization" in headers
        action = headers.get("x-tc-action", "").strip() if signed_v3 else ""
        fault: Optional[Fault] = None
        try:
            if self.command not in ("GET", "POST"):
                raise _Reject(405, "the API takes GET or POST")
            content_type = headers.get("content-type", "").split(";")[0].strip().lower()
            v1_params: Optional[dict[str, str]] = None
            try:
                body = self._read_body(MAX_API_BODY)
                if not signed_v3:
                    v1_params = self._v1_params(query, body, content_type)
                    action = v1_params.get("Action", "")
            finally:
                service.count_received(action)  # counted on arrival, whatever happens next
            version = v1_params.get("Version", "") if v1_params is not None else headers.get("x-tc-version", "").strip()
            fault = service.take_fault(action)
            if fault is not None and fault.phase == "before" and self._apply_fault(fault, request_id, None):
                return
            response = self._execute(action, version, query, headers, body, content_type, v1_params)
        except ApiError as e:
            response = {"Error": {"Code": e.code, "Message": e.message}}
        except _Reject:
            raise
        except Exception:  # a bug in the emulator: answer as the service does, and say so on stderr
            traceback.print_exc(file=sys.stderr)
            response = {"Error": {"Code": "InternalError", "Message": "内部错误。"}}
        if "Error" in response:
            service.count_error(response["Error"]["Code"])
        response["RequestId"] = request_id
        payload = json.dumps({"Response": response}, ensure_ascii=False).encode("utf-8")
        if fault is not None and fault.phase == "after" and self._apply_fault(fault, request_id, payload):
            return
        self._send(200, payload, "application/json", {"X-TC-RequestId": request_id})

    def _v1_params(self, query: str, body: bytes, content_type: str) -> dict[str, str]:
        if self.command == "POST" and content_type != "application/x-www-form-urlencoded":
            raise ApiError("AuthFailure.InvalidAuthorization", "The Authorization header is missing.")
        raw = query if self.command == "GET" else body.decode("utf-8", "replace")
        try:
            pairs = urllib.parse.parse_qsl(raw, keep_blank_values=True, strict_parsing=False, errors="strict")
        except (UnicodeDecodeError, ValueError):
            raise ApiError("InvalidParameter", "The parameters are not valid URL-encoded UTF-8.") from None
        if not any(k == "Signature" for k, _ in pairs):
            raise ApiError("AuthFailure.InvalidAuthorization", "The Authorization header is missing.")
        return dict(pairs)

    def _execute(
        self,
        action: str,
        version: str,
        query: str,
        headers: dict[str, str],
        body: bytes,
        content_type: str,
        v1_params: Optional[dict[str, str]],
    ) -> dict[str, Any]:
        service = self.server.service
        api.check_action(action, version)
        now = int(service.now())
        host = headers.get("host", "")
        if v1_params is not None:
            cred = verify_v1(method=self.command, host=host, path=API_PATH, params=v1_params,
                             credentials=service.credentials, now=now)
            common = {"Action", "Version", "Region", "Timestamp", "Nonce", "SecretId", "Signature", "SignatureMethod",
                      "Token", "RequestClient", "Language"}
            params: Any = _flatten_params([(k, v) for k, v in v1_params.items() if k not in common])
            from_strings = True
        else:
            cred = verify_tc3(method=self.command, path=API_PATH, query=query, headers=headers, body=body,
                              credentials=service.credentials, now=now)
            if self.command == "GET":
                try:
                    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True, errors="strict")
                except (UnicodeDecodeError, ValueError):
                    raise ApiError("InvalidParameter", "The query string is not valid URL-encoded UTF-8.") from None
                params = _flatten_params(pairs)
                from_strings = True
            else:
                if content_type != "application/json":
                    raise ApiError("InvalidParameter", f"not support Content-Type=`{content_type or 'none'}`")
                params = _parse_json(body)
                from_strings = False
        return api.handle(service, action, params, account=cred.account, base_url=self._base_url(),
                          from_strings=from_strings)

    def _apply_fault(self, fault: Fault, request_id: str, payload: Optional[bytes]) -> bool:
        """Carry out ``fault``; True when the response has been dealt with."""
        if fault.kind == "latency":
            time.sleep(fault.seconds)
            return False
        if fault.kind == "reset":
            self._reset()
            return True
        if fault.kind == "truncated":
            body = payload or b""
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True  # an orderly close: the client sees a short body
            return True
        if fault.kind in ("http_5xx", "not_json"):
            status = fault.status
            reason = self.responses.get(status, ("Error",))[0]
            html = f"<html><head><title>{status} {reason}</title></head><body><center><h1>{status} {reason}</h1></center><hr><center>nginx</center></body></html>\n"
            self._send(status, html.encode(), "text/html")
            return True
        code = fault.code or ("RequestLimitExceeded" if fault.kind == "throttle" else "InternalError")
        message = "请求的次数超过了频率限制。" if fault.kind == "throttle" else "内部错误。"
        self.server.service.count_error(code)
        body = json.dumps({"Response": {"Error": {"Code": code, "Message": message}, "RequestId": request_id}},
                          ensure_ascii=False).encode("utf-8")
        self._send(200, body, "application/json", {"X-TC-RequestId": request_id})
        return True

    # -- control API -------------------------------------------------------------
    def _control(self, what: str, query: str) -> None:
        service = self.server.service
        body = self._read_control_body()
        try:
            if what == "health" and self.command == "GET":
                return self._send_json(200, {"ok": True, "now": int(service.now())})
            if what == "stats" and self.command == "GET":
                return self._send_json(200, service.stats())
            if what == "reset" and self.command == "POST":
                service.reset()
                return self._send_json(200, {"ok": True})
            if what == "clock":
                if self.command == "POST":
                    advance, set_to = body.get("advance"), body.get("set")
                    for v in (advance, set_to):
                        if v is not None and (not isinstance(v, (int, float)) or isinstance(v, bool)
                                              or not -1e10 <= v <= 1e10):
                            raise ValueError("advance and set are numbers of seconds (at most 1e10 in size)")
                    if set_to is not None and not 0 <= set_to <= 253402300799:
                        raise ValueError("set is a Unix time between 1970 and 9999")
                    now_after = service.now() + (advance or 0) if set_to is None else set_to + (advance or 0)
                    if not 0 <= now_after <= 253402300799:
                        raise ValueError("the clock would leave the years 1970 to 9999")
                    if advance is None and set_to is None:
                        raise ValueError("give advance or set")
                    service.set_clock(advance=advance, set_to=set_to)
                return self._send_json(200, {"now": int(service.now())})
            if what == "faults":
                if self.command == "POST":
                    if body.get("clear"):
                        with service.lock:
                            service.faults.clear()
                    else:
                        service.add_fault(body)
                return self._send_json(200, {"pending": service.stats()["faults_pending"]})
            if what == "complete" and self.command == "POST":
                token, scenario = body.get("token"), body.get("scenario", "pass")
                if not isinstance(token, str) or not isinstance(scenario, str):
                    raise ValueError("token and scenario are strings")
                options = {k: v for k, v in body.items() if k not in ("token", "scenario")}
                return self._send_json(200, service.complete(token, scenario, options))
            if what == "identities" and self.command == "POST":
                people = body.get("identities")
                if not isinstance(people, list):
                    raise ValueError("identities is a list of objects")
                checked = [Person.from_dict(p) for p in people]  # all or nothing
                for person in checked:
                    if id_card_problem(person.id_card):
                        raise ValueError(f"identity id_card is invalid: {id_card_problem(person.id_card)}")
                with service.lock:
                    for person in checked:
                        service.registry.add(person)
                return self._send_json(200, {"ok": True, "count": len(service.registry.by_id)})
            raise _Reject(404, f"no control endpoint {self.command} /_emulator/{what}")
        except LookupError as e:
            self._send_json(404, {"error": str(e)})
        except PermissionError as e:
            self._send_json(409, {"error": str(e)})
        except (ValueError, TypeError, ArithmeticError) as e:
            self._send_json(400, {"error": str(e)})

    def _read_control_body(self) -> dict[str, Any]:
        try:
            raw = self._read_body(MAX_CONTROL_BODY)
        except ApiError as e:
            raise _Reject(413, e.message, close=True) from None
        if not raw.strip():
            return {}
        try:
            obj = json.loads(raw, parse_constant=_reject_constant)
        except (ValueError, RecursionError):
            raise _Reject(400, "the body is not JSON") from None
        if not isinstance(obj, dict):
            raise _Reject(400, "the body must be a JSON object")
        return obj

    # -- pages -------------------------------------------------------------------
    def _page(self, path: str, query: str) -> None:
        service = self.server.service
        kind = path.split("/")[1]
        if path.endswith("/complete"):
            if self.command != "POST":
                raise _Reject(405, "POST the form")
            try:
                raw = self._read_body(MAX_CONTROL_BODY)
                form = dict(urllib.parse.parse_qsl(raw.decode("utf-8"), errors="strict"))
            except (ApiError, UnicodeDecodeError, ValueError):
                raise _Reject(400, "bad form") from None
            token = form.pop("token", "")
            scenario = form.pop("scenario", "")
            options = {k: v for k, v in form.items() if k in ("name", "id_card") and v}
            store = service.sessions if kind == "h5" else service.eid_sessions
            if token not in store:
                return self._send(404, pages.message("人脸核身", "无效的链接 Unknown token."), "text/html; charset=utf-8")
            try:
                result = service.complete(token, scenario, options)
            except PermissionError as e:
                return self._send(409, pages.message("人脸核身", str(e)), "text/html; charset=utf-8")
            except ValueError as e:
                return self._send(400, pages.message("人脸核身", str(e)), "text/html; charset=utf-8")
            target = result.get("redirect") if scenario != "abandon" else None
            if target is None:
                target = f"/h5/done?token={urllib.parse.quote(token)}"
            return self._send(303, b"", "text/plain", {"Location": target})
        params = dict(urllib.parse.parse_qsl(query))
        token = params.get("token", "")
        if path == "/h5/done":
            with service.lock:
                session = service.sessions.get(token) or service.eid_sessions.get(token)
            if session is None:
                raise _Reject(404, "unknown token")
            result = {"err_code": session.final_code if session.status == "completed" else None}
            return self._send(200, pages.done_page(result), "text/html; charset=utf-8")
        now = int(service.now())
        with service.lock:
            if kind == "h5":
                session = service.sessions.get(token)
                ttl = saas.BIZ_TOKEN_TTL
            else:
                session = service.eid_sessions.get(token)
                ttl = eid.EID_TOKEN_TTL
            if session is None:
                return self._send(404, pages.message("人脸核身", "无效的链接 Unknown token."), "text/html; charset=utf-8")
            if now > session.created + ttl:
                return self._send(410, pages.message("人脸核身", "Token 过期，请重试 The token has expired.", 15),
                                  "text/html; charset=utf-8")
            if kind == "eid":
                if session.url_used:
                    return self._send(410, pages.message("E证通", "链接已失效 This link can be used only once."),
                                      "text/html; charset=utf-8")
                session.url_used = True
            elif session.status == "completed":
                return self._send(409, pages.message("人脸核身", "本次校验已完成 Already completed.", 14),
                                  "text/html; charset=utf-8")
            else:
                session.status = "opened"
        ask = kind == "eid" and session.input_type == "3"
        self._send(200, pages.verify_page(kind, session, ask), "text/html; charset=utf-8",
                   {"Cache-Control": "no-store"})


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _parse_json(body: bytes) -> Any:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError("InvalidParameter", "The request body is not valid UTF-8.") from None
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise ApiError("InvalidParameter", "The request body is nested too deeply.") from None
    except ValueError as e:
        raise ApiError("InvalidParameter", f"The request body is not valid JSON: {e}.") from None
    if not _valid_unicode(value):
        raise ApiError("InvalidParameter", "The request body has a \\u escape that is not a Unicode character (a lone surrogate).")
    return value


def _valid_unicode(value: Any) -> bool:
    """No lone surrogates (``"\\ud800"`` is valid JSON but not text) in any string or key."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            items: Any = (item,)
        elif isinstance(item, dict):
            items = item.keys()
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
            continue
        else:
            continue
        for text in items:
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                return False
    return True


class EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(self, config: Config, service: Service) -> None:
        self.config = config
        self.service = service
        super().__init__((config.host, config.port), Handler)
        self.ssl_context: Optional[ssl.SSLContext] = None
        if config.tls_cert:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(config.tls_cert, config.tls_key)
            self.ssl_context = ctx
        host, port = self.server_address[:2]
        scheme = "https" if self.ssl_context else "http"
        shown = f"[{host}]" if ":" in str(host) else host
        self.endpoint = f"{scheme}://{shown}:{port}"
        self.public_url = (config.public_url or self.endpoint).rstrip("/")

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = super().get_request()
        if self.ssl_context is not None:
            sock.settimeout(10)
            sock = self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def finish_request(self, request: Any, client_address: Any) -> None:
        if isinstance(request, ssl.SSLSocket):
            try:
                request.do_handshake()
            except (OSError, ssl.SSLError):
                return
        super().finish_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that goes away mid-request is normal here (fault tests, fuzzing).
        pass


class Emulator:
    """The FaceID emulator, in process::

        with Emulator() as emu:
            client = make_client(endpoint=emu.endpoint)
            ...
            emu.complete(biz_token, "pass")

    ``port=0`` (the default here) picks a free port.
    """

    def __init__(self, config: Optional[Config] = None, **overrides: Any) -> None:
        if config is None:
            config = Config(port=0)
        if overrides:
            unknown = sorted(k for k in overrides if not hasattr(config, k))
            if unknown:
                raise TypeError(f"unknown emulator option {unknown[0]!r}")
            # through Config again, so that partial dicts (limits, qps) are merged with the defaults
            # and every value is checked as for Config(...)
            config = dataclasses.replace(config, **overrides)
        self.config = config
        self.service = Service(config)
        self._server: Optional[EmulatorHTTPServer] = None
        self._thread: Optional[threading.Thread] = None

    def start(self) -> "Emulator":
        if self._server is None:
            self._server = EmulatorHTTPServer(self.config, self.service)
            self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="tcfaceid-emulator", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def serve_forever(self) -> None:
        self._server = EmulatorHTTPServer(self.config, self.service)
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        return self._server.endpoint

    @property
    def host_port(self) -> str:
        """``host:port``, what an SDK's endpoint setting takes."""
        return self.endpoint.split("://", 1)[1]

    # In-process equivalents of the control API.
    def complete(self, token: str, scenario: str = "pass", **options: Any) -> dict[str, Any]:
        return self.service.complete(token, scenario, options)

    def advance(self, seconds: float) -> int:
        return int(self.service.set_clock(advance=seconds))

    def set_time(self, unix_time: float) -> int:
        return int(self.service.set_clock(set_to=unix_time))

    def now(self) -> int:
        return int(self.service.now())

    def fault(self, kind: str, count: int = 1, **options: Any) -> None:
        self.service.add_fault({"kind": kind, "count": count, **options})

    def stats(self) -> dict[str, Any]:
        return self.service.stats()

    def reset(self) -> None:
        self.service.reset()
