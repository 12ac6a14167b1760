"""Checks for the workbook of chapter 10, "Skills, tools and career paths".

Reference answers are computed from the report's tables (``data/report``) or
by the reference implementation in ``mlecourse.teaching.career``, so they follow the
tables if a figure is ever corrected.
"""
from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from mlecourse.teaching import career, market
from mlecourse.teaching.report import load_report_table
from . import compare
from .blank import is_blank
from .core import exercise
from .result import Unanswered, Wrong, plural

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
                    (lambda: ref_growth() - _start_9_1(), "increase"),
                    (lambda: round(ref_growth() / 1000, 1), "thousands of dollars"),
                    (lambda: round(ref_growth(), -4), "round to the nearest 1,000")],
          rounded=[lambda: round(ref_growth()), lambda: round(ref_growth(), 2),
                   lambda: round(ref_growth(), -3), lambda: math.floor(ref_growth() / 1000) * 1000])
def check_growth(answer) -> str:
    value = compare.as_number(answer, "the salary after five years")
    start, rate = _start_9_1(), _rate_9_1()
    close = lambda x: compare.agrees(value, x, rel=1e-4, places=-3)
    if compare.agrees(value, ref_growth() / 1000, rel=1e-4, places=0):
        raise Wrong("that looks like thousands of dollars; give the salary in dollars")
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
    # a salary is reported to the thousand: $192k is right; to the ten thousand is too coarse
    compare.number(value, ref_growth(), what="the salary after five years", rel=1e-4, places=-3)
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


def ref_priorities(rating: dict, target: dict, weight: dict) -> pd.Series:
    """Each skill below its target, by priority (gap x weight), highest first."""
    rating, target, weight = pd.Series(rating), pd.Series(target), pd.Series(weight)
    gap = target - rating
    priority = (gap * weight)[gap > 0]
    return priority.sort_values(ascending=False, kind="stable")


def _weights() -> dict[str, float]:
    return career.skills_table()["weight"].to_dict()


def ref_gap_priority() -> pd.Series:
    """The gap list of the workbook's case: a data scientist on the MLOps path."""
    return career.gaps(career.STARTING_POINTS[ASSESSMENT_9_3], PATH_9_3)["priority"]


def _priority_cases() -> list[compare.Case]:
    weights = _weights()
    skills = list(weights)
    level = lambda *values: dict(zip(skills, values))
    cases = [
        ("a data scientist on the MLOps path", career.STARTING_POINTS[ASSESSMENT_9_3],
         career.PATHS[PATH_9_3], weights),
        ("a software engineer on the ML engineer path", career.STARTING_POINTS["software engineer"],
         career.PATHS["mle"], weights),
        ("ratings above, at and below the targets",
         level(4, 3, 1, 3, 0, 2, 1, 2, 0), level(3, 3, 3, 3, 2, 3, 1, 1, 1), weights),
        ("someone already at every target", career.PATHS["mle"], career.PATHS["mle"], weights),
        ("weights you are given (not the report's)", level(1, 1, 1, 1, 1, 1, 1, 1, 1),
         level(2, 3, 4, 2, 3, 4, 2, 3, 4), dict(zip(skills, [1.0, 0.5, 2.0, 4.0, 0.25, 1.5, 3.0, 1.0, 0.1]))),
    ]
    return [compare.Case(name, (dict(r), dict(t), dict(w)), _priorities_match(r, t, w), keep_inputs=True)
            for name, r, t, w in cases]


def _priorities_match(rating: dict, target: dict, weight: dict):
    want = ref_priorities(rating, target, weight)
    gap = pd.Series(target) - pd.Series(rating)

    def verify(result):
        if not isinstance(result, pd.Series):
            raise Wrong(f"expected a pandas Series of priorities indexed by skill, got "
                        f"{compare.describe(result)}")
        extra = result.index.difference(want.index)
        if len(extra):
            name = extra[0]
            reached = name in gap.index and gap[name] <= 0
            raise Wrong(f"{name!r} is in the list, but " + (
                f"its gap is {gap[name]:g}: only skills below their target (a gap above 0) are gaps"
                if reached else "it is not one of the skills"))
        values = pd.to_numeric(result, errors="coerce")
        if len(values) and (values < 0).all():
            raise Wrong("the priorities are negative: a gap is the target minus the rating")
        if set(result.index) == set(want.index) and want.ne(gap[want.index]).any() and \
                np.allclose(values.reindex(want.index), gap[want.index]):
            raise Wrong("these are the raw gaps; weight each by its skill's weight")
        compare.series(result, want, what="the list")
        if not values.is_monotonic_decreasing:
            raise Wrong("the right priorities in the wrong order: sort highest priority first")
    return verify


def _raw_gaps(rating, target, weight):
    gap = pd.Series(target) - pd.Series(rating)
    return gap[gap > 0].sort_values(ascending=False)


def _with_reached(rating, target, weight):
    gap = pd.Series(target) - pd.Series(rating)
    return (gap * pd.Series(weight)).sort_values(ascending=False)


