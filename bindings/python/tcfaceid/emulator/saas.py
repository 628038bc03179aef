"""SaaS verification: DetectAuth, the BizToken session, GetDetectInfoEnhanced and
the legacy GetDetectInfo."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Optional

from . import media
from .errors import ApiError, invalid
from .identity import Registry, id_card_type
from .service import SAAS_CODES, Call, Service, action, new_token

BIZ_TOKEN_TTL = 7200
RESULTS_TTL = 3 * 86400
MAX_IMAGE_B64 = 3 * 1024 * 1024
SCENARIOS = ("pass", "fail_liveness", "fail_compare", "retry_then_pass", "fail_intention", "abandon")
DEFAULT_LIVENESS_FAIL = 1002  # 疑似非真人录制
DEFAULT_COMPARE_FAIL = 2016  # 相似度未达到通过阈值
ILLEGAL_TOKEN = ApiError("InvalidParameter", "非法BizToken。")

# IntentionVerifyType of the result: "0" Q&A, "1" nod, "2" read-aloud.
QA, NOD, READ = "0", "1", "2"


@dataclass
class FlowSession:
    """What SaaS and E-ID sessions have in common: the person, the attempts, the outcome."""

    token: str
    account: str
    created: int
    id_card: str = ""
    name: str = ""
    redirect_url: Optional[str] = None
    extra: str = ""
    compare_lib: str = "权威库"
    intention: Optional[str] = None
    intention_text: str = ""
    questions: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    status: str = "created"  # created | opened | completed | abandoned
    attempts: list[dict[str, Any]] = field(default_factory=list)
    final_code: Optional[int] = None
    intention_passed: Optional[bool] = None
    completed_at: Optional[int] = None
    video_bytes: Optional[int] = None
    max_retries: int = 99


@dataclass
class Session(FlowSession):
    rule_id: str = ""
    ocr: bool = False


def code_message(code: Optional[int]) -> Optional[str]:
    if code is None:
        return None
    row = SAAS_CODES.get(str(code))
    return row[0] if row else "未知错误"


def code_billed(code: int, channel: str = "plus") -> bool:
    row = SAAS_CODES.get(str(code))
    if row is None:
        return False
    billed = row[1]
    if isinstance(billed, dict):
        for key in (channel, "wechat_eid_since_2021-07-19"):
            if key in billed:
                return bool(billed[key])
        return False
    return bool(billed)


def check_redirect_url(value: Optional[str]) -> None:
    if value is None:
        return
    if len(value) > 1024:
        raise invalid("RedirectUrl", "longer than 1024 characters")
    try:
        parsed = urllib.parse.urlsplit(value)
        parsed.port  # noqa: B018 (validates the port)
    except ValueError:
        raise invalid("RedirectUrl", "not a valid URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise invalid("RedirectUrl", "must begin with http:// or https://")


def check_text(field_name: str, value: Optional[str], limit: int) -> None:
    if value is not None and len(value) > limit:
        raise invalid(field_name, f"longer than {limit} characters")


def check_id_card_field(value: Optional[str]) -> None:
    if value is None:
        return
    if not value or len(value) > 32 or not value.isascii() or not value.isalnum():
        raise invalid("IdCard", "letters and digits only, at most 32")
    if value[-1] == "x":
        raise invalid("IdCard", "the letter X must be uppercase")


def check_base64(field_name: str, value: str, limit: int) -> bytes:
    if len(value) > limit:
        raise invalid(field_name, f"larger than {limit // (1024 * 1024)}M after base64")
    if value.startswith("data:"):
        raise invalid(field_name, "must be plain base64 without a data: prefix")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise invalid(field_name, "not valid standard base64 (RFC 4648, with padding, no line breaks)") from None


def check_intention(params: dict[str, Any], prefix: str = "") -> tuple[Optional[str], str, list[Any], list[Any]]:
    text = params.get("IntentionVerifyText")
    questions = params.get("IntentionQuestions")
    actions = params.get("IntentionActions")
    check_text(prefix + "IntentionVerifyText", text, 120)
    for name, rounds in (("IntentionQuestions", questions), ("IntentionActions", actions)):
        if rounds is not None and not 1 <= len(rounds) <= 10:
            raise invalid(prefix + name, "from 1 to 10 rounds")
    for i, q in enumerate(questions or []):
        check_text(f"{prefix}IntentionQuestions.{i}.Question", q.get("Question"), 250)
        answers = q.get("Answers") or []
        if not q.get("Question") or not answers or len(answers) > 50 or any(len(a) > 10 for a in answers):
            raise invalid(f"{prefix}IntentionQuestions.{i}", "a Question and 1 to 50 Answers of at most 10 characters")
    for i, a in enumerate(actions or []):
        if not a.get("Text"):
            raise invalid(f"{prefix}IntentionActions.{i}.Text", "empty")
        check_text(f"{prefix}IntentionActions.{i}.Text", a.get("Text"), 250)
    kind = READ if text else QA if questions else NOD if actions else None
    return kind, text or "", list(questions or []), list(actions or [])


@action("DetectAuth")
def detect_auth(svc: Service, call: Call, p: dict[str, Any]) -> dict[str, Any]:
    rule = svc.rule_for(p["RuleId"], call.account)
    if rule.disabled:
        raise ApiError("InvalidParameterValue.RuleIdDisabled", "该ruleid已被您停用，请确认后重试。")
    check_id_card_field(p.get("IdCard"))
    check_text("Name", p.get("Name"), 32)
    check_redirect_url(p.get("RedirectUrl"))
    check_text("Extra", p.get("Extra"), 1024)
    if p.get("ImageBase64") is not None:
        check_base64("ImageBase64", p["ImageBase64"], MAX_IMAGE_B64)
    if not rule.ocr and not (p.get("IdCard") and p.get("Name")):
        raise ApiError("InvalidParameter", "This RuleId has no ID-card OCR step: IdCard and Name are required.")
    if rule.compare_lib == "upload" and not p.get("ImageBase64"):
        raise ApiError("InvalidParameter", "This RuleId compares with an uploaded photo: ImageBase64 is required.")
    kind, text, questions, actions = check_intention(p)
    config = p.get("Config") or {}
    if config.get("IntentionType") not in (None, 0, 1):
        raise invalid("Config.IntentionType", "0 (questions and answers) or 1 (nod)")
    if kind in (QA, NOD) and config.get("IntentionType") is not None:
        kind = NOD if config["IntentionType"] == 1 else QA
        if (kind == NOD and not actions) or (kind == QA and not questions):
            raise invalid("Config.IntentionType", "the matching IntentionQuestions or IntentionActions are missing")
    session = Session(
        token=new_token(),
        rule_id=rule.rule_id,
        account=call.account,
        created=call.now,
        id_card=p.get("IdCard") or "",
        name=p.get("Name") or "",
        redirect_url=p.get("RedirectUrl"),
        extra=p.get("Extra") or "",
        ocr=rule.ocr,
        compare_lib="业务方自有库" if rule.compare_lib == "upload" else "权威库",
        intention=kind,
        intention_text=text,
        questions=questions,
        actions=actions,
        max_retries=rule.max_retries,
    )
    with svc.lock:
        svc.sessions[session.token] = session
    return {"BizToken": session.token, "Url": f"{call.base_url}/h5/verify?token={session.token}"}


# -- completing a session --------------------------------------------------------
def _sim(token: str, seq: int, low: int, high: int) -> str:
    h = int.from_bytes(hashlib.sha256(f"{token}/{seq}".encode()).digest()[:4], "big")
    return f"{low + h % ((high - low) * 100) / 100:.2f}"


def make_attempt(session: Any, when: int, live: int, compare: Optional[int], channel: str = "plus") -> dict[str, Any]:
    seq = len(session.attempts)
    errcode = live if live != 0 else (compare if compare is not None else 0)
    sim = None
    if live == 0 and compare is not None:
        sim = _sim(session.token, seq, 85, 99) if compare == 0 else _sim(session.token, seq, 30, 69)
    return {
        "ReqTime": str(when * 1000 + seq),
        "Seq": f"{session.token[:8].lower()}-{seq:04d}",
        "Idcard": session.id_card,
        "Name": session.name,
        "Sim": sim,
        "IsNeedCharge": code_billed(errcode, channel),
        "Errcode": errcode,
        "Errmsg": code_message(errcode),
        "Livestatus": live,
        "Livemsg": code_message(live),
        "Comparestatus": compare if live == 0 else None,
        "Comparemsg": code_message(compare) if live == 0 else None,
        "CompareLibType": getattr(session, "compare_lib", "权威库"),
        "LivenessMode": 2,
    }


def _code(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not -100000 <= value <= 100000:
        raise ValueError(f"{name} must be an integer result code")
    return value


def plan_attempts(scenario: str, options: dict[str, Any]) -> list[tuple[int, Optional[int]]]:
    """(Livestatus, Comparestatus) per attempt for a scenario; ``options["attempts"]`` overrides."""
    if options.get("attempts") is not None:
        attempts = options["attempts"]
        if not isinstance(attempts, list) or not 1 <= len(attempts) <= 100:
            raise ValueError("attempts is a list of 1 to 100 objects {liveness, compare}")
        plan = []
        for a in attempts:
            if not isinstance(a, dict) or set(a) - {"liveness", "compare"}:
                raise ValueError("each attempt is an object {liveness, compare}")
            live = _code(a.get("liveness", 0), "liveness")
            compare = a.get("compare", 0 if live == 0 else None)
            plan.append((live, None if compare is None else _code(compare, "compare")))
        return plan
    code = _code(options["code"], "code") if "code" in options else None
    live_fail = code if scenario == "fail_liveness" and code is not None else DEFAULT_LIVENESS_FAIL
    compare_fail = code if scenario == "fail_compare" and code is not None else DEFAULT_COMPARE_FAIL
    return {
        "pass": [(0, 0)],
        "fail_intention": [(0, 0)],
        "fail_liveness": [(live_fail, None)],
        "fail_compare": [(0, compare_fail)],
        "retry_then_pass": [(live_fail, None), (0, 0)],
    }[scenario]


def run_attempts(
    svc: Service, session: Any, plan: list[tuple[int, Optional[int]]], channel: str = "plus", label: str = "saas"
) -> Optional[int]:
    """Record the attempts of ``plan`` (stopping at the first pass, the retry cap or the
    per-identity limit) and return the flow's final ErrCode."""
    now = int(svc.now())
    final: Optional[int] = None
    for live, compare in plan:
        if len(session.attempts) > session.max_retries:
            final = 16  # 已达到重试上限
            break
        if session.id_card and svc.over_identity_limit(
            "saas", session.account, session.id_card,
            per_minute=svc.config.limits["saas_id_per_minute"], per_day=svc.config.limits["saas_id_per_day"],
        ):
            final = 2018  # 操作过于频繁，请第二天0点后重试
            break
        attempt = make_attempt(session, now, live, compare, channel)
        session.attempts.append(attempt)
        if attempt["IsNeedCharge"]:
            svc.count_billed(f"{label}:attempt")
        final = attempt["Errcode"]
        if final == 0:
            break
    return final


