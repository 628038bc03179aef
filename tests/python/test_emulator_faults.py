"""Fault injection, QPS limits, statistics, clock and reset through the control API."""

from __future__ import annotations

import email.utils
import http.client
import json
import threading
import time
import urllib.parse

import pytest
from conftest import code
from emuclient import Api, sign_headers

from tcfaceid.emulator import Config, Emulator

DETECT = {"RuleId": "1", "IdCard": "110101199003071233", "Name": "张三"}


def fresh_conn(emu: Emulator) -> http.client.HTTPConnection:
    u = urllib.parse.urlsplit(emu.endpoint)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=10)


def signed_post(emu: Emulator, action: str, params: dict):
    """One request on its own connection; returns (status, headers, body bytes) or raises."""
    conn = fresh_conn(emu)
    try:
        body = json.dumps(params).encode()
        conn.request("POST", "/", body, sign_headers(emu.host_port, action, body, timestamp=emu.now()))
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def test_http_5xx_and_not_json(emu: Emulator, client: Api) -> None:
    assert client.control("faults", {"kind": "http_5xx", "status": 502, "count": 2})[0] == 200
    for _ in range(2):
        status, headers, body = signed_post(emu, "DetectAuth", DETECT)
        assert status == 502 and headers["Content-Type"] == "text/html" and b"502" in body
    status, _, body = signed_post(emu, "DetectAuth", DETECT)
    assert status == 200 and "BizToken" in json.loads(body)["Response"]
    emu.fault("not_json")
    status, headers, body = signed_post(emu, "GetLiveCode", {})
    assert status == 200 and headers["Content-Type"] == "text/html"
    with pytest.raises(ValueError):
        json.loads(body)
    stats = emu.stats()
    assert stats["received"]["DetectAuth"] == 3 and stats["faults_applied"] == {"http_5xx": 2, "not_json": 1}
    assert stats["sessions"] == 1  # the two failed DetectAuth calls created nothing


def test_throttle_and_internal_error(emu: Emulator) -> None:
    emu.fault("throttle")
    emu.fault("internal_error", code="InternalError.UnKnown")
    emu.fault("throttle", code="RequestLimitExceeded.UinLimitExceeded")
    codes = [json.loads(signed_post(emu, "GetLiveCode", {})[2])["Response"]["Error"]["Code"] for _ in range(3)]
    assert codes == ["RequestLimitExceeded", "InternalError.UnKnown", "RequestLimitExceeded.UinLimitExceeded"]
    assert emu.stats()["errors"]["RequestLimitExceeded"] == 1


def test_reset_before_and_after(emu: Emulator) -> None:
    emu.fault("reset", phase="before")
    with pytest.raises((ConnectionError, http.client.HTTPException)):
        signed_post(emu, "DetectAuth", DETECT)
    assert emu.stats()["sessions"] == 0
    emu.fault("reset", phase="after")
    with pytest.raises((ConnectionError, http.client.HTTPException)):
        signed_post(emu, "DetectAuth", DETECT)
    stats = emu.stats()
    assert stats["sessions"] == 1 and stats["received"]["DetectAuth"] == 2  # executed, the answer lost


def test_truncated_body(emu: Emulator) -> None:
    emu.fault("truncated", actions=["DetectAuth"])
    status, _, body = signed_post(emu, "GetLiveCode", {})  # another action is not affected
    assert status == 200
    conn = fresh_conn(emu)
    body = json.dumps(DETECT).encode()
    conn.request("POST", "/", body, sign_headers(emu.host_port, "DetectAuth", body, timestamp=emu.now()))
    resp = conn.getresponse()
    with pytest.raises(http.client.IncompleteRead):
        resp.read()
    conn.close()
    assert emu.stats()["sessions"] == 1


def test_latency(emu: Emulator) -> None:
    emu.fault("latency", seconds=0.3, count=1)
    t = time.monotonic()
    status, _, _ = signed_post(emu, "GetLiveCode", {})
    slow = time.monotonic() - t
    t = time.monotonic()
    signed_post(emu, "GetLiveCode", {})
    fast = time.monotonic() - t
    assert status == 200 and slow >= 0.3 and fast < slow


