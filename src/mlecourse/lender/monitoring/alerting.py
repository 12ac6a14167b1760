"""Alert thresholds from a false-alarm budget, their false-alarm rate out of sample, and detections.

A threshold from folklore (PSI 0.25) says nothing about how often it will
wake someone for nothing on *this* data. Here a threshold is chosen on
months known to be quiet: the lowest value that leaves at most ``budget``
of them over it. That makes "no quiet month rings" true by construction on
the months that set it, so the false-alarm rate is measured on months that
did not: each quiet month against a threshold set on the others
(:func:`leave_one_out`), or a later stretch against an earlier one
(:func:`split_false_alarms`), with an exact binomial interval, since a
couple of dozen months cannot pin a rate down.

A detector (:class:`Detector`) is a monthly series and the delay before a
month's value is known; :func:`detect` says when each first rings after a
change, and when that could be known. Whether a ring is worth anything
depends on the change: a drift that does not raise the cost is an alarm to
acknowledge, not a detection.

Many tests at once: fifteen features tested every month give "significant"
p-values by chance alone; :func:`significant` counts them with and without
a correction for multiplicity (Bonferroni, or Benjamini and Hochberg's false
discovery rate, ``scipy.stats.false_discovery_control``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats


def threshold_for_budget(stable: pd.Series, budget: int = 0) -> float:
    """The smallest threshold with at most ``budget`` stable values strictly above it."""
    values = np.sort(pd.Series(stable).dropna().to_numpy())[::-1]
    if len(values) == 0:
        raise ValueError("no stable months to choose a threshold from: the series is empty or all NaN")
    if not 0 <= budget < len(values):
        raise ValueError(f"budget must be 0 to {len(values) - 1} false alarms for {len(values)} months, "
                         f"got {budget}")
    return float(values[budget])


def flagged(series: pd.Series, threshold: float) -> list[str]:
    """The months (index labels) where the series is strictly over the threshold."""
    return [str(m) for m in series.index[series.to_numpy() > threshold]]


def months_between(start: str, end: str) -> int:
    return (pd.Period(end, "M") - pd.Period(start, "M")).n


def detection(series: pd.Series, threshold: float, start: str, lag_months: int = 0) -> dict:
    """When a change starting in ``start`` is first flagged, and when that could be known.

    ``lag_months`` is how long after a month its value is known (0 for
    inputs and scores, 3 for early delinquency, 12 for defaults).
    """
    after = series[series.index >= start]
    hits = flagged(after, threshold)
    if not hits:
        return {"flagged_month": None, "known_month": None, "delay_months": None}
    known = str(pd.Period(hits[0], "M") + lag_months)
    return {"flagged_month": hits[0], "known_month": known, "delay_months": months_between(start, known)}


# --- false alarms, out of sample -----------------------------------------------------

def leave_one_out(quiet: pd.Series, budget: int = 0) -> pd.Series:
    """For each quiet month: does it ring against the threshold set on the *other* quiet months?"""
    quiet = pd.Series(quiet).dropna()
    rings = {month: bool(quiet[month] > threshold_for_budget(quiet.drop(month), budget))
             for month in quiet.index}
    return pd.Series(rings, name="rings")


def rate_interval(alarms: int, months: int, confidence: float = 0.95) -> tuple[float, float, float]:
    """A false-alarm rate per month and its exact (Clopper-Pearson) interval."""
    if months <= 0:
        raise ValueError("no months to measure a false-alarm rate on")
    interval = stats.binomtest(int(alarms), int(months)).proportion_ci(confidence, method="exact")
    return alarms / months, float(interval.low), float(interval.high)


def _rate_row(name: str, alarms: int, months: int) -> dict:
    rate, low, high = rate_interval(alarms, months)
    return {"detector": name, "false_alarms": int(alarms), "months": int(months), "rate": rate,
            "low": low, "high": high}


def loo_false_alarms(monitor: pd.DataFrame, quiet: list[str], detectors, budget: int = 0) -> pd.DataFrame:
    """Each detector's false-alarm rate, each quiet month judged by a threshold it did not set."""
    rows = []
    for d in detectors:
        rings = leave_one_out(monitor.loc[quiet, d.column], budget)
        rows.append(_rate_row(d.name, rings.sum(), len(rings)))
    return pd.DataFrame(rows).set_index("detector")


def split_false_alarms(monitor: pd.DataFrame, fit: list[str], test: list[str], detectors,
                       budget: int = 0) -> pd.DataFrame:
    """Thresholds set on the months ``fit``, false alarms counted on the later quiet months ``test``."""
    rows = []
    for d in detectors:
        threshold = threshold_for_budget(monitor.loc[fit, d.column], budget)
        tested = monitor.loc[test, d.column].dropna()
        rows.append({**_rate_row(d.name, len(flagged(tested, threshold)), len(tested)),
                     "threshold": threshold})
    return pd.DataFrame(rows).set_index("detector")


# --- detectors and detections -----------------------------------------------------------

@dataclass(frozen=True)
class Detector:
    name: str
    column: str         # the monitoring table's monthly series
    lag_months: int     # how long after a month its value is known
    label_free: bool    # needs no outcome: inputs or scores only


DETECTORS = (
    Detector("input drift (largest PSI)", "max_psi", 0, True),
    Detector("prediction drift (mean score)", "mean_score", 0, True),
    Detector("estimated cost (CBPE)", "est_cost", 0, True),
    Detector("early delinquency rate", "early_rate", 3, False),
    Detector("default rate of approved loans", "approved_default_rate", 12, False),
    Detector("cost, holdout-weighted", "weighted_cost", 12, False),
)


def detect(monitor: pd.DataFrame, baseline: list[str], start: str, end: str | None = None,
           detectors=DETECTORS, budget: int = 0) -> pd.DataFrame:
    """For a change starting in ``start``: each detector's threshold (from the ``baseline``
    months' values and a false-alarm ``budget``), the first month it rings before ``end``,
    when that month's value is known, and the delay from ``start``."""
    watched = monitor[(monitor.index >= start) & ((monitor.index < end) if end else True)]
    rows = []
    for d in detectors:
        threshold = threshold_for_budget(monitor.loc[baseline, d.column], budget)
        rows.append({"detector": d.name, "threshold": threshold,
                     **detection(watched[d.column], threshold, start, d.lag_months)})
    return pd.DataFrame(rows).set_index("detector")


# --- many tests at once --------------------------------------------------------------------

CORRECTIONS = ("none", "bonferroni", "bh")


def significant(p_values: pd.DataFrame, alpha: float = 0.05, correction: str = "none") -> pd.Series:
    """Per row (a month), how many of its columns' p-values are significant at ``alpha``.

    ``correction``: "none"; "bonferroni" (each p against alpha / the number of
    tests of the row); "bh", Benjamini and Hochberg's adjusted p-values, which
    keep the expected share of false discoveries among the flagged at ``alpha``.
    """
    if correction not in CORRECTIONS:
        raise ValueError(f"unknown correction {correction!r}; use one of {', '.join(CORRECTIONS)}")

    def count(row: pd.Series) -> int:
        p = row.dropna().to_numpy(float)
        if correction == "bonferroni":
            p = np.minimum(p * len(p), 1.0)
        elif correction == "bh" and len(p):
            p = stats.false_discovery_control(p, method="bh")
        return int((p < alpha).sum())
    return p_values.apply(count, axis=1).rename(f"significant ({correction})")


def chance_of_any(tests: int, alpha: float = 0.05) -> float:
    """The chance that at least one of ``tests`` independent true-null tests is significant."""
    return 1 - (1 - alpha) ** tests
