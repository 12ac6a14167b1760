"""Chapter 9's checks: right answers in another style pass, each plausible mistake is named, edges are caught."""
import re

from mlecourse.checks import grade
from mlecourse.checks import ch09_llm_systems as ch9


def outcome(ex_id, answer):
    return grade(ex_id, answer)


def test_9_1_accepts_another_way_of_counting_and_rejects_off_by_one():
    def by_loop(retrieved, relevant, k):
        seen = []
        for r in retrieved[:k]:
            if r in relevant and r not in seen:
                seen.append(r)
        return round(len(seen) / len(relevant), 4)  # rounded as a person would
    assert outcome("9.1", by_loop).outcome == "correct"
    result = outcome("9.1", lambda r, rel, k: len(set(r[:k - 1]) & set(rel)) / len(set(rel)))
    assert result.outcome == "incorrect"
    assert "counted twice" in outcome("9.1", lambda r, rel, k: sum(x in rel for x in r[:k]) / len(rel)).message


def test_9_2_catches_substrings_and_spelling_of_numbers():
    substring = lambda a, c, p: c in p and all(n in p[c] for n in re.findall(r"\d+", a))
    assert "whole numbers" in outcome("9.2", substring).message
    no_commas = lambda a, c, p: c in p and set(re.findall(r"\d+", a)) <= set(re.findall(r"\d+", p[c]))
    assert "8,000" in outcome("9.2", no_commas).message
    strict = lambda a, c, p: c in p and set(re.findall(r"\d+", a.replace(",", ""))) < set(re.findall(r"\d+", p[c].replace(",", "")))
    assert outcome("9.2", strict).outcome == "incorrect"  # a proper subset refuses an answer using every number


def test_9_3_hosts_are_judged_by_their_end():
    starts_with = lambda o: any(not re.sub(r"^https?://(www\.)?", "", u).startswith("fernbank.example")
                                for u in re.findall(r"https?://\S+", o))
    assert outcome("9.3", starts_with).outcome == "incorrect"
    assert outcome("9.3", ch9.ref_foreign_link).outcome == "correct"


def test_9_4_equal_is_allowed_and_any_attack_refuses():
    assert outcome("9.4", ch9.ref_gate).outcome == "correct"
    lenient = lambda c, s: c["attack_success"] <= 0.05 and (s is None or all(c[m] >= s[m] for m in ch9.QUALITY))
    assert "no quality gain" in outcome("9.4", lenient).message


def test_9_5_whole_words_and_any_order():
    def reversed_order(draft, reasons):
        return list(reversed(ch9.ref_letter_problems(draft, reasons)))
    assert outcome("9.5", reversed_order).outcome == "correct"
    substring = lambda d, i: ["protected"] if "age" in d.lower() else []
    assert outcome("9.5", substring).outcome == "incorrect"


def test_9_1_asks_for_two_decimals():
    one_decimal = lambda r, rel, k: round(ch9.ref_recall_at_k(r, rel, k), 1)
    assert "two decimals" in outcome("9.1", one_decimal).message
