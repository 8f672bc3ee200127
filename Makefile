# The commands of the README: `make demo`, `make test` and `make test-unit`.
# All create/refresh .venv from pyproject.toml pinned by requirements/constraints.txt:
# the package for the demo, plus its notebook and test extras for the tests (the notebooks run in tests).

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

.PHONY: demo test test-unit venv test-venv browser benchmarks clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml $(CONSTRAINTS)
	$(PIP) install --quiet -c $(CONSTRAINTS) -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install --quiet -c $(CONSTRAINTS) -e '.[notebook,test]'
	touch $@

venv: $(VENV)/.installed

test-venv: $(VENV)/.installed-test

# Browser tests drive Debian's Chromium through Playwright (no browser download). Root is needed
# only to install it; any user runs the tests once /usr/bin/chromium is there.
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = "0" ]; then \
		echo "installing Debian chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "error: the browser tests need /usr/bin/chromium. Install it once as root:" >&2; \
		echo "  sudo apt-get install chromium" >&2; \
		echo "(or run 'make test' as root), or run every test without a browser: make test-unit" >&2; \
		exit 1; \
	fi

demo: venv
	$(BIN)/atted-explore demo --port $(PORT)

test: test-venv browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Everything but the browser tests: no Chromium needed.
test-unit: test-venv
	$(BIN)/python -m pytest -m "not browser" $(PYTEST_ARGS)

benchmarks: venv
	for script in benchmarks/*.py; do case $$script in */_*) continue;; esac; $(BIN)/python $$script --quick || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache
