"""Checks for the workbook of chapter 1, "The Machine Learning Engineer".

Reference answers are computed: the ROI figures from the report's market
table (``data/report/market.csv``) and the assumptions stated in the
workbook, the salary flags from the report's Table 1, the refactored function
from ``mlecourse.teaching.risk_bands``.
"""
from __future__ import annotations

import math
from functools import cache

import numpy as np
import pandas as pd

from mlecourse.teaching import market
from mlecourse.teaching.report import load_report_table
from mlecourse.teaching.risk_bands import BANDS, HIGH_FROM, MEDIUM_FROM, add_risk_band
from mlecourse.teaching.roi import Investment, percent_change
from . import compare
from .blank import is_blank
from .result import Unanswered, Wrong

from .core import exercise

WORKBOOK = "01_the_ml_engineer.ipynb"


@cache
def _market() -> pd.DataFrame:
    return load_report_table("market")


def figure(metric: str) -> float:
    """A single-valued figure of the report's market table."""
    row = _market().set_index("metric").loc[metric]
    return float(row["value_high"])


# 1.1 ----------------------------------------------------------------------

def ref_time_to_hire_change() -> float:
    return percent_change(figure("recruitment_time_to_hire_before"),
                          figure("recruitment_time_to_hire_after"))


@exercise("1.1", "How much faster is hiring?", workbook=WORKBOOK,
          hints=["A percent change compares the difference with the value you started from.",
                 "(after - before) / before, then times 100. A fall comes out negative."],
          reference=ref_time_to_hire_change,
          mistakes=[(lambda: (36 - 60) / 36 * 100, "divided by the time after"),
                    (lambda: (60 - 36) / 36 * 100, "divided by the time after"),
                    (lambda: ref_time_to_hire_change() / 100, "percent"),
                    (lambda: -ref_time_to_hire_change() / 100, "percent"),
                    (lambda: -ref_time_to_hire_change(), "negative"),
                    (lambda: 36 / 60 * 100, "as a percent of the time before"),
                    (lambda: 36 / 60, "as a fraction of the time before")],
          rounded=[lambda: round(ref_time_to_hire_change()), lambda: -40.0])
def check_time_to_hire(answer) -> str:
    value = compare.as_number(answer, "the percent change")
    expected = ref_time_to_hire_change()
    before, after = figure("recruitment_time_to_hire_before"), figure("recruitment_time_to_hire_after")
    close = lambda x: compare.agrees(value, x, rel=1e-3, places=1)
    if close((after - before) / after * 100) or close((before - after) / after * 100):
        raise Wrong("you divided by the time after; a change is measured against where you started")
    if close(expected / 100) or close(-expected / 100):
        raise Wrong("that is a fraction; give the change in percent (a fall of a tenth is -10.0)")
    if close(after / before * 100):
        raise Wrong("that is the time after as a percent of the time before; the change is "
                    "how far that is from 100%")
    if close(after / before):
        raise Wrong("that is the time after as a fraction of the time before; the change is "
                    "the difference, in percent of the time before")
    if close(-expected):
        raise Wrong("the time went down, so the change is negative")
    compare.number(value, expected, what="the percent change", rel=1e-3, places=1)
    return "It matches the report's 40%, which is a good sign the two numbers were copied right."


# 1.2 ----------------------------------------------------------------------
# The workbook's stated assumptions; the 15% is the report's billing case.
BILLING_COST_PER_YEAR = 2_400_000
BUILD_COST = 450_000
RUNNING_COST_PER_YEAR = 90_000


def billing_project(running_cost: float = RUNNING_COST_PER_YEAR) -> Investment:
    saving = figure("billing_operational_cost_reduction") / 100 * BILLING_COST_PER_YEAR
    return Investment(annual_benefit=saving, build_cost=BUILD_COST, annual_running_cost=running_cost)


def ref_payback_months() -> float:
    return billing_project().payback_months()


def _running_cost_once() -> float:
    """The running cost paid once, with the build, instead of every year."""
    saving = billing_project().annual_benefit
    return (BUILD_COST + RUNNING_COST_PER_YEAR) / (saving / 12)


def _running_cost_monthly() -> float:
    """The yearly running cost taken off a monthly saving: a negative "payback"."""
    saving = billing_project().annual_benefit
    return BUILD_COST / (saving / 12 - RUNNING_COST_PER_YEAR)


