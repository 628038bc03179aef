import builtins
import os
from typing import Any, Callable, Iterable, Mapping, Optional, Union

_Bytes = Union[bytes, bytearray, memoryview]

def version() -> str: ...
def sign(**inputs: Any) -> dict[str, str]: ...
def parse(
    status: int, headers: Union[Mapping[str, str], Iterable[tuple[str, str]]], body: _Bytes
) -> tuple[bytes, Optional[str], int]: ...
def check_id_card(id: str, today: int = ...) -> None: ...
def normalize_name(name: str) -> str: ...
def check_phone(phone: str) -> None: ...
def phone_carrier(phone: str) -> Optional[str]: ...
def check_bank_card(card: str) -> None: ...
def check_redirect_url(url: str) -> None: ...
def check_validity_date(date: str, allow_long_term: bool = ...) -> None: ...
def eid_decrypt(des_key_b64: str, user_info_b64: str, sm2_private_key_pem: Union[str, bytes]) -> bytes: ...
def verdict(
    response_json: Union[_Bytes, str],
) -> tuple[
    int,
    Optional[int],
    int,
    Optional[int],
    str,
    list[
        tuple[Optional[int], Optional[int], Optional[int], Optional[float], Optional[int], Optional[bool]]
    ],
    Optional[str],
]: ...

_Questions = Optional[Iterable[tuple[str, Iterable[str]]]]
_SessionTuple = tuple[str, str, str, Optional[str], Optional[str], int, int, int, str]

def detect_auth_body(
    rule_id: str,
    *,
    id_card: Optional[str] = ...,
    name: Optional[str] = ...,
    redirect_url: Optional[str] = ...,
    extra: Optional[str] = ...,
    image: Union[_Bytes, str, None] = ...,
    intention_verify_text: Optional[str] = ...,
    intention_questions: _Questions = ...,
    intention_actions: Optional[Iterable[str]] = ...,
    intention_type: Optional[int] = ...,
    intention_recognition: Optional[bool] = ...,
    mouth_open_recognition: Optional[bool] = ...,
    speed: Optional[int] = ...,
    today: int = ...,
) -> bytes: ...
def eid_token_body(
    merchant_id: str,
    *,
    id_card: Optional[str] = ...,
    name: Optional[str] = ...,
    redirect_url: Optional[str] = ...,
    extra: Optional[str] = ...,
    input_type: Optional[int] = ...,
    use_intention_verify: Optional[bool] = ...,
    intention_mode: Optional[int] = ...,
    intention_verify_text: Optional[str] = ...,
    intention_questions: _Questions = ...,
    intention_actions: Optional[Iterable[str]] = ...,
    intention_recognition: Optional[bool] = ...,
    support_hmt_resident_permit_ocr: Optional[bool] = ...,
    mouth_open_recognition: Optional[bool] = ...,
    speed: Optional[int] = ...,
    today: int = ...,
) -> bytes: ...
def session_new(
    kind: str, response_json: Union[_Bytes, str], owner: str, extra: Optional[str], created_at: int
) -> _SessionTuple: ...
def session_load(json: Union[_Bytes, str]) -> _SessionTuple: ...
def session_check(json: str, rule_id: Optional[str], now: int) -> None: ...
def result_plan(kind: str, parts: str) -> str: ...
def result_body(
    kind: str,
    token: str,
    rule_id: Optional[str],
    info_type: Optional[str],
    best_frames_count: Optional[int] = ...,
    cut_id_card_image: Optional[bool] = ...,
    need_id_card_avatar: Optional[bool] = ...,
) -> bytes: ...
def eid_status(response_json: Union[_Bytes, str]) -> str: ...
def eid_poll_after_error(error: Error, consecutive_errors: int) -> int: ...
def parse_redirect(url: str) -> str: ...
def next_shanghai_midnight(now: int) -> int: ...
def errcode_meaning(errcode: int, intention_verify_type: Optional[str] = ...) -> Optional[str]: ...

SIM_THRESHOLD: float
SIM_V1_FAR_1E3: float
SIM_V1_FAR_1E4: float
VIDEO_BASE64_MAX: int
IMAGE_BASE64_MAX: int

_Media = Union[_Bytes, str, "os.PathLike[str]", "os.PathLike[bytes]", None]
# (action, status, result, billed, matched, meaning, sim, sim_threshold, response_json, request_id)
_Outcome = tuple[
    str, str, str, Optional[bool], Optional[bool], str, Optional[float], Optional[float], bytes, Optional[str]
]

def check_body(
    action: str,
    *,
    id_card: Optional[str] = ...,
    name: Optional[str] = ...,
    phone: Optional[str] = ...,
    bank_card: Optional[str] = ...,
    validity_begin: Optional[str] = ...,
    validity_end: Optional[str] = ...,
    liveness_type: Optional[str] = ...,
    validate_data: Optional[str] = ...,
    video: _Media = ...,
    video_url: Optional[str] = ...,
    image: _Media = ...,
    image_url: Optional[str] = ...,
    best_frame_num: Optional[int] = ...,
    verify_mode: Optional[int] = ...,
    extra: Optional[str] = ...,
    route: Optional[str] = ...,
    today: int = ...,
) -> bytes: ...
def check_outcome(action: str, response_json: Union[_Bytes, str]) -> _Outcome: ...
def validate_id_card(id: str, today: Optional[int] = ...) -> str: ...
def phone_route(phone: str, verify_mode: Optional[int] = ...) -> str: ...
def phone_recent_range(phone: str) -> int: ...
def estimate_cost(
    action: str, calls: int, verify_mode: Optional[int] = ...
) -> tuple[int, int, int, int, list[tuple[int, int, int]], int]: ...
def live_code_from_json(response_json: Union[_Bytes, str]) -> str: ...
def action_sequence_from_json(response_json: Union[_Bytes, str]) -> str: ...

