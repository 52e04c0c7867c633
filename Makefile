# Credence: `make demo` and `make test` each build or refresh the environment first.
.DEFAULT_GOAL := help
SHELL := /bin/bash
PYTHON ?= python3
UV := .tools/bin/uv
VENV := .venv
RUN := $(VENV)/bin
PEOPLE ?= 100000
PG_ADMIN ?= postgresql://postgres@127.0.0.1:5432/postgres

.PHONY: help install lint format typecheck test test-sqlite test-postgres test-browser demo bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==0.13.8

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --locked --extra spark --quiet --compile-bytecode
	@touch $@

install: $(VENV)/.synced ## create or refresh the virtual environment from uv.lock

lint: install ## ruff, mypy --strict, import-linter
	$(RUN)/ruff check credence tests benchmarks
	$(RUN)/ruff format --check credence tests benchmarks
	$(RUN)/mypy
	$(RUN)/lint-imports

format: install ## fix what ruff can
	$(RUN)/ruff check --fix credence tests benchmarks
	$(RUN)/ruff format credence tests benchmarks

# loadgroup: the Spark tests (xdist_group "spark") share one worker, so one SparkSession (one JVM)
test-sqlite: install
	$(RUN)/python -m pytest -m "not postgres and not browser" -n 2 --dist loadgroup -q -p no:cacheprovider

test-postgres: install
	$(RUN)/python -m pytest -m postgres -n 2 -q -p no:cacheprovider

# Debian's Chromium and a CJK font for the pages' screenshots; Playwright never downloads a browser
BROWSER_PACKAGES := chromium fonts-wqy-zenhei

test-browser: install ## the pages in Debian's Chromium (apt-get installs it when missing)
	@dpkg -s $(BROWSER_PACKAGES) >/dev/null 2>&1 || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(BROWSER_PACKAGES); }
	$(RUN)/python -m pytest -m browser -q -p no:cacheprovider

test: install ## the whole suite: lint, SQLite, PostgreSQL, then the pages in a browser
	@echo "== lint" && $(MAKE) --no-print-directory lint
	@echo "== SQLite store" && $(MAKE) --no-print-directory test-sqlite
	@echo "== PostgreSQL store" && $(MAKE) --no-print-directory test-postgres
	@echo "== browser" && $(MAKE) --no-print-directory test-browser

demo: install ## generate a city, ingest, score, list, report and explain on SQLite, then serve the gate (Ctrl-C stops it)
	$(RUN)/credence demo --people $(PEOPLE) --serve

bench: install ## the benchmarks (not part of the tests' pass/fail)
	$(RUN)/python benchmarks/full_recompute.py
	$(RUN)/python benchmarks/score_intervals.py
	$(RUN)/python benchmarks/incremental.py --people $(PEOPLE)
	$(RUN)/python benchmarks/ingest.py --people $(PEOPLE)
	$(RUN)/python benchmarks/check.py --people $(PEOPLE)
	$(RUN)/python benchmarks/simulate.py --people $(PEOPLE)
	$(RUN)/python benchmarks/portal.py
	$(RUN)/python benchmarks/linkage.py --people $(PEOPLE)
	$(RUN)/python benchmarks/linkage_febrl.py

clean: ## remove the environment and generated data
	rm -rf $(VENV) .tools data credence.db credence.db-wal credence.db-shm credence.db.lock credence.db.writer
