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
	.venv/bin/jupyter lab notebooks/

bench: setup
	$(PY) bench/bench.py

lint:
	$(PY) -m ruff check .
