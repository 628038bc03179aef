"""The Python face of the tcfaceid C core: dicts in, dicts out, typed exceptions.

Everything that matters (signing, building, parsing, the transport) happens in C
(``tcfaceid._core``); this module converts values and wires Python's ``logging``.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from typing import (Any, Awaitable, Callable, Coroutine, Generator, Iterable, Mapping, NamedTuple, Optional,
                    Sequence, TypeVar, Union)

from . import _core
from .checks import CheckResult, _warn_recent
from .flows import EidSession, Session, Verdict

__all__ = ["Client", "PreparedRequest", "sign", "parse"]

Params = Union[Mapping[str, Any], bytes, bytearray, memoryview, str, None]
Headers = Union[Mapping[str, str], Iterable[tuple[str, str]]]
Parts = Union[str, Sequence[str]]
Question = Union[Mapping[str, Any], tuple[str, Sequence[str]]]
# A video or an image: the file's content (bytes-like, zero copy), a file (os.PathLike, read by
# the core in chunks) or base64 text (str; a data: prefix and line breaks are dropped).
Media = Union[bytes, bytearray, memoryview, str, "os.PathLike[str]", "os.PathLike[bytes]"]
Retry = Optional[Mapping[str, Any]]

# InfoType digit -> the part's name, for Verdict.part_errors
_PART_NAMES = {"0": "all", "1": "text", "2": "id_card", "3": "best_frame", "4": "video",
               "5": "intention_verify", "6": "intention_result"}
_DAILY_LIMIT_ERRCODE = 2018  # SaaS / E-ID: too many attempts for this identity today
# what the verdict reads; the rest (media) is not re-serialised for it
_VERDICT_KEYS = ("Text", "IsVerifyIntention", "IntentionVerifyType", "IntentionVerifyData",
                 "IntentionQuestionResult", "IntentionActionResult")

logger = logging.getLogger("tcfaceid")


def _log_bridge(level: int, line: str) -> None:
    # The core's levels are logging's (10 debug, 20 info, 30 warning, 40 error); its lines are
    # already redacted: no secrets, tokens, Authorization, bodies or identity data.
    logger.log(level, "%s", line)


# One encoder for every request (json.dumps with options builds a new one per call).
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


def _body(params: Params) -> Union[bytes, bytearray, memoryview, str]:
    """JSON text for the request. Bytes-like and str are sent exactly as given."""
    if params is None:
        return b"{}"
    if type(params) is dict or isinstance(params, Mapping):
        return _ENCODE(params).encode("utf-8")
    if isinstance(params, (bytes, bytearray, memoryview, str)):
        return params
    raise TypeError(f"params must be a dict or JSON text (bytes or str), not {type(params).__name__}")


class PreparedRequest(NamedTuple):
    """A signed request to send with any HTTP client (``client.prepare``)."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes


# ---- flows as steps ----
#
# Every public method of a client is written once, in _Api, as a generator that yields the
# requests it needs ("call this action with this body", "run this check", "wait this long") and
# gets their answers back; Client runs the steps blocking, AsyncClient (aio.py) on the event
# loop. The steps are what differs; the flows (and every rule, in C) are shared.

class _Call(NamedTuple):
    """Send action with body (JSON text) -> the Response JSON (bytes)."""

    action: str
    body: Union[bytes, bytearray, memoryview, str]
    retry: Optional[dict[str, Any]] = None
    encrypt: Optional[bool] = None


class _Check(NamedTuple):
    """An element check / PaaS call (the core's check) -> its outcome tuple."""

    action: str
    retry: Optional[dict[str, Any]]
    encrypt: Optional[bool]
    inputs: dict[str, Any]


class _Sleep(NamedTuple):
    seconds: float


_Step = Union[_Call, _Check, _Sleep]
_T = TypeVar("_T")
_Flow = Generator[_Step, Any, _T]
_A = TypeVar("_A", bound="_Api")


def _then(step: _Step, convert: Callable[[Any], _T]) -> _Flow[_T]:
    """The flow of one step whose answer is converted."""
    answer = yield step
    return convert(answer)


def _value(value: _T) -> _Flow[_T]:
    """A flow without steps (a decision made locally)."""
    return value
    yield  # a generator  # noqa: unreachable


def _opt(retry: Optional[Mapping[str, Any]]) -> Optional[dict[str, Any]]:
    return dict(retry) if retry is not None else None


def sign(**inputs: Any) -> dict[str, str]:
    """The signer, with the input keys of a signature test vector.

    ``body`` (bytes or str) replaces the vectors' ``body_utf8`` / ``body_base64``; returns the
    keys of the vector's ``expected`` object (``canonical_request``, ``string_to_sign``,
    ``signature``, ``authorization``, …).
    """
    return _core.sign(**inputs)


