"""Element checks and PaaS liveness over the C core (docs/checks.md): typed results, validators,
carrier routing and price estimates. Every rule — validation, the body, media encoding, routing,
the outcome tables, prices — is in C (``tcfaceid._core``); this module only converts values."""

from __future__ import annotations

import datetime as _dt
import json
import time
import warnings
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Mapping, Optional, Union

from . import _core

__all__ = [
    "CheckResult", "CostEstimate", "PhoneInfo", "RecentRangeWarning", "validate_id_card", "validate_phone",
    "validate_bank_card", "phone_route", "estimate_cost", "check_outcome", "SIM_THRESHOLD", "SIM_V1_FAR_1E3",
    "SIM_V1_FAR_1E4", "VIDEO_BASE64_MAX", "IMAGE_BASE64_MAX",
]

#: the fixed similarity threshold of LivenessRecognition, LivenessCompare, ImageRecognitionV2
SIM_THRESHOLD: float = _core.SIM_THRESHOLD
#: ImageRecognition (V1): about 1 false accept in 1,000
SIM_V1_FAR_1E3: float = _core.SIM_V1_FAR_1E3
#: ImageRecognition (V1): about 1 false accept in 10,000
SIM_V1_FAR_1E4: float = _core.SIM_V1_FAR_1E4
#: VideoBase64 limit (bytes of base64 text; about 6 MiB of video)
VIDEO_BASE64_MAX: int = _core.VIDEO_BASE64_MAX
#: ImageBase64 limit (bytes of base64 text) of LivenessCompare, ImageRecognitionV2, IdCardOCRVerification
IMAGE_BASE64_MAX: int = _core.IMAGE_BASE64_MAX

Response = Union[Mapping[str, Any], bytes, bytearray, memoryview, str]


class RecentRangeWarning(UserWarning):
    """A phone number of a recently opened range (190-197): newly registered numbers need 3-10
    working days before the carriers' checks know them, and not every check covers these ranges
    yet. Raised through :func:`warnings.warn` before any request is sent."""


_RECENT_TEXT = ("the phone number is in a recently opened range (19x): the carriers' checks may not "
                "know newly registered numbers for 3-10 working days")


def _warn_recent(phone: object, stacklevel: int) -> None:
    if isinstance(phone, str) and _core.phone_recent_range(phone) == 1:
        warnings.warn(_RECENT_TEXT, RecentRangeWarning, stacklevel=stacklevel + 1)


@dataclass(frozen=True, repr=False)
class CheckResult:
    """The typed outcome of one element check or PaaS call, decided in C from the ``Result`` code.

    ``action``: the action actually sent (``phone_verify(route="auto")`` may pick a carrier's);
    ``status``: "matched", "mismatched", "answered", "not_found", "invalid_input", "card_problem",
    "unsupported", "service_unavailable", "daily_limit", "liveness_failed", "media_problem" or
    "unknown"; ``matched``: True / False, None when the check does not say (lookups, failures);
    ``result``: the ``Result`` string as received; ``billed``: True / False from the action's
    billing table, None when not documented; ``meaning``: the documented meaning (for people, not
    for logic); ``sim`` / ``sim_threshold``: PaaS similarity and its threshold (None elsewhere);
    ``response``: the whole ``Response`` object (its extra fields: Isp, ResultDetail, StatusCode,
    Range, AccountBank, BestFrameBase64, …). The repr never shows the response (identity data)."""

    action: str
    status: str
    matched: Optional[bool]
    result: str
    billed: Optional[bool]
    meaning: str
    sim: Optional[float]
    sim_threshold: Optional[float]
    request_id: Optional[str]
    response: dict[str, Any]

    @classmethod
    def _from_core(cls, t: tuple[Any, ...]) -> "CheckResult":
        action, status, result, billed, matched, meaning, sim, threshold, response_json, request_id = t
        response = json.loads(response_json)
        if isinstance(response, dict) and isinstance(response.get("Response"), dict) and len(response) == 1:
            response = response["Response"]  # a recorded {"Response": ...} envelope
        return cls(action=action, status=status, matched=matched, result=result, billed=billed, meaning=meaning,
                   sim=sim, sim_threshold=threshold, request_id=request_id,
                   response=response if isinstance(response, dict) else {})

    @property
    def passed(self) -> bool:
        """``status == "matched"``."""
        return self.status == "matched"

    def __repr__(self) -> str:
        # Never the response (IdCardOCRVerification answers carry Name and IdCard).
        return (f"CheckResult(action={self.action!r}, status={self.status!r}, result={self.result!r}, "
                f"billed={self.billed!r}, sim={self.sim!r})")


