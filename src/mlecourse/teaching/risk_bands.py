"""A prototype turned into production code: debt-to-income and a risk band.

Chapter 1 starts from a notebook cell that mutates a global DataFrame with
hard-coded thresholds; :func:`add_risk_band` is what it becomes: a pure
function with explicit parameters and an explicit answer for bad incomes.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from mlecourse.lender.business import HIGH_FROM

# The prototype's thresholds, kept as defaults (debt payments as a share of
# gross income; 36% and 43% are common lending rules of thumb; the lender's
# rule refuses above HIGH_FROM).
MEDIUM_FROM = 0.36
BANDS = ("low", "medium", "high", "unknown")


def debt_to_income(monthly_debt: pd.Series, annual_income: pd.Series) -> pd.Series:
    """12 x monthly debt / annual income; NaN where income is missing, zero or negative."""
    income = annual_income.where(annual_income > 0)
    return (12 * monthly_debt / income).astype("float64")


def add_risk_band(loans: pd.DataFrame, medium_from: float = MEDIUM_FROM,
                  high_from: float = HIGH_FROM) -> pd.DataFrame:
    """A copy of ``loans`` with ``dti`` and ``risk_band`` columns; ``loans`` is not changed.

    ``risk_band`` is "low" below ``medium_from``, "medium" from ``medium_from``
    up to (not including) ``high_from``, "high" from ``high_from`` up, and
    "unknown" where the ratio cannot be computed. Every row is kept.
    """
    if not medium_from <= high_from:
        raise ValueError(f"medium_from ({medium_from}) must not exceed high_from ({high_from})")
    out = loans.copy()
    dti = debt_to_income(out["monthly_debt"], out["annual_income"])
    band = np.select([dti.isna(), dti >= high_from, dti >= medium_from],
                     ["unknown", "high", "medium"], default="low")
    out["dti"] = dti
    out["risk_band"] = pd.Series(band, index=out.index, dtype="object")
    return out