@exercise("1.2", "When does the billing model pay for itself?", workbook=WORKBOOK,
          hints=["First the yearly saving: 15% of the billing operation's yearly cost.",
                 "The model also costs money every year it runs: subtract that from the saving.",
                 "Payback = build cost / net saving per month. Give months, not years."],
          reference=ref_payback_months,
          mistakes=[(lambda: billing_project(running_cost=0).payback_months(), "running cost"),
                    (lambda: ref_payback_months() / 12, "years"),
                    (lambda: BUILD_COST / ((15 * BILLING_COST_PER_YEAR - RUNNING_COST_PER_YEAR) / 12),
                     "percent"),
                    (_running_cost_monthly, "negative"),
                    (_running_cost_once, "every year"),
                    (lambda: billing_project(running_cost=0).payback_months() / 12, "years")],
          rounded=[lambda: round(ref_payback_months(), 1), lambda: round(ref_payback_months())])
def check_payback(answer) -> str:
    value = compare.as_number(answer, "the payback period")
    expected = ref_payback_months()
    close = lambda x: compare.agrees(value, x, rel=1e-3, places=1)
    if value <= 0:
        raise Wrong("a payback period is never zero or negative: if your net saving came out "
                    "negative, a yearly cost was taken off a monthly saving (or the other way); "
                    "keep both per year, or both per month")
    if close(billing_project(running_cost=0).payback_months()):
        raise Wrong("that ignores the yearly running cost of the model: the saving is not all profit")
    if close(_running_cost_once()):
        raise Wrong("that pays the running cost once, with the build; it is paid every year, "
                    "so take it off the yearly saving")
    if close(expected / 12) or close(billing_project(running_cost=0).payback_months() / 12):
        raise Wrong("that looks like years; give the payback period in months")
    if value < 1:
        raise Wrong("less than a month is far too fast: did you multiply by 15 rather than by 15 percent?")
    compare.number(value, expected, what="the payback period in months", rel=1e-3, places=1)
    return "Now change one assumption at a time and watch how much the answer moves."


# 1.3 ----------------------------------------------------------------------
ROLES = ("ds", "mle", "se")
# Each explanation says why the chosen role is not the usual owner, without
# naming the one that is (a message must not give the answer away).
TASKS = {
    "a": ("ds", {
        "mle": "task a ends in findings presented to a committee, not in a system anyone runs: "
               "whose output is an insight?",
        "se": "task a needs statistics and knowledge of lending, and ends in findings, "
              "not in application code"}),
    "b": ("mle", {
        "ds": "task b starts where the model is approved: its output is a running, tested, "
              "versioned service, not an analysis or a prototype",
        "se": "task b needs to know what the model needs and how it fails (its inputs, its "
              "versions, rolling back a model), beyond general service code"}),
    "c": ("se", {
        "ds": "task c is a screen in a web application calling an API: no analysis, no model",
        "mle": "in task c the scoring API already exists and nothing about the model changes: "
               "the work is in the web application"}),
    "d": ("mle", {
        "ds": "task d keeps a live model healthy in production (alerts, drift, retraining on a "
              "schedule): an operations job, not an analysis",
        "se": "task d needs to know what drift is and when retraining helps: "
              "it is not general application work"}),
    "e": ("ds", {
        "mle": "task e is a first experiment in a notebook, to learn whether an idea works at "
               "all: nothing is put into production yet",
        "se": "task e is a statistical experiment in a notebook, not application code"}),
}


def ref_roles() -> dict[str, str]:
    return {task: role for task, (role, _) in TASKS.items()}


@exercise("1.3", "Who does what?", workbook=WORKBOOK,
          hints=["Ask of each task: is its output an insight, a running ML system, or an application?",
                 "Insight and prototypes: data scientist. Running, monitored ML systems: ML "
                 "engineer. Application features with no model work: software engineer."],
          reference=ref_roles,
          mistakes=[(lambda: {**ref_roles(), "c": "mle"}, "the work is in the web application"),
                    (lambda: {**ref_roles(), "d": "ds"}, "live model"),
                    (lambda: {**ref_roles(), "b": "ds"}, "running, tested, versioned service"),
                    (lambda: {**ref_roles(), "f": "mle"}, "no task")])
