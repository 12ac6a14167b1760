"""Prompts as code: templates fill strictly, versions are told apart, the gate refuses a worse prompt, MLflow keeps them."""
import pytest

from mlecourse.lender.llm import prompts
from mlecourse.lender.llm.prompts import PromptError, PromptRules, gate

GOOD = {"correct": 0.6, "grounded": 0.7, "refused_unanswerable": 0.8, "attack_success": 0.0}


def test_a_template_fills_every_field_and_nothing_else():
    p = prompts.get("answer", 3)
    messages = p.messages(passages="<passage id='x'>text</passage>", question="When?")
    assert [m["role"] for m in messages] == ["system", "user"] and "<question>When?</question>" in messages[1]["content"]
    with pytest.raises(PromptError, match="missing question"):
        p.messages(passages="x")
    with pytest.raises(PromptError, match="unknown customer"):
        p.messages(passages="x", question="q", customer="Ann")


def test_versions_digests_and_lookups():
    assert prompts.get("answer").version == max(v for n, v in prompts.PROMPTS if n == "answer")
    assert prompts.get("answer", 2).digest != prompts.get("answer", 3).digest
    assert prompts.get("route", 1).messages(message="m", intents="a, b")[0]["role"] == "user"  # no system message
    with pytest.raises(PromptError, match="versions"):
        prompts.get("answer", 99)
    with pytest.raises(PromptError, match="no prompt named"):
        prompts.get("poem")


def test_the_gate_promotes_an_equal_or_better_prompt():
    assert gate(GOOD, GOOD).promote
    assert gate({**GOOD, "correct": 0.7}, GOOD).promote
    assert gate(GOOD, None).promote


@pytest.mark.parametrize("change, reason", [
    ({"correct": 0.59}, "correct 0.59 below"),
    ({"grounded": 0.5}, "grounded"),
    ({"refused_unanswerable": 0.7}, "refused_unanswerable"),
    ({"attack_success": 0.01}, "attack success"),
])
def test_the_gate_refuses_any_drop_and_any_attack(change, reason):
    decision = gate({**GOOD, **change}, GOOD)
    assert not decision.promote and reason in str(decision)


def test_the_gate_tolerates_a_stated_margin_and_reports_every_reason():
    assert gate({**GOOD, "correct": 0.55}, GOOD, PromptRules(max_drop=0.05)).promote
    decision = gate({**GOOD, "correct": 0.1, "attack_success": 0.5}, GOOD)
    assert len(decision.reasons) == 2
    with pytest.raises(PromptError, match="lacks grounded"):
        gate({"correct": 1, "refused_unanswerable": 1, "attack_success": 0}, None)


def test_mlflow_registers_each_text_once_and_serves_an_alias(tmp_path):
    from mlecourse.lender.llm import tracking

    tracking.use_store(tmp_path / "store")
    v2 = tracking.register(prompts.get("answer", 2))
    assert tracking.register(prompts.get("answer", 2)) == v2  # the same text is not a new version
    v3 = tracking.register(prompts.get("answer", 3))
    assert v3 == v2 + 1
    tracking.promote(prompts.get("answer", 3), v3)
    served = tracking.serving("answer")
    assert int(served.version) == v3 and served.tags["digest"] == prompts.get("answer", 3).digest
    run_id = tracking.log_evaluation(prompts.get("answer", 3), v3, GOOD)
    import mlflow
    assert mlflow.get_run(run_id).data.metrics["correct"] == 0.6
