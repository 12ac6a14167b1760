"""Workbook 5's checks, tried as a newcomer would: the sample size is a function
run on tests the learner has not seen; plausible mistakes get their message; a
wrong rollout choice is explained without naming the right one."""
import math

import numpy as np
import pytest
from scipy import stats

from mlecourse.checks import ____, grade
from mlecourse.checks import ch05_deployment as c5


def verdict(ex_id, answer):
    result = grade(ex_id, answer)
    return result.outcome, result.message


def test_5_3_the_size_is_a_function_of_the_rates_level_and_power():
    def size(p_a, p_b, alpha=0.05, power=0.8):
        p = (p_a + p_b) / 2
        z_a, z_b = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)
        spread = z_a * math.sqrt(2 * p * (1 - p)) + z_b * math.sqrt(p_a * (1 - p_a) + p_b * (1 - p_b))
        return math.ceil(spread ** 2 / (p_a - p_b) ** 2)
    assert verdict("5.3", size)[0] == "correct"
    outcome, message = verdict("5.3", c5.ref_sample_size())
    assert outcome == "incorrect" and "expected a function" in message.lower()


def test_5_3_a_size_that_ignores_alpha_and_power_is_caught():
    outcome, message = verdict("5.3", lambda p_a, p_b, alpha=0.05, power=0.8: c5.ref_size_function(p_a, p_b))
    assert outcome == "incorrect" and "the alpha and power you are given" in message


def test_5_3_a_fraction_of_a_loan_is_rounded_up():
    outcome, message = verdict("5.3", lambda p_a, p_b, alpha=0.05, power=0.8: c5._exact_size(p_a, p_b, alpha, power))
    assert outcome == "incorrect" and "round up" in message


def test_5_3_cases_reach_other_levels_powers_and_a_rise():
    alphas = {c[2] for c in c5.SIZE_CASES}
    powers = {c[3] for c in c5.SIZE_CASES}
    assert len(alphas) > 1 and len(powers) > 1 and any(c[1] > c[0] for c in c5.SIZE_CASES)


@pytest.mark.parametrize("p_value,phrase", [(7.6, "between 0 and 1"), (0.038, "one-sided"), (0.08, "rounded")])
def test_5_4_names_each_plausible_mistake(p_value, phrase):
    outcome, message = verdict("5.4", {"p_value": p_value, "significant": False})
    assert outcome == "incorrect" and phrase in message, message


@pytest.mark.parametrize("p_value", [0.076, 0.0761, c5.ref_ab_decision()["p_value"]])
def test_5_4_a_p_value_to_two_significant_figures_or_more_is_right(p_value):
    assert verdict("5.4", {"p_value": p_value, "significant": False})[0] == "correct"


def test_5_1_latency_rounded_to_a_tenth_and_a_hundredth_is_right():
    ref = c5.ref_latency()
    assert verdict("5.1", {"p95_ms": round(ref["p95_ms"], 1), "overhead_ms": round(ref["overhead_ms"], 2)})[0] == "correct"
    outcome, message = verdict("5.1", {"p95_ms": float(np.quantile(c5._timings()[1], 0.95)),
                                       "overhead_ms": ref["overhead_ms"]})
    assert outcome == "correct", message


WRONG_STRATEGIES = [(letter, s) for letter, (right, _) in c5.SCENARIOS.items() for s in c5.STRATEGIES if s != right]


@pytest.mark.parametrize("letter,wrong", WRONG_STRATEGIES)
def test_5_6_a_wrong_strategy_is_explained_without_naming_the_right_one(letter, wrong):
    right = c5.SCENARIOS[letter][0]
    outcome, message = verdict("5.6", {**c5.ref_strategies(), letter: wrong})
    assert outcome == "incorrect" and f"scenario {letter}" in message.lower()
    names = {"ab": ("a/b", " ab "), "blue-green": ("blue-green",), "canary": ("canary",), "shadow": ("shadow",)}
    said = f" {message.lower()} ".split(". stuck?")[0]
    assert not any(name in said for name in names[right]), message


@pytest.mark.parametrize("ex_id", ["5.1", "5.2", "5.3", "5.4", "5.5", "5.6"])
def test_placeholder_is_not_attempted(ex_id):
    assert verdict(ex_id, ____)[0] == "not attempted"