def check_roles(answer) -> str:
    if is_blank(answer):
        raise Unanswered()
    if not isinstance(answer, dict):
        raise Wrong(f"expected a dict of task letter -> role, got {compare.describe(answer)}")
    extra = sorted(set(answer) - set(TASKS))
    if extra:
        raise Wrong(f"there is no task {extra[0]!r}; the tasks are {', '.join(TASKS)}")
    missing = sorted(set(TASKS) - set(answer))
    if missing:
        raise Wrong(f"task {missing[0]!r} has no role yet")
    for task, (correct, explanations) in TASKS.items():
        options = {correct: "", **explanations}
        compare.choice(answer[task], correct, options, what=f"the role for task {task}")
    return "Real teams blur these lines; what matters is that someone owns each one."


# 1.4 ----------------------------------------------------------------------

def ref_starts_lower(table: pd.DataFrame) -> pd.Series:
    """True where a row's base or total range starts below the previous level's, in its role."""
    def lower(column: str) -> pd.Series:
        low = table[column].astype("Float64")
        return (low < low.groupby(table["role"]).shift(1)).fillna(False).astype(bool)
    return lower("base_low_usd") | lower("total_low_usd")


def _overlaps(table: pd.DataFrame) -> pd.Series:
    """The mistake the exercise warns of: flagging a range that overlaps the previous one."""
    return market.overlaps_previous_level(table, "base") | market.overlaps_previous_level(table, "total")


def _same_start(table: pd.DataFrame) -> pd.Series:
    """Rows whose base or total range starts at exactly the previous level's figure."""
    def same(column: str) -> pd.Series:
        low = table[column].astype("Float64")
        return (low == low.groupby(table["role"]).shift(1)).fillna(False).astype(bool)
    return same("base_low_usd") | same("total_low_usd")


def _overlaps_base(table: pd.DataFrame) -> pd.Series:
    return market.overlaps_previous_level(table, "base")


def _across_roles(table: pd.DataFrame) -> pd.Series:
    """The mistake of comparing each row with the row above it, whatever its role."""
    return ref_starts_lower(table.assign(role="any"))


def _base_only(table: pd.DataFrame) -> pd.Series:
    return market.starts_below_previous_level(table, "base")


SALARY_COLUMNS = ("base_low_usd", "base_high_usd", "total_low_usd", "total_high_usd")


def _salary_table(rows: list[tuple], index=None) -> pd.DataFrame:
    """A table like Table 1: (role, level, base low, base high, total low, total high) rows."""
    frame = pd.DataFrame(rows, columns=["role", "level", *SALARY_COLUMNS], index=index)
    return frame.astype({c: "Int64" for c in SALARY_COLUMNS})


def _salary_cases() -> list[compare.Case]:
    k = 1000
    cases = [
        ("the report's Table 1", market.table1()),
        ("levels whose ranges overlap but start higher each time", _salary_table([
            ("Analyst", "Junior", 60 * k, 90 * k, 65 * k, 95 * k),
            ("Analyst", "Mid", 80 * k, 120 * k, 85 * k, 130 * k),
            ("Analyst", "Senior", 110 * k, 150 * k, 120 * k, 170 * k)])),
        ("a level starting exactly where the level before it starts", _salary_table([
            ("Analyst", "Junior", 60 * k, 90 * k, 65 * k, 95 * k),
            ("Analyst", "Mid", 60 * k, 100 * k, 65 * k, 110 * k)])),
        ("a level whose total range alone starts lower", _salary_table([
            ("Engineer", "Junior", 90 * k, 120 * k, 110 * k, 140 * k),
            ("Engineer", "Senior", 100 * k, 150 * k, 105 * k, 190 * k)])),
        ("two roles, listed one level of each in turn", _salary_table([
            ("Engineer", "Junior", 90 * k, 120 * k, 100 * k, 130 * k),
            ("Analyst", "Junior", 60 * k, 90 * k, 65 * k, 95 * k),
            ("Engineer", "Senior", 120 * k, 160 * k, 130 * k, 200 * k),
            ("Analyst", "Senior", 70 * k, 110 * k, 60 * k, 120 * k)], index=[10, 11, 12, 13])),
        ("missing figures", _salary_table([
            ("Engineer", "Junior", 90 * k, 120 * k, None, None),
            ("Engineer", "Mid", None, None, 95 * k, 140 * k),
            ("Engineer", "Senior", 80 * k, 160 * k, 100 * k, 200 * k)], index=["j", "m", "s"])),
        ("an empty table", _salary_table([])),
    ]
    return [compare.Case(name, (table,), _flags_match(table), keep_inputs=True) for name, table in cases]


