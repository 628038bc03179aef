"""Executes the marked code blocks of docs/*.md and README.md, so the docs cannot go stale.

The convention (written for readers in docs/index.md, "Examples in these docs are tested"):

- a fenced block whose info string is ``python test``, ``lua test`` or ``c test`` is executed;
  every other block (``python``, ``sh``, ``c``, ``json`` …) is an illustration and is not;
- every block runs on its own, in a fresh temporary directory (also ``HOME``), against one
  emulator the runner starts (``tcfaceid.emulator``, QPS limits off) and resets before each block
  (sessions, limits, faults, statistics, clock), with these environment variables:

  ``TCFACEID_ENDPOINT``           the emulator, ``http://127.0.0.1:PORT``
  ``TENCENTCLOUD_SECRET_ID/_KEY`` the emulator's default key pair (so ``tcfaceid.Client()``
                                  with no arguments finds them, as does the C/Lua chain)
  ``TCFACEID_RULE_ID``            ``"1"`` (the emulator's default RuleId)
  ``TCFACEID_MERCHANT_ID``        the emulator's default E-ID MerchantId
  ``TCFACEID_MERCHANT_SM2_KEY``   that merchant's SM2 private key (PEM; public test key)

  and no proxy variables, no ``TENCENTCLOUD_SESSION_TOKEN``;
- ``python test``: run as a script with the project's Python (``python block.py``); a block whose
  first line starts with ``>>>`` is a doctest session instead (outputs compared, ``ELLIPSIS`` and
  ``NORMALIZE_WHITESPACE`` on);
- ``lua test``: run with ``lua5.4 block.lua`` against ``make lua``'s module (``package.path``
  ``bindings/lua/?.lua;bindings/lua/?/init.lua``, ``package.cpath`` ``build/lua/5.4/?.so``);
- ``c test``: compiled with the project's C flags (csrc/build.mk ``C_CFLAGS``, plus
  ``-Wno-missing-prototypes -Wno-unused-function``) after the includes ``<stdio.h> <stdlib.h>
  <string.h> <stdint.h> "tcfaceid.h"``, linked with build/libtcfaceid.a (``make lib``) and the
  core's libraries. A block with a ``main`` is run and must exit 0; a block with function
  definitions but no ``main`` gets an empty one (compiled and linked, not run); a block of bare
  statements becomes the body of an unused function (compiled and linked, not run).

A block passes when it exits with status 0 (doctests: no failed example). Each block is one
pytest case named ``<file>:<line>`` (the line of the opening fence).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from tcfaceid.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, Config, Emulator
from tcfaceid.emulator.config import DEFAULT_MERCHANT_ID, DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ("python", "lua", "c")
# The pages that must keep at least this many executed examples (issue 10).
REQUIRED = {
    "docs/python.md": 2, "docs/flows.md": 2, "docs/checks.md": 2, "docs/lua.md": 2,
    "docs/c-api.md": 2, "docs/reliability.md": 1, "docs/emulator.md": 2, "docs/security.md": 1,
    "docs/troubleshooting.md": 1,
}
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
TIMEOUT = 60


@dataclass(frozen=True)
class Block:
    file: str       # relative to the repository
    line: int       # 1-based line of the opening fence
    language: str
    code: str

    @property
    def id(self) -> str:
        return f"{self.file}:{self.line}"


def parse_blocks(text: str, rel: str) -> list[Block]:
    """Every fenced block whose info string is ``<language> test`` (more words may follow)."""
    blocks: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, indent, words = m["fence"], len(m["indent"]), m["info"].split()
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines):
            close = FENCE.match(lines[i])
            if close and close["fence"][0] == fence[0] and len(close["fence"]) >= len(fence) \
                    and not close["info"].strip():
                break
            text = lines[i]
            body.append(text[min(indent, len(text) - len(text.lstrip(" "))):])
            i += 1
        i += 1
        if len(words) >= 2 and words[1] == "test":
            blocks.append(Block(rel, start + 1, words[0], "\n".join(body) + "\n"))
    return blocks


def documents() -> list[Path]:
    return sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]


BLOCKS = [b for p in documents() for b in parse_blocks(p.read_text(encoding="utf-8"), str(p.relative_to(ROOT)))]


# ------------------------------------------------------------------------------------------------
# Fixtures: one emulator, reset before each block; the builds the Lua and C blocks need.

@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(Config(port=0, qps_enabled=False)) as emu:
        yield emu


@pytest.fixture
def env(emulator: Emulator, tmp_path: Path) -> dict[str, str]:
    emulator.reset()
    env = {k: v for k, v in os.environ.items()
           if not k.lower().endswith("_proxy") and not k.startswith(("TENCENTCLOUD_", "TCFACEID_", "LUA_"))}
    env.update({
        "HOME": str(tmp_path),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "bindings" / "python"), env.get("PYTHONPATH")])),
        "TCFACEID_ENDPOINT": emulator.endpoint,
        "TENCENTCLOUD_SECRET_ID": DEFAULT_SECRET_ID,
        "TENCENTCLOUD_SECRET_KEY": DEFAULT_SECRET_KEY,
        "TCFACEID_RULE_ID": "1",
        "TCFACEID_MERCHANT_ID": DEFAULT_MERCHANT_ID,
        "TCFACEID_MERCHANT_SM2_KEY": DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM,
    })
    return env


def _make(target: str) -> None:
    out = subprocess.run(["make", "-s", target], cwd=ROOT, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        pytest.fail(f"make {target} failed:\n{out.stdout[-4000:]}\n{out.stderr[-6000:]}")


@pytest.fixture(scope="module")
def lua_built() -> str:
    lua = shutil.which("lua5.4")
    if lua is None:
        pytest.fail("lua5.4 is not installed: run 'make deps'")
    _make("lua")
    return lua


@pytest.fixture(scope="module")
def c_flags() -> tuple[list[str], list[str]]:
    _make("lib")
    probe = "tcf-docs-flags: ; @echo 'CFLAGS=$(C_CFLAGS)'; echo 'LDLIBS=$(C_LDLIBS)'"
    out = subprocess.run(["make", "-s", "--no-print-directory", "--eval", probe, "tcf-docs-flags"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    values = dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)
    cflags = values["CFLAGS"].split() + ["-Wno-missing-prototypes", "-Wno-unused-function"]
    # Make the include paths absolute: the blocks compile in a temporary directory.
    cflags = [f"-I{ROOT / f[2:]}" if f.startswith("-I") and not f[2:].startswith("/") else f for f in cflags]
    return cflags, values["LDLIBS"].split()


# ------------------------------------------------------------------------------------------------
# Runners

def _run(cmd: list[str], cwd: Path, env: dict[str, str], block: Block) -> None:
    try:
        out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{block.id}: no answer within {TIMEOUT} s")
    if out.returncode != 0:
        pytest.fail(f"{block.id} ({block.language}) exited with status {out.returncode}:\n"
                    f"--- stdout\n{out.stdout[-6000:]}\n--- stderr\n{out.stderr[-6000:]}", pytrace=False)


DOCTEST_DRIVER = """\
import doctest, sys
text = open(sys.argv[1], encoding="utf-8").read()
test = doctest.DocTestParser().get_doctest(text, {"__name__": "__main__"}, sys.argv[2], sys.argv[2], 0)
runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
runner.run(test)
sys.exit(1 if runner.failures else 0)
"""


def run_python(block: Block, tmp_path: Path, env: dict[str, str]) -> None:
    script = tmp_path / "block.py"
    script.write_text(block.code, encoding="utf-8")
    first = next((line for line in block.code.splitlines() if line.strip()), "")
    if first.lstrip().startswith(">>>"):
        driver = tmp_path / "doctest_driver.py"
        driver.write_text(DOCTEST_DRIVER, encoding="utf-8")
        _run([sys.executable, str(driver), str(script), block.id], tmp_path, env, block)
    else:
        _run([sys.executable, str(script)], tmp_path, env, block)


def run_lua(block: Block, tmp_path: Path, env: dict[str, str], lua: str) -> None:
    script = tmp_path / "block.lua"
    script.write_text(block.code, encoding="utf-8")
    env = dict(env, LUA_PATH=f"{ROOT}/bindings/lua/?.lua;{ROOT}/bindings/lua/?/init.lua;;",
               LUA_CPATH=f"{ROOT}/build/lua/5.4/?.so;;")
    _run([lua, str(script)], tmp_path, env, block)


C_PRELUDE = '#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n#include <stdint.h>\n#include "tcfaceid.h"\n'
HAS_MAIN = re.compile(r"^\s*int\s+main\s*\(", re.M)
# A function definition at the start of a line: "type name(args) {" or "type\nname(args)\n{".
HAS_FUNCTION = re.compile(r"^[A-Za-z_][\w \t\*]*?\b[A-Za-z_]\w*\s*\([^;{}]*\)\s*\{", re.M)


def c_source(block: Block) -> tuple[str, bool]:
    """The translation unit for a block and whether it is to be run."""
    if HAS_MAIN.search(block.code):
        return C_PRELUDE + f"#line 1 \"{block.id}\"\n" + block.code, True
    if HAS_FUNCTION.search(block.code):
        body = block.code
    else:
        body = "static void tcf_docs_block(void) {\n" + block.code + "}\n"
    return C_PRELUDE + f"#line 1 \"{block.id}\"\n" + body + "\nint main(void) { return 0; }\n", False


def run_c(block: Block, tmp_path: Path, env: dict[str, str], flags: tuple[list[str], list[str]]) -> None:
    cflags, ldlibs = flags
    source, runnable = c_source(block)
    src, exe = tmp_path / "block.c", tmp_path / "block"
    src.write_text(source, encoding="utf-8")
    cc = os.environ.get("CC", "cc")
    out = subprocess.run([cc, *cflags, str(src), "-o", str(exe), str(ROOT / "build" / "libtcfaceid.a"), *ldlibs],
                         cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT)
    if out.returncode != 0:
        pytest.fail(f"{block.id} does not compile:\n{out.stderr[-8000:]}", pytrace=False)
    if runnable:
        _run([str(exe)], tmp_path, env, block)


# ------------------------------------------------------------------------------------------------
# Tests

@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_doc_block(block: Block, request: pytest.FixtureRequest, tmp_path: Path, env: dict[str, str]) -> None:
    if block.language == "python":
        run_python(block, tmp_path, env)
    elif block.language == "lua":
        run_lua(block, tmp_path, env, request.getfixturevalue("lua_built"))
    elif block.language == "c":
        run_c(block, tmp_path, env, request.getfixturevalue("c_flags"))
    else:
        pytest.fail(f"{block.id}: '{block.language} test' is not a tested language ({', '.join(LANGUAGES)})")


@pytest.mark.parametrize("page", sorted(REQUIRED))
def test_page_has_executed_examples(page: str) -> None:
    count = sum(1 for b in BLOCKS if b.file == page)
    assert count >= REQUIRED[page], f"{page} has {count} executed example(s), wants at least {REQUIRED[page]}"


def test_the_convention_is_documented_and_parsed() -> None:
    page = ROOT / "docs" / "index.md"
    assert page.exists() and "Examples in these docs are tested" in page.read_text(encoding="utf-8")
    text = "\n".join([
        "```python test", "print(1)", "```",
        "```python", "not run", "```",
        "   ~~~~lua test extra", "   print(2)", "   ```", "   ~~~~",
        "```c", "int x;", "```",
    ])
    blocks = parse_blocks(text, "x.md")
    assert [(b.line, b.language, b.code) for b in blocks] == [(1, "python", "print(1)\n"),
                                                               (7, "lua", "print(2)\n```\n")]
    assert c_source(Block("x.md", 1, "c", "int main(void) { return 0; }\n"))[1] is True
    assert "tcf_docs_block" in c_source(Block("x.md", 1, "c", "int x = 1;\n(void)x;\n"))[0]
    assert "tcf_docs_block" not in c_source(Block("x.md", 1, "c", "static int f(void)\n{\n    return 1;\n}\n"))[0]
