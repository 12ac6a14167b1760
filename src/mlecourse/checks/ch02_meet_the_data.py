"""Checks for the workbook of chapter 2, "Meet the data".

Each reference answer is computed from the committed data, so the checks
follow the data if it is ever regenerated with another seed.
"""
from __future__ import annotations

import re
from functools import cache

import numpy as np
import pandas as pd

from mlecourse.lender.data import loans as spec
from mlecourse.lender.data.loading import load_loans
from . import compare
from .core import exercise
from .blank import is_blank
from .result import Unanswered, Wrong

WORKBOOK = "02_meet_the_data.ipynb"


@cache
def _loans() -> pd.DataFrame:
    return load_loans()


def loans() -> pd.DataFrame:
    return _loans().copy()


# 2.1 ----------------------------------------------------------------------

def ref_duplicates() -> int:
    return int(loans().duplicated().sum())


@exercise("2.1", "Count the duplicated rows", workbook=WORKBOOK,
          hints=["pandas has a method that marks each row that repeats an earlier one.",
                 "`loans.duplicated()` gives one True per extra copy; how do you count Trues?"],
          reference=ref_duplicates,
          mistakes=[(lambda: int(loans().duplicated(keep=False).sum()), "both copies"),
                    (lambda: int(loans()["application_id"].nunique()), "distinct")])
def check_duplicates(answer) -> str:
    frame = loans()
    if compare.as_number(answer, "the number of duplicated rows") == frame.duplicated(keep=False).sum():
        raise Wrong("that counts both copies of each duplicated row; count only the extra copies")
    if answer == frame["application_id"].nunique():
        raise Wrong("that is the number of distinct applications, not of duplicated rows")
    compare.integer(answer, ref_duplicates(), what="the number of duplicated rows")
    return "A double-loaded batch: drop these before counting anything else."


# 2.2 ----------------------------------------------------------------------

def ref_missing_rate() -> pd.Series:
    return loans().isna().mean()


@exercise("2.2", "Missing rate of every column", workbook=WORKBOOK,
          hints=["`loans.isna()` is a frame of True/False; a mean of booleans is a rate.",
                 "Take the mean of `loans.isna()` down each column: one number per column."],
          reference=ref_missing_rate,
          mistakes=[(lambda: loans().isna().sum(), "counts"),
                    (lambda: loans().isna().mean() * 100, "percent"),
                    (lambda: loans().isna().mean().loc[lambda s: s > 0], "lacks"),
                    (lambda: loans().isna().mean().round(2), "looks rounded")],
          rounded=[lambda: loans().isna().mean().round(4)])
def check_missing_rate(answer) -> str:
    expected = ref_missing_rate()
    if isinstance(answer, pd.Series) and answer.index.equals(expected.index):
        values = pd.to_numeric(answer, errors="coerce")
        if np.allclose(values, loans().isna().sum()) and expected.max() > 0:
            raise Wrong("these are counts of missing values; divide by the number of rows")
        if values.max() > 1:
            raise Wrong("these look like percent; give fractions between 0 and 1")
    compare.series(answer, expected, what="the missing rate", sig=2)
    return "Note which columns miss values, and guess why before the next chapter tells you."


# 2.3 ----------------------------------------------------------------------

def _default_rate_by_year(frame: pd.DataFrame) -> pd.Series:
    return frame.groupby(frame["application_date"].dt.year)["defaulted"].mean()


def ref_default_by_year() -> pd.Series:
    return _default_rate_by_year(loans().drop_duplicates())


@exercise("2.3", "Default rate by year of application", workbook=WORKBOOK,
          hints=["Drop the duplicated rows first, or they count twice.",
                 "`.dt.year` of the application date gives the year to group by.",
                 "Group by year and take the mean of `defaulted`."],
          reference=ref_default_by_year,
          mistakes=[(lambda: _default_rate_by_year(loans()), "duplicate"),
                    (lambda: loans().drop_duplicates().groupby(
                        loans().drop_duplicates()["application_date"].dt.year)["defaulted"].sum(),
                     "counts"),
                    (lambda: ref_default_by_year().round(2), "give at least 3 decimals")],
          rounded=[lambda: ref_default_by_year().round(3)])
def check_default_by_year(answer) -> str:
    if isinstance(answer, pd.Series) and len(answer) == len(ref_default_by_year()):
        values = pd.to_numeric(answer, errors="coerce").to_numpy(float)
        if np.allclose(values, _default_rate_by_year(loans()).to_numpy(float)):
            raise Wrong("these rates include the duplicate rows: drop them first")
        if np.nanmax(values) > 1:
            raise Wrong("these are counts of defaults, not rates: take the mean")
    compare.series(answer, ref_default_by_year(), what="the default rate by year", rel=1e-9, sig=3)
    return "Look at the last two years: the next chapters explain what changed."


# 2.4 ----------------------------------------------------------------------

