"""Workbook 10's checks, tried as a newcomer would: the placeholder, plausible
wrong answers (each with the verdict and message it must get), the right answer
and the right answer rounded as a person would round it in a report."""
import math

import pandas as pd
import pytest

from mlecourse.checks import ____, grade
from mlecourse.checks import ch10_skills_tools_careers as c10
from mlecourse.teaching import career


def verdict(ex_id, answer):
    result = grade(ex_id, answer)
    return result.outcome, result.message


# 10.1 ---------------------------------------------------------------------

@pytest.mark.parametrize("answer", [192_000, 192_150, 192_149.59, 192_149, c10.ref_growth()])
def test_10_1_the_salary_to_the_thousand_or_finer_is_right(answer):
    assert 192_000 < c10.ref_growth() < 192_500   # "$192k" is the salary rounded to the thousand
    assert verdict("10.1", answer)[0] == "correct", verdict("10.1", answer)


@pytest.mark.parametrize("answer,phrase", [
    (190_000, "round to the nearest 1,000 or finer"), (192.1, "thousands of dollars"),
    (193_000, "too high"), (191_000, "too low"), (185_000, "simple growth"),
    (c10.ref_growth() - c10._start_9_1(), "increase")])
def test_10_1_names_each_plausible_mistake(answer, phrase):
    outcome, message = verdict("10.1", answer)
    assert outcome == "incorrect" and phrase in message, message


# 10.2 and 10.4: a wrong choice is explained without naming the right one -----

@pytest.mark.parametrize("wrong", ["people in ai", "motion recruitment"])
def test_10_2_a_wrong_source_does_not_name_the_right_one(wrong):
    outcome, message = verdict("10.2", wrong)
    assert outcome == "incorrect" and "software oasis" not in message.lower()


@pytest.mark.parametrize("tool", c10.TOOLS_9_4)
def test_10_4_a_wrong_kind_does_not_name_the_right_one(tool):
    right = c10.ref_tool_kinds()[tool]
    wrong = next(k for k in career.KINDS if k != right)
    outcome, message = verdict("10.4", {**c10.ref_tool_kinds(), tool: wrong})
    assert outcome == "incorrect" and f"'{right}'" not in message


# 10.3 ---------------------------------------------------------------------

def test_10_3_the_gap_list_is_a_function_run_on_people_it_has_not_seen():
    def priorities(rating, target, weight):
        gap = {skill: target[skill] - rating[skill] for skill in target}
        kept = {skill: g * weight[skill] for skill, g in gap.items() if g > 0}
        return pd.Series(kept, dtype=float).sort_values(ascending=False)
    assert verdict("10.3", priorities)[0] == "correct"
    assert any("weights you are given" in case.name for case in c10._priority_cases())


def test_10_3_the_list_for_the_workbooks_case_alone_is_not_the_function_asked_for():
    outcome, message = verdict("10.3", c10.ref_gap_priority())
    assert outcome == "incorrect" and "expected a function" in message.lower()


def test_10_3_a_skill_at_its_target_is_not_a_gap():
    def at_or_below(rating, target, weight):
        gap = pd.Series(target) - pd.Series(rating)
        return (gap * pd.Series(weight))[gap >= 0].sort_values(ascending=False)
    outcome, message = verdict("10.3", at_or_below)
    assert outcome == "incorrect" and "its gap is 0" in message


def test_10_3_the_reports_weights_are_not_the_ones_passed():
    weights = c10._weights()

    def fixed_weights(rating, target, weight):
        return c10.ref_priorities(rating, target, weights)
    outcome, message = verdict("10.3", fixed_weights)
    assert outcome == "incorrect" and "weights you are given" in message


# 10.5 ---------------------------------------------------------------------

def test_10_5_midpoints_to_the_thousand_are_right_whichever_way_a_half_rounds():
    exact = c10.ref_midpoints()
    assert (exact % 1000 == 500).any()   # a half: rounded up by a person, to even by pandas
    for rounded in (exact.round(-3), (exact / 1000).apply(math.floor) * 1000,
                    (exact / 1000).apply(math.ceil) * 1000, exact.astype(int)):
        assert verdict("10.5", rounded)[0] == "correct", rounded.tolist()


@pytest.mark.parametrize("make,phrase", [
    (lambda m: m / 1000, "thousands of dollars"), (lambda m: m.round(-4), "nearest 10,000"),
    (lambda m: m + 2000, "wrong at")])
def test_10_5_names_each_plausible_mistake(make, phrase):
    outcome, message = verdict("10.5", make(c10.ref_midpoints()))
    assert outcome == "incorrect" and phrase in message, message


# 10.6 ---------------------------------------------------------------------

def test_10_6_one_year_is_counted_in_the_singular():
    def rounds_down(start, target, rate):
        if start >= target:
            return 0
        if rate <= 0:
            return None
        return int(math.log(target / start) / math.log1p(rate))
    outcome, message = verdict("10.6", rounds_down)
    assert outcome == "incorrect" and "1 year leaves the salary short" in message


# 10.8 ---------------------------------------------------------------------

def test_10_8_accepts_the_rate_written_with_a_logarithm():
    assert verdict("10.8", lambda s, e, y: math.exp(math.log(e / s) / y) - 1)[0] == "correct"


@pytest.mark.parametrize("wrong,phrase", [
    (lambda s, e, y: (e / s - 1) / y, "simple average"),
    (lambda s, e, y: 100 * ((e / s) ** (1 / y) - 1), "percentage"),
    (lambda s, e, y: (e / s) ** (1 / (y - 1)) - 1 if y > 1 else e / s - 1, "not right")])
def test_10_8_names_each_plausible_mistake(wrong, phrase):
    outcome, message = verdict("10.8", wrong)
    assert outcome == "incorrect" and phrase in message, message


# 10.9 ---------------------------------------------------------------------

def test_10_9_accepts_a_parser_written_without_a_regular_expression():
    def by_hand(text):
        figures = []
        for part in text.replace("–", "-").split("-"):
            part = part.strip().lstrip("~").rstrip("+").strip()
            if not part.startswith("$"):
                continue
            number, scale = part[1:].strip().replace(",", ""), 1.0
            if number[-1:] in "kK" and number:
                number, scale = number[:-1], 1e3
            elif number[-1:] in "mM" and number:
                number, scale = number[:-1], 1e6
            figures.append(float(number) * scale)
        if not figures:
            return (None, None)
        return (figures[0], None if text.rstrip().endswith("+") else figures[-1])
    assert verdict("10.9", by_hand)[0] == "correct"


@pytest.mark.parametrize("text", ["N/A", "$200k+", "$1.2M", "$95,000 - $120,000", "$150K–$210K"])
def test_10_9_the_hidden_texts_cover_each_rule(text):
    assert text in [t for t, _ in c10.SALARY_TEXTS]


def test_10_9_a_top_read_from_an_open_range_is_told_the_plus_means_none():
    outcome, message = verdict("10.9", c10._top_is_the_figure)
    assert outcome == "incorrect" and "no top" in message


@pytest.mark.parametrize("ex_id", ["10.1", "10.2", "10.3", "10.4", "10.5", "10.6", "10.8", "10.9"])
def test_placeholder_is_not_attempted(ex_id):
    assert verdict(ex_id, ____)[0] == "not attempted"