def check_scenario(scenario: str, options: dict[str, Any]) -> None:
    if scenario not in SCENARIOS:
        raise ValueError(f"scenario must be one of {', '.join(SCENARIOS)}")
    vb = options.get("video_bytes")
    if vb is not None and (not isinstance(vb, int) or isinstance(vb, bool) or not 0 <= vb <= 64 * 1024 * 1024):
        raise ValueError("video_bytes must be an integer from 0 to 67108864")


def start_completion(svc: Service, session: FlowSession, scenario: str, options: dict[str, Any], ttl: int, what: str) -> None:
    """Refuse to complete an expired or finished session."""
    check_scenario(scenario, options)
    if int(svc.now()) > session.created + ttl:
        raise PermissionError(f"the {what} has expired ({ttl} s)")
    if session.status == "completed":
        raise PermissionError("this verification is already completed (ErrCode 14)")


def finish(svc: Service, session: FlowSession, scenario: str, options: dict[str, Any], channel: str, label: str) -> dict[str, Any]:
    """Run the scenario's attempts and record the outcome."""
    session.video_bytes = options.get("video_bytes")
    session.final_code = run_attempts(svc, session, plan_attempts(scenario, options), channel, label)
    if session.intention is not None and session.final_code == 0:
        session.intention_passed = scenario != "fail_intention"
    session.status = "completed"
    session.completed_at = int(svc.now())
    return {
        "token": session.token,
        "status": session.status,
        "err_code": session.final_code,
        "attempts": len(session.attempts),
        "redirect": redirect_target(session.redirect_url, session.token),
    }


