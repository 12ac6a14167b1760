"""The lender's decision, what its mistakes cost, and the rule to beat.

The model answers one question per application: approve or refuse? A
*missed default* (approving a loan that defaults) loses part of the amount
lent; a *wrong refusal* (refusing a loan that would have been repaid) loses
the interest the lender would have earned. The costs below are the course's
working assumptions for this lender, in currency units per application;
they are round numbers near the data's typical loan (median 9,400 units):

* missed default: 60% of a typical loan lost after recoveries, about 5,000;
* wrong refusal: the margin on a typical loan over its life, about 1,000.

With calibrated probabilities, refusing when P(default) > c_refusal /
(c_refusal + c_default) minimises the expected cost (Elkan, 2001); here that
is 1/6, far from the default threshold of 0.5.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# Debt payments above 43% of gross income: a common lending rule of thumb.
HIGH_FROM = 0.43
MIN_CREDIT_SCORE = 580  # the rule refuses bureau scores below this ("subprime")


@dataclass(frozen=True)
class Costs:
    missed_default: float = 5_000.0
    wrong_refusal: float = 1_000.0

    @property
    def threshold(self) -> float:
        """The probability of default above which refusing is cheaper, on average."""
        return self.wrong_refusal / (self.wrong_refusal + self.missed_default)


COSTS = Costs()


def decision_cost(defaulted, refuse, costs: Costs = COSTS) -> float:
    """Average cost per application of the decisions ``refuse`` given the outcomes."""
    y = np.asarray(defaulted, dtype=bool)
    r = np.asarray(refuse, dtype=bool)
    if y.shape != r.shape:
        raise ValueError(f"outcomes and decisions differ in length: {y.shape} vs {r.shape}")
    if y.size == 0:
        raise ValueError("no applications to cost")
    missed = np.sum(y & ~r) * costs.missed_default
    wrong = np.sum(~y & r) * costs.wrong_refusal
    return float((missed + wrong) / y.size)


def business_rule(frame: pd.DataFrame) -> pd.Series:
    """The non-ML baseline: the lender's underwriting rule of thumb.

    Refuse when the applicant defaulted before, or when debt payments
    including the new loan exceed ``HIGH_FROM`` (43%) of income, or when the
    bureau score is below ``MIN_CREDIT_SCORE`` (580). A missing score or income does not refuse on
    its own. Returns a boolean Series aligned with ``frame`` (True = refuse).
    """
    from mlecourse.lender.features import LoanRatios  # features imports nothing from here

    ratios = LoanRatios().fit(frame).transform(frame)
    refuse = (frame["previous_defaults"] > 0) | (ratios["debt_to_income"] > HIGH_FROM)
    refuse |= frame["credit_score"] < MIN_CREDIT_SCORE
    return refuse.fillna(False).astype(bool).rename("refuse")
