#!/usr/bin/env bash
# What only `make bench` needs, on top of scripts/bootstrap.sh (make deps): wrk (Debian) for the
# OpenResty benchmark and matplotlib (into .venv) for docs/performance.png. Safe to run again.
# bench/run.py reports the parts that need a missing tool as n/a, so the smoke test
# (tests/python/test_bench_smoke.py) runs without them.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else echo "bench-deps: need root to run: $*" >&2; return 1
  fi
}

if ! command -v wrk >/dev/null 2>&1; then
  echo "bench-deps: installing wrk"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null
fi

if ! .venv/bin/python -c "import matplotlib" >/dev/null 2>&1; then
  echo "bench-deps: installing matplotlib into .venv"
  .venv/bin/python -m pip install -q --disable-pip-version-check "matplotlib==3.10.9"
fi
