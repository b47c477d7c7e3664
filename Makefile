# Every target creates and uses the local virtual environment in .venv/.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CLI := $(PY) -m bike_bench.cli.main
PYTEST_ARGS ?=

# Optional inputs of `make reproduce`.
DATA_ROOT ?=
CHECKPOINTS ?=
RERUN ?=

.PHONY: install test reproduce reproduce-reference tables bench ci-regression doctor clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	$(PY) -c "import bike_bench.models"
	touch $(STAMP)

test: install
	$(PY) -m pytest -q $(PYTEST_ARGS)

# Measures the smoke suite on this machine into work_dirs/reproduce/runs, builds
# tables there and prints the agreement with the committed results/runs.
reproduce: install
	$(CLI) reproduce $(if $(DATA_ROOT),--data-root $(DATA_ROOT)) $(if $(CHECKPOINTS),--checkpoints $(CHECKPOINTS)) $(if $(RERUN),--rerun)

# Maintainers: regenerate the committed reference runs and tables.
reproduce-reference: install
	$(CLI) reproduce --runs-dir results/runs --rerun

tables: install
	$(CLI) tables

bench: install
	$(CLI) bench

ci-regression: install
	$(CLI) ci-regression

doctor: install
	$(CLI) doctor

clean:
	rm -rf $(VENV) work_dirs .pytest_cache
