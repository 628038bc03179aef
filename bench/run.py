#!/usr/bin/env python3
"""`make bench`: tcfaceid against the official tencentcloud-sdk-python, side by side, in one run.

Every transport benchmark talks to the same local server: nginx on 127.0.0.1 returning canned
FaceID responses (bench/canned.conf), keep-alive on, so the server is not the bottleneck. The
asynchronous benchmark uses the emulator (it injects latency). Each number is the median of
--reps repetitions, the implementations interleaved within each repetition.

    .venv/bin/python bench/run.py [--quick] [--no-write] [--reps N]

--quick: tiny counts (a smoke run; numbers meaningless). --no-write: print only (no
docs/performance.md, no docs/performance.png). Whatever is missing (wrk, matplotlib, Lua 5.4,
tcfaceid.AsyncClient) is reported as n/a and skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime
import json
import os
import platform
import pwd
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable, Optional

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
TCF_BENCH = ROOT / "build" / "tcf-bench"
DOC = ROOT / "docs" / "performance.md"
CHART = ROOT / "docs" / "performance.png"
EXAMPLE = ROOT / "examples" / "openresty" / "nginx.conf"
HANDLERS = ROOT / "examples" / "openresty" / "lua"

SECRET_ID = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"  # the emulator's public test keys
SECRET_KEY = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
ID_CARD, NAME = "110101199003071233", "张三"
SMALL_ACTION = "IdCardVerification"
SMALL_PARAMS = {"IdCard": ID_CARD, "Name": NAME}
SMALL_JSON = json.dumps(SMALL_PARAMS, ensure_ascii=False, separators=(",", ":"))
DETECT_AUTH_BODY = ('{"RuleId":"1","IdCard":"110101199003071233","Name":"张三",'
                    '"RedirectUrl":"https://example.com/verify/return?state=0123456789abcdef"}').encode()

os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"  # never through a proxy


# ---------------------------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------------------------


class Results:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, Optional[float], str, str]] = []  # section, name, value, unit, note
        self.targets: list[tuple[str, str, str, Optional[bool]]] = []  # name, measured, target, met
        self.values: dict[str, Optional[float]] = {}

    def add(self, section: str, key: str, name: str, value: Optional[float], unit: str, note: str = "") -> None:
        self.rows.append((section, name, value, unit, note))
        self.values[key] = value

    def na(self, section: str, key: str, name: str, why: str) -> None:
        self.add(section, key, name, None, "", f"n/a ({why})")

    def target(self, name: str, measured: str, target: str, met: Optional[bool]) -> None:
        self.targets.append((name, measured, target, met))

    def get(self, key: str) -> Optional[float]:
        return self.values.get(key)


def med(xs: list[float]) -> float:
    return statistics.median(xs)


def fmt(v: Optional[float], unit: str) -> str:
    if v is None:
        return "n/a"
    if unit in ("×", "%"):
        return f"{v:.2f}" if unit == "×" else f"{v:.0f}"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
    if a is None or b is None or b == 0:
        return None
    return a / b


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# nginx (the canned server, and the OpenResty example), as the integration tests run it
# ---------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def user_directive() -> str:
    return f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""


class Nginx:
    """nginx with conf in a temporary prefix, in the foreground as this user; stop() reaps it."""

    def __init__(self, conf: str, port: int, env: Optional[dict[str, str]] = None, lua_dir: bool = False) -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.tmp = tempfile.TemporaryDirectory(prefix="tcfaceid-bench-nginx-")
        prefix = Path(self.tmp.name)
        for d in ("logs", "temp"):
            (prefix / d).mkdir()
        if lua_dir:
            (prefix / "lua").symlink_to(HANDLERS)
        (prefix / "nginx.conf").write_text(conf, encoding="utf-8")
        directives = "daemon off; master_process on;"
        if os.geteuid() == 0 and "\nuser " not in conf:
            directives += " " + user_directive()
        self.prefix = prefix
        self.proc = subprocess.Popen(
            [shutil.which("nginx") or "/usr/sbin/nginx", "-p", f"{prefix}/", "-c", str(prefix / "nginx.conf"),
             "-g", directives],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(prefix), **(env or {})})
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                self.tmp.cleanup()
                raise RuntimeError(f"nginx exited: {err}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("nginx did not start")

    def error_log(self) -> str:
        p = self.prefix / "logs" / "error.log"
        return p.read_text(errors="replace") if p.exists() else ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stderr:
            self.proc.stderr.close()
        self.tmp.cleanup()


def start_canned() -> Nginx:
    template = (BENCH / "canned.conf").read_text(encoding="utf-8")
    for attempt in range(3):
        port = free_port()
        try:
            return Nginx(template.replace("@PORT@", str(port)).replace("@USER@", user_directive()), port)
        except RuntimeError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def render_example(port: int, canned: Nginx) -> str:
    """examples/openresty/nginx.conf as tests/integration/test_openresty.py renders it: one worker,
    the repository's Lua paths, the canned server as the FaceID endpoint over plain HTTP."""
    text = EXAMPLE.read_text(encoding="utf-8")
    lua = ROOT / "bindings" / "lua"
    subs = [
        ("worker_processes auto;", "worker_processes 1;"),
        ('"/usr/local/share/lua/5.1/?.lua;/usr/local/share/lua/5.1/?/init.lua;', f'"{lua}/?.lua;{lua}/?/init.lua;'),
        ('lua_package_cpath "/usr/local/lib/lua/5.1/?.so;;";',
         f'lua_package_cpath "{ROOT / "build" / "lua" / "jit"}/?.so;;";'),
        ('endpoint = "https://faceid.tencentcloudapi.com",', f'endpoint = "{canned.base}",'),
        ('public_url = "http://127.0.0.1:8080",', f'public_url = "http://127.0.0.1:{port}",'),
        ("listen 127.0.0.1:8080;", f"listen 127.0.0.1:{port};"),
        ("server faceid.tencentcloudapi.com:443;", f"server 127.0.0.1:{canned.port};"),
        ("proxy_pass https://tcfaceid_faceid/;", "proxy_pass http://tcfaceid_faceid/;"),
    ]
    for old, new in subs:
        if text.count(old) != 1:
            raise RuntimeError(f"examples/openresty/nginx.conf changed shape: {old!r}")
        text = text.replace(old, new)
    return text


