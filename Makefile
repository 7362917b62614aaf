# Shortcuts for the analyst and developers; each target uses the project's .venv (made by setup.sh).
PY := .venv/bin/python

.PHONY: setup run all test lab bench bench-writers lint

setup:
	bash setup.sh

run: setup
	$(PY) -m wennuan_lib run --year 2013

all: setup
	$(PY) -m wennuan_lib run --all

test: setup
	$(PY) -m pytest

lab: setup
	# the executed notebooks were made by this program: trust them, so that their tables are interactive
	-.venv/bin/jupyter trust $(wildcard outputs/*/notebooks/*.ipynb) >/dev/null 2>&1
	.venv/bin/jupyter lab notebooks/

# make bench UNITS=30 PAIRS=3 for a quick check; the real numbers: make bench on a quiet machine
UNITS ?= 30 300 3000
PAIRS ?= 3
bench: setup
	$(PY) bench/bench.py --units $(UNITS) --pairs $(PAIRS)

bench-writers: setup
	$(PY) bench/writers.py --units 3000 --pairs $(PAIRS)

lint:
	$(PY) -m ruff check .
