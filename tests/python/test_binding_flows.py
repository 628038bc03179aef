"""The binding of the C core's validators, E-ID decryption and verdicts (tcfaceid._core +
tcfaceid/flows.py), against the in-process emulator's real results."""

from __future__ import annotations

import json
from typing import Any, Iterator

import pytest

import tcfaceid
import tcfaceid._core
from tcfaceid.emulator import (
    DEFAULT_MERCHANT_ID,
    DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM,
    DEFAULT_SECRET_ID,
    DEFAULT_SECRET_KEY,
    Config,
    Emulator,
    Merchant,
)

ID_NO = "110101199003071233"
NAME = "张三"


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(Config(port=0)) as e:
        yield e


@pytest.fixture(scope="module")
def client(emu: Emulator) -> Iterator[tcfaceid.Client]:
    with tcfaceid.Client(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, endpoint=emu.endpoint) as c:
        yield c


# ------------------------------------------------------------------------------------------------
# Validators
# ------------------------------------------------------------------------------------------------

BAD = [
    ("check_id_card", "110101199003071234"),  # wrong check character
    ("check_id_card", "11010119900307123x"),  # lowercase x
    ("check_id_card", "110101900307123"),  # 15-digit legacy
    ("check_id_card", "990101199003071233"),  # no such province
    ("check_id_card", "110101199002301235"),  # 30 February
    ("normalize_name", "Zhang San"),
    ("normalize_name", "张三3"),
    ("normalize_name", "张"),
    ("normalize_name", "·张三"),
    ("check_phone", "23800138000"),
    ("check_phone", "1380013800"),
    ("check_bank_card", "4111111111111112"),
    ("check_bank_card", "41111111111"),
    ("check_redirect_url", "ftp://example.com/secret-path"),
    ("check_redirect_url", "https:///nohost"),
    ("check_redirect_url", "https://example.com/a b"),
    ("check_validity_date", "20230230"),
    ("check_validity_date", "2023010"),
]


@pytest.mark.parametrize("func, value", BAD)
def test_validator_rejects_without_echoing_the_value(func: str, value: str) -> None:
    with pytest.raises(tcfaceid.InvalidArgumentError) as info:
        getattr(tcfaceid, func)(value)
    e = info.value
    assert isinstance(e, ValueError) and e.code == "invalid_argument"
    for text in (str(e), e.message, repr(e)):
        assert value not in text
        if len(value) >= 6:
            assert value[2:] not in text  # not even most of it


def test_validators_accept() -> None:
    assert tcfaceid.check_id_card(ID_NO) is None
    assert tcfaceid.check_id_card("11010119900307123X".replace("123X", "1233")) is None
    assert tcfaceid.check_id_card(ID_NO, today=1_700_000_000) is None
    assert tcfaceid.normalize_name(NAME) == NAME
    assert tcfaceid.normalize_name("  阿卜杜拉•买买提 ") == "阿卜杜拉·买买提"
    assert tcfaceid.normalize_name("阿卜杜拉.买买提") == "阿卜杜拉·买买提"
    assert tcfaceid.check_phone("13800138000") is None
    assert tcfaceid.phone_carrier("13800138000") == "CMCC"
    assert tcfaceid.phone_carrier("13490000000") == "CTCC"
    assert tcfaceid.phone_carrier("12345") is None
    assert tcfaceid.check_bank_card("4111111111111111") is None
    assert tcfaceid.check_redirect_url("HTTPS://example.com:8443/back?x=1") is None
    assert tcfaceid.check_validity_date("20301231") is None
    assert tcfaceid.check_validity_date("00000000") is None
    with pytest.raises(tcfaceid.InvalidArgumentError):
        tcfaceid.check_validity_date("00000000", allow_long_term=False)


def test_validator_argument_handling() -> None:
    # A birth date after "today" is rejected only when today is given.
    with pytest.raises(tcfaceid.InvalidArgumentError) as info:
        tcfaceid.check_id_card(ID_NO, today=315_532_800)  # 1980-01-01
    assert ID_NO not in str(info.value)
    with pytest.raises(tcfaceid.InvalidArgumentError):
        tcfaceid.check_id_card(ID_NO, -1)
    with pytest.raises(tcfaceid.InvalidArgumentError):
        tcfaceid.check_phone("138\x0000138000")
    with pytest.raises(TypeError):
        tcfaceid.check_phone(13800138000)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        tcfaceid.check_id_card(ID_NO, today="0")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        tcfaceid.normalize_name()  # type: ignore[call-arg]
    assert tcfaceid.check_id_card is tcfaceid._core.check_id_card


