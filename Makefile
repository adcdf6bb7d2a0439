# fengqiao: `make demo` runs the demo county, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export FENGQIAO_PORT ?= $(PORT)

.PHONY: demo serve test test-fast check bench messages clean

$(BIN)/fengqiao: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

## Set everything up from a fresh clone and serve the demo on http://127.0.0.1:$(PORT)
demo: $(BIN)/fengqiao
	./scripts/ensure-fonts.sh
	$(BIN)/fengqiao demo $(DEMO_ARGS)

serve: $(BIN)/fengqiao
	./scripts/ensure-fonts.sh
	$(BIN)/fengqiao serve

## Every test: SQLite, a real PostgreSQL server and headless Chromium (installed when missing)
test: $(BIN)/fengqiao
	./scripts/ensure-test-services.sh
	$(BIN)/python -m pytest -p no:cacheprovider -n 2 --dist loadfile

## Quick loop without the PostgreSQL and browser tests
test-fast: $(BIN)/fengqiao
	$(BIN)/python -m pytest -p no:cacheprovider -m "not postgres and not browser"

check: $(BIN)/fengqiao
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy src

bench: $(BIN)/fengqiao
	./scripts/ensure-test-services.sh
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	@for script in benchmarks/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

## Re-extract messages and update the catalogues (translate, then `make messages` again to compile)
messages: $(BIN)/fengqiao
	$(BIN)/pybabel extract -F babel.cfg -k _ -k gettext -k N_ --no-location --sort-output --project fengqiao -o src/fengqiao/locale/messages.pot .
	$(BIN)/pybabel update -i src/fengqiao/locale/messages.pot -d src/fengqiao/locale -D messages --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile -d src/fengqiao/locale -D messages

clean:
	rm -rf $(VENV) fengqiao.db fengqiao.db-wal fengqiao.db-shm
