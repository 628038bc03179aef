"""A minimal signing client for the emulator tests (TC3 over http.client).

It signs with the emulator's own signing helpers; those are checked against the
official vectors in test_emulator_auth.py, and the official SDK cross-check
(test_emulator_sdk.py) signs with code nobody here wrote.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.parse
from typing import Any, Optional

from tcfaceid.emulator.auth import TC3, sha256_hex, tc3_canonical_request, tc3_signature, utc_date
from tcfaceid.emulator.config import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY


def sign_headers(
    host: str,
    action: str,
    body: bytes,
    *,
    secret_id: str = DEFAULT_SECRET_ID,
    secret_key: str = DEFAULT_SECRET_KEY,
    timestamp: Optional[int] = None,
    token: Optional[str] = None,
    method: str = "POST",
    query: str = "",
    content_type: str = "application/json",
    version: str = "2018-03-01",
    service: str = "faceid",
) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    headers = {"content-type": content_type, "host": host}
    canonical = tc3_canonical_request(method, "/", query, headers, ["content-type", "host"], body, False)
    date = utc_date(ts)
    sts = "\n".join([TC3, str(ts), f"{date}/{service}/tc3_request", sha256_hex(canonical.encode())])
    sig = tc3_signature(secret_key, date, service, sts)
    out = {
        "Content-Type": content_type,
        "Host": host,
        "X-TC-Action": action,
        "X-TC-Version": version,
        "X-TC-Timestamp": str(ts),
        "Authorization": f"{TC3} Credential={secret_id}/{date}/{service}/tc3_request, "
        f"SignedHeaders=content-type;host, Signature={sig}",
    }
    if token is not None:
        out["X-TC-Token"] = token
    return out


class Api:
    """Calls the emulator's API; ``call`` returns the ``Response`` object."""

    def __init__(self, endpoint: str, secret_id: str = DEFAULT_SECRET_ID, secret_key: str = DEFAULT_SECRET_KEY,
                 token: Optional[str] = None, clock: Any = None) -> None:
        u = urllib.parse.urlsplit(endpoint)
        self.host = u.netloc
        self.endpoint = endpoint
        self.secret_id, self.secret_key, self.token = secret_id, secret_key, token
        self.clock = clock  # callable returning the time to sign with (the emulator's clock in tests)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)

    def raw(self, method: str, path: str, body: bytes = b"", headers: Optional[dict[str, str]] = None):
        self.conn.request(method, path, body=body, headers=headers or {})
        resp = self.conn.getresponse()
        data = resp.read()
        if resp.getheader("Connection", "").lower() == "close":
            self.conn.close()
        return resp.status, dict(resp.getheaders()), data

    def call_raw(self, action: str, params: Any = None, *, body: Optional[bytes] = None, **sign: Any):
        if body is None:
            body = json.dumps(params if params is not None else {}, ensure_ascii=False).encode("utf-8")
        sign.setdefault("secret_id", self.secret_id)
        sign.setdefault("secret_key", self.secret_key)
        sign.setdefault("token", self.token)
        if "timestamp" not in sign and self.clock is not None:
            sign["timestamp"] = int(self.clock())
        headers = sign_headers(self.host, action, body, **sign)
        status, rh, data = self.raw("POST", "/", body, headers)
        return status, rh, json.loads(data)

    def call(self, action: str, params: Any = None, **sign: Any) -> dict[str, Any]:
        status, _, doc = self.call_raw(action, params, **sign)
        assert status == 200, status
        return doc["Response"]

    def control(self, what: str, obj: Optional[dict[str, Any]] = None, method: str = "POST"):
        body = json.dumps(obj).encode() if obj is not None else b""
        status, _, data = self.raw(method, f"/_emulator/{what}", body, {"Content-Type": "application/json"})
        return status, json.loads(data)

    def close(self) -> None:
        self.conn.close()
