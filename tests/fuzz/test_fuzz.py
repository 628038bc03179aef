"""Bounded libFuzzer runs of the C core's harnesses (tests/fuzz/fuzz_*.c).

Builds every harness (make fuzz-build: clang, -fsanitize=fuzzer,address,undefined, against the
core sources), then runs each for TCFACEID_FUZZ_SECONDS seconds (default 10) over a copy of its
checked-in seed corpus in a temporary directory (nothing is written into the repository),
several at a time. A crash, leak, undefined behaviour, timeout or broken invariant fails that
harness's test with libFuzzer's output and the saved reproducer. `make fuzz` runs them longer.
Reproducers of bugs found earlier live in tests/fuzz/crashes/<name>/ and are replayed too."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = ROOT / "tests" / "fuzz"
BUILD = ROOT / "build" / "fuzz"
HARNESSES = sorted(p.stem[len("fuzz_"):] for p in HERE.glob("fuzz_*.c"))
SECONDS = int(os.environ.get("TCFACEID_FUZZ_SECONDS", "10"))
JOBS = max(2, os.cpu_count() or 2)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0:symbolize=1"
    env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
    return env


@pytest.fixture(scope="module")
def built() -> Path:
    if shutil.which("clang") is None:
        pytest.fail("clang is not installed: run 'make deps'")
    out = subprocess.run(["make", "-s", f"-j{JOBS}", "fuzz-build"], cwd=ROOT, capture_output=True,
                         text=True, timeout=900)
    if out.returncode != 0:
        pytest.fail(f"building the fuzz harnesses failed:\n{out.stdout[-4000:]}\n{out.stderr[-8000:]}")
    return BUILD


def _run(name: str, work: Path) -> tuple[int, str, float, Path]:
    corpus, artifacts = work / name / "corpus", work / name / "artifacts"
    shutil.copytree(HERE / "corpus" / name, corpus)
    artifacts.mkdir(parents=True)
    cmd = [str(BUILD / f"fuzz_{name}"), f"-max_total_time={SECONDS}", "-timeout=30",
           "-rss_limit_mb=2048", "-print_final_stats=1", f"-artifact_prefix={artifacts}/", str(corpus)]
    dictionary = HERE / "dict" / f"{name}.dict"
    if dictionary.exists():
        cmd.insert(1, f"-dict={dictionary}")
    start = time.monotonic()
    # the bugs already saved in tests/fuzz/crashes/ (KNOWN_BUGS) are replayed below, not re-found
    env = {**_env(), "TCF_FUZZ_TOLERATE_KNOWN_BUGS": "1"}
    out = subprocess.run(cmd, cwd=work, capture_output=True, text=True, errors="replace", env=env,
                         timeout=SECONDS + 300)
    return out.returncode, out.stdout + out.stderr, time.monotonic() - start, artifacts


@pytest.fixture(scope="module")
def runs(built, tmp_path_factory) -> dict[str, tuple[int, str, float, Path]]:
    work = tmp_path_factory.mktemp("fuzz")
    with ThreadPoolExecutor(max_workers=JOBS) as pool:
        futures = {name: pool.submit(_run, name, work) for name in HARNESSES}
        return {name: f.result() for name, f in futures.items()}


def test_every_harness_has_seeds() -> None:
    assert HARNESSES, "no harness found"
    for name in HARNESSES:
        seeds = list((HERE / "corpus" / name).glob("*"))
        assert len(seeds) >= 10, f"tests/fuzz/corpus/{name} has {len(seeds)} seeds"


@pytest.mark.slow
@pytest.mark.parametrize("name", HARNESSES)
def test_fuzz(runs, name: str) -> None:
    rc, log, took, artifacts = runs[name]
    found = sorted(str(p) for p in artifacts.iterdir())
    report = "\n".join(line for line in log.splitlines() if not line.startswith("#"))
    assert rc == 0 and not found, (
        f"fuzz_{name} failed (exit {rc}) after {took:.0f} s; reproducer(s): {found}\n"
        f"replay: {BUILD / f'fuzz_{name}'} <file>\n{report[-12000:]}")
    assert "Done" in log, f"fuzz_{name} did not finish its run:\n{report[-4000:]}"


# Reproducers of core bugs not fixed yet: they must still fail (strict xfail), so that the fix is
# noticed and the entry removed (the reproducer then stays as a regression test).
KNOWN_BUGS: dict[str, str] = {}  # both bugs fuzzing found (crashes/parse, crashes/session) are fixed


def _reproducers():
    for repro in sorted(p for p in (HERE / "crashes").glob("*/*") if p.is_file()):
        key = f"{repro.parent.name}/{repro.name}"
        marks = [pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[key])] if key in KNOWN_BUGS else []
        yield pytest.param(repro, id=key, marks=marks)


@pytest.mark.parametrize("repro", list(_reproducers()))
def test_saved_reproducer(built, repro: Path) -> None:
    out = subprocess.run([str(BUILD / f"fuzz_{repro.parent.name}"), str(repro)], cwd=BUILD,
                         capture_output=True, text=True, errors="replace", env=_env(), timeout=120)
    assert out.returncode == 0, f"{repro} fails:\n{out.stderr[-8000:]}"
