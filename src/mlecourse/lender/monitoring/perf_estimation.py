"""Model performance by month: measured once labels arrive, estimated before they do.

Measured (:func:`realised`): AUC, the observed default rate next to the mean
predicted probability (calibration), and the business cost of the decisions.

Estimated without labels (:func:`estimated`), the idea of NannyML's
confidence-based performance estimation (CBPE): if the scores are
calibrated, a score *is* the probability that the loan defaults, so the
expected number of defaults, the expected AUC and the expected cost of the
decisions follow from the scores alone. Calibration is learnt once on a
labelled reference window (isotonic regression, as NannyML does).

What it can and cannot see, and why: it sees a *covariate* shift's effect,
because new kinds of applicants get new scores; it cannot see *concept*
drift, because the same inputs get the same scores while their true risk
changed. No method without labels can: the change is in P(y | x), and only
y reveals it.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import roc_auc_score

from mlecourse.lender.business import COSTS, Costs, decision_cost


def fit_calibrator(scores, defaulted) -> IsotonicRegression:
    """Isotonic map from the model's score to an observed default rate, on a labelled window."""
    return IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(
        np.asarray(scores, float), np.asarray(defaulted, float))


def expected_auc(probabilities, scores=None) -> float:
    """The AUC the scores would have if each loan defaulted with its probability.

    Every (defaulter, non-defaulter) pair is weighted by p_i (1 - p_j): the
    chance that i defaults and j does not. ``scores`` ranks the loans (default:
    the probabilities themselves); ties count one half, as in the AUC.
    """
    p = np.asarray(probabilities, float)
    s = p if scores is None else np.asarray(scores, float)
    if p.size < 2:
        raise ValueError("the expected AUC needs at least two scored loans")
    order = np.argsort(s, kind="stable")
    p, s = p[order], s[order]
    q = 1 - p
    # for each loan: the non-default weight of loans scored strictly lower, and of ties
    _, first, counts = np.unique(s, return_index=True, return_counts=True)
    cum_q = np.concatenate([[0.0], np.cumsum(q)])
    lower = np.repeat(cum_q[first], counts)
    tied = np.repeat(cum_q[first + counts] - cum_q[first], counts) - q  # other loans with the same score
    numerator = np.sum(p * (lower + 0.5 * tied))
    denominator = p.sum() * q.sum() - np.sum(p * q)
    return float(numerator / denominator)


def expected_cost(probabilities, refuse, costs: Costs = COSTS) -> float:
    """Expected cost per application of the decisions, if the probabilities are right."""
    p = np.asarray(probabilities, float)
    r = np.asarray(refuse, bool)
    return float(np.mean(np.where(r, (1 - p) * costs.wrong_refusal, p * costs.missed_default)))


def estimated(frame: pd.DataFrame, calibrator: IsotonicRegression, threshold: float = COSTS.threshold,
              month: str = "month") -> pd.DataFrame:
    """Per month, from scores alone: estimated default rate, AUC and cost of the decisions."""
    rows = []
    for key, part in frame.groupby(month, sort=True):
        p = calibrator.predict(part["score"].to_numpy())
        refuse = part["score"].to_numpy() > threshold
        rows.append({"month": key, "mean_score": part["score"].mean(), "est_default_rate": p.mean(),
                     "est_auc": expected_auc(p, part["score"]), "est_cost": expected_cost(p, refuse),
                     "refusal_rate": refuse.mean()})
    return pd.DataFrame(rows).set_index("month")


def realised(frame: pd.DataFrame, threshold: float = COSTS.threshold, month: str = "month",
             label: str = "defaulted") -> pd.DataFrame:
    """Per month, with labels: AUC, default rate vs mean score, cost; months without labels are NaN."""
    rows = []
    for key, part in frame.groupby(month, sort=True):
        known = part[part[label].notna()]
        row = {"month": key, "labelled": len(known), "default_rate": np.nan, "auc": np.nan, "cost": np.nan,
               "mean_score": part["score"].mean()}
        if len(known) and known[label].nunique() == 2:
            y = known[label].astype(int).to_numpy()
            row.update(default_rate=y.mean(), auc=roc_auc_score(y, known["score"]),
                       cost=decision_cost(y, known["score"].to_numpy() > threshold))
        rows.append(row)
    return pd.DataFrame(rows).set_index("month")
