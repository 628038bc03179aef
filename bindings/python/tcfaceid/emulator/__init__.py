"""A local emulator of Tencent Cloud FaceID (API 2018-03-01), standard library only.

Run it with ``python -m tcfaceid.emulator`` or in process::

    from tcfaceid.emulator import Emulator
    with Emulator() as emu:
        ...  # point a client at emu.endpoint; drive sessions with emu.complete(token, "pass")

See docs/emulator.md for the behaviour, the configuration and the control API.
"""

from .auth import Credential
from .config import (
    DEFAULT_HOST,
    DEFAULT_MERCHANT_ID,
    DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM,
    DEFAULT_PORT,
    DEFAULT_RULE_IDS,
    DEFAULT_SECRET_ID,
    DEFAULT_SECRET_KEY,
    EMULATOR_RSA_PUBLIC_KEY_PEM,
    EMULATOR_SM2_PUBLIC_KEY_PEM,
    Config,
    Merchant,
    Rule,
)
from .server import Emulator

__all__ = [
    "Config",
    "Credential",
    "DEFAULT_HOST",
    "DEFAULT_MERCHANT_ID",
    "DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM",
    "DEFAULT_PORT",
    "DEFAULT_RULE_IDS",
    "DEFAULT_SECRET_ID",
    "DEFAULT_SECRET_KEY",
    "EMULATOR_RSA_PUBLIC_KEY_PEM",
    "EMULATOR_SM2_PUBLIC_KEY_PEM",
    "Emulator",
    "Merchant",
    "Rule",
]
