"""Workbook 3's checks, tried as a newcomer would: costs and scores rounded as
a person would are right, rounded too far are told so (not sent to a hint), and
the functions' mistakes get their message on rows the learner has not seen."""
import math

import pytest

from mlecourse.checks import ____, grade
from mlecourse.checks import ch03_lifecycle_features as c3


def verdict(ex_id, answer):
    result = grade(ex_id, answer)
    return result.outcome, result.message


@pytest.mark.parametrize("answer", [round(c3.ref_rule_cost(), 2), math.trunc(c3.ref_rule_cost() * 100) / 100,
                                    c3.ref_rule_cost()])
def test_3_1_the_cost_to_the_cent_is_right(answer):
    assert verdict("3.1", answer)[0] == "correct"


def test_3_1_the_cost_to_the_unit_is_told_to_give_cents_without_a_hint():
    outcome, message = verdict("3.1", round(c3.ref_rule_cost()))
    assert outcome == "incorrect" and "give at least 2 decimals" in message and "hint(" not in message


def test_3_2_a_sorted_split_is_told_to_keep_the_input_order():
    outcome, message = verdict("3.2", c3._sorted_split)
    assert outcome == "incorrect" and "order" in message


def test_3_3_an_auc_to_three_decimals_is_right_to_two_is_told_without_a_hint():
    leak, auc = c3.ref_leak()
    assert verdict("3.3", (leak, round(auc, 3)))[0] == "correct"
    assert verdict("3.3", (leak.upper(), auc))[0] == "correct"
    outcome, message = verdict("3.3", (leak, round(auc, 2)))
    assert outcome == "incorrect" and "give at least 3 decimals" in message and "hint(" not in message


@pytest.mark.parametrize("column", ["bureau_enquiries_6m", "months_at_address"])
def test_3_3_a_wrong_column_is_explained_without_naming_the_leak(column):
    outcome, message = verdict("3.3", (column, c3.ref_leak()[1]))
    assert outcome == "incorrect" and c3.LEAK not in message


def test_3_5_a_channel_repaired_before_the_check_is_caught():
    outcome, message = verdict("3.5", c3._lower_cases_channel)
    assert outcome == "incorrect" and "not one of the exact values" in message


@pytest.mark.parametrize("ex_id", ["3.1", "3.2", "3.3", "3.4", "3.5"])
def test_placeholder_is_not_attempted(ex_id):
    assert verdict(ex_id, ____)[0] == "not attempted"
