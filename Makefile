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
	$(BIN)/fiducia serve --host $(HOST) --port $(PORT)

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

# The whole suite on SQLite (whatever TEST_DATABASE_URL says); then, when TEST_DATABASE_URL
# names a PostgreSQL server, every database-backed test again on a throwaway database created
# on that server. Branch coverage counts both passes: code only PostgreSQL runs (COPY,
# partitions) is covered by the second. Screenshots of the main pages land in
# artifacts/screenshots/.
# Each pass spreads the tests over one process per core (pytest-xdist); an idle process takes
# tests queued for a busy one, so one long file (the API fuzzing) does not set the pace.
PARALLEL := -n auto --dist worksteal
test: lint browser pdf-libraries wrk
	env -u TEST_DATABASE_URL $(BIN)/pytest $(PARALLEL) --cov --cov-report= --cov-fail-under=0
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL ($$TEST_DATABASE_URL)"; \
		$(BIN)/pytest $(PARALLEL) --cov --cov-append --cov-report= --cov-fail-under=0 \
			tests/integration tests/api tests/web tests/e2e; \
	fi
	@# Without PostgreSQL the code only it runs (COPY, partitions) goes uncovered: a lower floor.
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
