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

.DEFAULT_GOAL := help
.PHONY: help setup bundle-test-wheels slides pages book book-nosolutions test test-fast exercises lab capstone-check doctor bench bench-hint bench-book bench-service model serve alerts clean site-shots site-offline browser-tools model-card progress reset bundle pipeline mlflow-ui bench-scale llm-eval

help:  ## list the commands
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 20

# PYTHON given on the command line or in the environment, once .venv exists,
# must be the Python .venv was made with: a silently ignored PYTHON= means a
# learner debugging the wrong interpreter. Refused in one line with the fix.
define check_venv_python
	@if [ "$(origin PYTHON)" != "default" ] && [ -x $(BIN)/python ]; then \
	  want=$$($(PYTHON) -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null); \
	  have=$$($(BIN)/python -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])'); \
	  if [ "$$want" != "$$have" ]; then \
	    echo "error: $(VENV) was made with Python $$have; PYTHON=$(PYTHON) ($${want:-not found}) is not used for it."; \
	    echo "       Keep $(VENV): drop PYTHON=. Switch: 'rm -rf $(VENV) && make setup PYTHON=$(PYTHON)' (reinstalls from the local cache; offline, use the attendee bundle)."; \
	    exit 1; \
	  fi; \
	fi
endef

# llama-cpp-python is published as source only: installing it compiles llama.cpp
# (chapter 9's model runtime). These options skip what the course never loads
# (the multimodal library, tools, examples, tests, server, HTTPS downloads) and
# target any x86-64 CPU with AVX2 rather than this machine's exact one, so the
# wheel uv caches (and `make bundle` ships) runs on another laptop. Measured on
# 2 cores: see README ("Setting up"). uv does not key its cache on CMAKE_ARGS:
# after changing them, `uv cache clean llama-cpp-python` forces a rebuild.
export CMAKE_ARGS ?= -DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_OPENSSL=OFF

# --compile-bytecode: write every library's .pyc at install time, as pip does
# (uv does not by default). Without it, a machine with PYTHONDONTWRITEBYTECODE
# set (as the course's CI machines are) compiles pandas, scikit-learn and the
# rest again in every new process: `mlecourse hint` took 7.6 s instead of 4.3 s.
define install
	@command -v $(PYTHON) >/dev/null 2>&1 || test -x $(BIN)/python || { echo "error: '$(PYTHON)' not found. Install Python 3.11 or newer, or run e.g. 'make PYTHON=python3.12 ...'"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "error: this course needs Python 3.11 or newer; '$(PYTHON)' is $$($(PYTHON) -V 2>&1). Install a newer Python, then run e.g. 'make PYTHON=python3.11 ...'"; exit 1; }
	$(check_venv_python)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m uv --version >/dev/null 2>&1 || { echo "Installing uv $(UV_VERSION), the installer the course uses ..."; $(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION); }
	@$(BIN)/python -c "import llama_cpp" 2>/dev/null || echo "Installing the pinned packages. llama-cpp-python is compiled from source the first time (not again while uv keeps the wheel): about 470 CPU-seconds, 4 minutes on two idle cores, 0.6 GB of memory."
	@echo "Installing the $$(grep -c '^[a-z0-9]' requirements.lock) packages pinned in requirements.lock into $(VENV): about 1.4 GB, minutes the first time (mostly downloading), seconds after. uv shows each step below."
	$(BIN)/python -m uv pip install --compile-bytecode --python $(BIN)/python --require-hashes -r requirements.lock
	$(BIN)/python -m uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)
endef

# The stamp proves the environment matches the lock file; other targets depend
# on it, so they install only when the lock or pyproject changed.
$(STAMP): requirements.lock pyproject.toml
	$(install)

# `make setup` itself always installs, then repairs what the doctor finds
# broken (a package whose files were deleted keeps its metadata, and only a
# reinstall restores it). Both work offline from uv's cache.
setup:  ## create .venv and install the pinned dependencies (again: repairs a broken one)
	$(install)
	$(BIN)/python -m mlecourse.course.cli doctor --fix --quiet

book: $(STAMP)  ## build the site into _build/html (with solutions)
	$(BIN)/python -m mlecourse.course.build
	@echo "Open file://$(CURDIR)/_build/html/index.html"

book-nosolutions: $(STAMP)  ## build the site without solutions, for a workshop
	$(BIN)/python -m mlecourse.course.build --no-solutions

# The browser check's own tools: axe-core from npm (pinned by its lock file).
AXE := tools/browser/node_modules/axe-core/axe.min.js
$(AXE): tools/browser/package.json tools/browser/package-lock.json
	cd tools/browser && npm ci --no-audit --no-fund
	@touch $(AXE)

slides: $(STAMP)  ## one slide deck per chapter in _build/slides (offline HTML; runs the notebooks the cache lacks)
	$(BIN)/python -m mlecourse.course.slides

pages: book book-nosolutions slides  ## the published site in _build/pages: the course, workshop/ and slides/
	$(BIN)/python -m mlecourse.course.pages

browser-tools: $(AXE)  ## install axe-core (npm) for the browser tests; needs Debian's chromium

site-shots: $(STAMP)  ## a PNG of the top of every page (and each chapter's first plot) in _build/shots/
	$(BIN)/python -m mlecourse.course.site_check shots

site-offline: $(STAMP)  ## a copy of the built site that opens from file:// with no network, in _build/offline/
	$(BIN)/python -m mlecourse.course.site_check offline
	$(BIN)/python -m mlecourse.course.site_check offline --no-solutions

