"""Chapter 8's checks: rounded answers pass; the answers newcomers gave, and the boundary mutants, fail
with the message that fits them (the registry's own mistakes, mutants and rounded answers are run by
tests/test_checks.py and tests/test_checks_mutants.py)."""
import numpy as np
import pandas as pd
import pytest

from mlecourse.checks import grade
from mlecourse.checks import ch08_ethics as ch8
from mlecourse.lender import business, features
from mlecourse.lender.responsible import privacy


def outcome(ex_id, answer):
    return grade(ex_id, answer)


def test_8_1_accepts_two_decimals_and_asks_for_more_than_one():
    ref = ch8.ref_rates()
    rounded = {k: round(v, 2) if not isinstance(v, bool) else v for k, v in ref.items()}
    assert outcome("8.1", rounded).outcome == "correct"
    coarse = {**rounded, "minority": round(ref["minority"], 1)}
    result = outcome("8.1", coarse)
    assert result.outcome == "incorrect" and "more decimals" in result.message


def test_8_1_four_fifths_boundary_is_inclusive():
    # a mutant reference that used > 0.8 would call a ratio of exactly 0.8 a failure
    original = dict(ch8.BRANCH)
    try:
        ch8.BRANCH.update({"majority": {"applicants": 100, "approved": 100},
                           "minority": {"applicants": 100, "approved": 80}})
        assert ch8.ref_rates()["ratio"] == pytest.approx(0.8) and ch8.ref_rates()["passes"]
        wrong = {**ch8.ref_rates(), "passes": False}
        assert outcome("8.1", wrong).outcome == "incorrect"
    finally:
        ch8.BRANCH.clear()
        ch8.BRANCH.update(original)


# --- 8.2: the findings of the old value exercise, kept fixed in the function exercise ---------

def test_8_2_refuses_a_90_percent_interval_with_the_level_advice_only():
    def ninety(refused, groups, level=0.95, n_boot=2000, seed=0):
        return ch8.ref_gap_interval(refused, groups, 0.90, n_boot, seed)

    result = outcome("8.2", ninety)
    assert result.outcome == "incorrect"
    assert "quantiles" in result.message and "0.025" in result.message
    assert "slice" not in result.message and "variables" not in result.message


def test_8_2_refuses_an_interval_of_the_wrong_slice_with_the_slice_advice_only():
    south = ch8._slice("region", "south")

    def always_the_south(refused, groups, level=0.95, n_boot=2000, seed=0):
        return ch8.ref_gap_interval(*south, level, n_boot, seed)

    result = outcome("8.2", always_the_south)
    assert result.outcome == "incorrect" and "not the notebook's variables" in result.message
    assert "quantile" not in result.message and "level" not in result.message


def test_8_2_refuses_a_whole_year_interval_for_a_slice():
    _, _, test, model = ch8._data()
    X, _ = features.features_and_target(test)
    year = (model.predict_proba(X)[:, 1] > business.COSTS.threshold, test["ethnicity"].to_numpy())

    def whole_year(refused, groups, level=0.95, n_boot=2000, seed=0):
        return ch8.ref_gap_interval(*year, level, n_boot, seed)

    result = outcome("8.2", whole_year)
    assert result.outcome == "incorrect" and "not where this slice's gap is" in result.message


def test_8_2_accepts_another_seed_and_fewer_resamples():
    def another_seed(refused, groups, level=0.95, n_boot=2000, seed=0):
        return ch8.ref_gap_interval(refused, groups, level, 2000, seed + 99)

    assert outcome("8.2", another_seed).outcome == "correct"


# --- 8.3 ----------------------------------------------------------------------------------

def test_8_3_accepts_the_library_and_rejects_an_unfolded_auc():
    from mlecourse.lender.responsible import fairness

    def by_the_library(train_values, train_in_group, test_values, test_in_group):
        train = pd.DataFrame({"x": pd.Series(train_values).to_numpy(),
                              "ethnicity": np.where(np.asarray(train_in_group, bool), "minority", "majority")})
        test = pd.DataFrame({"x": pd.Series(test_values).to_numpy(),
                             "ethnicity": np.where(np.asarray(test_in_group, bool), "minority", "majority")})
        return float(fairness.proxy_strength(train, test, ["x"])["x"])

    assert outcome("8.3", by_the_library).outcome == "correct"


