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


def test_leave_one_out_rings_on_the_worst_quiet_month_only():
    quiet = pd.Series([1.0, 2.0, 3.0, 2.5], index=["a", "b", "c", "d"])
    rings = alerting.leave_one_out(quiet, budget=0)
    assert rings.to_dict() == {"a": False, "b": False, "c": True, "d": False}
    # a budget of one: each month against the second largest of the others, so two of four ring
    assert alerting.leave_one_out(quiet, budget=1).to_dict() == {"a": False, "b": False, "c": True, "d": True}


def test_a_false_alarm_rate_comes_with_its_exact_interval():
    rate, low, high = alerting.rate_interval(1, 23)
    assert rate == pytest.approx(1 / 23) and 0.001 < low < 0.002 and 0.21 < high < 0.23
    assert alerting.rate_interval(0, 10)[1] == 0.0
    with pytest.raises(ValueError, match="no months"):
        alerting.rate_interval(0, 0)


def test_false_alarms_are_counted_on_months_that_did_not_set_the_threshold():
    monitor = pd.DataFrame({"x": [1.0, 2.0, 3.0, 1.5, 2.9, 3.5]}, index=[f"m{i}" for i in range(6)])
    detector = alerting.Detector("x", "x", 0, True)
    split = alerting.split_false_alarms(monitor, ["m0", "m1", "m2"], ["m3", "m4", "m5"], [detector])
    assert split.loc["x", "threshold"] == 3.0 and split.loc["x", "false_alarms"] == 1
    loo = alerting.loo_false_alarms(monitor, list(monitor.index), [detector])
    assert loo.loc["x", "false_alarms"] == 1 and loo.loc["x", "months"] == 6


def test_detect_uses_the_baseline_and_stops_at_the_end():
    monitor = pd.DataFrame({"x": [1.0, 2.0, 5.0, 1.0, 9.0]}, index=["2022-11", "2022-12", "2023-01",
                                                                     "2023-02", "2023-03"])
    detector = alerting.Detector("x", "x", 3, False)
    found = alerting.detect(monitor, ["2022-11", "2022-12"], "2023-01", "2023-03", [detector])
    assert found.loc["x"].to_dict() == {"threshold": 2.0, "flagged_month": "2023-01", "known_month": "2023-04",
                                       "delay_months": 3}
    later = alerting.detect(monitor, ["2022-11", "2022-12", "2023-01"], "2023-02", "2023-03", [detector])
    assert later.loc["x", "flagged_month"] is None


def test_multiplicity_corrections_count_fewer_discoveries():
    p = pd.DataFrame([[0.01, 0.02, 0.03, 0.5], [0.2, 0.3, 0.04, 0.9]], index=["m1", "m2"])
    assert alerting.significant(p).tolist() == [3, 1]
    assert alerting.significant(p, correction="bonferroni").tolist() == [1, 0]
    assert alerting.significant(p, correction="bh").tolist() == [3, 0]
    assert alerting.chance_of_any(15) == pytest.approx(1 - 0.95 ** 15)
    with pytest.raises(ValueError, match="unknown correction"):
        alerting.significant(p, correction="holm")
