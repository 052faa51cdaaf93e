# Front door. `make run` and `make test` are the README's two commands.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install run test lint typecheck redis-server haproxy chromium faketime prometheus stack-up stack-down stack-status clean

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
	$(VENV)/bin/ruff check service tests chaos bench stack tools
	$(VENV)/bin/ruff format --check service tests chaos bench stack tools

typecheck: install
	$(VENV)/bin/mypy

# $(call apt-ensure,COMMAND,PACKAGE): install the Debian package when the command is missing
apt-ensure = @command -v $(1) >/dev/null 2>&1 || { \
	  echo "$(1) not found: installing $(2) with apt-get"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq $(2) >/dev/null; }

# The tests start their own redis-server processes on free ports; install it if missing.
redis-server:
	$(call apt-ensure,redis-server,redis-server)

# The local stack and its tests put HAProxy in front of the instances.
haproxy:
	$(call apt-ensure,haproxy,haproxy)

# Browser tests drive Debian's Chromium through Playwright (no browser download is possible).
chromium:
	$(call apt-ensure,chromium,chromium)

# The chaos scenario clock-skew runs an instance under Debian's faketime.
faketime:
	$(call apt-ensure,faketime,faketime)

# The alerting rules are unit-tested with promtool, and a chaos scenario runs a real Prometheus.
prometheus:
	$(call apt-ensure,promtool,prometheus)

test: install redis-server haproxy chromium faketime prometheus lint typecheck
	$(PY) -m pytest -q -p no:cacheprovider -n 2 --dist loadfile

# A production-like stack on this machine (stack/local.py): Redis with AOF, STACK_INSTANCES
# instances, HAProxy on STACK_PORT; state, logs and pidfiles in .stack/. More options of
# `python -m stack.local up` (--redis-port, --stats-port, --host …) go in STACK_ARGS.
STACK_INSTANCES ?= 3
STACK_PORT ?= 8080
STACK_ARGS ?=

stack-up: $(PY) redis-server haproxy
	$(PY) -m pip install -q -e .
	$(PY) -m stack.local up --instances $(STACK_INSTANCES) --port $(STACK_PORT) $(STACK_ARGS)

# stopping needs nothing installed: the script and the settings module use the standard library
STACK_PY = $(if $(wildcard $(PY)),$(PY),python3)

stack-down:
	$(STACK_PY) -m stack.local down

stack-status:
	$(STACK_PY) -m stack.local status

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
