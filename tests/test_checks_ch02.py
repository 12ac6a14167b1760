"""Workbook 2's checks, tried as a newcomer would: the placeholder, plausible
wrong answers with the verdict and message each must get, right answers
written other ways and rounded as a person would."""
import numpy as np
import pandas as pd
import pytest

from mlecourse.checks import ____, grade
from mlecourse.checks import ch02_meet_the_data as c2


def verdict(ex_id, answer):
    result = grade(ex_id, answer)
    return result.outcome, result.message


@pytest.mark.parametrize("answer,phrase", [
    (600, "both copies"), (60_789, "distinct"), (61_089, "every row"),
    (0.0049, "share"), (301, "not right"), (300.5, "whole number")])
def test_2_1_names_each_plausible_mistake(answer, phrase):
    outcome, message = verdict("2.1", answer)
    assert outcome == "incorrect" and phrase in message, message


def test_2_2_the_share_present_is_not_the_missing_rate():
    outcome, message = verdict("2.2", c2.loans().notna().mean())
    assert outcome == "incorrect" and "present" in message


@pytest.mark.parametrize("places", [4, 5])
def test_2_2_rates_to_four_decimals_or_more_are_right(places):
    assert verdict("2.2", c2.ref_missing_rate().round(places))[0] == "correct"


def test_2_3_is_a_function_run_on_batches_it_has_not_seen():
    def rates(loans):
        rows = loans.drop_duplicates()
        years = rows["application_date"].dt.year
        return rows["defaulted"].groupby(years).mean()
    assert verdict("2.3", rates)[0] == "correct"
    outcome, message = verdict("2.3", c2.ref_default_by_year())
    assert outcome == "incorrect" and "expected a function" in message.lower()


def test_2_3_duplicates_are_caught_on_a_batch_loaded_twice():
    def keeps_copies(loans):
        return loans.groupby(loans["application_date"].dt.year)["defaulted"].mean()
    outcome, message = verdict("2.3", keeps_copies)
    assert outcome == "incorrect" and "duplicated rows" in message


@pytest.mark.parametrize("ages,phrase", [
    (lambda a: (a <= 17) | (a >= 101), "17.5 is not flagged"),
    (lambda a: (a < 18) | (a > 100) | a.isna(), "missing is not impossible")])
def test_2_4_a_rule_for_whole_ages_only_is_caught_on_fractional_ages(ages, phrase):
    outcome, message = verdict("2.4", ages)
    assert outcome == "incorrect" and phrase in message, message


@pytest.mark.parametrize("answer", ["2022-10", " 2022-10 ", "2022-10-01", pd.Period("2022-10", "M"),
                                    pd.Timestamp("2022-10-01")])
def test_2_5_the_month_however_it_is_written(answer):
    assert verdict("2.5", answer)[0] == "correct"


def test_2_6_an_outcome_known_on_the_day_counts():
    def strictly_before(loans, year, as_of):
        unique = loans.drop_duplicates()
        applied = unique[unique["application_date"].dt.year == year]
        return float((applied["outcome_known_date"] < pd.Timestamp(as_of)).mean())
    outcome, message = verdict("2.6", strictly_before)
    assert outcome == "incorrect" and "very day" in message


def test_2_6_accepts_comparing_with_the_text_date_directly():
    def with_text(loans, year, as_of):
        unique = loans.drop_duplicates()
        applied = unique[unique["application_date"].dt.year == year]
        return (applied["outcome_known_date"] <= as_of).mean()
    assert verdict("2.6", with_text)[0] == "correct"


def test_2_6_a_constant_share_fails_on_another_day():
    share = c2.ref_known_share(c2.loans(), 2023, "2024-06-30")
    outcome, _ = verdict("2.6", lambda loans, year, as_of: share)
    assert outcome == "incorrect"
    assert np.isclose(share, c2.ref_known_share(c2.loans(), 2023, c2.ASOF))


@pytest.mark.parametrize("ex_id", ["2.1", "2.2", "2.3", "2.4", "2.5", "2.6"])
def test_placeholder_is_not_attempted(ex_id):
    assert verdict(ex_id, ____)[0] == "not attempted"