def _rating_minus_target(rating, target, weight):
    gap = pd.Series(rating) - pd.Series(target)
    return (gap * pd.Series(weight))[gap < 0].sort_values()


def _ascending(rating, target, weight):
    return ref_priorities(rating, target, weight).sort_values()


@exercise("10.3", "A prioritised gap list", workbook=WORKBOOK,
          hints=["Turn the three dicts into Series (`pd.Series(rating)`): they line up by skill.",
                 "The gap of a skill is its target minus its rating; the priority is the gap "
                 "times the skill's weight.",
                 "Keep the skills whose gap is above 0, then `sort_values(ascending=False)`."],
          reference=lambda: ref_priorities,
          mistakes=[(lambda: _raw_gaps, "raw gaps"),
                    (lambda: _with_reached, "only skills below their target"),
                    (lambda: _rating_minus_target, "target minus the rating"),
                    (lambda: _ascending, "order")],
          mutate=ref_priorities)
def check_gap_priority(answer) -> str:
    compare.function(answer, _priority_cases(), what="your function")
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
                    (lambda: _all_mle_rows_midpoints(), "table"),
                    (lambda: ref_midpoints() / 1000, "thousands of dollars")],
          rounded=[lambda: ref_midpoints().round(-3), lambda: (ref_midpoints() / 1000).apply(math.ceil) * 1000])
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
            if (abs(got * 1000 - ref_midpoints().to_numpy(float)) <= 500).all():
                raise Wrong("these look like thousands of dollars; give the midpoints in dollars")
    # dollars to the thousand, as a salary is reported ($162,500 as $162k or $163k)
    compare.series(answer, ref_midpoints(), what="the Series of midpoints", rel=1e-6, places=-3)
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
            raise Wrong(f"{plural(result, 'year')} {'leaves' if result == 1 else 'leave'} the salary "
                        "short of the target: count the year that reaches it (round up, not down)")
        if result == wanted + 1:
            raise Wrong(f"{plural(result, 'year')} is one too many: a salary that reaches the target exactly "
                        "has reached it. Beware floating point: a logarithm can give "
                        "2.0000000000000004 for an exact 2")
        if result < 0:
            raise Wrong(f"{result} years: a negative count; a shrinking salary never gets there")
        if result != wanted:
            raise Wrong(f"{plural(result, 'year')} is too {'many' if result > wanted else 'few'}")
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


# 10.8 ----------------------------------------------------------------------

def ref_annualised_rate(start: float, end: float, years: float) -> float:
    """The constant yearly rate that takes ``start`` to ``end`` in ``years`` years."""
    return (end / start) ** (1 / years) - 1


# (start, end, years, what the case is about)
RATE_CASES = [
    (100.0, 200.0, 5, "100 -> 200 in 5 years"),
    (100_000.0, 110_000.0, 1, "one year: the rate is the change"),
    (137_000.0, 175_000.0, 3, "137,000 -> 175,000 in 3 years"),
    (200.0, 150.0, 4, "a fall over 4 years"),
    (120_000.0, 120_000.0, 6, "no change in 6 years"),
    (80_000.0, 100_000.0, 2.5, "two and a half years"),
]


def _rate_case(start, end, years, name) -> compare.Case:
    wanted = ref_annualised_rate(start, end, years)

    def verify(result):
        value = compare.as_number(result, "the rate")
        if math.isclose(value, wanted, rel_tol=1e-9, abs_tol=1e-12):
            return
        if math.isclose(value, 100 * wanted, rel_tol=1e-9) and wanted:
            raise Wrong("that is a percentage; return a fraction (0.07 for 7%)")
        if years > 1 and math.isclose(value, (end / start - 1) / years, rel_tol=1e-9):
            raise Wrong("that is the total change divided by the years: a simple average, "
                        "which ignores that each year's growth builds on the last")
        if years > 1 and math.isclose(value, end / start - 1, rel_tol=1e-9):
            raise Wrong("that is the change over the whole span, not per year")
        if years > 1 and math.isclose(value, math.log(end / start) / years, rel_tol=1e-9):
            raise Wrong("that is the continuously compounded rate (a logarithm); the rate per "
                        "year compounds once a year: (end / start) ** (1 / years) - 1")
        compare.number(value, wanted, what="the rate", rel=1e-9)
    return compare.Case(name, (start, end, years), verify)


@exercise("10.8", "The yearly rate behind a span", workbook=WORKBOOK,
          hints=["Grown at a rate r for n years, a start becomes start * (1 + r) ** n.",
                 "Solve that for r: (end / start) ** (1 / years) - 1.",
                 "Return a fraction (0.15 for 15%), not a percentage."],
          reference=lambda: ref_annualised_rate,
          mistakes=[(lambda: (lambda s, e, y: (e / s - 1) / y), "simple average"),
                    (lambda: (lambda s, e, y: 100 * ref_annualised_rate(s, e, y)), "percentage"),
                    (lambda: (lambda s, e, y: math.log(e / s) / y), "continuously compounded"),
                    (lambda: (lambda s, e, y: e / s - 1), "whole span")])
