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
# reproduce on a cluster (README, "On a Slurm cluster"): EXECUTOR=local|slurm
EXECUTOR ?=
PARTITION ?=
GPUS ?= $(if $(filter slurm,$(EXECUTOR)),8)
TIMEOUT_MIN ?= $(if $(filter slurm,$(EXECUTOR)),240)
TRAIN ?=

.PHONY: install ffmpeg-libs test reproduce reproduce-reference tables bench ci-regression doctor clean gpu-wheels

install: ffmpeg-libs $(STAMP)

# FFmpeg's shared libraries for the torchcodec backend (Debian's ffmpeg when
# missing; a no-op when present).
ffmpeg-libs:
	@bash scripts/ensure_ffmpeg.sh

$(STAMP): pyproject.toml requirements.txt requirements-openmmlab.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-openmmlab.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	$(PY) -c "import bike_bench.models"
	touch $(STAMP)

test: install
	$(PY) -m pytest -q $(PYTEST_ARGS)

# Measures the smoke suite on this machine into work_dirs/reproduce/runs, builds
# tables there and prints the agreement with the reference runs (results/runs,
# shipped with the package).
reproduce: install
	$(CLI) reproduce $(if $(DATA_ROOT),--data-root $(DATA_ROOT)) $(if $(CHECKPOINTS),--checkpoints $(CHECKPOINTS)) $(if $(RERUN),--rerun) \
	    $(if $(EXECUTOR),--executor $(EXECUTOR)) $(if $(PARTITION),--partition $(PARTITION)) \
	    $(if $(GPUS),--gpus-per-node $(GPUS)) $(if $(TIMEOUT_MIN),--timeout-min $(TIMEOUT_MIN)) $(if $(TRAIN),--train)

# Maintainers: regenerate the committed reference runs and tables (and the
# tables index of results/README.md); the only targets that write results/.
reproduce-reference: install
	$(CLI) reproduce --runs-dir results/runs --readme results/README.md --rerun

tables: install
	$(CLI) tables --runs-dir results/runs --out results/tables --readme results/README.md

bench: install
	@$(PY) -c "import subprocess as s, sys, time; once = lambda t: (s.run([sys.executable, '-m', 'bike_bench.cli.main', '--help'], stdout=s.DEVNULL, check=True), time.perf_counter() - t)[1]; print(f'bike-bench --help start-up: {min(once(time.perf_counter()) for _ in range(3)):.2f} s (best of 3)')"
	$(CLI) bench

gpu-wheels:  # wheels for the GPU machine's Python 3.12 into .whl/ (results/README.md)
	scripts/gpu_wheels.sh $(if $(wildcard $(PY)),$(PY),$(PYTHON))

ci-regression: install
	$(CLI) ci-regression

doctor: install
	$(CLI) doctor

clean:
	rm -rf $(VENV) work_dirs .pytest_cache