def parse(status: int, headers: Headers, body: Union[bytes, bytearray, memoryview]) -> dict[str, Any]:
    """Read an HTTP response from the service: the ``Response`` object (without RequestId) as a
    dict, or the matching exception. For bringing your own transport (asyncio, a test double)."""
    data, _request_id, _server_time = _core.parse(status, headers, body)
    return json.loads(data)


class _Api:
    """What Client and AsyncClient share: the constructor, the sans-IO pieces and every flow
    (see Client for the options)."""

    def __init__(
        self,
        secret_id: Optional[str] = None,
        secret_key: Optional[str] = None,
        token: Optional[str] = None,
        *,
        region: Optional[str] = None,
        endpoint: Optional[str] = None,
        language: Optional[str] = None,
        connect_timeout: float = 5.0,
        timeout: float = 30.0,
        proxy: Optional[str] = None,
        ca_bundle: Optional[str] = None,
        verify: bool = True,
        clock: Callable[[], float] = time.time,
        retry: Optional[Mapping[str, Any]] = None,
        qps: Union[bool, Mapping[str, float]] = True,
        encrypt: bool = False,
        encryption: Optional[Mapping[str, Any]] = None,
    ) -> None:
        self._core = _core.Client(
            secret_id=secret_id, secret_key=secret_key, token=token, region=region, endpoint=endpoint,
            language=language, connect_timeout=connect_timeout, timeout=timeout, proxy=proxy,
            ca_bundle=ca_bundle, verify=verify, log=_log_bridge,
            retry=dict(retry) if retry is not None else None,
            qps=qps if isinstance(qps, bool) else dict(qps),
            encrypt=encrypt, encryption=dict(encryption) if encryption is not None else None,
        )
        self._clock = clock
        self._local = threading.local()  # Client: the request id of each thread's last call

    @classmethod
    def from_env(cls: type[_A], **options: Any) -> _A:
        """A client with the credentials of the environment only (not the profile file)."""
        secret_id = os.environ.get("TENCENTCLOUD_SECRET_ID")
        secret_key = os.environ.get("TENCENTCLOUD_SECRET_KEY")
        if not secret_id or not secret_key:
            raise _core.CredentialsError("TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY are not both set")
        return cls(secret_id, secret_key, os.environ.get("TENCENTCLOUD_SESSION_TOKEN") or None, **options)

    @property
    def endpoint(self) -> str:
        return self._core.endpoint

    @property
    def clock_offset(self) -> int:
        """Seconds added to the local clock when signing, learned from the service's ``Date``
        after ``AuthFailure.SignatureExpire`` (the request is then re-signed once)."""
        offset: int = self._core.clock_offset
        return offset

    def call(self, action: str, params: Params = None, *, retry: Optional[Mapping[str, Any]] = None,
             encrypt: Optional[bool] = None) -> dict[str, Any]:
        """Call any action; returns the ``Response`` object without ``RequestId``. ``retry``
        overrides the client's retry options for this call; ``encrypt`` (None: the client's
        default) turns field encryption on or off for it (the response comes back decrypted)."""
        return self._run(_then(_Call(action, _body(params), _opt(retry), encrypt), json.loads))

    def prepare(self, action: str, params: Params = None, timestamp: Optional[int] = None) -> PreparedRequest:
        """Build and sign a request without sending it (``timestamp`` defaults to now)."""
        ts = int(time.time()) if timestamp is None else timestamp
        method, url, headers, body = self._core.prepare(action, _body(params), ts)
        return PreparedRequest(method, url, dict(headers), body)

    def parse(self, status: int, headers: Headers, body: Union[bytes, bytearray, memoryview]) -> dict[str, Any]:
        """Read a response to a request made with ``prepare`` (see :func:`parse`)."""
        try:
            data, request_id, _server_time = _core.parse(status, headers, body)
        except _core.Error as e:
            self._record(e.request_id)
            raise
        self._record(request_id)
        return json.loads(data)

    # ---- running steps: Client blocks, AsyncClient awaits ----

    def _run(self, flow: _Flow[_T]) -> _T:
        raise NotImplementedError

    def _record(self, request_id: Optional[str]) -> None:
        raise NotImplementedError

    @staticmethod
    def _send(step: Union[_Call, _Check], core: Any) -> Any:
        """Start a step on core: the _core.Client (the answer) or a loop's ops (an awaitable)."""
        if isinstance(step, _Check):
            return core.check(step.action, retry=step.retry, encrypt=step.encrypt, **step.inputs)
        return core.call(step.action, step.body, step.retry, step.encrypt)

    async def _drive(self, flow: _Flow[_T], execute: Callable[[_Step], Awaitable[Any]]) -> _T:
        """Run flow, each step through execute; an error of the core goes back into the flow.
        Client's execute never suspends, so Client runs this coroutine to its end in one send."""
        answer: Any = None
        error: Optional[BaseException] = None
        while True:
            try:
                step = flow.send(answer) if error is None else flow.throw(error)
            except StopIteration as stop:
                result: _T = stop.value
                return result
            answer = error = None
            try:
                answer = await execute(step)
            except _core.Error as e:
                self._record(e.request_id)
                error = e
                continue
            if isinstance(step, _Check):
                self._record(answer[9])
            elif isinstance(step, _Call):
                answer, request_id = answer
                self._record(request_id)

    # ---- SaaS: DetectAuth -> the user -> GetDetectInfoEnhanced ----

    def detect_auth(
        self,
        rule_id: str,
        *,
        id_card: Optional[str] = None,
        name: Optional[str] = None,
        redirect_url: Optional[str] = None,
        extra: Optional[str] = None,
        image: Union[bytes, bytearray, memoryview, str, None] = None,
        intention_verify_text: Optional[str] = None,
        intention_questions: Optional[Sequence[Question]] = None,
        intention_actions: Optional[Sequence[str]] = None,
        intention_type: Optional[int] = None,
        intention_recognition: Optional[bool] = None,
        mouth_open_recognition: Optional[bool] = None,
        speed: Optional[int] = None,
    ) -> Session:
        """Start a SaaS verification (DetectAuth). Every value is checked locally first
        (InvalidArgumentError naming the field, never the value; nothing is sent): the ID
        number's checksum (a trailing x is sent as X), the name (2-32 characters; look-alike dots
        are sent as U+00B7), RedirectUrl (http(s), at most 1024), Extra (at most 1024 bytes),
        the image (raw bytes, or base64 text with an optional data: prefix; at most 3 MB after
        base64) and the intention options. ``intention_questions``: ``[{"question": ...,
        "answers": [...]}, ...]``; ``intention_actions``: ``["nod text", ...]``.

        Returns the :class:`Session` (BizToken valid 7,200 s, results 3 days)."""
        now = int(self._clock())
        body = _core.detect_auth_body(
            rule_id, id_card=id_card, name=name, redirect_url=redirect_url, extra=extra, image=image,
            intention_verify_text=intention_verify_text, intention_questions=_questions(intention_questions),
            intention_actions=intention_actions, intention_type=intention_type,
            intention_recognition=intention_recognition, mouth_open_recognition=mouth_open_recognition,
            speed=speed, today=now,
        )
        return self._run(_then(_Call("DetectAuth", body),
                               lambda data: Session._from_tuple(_core.session_new("saas", data, rule_id, extra, now))))

    def detect_result(
        self,
        session_or_token: Union[Session, str],
        rule_id: Optional[str] = None,
        parts: Parts = ("text",),
        *,
        best_frames: Optional[int] = None,
        cut_id_card_image: Optional[bool] = None,
        id_card_avatar: Optional[bool] = None,
    ) -> Verdict:
        """The verdict of a SaaS verification (GetDetectInfoEnhanced).

        ``parts``: "text", "id_card", "best_frame", "video", "intention_verify",
        "intention_result", "all", or InfoType digits. The text is fetched first, then each
        other part in its own call; a failing media call lands in ``verdict.part_errors`` and
        does not change the verdict. When intention verification was configured and its result
        was not asked for, it is fetched too.

        With a :class:`Session`, nothing is sent when ``rule_id`` differs from the session's
        (InvalidArgumentError) or the 3-day results window has passed (an EXPIRED verdict).
        A token the service reports expired gives an EXPIRED verdict."""
        if isinstance(session_or_token, Session):
            token, rule = session_or_token.biz_token, session_or_token.rule_id
            expired = self._check_session(session_or_token, rule_id)
            if expired is not None:
                return self._run(_value(expired))
        elif isinstance(session_or_token, str):
            if rule_id is None:
                raise _core.InvalidArgumentError("rule_id is required with a bare BizToken")
            token, rule = session_or_token, rule_id
        else:
            raise TypeError(f"detect_result takes a Session or a BizToken str, not {type(session_or_token).__name__}")
        return self._run(self._fetch("saas", "GetDetectInfoEnhanced", token, rule, parts, best_frames,
                                     cut_id_card_image, id_card_avatar))

    # ---- E-ID: GetEidToken -> the user -> CheckEidTokenStatus / GetEidResult ----

    def get_eid_token(
        self,
        merchant_id: str,
        *,
        id_card: Optional[str] = None,
        name: Optional[str] = None,
        input_type: Optional[int] = None,
        redirect_url: Optional[str] = None,
        extra: Optional[str] = None,
        use_intention_verify: Optional[bool] = None,
        intention_mode: Optional[int] = None,
        intention_verify_text: Optional[str] = None,
        intention_questions: Optional[Sequence[Question]] = None,
        intention_actions: Optional[Sequence[str]] = None,
        intention_recognition: Optional[bool] = None,
        support_hmt_resident_permit_ocr: Optional[bool] = None,
        mouth_open_recognition: Optional[bool] = None,
        speed: Optional[int] = None,
    ) -> EidSession:
        """Start an E-ID verification (GetEidToken). ``input_type``: 1 OCR of both sides (the
        service's default), 2 OCR of the front, 3 typed by the user, 4 passed by you (then
        ``id_card`` and ``name`` are required). ``intention_mode`` (1 read aloud, 2 Q&A, 3 nod)
        and ``use_intention_verify`` follow from the intention content given. Checked locally
        like :meth:`detect_auth`. Returns the :class:`EidSession` (EidToken valid 600 s; the Url
        once, within 10 minutes; results 3 days)."""
        now = int(self._clock())
        body = _core.eid_token_body(
            merchant_id, id_card=id_card, name=name, redirect_url=redirect_url, extra=extra,
            input_type=input_type, use_intention_verify=use_intention_verify, intention_mode=intention_mode,
            intention_verify_text=intention_verify_text, intention_questions=_questions(intention_questions),
            intention_actions=intention_actions, intention_recognition=intention_recognition,
            support_hmt_resident_permit_ocr=support_hmt_resident_permit_ocr,
            mouth_open_recognition=mouth_open_recognition, speed=speed, today=now,
        )
        return self._run(_then(_Call("GetEidToken", body),
                               lambda data: EidSession._from_tuple(_core.session_new("eid", data, merchant_id, extra,
                                                                                     now))))

    def eid_status(self, session_or_token: Union[EidSession, str]) -> str:
        """CheckEidTokenStatus: "init", "doing", "finished" or "timeout"."""
        return self._run(_eid_status(session_or_token))

    def wait_eid(
        self,
        session_or_token: Union[EidSession, str],
        interval: float = 1.0,
        timeout: Optional[float] = None,
    ) -> str:
        """Poll :meth:`eid_status` every ``interval`` seconds until "finished" or "timeout"
        and return it. As the service asks, a poll counts as failed only after 3 consecutive
        errors: up to 2 transient errors in a row are tolerated, the third is raised, and an
        error that will not go away (authentication, a bad token) is raised at once; an expired
        token gives "timeout". ``timeout`` (seconds): by default until the token's lifetime has
        passed (+30 s); then TimeoutError."""
        if interval < 0:
            raise ValueError("interval must not be negative")
        if timeout is None:
            if isinstance(session_or_token, EidSession):
                timeout = max(0.0, session_or_token.expires_at + 30 - self._clock())
            else:
                timeout = 630.0
        return self._run(_wait_eid(session_or_token, interval, timeout))

    def eid_result(
        self,
        session_or_token: Union[EidSession, str],
        parts: Parts = ("text",),
        *,
        best_frames: Optional[int] = None,
        cut_id_card_image: Optional[bool] = None,
        id_card_avatar: Optional[bool] = None,
    ) -> Verdict:
        """The verdict of an E-ID verification (GetEidResult); parts as for
        :meth:`detect_result`, without "video", plus "eid_info": the encrypted identity
        (``verdict.response["EidInfo"]``, for :func:`tcfaceid.decrypt_eid_info`), which comes only
        with InfoType 0 (every part), fetched after the text."""
        if isinstance(session_or_token, EidSession):
            expired = self._check_session(session_or_token, None)
            if expired is not None:
                return self._run(_value(expired))
        token = _eid_token(session_or_token)
        return self._run(self._fetch("eid", "GetEidResult", token, None, parts, best_frames, cut_id_card_image,
                                     id_card_avatar))

    # ---- element checks and PaaS liveness (docs/checks.md) ----
    #
    # Every input is checked by the C core before anything is sent (InvalidArgumentError naming
    # the field, never the value); the body is built once (media encoded straight into it) and
    # sent with the retry policy; the outcome is decided from the action's Result table. A daily
    # identity limit raises RateLimitedError (retry_at); a billable request that may have been
    # executed without an answer raises AmbiguousError. ``retry`` / ``encrypt``: as for call().

    def _check(self, action: str, retry: Retry, encrypt: Optional[bool], **inputs: Any) -> CheckResult:
        return self._run(_then(_Check(action, _opt(retry), encrypt, inputs), CheckResult._from_core))

    def get_live_code(self, *, retry: Retry = None, encrypt: Optional[bool] = None) -> str:
        """GetLiveCode: the 4 digits the user reads aloud (``validate_data`` of LIP liveness)."""
        return self._run(_then(_Call("GetLiveCode", b"{}", _opt(retry), encrypt), _core.live_code_from_json))

    def get_action_sequence(self, *, retry: Retry = None, encrypt: Optional[bool] = None) -> str:
        """GetActionSequence: the actions the user performs ("2,1": 1 open mouth, 2 close eyes;
        ``validate_data`` of ACTION liveness)."""
        return self._run(_then(_Call("GetActionSequence", b"{}", _opt(retry), encrypt),
                               _core.action_sequence_from_json))

    def id_card_verify(self, id_card: str, name: str, *, retry: Retry = None,
                       encrypt: Optional[bool] = None) -> CheckResult:
        """IdCardVerification: ID number and name against the authoritative source."""
        return self._check("IdCardVerification", retry, encrypt, id_card=id_card, name=name)

    def id_card_ocr_verify(self, id_card: Optional[str] = None, name: Optional[str] = None, *,
                           image: Optional[Media] = None, image_url: Optional[str] = None,
                           retry: Retry = None, encrypt: Optional[bool] = None) -> CheckResult:
        """IdCardOCRVerification: ``id_card`` + ``name``, or a photo of the ID card (``image``
        or ``image_url``), not both. The response carries the name and ID number read."""
        return self._check("IdCardOCRVerification", retry, encrypt, id_card=id_card, name=name, image=image,
                           image_url=image_url)

    def check_id_name_date(self, id_card: str, name: str, validity_begin: str, validity_end: str, *,
                           retry: Retry = None, encrypt: Optional[bool] = None) -> CheckResult:
        """CheckIdNameDate: ID number, name and the card's validity (YYYYMMDD; the end
        "00000000" for a long-term card)."""
        return self._check("CheckIdNameDate", retry, encrypt, id_card=id_card, name=name,
                           validity_begin=validity_begin, validity_end=validity_end)

    def phone_verify(self, phone: str, id_card: str, name: str, *, detailed: bool = False, route: str = "generic",
                     retry: Retry = None, encrypt: Optional[bool] = None) -> CheckResult:
        """PhoneVerification (three elements). ``detailed``: VerifyMode 1 (ResultDetail says
        which element differs; 1.2 CNY instead of 1.1). ``route="auto"``: the carrier's own
        check where it is cheaper (:func:`tcfaceid.phone_route`), falling back to
        PhoneVerification once when that check is not enabled for the account; ``result.action``
        says which was sent. A number of a recent range issues a RecentRangeWarning first."""
        _warn_recent(phone, 2)
        return self._check("PhoneVerification", retry, encrypt, phone=phone, id_card=id_card, name=name,
                           verify_mode=1 if detailed else None, route=route)

    def phone_verify_cmcc(self, phone: str, id_card: str, name: str, *, retry: Retry = None,
                          encrypt: Optional[bool] = None) -> CheckResult:
        """PhoneVerificationCMCC: China Mobile numbers only."""
        _warn_recent(phone, 2)
        return self._check("PhoneVerificationCMCC", retry, encrypt, phone=phone, id_card=id_card, name=name)

    def phone_verify_ctcc(self, phone: str, id_card: str, name: str, *, retry: Retry = None,
                          encrypt: Optional[bool] = None) -> CheckResult:
        """PhoneVerificationCTCC: China Telecom numbers only."""
        _warn_recent(phone, 2)
        return self._check("PhoneVerificationCTCC", retry, encrypt, phone=phone, id_card=id_card, name=name)

    def phone_verify_cucc(self, phone: str, id_card: str, name: str, *, retry: Retry = None,
                          encrypt: Optional[bool] = None) -> CheckResult:
        """PhoneVerificationCUCC: China Unicom numbers only."""
        _warn_recent(phone, 2)
        return self._check("PhoneVerificationCUCC", retry, encrypt, phone=phone, id_card=id_card, name=name)

    def check_phone_and_name(self, phone: str, name: str, *, retry: Retry = None,
                             encrypt: Optional[bool] = None) -> CheckResult:
        """CheckPhoneAndName (phone two elements)."""
        _warn_recent(phone, 2)
        return self._check("CheckPhoneAndName", retry, encrypt, phone=phone, name=name)

    def mobile_status(self, phone: str, *, retry: Retry = None, encrypt: Optional[bool] = None) -> CheckResult:
        """MobileStatus: ``response["StatusCode"]`` (0 normal, 1 stopped, …)."""
        _warn_recent(phone, 2)
        return self._check("MobileStatus", retry, encrypt, phone=phone)

    def mobile_network_time_verify(self, phone: str, *, retry: Retry = None,
                                   encrypt: Optional[bool] = None) -> CheckResult:
        """MobileNetworkTimeVerification: ``response["Range"]`` (months on the network)."""
        _warn_recent(phone, 2)
        return self._check("MobileNetworkTimeVerification", retry, encrypt, phone=phone)

    def bank_card_2e_verify(self, bank_card: str, name: str, *, retry: Retry = None,
                            encrypt: Optional[bool] = None) -> CheckResult:
        """BankCard2EVerification: card number and name."""
        return self._check("BankCard2EVerification", retry, encrypt, bank_card=bank_card, name=name)

    def bank_card_verify(self, bank_card: str, id_card: str, name: str, *, retry: Retry = None,
                         encrypt: Optional[bool] = None) -> CheckResult:
        """BankCardVerification: card number, ID number and name."""
        return self._check("BankCardVerification", retry, encrypt, bank_card=bank_card, id_card=id_card, name=name)

    def bank_card_4e_verify(self, bank_card: str, id_card: str, name: str, phone: str, *, retry: Retry = None,
                            encrypt: Optional[bool] = None) -> CheckResult:
        """BankCard4EVerification: card number, ID number, name and the card's phone number."""
        _warn_recent(phone, 2)
        return self._check("BankCard4EVerification", retry, encrypt, bank_card=bank_card, id_card=id_card,
                           name=name, phone=phone)

    def check_bank_card_information(self, bank_card: str, *, retry: Retry = None,
                                    encrypt: Optional[bool] = None) -> CheckResult:
        """CheckBankCardInformation: ``response["AccountBank"]`` and ``["AccountType"]``."""
        return self._check("CheckBankCardInformation", retry, encrypt, bank_card=bank_card)

    def liveness_recognition(self, id_card: str, name: str, liveness_type: str, *, video: Optional[Media] = None,
                             video_url: Optional[str] = None, validate_data: Optional[str] = None,
                             best_frame_num: Optional[int] = None, retry: Retry = None,
                             encrypt: Optional[bool] = None) -> CheckResult:
        """LivenessRecognition: liveness on ``video`` (or ``video_url``) and comparison with the
        authoritative photo of the person. ``liveness_type``: "LIP" (``validate_data`` the
        :meth:`get_live_code` digits), "ACTION" (the :meth:`get_action_sequence` sequence) or
        "SILENT" (no ``validate_data``). ``video``: bytes-like content, a ``pathlib.Path`` (read
        by the core, never copied into Python) or base64 str; at most VIDEO_BASE64_MAX of base64
        (docs/checks.md gives the ffmpeg command that compresses a video)."""
        return self._check("LivenessRecognition", retry, encrypt, id_card=id_card, name=name,
                           liveness_type=liveness_type, video=video, video_url=video_url,
                           validate_data=validate_data, best_frame_num=best_frame_num)

    def liveness_compare(self, liveness_type: str, *, video: Optional[Media] = None, video_url: Optional[str] = None,
                         image: Optional[Media] = None, image_url: Optional[str] = None,
                         validate_data: Optional[str] = None, best_frame_num: Optional[int] = None,
                         retry: Retry = None, encrypt: Optional[bool] = None) -> CheckResult:
        """LivenessCompare: liveness on the video and comparison with your photo (``image``, at
        most IMAGE_BASE64_MAX of base64, or ``image_url``). Media as for
        :meth:`liveness_recognition`."""
        return self._check("LivenessCompare", retry, encrypt, liveness_type=liveness_type, video=video,
                           video_url=video_url, image=image, image_url=image_url, validate_data=validate_data,
                           best_frame_num=best_frame_num)

    def image_recognition_v2(self, id_card: str, name: str, image: Media, *, extra: Optional[str] = None,
                             retry: Retry = None, encrypt: Optional[bool] = None) -> CheckResult:
        """ImageRecognitionV2: a photo against the authoritative photo of the person (``sim``
        against SIM_THRESHOLD). ``extra`` (1-10 characters) is echoed back."""
        return self._check("ImageRecognitionV2", retry, encrypt, id_card=id_card, name=name, image=image,
                           extra=extra)

    # ---- shared ----

    def _check_session(self, session: Union[Session, EidSession], rule_id: Optional[str]) -> Optional[Verdict]:
        try:
            _core.session_check(session.to_json(), rule_id, int(self._clock()))
        except _core.TokenExpiredError as e:
            return Verdict.expired(str(e.message))
        return None

    def _fetch(self, kind: str, action: str, token: str, rule_id: Optional[str], parts: Parts,
               best_frames: Optional[int], cut: Optional[bool], avatar: Optional[bool]) -> _Flow[Verdict]:
        plan = _core.result_plan(kind, parts if isinstance(parts, str) else ",".join(parts))
        if best_frames is not None and not ("3" in plan or "0" in plan):
            raise _core.InvalidArgumentError("best_frames needs the best_frame part")
        if (cut is not None or avatar is not None) and not ("2" in plan or "0" in plan):
            raise _core.InvalidArgumentError("cut_id_card_image / id_card_avatar need the id_card part")
        # every body is built (and checked) before the first call
        bodies = [
            (digit, _core.result_body(kind, token, rule_id, digit,
                                      best_frames if digit in "03" else None,
                                      cut if digit in "02" else None,
                                      avatar if digit in "02" else None))
            for digit in plan
        ]
        merged: dict[str, Any] = {}
        errors: dict[str, Exception] = {}
        for i, (digit, body) in enumerate(bodies):
            yield from _fetch_one(action, digit, body, i == 0, merged, errors, kind)
            if i == 0 and "_expired" in merged:
                return Verdict.expired(merged["_expired"])
        verdict = self._decide(merged, errors)
        missing = verdict.missing_part
        if missing is not None and missing not in plan:
            body = _core.result_body(kind, token, rule_id, missing)
            yield from _fetch_one(action, missing, body, False, merged, errors, kind)
            verdict = self._decide(merged, errors)
        return verdict

    def _decide(self, merged: dict[str, Any], errors: dict[str, Exception]) -> Verdict:
        small = {k: merged[k] for k in _VERDICT_KEYS if k in merged}
        v = Verdict.from_response(json.dumps(small, ensure_ascii=False).encode("utf-8"))
        # ErrCode 2018: the identity's daily limit; it resets at 00:00 Asia/Shanghai
        retry_at = _core.next_shanghai_midnight(int(self._clock())) if v.code == _DAILY_LIMIT_ERRCODE else None
        return Verdict(status=v.status, code=v.code, billed=v.billed, intention_code=v.intention_code,
                       reason=v.reason, attempts=v.attempts, text=v.text, response=merged,
                       part_errors=dict(errors), missing_part=v.missing_part, retry_at=retry_at)

    def __repr__(self) -> str:
        return f"<tcfaceid.{type(self).__name__} endpoint={self.endpoint!r}>"


