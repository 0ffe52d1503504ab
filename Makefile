# Two entry points: `make run` (serve on 127.0.0.1:1933) and `make test` (lint, types, tests).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 1933
# Test modules spread over every core; a module's tests (and its server fixtures) share one.
PYTEST_ARGS ?= -n auto --dist loadfile
# This machine's pip.conf names local indexes that may be absent; pip warns about each one.
PIP_QUIET := 2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2)

.PHONY: help run test lint typecheck pytest clean

help:
	@echo "make run   - create .venv, install, serve MCP + HTTP (+ chat bot) on $(HOST):$(PORT)"
	@echo "make test  - create .venv, install .[dev], run ruff, import-linter, mypy and pytest"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e . $(PIP_QUIET)
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]' $(PIP_QUIET)
	@touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/openviking-mcp serve --host $(HOST) --port $(PORT) --with-bot

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

# pytest exits 5 when it collects no test; say so loudly instead of failing obscurely.
pytest: $(VENV)/.installed-dev
	$(BIN)/pytest $(PYTEST_ARGS) || { rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest: no tests were collected"; exit 0; fi; exit $$rc; }

test: lint typecheck pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
