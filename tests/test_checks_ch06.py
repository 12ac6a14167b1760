"""Workbook 6's checks: the answers newcomers gave, each submitted as they gave it, accepted when
right (rounded as a person rounds) and refused, with a message that does not mislead, when wrong."""
import json

import numpy as np
import pandas as pd

from mlecourse import paths
from mlecourse.checks import grade
from mlecourse.checks import ch06_monitoring as c


def test_a_psi_rounded_to_two_decimals_is_right_and_to_one_is_told_so():
    assert grade("6.1", lambda e, a: round(c.ref_psi(e, a), 2)).outcome == "correct"
    coarse = grade("6.1", lambda e, a: round(c.ref_psi(e, a), 1))
    assert coarse.outcome == "incorrect" and "rounded to 1 decimal" in coarse.message


def test_psi_written_with_np_where_for_empty_bins_is_accepted():
    def psi(expected, actual):
        e = np.asarray(expected, float) / np.sum(expected)
        a = np.asarray(actual, float) / np.sum(actual)
        e, a = np.where(e < c.EPSILON, c.EPSILON, e), np.where(a < c.EPSILON, c.EPSILON, a)
        return float(((a - e) * np.log(a / e)).sum())
    assert grade("6.1", psi).outcome == "correct"


def test_a_detector_on_rounded_values_is_right_and_no_message_quotes_a_rule_of_thumb():
    def rounded(series, quiet, budget):
        series = series.round(3)
        threshold = sorted(series[list(quiet)], reverse=True)[budget]
        return [m for m in series.index if m not in quiet and series[m] > threshold]
    assert grade("6.2", rounded).outcome == "correct"
    folklore = grade("6.2", lambda s, q, b: [m for m in s.index if m not in q and s[m] > 0.25])
    assert folklore.outcome == "incorrect" and "0.25" not in folklore.message and "0.1" not in folklore.message


def test_a_detector_that_counts_a_month_at_the_threshold_is_told_the_rule():
    def at_least(series, quiet, budget):
        threshold = sorted(series[list(quiet)], reverse=True)[budget]
        return [m for m in series.index if m not in quiet and series[m] >= threshold]
    result = grade("6.2", at_least)
    assert result.outcome == "incorrect" and "strictly greater" in result.message


def test_false_alarms_counted_on_the_months_that_set_the_threshold_are_refused():
    result = grade("6.3", c._in_sample)
    assert result.outcome == "incorrect" and "leave the month out" in result.message
    values = pd.Series([0.01, 0.05, 0.03, 0.02], index=list("abcd"))
    assert c.ref_left_out_alarms(values, 0) == 1 and c._in_sample(values, 0) == 0


def test_the_incident_exercise_warns_that_a_missing_field_is_absent_from_the_json():
    book = json.loads((paths.ROOT / "solutions" / c.WORKBOOK).read_text())
    statement = next("".join(cell["source"]) for cell in book["cells"] if "6.4 ·" in "".join(cell["source"]))
    assert ".get(" in statement and "KeyError" in statement
    conn = c.exercise_log()
    texts = [t for (t,) in conn.execute("SELECT inputs FROM predictions")]
    conn.close()
    assert any("annual_income" not in json.loads(t) for t in texts), "the warning must be needed"


def test_known_outcomes_on_the_day_itself_and_never_for_a_refusal():
    assert grade("6.5", c._strictly_before).outcome == "incorrect"
    small = c._small_log()
    assert c.ref_known_outcomes(small, "2023-03-15") == 2 and c._strictly_before(small, "2023-03-15") == 0
    assert c.ref_known_outcomes(small, "2025-01-01") == 5  # six scored, one refused and never known


def test_policy_totals_rounded_as_a_report_rounds_them_are_right():
    want = c.ref_policy_totals()
    for rounded in (want.round(-3), want.round(-4), (want / 1e6).round(2) * 1e6):
        assert grade("6.6", rounded).outcome == "correct", grade("6.6", rounded).line()
    assert grade("6.6", want.round(-5)).outcome == "incorrect"
    millions = grade("6.6", (want / 1e6).round(2))
    assert millions.outcome == "incorrect" and "millions" in millions.message


def test_the_weighted_cost_refuses_the_unweighted_mean_and_accepts_cents():
    unweighted = grade("6.7", c._unweighted)
    assert unweighted.outcome == "incorrect" and "1 / propensity" in unweighted.message
    assert grade("6.7", lambda f: round(c.ref_weighted_cost(f), 2)).outcome == "correct"
