"""tcf-call against the emulator: success, the error classes and exit codes, credentials from
the environment and the profile file, TLS, and a proxy that requires credentials."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tcfaceid.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, Config, Emulator

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "build" / "release" / "tcf-call"


@pytest.fixture(scope="module")
def tool() -> Path:
    out = subprocess.run(["make", "-s", "lib", "BUILD=build/release"], cwd=ROOT, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr
    return TOOL


@pytest.fixture(scope="module")
def emu():
    with Emulator(Config(port=0, qps_enabled=False)) as e:
        yield e


def env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items()
            if not k.startswith("TENCENTCLOUD_") and not k.lower().endswith("_proxy")}
    base.update({"TENCENTCLOUD_SECRET_ID": DEFAULT_SECRET_ID, "TENCENTCLOUD_SECRET_KEY": DEFAULT_SECRET_KEY,
                 "HOME": "/nonexistent-home"})
    base.update(extra)
    return base


def call(tool: Path, *args: str, environ: dict[str, str] | None = None, stdin: str | None = None):
    return subprocess.run([str(tool), *args], capture_output=True, text=True, timeout=60,
                          env=environ if environ is not None else env(), input=stdin)


def test_success_and_parameters_from_file_and_stdin(tool: Path, emu: Emulator, tmp_path: Path) -> None:
    r = call(tool, "--endpoint", emu.endpoint, "GetLiveCode")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert len(out["LiveCode"]) == 4 and "RequestId" not in out
    params = {"RuleId": "1", "IdCard": "110101199003071233", "Name": "张三"}
    path = tmp_path / "p.json"
    path.write_text(json.dumps(params, ensure_ascii=False), encoding="utf-8")
    r = call(tool, "--endpoint", emu.endpoint, "DetectAuth", f"@{path}")
    assert r.returncode == 0 and "BizToken" in json.loads(r.stdout)
    r = call(tool, "--endpoint", emu.endpoint, "DetectAuth", "-", stdin=json.dumps(params))
    assert r.returncode == 0 and "BizToken" in json.loads(r.stdout)
    assert emu.stats()["received"]["DetectAuth"] == 2


def test_errors_and_exit_codes(tool: Path, emu: Emulator) -> None:
    r = call(tool, "--endpoint", emu.endpoint, "DetectAuth", '{"RuleId": "404", "IdCard": "1", "Name": "x"}')
    assert r.returncode == 1 and "InvalidParameterValue.RuleIdNotExist" in r.stderr and "RequestId" in r.stderr
    wrong = env(TENCENTCLOUD_SECRET_KEY="wrong-secret-key-000000000000000")
    r = call(tool, "--endpoint", emu.endpoint, "GetLiveCode", environ=wrong)
    assert r.returncode == 1 and "AuthFailure.SignatureFailure" in r.stderr and "wrong-secret" not in r.stderr
    r = call(tool, "--endpoint", emu.endpoint, "GetLiveCode", "[1]")
    assert r.returncode == 3 and "JSON" in r.stderr
    r = call(tool, "--endpoint", "http://127.0.0.1:1", "GetLiveCode")
    assert r.returncode == 3 and "transport" in r.stderr
    assert call(tool).returncode == 2
    assert call(tool, "--bogus", "x").returncode == 2
    assert call(tool, "--help").returncode == 0


def test_credentials_from_profile_and_missing(tool: Path, emu: Emulator, tmp_path: Path) -> None:
    profile = tmp_path / "credentials"
    profile.write_text(f"[default]\nsecret_id = {DEFAULT_SECRET_ID}\nsecret_key = {DEFAULT_SECRET_KEY}\n")
    base = {k: v for k, v in env().items() if not k.startswith("TENCENTCLOUD_")}
    r = call(tool, "--endpoint", emu.endpoint, "GetLiveCode",
             environ={**base, "TENCENTCLOUD_CREDENTIALS_FILE": str(profile)})
    assert r.returncode == 0, r.stderr
    r = call(tool, "--endpoint", emu.endpoint, "GetLiveCode", environ=base)
    assert r.returncode == 3 and "no credentials" in r.stderr


def test_tls(tool: Path, tmp_path: Path) -> None:
    from tcfaceid.emulator.__main__ import make_cert

    assert make_cert(str(tmp_path), "127.0.0.1") == 0
    cert = tmp_path / "emulator-cert.pem"
    with Emulator(Config(port=0, tls_cert=str(cert), tls_key=str(tmp_path / "emulator-key.pem"))) as tls:
        r = call(tool, "--endpoint", tls.endpoint, "GetLiveCode")
        assert r.returncode == 3 and "TLS" in r.stderr
        r = call(tool, "--endpoint", tls.endpoint, "--ca-bundle", str(cert), "GetLiveCode")
        assert r.returncode == 0, r.stderr
        r = call(tool, "--endpoint", tls.endpoint, "--insecure", "--verbose", "GetLiveCode")
        assert r.returncode == 0 and "TLS verification is OFF" in r.stderr


class _Proxy(BaseHTTPRequestHandler):
    """A forward proxy for http:// URLs that requires Basic credentials."""

    protocol_version = "HTTP/1.1"
    seen: list[str] = []

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        want = "Basic " + base64.b64encode(b"alice:s3cret").decode()
        if self.headers.get("Proxy-Authorization") != want:
            self.send_response(407)
            self.send_header("Proxy-Authenticate", 'Basic realm="test"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        _Proxy.seen.append(self.path)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        host, port = self.headers["Host"].split(":")
        with socket.create_connection((host, int(port)), timeout=10) as s:
            head = f"POST / HTTP/1.1\r\n" + "".join(
                f"{k}: {v}\r\n" for k, v in self.headers.items()
                if k.lower() not in ("proxy-authorization", "proxy-connection", "connection")
            ) + "Connection: close\r\n\r\n"
            s.sendall(head.encode("latin-1") + body)
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        self.wfile.write(data)
        self.close_connection = True


def test_proxy_with_credentials(tool: Path, emu: Emulator) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        proxy = f"http://127.0.0.1:{server.server_address[1]}"
        r = call(tool, "--endpoint", emu.endpoint, "--proxy", proxy, "GetLiveCode")
        assert r.returncode == 3 and "407" in r.stderr
        proxy = f"http://alice:s3cret@127.0.0.1:{server.server_address[1]}"
        r = call(tool, "--endpoint", emu.endpoint, "--proxy", proxy, "GetLiveCode")
        assert r.returncode == 0, r.stderr
        assert _Proxy.seen and _Proxy.seen[-1].startswith(emu.endpoint)
    finally:
        server.shutdown()
        server.server_close()
