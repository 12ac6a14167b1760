"""The search for a less discriminatory alternative: candidates, the choice rule and its edges, the real search."""
import numpy as np
import pandas as pd
import pytest

from mlecourse.lender import business, features
from mlecourse.lender.responsible import alternatives, mitigation
from mlecourse.lender.responsible.alternatives import Candidate, SearchError


def test_a_candidate_names_itself_and_refuses_unknown_inputs_and_thresholds():
    assert Candidate("logistic", ("interest_rate",)).name == "logistic, without interest_rate, cost threshold"
    with pytest.raises(SearchError, match="ethnicity is not a model input"):
        Candidate("boosting", ("ethnicity",))
    with pytest.raises(SearchError, match="threshold must be one of"):
        Candidate("boosting", (), "lowest")


def _table(rows):
    """A search result with the columns choose_alternative reads."""
    return pd.DataFrame(rows, columns=["candidate", "cost", "approval_gap", "uses_protected_attribute"]
                        ).set_index("candidate")


def test_the_choice_keeps_candidates_within_the_cost_allowance_inclusive():
    table = _table([("base", 100.0, 0.07, False), ("at the limit", 101.0, 0.03, False),
                    ("just over", 101.0001, 0.01, False), ("fair but unlawful", 99.0, 0.00, True)])
    assert alternatives.choose_alternative(table, "base", max_extra_cost=0.01) == "at the limit"
    assert alternatives.choose_alternative(table, "base", max_extra_cost=0.0) == "base"


def test_ties_in_gap_go_to_the_cheaper_and_bad_arguments_are_named():
    table = _table([("base", 100.0, 0.07, False), ("dear", 100.5, 0.03, False), ("cheap", 99.5, 0.03, False)])
    assert alternatives.choose_alternative(table, "base") == "cheap"
    with pytest.raises(SearchError, match="baseline 'nope' is not among"):
        alternatives.choose_alternative(table, "nope")
    with pytest.raises(SearchError, match="at least 0"):
        alternatives.choose_alternative(table, "base", max_extra_cost=-0.1)
    unlawful = _table([("base", 100.0, 0.07, True)])
    with pytest.raises(SearchError, match="baseline itself uses"):
        alternatives.choose_alternative(unlawful, "base")


def test_the_cheapest_threshold_is_the_cheapest_on_a_grid():
    rng = np.random.default_rng(0)
    scores = rng.random(2000)
    y = rng.random(2000) < scores * 0.4
    best = alternatives.cheapest_threshold(y, scores)
    grid = np.quantile(scores, np.linspace(0.005, 0.995, 199))
    assert business.decision_cost(y, scores > best) <= min(business.decision_cost(y, scores > t) for t in grid)


def test_halves_cut_at_the_median_date_and_refuse_a_single_day():
    frame = pd.DataFrame({features.DATE: pd.to_datetime(["2021-01-01", "2021-02-01", "2021-08-01", "2021-09-01"])})
    earlier, later = alternatives.halves(frame)
    assert earlier[features.DATE].max() < later[features.DATE].min() and len(earlier) == len(later) == 2
    with pytest.raises(SearchError, match="single day"):
        alternatives.halves(frame.assign(**{features.DATE: pd.Timestamp("2021-01-01")}))


@pytest.fixture(scope="module")
def search(loan_windows):
    from threadpoolctl import threadpool_limits

    train, valid = loan_windows
    candidates = [Candidate("logistic"), Candidate("logistic", ("interest_rate",), "cheapest")]
    with threadpool_limits(1):
        return alternatives.less_discriminatory_alternatives(train, valid, candidates), train, valid


def test_the_search_never_decides_with_the_group_and_judges_where_no_threshold_was_set(search):
    table, train, valid = search
    assert not table["uses_protected_attribute"].any()
    blind = table.loc["logistic, without interest_rate, cheapest threshold", "model"]
    assert "interest_rate" not in blind.inputs and "ethnicity" not in blind.inputs
    X = valid[list(features.RAW_FEATURES)]
    moved = X.assign(interest_rate=X["interest_rate"] + 5)
    assert np.array_equal(blind.predict_proba(X), blind.predict_proba(moved))  # the rate no longer counts
    tune, judge = alternatives.halves(valid)
    chosen_on = alternatives.cheapest_threshold(tune["defaulted"], blind.predict_proba(tune)[:, 1])
    assert blind.threshold == pytest.approx(chosen_on)
    assert table.loc[blind.candidate.name, "cost"] == pytest.approx(alternatives.scores(blind, judge)["cost"])


def test_the_search_refuses_an_attribute_the_model_reads(loan_windows):
    train, valid = loan_windows
    with pytest.raises(SearchError, match="'region' is a model input"):
        alternatives.less_discriminatory_alternatives(train, valid, [Candidate("logistic")], sensitive="region")


def test_mitigation_re_exports_the_search():
    assert mitigation.less_discriminatory_alternatives is alternatives.less_discriminatory_alternatives
