"""Sessions, verdicts and E-ID identity decryption over the C core (docs/flows.md; docs/c-api.md
"Verdicts", "DetectAuth parameters and sessions", "E-ID"). The decisions are made in C; this
module only converts values."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, TypeVar, Union

from . import _core

__all__ = ["Attempt", "Verdict", "Session", "EidSession", "decrypt_eid_info", "parse_redirect"]


def parse_redirect(url: str) -> str:
    """The BizToken / EidToken the verification page appended to your ``RedirectUrl``: the
    ``token`` query parameter of ``url`` (a full URL, a path with a query, or a bare query),
    percent-decoded.

    The token only says which session to look at. It is not signed — anyone can call your
    landing URL with any token — so never take a verdict from the landing: look the session up
    and fetch the result server-side (``Client.detect_result`` / ``Client.eid_result``).
    Raises InvalidArgumentError when the token is missing, given twice with different values,
    longer than 128 characters or has characters outside ``A-Z a-z 0-9 . _ ~ -``."""
    result: str = _core.parse_redirect(url)
    return result


def _mask(token: str) -> str:
    return token[:8] + "…" if len(token) > 8 else "…"


_S = TypeVar("_S", bound="_Stored")


class _Stored:
    """What SaaS and E-ID sessions share: the canonical JSON made by the C core, the lifetime
    checks, loading by kind. Subclasses are frozen dataclasses whose first two fields are the
    token and its owner (RuleId / MerchantId)."""

    _KIND = ""
    _OTHER = ""
    _json: str
    expires_at: int

    @classmethod
    def _from_tuple(cls: type[_S], t: tuple[Any, ...]) -> _S:
        kind, token, owner, url, extra, created, expires, until, text = t
        if kind != cls._KIND:
            raise _core.JSONError(f"this is not a {cls.__name__}: load it with {cls._OTHER}.from_json")
        return cls(token, owner, url, extra, created, expires, until, text)  # type: ignore[call-arg]

    @classmethod
    def from_json(cls: type[_S], text: Union[str, bytes]) -> _S:
        """The inverse of :meth:`to_json`; JSONError for anything else (or the other kind)."""
        return cls._from_tuple(_core.session_load(text))

    def to_json(self) -> str:
        """The session as JSON text, to store it (the C core's canonical form)."""
        return self._json

    def can_start(self, now: Optional[float] = None) -> bool:
        """Whether the user can still start the verification (``now <= expires_at``; ``now``
        defaults to the system time)."""
        return (time.time() if now is None else now) <= self.expires_at


@dataclass(frozen=True, repr=False)
class Session(_Stored):
    """A DetectAuth BizToken and what is needed afterwards. Store it with :meth:`to_json` and
    load it in any process with :meth:`from_json`. Times are Unix seconds: the user must start
    the verification by ``expires_at`` (+7,200 s) and the results can be fetched until
    ``results_until`` (+3 days)."""

    _KIND = "saas"
    _OTHER = "EidSession"

    biz_token: str
    rule_id: str
    url: Optional[str]
    extra: Optional[str]
    created_at: int
    expires_at: int
    results_until: int
    _json: str = field(default="", compare=False)

    def __repr__(self) -> str:
        return (f"Session(biz_token={_mask(self.biz_token)!r}, rule_id={self.rule_id!r}, "
                f"expires_at={self.expires_at}, results_until={self.results_until})")


@dataclass(frozen=True, repr=False)
class EidSession(_Stored):
    """A GetEidToken EidToken and what is needed afterwards: the token lives ``expires_at``
    (+600 s; the ``url`` can be opened once, within 10 minutes), the results until
    ``results_until`` (+3 days). :meth:`to_json` / :meth:`from_json` as for :class:`Session`."""

    _KIND = "eid"
    _OTHER = "Session"

    eid_token: str
    merchant_id: str
    url: Optional[str]
    extra: Optional[str]
    created_at: int
    expires_at: int
    results_until: int
    _json: str = field(default="", compare=False)

    def __repr__(self) -> str:
        return (f"EidSession(eid_token={_mask(self.eid_token)!r}, merchant_id={self.merchant_id!r}, "
                f"expires_at={self.expires_at}, results_until={self.results_until})")


_STATUS = {1: "PASSED", 2: "FAILED", 3: "PENDING", 4: "EXPIRED"}


def decrypt_eid_info(eid_info: Optional[Mapping[str, Any]], sm2_private_key_pem: Union[str, bytes]) -> dict[str, Any]:
    """Decrypt GetEidResult's ``EidInfo`` (its ``DesKey`` and ``UserInfo``) with the merchant's
    SM2 private key (PEM). Returns ``{"name": ..., "idtype": ..., "idnum": ...}``.

    Raises StateError when ``DesKey``/``UserInfo`` are empty (identity return not enabled for the
    merchant, or the flow did not complete), InvalidArgumentError for a PEM that is not an SM2
    private key, CryptoError for the wrong key or modified ciphertext."""
    if eid_info is None:  # GetEidResult gives EidInfo null unless InfoType is 0
        eid_info = {}
    text = _core.eid_decrypt(eid_info.get("DesKey") or "", eid_info.get("UserInfo") or "", sm2_private_key_pem)
    result: dict[str, Any] = json.loads(text)
    return result


@dataclass(frozen=True)
class Attempt:
    """One ``Text.LivenessDetail`` item (a liveness + comparison attempt); None: null or missing."""

    errcode: Optional[int]
    livestatus: Optional[int]
    comparestatus: Optional[int]
    sim: Optional[float]
    req_time_ms: Optional[int]
    is_need_charge: Optional[bool]


@dataclass(frozen=True, repr=False)
class Verdict:
    """Pass / fail / pending of a GetDetectInfoEnhanced or GetEidResult result, decided by the C
    core on codes only. ``status``: "PASSED", "FAILED", "PENDING" or "EXPIRED"; ``code``:
    ``Text.ErrCode``; ``billed``: True, False or None (unknown); ``text``: the result's ``Text``
    (identity data: its repr is never shown)."""

    status: str
    code: Optional[int]
    billed: Optional[bool]
    intention_code: Optional[int]
    reason: str
    attempts: tuple[Attempt, ...]
    text: Optional[dict[str, Any]]
    #: the Response objects of every call merged (None when no call was made)
    response: Optional[dict[str, Any]] = None
    #: result parts whose call failed ("best_frame": the exception); the verdict stands
    part_errors: dict[str, Exception] = field(default_factory=dict)
    #: the InfoType digit of an intention result the verdict needs but did not get
    missing_part: Optional[str] = None
    #: ErrCode 2018 (the identity's daily limit): the next 00:00 Asia/Shanghai, Unix seconds
    retry_at: Optional[int] = None

    @classmethod
    def from_response(cls, response: Union[Mapping[str, Any], bytes, bytearray, memoryview]) -> "Verdict":
        """From the ``Response`` object, as a dict (what ``Client.call`` returns) or JSON bytes."""
        if isinstance(response, Mapping):
            raw: Union[bytes, bytearray, memoryview] = json.dumps(response, ensure_ascii=False).encode("utf-8")
            status, code, billed, intention_code, reason, attempts, missing = _core.verdict(raw)
            resp = dict(response)
        else:
            status, code, billed, intention_code, reason, attempts, missing = _core.verdict(response)
            resp = json.loads(response if isinstance(response, str) else bytes(response))
        text = resp.get("Text")
        return cls(
            status=_STATUS.get(status, "PENDING"),
            code=code,
            billed=None if billed < 0 else bool(billed),
            intention_code=intention_code,
            reason=reason,
            attempts=tuple(Attempt(*a) for a in attempts),
            text=text if isinstance(text, dict) else None,
            response=resp,
            missing_part=missing,
        )

    @classmethod
    def expired(cls, reason: str, response: Optional[dict[str, Any]] = None) -> "Verdict":
        """An EXPIRED verdict: the token or its results are gone (no result body to decide on)."""
        return cls(status="EXPIRED", code=None, billed=None, intention_code=None, reason=reason,
                   attempts=(), text=None, response=response)

    @property
    def passed(self) -> bool:
        return self.status == "PASSED"

    @property
    def meaning(self) -> Optional[str]:
        """The documented meaning (English) of what decided the verdict — ``code``, or
        ``intention_code`` when liveness and comparison passed but the intention check did not —
        or None. For people, never for logic."""
        if self.code is None:
            return None
        result: Optional[str]
        kind = (self.response or {}).get("IntentionVerifyType")
        if self.code == 0 and self.intention_code not in (None, 0) and isinstance(kind, str):
            result = _core.errcode_meaning(self.intention_code, kind)
        else:
            result = _core.errcode_meaning(self.code)
        return result

    def __repr__(self) -> str:
        # Never the identity fields of ``text`` (name, ID number): status, code, attempts only.
        return f"Verdict(status={self.status!r}, code={self.code!r}, attempts={len(self.attempts)})"
