"""A/B statistics: sticky arms, sample size (formula and simulation), the two-proportion test."""
import numpy as np
import pytest
from scipy import stats

from mlecourse.lender.rollout import abtest, strategies


def test_assign_arm_is_sticky_by_customer_with_the_requested_share():
    customers = [f"C{i}" for i in range(10_000)]
    arms = abtest.assign_arm(customers, share_b=0.2)
    assert set(arms) == {"A", "B"}
    assert abs((arms == "B").mean() - 0.2) < 0.02
    repeat = abtest.assign_arm(customers[:10] * 3, share_b=0.2)
    assert list(repeat) == list(arms[:10]) * 3
    with pytest.raises(ValueError):
        abtest.assign_arm(customers, share_b=1.5)


def test_sample_size_matches_the_textbook_formula_and_a_simulation():
    # Fleiss' formula without continuity correction: 10% vs 15%, 5% two-sided, 80% power.
    n = abtest.sample_size_per_arm(0.10, 0.15)
    assert n == 686
    assert abtest.sample_size_per_arm(0.15, 0.10) == n
    assert abtest.sample_size_per_arm(0.10, 0.15, power=0.9) > n
    assert abtest.simulated_power(0.10, 0.15, n, simulations=4000) == pytest.approx(0.8, abs=0.03)
    for bad in [(0.1, 0.1), (0.0, 0.1), (0.1, 1.0)]:
        with pytest.raises(ValueError):
            abtest.sample_size_per_arm(*bad)


def test_two_proportion_test_agrees_with_chi_square():
    result = abtest.two_proportion_test(120, 1000, 90, 1000)
    chi2, p, _, _ = stats.chi2_contingency([[120, 880], [90, 910]], correction=False)
    assert result["p_value"] == pytest.approx(p, rel=1e-9)
    assert result["z"] ** 2 == pytest.approx(chi2, rel=1e-9)
    assert result["difference"] == pytest.approx(-0.03)
    assert abtest.two_proportion_test(0, 10, 0, 10)["p_value"] == 1.0
    with pytest.raises(ValueError):
        abtest.two_proportion_test(11, 10, 1, 10)


def test_simulated_power_is_alpha_when_there_is_no_effect():
    assert abtest.simulated_power(0.1, 0.1, 2000, simulations=8000) == pytest.approx(0.05, abs=0.01)


def test_arms_use_the_router_hash_with_their_own_salt():
    customers = [f"C{i}" for i in range(2000)]
    arms = abtest.assign_arm(customers, share_b=0.5, salt="exp")
    expected = np.where(strategies.bucket(customers, "exp") < 0.5, "B", "A")
    np.testing.assert_array_equal(arms, expected)
    other = abtest.assign_arm(customers, share_b=0.5, salt="other")
    assert 0.4 < (arms == other).mean() < 0.6  # another salt: an independent split
