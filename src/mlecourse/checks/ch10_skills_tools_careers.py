"""Checks for the workbook of chapter 10, "Skills, tools and career paths".

Reference answers are computed from the report's tables (``data/report``) or
by the reference implementation in ``mlecourse.teaching.career``, so they follow the
tables if a figure is ever corrected.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from mlecourse.teaching import career, market
from mlecourse.teaching.report import load_report_table
from . import compare
from .blank import is_blank
from .core import exercise
from .result import Unanswered, Wrong

WORKBOOK = "10_skills_tools_careers.ipynb"


# 10.1 ----------------------------------------------------------------------

YEARS_9_1 = 5


def _start_9_1() -> float:
    table = market.table1()
    row = table[(table["role"] == "Machine Learning Engineer") & (table["level"] == "Mid-Level")]
    return float(row["base_low_usd"].iloc[0])


def _rate_9_1() -> float:
    return float(career.growth_rates().loc["mid_level_mle_salary_growth_yoy", "rate"])


def ref_growth() -> float:
    return career.compound_growth(_start_9_1(), _rate_9_1(), YEARS_9_1)


@exercise("10.1", "Five years of raises, compounded", workbook=WORKBOOK,
          hints=["Each year's raise applies to the previous year's salary, not to the first one.",
                 "A rate of 7% is 0.07 as a fraction; one year multiplies the salary by 1.07.",
                 "Five years multiply it by 1.07 five times: `start * (1 + rate) ** years`."],
          reference=ref_growth,
          mistakes=[(lambda: _start_9_1() * (1 + _rate_9_1() * YEARS_9_1), "compound"),
                    (lambda: _start_9_1() * (1 + 100 * _rate_9_1()) ** YEARS_9_1, "percent"),
                    (lambda: _start_9_1() * (1 + _rate_9_1()) ** (YEARS_9_1 - 1), "one year"),
                    (lambda: ref_growth() - _start_9_1(), "increase")],
          rounded=[lambda: round(ref_growth()), lambda: round(ref_growth(), 2)])
def check_growth(answer) -> str:
    value = compare.as_number(answer, "the salary after five years")
    start, rate = _start_9_1(), _rate_9_1()
    close = lambda x: math.isclose(value, x, rel_tol=1e-4)
    if close(start * (1 + rate * YEARS_9_1)):
        raise Wrong("that is simple growth, the same raise every year; compound it: "
                    "each raise applies to the salary of the year before")
    if close(start * (1 + 100 * rate) ** YEARS_9_1):
        raise Wrong("far too high: the rate was used as a whole number; a percent is a "
                    "fraction of 100")
    if close(start * (1 + rate) ** (YEARS_9_1 - 1)) or close(start * (1 + rate) ** (YEARS_9_1 + 1)):
        raise Wrong("one year off: count the raises between now and five years from now")
    if close(ref_growth() - start):
        raise Wrong("that is the increase over five years, not the salary at the end")
    compare.number(value, ref_growth(), what="the salary after five years", rel=1e-4, places=0)
    return (f"About {ref_growth() / start - 1:.0%} more after five years, if nothing changes "
            "for five years, which is the weak assumption.")


# 10.2 ----------------------------------------------------------------------

OPTIONS_9_2 = {"softwareoasisnd": "software oasis", "peopleinai2025": "people in ai",
               "motion2025a;motion2025b": "motion recruitment"}


def ref_annualised() -> str:
    rates = career.growth_rates()
    market = load_report_table("market").set_index("metric").loc[rates.index]
    spans = market["period_start"].notna() & market["period_end"].notna() \
        & (market["period_start"] != market["period_end"])
    (source,) = market.loc[spans, "source"]
    return OPTIONS_9_2[source]


EXPLAIN_9_2 = {
    "people in ai": "People in AI's ~20% is a year-over-year change: one year compared with "
                    "the year before, and the report does not even say which year",
    "motion recruitment": "Motion Recruitment's 7% is a year-over-year change for mid-level "
                          "MLEs, for one unstated year, not a rate measured over several years",
}


@exercise("10.2", "A yearly rate or a one-year change?", workbook=WORKBOOK,
          hints=["Look at the `period_start` and `period_end` columns of the three "
                 "compensation-growth rows of market.csv.",
                 "A year-over-year figure compares one year with the one before; an annualised "
                 "figure averages the growth of a span of several years.",
                 "Only one of the three rows states a span of more than one year."],
          reference=ref_annualised,
          mistakes=[(lambda: "people in ai", "year-over-year"),
                    (lambda: "motion recruitment", "mid-level")])
def check_annualised(answer) -> str:
    correct = ref_annualised()
    explanations = {option: EXPLAIN_9_2.get(option, "") for option in OPTIONS_9_2.values()}
    compare.choice(answer, correct, explanations, what="the source")
    return ("15% a year over 2019-2024 is the only rate measured over several years; even so, "
            "it is an average of average salaries, not anyone's raise.")


# 10.3 ----------------------------------------------------------------------

ASSESSMENT_9_3 = "data scientist"
PATH_9_3 = "mlops"


def ref_gap_priority() -> pd.Series:
    return career.gaps(career.STARTING_POINTS[ASSESSMENT_9_3], PATH_9_3)["priority"]


def _all_gaps() -> pd.DataFrame:
    rating = career.validate(career.STARTING_POINTS[ASSESSMENT_9_3])
    target = pd.Series(career.PATHS[PATH_9_3]).reindex(rating.index)
    weight = career.skills_table()["weight"]
    return pd.DataFrame({"gap": target - rating, "weight": weight})


@exercise("10.3", "A prioritised gap list", workbook=WORKBOOK,
          hints=["The gap of a skill is the path's target minus the rating; only positive "
                 "gaps are gaps.",
                 "The priority is the gap times the skill's weight: map the `importance` column "
                 "of the skills table through `career.IMPORTANCE_WEIGHTS`.",
                 "Keep the skills whose gap is above 0, then `sort_values(ascending=False)`."],
          reference=ref_gap_priority,
          mistakes=[(lambda: _all_gaps()["gap"].loc[ref_gap_priority().index], "weight"),
                    (lambda: (_all_gaps()["gap"] * _all_gaps()["weight"]).sort_values(ascending=False),
                     "not gaps"),
                    (lambda: -ref_gap_priority(), "target minus"),
                    (lambda: ref_gap_priority().sort_values(), "order")])
def check_gap_priority(answer) -> str:
    expected = ref_gap_priority()
    if isinstance(answer, pd.Series):
        values = pd.to_numeric(answer, errors="coerce")
        extra = answer.index.difference(expected.index)
        if len(extra) and set(expected.index) <= set(answer.index):
            raise Wrong(f"skills at or above their target are not gaps, e.g. {extra[0]!r}: "
                        "keep only positive gaps")
        if answer.index.equals(expected.index) or set(answer.index) == set(expected.index):
            if (values < 0).all():
                raise Wrong("the priorities are negative: a gap is the target minus the rating")
            raw = _all_gaps()["gap"].reindex(answer.index)
            if values.notna().all() and (values.to_numpy(float) == raw.to_numpy(float)).all():
                raise Wrong("these are the raw gaps; weight each by its skill's importance")
    compare.series(answer, expected, what="the gap list")
    ordered = pd.to_numeric(answer, errors="coerce")
    if not ordered.is_monotonic_decreasing:
        raise Wrong("the right priorities in the wrong order: sort highest priority first")
    return "Software engineering first: the usual first step from data science to MLOps."


# 10.4 ----------------------------------------------------------------------

TOOLS_9_4 = ("MLflow", "Docker", "Grafana", "AWS (SageMaker)", "Weights & Biases")


def ref_tool_kinds() -> dict[str, str]:
    return {tool: career.TOOL_MAP[tool].kind for tool in TOOLS_9_4}


def _with(tool: str, kind: str) -> dict[str, str]:
    return {**ref_tool_kinds(), tool: kind}


@exercise("10.4", "Where does the course meet each tool?", workbook=WORKBOOK,
          hints=["The chapter's tools table has a column 'in the course' for every tool.",
                 "'used' means the course runs the real tool; 'stand-in' means another tool does "
                 "its job locally; 'files only' means its files are written but not run.",
                 "Give a dict such as {'MLflow': 'used', ...}, with the five tools as keys."],
          reference=ref_tool_kinds,
          mistakes=[(lambda: _with("Docker", "used"), "Docker"),
                    (lambda: _with("Weights & Biases", "described"), "Weights & Biases"),
                    (lambda: _with("MLflow", "stand-in"), "MLflow")])
def check_tool_kinds(answer) -> str:
    if is_blank(answer):
        raise Unanswered()
    if not isinstance(answer, dict):
        raise Wrong(f"expected a dict of tool -> kind, got {compare.describe(answer)}")
    missing = [t for t in TOOLS_9_4 if t not in answer]
    if missing:
        raise Wrong(f"the dict has no entry for {missing[0]!r}; use the tool names exactly as given")
    extra = [t for t in answer if t not in TOOLS_9_4]
    if extra:
        raise Wrong(f"{extra[0]!r} is not one of the five tools asked about")
    expected = ref_tool_kinds()
    for tool in TOOLS_9_4:
        kind = answer[tool]
        if is_blank(kind):
            raise Unanswered()
        if not isinstance(kind, str) or kind.strip().lower() not in career.KINDS:
            raise Wrong(f"the kind for {tool!r} is {compare.describe(kind)}; expected one of "
                        f"{', '.join(repr(k) for k in career.KINDS)}")
        if kind.strip().lower() != expected[tool]:
            raise Wrong(f"the kind for {tool!r} is not right: does the course run it, replace "
                        "it with a local tool, write its files, or only describe it?")
    return "Knowing what you have only read about is part of an honest CV."


# 10.5 ----------------------------------------------------------------------

def _mle_table() -> pd.DataFrame:
    table = market.table1()
    return table[table["role"] == "Machine Learning Engineer"].set_index("level")


def ref_midpoints() -> pd.Series:
    mle = _mle_table()
    return (mle["base_low_usd"] + mle["base_high_usd"]).astype(float) / 2


def _all_mle_rows_midpoints() -> pd.Series:
    salaries = load_report_table("salaries")
    mle = salaries[salaries["role"] == "Machine Learning Engineer"].dropna(subset=["base_low_usd"])
    return ((mle["base_low_usd"] + mle["base_high_usd"]).astype(float) / 2).groupby(mle["level"]).mean()


@exercise("10.5", "Midpoints of the base-salary ranges", workbook=WORKBOOK,
          hints=["Keep the rows of the report's table (`kind == 'table'`) for the role "
                 "'Machine Learning Engineer'.",
                 "Use the base columns, `base_low_usd` and `base_high_usd`, not the total ones.",
                 "The midpoint is (low + high) / 2; index the Series by `level`."],
          reference=ref_midpoints,
          mistakes=[(lambda: (_mle_table()["total_low_usd"] + _mle_table()["total_high_usd"]).astype(float) / 2,
                     "total"),
                    (lambda: (_mle_table()["base_high_usd"] - _mle_table()["base_low_usd"]).astype(float),
                     "width"),
                    (lambda: _all_mle_rows_midpoints(), "table")])
def check_midpoints(answer) -> str:
    mle = _mle_table()
    if isinstance(answer, pd.Series):
        if "All" in answer.index:
            raise Wrong("'All' is not a level: keep only the rows of the report's table "
                        "(kind == 'table')")
        if set(answer.index) == set(mle.index):
            got = pd.to_numeric(answer, errors="coerce").reindex(mle.index).to_numpy(float)
            total = ((mle["total_low_usd"] + mle["total_high_usd"]).astype(float) / 2).to_numpy(float)
            width = (mle["base_high_usd"] - mle["base_low_usd"]).astype(float).to_numpy(float)
            if (abs(got - total) < 1).all():
                raise Wrong("these are midpoints of total compensation; use the base salary columns")
            if (abs(got - width) < 1).all():
                raise Wrong("these are the widths of the ranges (high - low), not their midpoints")
    compare.series(answer, ref_midpoints(), what="the Series of midpoints", rel=1e-6)
    return ("The senior midpoint is barely above the mid-level one: look at where the senior "
            "range starts.")


# 10.6 ----------------------------------------------------------------------

# (start, target, rate, what the case is about): exact hits first, where a
# logarithm rounded up gives one year too many.
CASES_9_6 = [
    (100, 121, 0.10, "100 -> 121 at 10% a year (an exact hit)"),
    (100_000, 150_000, 0.07, "100,000 -> 150,000 at 7% a year"),
    (100, 144, 0.20, "100 -> 144 at 20% a year (an exact hit)"),
    (100, 110.25, 0.05, "100 -> 110.25 at 5% a year (an exact hit)"),
    (137_000, 137_000, 0.07, "a start equal to the target"),
    (175_000, 137_000, 0.07, "a start above the target"),
    (137_000, 175_000, 0.0, "a rate of 0%"),
    (137_000, 175_000, -0.03, "a rate of -3% a year"),
    (50_000, 1_000_000, 0.02, "50,000 -> 1,000,000 at 2% a year (a large gap)"),
]
def _years_case(start, target, rate, name) -> compare.Case:
    wanted = career.years_to_reach(start, target, rate)

    def verify(result):
        if wanted is None:
            if result is None:
                return
            if result == 0 and rate == 0:
                raise Wrong("0 years, but a salary growing at 0% never reaches a higher target: "
                            "return None for never")
            raise Wrong(f"expected None (never): at a rate of {rate:.0%} the salary never reaches "
                        "the target")
        if result is None:
            raise Wrong("None (never), but this salary does reach the target")
        if isinstance(result, (float, np.floating)):
            raise Wrong(f"expected a whole number of years (an int), got the float {result!r}: "
                        "count years, or convert the rounded-up count with int()")
        if isinstance(result, bool) or not isinstance(result, (int, np.integer)):
            raise Wrong(f"expected a whole number of years (an int), got {compare.describe(result)}")
        if result == wanted - 1:
            raise Wrong(f"{result} years leave the salary short of the target: count the year "
                        "that reaches it (round up, not down)")
        if result == wanted + 1:
            raise Wrong(f"{result} years is one too many: a salary that reaches the target exactly "
                        "has reached it. Beware floating point: a logarithm can give "
                        "2.0000000000000004 for an exact 2")
        if result < 0:
            raise Wrong(f"{result} years: a negative count; a shrinking salary never gets there")
        if result != wanted:
            raise Wrong(f"{result} years is too {'many' if result > wanted else 'few'}")
    return compare.Case(f"{name}", (start, target, rate), verify)


def _ceil_log_mistake(start, target, rate):
    if start >= target:
        return 0
    if rate <= 0:
        return None
    return math.ceil(math.log(target / start) / math.log(1 + rate))


def _round_down_mistake(start, target, rate):
    if start >= target:
        return 0
    if rate <= 0:
        return None
    return int(math.log(target / start) / math.log1p(rate))


def _float_mistake(start, target, rate):
    years = career.years_to_reach(start, target, rate)
    return None if years is None else float(years)


def _zero_rate_mistake(start, target, rate):
    if start >= target or rate == 0:
        return 0
    return career.years_to_reach(start, target, rate)


@exercise("10.6", "How many years to reach a salary?", workbook=WORKBOOK,
          hints=["Start at 0 years; while the salary is below the target, grow it by one year "
                 "(`salary * (1 + rate)`) and count the year.",
                 "Before the loop: a start already at or above the target needs 0 years, and a "
                 "rate of 0 or below never gets there (return None), or the loop never ends.",
                 "With a formula instead, `math.log(target / start) / math.log(1 + rate)` is the "
                 "exact number of years; round it up, but an exact 2 can come out as "
                 "2.0000000000000004: a loop avoids the problem."],
          reference=lambda: career.years_to_reach,
          mistakes=[(lambda: _round_down_mistake, "short of the target"),
                    (lambda: _float_mistake, "whole number"),
                    (lambda: _zero_rate_mistake, "never"),
                    (lambda: _ceil_log_mistake, "floating point")],
          mutate=career.years_to_reach,
          equivalent={
              "`rate >= 1` -> `rate > 1`": "a rate of 100% a year or more is refused as a "
                                            "percentage typed for a fraction; no valid rate is 1",
              "`start <= 0` -> `start < 0`": "a start of 0 is not a salary: the exercise's starts "
                                             "are positive",
              "`start * (1 + rate) ** n >= target` -> `start * (1 + rate) ** n > target`":
                  "the tolerant isclose next to it already counts an exact hit",
              "`years > 1` -> `years >= 1`": "with years = 1, one year less is 0 years, which "
                                             "the start >= target test has already ruled out"})
def check_years_to_reach(answer) -> str:
    compare.function(answer, [_years_case(*case) for case in CASES_9_6], what="your function",
                     seconds=2, overtime="a loop that never ends? A salary that does not grow "
                                         "never reaches the target")
    mle = _mle_table()
    start, top = float(mle.loc["Mid-Level", "base_low_usd"]), float(mle.loc["Senior", "base_high_usd"])
    years = career.years_to_reach(start, top, _rate_9_1())
    return (f"At {_rate_9_1():.0%} a year, the mid-level start reaches the senior top in {years} "
            "years, if the rate holds that long, which it will not.")
