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


def _counts(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.unique(labels, return_counts=True)


def _aligned(reference_counts, current_counts) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two windows' counts over the union of their categories."""
    (ref_levels, ref_n), (cur_levels, cur_n) = reference_counts, current_counts
    levels = np.union1d(ref_levels, cur_levels)
    e, a = np.zeros(len(levels), dtype=int), np.zeros(len(levels), dtype=int)
    e[np.searchsorted(levels, ref_levels)] = ref_n
    a[np.searchsorted(levels, cur_levels)] = cur_n
    return e, a, levels


def category_counts(reference, current) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts of each category in the two windows, over the union of categories."""
    return _aligned(_counts(_labels(reference, "reference")), _counts(_labels(current, "current")))


def category_shares(reference, current) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shares of each category in the two windows, over the union of categories."""
    e, a, levels = category_counts(reference, current)
    return e / e.sum(), a / a.sum(), levels


def psi_categorical(reference, current, epsilon: float = EPSILON) -> float:
    """PSI of a categorical feature: one bin per category."""
    e, a, _ = category_shares(reference, current)
    return psi_from_shares(e, a, epsilon)


def _ks(ref: np.ndarray, cur: np.ndarray) -> tuple[float, float]:
    result = stats.ks_2samp(ref, cur)
    return float(result.statistic), float(result.pvalue)


def _scaled(distance: float, scale: float) -> float:
    return distance / scale if scale > 0 else distance


def ks(reference, current) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov: (statistic, p-value)."""
    return _ks(_numbers(reference, "reference"), _numbers(current, "current"))


def wasserstein(reference, current, normalise: bool = True) -> float:
    """Earth mover's distance; divided by the reference's standard deviation if ``normalise``."""
    ref, cur = _numbers(reference, "reference"), _numbers(current, "current")
    distance = float(stats.wasserstein_distance(ref, cur))
    return _scaled(distance, float(np.std(ref))) if normalise else distance


def _chi2(e: np.ndarray, a: np.ndarray) -> tuple[float, float]:
    if len(e) < 2:
        return 0.0, 1.0  # one category in both windows: nothing can differ
    result = stats.chi2_contingency(np.column_stack([e, a]))
    return float(result.statistic), float(result.pvalue)


def _js(e: np.ndarray, a: np.ndarray) -> float:
    return float(jensenshannon(e / e.sum(), a / a.sum(), base=2))


def chi2_test(reference, current) -> tuple[float, float]:
    """Chi-square test of homogeneity of the category counts: (statistic, p-value)."""
    e, a, _ = category_counts(reference, current)
    return _chi2(e, a)


def js_distance(reference, current) -> float:
    """Jensen-Shannon distance of the category shares, base 2 (0: same, 1: disjoint)."""
    e, a, _ = category_counts(reference, current)
    return _js(e, a)


class Profile:
    """A reference window of one feature, summarised once, to compare many windows with.

    The same statistics as the functions above, through the same code; only
    the reference's deciles, sort and counts are computed once, not once per
    month.
    """

    def __init__(self, reference, categorical: bool):
        self.categorical = categorical
        if categorical:
            self.counts = _counts(_labels(reference, "reference"))
        else:
            self.values = np.sort(_numbers(reference, "reference"))
            self.edges = bin_edges(self.values)
            self.shares = shares(self.values, self.edges)
            self.scale = float(np.std(self.values))

    def compare(self, current) -> dict:
        if self.categorical:
            e, a, _ = _aligned(self.counts, _counts(_labels(current, "current")))
            chi2, p = _chi2(e, a)
            return {"psi": psi_from_shares(e / e.sum(), a / a.sum()), "js": _js(e, a),
                    "chi2": chi2, "p_value": p}
        cur = _numbers(current, "current")
        statistic, p = _ks(self.values, cur)
        return {"psi": psi_from_shares(self.shares, shares(cur, self.edges)), "ks": statistic,
                "p_value": p, "wasserstein": _scaled(float(stats.wasserstein_distance(self.values, cur)),
                                                     self.scale)}


def drift_table(reference: pd.DataFrame, frame: pd.DataFrame, features, categorical=(),
                date_column: str = "application_date") -> pd.DataFrame:
    """One row per (month, feature): PSI, KS or JS, Wasserstein, chi-square, p-value, rows.

    ``reference`` is the training window; ``frame`` the production rows, split
    by the calendar month of ``date_column``.
    """
    if len(frame) == 0:
        raise DriftInputError("no production rows to compare: the frame is empty")
    profiles = {name: Profile(reference[name], name in categorical) for name in features}
    rows = []
    months = frame[date_column].dt.to_period("M")
    for month, window in frame.groupby(months, sort=True):
        for name in features:
            rows.append({"month": str(month), "feature": name, "rows": int(window[name].notna().sum()),
                         **profiles[name].compare(window[name])})
    return pd.DataFrame(rows)


# Evidently's default data-drift method for a large reference (over 1,000 rows),
# as its documentation describes it: the Wasserstein distance divided by the
# reference's standard deviation for numbers, the Jensen-Shannon distance
# (natural logarithm) for categories, each column drifting above 0.1, and the
# data set drifting when at least half of its columns do.
EVIDENTLY_THRESHOLD = 0.1
EVIDENTLY_DATASET_SHARE = 0.5


def evidently_style(table: pd.DataFrame) -> pd.DataFrame:
    """Per month: Evidently's default verdicts from a :func:`drift_table`.

    The JS distance of the table is base 2; base e is sqrt(ln 2) times it.
    """
    score = table["wasserstein"].where(table["wasserstein"].notna(), table["js"] * np.sqrt(np.log(2)))
    flagged = table.assign(score=score, drifted=score > EVIDENTLY_THRESHOLD)
    monthly = flagged.groupby("month").agg(drifted_columns=("drifted", "sum"), columns=("drifted", "size"))
    monthly["dataset_drift"] = monthly["drifted_columns"] >= EVIDENTLY_DATASET_SHARE * monthly["columns"]
    return monthly