class Client:
    endpoint: str
    def __init__(
        self,
        *,
        secret_id: Optional[str] = ...,
        secret_key: Optional[str] = ...,
        token: Optional[str] = ...,
        region: Optional[str] = ...,
        endpoint: Optional[str] = ...,
        language: Optional[str] = ...,
        connect_timeout: float = ...,
        timeout: float = ...,
        proxy: Optional[str] = ...,
        ca_bundle: Optional[str] = ...,
        verify: bool = ...,
        request_client: Optional[str] = ...,
        log: Optional[Callable[[int, str], None]] = ...,
        retry: Optional[dict[str, Any]] = ...,
        qps: Union[bool, dict[str, float], None] = ...,
        encrypt: Optional[bool] = ...,
        encryption: Optional[dict[str, Any]] = ...,
    ) -> None: ...
    def call(
        self,
        action: str,
        params: Union[_Bytes, str],
        retry: Optional[dict[str, Any]] = ...,
        encrypt: Optional[bool] = ...,
    ) -> tuple[bytes, Optional[str]]: ...
    def prepare(
        self, action: str, params: Union[_Bytes, str], timestamp: int
    ) -> tuple[str, str, list[tuple[str, str]], bytes]: ...
    def check(
        self,
        action: str,
        *,
        id_card: Optional[str] = ...,
        name: Optional[str] = ...,
        phone: Optional[str] = ...,
        bank_card: Optional[str] = ...,
        validity_begin: Optional[str] = ...,
        validity_end: Optional[str] = ...,
        liveness_type: Optional[str] = ...,
        validate_data: Optional[str] = ...,
        video: _Media = ...,
        video_url: Optional[str] = ...,
        image: _Media = ...,
        image_url: Optional[str] = ...,
        best_frame_num: Optional[int] = ...,
        verify_mode: Optional[int] = ...,
        extra: Optional[str] = ...,
        route: Optional[str] = ...,
        retry: Optional[dict[str, Any]] = ...,
        encrypt: Optional[bool] = ...,
    ) -> _Outcome: ...
    def get_live_code(self, retry: Optional[dict[str, Any]] = ..., encrypt: Optional[bool] = ...) -> str: ...
    def get_action_sequence(self, retry: Optional[dict[str, Any]] = ..., encrypt: Optional[bool] = ...) -> str: ...
    def close(self) -> None: ...
    def __enter__(self) -> "Client": ...
    def __exit__(self, *exc: object) -> None: ...

class Error(Exception):
    code: str
    message: str
    request_id: Optional[str]
    http_status: Optional[int]
    retryable: bool
    attempts: int
    server_time: Optional[int]
    retry_at: Optional[int]

class InvalidArgumentError(Error, ValueError): ...
class JSONError(Error, ValueError): ...
class CredentialsError(Error): ...
class AuthError(Error): ...
class ClockSkewError(AuthError): ...
class ThrottledError(Error): ...
class ServiceError(Error): ...
class InvalidParameterError(ServiceError, ValueError): ...
class TokenExpiredError(ServiceError): ...
class TransportError(Error): ...
class TimeoutError(TransportError, builtins.TimeoutError): ...  # noqa: A001
class TLSError(TransportError): ...
class HTTPError(TransportError): ...
class CryptoError(Error): ...
class StateError(Error): ...
class AmbiguousError(Error): ...
class RateLimitedError(Error): ...

class Op:
    """One asynchronous call on a Multi (made by Multi.call / Multi.check)."""

    @property
    def user(self) -> Any: ...
    @property
    def done(self) -> bool: ...
    @property
    def cancelled(self) -> bool: ...
    def result(self) -> Any: ...
    def cancel(self) -> bool: ...

class Multi:
    """One tcf_multi driven by an event loop (tcfaceid.aio)."""

    def __init__(
        self,
        watch: Callable[[int, int], object],
        timer: Callable[[int], object],
        done: Callable[[Op], object],
        max_connections: int = ...,
    ) -> None: ...
    @property
    def running(self) -> int: ...
    @property
    def closed(self) -> bool: ...
    def socket(self, fd: int, events: int, /) -> None: ...
    def timeout(self) -> None: ...
    def call(
        self,
        client: Client,
        action: str,
        params: Union[_Bytes, str],
        retry: Optional[dict[str, Any]] = ...,
        encrypt: Optional[bool] = ...,
        user: Any = ...,
    ) -> Op: ...
    def check(
        self,
        client: Client,
        action: str,
        *,
        retry: Optional[dict[str, Any]] = ...,
        encrypt: Optional[bool] = ...,
        user: Any = ...,
        **inputs: Any,
    ) -> Op: ...
    def close(self) -> None: ...
