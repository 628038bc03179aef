"""Cross-check of the emulator with a client nobody here wrote: the official
Tencent Cloud SDK for Python (tencentcloud-sdk-python-faceid).

The SDK signs requests with its own TC3-HMAC-SHA256 / HmacSHA256 code, picks its
own headers and Content-Type, sends the Host header with the port, and
deserialises the answers into its typed models. If the emulator and the SDK
disagree on any of that, a test here fails.

The SDK signs with the real clock. The one test that needs the emulator's clock
far ahead (the 7200 s BizToken expiry) makes the SDK sign with the emulator's
clock instead (``sdk_clock``); the SignatureExpire test relies on the real clock.
"""

from __future__ import annotations

import base64
import contextlib
import html.parser
import json
import re
import urllib.error
import urllib.parse
import urllib.request
import warnings
from typing import Any, Iterator, Optional

import pytest
import tencentcloud.common.abstract_client as sdk_abstract_client
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.faceid.v20180301 import faceid_client, models

from tcfaceid.emulator import (
    DEFAULT_MERCHANT_ID,
    DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM,
    DEFAULT_SECRET_ID,
    DEFAULT_SECRET_KEY,
    Emulator,
    Rule,
    gm,
)

# The SDK calls datetime.utcfromtimestamp, deprecated from Python 3.12 on; that is
# the SDK's business, not the emulator's.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:tencentcloud.*")

ID_CARD = "110101199003071233"
NAME = "张三"
BAD_CHECKSUM_ID = "110101199003071234"  # same person, wrong check digit
REDIRECT_URL = "https://example.com/back?x=1"
REGION = "ap-guangzhou"


