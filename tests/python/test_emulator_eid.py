"""E-ID (E证通) in the emulator: tokens, status polling, results and EidInfo encryption."""

from __future__ import annotations

import base64
import json
import urllib.parse

import pytest
from conftest import code
from emuclient import Api

from tcfaceid.emulator import DEFAULT_MERCHANT_ID, DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM, Config, Credential, Emulator, Merchant, gm

ID, NAME = "110101199003071233", "张三"


def eid_token(client: Api, **extra) -> dict:
    params = {"MerchantId": DEFAULT_MERCHANT_ID, "IdCard": ID, "Name": NAME, "Config": {"InputType": "4"}, **extra}
    resp = client.call("GetEidToken", params)
    assert "EidToken" in resp, resp
    return resp


def decrypt(info: dict, pem: str = DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM) -> dict:
    key = gm.sm2_decrypt(gm.sm2_private_key_from_pem(pem), base64.b64decode(info["DesKey"]))
    assert len(key) == 16
    plain = gm.sm4_ecb_decrypt(key, base64.b64decode(info["UserInfo"]))
    return json.loads(plain.rstrip(b"\x00 ").decode("utf-8"))


def status(client: Api, token: str) -> str:
    return client.call("CheckEidTokenStatus", {"EidToken": token})["Status"]


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"MerchantId": "nope"}, "InvalidParameterValue.RuleIdNotExist"),
        ({"Config": {"InputType": "5"}}, "InvalidParameterValue"),
        ({"Config": {"InputType": "4"}, "IdCard": None, "Name": None}, "InvalidParameter"),
        ({"IdCard": "1" * 33}, "InvalidParameterValue"),
        ({"IdCard": "110101-19900307"}, "InvalidParameterValue"),
        ({"Name": "名" * 33}, "InvalidParameterValue"),
        ({"RedirectUrl": "javascript:alert(1)"}, "InvalidParameterValue"),
        ({"Config": {"UseIntentionVerify": True, "IntentionMode": "4"}}, "InvalidParameterValue"),
        ({"Config": {"UseIntentionVerify": True, "IntentionMode": "2"}}, "InvalidParameterValue"),
    ],
)
def test_get_eid_token_rejects_bad_input(client: Api, params: dict, expected: str) -> None:
    base = {"MerchantId": DEFAULT_MERCHANT_ID, "IdCard": ID, "Name": NAME}
    base.update(params)
    assert code(client.call("GetEidToken", {k: v for k, v in base.items() if v is not None})) == expected


def test_full_flow_with_decryption(emu: Emulator, client: Api) -> None:
    resp = eid_token(client, Extra="e-1", RedirectUrl="https://example.com/eid")
    token = resp["EidToken"]
    assert resp["Url"] == f"{emu.endpoint}/eid/verify?token={token}"
    assert status(client, token) == "init"
    pending = client.call("GetEidResult", {"EidToken": token})
    assert pending["Text"]["ErrCode"] is None and pending["EidInfo"] is None
    done = emu.complete(token, "pass")
    assert done["redirect"] == f"https://example.com/eid?token={token}"
    assert status(client, token) == "finished"
    result = client.call("GetEidResult", {"EidToken": token, "InfoType": "0", "BestFramesCount": 9})
    text = result["Text"]
    assert text["ErrCode"] == 0 and text["Name"] == "" and text["IdCard"] == "" and text["Extra"] == "e-1"
    assert len(result["BestFrame"]["BestFrames"]) == 3
    info = result["EidInfo"]
    assert info["EidCode"] and info["EidSign"]
    assert decrypt(info) == {"name": NAME, "idtype": "01", "idnum": ID}
    # EidInfo only comes with InfoType 0.
    assert client.call("GetEidResult", {"EidToken": token, "InfoType": "1"})["EidInfo"] is None
    assert code(client.call("GetEidResult", {"EidToken": token, "InfoType": "4"})) == "InvalidParameterValue"


