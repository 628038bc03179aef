"""E-ID (E证通): GetEidToken, CheckEidTokenStatus, GetEidResult and the encrypted EidInfo."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from typing import Any

from . import gm
from .errors import ApiError, invalid
from .saas import (
    NOD,
    QA,
    READ,
    RESULTS_TTL,
    FlowSession,
    check_intention,
    check_redirect_url,
    check_text,
    finish,
    intention_parts,
    media_parts,
    parse_info_type,
    start_completion,
    text_object,
)
from .service import Call, Service, action, new_token

EID_TOKEN_TTL = 600
# GetEidTokenConfig.IntentionMode -> IntentionVerifyType of the result.
_MODES = {"1": READ, "2": QA, "3": NOD}
ILLEGAL = ApiError("InvalidParameterValue.BizTokenIllegal", "BizToken不合法。")


@dataclass
class Session(FlowSession):
    merchant_id: str = ""
    input_type: str = "1"
    url_used: bool = False

    @property
    def ocr(self) -> bool:
        return self.input_type in ("1", "2")


@action("GetEidToken")
def get_eid_token(svc: Service, call: Call, p: dict[str, Any]) -> dict[str, Any]:
    merchant = svc.merchants.get(p["MerchantId"])
    if merchant is None:
        raise ApiError("InvalidParameterValue.RuleIdNotExist", "MerchantId不存在，请到人脸核身控制台申请。")
    if merchant.account != call.account:
        raise ApiError("InvalidParameter", "商户注册信息与云账号信息不匹配。")
    id_card, name = p.get("IdCard"), p.get("Name")
    if id_card is not None and (not id_card or len(id_card) > 32 or not id_card.isascii() or not id_card.isalnum()):
        raise invalid("IdCard", "letters and digits only, at most 32")
    check_text("Name", name, 32)
    check_text("Extra", p.get("Extra"), 1024)
    check_redirect_url(p.get("RedirectUrl"))
    config = p.get("Config") or {}
    input_type = config.get("InputType") or "1"
    if input_type not in ("1", "2", "3", "4"):
        raise invalid("Config.InputType", "1, 2, 3 or 4")
    if input_type == "4" and not (id_card and name):
        raise ApiError("InvalidParameter", "Config.InputType 4: the backend must pass IdCard and Name.")
    kind = None
    text, questions, actions = "", [], []
    if config.get("UseIntentionVerify"):
        mode = config.get("IntentionMode") or "1"
        if mode not in _MODES:
            raise invalid("Config.IntentionMode", "1, 2 or 3")
        kind = _MODES[mode]
        _, text, questions, actions = check_intention(config, "Config.")
        if (kind == QA and not questions) or (kind == NOD and not actions):
            raise invalid("Config", "the questions or actions of this IntentionMode are missing")
    session = Session(
        token=new_token(),
        merchant_id=merchant.merchant_id,
        account=call.account,
        created=call.now,
        input_type=input_type,
        id_card=id_card or "",
        name=name or "",
        redirect_url=p.get("RedirectUrl"),
        extra=p.get("Extra") or "",
        intention=kind,
        intention_text=text,
        questions=questions,
        actions=actions,
    )
    with svc.lock:
        svc.eid_sessions[session.token] = session
    return {"EidToken": session.token, "Url": f"{call.base_url}/eid/verify?token={session.token}"}


def complete(svc: Service, session: Session, scenario: str, options: dict[str, Any]) -> dict[str, Any]:
    start_completion(svc, session, scenario, options, EID_TOKEN_TTL, "EidToken")
    session.url_used = True
    if scenario == "abandon":
        session.status = "abandoned"
        return {"token": session.token, "status": "doing"}
    if not (session.id_card and session.name):
        typed_id, typed_name = options.get("id_card"), options.get("name")
        if typed_id and typed_name:
            session.id_card, session.name = str(typed_id), str(typed_name)
        else:
            person = next(iter(svc.registry.by_id.values()))
            session.id_card, session.name = person.id_card, person.name
    return {**finish(svc, session, scenario, options, "eid", "eid"), "status": "finished"}


def _lookup(svc: Service, call: Call, token: str) -> Session:
    with svc.lock:
        session = svc.eid_sessions.get(token)
    if session is None or session.account != call.account or call.now > session.created + RESULTS_TTL:
        raise ILLEGAL
    return session


def status_of(session: Session, now: int) -> str:
    if session.status == "completed":
        return "finished"
    if now > session.created + EID_TOKEN_TTL:
        return "timeout"
    return "doing" if session.url_used else "init"


@action("CheckEidTokenStatus")
def check_eid_token_status(svc: Service, call: Call, p: dict[str, Any]) -> dict[str, Any]:
    return {"Status": status_of(_lookup(svc, call, p["EidToken"]), call.now)}


def pad(data: bytes, how: str) -> bytes:
    n = 16 - len(data) % 16
    if how == "pkcs7":
        return data + bytes([n]) * n
    if n == 16:
        return data
    return data + (b" " if how == "space" else b"\x00") * n


def eid_info(svc: Service, session: Session) -> dict[str, str]:
    eid_code = hashlib.sha256(f"{session.merchant_id}/{session.id_card}".encode()).hexdigest().upper()
    sign = base64.b64encode(hmac.new(svc.eid_sign_key, eid_code.encode(), hashlib.sha256).digest()).decode()
    info = {"EidCode": eid_code, "EidSign": sign, "DesKey": "", "UserInfo": ""}
    public_key = svc.merchant_keys.get(session.merchant_id)
    if public_key is not None:
        key = os.urandom(16)
        plain = json.dumps({"name": session.name, "idtype": "01", "idnum": session.id_card},
                           ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        info["DesKey"] = base64.b64encode(gm.sm2_encrypt(public_key, key)).decode()
        info["UserInfo"] = base64.b64encode(gm.sm4_ecb_encrypt(key, pad(plain, svc.config.eid_padding))).decode()
    return info


@action("GetEidResult")
def get_eid_result(svc: Service, call: Call, p: dict[str, Any]) -> dict[str, Any]:
    parts = parse_info_type(p.get("InfoType"), "012356")
    session = _lookup(svc, call, p["EidToken"])
    if session.status != "completed" and call.now > session.created + EID_TOKEN_TTL:
        raise ApiError("InvalidParameterValue.BizTokenExpired", "BizToken过期。")
    everything = (p.get("InfoType") or "0").find("0") >= 0
    done_ok = session.status == "completed" and session.final_code == 0
    out: dict[str, Any] = {
        "Text": text_object(svc, session, eid=True) if "1" in parts else None,
        "IdCardData": None,
        "BestFrame": None,
        "EidInfo": eid_info(svc, session) if everything and done_ok else None,
        "IsVerifyIntention": session.intention is not None,
        "IntentionVerifyType": session.intention,
    }
    out.update(media_parts(session, parts, p, 3, svc.config.video_bytes))
    out.update(intention_parts(session, parts))
    return out
