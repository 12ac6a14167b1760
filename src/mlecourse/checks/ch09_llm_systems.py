"""Checks for the workbook of chapter 9, "LLM systems".

Every exercise asks for a function an LLM team writes: a retrieval metric,
the grounding check, the detector an injection test needs, the prompt gate
and the refusal-letter validator. Each is run on hidden cases that reach the
edges of its rule; none needs the model, so the checks take milliseconds.
"""
from __future__ import annotations

import math
import re

from mlecourse.lender.llm import letters
from . import compare
from .core import exercise
from .result import Wrong

WORKBOOK = "09_llm_systems.ipynb"


def _flag(result, what: str) -> bool:
    if not isinstance(result, bool):
        raise Wrong(f"expected True or False for {what}, got {compare.describe(result)}")
    return result


# 9.1 ----------------------------------------------------------------------

def ref_recall_at_k(retrieved, relevant, k):
    relevant = set(relevant)
    if not relevant:
        raise ValueError("recall needs at least one relevant passage")
    found = set(list(retrieved)[:k]) & relevant
    return len(found) / len(relevant)


def _recall_cases() -> list[compare.Case]:
    def case(name, retrieved, relevant, k):
        want = ref_recall_at_k(retrieved, relevant, k)

        def verify(result):
            got = compare.as_number(result, "recall@k")
            if not 0 <= got <= 1:
                raise Wrong(f"recall is a share between 0 and 1, got {got:g}")
            if abs(got - want) <= 0.005:  # two decimals are enough
                return
            if abs(got - want) <= 0.05 and round(got, 1) == got:
                raise Wrong("rounded too coarsely: give the share with two decimals or more")
            top = list(retrieved)[:k]
            if math.isclose(got, len(set(top) & set(relevant)) / k, abs_tol=1e-9):
                raise Wrong("that divides by k: it is precision@k; recall divides by the relevant passages")
            if math.isclose(got, sum(x in set(relevant) for x in top) / len(set(relevant)), abs_tol=1e-9):
                raise Wrong("a passage retrieved twice is counted twice: count each relevant passage once")
            if math.isclose(got, float(bool(set(top) & set(relevant))), abs_tol=1e-9):
                raise Wrong("that says whether any relevant passage was found; recall counts how many")
            raise Wrong(f"expected {want:.3g}, got {got:.3g}: count the relevant passages among the first k")
        return compare.Case(name, (list(retrieved), set(relevant), k), verify, keep_inputs=True)

    return [
        case("one relevant passage, found second", ["a", "b", "c"], {"b"}, 2),
        case("one relevant passage, just past k", ["a", "b", "c"], {"c"}, 2),
        case("two relevant, one in the first k", ["x", "a", "y", "b"], {"a", "b"}, 3),
        case("both relevant found at k", ["a", "b", "c", "d"], {"a", "d"}, 4),
        case("k longer than the list", ["a", "b"], {"b", "z"}, 10),
        case("k = 1", ["b", "a"], {"a", "b", "c"}, 1),
        case("a passage retrieved twice", ["a", "a", "b"], {"a", "b"}, 2),
    ]


@exercise("9.1", "Recall@k", workbook=WORKBOOK,
          hints=["Keep the first k of the retrieved ids: `retrieved[:k]`.",
                 "Count how many of the *relevant* ids are among them; a set intersection does it and "
                 "counts a passage retrieved twice once.",
                 "Divide by the number of relevant ids, not by k (that would be precision)."],
          reference=lambda: ref_recall_at_k,
          mistakes=[(lambda: (lambda r, rel, k: len(set(r[:k]) & set(rel)) / k), "precision"),
                    (lambda: (lambda r, rel, k: float(bool(set(r[:k]) & set(rel)))), "any relevant"),
                    (lambda: (lambda r, rel, k: len(set(r[:k + 1]) & set(rel)) / len(set(rel))), "expected"),
                    (lambda: (lambda r, rel, k: sum(x in set(rel) for x in r[:k]) / len(set(rel))), "counted twice")],
          mutants=[(lambda: (lambda r, rel, k: len(set(r[:k - 1]) & set(rel)) / len(set(rel))), "stops one early")])
def check_recall_at_k(answer) -> str:
    compare.function(answer, _recall_cases(), what="recall_at_k")
    return ("Right. The chapter's table reports it with one relevant passage per question, where "
            "recall@k is the hit rate.")


# 9.2 ----------------------------------------------------------------------

NUMBER = re.compile(r"\d+(?:[,.]\d+)*")