# The bundle test installs with two interpreters; the lock pins a few packages
# differently for them, and the version this .venv lacks must be downloaded
# while there is a network (.ci/run makes this before cutting it).
BUNDLE_TEST_WHEELS := _build/bundle-test-wheels/foreign.lock
$(BUNDLE_TEST_WHEELS): requirements.lock tests/bundle_wheels.py | $(STAMP)
	$(BIN)/python tests/bundle_wheels.py

bundle-test-wheels: $(BUNDLE_TEST_WHEELS)  ## download the few wheels the bundle test cannot rebuild from .venv

test: $(STAMP) $(BUNDLE_TEST_WHEELS)  ## everything: notebooks, workbooks, checks, data, the book
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

test-fast: $(STAMP)  ## the unit tests only (no notebooks, site builds, bundles or browsers): the edit-test loop
	$(BIN)/lint-imports
	$(BIN)/python -m pytest tests -m "not slow"

exercises: $(STAMP)  ## regenerate exercises/ from solutions/
	$(BIN)/mlecourse exercises

lab: $(STAMP)  ## open JupyterLab on your own copies of the workbooks (in work/)
	$(BIN)/mlecourse start

progress: $(STAMP)  ## which exercises in work/ are correct, not attempted, incorrect
	$(BIN)/mlecourse progress $(CHAPTER)

capstone-check: $(STAMP)  ## grade the capstone's folder (work/capstone, or FOLDER=...) without changing it
	$(BIN)/mlecourse capstone check $(FOLDER)

reset: $(STAMP)  ## restore workbook CHAPTER=NN from exercises/, saving yours in work/backups/
	@test -n "$(CHAPTER)" || { echo "error: say which workbook, e.g. 'make reset CHAPTER=3'"; exit 2; }
	$(BIN)/mlecourse reset $(CHAPTER)

doctor:  ## check this machine is ready for the course
	$(check_venv_python)
	@test -x $(BIN)/python || { echo "error: no $(VENV) yet: run 'make setup' first"; exit 1; }
	$(BIN)/python -m mlecourse.course.cli doctor

bench: $(STAMP)  ## time every notebook (or those named: make bench chapters/05_deployment.ipynb)
	$(BIN)/python -m mlecourse.course.bench $(BENCHED)

bundle: $(STAMP)  ## write the attendee bundle for a workshop without network (instructors; see README)
	$(BIN)/mlecourse bundle $(BUNDLE_FLAGS)

# `make bench chapters/05_deployment.ipynb`: the notebook is an argument, not a target to make.
BENCHED := $(filter %.ipynb,$(MAKECMDGOALS))
ifneq ($(filter bench,$(MAKECMDGOALS)),)
.PHONY: help setup bundle-test-wheels slides pages book book-nosolutions test test-fast exercises lab capstone-check doctor bench bench-hint bench-book bench-service model serve alerts clean site-shots site-offline browser-tools model-card progress reset bundle pipeline mlflow-ui bench-scale llm-eval
$(BENCHED): ; @:
endif

bench-hint: $(STAMP)  ## time `mlecourse hint 8.2` and `mlecourse hint 99.9`, with the machine's calibration (budget 5 units)
	$(BIN)/python -m mlecourse.course.bench --hint

bench-book: $(STAMP)  ## time a cold `make book` on a fresh clone, then a rebuild after one markdown edit
	$(BIN)/python -m mlecourse.course.bench --book

bench-service: $(STAMP)  ## the model service before and after hardening (1-64 clients; a storm on /explain), with the machine's calibration
	$(BIN)/python -m mlecourse.course.bench --service --before-after
	$(BIN)/python -m mlecourse.course.bench --service --explain-storm

model: $(STAMP)  ## train the course model into models/loan-default (what the Dockerfile copies)
	$(BIN)/python -m mlecourse.lender.modeling.artifact --out models/loan-default --version 1.0.0

models/loan-default/model.json: | $(STAMP)
	$(BIN)/python -m mlecourse.lender.modeling.artifact --out models/loan-default --version 1.0.0

serve: models/loan-default/model.json  ## run the model service on http://127.0.0.1:8000 (Ctrl-C stops it)
	$(BIN)/python -m mlecourse.lender.service --model-dir models/loan-default --host 127.0.0.1 --port 8000

llm-eval: $(STAMP)  ## chapter 9's evaluation on every labelled item (SmolLM2, offline; generations cached in _build/llm-cache)
	$(BIN)/python -m mlecourse.lender.llm.harness --out _build/llm-eval.csv

alerts:  ## check and unit-test the Prometheus alert rules with promtool (apt-get install prometheus)
	cd deploy/prometheus && promtool check rules alerts.yml && promtool test rules alerts_test.yml

model-card: $(STAMP)  ## regenerate docs/model_card.md from the model and its fairness audit
	$(BIN)/python -m mlecourse.lender.responsible.model_card

REASON ?= manual
pipeline: $(STAMP)  ## validate, train, evaluate, gate, register, promote, as of today or AS_OF=YYYY-MM-DD (Dagster; store in work/mlflow)
	$(BIN)/python -m mlecourse.lender.mlops.orchestration --reason "$(REASON)" $(if $(AS_OF),--as-of "$(AS_OF)")

mlflow-ui: $(STAMP)  ## the MLflow UI over work/mlflow on http://127.0.0.1:5000 (starts in 30-65 s)
	@mkdir -p work/mlflow
	MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false $(BIN)/mlflow server --host 127.0.0.1 --port 5000 \
		--backend-store-uri sqlite:///$(CURDIR)/work/mlflow/mlflow.db --workers 1

bench-scale: $(STAMP)  ## batch scoring, pandas vs a Dask LocalCluster, up to 10 million rows
	$(BIN)/python -m mlecourse.lender.serving.batch_scoring --rows 10000000

clean:  ## remove the built site and caches (keeps .venv)
	rm -rf _build .pytest_cache
