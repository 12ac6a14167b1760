"""Alert thresholds from a false-alarm budget, and when each detector first fires.

A threshold from folklore (PSI 0.25) says nothing about how often it will
wake someone for nothing on *this* data. Here a threshold is chosen on
months known to be stable: the lowest value that leaves at most ``budget``
of them over it. A lower budget buys fewer false alarms and costs detection
delay; :func:`detection` measures both.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


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
