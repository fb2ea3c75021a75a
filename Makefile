# One entry point. `make run` serves the demo; `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint unit browser pdf-libraries wrk translations bench-ingest bench-statements bench-scorecards bench-calls clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/fiducia db upgrade
	$(BIN)/fiducia demo
	$(BIN)/fiducia run --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Debian's Chromium for the browser tests, installed when missing.
browser:
	bash .ci/install-browser

# WeasyPrint's system libraries (and pdftoppm for the screenshots), installed when missing.
pdf-libraries:
	bash .ci/install-pdf-libraries

# After wrapping a new string in _() or {% trans %}: extract every message, add the new ones
# to the catalogs (translate them in service/language/translations/it/LC_MESSAGES/messages.po), compile.
CATALOGS := service/language/translations
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k said \
		--no-location --sort-output --width 100 -o $(CATALOGS)/messages.pot contracts service
	$(BIN)/pybabel update -i $(CATALOGS)/messages.pot -d $(CATALOGS) \
		--ignore-obsolete --no-fuzzy-matching --width 100
	$(BIN)/pybabel compile --statistics -d $(CATALOGS)

# Debian's wrk, the HTTP load generator of bench-scorecards and its smoke test.
wrk:
	bash .ci/install-wrk

# The whole suite. With TEST_DATABASE_URL naming a PostgreSQL server (CI), each tier runs on
# the database it really tests, once: unit tests on SQLite only; integration and API tests on
# both (they exercise dialect code: COPY, upserts, locks, partitions); pages, the browser and
# the API fuzzing on PostgreSQL only. Without a server every test runs on SQLite.
# Branch coverage counts both passes; without PostgreSQL the code only it runs (COPY,
# partitions) goes uncovered, so the SQLite pass alone is held to a lower floor.
# Each pass spreads the tests over one process per core (pytest-xdist); an idle process takes
# tests queued for a busy one, so one long file does not set the pace. Screenshots of the main
# pages land in artifacts/screenshots/.
PARALLEL := -n auto --dist worksteal
COVER := --cov --cov-report= --cov-fail-under=0
# The slowest tests of each pass, so that a slow one is seen where it lands.
DURATIONS := --durations=25
test: lint browser pdf-libraries wrk
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== SQLite: unit, integration, API (no fuzzing)"; \
		env -u TEST_DATABASE_URL $(BIN)/pytest $(PARALLEL) $(COVER) $(DURATIONS) -m "not fuzz" \
			tests/unit tests/integration tests/api || exit 1; \
		echo "== PostgreSQL ($$TEST_DATABASE_URL): integration, API, pages, browser, fuzzing"; \
		$(BIN)/pytest $(PARALLEL) $(COVER) $(DURATIONS) --cov-append \
			tests/integration tests/api tests/web tests/e2e || exit 1; \
	else \
		$(BIN)/pytest $(PARALLEL) $(COVER) || exit 1; \
	fi
	$(BIN)/coverage report $(if $(TEST_DATABASE_URL),,--fail-under=95.5)

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
