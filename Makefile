# The two commands of the README: `make demo` and `make test`.
# Both create/refresh .venv from pyproject.toml pinned by requirements/constraints.txt.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
CONSTRAINTS := requirements/constraints.txt
PORT ?= 5006
PYTEST_ARGS ?=

# Real public data: the shared folder beside the checkout serves as the registry's offline mirror.
ifneq ($(wildcard ../shared/data),)
export ATTED_EXPLORE_MIRROR ?= $(abspath ../shared/data)
endif

.PHONY: demo test venv test-venv browser benchmarks clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml $(CONSTRAINTS)
	$(PIP) install --quiet -c $(CONSTRAINTS) -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install --quiet -c $(CONSTRAINTS) -e '.[test]'
	touch $@

venv: $(VENV)/.installed

test-venv: $(VENV)/.installed-test

# Browser tests drive Debian's Chromium through Playwright (no browser download).
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = "0" ]; then \
		echo "installing Debian chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "error: /usr/bin/chromium is missing; install Debian's chromium package (as root: apt-get install chromium)" >&2; \
		exit 1; \
	fi

demo: venv
	$(BIN)/atted-explore demo --port $(PORT)

test: test-venv browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

benchmarks: venv
	for script in benchmarks/*.py; do case $$script in */_*) continue;; esac; $(BIN)/python $$script --quick || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache
