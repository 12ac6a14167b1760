"""The promotion gate: every rule, its boundary, and a clear error for a missing metric."""
import pytest

from mlecourse.lender.mlops import gates

CHAMP = {"cost": 266.0, "auc": 0.868, "parity_gap": 0.08, "behaviour_failures": 0}


def cand(**changes):
    return {**CHAMP, **changes}


@pytest.mark.parametrize("candidate,promote", [
    (cand(), True),                                  # equal cost is not worse
    (cand(cost=265.9), True),
    (cand(cost=266.1), False),
    (cand(auc=0.864), True),                         # within the allowed drop
    (cand(auc=0.862), False),
    (cand(parity_gap=0.10), True),                   # the bound is inclusive
    (cand(parity_gap=0.11, cost=200.0), False),
    (cand(behaviour_failures=1, cost=200.0), False),
])
def test_each_rule_and_its_boundary(candidate, promote):
    assert gates.decide(candidate, CHAMP).promote is promote


def test_a_refusal_gives_every_reason():
    decision = gates.decide(cand(cost=300.0, auc=0.80, parity_gap=0.2), CHAMP)
    text = str(decision)
    assert not decision.promote and "cost" in text and "AUC" in text and "gap" in text


def test_first_model_meets_only_the_absolute_rules():
    assert gates.decide(cand(cost=999.0, auc=0.5), None).promote
    assert not gates.decide(cand(parity_gap=0.3), None).promote


def test_a_missing_metric_is_one_clear_line():
    with pytest.raises(gates.GateError) as error:
        gates.decide({"cost": 1.0, "auc": 0.8}, CHAMP)
    message = str(error.value)
    assert "'parity_gap'" in message and "pipeline.evaluate" in message and "\n" not in message
    with pytest.raises(gates.GateError, match="champion's metrics lack 'auc'"):
        gates.decide(CHAMP, {"cost": 1.0, "parity_gap": 0.0, "behaviour_failures": 0})
