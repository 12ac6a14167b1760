"""The check API: every exercise accepts its reference answer, says "not
attempted" for the placeholder, and rejects each declared plausible mistake
with its own message. Then the comparison helpers, one behaviour each."""

import numpy as np
import pandas as pd
import pytest

from mlecourse.checks import ____, check, grade, hint, registry
from mlecourse.checks import compare
from mlecourse.checks.core import EXPECT_ENV, CheckExpectationError
from mlecourse.checks.result import Rounded, Unanswered, Wrong

# An exercise whose answer is a folder of outputs (the capstone's) has a reference that is a run
# of its solution, made once by tests/test_capstone.py, which asserts the same of it.
EXERCISES = {id: ex for id, ex in registry().items() if not ex.submission}
MISTAKES = [(ex_id, i) for ex_id, ex in EXERCISES.items() for i in range(len(ex.mistakes))]


def test_there_are_exercises():
    assert len(EXERCISES) >= 5


@pytest.mark.parametrize("ex_id", EXERCISES)
def test_reference_answer_is_correct(ex_id):
    result = grade(ex_id, EXERCISES[ex_id].reference())
    assert result.outcome == "correct", result.line()


@pytest.mark.parametrize("ex_id", EXERCISES)
def test_placeholder_is_not_attempted(ex_id):
    assert grade(ex_id, ____).outcome == "not attempted"


@pytest.mark.parametrize("ex_id", EXERCISES)
def test_each_exercise_has_hints_and_a_declared_mistake(ex_id):
    ex = EXERCISES[ex_id]
    assert len(ex.hints) >= 2 and ex.mistakes and ex.workbook


@pytest.mark.parametrize("ex_id,index", MISTAKES)
def test_plausible_mistake_is_rejected_with_its_message(ex_id, index):
    make_wrong, phrase = EXERCISES[ex_id].mistakes[index]
    result = grade(ex_id, make_wrong())
    assert result.outcome == "incorrect", result.line()
    assert phrase.lower() in result.message.lower(), result.line()


@pytest.mark.parametrize("ex_id", EXERCISES)
def test_wrong_type_says_what_was_expected(ex_id):
    result = grade(ex_id, object())
    assert result.outcome == "incorrect"
    assert "expected" in result.message.lower()


def test_check_prints_one_line(capsys, monkeypatch):
    monkeypatch.delenv(EXPECT_ENV, raising=False)
    ex_id = next(iter(EXERCISES))
    check(ex_id, "surely not this")
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "incorrect" in out


def test_unknown_exercise_lists_the_real_ones(capsys):
    result = grade("99.9", 1)
    assert result.outcome == "incorrect" and next(iter(EXERCISES)) in result.message


def test_expectation_in_the_environment_makes_a_mismatch_fail(monkeypatch):
    ex_id = next(iter(EXERCISES))
    monkeypatch.setenv(EXPECT_ENV, "correct")
    with pytest.raises(CheckExpectationError):
        check(ex_id, ____)
    monkeypatch.setenv(EXPECT_ENV, "not_attempted")
    check(ex_id, ____)  # matches: no error


def test_hints_come_in_order_then_point_to_the_solution(capsys):
    ex_id, ex = next(iter(EXERCISES.items()))
    for number in range(1, len(ex.hints) + 1):
        hint(ex_id)
        assert f"Hint {number} of {len(ex.hints)}" in capsys.readouterr().out
    hint(ex_id)
    assert "solutions/" in capsys.readouterr().out


# --- the comparison helpers -------------------------------------------------

def wrong_message(func, *args, **kwargs) -> str:
    with pytest.raises(Wrong) as err:
        func(*args, **kwargs)
    return str(err.value)


def test_number_tolerates_rounding_but_not_error():
    compare.number(0.1 + 0.2, 0.3, what="x")
    assert "too high" in wrong_message(compare.number, 0.31, 0.3, what="x")


@pytest.mark.parametrize("answer,phrase", [
    ("42", "the text"), (True, "boolean"), (np.nan, "NaN"),
    (pd.Series([1.0]), "single number"), ([1, 2], "single number"), (None, "None")])
def test_number_explains_a_wrong_kind_of_answer(answer, phrase):
    assert phrase in wrong_message(compare.number, answer, 1.0, what="x")


def test_integer_rejects_a_fraction():
    assert "whole number" in wrong_message(compare.integer, 2.5, 2, what="the count")


def test_series_names_missing_extra_and_wrong_labels():
    expected = pd.Series({"a": 1.0, "b": 2.0})
    compare.series(pd.Series({"b": 2.0, "a": 1.0 + 1e-9}), expected, what="s")
    assert "lacks" in wrong_message(compare.series, pd.Series({"a": 1.0}), expected, what="s")
    assert "should not be there" in wrong_message(
        compare.series, pd.Series({"a": 1.0, "b": 2.0, "c": 3.0}), expected, what="s")
    assert "'b'" in wrong_message(compare.series, pd.Series({"a": 1.0, "b": 9.0}), expected, what="s")
    with_na = pd.Series({"a": True, "b": pd.NA}, dtype="boolean")
    assert "missing values (NaN or NA), e.g. at 'b'" in wrong_message(compare.series, with_na, expected, what="s")
    numbered = pd.Series([1.0, 2.0])
    assert "e.g. 1" in wrong_message(compare.series, pd.Series([1.0, 5.0]), numbered, what="s")
    as_text = pd.Series({"1": 1.0, "2": 2.0})
    assert "as text instead of whole numbers" in wrong_message(compare.series, as_text, pd.Series({1: 1.0, 2: 2.0}), what="s")
    assert "one-column DataFrame" in wrong_message(
        compare.series, expected.to_frame(), expected, what="s")


