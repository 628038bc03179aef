"""Shared fixtures: a fresh emulator per test and a signing client for it."""

from __future__ import annotations

import pytest
from emuclient import Api

from tcfaceid.emulator import Config, Emulator


@pytest.fixture
def emu():
    with Emulator(Config(port=0)) as e:
        yield e


@pytest.fixture
def client(emu: Emulator):
    c = Api(emu.endpoint, clock=emu.now)
    yield c
    c.close()


def code(resp: dict) -> str:
    """The Error.Code of a Response, or "" for a success."""
    return resp.get("Error", {}).get("Code", "")


# ------------------------------------------------------------------------------------------------
# Redaction across the whole run: every record of the "tcfaceid" logger (the C core's log lines
# come through it) is checked against the secrets and the identity data the tests use.

import logging  # noqa: E402

from tcfaceid.emulator import DEFAULT_SECRET_KEY  # noqa: E402
from tcfaceid.emulator.identity import DEFAULT_PEOPLE  # noqa: E402


def _forbidden() -> list[str]:
    values = [DEFAULT_SECRET_KEY]
    for person in DEFAULT_PEOPLE:
        for key in ("name", "id_card", "phone", "bank_card"):
            value = person.get(key) if isinstance(person, dict) else getattr(person, key, None)
            if isinstance(value, str) and len(value) >= 2:
                values.append(value)
    return values


class _Scan(logging.Handler):
    """Checks each record as it comes (keeping only the leaks: a run makes tens of thousands of
    calls, and storing every line would look like a memory leak to the tests that measure)."""

    def __init__(self, forbidden: list[str]) -> None:
        super().__init__(level=logging.DEBUG)
        self.forbidden = forbidden
        self.seen = 0
        self.leaks: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen += 1
        try:
            line = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is itself a finding
            line = repr(record.msg)
        for value in self.forbidden:
            if value in line and len(self.leaks) < 10:
                self.leaks.append((value, line))


@pytest.fixture(scope="session", autouse=True)
def _no_secret_or_identity_in_any_log_line():
    """Every line the C core logs (all levels: the bridge into logging is wrapped, so the logger's
    level and pytest's own capture are left as they are) and every record of the "tcfaceid"
    logger that is emitted."""
    import tcfaceid.client as front

    handler = _Scan(_forbidden())
    logger = logging.getLogger("tcfaceid")
    logger.addHandler(handler)
    original = front._log_bridge

    def scanning_bridge(level: int, line: str) -> None:
        handler.seen += 1
        for value in handler.forbidden:
            if value in line and len(handler.leaks) < 10:
                handler.leaks.append((value, line))
        original(level, line)

    front._log_bridge = scanning_bridge
    yield
    front._log_bridge = original
    logger.removeHandler(handler)
    assert not handler.leaks, f"log lines of the run contain secrets or identity data: {handler.leaks[:3]}"


# ------------------------------------------------------------------------------------------------
# Redaction of exception texts across the whole run: every tcfaceid.Error created while the tests
# run -- raised by the C core (raise_tcf calls the class with its one-line text), by the binding or
# by the Python front -- goes through Error.__init__ (a C function bound in the class dict), which is
# wrapped here; str(), repr() and the keyword attributes of each new instance are checked.

class _ExceptionScan:
    def __init__(self, forbidden: list[str]) -> None:
        self.forbidden = forbidden
        self.seen = 0
        self.leaks: list[tuple[str, str]] = []

    def check(self, exc: BaseException, kwargs: dict) -> None:
        self.seen += 1
        try:
            texts = [str(exc), repr(exc), *(str(v) for v in kwargs.values())]
        except Exception as e:  # noqa: BLE001 - an exception that cannot be shown is itself a finding
            texts = [f"<unprintable {type(exc).__name__}: {e!r}>"]
        for value in self.forbidden:
            for text in texts:
                if value in text and len(self.leaks) < 10:
                    self.leaks.append((value, text))


@pytest.fixture(scope="session")
def _exception_scan():
    import tcfaceid._core as core

    scan = _ExceptionScan(_forbidden())
    original = core.Error.__dict__["__init__"]

    def scanning_init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        scan.check(self, kwargs)

    core.Error.__init__ = scanning_init
    try:
        yield scan
    finally:
        core.Error.__init__ = original


@pytest.fixture(scope="session", autouse=True)
def _no_secret_or_identity_in_any_exception_text(_exception_scan):
    yield
    assert not _exception_scan.leaks, (
        f"exception texts of the run contain secrets or identity data: {_exception_scan.leaks[:3]}")
