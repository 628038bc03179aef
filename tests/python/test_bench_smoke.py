"""`make bench` still runs: bench/run.py --quick --no-write (tiny counts, nothing written) completes
and prints its table. No timing is asserted: the numbers of a smoke run mean nothing, and
`make bench` is where they are measured. Parts whose tools are missing (wrk, matplotlib, Lua 5.4,
tcfaceid.AsyncClient) print n/a."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_bench_quick_run_prints_the_table() -> None:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--no-write"],
                         cwd=ROOT, capture_output=True, text=True, timeout=240, env=env)
    assert out.returncode == 0, f"bench/run.py failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    text = out.stdout
    for heading in ("Signing (ns per TC3 signature)", "Sequential calls, one keep-alive connection",
                    "Threads sharing one client", "8 MB video LivenessRecognition", "OpenResty",
                    "AsyncClient", "Targets"):
        assert heading in text, f"{heading!r} missing from:\n{text}"
    assert "official SDK" in text and "tcfaceid Python Client.call" in text
    assert "wrote docs" not in text  # --no-write
