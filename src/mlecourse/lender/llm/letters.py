"""Refusal letters: a model may draft the words, code decides whether they are sent.

A letter that gives the principal reasons for a refusal is a legal document
(chapter 8's reason codes). :func:`problems` checks a draft against the
rules a compliance officer would apply: every reason is explained, no
protected characteristic is named, nothing is promised. A draft that fails
is never sent: :func:`compose` falls back to the reasons' own wording.
"""
from __future__ import annotations

import re

from mlecourse.lender.responsible.reasons import REASONS

# The words by which a sentence can be recognised as explaining each reason.
REASON_TERMS: dict[str, tuple[str, ...]] = {
    "credit_score": ("credit score", "bureau score", "credit rating"),
    "previous_defaults": ("default", "missed payments", "credit history"),
    "monthly_debt": ("debt",),
    "annual_income": ("income", "earnings"),
    "loan_amount": ("amount", "borrow"),
    "interest_rate": ("interest rate", "rate"),
    "loan_term_months": ("term",),
    "employment_years": ("job", "employment", "employed"),
    "employment_type": ("employment", "self-employed", "contract"),
    "num_credit_lines": ("credit accounts", "credit history", "credit lines"),
    "loan_purpose": ("purpose",),
    "home_ownership": ("housing", "home", "rent", "mortgage"),
}
# Protected characteristics (US Regulation B's prohibited bases and the EU's special categories).
PROTECTED = ("ethnic", "ethnicity", "race", "racial", "colou?r of (?:your|their) skin", "religio\\w*", "faith",
             "sex", "gender", "marital", "married", "single parent", "pregnan\\w*", "disab\\w*", "national origin",
             "nationality", "age", "aged", "too old", "too young", "elderly", "minority", "immigra\\w*")
PROMISES = ("guarantee\\w*", "promise\\w*", "will (?:certainly |surely |definitely )?be approved",
            "will approve", "assured", "next application will", "approval is certain")
MAX_WORDS = 150


def _find(patterns, text: str) -> list[str]:
    return [m.group(0) for p in patterns for m in re.finditer(rf"(?<!\w){p}(?!\w)", text, flags=re.I)]


def missing_reasons(draft: str, inputs: list[str]) -> list[str]:
    """The reasons (by input name) that no sentence of the draft explains."""
    return [name for name in inputs if not _find([re.escape(t) for t in REASON_TERMS[name]], draft)]


def problems(draft: str, inputs: list[str]) -> list[str]:
    """Every rule the draft breaks, in words; an empty list means it may be sent."""
    found = []
    if not draft.strip():
        return ["the draft is empty"]
    unknown = [name for name in inputs if name not in REASON_TERMS]
    if unknown:
        raise KeyError(f"no letter wording for {', '.join(unknown)}: these reasons go to compliance review")
    if missing := missing_reasons(draft, inputs):
        found.append(f"does not explain: {', '.join(missing)}")
    if protected := _find(PROTECTED, draft):
        found.append(f"names a protected characteristic: {', '.join(sorted(set(p.lower() for p in protected)))}")
    if promise := _find(PROMISES, draft):
        found.append(f"makes a promise: {', '.join(sorted(set(p.lower() for p in promise)))}")
    if len(draft.split()) > MAX_WORDS:
        found.append(f"longer than {MAX_WORDS} words")
    return found


def template_paragraph(inputs: list[str]) -> str:
    """The fallback: each reason's approved sentence, in order of importance."""
    return " ".join(REASONS[name][1] for name in inputs)


def compose(draft: str | None, inputs: list[str]) -> tuple[str, list[str]]:
    """The paragraph to send, and the problems that made us set the draft aside (if any)."""
    issues = problems(draft or "", inputs)
    return (draft.strip(), []) if not issues else (template_paragraph(inputs), issues)


def letter_text(paragraph: str, reasons: list[dict], bureau: str = "the credit bureau") -> str:
    """The whole letter: fixed wording around the paragraph, with the reason codes listed."""
    listed = "\n".join(f"  {r['code']}: {r['text']}" for r in reasons)
    return (f"Dear applicant,\n\nThank you for applying to Fernbank Lending. We are unable to offer you a loan.\n\n"
            f"{paragraph}\n\nThe principal reasons for our decision, most important first:\n{listed}\n\n"
            f"We used a report from {bureau}; you can get a free copy of it within 60 days. You can ask for a "
            f"person to review this decision within 30 days of this letter.\n\nFernbank Lending")
