"""The emulated service, without any HTTP: state, clock, limits, faults, statistics
and the dispatch from an action name to its handler.

Handlers live in ``saas``, ``eid``, ``paas`` and ``element``; each registers
itself with :func:`action`. A handler receives the :class:`Service`, a
:class:`Call` (account, time, base URL) and the request parameters (already
checked against the action's schema) and returns the ``Response`` fields; it
raises :class:`ApiError` for an error envelope.
"""

from __future__ import annotations

import collections
import json
import threading
import time
import uuid
from dataclasses import dataclass
from importlib import resources
from typing import Any, Callable, Optional

from . import encryption, gm
from .auth import Credential
from .config import Config, Merchant, Rule
from .errors import ApiError
from .identity import Registry, digest

API_VERSION = "2018-03-01"
SHANGHAI_OFFSET = 8 * 3600  # Asia/Shanghai has no daylight saving time
DAY = 86400

_DATA = json.loads(resources.files(__package__).joinpath("api_data.json").read_text(encoding="utf-8"))
ACTIONS: dict[str, dict[str, Any]] = _DATA["actions"]
SCHEMAS: dict[str, list[dict[str, str]]] = _DATA["schemas"]
ELEMENT_RESULTS: dict[str, dict[str, list[Any]]] = _DATA["element_result_codes"]
SAAS_CODES: dict[str, list[Any]] = _DATA["saas_errcodes"]
ERROR_MESSAGES: dict[str, str] = _DATA["api_error_codes"]

Handler = Callable[["Service", "Call", dict[str, Any]], dict[str, Any]]
HANDLERS: dict[str, Handler] = {}


def action(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        if name not in ACTIONS:
            raise KeyError(f"{name} is not a FaceID action")
        HANDLERS[name] = fn
        return fn

    return register


@dataclass(frozen=True)
class Call:
    """What a handler knows about the request it serves."""

    action: str
    account: str
    now: int
    base_url: str


FAULT_KINDS = ("latency", "http_5xx", "reset", "truncated", "not_json", "throttle", "internal_error")


@dataclass
class Fault:
    kind: str
    count: int = 1
    actions: Optional[frozenset[str]] = None  # None: any action
    phase: str = "before"  # "before": the action is not executed; "after": it is, then the fault
    seconds: float = 1.0  # latency
    status: int = 503  # http_5xx / not_json
    code: Optional[str] = None  # throttle / internal_error

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> "Fault":
        if not isinstance(spec, dict):
            raise ValueError("a fault is a JSON object")
        kind = spec.get("kind")
        if kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(FAULT_KINDS)}")
        unknown = set(spec) - {"kind", "count", "action", "actions", "phase", "seconds", "status", "code"}
        if unknown:
            raise ValueError(f"unknown fault fields: {', '.join(sorted(unknown))}")
        fault = cls(kind=kind)
        count = spec.get("count", 1)
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 1_000_000:
            raise ValueError("count must be an integer from 1 to 1000000")
        fault.count = count
        names = spec.get("actions", spec.get("action"))
        if names is not None:
            names = [names] if isinstance(names, str) else names
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise ValueError("action(s) must be a name or a list of names")
            fault.actions = frozenset(names)
        phase = spec.get("phase", "after" if kind == "truncated" else "before")
        if phase not in ("before", "after") or (kind == "truncated" and phase != "after"):
            raise ValueError("phase must be before or after (truncated: after)")
        fault.phase = phase
        seconds = spec.get("seconds", 1.0)
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not 0 <= seconds <= 600:
            raise ValueError("seconds must be a number from 0 to 600")
        fault.seconds = float(seconds)
        status = spec.get("status", 503 if kind == "http_5xx" else 200)
        if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
            raise ValueError("status must be an HTTP status code")
        if kind == "http_5xx" and not 500 <= status <= 599:
            raise ValueError("http_5xx needs a 5xx status")
        fault.status = status
        code = spec.get("code")
        if code is not None and not isinstance(code, str):
            raise ValueError("code must be a string")
        fault.code = code
        return fault

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "count": self.count,
            "actions": sorted(self.actions) if self.actions is not None else None,
            "phase": self.phase,
            "seconds": self.seconds,
            "status": self.status,
            "code": self.code,
        }


