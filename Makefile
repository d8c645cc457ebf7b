# labapi — `make help` lists the targets.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SCALE  ?= 10k
DURATION ?= 10
export LABAPI_TEST_DATABASE_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test
# Test processes (pytest-xdist): each has its own SQLite file and PostgreSQL schema.
JOBS   ?= 2
# igv.js is vendored (committed) so that labapi serves it offline; `make vendor-igv` renews it.
IGV_VERSION := 3.8.10
IGV_DIR     := src/labapi/isabl/static/igv
# Debian packages the browser test needs (the program has the package's name).
TEST_TOOLS  := chromium samtools

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

test-deps: ## Install the Debian packages the browser test needs (chromium, samtools) if missing
	@missing=""; for tool in $(TEST_TOOLS); do command -v $$tool >/dev/null || missing="$$missing $$tool"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "missing:$$missing; as root: apt-get install$$missing" >&2; exit 1; fi; \
	  echo "installing$$missing from Debian"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

vendor-igv: ## Fetch the pinned igv.js (IGV_VERSION) from npm into src/labapi/isabl/static/igv (then commit it)
	@tmp=$$(mktemp -d) && (cd $$tmp && npm pack --silent igv@$(IGV_VERSION) >/dev/null && tar xzf igv-$(IGV_VERSION).tgz) \
	  && cp $$tmp/package/dist/igv.min.js $$tmp/package/LICENSE $(IGV_DIR)/ && rm -rf $$tmp
	@sha256sum $(IGV_DIR)/igv.min.js

test: $(STAMP) test-deps ## Run the whole suite on SQLite and PostgreSQL
	$(BIN)/python scripts/check_postgres.py
	$(BIN)/python -m pytest -n $(JOBS)

test-sqlite: $(STAMP) test-deps ## Run the suite on SQLite only
	$(BIN)/python -m pytest -n $(JOBS) -m "not postgresql"

test-pg: $(STAMP) ## Run the suite on PostgreSQL only
	$(BIN)/python scripts/check_postgres.py
	$(BIN)/python -m pytest -n $(JOBS) -m "not sqlite"

test-isabl-cli: $(STAMP) ## The isabl-cli 2.0.2 wheel's own tests against a fresh labapi (ISABL_CLI_DB=postgres; OPTS=--trace; ARGS=pytest args)
	$(BIN)/python scripts/isabl_cli_suite.py $(OPTS) $(if $(ARGS),-- $(ARGS))

lint: $(STAMP) ## ruff check, format check and the project AST checks
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python scripts/lint_commits.py

type: $(STAMP) ## mypy --strict on core/ and query/
	$(BIN)/mypy

soak: $(STAMP) ## 10 minutes of wrk at saturation on PostgreSQL (127.0.0.1); report in var/soak/
	$(BIN)/python scripts/soak.py --seconds $${SOAK_SECONDS:-600}
$(VENV)/.bench-installed: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	@touch $@

bench: $(VENV)/.bench-installed ## Benchmark on PostgreSQL: make bench SCALE=10k|100k|1m (docs/performance.md)
	@command -v wrk >/dev/null 2>&1 || { apt-get update && apt-get install -y wrk; } \
		|| { echo "make bench needs wrk: apt-get install -y wrk" >&2; exit 1; }
	$(BIN)/python -m bench --scale $(SCALE) --duration $(DURATION)
	$(BIN)/python bench/submission.py --rows 5000

up: ## Start labapi and PostgreSQL with docker compose
	docker compose -f docker/compose.yaml up --build

.PHONY: help install run migrate revision demo test test-deps test-sqlite test-pg test-isabl-cli lint type soak up vendor-igv bench
