"""The emulator's command line (``python -m tcfaceid.emulator``), HTTPS with a
throwaway certificate (``--make-cert``), and HTTP keep-alive.

Subprocesses run ``sys.executable`` (the venv, with tcfaceid installed) and
listen on 127.0.0.1 with ``--port 0``. Every process is stopped and reaped, even
when a test fails.
"""

from __future__ import annotations

import http.client
import json
import queue
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any, Optional

import pytest
from emuclient import Api, sign_headers

from tcfaceid.emulator import DEFAULT_SECRET_ID, Emulator
from tcfaceid.emulator.identity import DEFAULT_PEOPLE

PERSON = DEFAULT_PEOPLE[0]
SERVING = re.compile(r"^tcfaceid emulator serving (https?)://127\.0\.0\.1:(\d+)$")
START_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0


# ---------------------------------------------------------------------------
# running the command line
# ---------------------------------------------------------------------------


class Cli:
    """``python -m tcfaceid.emulator ARGS`` in the background, stdout line by line."""

    def __init__(self, *args: str) -> None:
        self.stderr_file = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tcfaceid.emulator", *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.stderr_file, text=True, encoding="utf-8",
        )
        self.lines: queue.Queue[Optional[str]] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def line(self, timeout: float = START_TIMEOUT) -> str:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no output within {timeout} s; stderr: {self.stderr()}") from None
        if line is None:
            raise AssertionError(f"exited ({self.proc.poll()}) without output; stderr: {self.stderr()}")
        return line

    def endpoint(self) -> str:
        first = self.line()
        m = SERVING.match(first)
        assert m, first
        return first.split(" serving ", 1)[1]

    def stderr(self) -> str:
        self.stderr_file.seek(0)
        return self.stderr_file.read()

    def terminate(self, timeout: float = STOP_TIMEOUT) -> tuple[int, float]:
        """SIGTERM; (exit code, seconds it took)."""
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=timeout)
        return code, time.monotonic() - t0

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        self._reader.join(timeout=5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.stderr_file.close()


@pytest.fixture
def cli():
    started: list[Cli] = []

    def start(*args: str) -> Cli:
        c = Cli(*args)
        started.append(c)
        return c

    yield start
    for c in started:
        c.close()


def run_cli(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tcfaceid.emulator", *args], capture_output=True, text=True,
                          encoding="utf-8", timeout=timeout, stdin=subprocess.DEVNULL)


def call(conn: http.client.HTTPConnection, action: str, params: Any, *, host: str, timestamp: Optional[int] = None,
         body: Optional[bytes] = None, **sign: Any) -> tuple[int, dict[str, str], dict[str, Any]]:
    """One signed call on ``conn``; the signature covers exactly the Host header that is sent."""
    if body is None:
        body = json.dumps(params, ensure_ascii=False).encode("utf-8")
    headers = sign_headers(host, action, body, timestamp=timestamp, **sign)
    conn.request("POST", "/", body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, json.loads(data)


# ---------------------------------------------------------------------------
# the command line
# ---------------------------------------------------------------------------


def test_cli_serves_a_signed_call_and_stops_on_sigterm(cli) -> None:
    proc = cli("--port", "0")
    endpoint = proc.endpoint()
    assert endpoint.startswith("http://127.0.0.1:")
    assert "SecretIds: " + DEFAULT_SECRET_ID in proc.line()
    api = Api(endpoint)  # the subprocess runs on the real clock
    idle = http.client.HTTPConnection("127.0.0.1", int(endpoint.rsplit(":", 1)[1]), timeout=5)
    try:
        r = api.call("GetLiveCode", {})
        assert "Error" not in r and r["LiveCode"], r
        r = api.call("DetectAuth", {"RuleId": "1", "IdCard": PERSON["id_card"], "Name": PERSON["name"]})
        assert r["Url"].startswith(endpoint + "/h5/verify?token="), r
        # An idle keep-alive connection must not hold up the shutdown.
        idle.request("GET", "/_emulator/health")
        assert json.loads(idle.getresponse().read())["ok"] is True
        code, seconds = proc.terminate()
        assert code == 0, proc.stderr()
        assert seconds < STOP_TIMEOUT
        assert "Traceback" not in proc.stderr(), proc.stderr()
    finally:
        idle.close()
        api.close()
    with pytest.raises(OSError):  # the port is closed
        socket.create_connection(("127.0.0.1", int(endpoint.rsplit(":", 1)[1])), timeout=2).close()


def test_cli_help() -> None:
    r = run_cli("--help")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("usage: python -m tcfaceid.emulator"), r.stdout
    for option in ("--port", "--config", "--secret-id", "--secret-key", "--tls-cert", "--tls-key", "--make-cert"):
        assert option in r.stdout


@pytest.mark.parametrize("args,message", [
    (["--secret-id", "AKIDx"], "--secret-id and --secret-key go together"),
    (["--secret-key", "k"], "--secret-id and --secret-key go together"),
    (["--tls-cert", "c.pem"], "--tls-cert and --tls-key go together"),
    (["--port", "nope"], "invalid int value"),
    (["--bogus-option"], "unrecognized arguments"),
])
def test_cli_rejects_bad_arguments(args: list[str], message: str) -> None:
    r = run_cli("--port", "0", *args)
    assert r.returncode != 0
    assert message in r.stderr, r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    assert "serving" not in r.stdout


def test_cli_config_file(cli, tmp_path: Path) -> None:
    config = {
        "credentials": [
            {"secret_id": "AKIDcustomEXAMPLE", "secret_key": "customKeyEXAMPLE", "account": "default"},
            {"secret_id": "AKIDacmeEXAMPLE", "secret_key": "acmeKeyEXAMPLE", "account": "acme"},
        ],
        "rules": ["7", {"rule_id": "9", "account": "acme"}],
        "qps_enabled": False,
    }
    path = tmp_path / "emulator.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    proc = cli("--port", "0", "--config", str(path))
    endpoint = proc.endpoint()
    assert "SecretIds: AKIDcustomEXAMPLE, AKIDacmeEXAMPLE; RuleIds: 7, 9" in proc.line()
    custom = Api(endpoint, secret_id="AKIDcustomEXAMPLE", secret_key="customKeyEXAMPLE")
    acme = Api(endpoint, secret_id="AKIDacmeEXAMPLE", secret_key="acmeKeyEXAMPLE")
    default = Api(endpoint)
    try:
        who = {"IdCard": PERSON["id_card"], "Name": PERSON["name"]}
        r = custom.call("DetectAuth", {"RuleId": "7", **who})
        assert "Error" not in r and r["BizToken"] and r["Url"].startswith(endpoint + "/h5/verify?token="), r
        r = custom.call("DetectAuth", {"RuleId": "1", **who})
        assert r["Error"]["Code"] == "InvalidParameterValue.RuleIdNotExist", r
        # RuleIds belong to an account: "9" is acme's, "7" (a bare string) is the default account's.
        assert "Error" not in acme.call("DetectAuth", {"RuleId": "9", **who})
        assert acme.call("DetectAuth", {"RuleId": "7", **who})["Error"]["Code"] == "InvalidParameterValue.RuleIdNotExist"
        assert custom.call("DetectAuth", {"RuleId": "9", **who})["Error"]["Code"] == "InvalidParameterValue.RuleIdNotExist"
        # The default key pair is replaced by the configured ones.
        assert default.call("GetLiveCode", {})["Error"]["Code"] == "AuthFailure.SecretIdNotFound"
        # qps_enabled false: 40 MobileStatus calls at once (documented limit 20/s) are all served.
        codes = [custom.call("MobileStatus", {"Mobile": PERSON["phone"]}).get("Error", {}).get("Code", "") for _ in range(40)]
        assert "RequestLimitExceeded" not in codes, codes
    finally:
        for a in (custom, acme, default):
            a.close()
    # ... whereas with the default configuration the same burst is throttled.
    with Emulator() as emu:
        api = Api(emu.endpoint, clock=emu.now)
        try:
            codes = [api.call("MobileStatus", {"Mobile": PERSON["phone"]}).get("Error", {}).get("Code", "") for _ in range(40)]
        finally:
            api.close()
        assert "RequestLimitExceeded" in codes, codes
    code, _ = proc.terminate()
    assert code == 0


@pytest.mark.parametrize("content,message", [
    ({"bogus": 1}, "unknown configuration key: bogus"),
    ({"credentials": [{"secret_id": "a", "secret_key": "b", "colour": "red"}]}, "unknown credential fields: colour"),
    ({"rules": [{"rule_id": "7", "bogus": True}]}, "unknown rule fields: bogus"),
    ({"limits": {"nope": 1}}, "unknown limits: nope"),
    ({"credentials": []}, "at least one credential"),
    ("{not json", "configuration error"),
    (None, "configuration error"),  # the file does not exist
])
def test_cli_config_errors_exit_2_with_a_message(tmp_path: Path, content: Any, message: str) -> None:
    path = tmp_path / "emulator.json"
    if content is not None:
        path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    r = run_cli("--port", "0", "--config", str(path))
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "configuration error" in r.stderr and message in r.stderr, r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    assert "serving" not in r.stdout


# Were tracebacks with exit code 1 (TypeError in Config.from_mapping; ValueError from Service(config)).
@pytest.mark.parametrize("content", [
    {"credentials": 5}, {"rules": 7}, {"credentials": [{"secret_id": "a"}]},
    {"identities": [{"name": "x"}]}, {"merchants": [{"merchant_id": "m", "sm2_private_key_pem": "garbage"}]},
])
def test_cli_config_type_errors_exit_2_with_a_message(tmp_path: Path, content: Any) -> None:
    path = tmp_path / "emulator.json"
    path.write_text(json.dumps(content), encoding="utf-8")
    r = run_cli("--port", "0", "--config", str(path))
    assert r.returncode == 2 and "configuration error" in r.stderr and "Traceback" not in r.stderr, (r.returncode, r.stderr)


# Were accepted, or a traceback at bind() with exit code 1: value types are checked too.
@pytest.mark.parametrize("content,port", [
    ([], True), ({"qps": 5}, True), ({"qps_enabled": "no"}, True), ({"rules": "12"}, True),
    ({"port": "abc"}, False), ({"host": 5}, True),
])
def test_cli_config_value_types_are_checked(cli, tmp_path: Path, content: Any, port: bool) -> None:
    path = tmp_path / "emulator.json"
    path.write_text(json.dumps(content), encoding="utf-8")
    proc = cli(*(["--port", "0"] if port else []), "--config", str(path))
    try:
        first = proc.line()
    except AssertionError:  # exited without a line on stdout: what we want
        first = ""
    assert "serving" not in first, f"accepted {content!r}"
    code = proc.proc.wait(timeout=10)
    assert code == 2 and "configuration error" in proc.stderr() and "Traceback" not in proc.stderr(), (code, proc.stderr())


# ---------------------------------------------------------------------------
# HTTPS
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("--make-cert needs the openssl command (Debian: apt-get install openssl)")
    out = tmp_path_factory.mktemp("certs") / "tls"
    r = run_cli("--make-cert", str(out))
    assert r.returncode == 0, r.stderr
    cert, key = out / "emulator-cert.pem", out / "emulator-key.pem"
    assert str(cert) in r.stdout and str(key) in r.stdout, r.stdout
    return cert, key


def test_make_cert_writes_a_certificate_and_a_key(certs: tuple[Path, Path]) -> None:
    cert, key = certs
    assert cert.read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert "PRIVATE KEY-----" in key.read_text().splitlines()[0]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(cert), str(key))  # a matching pair


def _port(endpoint: str) -> int:
    return int(urllib.parse.urlsplit(endpoint).port or 0)


def _https(endpoint: str, ctx: ssl.SSLContext) -> http.client.HTTPSConnection:
    return http.client.HTTPSConnection("127.0.0.1", _port(endpoint), context=ctx, timeout=5)


def test_https_in_process(certs: tuple[Path, Path]) -> None:
    cert, key = certs
    with Emulator(tls_cert=str(cert), tls_key=str(key)) as emu:
        assert emu.endpoint.startswith("https://127.0.0.1:"), emu.endpoint
        host = emu.host_port
        # The system CAs do not know the throwaway certificate.
        conn = _https(emu.endpoint, ssl.create_default_context())
        try:
            with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
                call(conn, "GetLiveCode", {}, host=host, timestamp=emu.now())
        finally:
            conn.close()
        # Trusting exactly that certificate works, and so does a signed call.
        conn = _https(emu.endpoint, ssl.create_default_context(cafile=str(cert)))
        try:
            status, headers, doc = call(conn, "DetectAuth", {"RuleId": "1", "IdCard": PERSON["id_card"], "Name": PERSON["name"]},
                                        host=host, timestamp=emu.now())
            assert status == 200 and headers["content-type"] == "application/json", (status, headers)
            r = doc["Response"]
            assert "Error" not in r, r
            assert r["Url"].startswith(f"https://{host}/h5/verify?token="), r["Url"]
            sock = conn.sock
            assert isinstance(sock, ssl.SSLSocket) and sock.version() in ("TLSv1.2", "TLSv1.3")
            # The verification page is served over the same TLS connection.
            conn.request("GET", urllib.parse.urlsplit(r["Url"])._replace(scheme="", netloc="").geturl())
            page = conn.getresponse()
            assert page.status == 200 and page.getheader("Content-Type", "").startswith("text/html")
            page.read()
            # A signature over another Host than the one sent fails.
            body = b"{}"
            headers_ = sign_headers("127.0.0.1:1", "GetLiveCode", body, timestamp=emu.now())
            headers_["Host"] = host
            conn.request("POST", "/", body=body, headers=headers_)
            doc = json.loads(conn.getresponse().read())
            assert doc["Response"]["Error"]["Code"] == "AuthFailure.SignatureFailure", doc
            assert conn.sock is sock  # all of it on one connection
        finally:
            conn.close()


def test_https_survives_plain_http_garbage_and_stalled_handshakes(certs: tuple[Path, Path]) -> None:
    cert, key = certs
    with Emulator(tls_cert=str(cert), tls_key=str(key)) as emu:
        port = _port(emu.endpoint)
        stalled = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(10)]  # never say hello
        try:
            for data in (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", b"\x16\x03\x01\x00\x05hello", b"\x00" * 600):
                with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                    # The server may drop a bad handshake at any moment: a reset or "not connected"
                    # while we write or shut down is an acceptable answer, a hang is not.
                    try:
                        s.sendall(data)
                        s.shutdown(socket.SHUT_WR)
                        while s.recv(4096):
                            pass
                    except (ConnectionResetError, BrokenPipeError, OSError) as e:
                        assert not isinstance(e, socket.timeout), "the emulator hung on a bad handshake"
            conn = _https(emu.endpoint, ssl.create_default_context(cafile=str(cert)))
            try:
                t0 = time.monotonic()
                status, _, doc = call(conn, "GetLiveCode", {}, host=emu.host_port, timestamp=emu.now())
                assert status == 200 and doc["Response"]["LiveCode"], doc
                assert time.monotonic() - t0 < 3
            finally:
                conn.close()
        finally:
            for s in stalled:
                s.close()


def test_https_from_the_command_line(cli, certs: tuple[Path, Path]) -> None:
    cert, key = certs
    proc = cli("--port", "0", "--tls-cert", str(cert), "--tls-key", str(key))
    endpoint = proc.endpoint()
    assert endpoint.startswith("https://127.0.0.1:"), endpoint
    host = urllib.parse.urlsplit(endpoint).netloc
    conn = _https(endpoint, ssl.create_default_context())
    try:
        with pytest.raises(ssl.SSLCertVerificationError):
            conn.request("GET", "/_emulator/health")
    finally:
        conn.close()
    conn = _https(endpoint, ssl.create_default_context(cafile=str(cert)))
    try:
        status, _, doc = call(conn, "DetectAuth", {"RuleId": "1", "IdCard": PERSON["id_card"], "Name": PERSON["name"]}, host=host)
        assert status == 200 and doc["Response"]["Url"].startswith(f"https://{host}/h5/verify?token="), doc
    finally:
        conn.close()
    code, seconds = proc.terminate()
    assert code == 0 and seconds < STOP_TIMEOUT, proc.stderr()


# ---------------------------------------------------------------------------
# keep-alive
# ---------------------------------------------------------------------------


def test_keep_alive_200_calls_on_one_socket() -> None:
    with Emulator(qps_enabled=False) as emu:
        conn = http.client.HTTPConnection("127.0.0.1", _port(emu.endpoint), timeout=5)
        try:
            status, _, doc = call(conn, "GetLiveCode", {}, host=emu.host_port, timestamp=emu.now())
            assert status == 200 and doc["Response"]["LiveCode"]
            sock = conn.sock
            assert sock is not None
            local = sock.getsockname()
            for i in range(1, 200):
                if i % 25 == 0:  # errors do not close the connection either
                    status, headers, doc = call(conn, "DetectAuth", None, body=b"{not json", host=emu.host_port,
                                                timestamp=emu.now())
                    assert doc["Response"]["Error"]["Code"] == "InvalidParameter", doc
                elif i % 10 == 0:
                    status, headers, doc = call(conn, "DetectAuth", {"RuleId": "1", "IdCard": PERSON["id_card"],
                                                                     "Name": PERSON["name"]}, host=emu.host_port,
                                                timestamp=emu.now())
                    assert doc["Response"]["BizToken"], doc
                else:
                    status, headers, doc = call(conn, "GetLiveCode", {}, host=emu.host_port, timestamp=emu.now())
                    assert doc["Response"]["LiveCode"], doc
                assert status == 200
                assert headers.get("connection", "").lower() != "close", headers
                assert conn.sock is sock, f"reconnected before call {i}"
            assert sock.getsockname() == local
            assert emu.stats()["total"] == 200
        finally:
            conn.close()


def test_keep_alive_over_tls(certs: tuple[Path, Path]) -> None:
    cert, key = certs
    with Emulator(tls_cert=str(cert), tls_key=str(key), qps_enabled=False) as emu:
        conn = _https(emu.endpoint, ssl.create_default_context(cafile=str(cert)))
        try:
            call(conn, "GetLiveCode", {}, host=emu.host_port, timestamp=emu.now())
            sock = conn.sock
            for _ in range(49):
                status, _, doc = call(conn, "GetLiveCode", {}, host=emu.host_port, timestamp=emu.now())
                assert status == 200 and doc["Response"]["LiveCode"], doc
                assert conn.sock is sock
            assert emu.stats()["total"] == 50
        finally:
            conn.close()
