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
                    (lambda: int(loans()["application_id"].nunique()), "distinct"),
                    (lambda: float(loans().duplicated().mean()), "share"),
                    (lambda: len(loans()), "every row")])
def check_duplicates(answer) -> str:
    frame = loans()
    value = compare.as_number(answer, "the number of duplicated rows")
    if value == frame.duplicated(keep=False).sum():
        raise Wrong("that counts both copies of each duplicated row; count only the extra copies")
    if value == frame["application_id"].nunique():
        raise Wrong("that is the number of distinct applications, not of duplicated rows")
    if value == len(frame):
        raise Wrong("that is every row of the data; count only the rows that repeat an earlier one")
    if 0 < value < 1 and compare.agrees(value, frame.duplicated().mean(), sig=2):
        raise Wrong("that is the share of duplicated rows; give how many there are")
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
                    (lambda: loans().isna().mean().round(2), "looks rounded"),
                    (lambda: loans().notna().mean(), "present")],
          rounded=[lambda: loans().isna().mean().round(4)])
def check_missing_rate(answer) -> str:
    expected = ref_missing_rate()
    if isinstance(answer, pd.Series) and answer.index.equals(expected.index):
        values = pd.to_numeric(answer, errors="coerce")
        if np.allclose(values, loans().isna().sum()) and expected.max() > 0:
            raise Wrong("these are counts of missing values; divide by the number of rows")
        if values.max() > 1:
            raise Wrong("these look like percent; give fractions between 0 and 1")
        if np.allclose(values, loans().notna().mean()):
            raise Wrong("these are the shares of values present; the missing rate is what is left")
    compare.series(answer, expected, what="the missing rate", sig=2)
    return "Note which columns miss values, and guess why before the next chapter tells you."


# 2.3 ----------------------------------------------------------------------

def ref_default_rate_by_year(loans: pd.DataFrame) -> pd.Series:
    """The default rate of each year of application, duplicated rows dropped."""
    unique = loans.drop_duplicates()
    return unique.groupby(unique["application_date"].dt.year)["defaulted"].mean()


def ref_default_by_year() -> pd.Series:
    return ref_default_rate_by_year(loans())


def _applications(rows: list[tuple[str, int]], copies: dict[int, int] | None = None) -> pd.DataFrame:
    """A small loans frame: (application date, defaulted) rows; ``copies`` loads row i again."""
    frame = pd.DataFrame({"application_id": [f"A{i:03d}" for i in range(len(rows))],
                          "application_date": pd.to_datetime([d for d, _ in rows]),
                          "annual_income": 40_000.0 + 1_000 * np.arange(len(rows)),
                          "defaulted": [y for _, y in rows]})
    again = [frame.iloc[[i] * n] for i, n in (copies or {}).items()]
    return pd.concat([frame, *again]) if again else frame


def _year_cases() -> list[compare.Case]:
    cases = [
        ("the course's loans", loans()),
        ("a batch loaded twice over a default", _applications(
            [("2021-03-01", 1), ("2021-05-01", 0), ("2021-07-01", 0), ("2022-01-15", 0)], {0: 2})),
        ("a year with no defaults and one with nothing but defaults", _applications(
            [("2020-12-31", 1), ("2020-06-30", 1), ("2021-01-01", 0), ("2021-12-31", 0)])),
        ("applications in no particular order", _applications(
            [("2024-02-01", 0), ("2019-11-30", 1), ("2024-09-09", 1), ("2019-01-02", 0), ("2024-05-05", 0)])),
    ]
    return [compare.Case(name, (frame,), _rates_match(frame), keep_inputs=True) for name, frame in cases]


def _rates_match(frame: pd.DataFrame):
    want = ref_default_rate_by_year(frame)
    with_copies = frame.groupby(frame["application_date"].dt.year)["defaulted"].mean()

    def verify(result):
        if isinstance(result, pd.Series) and len(result) == len(want):
            values = pd.to_numeric(result, errors="coerce").to_numpy(float)
            if not np.allclose(values, want.to_numpy(float)) and \
                    np.allclose(values, with_copies.to_numpy(float)):
                raise Wrong("these rates count the duplicated rows: drop them first")
            if np.allclose(values, 100 * want.to_numpy(float)) and np.nanmax(values) > 1:
                raise Wrong("these look like percent; give fractions between 0 and 1")
            if np.nanmax(values) > 1:
                raise Wrong("these are counts of defaults, not rates: take the mean")
        compare.series(result, want, what="the default rate by year", rel=1e-9, sig=3)
    return verify


@exercise("2.3", "Default rate by year of application", workbook=WORKBOOK,
          hints=["Drop the duplicated rows first, or they count twice.",
                 "`.dt.year` of the application date gives the year to group by.",
                 "Group by year and take the mean of `defaulted`."],
          reference=lambda: ref_default_rate_by_year,
          mistakes=[(lambda: (lambda f: f.groupby(f["application_date"].dt.year)["defaulted"].mean()),
                     "duplicate"),
                    (lambda: (lambda f: ref_default_rate_by_year(f) * 100), "percent"),
                    (lambda: (lambda f: f.drop_duplicates().groupby(
                        f.drop_duplicates()["application_date"].dt.year)["defaulted"].sum()), "counts"),
                    (lambda: (lambda f: ref_default_rate_by_year(f).rename(index=str)), "as text"),
                    (lambda: (lambda f: ref_default_rate_by_year(f).round(2)), "give at least 3 decimals")])