# ---------------------------------------------------------------------------------------------
# the clients
# ---------------------------------------------------------------------------------------------


def tcf_client(endpoint: str) -> Any:
    import tcfaceid

    return tcfaceid.Client(SECRET_ID, SECRET_KEY, endpoint=endpoint, qps=False)


def sdk_client(endpoint: str) -> Any:
    """The official FaceidClient at its best: keep-alive on (a requests.Session), no breaker."""
    from tencentcloud.common import credential
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from tencentcloud.faceid.v20180301 import faceid_client

    scheme, _, host = endpoint.partition("://")
    profile = ClientProfile(httpProfile=HttpProfile(protocol=scheme, endpoint=host, keepAlive=True))
    return faceid_client.FaceidClient(credential.Credential(SECRET_ID, SECRET_KEY), "", profile)


def sdk_small_call(client: Any) -> Callable[[], Any]:
    from tencentcloud.faceid.v20180301 import models

    def one() -> Any:
        req = models.IdCardVerificationRequest()
        req.IdCard, req.Name = ID_CARD, NAME
        return client.IdCardVerification(req)

    return one


def rate_of(fn: Callable[[], Any], calls: int) -> float:
    for _ in range(max(10, calls // 10)):
        fn()
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    return calls / (time.perf_counter() - t0)


def threaded_rate(fn: Callable[[], Any], threads: int, calls: int) -> float:
    """calls in total, split over threads that share fn's client; calls/s of the whole."""
    per = max(1, calls // threads)
    barrier = threading.Barrier(threads + 1)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(10):
                fn()
            barrier.wait()
            for _ in range(per):
                fn()
        except BaseException as e:  # noqa: BLE001 - reported
            errors.append(e)
            try:
                barrier.abort()
            except Exception:
                pass

    ts = [threading.Thread(target=work) for _ in range(threads)]
    for t in ts:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in ts:
        t.join()
    elapsed = time.perf_counter() - t0
    if errors:
        raise RuntimeError(f"{type(errors[0]).__name__}: {errors[0]}")
    return per * threads / elapsed


def run_json(cmd: list[str], env: Optional[dict[str, str]] = None, timeout: float = 120) -> dict[str, Any]:
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:2])}: {out.stderr.strip()[-500:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def lua_env() -> dict[str, str]:
    lua = ROOT / "bindings" / "lua"
    return {**os.environ, "LUA_PATH": f"{lua}/?.lua;{lua}/?/init.lua;;",
            "LUA_CPATH": f"{ROOT / 'build' / 'lua' / '5.4'}/?.so;;"}


# ---------------------------------------------------------------------------------------------
# benchmarks
# ---------------------------------------------------------------------------------------------


def bench_sign(res: Results, reps: int, quick: bool) -> None:
    sec = "Signing (ns per TC3 signature)"
    import hashlib  # noqa: F401

    import tcfaceid
    from tencentcloud.common.http.request import RequestInternal

    sdk = sdk_client("https://faceid.tencentcloudapi.com")
    sizes = [("small", 0), ("1MB", 1 << 20), ("8MB", 8 << 20)]
    for label, size in sizes:
        iters_c = {0: 20000, 1 << 20: 40, 8 << 20: 6}[size]
        iters_py = {0: 5000, 1 << 20: 20, 8 << 20: 4}[size]
        if quick:
            iters_c, iters_py = max(2, iters_c // 100), max(2, iters_py // 20)
        if size == 0:
            body = DETECT_AUTH_BODY
        else:
            head, tail = b'{"VideoBase64":"', b'","IdCard":"110101199003071233","LivenessType":"SILENT"}'
            body = head + b"A" * (size - len(head) - len(tail)) + tail
        body_text = body.decode()
        c_sign, c_build, floor, py_sign, sdk_sign = [], [], [], [], []

        def tcf_py() -> None:
            tcfaceid.sign(secret_id=SECRET_ID, secret_key=SECRET_KEY, service="faceid",
                          host="faceid.tencentcloudapi.com", method="POST",
                          content_type="application/json; charset=utf-8", timestamp=1700000000, body=body)

        def sdk_py() -> None:
            # what FaceidClient does for every request (abstract_client._get_tc3_signature): the
            # body as the str json.dumps made, hashed, the canonical request, the HMAC chain
            req = RequestInternal("faceid.tencentcloudapi.com", "POST", "/")
            req.header["Content-Type"] = "application/json"
            req.header["Host"] = "faceid.tencentcloudapi.com"
            req.header["X-TC-Timestamp"] = "1700000000"
            req.data = body_text
            sdk._get_tc3_signature(None, req, "2023-11-14", "faceid", SECRET_KEY)

        for _ in range(reps):
            if TCF_BENCH.exists():
                r = run_json([str(TCF_BENCH), "sign", str(size), str(iters_c)])
                c_sign.append(r["tcf_sign_ns"])
                c_build.append(r["tcf_build_ns"])
                floor.append(r["floor_ns"])
            for fn, acc in ((tcf_py, py_sign), (sdk_py, sdk_sign)):
                fn()
                t0 = time.perf_counter_ns()
                for _ in range(iters_py):
                    fn()
                acc.append((time.perf_counter_ns() - t0) / iters_py)
        m = {k: (med(v) if v else None) for k, v in
             (("c", c_sign), ("build", c_build), ("floor", floor), ("py", py_sign), ("sdk", sdk_sign))}
        res.add(sec, f"sign_floor_{label}", f"{label}: floor (bare OpenSSL SHA-256 + HMAC chain, C)", m["floor"], "ns")
        res.add(sec, f"sign_c_{label}", f"{label}: tcfaceid C tcf_sign", m["c"], "ns",
                f"{fmt(ratio(m['c'], m['floor']), '×')}× floor")
        res.add(sec, f"sign_build_{label}", f"{label}: tcfaceid C tcf_build (headers + JSON check + sign)",
                m["build"], "ns", f"{fmt(ratio(m['build'], m['floor']), '×')}× floor")
        res.add(sec, f"sign_py_{label}", f"{label}: tcfaceid Python tcfaceid.sign", m["py"], "ns",
                f"{fmt(ratio(m['py'], m['floor']), '×')}× floor")
        res.add(sec, f"sign_sdk_{label}", f"{label}: official SDK signer (Python)", m["sdk"], "ns",
                f"{fmt(ratio(m['sdk'], m['c']), '×')}× tcfaceid C, {fmt(ratio(m['sdk'], m['py']), '×')}× tcfaceid Python")
        limit = 1.5 if size == 0 else 1.2
        r = ratio(m["c"], m["floor"])
        res.target(f"signing {label}: tcfaceid C / bare OpenSSL floor", fmt(r, "×") + "×", f"≤ {limit}×",
                   None if r is None else r <= limit)


def bench_sequential(res: Results, endpoint: str, reps: int, quick: bool) -> None:
    sec = f"Sequential calls, one keep-alive connection ({SMALL_ACTION}, calls/s)"
    calls_c = 300 if quick else 5000
    calls_py = 100 if quick else 3000
    calls_sdk = 50 if quick else 1000
    tcf = tcf_client(endpoint)
    sdk_one = sdk_small_call(sdk_client(endpoint))
    lua_ok = shutil.which("lua5.4") is not None and (ROOT / "build/lua/5.4/tcfaceid/core.so").exists()
    acc: dict[str, list[float]] = {k: [] for k in ("curl", "c", "py", "py_check", "lua", "sdk")}
    for _ in range(reps):
        if TCF_BENCH.exists():
            acc["curl"].append(run_json([str(TCF_BENCH), "curl", endpoint, str(calls_c), SMALL_ACTION, SMALL_JSON])["rate"])
            acc["c"].append(run_json([str(TCF_BENCH), "call", endpoint, str(calls_c), SMALL_ACTION, SMALL_JSON])["rate"])
        acc["py"].append(rate_of(lambda: tcf.call(SMALL_ACTION, SMALL_PARAMS), calls_py))
        acc["py_check"].append(rate_of(lambda: tcf.id_card_verify(ID_CARD, NAME), calls_py))
        if lua_ok:
            acc["lua"].append(run_json(["lua5.4", str(BENCH / "bench_lua.lua"), endpoint, str(calls_py), SMALL_ACTION,
                                        SMALL_JSON], env=lua_env())["rate"])
        acc["sdk"].append(rate_of(sdk_one, calls_sdk))
    tcf.close()
    m = {k: (med(v) if v else None) for k, v in acc.items()}
    ceiling = m["curl"]

    def overhead(rate: Optional[float]) -> Optional[float]:
        if rate is None or ceiling is None:
            return None
        return (1 / rate - 1 / ceiling) * 1e6

    names = [("curl", "bare libcurl easy loop, C (the ceiling)"), ("c", "tcfaceid C tcf_client_call"),
             ("py", "tcfaceid Python Client.call"), ("py_check", "tcfaceid Python Client.id_card_verify (typed)"),
             ("lua", "tcfaceid Lua 5.4 client:call"), ("sdk", "official SDK FaceidClient.IdCardVerification (keep-alive)")]
    for k, name in names:
        if m[k] is None:
            res.na(sec, f"seq_{k}", name, "Lua 5.4 module not built" if k == "lua" else "tcf-bench not built")
            continue
        note = "" if k == "curl" else (f"{fmt(100 * m[k] / ceiling, '%')} % of ceiling, overhead "
                                       f"{fmt(overhead(m[k]), 'µs')} µs/call" if ceiling else "")
        res.add(sec, f"seq_{k}", name, m[k], "calls/s", note)
        res.values[f"ovh_{k}"] = overhead(m[k])
    o_py, o_sdk = overhead(m["py"]), overhead(m["sdk"])
    r = ratio(o_sdk, o_py)
    res.target("per-call overhead: SDK / tcfaceid Python", f"{fmt(r, '×')}× ({fmt(o_sdk, 'µs')} vs {fmt(o_py, 'µs')} µs)",
               "≥ 10×", None if r is None else (r >= 10 or o_py is not None and o_py <= 0))
    r = ratio(m["py"], ceiling)
    res.target("sequential calls/s: tcfaceid Python / bare libcurl",
               f"{fmt(None if r is None else 100 * r, '%')} % ({fmt(m['py'], '')} vs {fmt(ceiling, '')})",
               "≥ 80 %", None if r is None else r >= 0.8)


def bench_threads(res: Results, endpoint: str, reps: int, quick: bool) -> None:
    sec = "Threads sharing one client (calls/s, all threads)"
    calls = 100 if quick else 3000
    calls_sdk = 40 if quick else 1000
    tcf = tcf_client(endpoint)
    sdk = sdk_client(endpoint)
    sdk_one = sdk_small_call(sdk)
    counts = [1, 2, 4, 8]
    acc: dict[tuple[str, int], list[float]] = {}
    errors: dict[str, str] = {}
    for _ in range(reps):
        for n in counts:
            acc.setdefault(("py", n), []).append(threaded_rate(lambda: tcf.call(SMALL_ACTION, SMALL_PARAMS), n, calls))
            if "sdk" not in errors:
                try:
                    acc.setdefault(("sdk", n), []).append(threaded_rate(sdk_one, n, calls_sdk))
                except RuntimeError as e:
                    errors["sdk"] = str(e)
    tcf.close()
    for who, label in (("py", "tcfaceid Python"), ("sdk", "official SDK")):
        base = med(acc[(who, 1)]) if acc.get((who, 1)) else None
        for n in counts:
            v = med(acc[(who, n)]) if acc.get((who, n)) else None
            if v is None:
                res.na(sec, f"thr_{who}_{n}", f"{label}, {n} thread(s)", errors.get(who, "failed"))
                continue
            res.add(sec, f"thr_{who}_{n}", f"{label}, {n} thread(s)", v, "calls/s",
                    f"{fmt(ratio(v, base), '×')}× 1 thread" if n > 1 else "")
    res.values["cpus"] = float(os.cpu_count() or 0)


def bench_video(res: Results, endpoint: str, reps: int, quick: bool) -> None:
    sec = "8 MB video LivenessRecognition (6 MiB file → 8 MiB base64)"
    with tempfile.TemporaryDirectory(prefix="tcfaceid-bench-video-") as d:
        video = Path(d) / "video.mp4"
        raw = bytearray(os.urandom(6 * 1024 * 1024 if not quick else 64 * 1024))
        raw[:12] = b"\x00\x00\x00\x18ftypisom"
        video.write_bytes(raw)
        acc: dict[str, dict[str, list[float]]] = {}
        for _ in range(reps):
            for variant in ("tcfaceid-path", "tcfaceid-bytes", "sdk"):
                r = run_json([sys.executable, str(BENCH / "rss_worker.py"), variant, endpoint, str(video), "3"])
                a = acc.setdefault(variant, {"wall": [], "rss": []})
                a["wall"].append(med(r["walls"]) * 1000)
                a["rss"].append((r["peak_kib"] - r["baseline_kib"]) / 1024)
    m = {v: {k: med(x) for k, x in a.items()} for v, a in acc.items()}
    names = {"tcfaceid-path": "tcfaceid Python, video=pathlib.Path", "tcfaceid-bytes": "tcfaceid Python, video=bytes",
             "sdk": "official SDK, VideoBase64"}
    for v, name in names.items():
        note = "" if v == "sdk" else (f"{fmt(ratio(m[v]['wall'], m['sdk']['wall']), '×')}× SDK time, "
                                      f"{fmt(ratio(m[v]['rss'], m['sdk']['rss']), '×')}× SDK memory")
        res.add(sec, f"video_wall_{v}", f"{name}: wall time per call", m[v]["wall"], "ms", note)
        res.add(sec, f"video_rss_{v}", f"{name}: peak RSS above baseline", m[v]["rss"], "MiB")
    for v in ("tcfaceid-path", "tcfaceid-bytes"):
        r = ratio(m[v]["rss"], m["sdk"]["rss"])
        res.target(f"8 MB video peak RSS: {names[v].split(', ')[1]} / SDK",
                   f"{fmt(r, '×')}× ({fmt(m[v]['rss'], '')} vs {fmt(m['sdk']['rss'], '')} MiB)", "≤ 0.5×",
                   None if r is None else r <= 0.5)


WRK_START = """wrk.method = "POST"
wrk.body = "name=%E5%BC%A0%E4%B8%89&id_card=110101199003071233"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
"""
WRK_CANNED = """wrk.method = "POST"
wrk.body = '{"RuleId":"1","IdCard":"110101199003071233","Name":"张三","RedirectUrl":"http://127.0.0.1/verify/return?state=0123456789abcdef0123456789abcdef"}'
wrk.headers["Content-Type"] = "application/json; charset=utf-8"
wrk.headers["X-TC-Action"] = "DetectAuth"
"""


def wrk(url: str, script: str, seconds: float, conns: int) -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    try:
        out = subprocess.run(["wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "-s", f.name, url],
                             capture_output=True, text=True, timeout=seconds + 30)
    finally:
        os.unlink(f.name)
    m = re.search(r"Requests/sec:\s+([\d.]+)", out.stdout)
    if out.returncode != 0 or not m:
        raise RuntimeError(f"wrk: {out.stdout[-300:]} {out.stderr[-300:]}")
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out.stdout)
    if bad:
        raise RuntimeError(f"wrk: {bad.group(1)} error responses")
    return float(m.group(1))


def bench_openresty(res: Results, canned: Nginx, reps: int, quick: bool) -> None:
    sec = "OpenResty (wrk, 1 thread, 16 connections; nginx 1 worker each)"
    why = None
    if not shutil.which("wrk"):
        why = "wrk not installed: make bench-deps"
    elif not (ROOT / "build/lua/jit/tcfaceid/core.so").exists():
        why = "LuaJIT module not built: make lua"
    elif not Path("/usr/lib/nginx/modules/ngx_http_lua_module.so").exists():
        why = "libnginx-mod-http-lua not installed"
    if why:
        res.na(sec, "wrk_canned", "wrk → canned server (DetectAuth)", why)
        res.na(sec, "wrk_resty", "wrk → example /verify/start → tcfaceid.resty → canned server", why)
        return
    port = free_port()
    edge = Nginx(render_example(port, canned), port, lua_dir=True,
                 env={"TENCENTCLOUD_SECRET_ID": SECRET_ID, "TENCENTCLOUD_SECRET_KEY": SECRET_KEY})
    try:
        seconds = 1 if quick else 2
        direct, resty = [], []
        for _ in range(reps):
            direct.append(wrk(canned.base + "/", WRK_CANNED, seconds, 16))
            resty.append(wrk(edge.base + "/verify/start", WRK_START, seconds, 16))
        if "[error]" in edge.error_log() or "[warn]" in edge.error_log():
            raise RuntimeError("the example logged errors: " + edge.error_log()[-500:])
    finally:
        edge.stop()
    d, r = med(direct), med(resty)
    res.add(sec, "wrk_canned", "wrk → canned server (DetectAuth)", d, "req/s")
    res.add(sec, "wrk_resty", "wrk → example /verify/start → tcfaceid.resty → canned server", r, "verifications/s",
            f"{fmt(100 * r / d, '%')} % of direct")


def bench_async(res: Results, reps: int, quick: bool) -> None:
    sec = "AsyncClient (emulator, 200 ms injected latency)"
    n, latency = (20, 0.2) if quick else (200, 0.2)
    name = f"{n} concurrent calls (GetLiveCode)"
    try:
        import tcfaceid

        AsyncClient = tcfaceid.AsyncClient  # noqa: N806
    except (AttributeError, ImportError):
        res.na(sec, "async_wall", name + ": wall time", "AsyncClient not built")
        return
    from tcfaceid.emulator import Config, Emulator, server

    # The emulator listens with a backlog of 128: 200 simultaneous connects would overflow it and
    # wait for the kernel's 1 s SYN retransmission. A deeper queue for this benchmark only.
    server.EmulatorHTTPServer.request_queue_size = max(1024, server.EmulatorHTTPServer.request_queue_size)

    with Emulator(Config(port=0, qps_enabled=False)) as emu:
        async def once(delay: float) -> float:
            client = AsyncClient(SECRET_ID, SECRET_KEY, endpoint=emu.endpoint, qps=False)
            try:
                await client.call("GetLiveCode")  # a connection, warm
                if delay:
                    emu.fault("latency", count=n, seconds=delay)
                t0 = time.perf_counter()
                await asyncio.gather(*(client.call("GetLiveCode") for _ in range(n)))
                return time.perf_counter() - t0
            finally:
                closing = client.aclose() if hasattr(client, "aclose") else client.close()
                if asyncio.iscoroutine(closing):
                    await closing

        walls, bases = [], []
        try:
            for _ in range(min(reps, 3)):
                walls.append(asyncio.run(once(latency)))
                bases.append(asyncio.run(once(0.0)))
        except Exception as e:  # noqa: BLE001 - reported, the rest of the table stands
            res.na(sec, "async_wall", name + ": wall time", f"failed: {type(e).__name__}: {str(e)[:120]}")
            return
    wall, base = med(walls), med(bases)
    res.add(sec, "async_wall", f"{name} with 200 ms latency each: wall time", wall * 1000, "ms",
            f"{fmt(wall / latency, '×')}× one latency ({n} sequential: {n * latency:.0f} s)")
    res.add(sec, "async_base", f"{name} without injected latency: wall time", base * 1000, "ms",
            "the emulator's own throughput (Python, a thread per connection)")
    added = wall - base
    res.target(f"AsyncClient: {n} concurrent calls, added by 200 ms latency each",
               f"{added * 1000:.0f} ms (wall {wall * 1000:.0f} ms)", "≈ one latency (200 ms)", added < latency * 1.5)


# ---------------------------------------------------------------------------------------------
# machine, table, document, chart
# ---------------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = " / ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        load = "n/a"
    info = {"CPU": cpu, "cores (online)": str(os.cpu_count()), "load average at start (1/5/15 min)": load,
            "kernel": platform.release(),
            "Python": platform.python_version()}

    def cmd(args: list[str]) -> str:
        try:
            return subprocess.run(args, capture_output=True, text=True, timeout=10).stdout.strip()
        except OSError:
            return "n/a"

    info["libcurl"] = cmd(["curl-config", "--version"]).replace("libcurl ", "")
    info["OpenSSL"] = cmd(["openssl", "version"])
    info["nginx"] = cmd(["nginx", "-v"]) or subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip()
    info["Lua"] = cmd(["lua5.4", "-v"]) or "n/a"
    info["wrk"] = (cmd(["sh", "-c", "wrk -v 2>&1 | head -1"]) or "n/a") if shutil.which("wrk") else "n/a"
    try:
        import requests
        import tencentcloud

        import tcfaceid
        info["tcfaceid"] = tcfaceid.__version__
        info["tencentcloud-sdk-python"] = f"{tencentcloud.__version__} (requests {requests.__version__})"
    except ImportError:
        pass
    return info


def table_lines(res: Results, markdown: bool) -> list[str]:
    out: list[str] = []
    section = None
    if markdown:
        out += ["| benchmark | median | unit | notes |", "|---|---:|---|---|"]
    for sec, name, value, unit, note in res.rows:
        if sec != section:
            section = sec
            out.append(f"| **{sec}** | | | |" if markdown else f"\n{sec}")
        if markdown:
            out.append(f"| {name} | {fmt(value, unit)} | {unit} | {note} |")
        else:
            out.append(f"  {name:<66} {fmt(value, unit):>12} {unit:<16} {note}")
    return out


def target_lines(res: Results, markdown: bool) -> list[str]:
    out = ["| target | measured | goal | result |", "|---|---|---|---|"] if markdown else ["\nTargets"]
    for name, measured, goal, met in res.targets:
        verdict = "n/a" if met is None else ("met" if met else "MISSED")
        out.append(f"| {name} | {measured} | {goal} | {verdict} |" if markdown else
                   f"  {name:<66} {measured:<36} {goal:<24} {verdict}")
    return out


def chart(res: Results) -> Optional[str]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib not installed (make bench-deps)"
    keys = [("curl", "libcurl loop\n(ceiling)"), ("c", "tcfaceid\nC"), ("py", "tcfaceid\nPython"),
            ("lua", "tcfaceid\nLua 5.4"), ("sdk", "official\nSDK")]
    keys = [(k, label) for k, label in keys if res.get(f"seq_{k}")]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.2))
    colors = {"curl": "#888888", "c": "#1f77b4", "py": "#2ca02c", "lua": "#9467bd", "sdk": "#d62728"}
    rates = [res.get(f"seq_{k}") or 0 for k, _ in keys]
    a1.bar([label for _, label in keys], rates, color=[colors[k] for k, _ in keys])
    a1.set_title("Sequential calls/s, one keep-alive connection")
    a1.set_ylabel("calls/s")
    for i, v in enumerate(rates):
        a1.text(i, v, f"{v:,.0f}", ha="center", va="bottom", fontsize=8)
    ok = [(k, label) for k, label in keys if k != "curl" and res.get(f"ovh_{k}") is not None]
    ovh = [max(0.0, res.get(f"ovh_{k}") or 0) for k, _ in ok]
    a2.bar([label for _, label in ok], ovh, color=[colors[k] for k, _ in ok])
    a2.set_title("Per-call client overhead (1/rate − 1/ceiling)")
    a2.set_ylabel("µs per call")
    for i, v in enumerate(ovh):
        a2.text(i, v, f"{v:.0f}", ha="center", va="bottom", fontsize=8)
    fig.suptitle(f"tcfaceid vs tencentcloud-sdk-python, {SMALL_ACTION} against a canned nginx on 127.0.0.1")
    fig.tight_layout()
    CHART.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(CHART, dpi=110)
    plt.close(fig)
    return None


METHOD = """\
- **Server.** nginx on 127.0.0.1 (one worker, keep-alive, no logs) answers every POST with a canned
  FaceID response chosen by `X-TC-Action` (bench/canned.conf); it does not check signatures. Every
  transport benchmark of one run uses the same server. The AsyncClient benchmark uses the
  emulator (`tcfaceid.emulator`), whose `latency` fault delays each answer by 200 ms.
- **Signing.** `build/tcf-bench sign` (bench/bench.c, linked to build/libtcfaceid.a) times
  `tcf_sign` (the public signer, which returns every intermediate), `tcf_build` (what a client
  sends: the headers, the JSON check of the parameters, the signature) and the floor: a bare
  OpenSSL chain, SHA-256 of the body and of a canonical request plus the four HMAC-SHA256 of TC3
  (EVP objects fetched once, contexts reused), all in one process. From Python: `tcfaceid.sign`
  and the official SDK's `_get_tc3_signature` (what `FaceidClient` runs for every request: the
  body hashed, the canonical request, `Sign.sign_tc3`). All sign `content-type;host`.
- **Sequential calls.** IdCardVerification `{"IdCard", "Name"}` on one client, one keep-alive
  connection, after a warm-up: C `tcf_client_call`; Python `Client(qps=False).call` (default
  retries) and the typed `Client.id_card_verify`; Lua 5.4 `tcfaceid.client{qps = false}:call`;
  the official SDK's `FaceidClient.IdCardVerification` with `HttpProfile(keepAlive=True)` (it
  always uses one `requests.Session`); the ceiling is a bare libcurl easy-handle loop in C
  sending the same request with fixed headers. Per-call client overhead = 1/rate − 1/ceiling.
- **Threads.** 1, 2, 4, 8 Python threads sharing one `tcfaceid.Client` (and one `FaceidClient`),
  the same calls; calls/s of all threads together.
- **8 MB video.** A 6 MiB file (8 MiB in base64) sent with LivenessRecognition, each variant in
  its own process (bench/rss_worker.py): after imports and client creation the peak-RSS counter
  is reset (`/proc/self/clear_refs`), the baseline is VmRSS; three calls; the peak is VmHWM.
  Wall time is the median call, including reading (and, for the SDK, base64-encoding) the file.
- **OpenResty.** examples/openresty/nginx.conf as the integration test renders it (one worker,
  the canned server as the FaceID upstream over plain HTTP): wrk POSTs the form to
  `/verify/start` (DetectAuth through `tcfaceid.resty` and an nginx subrequest, the session
  stored, a 303) against wrk POSTing DetectAuth straight to the canned server.
- **AsyncClient.** 200 `AsyncClient.call("GetLiveCode")` gathered on one event loop against the
  emulator with its `latency` fault (200 ms per answer), and the same 200 calls without it: the
  difference is what the latency added (one latency when the calls overlap). The emulator's
  listen backlog is raised to 1,024 for this benchmark (with its default 128, 200 simultaneous
  connects wait for the kernel's 1 s SYN retransmission).
- **Statistics.** Medians of the repetitions; within a repetition the implementations run
  interleaved. The machine runs everything (server, load generator, clients) on the same cores.
"""


def notes() -> list[str]:
    """bench/profile-notes.md (what the profiles of the missed targets show), kept by hand."""
    path = BENCH / "profile-notes.md"
    return [path.read_text(encoding="utf-8").rstrip(), ""] if path.exists() else []


def write_doc(res: Results, info: dict[str, str], reps: int, elapsed: float, chart_note: Optional[str]) -> None:
    lines = ["# Performance", "",
             "Generated by `make bench` (bench/run.py) on "
             f"{datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}; "
             f"medians of {reps} repetitions; the run took {elapsed:.0f} s. Numbers are from one machine "
             "and one run: compare rows with each other, not with another machine.", "",
             "## Targets", "", *target_lines(res, True), "",
             "## Results", "", *table_lines(res, True), "",
             "![calls/s and per-call overhead](performance.png)" if chart_note is None else f"(no chart: {chart_note})",
             "", *notes(), "## Method", "", METHOD, "## Machine", "", "| | |", "|---|---|",
             *[f"| {k} | {v} |" for k, v in info.items()], ""]
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text("\n".join(lines), encoding="utf-8")


# ---------------------------------------------------------------------------------------------


def ensure_built() -> None:
    """build/tcf-bench and the Lua modules (quick when up to date); failures leave rows n/a."""
    for target in ("build/tcf-bench", "lua"):
        out = subprocess.run(["make", "--no-print-directory", "-s", target], cwd=ROOT, capture_output=True, text=True)
        if out.returncode != 0:
            log(f"make {target} failed (its rows will be n/a): {out.stderr.strip()[-400:]}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="tiny counts: a smoke run")
    ap.add_argument("--no-write", action="store_true", help="print only; no docs/performance.{md,png}")
    ap.add_argument("--reps", type=int, default=None, help="repetitions per benchmark (default 5; --quick 1)")
    args = ap.parse_args()
    reps = args.reps or (1 if args.quick else 5)
    started = time.monotonic()
    ensure_built()
    res = Results()
    info = machine()

    def step(name: str, fn: Callable[[], None]) -> None:
        log(name)
        t0 = time.monotonic()
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - one broken benchmark must not hide the others
            res.na(name, f"fail_{name}", name, f"failed: {type(e).__name__}: {str(e)[:200]}")
        log(f"{name}: {time.monotonic() - t0:.1f} s")

    step("signing", lambda: bench_sign(res, reps, args.quick))
    canned = None
    try:
        canned = start_canned()
    except Exception as e:  # noqa: BLE001
        res.na("Transport", "canned", "canned nginx server", f"nginx did not start: {str(e)[:200]}")
    if canned is not None:
        try:
            endpoint = canned.base
            step("sequential", lambda: bench_sequential(res, endpoint, reps, args.quick))
            step("threads", lambda: bench_threads(res, endpoint, reps, args.quick))
            step("video", lambda: bench_video(res, endpoint, reps, args.quick))
            step("openresty", lambda: bench_openresty(res, canned, reps, args.quick))
        finally:
            canned.stop()
    step("async", lambda: bench_async(res, reps, args.quick))

    elapsed = time.monotonic() - started
    print(f"tcfaceid benchmarks ({'quick smoke run: numbers and verdicts meaningless' if args.quick else f'medians of {reps}'}; "
          f"{info['CPU']}, {info['cores (online)']} cores)")
    print("\n".join(table_lines(res, False)))
    print("\n".join(target_lines(res, False)))
    if not args.no_write:
        note = chart(res)
        write_doc(res, info, reps, elapsed, note)
        print(f"\nwrote {DOC.relative_to(ROOT)}" + (f" and {CHART.relative_to(ROOT)}" if note is None else f" ({note})"))
    print(f"total {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
