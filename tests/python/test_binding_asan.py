"""test_binding.py, test_binding_flows.py and test_client_flows.py again, with tcfaceid._core built with AddressSanitizer + UndefinedBehaviorSanitizer.

The extension is built with ``TCFACEID_ASAN=1`` into a temporary directory (the in-place build in
the repository is not touched), next to a copy of the pure-Python package, and a subprocess runs
pytest on those files with that copy first on PYTHONPATH and libasan preloaded.
Sanitizer reports go to files (``log_path``), so that one raised inside a test, or in a
subprocess of a test, is not lost in pytest's output capture.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "bindings" / "python" / "tcfaceid"
GUARD = "TCFACEID_TEST_UNDER_ASAN"


def libasan() -> str:
    out = subprocess.run(["gcc", "-print-file-name=libasan.so"], capture_output=True, text=True, timeout=60)
    path = out.stdout.strip()
    if out.returncode != 0 or not os.path.isabs(path) or not os.path.exists(path):
        pytest.fail(f"libasan.so not found (gcc -print-file-name=libasan.so gave {path!r}): install gcc's libasan")
    return path


@pytest.mark.slow
def test_binding_suite_passes_under_asan_and_ubsan(tmp_path: Path) -> None:
    if os.environ.get(GUARD):
        pytest.skip("already running under ASan (test_binding_asan.py does not run itself)")
    lib, temp, reports = tmp_path / "lib", tmp_path / "tmp", tmp_path / "reports"
    reports.mkdir()
    # the pure-Python package, without any compiled extension, then the ASan extension next to it
    shutil.copytree(PACKAGE, lib / "tcfaceid",
                    ignore=shutil.ignore_patterns("*.so", "__pycache__", "*.pyc", "*.c"))
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "PYTHONPATH") and
           not k.lower().endswith("_proxy")}
    build = subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--build-lib", str(lib),
                            "--build-temp", str(temp)],
                           cwd=str(ROOT), env={**env, "TCFACEID_ASAN": "1"}, capture_output=True, text=True,
                           timeout=600)
    assert build.returncode == 0, f"the ASan build failed:\n{build.stdout[-4000:]}\n{build.stderr[-8000:]}"
    built = sorted((lib / "tcfaceid").glob("_core*.so"))
    assert len(built) == 1, built
    assert b"__asan_init" in built[0].read_bytes() and b"__ubsan_handle" in built[0].read_bytes(), \
        "the extension is not instrumented"

    run_env = {
        **env,
        GUARD: "1",
        "PYTHONPATH": f"{lib}{os.pathsep}{ROOT / 'bindings' / 'python'}",
        "LD_PRELOAD": libasan(),
        "ASAN_OPTIONS": f"detect_leaks=0:abort_on_error=1:log_path={reports / 'asan'}",
        "UBSAN_OPTIONS": f"halt_on_error=1:print_stacktrace=1:log_path={reports / 'ubsan'}",
        "PYTHONFAULTHANDLER": "1",
    }
    where = subprocess.run([sys.executable, "-c", "import tcfaceid, tcfaceid._core as c; "
                            "print(c.__file__); print(tcfaceid.__file__)"],
                           cwd=str(ROOT), env=run_env, capture_output=True, text=True, timeout=60)
    assert where.returncode == 0, where.stderr
    core_file, package_file = where.stdout.split()
    assert Path(core_file).resolve() == built[0].resolve(), f"tcfaceid._core resolved to {core_file}"
    assert Path(package_file).resolve().parent == (lib / "tcfaceid").resolve(), package_file

    suite = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            "tests/python/test_binding.py", "tests/python/test_binding_flows.py",
                            "tests/python/test_client_flows.py"],
                           cwd=str(ROOT), env=run_env, capture_output=True, text=True, timeout=600)
    found = sorted(reports.iterdir())
    details = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-6000:]}" for p in found)
    assert not found, f"sanitizer reports:\n{details}\n--- pytest output\n{suite.stdout[-4000:]}"
    for marker in ("ERROR: AddressSanitizer", "runtime error:", "Fatal Python error"):
        assert marker not in suite.stdout + suite.stderr, f"{marker}:\n{suite.stdout[-6000:]}\n{suite.stderr[-6000:]}"
    summary = suite.stdout.strip().splitlines()[-1] if suite.stdout.strip() else "(no output)"
    assert suite.returncode == 0, (f"the binding suites under ASan+UBSan: exit {suite.returncode}, {summary}\n"
                                   f"{suite.stdout[-8000:]}\n{suite.stderr[-4000:]}")
    assert " passed" in summary and "failed" not in summary and "error" not in summary, summary
