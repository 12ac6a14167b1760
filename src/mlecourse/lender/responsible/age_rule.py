"""Regulation B's age rule: an applicant of 62 or over is never scored down for age.

US credit law lets an empirically derived scoring system use age, provided
the age of an *elderly* applicant (62 or over, 12 CFR 1002.2(o)) is not
assigned a "negative factor or value": nothing less favourable than what the
most favoured applicants under 62 get for their age (1002.2(v), 1002.6(b)(2)).
For a model with interactions, the test reads, for each applicant of 62 or
over: is the risk at their own age higher than at the most favourable age
under 62, everything else unchanged? (Our reading; compliance signs it off.)

* :func:`scored_down` runs that test on any scorer (a fitted model, or the
  service called over HTTP), so the test is the same on the bench and in
  production;
* :class:`ElderlyFloor` is the fix the service applies: an applicant of 62
  or over is scored at the most favourable of their own age and every age
  under 62. It changes nobody under 62, and it makes ``age`` impossible as a
  reason for refusing an applicant of 62 or over.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

ELDERLY_FROM = 62  # 12 CFR 1002.2(o): "elderly means age 62 or older"
YOUNGEST = 18  # the product lends from 18
YOUNGER_AGES = tuple(range(YOUNGEST, ELDERLY_FROM))


def elderly(X: pd.DataFrame) -> np.ndarray:
    """True for applicants of 62 or over (a missing age is not known to be elderly)."""
    return (pd.to_numeric(X["age"], errors="coerce") >= ELDERLY_FROM).to_numpy()


def at_younger_ages(X: pd.DataFrame, ages=YOUNGER_AGES) -> pd.DataFrame:
    """Each row of ``X`` repeated once per age in ``ages``, with that age (row by row, ages inner)."""
    out = X.iloc[np.repeat(np.arange(len(X)), len(ages))].copy()
    out["age"] = np.tile(np.asarray(ages, dtype="float64"), len(X))
    return out


def scored_down(score, X: pd.DataFrame, ages=YOUNGER_AGES, tolerance: float = 0.0) -> pd.DataFrame:
    """The age test on every applicant of 62 or over in ``X``.

    ``score`` maps a frame of applications to probabilities of default (e.g.
    ``lambda f: model.predict_proba(f)[:, 1]``, or a function that posts to
    the service). One row per elderly applicant: ``own`` (the risk at their
    age), ``best_younger`` (the lowest risk at any age under 62, all else
    equal), ``excess`` (own minus best_younger) and ``scored_down`` (excess
    above ``tolerance``: use the service's rounding step when it rounds).
    """
    old = X[elderly(X)]
    if old.empty:
        return pd.DataFrame(columns=["own", "best_younger", "excess", "scored_down"], dtype=float)
    own = np.asarray(score(old), dtype=float)
    younger = np.asarray(score(at_younger_ages(old, ages)), dtype=float).reshape(len(old), len(ages))
    best = younger.min(axis=1)
    return pd.DataFrame({"own": own, "best_younger": best, "excess": own - best,
                         "scored_down": own - best > tolerance}, index=old.index)


class ElderlyFloor:
    """A model whose applicants of 62 or over get the most favourable age's risk.

    ``predict_proba`` of the wrapped model for everyone under 62 (and anyone
    whose age is missing); for an applicant of 62 or over, the lowest
    probability of default over their own age and every age under 62. Each
    elderly applicant costs one batched prediction of 45 rows.
    """

    def __init__(self, model, ages=YOUNGER_AGES):
        self.model, self.ages = model, tuple(ages)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        proba = np.asarray(self.model.predict_proba(X), dtype=float).copy()
        old = elderly(X)
        if old.any():
            rows = X[old]
            younger = self.model.predict_proba(at_younger_ages(rows, self.ages))[:, 1]
            best = np.minimum(proba[old, 1], younger.reshape(len(rows), len(self.ages)).min(axis=1))
            proba[old, 1], proba[old, 0] = best, 1 - best
        return proba

    def __getattr__(self, name):  # the wrapped pipeline's attributes (feature names, steps)
        if name == "model":
            raise AttributeError(name)
        return getattr(self.model, name)
