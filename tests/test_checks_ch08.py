"""Chapter 8's checks: rounded answers pass, boundary mutants of each reference fail."""
import pytest

from mlecourse.checks import grade
from mlecourse.checks import ch08_ethics as ch8
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


def test_8_2_accepts_another_seed_and_rejects_an_interval_of_the_wrong_slice():
    ref = ch8.ref_interval()
    moved = {"low": round(ref["low"], 3) + 0.004, "high": round(ref["high"], 3) - 0.003, "clear": ref["clear"]}
    assert outcome("8.2", moved).outcome == "correct"
    shifted = {"low": ref["low"] + 0.03, "high": ref["high"] + 0.03, "clear": ref["clear"]}
    assert "not where" in outcome("8.2", shifted).message


def test_8_3_accepts_spacing_and_rejects_unknown_columns():
    assert outcome("8.3", " interest_rate ").outcome == "correct"
    assert "not a column" in outcome("8.3", "postcode").message


def test_8_5_boundary_mutants_fail():
    strict = ch8.ref_top_reasons
    assert outcome("8.5", strict).outcome == "correct"
    at_zero = lambda c, k=4: list(c[c >= 0].sort_values(ascending=False).index[:k])  # > made >=
    one_more = lambda c, k=4: list(c[c > 0].sort_values(ascending=False).index[:k + 1])  # off by one
    for mutant in (at_zero, one_more):
        assert outcome("8.5", mutant).outcome == "incorrect"


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


def test_8_4_rejects_a_plain_model():
    assert "ThresholdOptimizer" in outcome("8.4", ch8._data()[3]).message
