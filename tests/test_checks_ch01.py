"""Workbook 1's checks, tried as a newcomer would: the placeholder, plausible
wrong answers (each with the verdict and the message it must get), the right
answer and the right answer rounded as a person would round it."""

import pytest

from mlecourse.checks import ____, grade
from mlecourse.checks import ch01_the_ml_engineer as c1
from mlecourse.teaching import market


def verdict(ex_id, answer):
    result = grade(ex_id, answer)
    return result.outcome, result.message


# 1.1 ----------------------------------------------------------------------

@pytest.mark.parametrize("answer", [-40, -40.0, -40.00001, c1.ref_time_to_hire_change()])
def test_1_1_accepts_the_fall_however_it_is_written(answer):
    assert verdict("1.1", answer)[0] == "correct"


@pytest.mark.parametrize("answer,phrase", [
    (40, "negative"), (-0.4, "fraction"), (0.4, "fraction"), (-66.7, "time after"),
    (66.67, "time after"), (60.0, "percent of the time before"), (0.6, "fraction of the time before"),
    (-41, "too low"), ("-40%", "expected a number")])
def test_1_1_names_each_plausible_mistake(answer, phrase):
    outcome, message = verdict("1.1", answer)
    assert outcome == "incorrect" and phrase in message.lower()


# 1.2 ----------------------------------------------------------------------

def test_1_2_a_negative_payback_is_told_about_the_units_not_about_percent():
    # 450,000 / (360,000 / 12 - 90,000): a yearly running cost taken off a monthly saving
    outcome, message = verdict("1.2", -7.5)
    assert outcome == "incorrect"
    assert "negative" in message and "multiply by 15" not in message


@pytest.mark.parametrize("answer,phrase", [
    (0, "never zero or negative"), (15, "running cost"), (18, "every year"),
    (20 / 12, "years"), (1.25, "years"), (0.4, "15 percent"), (21, "too high")])
def test_1_2_names_each_plausible_mistake(answer, phrase):
    outcome, message = verdict("1.2", answer)
    assert outcome == "incorrect" and phrase in message, message


@pytest.mark.parametrize("answer", [20, 20.0, 20.00004])
def test_1_2_accepts_the_payback_in_months(answer):
    assert verdict("1.2", answer)[0] == "correct"


# 1.3 ----------------------------------------------------------------------

ROLE_NAMES = {"ds": ("data scientist", "ds"), "mle": ("ml engineer", "machine learning engineer", "mle"),
              "se": ("software engineer", "software engineering", "se")}


WRONG_ROLES = [(task, role) for task, (right, _) in c1.TASKS.items() for role in c1.ROLES if role != right]


@pytest.mark.parametrize("task,wrong", WRONG_ROLES)
def test_1_3_a_wrong_role_is_explained_without_naming_the_right_one(task, wrong):
    right = c1.TASKS[task][0]
    outcome, message = verdict("1.3", {**c1.ref_roles(), task: wrong})
    assert outcome == "incorrect" and f"task {task}" in message.lower()
    words = " " + " ".join(message.lower().replace("'", " ").replace(",", " ").split()) + " "
    for name in ROLE_NAMES[right]:
        assert f" {name} " not in words, f"{task}/{wrong} gives away {right}: {message}"


def test_1_3_accepts_roles_with_spaces_and_capitals():
    answer = {k: f" {v.upper()} " for k, v in c1.ref_roles().items()}
    assert verdict("1.3", answer)[0] == "correct"


# 1.4 ----------------------------------------------------------------------

def overlap_test(table):
    """What the exercise warns against: a range that starts below the previous level's top."""
    previous_high = table.groupby("role")["base_high_usd"].shift(1)
    return (table["base_low_usd"] < previous_high).fillna(False).astype(bool)


def test_1_4_the_overlap_test_is_rejected_though_it_flags_the_same_row_of_table_1():
    table = market.table1()
    assert overlap_test(table).equals(c1.ref_starts_lower(table))  # why a value check could not tell
    outcome, message = verdict("1.4", overlap_test)
    assert outcome == "incorrect" and "overlap" in message


def test_1_4_the_flags_of_table_1_alone_are_not_the_function_asked_for():
    outcome, message = verdict("1.4", c1.ref_starts_lower(market.table1()))
    assert outcome == "incorrect" and "expected a function" in message.lower()


def test_1_4_a_start_equal_to_the_previous_one_is_not_lower():
    def loose(table):
        def lower(column):
            previous = table.groupby("role")[column].shift(1)
            return (table[column] <= previous).fillna(False).astype(bool)
        return lower("base_low_usd") | lower("total_low_usd")
    outcome, message = verdict("1.4", loose)
    assert outcome == "incorrect" and "same figure is not lower" in message


def test_1_4_the_workbooks_solution_with_plain_comparisons_is_right():
    def starts_lower(table):
        def lower_than_previous(column):
            previous = table.groupby("role")[column].shift(1)
            return (table[column] < previous).fillna(False).astype(bool)
        return lower_than_previous("base_low_usd") | lower_than_previous("total_low_usd")
    assert verdict("1.4", starts_lower)[0] == "correct"


def test_1_4_missing_flags_are_told_to_be_false():
    def keeps_na(table):
        previous = table.groupby("role")["base_low_usd"].shift(1)
        base = table["base_low_usd"] < previous
        total = table["total_low_usd"] < table.groupby("role")["total_low_usd"].shift(1)
        return base | total
    outcome, message = verdict("1.4", keeps_na)
    assert outcome == "incorrect" and "missing" in message


# 1.5 ----------------------------------------------------------------------

def test_1_5_a_ratio_without_the_twelve_is_told_about_dti_first():
    from mlecourse.teaching.risk_bands import add_risk_band

    def monthly(loans, medium_from=0.36, high_from=0.43):
        out = add_risk_band(loans, medium_from, high_from)
        out["dti"] = out["dti"] / 12
        return out
    outcome, message = verdict("1.5", monthly)
    assert outcome == "incorrect" and "12 x monthly_debt" in message


def test_1_5_band_names_must_be_written_as_given():
    from mlecourse.teaching.risk_bands import add_risk_band

    def titled(loans, medium_from=0.36, high_from=0.43):
        out = add_risk_band(loans, medium_from, high_from)
        out["risk_band"] = out["risk_band"].str.title()
        return out
    outcome, message = verdict("1.5", titled)
    assert outcome == "incorrect" and "is not a band" in message


# 1.7 ----------------------------------------------------------------------

def test_1_7_never_paying_back_is_none_not_a_negative_number():
    def naive(annual_saving, build_cost, annual_running_cost):
        net = annual_saving - annual_running_cost
        return build_cost / (net / 12) if net else None   # no division by zero, but negative
    outcome, message = verdict("1.7", naive)
    assert outcome == "incorrect" and "negative number of months" in message


def test_1_7_accepts_a_function_written_another_way():
    def payback(annual_saving, build_cost, annual_running_cost):
        yearly = annual_saving - annual_running_cost
        return 12 * build_cost / yearly if yearly > 0 else None
    assert verdict("1.7", payback)[0] == "correct"


def test_1_7_cases_include_the_never_boundary():
    nets = [saving - running for saving, _, running, _ in c1.PAYBACK_CASES]
    assert 0 in nets and any(n < 0 for n in nets) and any(b == 0 for _, b, _, _ in c1.PAYBACK_CASES)


@pytest.mark.parametrize("ex_id", ["1.1", "1.2", "1.3", "1.4", "1.5", "1.7"])
def test_placeholder_is_not_attempted(ex_id):
    assert verdict(ex_id, ____)[0] == "not attempted"
