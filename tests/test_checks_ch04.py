"""Workbook 4's checks, tried as a newcomer would: the metrics of a confusion
matrix are a function run on matrices the learner has not seen; plausible
mistakes get their own message; a right answer rounded as a person would passes."""
import pandas as pd
import pytest

from mlecourse.checks import ____, grade
from mlecourse.checks import ch04_model_development as c4


def verdict(ex_id, answer):
    result = grade(ex_id, answer)
    return result.outcome, result.message


def by_hand(confusion):
    tp = confusion.loc["defaulted", "refused"]
    fp = confusion.loc["repaid", "refused"]
    fn = confusion.loc["defaulted", "approved"]
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def test_4_1_accepts_the_metrics_computed_by_hand_and_rounded_to_three_decimals():
    assert verdict("4.1", by_hand)[0] == "correct"
    assert verdict("4.1", lambda c: {k: round(float(v), 3) for k, v in by_hand(c).items()})[0] == "correct"


def test_4_1_the_workbooks_numbers_alone_are_not_the_function_asked_for():
    outcome, message = verdict("4.1", c4.ref_prf())
    assert outcome == "incorrect" and "expected a function" in message.lower()


def test_4_1_cells_read_by_position_fail_on_a_matrix_in_another_order():
    def by_position(confusion):
        (tn, fp), (fn, tp) = confusion.to_numpy()
        return by_hand(pd.DataFrame([[tn, fp], [fn, tp]], index=c4.OUTCOMES, columns=c4.DECISIONS))
    outcome, message = verdict("4.1", by_position)
    assert outcome == "incorrect" and "by their labels" in message


def test_4_1_no_refusal_at_all_is_precision_zero_not_nan():
    def naive(confusion):
        tp = confusion.loc["defaulted", "refused"]
        fp = confusion.loc["repaid", "refused"]
        fn = confusion.loc["defaulted", "approved"]
        precision, recall = tp / (tp + fp), tp / (tp + fn)
        return {"precision": precision, "recall": recall, "f1": 2 * precision * recall / (precision + recall)}
    with pytest.warns(RuntimeWarning):
        outcome, message = verdict("4.1", naive)
    assert outcome == "incorrect" and "0 / 0" in message


def test_4_1_two_decimals_are_told_to_give_three_without_a_hint():
    outcome, message = verdict("4.1", lambda c: {k: round(float(v), 2) for k, v in by_hand(c).items()})
    assert outcome == "incorrect" and "give at least 3 decimals" in message and "hint(" not in message


@pytest.mark.parametrize("wrong", ["a", "c", "d"])
def test_4_2_a_wrong_reading_does_not_name_the_right_one(wrong):
    outcome, message = verdict("4.2", wrong)
    assert outcome == "incorrect"
    assert "overestimat" not in message and "too high" not in message and "below the diagonal" not in message


def test_4_3_a_position_in_the_list_of_thresholds_is_not_a_threshold():
    import numpy as np
    from mlecourse.lender import business

    def position(defaulted, scores):
        thresholds = np.linspace(0, 1, 1001)
        return int(np.argmin([business.decision_cost(defaulted, scores > t) for t in thresholds]))
    outcome, message = verdict("4.3", position)
    assert outcome == "incorrect" and "not a threshold between 0 and 1" in message


def test_4_4_costs_to_the_unit_are_right_swapped_ones_are_not():
    ref = c4.ref_leak()
    assert verdict("4.4", {k: round(v) for k, v in ref.items()})[0] == "correct"
    outcome, message = verdict("4.4", {"shuffled": ref["time"], "time": ref["shuffled"]})
    assert outcome == "incorrect" and "swapped" in message


@pytest.mark.parametrize("ex_id", ["4.1", "4.2", "4.3", "4.4", "4.5"])
def test_placeholder_is_not_attempted(ex_id):
    assert verdict(ex_id, ____)[0] == "not attempted"
