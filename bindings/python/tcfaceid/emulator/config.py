"""Emulator configuration: credentials, RuleIds, E-ID merchants, the identity
library, rate limits. Every option has a default, so ``Config()`` runs as is."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional

from .auth import Credential
from .identity import DEFAULT_PEOPLE

# The documentation's example key pair (also used by the signing test vectors).
DEFAULT_SECRET_ID = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"
DEFAULT_SECRET_KEY = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
DEFAULT_RULE_IDS = ("1",)
DEFAULT_MERCHANT_ID = "0NSJ2106071234567890"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8455

# A throwaway SM2 key pair for the default merchant, so that EidInfo can be
# decrypted out of the box. Test use only: it is public.
DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM = """-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqBHM9VAYItBG0wawIBAQQgDX+uMLTAuJx6t9yx
2Wfh1JaqbCqmoyIzLAumElrD5JehRANCAATbkEJAX8hMN/eh7SjZ9CPtNvgjFaaG
AbcBdSG0q0zfEgUT2pOkHqgqrFI4fmLMl0uQbeBOX83jTlGHVk8ATZ2a
-----END PRIVATE KEY-----
"""

# The emulator's own key pairs for field encryption (the Encryption object). The service's
# public keys are replaced by these: a client talking to the emulator must wrap its AES key with
# EMULATOR_RSA_PUBLIC_KEY_PEM and its SM4 key with EMULATOR_SM2_PUBLIC_KEY_PEM. Throwaway test
# keys (RSA-1024 like the service's; SM2 on sm2p256v1): they are public.
EMULATOR_RSA_PRIVATE_KEY_PEM = """-----BEGIN PRIVATE KEY-----
MIICdwIBADANBgkqhkiG9w0BAQEFAASCAmEwggJdAgEAAoGBAMbNgbAIlYFM1IhQ
WEF+ek+woV2UqPmgQhLe8MwL3Yugn069yPksY8IZZJCnqXkKeSCPChDsTewCswFg
+hd1DmTUStVPga/nheG/8ZIvMDkYUa+WtILrBbkJNF/cftTNk1+mcU/dTf82p4rS
Ys9cGfPO3AwkmKEWAnek4SgrI7AzAgMBAAECgYBtBmT6CisbhuwDebR87oTbUS2d
qZplk7rIqJT8AgHUwhi70R73b52h49Uf86Lga5rz/R3zG/S72tsahXmCBcMHF2Fc
XHDySJFg4wTgDtc7rfiZv0b4lJKJylObwRWx8yS3oLH4wjVKKDZvtAwzvyPp/Ocz
vxk2wgREBJpZSgGpiQJBAOUQOF6/wsw8Qdmet1FcVdKXKoRJEkhYPwL+cRW/S3Lz
T+8LvvyHKNkco9SwslsmVw4wZDjN8aj7OsRG66Ux9A0CQQDeLlBX6/eCYpusTZrb
J5HWDGfFCi3raigZVR9xADuIF6PsoqIp65TKGpVugdCuPoditJVSQqmXN2M4YY3X
beU/AkAYhawDOLQ5+RlzmrI1W5U0fkpm7wuuAwR75ZFlqp0BKVsdVDyV/EI7O/2t
/1yYtXoMYtHX4vRECuE3sf/4J2jhAkEApA2gh3sVs/Gprs1SpbWPCnT4flZo16X3
29SttZuNWYzTHlxrzvZDVAPTCNjTxIUpJGngw++zF5PvMGdf+40KswJBAJyCTq6A
dANqGoPIU4jEd7L+tzGseBOsp9PvdBQaC6cZkzEUnJ4ZT9J5KAY707IBecoSM56r
j/nxqTlQtmer4gQ=
-----END PRIVATE KEY-----
"""
EMULATOR_RSA_PUBLIC_KEY_PEM = """-----BEGIN RSA PUBLIC KEY-----
MIGJAoGBAMbNgbAIlYFM1IhQWEF+ek+woV2UqPmgQhLe8MwL3Yugn069yPksY8IZ
ZJCnqXkKeSCPChDsTewCswFg+hd1DmTUStVPga/nheG/8ZIvMDkYUa+WtILrBbkJ
NF/cftTNk1+mcU/dTf82p4rSYs9cGfPO3AwkmKEWAnek4SgrI7AzAgMBAAE=
-----END RSA PUBLIC KEY-----
"""
EMULATOR_SM2_PRIVATE_KEY_PEM = """-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqBHM9VAYItBG0wawIBAQQg6VtjnAN42MFnbDmp
URN2MHLMqVbww+UgXWW9SWfGkYqhRANCAARoZK6d983TZdNJgLqzhPrdH22UOAU0
Amszd/2WriG//tOr2gI4r8PhNRMkvSTQtlR+hdF/5IFYq8quWgt3oaey
-----END PRIVATE KEY-----
"""
EMULATOR_SM2_PUBLIC_KEY_PEM = """-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAEaGSunffN02XTSYC6s4T63R9tlDgF
NAJrM3f9lq4hv/7Tq9oCOK/D4TUTJL0k0LZUfoXRf+SBWKvKrloLd6Gnsg==
-----END PUBLIC KEY-----
"""

# Per-identity limits (faq-facts.md "Rate limits"; faceid-api.md §5), per account.
DEFAULT_LIMITS: dict[str, int] = {
    "saas_id_per_minute": 15,  # SaaS / E-ID: same ID number -> ErrCode 2018
    "saas_id_per_day": 30,
    "idcard_name_per_day": 500,  # IdCardVerification: same name -> -7
    "idcard_id_per_day": 1000,  # IdCardVerification: same ID number -> -7
    "paas_id_per_minute": 15,  # ImageRecognitionV2 / LivenessRecognition -> IdentityAuthLimitExceeded
    "paas_id_per_day": 30,
    "paas_name_per_day": 500,
    "element_per_day": 500,  # other element checks, per identical value -> their daily-limit Result
}


@dataclass
class Rule:
    """A business flow created in the console (RuleId)."""

    rule_id: str
    account: str = "default"
    disabled: bool = False
    ocr: bool = False  # True: the user's ID card is read on the page; IdCard/Name optional
    compare_lib: str = "authoritative"  # or "upload": compare with DetectAuth.ImageBase64 (required)
    max_retries: int = 99  # WeChat H5 default

    @classmethod
    def from_any(cls, value: Any) -> "Rule":
        if isinstance(value, (str, int)):
            return cls(rule_id=str(value))
        return cls(**_checked(cls, value, "rule"))


@dataclass
class Merchant:
    """An E-ID MerchantId, bound to one account. ``sm2_public_key_pem`` None means
    the merchant has not applied for identity return: DesKey and UserInfo are empty."""

    merchant_id: str
    account: str = "default"
    sm2_public_key_pem: Optional[str] = None
    sm2_private_key_pem: Optional[str] = None  # accepted for convenience; the public key is derived

    @classmethod
    def from_any(cls, value: Any) -> "Merchant":
        if isinstance(value, str):
            return cls(merchant_id=value, sm2_private_key_pem=DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM)
        return cls(**_checked(cls, value, "merchant"))


def _checked(cls: type, value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"a {what} must be an object")
    unknown = sorted(set(value) - set(cls.__dataclass_fields__))  # type: ignore[attr-defined]
    if unknown:
        raise ValueError(f"unknown {what} fields: {', '.join(unknown)}")
    return dict(value)


_SIMPLE_TYPES: dict[str, Any] = {
    "host": str,
    "port": int,
    "qps_enabled": bool,
    "qps": dict,
    "limits": dict,
    "public_url": (str, type(None)),
    "tls_cert": (str, type(None)),
    "tls_key": (str, type(None)),
    "video_bytes": int,
    "eid_padding": str,
    "quiet": bool,
    "encryption_rsa_private_key_pem": str,
    "encryption_sm2_private_key_pem": str,
}


@dataclass
class Config:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    credentials: list[Credential] = field(
        default_factory=lambda: [Credential(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY)]
    )
    rules: list[Rule] = field(default_factory=lambda: [Rule(r) for r in DEFAULT_RULE_IDS])
    merchants: list[Merchant] = field(default_factory=lambda: [Merchant.from_any(DEFAULT_MERCHANT_ID)])
    identities: list[dict[str, Any]] = field(default_factory=lambda: [dict(p) for p in DEFAULT_PEOPLE])
    qps_enabled: bool = True
    qps: dict[str, int] = field(default_factory=dict)  # per-action overrides of the documented QPS
    limits: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_LIMITS))
    public_url: Optional[str] = None  # base URL for the verification pages (default: the served URL)
    tls_cert: Optional[str] = None
    tls_key: Optional[str] = None
    video_bytes: int = 64 * 1024  # size of the liveness video returned by GetDetectInfoEnhanced
    eid_padding: str = "zero"  # how UserInfo is padded to 16 bytes before SM4-ECB: zero | pkcs7 | space
    quiet: bool = True  # no per-request access log
    # private keys that unwrap Encryption.CiphertextBlob (RSA: PKCS#8 or PKCS#1 PEM; SM2: PKCS#8 or SEC1)
    encryption_rsa_private_key_pem: str = EMULATOR_RSA_PRIVATE_KEY_PEM
    encryption_sm2_private_key_pem: str = EMULATOR_SM2_PRIVATE_KEY_PEM

    def __post_init__(self) -> None:
        unknown = sorted(set(self.limits) - set(DEFAULT_LIMITS))
        if unknown:
            raise ValueError(f"unknown limits: {', '.join(unknown)}")
        self.limits = {**DEFAULT_LIMITS, **{k: int(v) for k, v in self.limits.items()}}

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> "Config":
        if not isinstance(data, Mapping):
            raise ValueError("the configuration is a JSON object")
        data = dict(data)
        for key in ("credentials", "rules", "merchants", "identities"):
            if key in data and not isinstance(data[key], list):
                raise ValueError(f"{key} must be a list")
        for key, kind in _SIMPLE_TYPES.items():
            value = data.get(key)
            if key in data and (not isinstance(value, kind) or (isinstance(value, bool) and kind is int)):
                raise ValueError(f"{key} has the wrong type")
        if "qps" in data and not all(isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool)
                                     for k, v in data["qps"].items()):
            raise ValueError("qps maps action names to integers")
        cfg = cls()
        if "credentials" in data:
            cfg.credentials = [Credential(**_checked(Credential, c, "credential")) for c in data.pop("credentials")]
        if "rules" in data:
            cfg.rules = [Rule.from_any(r) for r in data.pop("rules")]
        if "merchants" in data:
            cfg.merchants = [Merchant.from_any(m) for m in data.pop("merchants")]
        if "limits" in data:
            cfg.limits = Config(limits=data.pop("limits")).limits
        for key, value in data.items():
            if key not in cls.__dataclass_fields__:  # type: ignore[attr-defined]
                raise ValueError(f"unknown configuration key: {key}")
            setattr(cfg, key, value)
        if cfg.eid_padding not in ("zero", "pkcs7", "space"):
            raise ValueError("eid_padding must be zero, pkcs7 or space")
        if not cfg.credentials:
            raise ValueError("at least one credential is needed")
        return cfg

    @classmethod
    def from_file(cls, path: str | Path) -> "Config":
        with open(path, encoding="utf-8") as f:
            return cls.from_mapping(json.load(f))
