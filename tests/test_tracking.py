"""MLflow tracking on a temporary SQLite store: runs carry their provenance."""
import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from mlecourse.lender.data import fingerprints
from mlecourse.lender.mlops import tracking
from mlecourse.paths import ROOT  # noqa: E402


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mlflow")
    tracking.use_store(folder)
    return folder


def test_a_run_records_params_metrics_provenance_and_a_plot(store, tiny_frame):
    figure, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    run_id = tracking.log_candidate("logistic", params={"C": 1.0}, metrics={"auc": 0.8},
                                    train_frame=tiny_frame, figure=figure)
    plt.close(figure)
    runs = tracking.runs()
    row = runs.set_index("run_id").loc[run_id]
    assert row["params.C"] == "1.0" and row["metrics.auc"] == 0.8
    assert row["tags.data_fingerprint"] == fingerprints.data_fingerprint(tiny_frame)
    assert row["tags.lock_sha256"] == tracking.lock_hash() and len(row["tags.lock_sha256"]) == 64
    assert row["tags.git_commit"] != ""
    assert (store / "artifacts").exists()
    assert any(p.name == "plot.png" for p in store.rglob("plot.png"))


def test_search_runs_filters_and_orders(store, tiny_frame):
    for name, auc in [("a", 0.70), ("b", 0.90)]:
        tracking.log_candidate(name, params={}, metrics={"auc": auc}, train_frame=tiny_frame)
    best = tracking.runs("metrics.auc >= 0.85", order_by=["metrics.auc DESC"])
    assert best.iloc[0]["tags.mlflow.runName"] == "b"


def test_using_the_same_store_twice_is_fine(store):
    assert tracking.use_store(store) == tracking.use_store(store)


def test_a_run_without_metrics_is_refused(store, tiny_frame):
    with pytest.raises(tracking.TrackingError, match="no metrics"):
        tracking.log_candidate("empty", params={}, metrics={}, train_frame=tiny_frame)


def test_git_commit_says_uncommitted_or_a_sha(tmp_path):
    assert tracking.git_commit(tmp_path) == "no git"
    value = tracking.git_commit()
    assert value.startswith("uncommitted (") or len(value) == 40 or value == "no git"


def test_the_store_never_lives_in_the_repository():
    with pytest.raises(tracking.TrackingError, match="out of the repository"):
        tracking.store_uri(ROOT / "mlruns")
    assert tracking.store_uri(ROOT / "work" / "mlflow-test").startswith("sqlite:///")


def test_a_store_that_cannot_be_read_is_one_line_naming_the_file(store, tmp_path):
    database = tmp_path / tracking.STORE_FILE
    database.write_bytes(b"not a database " * 100)  # a half-copied backup, a file overwritten
    with pytest.raises(tracking.TrackingError) as error:
        tracking.use_store(tmp_path)
    message = str(error.value)
    assert str(database) in message and "\n" not in message and "file is not a database" in message
    assert "restore it from a backup" in message and f"mv {database} {database}.broken" in message
    import mlflow

    assert mlflow.get_tracking_uri() == tracking.store_uri(store), "the store in use stays in use"