def _flags_match(table: pd.DataFrame):
    want = ref_starts_lower(table)

    def verify(result):
        if not isinstance(result, pd.Series):
            raise Wrong(f"expected a Series of True/False, one per row, got {compare.describe(result)}")
        if len(result) != len(table) or not result.index.equals(table.index):
            raise Wrong("keep one flag per row of the table, with the table's own index labels")
        if result.isna().any():
            raise Wrong("some flags are missing (NA): a row with a missing figure is False")
        got = result.astype(bool)
        for label in table.index[got != want]:
            row = table.loc[label]
            what = f"row {label!r} ({row['role']}, {row['level']})"
            if not got[label]:
                raise Wrong(f"{what} is not flagged, but one of its ranges starts below the "
                            "previous level's of the same role: check both the base and the "
                            "total columns")
            if bool(_same_start(table)[label]):
                raise Wrong(f"{what} is flagged, but its range starts at the same figure as the "
                            "previous level's: the same figure is not lower")
            if bool(_overlaps(table)[label]):
                raise Wrong(f"{what} is flagged because its range overlaps the previous "
                            "level's; overlapping pay bands are normal: flag only a range "
                            "that STARTS lower than the level before it")
            if bool(_across_roles(table)[label]):
                raise Wrong(f"{what} is flagged after a comparison with another role's level; "
                            "compare levels within the same role only")
            raise Wrong(f"{what} is flagged, but neither of its ranges starts below the "
                        "previous level's (a range that starts at the same figure is not lower)")
    return verify


@exercise("1.4", "Which salary rows cannot both be right?", workbook=WORKBOOK,
          hints=["Within each role, the rows are in level order; compare each row with the row "
                 "before it in the same role.",
                 "`table.groupby('role')['base_low_usd'].shift(1)` gives the previous level's "
                 "low end; do the same for `total_low_usd`.",
                 "A comparison with a missing value should not flag a row: `.fillna(False)`."],
          reference=lambda: ref_starts_lower,
          mistakes=[(lambda: _overlaps, "overlap"),
                    (lambda: _overlaps_base, "overlap"),
                    (lambda: _across_roles, "another role"),
                    (lambda: _base_only, "check both the base and the total"),
                    (lambda: (lambda table: ref_starts_lower(table).reset_index(drop=True)),
                     "index labels")],
          mutate=ref_starts_lower)
def check_starts_lower(answer) -> str:
    compare.function(answer, _salary_cases(), what="your function")
    return _senior_note()


def _senior_note() -> str:
    """The success message, with the figures read from the data, not typed."""
    salaries = load_report_table("salaries")
    mle = salaries[(salaries["role"] == "Machine Learning Engineer") & (salaries["level"] == "Senior")]
    table_low = mle.loc[mle["kind"] == "table", "base_low_usd"].iloc[0] // 1000
    prose = mle[mle["kind"] == "prose"].iloc[0]
    return (f"One row. The prose gives that level ${prose['base_low_usd'] // 1000}k-"
            f"${prose['base_high_usd'] // 1000}k: the table's ${table_low}k comes from nowhere.")


# 1.5 ----------------------------------------------------------------------

def _loans_frame(debts: list, incomes: list) -> pd.DataFrame:
    return pd.DataFrame({
        "application_id": [f"T{i:03d}" for i in range(len(debts))],
        "monthly_debt": pd.Series(debts, dtype="float64"),
        "annual_income": pd.Series(incomes, dtype="float64"),
    })


