"""Shared test set-up.

A workbook's checks must all say "correct" in solutions/ and "not attempted"
in exercises/ (which proves no check accepts the placeholder). The check
function reads the expectation from the environment, which the kernel that
nbmake starts for each notebook inherits.
"""
import os
from pathlib import Path

import pytest

from mlecourse.checks.core import EXPECT_ENV

os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
# As in the Makefile: two notebooks run at once on two cores; one OpenMP
# thread each, or their thread pools fight (kernels inherit this).
os.environ.setdefault("OMP_NUM_THREADS", "1")

EXPECTATIONS = {"solutions": "correct", "exercises": "not_attempted"}


def pytest_runtest_setup(item: pytest.Item) -> None:
    path = Path(str(item.fspath))
    expect = EXPECTATIONS.get(path.parent.name) if path.suffix == ".ipynb" else None
    if expect:
        os.environ[EXPECT_ENV] = expect
    else:
        os.environ.pop(EXPECT_ENV, None)


@pytest.fixture(scope="session")
def tiny_frame():
    """2019-2020 loans, cleaned: enough to train the course's models in about a second."""
    from mlecourse.lender import features
    from mlecourse.lender.data import load_loans

    clean, _ = features.clean_loans(load_loans())
    return features.split_by_date(clean)[0]


@pytest.fixture(scope="session")
def loan_windows():
    """(train 2019-2020, validate 2021), cleaned."""
    from mlecourse.lender import features
    from mlecourse.lender.data import load_loans

    clean, _ = features.clean_loans(load_loans())
    train, valid, _test = features.split_by_date(clean)
    return train, valid


@pytest.fixture(scope="session")
def course_model(loan_windows):
    from mlecourse.lender import modeling

    return modeling.train_model(loan_windows[0], "boosting")
