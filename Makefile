# One entry point. `make run` serves the demo; `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint unit browser wrk bench-ingest bench-statements bench-scorecards bench-calls clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/fiducia db upgrade
	$(BIN)/fiducia demo
	$(BIN)/fiducia serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Debian's Chromium for the browser tests, installed when missing.
browser:
	bash .ci/install-browser

# Debian's wrk, the HTTP load generator of bench-scorecards and its smoke test.
wrk:
	bash .ci/install-wrk

# The whole suite on SQLite; then, when TEST_DATABASE_URL names a PostgreSQL server,
# every database-backed test again on a throwaway database created on that server.
# Screenshots of the main pages land in artifacts/screenshots/.
test: lint browser wrk
	$(BIN)/pytest --cov --cov-report=term
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL ($$TEST_DATABASE_URL)"; \
		$(BIN)/pytest tests/integration tests/api tests/web tests/e2e; \
	fi

unit: install
	$(BIN)/pytest tests/unit

bench-ingest: install
	$(BIN)/python -m bench.ingest

# ARGS passes options on: make bench-statements ARGS='--scale 10m'
bench-statements: install
	$(BIN)/python -m bench.statements $(ARGS)

bench-scorecards: install wrk
	$(BIN)/python -m bench.scorecards $(ARGS)

bench-calls: install
	$(BIN)/python -m bench.calls $(ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache .hypothesis
