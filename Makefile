# Two entry points: `make run` (serve on 127.0.0.1:1933) and `make test` (lint, types, tests).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# `make run HOST=... PORT=... DATA=...`: each is passed to `serve` only when given on the make
# command line, so otherwise ov.conf, OPENVIKING__SERVER__HOST/PORT, OPENVIKING__STORAGE__WORKSPACE
# and the defaults (127.0.0.1, 1933, ./data) apply. An exported HOST or PORT is ignored.
given = $(filter command line,$(origin $(1)))
SERVE_ARGS := $(strip $(if $(call given,HOST),--host $(HOST)) \
	$(if $(call given,PORT),--port $(PORT)) $(if $(call given,DATA),--path "$(DATA)"))
DATA_NOTE := $(if $(call given,DATA),data in $(DATA),data folder: see the next line)
# Test modules spread over one worker per core plus one (the tests spend much of their time
# waiting on servers and subprocesses); a module's tests (and its server fixtures) share one.
WORKERS := $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) + 1 )))
PYTEST_ARGS ?= -n $(WORKERS) --dist loadfile
# This machine's pip.conf names local indexes that may be absent; pip warns about each one.
PIP_FILTER := 2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2)
PIP_INSTALL := $(BIN)/python -m pip install --disable-pip-version-check --progress-bar on

.PHONY: help run test lint typecheck pytest clean

help:
	@echo "make run   - create .venv, install, serve MCP + HTTP (+ chat bot); prints the URLs,"
	@echo "             the data folder and the 'claude mcp add' line once ready"
	@echo "             make run PORT=2000 HOST=127.0.0.1 DATA=/path/to/data"
	@echo "             (defaults: ov.conf / OPENVIKING__* variables, else 127.0.0.1:1933, ./data)"
	@echo "make test  - create .venv, install .[dev], run ruff, import-linter, mypy and pytest"
	@echo "make clean - remove .venv and the tool caches"

$(BIN)/python:
	@echo "Creating $(VENV) (Python virtual environment) ..."
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	@echo "Installing openviking-mcp and its dependencies into $(VENV)" \
	  "(first time: a minute or two) ..."
	$(PIP_INSTALL) -e . $(PIP_FILTER)
	@touch $@
	@echo "Installed."

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	@echo "Installing openviking-mcp, its dependencies and the dev tools into $(VENV)" \
	  "(first time: a minute or two) ..."
	$(PIP_INSTALL) -e '.[dev]' $(PIP_FILTER)
	@touch $@ $(VENV)/.installed
	@echo "Installed."

run: $(VENV)/.installed
	@echo "Starting the server: HTTP API, MCP at /mcp, chat bot at /chat ($(DATA_NOTE)) ..."
	$(BIN)/openviking-mcp serve --with-bot $(SERVE_ARGS)

lint: $(VENV)/.installed-dev
	@echo "Linting (ruff, import-linter) ..."
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(VENV)/.installed-dev
	@echo "Type-checking (mypy) ..."
	$(BIN)/mypy

# pytest exits 5 when it collects no test; say so loudly instead of failing obscurely.
pytest: $(VENV)/.installed-dev
	@echo "Running the tests (pytest) ..."
	$(BIN)/pytest $(PYTEST_ARGS) || { rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest: no tests were collected"; exit 0; fi; exit $$rc; }

test: lint typecheck pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