def test_choice_explains_the_wrong_option():
    explanations = {"a": "A is wrong because...", "b": "right"}
    compare.choice(" B ", "b", explanations)
    assert wrong_message(compare.choice, "a", "b", explanations) == "A is wrong because..."
    assert "not an option" in wrong_message(compare.choice, "z", "b", explanations)


def test_function_reports_the_failing_case_and_the_learners_error():
    def verify(result):
        if result != 4:
            raise Wrong("not four")
    cases = [compare.Case("two plus two", (2, 2), verify)]
    compare.function(lambda a, b: a + b, cases, what="add")
    assert "on two plus two: not four" == wrong_message(compare.function, lambda a, b: a * b + 1, cases, what="add")
    message = wrong_message(compare.function, lambda a, b: 1 / 0, cases, what="add")
    assert "ZeroDivisionError" in message
    with pytest.raises(Unanswered):
        compare.function(lambda a, b: ____, cases, what="add")


def test_the_placeholder_survives_any_use():
    assert (____ + 1) is ____ and ____.mean() is ____ and ____["x"] is ____
    assert not ____


def test_an_answer_no_checker_foresaw_still_gets_one_line(monkeypatch):
    ex_id, ex = next(iter(EXERCISES.items()))

    def broken(answer):
        raise KeyError("surprise")
    monkeypatch.setattr(ex, "checker", broken)
    result = grade(ex_id, 1)
    assert result.outcome == "incorrect" and "KeyError" in result.message


def test_a_function_that_never_returns_is_stopped_with_a_message():
    def forever(*args):
        while True:
            pass
    cases = [compare.Case("any case", (1,), lambda result: None)]
    message = wrong_message(compare.function, forever, cases, what="f", seconds=0.2)
    assert "still running after 0.2 s" in message and "never ends" in message


def test_a_function_that_edits_its_input_is_told_so():
    def verify(result):
        pass

    def appends(items):
        items.append(1)
        return items
    cases = [compare.Case("a list", ([0],), verify, keep_inputs=True)]
    assert "changed the data it was given" in wrong_message(compare.function, appends, cases, what="f")
    compare.function(lambda items: items + [1], cases, what="f")


# --- the time limit counts CPU time, so a slow or busy laptop does not fail a right answer

def _computes_for(cpu_seconds):
    """A learner's function that needs ``cpu_seconds`` of CPU, however long the clock says."""
    import time

    def work(*args):
        start = time.process_time()
        while time.process_time() - start < cpu_seconds:
            pass
        return 4
    return work


def _four(result):
    if result != 4:
        raise Wrong("not four")


def test_time_waiting_is_not_time_computing():
    import time

    def waits(*args):
        time.sleep(0.5)   # half a second on the clock, almost no CPU
        return 4
    compare.function(waits, [compare.Case("a slow disk", (), _four)], what="f", seconds=0.2)


def test_a_function_that_waits_forever_is_stopped_by_the_clock():
    import time
    with pytest.raises(compare._Overtime):
        with compare.time_limit(0.1, wall=0.3):
            time.sleep(5)


def test_under_load_a_right_answer_within_its_cpu_budget_passes():
    import os
    import subprocess
    import sys
    import time

    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
            for _ in range(2 * (os.cpu_count() or 1))]
    try:
        time.sleep(0.2)   # let the hogs take the cores
        cases = [compare.Case("a case", (), _four)]
        clock = time.perf_counter()
        compare.function(_computes_for(0.1), cases, what="f", seconds=0.5)
        waited = time.perf_counter() - clock
        # and a loop that never ends is still stopped, after its CPU budget
        message = wrong_message(compare.function, _computes_for(60), cases, what="f", seconds=0.15)
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    assert waited >= 0.1 and "still running after 0.15 s" in message


# --- rounding: a right answer rounded as a person would is right; rounded too far is told so

@pytest.mark.parametrize("answer", [471.18, 471.183, 471.1827, 471.1826762909495])
def test_money_to_the_cent_or_finer_is_right(answer):
    compare.number(answer, 471.1826762909495, what="the cost", places=2)


@pytest.mark.parametrize("answer,phrase", [
    (471.2, "looks rounded to 1 decimal: give at least 2 decimals"),
    (471, "looks rounded to a whole number: give at least 2 decimals")])
def test_money_rounded_too_far_is_told_how_many_decimals(answer, phrase):
    with pytest.raises(Rounded) as err:
        compare.number(answer, 471.1826762909495, what="the cost", places=2)
    assert phrase in str(err.value)


