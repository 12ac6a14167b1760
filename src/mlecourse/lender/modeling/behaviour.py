"""Behavioural tests of a credit model, in the style of CheckList (Ribeiro et al., 2020).

Accuracy on a test set says how often a model is right; these say whether it
behaves as the lender's policy requires, one property at a time:

* **invariance**: a change that must not matter (the application's id, the
  applicant's customer number) changes no score;
* **directional expectation**: a change with a known direction (more income,
  a better bureau score) must not raise the risk, beyond a small tolerance;
* **minimum functionality**: obvious cases get obvious answers (a clean file
  with a high income is approved; three previous defaults is refused).

Each function returns a :class:`Finding` (passed, what was measured, a
sentence); ``tests/test_model_behaviour.py`` runs them on the course model
and the pipeline's gate refuses a candidate that fails one.

A gradient-boosted model is not monotone by construction: raising an
income can nudge a few scores up. So the directional tests allow a small
rise (``tolerance``) on a small share of rows (``max_share``); a team that
needs strict monotonicity constrains the model (``monotonic_cst`` in
scikit-learn's boosting) and sets both to zero.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlecourse.lender import business, features


@dataclass(frozen=True)
class Finding:
    name: str
    passed: bool
    value: float
    message: str


def _scores(model, frame: pd.DataFrame) -> np.ndarray:
    """P(default), given the columns the model was fitted on (all of them if it says none).

    A model fitted on an id column would get it here, and the invariance test
    would catch it: that is the mistake the test exists for.
    """
    columns = list(getattr(model, "feature_names_in_", frame.columns))
    return np.asarray(model.predict_proba(frame[columns])[:, 1], dtype=float)


def invariance(model, frame: pd.DataFrame, column: str = "application_id", *, base=None) -> Finding:
    """Scores do not change when ``column`` is replaced by other values (here: reversed).

    ``base``: the scores of ``frame`` when the caller has them already (:func:`suite`)."""
    changed = frame.copy()
    changed[column] = changed[column].to_numpy()[::-1]
    base = _scores(model, frame) if base is None else base
    gap = float(np.max(np.abs(base - _scores(model, changed))))
    return Finding(f"invariance to {column}", gap == 0.0, gap,
                   f"changing {column} moved a score by up to {gap:.2g}")


def directional(model, frame: pd.DataFrame, column: str, change, *, tolerance: float = 0.01,
                max_share: float = 0.02, lower=None, upper=None, base=None) -> Finding:
    """After ``change`` (a function of the column), P(default) should not rise.

    Passes when at most ``max_share`` of the rows see a rise above ``tolerance``.
    """
    changed = frame.copy()
    changed[column] = change(changed[column]).clip(lower=lower, upper=upper)
    rise = _scores(model, changed) - (_scores(model, frame) if base is None else base)
    share = float(np.mean(rise > tolerance))
    return Finding(f"more {column} does not raise risk", share <= max_share, share,
                   f"{share:.1%} of applications got riskier by more than {tolerance} "
                   f"(allowed: {max_share:.0%})")


# Two textbook applications, in the data's own units (an interest rate in percent a year).
STRONG = {"age": 45, "annual_income": 120_000.0, "employment_years": 15.0,
          "loan_amount": 5_000.0, "loan_term_months": 36, "interest_rate": 6.5,
          "monthly_debt": 200.0, "credit_score": 800.0, "num_credit_lines": 5,
          "previous_defaults": 0, "employment_type": "salaried", "home_ownership": "own",
          "region": "north", "channel": "branch", "loan_purpose": "car"}
WEAK = {**STRONG, "annual_income": 18_000.0, "employment_years": 0.5, "credit_score": 520.0,
        "previous_defaults": 3, "monthly_debt": 900.0, "loan_amount": 25_000.0, "interest_rate": 22.0}


def check_units(case: dict) -> dict:
    """A behavioural case in the data's units, or ValueError: a rate of 0.08 is a fraction where the
    data has percent (the product offers 3.99 to 29.99), and the test would probe nothing real."""
    low, high = features.OFFERED_RATES
    if not low <= case["interest_rate"] <= high:
        raise ValueError(f"interest_rate {case['interest_rate']} is outside the rates offered "
                         f"({low} to {high}, percent a year): is it a fraction instead of a percent?")
    for name, (lo, hi) in features.RANGES.items():
        value = case.get(name)
        if value is not None and ((lo is not None and value < lo) or (hi is not None and value > hi)):
            raise ValueError(f"{name} {value} is outside its plausible range {lo} to {hi}")
    return case


def minimum_functionality(model, threshold: float = business.COSTS.threshold) -> Finding:
    """Two textbook applications: a strong one approved, one with 3 past defaults refused."""
    strong, weak = check_units(STRONG), check_units(WEAK)
    frame = pd.DataFrame([strong, weak])[list(features.RAW_FEATURES)]
    p_strong, p_weak = _scores(model, frame)
    ok = p_strong <= threshold < p_weak
    return Finding("minimum functionality", bool(ok), float(p_weak - p_strong),
                   f"strong applicant P(default) {p_strong:.3f}, weak applicant {p_weak:.3f} "
                   f"(threshold {threshold:.3f})")


def suite(model, frame: pd.DataFrame) -> list[Finding]:
    """Every behavioural test the pipeline's gate requires, on rows of ``frame``."""
    base = _scores(model, frame)  # each test compares with the same scores: computed once
    return [
        invariance(model, frame, "application_id", base=base),
        invariance(model, frame, "customer_id", base=base),
        directional(model, frame, "annual_income", lambda s: s * 1.2, base=base),
        directional(model, frame, "credit_score", lambda s: s + 30, upper=850, base=base),
        minimum_functionality(model),
    ]


def table(findings: list[Finding]) -> pd.DataFrame:
    return pd.DataFrame([f.__dict__ for f in findings]).set_index("name")
