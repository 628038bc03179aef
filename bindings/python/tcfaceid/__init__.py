"""tcfaceid: a client for Tencent Cloud FaceID (人脸核身, API 2018-03-01).

A C core signs, builds, parses and sends requests; this package puts it under a Python API::

    import tcfaceid
    with tcfaceid.Client(endpoint="http://127.0.0.1:8455") as client:   # the bundled emulator
        live_code = client.call("GetLiveCode")["LiveCode"]
        result = client.id_card_verify(id_card="...", name="...")        # a tcfaceid.CheckResult

    async with tcfaceid.AsyncClient(endpoint="http://127.0.0.1:8455") as client:   # asyncio
        result = await client.id_card_verify(id_card="...", name="...")

Errors are :class:`tcfaceid.Error` subclasses with ``.code``, ``.message``, ``.request_id``,
``.http_status`` and ``.retryable``. The local FaceID emulator is :mod:`tcfaceid.emulator`
(standard library only; importing it does not load the C extension).
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_EXCEPTIONS = (
    "Error", "InvalidArgumentError", "JSONError", "CredentialsError", "AuthError", "ClockSkewError",
    "ThrottledError", "ServiceError", "InvalidParameterError", "TokenExpiredError", "TransportError",
    "TimeoutError", "TLSError", "HTTPError", "CryptoError", "StateError", "AmbiguousError", "RateLimitedError",
)
_FRONT = ("Client", "PreparedRequest", "sign", "parse")
_ASYNC = ("AsyncClient",)
_VALIDATORS = (
    "check_id_card", "normalize_name", "check_phone", "phone_carrier", "check_bank_card",
    "check_redirect_url", "check_validity_date",
)
_FLOWS = ("Verdict", "Attempt", "Session", "EidSession", "decrypt_eid_info", "parse_redirect")
_CHECKS = (
    "CheckResult", "CostEstimate", "PhoneInfo", "RecentRangeWarning", "validate_id_card", "validate_phone",
    "validate_bank_card", "phone_route", "estimate_cost", "check_outcome", "SIM_THRESHOLD", "SIM_V1_FAR_1E3",
    "SIM_V1_FAR_1E4", "VIDEO_BASE64_MAX", "IMAGE_BASE64_MAX",
)

__all__ = [*_FRONT, *_ASYNC, *_VALIDATORS, *_FLOWS, *_CHECKS, *_EXCEPTIONS, "__version__"]


def __getattr__(name: str) -> Any:
    # Loaded on first use, so that ``tcfaceid.emulator`` works without the compiled extension.
    if name in _FRONT:
        from . import client

        value = getattr(client, name)
    elif name in _ASYNC:
        from . import aio

        value = getattr(aio, name)
    elif name in _FLOWS:
        from . import flows

        value = getattr(flows, name)
    elif name in _CHECKS:
        from . import checks

        value = getattr(checks, name)
    elif name in _EXCEPTIONS or name in _VALIDATORS:
        from . import _core

        value = getattr(_core, name)
    else:
        raise AttributeError(f"module 'tcfaceid' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