@pytest.mark.parametrize("answer", [471.19, 471.17, 472.0, 470.0])
def test_a_wrong_last_digit_is_wrong_not_rounded(answer):
    message = wrong_message(compare.number, answer, 471.1826762909495, what="the cost", places=2)
    assert "not right" in message


def test_significant_figures_and_trailing_zeros():
    compare.number(0.53, 0.5298858830101348, what="the share", sig=3)   # 0.530, typed as 0.53
    compare.number(0.0761, 0.07611112904874306, what="p", sig=2)
    with pytest.raises(Rounded):
        compare.number(0.08, 0.07611112904874306, what="p", sig=2)


def test_without_a_declaration_a_coarse_rounding_is_still_not_called_wrong():
    with pytest.raises(Rounded) as err:
        compare.number(0.46, 0.46436781609195404, what="precision")
    assert "give at least" in str(err.value)
    compare.number(0.46436781609195404, 0.46436781609195404, what="precision")


def test_a_series_rounded_as_a_whole_is_judged_as_a_whole():
    expected = pd.Series({"a": 0.020462, "b": 0.003208})
    compare.series(expected.round(4), expected, what="the rate", sig=2)
    with pytest.raises(Rounded) as err:
        compare.series(expected.round(2), expected, what="the rate", sig=2)
    assert "'b' looks rounded to 2 decimals" in str(err.value)


def test_a_rounding_message_sends_no_one_to_a_hint():
    ex_id = "3.1"
    result = grade(ex_id, round(EXERCISES[ex_id].reference()))
    assert "rounded" in result.message and "hint(" not in result.message


def test_check_knows_every_chapter_whichever_module_was_imported_first():
    import subprocess
    import sys
    code = ("import mlecourse.checks.ch05_deployment\n"
            "from mlecourse.checks import grade, registry\n"
            "ids = list(registry())\n"
            "assert '1.1' in ids and '5.1' in ids and '10.1' in ids, ids\n"
            "assert grade('2.1', 0).outcome == 'incorrect'\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-500:]


def test_a_time_limit_inside_another_leaves_the_outer_one_running():
    with pytest.raises(compare._Overtime):
        with compare.time_limit(0.3):
            with compare.time_limit(5):
                pass
            _computes_for(30)()


# --- messages read as sentences, whatever they start with ---------------------

@pytest.mark.parametrize("raised,shown", [
    ("credit_score carries less of the group", "credit_score carries less of the group."),
    ("k = 1: some combination is rare", "k = 1: some combination is rare."),
    ("f1 is not right", "f1 is not right."),
    ("the rate is not right", "The rate is not right."),
    ("a row is missing", "A row is missing."),
    ("1 quiet months are strictly above that value", "1 quiet month is strictly above that value."),
    ("it returned 1 labels", "It returned 1 label."),
    ("row 1 has a ratio of 0.43", "Row 1 has a ratio of 0.43."),
    ("exercise 1 takes longer", "Exercise 1 takes longer."),
    ("21 months are above", "21 months are above."),
    ("0.1 months is short", "0.1 months is short."),
])
def test_a_message_is_a_sentence_that_keeps_identifiers_and_counts_right(monkeypatch, raised, shown):
    from mlecourse.checks import core

    def checker(answer):
        raise Wrong(raised)
    ex = core.Exercise("0.1", "t", checker, ["h1", "h2"], lambda: 0)
    monkeypatch.setitem(core._REGISTRY, "0.1", ex)
    assert grade("0.1", 5).message == f"{shown} Stuck? hint('0.1')"


def test_plural_agrees_with_its_count():
    from mlecourse.checks.result import plural
    assert plural(1, "quiet month") == "1 quiet month" and plural(3, "quiet month") == "3 quiet months"
    assert plural(2, "analysis", "analyses") == "2 analyses"


# --- rounding to the thousand, where a check says so ---------------------------

@pytest.mark.parametrize("answer", [192_000, 192_149, 192_150, 192_149.59, 192_100])
def test_a_salary_to_the_thousand_is_right(answer):
    compare.number(answer, 192_149.587, what="the salary", rel=1e-4, places=-3)


def test_a_salary_rounded_further_is_told_how_far_to_round():
    with pytest.raises(Rounded) as err:
        compare.number(190_000, 192_149.587, what="the salary", rel=1e-4, places=-3)
    assert "nearest 10,000: round to the nearest 1,000 or finer" in str(err.value)
    assert "too high" in wrong_message(compare.number, 193_000, 192_149.587, what="s", places=-3)


def test_a_series_to_the_thousand_takes_either_rounding_of_a_half():
    expected = pd.Series({"a": 103_000.0, "b": 162_500.0})
    for rounded in (pd.Series({"a": 103_000, "b": 162_000}), pd.Series({"a": 103_000, "b": 163_000})):
        compare.series(rounded, expected, what="midpoints", places=-3)
    assert "wrong at" in wrong_message(compare.series, pd.Series({"a": 103_000, "b": 164_000}),
                                       expected, what="midpoints", places=-3)
