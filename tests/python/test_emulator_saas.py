"""SaaS flow in the emulator: DetectAuth checks, BizToken lifetimes, results and verdict data."""

from __future__ import annotations

import base64
import json
import urllib.parse

import pytest
from conftest import code
from emuclient import Api

from tcfaceid.emulator import Config, Credential, Emulator, Rule

ID, NAME = "110101199003071233", "张三"


def detect_auth(client: Api, **extra) -> dict:
    params = {"RuleId": "1", "IdCard": ID, "Name": NAME, **extra}
    resp = client.call("DetectAuth", params)
    assert "BizToken" in resp, resp
    return resp


def result(client: Api, token: str, info_type: str = "1", rule_id: str = "1", **extra) -> dict:
    return client.call("GetDetectInfoEnhanced", {"BizToken": token, "RuleId": rule_id, "InfoType": info_type, **extra})


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"RedirectUrl": "ftp://example.com/"}, "InvalidParameterValue"),
        ({"RedirectUrl": "example.com/back"}, "InvalidParameterValue"),
        ({"RedirectUrl": "https://example.com/" + "a" * 1010}, "InvalidParameterValue"),
        ({"Name": "张" * 33}, "InvalidParameterValue"),
        ({"IdCard": "11010119900307123x"}, "InvalidParameterValue"),
        ({"IdCard": "1101-0119"}, "InvalidParameterValue"),
        ({"Extra": "e" * 1025}, "InvalidParameterValue"),
        ({"ImageBase64": "data:image/jpg;base64,AAAA"}, "InvalidParameterValue"),
        ({"ImageBase64": "AAA"}, "InvalidParameterValue"),
        ({"ImageBase64": "A" * (3 * 1024 * 1024 + 4)}, "InvalidParameterValue"),
        ({"IntentionVerifyText": "字" * 121}, "InvalidParameterValue"),
        ({"IntentionQuestions": []}, "InvalidParameterValue"),
        ({"IntentionQuestions": [{"Question": "q", "Answers": ["a" * 11]}]}, "InvalidParameterValue"),
        ({"IntentionActions": [{"Text": "t"}] * 11}, "InvalidParameterValue"),
        ({"RuleId": "404"}, "InvalidParameterValue.RuleIdNotExist"),
        ({"TerminalType": 3}, "InvalidParameter"),
        ({"Unknown": "x"}, "UnknownParameter"),
    ],
)
def test_detect_auth_rejects_bad_input(client: Api, params: dict, expected: str) -> None:
    resp = client.call("DetectAuth", {"RuleId": "1", "IdCard": ID, "Name": NAME, **params})
    assert code(resp) == expected, resp
    assert "BizToken" not in resp


def test_detect_auth_accepts_documented_limits(client: Api) -> None:
    resp = detect_auth(client, Name="阿" * 31 + "·", Extra="e" * 1024,
                       RedirectUrl="https://example.com/" + "a" * 1004, ImageBase64="QUJD")
    assert resp["Url"].endswith(resp["BizToken"]) and resp["RequestId"]


def test_identity_required_unless_ocr() -> None:
    cfg = Config(port=0, rules=[Rule("1"), Rule("ocr", ocr=True), Rule("up", compare_lib="upload"), Rule("off", disabled=True)])
    with Emulator(cfg) as emu:
        c = Api(emu.endpoint, clock=emu.now)
        try:
            assert code(c.call("DetectAuth", {"RuleId": "1"})) == "InvalidParameter"
            token = c.call("DetectAuth", {"RuleId": "ocr"})["BizToken"]
            emu.complete(token, "pass")
            text = result(c, token, rule_id="ocr")["Text"]
            assert text["ErrCode"] == 0 and text["IdInfoFrom"] == "OCR" and text["OcrIdCard"] == text["IdCard"] != ""
            assert code(c.call("DetectAuth", {"RuleId": "up", "IdCard": ID, "Name": NAME})) == "InvalidParameter"
            up = c.call("DetectAuth", {"RuleId": "up", "IdCard": ID, "Name": NAME, "ImageBase64": "QUJD"})["BizToken"]
            emu.complete(up, "pass")
            assert result(c, up, rule_id="up")["Text"]["CompareLibType"] == "业务方自有库"
            assert code(c.call("DetectAuth", {"RuleId": "off", "IdCard": ID, "Name": NAME})) == "InvalidParameterValue.RuleIdDisabled"
        finally:
            c.close()