#: the methods of _Api that run steps (AsyncClient makes each a coroutine function)
_FLOW_METHODS = (
    "call", "detect_auth", "detect_result", "get_eid_token", "eid_status", "wait_eid", "eid_result",
    "get_live_code", "get_action_sequence", "id_card_verify", "id_card_ocr_verify", "check_id_name_date",
    "phone_verify", "phone_verify_cmcc", "phone_verify_ctcc", "phone_verify_cucc", "check_phone_and_name",
    "mobile_status", "mobile_network_time_verify", "bank_card_2e_verify", "bank_card_verify",
    "bank_card_4e_verify", "check_bank_card_information", "liveness_recognition", "liveness_compare",
    "image_recognition_v2",
)


class Client(_Api):
    """A FaceID client. Safe to share between threads; use it as a context manager or ``close()`` it.

    Credentials: ``secret_id`` and ``secret_key`` (and ``token`` for temporary credentials), or
    neither — then the environment (``TENCENTCLOUD_SECRET_ID``, ``TENCENTCLOUD_SECRET_KEY``,
    ``TENCENTCLOUD_SESSION_TOKEN``) and then ``~/.tencentcloud/credentials``.

    ``clock`` (Unix seconds) dates sessions and decides their lifetimes locally; requests are
    signed with the real time corrected by ``clock_offset``. The verification flows are in
    docs/flows.md.

    ``retry``: ``{"max_attempts": 3, "base_delay": 0.05, "throttle_delay": 1.0, "max_delay": 20.0,
    "deadline": None, "budget": 10, "budget_per_s": 1.0, "retry_billable": False}`` (seconds;
    any subset). ``qps``: True (the documented per-action QPS, enforced client-side), False (no
    client-side limit), or ``{"Action": qps}`` overriding some actions. See docs/reliability.md.

    ``encrypt=True``: every call encrypts its action's sensitive fields (Name, IdCard, Phone,
    BankCard, Mobile, ImageBase64 … as the service documents them) and asks for an encrypted
    response where the action has one; responses are decrypted transparently. ``encryption``:
    ``{"algorithm": "AES-256-CBC" | "SM4-GCM", "rsa_public_key_pem": ..., "sm2_public_key_pem":
    ..., "whole_body": False}`` (any subset; the public keys default to the documented ones). Per
    call: ``call(..., encrypt=True/False)``. See docs/python.md.
    """


    @property
    def last_request_id(self) -> Optional[str]:
        """The RequestId of this thread's last call (also on every exception)."""
        return getattr(self._local, "request_id", None)

    def _record(self, request_id: Optional[str]) -> None:
        self._local.request_id = request_id

    def _run(self, flow: _Flow[_T]) -> _T:
        coro = self._drive(flow, self._execute)
        try:
            coro.send(None)
        except StopIteration as stop:
            result: _T = stop.value
            return result
        coro.close()  # not reached: _execute never suspends
        raise RuntimeError("a blocking step suspended")

    async def _execute(self, step: _Step) -> Any:
        if isinstance(step, _Sleep):
            time.sleep(step.seconds)
            return None
        return self._send(step, self._core)

    def call(self, action: str, params: Params = None, *, retry: Optional[Mapping[str, Any]] = None,
             encrypt: Optional[bool] = None) -> dict[str, Any]:
        # The hot path: one step, run without the flow machinery (same result as _Api.call).
        try:
            data, request_id = self._core.call(action, _body(params), _opt(retry), encrypt)
        except _core.Error as e:
            self._local.request_id = e.request_id
            raise
        self._local.request_id = request_id
        result: dict[str, Any] = json.loads(data)
        return result

    call.__doc__ = _Api.call.__doc__

    def close(self) -> None:
        self._core.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _questions(questions: Optional[Sequence[Question]]) -> Optional[list[tuple[str, Sequence[str]]]]:
    """[{"question": q, "answers": [...]}, ...] or [(q, [...]), ...] as the core's pairs."""
    if questions is None:
        return None
    if isinstance(questions, (str, bytes, Mapping)):
        raise TypeError("intention_questions must be a list of {'question': ..., 'answers': [...]}")
    out: list[tuple[str, Sequence[str]]] = []
    for q in questions:
        if isinstance(q, Mapping):
            unknown = set(q) - {"question", "answers"}
            if unknown or "question" not in q or "answers" not in q:
                raise TypeError("each intention question must be {'question': str, 'answers': [str, ...]}")
            out.append((q["question"], q["answers"]))
        else:
            out.append(q)
    return out


