"""The closed loop, for seven months: the first model served from the registry, a month replayed
through it, a scheduled run with nothing new to judge on skipped, a run once six months of outcomes
have matured, and the service started again from the champion alias, checked through /version."""
import pandas as pd
import pytest

from mlecourse.lender.data.loading import load_loans
from mlecourse.lender.features import clean_loans
from mlecourse.lender.mlops import closed_loop, registry
from mlecourse.lender.monitoring import predlog


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    folder = tmp_path_factory.mktemp("loop")
    raw = load_loans()
    loans, _ = clean_loans(raw)
    legacy = loans[loans["application_date"] < "2023-01-01"]  # the book before the loop starts
    conn = predlog.connect(folder / "log.sqlite")
    settings = closed_loop.Settings(kind="logistic", every_months=3)
    running = closed_loop.Loop(raw, legacy, folder / "mlflow", conn, settings=settings)
    first = running.start(psi_threshold=1.0)  # drift never triggers here: the calendar does
    events = running.run("2023-01", "2023-07")
    yield running, first, events, conn
    running.close()


def test_the_first_model_serves_from_the_registry(loop):
    running, first, events, _ = loop
    assert first.decision.promote and first.windows["as_of"] == "fixed split"
    assert running.client.get("/version").json()["version"] == registry.load_checked(registry.CHAMPION)[1]["version"]


def test_every_month_is_replayed_and_funded_loans_only_get_outcomes(loop):
    _, _, events, conn = loop
    assert list(events.index) == [f"2023-0{m}" for m in range(1, 8)] and (events["scored"] > 500).all()
    view = predlog.known_as_of(conn, "2025-12-31")
    assert view.loc[view["funded"] == 0, "defaulted"].isna().all()


def test_the_calendar_runs_the_pipeline_only_when_a_new_cohort_has_matured(loop):
    running, _, events, _ = loop
    runs = events[events["trigger"] != ""]
    assert list(runs.index) == ["2023-04", "2023-07"]
    assert runs.loc["2023-04", "run"].startswith("nothing new: 3 month(s)")
    ran = runs.loc["2023-07"]
    assert ran["new_months"] == 6 and ran["run"].startswith("version ")
    assert ran["evaluated"] == "2022-01-01" and ran["train_last"] == "2021-12-31"
    assert ran["deployed"] == registry.load_checked(registry.CHAMPION)[1]["version"]
    assert running.reports[-1].windows["as_of"] == "2023-06-30"


def test_the_drift_rule_measures_against_the_serving_model_s_training_window(loop):
    running, _, events, _ = loop
    assert pd.isna(events.loc["2023-01", "max_psi"])  # nothing logged before going live
    assert events["max_psi"].iloc[1:].notna().all() and events.loc["2023-02", "max_psi"] > 0.05  # the campaign
    assert running.max_psi("2019-01") is None
