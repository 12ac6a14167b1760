"""Shared test set-up.

Notebooks are run by the course's pytest plugin (``mlecourse.course.nbtest``,
loaded in pyproject's addopts), which gives each notebook's kernel its
environment, including what a workbook's checks must say: "correct" in
solutions/ and "not attempted" in exercises/.
"""
import os

os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
# As in the Makefile: two notebooks run at once on two cores; one OpenMP
# thread each, or their thread pools fight (kernels inherit this).
os.environ.setdefault("OMP_NUM_THREADS", "1")
