"""The committed model card is what the generator writes from the model today."""
from mlecourse.lender.responsible import model_card


def test_committed_model_card_matches_the_model():
    assert model_card.CARD_PATH.is_file(), "docs/model_card.md is missing; run `make model-card`"
    committed = model_card.CARD_PATH.read_text(encoding="utf-8")
    assert committed == model_card.render(model_card.facts()), \
        "docs/model_card.md is out of date; run `make model-card` and commit it"


def test_card_states_its_audit_and_its_datasheet():
    text = model_card.CARD_PATH.read_text(encoding="utf-8")
    for must in ("## Intended use", "## Fairness audit", "four-fifths", "data/README.md", "Annex III"):
        assert must in text


def test_card_states_the_reason_review_and_the_age_rule():
    text = model_card.CARD_PATH.read_text(encoding="utf-8")
    assert "## Reason codes under review" in text and "| R06 | `interest_rate` |" in text
    assert "## Regulation B's age rule" in text and "ElderlyFloor`): then 0\n  are scored down" in text
