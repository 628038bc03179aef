"""Run the OpenResty example (examples/openresty/nginx.conf) against the bundled emulator, with one
command:

    make example-openresty                 # then open the printed address in a browser
    .venv/bin/python examples/openresty/run.py --person pass   # one simulated verification

What it does is the recipe of docs/openresty.md "Running it against the emulator": the emulator
serves HTTPS with a throwaway certificate (the example keeps TLS verification on and trusts that
certificate only), nginx.conf gets the emulator's address, this repository's Lua paths and a
free port, and nginx runs in the foreground in a temporary prefix with the emulator's test keys
in its environment. Ctrl-C stops both.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import pwd
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "bindings" / "python"))

import tcfaceid  # noqa: E402
from tcfaceid.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, Config, Emulator  # noqa: E402
from tcfaceid.emulator.__main__ import make_cert  # noqa: E402

NAME, ID_CARD = "张三", "110101199003071233"  # the emulator's fictional library person


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def render(port: int, emu_port: int, ca_file: str) -> str:
    """nginx.conf for this machine; each replaced text must be in the example exactly once."""
    text = (HERE / "nginx.conf").read_text(encoding="utf-8")
    lua, cpath = REPO / "bindings" / "lua", REPO / "build" / "lua" / "jit"
    for old, new in [
        ('"/usr/local/share/lua/5.1/?.lua;/usr/local/share/lua/5.1/?/init.lua;', f'"{lua}/?.lua;{lua}/?/init.lua;'),
        ('lua_package_cpath "/usr/local/lib/lua/5.1/?.so;;";', f'lua_package_cpath "{cpath}/?.so;;";'),
        ('endpoint = "https://faceid.tencentcloudapi.com",', f'endpoint = "https://localhost:{emu_port}",'),
        ('public_url = "http://127.0.0.1:8080",', f'public_url = "http://127.0.0.1:{port}",'),
        ("listen 127.0.0.1:8080;", f"listen 127.0.0.1:{port};"),
        ("server faceid.tencentcloudapi.com:443;", f"server 127.0.0.1:{emu_port};"),
        ("proxy_ssl_trusted_certificate /etc/ssl/certs/ca-certificates.crt;",
         f"proxy_ssl_trusted_certificate {ca_file};"),
    ]:
        if text.count(old) != 1:
            raise SystemExit(f"examples/openresty/nginx.conf changed: expected {old!r} once")
        text = text.replace(old, new)
    return text


def start_nginx(prefix: Path, conf: str, port: int) -> subprocess.Popen[bytes]:
    for d in ("logs", "temp"):
        (prefix / d).mkdir(exist_ok=True)
    (prefix / "lua").symlink_to(HERE / "lua")
    (prefix / "nginx.conf").write_text(conf, encoding="utf-8")
    directives = "daemon off; master_process on;"
    if os.geteuid() == 0:  # otherwise the workers would switch to "nobody"
        directives += f" user {pwd.getpwuid(os.geteuid()).pw_name};"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(prefix),
           "TENCENTCLOUD_SECRET_ID": DEFAULT_SECRET_ID, "TENCENTCLOUD_SECRET_KEY": DEFAULT_SECRET_KEY}
    proc = subprocess.Popen(["nginx", "-p", f"{prefix}/", "-c", str(prefix / "nginx.conf"), "-g", directives],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise SystemExit(f"nginx exited ({proc.returncode}): {err}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("nginx did not start within 15 s")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def simulate(base: str, emu: Emulator, scenario: str) -> bool:
    """A person: POST /verify/start, the emulator's page (its control API), back on the landing."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())
    data = urllib.parse.urlencode({"name": NAME, "id_card": ID_CARD}).encode()
    try:
        opener.open(base + "/verify/start", data=data, timeout=10)
        raise SystemExit("/verify/start did not redirect to the verification page")
    except urllib.error.HTTPError as e:  # the 303
        location = e.headers["Location"]
    token = tcfaceid.parse_redirect(location)
    landing = emu.complete(token, scenario)["redirect"]
    with opener.open(landing, timeout=10) as resp:
        page = resp.read().decode("utf-8", "replace")
    status = next((s for s in ("PASSED", "FAILED", "PENDING", "EXPIRED") if s in page), "?")
    print(f"person chose {scenario!r}: the landing page says {status}")
    return status == "PASSED"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=8080, help="nginx's port (0: a free one; default 8080)")
    ap.add_argument("--person", metavar="SCENARIO",
                    help="simulate one verification (pass, fail, retry_then_pass, ...) and exit")
    args = ap.parse_args()
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        os.environ.pop(var, None)
    port = args.port or free_port()
    with tempfile.TemporaryDirectory(prefix="tcfaceid-openresty-") as tmp:
        certs = Path(tmp) / "certs"
        certs.mkdir()
        with contextlib.redirect_stdout(io.StringIO()):  # its how-to lines
            if make_cert(str(certs), "localhost") != 0:
                return 2
        cert = certs / "emulator-cert.pem"
        with Emulator(Config(port=0, tls_cert=str(cert), tls_key=str(certs / "emulator-key.pem"))) as emu:
            emu_port = int(urllib.parse.urlsplit(emu.endpoint).port or 0)
            prefix = Path(tmp) / "nginx"
            prefix.mkdir()
            nginx = start_nginx(prefix, render(port, emu_port, str(cert)), port)
            base = f"http://127.0.0.1:{port}"
            try:
                if args.person:
                    try:
                        return 0 if simulate(base, emu, args.person) else 1
                    except ValueError as e:  # an unknown scenario
                        print(f"--person: {e}", file=sys.stderr)
                        return 2
                print(f"FaceID emulator: {emu.endpoint}\nthe example:     {base}/  "
                      f"(enter {NAME[0]}* / the emulator's test ID number, see docs/openresty.md)")
                print("Ctrl-C stops nginx and the emulator.")
                try:
                    signal.pause()
                except KeyboardInterrupt:
                    pass
                return 0
            finally:
                nginx.send_signal(signal.SIGTERM)
                try:
                    nginx.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    nginx.kill()
                    nginx.wait()


if __name__ == "__main__":
    sys.exit(main())
