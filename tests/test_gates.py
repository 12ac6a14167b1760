"""The promotion gate: every rule, its boundary, the paired bootstrap behind the cost rule, and a
clear error for a missing metric."""
import numpy as np
import pytest

from mlecourse.lender.mlops import gates

RNG = np.random.default_rng(7)
BASE = np.where(RNG.random(4000) < 0.12, 5000.0, np.where(RNG.random(4000) < 0.1, 1000.0, 0.0))


def metrics(costs, **changes):
    return {"cost": float(np.mean(costs)), "auc": 0.868, "parity_gap": 0.08, "behaviour_failures": 0,
            "costs": np.asarray(costs, float), **changes}


CHAMP = metrics(BASE)


def cheaper_by(amount, noise=0.0, seed=1):
    """The champion's costs, lower by ``amount`` per application on average, with paired noise."""
    rng = np.random.default_rng(seed)
    return BASE - amount + noise * rng.standard_normal(BASE.size)


def test_a_clear_saving_beyond_the_margin_promotes():
    decision = gates.decide(metrics(cheaper_by(20.0, noise=50)), CHAMP)
    assert decision.promote and decision.difference.upper < -gates.Rules().cost_margin
    assert "cheaper beyond the margin" in str(decision)


def test_a_saving_smaller_than_the_margin_does_not():
    decision = gates.decide(metrics(cheaper_by(0.5)), CHAMP)  # sure, but below the 1-unit margin
    assert not decision.promote and "not surely cheaper" in str(decision)
    assert decision.difference.mean == pytest.approx(-0.5) and decision.difference.upper == pytest.approx(-0.5)
    assert gates.decide(metrics(cheaper_by(0.5)), CHAMP, gates.Rules(cost_margin=0.4)).promote


def test_a_saving_lost_in_noise_does_not_promote_although_its_point_estimate_is_lower():
    noisy = metrics(cheaper_by(5.0, noise=800))
    decision = gates.decide(noisy, CHAMP)
    assert noisy["cost"] < CHAMP["cost"] - 1 and not decision.promote
    assert decision.difference.lower < decision.difference.mean < decision.difference.upper


def test_equal_models_do_not_promote():
    assert not gates.decide(metrics(BASE), CHAMP).promote


@pytest.mark.parametrize("changes,promote", [
    ({"auc": 0.864}, True),                          # within the allowed drop
    ({"auc": 0.862}, False),
    ({"parity_gap": 0.10}, True),                    # the policy's bound is inclusive
    ({"parity_gap": 0.11}, False),
    ({"behaviour_failures": 1}, False),
])
def test_each_other_rule_and_its_boundary(changes, promote):
    assert gates.decide(metrics(cheaper_by(20.0), **changes), CHAMP).promote is promote


def test_a_gap_wider_than_the_policy_passes_only_if_the_champion_s_is_as_wide():
    wide_champion = {**CHAMP, "parity_gap": 0.13}
    assert gates.decide(metrics(cheaper_by(20.0), parity_gap=0.13), wide_champion).promote
    refused = gates.decide(metrics(cheaper_by(20.0), parity_gap=0.131), wide_champion)
    assert not refused.promote and "wider than the champion's 0.130" in str(refused)
    first = gates.decide(metrics(BASE, parity_gap=0.12), None)
    assert not first.promote and "above the policy's 0.1" in str(first)


def test_a_refusal_gives_every_reason():
    decision = gates.decide(metrics(cheaper_by(-30.0), auc=0.80, parity_gap=0.2), CHAMP)
    text = str(decision)
    assert not decision.promote and "cost difference" in text and "AUC" in text and "gap" in text


def test_first_model_meets_only_the_absolute_rules():
    assert gates.decide(metrics(BASE + 900, auc=0.5), None).promote
    assert not gates.decide(metrics(BASE, parity_gap=0.3), None).promote


def test_the_bootstrap_is_paired_weighted_and_repeatable():
    a, b = cheaper_by(3.0, noise=20), BASE
    once = gates.paired_difference(a, b, seed=3)
    assert once == gates.paired_difference(a, b, seed=3)
    unpaired_spread = np.std(a) / np.sqrt(a.size) + np.std(b) / np.sqrt(b.size)
    assert once.upper - once.mean < unpaired_spread  # pairing removes what both share
    weights = np.where(np.arange(a.size) < 100, 20.0, 1.0)
    weighted = gates.paired_difference(a, b, weights, seed=3)
    assert weighted.mean == pytest.approx(np.average(a - b, weights=weights))
    with pytest.raises(gates.GateError, match="same applications"):
        gates.paired_difference(a, b[:-1])
    with pytest.raises(gates.GateError, match="positive"):
        gates.paired_difference(a, b, np.zeros_like(a))


def test_a_missing_metric_is_one_clear_line():
    with pytest.raises(gates.GateError) as error:
        gates.decide({"cost": 1.0, "auc": 0.8}, CHAMP)
    message = str(error.value)
    assert "'parity_gap'" in message and "pipeline.evaluate" in message and "\n" not in message
    with pytest.raises(gates.GateError, match="champion's metrics lack 'parity_gap', 'costs'"):
        gates.decide(CHAMP, {"cost": 1.0, "auc": 0.8})
