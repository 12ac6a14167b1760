"""A/B tests of a model version: sticky arms, the sample size, and the verdict.

An A/B test answers a business question (is version B better on an outcome
fixed in advance?), where the traffic strategies of :mod:`mlecourse.lender.rollout.strategies`
answer operational ones. This module holds its statistics:

* :func:`assign_arm`: a sticky split by customer id, with the same hash as
  the rollout router (:func:`mlecourse.lender.rollout.strategies.bucket`) and its own salt;
* :func:`sample_size_per_arm`: how many units each arm needs, from the
  two-proportion formula, and :func:`simulated_power`, which checks the
  formula by simulating many experiments;
* :func:`two_proportion_test`: the two-sided z-test on the outcome.
"""
from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np
from scipy import stats

from mlecourse.lender.rollout.strategies import bucket


def assign_arm(keys: Iterable[Any], share_b: float = 0.5, salt: str = "ab") -> np.ndarray:
    """'A' or 'B' for each key (e.g. a customer id): sticky, and B with probability ``share_b``."""
    if not 0 <= share_b <= 1:
        raise ValueError(f"share_b must be between 0 and 1, got {share_b}")
    return np.where(bucket(keys, salt) < share_b, "B", "A")


def sample_size_per_arm(p_a: float, p_b: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Units (applications, approved loans) needed in EACH arm to detect p_a vs p_b with a
    two-sided two-proportion z-test.

    n = (z_{1-alpha/2} sqrt(2 p(1-p)) + z_{power} sqrt(p_a(1-p_a) + p_b(1-p_b)))^2 / (p_a - p_b)^2,
    with p the average of p_a and p_b; rounded up.
    """
    for name, p in (("p_a", p_a), ("p_b", p_b)):
        if not 0 < p < 1:
            raise ValueError(f"{name} must be strictly between 0 and 1, got {p}")
    if p_a == p_b:
        raise ValueError("p_a and p_b are equal: no sample is large enough to tell them apart")
    if not (0 < alpha < 1 and 0 < power < 1):
        raise ValueError("alpha and power must be strictly between 0 and 1")
    pooled = (p_a + p_b) / 2
    z_alpha = stats.norm.ppf(1 - alpha / 2)
    z_power = stats.norm.ppf(power)
    spread = (z_alpha * math.sqrt(2 * pooled * (1 - pooled))
              + z_power * math.sqrt(p_a * (1 - p_a) + p_b * (1 - p_b)))
    return math.ceil(spread**2 / (p_a - p_b) ** 2)


def _z_pvalues(x_a, n_a, x_b, n_b) -> tuple[np.ndarray, np.ndarray]:
    x_a, x_b = np.asarray(x_a, dtype=float), np.asarray(x_b, dtype=float)
    pooled = (x_a + x_b) / (n_a + n_b)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, (x_b / n_b - x_a / n_a) / se, 0.0)
    return z, 2 * stats.norm.sf(np.abs(z))


def two_proportion_test(successes_a: int, n_a: int, successes_b: int, n_b: int) -> dict:
    """Two-sided z-test that two proportions are equal (pooled standard error).

    Gives the same p-value as ``scipy.stats.chi2_contingency`` on the 2x2
    table with ``correction=False``. Returns the two rates, their difference
    (B minus A), z and the p-value.
    """
    for name, x, n in (("A", successes_a, n_a), ("B", successes_b, n_b)):
        if n <= 0 or not 0 <= x <= n:
            raise ValueError(f"arm {name}: need 0 <= successes <= n and n > 0, got {x} of {n}")
    z, p = _z_pvalues(successes_a, n_a, successes_b, n_b)
    return {"rate_a": successes_a / n_a, "rate_b": successes_b / n_b,
            "difference": successes_b / n_b - successes_a / n_a,
            "z": float(z), "p_value": float(p)}


def simulated_power(p_a: float, p_b: float, n_per_arm: int, alpha: float = 0.05,
                    simulations: int = 4000, seed: int = 0) -> float:
    """Share of simulated experiments (true rates p_a, p_b) that the z-test calls significant."""
    rng = np.random.default_rng(seed)
    x_a = rng.binomial(n_per_arm, p_a, simulations)
    x_b = rng.binomial(n_per_arm, p_b, simulations)
    _, p = _z_pvalues(x_a, n_per_arm, x_b, n_per_arm)
    return float(np.mean(p < alpha))
