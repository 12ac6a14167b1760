"""Workbook 6's checks accept answers rounded as a person would, and reject boundary mutants."""
import numpy as np

from mlecourse.checks import grade
from mlecourse.checks import ch06_monitoring as c


def test_threshold_rounded_to_three_decimals_is_accepted_two_is_not():
    want = c.ref_threshold()
    assert grade("6.3", round(want, 3)).outcome == "correct"
    coarse = grade("6.3", round(want, 2))
    assert coarse.outcome == "incorrect" and "more decimals" in coarse.message


def test_the_threshold_is_a_quiet_value_with_exactly_the_budget_above():
    quiet = c.quiet_months()
    assert (quiet > c.ref_threshold()).sum() == c.BUDGET
    assert (quiet >= c.ref_threshold()).sum() == c.BUDGET + 1  # a `>=` mutant counts one more


def test_drifting_features_in_any_order_and_container():
    names = c.ref_drifting()
    assert grade("6.2", tuple(reversed(names))).outcome == "correct"
    assert grade("6.2", names + ["region"]).outcome == "incorrect"


def test_known_count_boundary_mutant_differs():
    assert c.ref_known_count(strict=True) < c.ref_known_count()
    assert grade("6.5", c.ref_known_count() + 1).outcome == "incorrect"


def test_policy_totals_rounded_to_thousands_are_accepted():
    rounded = c.ref_policy_totals().round(-3)
    assert grade("6.6", rounded).outcome == "correct"
    assert grade("6.6", rounded * 1.01).outcome == "incorrect"


def test_psi_written_with_np_where_for_empty_bins_is_accepted():
    def psi(expected, actual):
        e = np.asarray(expected, float) / np.sum(expected)
        a = np.asarray(actual, float) / np.sum(actual)
        e, a = np.where(e < c.EPSILON, c.EPSILON, e), np.where(a < c.EPSILON, c.EPSILON, a)
        return float(((a - e) * np.log(a / e)).sum())
    assert grade("6.1", psi).outcome == "correct"