# ------------------------------------------------------------------------------------------------
# E-ID decryption
# ------------------------------------------------------------------------------------------------


def eid_result(client: tcfaceid.Client, emu: Emulator, scenario: str = "pass", merchant: str = DEFAULT_MERCHANT_ID) -> dict[str, Any]:
    token = client.call(
        "GetEidToken", {"MerchantId": merchant, "IdCard": ID_NO, "Name": NAME, "Config": {"InputType": "4"}}
    )["EidToken"]
    emu.complete(token, scenario)
    return client.call("GetEidResult", {"EidToken": token, "InfoType": "0"})


def test_decrypt_eid_info(emu: Emulator, client: tcfaceid.Client) -> None:
    info = eid_result(client, emu)["EidInfo"]
    expected = {"name": NAME, "idtype": "01", "idnum": ID_NO}
    assert tcfaceid.decrypt_eid_info(info, DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM) == expected
    assert tcfaceid.decrypt_eid_info(info, DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM.encode()) == expected
    raw = tcfaceid._core.eid_decrypt(info["DesKey"], info["UserInfo"], bytearray(DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM.encode()))
    assert isinstance(raw, bytes) and json.loads(raw) == expected


def test_decrypt_eid_info_without_identity_return() -> None:
    with Emulator(Config(port=0, merchants=[Merchant("M1")])) as emu:
        with tcfaceid.Client(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, endpoint=emu.endpoint) as client:
            info = eid_result(client, emu, merchant="M1")["EidInfo"]
    assert info["DesKey"] == "" and info["UserInfo"] == ""
    with pytest.raises(tcfaceid.StateError) as e:
        tcfaceid.decrypt_eid_info(info, DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM)
    assert e.value.code == "state" and e.value.message
    with pytest.raises(tcfaceid.StateError):
        tcfaceid.decrypt_eid_info(None, DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM)