def ref_impossible_age(ages: pd.Series) -> pd.Series:
    return (ages < 18) | (ages > 100)


def _age_cases() -> list[compare.Case]:
    def expect(ages: list, flags: list[bool]):
        def verify(result):
            if not isinstance(result, pd.Series):
                raise Wrong(f"expected a Series of True/False, got {compare.describe(result)}")
            if len(result) != len(flags):
                raise Wrong(f"expected one flag per age ({len(flags)}), got {len(result)}")
            got = result.astype(bool).tolist()
            for age, flag, want in zip(ages, got, flags):
                if flag == want:
                    continue
                if pd.isna(age):
                    raise Wrong("a missing age is flagged as impossible: missing is not impossible")
                raise Wrong(f"age {age:g} is " + ("flagged, but it is possible" if flag
                                                  else "not flagged, but it is impossible"))
        return compare.Case(f"ages {ages}", (pd.Series(ages, dtype="float64"),), verify)
    return [expect([30, 45, 67], [False, False, False]),
            expect([18, 100], [False, False]),
            expect([17, 101, 0, -1, 199], [True] * 5),
            expect([np.nan, 40], [False, False])]


@exercise("2.4", "Flag impossible ages", workbook=WORKBOOK,
          hints=["An adult applicant is between 18 and 100 years old, both included.",
                 "Combine two comparisons with `|`; mind which ends are allowed.",
                 "A missing age is not an impossible one: compare, do not test for NaN."],
          reference=lambda: ref_impossible_age,
          mistakes=[(lambda: (lambda a: (a <= 18) | (a >= 100)), "age 18 is flagged"),
                    (lambda: (lambda a: ~a.between(18, 100)), "missing is not impossible")],
          mutate=ref_impossible_age)
def check_impossible_age(answer) -> str:
    compare.function(answer, _age_cases(), what="your function")
    return f"The raw data has {int(ref_impossible_age(loans()['age']).sum())} impossible ages."


# 2.5 ----------------------------------------------------------------------

def ref_incident_month() -> str:
    return spec.INCIDENT_MONTH


@exercise("2.5", "Find the month the data broke", workbook=WORKBOOK,
          hints=["Plot the median `annual_income` of each month; one month stands out.",
                 "Group by `application_date.dt.to_period('M')` and take the median income.",
                 "Give the month as text, like '2021-05'."],
          reference=ref_incident_month,
          mistakes=[(lambda: spec.COVARIATE_DRIFT_START[:7], "drift"),
                    (lambda: "2019-01", "not unusual")])
def check_incident_month(answer) -> str:
    if is_blank(answer):
        raise Unanswered()
    if isinstance(answer, pd.Period):
        answer = str(answer)
    if not isinstance(answer, str):
        raise Wrong(f"expected the month as text like '2021-05', got {compare.describe(answer)}")
    month = answer.strip()[:7]
    if month == spec.INCIDENT_MONTH:
        return "Incomes that month are a thousand times too small: a unit changed upstream."
    if month == spec.COVARIATE_DRIFT_START[:7]:
        raise Wrong("incomes do fall from that month on, and stay lower: that is a drift in "
                    "who applies, not a broken record; look for a single month")
    if not re.fullmatch(r"\d{4}-\d{2}", month):
        raise Wrong(f"{answer!r} is not a month written like '2021-05'")
    raise Wrong(f"the median income in {month} is not unusual; plot the monthly median")


# 2.6 ----------------------------------------------------------------------

ASOF = pd.Timestamp("2024-06-30")


def ref_known_share() -> float:
    frame = loans().drop_duplicates()
    applied_2023 = frame[frame["application_date"].dt.year == 2023]
    return float((applied_2023["outcome_known_date"] <= ASOF).mean())


@exercise("2.6", "How much of 2023 can be graded by mid-2024?", workbook=WORKBOOK,
          hints=["An outcome is known on its `outcome_known_date`, not on the application date.",
                 "Keep the (de-duplicated) applications of 2023, then compare their "
                 "`outcome_known_date` with 2024-06-30.",
                 "The share of True values is the mean of a boolean Series."],
          reference=ref_known_share,
          mistakes=[(lambda: 1.0, "application"),
                    (lambda: 100 * ref_known_share(), "fraction"),
                    (lambda: round(ref_known_share(), 1), "give at least 3 decimals")],
          rounded=[lambda: round(ref_known_share(), 3), lambda: round(ref_known_share(), 2) + 0.0])
def check_known_share(answer) -> str:
    value = compare.as_number(answer, "the share of known outcomes")
    if value == 1.0:
        raise Wrong("not every outcome is known yet: you compared application dates, "
                    "but an outcome is known a year later")
    if value > 1:
        raise Wrong("give a fraction between 0 and 1, not a percentage")
    compare.number(value, ref_known_share(), what="the share of known outcomes", rel=1e-6, sig=3)
    return "Half a year of applications cannot be graded yet: that is label delay."