def test_pending_result_is_null(client: Api) -> None:
    token = detect_auth(client, Extra="order-1")["BizToken"]
    resp = result(client, token, "0")
    text = resp["Text"]
    assert text["ErrCode"] is None and text["ErrMsg"] is None and text["LiveStatus"] is None
    assert text["Sim"] is None and text["LivenessDetail"] == [] and text["Extra"] == "order-1"
    assert resp["BestFrame"]["BestFrame"] is None and resp["VideoData"]["LivenessVideo"] is None
    assert resp["IsVerifyIntention"] is False and resp["IntentionVerifyType"] is None
    assert resp["Encryption"] == {"EncryptList": [], "CiphertextBlob": "", "Iv": "", "Algorithm": "", "TagList": []}
    assert resp["EncryptedBody"] == ""


@pytest.mark.parametrize(
    "scenario, final, attempts",
    [
        ("pass", 0, [(0, 0, 0)]),
        ("fail_liveness", 1002, [(1002, 1002, None)]),
        ("fail_compare", 2016, [(2016, 0, 2016)]),
        ("retry_then_pass", 0, [(1002, 1002, None), (0, 0, 0)]),
    ],
)
def test_scenarios(emu: Emulator, client: Api, scenario: str, final: int, attempts: list) -> None:
    token = detect_auth(client)["BizToken"]
    status, body = client.control("complete", {"token": token, "scenario": scenario})
    assert status == 200 and body["err_code"] == final
    text = result(client, token)["Text"]
    assert text["ErrCode"] == final
    got = [(a["Errcode"], a["Livestatus"], a["Comparestatus"]) for a in text["LivenessDetail"]]
    assert got == attempts
    last = text["LivenessDetail"][-1]
    assert (text["LiveStatus"], text["Comparestatus"], text["Sim"]) == (last["Livestatus"], last["Comparestatus"], last["Sim"])
    for a in text["LivenessDetail"]:
        assert isinstance(a["ReqTime"], str) and len(a["ReqTime"]) == 13 and a["Idcard"] == ID
        assert a["Sim"] is None or (isinstance(a["Sim"], str) and 0 <= float(a["Sim"]) <= 100)
        if a["Comparestatus"] == 0:
            assert float(a["Sim"]) >= 70
        if a["Comparestatus"] == 2016:
            assert float(a["Sim"]) < 70
    assert text["UseIDType"] == 0 and text["IdCard"] == ID and text["Name"] == NAME


def test_custom_attempts_and_codes(emu: Emulator, client: Api) -> None:
    token = detect_auth(client)["BizToken"]
    emu.complete(token, "fail_liveness", attempts=[{"liveness": 1001}, {"liveness": 0, "compare": 2006}])
    text = result(client, token)["Text"]
    assert text["ErrCode"] == 2006
    assert [a["IsNeedCharge"] for a in text["LivenessDetail"]] == [False, True]
    token2 = detect_auth(client)["BizToken"]
    emu.complete(token2, "fail_compare", code=2015)
    assert result(client, token2)["Text"]["ErrCode"] == 2015


def test_abandon_stays_pending(emu: Emulator, client: Api) -> None:
    token = detect_auth(client)["BizToken"]
    assert emu.complete(token, "abandon")["status"] == "abandoned"
    assert result(client, token)["Text"]["ErrCode"] is None
    # The person may come back within the token's lifetime.
    emu.complete(token, "pass")
    assert result(client, token)["Text"]["ErrCode"] == 0


