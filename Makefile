# labapi — `make help` lists the targets.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SCALE  ?= 10k
DURATION ?= 10
export LABAPI_TEST_DATABASE_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test

.DEFAULT_GOAL := help

help: ## Show this help
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "} {printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) ## Create the virtualenv and install labapi with its dev tools

run: $(STAMP) ## Migrate the database (SQLite under ./var by default) and serve on 127.0.0.1:8000
	$(BIN)/python -m labapi serve

migrate: $(STAMP) ## Migrate the database to the newest revision
	$(BIN)/python -m labapi migrate

revision: $(STAMP) ## New migration from the models: make revision m="add sample"
	$(BIN)/alembic revision --autogenerate -m "$(m)"

demo: $(STAMP) ## Load the small demo dataset
	$(BIN)/python -m labapi demo

test: $(STAMP) ## Run the whole suite on SQLite and PostgreSQL
	$(BIN)/python scripts/check_postgres.py
	$(BIN)/python -m pytest

test-sqlite: $(STAMP) ## Run the suite on SQLite only
	$(BIN)/python -m pytest -m "not postgresql"

test-pg: $(STAMP) ## Run the suite on PostgreSQL only
	$(BIN)/python scripts/check_postgres.py
	$(BIN)/python -m pytest -m "not sqlite"

lint: $(STAMP) ## ruff check, format check and the project AST checks
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python scripts/lint_commits.py

type: $(STAMP) ## mypy --strict on core/ and query/
	$(BIN)/mypy

$(VENV)/.bench-installed: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	@touch $@

bench: $(VENV)/.bench-installed ## Benchmark on PostgreSQL: make bench SCALE=10k|100k|1m (docs/performance.md)
	@command -v wrk >/dev/null 2>&1 || { apt-get update && apt-get install -y wrk; } \
		|| { echo "make bench needs wrk: apt-get install -y wrk" >&2; exit 1; }
	@command -v wrk >/dev/null 2>&1 || { echo "make bench needs wrk: apt-get install -y wrk" >&2; exit 1; }
	$(BIN)/python -m bench --scale $(SCALE) --duration $(DURATION)

up: ## Start labapi and PostgreSQL with docker compose
	docker compose -f docker/compose.yaml up --build

.PHONY: help install run migrate revision demo test test-sqlite test-pg lint type up bench
