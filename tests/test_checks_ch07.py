"""Workbook 7's checks: the answers newcomers gave, each submitted as they gave it, refused with a
message that does not give the answer away, and the gate's check refusing every shortcut."""
import hashlib
import re

import numpy as np
import pandas as pd
import pytest

from mlecourse.checks import grade
from mlecourse.checks import ch07_mlops as c


def test_a_directional_test_on_the_first_hundred_rows_only_is_refused():
    def first_rows(model, frame):
        head = frame.head(100).copy()
        head["annual_income"] = head["annual_income"] * 1.5
        return bool(np.all(model.predict_proba(head)[:, 1] - model.predict_proba(frame.head(100))[:, 1] <= 0.001))
    result = grade("7.2", first_rows)
    assert result.outcome == "incorrect" and "one region" in result.message


def test_a_directional_test_that_multiplies_income_by_150_is_refused():
    def times_150(model, frame):
        richer = frame.copy()
        richer["annual_income"] = richer["annual_income"] * 150
        return bool(np.all(model.predict_proba(richer)[:, 1] - model.predict_proba(frame)[:, 1] <= 0.001))
    assert grade("7.2", times_150).outcome == "incorrect"


def test_an_xor_of_row_hashes_is_refused_a_row_added_twice_cancels_out():
    def xor(frame):
        ordered = frame[sorted(frame.columns)]
        rows = pd.util.hash_pandas_object(ordered, index=False).to_numpy()
        return hashlib.sha256(",".join(ordered.columns).encode() + np.bitwise_xor.reduce(rows).tobytes()).hexdigest()
    result = grade("7.3", xor)
    assert result.outcome == "incorrect" and "added twice" in result.message


def _gate(*, auc_op="ge", auc_drop=c.MAX_AUC_DROP, margin=c.MARGIN, interval=True, cost_slack=0.0):
    def should_promote(candidate, champion):
        if candidate["parity_gap"] > c.MAX_GAP:
            return False
        if champion is None:
            return True
        if cost_slack:  # "not dearer than 0.1% above the champion"
            return np.mean(candidate["costs"]) <= np.mean(champion["costs"]) * (1 + cost_slack)
        differences = np.asarray(candidate["costs"]) - np.asarray(champion["costs"])
        bound = c.bootstrap_upper(differences) if interval else float(np.mean(differences))
        floor = champion["auc"] - auc_drop
        auc_ok = candidate["auc"] >= floor if auc_op == "ge" else candidate["auc"] > floor
        return bound < -margin and auc_ok
    return should_promote


@pytest.mark.parametrize("gate,what", [
    (_gate(auc_op="gt"), "an AUC comparison made strict at the boundary"),
    (_gate(auc_drop=0.0055), "an AUC tolerance of 0.0055"),
    (_gate(cost_slack=0.001), "a cost allowed 0.1% higher"),
    (_gate(margin=0.0), "a gate that ignores the margin"),
    (_gate(interval=False), "a gate that ignores the interval"),
])
def test_the_gate_check_refuses_each_shortcut(gate, what):
    assert grade("7.4", gate).outcome == "incorrect", what
    assert grade("7.4", _gate()).outcome == "correct"


def test_no_maturity_message_names_the_level_and_e_has_the_validation_level_one_needs():
    for key, level in c.LEVELS.items():
        for wrong in {0, 1, 2} - {level}:
            result = grade("7.5", {**c.LEVELS, key: wrong})
            assert result.outcome == "incorrect"
            assert not re.search(r"level \d", result.message), result.message
            assert "waits for a person" not in result.message
    assert "validates" in c.SCENARIOS["e"] and c.LEVELS["e"] == 1


def test_the_store_check_refuses_an_alias_on_the_dearer_version():
    result = grade("7.1", c._copy_of_reference(c._alias_on_the_dearer))
    assert result.outcome == "incorrect" and "not the cheapest" in result.message


def test_the_dvc_check_refuses_a_project_with_analytics_on():
    result = grade("7.6", c._changed_project(c._analytics_on))
    assert result.outcome == "incorrect" and "analytics" in result.message