def complete(svc: Service, session: Session, scenario: str, options: dict[str, Any]) -> dict[str, Any]:
    start_completion(svc, session, scenario, options, BIZ_TOKEN_TTL, "BizToken")
    if scenario == "abandon":
        session.status = "abandoned"
        return {"token": session.token, "status": session.status}
    if session.ocr and not session.id_card:
        person = next(iter(svc.registry.by_id.values()))
        session.id_card, session.name = person.id_card, person.name
    return finish(svc, session, scenario, options, "plus", "saas")


def redirect_target(redirect_url: Optional[str], token: str) -> Optional[str]:
    """RedirectUrl with ``token=<token>`` added to its query (kept before any #fragment)."""
    if not redirect_url:
        return None
    parts = urllib.parse.urlsplit(redirect_url)
    query = parts.query + ("&" if parts.query else "") + "token=" + urllib.parse.quote(token, safe="")
    url = urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
    # A Location header is ASCII: percent-encode any other character (IRI to URI), keep the rest.
    return urllib.parse.quote(url, safe=":/?#[]@!$&'()*+,;=%~")


# -- results ---------------------------------------------------------------------
def ocr_fields(registry: Registry, session: Any) -> dict[str, Any]:
    person = registry.by_id.get(session.id_card)
    idn = session.id_card
    if not idn:
        return {}
    birth = f"{int(idn[6:10])}/{int(idn[10:12])}/{int(idn[12:14])}" if len(idn) == 18 and idn[:17].isdigit() else None
    gender = ("男" if int(idn[16]) % 2 else "女") if len(idn) == 18 and idn[16].isdigit() else None
    valid = f"{person.valid_from[:4]}.{person.valid_from[4:6]}.{person.valid_from[6:]}-" if person else None
    if person and valid:
        valid += "长期" if person.valid_to == "00000000" else f"{person.valid_to[:4]}.{person.valid_to[4:6]}.{person.valid_to[6:]}"
    return {
        "OcrNation": "汉",
        "OcrAddress": "北京市东城区模拟路1号",
        "OcrBirth": birth,
        "OcrAuthority": "北京市公安局东城分局",
        "OcrValidDate": valid,
        "OcrName": session.name,
        "OcrIdCard": idn,
        "OcrGender": gender,
    }


