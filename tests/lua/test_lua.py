"""The pytest driver of the Lua specs (tests/lua/*_spec.lua, busted).

``make lua`` builds tcfaceid.core twice: for Lua 5.4 (build/lua/5.4, with the libcurl client) and
for LuaJIT 2.1 (build/lua/jit, TCF_WITH_CURL=0, as OpenResty loads it). Every spec runs under
each interpreter in one busted process, against an in-process emulator whose endpoint and keys
are passed in the environment:

  TCF_TEST_ENDPOINT, TCF_TEST_SECRET_ID, TCF_TEST_SECRET_KEY, TCF_TEST_MERCHANT_ID,
  TCF_TEST_SM2_KEY (the default merchant's SM2 private key), TCF_TEST_RSA_PUB / TCF_TEST_SM2_PUB
  (the emulator's field-encryption public keys), TCF_VECTORS (shared/vectors/tc3.json),
  TCF_LUA ("5.4" or "jit"), TCF_TEST_NO_CREDENTIALS=1 (no TENCENTCLOUD_* variables, an empty HOME).

The last test installs the rock with ``luarocks --lua-version 5.4 make`` from a clean copy of the
repository's files (tracked and untracked, not ignored) and loads tcfaceid.core from that tree.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

from tcfaceid.emulator import (
    DEFAULT_SECRET_ID,
    DEFAULT_SECRET_KEY,
    EMULATOR_RSA_PUBLIC_KEY_PEM,
    EMULATOR_SM2_PUBLIC_KEY_PEM,
    Config,
    Emulator,
)
from tcfaceid.emulator.config import DEFAULT_MERCHANT_ID, DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT.parent / "shared" / "vectors" / "tc3.json"
SPECS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests" / "lua").glob("*_spec.lua"))
ROCKSPEC = "rockspec/tcfaceid-scm-1.rockspec"
INTERPRETERS = {"5.4": "lua5.4", "jit": "luajit"}


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is not installed: run 'make deps'")
    return path


@pytest.fixture(scope="module")
def built() -> None:
    need("pkg-config")
    out = subprocess.run(["make", "-s", "lua"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        pytest.fail(f"make lua failed:\n{out.stdout[-4000:]}\n{out.stderr[-6000:]}")


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(Config(port=0, qps_enabled=False)) as emu:
        yield emu


def spec_env(variant: str, emu: Emulator, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.lower().endswith("_proxy") and not k.startswith("TENCENTCLOUD_")}
    env.update({
        "HOME": str(home),
        "TCF_LUA": variant,
        "TCF_VECTORS": str(VECTORS),
        "TCF_TEST_ENDPOINT": emu.endpoint,
        "TCF_TEST_SECRET_ID": DEFAULT_SECRET_ID,
        "TCF_TEST_SECRET_KEY": DEFAULT_SECRET_KEY,
        "TCF_TEST_MERCHANT_ID": DEFAULT_MERCHANT_ID,
        "TCF_TEST_SM2_KEY": DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM,
        "TCF_TEST_RSA_PUB": EMULATOR_RSA_PUBLIC_KEY_PEM,
        "TCF_TEST_SM2_PUB": EMULATOR_SM2_PUBLIC_KEY_PEM,
        "TCF_TEST_NO_CREDENTIALS": "1",
    })
    return env


@pytest.mark.parametrize("variant", sorted(INTERPRETERS))
def test_busted_specs(variant: str, built: None, emulator: Emulator, tmp_path: Path) -> None:
    if not VECTORS.exists():
        pytest.fail(f"signature vectors not found at {VECTORS}")
    assert SPECS, "no tests/lua/*_spec.lua"
    interpreter = need(INTERPRETERS[variant])
    busted = need("busted")
    cmd = [interpreter, busted, "--lpath=bindings/lua/?.lua;bindings/lua/?/init.lua;tests/lua/?.lua",
           f"--cpath=build/lua/{variant}/?.so", "--output=TAP", *SPECS]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env=spec_env(variant, emulator, tmp_path))
    text = out.stdout + out.stderr
    assert out.returncode == 0, f"busted under {INTERPRETERS[variant]} failed:\n{text[-12000:]}"
    assert re.search(r"^1\.\.\d+", out.stdout, re.M), f"no TAP plan in busted's output:\n{text[-4000:]}"
    assert "not ok" not in out.stdout, text[-12000:]


def test_rockspec_lists_every_core_source() -> None:
    text = (ROOT / ROCKSPEC).read_text(encoding="utf-8")
    listed = set(re.findall(r'"(csrc/src/[^"]+\.c)"', text))
    present = {str(p.relative_to(ROOT)) for p in (ROOT / "csrc" / "src").glob("*.c")}
    assert listed == present, f"{ROCKSPEC} sources differ from csrc/src/*.c: " \
                              f"missing {sorted(present - listed)}, extra {sorted(listed - present)}"
    for module in ("bindings/lua/tcfaceid/init.lua", "bindings/lua/tcfaceid/flows.lua",
                   "bindings/lua/tcfaceid/resty.lua", "bindings/lua/tcfaceid_core.c"):
        assert f'"{module}"' in text, module


def repository_files() -> list[str]:
    """Tracked and untracked (not ignored) files: what a clone with the work in progress has."""
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                         capture_output=True, timeout=60)
    if out.returncode != 0:
        pytest.skip("not a git checkout")
    return sorted({f for f in out.stdout.decode().split("\0") if f and (ROOT / f).is_file()})


def test_luarocks_make_from_a_clean_copy(tmp_path: Path) -> None:
    luarocks = need("luarocks")
    lua = need("lua5.4")
    src, tree = tmp_path / "src", tmp_path / "tree"
    for name in repository_files():
        if name.startswith(("csrc/", "bindings/lua/", "rockspec/")):
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    assert not (src / "build").exists()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LUA_")}
    env["HOME"] = str(tmp_path)  # luarocks' cache and config stay in the temporary directory
    out = subprocess.run([luarocks, "--lua-version", "5.4", "make", ROCKSPEC, "--tree", str(tree)], cwd=src,
                         capture_output=True, text=True, timeout=600, env=env)
    assert out.returncode == 0, f"luarocks make failed:\n{out.stdout[-6000:]}\n{out.stderr[-6000:]}"
    assert (tree / "lib" / "lua" / "5.4" / "tcfaceid" / "core.so").is_file()
    for module in ("init", "flows", "resty"):
        assert (tree / "share" / "lua" / "5.4" / "tcfaceid" / f"{module}.lua").is_file(), module
    script = (f"package.cpath = '{tree}/lib/lua/5.4/?.so'; package.path = '{tree}/share/lua/5.4/?.lua;"
              f"{tree}/share/lua/5.4/?/init.lua'; local core = require('tcfaceid.core'); "
              "assert(core.has_transport == true); "
              "assert(core.json_encode({b = 1, a = core.null}) == '{\"a\":null,\"b\":1}'); "
              "io.write(core.version())")
    run = subprocess.run([lua, "-e", script], cwd=tmp_path, capture_output=True, text=True, timeout=60, env=env)
    assert run.returncode == 0, run.stderr
    assert re.fullmatch(r"\d+\.\d+\.\d+", run.stdout), run.stdout
