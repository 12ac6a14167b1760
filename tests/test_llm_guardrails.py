"""Guardrails: each rule on the course's attacks, on look-alikes it must let through, and on ordinary traffic."""
import pytest

from mlecourse.lender.llm import corpus, guardrails, prompts


def test_personal_data_is_redacted():
    text = ("Ann, card 4929 1234 5678 9012, phone +44 7700 900123, mail ann.smith@example.com, "
            "IBAN GB33BUKB20201555555555, SSN 123-45-6789, postcode SW1A 1AA, application 55812.")
    clean = guardrails.redact(text)
    for secret in ("4929", "7700", "ann.smith", "GB33", "123-45", "SW1A"):
        assert secret not in clean
    assert "application 55812" in clean  # a short reference is not personal data by itself
    assert guardrails.redact("The fee is 12 after 14 days.") == "The fee is 12 after 14 days."


def test_the_screen_refuses_every_harmful_request_and_no_look_alike():
    jail = corpus.jailbreaks()
    verdicts = jail["text"].map(guardrails.screen_request)
    assert verdicts[jail["harmful"]].notna().all()
    assert verdicts[~jail["harmful"]].isna().all()


def test_the_screen_lets_ordinary_traffic_through():
    # messages and questions it was not written against
    ordinary = list(corpus.intents()["message"]) + list(corpus.questions()["question"])
    refused = [m for m in ordinary if guardrails.screen_request(m)]
    assert refused == []


def test_the_document_scan_quarantines_planted_text_and_no_real_policy():
    planted = corpus.attacks().query("channel == 'document'")["text"]
    assert all(guardrails.scan_document(t) for t in planted)
    assert not any(guardrails.scan_document(p) for d in corpus.policies() for p in d.paragraphs)


def test_links_are_allowed_only_to_the_lenders_domains():
    assert guardrails.foreign_links("write to complaints@fernbank.example or https://www.fernbank.example/help") == []
    assert guardrails.foreign_links("pay at http://fernbank-pay.example.net/x") == ["http://fernbank-pay.example.net/x"]
    assert guardrails.foreign_links("see http://evil.example/fernbank.example") != []


@pytest.mark.parametrize("output, problems", [
    ("Your loan is approved.", ["approves or promises"]),
    ("Pay at http://pay-fernbank.example.org now.", ["links outside the lender"]),
    ("The late fee is 12.", []),
])
def test_the_output_check(output, problems):
    assert guardrails.check_output(output) == problems


def test_a_leak_is_consecutive_words_of_the_system_prompt():
    system = prompts.get("answer", 3).system
    assert guardrails.leaked("Sure: " + " ".join(system.split()[3:12]), system)
    assert not guardrails.leaked("I answer questions about loans.", system)
    assert guardrails.attack_succeeded("leak", system, system)
    with pytest.raises(ValueError, match="unknown attack goal"):
        guardrails.attack_succeeded("poem", "", system)
