"""`make demo` keeps working: examples/demo.py runs its guided tour (SaaS with a retry, E-ID, an
encrypted element check, a daily limit) through the C client against the emulator (as a separate
process) and exits 0, without printing an identity in full."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_demo_runs_both_flows_and_masks_identity() -> None:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "demo.py")], capture_output=True, text=True,
                          timeout=120, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "attempts 2:" in out and "#1: Errcode=1002" in out and "#2: Errcode=0" in out
    assert "verdict  PASSED" in out
    assert "decrypted identity: name 张*, idtype 01, idnum 110***********1233" in out
    assert "both verifications PASSED" in out
    # part 3: an encrypted element check; part 4: the daily limit with its reset time
    assert "answer   matched (Result 0, billed True)" in out
    assert "check #4: RateLimitedError" in out and "Asia/Shanghai" in out
    assert "李四" not in out and "440304198512010027" not in out
    # the demo's test identity never appears whole
    assert "110101199003071233" not in out + proc.stderr
    assert "张三" not in out + proc.stderr


def test_make_demo_the_readme_command() -> None:
    """The README's first command, as a newcomer types it (make test is the second: CI runs it)."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower() and not k.startswith("MAKE")}
    proc = subprocess.run(["make", "--no-print-directory", "demo"], capture_output=True, text=True, timeout=300,
                          env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "Done: both verifications PASSED" in proc.stdout
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme
