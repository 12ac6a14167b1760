"""Data drift: how far a window of production data is from the training window.

One function per statistic, each comparing a *reference* sample (the training
window) with a *current* one (a month of production), then
:func:`drift_table`, which computes all of them per feature and per month.

* **PSI**, the population stability index, the credit industry's own measure
  (Yurdakul, 2018): bin the reference into deciles, compare the shares of each
  bin, ``sum((a - e) * ln(a / e))``. It is the symmetrised Kullback-Leibler
  divergence of the two binned distributions, which is how the chapter checks
  it against scipy. An empty bin would make ``ln(0)``: shares are floored at
  ``EPSILON`` first, and the docstring of :func:`psi` says why that is a choice.
* **KS**: the largest gap between the two empirical CDFs (scipy's ``ks_2samp``).
* **Wasserstein**: how much probability mass moves, and how far, in the
  feature's own unit; divided by the reference's standard deviation here so
  that features can share one threshold.
* For categories: **chi-square** (a test, hence a p-value) and the
  **Jensen-Shannon distance** (scipy, base 2: 0 same, 1 disjoint).

Bad input says what is wrong in one line (:class:`DriftInputError`): an empty
window, or a column with no values, has no distribution to compare.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial.distance import jensenshannon

EPSILON = 1e-4  # the floor on a bin's share: an empty bin counts as 0.01% of the window
BINS = 10  # deciles of the reference, the industry's usual choice


class DriftInputError(ValueError):
    """A window given to a drift statistic cannot be compared (empty, all missing)."""


def _values(sample, what: str) -> np.ndarray:
    """The non-missing values of ``sample``, or one clear error."""
    series = pd.Series(sample)
    if len(series) == 0:
        raise DriftInputError(f"the {what} window is empty: no rows to compare (check the date filter)")
    series = series.dropna()
    if len(series) == 0:
        raise DriftInputError(f"the {what} window has no values, only missing ones "
                              "(NaN): a column lost upstream? compare its missing share instead")
    return series.to_numpy()


def _numbers(sample, what: str) -> np.ndarray:
    values = _values(sample, what)
    try:
        return values.astype(float)
    except (TypeError, ValueError):
        raise DriftInputError(f"the {what} window is not numeric; use the categorical "
                              "statistics (chi2_test, js_distance)") from None


def bin_edges(reference, bins: int = BINS) -> np.ndarray:
    """Inner cut points at the reference's quantiles (ties merged), for :func:`psi`."""
    values = _numbers(reference, "reference")
    cuts = np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1])
    return np.unique(cuts)


def shares(sample, edges) -> np.ndarray:
    """The share of ``sample`` in each bin; a bin is (edge[i-1], edge[i]], the last is open."""
    values = _numbers(sample, "current")
    counts = np.bincount(np.searchsorted(edges, values, side="left"), minlength=len(edges) + 1)
    return counts / counts.sum()


def psi_from_shares(expected, actual, epsilon: float = EPSILON) -> float:
    """PSI of two vectors of bin shares. Shares are floored at ``epsilon``.

    Why a floor: a bin empty in one window makes ``ln(a / e)`` infinite, and
    one new value would then mean "infinite drift". Flooring says "at most
    this rare". The value depends on the floor (an empty bin adds about
    ``e * ln(e / epsilon)``), so say which floor you use, as any library must.
    """
    e = np.maximum(np.asarray(expected, float), epsilon)
    a = np.maximum(np.asarray(actual, float), epsilon)
    return float(np.sum((a - e) * np.log(a / e)))


def psi(reference, current, bins: int = BINS, epsilon: float = EPSILON) -> float:
    """Population stability index of a numeric feature, on the reference's deciles."""
    edges = bin_edges(reference, bins)
    return psi_from_shares(shares(reference, edges), shares(current, edges), epsilon)


def _labels(sample, what: str) -> np.ndarray:
    return _values(sample, what).astype(str)


