"""PaaS liveness and identity-element checks: deterministic outcomes, size limits,
the per-action Result tables and the daily limits."""

from __future__ import annotations

import base64

import pytest
from conftest import code
from emuclient import Api

from tcfaceid.emulator import Config, Emulator

ID, NAME, PHONE, CARD = "110101199003071233", "张三", "13800138000", "6212261000000000017"
VIDEO = base64.b64encode(b"\x00\x00\x00\x18ftypmp42" + b"v" * 4000).decode()


def directive(text: str) -> str:
    return base64.b64encode(b"tcfaceid-emulator:" + text.encode() + b"\nrest of the video").decode()


def test_challenges(client: Api) -> None:
    live = client.call("GetLiveCode", {})["LiveCode"]
    assert len(live) == 4 and live.isdigit()
    assert client.call("GetActionSequence", {})["ActionSequence"] in ("1,2", "2,1")


@pytest.mark.parametrize(
    "params, result",
    [
        ({}, "Success"),
        ({"IdCard": "110101199003071234"}, "FailedOperation.IdFormatError"),
        ({"Name": "Zhang San"}, "FailedOperation.NameFormatError"),
        ({"Name": "李四"}, "FailedOperation.IdNameMisMatch"),
        ({"IdCard": "110105200002290013"}, "FailedOperation.IdNoExistSystem"),
        ({"IdCard": "310115199504308767", "Name": "王五"}, "FailedOperation.IdPhotoNoExist"),
        ({"VideoBase64": directive("result=FailedOperation.LivessDetectFake")}, "FailedOperation.LivessDetectFake"),
        ({"VideoBase64": directive("result=FailedOperation.CompareLowSimilarity;sim=42.5")}, "FailedOperation.CompareLowSimilarity"),
        ({"VideoBase64": "", "VideoUrl": "https://example.com/v.mp4"}, "FailedOperation.DownLoadError"),
    ],
)
def test_liveness_recognition(client: Api, params: dict, result: str) -> None:
    req = {"IdCard": ID, "Name": NAME, "LivenessType": "SILENT", "VideoBase64": VIDEO, **params}
    resp = client.call("LivenessRecognition", req)
    assert resp["Result"] == result, resp
    assert isinstance(resp["Sim"], float) and 0 <= resp["Sim"] <= 100 and resp["Description"]
    if result == "Success":
        assert resp["Sim"] >= 70 and base64.b64decode(resp["BestFrameBase64"]).startswith(b"\x89PNG")
    if "sim=42.5" in str(params):
        assert resp["Sim"] == 42.5


def test_liveness_is_deterministic(client: Api) -> None:
    req = {"IdCard": ID, "Name": NAME, "LivenessType": "LIP", "ValidateData": "1234", "VideoBase64": VIDEO,
           "Optional": '{"BestFrameNum": 3}'}
    a, b = client.call("LivenessRecognition", req), client.call("LivenessRecognition", req)
    assert a["Sim"] == b["Sim"] and len(a["BestFrameList"]) == 3


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"LivenessType": "LIP", "ValidateData": "12a4"}, "InvalidParameterValue"),
        ({"LivenessType": "ACTION", "ValidateData": "3,1"}, "InvalidParameterValue"),
        ({"LivenessType": "BLINK"}, "InvalidParameterValue"),
        ({"VideoBase64": "data:video/mp4;base64,AAAA"}, "InvalidParameterValue"),
        ({"VideoBase64": "AAA\nA"}, "InvalidParameterValue"),
        ({"VideoBase64": "A" * (8 * 1024 * 1024 + 4)}, "InvalidParameterValue"),
        ({"VideoBase64": None}, "MissingParameter"),
        ({"Optional": '{"BestFrameNum": 11}'}, "InvalidParameterValue"),
    ],
)
def test_liveness_bad_input(client: Api, params: dict, expected: str) -> None:
    req = {"IdCard": ID, "Name": NAME, "LivenessType": "SILENT", "VideoBase64": VIDEO, **params}
    assert code(client.call("LivenessRecognition", {k: v for k, v in req.items() if v is not None})) == expected