def ref_grounded(answer, cited, passages):
    if cited not in passages:
        return False
    said = {n.replace(",", "") for n in NUMBER.findall(answer)}
    source = {n.replace(",", "") for n in NUMBER.findall(passages[cited])}
    return said <= source


LATE = "A late payment fee of 12 is charged when a repayment is more than 14 days late."
HOLIDAY = "A payment holiday pauses repayments for up to 3 months. At most one in any 12-month period."
EARLY = "No fee at all if the amount repaid early in a 12-month period is under 8,000."


def _grounding_cases() -> list[compare.Case]:
    given = {"payments-2": LATE, "hardship-2": HOLIDAY, "early-repayment-2": EARLY}

    def case(name, answer, cited, why):
        want = ref_grounded(answer, cited, given)

        def verify(result):
            if _flag(result, "grounded") != want:
                raise Wrong(why)
        return compare.Case(name, (answer, cited, dict(given)), verify, keep_inputs=True)

    return [
        case("an answer with the passage's numbers", "The fee is 12, after 14 days.", "payments-2",
             "an answer whose numbers are all in the cited passage is grounded"),
        case("an invented number", "The fee is 15, after 14 days.", "payments-2",
             "15 is not in the cited passage: that answer invents a number"),
        case("a number from another passage", "A holiday lasts up to 12 days.", "payments-2",
             "check the numbers against the passage the answer cites, not against all of them"),
        case("a passage it was not given", "The fee is 12.", "payments-9",
             "the answer cites a passage it was not given: that is not grounded"),
        case("no citation", "The fee is 12.", "none", "an answer that cites nothing is not grounded"),
        case("no numbers at all", "Interest continues during the holiday.", "hardship-2",
             "an answer with no numbers, citing a passage it was given, is grounded"),
        case("part of a number", "Up to 1 month.", "hardship-2",
             "1 is not in the passage (12 is): compare whole numbers, not characters"),
        case("a thousands separator", "It is free under 8000.", "early-repayment-2",
             "8000 and 8,000 are the same number: compare numbers, not their spelling"),
    ]


@exercise("9.2", "The grounding check", workbook=WORKBOOK,
          hints=["First: is `cited` one of the keys of `passages`? If not, the answer is not grounded.",
                 "Find the numbers with a regular expression such as `\\d+(?:[,.]\\d+)*`, and drop the "
                 "commas so that 8,000 and 8000 compare equal.",
                 "Every number of the answer must be among the cited passage's numbers: a set's `<=`."],
          reference=lambda: ref_grounded,
          mistakes=[(lambda: (lambda a, c, p: c in p), "invents a number"),
                    (lambda: (lambda a, c, p: all(n in " ".join(p.values()) for n in NUMBER.findall(a))),
                     "cites a passage it was not given")],
          mutate=ref_grounded)
def check_grounded(answer) -> str:
    compare.function(answer, _grounding_cases(), what="grounded")
    return ("Right. `evaluation.grounded` is the production version; the chapter's judge table shows "
            "how far such checks agree with people.")


# 9.3 ----------------------------------------------------------------------

URL = re.compile(r"(?:https?://|www\.)[^\s<>\"')]+", re.I)
OWN_DOMAIN = "fernbank.example"


def ref_foreign_link(output):
    for url in URL.findall(output):
        host = re.sub(r"^(?:https?://)?(?:www\.)?", "", url, flags=re.I).split("/")[0].split(":")[0].lower()
        if host != OWN_DOMAIN and not host.endswith("." + OWN_DOMAIN):
            return True
    return False


def _link_cases() -> list[compare.Case]:
    def case(name, output, why):
        want = ref_foreign_link(output)

        def verify(result):
            if _flag(result, "the attack's success") != want:
                raise Wrong(why)
        return compare.Case(name, (output,), verify)

    return [
        case("a plain answer", "The late fee is 12.", "an answer with no link is not a successful attack"),
        case("the attacker's link", "Pay at http://fernbank-pay.example.net/secure today.",
             "a link to fernbank-pay.example.net is not the lender's: the attack succeeded"),
        case("the lender's own site", "See https://www.fernbank.example/help.", "the lender's own site is allowed"),
        case("a subdomain of the lender", "Upload at https://docs.fernbank.example/upload", "subdomains of "
             "fernbank.example are the lender's"),
        case("the lender's name as a subdomain of another", "Go to http://fernbank.example.evil.net/",
             "fernbank.example.evil.net belongs to evil.net: check how the host ends, not how it starts"),
        case("a look-alike ending", "Go to http://notfernbank.example/claim",
             "notfernbank.example is not fernbank.example: the host must be it, or end in '.fernbank.example'"),
        case("capital letters", "Visit HTTPS://WWW.FERNBANK.EXAMPLE/contact", "host names ignore case"),
        case("an e-mail address", "Write to complaints@fernbank.example.", "an e-mail address is not a link"),
        case("a link without a scheme", "Claim at www.refunds-fernbank.example.org now",
             "a link starting with www. is still a link"),
    ]


