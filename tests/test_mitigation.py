"""Mitigation: reweighing's independence, policy thresholds and their limits, the true records."""
import numpy as np
import pandas as pd
import pytest

from mlecourse.lender.responsible import mitigation
from mlecourse.lender.responsible.mitigation import PolicyError


def test_reweighing_makes_group_and_outcome_independent():
    rng = np.random.default_rng(0)
    g = np.where(rng.random(5000) < 0.25, "minority", "majority")
    y = (rng.random(5000) < np.where(g == "minority", 0.2, 0.1)).astype(int)
    w = mitigation.reweighing_weights(y, g)
    weighted = pd.Series(w).groupby(g).apply(lambda s: np.average(y[s.index], weights=s))
    assert weighted["minority"] == pytest.approx(weighted["majority"], abs=1e-12)
    assert w.sum() == pytest.approx(len(y))


def test_reweighing_needs_every_cell():
    with pytest.raises(PolicyError, match="no rows of one outcome"):
        mitigation.reweighing_weights([0, 0, 1, 1], ["a", "a", "b", "b"])


def _scores():
    rng = np.random.default_rng(2)
    g = np.where(rng.random(4000) < 0.3, "minority", "majority")
    scores = np.clip(rng.beta(2, 12, 4000) + np.where(g == "minority", 0.04, 0), 0, 1)
    y = rng.random(4000) < scores
    return y, scores, g


@pytest.mark.parametrize("ratio", [0.9, 0.95, 1.0])
def test_policy_thresholds_meet_the_ratio(ratio):
    y, scores, g = _scores()
    result = mitigation.policy_thresholds(y, scores, g, ratio)
    assert result["ratio"] >= ratio
    assert result["thresholds"]["minority"] >= result["thresholds"]["others"]


def test_an_impossible_policy_says_what_is_possible():
    y, scores, g = _scores()
    with pytest.raises(PolicyError, match="no threshold meets an approval ratio of 3.*highest ratio") as err:
        mitigation.policy_thresholds(y, scores, g, 3)
    assert "\n" not in str(err.value)


def test_true_records_undo_the_penalty_for_the_minority_only():
    from mlecourse.lender.data import loans

    world = loans.simulate()
    sample = world.sample(2000, random_state=0)[["application_id", "credit_score", "ethnicity"]]
    fixed = mitigation.with_true_records(sample, world)
    diff = (fixed["credit_score"] - sample["credit_score"]).groupby(sample["ethnicity"]).mean()
    assert diff["majority"] == pytest.approx(0, abs=1e-9)
    assert 20 < diff["minority"] <= loans.BIAS_SCORE_PENALTY  # clipping at 300 can shorten it
    with pytest.raises(PolicyError, match="not in the generator's world"):
        mitigation.with_true_records(pd.DataFrame({"application_id": ["X1"]}), world)


def test_unknown_constraint_is_named():
    with pytest.raises(PolicyError, match="unknown constraint 'parity'"):
        mitigation.fit_exponentiated_gradient(pd.DataFrame(), constraint="parity")


def test_the_unconstrained_twin_fits_the_same_learner_on_the_same_rows(tiny_frame):
    from mlecourse.lender.modeling import estimators

    rows = mitigation.same_rows(tiny_frame, 2000, seed=3)
    assert rows.index.equals(mitigation.same_rows(tiny_frame, 2000, seed=3).index) and len(rows) == 2000
    twin = mitigation.fit_unconstrained(tiny_frame, rows=2000, seed=3)
    direct = estimators.train_model(rows, "logistic")
    assert np.allclose(twin[-1].coef_, direct[-1].coef_)
    assert type(twin[-1]).__name__ == "LogisticRegression"
