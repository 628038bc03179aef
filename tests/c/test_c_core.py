"""Builds the C core's unit tests in three variants and runs them:
plain (release flags), AddressSanitizer + UndefinedBehaviorSanitizer, and valgrind
(debug build). Also checks that every C source is clang-format clean.

The transport tests in the runner talk to FaceID emulators started here: one over plain HTTP
(QPS limits off) and one over HTTPS with a throwaway self-signed certificate."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tcfaceid.emulator import EMULATOR_RSA_PUBLIC_KEY_PEM, EMULATOR_SM2_PUBLIC_KEY_PEM, Config, Emulator
from tcfaceid.emulator.__main__ import make_cert

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT.parent / "shared" / "vectors" / "tc3.json"
VARIANTS = {"release": "build/test-release", "asan": "build/test-asan", "debug": "build/test-debug"}


def build(variant: str) -> Path:
    out = subprocess.run(
        ["make", "-s", "c-tests", f"BUILD={VARIANTS[variant]}", f"C_VARIANT={variant}"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    if out.returncode != 0:
        pytest.fail(f"building the {variant} C tests failed:\n{out.stdout}\n{out.stderr}")
    return ROOT / VARIANTS[variant]


@pytest.fixture(scope="module")
def emulators(tmp_path_factory):
    certs = tmp_path_factory.mktemp("certs")
    assert make_cert(str(certs), "127.0.0.1") == 0
    cert, key = certs / "emulator-cert.pem", certs / "emulator-key.pem"
    with Emulator(Config(port=0, qps_enabled=False)) as plain, \
            Emulator(Config(port=0, qps_enabled=False, tls_cert=str(cert), tls_key=str(key))) as tls:
        yield {"TCF_TEST_ENDPOINT": plain.endpoint, "TCF_TEST_TLS_ENDPOINT": tls.endpoint,
               "TCF_TEST_CA": str(cert), "TCF_TEST_RSA_PUB": EMULATOR_RSA_PUBLIC_KEY_PEM,
               "TCF_TEST_SM2_PUB": EMULATOR_SM2_PUBLIC_KEY_PEM}


def run(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    if not VECTORS.exists():
        pytest.fail(f"signature vectors not found at {VECTORS}")
    clean = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    return subprocess.run(cmd + ["--vectors", str(VECTORS)], cwd=ROOT, capture_output=True, text=True,
                          timeout=900, env={**clean, **env})


def check(result: subprocess.CompletedProcess[str], what: str) -> None:
    tail = result.stdout.strip().splitlines()[-1:] if result.stdout.strip() else ["(no output)"]
    # the failed tests with their check lines first (the whole output can be long)
    failures = [line for line in result.stdout.splitlines() if not line.startswith("ok   ")]
    assert result.returncode == 0, (f"{what}: exit {result.returncode}\n" + "\n".join(failures[-200:]) +
                                    f"\n--- stderr ---\n{result.stderr[-6000:]}")
    assert tail[0].endswith(" 0 failed") and not tail[0].startswith("0 passed"), tail[0]


def test_c_unit_release(emulators) -> None:
    check(run([str(build("release") / "test_core")], emulators), "release build")


def test_c_unit_asan_ubsan(emulators) -> None:
    env = {**emulators, "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:halt_on_error=1",
           "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1"}
    check(run([str(build("asan") / "test_core")], env), "ASan+UBSan build")


def test_c_unit_valgrind(emulators) -> None:
    if shutil.which("valgrind") is None:
        pytest.fail("valgrind is not installed: run 'make deps'")
    binary = build("debug") / "test_core"
    result = run(["valgrind", "-q", "--error-exitcode=99", "--leak-check=full",
                  "--errors-for-leak-kinds=definite,indirect", "--show-leak-kinds=definite,indirect",
                  str(binary)], {**emulators, "TCF_TEST_THREAD_CALLS": "50"})
    check(result, "valgrind (8 threads x 50 calls in the thread test)")


def test_c_sources_are_clang_format_clean() -> None:
    if shutil.which("clang-format") is None:
        pytest.fail("clang-format is not installed: run 'make deps'")
    patterns = ("csrc/**/*.[ch]", "tests/c/*.[ch]", "tests/fuzz/*.[ch]", "bindings/python/tcfaceid/*.c", "bindings/lua/*.c")
    files = sorted(str(p) for pattern in patterns for p in ROOT.glob(pattern))
    out = subprocess.run(["clang-format", "--dry-run", "-Werror", *files], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, f"run 'make format':\n{out.stderr[:4000]}"


# ThreadSanitizer: the runner's thread tests (one client shared by 8 threads; the signing-key cache
# shared between threads) built with -fsanitize=thread. Any report fails the test; none is
# suppressed (there is no suppressions file: libcurl/OpenSSL need none today).
TSAN_TESTS = ("transport_threads_share_one_client", "sign_key_cache_shared_between_threads")


def test_c_thread_tests_under_thread_sanitizer(emulators) -> None:
    out = subprocess.run(["make", "-s", "c-tests", "BUILD=build/test-tsan", "C_VARIANT=tsan"],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        pytest.fail(f"building the tsan C tests failed:\n{out.stdout}\n{out.stderr}")
    env = {**emulators, "TSAN_OPTIONS": "halt_on_error=0:second_deadlock_stack=1:history_size=4"}
    for name in TSAN_TESTS:
        result = run([str(ROOT / "build/test-tsan/test_core"), name], env)
        assert "WARNING: ThreadSanitizer" not in result.stdout + result.stderr, \
            f"{name}:\n{result.stderr[-8000:]}"
        check(result, f"ThreadSanitizer build, {name}")
        assert result.stdout.strip().splitlines()[-1] == "1 passed, 0 failed", result.stdout[-2000:]