@pytest.mark.parametrize("padding", ["zero", "pkcs7", "space"])
def test_padding_variants(padding: str) -> None:
    with Emulator(Config(port=0, eid_padding=padding)) as emu:
        c = Api(emu.endpoint, clock=emu.now)
        try:
            token = eid_token(c, Name="阿卜杜拉·买买提", IdCard="650102197806154350")["EidToken"]
            emu.complete(token, "pass")
            info = c.call("GetEidResult", {"EidToken": token})["EidInfo"]
            key = gm.sm2_decrypt(gm.sm2_private_key_from_pem(DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM), base64.b64decode(info["DesKey"]))
            plain = gm.sm4_ecb_decrypt(key, base64.b64decode(info["UserInfo"]))
            assert len(plain) % 16 == 0
            if padding == "pkcs7":
                plain = plain[: -plain[-1]]
            else:
                plain = plain.rstrip(b"\x00" if padding == "zero" else b" ")
            assert json.loads(plain)["name"] == "阿卜杜拉·买买提"
        finally:
            c.close()


def test_merchant_without_identity_return_and_other_account() -> None:
    cfg = Config(port=0, merchants=[Merchant("M-plain"), Merchant("M-other", account="other")])
    cfg.credentials.append(Credential("AKIDotheraccount00000000000000000000", "other-secret-key-000000000000000", account="other"))
    with Emulator(cfg) as emu:
        c = Api(emu.endpoint, clock=emu.now)
        try:
            token = c.call("GetEidToken", {"MerchantId": "M-plain", "IdCard": ID, "Name": NAME})["EidToken"]
            emu.complete(token, "pass")
            info = c.call("GetEidResult", {"EidToken": token})["EidInfo"]
            assert info["DesKey"] == "" and info["UserInfo"] == "" and info["EidCode"] and info["EidSign"]
            resp = c.call("GetEidToken", {"MerchantId": "M-other"})
            assert code(resp) == "InvalidParameter" and "不匹配" in resp["Error"]["Message"]
        finally:
            c.close()


def test_token_lifetime_and_status(emu: Emulator, client: Api) -> None:
    opened = eid_token(client)["EidToken"]
    idle = eid_token(client)["EidToken"]
    assert client.raw("GET", f"/eid/verify?token={opened}")[0] == 200
    assert status(client, opened) == "doing"
    assert client.raw("GET", f"/eid/verify?token={opened}")[0] == 410  # the Url works once
    emu.advance(600)
    assert status(client, idle) == "init"
    emu.advance(1)
    assert status(client, idle) == "timeout" and status(client, opened) == "timeout"
    assert code(client.call("GetEidResult", {"EidToken": idle})) == "InvalidParameterValue.BizTokenExpired"
    assert client.control("complete", {"token": idle, "scenario": "pass"})[0] == 409
    assert code(client.call("CheckEidTokenStatus", {"EidToken": "X" * 36})) == "InvalidParameterValue.BizTokenIllegal"


def test_results_kept_three_days(emu: Emulator, client: Api) -> None:
    token = eid_token(client)["EidToken"]
    emu.complete(token, "fail_compare")
    emu.advance(3 * 86400)
    result = client.call("GetEidResult", {"EidToken": token})
    assert result["Text"]["ErrCode"] == 2016 and result["EidInfo"] is None
    emu.advance(1)
    assert code(client.call("GetEidResult", {"EidToken": token})) == "InvalidParameterValue.BizTokenIllegal"


def test_input_type_3_page(emu: Emulator, client: Api) -> None:
    token = client.call("GetEidToken", {"MerchantId": DEFAULT_MERCHANT_ID, "Config": {"InputType": "3"}})["EidToken"]
    _, _, page = client.raw("GET", f"/eid/verify?token={token}")
    assert 'id="id_card"' in page.decode()
    form = urllib.parse.urlencode({"token": token, "scenario": "pass", "name": "李四", "id_card": "440304198512010027"})
    status_code, headers, _ = client.raw("POST", "/eid/complete", form.encode(), {"Content-Type": "application/x-www-form-urlencoded"})
    assert status_code == 303 and headers["Location"].startswith("/h5/done")
    info = client.call("GetEidResult", {"EidToken": token})["EidInfo"]
    assert decrypt(info) == {"name": "李四", "idtype": "01", "idnum": "440304198512010027"}


def test_eid_intention(emu: Emulator, client: Api) -> None:
    cfg = {"InputType": "4", "UseIntentionVerify": True, "IntentionMode": "3", "IntentionActions": [{"Text": "请点头"}]}
    token = eid_token(client, Config=cfg)["EidToken"]
    emu.complete(token, "fail_intention")
    result = client.call("GetEidResult", {"EidToken": token, "InfoType": "6"})
    assert result["IsVerifyIntention"] is True and result["IntentionVerifyType"] == "1"
    assert result["IntentionActionResult"]["FinalResultDetailCode"] != 0
    assert result["Text"] is None