def test_completion_is_once_only(emu: Emulator, client: Api) -> None:
    token = detect_auth(client)["BizToken"]
    emu.complete(token, "pass")
    status, body = client.control("complete", {"token": token, "scenario": "fail_compare"})
    assert status == 409
    assert client.control("complete", {"token": "nope", "scenario": "pass"})[0] == 404
    assert client.control("complete", {"token": token, "scenario": "sing"})[0] in (400, 409)


def test_biz_token_lifetime(emu: Emulator, client: Api) -> None:
    done = detect_auth(client)["BizToken"]
    pending = detect_auth(client)["BizToken"]
    emu.complete(done, "pass")
    emu.advance(7200)
    assert result(client, pending)["Text"]["ErrCode"] is None  # exactly 7,200 s: still valid
    emu.advance(1)
    assert code(result(client, pending)) == "InvalidParameterValue.BizTokenExpired"
    status, body = client.control("complete", {"token": pending, "scenario": "pass"})
    assert status == 409 and "expired" in body["error"]
    assert result(client, done)["Text"]["ErrCode"] == 0  # completed results stay for 3 days
    emu.advance(3 * 86400 - 7201)
    assert result(client, done)["Text"]["ErrCode"] == 0
    emu.advance(1)
    resp = result(client, done)
    assert code(resp) == "InvalidParameter" and "非法BizToken" in resp["Error"]["Message"]


def test_rule_and_account_must_match() -> None:
    cfg = Config(port=0, rules=[Rule("1"), Rule("2"), Rule("9", account="other")])
    cfg.credentials.append(Credential("AKIDotheraccount00000000000000000000", "other-secret-key-000000000000000", account="other"))
    with Emulator(cfg) as emu:
        c = Api(emu.endpoint, clock=emu.now)
        other = Api(emu.endpoint, clock=emu.now, secret_id="AKIDotheraccount00000000000000000000",
                    secret_key="other-secret-key-000000000000000")
        try:
            token = detect_auth(c)["BizToken"]
            resp = result(c, token, rule_id="2")
            assert code(resp) == "InvalidParameter" and "非法BizToken" in resp["Error"]["Message"]
            assert code(result(c, token, rule_id="3")) == "InvalidParameterValue.RuleIdNotExist"
            assert code(result(other, token, rule_id="9")) == "InvalidParameter"
            assert code(other.call("DetectAuth", {"RuleId": "1", "IdCard": ID, "Name": NAME})) == "InvalidParameterValue.RuleIdNotExist"
            assert code(result(c, "0" * 36)) == "InvalidParameter"
        finally:
            c.close()
            other.close()


def test_info_type_parts(emu: Emulator, client: Api) -> None:
    token = detect_auth(client)["BizToken"]
    emu.complete(token, "pass", video_bytes=100_000)
    only_text = result(client, token, "1")
    assert only_text["Text"] and only_text["BestFrame"] is None and only_text["VideoData"] is None and only_text["IdCardData"] is None
    frames = result(client, token, "3", BestFramesCount=12)
    assert frames["Text"] is None
    assert base64.b64decode(frames["BestFrame"]["BestFrame"]).startswith(b"\x89PNG")
    assert len(frames["BestFrame"]["BestFrames"]) == 10
    video = result(client, token, "4")["VideoData"]["LivenessVideo"]
    raw = base64.b64decode(video)
    assert len(raw) == 100_000 and raw[4:8] == b"ftyp"
    both = result(client, token, "13")
    assert both["Text"] and both["BestFrame"] and both["VideoData"] is None
    everything = result(client, token, "0")
    assert everything["Text"] and everything["BestFrame"] and everything["VideoData"] and everything["IdCardData"]
    for bad in ("7", "1a", "١"):
        assert code(result(client, token, bad)) == "InvalidParameterValue"


