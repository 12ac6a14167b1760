"""Alert thresholds from a budget of false alarms, and when a change is detected and known."""
import pandas as pd
import pytest

from mlecourse.lender.monitoring import alerting

SERIES = pd.Series([1.0, 2.0, 3.0, 2.5, 9.0, 9.5], index=["2022-01", "2022-02", "2022-03", "2022-04",
                                                       "2023-01", "2023-02"])


def test_threshold_leaves_exactly_the_budget_over_it():
    stable = SERIES[:4]
    assert alerting.threshold_for_budget(stable, 0) == 3.0
    assert alerting.flagged(stable, alerting.threshold_for_budget(stable, 0)) == []
    assert alerting.flagged(stable, alerting.threshold_for_budget(stable, 1)) == ["2022-03"]


def test_detection_and_its_delay_with_a_label_lag():
    found = alerting.detection(SERIES, 3.0, "2023-01", lag_months=12)
    assert found == {"flagged_month": "2023-01", "known_month": "2024-01", "delay_months": 12}
    assert alerting.detection(SERIES, 100, "2023-01")["flagged_month"] is None


def test_bad_budgets_and_empty_series_are_refused():
    with pytest.raises(ValueError, match="budget"):
        alerting.threshold_for_budget(SERIES, 6)
    with pytest.raises(ValueError, match="empty"):
        alerting.threshold_for_budget(pd.Series([float("nan")]), 0)
