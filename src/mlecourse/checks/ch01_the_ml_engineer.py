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
from mlecourse.teaching.risk_bands import HIGH_FROM, MEDIUM_FROM, add_risk_band
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
                    (lambda: ref_time_to_hire_change() / 100, "percent"),
                    (lambda: -ref_time_to_hire_change(), "negative")])
def check_time_to_hire(answer) -> str:
    value = compare.as_number(answer, "the percent change")
    expected = ref_time_to_hire_change()
    before, after = figure("recruitment_time_to_hire_before"), figure("recruitment_time_to_hire_after")
    if math.isclose(value, (after - before) / after * 100, rel_tol=1e-3):
        raise Wrong("you divided by the time after; a change is measured against where you started")
    if math.isclose(value, expected / 100, rel_tol=1e-3):
        raise Wrong("that is a fraction; give the change in percent")
    if math.isclose(value, -expected, rel_tol=1e-3):
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


@exercise("1.2", "When does the billing model pay for itself?", workbook=WORKBOOK,
          hints=["First the yearly saving: 15% of the billing operation's yearly cost.",
                 "The model also costs money every year it runs: subtract that from the saving.",
                 "Payback = build cost / net saving per month. Give months, not years."],
          reference=ref_payback_months,
          mistakes=[(lambda: billing_project(running_cost=0).payback_months(), "running cost"),
                    (lambda: ref_payback_months() / 12, "years"),
                    (lambda: BUILD_COST / ((15 * BILLING_COST_PER_YEAR - RUNNING_COST_PER_YEAR) / 12),
                     "percent")])
def check_payback(answer) -> str:
    value = compare.as_number(answer, "the payback period")
    expected = ref_payback_months()
    if math.isclose(value, billing_project(running_cost=0).payback_months(), rel_tol=1e-3):
        raise Wrong("that ignores the yearly running cost of the model: the saving is not all profit")
    if math.isclose(value, expected / 12, rel_tol=1e-3):
        raise Wrong("that looks like years; give the payback period in months")
    if value < 1:
        raise Wrong("less than a month is far too fast: did you multiply by 15 rather than by 15 percent?")
    compare.number(value, expected, what="the payback period in months", rel=1e-3, places=1)
    return "Now change one assumption at a time and watch how much the answer moves."


# 1.3 ----------------------------------------------------------------------
ROLES = ("ds", "mle", "se")
TASKS = {
    "a": ("ds", {
        "mle": "task a is exploration and insight for a committee: the data scientist's core "
               "output; the ML engineer uses such findings but does not usually own them",
        "se": "task a needs statistics and the lending domain, not application code: "
              "a data scientist's work"}),
    "b": ("mle", {
        "ds": "task b turns a validated model into a tested, versioned service with a latency "
              "budget: that is productionization, the ML engineer's defining job",
        "se": "task b needs to know what the model needs and how it can fail (inputs, versions, "
              "rollback of a model), beyond general service code"}),
    "c": ("se", {
        "ds": "task c is a screen in a web application calling an existing API: no model work",
        "mle": "in task c the API already exists: building the application screen around it is "
               "general software engineering; the ML engineer provides the API"}),
    "d": ("mle", {
        "ds": "task d watches a live model and retrains it: production monitoring, "
              "which the report places with the ML engineer",
        "se": "task d needs to know what drift is and when retraining helps: "
              "ML-specific operations work"}),
    "e": ("ds", {
        "mle": "task e is a first experiment to see whether an idea works at all: "
               "prototyping is usually the data scientist's, before anything is productionized",
        "se": "task e is a statistical experiment in a notebook, not application code"}),
}


def ref_roles() -> dict[str, str]:
    return {task: role for task, (role, _) in TASKS.items()}


@exercise("1.3", "Who does what?", workbook=WORKBOOK,
          hints=["Ask of each task: is its output an insight, a running ML system, or an application?",
                 "Insight and prototypes: data scientist. Running, monitored ML systems: ML "
                 "engineer. Application features with no model work: software engineer."],
          reference=ref_roles,
          mistakes=[(lambda: {**ref_roles(), "c": "mle"}, "application screen"),
                    (lambda: {**ref_roles(), "d": "ds"}, "live model"),
                    (lambda: {**ref_roles(), "b": "ds"}, "productionization"),
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

def _either_measure(flag, table: pd.DataFrame) -> pd.Series:
    """A row flagged for its base or its total range."""
    return flag(table, "base") | flag(table, "total")


def ref_starts_lower() -> pd.Series:
    return _either_measure(market.starts_below_previous_level, market.table1())


def _across_roles(table: pd.DataFrame) -> pd.Series:
    """The mistake of comparing each row with the row above it, whatever its role."""
    return _either_measure(market.starts_below_previous_level, table.assign(role="any"))


@exercise("1.4", "Which salary rows cannot both be right?", workbook=WORKBOOK,
          hints=["Within each role, the rows are in level order; compare each row with the row "
                 "before it in the same role.",
                 "`table.groupby('role')['base_low_usd'].shift(1)` gives the previous level's "
                 "low end; do the same for `total_low_usd`.",
                 "A comparison with a missing value should not flag a row: `.fillna(False)`."],
          reference=ref_starts_lower,
          mistakes=[(lambda: _either_measure(market.overlaps_previous_level, market.table1()),
                     "overlap"),
                    (lambda: _across_roles(market.table1()), "another role"),
                    (lambda: ref_starts_lower().iloc[:5], "lacks")])
def check_starts_lower(answer) -> str:
    if is_blank(answer):
        raise Unanswered()
    if not isinstance(answer, pd.Series):
        raise Wrong(f"expected a Series of True/False, one per row of Table 1, got {compare.describe(answer)}")
    table = market.table1()
    expected = ref_starts_lower()
    if answer.index.equals(expected.index):
        got = answer.fillna(False).astype(bool)
        extra = got & ~expected
        if extra.any() and _either_measure(market.overlaps_previous_level, table)[extra].all():
            raise Wrong("you flag ranges that overlap the previous level's: overlapping pay bands "
                        "are normal; flag only a range that STARTS lower than the level before it")
        if got.equals(_across_roles(table)):
            raise Wrong("a row is compared with the last level of another role; "
                        "compare levels within the same role only")
    compare.series(answer.astype(float) if answer.dtype == bool else answer,
                   expected.astype(float), what="your Series of flags")
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
        bands = result["risk_band"].tolist()
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
        got_dti = pd.to_numeric(result["dti"], errors="coerce").to_numpy(float)
        if not np.allclose(got_dti, want["dti"].to_numpy(float), equal_nan=True):
            raise Wrong("the 'dti' column is not 12 x monthly_debt / annual_income "
                        "(NaN where income is not positive)")
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