@pytest.mark.parametrize(
    "params, kind, field",
    [
        ({"IntentionVerifyText": "本人自愿办理"}, "2", "IntentionVerifyData"),
        ({"IntentionQuestions": [{"Question": "是否本人办理？", "Answers": ["是", "是的"]}]}, "0", "IntentionQuestionResult"),
        ({"IntentionActions": [{"Text": "请点头确认"}, {"Text": "再次点头"}], "Config": {"IntentionType": 1}}, "1", "IntentionActionResult"),
    ],
)
def test_intention(emu: Emulator, client: Api, params: dict, kind: str, field: str) -> None:
    ok = detect_auth(client, **params)["BizToken"]
    bad = detect_auth(client, **params)["BizToken"]
    emu.complete(ok, "pass")
    emu.complete(bad, "fail_intention")
    good, failed = result(client, ok, "0"), result(client, bad, "0")
    for r in (good, failed):
        assert r["IsVerifyIntention"] is True and r["IntentionVerifyType"] == kind
        assert r["Text"]["ErrCode"] == 0  # Text covers liveness and comparison only
    key = "ErrorCode" if field == "IntentionVerifyData" else "FinalResultDetailCode"
    assert good[field][key] == 0 and failed[field][key] != 0
    if field == "IntentionActionResult":
        assert len(good[field]["Details"]) == 2
    # Liveness failed before the intention step: no intention result.
    early = detect_auth(client, **params)["BizToken"]
    emu.complete(early, "fail_liveness")
    assert result(client, early, "0")[field] is None


def test_saas_identity_rate_limit(emu: Emulator, client: Api) -> None:
    tokens = [detect_auth(client)["BizToken"] for _ in range(16)]
    for t in tokens[:15]:
        emu.complete(t, "pass")
    emu.complete(tokens[15], "pass")
    assert result(client, tokens[15])["Text"]["ErrCode"] == 2018  # 15 per minute
    emu.advance(61)
    more = [detect_auth(client)["BizToken"] for _ in range(16)]
    for t in more:
        emu.complete(t, "pass")
    assert result(client, more[14])["Text"]["ErrCode"] == 0  # the 30th of the day
    assert result(client, more[15])["Text"]["ErrCode"] == 2018  # 30 per day
    # The day ends at 00:00 Asia/Shanghai on the emulator's clock.
    now = emu.now()
    midnight = (now + 8 * 3600) // 86400 * 86400 + 86400 - 8 * 3600
    emu.set_time(midnight + 1)
    fresh = detect_auth(client)["BizToken"]
    emu.complete(fresh, "pass")
    assert result(client, fresh)["Text"]["ErrCode"] == 0


def test_legacy_get_detect_info(emu: Emulator, client: Api) -> None:
    token = detect_auth(client, Extra="x")["BizToken"]
    emu.complete(token, "retry_then_pass")
    resp = client.call("GetDetectInfo", {"BizToken": token, "RuleId": "1", "InfoType": "12"})
    info = json.loads(resp["DetectInfo"])
    assert set(info) == {"Text", "IdCardData"}
    assert info["Text"]["ErrCode"] == 0 and len(info["Text"]["Detail"]["LivenessData"]) == 2


def test_page_and_redirect_over_http(emu: Emulator, client: Api) -> None:
    token = detect_auth(client, RedirectUrl="https://shop.example/back?order=7#top")["BizToken"]
    status, headers, page = client.raw("GET", f"/h5/verify?token={token}")
    html = page.decode()
    assert status == 200 and "scenario-pass" in html and ID not in html and "110" in html
    form = urllib.parse.urlencode({"token": token, "scenario": "pass"}).encode()
    status, headers, _ = client.raw("POST", "/h5/complete", form, {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 303
    assert headers["Location"] == f"https://shop.example/back?order=7&token={token}#top"
    status, _, page = client.raw("GET", f"/h5/verify?token={token}")
    assert status == 409 and "ErrCode 14" in page.decode()
