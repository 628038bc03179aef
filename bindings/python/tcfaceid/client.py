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
from typing import Any, Iterable, Mapping, NamedTuple, Optional, Union

from . import _core

__all__ = ["Client", "PreparedRequest", "sign", "parse"]

Params = Union[Mapping[str, Any], bytes, bytearray, memoryview, str, None]
Headers = Union[Mapping[str, str], Iterable[tuple[str, str]]]

logger = logging.getLogger("tcfaceid")


def _log_bridge(level: int, line: str) -> None:
    # The core's levels are logging's (10 debug, 20 info, 30 warning, 40 error); its lines are
    # already redacted: no secrets, tokens, Authorization, bodies or identity data.
    logger.log(level, "%s", line)


def _body(params: Params) -> Union[bytes, bytearray, memoryview, str]:
    """JSON text for the request. Bytes-like and str are sent exactly as given."""
    if params is None:
        return b"{}"
    if isinstance(params, (bytes, bytearray, memoryview, str)):
        return params
    if isinstance(params, Mapping):
        return json.dumps(params, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    raise TypeError(f"params must be a dict or JSON text (bytes or str), not {type(params).__name__}")


class PreparedRequest(NamedTuple):
    """A signed request to send with any HTTP client (``client.prepare``)."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes


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


class Client:
    """A FaceID client. Safe to share between threads; use it as a context manager or ``close()`` it.

    Credentials: ``secret_id`` and ``secret_key`` (and ``token`` for temporary credentials), or
    neither — then the environment (``TENCENTCLOUD_SECRET_ID``, ``TENCENTCLOUD_SECRET_KEY``,
    ``TENCENTCLOUD_SESSION_TOKEN``) and then ``~/.tencentcloud/credentials``.
    """

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
    ) -> None:
        self._core = _core.Client(
            secret_id=secret_id, secret_key=secret_key, token=token, region=region, endpoint=endpoint,
            language=language, connect_timeout=connect_timeout, timeout=timeout, proxy=proxy,
            ca_bundle=ca_bundle, verify=verify, log=_log_bridge,
        )
        self._local = threading.local()

    @classmethod
    def from_env(cls, **options: Any) -> "Client":
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
    def last_request_id(self) -> Optional[str]:
        """The RequestId of this thread's last call (also on every exception)."""
        return getattr(self._local, "request_id", None)

    def call(self, action: str, params: Params = None) -> dict[str, Any]:
        """Call any action; returns the ``Response`` object without ``RequestId``."""
        try:
            data, request_id = self._core.call(action, _body(params))
        except _core.Error as e:
            self._local.request_id = e.request_id
            raise
        self._local.request_id = request_id
        return json.loads(data)

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
            self._local.request_id = e.request_id
            raise
        self._local.request_id = request_id
        return json.loads(data)

    def close(self) -> None:
        self._core.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<tcfaceid.Client endpoint={self.endpoint!r}>"