def test_liveness_compare_and_image_recognition(client: Api) -> None:
    image = base64.b64encode(b"\x89PNG fake image").decode()
    resp = client.call("LivenessCompare", {"LivenessType": "SILENT", "VideoBase64": VIDEO, "ImageBase64": image})
    assert resp["Result"] == "Success" and resp["Sim"] >= 70
    resp = client.call("LivenessCompare", {"LivenessType": "SILENT", "VideoBase64": VIDEO,
                                           "ImageBase64": directive("result=FailedOperation.LifePhotoDetectNoFaces")})
    assert resp["Result"] == "FailedOperation.LifePhotoDetectNoFaces"
    resp = client.call("ImageRecognitionV2", {"IdCard": ID, "Name": NAME, "ImageBase64": image, "Extra": "echo"})
    assert resp["Result"] == "Success" and resp["Extra"] == "echo"
    assert code(client.call("ImageRecognitionV2", {"IdCard": ID, "Name": NAME, "ImageBase64": image, "Extra": "x" * 11})) == "InvalidParameterValue"


def test_paas_identity_limit() -> None:
    with Emulator(Config(port=0, limits={"paas_id_per_minute": 2, "paas_id_per_day": 3})) as emu:
        c = Api(emu.endpoint, clock=emu.now)
        try:
            req = {"IdCard": ID, "Name": NAME, "ImageBase64": "QUJD"}
            assert [c.call("ImageRecognitionV2", req).get("Result") for _ in range(2)] == ["Success"] * 2
            assert code(c.call("ImageRecognitionV2", req)) == "FailedOperation.IdentityAuthLimitExceeded"
            emu.advance(60)
            assert c.call("ImageRecognitionV2", req)["Result"] == "Success"
            assert code(c.call("ImageRecognitionV2", req)) == "FailedOperation.IdentityAuthLimitExceeded"
            assert c.call("ImageRecognitionV2", {**req, "IdCard": "440304198512010027", "Name": "李四"})["Result"] == "Success"
        finally:
            c.close()


ELEMENT_CASES = [
    ("IdCardVerification", {"IdCard": ID, "Name": NAME}, "0"),
    ("IdCardVerification", {"IdCard": ID, "Name": "李四"}, "-1"),
    ("IdCardVerification", {"IdCard": ID[:-1] + "4", "Name": NAME}, "-2"),
    ("IdCardVerification", {"IdCard": "11010119900307123x", "Name": NAME}, "-2"),
    ("IdCardVerification", {"IdCard": ID, "Name": "张.三"}, "-3"),
    ("IdCardVerification", {"IdCard": ID, "Name": "阿卜杜拉•买买提"}, "-3"),
    ("IdCardVerification", {"IdCard": "650102197806154350", "Name": "阿卜杜拉·买买提"}, "0"),
    ("IdCardVerification", {"IdCard": "81000019920101003X", "Name": "陈大文"}, "0"),
    ("IdCardVerification", {"IdCard": "110105200002290013", "Name": NAME}, "-5"),
    ("CheckIdNameDate", {"IdCard": ID, "Name": NAME, "ValidityBegin": "20150101", "ValidityEnd": "20350101"}, "0"),
    ("CheckIdNameDate", {"IdCard": ID, "Name": NAME, "ValidityBegin": "20150101", "ValidityEnd": "00000000"}, "-1"),
    ("CheckIdNameDate", {"IdCard": ID, "Name": NAME, "ValidityBegin": "2015-01-01", "ValidityEnd": "20350101"}, "-4"),
    ("PhoneVerification", {"IdCard": ID, "Name": NAME, "Phone": PHONE}, "0"),
    ("PhoneVerification", {"IdCard": ID, "Name": NAME, "Phone": "1380013800"}, "-6"),
    ("PhoneVerification", {"IdCard": ID, "Name": NAME, "Phone": "10000000000"}, "-13"),
    ("PhoneVerification", {"IdCard": ID, "Name": NAME, "Phone": "13900000000"}, "-9"),
    ("PhoneVerificationCMCC", {"IdCard": ID, "Name": NAME, "Phone": PHONE}, "0"),
    ("PhoneVerificationCUCC", {"IdCard": ID, "Name": NAME, "Phone": PHONE}, "-13"),
    ("PhoneVerificationCTCC", {"IdCard": "650102197806154350", "Name": "阿卜杜拉·买买提", "Phone": "13312345678"}, "0"),
    ("CheckPhoneAndName", {"Mobile": PHONE, "Name": NAME}, "0"),
    ("CheckPhoneAndName", {"Mobile": PHONE, "Name": "李四"}, "1"),
    ("MobileStatus", {"Mobile": "15900001111"}, "0"),
    ("MobileStatus", {"Mobile": "1590000111"}, "-2"),
    ("MobileNetworkTimeVerification", {"Mobile": "15900001111"}, "0"),
    ("BankCard2EVerification", {"Name": NAME, "BankCard": CARD}, "0"),
    ("BankCard2EVerification", {"Name": "李四", "BankCard": CARD}, "-1"),
    ("BankCard2EVerification", {"Name": NAME, "BankCard": CARD[:-1] + "8"}, "-7"),
    ("BankCard2EVerification", {"Name": NAME, "BankCard": "6212-2610"}, "-3"),
    ("BankCardVerification", {"Name": NAME, "IdCard": ID, "BankCard": CARD}, "0"),
    ("BankCardVerification", {"Name": NAME, "IdCard": ID, "BankCard": CARD, "CertType": 1}, "-19"),
    ("BankCardVerification", {"Name": NAME, "IdCard": ID, "BankCard": "6228480000000000026"}, "-1"),
    ("BankCard4EVerification", {"Name": NAME, "IdCard": ID, "BankCard": CARD, "Phone": PHONE}, "0"),
    ("BankCard4EVerification", {"Name": NAME, "IdCard": ID, "BankCard": CARD, "Phone": "18612345678"}, "-1"),
    ("BankCard4EVerification", {"Name": NAME, "IdCard": ID, "BankCard": CARD[:-1] + "8", "Phone": PHONE}, "-9"),
    ("CheckBankCardInformation", {"BankCard": "6228480000000000026"}, "0"),
    ("CheckBankCardInformation", {"BankCard": "6228480000000000034"}, "-3"),
]