# -- fixtures and helpers ---------------------------------------------------------
@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both the SDK (requests) and urllib honour *_PROXY variables; the emulator is local."""
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(rules=[Rule("1"), Rule("2")]) as e:
        yield e


def sdk_client(
    emu: Emulator,
    *,
    secret_id: str = DEFAULT_SECRET_ID,
    secret_key: str = DEFAULT_SECRET_KEY,
    req_method: str = "POST",
    sign_method: Optional[str] = None,
    unsigned_payload: bool = False,
    wire: Optional[list] = None,
) -> faceid_client.FaceidClient:
    """A FaceidClient pointed at the emulator over plain HTTP.

    ``wire``: a list that receives every ``requests.PreparedRequest`` the SDK
    sends (through a response hook on the SDK's requests session)."""
    http_profile = HttpProfile(endpoint=emu.host_port, reqMethod=req_method, reqTimeout=10)
    http_profile.scheme = "http"  # the SDK reads .scheme (not .protocol) to choose http://
    profile = ClientProfile(signMethod=sign_method, httpProfile=http_profile)
    if unsigned_payload:
        profile.unsignedPayload = True
    client = faceid_client.FaceidClient(credential.Credential(secret_id, secret_key), REGION, profile)
    if wire is not None:
        client.request.conn._session.hooks["response"].append(lambda r, *a, **k: wire.append(r.request))
    return client


@contextlib.contextmanager
def sdk_clock(emu: Emulator) -> Iterator[None]:
    """Make the SDK sign with the emulator's clock (it calls ``time.time()`` of its module)."""

    class _Clock:
        @staticmethod
        def time() -> float:
            return float(emu.now())

    real = sdk_abstract_client.time
    sdk_abstract_client.time = _Clock  # type: ignore[assignment]
    try:
        yield
    finally:
        sdk_abstract_client.time = real


def detect_auth(client: faceid_client.FaceidClient, rule_id: str = "1", **fields: Any) -> models.DetectAuthResponse:
    req = models.DetectAuthRequest()
    req.RuleId = rule_id
    req.IdCard = ID_CARD
    req.Name = NAME
    for k, v in fields.items():
        setattr(req, k, v)
    return client.DetectAuth(req)


def get_detect_info(client: faceid_client.FaceidClient, token: str, rule_id: str = "1",
                    info_type: str = "0") -> models.GetDetectInfoEnhancedResponse:
    req = models.GetDetectInfoEnhancedRequest()
    req.BizToken = token
    req.RuleId = rule_id
    req.InfoType = info_type
    return client.GetDetectInfoEnhanced(req)


def id_card_verification(client: faceid_client.FaceidClient, id_card: str = ID_CARD,
                         name: str = NAME) -> models.IdCardVerificationResponse:
    req = models.IdCardVerificationRequest()
    req.IdCard = id_card
    req.Name = name
    return client.IdCardVerification(req)


def sdk_error(call: Any) -> TencentCloudSDKException:
    with pytest.raises(TencentCloudSDKException) as info:
        call()
    return info.value


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001
        return None  # urllib then raises HTTPError carrying the 3xx response


_browser = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


class _FormParser(html.parser.HTMLParser):
    """The verification page's form: action, method, hidden fields, scenario buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, Optional[str]]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action"), "method": (a.get("method") or "get").lower(),
                               "hidden": {}, "scenarios": []})
        elif self.forms and tag == "input" and a.get("type") == "hidden":
            self.forms[-1]["hidden"][a.get("name")] = a.get("value") or ""
        elif self.forms and tag == "button" and a.get("name") == "scenario":
            self.forms[-1]["scenarios"].append(a.get("value"))


# -- the SaaS flow, end to end ------------------------------------------------------
def test_sdk_saas_flow_through_the_page(emu: Emulator) -> None:
    wire: list = []
    client = sdk_client(emu, wire=wire)
    extra = "order=42&note=测试"
    resp = detect_auth(client, RedirectUrl=REDIRECT_URL, Extra=extra)
    assert isinstance(resp, models.DetectAuthResponse)
    assert re.fullmatch(r"[0-9A-F-]{36}", resp.BizToken), resp.BizToken
    assert resp.Url.startswith(emu.endpoint + "/h5/verify?")
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(resp.Url).query)["token"] == [resp.BizToken]
    assert resp.RequestId

    # What the SDK put on the wire was accepted as is: Host with the port, JSON body.
    sent = wire[-1]
    assert sent.method == "POST"
    assert sent.headers["Host"] == emu.host_port
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.headers["X-TC-Action"] == "DetectAuth"
    assert sent.headers["Authorization"].startswith("TC3-HMAC-SHA256 Credential=" + DEFAULT_SECRET_ID + "/")
    assert json.loads(sent.body)["Extra"] == extra

    # A browser opens the Url ...
    with _browser.open(resp.Url, timeout=10) as page:
        assert page.status == 200
        assert page.headers.get_content_type() == "text/html"
        html_text = page.read().decode(page.headers.get_content_charset() or "utf-8")
    assert "<form" in html_text
    parser = _FormParser()
    parser.feed(html_text)
    assert len(parser.forms) == 1, parser.forms
    form = parser.forms[0]
    assert form["method"] == "post"
    assert form["hidden"].get("token") == resp.BizToken
    assert "retry_then_pass" in form["scenarios"]

    # ... and submits it with "retry, then pass"; the 303 is not followed.
    action_url = urllib.parse.urljoin(resp.Url, form["action"])
    assert urllib.parse.urlsplit(action_url).path == "/h5/complete"
    body = urllib.parse.urlencode({**form["hidden"], "scenario": "retry_then_pass"}).encode()
    with pytest.raises(urllib.error.HTTPError) as redirect:
        _browser.open(urllib.request.Request(action_url, data=body, method="POST"), timeout=10)
    assert redirect.value.code == 303
    location = redirect.value.headers["Location"]
    redirect.value.close()
    target = urllib.parse.urlsplit(location)
    assert (target.scheme, target.netloc, target.path) == ("https", "example.com", "/back")
    query = urllib.parse.parse_qs(target.query)
    assert query == {"x": ["1"], "token": [resp.BizToken]}

    # The backend pulls the result through the SDK; every field must be one the SDK models know.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        info = get_detect_info(client, resp.BizToken, info_type="0")
    useless = [str(w.message) for w in caught if "useless" in str(w.message)]
    assert not useless, f"the emulator returned fields the SDK's models do not have: {useless}"

    assert isinstance(info, models.GetDetectInfoEnhancedResponse)
    assert isinstance(info.Text, models.DetectInfoText)
    assert info.Text.ErrCode == 0
    assert info.Text.Extra == extra
    assert info.Text.IdCard == ID_CARD and info.Text.Name == NAME
    detail = info.Text.LivenessDetail
    assert len(detail) == 2
    assert all(isinstance(d, models.DetectDetail) for d in detail)
    codes = [d.Errcode for d in detail]
    assert codes[0] != 0 and codes[1] == 0, codes
    assert info.IsVerifyIntention is False

    assert isinstance(info.BestFrame, models.DetectInfoBestFrame)
    png = base64.b64decode(info.BestFrame.BestFrame, validate=True)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")

    assert isinstance(info.VideoData, models.DetectInfoVideoData)
    video = base64.b64decode(info.VideoData.LivenessVideo, validate=True)
    assert len(video) > 8 and video[4:8] == b"ftyp"
    assert info.RequestId


# -- authentication ---------------------------------------------------------------
def test_sdk_wrong_secret_key_is_signature_failure(emu: Emulator) -> None:
    wrong_key = "x" + DEFAULT_SECRET_KEY[1:]  # one character off
    assert wrong_key != DEFAULT_SECRET_KEY
    client = sdk_client(emu, secret_key=wrong_key)
    err = sdk_error(lambda: id_card_verification(client))
    assert err.get_code() == "AuthFailure.SignatureFailure", err
    assert err.get_request_id(), err
    assert emu.stats()["errors"].get("AuthFailure.SignatureFailure") == 1


def test_sdk_unknown_secret_id(emu: Emulator) -> None:
    client = sdk_client(emu, secret_id="AKIDnotknownbytheemulator0000000000")
    err = sdk_error(lambda: id_card_verification(client))
    assert err.get_code() == "AuthFailure.SecretIdNotFound", err
    assert err.get_request_id(), err


def test_sdk_signature_expire_when_the_emulator_clock_is_ahead(emu: Emulator) -> None:
    client = sdk_client(emu)
    assert id_card_verification(client).Result == "0"  # in step: accepted
    emu.advance(600)
    err = sdk_error(lambda: id_card_verification(client))
    assert err.get_code() == "AuthFailure.SignatureExpire", err
    assert err.get_request_id(), err


# -- SaaS errors ------------------------------------------------------------------
def test_sdk_result_with_another_rule_id_is_an_illegal_token(emu: Emulator) -> None:
    client = sdk_client(emu)
    token = detect_auth(client, rule_id="1").BizToken
    emu.complete(token, "pass")
    assert get_detect_info(client, token, rule_id="1").Text.ErrCode == 0
    err = sdk_error(lambda: get_detect_info(client, token, rule_id="2"))
    assert err.get_code() == "InvalidParameter", err
    assert "非法BizToken" in err.get_message(), err


def test_sdk_unknown_rule_id(emu: Emulator) -> None:
    err = sdk_error(lambda: detect_auth(sdk_client(emu), rule_id="999"))
    assert err.get_code() == "InvalidParameterValue.RuleIdNotExist", err


def test_sdk_biz_token_expires_after_7200_seconds(emu: Emulator) -> None:
    client = sdk_client(emu)
    token = detect_auth(client).BizToken
    emu.advance(7201)
    with sdk_clock(emu):
        err = sdk_error(lambda: get_detect_info(client, token))
    assert err.get_code() == "InvalidParameterValue.BizTokenExpired", err
    assert err.get_request_id(), err


# -- element checks and the SDK's request variants --------------------------------------
def test_sdk_id_card_verification(emu: Emulator) -> None:
    client = sdk_client(emu)
    ok = id_card_verification(client)
    assert isinstance(ok, models.IdCardVerificationResponse)
    assert ok.Result == "0", ok
    assert ok.Description
    bad = id_card_verification(client, id_card=BAD_CHECKSUM_ID)
    assert bad.Result == "-2", bad


def test_sdk_get_method(emu: Emulator) -> None:
    wire: list = []
    client = sdk_client(emu, req_method="GET", wire=wire)
    resp = client.GetLiveCode(models.GetLiveCodeRequest())
    assert re.fullmatch(r"\d{4}", resp.LiveCode or ""), resp
    assert wire[-1].method == "GET"
    assert wire[-1].headers["Content-Type"] == "application/x-www-form-urlencoded"
    # GET with parameters in the query string, signed as the canonical query.
    ok = id_card_verification(client)
    assert ok.Result == "0", ok
    assert wire[-1].method == "GET"
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(wire[-1].url).query) == {"IdCard": [ID_CARD], "Name": [NAME]}
    assert not wire[-1].body


def test_sdk_legacy_v1_hmac_sha256_signature(emu: Emulator) -> None:
    wire: list = []
    client = sdk_client(emu, sign_method="HmacSHA256", wire=wire)
    ok = id_card_verification(client)
    assert ok.Result == "0", ok
    sent = wire[-1]
    assert "Authorization" not in sent.headers
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = urllib.parse.parse_qs(sent.body if isinstance(sent.body, str) else sent.body.decode())
    assert form["SignatureMethod"] == ["HmacSHA256"] and form["Action"] == ["IdCardVerification"]
    assert form["Name"] == [NAME]
    # The v1 signature really is checked: the same request with a wrong key fails.
    bad = sdk_client(emu, sign_method="HmacSHA256", secret_key="wrong" + DEFAULT_SECRET_KEY)
    assert sdk_error(lambda: id_card_verification(bad)).get_code() == "AuthFailure.SignatureFailure"


class _KeySortedClient(faceid_client.FaceidClient):
    """The Python SDK sends flattened GET / v1 parameters in insertion order. The
    official Go SDK builds them with url.Values.Encode(), which sorts by key, so
    ``Answers.10`` arrives before ``Answers.2``; a server must place list items by
    their index, not by arrival. This client sends them the Go way (still signed
    by the Python SDK's own code)."""

    def _fix_params(self, params: Any) -> Any:
        flat = super()._fix_params(params)
        return dict(sorted(flat.items())) if isinstance(flat, dict) else flat


@pytest.mark.parametrize("req_method, sign_method", [("GET", None), ("POST", "HmacSHA256")])
def test_sdk_flattened_lists_longer_than_ten_in_key_order(emu: Emulator, req_method: str,
                                                          sign_method: Optional[str]) -> None:
    http_profile = HttpProfile(endpoint=emu.host_port, reqMethod=req_method, reqTimeout=10)
    http_profile.scheme = "http"
    client = _KeySortedClient(credential.Credential(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY), REGION,
                              ClientProfile(signMethod=sign_method, httpProfile=http_profile))
    question = models.IntentionQuestion()
    question.Question = "您是否同意本次交易？"
    question.Answers = [f"答案{i}" for i in range(12)]  # the service allows up to 50 answers
    resp = detect_auth(client, IntentionQuestions=[question])
    emu.complete(resp.BizToken, "pass")
    info = get_detect_info(sdk_client(emu), resp.BizToken, info_type="6")
    assert info.IsVerifyIntention is True
    assert info.IntentionQuestionResult.AsrResult == ["答案0"]


def test_sdk_unsigned_payload(emu: Emulator) -> None:
    wire: list = []
    client = sdk_client(emu, unsigned_payload=True, wire=wire)
    ok = id_card_verification(client)
    assert ok.Result == "0", ok
    assert wire[-1].headers["X-TC-Content-SHA256"] == "UNSIGNED-PAYLOAD"
    # The body is not signed, but the headers still are: a wrong key still fails.
    bad = sdk_client(emu, unsigned_payload=True, secret_key="wrong" + DEFAULT_SECRET_KEY)
    assert sdk_error(lambda: id_card_verification(bad)).get_code() == "AuthFailure.SignatureFailure"


# -- E-ID -------------------------------------------------------------------------
def test_sdk_eid_flow(emu: Emulator) -> None:
    client = sdk_client(emu)
    req = models.GetEidTokenRequest()
    req.MerchantId = DEFAULT_MERCHANT_ID
    req.IdCard = ID_CARD
    req.Name = NAME
    config = models.GetEidTokenConfig()
    config.InputType = "4"
    req.Config = config
    token_resp = client.GetEidToken(req)
    assert isinstance(token_resp, models.GetEidTokenResponse)
    token = token_resp.EidToken
    assert token and token_resp.Url.startswith(emu.endpoint + "/eid/verify?")

    def status() -> str:
        r = models.CheckEidTokenStatusRequest()
        r.EidToken = token
        return client.CheckEidTokenStatus(r).Status

    assert status() == "init"
    assert emu.complete(token, "pass")["err_code"] == 0
    assert status() == "finished"

    r = models.GetEidResultRequest()
    r.EidToken = token
    result = client.GetEidResult(r)
    assert isinstance(result, models.GetEidResultResponse)
    assert result.Text.ErrCode == 0
    assert isinstance(result.EidInfo, models.EidInfo)
    assert result.EidInfo.EidCode
    assert result.EidInfo.DesKey
    # DesKey and UserInfo open with the bundled test key of the default merchant.
    private_key = gm.sm2_private_key_from_pem(DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM)
    session_key = gm.sm2_decrypt(private_key, base64.b64decode(result.EidInfo.DesKey))
    assert len(session_key) == 16
    plain = gm.sm4_ecb_decrypt(session_key, base64.b64decode(result.EidInfo.UserInfo)).rstrip(b"\x00")
    assert json.loads(plain.decode("utf-8")) == {"name": NAME, "idtype": "01", "idnum": ID_CARD}
