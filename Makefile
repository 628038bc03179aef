# tcfaceid — the two commands a newcomer needs are `make demo` and `make test`.
VENV   := .venv
PY     := $(VENV)/bin/python
PYTEST ?= $(PY) -m pytest
ARGS   ?=

.PHONY: all deps python lua demo test test-emulator emulator format clean bench bench-deps

all: test

# Install missing Debian packages and (re)create .venv when its inputs changed.
deps:
	@bash scripts/bootstrap.sh

# The C extension tcfaceid._core, built in place (bindings/python/tcfaceid/_core.*.so) for the
# editable install in .venv; quick when nothing changed. TCFACEID_DEBUG=1 / TCFACEID_ASAN=1: see
# setup.py (switching them rebuilds everything).
python: deps
	$(PY) setup.py -q build_ext --inplace

# The Lua C module tcfaceid.core for Lua 5.4 (build/lua/5.4/tcfaceid/core.so, with the libcurl
# client) and LuaJIT / OpenResty (build/lua/jit/tcfaceid/core.so, no transport): rules in
# bindings/lua/lua.mk. Use with package.cpath = "build/lua/<5.4|jit>/?.so" and package.path =
# "bindings/lua/?.lua;bindings/lua/?/init.lua".
lua: lua-check-deps build/lua/5.4/tcfaceid/core.so build/lua/jit/tcfaceid/core.so

# A full SaaS verification flow against the bundled emulator.
demo: deps python
	$(PY) examples/demo.py

# Every test suite (C, Python, Lua, integration as they exist).
test: deps python
	$(PYTEST) $(ARGS)

test-emulator: deps python
	$(PYTEST) tests/python -k emulator $(ARGS)

# Run the emulator in the foreground on its default port (8455).
emulator: deps
	$(PY) -m tcfaceid.emulator

# Reformat the C sources with the project's .clang-format.
format:
	clang-format -i $(wildcard csrc/include/*.h csrc/src/*.[ch] csrc/tools/*.c tests/c/*.[ch] tests/fuzz/*.[ch] bindings/python/tcfaceid/*.c bindings/lua/*.c)

include csrc/build.mk
include bindings/lua/lua.mk
include tests/fuzz/fuzz.mk

# Benchmarks, tcfaceid against the official Python SDK on a local canned nginx: prints one table
# and writes docs/performance.md and docs/performance.png (bench/run.py; BENCH_ARGS=--quick, ...).
bench: deps python lua bench-deps $(BUILD)/tcf-bench
	$(PY) bench/run.py $(BENCH_ARGS)

# What only the benchmark needs: wrk (Debian) and matplotlib (.venv).
bench-deps:
	@bash scripts/bench-deps.sh

$(BUILD)/tcf-bench: bench/bench.c $(BUILD)/libtcfaceid.a
	$(CC) $(C_CFLAGS) $< -o $@ $(BUILD)/libtcfaceid.a $(C_LDLIBS)

clean:
	rm -rf build $(VENV) .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

# The examples (docs/examples.md), each against an emulator the command starts.
.PHONY: example-saas example-eid example-c example-c-build example-openresty

# The OpenResty example (examples/openresty): nginx with the Lua module in front of the emulator.
example-openresty: deps python lua
	$(PY) examples/openresty/run.py $(ARGS)

# The SaaS backend (WSGI/ASGI, SQLite): open the printed address and verify in the browser.
example-saas: deps python
	$(PY) examples/saas_backend.py $(ARGS)

# The E-ID flow, with a simulated person, the polling and the EidInfo decryption.
example-eid: deps python
	$(PY) examples/eid_flow.py $(ARGS)

# The C example (examples/c/verify.c, linked with build/libtcfaceid.a), with a simulated person.
example-c: deps python example-c-build
	$(PY) examples/with_emulator.py --person pass -- $(BUILD)/examples/verify $(ARGS)

example-c-build: c-check-deps $(BUILD)/examples/verify

$(BUILD)/examples/verify: examples/c/verify.c $(BUILD)/libtcfaceid.a
	@mkdir -p $(@D)
	$(CC) $(C_CFLAGS) $< -o $@ $(BUILD)/libtcfaceid.a $(C_LDLIBS)