class Service:
    """All of the emulator's state. Thread-safe: every entry point takes the lock."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.lock = threading.RLock()
        self.credentials: dict[str, Credential] = {c.secret_id: c for c in config.credentials}
        self.rules: dict[str, Rule] = {r.rule_id: r for r in config.rules}
        self.merchants: dict[str, Merchant] = {m.merchant_id: m for m in config.merchants}
        self.merchant_keys: dict[str, Optional[tuple[int, int]]] = {
            m.merchant_id: _merchant_public_key(m) for m in config.merchants
        }
        self.eid_sign_key = uuid.uuid4().bytes
        self.encryption_keys = encryption.Keys.from_pems(
            config.encryption_rsa_private_key_pem, config.encryption_sm2_private_key_pem
        )
        self.reset()

    # -- state -----------------------------------------------------------------
    def reset(self) -> None:
        with self.lock:
            self.clock_offset = 0.0
            self.registry = Registry(self.config.identities)
            self.sessions: dict[str, Any] = {}  # BizToken -> saas.Session
            self.eid_sessions: dict[str, Any] = {}  # EidToken -> eid.Session
            self.identity_events: dict[tuple[str, ...], collections.deque[float]] = {}
            self.qps_windows: dict[tuple[str, str], collections.deque[float]] = {}
            self.faults: list[Fault] = []
            self.received: collections.Counter[str] = collections.Counter()
            self.errors: collections.Counter[str] = collections.Counter()
            self.billed: collections.Counter[str] = collections.Counter()
            self.faults_applied: collections.Counter[str] = collections.Counter()

    def now(self) -> float:
        return time.time() + self.clock_offset

    def set_clock(self, *, advance: Optional[float] = None, set_to: Optional[float] = None) -> float:
        with self.lock:
            if set_to is not None:
                self.clock_offset = float(set_to) - time.time()
            if advance is not None:
                self.clock_offset += float(advance)
            return self.now()

    # -- faults ----------------------------------------------------------------
    def add_fault(self, spec: dict[str, Any]) -> Fault:
        fault = Fault.from_spec(spec)
        with self.lock:
            self.faults.append(fault)
        return fault

    def take_fault(self, action_name: str) -> Optional[Fault]:
        with self.lock:
            for fault in self.faults:
                if fault.actions is None or action_name in fault.actions:
                    fault.count -= 1
                    if fault.count == 0:
                        self.faults.remove(fault)
                    self.faults_applied[fault.kind] += 1
                    return fault
        return None

    # -- statistics --------------------------------------------------------------
    def count_received(self, action_name: str) -> None:
        with self.lock:
            self.received[action_name or "(none)"] += 1

    def count_error(self, code: str) -> None:
        with self.lock:
            self.errors[code] += 1

    def count_billed(self, action_name: str) -> None:
        with self.lock:
            self.billed[action_name] += 1

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "now": int(self.now()),
                "total": sum(self.received.values()),
                "received": dict(self.received),
                "errors": dict(self.errors),
                "billed": dict(self.billed),
                "faults_applied": dict(self.faults_applied),
                "faults_pending": [f.to_dict() for f in self.faults],
                "sessions": len(self.sessions),
                "eid_sessions": len(self.eid_sessions),
            }

    # -- limits ------------------------------------------------------------------
    def check_qps(self, account: str, action_name: str) -> None:
        """The per-action QPS limit of the account (wall clock, one-second window)."""
        if not self.config.qps_enabled:
            return
        limit = self.config.qps.get(action_name, ACTIONS[action_name].get("qps") or 100)
        if limit <= 0:
            return
        t = time.monotonic()
        with self.lock:
            window = self.qps_windows.setdefault((account, action_name), collections.deque())
            while window and window[0] <= t - 1.0:
                window.popleft()
            if len(window) >= limit:
                raise ApiError("RequestLimitExceeded", "请求的次数超过了频率限制。")
            window.append(t)

    def over_identity_limit(self, scope: str, account: str, value: str, *, per_minute: int = 0, per_day: int = 0) -> bool:
        """Count one use of ``value`` in ``scope``; True (and not counted) when a limit is already reached.

        Days are calendar days in Asia/Shanghai on the emulator clock."""
        now = self.now()
        key = (scope, account, digest(value))
        with self.lock:
            events = self.identity_events.setdefault(key, collections.deque())
            day_start = (now + SHANGHAI_OFFSET) // DAY * DAY - SHANGHAI_OFFSET
            while events and events[0] < day_start:
                events.popleft()
            if per_day and len(events) >= per_day:
                return True
            if per_minute and sum(1 for t in events if t > now - 60) >= per_minute:
                return True
            events.append(now)
            return False

    # -- control -----------------------------------------------------------------
    def complete(self, token: str, scenario: str, options: Optional[dict[str, Any]] = None) -> dict[str, Any]:
        """Finish a SaaS or E-ID session as the person on the page would."""
        from . import eid, saas

        with self.lock:
            if token in self.sessions:
                return saas.complete(self, self.sessions[token], scenario, options or {})
            if token in self.eid_sessions:
                return eid.complete(self, self.eid_sessions[token], scenario, options or {})
        raise LookupError("no such BizToken or EidToken")

    def rule_for(self, rule_id: str, account: str) -> Rule:
        rule = self.rules.get(rule_id)
        if rule is None or rule.account != account:
            raise ApiError("InvalidParameterValue.RuleIdNotExist", "RuleId不存在，请到人脸核身控制台申请。")
        return rule


def _merchant_public_key(m: Merchant) -> Optional[tuple[int, int]]:
    if m.sm2_public_key_pem:
        return gm.sm2_public_key_from_pem(m.sm2_public_key_pem)
    if m.sm2_private_key_pem:
        return gm.sm2_public_key(gm.sm2_private_key_from_pem(m.sm2_private_key_pem))
    return None


def new_token() -> str:
    return str(uuid.uuid4()).upper()


def error_message(code: str) -> str:
    return ERROR_MESSAGES.get(code, code)
