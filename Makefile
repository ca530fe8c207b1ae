# Two entry points, both used by the README's quick start:
#   make test   sets up a virtual environment with every extra, checks lint, format and the
#               direction of imports, and runs the whole test suite
#   make bench  runs every benchmark under benchmarks/ (slow; writes benchmarks/results/)
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: test system-deps bench

$(PY):
	python3 -m venv $(VENV)

# Debian's chromium (the HTML report is checked in a real headless browser) and bubblewrap
# (the sandbox that runs generated code). Installed only when missing.
system-deps:
	@if ! command -v chromium >/dev/null || ! command -v bwrap >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium bubblewrap >/dev/null; \
	fi

# torch first, pinned to the CPU build on local disk, so the range in [generate] installs nothing more.
test: system-deps $(PY)
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test]'
	$(PY) -m ruff check --quiet .
	$(PY) -m ruff format --check --quiet .
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m pytest -q

bench: $(PY)
	$(PY) -m pip install -q -e '.[test]'
	for b in benchmarks/bench_*.py; do $(PY) $$b || exit 1; done
