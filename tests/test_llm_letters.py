"""Refusal letters: the validator's rules, the fallback, and identical letters for counterfactual applicants."""
import pytest

from mlecourse.lender.responsible import reasons
from mlecourse.lender.llm import letters, runtime, tasks

INPUTS = ["monthly_debt", "annual_income", "credit_score"]
GOOD = ("Your monthly debt payments are high compared with your income, and your credit score is below "
        "that of most applicants we approve.")


def test_a_good_draft_passes_and_is_sent():
    assert letters.problems(GOOD, INPUTS) == []
    assert letters.compose(GOOD, INPUTS) == (GOOD, [])


@pytest.mark.parametrize("draft, expected", [
    ("Your income is low and your credit score is low.", "does not explain: monthly_debt"),
    (GOOD + " Applicants of your ethnicity are often refused.", "protected characteristic: ethnicity"),
    (GOOD + " At your age this is common.", "protected characteristic: age"),
    (GOOD + " We guarantee your next application will be approved.", "makes a promise"),
    (GOOD + " word" * 150, "longer than"),
    ("", "empty"),
])
def test_each_rule_catches_its_breach(draft, expected):
    assert any(expected in p for p in letters.problems(draft, INPUTS))


def test_words_inside_other_words_are_not_breaches():
    assert letters.problems(GOOD + " This message was sent on 3 May.", INPUTS) == []  # 'message', 'sent'


def test_a_failing_draft_falls_back_to_the_approved_sentences():
    text, problems = letters.compose("Sorry, no.", INPUTS)
    assert problems and text == " ".join(reasons.REASONS[i][1] for i in INPUTS)
    assert letters.problems(text, INPUTS) == []  # the fallback itself passes the rules


def test_review_flagged_reasons_cannot_be_drafted():
    with pytest.raises(KeyError, match="compliance review"):
        letters.problems(GOOD, ["age"])


def test_counterfactual_applicants_get_identical_letters():
    # the whole pipeline: the credit model's reasons for a refused applicant, then the draft; the same
    # applicant with ethnicity flipped must get the very same letter
    import numpy as np

    from mlecourse.lender import features
    from mlecourse.lender.modeling import model_cache
    from mlecourse.lender.data.loading import load_loans

    loans, _ = features.clean_loans(load_loans())
    train, _, test = features.split_by_date(loans)
    credit = model_cache.trained(train, "boosting")
    refused = test[credit.predict_proba(test[list(features.RAW_FEATURES)])[:, 1] > reasons.COSTS.threshold].head(1)
    flipped = refused.assign(ethnicity=np.where(refused["ethnicity"] == "majority", "minority", "majority"))
    model = runtime.LocalModel()
    drafts = []
    for applicant in (refused, flipped):
        explained = reasons.explain_applications(credit, applicant)[0]
        drafts.append(tasks.letter(model, [r for r in explained["reasons"] if not r["review"]], max_tokens=40).text)
    assert drafts[0] == drafts[1] and drafts[0]


def test_the_letter_lists_the_codes_and_the_rights():
    text = letters.letter_text(GOOD, [{"code": "R03", "text": reasons.REASONS["monthly_debt"][1]}])
    assert "R03" in text and "within 30 days" in text and "free copy" in text