def test_decrypt_eid_info_wrong_key(emu: Emulator, client: tcfaceid.Client) -> None:
    from tcfaceid.emulator import gm

    info = eid_result(client, emu)["EidInfo"]
    wrong = gm.sm2_private_key_to_pem(gm.sm2_generate_private_key())  # not the merchant's
    with pytest.raises(tcfaceid.CryptoError) as e:
        tcfaceid.decrypt_eid_info(info, wrong)
    assert NAME not in str(e.value) and ID_NO not in str(e.value)
    with pytest.raises(tcfaceid.CryptoError):  # not base64
        tcfaceid.decrypt_eid_info({"DesKey": "!!", "UserInfo": info["UserInfo"]}, DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM)
    with pytest.raises(tcfaceid.InvalidArgumentError):  # not a private key
        tcfaceid.decrypt_eid_info(info, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")


# ------------------------------------------------------------------------------------------------
# Verdicts
# ------------------------------------------------------------------------------------------------


def saas_result(client: tcfaceid.Client, emu: Emulator, scenario: str, **extra: Any) -> dict[str, Any]:
    token = client.call("DetectAuth", {"RuleId": "1", "IdCard": ID_NO, "Name": NAME, **extra})["BizToken"]
    emu.complete(token, scenario)
    return client.call("GetDetectInfoEnhanced", {"BizToken": token, "RuleId": "1", "InfoType": "0"})


def test_verdict_pass(emu: Emulator, client: tcfaceid.Client) -> None:
    resp = saas_result(client, emu, "pass")
    v = tcfaceid.Verdict.from_response(resp)
    assert v.status == "PASSED" and v.passed and v.code == 0 and v.billed is True
    assert v.intention_code is None and v.reason
    assert len(v.attempts) == 1 and isinstance(v.attempts[0], tcfaceid.Attempt)
    a = v.attempts[0]
    assert a.errcode == 0 and a.livestatus == 0 and a.comparestatus == 0
    assert isinstance(a.sim, float) and isinstance(a.req_time_ms, int) and a.is_need_charge is True
    assert v.text == resp["Text"]
    # The same from the JSON bytes.
    same = tcfaceid.Verdict.from_response(json.dumps(resp, ensure_ascii=False).encode())
    assert same == v
    with pytest.raises(Exception):
        v.status = "FAILED"  # type: ignore[misc]


def test_verdict_failures(emu: Emulator, client: tcfaceid.Client) -> None:
    live = tcfaceid.Verdict.from_response(saas_result(client, emu, "fail_liveness"))
    assert live.status == "FAILED" and not live.passed and live.code == 1002
    assert live.attempts[0].comparestatus is None
    cmp = tcfaceid.Verdict.from_response(saas_result(client, emu, "fail_compare"))
    assert cmp.status == "FAILED" and cmp.code == 2016 and cmp.billed is True
    assert cmp.attempts[-1].comparestatus == 2016


def test_verdict_retry_and_abandon(emu: Emulator, client: tcfaceid.Client) -> None:
    retry = tcfaceid.Verdict.from_response(saas_result(client, emu, "retry_then_pass"))
    assert retry.status == "PASSED" and len(retry.attempts) == 2
    assert retry.attempts[0].errcode == 1002 and retry.attempts[1].errcode == 0
    gone = tcfaceid.Verdict.from_response(saas_result(client, emu, "abandon"))
    assert gone.status == "PENDING" and gone.code is None and not gone.passed and gone.attempts == ()


def test_verdict_intention(emu: Emulator, client: tcfaceid.Client) -> None:
    read_aloud = {"IntentionVerifyText": "本人自愿办理"}
    bad = tcfaceid.Verdict.from_response(saas_result(client, emu, "fail_intention", **read_aloud))
    assert bad.status == "FAILED" and bad.code == 0 and bad.intention_code not in (None, 0)
    good = tcfaceid.Verdict.from_response(saas_result(client, emu, "pass", **read_aloud))
    assert good.status == "PASSED" and good.intention_code == 0


def test_verdict_eid(emu: Emulator, client: tcfaceid.Client) -> None:
    v = tcfaceid.Verdict.from_response(eid_result(client, emu))
    assert v.passed and v.code == 0


def test_verdict_repr_hides_identity(emu: Emulator, client: tcfaceid.Client) -> None:
    resp = saas_result(client, emu, "pass")
    resp["Text"]["Name"], resp["Text"]["IdCard"] = NAME, ID_NO  # as with an OCR rule
    v = tcfaceid.Verdict.from_response(resp)
    assert v.text is not None and v.text["IdCard"] == ID_NO
    for text in (repr(v), str(v), f"{v!r}", repr([v])):
        assert ID_NO not in text and NAME not in text
    assert repr(v) == "Verdict(status='PASSED', code=0, attempts=1)"


def test_verdict_bad_input() -> None:
    with pytest.raises(tcfaceid.JSONError):
        tcfaceid.Verdict.from_response(b"not json")
    with pytest.raises(tcfaceid.JSONError) as e:
        tcfaceid.Verdict.from_response({"Text": {"ErrCode": "0"}})
    assert "ErrCode" in str(e.value)
    with pytest.raises(TypeError):
        tcfaceid._core.verdict(12)  # type: ignore[arg-type]
    pending = tcfaceid.Verdict.from_response({})
    assert pending.status == "PENDING" and pending.billed is None and pending.text is None


def test_reexports() -> None:
    import tcfaceid.flows

    for name in ("Verdict", "Attempt", "decrypt_eid_info"):
        assert getattr(tcfaceid, name) is getattr(tcfaceid.flows, name)
        assert name in tcfaceid.__all__
    for name in ("check_id_card", "normalize_name", "check_phone", "phone_carrier", "check_bank_card",
                 "check_redirect_url", "check_validity_date"):
        assert getattr(tcfaceid, name) is getattr(tcfaceid._core, name)


# ------------------------------------------------------------------------------------------------
# The flow functions of tcfaceid._core: argument conversion and errors (the logic is tested in C
# and through the Client in test_client_flows.py)

core = tcfaceid._core


def test_detect_auth_body_converts_every_argument() -> None:
    body = core.detect_auth_body(
        "1", id_card=ID_NO, name="阿卜杜拉•买买提", redirect_url="https://example.com/r?a=1", extra="e",
        image=b"\x89PNG", intention_questions=[("问题一", ["是", "对"])], intention_recognition=True,
        mouth_open_recognition=False, speed=2, today=1_700_000_000,
    )
    assert json.loads(body) == {
        "RuleId": "1", "IdCard": ID_NO, "Name": "阿卜杜拉·买买提", "RedirectUrl": "https://example.com/r?a=1",
        "Extra": "e", "ImageBase64": "iVBORw==",
        "IntentionQuestions": [{"Question": "问题一", "Answers": ["是", "对"]}],
        "Config": {"IntentionRecognition": True, "MouthOpenRecognition": False, "Speed": 2},
    }
    # a str image is base64 text (data: prefix and white space removed)
    body = core.detect_auth_body("1", image="data:image/png;base64,iVBO\nRw==", intention_actions=["请点头"])
    assert json.loads(body) == {"RuleId": "1", "ImageBase64": "iVBORw==", "IntentionActions": [{"Text": "请点头"}],
                                "Config": {"IntentionType": 1}}


@pytest.mark.parametrize("kwargs, exc", [
    ({"intention_questions": ["问题"]}, TypeError),                       # not a pair
    ({"intention_questions": [("问题", "是")]}, TypeError),               # answers is a str
    ({"intention_questions": [("问题", [1])]}, TypeError),                # an answer is not a str
    ({"intention_actions": "请点头"}, TypeError),                          # a str, not a list
    ({"intention_questions": []}, tcfaceid.InvalidArgumentError),        # 1-10 rounds
    ({"image": b""}, tcfaceid.InvalidArgumentError),
    ({"image": 12}, TypeError),
    ({"speed": 9}, tcfaceid.InvalidArgumentError),
    ({"speed": 10**30}, OverflowError),
    ({"name": "张\x00三"}, tcfaceid.InvalidArgumentError),
])
def test_detect_auth_body_rejects_bad_arguments(kwargs: dict[str, Any], exc: type) -> None:
    with pytest.raises(exc):
        core.detect_auth_body("1", **kwargs)


def test_eid_token_body_and_zero_options() -> None:
    assert json.loads(core.eid_token_body(DEFAULT_MERCHANT_ID, input_type=4, id_card=ID_NO, name=NAME,
                                          intention_verify_text="本人同意")) == {
        "MerchantId": DEFAULT_MERCHANT_ID, "IdCard": ID_NO, "Name": NAME,
        "Config": {"InputType": "4", "UseIntentionVerify": True, "IntentionMode": "1",
                   "IntentionVerifyText": "本人同意"},
    }
    for bad in ({"input_type": 0}, {"intention_mode": 0}, {"input_type": 4}):
        with pytest.raises(tcfaceid.InvalidArgumentError) as e:
            core.eid_token_body(DEFAULT_MERCHANT_ID, **bad)
        assert ID_NO not in str(e.value)


def test_sessions_round_trip_and_kinds() -> None:
    t = core.session_new("saas", b'{"BizToken":"TOK-1","Url":"https://u"}', "1", None, 1_700_000_000)
    assert t[:8] == ("saas", "TOK-1", "1", "https://u", None, 1_700_000_000, 1_700_007_200, 1_700_259_200)
    assert core.session_load(t[8]) == t
    s = tcfaceid.Session.from_json(t[8])
    assert (s.biz_token, s.rule_id, s.to_json()) == ("TOK-1", "1", t[8])
    e = core.session_new("eid", '{"EidToken":"EID-1"}', DEFAULT_MERCHANT_ID, "x", 1_700_000_000)
    assert e[0] == "eid" and e[7] - e[5] == 259_200 and e[6] - e[5] == 600
    assert tcfaceid.EidSession.from_json(e[8]).eid_token == "EID-1"
    with pytest.raises(tcfaceid.JSONError):
        tcfaceid.Session.from_json(e[8])          # an E-ID session is not a SaaS one
    with pytest.raises(tcfaceid.JSONError):
        tcfaceid.EidSession.from_json(t[8])
    with pytest.raises(tcfaceid.JSONError):
        tcfaceid.Session.from_json('{"v":2}')
    with pytest.raises(ValueError):
        core.session_new("paas", b"{}", "1", None, 0)
    with pytest.raises(tcfaceid.InvalidArgumentError):
        core.session_check(t[8], "2", 1_700_000_000)
    with pytest.raises(tcfaceid.TokenExpiredError):
        core.session_check(t[8], None, 1_700_259_201)
    assert core.session_check(t[8], "1", 1_700_259_200) is None


def test_result_plan_body_status_and_poll() -> None:
    assert core.result_plan("saas", "video, text,best_frame") == "134"
    assert core.result_plan("eid", "eid_info,text") == "10"
    with pytest.raises(tcfaceid.InvalidArgumentError):
        core.result_plan("eid", "video")
    assert json.loads(core.result_body("saas", "T", "1", "3", 2)) == {
        "BizToken": "T", "RuleId": "1", "InfoType": "3", "BestFramesCount": 2}
    assert json.loads(core.result_body("eid", "E", None, None, None, True, False)) == {
        "EidToken": "E", "IsCutIdCardImage": True, "IsNeedIdCardAvatar": False}
    with pytest.raises(tcfaceid.InvalidArgumentError):
        core.result_body("eid", "E", None, "3", 4)
    assert core.eid_status(b'{"Status":"doing"}') == "doing"
    with pytest.raises(tcfaceid.JSONError):
        core.eid_status(b'{"Status":"DOING"}')
    transient = tcfaceid.TransportError("reset")
    assert [core.eid_poll_after_error(transient, n) for n in (1, 2, 3)] == [1, 1, 3]
    assert core.eid_poll_after_error(tcfaceid.TokenExpiredError("expired"), 1) == 2
    assert core.eid_poll_after_error(tcfaceid.AuthError("bad key"), 1) == 3
    with pytest.raises(TypeError):
        core.eid_poll_after_error(ValueError("x"), 1)


@pytest.mark.parametrize("url, token", [
    ("https://shop.example/back?order=1&token=AB-12_c.d~e#top", "AB-12_c.d~e"),
    ("/back?token=%41B", "AB"),
    ("token=XYZ", "XYZ"),
])
def test_parse_redirect(url: str, token: str) -> None:
    assert tcfaceid.parse_redirect(url) == token


@pytest.mark.parametrize("url", ["https://a/b", "https://a/b?tokens=1", "?token=", "?token=a+b",
                                 "?token=a&token=b", "?token=<script>", "?token=" + "A" * 129, "?token=%4"])
def test_parse_redirect_refuses(url: str) -> None:
    with pytest.raises(tcfaceid.InvalidArgumentError):
        tcfaceid.parse_redirect(url)


# every ErrCode of faceid-api.md §4.3, with its billing column (Plus edition; None: not documented)
DOCUMENTED_ERRCODES: dict[int, Any] = {
    0: True, 1: False, 2: False, 3: False, 4: False, 8: False, 10: False, 12: False, 13: False, 14: False,
    15: False, 16: False, 17: False, 201: False, 202: False, 203: False, 204: False, 301: False, 302: False,
    303: False, 1001: False, 1002: True, 1003: False, 1004: False, 1005: False, 1006: False, 1007: False,
    1008: False, **{c: False for c in range(1101, 1110)}, **{c: False for c in range(1201, 1206)},
    **{c: None for c in range(1206, 1211)}, 1301: None, 1302: None, 1303: None, 2001: False, 2002: False,
    2003: False, 2004: False, 2005: False, 2006: True, **{c: False for c in range(2007, 2016)}, 2016: True,
    2017: False, 2018: None,
}


@pytest.mark.parametrize("errcode", sorted(DOCUMENTED_ERRCODES))
def test_every_documented_errcode_is_mapped(errcode: int) -> None:
    v = tcfaceid.Verdict.from_response({"Text": {"ErrCode": errcode, "ErrMsg": "文案随时会变", "LivenessDetail": None}})
    assert v.status == ("PASSED" if errcode == 0 else "FAILED")
    assert v.code == errcode
    assert v.billed is DOCUMENTED_ERRCODES[errcode]
    assert v.meaning and v.meaning == core.errcode_meaning(errcode)
    if errcode:
        assert f"ErrCode {errcode} ({v.meaning})" in v.reason
    assert "文案" not in v.reason  # never the message text


def test_undocumented_codes_and_intention_meanings() -> None:
    v = tcfaceid.Verdict.from_response({"Text": {"ErrCode": 9999}})
    assert (v.status, v.billed, v.meaning) == ("FAILED", None, None)
    assert "not in the documented table" in v.reason
    # -1 / -2 swap meanings between the read-aloud and the Q&A / nod tables
    assert core.errcode_meaning(-1, "2") == "system error" and core.errcode_meaning(-1, "0") == "parameter error"
    assert core.errcode_meaning(-302, "0") and core.errcode_meaning(-302, "1") is None
    assert core.errcode_meaning(-301, "3") is None and core.errcode_meaning(2**40) is None


def test_meaning_of_an_intention_failure_is_the_intention_code() -> None:
    v = tcfaceid.Verdict.from_response({
        "Text": {"ErrCode": 0}, "IsVerifyIntention": True, "IntentionVerifyType": "0",
        "IntentionQuestionResult": {"FinalResultDetailCode": -301},
    })
    assert (v.status, v.code, v.intention_code) == ("FAILED", 0, -301)
    assert v.meaning == "the intention was not confirmed"