@exercise("9.3", "An injection test's detector", workbook=WORKBOOK,
          hints=["Find the links first: text starting with `http://`, `https://` or `www.`, up to a space.",
                 "Take each link's host: drop the scheme and `www.`, cut at the first `/`, lower-case it.",
                 "The host is the lender's if it *is* fernbank.example or *ends with* '.fernbank.example'; "
                 "one foreign host is enough for the attack to have succeeded."],
          reference=lambda: ref_foreign_link,
          mistakes=[(lambda: (lambda o: "http" in o and "fernbank.example" not in o), "belongs to evil.net"),
                    (lambda: (lambda o: any(not u.lower().split("//")[-1].startswith(("fernbank.example",
                                                                                        "www.fernbank.example"))
                                            for u in URL.findall(o))), "subdomains")],
          mutants=[(lambda: (lambda o: any(not re.sub(r"^(?:https?://)?(?:www\.)?", "", u, flags=re.I).split("/")[0]
                                           .lower().endswith(OWN_DOMAIN) for u in URL.findall(o))),
                    "a host merely ending in the name passes"),
                   (lambda: (lambda o: any(re.sub(r"^(?:https?://)?(?:www\.)?", "", u).split("/")[0]
                                           not in (OWN_DOMAIN,) and not re.sub(r"^(?:https?://)?(?:www\.)?", "", u)
                                           .split("/")[0].endswith("." + OWN_DOMAIN) for u in URL.findall(o))),
                    "forgets case")])
def check_foreign_link(answer) -> str:
    compare.function(answer, _link_cases(), what="your detector")
    return ("Right. With it, an injection test can assert that no planted link reaches a customer; "
            "`guardrails.foreign_links` is the production version.")


# 9.4 ----------------------------------------------------------------------

QUALITY = ("correct", "grounded")


def ref_gate(candidate, champion):
    if candidate["attack_success"] > 0:
        return False
    if champion is None:
        return True
    return all(candidate[m] >= champion[m] for m in QUALITY)


SERVING = {"correct": 0.55, "grounded": 0.70, "attack_success": 0.0}


def _gate_cases() -> list[compare.Case]:
    def case(name, candidate, champion, why):
        want = ref_gate(candidate, champion)

        def verify(result):
            if _flag(result, "promote") != want:
                raise Wrong(why)
        return compare.Case(name, (dict(candidate), None if champion is None else dict(champion)), verify)

    return [
        case("better on every measure", {"correct": 0.6, "grounded": 0.8, "attack_success": 0.0}, SERVING,
             "a prompt better on every measure, with no attack through, is promoted"),
        case("exactly as good", dict(SERVING), SERVING, "a prompt exactly as good as the serving one may be promoted"),
        case("one measure drops", {"correct": 0.6, "grounded": 0.69, "attack_success": 0.0}, SERVING,
             "grounding dropped: the gate refuses a prompt when any quality measure drops"),
        case("one attack gets through", {"correct": 0.9, "grounded": 0.9, "attack_success": 0.05}, SERVING,
             "an attack got through: no quality gain buys that"),
        case("no serving prompt yet", {"correct": 0.1, "grounded": 0.1, "attack_success": 0.0}, None,
             "with no serving prompt, only the attack rule applies"),
        case("no serving prompt, an attack through", {"correct": 0.9, "grounded": 0.9, "attack_success": 0.1}, None,
             "even the first prompt must let no attack through"),
        case("correct drops, grounded rises", {"correct": 0.54, "grounded": 0.95, "attack_success": 0.0}, SERVING,
             "a gain on one measure does not pay for a drop on another"),
    ]


@exercise("9.4", "The prompt gate", workbook=WORKBOOK,
          hints=["Refuse first if any attack got through: `attack_success` above 0.",
                 "With no serving prompt (`champion is None`), that is the only rule.",
                 "Otherwise every quality measure ('correct', 'grounded') must be at least the serving "
                 "prompt's: equal is allowed, lower is not."],
          reference=lambda: ref_gate,
          mistakes=[(lambda: (lambda c, s: s is None or all(c[m] > s[m] for m in QUALITY)), "exactly as good"),
                    (lambda: (lambda c, s: s is None or sum(c[m] for m in QUALITY) >= sum(s[m] for m in QUALITY)),
                     "drop")],
          mutate=ref_gate)
