"""Measuring a credit model the way the lender pays for it.

The production side of the chapter "Model development". A model gives a
score (a probability of default) per application; the lender acts on a
decision (refuse when the score is above a threshold). So there are two
kinds of measure, and this module keeps them apart:

* **ranking and probability quality**, which need no threshold: ROC AUC,
  PR AUC (average precision), the Brier score and the log loss;
* **decision quality** at a threshold: precision, recall, F1, the share of
  applications refused, and the expected cost per application under
  :data:`mlecourse.lender.business.COSTS`.

Everything refuses when ``score > threshold`` (strictly above), the same
convention as :func:`mlecourse.lender.business.decision_cost`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import (average_precision_score, brier_score_loss, f1_score, log_loss,
                             precision_score, recall_score, roc_auc_score)
from sklearn.model_selection import TimeSeriesSplit

from mlecourse.lender.business import COSTS, Costs, decision_cost

# The thresholds tried by default: every 0.001 from 0 to 1.
THRESHOLDS = np.round(np.linspace(0.0, 1.0, 1001), 3)


def _arrays(y_true, scores) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true)
    s = np.asarray(scores, dtype=float)
    if y.ndim != 1 or s.ndim != 1:
        raise ValueError("outcomes and scores must be one-dimensional")
    if y.shape != s.shape:
        raise ValueError(f"outcomes and scores differ in length: {y.shape} vs {s.shape}")
    if y.size == 0:
        raise ValueError("no applications to evaluate")
    if np.isnan(s).any():
        raise ValueError("scores contain NaN")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("outcomes must be 0 or 1 (1 = defaulted)")
    return y.astype(bool), s


def cost_curve(y_true, scores, thresholds=None, costs: Costs = COSTS) -> pd.DataFrame:
    """The expected cost per application at each threshold (refuse if score > threshold).

    One row per threshold: the share refused, the counts of missed defaults
    and wrong refusals, and the average cost. Vectorised: one sort, however
    many thresholds.
    """
    y, s = _arrays(y_true, scores)
    t = np.asarray(THRESHOLDS if thresholds is None else thresholds, dtype=float)
    order = np.argsort(s, kind="stable")
    sorted_scores, sorted_y = s[order], y[order]
    # rows with score <= t are approved: how many of them, and how many defaulted
    approved = np.searchsorted(sorted_scores, t, side="right")
    defaults_approved = np.concatenate([[0], np.cumsum(sorted_y)])[approved]
    good_refused = (len(y) - y.sum()) - (approved - defaults_approved)
    cost = (defaults_approved * costs.missed_default + good_refused * costs.wrong_refusal) / len(y)
    return pd.DataFrame({"threshold": t, "refusal_rate": 1 - approved / len(y),
                         "missed_defaults": defaults_approved, "wrong_refusals": good_refused,
                         "cost": cost})


def best_threshold(y_true, scores, thresholds=None, costs: Costs = COSTS) -> float:
    """The threshold with the lowest expected cost (the lowest such threshold on a tie)."""
    curve = cost_curve(y_true, scores, thresholds, costs)
    return float(curve["threshold"].iloc[int(np.argmin(curve["cost"].to_numpy()))])


def classification_metrics(y_true, scores, threshold: float = COSTS.threshold,
                           costs: Costs = COSTS) -> dict[str, float]:
    """Ranking, probability and decision metrics of one model's scores.

    AUCs need both outcomes present; with only one they are NaN rather than
    an error, so that a small slice does not stop a report.
    """
    y, s = _arrays(y_true, scores)
    refuse = s > threshold
    both = 0 < y.sum() < len(y)
    return {
        "roc_auc": float(roc_auc_score(y, s)) if both else np.nan,
        "pr_auc": float(average_precision_score(y, s)) if both else np.nan,
        "brier": float(brier_score_loss(y, np.clip(s, 0, 1))),
        "log_loss": float(log_loss(y, np.clip(s, 1e-6, 1 - 1e-6), labels=[False, True])),
        "precision": float(precision_score(y, refuse, zero_division=0)),
        "recall": float(recall_score(y, refuse, zero_division=0)),
        "f1": float(f1_score(y, refuse, zero_division=0)),
        "refusal_rate": float(refuse.mean()),
        "cost": decision_cost(y, refuse, costs),
    }


def metrics_table(y_true, scores_by_model: dict, threshold: float = COSTS.threshold,
                  costs: Costs = COSTS) -> pd.DataFrame:
    """One row per model (the dict's keys, in order), one column per metric."""
    if not scores_by_model:
        raise ValueError("no models to compare")
    rows = {name: classification_metrics(y_true, scores, threshold, costs)
            for name, scores in scores_by_model.items()}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")


def metrics_by_slice(y_true, scores, groups, threshold: float = COSTS.threshold,
                     costs: Costs = COSTS, min_rows: int = 1) -> pd.DataFrame:
    """The metrics of :func:`classification_metrics` for each value of ``groups``.

    Adds ``rows``, ``default_rate`` and ``mean_score`` (compare the two: a
    gap is miscalibration in that slice). Slices smaller than ``min_rows``
    are left out. Sorted by slice value.
    """
    y, s = _arrays(y_true, scores)
    g = pd.Series(np.asarray(groups, dtype=object))
    if len(g) != len(y):
        raise ValueError(f"groups and outcomes differ in length: {len(g)} vs {len(y)}")
    rows = {}
    for value, index in g.groupby(g, sort=True, dropna=False).indices.items():
        if len(index) < min_rows:
            continue
        rows[value] = {"rows": len(index), "default_rate": float(y[index].mean()),
                       "mean_score": float(s[index].mean()),
                       **classification_metrics(y[index], s[index], threshold, costs)}
    return pd.DataFrame.from_dict(rows, orient="index")


def time_ordered_folds(dates, n_splits: int = 3) -> list[tuple[np.ndarray, np.ndarray]]:
    """Expanding-window folds in date order, as positions into ``dates``.

    scikit-learn's :class:`~sklearn.model_selection.TimeSeriesSplit` on the
    rows sorted by date: each fold trains on everything before its
    validation block. The rows need not be sorted; the positions returned
    refer to the original order, so the list can be passed as ``cv=`` to any
    scikit-learn search or ``cross_validate``.
    """
    d = pd.to_datetime(pd.Series(dates)).to_numpy()
    if pd.isna(d).any():
        raise ValueError("dates contain missing values")
    order = np.argsort(d, kind="stable")
    return [(order[train], order[valid])
            for train, valid in TimeSeriesSplit(n_splits=n_splits).split(order)]
