# The course's commands. `make help` lists them.
# Everything runs inside .venv, which `make` creates from the pinned lock file.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
UV_VERSION := 0.13.8
# Proves the environment matches the lock file; rebuilt when either changes.
STAMP  := $(VENV)/.installed
export MLFLOW_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := 1
export PYTHONHASHSEED := 0
# One OpenMP thread per process: the tests run two notebooks at once on two
# cores, and gradient boosting's threads fighting over them made a 0.3 s fit
# take over a minute. One process alone loses little (the data is small).
export OMP_NUM_THREADS ?= 1
# JupyterLab: no extension manager (it would query PyPI), and allow root,
# as workshop machines and containers often run as root.
LAB_FLAGS := --LabApp.extension_manager=readonly $(if $(filter 0,$(shell id -u)),--allow-root,)

.DEFAULT_GOAL := help
.PHONY: help setup book book-nosolutions test exercises lab doctor bench bench-service model serve pipeline mlflow-ui bench-scale clean

help:  ## list the commands
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 20

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: '$(PYTHON)' not found. Install Python 3.11 or newer, or run e.g. 'make PYTHON=python3.12 ...'"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "error: this course needs Python 3.11 or newer; '$(PYTHON)' is $$($(PYTHON) -V 2>&1). Install a newer Python, then run e.g. 'make PYTHON=python3.11 ...'"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --python $(BIN)/python --require-hashes -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

setup: $(STAMP)  ## create .venv and install the pinned dependencies

book: $(STAMP)  ## build the site into _build/html (with solutions)
	$(BIN)/python -m mlecourse.course.build
	@echo "Open file://$(CURDIR)/_build/html/index.html"

book-nosolutions: $(STAMP)  ## build the site without solutions, for a workshop
	$(BIN)/python -m mlecourse.course.build --no-solutions
	@echo "Open file://$(CURDIR)/_build/html/index.html"

test: $(STAMP)  ## everything: notebooks, workbooks, checks, data, the book
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

exercises: $(STAMP)  ## regenerate exercises/ from solutions/
	$(BIN)/python -m mlecourse.course.workbooks generate

lab: $(STAMP)  ## open JupyterLab on your own copies of the workbooks (in work/)
	$(BIN)/python -m mlecourse.course.workbooks copy-to-work
	cd work && ../$(BIN)/jupyter lab $(LAB_FLAGS)

doctor: $(STAMP)  ## check this machine is ready for the course
	$(BIN)/python -m mlecourse.course.doctor

bench: $(STAMP)  ## time every notebook and its slowest cell
	$(BIN)/python -m mlecourse.course.bench

bench-service: $(STAMP)  ## time the model service: latency, throughput, overhead vs the raw model
	$(BIN)/python -m mlecourse.lender.loadtest

model: $(STAMP)  ## train the course model into models/loan-default (what the Dockerfile copies)
	$(BIN)/python -m mlecourse.lender.artifact --out models/loan-default --version 1.0.0

models/loan-default/model.json: | $(STAMP)
	$(BIN)/python -m mlecourse.lender.artifact --out models/loan-default --version 1.0.0

serve: models/loan-default/model.json  ## run the model service on http://127.0.0.1:8000 (Ctrl-C stops it)
	$(BIN)/python -m mlecourse.lender.serving --model-dir models/loan-default --host 127.0.0.1 --port 8000

REASON ?= manual
pipeline: $(STAMP)  ## validate, train, evaluate, gate, register, promote (Dagster; store in work/mlflow)
	$(BIN)/python -m mlecourse.lender.pipeline --reason "$(REASON)"

mlflow-ui: $(STAMP)  ## the MLflow UI over work/mlflow on http://127.0.0.1:5000 (starts in 30-65 s)
	@mkdir -p work/mlflow
	MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false $(BIN)/mlflow server --host 127.0.0.1 --port 5000 \
		--backend-store-uri sqlite:///$(CURDIR)/work/mlflow/mlflow.db --workers 1

bench-scale: $(STAMP)  ## batch scoring, pandas vs a Dask LocalCluster, up to 10 million rows
	$(BIN)/python -m mlecourse.lender.batch_scoring --rows 10000000

clean:  ## remove the built site and caches (keeps .venv)
	rm -rf _build .pytest_cache
