# Shortcuts for the analyst and developers; each target uses the project's .venv (made by setup.sh).
PY := .venv/bin/python

.PHONY: setup run all test lab bench lint

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

bench: setup
	$(PY) bench/bench.py

lint:
	$(PY) -m ruff check .
