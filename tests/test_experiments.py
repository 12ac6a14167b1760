"""The experiment record: fingerprints that change when the data does, a
code version without git, and a tidy table."""
import pandas as pd
import pytest

from mlecourse.lender.data import fingerprints
from mlecourse.lender.modeling import experiments

FRAME = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})


def test_each_data_set_is_logged_by_the_systems_own_fingerprint():
    log = experiments.ExperimentLog()
    log.log("a", params={}, data={"train": FRAME}, metrics={"auc": 0.8})
    log.log("b", params={}, data={"train": FRAME.assign(a=[1, 2, 4])}, metrics={"auc": 0.8})
    table = log.table()
    assert table.loc[1, "data.train"] == fingerprints.data_fingerprint(FRAME)[:12]
    assert table.loc[2, "data.train"] != table.loc[1, "data.train"]


def test_code_version_names_the_package_and_follows_the_source():
    version = experiments.code_version()
    assert version.startswith(experiments.__version__ + "+src.")
    assert version == experiments.code_version()
    assert experiments.code_version(("mlecourse.lender.features",)) != version


def test_log_makes_one_tidy_row_per_run():
    log = experiments.ExperimentLog()
    log.log("first", params={"C": 1.0, "kind": "logistic"}, data={"train": FRAME},
            metrics={"auc": 0.8}, code="v1")
    log.log("second", params={"C": 0.1, "depth": None, "grid": [1, 2]}, data={"train": FRAME},
            metrics={"auc": 0.7, "cost": 250})
    table = log.table()
    assert len(log) == 2 and list(table.index) == [1, 2]
    assert list(table.columns[:2]) == ["name", "code_version"]
    assert {"params.C", "params.kind", "params.depth", "metrics.auc", "metrics.cost", "data.train"} \
        <= set(table.columns)
    assert table.loc[1, "code_version"] == "v1" and table.loc[2, "params.grid"] == "[1, 2]"
    assert pd.isna(table.loc[1, "metrics.cost"])  # not measured in run 1
    assert table["data.train"].nunique() == 1


def test_a_run_without_metrics_or_name_is_refused():
    log = experiments.ExperimentLog()
    with pytest.raises(ValueError, match="no metrics"):
        log.log("x", params={}, data={}, metrics={})
    with pytest.raises(ValueError, match="name"):
        log.log("", params={}, data={}, metrics={"a": 1})
    assert log.table().empty
