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

# JupyterLab at the project's folder: notebooks/, inputs/ and outputs/ in its file browser, in Chinese; its
# terminals open there with the venv active, so the commands the notebooks print work as typed (setup.sh). The
# notebooks a run executes are trusted by the run itself (wennuan_lib/run/kernel.py: trust).
lab: setup
	@echo "【JupyterLab】项目文件夹：notebooks/ 各步笔记本（在这里运行、登记豁免或更正），inputs/ 原始材料与登记表，"
	@echo "  outputs/<年度>/ 结果（其中 notebooks/ 是运行时执行过的笔记本）。在 JupyterLab 的终端中可直接运行："
	@echo "  python -m wennuan_lib run --year 2013"
	.venv/bin/jupyter lab --ServerApp.root_dir="$(CURDIR)"

# make bench UNITS=30 PAIRS=3 for a quick check; the real numbers: make bench on a quiet machine
UNITS ?= 30 300 3000
PAIRS ?= 3
bench: setup
	$(PY) bench/bench.py --units $(UNITS) --pairs $(PAIRS)

bench-writers: setup
	$(PY) bench/writers.py --units 3000 --pairs $(PAIRS)

lint:
	$(PY) -m ruff check .