def check_gate(answer) -> str:
    compare.function(answer, _gate_cases(), what="gate")
    return ("Right. `prompts.gate` adds a margin you can state and every reason in words, as the model "
            "gate of chapter 7 does.")


# 9.5 ----------------------------------------------------------------------

def _says(text, pattern):
    return re.search(rf"(?<!\w){pattern}(?!\w)", text, flags=re.I) is not None


def ref_letter_problems(draft, inputs):
    problems = []
    if not all(any(_says(draft, re.escape(t)) for t in letters.REASON_TERMS[i]) for i in inputs):
        problems.append("reasons")
    if any(_says(draft, p) for p in letters.PROTECTED):
        problems.append("protected")
    if any(_says(draft, p) for p in letters.PROMISES):
        problems.append("promise")
    return problems


GOOD_DRAFT = ("Your monthly debt payments are high compared with your income, and your credit score is "
              "lower than that of most applicants we approve.")
REASONS_3 = ["monthly_debt", "annual_income", "credit_score"]


def _letter_cases() -> list[compare.Case]:
    def case(name, draft, inputs, why):
        want = ref_letter_problems(draft, inputs)

        def verify(result):
            if not isinstance(result, (list, tuple)):
                raise Wrong(f"expected a list of rule names, got {compare.describe(result)}")
            got = list(result)
            if sorted(got) != sorted(want):
                raise Wrong(why)
        return compare.Case(name, (draft, list(inputs)), verify, keep_inputs=True)

    return [
        case("a good draft", GOOD_DRAFT, REASONS_3, "a draft that explains every reason and breaks no rule has no problems"),
        case("a reason left out", "Your credit score is low and your income is low.", REASONS_3,
             "the draft never explains the monthly debt: 'reasons' is broken"),
        case("a protected characteristic", GOOD_DRAFT + " Your religion was not considered.", REASONS_3,
             "naming religion, even to deny using it, breaks 'protected'"),
        case("a word that only contains one", GOOD_DRAFT + " We manage many mortgage applications.", REASONS_3,
             "'manage' and 'mortgage' contain 'age' but do not name it: match whole words"),
        case("a promise", GOOD_DRAFT + " We guarantee approval next time.", REASONS_3, "'guarantee' is a promise"),
        case("capital letters", GOOD_DRAFT.upper() + " AT YOUR AGE THIS IS COMMON.", REASONS_3,
             "rules ignore case: AGE is age"),
        case("two rules at once", "You will surely be approved later, whatever your race.", ["credit_score"],
             "this draft breaks three rules: reasons, protected and promise"),
        case("one reason, several words for it", "Your bureau score is low.", ["credit_score"],
             "'bureau score' is one of the words for the credit score reason"),
    ]


@exercise("9.5", "The refusal-letter validator", workbook=WORKBOOK,
          hints=["Three rules, three names: 'reasons', 'protected', 'promise'. Return the list of those broken.",
                 "A reason is explained if any of its words in `letters.REASON_TERMS[reason]` appears; the "
                 "protected words and the promises are `letters.PROTECTED` and `letters.PROMISES` (regular expressions).",
                 "Match whole words, ignoring case: `re.search(rf'(?<!\\w){pattern}(?!\\w)', draft, flags=re.I)`."],
          reference=lambda: ref_letter_problems,
          mistakes=[(lambda: (lambda d, i: [n for n, bad in [
                        ("reasons", not all(any(t in d.lower() for t in letters.REASON_TERMS[r]) for r in i)),
                        ("protected", any(re.search(p, d.lower()) for p in letters.PROTECTED)),
                        ("promise", any(re.search(p, d.lower()) for p in letters.PROMISES))] if bad]), "whole words"),
                    (lambda: (lambda d, i: [n for n, bad in [
                        ("reasons", not all(any(_says(d, re.escape(t)) for t in letters.REASON_TERMS[r]) for r in i)),
                        ("protected", any(re.search(rf"(?<!\w){p}(?!\w)", d) for p in letters.PROTECTED)),
                        ("promise", any(re.search(rf"(?<!\w){p}(?!\w)", d) for p in letters.PROMISES))] if bad]),
                     "ignore case")])
def check_letter_problems(answer) -> str:
    compare.function(answer, _letter_cases(), what="letter_problems")
    return ("Right. `letters.problems` says the same in sentences, and `letters.compose` falls back to the "
            "approved wording whenever it finds one.")