@pytest.mark.parametrize("action, params, result", ELEMENT_CASES, ids=[f"{a}{r}-{i}" for i, (a, _, r) in enumerate(ELEMENT_CASES)])
def test_element_results(client: Api, action: str, params: dict, result: str) -> None:
    resp = client.call(action, params)
    assert resp["Result"] == result, resp
    assert isinstance(resp["Description"], str) and resp["Description"]


def test_element_extra_fields(emu: Emulator, client: Api) -> None:
    assert client.call("PhoneVerification", {"IdCard": ID, "Name": NAME, "Phone": PHONE})["Isp"] == "移动"
    detail = client.call("PhoneVerification", {"IdCard": "440304198512010027", "Name": NAME, "Phone": PHONE, "VerifyMode": "1"})
    assert detail["Result"] == "-4" and detail["ResultDetail"] == "PhoneIdCardMismatch"
    assert client.call("MobileStatus", {"Mobile": "15900001111"})["StatusCode"] == 1
    assert client.call("MobileNetworkTimeVerification", {"Mobile": "15900001111"})["Range"] == "[3,6)"
    assert client.call("MobileNetworkTimeVerification", {"Mobile": PHONE})["Range"] == "[24,+)"
    info = client.call("CheckBankCardInformation", {"BankCard": "6228480000000000026"})
    assert (info["AccountBank"], info["AccountType"]) == ("中国农业银行", 2)
    stats = emu.stats()
    assert stats["billed"]["PhoneVerification"] == 2 and stats["billed"]["CheckBankCardInformation"] == 1


def test_identities_can_be_added(client: Api) -> None:
    person = {"name": "赵六", "id_card": "320106198808085671", "phone": "18912345678"}
    assert client.call("IdCardVerification", {"IdCard": person["id_card"], "Name": "赵六"})["Result"] == "-5"
    status, body = client.control("identities", {"identities": [person]})
    assert status == 200
    assert client.call("IdCardVerification", {"IdCard": person["id_card"], "Name": "赵六"})["Result"] == "0"
    assert client.control("identities", {"identities": [{"name": "x", "id_card": "123"}]})[0] == 400


