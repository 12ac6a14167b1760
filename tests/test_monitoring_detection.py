"""The measured claim of the monitoring chapter, as a test: each injected change is found
at its documented date by the detectors that can see it, and a threshold's false alarms
are counted on quiet months that did not set it. Scores are computed in process (the
chapter does the same through the service)."""
import pytest

from mlecourse.lender.data import loans as spec, validation
from mlecourse.lender.modeling import model_cache
from mlecourse.lender.monitoring import alerting, drift
from mlecourse.lender.data.loading import load_loans
from mlecourse.lender.features import CATEGORICAL, RAW_FEATURES, clean_loans, split_by_date


@pytest.fixture(scope="module")
def world():
    raw = load_loans()
    loans, _ = clean_loans(raw)
    train = split_by_date(loans)[0]
    model = model_cache.trained(train)
    later = loans[loans["application_date"] >= "2021-01-01"]
    later = later[later["application_date"].dt.strftime("%Y-%m") != spec.INCIDENT_MONTH]  # quarantined
    month = later["application_date"].dt.strftime("%Y-%m")
    scored = later.assign(month=month, score=model.predict_proba(later[list(RAW_FEATURES)])[:, 1])
    monthly = scored.groupby("month").agg(mean_score=("score", "mean"), early_rate=("early_delinquency", "mean"),
                                          default_rate=("defaulted", "mean"))
    table = drift.drift_table(train, later, RAW_FEATURES, categorical=CATEGORICAL)
    monthly["max_psi"] = table.groupby("month")["psi"].max()
    return {"raw": raw, "train": train, "monthly": monthly}


def quiet(index):
    return [m for m in index if m < spec.COVARIATE_DRIFT_START[:7]]


def first_half(index):
    return [m for m in index if spec.COVARIATE_DRIFT_START[:7] <= m < spec.CONCEPT_DRIFT_START[:7]]


@pytest.mark.parametrize("column", ["max_psi", "mean_score", "default_rate"])
def test_the_campaign_is_found_in_its_first_month_by_a_threshold_set_before_going_live(world, column):
    series = world["monthly"][column]
    threshold = alerting.threshold_for_budget(series[[m for m in series.index if m < "2022-01"]], budget=0)
    assert alerting.detection(series, threshold, "2023-01")["flagged_month"] == "2023-01"


@pytest.mark.parametrize("column", ["max_psi", "mean_score", "default_rate", "early_rate"])
def test_left_out_of_its_own_threshold_each_quiet_month_can_ring(world, column):
    series = world["monthly"][column]
    rings = alerting.leave_one_out(series[quiet(series.index)], budget=0)
    assert rings.sum() == 1 and rings.idxmax() == series[quiet(series.index)].idxmax()


@pytest.mark.parametrize("column, lag, known", [("early_rate", 3, "2023-10"), ("default_rate", 12, "2024-07")])
def test_the_downturn_is_found_when_its_labels_allow(world, column, lag, known):
    series = world["monthly"][column]
    threshold = alerting.threshold_for_budget(series[first_half(series.index)], budget=0)
    assert alerting.detection(series, threshold, "2023-07", lag)["known_month"] == known


def test_no_label_free_view_sees_the_downturn(world):
    series = world["monthly"]["mean_score"]
    threshold = alerting.threshold_for_budget(series[first_half(series.index)], budget=0)
    after = series[(series.index >= "2023-07") & (series.index < "2024-01")]
    assert alerting.flagged(after, threshold) == []


def test_the_incident_is_stopped_by_validation_and_only_it(world):
    raw, reference = world["raw"], validation.Reference.from_frame(world["train"])
    month = raw["application_date"].dt.strftime("%Y-%m")
    rejected = [m for m in [f"2022-{i:02d}" for i in range(1, 13)]
                if validation.validate_batch(raw[month == m], reference).rejected]
    assert rejected == [spec.INCIDENT_MONTH]