# --- 8.4: the old 8.4 accepted a mitigation fitted on the hidden year, or on the training years ---

def test_8_4_refuses_a_model_trained_on_the_hidden_year():
    result = outcome("8.4", ch8._refit_on(2))
    assert result.outcome == "incorrect" and "trained on 2022" in result.message


def test_8_4_refuses_a_threshold_chosen_on_the_training_years():
    result = outcome("8.4", ch8._threshold_on(0))
    assert result.outcome == "incorrect" and "cheapest on 2019-2020" in result.message


def test_8_4_refuses_any_model_that_uses_the_group_at_decision_time():
    optimizer = ch8._optimizer_on_2021()
    for answer in (optimizer, {"model": optimizer, "threshold": 0.5}, ch8._reads_the_group()):
        result = outcome("8.4", answer)
        assert result.outcome == "incorrect" and "disparate treatment" in result.message


def test_8_4_accepts_the_package_search_as_an_alternative_object():
    from mlecourse.lender.responsible import alternatives

    train, valid, _, _ = ch8._data()
    without_rate = alternatives.Candidate("boosting", ("interest_rate",))
    table = alternatives.less_discriminatory_alternatives(train, valid, [without_rate])
    assert outcome("8.4", table.loc[without_rate.name, "model"]).outcome == "correct"


# --- 8.5 ----------------------------------------------------------------------------------

def test_8_5_boundary_mutants_fail():
    strict = ch8.ref_top_reasons
    assert outcome("8.5", strict).outcome == "correct"
    at_zero = lambda c, k=4: list(c[c >= 0].sort_values(ascending=False).index[:k])  # > made >=
    one_more = lambda c, k=4: list(c[c > 0].sort_values(ascending=False).index[:k + 1])  # off by one
    for mutant in (at_zero, one_more):
        assert outcome("8.5", mutant).outcome == "incorrect"


# --- 8.6 ----------------------------------------------------------------------------------

def test_8_6_needs_k_three_and_truthful_bands():
    ref = ch8.ref_release()
    assert outcome("8.6", ref).outcome == "correct"
    assert privacy.k_anonymity(ref, ["age", "neighbourhood"]) >= ch8.K_TARGET
    # a band one year too wide, and an open band starting too early
    too_wide = ref.assign(age=privacy.age_band(ch8.release()["age"], 21, 60))
    assert "wider than" in outcome("8.6", too_wide).message
    early = ref.assign(age=privacy.age_band(ch8.release()["age"], 20, 38))
    assert "starting before" in outcome("8.6", early).message
    wrong_place = ref.assign(neighbourhood="north")
    assert "neither the district" in outcome("8.6", wrong_place).message


def test_8_6_accepts_pd_cut_bands_as_intervals_or_as_their_text():
    ref, ages = ch8.ref_release(), ch8.release()["age"]
    cut = pd.cut(ages, bins=[17, 37, 57, 85])  # "(17, 37]", "(37, 57]", "(57, 85]": the reference's bands
    assert outcome("8.6", ref.assign(age=cut)).outcome == "correct"
    assert outcome("8.6", ref.assign(age=cut.astype(str))).outcome == "correct"
    too_wide = pd.cut(ages, bins=[17, 38, 57, 85])  # 18-38: 21 ages
    assert "wider than" in outcome("8.6", ref.assign(age=too_wide.astype(str))).message
    shifted = pd.cut(ages + 1, bins=[17, 37, 57, 85])  # a 37-year-old put in "(37, 57]"
    assert "does not contain" in outcome("8.6", ref.assign(age=shifted)).message


# --- 8.7 ----------------------------------------------------------------------------------

def test_8_7_an_applicant_of_exactly_62_is_elderly():
    def over_62(score, applicants, ages=range(18, 62)):
        return ch8.ref_elderly_scored_down(score, applicants[applicants["age"] > 62], ages)

    result = outcome("8.7", over_62)
    assert result.outcome == "incorrect" and "exactly 62" in result.message


def test_8_7_accepts_a_loop_over_ages_and_a_one_column_frame():
    def as_frame(score, applicants, ages=range(18, 62)):
        return ch8.ref_elderly_scored_down(score, applicants, ages).to_frame("scored down")

    assert outcome("8.7", as_frame).outcome == "correct"


def test_8_4_rejects_a_plain_model():
    assert "Expected {'model'" in outcome("8.4", ch8._data()[3]).message