def text_object(svc: Service, session: Any, *, eid: bool = False) -> dict[str, Any]:
    done = session.status == "completed"
    last = session.attempts[-1] if session.attempts else None
    text: dict[str, Any] = {
        "ErrCode": session.final_code if done else None,
        "ErrMsg": code_message(session.final_code) if done else None,
        "IdCard": "" if eid else session.id_card,
        "UseIDType": id_card_type(session.id_card) if done and session.id_card else None,
        "Name": "" if eid else session.name,
        "OcrNation": None, "OcrAddress": None, "OcrBirth": None, "OcrAuthority": None, "OcrValidDate": None,
        "OcrName": None, "OcrIdCard": None, "OcrGender": None,
        "IdInfoFrom": None,
        "LiveStatus": last["Livestatus"] if done and last else None,
        "LiveMsg": last["Livemsg"] if done and last else None,
        "Comparestatus": last["Comparestatus"] if done and last else None,
        "Comparemsg": last["Comparemsg"] if done and last else None,
        "Sim": last["Sim"] if done and last else None,
        "Location": None,
        "Extra": session.extra,
        "LivenessDetail": [dict(a) for a in session.attempts] if done else [],
        "LivenessInfoTag": None,
        "Mobile": None,
        "CompareLibType": session.compare_lib if done else None,
        "LivenessMode": 2 if done and last else None,
        "NFCRequestIds": None,
        "NFCBillingCounts": None,
        "PassNo": None,
        "VisaNum": None,
        "LivenessActionSequence": None,
    }
    if done and session.ocr:
        text.update(ocr_fields(svc.registry, session))
        if eid:
            text["OcrName"] = text["OcrIdCard"] = ""
        text["IdInfoFrom"] = "OCR"
    elif done:
        text["IdInfoFrom"] = "其他"
    return text