def check_annualised_rate(answer) -> str:
    compare.function(answer, [_rate_case(*case) for case in RATE_CASES], what="your function")
    doubled = 1.15 ** 5
    return (f"15% a year over 2019-2024, the only span among the report's three figures, is "
            f"{doubled:.2f} times over five years; as one year's change, 15% would be a very "
            "different claim.")


# 10.9 ----------------------------------------------------------------------

_AMOUNT = re.compile(r"\$\s*(\d[\d,]*(?:\.\d+)?)\s*([kKmM]?)")
_SCALE = {"": 1.0, "k": 1e3, "m": 1e6}


def ref_salary_range(text: str) -> tuple:
    """(low, high) in dollars from a salary as reports write it; None where absent."""
    figures = [float(number.replace(",", "")) * _SCALE[unit.lower()]
               for number, unit in _AMOUNT.findall(text)]
    if not figures:
        return (None, None)
    high = None if text.rstrip().endswith("+") else figures[-1]
    return (figures[0], high)


SALARY_TEXTS = [
    ("$137k-$175k", "a range in thousands"),
    ("$95,000 - $120,000", "a range written in full, with spaces"),
    ("~$108k", "one approximate figure"),
    ("$200k+", "an open-ended top"),
    ("$1.2M", "a figure in millions"),
    ("$150K–$210K", "capital K and an en dash"),
    ("N/A", "no figure"),
    ("", "an empty cell"),
    ("$87,500", "one figure in full"),
    ("$132.5k - $160k", "a figure with a decimal point"),
]


def _salary_case(text: str, name: str) -> compare.Case:
    low, high = ref_salary_range(text)

    def verify(result):
        if not isinstance(result, tuple) or len(result) != 2:
            raise Wrong(f"expected a tuple (low, high), got {compare.describe(result)}")
        got_low, got_high = result
        for got, want, end in ((got_low, low, "low"), (got_high, high, "high")):
            if want is None and got is not None:
                why = ("a '+' means there is no top: high is None" if end == "high" and low is not None
                       else "there is no figure: give None")
                raise Wrong(f"{text!r} gives {end} = {compare.describe(got)}; {why}")
            if want is not None and got is None:
                raise Wrong(f"{text!r} gives {end} = None, but it has a figure")
            if want is not None:
                value = compare.as_number(got, f"the {end} end")
                scaled = re.search(r"\d\s*[kKmM]", text)
                if scaled and (math.isclose(value * 1000, want) or math.isclose(value * 1_000_000, want)):
                    raise Wrong(f"{text!r} gives {end} = {value:g}: read the k or M, and give dollars")
                if value.is_integer() and re.search(rf"(?<![\d,]){int(value)},\d{{3}}", text):
                    raise Wrong(f"{text!r} gives {end} = {value:g}: the comma separates thousands; "
                                "drop it before converting")
                if not math.isclose(value, want, rel_tol=1e-9):
                    raise Wrong(f"{text!r} gives {end} = {value:g}, which is not the figure written")
    return compare.Case(f"{text!r} ({name})", (text,), verify)


def _no_commas(text):
    figures = [float(n) * _SCALE[u.lower()] for n, u in re.findall(r"\$(\d+(?:\.\d+)?)([kKmM]?)", text)]
    return (figures[0], None if text.endswith("+") else figures[-1]) if figures else (None, None)


def _lower_k_only(text):
    figures = [float(n.replace(",", "")) * (1e3 if u == "k" else 1.0)
               for n, u in re.findall(r"\$\s*(\d[\d,]*(?:\.\d+)?)\s*(k?)", text)]
    return (figures[0], None if text.rstrip().endswith("+") else figures[-1]) if figures else (None, None)


def _top_is_the_figure(text):
    low, high = ref_salary_range(text)
    return (low, low if high is None and low is not None else high)


@exercise("10.9", "Read a salary as a report writes it", workbook=WORKBOOK,
          hints=["A regular expression finds every amount: `re.findall(r'\\$\\s*([\\d,.]+)\\s*([kKmM]?)', text)` "
                 "gives (number, unit) pairs.",
                 "Drop the commas before `float()`, then multiply by 1,000 for k and 1,000,000 for M "
                 "(either case).",
                 "The first amount is the low end, the last the high end (the same for one figure); "
                 "a text ending in '+' has no high end; no amount at all gives (None, None)."],
          reference=lambda: ref_salary_range,
          mistakes=[(lambda: _no_commas, "separates thousands"),
                    (lambda: _lower_k_only, "read the k or M"),
                    (lambda: _top_is_the_figure, "no top")])
def check_salary_range(answer) -> str:
    compare.function(answer, [_salary_case(*case) for case in SALARY_TEXTS], what="your function")
    return ("The report's salary table was read this way into data/report/salaries.csv, with a "
            "note for every cell that needed judgement: a parser settles the format, not the meaning.")
