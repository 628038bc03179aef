# tcfaceid — the two commands a newcomer needs are `make demo` and `make test`.
VENV   := .venv
PY     := $(VENV)/bin/python
PYTEST ?= $(PY) -m pytest
ARGS   ?=

.PHONY: all deps demo test test-emulator emulator format clean

all: test

# Install missing Debian packages and (re)create .venv when its inputs changed.
deps:
	@bash scripts/bootstrap.sh

# A full SaaS verification flow against the bundled emulator.
demo: deps
	$(PY) examples/demo.py

# Every test suite (C, Python, Lua, integration as they exist).
test: deps
	$(PYTEST) $(ARGS)

test-emulator: deps
	$(PYTEST) tests/python -k emulator $(ARGS)

# Run the emulator in the foreground on its default port (8455).
emulator: deps
	$(PY) -m tcfaceid.emulator

# Reformat the C sources with the project's .clang-format.
format:
	clang-format -i $(wildcard csrc/include/*.h csrc/src/*.[ch] csrc/tools/*.c tests/c/*.[ch])

include csrc/build.mk

clean:
	rm -rf build $(VENV) .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