def parse_info_type(value: Optional[str], allowed: str) -> set[str]:
    value = value if value not in (None, "") else "0"
    if not value.isascii() or not value.isdigit() or any(c not in allowed for c in value):
        raise invalid("InfoType", f"digits from {', '.join(allowed)}")
    return set(allowed) - {"0"} if "0" in value else set(value)


def media_parts(session: Any, parts: set[str], p: dict[str, Any], max_frames: int, video_default: int) -> dict[str, Any]:
    done = session.status == "completed"
    lived = done and any(a["Livestatus"] == 0 for a in session.attempts)
    out: dict[str, Any] = {}
    if "2" in parts:
        ocr = done and session.ocr
        out["IdCardData"] = {
            "OcrFront": media.png_b64(session.token + "front", 86, 54) if ocr else None,
            "OcrBack": media.png_b64(session.token + "back", 86, 54) if ocr else None,
            "ProcessedFrontImage": media.png_b64(session.token + "pfront", 86, 54) if ocr and p.get("IsCutIdCardImage") else None,
            "ProcessedBackImage": media.png_b64(session.token + "pback", 86, 54) if ocr and p.get("IsCutIdCardImage") else None,
            "Avatar": media.png_b64(session.token + "avatar", 26, 32) if ocr and p.get("IsNeedIdCardAvatar") else None,
            "WarnInfos": None,
            "BackWarnInfos": None,
        }
    if "3" in parts:
        count = min(int(p.get("BestFramesCount") or 0), max_frames)
        out["BestFrame"] = {
            "BestFrame": media.png_b64(session.token + "best") if lived else None,
            "BestFrames": [media.png_b64(f"{session.token}frame{i}") for i in range(count)] if lived and count else None,
        }
    if "4" in parts:
        size = session.video_bytes if session.video_bytes is not None else video_default
        out["VideoData"] = {"LivenessVideo": media.video_b64(size, session.token) if done and session.attempts else None,
                            "LivenessVideos": None}
    return out


def intention_parts(session: Any, parts: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"IntentionVerifyData": None, "IntentionQuestionResult": None, "IntentionActionResult": None}
    passed = session.intention_passed
    if passed is None:
        return out
    tok = session.token
    if "5" in parts and session.intention == READ:
        out["IntentionVerifyData"] = {
            "IntentionVerifyVideo": media.video_b64(4096, tok + "intent"),
            "AsrResult": session.intention_text if passed else "",
            "ErrorCode": 0 if passed else -10,
            "ErrorMessage": "成功" if passed else "ASR识别失败",
            "IntentionVerifyBestFrame": media.png_b64(tok + "intent"),
            "AsrResultSimilarity": None,
            "IntentionVerifyAudio": base64.b64encode(hashlib.sha256(tok.encode()).digest() * 8).decode(),
        }
    if "6" in parts and session.intention == QA:
        n = len(session.questions)
        out["IntentionQuestionResult"] = {
            "FinalResultDetailCode": 0 if passed else -301,
            "FinalResultMessage": "成功" if passed else "意愿未确认",
            "Video": media.video_b64(4096, tok + "qa"),
            "ScreenShot": [media.png_b64(f"{tok}qa{i}") for i in range(n)],
            "ResultCode": ["0" if passed else "-1" for _ in range(n)],
            "AsrResult": [(q.get("Answers") or [""])[0] if passed else "" for q in session.questions],
            "Audios": [base64.b64encode(f"{tok}{i}".encode()).decode() for i in range(n)],
            "FinalResultCode": "0" if passed else "-1",
        }
    if "6" in parts and session.intention == NOD:
        out["IntentionActionResult"] = {
            "FinalResultDetailCode": 0 if passed else -301,
            "FinalResultMessage": "成功" if passed else "意愿未确认",
            "Details": [
                {"Video": media.video_b64(2048, f"{tok}nod{i}"), "ScreenShot": [media.png_b64(f"{tok}nod{i}")]}
                for i in range(len(session.actions))
            ],
        }
    return out


