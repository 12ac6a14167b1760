"""Estimating the group from the address (the geography half of BISG), and the audit it gives."""
import numpy as np
import pandas as pd
import pytest

from mlecourse.lender.responsible import group_estimate
from mlecourse.lender.responsible.group_estimate import EstimateError

COUNTS = pd.DataFrame({"majority": [90, 30], "minority": [10, 70]}, index=["A", "B"])


def test_bayes_on_the_census_gives_each_place_its_share_or_the_prior_reweighted():
    p = group_estimate.group_probability(pd.Series(["A", "B", "C"]), COUNTS)
    assert p == pytest.approx([0.1, 0.7, 80 / 200])  # an unknown place gets the prior
    q = group_estimate.group_probability(pd.Series(["A"]), COUNTS, prior=0.2)
    # P(A | minority) = 10/80, P(A | others) = 90/120
    assert q[0] == pytest.approx(10 / 80 * 0.2 / (10 / 80 * 0.2 + 90 / 120 * 0.8))
    with pytest.raises(EstimateError, match="strictly between"):
        group_estimate.group_probability(pd.Series(["A"]), COUNTS, prior=1.0)
    with pytest.raises(EstimateError, match="no group 'other'"):
        group_estimate.group_probability(pd.Series(["A"]), COUNTS, focus="other")


def test_the_census_counts_people_by_place_and_group():
    people = pd.DataFrame({"neighbourhood": ["A", "A", "B"], "ethnicity": ["minority", "majority", "minority"]})
    assert group_estimate.census(people).loc["A", "minority"] == 1
    with pytest.raises(EstimateError, match="no 'postcode' column"):
        group_estimate.census(people, place="postcode")


def test_an_estimated_group_shrinks_the_gap_when_the_proxy_is_weak():
    rng = np.random.default_rng(0)
    truth = rng.random(20000) < 0.25
    refuse = rng.random(20000) < np.where(truth, 0.25, 0.15)
    proxy = np.clip(np.where(truth, 0.4, 0.2) + rng.normal(0, 0.05, 20000), 0.01, 0.49)
    gaps = group_estimate.audited_gaps(refuse, truth, proxy)
    assert gaps["true"] == pytest.approx(0.10, abs=0.015)
    assert 0 < gaps["weighted"] < gaps["true"] / 2
    assert np.isnan(gaps["thresholded"])  # nobody is likelier minority than not
