"""Which outcomes a lender sees, and how to see past them.

A lender learns whether a loan is repaid only for the loans it made. An
applicant the model refused never borrows, so "would they have repaid?" has
no answer in any table: the labels are *selective* (Lakkaraju et al., 2017).
Everything measured on outcomes (the AUC, the default rate, the cost of the
decisions, the rows a retrained model learns from) is then measured on the
approved only, and misses exactly the mistakes a refusal makes.

The standard remedy is a small **random-approval holdout**: a documented
share of the applications the model would refuse is approved anyway, chosen
at random. Their outcomes stand for all refused applicants, each weighing
``1 / share`` (inverse-propensity weighting): the estimates are unbiased,
noisier, and cost money, since most holdout loans are riskier than the
lender would like. :func:`holdout_cost` puts a number on that.

Columns this module reads (the prediction log's, :mod:`predlog`): ``score``,
``decision`` ("approve"/"refuse", the model's), ``funded`` (the lender made
the loan), ``propensity`` (the probability that an application with this
decision was funded: 1 for an approval, the holdout share for a refusal),
``defaulted`` (known for funded loans only).
"""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from mlecourse.lender.business import COSTS, Costs

HOLDOUT_SHARE = 0.05  # of the applications the model refuses, approved anyway to learn from
HOLDOUT_SALT = "random-approval holdout"  # the draw is a hash of the id: the same on every replay


def holdout_draw(application_ids, salt: str = HOLDOUT_SALT) -> np.ndarray:
    """A number in [0, 1) per application, uniform and fixed by its id (not by the order of rows)."""
    def draw(app_id) -> float:
        digest = hashlib.sha256(f"{salt}:{app_id}".encode()).hexdigest()
        return int(digest[:13], 16) / 16 ** 13
    return np.array([draw(a) for a in application_ids], dtype=float)


def funding(decisions, application_ids, share: float = HOLDOUT_SHARE) -> pd.DataFrame:
    """Which applications the lender funds: every approval, and ``share`` of the refusals at random.

    Returns one row per application: ``funded``, ``holdout`` (funded against
    the model's refusal) and ``propensity`` (the chance of being funded given
    the decision: 1 for an approval, ``share`` for a refusal).
    """
    if not 0 <= share < 1:
        raise ValueError(f"the holdout share must be at least 0 and below 1, got {share}")
    refused = np.asarray(decisions) == "refuse"
    holdout = refused & (holdout_draw(application_ids) < share)
    return pd.DataFrame({"funded": (~refused | holdout).astype(int), "holdout": holdout.astype(int),
                         "propensity": np.where(refused, share, 1.0)})


def _costs(defaulted, refuse, costs: Costs) -> np.ndarray:
    y = np.asarray(defaulted, bool)
    return np.where(np.asarray(refuse, bool), ~y * costs.wrong_refusal, y * costs.missed_default)


def _auc(y, score, weight=None) -> float:
    y = np.asarray(y, int)
    if len(np.unique(y)) < 2:
        return float("nan")
    return float(roc_auc_score(y, score, sample_weight=weight))


def approved_view(frame: pd.DataFrame, costs: Costs = COSTS) -> dict:
    """What the outcomes of the approved loans alone say (the holdout left out), per application scored.

    The cost counts the missed defaults it can see, spread over every
    application scored; a wrong refusal has no outcome, so it costs nothing here.
    """
    seen = frame[(frame["decision"] == "approve") & frame["defaulted"].notna()]
    y = seen["defaulted"].astype(int).to_numpy()
    return {"labelled": len(seen), "auc": _auc(y, seen["score"]),
            "default_rate": float(y.mean()) if len(y) else float("nan"),
            "cost": float(y.sum() * costs.missed_default / max(len(frame), 1))}


def weighted_view(frame: pd.DataFrame, costs: Costs = COSTS) -> dict:
    """The whole population's AUC, default rate and cost, estimated from the funded loans.

    Each labelled loan weighs ``1 / propensity``: a holdout loan stands for
    every refused applicant it was drawn among.
    """
    seen = frame[frame["defaulted"].notna() & (frame["propensity"] > 0)]
    y = seen["defaulted"].astype(int).to_numpy()
    w = 1.0 / seen["propensity"].to_numpy(float)
    refuse = (seen["decision"] == "refuse").to_numpy()
    if not len(seen):
        return {"labelled": 0, "auc": float("nan"), "default_rate": float("nan"), "cost": float("nan")}
    return {"labelled": len(seen), "auc": _auc(y, seen["score"], w),
            "default_rate": float(np.average(y, weights=w)),
            "cost": float(np.average(_costs(y, refuse, costs), weights=w))}


def true_view(frame: pd.DataFrame, truth: pd.Series, costs: Costs = COSTS) -> dict:
    """The same, with every application's outcome (``truth``, indexed by application id)."""
    y = truth.reindex(frame["application_id"]).to_numpy()
    if np.isnan(y.astype(float)).any():
        raise ValueError("the truth lacks the outcome of some scored applications")
    y = y.astype(int)
    refuse = (frame["decision"] == "refuse").to_numpy()
    return {"labelled": len(y), "auc": _auc(y, frame["score"]), "default_rate": float(y.mean()),
            "cost": float(_costs(y, refuse, costs).mean())}


def views(frame: pd.DataFrame, truth: pd.Series | None = None, costs: Costs = COSTS) -> pd.DataFrame:
    """The three views side by side: approved loans only, holdout-weighted, and (given) the truth."""
    rows = {"approved loans only": approved_view(frame, costs),
            "approved + holdout, weighted": weighted_view(frame, costs)}
    if truth is not None:
        rows["every application (truth)"] = true_view(frame, truth, costs)
    return pd.DataFrame(rows).T


def wrong_refusal_share(defaulted, refuse, costs: Costs = COSTS) -> float:
    """The share of the decisions' cost that comes from refusing good applicants."""
    y, r = np.asarray(defaulted, bool), np.asarray(refuse, bool)
    wrong = np.sum(~y & r) * costs.wrong_refusal
    total = wrong + np.sum(y & ~r) * costs.missed_default
    return float(wrong / total) if total else float("nan")


def holdout_cost(frame: pd.DataFrame, truth: pd.Series, costs: Costs = COSTS) -> float:
    """What funding the holdout cost, per application scored, over refusing it.

    A holdout loan that defaults loses a missed default instead of nothing;
    one that is repaid earns back the wrong refusal it would have been.
    """
    holdout = frame[frame["holdout"] == 1]
    y = truth.reindex(holdout["application_id"]).to_numpy().astype(bool)
    extra = np.sum(y) * costs.missed_default - np.sum(~y) * costs.wrong_refusal
    return float(extra / max(len(frame), 1))


def by_month(frame: pd.DataFrame, truth: pd.Series | None = None, costs: Costs = COSTS) -> pd.DataFrame:
    """Per month (the ``month`` column): the approved-only and the holdout-weighted views (and the
    truth, if given), as columns ``approved_auc``, ``weighted_cost``, ``true_default_rate``..."""
    rows = []
    for month, part in frame.groupby("month", sort=True):
        row = {"month": month}
        views_of = {"approved": approved_view(part, costs), "weighted": weighted_view(part, costs)}
        if truth is not None:
            views_of["true"] = true_view(part, truth, costs)
        for name, view in views_of.items():
            row.update({f"{name}_{k}": v for k, v in view.items() if k != "labelled"})
        rows.append(row)
    return pd.DataFrame(rows).set_index("month")
