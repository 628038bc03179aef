#!/usr/bin/env bash
# Install what the project needs and this machine lacks, then prepare .venv.
#   - Debian packages, with apt-get (as root, or through sudo), only those missing;
#   - a Python virtual environment in .venv with the test requirements and tcfaceid itself.
# Safe to run again: it does nothing when everything is in place.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  ca-certificates
  build-essential pkg-config   # the C core
  libcurl4-openssl-dev libjansson-dev libssl-dev
  valgrind clang-format        # C tests run under valgrind; sources are clang-format clean
  clang libclang-rt-14-dev     # libFuzzer harnesses (tests/fuzz): -fsanitize=fuzzer,address,undefined
  curl             # Lua specs drive the emulator's control API with it
  openssl          # the emulator's --make-cert, TLS tests, SM2 cross-checks
  chromium         # the verification page, driven headless in tests
  chromium-driver
  lua5.4 liblua5.4-dev luarocks   # the Lua binding (luarocks make rockspec/...)
  luajit2 libluajit2-5.1-dev      # the same module under LuaJIT (OpenResty's fork, as nginx-lua uses)
  lua-busted                      # Lua specs
  nginx libnginx-mod-http-lua lua-resty-core   # the OpenResty integration test (never started as a service)
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else echo "bootstrap: need root to run: $*" >&2; exit 1
  fi
}

apt_install() {
  echo "bootstrap: installing Debian packages: $*"
  as_root apt-get update -qq
  # Packages with a service (nginx) must not start it: the tests run their own nginx on 127.0.0.1.
  local policy=/usr/sbin/policy-rc.d added=0
  if [ ! -e "$policy" ]; then
    as_root sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy" && added=1
  fi
  local rc=0
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null || rc=$?
  if [ "$added" = 1 ]; then as_root rm -f "$policy"; fi
  return "$rc"
}

if [ "${#missing[@]}" -gt 0 ]; then
  apt_install "${missing[@]}"
fi

PY=${PYTHON:-python3}
if ! command -v "$PY" >/dev/null 2>&1; then
  apt_install python3 python3-venv
  PY=python3
fi

stamp_of() { cat requirements-test.txt setup.py | sha256sum | cut -c1-16; }
want=$(stamp_of)
if [ -x .venv/bin/python ] && [ "$(cat .venv/.tcfaceid-stamp 2>/dev/null)" = "$want" ]; then
  exit 0
fi

rm -rf .venv
if ! "$PY" -m venv .venv >/dev/null 2>&1; then
  apt_install python3-venv
  rm -rf .venv
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-test.txt
.venv/bin/python -m pip install -q --disable-pip-version-check -e .
echo "$want" > .venv/.tcfaceid-stamp
echo "bootstrap: .venv ready ($(.venv/bin/python --version))"
