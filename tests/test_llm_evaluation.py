"""Evaluation: intervals that are right at the edges, property checks that catch invented numbers, kappa."""
import numpy as np
import pytest

from mlecourse.lender.llm import evaluation


def test_wilson_matches_the_textbook_and_stays_in_range():
    low, high = evaluation.wilson(0, 10)
    assert low == 0 and high == pytest.approx(0.2775, abs=1e-4)
    low, high = evaluation.wilson(8, 10)
    assert (low, high) == (pytest.approx(0.4902, abs=1e-4), pytest.approx(0.9433, abs=1e-4))
    assert evaluation.wilson(10, 10)[1] == 1 and evaluation.wilson(0, 3)[0] == 0
    for bad in [(1, 0), (5, 4), (-1, 3)]:
        with pytest.raises(ValueError):
            evaluation.wilson(*bad)


def test_rate_and_bootstrap_intervals_contain_the_estimate():
    r = evaluation.rate([True, False, True, True])
    assert r["rate"] == 0.75 and r["low"] < 0.75 < r["high"] and r["n"] == 4
    b = evaluation.bootstrap(np.arange(20.0), seed=1)
    assert b["low"] < b["value"] == 9.5 < b["high"]
    assert evaluation.bootstrap(np.arange(20.0), seed=1) == b  # the seed fixes it


PASSAGES = {"payments-2": "A late payment fee of 12 is charged when a repayment is more than 14 days late."}


def test_grounding_needs_a_given_passage_and_its_numbers():
    assert evaluation.grounded("The fee is 12.", "payments-2", PASSAGES)
    assert not evaluation.grounded("The fee is 15.", "payments-2", PASSAGES)  # an invented number
    assert not evaluation.grounded("The fee is 12.", "payments-9", PASSAGES)  # a passage it was not given
    assert evaluation.grounded("There is a fee.", "payments-2", PASSAGES)


def test_facts_match_whole_words_ignoring_case():
    assert evaluation.has_facts("It lasts 3 Months.", ["3 months"])
    assert not evaluation.has_facts("It lasts 13 months.", ["3 months"])
    assert not evaluation.has_facts("You do not need one.", ["no"])
    assert evaluation.has_facts("Anything", [])


def test_a_verdict_for_each_kind_of_answer():
    good = evaluation.judge_answer("A fee of 12 after 14 days.", "payments-2", PASSAGES, ["14 days"], True)
    assert good.correct and good.grounded and good.facts and not good.refused
    invented = evaluation.judge_answer("A fee of 15 after 14 days.", "payments-2", PASSAGES, ["14 days"], True)
    assert not invented.correct and invented.facts
    declined = evaluation.judge_answer(evaluation.REFUSAL, "none", PASSAGES, [], False)
    assert declined.correct and declined.refused
    made_up = evaluation.judge_answer("No, we do not offer that.", "none", PASSAGES, [], False)
    assert not made_up.correct  # citing nothing is not declining


def test_kappa_rewards_agreement_beyond_chance_only():
    people = [True] * 8 + [False] * 2
    says_yes = [True] * 10
    assert np.mean(np.equal(people, says_yes)) == 0.8 and evaluation.cohen_kappa(people, says_yes) == 0
    assert evaluation.cohen_kappa(people, people) == 1
    k = evaluation.kappa_interval(people * 3, (people[:9] + [True]) * 3, n_boot=200)
    assert k["low"] <= k["value"] <= k["high"]


def test_kappa_agrees_with_scikit_learn():
    from sklearn.metrics import cohen_kappa_score

    rng = np.random.default_rng(3)
    for _ in range(20):
        a, b = rng.integers(0, 2, 15).astype(bool), rng.integers(0, 2, 15).astype(bool)
        if len(set(a)) > 1 or len(set(b)) > 1:
            assert evaluation.cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))
