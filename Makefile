# The two commands a new user runs: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
UV_VERSION := 0.13.8
BIN := $(VENV)/bin
UV := $(BIN)/uv
PY := $(BIN)/python
STAMP := $(VENV)/.installed

PACKAGES := core store rest jobs etl pyloop
EDITABLES := \
	-e packages/loom-core[keyring] \
	-e packages/loom-store \
	-e packages/loom-rest[litestar,starlette] \
	-e packages/loom-jobs[redis,rabbitmq] \
	-e packages/loom-etl[delta] \
	-e packages/loom-pyloop

.PHONY: help install run test pytest isolation lint bench clean

help: ## List the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(STAMP): $(UV) requirements-dev.txt $(wildcard packages/*/pyproject.toml)
	$(UV) pip install --quiet --python $(PY) $(EDITABLES) -r requirements-dev.txt
	@touch $(STAMP)

install: $(STAMP) ## Create the virtualenv and install every distribution editable

run: $(STAMP) ## Start the example app
	@$(PY) tools/run_example.py

test: $(STAMP) ## Run the whole suite, then the install-alone check
	@$(MAKE) --no-print-directory pytest
	@$(MAKE) --no-print-directory isolation

pytest: $(STAMP)
	@set +e; $(BIN)/pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

isolation: $(STAMP) ## Build every wheel and check each distribution installs and imports alone
	$(PY) tools/check_isolation.py --uv $(UV)

lint: $(STAMP) ## ruff and mypy --strict over packages/*/src
	$(BIN)/ruff check packages tests tools examples
	$(BIN)/ruff format --check packages tests tools examples
	$(BIN)/mypy $(foreach p,$(PACKAGES),packages/loom-$(p)/src/loom/$(p))

bench: $(STAMP) ## Run the benchmarks under tools/bench
	@set -e; for b in tools/bench/*.py; do [ "$$(basename $$b)" = "__init__.py" ] && continue; echo "== $$b"; $(PY) $$b; done

clean: ## Remove the virtualenv, build output and caches
	rm -rf $(VENV) dist build .mypy_cache .ruff_cache .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