def test_element_daily_limits() -> None:
    with Emulator(Config(port=0, limits={"idcard_name_per_day": 3, "element_per_day": 2})) as emu:
        c = Api(emu.endpoint, clock=emu.now)
        try:
            req = {"IdCard": ID, "Name": NAME}
            assert [c.call("IdCardVerification", req)["Result"] for _ in range(4)] == ["0", "0", "0", "-7"]
            phone = {"IdCard": ID, "Name": NAME, "Phone": PHONE}
            assert [c.call("PhoneVerification", phone)["Result"] for _ in range(3)] == ["0", "0", "-12"]
            card = {"Name": NAME, "BankCard": CARD}
            assert [c.call("BankCard2EVerification", card)["Result"] for _ in range(3)] == ["0", "0", "-17"]
            # Reset at 00:00 Asia/Shanghai.
            now = emu.now()
            emu.set_time((now + 8 * 3600) // 86400 * 86400 + 86400 - 8 * 3600)
            assert c.call("IdCardVerification", req)["Result"] == "0"
            assert c.call("BankCard2EVerification", card)["Result"] == "0"
        finally:
            c.close()


# -- IdCardOCRVerification -------------------------------------------------------------------------

def ocr_image(text: str = "") -> str:
    """A fake ID-card photo; the emulator "OCRs" the directive line at its start."""
    head = b"tcfaceid-emulator:" + text.encode() + b"\n" if text else b""
    return base64.b64encode(head + b"\xff\xd8\xff\xe0 fake jpeg").decode()


@pytest.mark.parametrize(
    "params, result",
    [
        ({"IdCard": ID, "Name": NAME}, "0"),
        ({"IdCard": ID, "Name": "李四"}, "-1"),
        ({"IdCard": ID[:-1] + "4", "Name": NAME}, "-2"),
        ({"IdCard": ID, "Name": "Zhang San"}, "-3"),
        ({"IdCard": "110105200002290013", "Name": NAME}, "-5"),
        ({"ImageBase64": ocr_image(f"idcard={ID}")}, "0"),
        ({"ImageBase64": ocr_image(f"idcard={ID};name=李四")}, "-1"),
        ({"ImageBase64": ocr_image("idcard=110101199003071234")}, "-2"),
        ({"ImageBase64": ocr_image("idcard=110105200002290013")}, "-5"),
        ({"ImageBase64": ocr_image("idcard=110105200002290013;name=赵六")}, "-5"),
        ({"ImageBase64": ocr_image(f"idcard={ID};result=-6")}, "-6"),
        ({"ImageBase64": ocr_image(f"idcard={ID};result=-4")}, "-4"),
        # Name + IdCard win over the image.
        ({"IdCard": ID, "Name": NAME, "ImageBase64": ocr_image(f"idcard={ID};name=李四")}, "0"),
        # Only one of Name / IdCard: the image is used.
        ({"IdCard": ID, "ImageBase64": ocr_image("idcard=440304198512010027")}, "0"),
    ],
)
def test_id_card_ocr_results(client: Api, params: dict, result: str) -> None:
    resp = client.call("IdCardOCRVerification", params)
    assert resp["Result"] == result, resp
    assert isinstance(resp["Description"], str) and resp["Description"]


def test_id_card_ocr_fields(emu: Emulator, client: Api) -> None:
    resp = client.call("IdCardOCRVerification", {"IdCard": ID, "Name": NAME})
    assert (resp["Name"], resp["IdCard"], resp["Sex"], resp["Birth"]) == (NAME, ID, "男", "1990/3/7")
    assert resp["Nation"] == "汉" and resp["Address"]
    # A mismatch on Name + IdCard reveals nothing.
    resp = client.call("IdCardOCRVerification", {"IdCard": ID, "Name": "李四"})
    assert resp["Result"] == "-1" and resp["Name"] is None and resp["Sex"] is None
    # From an image: what was read, even on a mismatch; Nation / Address from the library or the directive.
    resp = client.call("IdCardOCRVerification", {"ImageBase64": ocr_image("idcard=440304198512010027;name=张三")})
    assert resp["Result"] == "-1" and (resp["Name"], resp["IdCard"]) == ("张三", "440304198512010027")
    assert (resp["Sex"], resp["Birth"], resp["Nation"], resp["Address"]) == ("女", "1985/12/1", None, None)
    assert resp["Warnings"] == "" and resp["Quality"] == 100
    resp = client.call("IdCardOCRVerification", {"ImageBase64": ocr_image(
        "idcard=110105200002290013;name=赵六;nation=回;address=某地;warnings=-9102|-9107;quality=40")})
    assert resp["Result"] == "-5" and (resp["Nation"], resp["Address"]) == ("回", "某地")
    assert (resp["Warnings"], resp["Quality"], resp["Sex"]) == ("-9102|-9107", 40, "男")
    assert emu.stats()["billed"]["IdCardOCRVerification"] == 3  # 0 and the two -1 (-5 is not billed)


@pytest.mark.parametrize(
    "params, expected",
    [
        ({}, "MissingParameter"),
        ({"Name": NAME}, "MissingParameter"),
        ({"ImageBase64": ocr_image()}, "FailedOperation.ImageNoIdCard"),
        ({"ImageBase64": ocr_image("name=张三")}, "FailedOperation.OcrFailed"),
        ({"ImageBase64": ocr_image("error=FailedOperation.ImageBlur")}, "FailedOperation.ImageBlur"),
        ({"ImageBase64": ocr_image("error=FailedOperation.LivessDetectFake")}, "InvalidParameterValue"),
        ({"ImageBase64": ocr_image(f"idcard={ID};result=-9")}, "InvalidParameterValue"),
        ({"ImageBase64": "data:image/jpeg;base64," + ocr_image(f"idcard={ID}")}, "InvalidParameterValue"),
        ({"ImageBase64": "A" * (3 * 1024 * 1024 + 4)}, "InvalidParameterValue"),
        ({"ImageUrl": "https://example.com/id.jpg"}, "FailedOperation.DownLoadError"),
        ({"IdCard": ID, "Name": NAME, "Config": "[1]"}, "InvalidParameterValue"),
    ],
)
def test_id_card_ocr_errors(emu: Emulator, client: Api, params: dict, expected: str) -> None:
    assert code(client.call("IdCardOCRVerification", params)) == expected
    assert "IdCardOCRVerification" not in emu.stats()["billed"]


def test_id_card_ocr_image_url(client: Api) -> None:
    import http.server
    import threading

    bodies = {"/id.jpg": base64.b64decode(ocr_image(f"idcard={ID}")), "/empty.jpg": b"",
              "/big.jpg": b"\0" * (3 * 1024 * 1024)}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = bodies.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        resp = client.call("IdCardOCRVerification", {"ImageUrl": base + "/id.jpg"})
        assert resp["Result"] == "0" and resp["Name"] == NAME
        # ImageBase64 wins over ImageUrl.
        resp = client.call("IdCardOCRVerification", {"ImageUrl": base + "/id.jpg",
                                                     "ImageBase64": ocr_image(f"idcard={ID};name=李四")})
        assert resp["Result"] == "-1"
        assert code(client.call("IdCardOCRVerification", {"ImageUrl": base + "/empty.jpg"})) == "FailedOperation.EmptyImageError"
        assert code(client.call("IdCardOCRVerification", {"ImageUrl": base + "/big.jpg"})) == "FailedOperation.ImageSizeTooLarge"
        assert code(client.call("IdCardOCRVerification", {"ImageUrl": base + "/missing.jpg"})) == "FailedOperation.DownLoadError"
    finally:
        server.shutdown()
        server.server_close()


def test_id_card_ocr_daily_limit() -> None:
    with Emulator(Config(port=0, limits={"element_per_day": 2})) as emu:
        c = Api(emu.endpoint, clock=emu.now)
        try:
            req = {"IdCard": ID, "Name": NAME}
            assert [c.call("IdCardOCRVerification", req)["Result"] for _ in range(3)] == ["0", "0", "-7"]
            img = {"ImageBase64": ocr_image(f"idcard={ID}")}  # the same identity, read from an image
            assert c.call("IdCardOCRVerification", img)["Result"] == "-7"
            assert emu.stats()["billed"]["IdCardOCRVerification"] == 2
            now = emu.now()
            emu.set_time((now + 8 * 3600) // 86400 * 86400 + 86400 - 8 * 3600)
            assert c.call("IdCardOCRVerification", img)["Result"] == "0"
        finally:
            c.close()