EMPTY_ENCRYPTION = {"EncryptList": [], "CiphertextBlob": "", "Iv": "", "Algorithm": "", "TagList": []}


def lookup(svc: Service, call: Call, token: str, rule_id: str) -> Session:
    svc.rule_for(rule_id, call.account)
    with svc.lock:
        session = svc.sessions.get(token)
    if session is None or session.account != call.account or session.rule_id != rule_id:
        raise ILLEGAL_TOKEN
    if call.now > session.created + RESULTS_TTL:
        raise ILLEGAL_TOKEN
    if session.status != "completed" and call.now > session.created + BIZ_TOKEN_TTL:
        raise ApiError("InvalidParameterValue.BizTokenExpired", "BizToken过期。")
    return session


@action("GetDetectInfoEnhanced")
def get_detect_info_enhanced(svc: Service, call: Call, p: dict[str, Any]) -> dict[str, Any]:
    parts = parse_info_type(p.get("InfoType"), "0123456")
    session = lookup(svc, call, p["BizToken"], p["RuleId"])
    out: dict[str, Any] = {
        "Text": text_object(svc, session) if "1" in parts else None,
        "IdCardData": None,
        "BestFrame": None,
        "VideoData": None,
        "Encryption": dict(EMPTY_ENCRYPTION),
        "EncryptedBody": "",
        "IsVerifyIntention": session.intention is not None,
        "IntentionVerifyType": session.intention,
    }
    out.update(media_parts(session, parts, p, 10, svc.config.video_bytes))
    out.update(intention_parts(session, parts))
    return out


@action("GetDetectInfo")
def get_detect_info(svc: Service, call: Call, p: dict[str, Any]) -> dict[str, Any]:
    """Legacy: the same data as a JSON string, with Detail.LivenessData instead of LivenessDetail."""
    parts = parse_info_type(p.get("InfoType"), "01234")
    session = lookup(svc, call, p["BizToken"], p["RuleId"])
    info: dict[str, Any] = {}
    if "1" in parts:
        text = text_object(svc, session)
        detail = text.pop("LivenessDetail")
        legacy_keys = ("ErrCode", "ErrMsg", "IdCard", "Name", "OcrNation", "OcrAddress", "OcrBirth", "OcrAuthority",
                       "OcrValidDate", "OcrName", "OcrIdCard", "OcrGender", "LiveStatus", "LiveMsg", "Comparestatus",
                       "Comparemsg", "Sim", "Location", "Extra")
        info["Text"] = {k: text[k] for k in legacy_keys}
        info["Text"]["Detail"] = {"LivenessData": [
            {"ErrCode": a["Errcode"], "ErrMsg": a["Errmsg"], "ReqTime": a["ReqTime"], "IdCard": a["Idcard"], "Name": a["Name"]}
            for a in detail
        ]}
    media_out = media_parts(session, parts, {}, 0, svc.config.video_bytes)
    if "IdCardData" in media_out:
        info["IdCardData"] = {"OcrFront": media_out["IdCardData"]["OcrFront"], "OcrBack": media_out["IdCardData"]["OcrBack"]}
    if "BestFrame" in media_out:
        info["BestFrame"] = {"BestFrame": media_out["BestFrame"]["BestFrame"]}
    if "VideoData" in media_out:
        info["VideoData"] = {"LivenessVideo": media_out["VideoData"]["LivenessVideo"]}
    return {"DetectInfo": json.dumps(info, ensure_ascii=False)}