def check_default_by_year(answer) -> str:
    compare.function(answer, _year_cases(), what="your function")
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
            expect([np.nan, 40], [False, False]),
            expect([17.5, 18.0, 99.9, 100.5], [True, False, False, True])]


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
    if isinstance(answer, (pd.Period, pd.Timestamp)):
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


def ref_known_share(loans: pd.DataFrame, year: int, as_of) -> float:
    """The share of the year's (de-duplicated) applications whose outcome is known on ``as_of``."""
    unique = loans.drop_duplicates()
    applied = unique[unique["application_date"].dt.year == year]
    return float((applied["outcome_known_date"] <= pd.Timestamp(as_of)).mean())


def _outcomes(rows: list[tuple[str, str | None]], copies: dict[int, int] | None = None) -> pd.DataFrame:
    """A small loans frame: (application date, outcome known date or None) rows."""
    frame = pd.DataFrame({"application_id": [f"B{i:03d}" for i in range(len(rows))],
                          "application_date": pd.to_datetime([a for a, _ in rows]),
                          "defaulted": [i % 2 for i in range(len(rows))],
                          "outcome_known_date": pd.to_datetime([k for _, k in rows])})
    again = [frame.iloc[[i] * n] for i, n in (copies or {}).items()]
    return pd.concat([frame, *again]) if again else frame


def _share_cases() -> list[compare.Case]:
    cases = [
        ("the course's loans, 2023, on 2024-06-30", loans(), 2023, "2024-06-30"),
        ("the course's loans, 2022, on 2023-03-31", loans(), 2022, "2023-03-31"),
        ("an outcome known on the very day asked about", _outcomes(
            [("2023-01-10", "2024-01-10"), ("2023-02-01", "2024-02-01"), ("2023-05-01", "2024-05-01"),
             ("2022-12-31", "2023-12-31")]), 2023, "2024-02-01"),
        ("a batch loaded twice, and an outcome not recorded yet", _outcomes(
            [("2021-03-01", "2022-03-01"), ("2021-09-01", "2022-09-01"), ("2021-10-01", None)],
            {0: 3}), 2021, "2022-06-30"),
    ]
    return [compare.Case(name, (frame, year, as_of), _share_matches(frame, year, as_of), keep_inputs=True)
            for name, frame, year, as_of in cases]


def _share_matches(frame: pd.DataFrame, year: int, as_of):
    want = ref_known_share(frame, year, as_of)
    applied = frame[frame["application_date"].dt.year == year]

    def verify(result):
        value = compare.as_number(result, "the share of known outcomes")
        if value > 1:
            raise Wrong("give a fraction between 0 and 1, not a percentage")
        if np.isclose(value, want, rtol=1e-9):
            return
        if np.isclose(value, (applied["application_date"] <= pd.Timestamp(as_of)).mean()):
            raise Wrong("that compares application dates; an outcome is known on its "
                        "outcome_known_date, a year later")
        if np.isclose(value, (applied["outcome_known_date"] <= pd.Timestamp(as_of)).mean()):
            raise Wrong("that counts the duplicated rows: drop them first")
        if np.isclose(value, (applied.drop_duplicates()["outcome_known_date"] < pd.Timestamp(as_of)).mean()):
            raise Wrong("an outcome known on the very day asked about is known: compare with <=")
        compare.number(value, want, what="the share of known outcomes", rel=1e-9)
    return verify


@exercise("2.6", "How much of a year can be graded on a given day?", workbook=WORKBOOK,
          hints=["An outcome is known on its `outcome_known_date`, not on the application date.",
                 "Keep the (de-duplicated) applications of `year`, then compare their "
                 "`outcome_known_date` with `pd.Timestamp(as_of)`.",
                 "The share of True values is the mean of a boolean Series; an outcome known on "
                 "`as_of` itself counts."],
          reference=lambda: ref_known_share,
          mistakes=[(lambda: (lambda f, y, d: 1.0), "application"),
                    (lambda: (lambda f, y, d: 100 * ref_known_share(f, y, d)), "fraction"),
                    (lambda: (lambda f, y, d: float((f[f["application_date"].dt.year == y][
                        "outcome_known_date"] <= pd.Timestamp(d)).mean())), "duplicated")],
          mutate=ref_known_share)
def check_known_share(answer) -> str:
    compare.function(answer, _share_cases(), what="your function")
    share = ref_known_share(loans(), 2023, ASOF)
    return (f"On {ASOF:%d %B %Y}, {share:.0%} of 2023's applications can be graded: the rest "
            "wait for their outcome. That is label delay.")