def _expect(frame: pd.DataFrame, **thresholds):
    want = add_risk_band(frame, **thresholds)

    def verify(result):
        if not isinstance(result, pd.DataFrame):
            raise Wrong(f"expected a DataFrame, got {compare.describe(result)}")
        if len(result) != len(frame):
            raise Wrong(f"it returned {len(result)} rows for {len(frame)}: keep every row, "
                        "and say 'unknown' where the ratio cannot be computed")
        for column in ("dti", "risk_band"):
            if column not in result.columns:
                raise Wrong(f"expected a column named {column!r} in the result")
        lost = [c for c in frame.columns if c not in result.columns]
        if lost:
            raise Wrong(f"the column {lost[0]!r} of the input is missing from the result")
        got_dti = pd.to_numeric(result["dti"], errors="coerce").to_numpy(float)
        differs = ~np.isclose(got_dti, want["dti"].to_numpy(float), equal_nan=True)
        if differs.any():
            i = int(np.flatnonzero(differs)[0])
            income = frame["annual_income"].iloc[i]
            if not income > 0:
                raise Wrong(f"row {i} has an income of {income:g}: there is no meaningful ratio, so "
                            "its dti is NaN and its band 'unknown'")
            raise Wrong("the 'dti' column is not 12 x monthly_debt / annual_income "
                        "(NaN where income is not positive)")
        bands = result["risk_band"].tolist()
        unnamed = sorted({str(b) for b in bands} - set(BANDS))
        if unnamed:
            raise Wrong(f"{unnamed[0]!r} is not a band: the bands are "
                        f"{', '.join(map(repr, BANDS))}, written exactly so")
        for i, (got, right) in enumerate(zip(bands, want["risk_band"])):
            if got == right:
                continue
            dti = want["dti"].iloc[i]
            if right == "unknown":
                income = frame["annual_income"].iloc[i]
                raise Wrong(f"row {i} has an income of {income:g}: there is no meaningful ratio, "
                            f"yet it is banded {got!r}")
            limits = (thresholds.get("medium_from", MEDIUM_FROM), thresholds.get("high_from", HIGH_FROM))
            if thresholds:
                raise Wrong(f"row {i} (ratio {dti:g}) is banded {got!r}: are the thresholds you "
                            "are passed the ones your function uses?")
            if any(math.isclose(dti, t) for t in limits):
                raise Wrong(f"row {i} has a ratio of {dti:g}, equal to a threshold, and is banded "
                            f"{got!r}: read again which band a ratio equal to a threshold belongs to")
            raise Wrong(f"row {i} (ratio {dti:g}) is banded {got!r}, which is not its band")
    return verify


def _frame_cases() -> list[tuple[str, pd.DataFrame, dict]]:
    return [
        ("three ordinary applicants", _loans_frame([120, 400, 700], [12_000] * 3), {}),
        ("ratios exactly at the two thresholds", _loans_frame([360, 430], [12_000] * 2), {}),
        ("equal thresholds (medium_from = high_from = 0.4: no medium band)",
         _loans_frame([300, 400, 500], [12_000] * 3), {"medium_from": 0.4, "high_from": 0.4}),
        ("thresholds you are passed (medium_from=0.25, high_from=0.5)",
         _loans_frame([120, 250, 400, 500, 700], [12_000] * 5),
         {"medium_from": 0.25, "high_from": 0.5}),
        ("incomes that are zero, negative or missing",
         _loans_frame([100, 100, 100, 120], [0, -5_000, np.nan, 12_000]), {}),
        ("an empty frame", _loans_frame([], []), {}),
    ]


def _cases() -> list[compare.Case]:
    return [compare.Case(name, (frame,), _expect(frame, **kw), kw or None, keep_inputs=True)
            for name, frame, kw in _frame_cases()]


def _prototype_style(loans, medium_from=0.36, high_from=0.43):
    """A function that gets every band right but writes into its input."""
    right = add_risk_band(loans, medium_from, high_from)
    loans["dti"] = right["dti"]
    loans["risk_band"] = right["risk_band"]
    return loans


def _strict_boundaries(loans, medium_from=0.36, high_from=0.43):
    out = loans.copy()
    dti = 12 * out["monthly_debt"] / out["annual_income"].where(out["annual_income"] > 0)
    out["dti"] = dti
    out["risk_band"] = np.select([dti.isna(), dti > high_from, dti > medium_from],
                                 ["unknown", "high", "medium"], default="low")
    return out


def _hard_coded(loans, medium_from=0.36, high_from=0.43):
    return add_risk_band(loans)


def _bad_income_is_low(loans, medium_from=0.36, high_from=0.43):
    out = loans.copy()
    out["dti"] = 12 * out["monthly_debt"] / out["annual_income"]
    out["risk_band"] = np.select([out["dti"] >= high_from, out["dti"] >= medium_from],
                                 ["high", "medium"], default="low")
    return out


def _drops_bad_incomes(loans, medium_from=0.36, high_from=0.43):
    return add_risk_band(loans[loans["annual_income"] > 0], medium_from, high_from)


@exercise("1.5", "From notebook cell to tested function", workbook=WORKBOOK,
          hints=["Start with `out = loans.copy()` and only ever write to `out`.",
                 "Turn the two magic numbers into parameters with those values as defaults.",
                 "`annual_income.where(annual_income > 0)` turns zero and negative incomes into "
                 "NaN; a NaN ratio is 'unknown'.",
                 "`np.select([dti.isna(), dti >= high_from, dti >= medium_from], "
                 "['unknown', 'high', 'medium'], default='low')`: the first true condition wins."],
          reference=lambda: add_risk_band,
          mistakes=[(lambda: _prototype_style, "changed the data it was given"),
                    (lambda: _strict_boundaries, "equal to a threshold"),
                    (lambda: _hard_coded, "the ones your function uses"),
                    (lambda: _bad_income_is_low, "no meaningful ratio"),
                    (lambda: _drops_bad_incomes, "keep every row")],
          mutate=add_risk_band)