def category_counts(reference, current) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts of each category in the two windows, over the union of categories."""
    ref, cur = _labels(reference, "reference"), _labels(current, "current")
    levels, codes = np.unique(np.concatenate([ref, cur]), return_inverse=True)
    e = np.bincount(codes[:len(ref)], minlength=len(levels))
    a = np.bincount(codes[len(ref):], minlength=len(levels))
    return e, a, levels


def category_shares(reference, current) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shares of each category in the two windows, over the union of categories."""
    e, a, levels = category_counts(reference, current)
    return e / e.sum(), a / a.sum(), levels


def psi_categorical(reference, current, epsilon: float = EPSILON) -> float:
    """PSI of a categorical feature: one bin per category."""
    e, a, _ = category_shares(reference, current)
    return psi_from_shares(e, a, epsilon)


def ks(reference, current) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov: (statistic, p-value)."""
    result = stats.ks_2samp(_numbers(reference, "reference"), _numbers(current, "current"))
    return float(result.statistic), float(result.pvalue)


def wasserstein(reference, current, normalise: bool = True) -> float:
    """Earth mover's distance; divided by the reference's standard deviation if ``normalise``."""
    ref, cur = _numbers(reference, "reference"), _numbers(current, "current")
    distance = float(stats.wasserstein_distance(ref, cur))
    if not normalise:
        return distance
    scale = float(np.std(ref))
    return distance / scale if scale > 0 else distance


def chi2_test(reference, current) -> tuple[float, float]:
    """Chi-square test of homogeneity of the category counts: (statistic, p-value)."""
    e, a, _ = category_counts(reference, current)
    if len(e) < 2:
        return 0.0, 1.0  # one category in both windows: nothing can differ
    result = stats.chi2_contingency(np.column_stack([e, a]))
    return float(result.statistic), float(result.pvalue)


def js_distance(reference, current) -> float:
    """Jensen-Shannon distance of the category shares, base 2 (0: same, 1: disjoint)."""
    e, a, _ = category_shares(reference, current)
    return float(jensenshannon(e, a, base=2))


def feature_drift(reference, current, categorical: bool) -> dict:
    """Every statistic of one feature, for one pair of windows."""
    if categorical:
        chi2, p = chi2_test(reference, current)
        return {"psi": psi_categorical(reference, current), "js": js_distance(reference, current),
                "chi2": chi2, "p_value": p}
    statistic, p = ks(reference, current)
    return {"psi": psi(reference, current), "ks": statistic, "wasserstein": wasserstein(reference, current),
            "p_value": p}


def drift_table(reference: pd.DataFrame, frame: pd.DataFrame, features, categorical=(),
                date_column: str = "application_date") -> pd.DataFrame:
    """One row per (month, feature): PSI, KS or JS, Wasserstein, chi-square, p-value, rows.

    ``reference`` is the training window; ``frame`` the production rows, split
    by the calendar month of ``date_column``.
    """
    if len(frame) == 0:
        raise DriftInputError("no production rows to compare: the frame is empty")
    rows = []
    # the reference once, as plain arrays: the loop below compares it 15 x 36 times
    kept = {name: _reference_array(reference[name], name in categorical) for name in features}
    months = frame[date_column].dt.to_period("M")
    for month, window in frame.groupby(months, sort=True):
        for name in features:
            values = feature_drift(kept[name], window[name], name in categorical)
            rows.append({"month": str(month), "feature": name, "rows": int(window[name].notna().sum()),
                         **values})
    return pd.DataFrame(rows)


def _reference_array(column: pd.Series, categorical: bool) -> np.ndarray:
    values = _values(column, f"reference {column.name}")
    return values.astype(str) if categorical else values.astype(float)


def first_flagged(series: pd.Series, threshold: float, start: str | None = None) -> str | None:
    """The first index label (a month) from ``start`` on where ``series`` exceeds ``threshold``."""
    values = series if start is None else series[series.index >= start]
    over = values[values > threshold]
    return None if over.empty else str(over.index[0])