@pytest.mark.parametrize(
    "spec",
    [{"kind": "explode"}, {"kind": "latency", "seconds": -1}, {"kind": "http_5xx", "status": 404},
     {"kind": "reset", "count": 0}, {"kind": "truncated", "phase": "before"}, {"kind": "throttle", "bogus": 1},
     {"kind": "latency", "actions": "DetectAuth", "count": True}],
)
def test_bad_fault_specs(client: Api, spec: dict) -> None:
    status, body = client.control("faults", spec)
    assert status == 400 and body["error"]


def test_faults_listed_and_cleared(emu: Emulator, client: Api) -> None:
    client.control("faults", {"kind": "throttle", "count": 5, "action": "DetectAuth"})
    status, body = client.control("faults", method="GET")
    assert body["pending"][0]["count"] == 5 and body["pending"][0]["actions"] == ["DetectAuth"]
    client.control("faults", {"clear": True})
    assert client.control("faults", method="GET")[1]["pending"] == []


def test_qps_limit() -> None:
    with Emulator(Config(port=0, qps={"GetLiveCode": 5})) as emu:
        c = Api(emu.endpoint, clock=emu.now)
        try:
            codes = [code(c.call("GetLiveCode", {})) for _ in range(8)]
            assert codes[:5] == [""] * 5 and "RequestLimitExceeded" in codes[5:]
            assert code(c.call("GetActionSequence", {})) == ""  # per action
            time.sleep(1.05)
            assert code(c.call("GetLiveCode", {})) == ""
        finally:
            c.close()


def test_element_qps_default_is_20() -> None:
    with Emulator(Config(port=0)) as emu:
        c = Api(emu.endpoint, clock=emu.now)
        try:
            codes = [code(c.call("MobileStatus", {"Mobile": "13800138000"})) for _ in range(25)]
            assert codes.count("RequestLimitExceeded") >= 1 and codes[:20] == [""] * 20
        finally:
            c.close()


def test_qps_can_be_turned_off() -> None:
    with Emulator(Config(port=0, qps_enabled=False)) as emu:
        c = Api(emu.endpoint, clock=emu.now)
        try:
            assert all(code(c.call("MobileStatus", {"Mobile": "13800138000"})) == "" for _ in range(40))
        finally:
            c.close()


def test_clock_and_reset(emu: Emulator, client: Api) -> None:
    status, body = client.control("clock", {"set": 1_700_000_000})
    assert status == 200 and abs(body["now"] - 1_700_000_000) <= 1
    assert abs(client.control("clock", {"advance": 3600})[1]["now"] - 1_700_003_600) <= 1
    assert client.control("clock", {"advance": "1"})[0] == 400
    assert client.control("clock", {})[0] == 400
    status, headers, _ = client.raw("POST", "/", b"{}", sign_headers(client.host, "GetLiveCode", b"{}", timestamp=emu.now()))
    assert abs(email.utils.parsedate_to_datetime(headers["Date"]).timestamp() - 1_700_003_600) <= 2
    client.call("DetectAuth", DETECT)
    assert emu.stats()["sessions"] == 1
    assert client.control("reset")[0] == 200
    stats = emu.stats()
    assert stats["sessions"] == 0 and stats["total"] == 0 and abs(stats["now"] - time.time()) < 5


def test_concurrent_clients(emu: Emulator) -> None:
    errors: list[str] = []

    def work() -> None:
        c = Api(emu.endpoint, clock=emu.now)
        try:
            for _ in range(10):
                token = c.call("DetectAuth", DETECT).get("BizToken")
                if not token:
                    errors.append("no token")
                    continue
                emu.complete(token, "pass")
                text = c.call("GetDetectInfoEnhanced", {"BizToken": token, "RuleId": "1", "InfoType": "1"})["Text"]
                if text["ErrCode"] not in (0, 2018):
                    errors.append(str(text["ErrCode"]))
        finally:
            c.close()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == [] and emu.stats()["received"]["DetectAuth"] == 80
