"""Estimating a protected attribute the lender does not collect, and what the estimate does to an audit.

Outside mortgages, a US lender generally may not ask an applicant's race or
ethnicity, yet it must still show its decisions do not discriminate. Lenders
and regulators then estimate the group from what they have: Bayesian
Improved Surname Geocoding (BISG; Elliott et al., 2009) combines a surname
list and the census population of the applicant's address by Bayes' rule.
The case study has no surnames, so this is the geography half of it:

    P(group | place) = P(place | group) P(group) / sum over groups of the same

with P(place | group) from a census of the population by place, and P(group)
the prior (the census's own share unless told otherwise).

:func:`group_probability` gives each applicant that probability;
:func:`audited_gaps` shows what an audit would report with it, two ways
(assign the likelier group, or weight each applicant by the probability),
beside the gap with the true attribute. Chen et al. (2019) show both are
biased: the weighted one towards zero, the thresholded one either way.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


class EstimateError(ValueError):
    """The estimate cannot be made as asked; the message says why."""


def census(population: pd.DataFrame, place: str = "neighbourhood", sensitive: str = "ethnicity") -> pd.DataFrame:
    """People of each group in each place (rows: places, columns: groups)."""
    for column in (place, sensitive):
        if column not in population.columns:
            raise EstimateError(f"the population has no {column!r} column")
    return population.groupby([place, sensitive]).size().unstack(fill_value=0)


def group_probability(places: pd.Series, counts: pd.DataFrame, focus: str = "minority",
                      prior: float | None = None) -> np.ndarray:
    """P(``focus`` | place) for each applicant, by Bayes' rule on the census ``counts``.

    ``prior``: the share of ``focus`` among the applicants, when it differs
    from the census's (None: the census's own share). A place the census does
    not know gets the prior.
    """
    if focus not in counts.columns:
        raise EstimateError(f"the census has no group {focus!r}; it has {', '.join(map(str, counts.columns))}")
    inside = counts[focus]
    outside = counts.drop(columns=focus).sum(axis=1)
    if inside.sum() == 0 or outside.sum() == 0:
        raise EstimateError("the census needs people of both the group and the others")
    share = inside.sum() / (inside.sum() + outside.sum())
    prior = share if prior is None else float(prior)
    if not 0 < prior < 1:
        raise EstimateError(f"the prior is a share strictly between 0 and 1, got {prior}")
    likely_in = inside / inside.sum() * prior  # P(place | group) P(group)
    likely_out = outside / outside.sum() * (1 - prior)
    posterior = likely_in / (likely_in + likely_out)
    return pd.Series(places).map(posterior).fillna(prior).to_numpy(float)


def audited_gaps(refuse, is_focus, probability) -> dict:
    """The refusal gap (focus minus the others) with the true group, and with the estimate two ways.

    ``thresholded``: each applicant put in the likelier group (probability
    over 0.5); NaN when nobody is. ``weighted``: each applicant counted in
    both groups, weighted by the probability of each.
    """
    r = np.asarray(refuse, dtype=float)
    truth = np.asarray(is_focus, dtype=bool)
    p = np.asarray(probability, dtype=float)
    if not (len(r) == len(truth) == len(p)):
        raise EstimateError("refusals, groups and probabilities differ in length")
    assigned = p > 0.5
    thresholded = r[assigned].mean() - r[~assigned].mean() if assigned.any() and (~assigned).any() else np.nan
    return {"true": float(r[truth].mean() - r[~truth].mean()),
            "thresholded": float(thresholded),
            "weighted": float(np.average(r, weights=p) - np.average(r, weights=1 - p))}