@dataclass(frozen=True)
class PhoneInfo:
    """What :func:`validate_phone` knows of a number: its carrier from the documented ranges
    ("CMCC", "CUCC", "CTCC", or None for an unknown range) and whether the range is recent."""

    carrier: Optional[str]
    recent_range: bool


@dataclass(frozen=True)
class CostEstimate:
    """The documented price of a batch (CNY as :class:`~decimal.Decimal`). ``postpaid``: every
    call at ``per_call``; ``best``: the cheapest documented way — ``packages`` (``(size, count,
    price)`` each, largest first; packages are valid one year) plus ``postpaid_calls`` calls at
    the postpaid price."""

    action: str
    calls: int
    per_call: Decimal
    postpaid: Decimal
    best: Decimal
    packages: tuple[tuple[int, int, Decimal], ...]
    postpaid_calls: int


def _cny(fen: int) -> Decimal:
    return Decimal(fen) / 100


def _unix(today: Union[None, int, float, _dt.date]) -> int:
    if today is None:
        return int(time.time())
    if isinstance(today, _dt.datetime):
        return int(today.timestamp())
    if isinstance(today, _dt.date):  # noon in China Standard Time: that day there
        return int(_dt.datetime(today.year, today.month, today.day, 4, tzinfo=_dt.timezone.utc).timestamp())
    if isinstance(today, bool) or not isinstance(today, (int, float)):
        raise TypeError(f"today must be None, Unix seconds or a date, not {type(today).__name__}")
    return int(today)


def validate_id_card(id_card: str, today: Union[None, int, float, _dt.date] = None) -> str:
    """The ID number as the helpers send it (a trailing x becomes X) after the core's checks:
    18 characters, province code, a real birth date not after ``today`` (default: now; ``0``
    skips that check), GB 11643 check character; HK/Macao/Taiwan residence permits (81/82/83)
    included; the 15-digit legacy format is refused. Raises InvalidArgumentError (the message
    names the rule, never the value)."""
    result: str = _core.validate_id_card(id_card, _unix(today))
    return result


def validate_phone(phone: str) -> PhoneInfo:
    """Check a mainland mobile number (11 digits starting with 1; InvalidArgumentError
    otherwise) and return its carrier and whether its range is recent — then a
    :class:`RecentRangeWarning` is issued (``warnings.warn``)."""
    _core.check_phone(phone)
    info = PhoneInfo(carrier=_core.phone_carrier(phone), recent_range=_core.phone_recent_range(phone) == 1)
    if info.recent_range:
        warnings.warn(_RECENT_TEXT, RecentRangeWarning, stacklevel=2)
    return info


def validate_bank_card(card: str) -> str:
    """Check a bank card number (12-19 digits, Luhn check digit) and return it. Raises
    InvalidArgumentError."""
    _core.check_bank_card(card)
    return card


def phone_route(phone: str, detailed: bool = False) -> str:
    """The action ``phone_verify(route="auto")`` sends for ``phone``: the carrier's own check
    (PhoneVerificationCTCC / CUCC …) where it is cheaper than PhoneVerification, else
    "PhoneVerification" (always for ``detailed``, whose ResultDetail only it gives)."""
    action: str = _core.phone_route(phone, 1 if detailed else -1)
    return action


def estimate_cost(action: str, calls: int, detailed: bool = False) -> CostEstimate:
    """What ``calls`` calls of ``action`` cost at the documented prices (faq-facts.md "Prices
    for identity-element checks"); ``detailed``: PhoneVerification's detailed mode (VerifyMode 1).
    InvalidArgumentError for an action without a documented price."""
    n, per_call, postpaid, best, packages, postpaid_calls = _core.estimate_cost(action, calls, 1 if detailed else -1)
    return CostEstimate(action=action, calls=n, per_call=_cny(per_call), postpaid=_cny(postpaid), best=_cny(best),
                        packages=tuple((size, count, _cny(price)) for size, count, price in packages),
                        postpaid_calls=postpaid_calls)


def check_outcome(action: str, response: Response) -> CheckResult:
    """The :class:`CheckResult` of a recorded response of ``action``: the ``Response`` object or
    the whole ``{"Response": ...}`` envelope, as a dict or JSON text. A PaaS business result that
    arrived as ``Response.Error`` becomes a result too; other API errors are raised."""
    if isinstance(response, Mapping):
        raw: Union[bytes, bytearray, memoryview, str] = json.dumps(
            response, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    else:
        raw = response
    return CheckResult._from_core(_core.check_outcome(action, raw))
