"""PaaS liveness and face comparison: GetLiveCode, GetActionSequence,
LivenessRecognition, LivenessCompare, ImageRecognitionV2.

Outcomes are deterministic functions of the inputs (docs/emulator.md):
identity problems first (format, daily limit, the emulator's library), then a
directive the caller may put in the media itself — decoded bytes that start
with ``tcfaceid-emulator:result=FailedOperation.X;sim=12.5`` — and otherwise
``Success`` with a similarity derived from the media.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import urllib.request
from typing import Any, Optional

from . import media
from .errors import ApiError, invalid
from .identity import id_card_problem, name_problem
from .saas import check_base64
from .service import ERROR_MESSAGES, Call, Service, action, error_message

MAX_VIDEO_B64 = 8 * 1024 * 1024
MAX_IMAGE_B64 = 3 * 1024 * 1024
DIRECTIVE = b"tcfaceid-emulator:"
# Billed PaaS results (faceid-api.md §4.2, 人脸核验类).
BILLED = {"Success", "FailedOperation.IdNameMisMatch", "FailedOperation.CompareLowSimilarity"}
_rng = random.SystemRandom()


@action("GetLiveCode")
def get_live_code(svc: Service, call: Call, p: dict[str, Any]) -> dict[str, Any]:
    return {"LiveCode": f"{_rng.randrange(10000):04d}"}


@action("GetActionSequence")
def get_action_sequence(svc: Service, call: Call, p: dict[str, Any]) -> dict[str, Any]:
    return {"ActionSequence": _rng.choice(["1,2", "2,1"])}


def directive(data: bytes) -> dict[str, str]:
    """``tcfaceid-emulator:result=...;sim=...`` at the start of decoded media."""
    if not data.startswith(DIRECTIVE):
        return {}
    line = data[len(DIRECTIVE):].split(b"\n", 1)[0].decode("utf-8", "replace")
    out = {}
    for item in line.split(";"):
        key, sep, value = item.partition("=")
        if sep:
            out[key.strip()] = value.strip()
    return out


def _fetch_local(url: str, field: str) -> bytes:
    """VideoUrl / ImageUrl: the emulator can only reach loopback; others fail as a download error."""
    if not re.match(r"^https?://(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?/", url):
        raise _Outcome("FailedOperation.DownLoadError")
    try:
        with urllib.request.urlopen(url, timeout=4) as resp:  # noqa: S310 (loopback only)
            data = resp.read(MAX_VIDEO_B64 + 1)
    except TimeoutError:
        raise _Outcome("FailedOperation.DownLoadTimeoutError") from None
    except OSError:
        raise _Outcome("FailedOperation.DownLoadError") from None
    if len(data) > MAX_VIDEO_B64:
        raise invalid(field, "the file is larger than 8M")
    return data


class _Outcome(Exception):
    def __init__(self, result: str) -> None:
        super().__init__(result)
        self.result = result


def _media(p: dict[str, Any], b64_field: str, url_field: str, limit: int) -> bytes:
    if p.get(b64_field):
        return check_base64(b64_field, p[b64_field], limit)
    if p.get(url_field):
        return _fetch_local(p[url_field], url_field)
    raise ApiError("MissingParameter", f"The request is missing a required parameter `{b64_field}` or `{url_field}`.")


def _validate_liveness(p: dict[str, Any]) -> None:
    kind = p["LivenessType"]
    data = p.get("ValidateData") or ""
    if kind == "LIP" and not re.fullmatch(r"\d{4}", data):
        raise invalid("ValidateData", "LIP needs the 4-digit code from GetLiveCode")
    if kind == "ACTION" and not re.fullmatch(r"[1-2](,[1-2])*", data):
        raise invalid("ValidateData", "ACTION needs the sequence from GetActionSequence, e.g. 2,1")
    if kind not in ("LIP", "ACTION", "SILENT"):
        raise invalid("LivenessType", "LIP, ACTION or SILENT")
    optional = p.get("Optional")
    if optional:
        try:
            num = json.loads(optional).get("BestFrameNum")
        except (ValueError, AttributeError):
            raise invalid("Optional", "a JSON object such as {\"BestFrameNum\": 2}") from None
        if num is not None and (not isinstance(num, int) or not 2 <= num <= 10):
            raise invalid("Optional", "BestFrameNum from 2 to 10")


def _check_identity(svc: Service, call: Call, id_card: str, name: str) -> None:
    if id_card_problem(id_card):
        raise _Outcome("FailedOperation.IdFormatError")
    if name_problem(name):
        raise _Outcome("FailedOperation.NameFormatError")
    limits = svc.config.limits
    if svc.over_identity_limit("paas-id", call.account, id_card,
                               per_minute=limits["paas_id_per_minute"], per_day=limits["paas_id_per_day"]) or \
            svc.over_identity_limit("paas-name", call.account, name, per_day=limits["paas_name_per_day"]):
        raise ApiError("FailedOperation.IdentityAuthLimitExceeded", error_message("FailedOperation.IdentityAuthLimitExceeded"))
    person = svc.registry.by_id.get(id_card)
    if person is None:
        raise _Outcome("FailedOperation.IdNoExistSystem")
    if person.name != name:
        raise _Outcome("FailedOperation.IdNameMisMatch")
    if not person.photo:
        raise _Outcome("FailedOperation.IdPhotoNoExist")


def _compare(data: bytes, seed: str) -> tuple[str, Optional[float]]:
    if not data:
        return "FailedOperation.LipSizeError", None
    d = directive(data)
    if d:
        result = d.get("result", "Success")
        if result != "Success" and result not in ERROR_MESSAGES:
            raise invalid("media directive", f"unknown result {result}")
        sim = float(d["sim"]) if "sim" in d else None
        return result, sim
    h = int.from_bytes(hashlib.sha256(data + seed.encode()).digest()[:4], "big")
    return "Success", round(80 + h % 1900 / 100, 2)


def _answer(svc: Service, call: Call, result: str, sim: Optional[float], frames: int = 0, seed: str = "") -> dict[str, Any]:
    if result in BILLED:
        svc.count_billed(call.action)
    ok = result == "Success"
    return {
        "Result": result,
        "Description": "成功" if ok else error_message(result),
        "Sim": sim if sim is not None else (0.0 if not ok else 90.0),
        "BestFrameBase64": media.png_b64(seed + "best") if ok else None,
        "BestFrameList": [media.png_b64(f"{seed}{i}") for i in range(frames)] if ok and frames else None,
    }


def _frames(p: dict[str, Any]) -> int:
    return json.loads(p["Optional"]).get("BestFrameNum") or 0 if p.get("Optional") else 0


@action("LivenessRecognition")
def liveness_recognition(svc: Service, call: Call, p: dict[str, Any]) -> dict[str, Any]:
    _validate_liveness(p)
    try:
        video = _media(p, "VideoBase64", "VideoUrl", MAX_VIDEO_B64)
        _check_identity(svc, call, p["IdCard"], p["Name"])
        result, sim = _compare(video, p["IdCard"])
    except _Outcome as o:
        result, sim = o.result, None
    return _answer(svc, call, result, sim, _frames(p), p["IdCard"])


@action("LivenessCompare")
def liveness_compare(svc: Service, call: Call, p: dict[str, Any]) -> dict[str, Any]:
    _validate_liveness(p)
    try:
        image = _media(p, "ImageBase64", "ImageUrl", MAX_IMAGE_B64)
        video = _media(p, "VideoBase64", "VideoUrl", MAX_VIDEO_B64)
        result, sim = _compare(video, hashlib.sha256(image).hexdigest())
        if result == "Success" and directive(image):
            result, sim = _compare(image, "")
    except _Outcome as o:
        result, sim = o.result, None
    return _answer(svc, call, result, sim, _frames(p), "compare")


@action("ImageRecognitionV2")
def image_recognition_v2(svc: Service, call: Call, p: dict[str, Any]) -> dict[str, Any]:
    extra = p.get("Extra")
    if extra is not None and not 1 <= len(extra) <= 10:
        raise invalid("Extra", "from 1 to 10 characters")
    image = check_base64("ImageBase64", p["ImageBase64"], MAX_IMAGE_B64)
    try:
        _check_identity(svc, call, p["IdCard"], p["Name"])
        result, sim = _compare(image, p["IdCard"])
    except _Outcome as o:
        result, sim = o.result, None
    out = _answer(svc, call, result, sim)
    return {"Sim": out["Sim"], "Result": out["Result"], "Description": out["Description"], "Extra": extra}