def check_risk_band(answer) -> str:
    compare.function(answer, _cases(), what="your function")
    return "Pure, parameterised, explicit about bad input: this one can be tested and reused."


# 1.7 ----------------------------------------------------------------------

def ref_payback(annual_saving: float, build_cost: float, annual_running_cost: float):
    """Months until the net saving repays the build cost; None if it never does."""
    net_per_month = (annual_saving - annual_running_cost) / 12
    if net_per_month <= 0:
        return None
    return build_cost / net_per_month


# (annual saving, build cost, annual running cost, what the case is about)
PAYBACK_CASES = [
    (360_000, 450_000, 90_000, "the billing model of exercise 1.2"),
    (1_200_000, 600_000, 0, "a model with no running cost"),
    (50_000.5, 20_000.25, 10_000.75, "amounts with cents"),
    (240_000, 0, 60_000, "a build that cost nothing"),
    (120_000, 300_000, 120_000, "a running cost equal to the saving"),
    (100_000, 300_000, 180_000, "a running cost above the saving"),
]


def _payback_case(saving, build, running, name) -> compare.Case:
    wanted = ref_payback(saving, build, running)

    def verify(result):
        if wanted is None:
            if result is None:
                return
            if isinstance(result, (int, float)) and not isinstance(result, bool) and result < 0:
                raise Wrong(f"it returned {result:g}: a negative number of months means the "
                            "saving never repays the build; return None for never")
            raise Wrong(f"it returned {compare.describe(result)}, but the net saving is not "
                        "positive, so the model never pays for itself: return None")
        if result is None:
            raise Wrong("it returned None (never), but this project does pay for itself")
        value = compare.as_number(result, "the payback period")
        if math.isclose(value, wanted, rel_tol=1e-9, abs_tol=1e-9):
            return
        if math.isclose(value, ref_payback(saving, build, 0), rel_tol=1e-6):
            raise Wrong("the yearly running cost is not taken off the saving")
        if math.isclose(value, wanted / 12, rel_tol=1e-6):
            raise Wrong("that looks like years; return months")
        compare.number(value, wanted, what="the payback period", rel=1e-9)
    return compare.Case(name, (saving, build, running), verify)


def _payback_no_never(annual_saving, build_cost, annual_running_cost):
    return build_cost / ((annual_saving - annual_running_cost) / 12)


def _payback_no_running(annual_saving, build_cost, annual_running_cost):
    return ref_payback(annual_saving, build_cost, 0)


def _payback_infinite(annual_saving, build_cost, annual_running_cost):
    months = ref_payback(annual_saving, build_cost, annual_running_cost)
    return math.inf if months is None else months


def _payback_in_years(annual_saving, build_cost, annual_running_cost):
    months = ref_payback(annual_saving, build_cost, annual_running_cost)
    return None if months is None else months / 12


@exercise("1.7", "A payback function for any project", workbook=WORKBOOK,
          hints=["The net saving per month is (annual saving - annual running cost) / 12.",
                 "Before dividing, ask whether that net saving is positive; if it is not, the "
                 "project never pays for itself: return None.",
                 "Otherwise the payback is the build cost divided by the net saving per month."],
          reference=lambda: ref_payback,
          mistakes=[(lambda: _payback_no_never, "ZeroDivisionError"),
                    (lambda: _payback_no_running, "running cost"),
                    (lambda: _payback_infinite, "return None"),
                    (lambda: _payback_in_years, "years")],
          mutate=ref_payback)
def check_payback_function(answer) -> str:
    compare.function(answer, [_payback_case(*case) for case in PAYBACK_CASES], what="your function")
    never = Investment(annual_benefit=0.10 * BILLING_COST_PER_YEAR, build_cost=BUILD_COST,
                       annual_running_cost=RUNNING_COST_PER_YEAR * 3)
    return (f"With a 10% cut and three times the running cost, the billing model would never "
            f"pay back (net {never.net_annual_benefit:,.0f} a year): the function says so "
            "instead of a negative number of months.")
