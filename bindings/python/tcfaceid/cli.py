"""``tcfaceid`` / ``python -m tcfaceid``: FaceID from the command line (docs/cli.md).

Every command is a thin layer over :class:`tcfaceid.Client` and the module functions; the rules
(signing, validation, verdicts, retries) are the C core's. What this module adds: argument
parsing, the credential chain's command-line end, masking of identity data and media in what it
prints, progress lines on stderr, and one exit code per error class.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import re
import sys
import threading
import time
import warnings
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Sequence, TextIO

__all__ = ["main", "EXIT"]

#: exit codes (docs/cli.md)
EXIT = {
    "ok": 0,
    "other": 1,
    "usage": 2,
    "auth": 3,
    "api": 4,
    "throttled": 5,
    "transport": 6,
    "ambiguous": 7,
    "failed": 8,
    "pending": 9,
}

# A request body, video or image this large gets an elapsed-time line while the call runs.
_LARGE = 1 << 20


class UsageError(Exception):
    """A bad command line or unreadable input (exit 2)."""


# ------------------------------------------------------------------------------------------------
# masking
# ------------------------------------------------------------------------------------------------

# keys (lowercase) whose values are identity data; plus any key ending in one of _SENSITIVE_TAILS
_SENSITIVE_KEYS = {
    "name", "idcard", "id_card", "phone", "mobile", "bankcard", "bank_card", "idnum", "address",
    "ocrname", "ocridcard", "ocraddress", "ocrbirth", "birth", "birthday", "email",
}
_SENSITIVE_TAILS = ("idcard", "name", "phone", "mobile", "bankcard", "idnum", "address")
# keys never treated as identity data although their names end like one
_NOT_SENSITIVE = {"action", "actionname", "filename", "rulename", "bankname", "accountbank", "merchantname"}
# keys (lowercase) whose values are media
_MEDIA_KEYS = {"bestframe", "bestframes", "videodata", "ocrfront", "ocrback", "avatar", "livevideo",
               "processedfrontimage", "processedbackimage", "bestframelist", "encryptedbody", "video", "image"}
_BASE64 = re.compile(r"^[A-Za-z0-9+/=\r\n_-]+$")


def mask_text(value: str) -> str:
    """First and last character kept, the rest starred ("张三" -> "张*")."""
    if len(value) == 0:
        return value
    if len(value) <= 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]


def _sensitive(key: str) -> bool:
    k = key.lower().replace("-", "_")
    if k in _NOT_SENSITIVE:
        return False
    return k in _SENSITIVE_KEYS or k.replace("_", "").endswith(_SENSITIVE_TAILS)


def _media_key(key: str) -> bool:
    k = key.lower()
    return k.endswith("base64") or k in _MEDIA_KEYS


def _looks_like_media(value: str) -> bool:
    return len(value) >= 256 and _BASE64.match(value) is not None


def mask(value: Any, key: str = "") -> Any:
    """A copy of value with identity fields and base64 media masked (the keys decide; long base64
    strings are media wherever they are)."""
    if isinstance(value, dict):
        return {k: mask(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask(v, key) for v in value]
    if isinstance(value, str):
        if value and (_media_key(key) or _looks_like_media(value)):
            return f"<media: {len(value)} characters of base64>"
        if _sensitive(key):
            return mask_text(value)
        return value
    if value is not None and not isinstance(value, bool) and _sensitive(key):
        return "***"
    return value


# ------------------------------------------------------------------------------------------------
# output
# ------------------------------------------------------------------------------------------------

def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _rows(value: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        if not value and prefix:
            yield prefix, "{}"
        for k, v in value.items():
            yield from _rows(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(value, (list, tuple)):
        if not value:
            yield prefix, "[]"
        elif all(not isinstance(v, (dict, list, tuple)) for v in value):
            yield prefix, ", ".join(_cell(v) for v in value)
        else:
            for i, v in enumerate(value):
                yield from _rows(v, f"{prefix}[{i}]")
    else:
        yield prefix, _cell(value)


def table(value: Any) -> str:
    """A two-column aligned table: flattened key path, value."""
    rows = list(_rows(value))
    if not rows:
        return ""
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}".rstrip() for k, v in rows)


class Output:
    def __init__(self, fmt: str, reveal: bool, out: TextIO) -> None:
        self.fmt = fmt
        self.reveal = reveal
        self.out = out

    def show(self, value: Any, masked: bool = True) -> None:
        value = _jsonable(value)
        if masked and not self.reveal:
            value = mask(value)
        if self.fmt == "json":
            self.out.write(json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
        else:
            text = table(value)
            if text:
                self.out.write(text + "\n")
        self.out.flush()


# ------------------------------------------------------------------------------------------------
# progress
# ------------------------------------------------------------------------------------------------

class Ticker:
    """An elapsed-time line on stderr while a blocking call runs (the core has no progress
    callback: this thread only measures time)."""

    def __init__(self, label: str, enabled: bool, stream: TextIO, interval: float = 0.5) -> None:
        self.label = label
        self.enabled = enabled
        self.stream = stream
        self.interval = interval
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._start = 0.0

    def _line(self) -> str:
        return f"{self.label}: {time.monotonic() - self._start:.1f} s elapsed"

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                if self.tty:
                    self.stream.write("\r\033[K" + self._line())
                else:
                    self.stream.write(self._line() + "\n")
                self.stream.flush()
            except (OSError, ValueError):
                return

    def __enter__(self) -> "Ticker":
        self._start = time.monotonic()
        if self.enabled:
            self._thread = threading.Thread(target=self._run, name="tcfaceid-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        try:
            if self.tty:
                self.stream.write("\r\033[K")
            self.stream.write(f"{self.label}: done in {time.monotonic() - self._start:.1f} s\n")
            self.stream.flush()
        except (OSError, ValueError):
            pass


# ------------------------------------------------------------------------------------------------
# inputs
# ------------------------------------------------------------------------------------------------

def _read_file(path: str, binary: bool = False) -> Any:
    try:
        p = Path(path).expanduser()
        return p.read_bytes() if binary else p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"cannot read {path}: {e.__class__.__name__}") from None


def read_text_arg(value: Optional[str], stdin: TextIO) -> Optional[str]:
    """TEXT, @file (its content) or - (standard input)."""
    if value is None:
        return None
    if value == "-":
        return stdin.read()
    if value.startswith("@"):
        return _read_file(value[1:])
    return value


def read_params(value: Optional[str], stdin: TextIO) -> tuple[str, int]:
    """The request parameters (JSON | @file | -), checked to be a JSON object and returned as the
    text given (it is sent and signed byte for byte), and the size of that text."""
    text = read_text_arg(value, stdin)
    if text is None or not text.strip():
        return "{}", 2
    try:
        params = json.loads(text)
    except ValueError as e:
        raise UsageError(f"the parameters are not valid JSON (line {getattr(e, 'lineno', '?')}, "
                         f"column {getattr(e, 'colno', '?')})") from None
    if not isinstance(params, dict):
        raise UsageError("the parameters must be a JSON object")
    return text, len(text.encode("utf-8"))


def _secret_arg(value: str, stdin: TextIO) -> str:
    """A value that may be given as @file or - so that it stays out of the shell history."""
    text = read_text_arg(value, stdin)
    assert text is not None
    return text.strip() if (value == "-" or value.startswith("@")) else text


# ------------------------------------------------------------------------------------------------
# the parser
# ------------------------------------------------------------------------------------------------

def _global_options(parser: argparse.ArgumentParser, suppress: bool) -> None:
    d = argparse.SUPPRESS if suppress else None
    g = parser.add_argument_group("global options (before or after the command)")
    g.add_argument("--endpoint", default=d, help="https://host[:port] or http://host:port (the emulator)")
    g.add_argument("--region", default=d, help="e.g. ap-guangzhou (X-TC-Region; picks the regional host)")
    g.add_argument("--secret-id", default=d, help="SecretId (default: the credential chain)")
    g.add_argument("--secret-key", default=d,
                   help="SecretKey, or @file / - (default: TENCENTCLOUD_SECRET_KEY, then ~/.tencentcloud/credentials)")
    g.add_argument("--output", "-o", choices=("json", "table"), default=d,
                   help="default: table on a terminal, json otherwise")
    g.add_argument("--timeout", type=float, default=d, help="seconds for one exchange (default 30)")
    g.add_argument("--max-attempts", type=int, default=d, help="attempts per call (the client's retry policy)")
    g.add_argument("--proxy", default=d, help='proxy URL; "" for none (default: the *_proxy variables)')
    g.add_argument("--ca-bundle", default=d, help="PEM file of trusted CAs")
    g.add_argument("--language", choices=("zh-CN", "en-US"), default=d, help="X-TC-Language")
    g.add_argument("--reveal", action="store_true", default=d,
                   help="print identity data and media unmasked")
    g.add_argument("--progress", action="store_true", default=d,
                   help="progress lines on stderr even when it is not a terminal")
    g.add_argument("--verbose", "-v", action="store_true", default=d,
                   help="the core's INFO log lines on stderr")


def build_parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="tcfaceid",
        description="Tencent Cloud FaceID (人脸核身) from the command line. Exit codes: 0 ok, 1 other, "
                    "2 usage, 3 auth, 4 API error, 5 throttled / rate limited, 6 transport, 7 ambiguous, "
                    "8 verification failed, 9 pending / expired (docs/cli.md).",
    )
    _global_options(top, suppress=False)
    sub = top.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    def command(name: str, help_: str, parent: Any = sub) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = parent.add_parser(name, help=help_, description=help_)
        _global_options(p, suppress=True)
        return p

    p = command("call", "call any action and print its Response")
    p.add_argument("action")
    p.add_argument("params", nargs="?", help="JSON object, @file or - (standard input); default {}")
    p.add_argument("--encrypt", action="store_true", help="encrypt the action's sensitive fields")

    p = command("sign", "show the signed request: canonical request, string to sign, Authorization")
    p.add_argument("action")
    p.add_argument("params", nargs="?", help="JSON object, @file or -; default {}")
    p.add_argument("--timestamp", type=int, help="X-TC-Timestamp (default: now)")

    detect = command("detect", "the SaaS flow: start (DetectAuth) and result (GetDetectInfoEnhanced)")
    dsub = detect.add_subparsers(dest="subcommand", metavar="SUBCOMMAND")
    dsub.required = True
    p = command("start", "DetectAuth: prints the session (BizToken, Url, lifetimes)", dsub)
    p.add_argument("--rule-id", required=True)
    p.add_argument("--id-card", help="ID number (or @file / -)")
    p.add_argument("--name", help="name (or @file / -)")
    p.add_argument("--redirect-url")
    p.add_argument("--extra")
    p.add_argument("--save", metavar="FILE", help="also write the session JSON to FILE (for detect result @FILE)")
    p = command("result", "GetDetectInfoEnhanced: the verdict (exit 0 passed, 8 failed, 9 pending/expired)", dsub)
    p.add_argument("token", help="BizToken or @session.json (written by detect start --save)")
    p.add_argument("--rule-id", help="required with a bare BizToken")
    p.add_argument("--parts", default="text", help="comma-separated: text,id_card,best_frame,video,... (default text)")
    p.add_argument("--response", action="store_true", help="include the merged Response (masked unless --reveal)")

    eid = command("eid", "the E-ID flow: start, status, result")
    esub = eid.add_subparsers(dest="subcommand", metavar="SUBCOMMAND")
    esub.required = True
    p = command("start", "GetEidToken: prints the E-ID session", esub)
    p.add_argument("--merchant-id", required=True)
    p.add_argument("--id-card", help="ID number (or @file / -)")
    p.add_argument("--name", help="name (or @file / -)")
    p.add_argument("--input-type", type=int, choices=(1, 2, 3, 4))
    p.add_argument("--redirect-url")
    p.add_argument("--extra")
    p.add_argument("--save", metavar="FILE", help="also write the session JSON to FILE")
    p = command("status", "CheckEidTokenStatus: init, doing, finished or timeout", esub)
    p.add_argument("token", help="EidToken or @session.json")
    p = command("result", "GetEidResult: the verdict (exit 0 passed, 8 failed, 9 pending/expired)", esub)
    p.add_argument("token", help="EidToken or @session.json")
    p.add_argument("--wait", action="store_true", help="poll the status until finished (progress on stderr)")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between polls (default 1)")
    p.add_argument("--wait-timeout", type=float, help="seconds to wait at most (default: the token's lifetime)")
    p.add_argument("--key", help="the merchant's SM2 private key (PEM file): fetch and decrypt EidInfo")
    p.add_argument("--parts", default="text", help="comma-separated parts (default text)")
    p.add_argument("--response", action="store_true", help="include the merged Response")

    p = command("decrypt-eid", "decrypt GetEidResult's EidInfo (DesKey + UserInfo) with the SM2 key")
    p.add_argument("--des-key", required=True, help="EidInfo.DesKey (or @file / -)")
    p.add_argument("--user-info", required=True, help="EidInfo.UserInfo (or @file / -)")
    p.add_argument("--key", required=True, help="the merchant's SM2 private key (PEM file)")

    p = command("emulator", "run the bundled emulator (arguments as python -m tcfaceid.emulator)")
    p.add_argument("args", nargs="*", help="the emulator's arguments (see tcfaceid emulator --help)")

    p = command("validate", "check an ID number, phone or bank card locally (exit 0 valid, 1 invalid)")
    p.add_argument("kind", choices=("idcard", "phone", "bankcard"))
    p.add_argument("value", help="the value, or - to read it from standard input (stays out of the history)")

    p = command("estimate", "the documented price of CALLS calls of ACTION")
    p.add_argument("action")
    p.add_argument("calls", type=int)
    p.add_argument("--detailed", action="store_true", help="PhoneVerification's detailed mode")

    p = command("check", "an element check or PaaS call (exit 0 matched/answered, 8 otherwise)")
    p.add_argument("action", help="e.g. IdCardVerification, PhoneVerification, LivenessRecognition")
    for opt in ("id-card", "name", "phone", "bank-card"):
        p.add_argument(f"--{opt}", help="(or @file / -)")
    p.add_argument("--validity-begin")
    p.add_argument("--validity-end")
    p.add_argument("--liveness-type", choices=("LIP", "ACTION", "SILENT"))
    p.add_argument("--validate-data")
    p.add_argument("--video", help="@file (read by the core) or base64 text")
    p.add_argument("--video-url")
    p.add_argument("--image", help="@file or base64 text")
    p.add_argument("--image-url")
    p.add_argument("--best-frame-num", type=int)
    p.add_argument("--detailed", action="store_true", help="PhoneVerification VerifyMode 1")
    p.add_argument("--route", choices=("generic", "auto"))
    p.add_argument("--extra")
    p.add_argument("--response", action="store_true", help="include the whole Response (masked unless --reveal)")
    return top


# ------------------------------------------------------------------------------------------------
# running
# ------------------------------------------------------------------------------------------------

class Context:
    def __init__(self, args: argparse.Namespace, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> None:
        self.args = args
        self.stdin = stdin
        self.stderr = stderr
        fmt = self.opt("output")
        if fmt is None:
            fmt = "table" if getattr(stdout, "isatty", lambda: False)() else "json"
        self.out = Output(fmt, bool(self.opt("reveal")), stdout)

    def opt(self, name: str, default: Any = None) -> Any:
        return getattr(self.args, name, default)

    def progress(self, label: str, large: bool) -> Ticker:
        tty = bool(getattr(self.stderr, "isatty", lambda: False)())
        return Ticker(label, bool(self.opt("progress")) or (large and tty), self.stderr)

    def client(self, **extra: Any) -> Any:
        import tcfaceid

        sid, skey = self.opt("secret_id"), self.opt("secret_key")
        if bool(sid) != bool(skey):
            raise UsageError("--secret-id and --secret-key go together")
        token = None
        if skey:
            skey = _secret_arg(skey, self.stdin)
            if sid == os.environ.get("TENCENTCLOUD_SECRET_ID"):  # the environment's temporary credentials
                token = os.environ.get("TENCENTCLOUD_SESSION_TOKEN") or None
        options: dict[str, Any] = {}
        for name in ("endpoint", "region", "proxy", "ca_bundle", "language", "timeout"):
            value = self.opt(name)
            if value is not None:
                options[name] = value
        attempts = self.opt("max_attempts")
        if attempts is not None:
            if attempts < 1:
                raise UsageError("--max-attempts must be at least 1")
            options["retry"] = {"max_attempts": attempts}
        options.update(extra)
        return tcfaceid.Client(sid or None, skey or None, token, **options)


def _session_arg(value: str, ctx: Context, kind: str) -> Any:
    """A token as given, or the Session / EidSession stored in @file."""
    import tcfaceid

    if value.startswith("@") or value == "-":
        text = read_text_arg(value, ctx.stdin) or ""
        cls = tcfaceid.Session if kind == "saas" else tcfaceid.EidSession
        return cls.from_json(text.strip())
    return value


def _session_view(session: Any) -> dict[str, Any]:
    view: dict[str, Any] = json.loads(session.to_json())
    view.pop("v", None)
    return view


def _save(path: Optional[str], session: Any) -> None:
    if path:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(session.to_json() + "\n")
        except OSError as e:
            raise UsageError(f"cannot write {path}: {e.__class__.__name__}") from None


def _verdict_view(v: Any, with_response: bool) -> dict[str, Any]:
    view: dict[str, Any] = {
        "status": v.status,
        "code": v.code,
        "meaning": v.meaning,
        "reason": v.reason,
        "billed": v.billed,
        "intention_code": v.intention_code,
        "attempts": [
            {"errcode": a.errcode, "livestatus": a.livestatus, "comparestatus": a.comparestatus, "sim": a.sim,
             "billed": a.is_need_charge} for a in v.attempts
        ],
    }
    if v.retry_at is not None:
        view["retry_at"] = v.retry_at
    if v.part_errors:
        view["part_errors"] = {k: f"{type(e).__name__}: {getattr(e, 'code', '')}" for k, e in v.part_errors.items()}
    if with_response:
        view["response"] = v.response
    return view


def _verdict_exit(v: Any) -> int:
    if v.status == "PASSED":
        return EXIT["ok"]
    if v.status == "FAILED":
        return EXIT["failed"]
    return EXIT["pending"]


def _identity(ctx: Context, value: Optional[str]) -> Optional[str]:
    return _secret_arg(value, ctx.stdin) if value is not None else None


# ---- commands ----

def cmd_call(ctx: Context) -> int:
    a = ctx.args
    params, size = read_params(a.params, ctx.stdin)
    with ctx.client() as client:
        with ctx.progress(f"{a.action}: sending {size} bytes", size >= _LARGE):
            resp = client.call(a.action, params, encrypt=True if a.encrypt else None)
        ctx.out.show(resp)
    return EXIT["ok"]


def cmd_sign(ctx: Context) -> int:
    import tcfaceid

    a = ctx.args
    params, _size = read_params(a.params, ctx.stdin)
    with ctx.client() as client:
        req = client.prepare(a.action, params, a.timestamp)
    headers = dict(req.headers)
    auth = headers.get("Authorization", "")
    m = re.match(r"^(\S+) Credential=([^/]+)/([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]+)$", auth)
    if m is None:
        raise UsageError("the signed request has an unexpected Authorization header")
    algorithm, secret_id, scope, signed, signature = m.groups()
    lower = {k.lower(): v for k, v in headers.items()}
    # The canonical request and the string to sign do not depend on the key: recompute them with
    # the core's signer and a placeholder key; the real signature is the one in the header.
    inputs: dict[str, Any] = {
        "algorithm": algorithm, "secret_id": secret_id, "secret_key": "placeholder-not-the-secret",
        "service": scope.split("/")[1] if "/" in scope else "faceid", "host": lower.get("host"),
        "method": req.method, "content_type": lower.get("content-type"), "canonical_query": "",
        "timestamp": int(lower["x-tc-timestamp"]), "body": req.body, "signed_headers": signed,
        "action": lower.get("x-tc-action"), "version": lower.get("x-tc-version"),
        "region": lower.get("x-tc-region"), "language": lower.get("x-tc-language"), "token": lower.get("x-tc-token"),
    }
    derived = tcfaceid.sign(**{k: v for k, v in inputs.items() if v is not None})
    shown_headers = {k: ("***" if k.lower() == "x-tc-token" else v) for k, v in headers.items()}
    view = {
        "method": req.method,
        "url": req.url,
        "headers": shown_headers,
        "hashed_payload": derived.get("hashed_payload"),
        "canonical_request": derived["canonical_request"],
        "string_to_sign": derived["string_to_sign"],
        "signed_headers": signed,
        "credential_scope": scope,
        "signature": signature,
        "authorization": auth,
        "body": (req.body.decode("utf-8", "replace") if ctx.out.reveal
                 else f"<{len(req.body)} bytes; --reveal shows it>"),
    }
    if ctx.out.fmt == "table":
        w = ctx.out.out
        w.write(f"{req.method} {req.url}\n")
        for k, v in shown_headers.items():
            w.write(f"{k}: {v}\n")
        w.write("\n--- canonical request ---\n" + view["canonical_request"] + "\n")
        w.write("\n--- string to sign ---\n" + view["string_to_sign"] + "\n")
        w.write(f"\nsignature: {signature}\nbody: {view['body']}\n")
        w.flush()
    else:
        ctx.out.show(view, masked=False)
    return EXIT["ok"]


def cmd_detect(ctx: Context) -> int:
    a = ctx.args
    with ctx.client() as client:
        if a.subcommand == "start":
            session = client.detect_auth(a.rule_id, id_card=_identity(ctx, a.id_card), name=_identity(ctx, a.name),
                                         redirect_url=a.redirect_url, extra=a.extra)
            _save(a.save, session)
            ctx.out.show(_session_view(session))
            return EXIT["ok"]
        target = _session_arg(a.token, ctx, "saas")
        v = client.detect_result(target, a.rule_id, tuple(p.strip() for p in a.parts.split(",") if p.strip()))
        ctx.out.show(_verdict_view(v, a.response))
        return _verdict_exit(v)


def cmd_eid(ctx: Context) -> int:
    import tcfaceid

    a = ctx.args
    with ctx.client() as client:
        if a.subcommand == "start":
            session = client.get_eid_token(a.merchant_id, id_card=_identity(ctx, a.id_card),
                                           name=_identity(ctx, a.name), input_type=a.input_type,
                                           redirect_url=a.redirect_url, extra=a.extra)
            _save(a.save, session)
            ctx.out.show(_session_view(session))
            return EXIT["ok"]
        target = _session_arg(a.token, ctx, "eid")
        if a.subcommand == "status":
            ctx.out.show({"status": client.eid_status(target)})
            return EXIT["ok"]
        key = _read_file(a.key) if a.key else None
        if a.wait:
            if a.interval < 0:
                raise UsageError("--interval must not be negative")
            with ctx.progress(f"waiting for the E-ID verification (polling every {a.interval:g} s)", True):
                status = client.wait_eid(target, a.interval, a.wait_timeout)
            ctx.stderr.write(f"E-ID status: {status}\n")
        parts = [p.strip() for p in a.parts.split(",") if p.strip()]
        if key is not None and "eid_info" not in parts and "all" not in parts:
            parts.append("eid_info")
        v = client.eid_result(target, tuple(parts))
        view = _verdict_view(v, a.response)
        if key is not None and v.status == "PASSED":
            view["identity"] = tcfaceid.decrypt_eid_info((v.response or {}).get("EidInfo"), key)
        ctx.out.show(view)
        return _verdict_exit(v)


def cmd_decrypt_eid(ctx: Context) -> int:
    import tcfaceid

    a = ctx.args
    info = {"DesKey": _secret_arg(a.des_key, ctx.stdin), "UserInfo": _secret_arg(a.user_info, ctx.stdin)}
    ctx.out.show(tcfaceid.decrypt_eid_info(info, _read_file(a.key)))
    return EXIT["ok"]


def cmd_emulator(ctx: Context) -> int:
    from .emulator.__main__ import main as emulator_main

    args = list(ctx.args.args)
    try:
        return int(emulator_main(args) or 0)
    except SystemExit as e:  # its argparse (--help, a bad option) or a configuration conflict
        if isinstance(e.code, str):
            ctx.stderr.write(e.code + "\n")
            return EXIT["usage"]
        return int(e.code or 0)


def cmd_validate(ctx: Context) -> int:
    import tcfaceid

    a = ctx.args
    value = a.value
    if value == "-":
        value = ctx.stdin.readline().strip()
    kinds = {"idcard": "ID number", "phone": "phone number", "bankcard": "bank card number"}
    view: dict[str, Any] = {"kind": a.kind}
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if a.kind == "idcard":
                tcfaceid.validate_id_card(value)
            elif a.kind == "phone":
                info = tcfaceid.validate_phone(value)
                view["carrier"] = info.carrier
                view["recent_range"] = info.recent_range
            else:
                tcfaceid.validate_bank_card(value)
    except tcfaceid.InvalidArgumentError as e:
        view.update(valid=False, reason=str(e.message))
        ctx.out.show(view, masked=False)
        ctx.stderr.write(f"invalid {kinds[a.kind]}: {e.message}\n")
        return 1
    view["valid"] = True
    for w in caught:
        view["warning"] = str(w.message)
        ctx.stderr.write(f"warning: {w.message}\n")
    ctx.out.show(view, masked=False)
    return EXIT["ok"]


def cmd_estimate(ctx: Context) -> int:
    import tcfaceid

    a = ctx.args
    if a.calls < 0:
        raise UsageError("CALLS must not be negative")
    e = tcfaceid.estimate_cost(a.action, a.calls, a.detailed)
    ctx.out.show({
        "action": e.action, "calls": e.calls, "currency": "CNY", "per_call": e.per_call, "postpaid": e.postpaid,
        "best": e.best, "postpaid_calls": e.postpaid_calls,
        "packages": [{"size": s, "count": c, "price": p} for s, c, p in e.packages],
    }, masked=False)
    return EXIT["ok"]


def _media_arg(value: Optional[str], ctx: Context) -> tuple[Any, int]:
    if value is None:
        return None, 0
    if value.startswith("@"):
        path = Path(value[1:]).expanduser()
        try:
            size = path.stat().st_size
        except OSError as e:
            raise UsageError(f"cannot read {value[1:]}: {e.__class__.__name__}") from None
        return path, size
    if value == "-":
        data = ctx.stdin.buffer.read() if hasattr(ctx.stdin, "buffer") else ctx.stdin.read().encode()
        return data, len(data)
    return value, len(value)


def cmd_check(ctx: Context) -> int:
    a = ctx.args
    video, vsize = _media_arg(a.video, ctx)
    image, isize = _media_arg(a.image, ctx)
    inputs = {
        "id_card": _identity(ctx, a.id_card), "name": _identity(ctx, a.name), "phone": _identity(ctx, a.phone),
        "bank_card": _identity(ctx, a.bank_card), "validity_begin": a.validity_begin,
        "validity_end": a.validity_end, "liveness_type": a.liveness_type, "validate_data": a.validate_data,
        "video": video, "video_url": a.video_url, "image": image, "image_url": a.image_url,
        "best_frame_num": a.best_frame_num, "verify_mode": 1 if a.detailed else None, "route": a.route,
        "extra": a.extra,
    }
    inputs = {k: v for k, v in inputs.items() if v is not None}
    size = vsize + isize
    with ctx.client() as client:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with ctx.progress(f"{a.action}: sending {size} bytes of media" if size else a.action, size >= _LARGE):
                r = client._check(a.action, None, None, **inputs)
        for w in caught:
            ctx.stderr.write(f"warning: {w.message}\n")
    view: dict[str, Any] = {
        "action": r.action, "status": r.status, "matched": r.matched, "result": r.result, "billed": r.billed,
        "meaning": r.meaning, "sim": r.sim, "sim_threshold": r.sim_threshold, "request_id": r.request_id,
    }
    if a.response:
        view["response"] = r.response
    ctx.out.show(view)
    return EXIT["ok"] if r.status in ("matched", "answered") else EXIT["failed"]


COMMANDS: dict[str, Callable[[Context], int]] = {
    "call": cmd_call, "sign": cmd_sign, "detect": cmd_detect, "eid": cmd_eid, "decrypt-eid": cmd_decrypt_eid,
    "emulator": cmd_emulator, "validate": cmd_validate, "estimate": cmd_estimate, "check": cmd_check,
}


# ------------------------------------------------------------------------------------------------
# errors -> exit codes
# ------------------------------------------------------------------------------------------------

def exit_code_of(e: BaseException) -> int:
    """The exit code of a tcfaceid exception (docs/cli.md)."""
    import tcfaceid

    if isinstance(e, tcfaceid.AmbiguousError):
        return EXIT["ambiguous"]
    if isinstance(e, (tcfaceid.ThrottledError, tcfaceid.RateLimitedError)):
        return EXIT["throttled"]
    if isinstance(e, (tcfaceid.AuthError, tcfaceid.CredentialsError)):
        return EXIT["auth"]
    if isinstance(e, tcfaceid.ServiceError):  # InvalidParameterError, TokenExpiredError included
        return EXIT["api"]
    if isinstance(e, tcfaceid.TransportError):  # TimeoutError, TLSError, HTTPError included
        return EXIT["transport"]
    if isinstance(e, tcfaceid.JSONError):
        # a response that is not JSON (a proxy's page) is the transport's; params that are not a
        # JSON object are the caller's
        return EXIT["transport"] if getattr(e, "http_status", None) else EXIT["usage"]
    if isinstance(e, tcfaceid.InvalidArgumentError):
        return EXIT["usage"]
    return EXIT["other"]


def _report(ctx: Optional[Context], e: BaseException, stderr: TextIO) -> None:
    code = getattr(e, "code", None)
    message = getattr(e, "message", None) or str(e)
    request_id = getattr(e, "request_id", None)
    line = f"error: {type(e).__name__}"
    if code:
        line += f" [{code}]"
    line += f": {message}"
    if request_id:
        line += f" (RequestId {request_id})"
    retry_at = getattr(e, "retry_at", None)
    if retry_at:
        line += f"; retry after {time.strftime('%Y-%m-%d %H:%M:%S %Z', time.localtime(retry_at))}"
    stderr.write(line + "\n")
    stderr.flush()
    if ctx is not None and ctx.out.fmt == "json":
        ctx.out.show({"error": {"class": type(e).__name__, "code": code, "message": message,
                                "request_id": request_id, "retryable": getattr(e, "retryable", None),
                                "retry_at": retry_at}}, masked=False)


def main(argv: Optional[Sequence[str]] = None, *, stdin: Optional[TextIO] = None, stdout: Optional[TextIO] = None,
         stderr: Optional[TextIO] = None) -> int:
    """Run the CLI; returns the exit code (the console script exits with it)."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    parser = build_parser()
    words = list(sys.argv[1:] if argv is None else argv)
    rest: list[str] = []
    if "emulator" in words:  # everything after it is the emulator's own command line
        i = words.index("emulator")
        words, rest = words[:i + 1], words[i + 1:]
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(stdout):
            args = parser.parse_args(words)
    except SystemExit as e:  # argparse: --help (0) or a usage error (2)
        return int(e.code or 0) if not isinstance(e.code, str) else EXIT["usage"]

    handler: Optional[logging.Handler] = None
    log = logging.getLogger("tcfaceid")
    level = log.level
    if getattr(args, "verbose", None):
        handler = logging.StreamHandler(stderr)
        handler.setLevel(logging.INFO)
        handler.setFormatter(logging.Formatter("tcfaceid: %(levelname)s %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
    if args.command == "emulator":
        args.args = rest
    ctx: Optional[Context] = None
    try:
        ctx = Context(args, stdin, stdout, stderr)
        return COMMANDS[args.command](ctx)
    except UsageError as e:
        stderr.write(f"tcfaceid: error: {e}\n")
        return EXIT["usage"]
    except KeyboardInterrupt:
        stderr.write("interrupted\n")
        return 130
    except Exception as e:  # noqa: BLE001 - every error becomes a line and an exit code
        import tcfaceid

        if isinstance(e, tcfaceid.Error):
            _report(ctx, e, stderr)
            return exit_code_of(e)
        if isinstance(e, (TypeError, ValueError)):
            stderr.write(f"tcfaceid: error: {e}\n")
            return EXIT["usage"]
        stderr.write(f"tcfaceid: error: {type(e).__name__}: {e}\n")
        return EXIT["other"]
    finally:
        if handler is not None:
            log.removeHandler(handler)
            log.setLevel(level)


if __name__ == "__main__":
    sys.exit(main())
