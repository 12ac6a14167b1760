"""The evaluation helpers agree with scikit-learn and with brute force, and
refuse input they cannot evaluate."""
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import precision_score, recall_score, roc_auc_score

from mlecourse.lender.modeling import evaluation
from mlecourse.lender.business import COSTS, Costs, decision_cost

rng = np.random.default_rng(0)
Y = rng.random(500) < 0.15
SCORES = np.clip(0.1 + 0.5 * Y + rng.normal(0, 0.2, 500), 0, 1).round(2)  # ties on purpose


def test_cost_curve_matches_decision_cost_at_every_threshold():
    thresholds = [0.0, 0.1, 1 / 6, 0.3, 0.55, 1.0]
    curve = evaluation.cost_curve(Y, SCORES, thresholds)
    for t, cost in zip(thresholds, curve["cost"]):
        assert cost == pytest.approx(decision_cost(Y, SCORES > t))
    assert list(curve.columns) == ["threshold", "refusal_rate", "missed_defaults",
                                   "wrong_refusals", "cost"]


def test_cost_curve_ends_refuse_everyone_and_approve_everyone():
    curve = evaluation.cost_curve([0, 1, 1, 0], [0.2, 0.8, 0.5, 0.1], [-1, 1])
    assert curve["refusal_rate"].tolist() == [1.0, 0.0]
    assert curve["cost"].tolist() == [COSTS.wrong_refusal / 2, COSTS.missed_default / 2]


def test_best_threshold_is_the_brute_force_minimum():
    grid = np.round(np.linspace(0, 1, 101), 2)
    costs = [decision_cost(Y, SCORES > t) for t in grid]
    best = evaluation.best_threshold(Y, SCORES, grid)
    assert decision_cost(Y, SCORES > best) == pytest.approx(min(costs))
    assert best == grid[int(np.argmin(costs))]


def test_best_threshold_moves_with_the_costs():
    cheap_refusals = Costs(missed_default=5000, wrong_refusal=100)
    assert evaluation.best_threshold(Y, SCORES, costs=cheap_refusals) <= \
        evaluation.best_threshold(Y, SCORES)


def test_classification_metrics_agree_with_sklearn():
    m = evaluation.classification_metrics(Y, SCORES, threshold=0.3)
    assert m["roc_auc"] == pytest.approx(roc_auc_score(Y, SCORES))
    assert m["precision"] == pytest.approx(precision_score(Y, SCORES > 0.3))
    assert m["recall"] == pytest.approx(recall_score(Y, SCORES > 0.3))
    assert m["f1"] == pytest.approx(2 * m["precision"] * m["recall"] / (m["precision"] + m["recall"]))
    assert m["brier"] == pytest.approx(np.mean((SCORES - Y) ** 2))
    assert m["cost"] == pytest.approx(decision_cost(Y, SCORES > 0.3))


def test_a_constant_score_has_auc_one_half_and_refuses_nobody_below_threshold():
    m = evaluation.classification_metrics(Y, np.full(len(Y), 0.1))
    assert m["roc_auc"] == 0.5 and m["refusal_rate"] == 0 and m["recall"] == 0
    assert m["cost"] == pytest.approx(Y.mean() * COSTS.missed_default)


def test_metrics_table_has_one_row_per_model_in_order():
    table = evaluation.metrics_table(Y, {"b": SCORES, "a": 1 - SCORES})
    assert list(table.index) == ["b", "a"] and table.loc["b", "roc_auc"] > 0.5 > table.loc["a", "roc_auc"]
    with pytest.raises(ValueError, match="no models"):
        evaluation.metrics_table(Y, {})


def test_metrics_by_slice_counts_rows_and_handles_a_one_class_slice():
    groups = np.where(np.arange(500) < 10, "tiny", np.where(np.arange(500) % 2, "odd", "even"))
    y = Y.copy()
    y[:10] = False  # the tiny slice has no default: AUC undefined, not an error
    table = evaluation.metrics_by_slice(y, SCORES, groups)
    assert table["rows"].sum() == 500 and list(table.index) == ["even", "odd", "tiny"]
    assert np.isnan(table.loc["tiny", "roc_auc"]) and table.loc["tiny", "default_rate"] == 0
    assert table.loc["odd", "mean_score"] == pytest.approx(SCORES[10:][1::2].mean())
    assert "tiny" not in evaluation.metrics_by_slice(y, SCORES, groups, min_rows=11).index


@pytest.mark.parametrize("y,s,phrase", [
    ([0, 1], [0.5], "differ in length"),
    ([], [], "no applications"),
    ([0, 2], [0.1, 0.2], "0 or 1"),
    ([0, 1], [0.1, np.nan], "NaN"),
])
def test_bad_input_is_refused_with_a_reason(y, s, phrase):
    with pytest.raises(ValueError, match=phrase):
        evaluation.cost_curve(y, s)


def test_time_ordered_folds_train_only_on_the_past_whatever_the_row_order():
    dates = pd.Series(pd.date_range("2020-01-01", periods=120, freq="D")).sample(frac=1, random_state=1)
    folds = evaluation.time_ordered_folds(dates.to_numpy(), n_splits=3)
    assert len(folds) == 3
    values = dates.to_numpy()
    for train, valid in folds:
        assert values[train].max() < values[valid].min()
        assert not set(train) & set(valid)
    assert [len(v) for _, v in folds] == [30, 30, 30]
    with pytest.raises(ValueError, match="missing"):
        evaluation.time_ordered_folds([pd.NaT, pd.Timestamp("2020-01-01")], 1)
