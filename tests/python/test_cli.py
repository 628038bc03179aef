"""The command-line interface (``python -m tcfaceid``, tcfaceid.cli): every command with its exit
code against the in-process emulator, one exit code per error class (the emulator's faults),
masking of identity data and media, json and table output, @file and - input.

Most runs call ``tcfaceid.cli.main(argv, stdin=, stdout=, stderr=)`` in-process (fast); a few run
``python -m tcfaceid`` as a subprocess to cover the module entry point and the default output.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import tcfaceid
from tcfaceid import cli
from tcfaceid.emulator import (
    DEFAULT_MERCHANT_ID,
    DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM,
    DEFAULT_SECRET_ID,
    DEFAULT_SECRET_KEY,
    Config,
    Emulator,
)
from tcfaceid.emulator.identity import DEFAULT_PEOPLE

ROOT = Path(__file__).resolve().parents[2]
ZHANG_ID, ZHANG = "110101199003071233", "张三"
LISI_ID, LISI = "440304198512010027", "李四"
VIDEO_OK = b"tcfaceid-emulator:result=Success;sim=91.5\n" + bytes(range(256)) * 4


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def json(self) -> Any:
        return json.loads(self.out)

    def __repr__(self) -> str:
        return f"Run(code={self.code}, out={self.out[:400]!r}, err={self.err[:400]!r})"


class TTYStringIO(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(*argv: str, stdin: str = "", tty: bool = False, tty_err: bool = False) -> Run:
    out = TTYStringIO() if tty else io.StringIO()
    err = TTYStringIO() if tty_err else io.StringIO()
    code = cli.main(list(argv), stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return Run(code, out.getvalue(), err.getvalue())


def people_values() -> list[str]:
    return [p[k] for p in DEFAULT_PEOPLE for k in ("name", "id_card", "phone", "bank_card") if p.get(k)]


def assert_no_identity(r: Run) -> None:
    text = r.out + r.err
    for value in people_values():
        assert value not in text, (value, r)
    assert DEFAULT_SECRET_KEY not in text


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The credential chain: the emulator's keys in the environment, no profile file."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("TENCENTCLOUD_SECRET_ID", DEFAULT_SECRET_ID)
    monkeypatch.setenv("TENCENTCLOUD_SECRET_KEY", DEFAULT_SECRET_KEY)
    monkeypatch.delenv("TENCENTCLOUD_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("TENCENTCLOUD_CREDENTIALS_FILE", raising=False)


@pytest.fixture
def ep(emu: Emulator) -> list[str]:
    """Global options for the emulator: no proxy, one attempt, short timeout."""
    return ["--endpoint", emu.endpoint, "--proxy=", "--max-attempts", "1", "--timeout", "5"]


# ------------------------------------------------------------------------------------------------
# call, output formats, input forms
# ------------------------------------------------------------------------------------------------

def test_call_json_and_table(ep: list[str]) -> None:
    r = run(*ep, "call", "GetLiveCode")
    assert r.code == 0, r
    assert set(r.json()) == {"LiveCode"} and len(r.json()["LiveCode"]) == 4
    t = run(*ep, "-o", "table", "call", "GetLiveCode")
    assert t.code == 0 and t.out.startswith("LiveCode  "), t
    # the default: table on a terminal, json otherwise; options also after the command
    assert run(*ep, "call", "GetLiveCode", tty=True).out.startswith("LiveCode  ")
    assert run("call", "GetLiveCode", *ep, "--output", "json", tty=True).out.startswith("{")


def test_call_params_from_file_and_stdin(ep: list[str], tmp_path: Path) -> None:
    params = {"RuleId": "1", "IdCard": ZHANG_ID, "Name": ZHANG, "RedirectUrl": "https://shop.example/back"}
    f = tmp_path / "p.json"
    f.write_text(json.dumps(params, ensure_ascii=False), encoding="utf-8")
    r = run(*ep, "call", "DetectAuth", f"@{f}")
    assert r.code == 0, r
    assert r.json()["BizToken"] and r.json()["Url"]
    r = run(*ep, "call", "DetectAuth", "-", stdin=json.dumps(params, ensure_ascii=False))
    assert r.code == 0 and r.json()["BizToken"], r
    assert_no_identity(r)
    assert run(*ep, "call", "DetectAuth", "@/nonexistent/p.json").code == 2
    assert run(*ep, "call", "GetLiveCode", "[1]").code == 2


def test_masking_of_responses(emu: Emulator, ep: list[str]) -> None:
    start = run(*ep, "detect", "start", "--rule-id", "1", "--id-card", ZHANG_ID, "--name", ZHANG)
    token = start.json()["biz_token"]
    emu.complete(token, "pass")
    body = json.dumps({"BizToken": token, "RuleId": "1", "InfoType": "0"})
    for fmt in ("json", "table"):
        r = run(*ep, "-o", fmt, "call", "GetDetectInfoEnhanced", body)
        assert r.code == 0, r
        assert_no_identity(r)
        assert "张*" in r.out
    r = run(*ep, "call", "GetDetectInfoEnhanced", body)
    text = r.json()["Text"]
    assert text["IdCard"] == "1" + "*" * 16 + "3" and text["Name"] == "张*"
    best = r.json()["BestFrame"]["BestFrame"]
    assert best.startswith("<media: ") and best.endswith(" characters of base64>")
    revealed = run(*ep, "--reveal", "call", "GetDetectInfoEnhanced", body).json()
    assert revealed["Text"]["IdCard"] == ZHANG_ID and revealed["Text"]["Name"] == ZHANG
    assert not revealed["BestFrame"]["BestFrame"].startswith("<media")


def test_mask_function() -> None:
    v = cli.mask({"Name": "阿卜杜拉·买买提", "Phone": "13800138000", "Result": "0", "OcrIdCard": ZHANG_ID,
                  "VideoBase64": "AAAA", "Nested": [{"BankCard": "6212261000000000017"}], "Extra": "x",
                  "Blob": "QUJD" * 100})
    assert v["Name"] == "阿******提" and v["Phone"] == "1*********0" and v["Result"] == "0"
    assert v["OcrIdCard"].startswith("1*") and v["Nested"][0]["BankCard"] == "6*****************7"
    assert v["VideoBase64"].startswith("<media") and v["Blob"].startswith("<media") and v["Extra"] == "x"
    assert cli.mask_text("张三") == "张*" and cli.mask_text("") == ""


# ------------------------------------------------------------------------------------------------
# sign
# ------------------------------------------------------------------------------------------------

def test_sign_shows_the_intermediates_never_the_secret(ep: list[str]) -> None:
    params = json.dumps({"RuleId": "1", "IdCard": ZHANG_ID, "Name": ZHANG}, ensure_ascii=False)
    r = run(*ep, "sign", "DetectAuth", params, "--timestamp", "1700000000")
    assert r.code == 0, r
    v = r.json()
    host = v["headers"]["Host"]
    # the same inputs signed with the real key give the same intermediates and signature
    expect = tcfaceid.sign(secret_id=DEFAULT_SECRET_ID, secret_key=DEFAULT_SECRET_KEY, service="faceid", host=host,
                           method="POST", content_type="application/json", timestamp=1700000000,
                           body=params.encode("utf-8"), signed_headers=v["signed_headers"], action="DetectAuth",
                           version="2018-03-01")
    assert v["canonical_request"] == expect["canonical_request"]
    assert v["string_to_sign"] == expect["string_to_sign"]
    assert v["signature"] == expect["signature"] and v["authorization"] == expect["authorization"]
    assert_no_identity(r)  # the body is not shown, only its hash
    t = run(*ep, "-o", "table", "sign", "DetectAuth", "-", "--timestamp", "1700000000", stdin=params)
    assert t.code == 0 and "--- canonical request ---" in t.out and "--- string to sign ---" in t.out, t
    assert expect["signature"] in t.out
    assert_no_identity(t)


# ------------------------------------------------------------------------------------------------
# detect
# ------------------------------------------------------------------------------------------------

def test_detect_start_and_result(emu: Emulator, ep: list[str], tmp_path: Path) -> None:
    saved = tmp_path / "session.json"
    r = run(*ep, "-o", "table", "detect", "start", "--rule-id", "1", "--id-card", ZHANG_ID, "--name", ZHANG,
            "--redirect-url", "https://shop.example/back", "--extra", "order-1", "--save", str(saved))
    assert r.code == 0, r
    assert_no_identity(r)
    session = tcfaceid.Session.from_json(saved.read_text())
    assert session.biz_token in r.out  # the token is printed: it is needed to continue

    pending = run(*ep, "detect", "result", f"@{saved}")
    assert pending.code == 9 and pending.json()["status"] == "PENDING", pending

    emu.complete(session.biz_token, "retry_then_pass")
    ok = run(*ep, "detect", "result", f"@{saved}", "--response")
    assert ok.code == 0, ok
    v = ok.json()
    assert v["status"] == "PASSED" and v["code"] == 0 and len(v["attempts"]) == 2
    assert v["response"]["Text"]["Name"] == "张*"
    assert_no_identity(ok)
    table = run(*ep, "-o", "table", "detect", "result", session.biz_token, "--rule-id", "1", "--response")
    assert table.code == 0 and "status" in table.out and "PASSED" in table.out, table
    assert_no_identity(table)
    assert ZHANG in run(*ep, "--reveal", "detect", "result", f"@{saved}", "--response").out

    # a bare token needs --rule-id (refused locally: usage)
    assert run(*ep, "detect", "result", session.biz_token).code == 2


def test_detect_result_failed_is_8(emu: Emulator, ep: list[str]) -> None:
    token = run(*ep, "detect", "start", "--rule-id", "1", "--id-card", LISI_ID, "--name", LISI).json()["biz_token"]
    emu.complete(token, "fail_liveness")
    r = run(*ep, "detect", "result", token, "--rule-id", "1")
    assert r.code == 8 and r.json()["status"] == "FAILED", r


def test_detect_start_invalid_id_is_usage(ep: list[str], emu: Emulator) -> None:
    before = sum(emu.stats()["received"].values())
    r = run(*ep, "detect", "start", "--rule-id", "1", "--id-card", "110101199003071234", "--name", ZHANG)
    assert r.code == 2 and "InvalidArgumentError" in r.err, r
    assert_no_identity(r)
    assert sum(emu.stats()["received"].values()) == before  # nothing was sent


# ------------------------------------------------------------------------------------------------
# eid, decrypt-eid
# ------------------------------------------------------------------------------------------------

def test_eid_start_status_result_wait_and_decrypt(emu: Emulator, ep: list[str], tmp_path: Path) -> None:
    saved, key = tmp_path / "eid.json", tmp_path / "sm2.pem"
    key.write_text(DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM)
    r = run(*ep, "eid", "start", "--merchant-id", DEFAULT_MERCHANT_ID, "--input-type", "4", "--id-card", LISI_ID,
            "--name", "-", "--save", str(saved), stdin=LISI + "\n")
    assert r.code == 0, r
    assert_no_identity(r)
    token = r.json()["eid_token"]
    s = run(*ep, "eid", "status", token)
    assert s.code == 0 and s.json() == {"status": "init"}, s
    emu.complete(token, "pass")
    assert run(*ep, "eid", "status", f"@{saved}").json() == {"status": "finished"}

    res = run(*ep, "--progress", "eid", "result", f"@{saved}", "--wait", "--interval", "0.1", "--key", str(key),
              "--response")
    assert res.code == 0, res
    v = res.json()
    assert v["status"] == "PASSED" and v["identity"]["name"] == "李*" and v["identity"]["idnum"].startswith("4*")
    assert "waiting for the E-ID verification" in res.err and "E-ID status: finished" in res.err
    assert_no_identity(res)
    revealed = run(*ep, "--reveal", "eid", "result", token, "--key", str(key)).json()
    assert revealed["identity"] == {"name": LISI, "idtype": "01", "idnum": LISI_ID}

    # decrypt-eid with the EidInfo of the result
    info = run(*ep, "--reveal", "eid", "result", token, "--parts", "text,eid_info", "--response").json()
    eid_info = info["response"]["EidInfo"]
    (tmp_path / "user").write_text(eid_info["UserInfo"])
    d = run("decrypt-eid", "--des-key", eid_info["DesKey"], "--user-info", f"@{tmp_path / 'user'}", "--key", str(key))
    assert d.code == 0 and d.json() == {"idnum": "4****************7", "idtype": "01", "name": "李*"}, d
    d = run("--reveal", "decrypt-eid", "--des-key", eid_info["DesKey"], "--user-info", eid_info["UserInfo"],
            "--key", str(key))
    assert d.json()["idnum"] == LISI_ID
    # the wrong key: a CryptoError (exit 1)
    other = tmp_path / "other.pem"
    from tcfaceid.emulator.config import EMULATOR_SM2_PRIVATE_KEY_PEM
    other.write_text(EMULATOR_SM2_PRIVATE_KEY_PEM)
    bad = run("decrypt-eid", "--des-key", eid_info["DesKey"], "--user-info", eid_info["UserInfo"],
              "--key", str(other))
    assert bad.code == 1 and "CryptoError" in bad.err, bad


def test_eid_result_pending_is_9(ep: list[str]) -> None:
    token = run(*ep, "eid", "start", "--merchant-id", DEFAULT_MERCHANT_ID).json()["eid_token"]
    r = run(*ep, "eid", "result", token)
    assert r.code == 9 and r.json()["status"] in ("PENDING", "EXPIRED"), r


# ------------------------------------------------------------------------------------------------
# validate, estimate, check, emulator
# ------------------------------------------------------------------------------------------------

def test_validate() -> None:
    ok = run("validate", "idcard", ZHANG_ID)
    assert ok.code == 0 and ok.json() == {"kind": "idcard", "valid": True}, ok
    bad = run("validate", "idcard", "110101199003071234")
    assert bad.code == 1 and bad.json()["valid"] is False and "110101199003071234" not in bad.out + bad.err, bad
    phone = run("-o", "table", "validate", "phone", "19012345678")
    assert phone.code == 0 and "CTCC" in phone.out and "warning:" in phone.err, phone
    assert "19012345678" not in phone.out + phone.err
    assert run("validate", "phone", "-", stdin="13800138000\n").json()["carrier"] == "CMCC"
    assert run("validate", "phone", "1380013800").code == 1
    assert run("validate", "bankcard", "6212261000000000017").code == 0
    bad = run("validate", "bankcard", "6212261000000000018")
    assert bad.code == 1 and "6212261000000000018" not in bad.out + bad.err


def test_estimate() -> None:
    r = run("estimate", "BankCardVerification", "2500")
    assert r.code == 0, r
    assert r.json() == {"action": "BankCardVerification", "calls": 2500, "currency": "CNY", "per_call": "0.6",
                        "postpaid": "1500", "best": "1460", "postpaid_calls": 500,
                        "packages": [{"size": 1000, "count": 2, "price": "580"}]}
    t = run("-o", "table", "estimate", "PhoneVerification", "10", "--detailed")
    assert t.code == 0 and "per_call" in t.out, t
    assert run("estimate", "NoSuchAction", "1").code == 2


def test_check(ep: list[str], tmp_path: Path) -> None:
    r = run(*ep, "check", "IdCardVerification", "--id-card", ZHANG_ID, "--name", ZHANG, "--response")
    assert r.code == 0 and r.json()["status"] == "matched", r
    assert_no_identity(r)
    r = run(*ep, "check", "IdCardVerification", "--id-card", ZHANG_ID, "--name", LISI)
    assert r.code == 8 and r.json()["status"] == "mismatched", r
    video = tmp_path / "v.mp4"
    video.write_bytes(VIDEO_OK)
    r = run(*ep, "--progress", "check", "LivenessRecognition", "--id-card", ZHANG_ID, "--name", ZHANG,
            "--liveness-type", "SILENT", "--video", f"@{video}", "--response")
    assert r.code == 0 and r.json()["sim"] == 91.5, r
    assert "LivenessRecognition: sending" in r.err and " s" in r.err
    assert_no_identity(r)


def test_emulator_command(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "tcfaceid", "emulator", "--port", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=str(tmp_path))
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("tcfaceid emulator serving http://127.0.0.1:"), line
        endpoint = line.split()[-1]
        r = run("--endpoint", endpoint, "--proxy=", "call", "GetActionSequence")
        assert r.code == 0 and r.json()["ActionSequence"], r
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
    assert run("emulator", "--rule-id").code == 2  # its own argparse


def test_module_entry_point_and_help(emu: Emulator) -> None:
    env = {**os.environ, "TENCENTCLOUD_SECRET_ID": DEFAULT_SECRET_ID, "TENCENTCLOUD_SECRET_KEY": DEFAULT_SECRET_KEY}
    p = subprocess.run([sys.executable, "-m", "tcfaceid", "--endpoint", emu.endpoint, "--proxy=", "call",
                        "GetLiveCode"], capture_output=True, text=True, env=env, timeout=30)
    assert p.returncode == 0, p.stderr
    assert "LiveCode" in json.loads(p.stdout)  # not a terminal: json
    assert run("--help").code == 0
    assert run("call").code == 2  # argparse
    assert run("nosuchcommand").code == 2


def test_console_script_declared() -> None:
    assert '"tcfaceid = tcfaceid.cli:main"' in (ROOT / "setup.py").read_text()
    script = Path(sys.executable).parent / "tcfaceid"
    if script.exists():  # installed by scripts/bootstrap.sh (pip install -e .)
        p = subprocess.run([str(script), "validate", "idcard", ZHANG_ID], capture_output=True, text=True, timeout=30)
        assert p.returncode == 0 and json.loads(p.stdout)["valid"] is True, p.stderr


def test_large_body_progress_on_a_terminal(ep: list[str]) -> None:
    body = json.dumps({"RuleId": "1", "Extra": "x" * (1 << 20)})
    r = run(*ep, "call", "DetectAuth", "-", stdin=body, tty_err=True)
    assert r.code in (0, 4), r  # the emulator may refuse the long Extra: the ticker ran either way
    assert "DetectAuth: sending 1048" in r.err and "done in" in r.err and "\r" in r.err, r
    quiet = run(*ep, "call", "GetLiveCode", tty_err=True)  # a small body: no ticker
    assert quiet.err == "", quiet


def test_verbose_logs_to_stderr(ep: list[str]) -> None:
    r = run(*ep, "--verbose", "call", "GetLiveCode")
    assert r.code == 0 and "action=GetLiveCode" in r.err, r
    assert "action=GetLiveCode" not in run(*ep, "call", "GetLiveCode").err


# ------------------------------------------------------------------------------------------------
# exit codes per error class
# ------------------------------------------------------------------------------------------------

def test_exit_auth(ep: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    r = run(*ep, "--secret-id", DEFAULT_SECRET_ID, "--secret-key", "not-the-key", "call", "GetLiveCode")
    assert r.code == 3 and "AuthFailure" in r.err, r
    assert r.json()["error"]["class"] == "AuthError"
    monkeypatch.delenv("TENCENTCLOUD_SECRET_ID")
    monkeypatch.delenv("TENCENTCLOUD_SECRET_KEY")
    r = run(*ep, "call", "GetLiveCode")
    assert r.code == 3 and "CredentialsError" in r.err, r
    assert run(*ep, "--secret-id", DEFAULT_SECRET_ID, "call", "GetLiveCode").code == 2  # --secret-key missing
    r = run(*ep, "--secret-id", DEFAULT_SECRET_ID, "--secret-key", "-", "call", "GetLiveCode",
            stdin=DEFAULT_SECRET_KEY + "\n")
    assert r.code == 0, r
    assert_no_identity(r)


def test_exit_api_error(ep: list[str]) -> None:
    r = run(*ep, "call", "DetectAuth", '{"RuleId": "999"}')
    assert r.code == 4 and r.json()["error"]["request_id"], r
    assert run(*ep, "call", "NoSuchAction").code == 4


def test_exit_throttled_and_rate_limited(emu: Emulator, ep: list[str]) -> None:
    emu.fault("throttle", count=5, action="GetLiveCode")
    r = run(*ep, "call", "GetLiveCode")
    assert r.code == 5 and "RequestLimitExceeded" in r.err, r
    with Emulator(Config(port=0, limits={"idcard_name_per_day": 1, "idcard_id_per_day": 1})) as limited:
        args = ["--endpoint", limited.endpoint, "--proxy=", "check", "IdCardVerification", "--id-card", ZHANG_ID,
                "--name", ZHANG]
        assert run(*args).code == 0
        r = run(*args)
        assert r.code == 5 and "RateLimitedError" in r.err and "retry after" in r.err, r
        assert_no_identity(r)


def test_exit_transport(emu: Emulator, ep: list[str]) -> None:
    r = run("--endpoint", "http://127.0.0.1:1", "--proxy=", "--max-attempts", "1", "call", "GetLiveCode")
    assert r.code == 6 and "TransportError" in r.err, r
    emu.fault("http_5xx", count=5, action="GetLiveCode", status=503)
    assert run(*ep, "call", "GetLiveCode").code == 6
    emu.fault("not_json", count=5, action="GetActionSequence", status=200)
    assert run(*ep, "call", "GetActionSequence").code == 6


def test_exit_timeout_with_progress(emu: Emulator, ep: list[str]) -> None:
    emu.fault("latency", count=1, action="GetLiveCode", seconds=1.2)
    t0 = time.monotonic()
    r = run(*ep, "--timeout", "0.7", "--progress", "call", "GetLiveCode")
    assert r.code == 6 and "TimeoutError" in r.err, r
    assert "s elapsed" in r.err  # the ticker ran while the call waited
    assert time.monotonic() - t0 < 5


def test_exit_ambiguous(emu: Emulator, ep: list[str]) -> None:
    emu.fault("internal_error", count=1, action="IdCardVerification")
    r = run(*ep, "check", "IdCardVerification", "--id-card", ZHANG_ID, "--name", ZHANG)
    assert r.code == 7 and "AmbiguousError" in r.err, r
    assert_no_identity(r)


def test_exit_codes_cover_every_class() -> None:
    expected = {
        "InvalidArgumentError": 2, "CredentialsError": 3, "AuthError": 3, "ClockSkewError": 3, "ThrottledError": 5,
        "RateLimitedError": 5, "ServiceError": 4, "InvalidParameterError": 4, "TokenExpiredError": 4,
        "TransportError": 6, "TimeoutError": 6, "TLSError": 6, "HTTPError": 6, "AmbiguousError": 7,
        "CryptoError": 1, "StateError": 1, "JSONError": 2,
    }
    for name, code in expected.items():
        cls = getattr(tcfaceid, name)
        assert cli.exit_code_of(cls("x")) == code, name
