"""Verdicts and E-ID identity decryption over the C core (docs/c-api.md, "Verdicts" and "E-ID
identity decryption"). The decisions are made in C; this module only converts values."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Union

from . import _core

__all__ = ["Attempt", "Verdict", "decrypt_eid_info"]

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

    @classmethod
    def from_response(cls, response: Union[Mapping[str, Any], bytes, bytearray, memoryview]) -> "Verdict":
        """From the ``Response`` object, as a dict (what ``Client.call`` returns) or JSON bytes."""
        if isinstance(response, Mapping):
            raw: Union[bytes, bytearray, memoryview] = json.dumps(response, ensure_ascii=False).encode("utf-8")
            status, code, billed, intention_code, reason, attempts = _core.verdict(raw)
            text = response.get("Text")
        else:
            status, code, billed, intention_code, reason, attempts = _core.verdict(response)
            text = json.loads(response if isinstance(response, str) else bytes(response)).get("Text")
        return cls(
            status=_STATUS.get(status, "PENDING"),
            code=code,
            billed=None if billed < 0 else bool(billed),
            intention_code=intention_code,
            reason=reason,
            attempts=tuple(Attempt(*a) for a in attempts),
            text=text if isinstance(text, dict) else None,
        )

    @property
    def passed(self) -> bool:
        return self.status == "PASSED"

    def __repr__(self) -> str:
        # Never the identity fields of ``text`` (name, ID number): status, code, attempts only.
        return f"Verdict(status={self.status!r}, code={self.code!r}, attempts={len(self.attempts)})"
