# Front door. `make run` and `make test` are the README's two commands.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install run test lint typecheck redis-server chromium clean

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

install: $(PY)
	$(PY) -m pip install -q -e '.[test]'

# the service alone needs no test tools
run: $(PY)
	$(PY) -m pip install -q -e .
	$(PY) -m service

lint: install
	$(VENV)/bin/ruff check service tests chaos
	$(VENV)/bin/ruff format --check service tests chaos

typecheck: install
	$(VENV)/bin/mypy

# The tests start their own redis-server processes on free ports; install it if missing.
redis-server:
	@command -v redis-server >/dev/null 2>&1 || { \
	  echo "redis-server not found: installing it with apt-get"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq redis-server >/dev/null; }

# Browser tests drive Debian's Chromium through Playwright (no browser download is possible).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "chromium not found: installing it with apt-get"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

test: install redis-server chromium lint typecheck
	$(PY) -m pytest -q -p no:cacheprovider

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