def _eid_token(session_or_token: Union[EidSession, str]) -> str:
    if isinstance(session_or_token, EidSession):
        return session_or_token.eid_token
    if isinstance(session_or_token, str):
        return session_or_token
    raise TypeError(f"expected an EidSession or an EidToken str, not {type(session_or_token).__name__}")


def _part_name(digit: str, kind: str) -> str:
    if digit == "0" and kind == "eid":
        return "eid_info"
    return _PART_NAMES.get(digit, digit)


def _fetch_one(action: str, digit: str, body: bytes, first: bool, merged: dict[str, Any],
               errors: dict[str, Exception], kind: str) -> _Flow[None]:
    try:
        data = yield _Call(action, body)
    except _core.TokenExpiredError as e:
        if first:
            merged["_expired"] = str(e.message)
            return
        errors[_part_name(digit, kind)] = e
        return
    except _core.Error as e:
        if first:
            raise
        errors[_part_name(digit, kind)] = e
        return
    for key, value in json.loads(data).items():
        if value is not None or key not in merged:
            merged[key] = value


def _eid_status(session_or_token: Union[EidSession, str]) -> _Flow[str]:
    token = _eid_token(session_or_token)
    body = json.dumps({"EidToken": token}, ensure_ascii=False, separators=(",", ":"))
    return _then(_Call("CheckEidTokenStatus", body), _core.eid_status)


def _wait_eid(session_or_token: Union[EidSession, str], interval: float, timeout: float) -> _Flow[str]:
    deadline = time.monotonic() + timeout
    errors = 0
    while True:
        try:
            status = yield from _eid_status(session_or_token)
            errors = 0
            if status in ("finished", "timeout"):
                return status
        except _core.Error as e:
            errors += 1
            action = _core.eid_poll_after_error(e, errors)
            if action == 2:
                return "timeout"
            if action != 1:
                raise
        if time.monotonic() + interval > deadline:
            raise _core.TimeoutError(f"the E-ID verification did not finish within {timeout:.1f} s")
        yield _Sleep(interval)
