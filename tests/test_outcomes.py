"""What a lender sees of its outcomes: the approved loans only, or those and a random-approval
holdout weighted by the inverse of its propensity, against the truth a simulation knows."""
import numpy as np
import pandas as pd
import pytest

from mlecourse.lender.business import COSTS
from mlecourse.lender.monitoring import outcomes


def lending(n=60_000, share=0.05, seed=3):
    """Applications scored by a calibrated model; the model refuses above the cost threshold."""
    rng = np.random.default_rng(seed)
    score = rng.beta(1.2, 6, n)
    defaulted = (rng.random(n) < score).astype(float)
    ids = [f"A{i}" for i in range(n)]
    decision = np.where(score > COSTS.threshold, "refuse", "approve")
    frame = pd.concat([pd.DataFrame({"application_id": ids, "score": score, "decision": decision}),
                       outcomes.funding(decision, ids, share)], axis=1)
    truth = pd.Series(defaulted, index=ids)
    frame["defaulted"] = np.where(frame["funded"] == 1, defaulted, np.nan)  # only funded loans are known
    return frame, truth


def test_the_approved_loans_alone_understate_defaults_rank_worse_and_miss_every_wrong_refusal():
    frame, truth = lending()
    seen, true = outcomes.approved_view(frame), outcomes.true_view(frame, truth)
    assert seen["default_rate"] < 0.6 * true["default_rate"]
    assert seen["auc"] < true["auc"] - 0.05
    refuse = frame["decision"] == "refuse"
    missed_only = truth[~refuse.to_numpy()].sum() * COSTS.missed_default / len(frame)
    assert seen["cost"] == pytest.approx(missed_only)
    share = outcomes.wrong_refusal_share(truth, refuse)
    assert seen["cost"] == pytest.approx(true["cost"] * (1 - share))


def test_the_weighted_holdout_recovers_the_whole_population():
    frame, truth = lending()
    weighted, true = outcomes.weighted_view(frame), outcomes.true_view(frame, truth)
    assert weighted["default_rate"] == pytest.approx(true["default_rate"], abs=0.01)
    assert weighted["auc"] == pytest.approx(true["auc"], abs=0.02)
    assert weighted["cost"] == pytest.approx(true["cost"], rel=0.05)
    table = outcomes.views(frame, truth)
    assert list(table.index) == ["approved loans only", "approved + holdout, weighted",
                                 "every application (truth)"]


def test_without_a_holdout_the_weighted_view_is_the_approved_one():
    frame, truth = lending(share=0.0)
    assert frame.loc[frame["decision"] == "refuse", "defaulted"].isna().all()
    weighted, seen = outcomes.weighted_view(frame), outcomes.approved_view(frame)
    assert weighted["auc"] == pytest.approx(seen["auc"]) and weighted["labelled"] == seen["labelled"]


def test_the_holdout_costs_its_defaults_less_the_refusals_it_spared():
    frame = pd.DataFrame({"application_id": ["a", "b", "c", "d"], "holdout": [1, 1, 0, 0]})
    truth = pd.Series({"a": 1, "b": 0, "c": 0, "d": 1})
    expected = (COSTS.missed_default - COSTS.wrong_refusal) / 4
    assert outcomes.holdout_cost(frame, truth) == pytest.approx(expected)


def test_a_truth_missing_some_applications_is_refused():
    frame, truth = lending(n=100)
    with pytest.raises(ValueError, match="lacks the outcome"):
        outcomes.true_view(frame, truth.iloc[1:])
