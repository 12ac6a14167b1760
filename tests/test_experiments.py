"""The experiment record: fingerprints that change when the data does, a
code version without git, and a tidy table."""
import pandas as pd
import pytest

from mlecourse.lender import experiments

FRAME = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})


def test_fingerprint_is_stable_and_sensitive_to_values_order_and_types():
    same = experiments.data_fingerprint(FRAME.copy())
    assert same == experiments.data_fingerprint(FRAME) and len(same) == 12
    assert experiments.data_fingerprint(FRAME.assign(a=[1, 2, 4])) != same
    assert experiments.data_fingerprint(FRAME.iloc[::-1]) != same
    assert experiments.data_fingerprint(FRAME.astype({"a": "float64"})) != same
    assert experiments.data_fingerprint(FRAME.rename(columns={"a": "c"})) != same
    with pytest.raises(TypeError):
        experiments.data_fingerprint([1, 2])


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
