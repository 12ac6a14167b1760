"""Checks for the workbook of chapter 6, "Monitoring and maintenance".

Reference answers come from the lender's monitoring code: ``drift`` (PSI and
its floor), ``alerting`` (thresholds from a budget, false alarms left out of
sample), ``predlog`` (the log, outcomes only for funded loans, the as-of
join), ``outcomes`` (the holdout-weighted view), ``retraining`` (policies by
cost). Function exercises run the learner's code on cases built here, which
the workbook never shows. The data each exercise uses is built once, cached.
"""
from __future__ import annotations

import json
import math
import sqlite3
import tempfile
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from mlecourse.lender.business import COSTS
from mlecourse.lender.mlops import retraining
from mlecourse.lender.monitoring import alerting, drift, outcomes, predlog
from mlecourse.lender.data.loading import load_loans
from mlecourse.lender.features import RAW_FEATURES, clean_loans, split_by_date
from mlecourse.lender.modeling.estimators import train_model
from . import compare
from .blank import is_blank
from .compare import Case
from .core import exercise
from .result import Unanswered, Wrong

WORKBOOK = "06_monitoring.ipynb"
EPSILON = drift.EPSILON
ASOF = "2023-09-30"  # the day of exercise 6.5's example
REVIEW_COST = 25_000  # exercise 6.6: validating, reviewing and deploying one retrained model
HOLDOUT = outcomes.HOLDOUT_SHARE


@cache
def _raw() -> pd.DataFrame:
    return load_loans()


@cache
def _clean() -> pd.DataFrame:
    return clean_loans(_raw())[0]


@cache
def _train() -> pd.DataFrame:
    return split_by_date(_clean())[0]


def _number(result, what: str) -> float:
    try:
        value = float(result)
    except (TypeError, ValueError):
        raise Wrong(f"expected a number from {what}, got {compare.describe(result)}") from None
    if not math.isfinite(value):
        raise Wrong(f"{what} gave {value}, not a finite number")
    return value


# 6.1 ----------------------------------------------------------------------

def ref_psi(expected_counts, actual_counts, epsilon: float = EPSILON) -> float:
    e = np.asarray(expected_counts, float)
    a = np.asarray(actual_counts, float)
    return drift.psi_from_shares(e / e.sum(), a / a.sum(), epsilon)


def _psi_no_floor(expected_counts, actual_counts, epsilon=EPSILON):
    e = np.asarray(expected_counts, float) / np.sum(expected_counts)
    a = np.asarray(actual_counts, float) / np.sum(actual_counts)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.sum((a - e) * np.log(a / e)))


def _psi_floor_counts(expected_counts, actual_counts, epsilon=EPSILON):
    e = np.maximum(np.asarray(expected_counts, float), epsilon)
    a = np.maximum(np.asarray(actual_counts, float), epsilon)
    return drift.psi_from_shares(e / e.sum(), a / a.sum(), 0.0 + 1e-300)


def _psi_one_way(expected_counts, actual_counts, epsilon=EPSILON):
    e = np.maximum(np.asarray(expected_counts, float) / np.sum(expected_counts), epsilon)
    a = np.maximum(np.asarray(actual_counts, float) / np.sum(actual_counts), epsilon)
    return float(np.sum(a * np.log(a / e)))


def _psi_counts_not_shares(expected_counts, actual_counts, epsilon=EPSILON):
    return drift.psi_from_shares(np.asarray(expected_counts, float), np.asarray(actual_counts, float), epsilon)


PSI_CASES = [  # (name, expected counts, actual counts)
    ("two windows with the same shares", [100, 200, 300, 400], [10, 20, 30, 40]),
    ("a shifted month", [100, 100, 100, 100, 100], [50, 80, 100, 120, 150]),
    ("a month with an empty bin", [100, 100, 100, 100], [0, 120, 140, 140]),
    ("a bin empty in the reference", [0, 200, 200], [30, 100, 70]),
]
PSI_PLACES = 2  # a PSI is reported to two decimals or more


def _psi_cases() -> list[Case]:
    cases = []
    for name, e, a in PSI_CASES:
        want = ref_psi(e, a)

        def verify(result, want=want, e=e, a=a):
            try:
                value = float(result)
            except (TypeError, ValueError):
                raise Wrong(f"expected a number, got {compare.describe(result)}") from None
            if not math.isfinite(value):
                raise Wrong("the PSI is not a finite number: an empty bin makes ln(0); floor the "
                            f"shares at epsilon ({EPSILON}) before the logarithm")
            if compare.rounding(value, want, what="the PSI", places=PSI_PLACES):
                return
            if compare.agrees(value, _psi_one_way(e, a), places=PSI_PLACES):
                raise Wrong("that is the Kullback-Leibler divergence one way, sum a ln(a/e); PSI "
                            "sums (a - e) ln(a / e)")
            if compare.agrees(value, _psi_counts_not_shares(e, a), places=PSI_PLACES):
                raise Wrong("turn the counts into shares of each window (divide by its total) first")
            if compare.agrees(value, _psi_floor_counts(e, a), places=PSI_PLACES):
                raise Wrong("floor the shares, not the counts: a floor of 0.0001 on a count is "
                            "no floor at all")
            raise Wrong("the PSI is not right")
        cases.append(Case(name, (list(e), list(a)), verify))
    return cases


@exercise("6.1", "PSI by hand, empty bins included", workbook=WORKBOOK,
          hints=["Turn each window's counts into shares (divide by the window's total).",
                 f"A share of 0 makes ln(0): replace every share below epsilon by epsilon "
                 f"(np.maximum(shares, {EPSILON})) in both windows.",
                 "Then PSI = sum over bins of (a - e) * ln(a / e), with e the reference's shares "
                 "and a the month's."],
          reference=lambda: ref_psi,
          mistakes=[(lambda: _psi_no_floor, "finite"),
                    (lambda: _psi_one_way, "one way"),
                    (lambda: _psi_counts_not_shares, "shares"),
                    (lambda: _psi_floor_counts, "not the counts"),
                    (lambda: (lambda e, a: round(ref_psi(e, a), 1)), "looks rounded to 1 decimal")],
          rounded=[lambda: (lambda e, a: round(ref_psi(e, a), 2)),
                   lambda: (lambda e, a: round(ref_psi(e, a), 4))])
def check_psi(answer) -> str:
    compare.function(answer, _psi_cases(), what="your psi function")
    return ("Same as `drift.psi_from_shares`. The floor is a choice: change it to 1e-6 and "
            "the empty-bin case grows. Say which floor you use.")


# 6.2 ----------------------------------------------------------------------

QUIET = [f"{y}-{m:02d}" for y in (2021, 2022) for m in range(1, 13) if f"{y}-{m:02d}" != "2022-10"]


@cache
def _monthly_psi() -> pd.Series:
    from mlecourse.lender.features import CATEGORICAL
    clean = _clean()
    later = clean[(clean["application_date"] >= "2021-01-01") & (clean["application_date"] < "2024-01-01")]
    table = drift.drift_table(_train(), later, RAW_FEATURES, categorical=CATEGORICAL)
    return table.groupby("month")["psi"].max().rename("largest PSI")


def monthly_psi() -> pd.Series:
    """The largest PSI of any feature, by month, 2021-2023, against the training window: a detector
    to try yours on (the checks use other series). ``QUIET``: its quiet months."""
    return _monthly_psi().copy()


def ref_alarms(series: pd.Series, quiet: list, budget: int) -> list:
    """The months outside ``quiet`` whose value is strictly above the threshold for ``budget``."""
    values = sorted(series[list(quiet)], reverse=True)
    threshold = values[budget]
    return [month for month in series.index if month not in quiet and series[month] > threshold]


def _months(start: str, n: int) -> list[str]:
    return [str(m) for m in pd.period_range(start, periods=n, freq="M")]


def _detector_cases_data() -> list[tuple[str, pd.Series, list, int]]:
    """(name, a monthly series, its quiet months, the budget): a detector's series the workbook
    never shows, with a watched month exactly at the threshold and the quiet months not first."""
    rng = np.random.default_rng(62)
    months = _months("2021-01", 24)
    base = np.round(rng.uniform(0.010, 0.060, 24), 3)
    psi = pd.Series(base, index=months)
    psi.iloc[12:] = [0.041, 0.064, 0.203, 0.251, 0.038, 0.059, 0.071, 0.045, 0.112, 0.030, 0.066, 0.049]
    quiet = months[:12]
    top = sorted(psi[quiet], reverse=True)
    edge = psi.copy()
    edge.iloc[13] = top[0]  # exactly the budget-0 threshold: not an alarm
    edge.iloc[14] = top[2]  # exactly the budget-2 threshold
    shuffled = pd.Series(np.round(rng.uniform(100, 400, 18), 1), index=_months("2022-07", 18))
    calm = list(shuffled.index[6:])  # the quiet months come last here
    designed = pd.Series([0.011, 0.024, 0.018, 0.120, 0.031, 0.100, 0.027, 0.080, 0.015, 0.022, 0.036, 0.041,
                          0.082, 0.079, 0.101, 0.121], index=_months("2022-01", 16))
    return [("a month just above the third largest quiet value, budget 2", designed,
             list(designed.index[:12]), 2),
            ("a PSI series with a budget of 0", psi, quiet, 0),
            ("a PSI series with a budget of 2", psi, quiet, 2),
            ("a month exactly at the threshold, budget 0", edge, quiet, 0),
            ("a month exactly at the threshold, budget 2", edge, quiet, 2),
            ("a cost series whose quiet months come last", shuffled, calm, 1)]


def _as_months(result, what: str) -> list[str]:
    if isinstance(result, (pd.Index, np.ndarray, tuple)):
        result = list(result)
    if not isinstance(result, list):
        raise Wrong(f"expected a list of months from {what}, got {compare.describe(result)}")
    return [str(m) for m in result]


def _alarm_cases() -> list[Case]:
    cases = []
    for name, series, quiet, budget in _detector_cases_data():
        want = ref_alarms(series, quiet, budget)

        def verify(result, want=want, series=series, quiet=quiet, budget=budget):
            got = _as_months(result, "your detector")
            if any(m in quiet for m in got):
                raise Wrong("a quiet month is among your alarms: the quiet months set the threshold; "
                            "only the other months are watched")
            if sorted(got) != sorted(want):
                extra = set(got) - set(want)
                if extra and all(series[m] == sorted(series[list(quiet)], reverse=True)[budget] for m in extra):
                    raise Wrong("a month exactly at the threshold is not above it: an alarm needs a value "
                                "strictly greater")
                raise Wrong(f"{len(got)} alarm(s) where the threshold for a budget of {budget} gives "
                            f"{len(want)}")
            if got != want:
                raise Wrong("the right months, in another order: keep the series' order")
        cases.append(Case(name, (series, quiet, budget), verify, keep_inputs=True))
    return cases


def _quantile(series, quiet, budget):
    threshold = float(np.quantile(series[list(quiet)], 1 - budget / len(quiet)))
    return [m for m in series.index if m not in quiet and series[m] > threshold]


def _with_quiet(series, quiet, budget):
    threshold = sorted(series[list(quiet)], reverse=True)[budget]
    return [m for m in series.index if series[m] > threshold]


def _fixed_rule(series, quiet, budget):
    return [m for m in series.index if m not in quiet and series[m] > 0.1]


@exercise("6.2", "A drift detector with a false-alarm budget", workbook=WORKBOOK,
          hints=["The threshold comes from the quiet months only: sort their values from the largest "
                 "down; with a budget of b, at most b of them may be strictly above it.",
                 "So the threshold is the value at position `budget` of that sorted list (position 0 "
                 "is the largest).",
                 "Then return, in the series' order, the months that are not quiet and whose value "
                 "is strictly greater than the threshold."],
          reference=lambda: ref_alarms,
          mistakes=[(lambda: _with_quiet, "quiet month"),
                    (lambda: _quantile, "alarm(s)"),
                    (lambda: _fixed_rule, "alarm(s)"),
                    (lambda: (lambda s, q, b: list(reversed(ref_alarms(s, q, b)))), "order")],
          rounded=[lambda: (lambda s, q, b: ref_alarms(s.round(3), q, b))],
          mutate=ref_alarms)
def check_alarms(answer) -> str:
    compare.function(answer, _alarm_cases(), what="your detector")
    return ("That is `alerting.threshold_for_budget` and `alerting.flagged`. Next: how often does "
            "it ring for nothing on months that did not set the threshold?")


# 6.3 ----------------------------------------------------------------------

def ref_left_out_alarms(quiet_values: pd.Series, budget: int) -> int:
    """How many quiet months ring against a threshold set on the other quiet months."""
    rings = 0
    for month in quiet_values.index:
        others = sorted(quiet_values.drop(month), reverse=True)
        if quiet_values[month] > others[budget]:
            rings += 1
    return rings


def _loo_cases_data() -> list[tuple[str, pd.Series, int]]:
    rng = np.random.default_rng(63)
    months = _months("2021-01", 23)
    values = pd.Series(np.round(rng.uniform(0.01, 0.07, 23), 4), index=months)
    tied = values.copy()
    tied.iloc[3] = tied.iloc[7] = tied.max() + 0.01  # two months share the largest value
    return [("23 quiet months, budget 0", values, 0), ("23 quiet months, budget 2", values, 2),
            ("two months tied for the largest, budget 0", tied, 0),
            ("two months tied for the largest, budget 1", tied, 1)]


def _loo_cases() -> list[Case]:
    cases = []
    for name, values, budget in _loo_cases_data():
        want = ref_left_out_alarms(values, budget)

        def verify(result, want=want, values=values, budget=budget):
            if isinstance(result, float) and 0 < result < 1:
                raise Wrong("that looks like a rate; give the number of quiet months that ring")
            got = _number(result, "your function")
            if got == want:
                return
            in_sample = len(alerting.flagged(values, alerting.threshold_for_budget(values, budget)))
            if got == in_sample and got != want:
                raise Wrong("each month was judged by a threshold it helped set: that count is "
                            "the budget by construction; leave the month out first")
            raise Wrong(f"{got:g} quiet months ring, which is not what leaving each out gives")
        cases.append(Case(name, (values, budget), verify, keep_inputs=True))
    return cases


def _in_sample(quiet_values, budget):
    threshold = sorted(quiet_values, reverse=True)[budget]
    return int((quiet_values > threshold).sum())


@exercise("6.3", "False alarms on months that did not set the threshold", workbook=WORKBOOK,
          hints=["A threshold set on all the quiet months leaves exactly the budget above it: that "
                 "is arithmetic, not a measurement.",
                 "For each quiet month: drop it (`values.drop(month)`), set the threshold on the "
                 "others as in 6.2, and ask whether the month left out is strictly above it.",
                 "Count the months that ring; divided by the number of months, it is a false-alarm "
                 "rate measured out of sample."],
          reference=lambda: ref_left_out_alarms,
          mistakes=[(lambda: _in_sample, "helped set"),
                    (lambda: (lambda v, b: ref_left_out_alarms(v, b) / len(v)), "rate")],
          mutate=ref_left_out_alarms)
def check_left_out(answer) -> str:
    compare.function(answer, _loo_cases(), what="your function")
    return ("With a budget of 0, about one month in as many as set the threshold rings: the chapter "
            "measures that for each detector, with its interval.")


# 6.4 ----------------------------------------------------------------------

@cache
def _exercise_log_path() -> str:
    """A prediction log of 2022 (every month, the incident included), scored by a real model,
    with the funding of a lender (approvals and the random holdout): outcomes for funded loans only."""
    clean, raw = _clean(), _raw()
    model = train_model(_train().sample(4000, random_state=0), "logistic")
    year = raw[raw["application_date"].dt.year == 2022].drop_duplicates("application_id")
    year = year[year["age"].between(18, 85)]
    from mlecourse.lender.serving.api import as_applications
    bodies = as_applications(year)
    frame = clean.set_index("application_id").loc[year["application_id"]].reset_index()
    # what the model would have scored had the incident's incomes (in thousands) got through
    sent = frame.copy()
    incident = sent["application_date"].dt.strftime("%Y-%m") == "2022-10"
    sent.loc[incident, "annual_income"] /= 1000
    scores = model.predict_proba(sent[list(RAW_FEATURES)])[:, 1]
    decisions = np.where(scores > COSTS.threshold, "refuse", "approve")
    funded = outcomes.funding(decisions, year["application_id"].to_numpy())
    path = Path(tempfile.mkdtemp(prefix="ch06-log-")) / "predictions.sqlite"
    conn = predlog.connect(path)
    days = year["application_date"].dt.strftime("%Y-%m-%d").tolist()
    predlog.log_predictions(conn, [
        {"request_id": f"{d[:7]}-{i // 500:03d}", "application_id": a, "scored_at": d, "month": d[:7],
         "model_version": "1.0.0", "inputs": json.dumps(b), "score": float(s), "decision": dec,
         "latency_ms": None, **f}
        for i, (a, d, b, s, dec, f) in enumerate(zip(year["application_id"], days, bodies, scores, decisions,
                                                     funded.to_dict("records")))])
    predlog.record_outcomes(conn, frame)
    conn.close()
    return str(path)


def exercise_log() -> sqlite3.Connection:
    """A fresh connection to a prediction log of 2022 (inputs as received, scores, decisions,
    funding, and the outcomes of the funded loans)."""
    return sqlite3.connect(_exercise_log_path())


def ref_incident_month() -> str:
    conn = exercise_log()
    rows = conn.execute("SELECT month, inputs FROM predictions").fetchall()
    conn.close()
    incomes = pd.DataFrame({"month": [m for m, _ in rows],
                            "income": [json.loads(t).get("annual_income") for _, t in rows]})
    medians = incomes.groupby("month")["income"].median()
    return str((medians / medians.median()).sub(1).abs().idxmax())


@exercise("6.4", "Find the incident in the log", workbook=WORKBOOK,
          hints=["The log's `inputs` column holds each request as JSON: `json.loads` it. A field "
                 "left out of a request is absent from its JSON: read it with `.get(\"annual_income\")`.",
                 "Compute the median `annual_income` of each month.",
                 "One month's median is off by a factor no economy produces. Give it as 'YYYY-MM'."],
          reference=ref_incident_month,
          mistakes=[(lambda: "2023-01", "campaign"), (lambda: "2022-09", "normal"),
                    (lambda: "2022/10", "YYYY-MM")])
def check_incident(answer) -> str:
    if is_blank(answer):
        raise Unanswered()
    if not isinstance(answer, str):
        raise Wrong(f"expected a month as text like '2022-03', got {compare.describe(answer)}")
    month = answer.strip()
    if len(month) != 7 or month[4] != "-" or not (month[:4] + month[5:]).isdigit():
        raise Wrong(f"write the month as 'YYYY-MM', e.g. '2022-03', not {month!r}")
    if month.startswith("2023"):
        raise Wrong("this log covers 2022; the campaign of 2023 is a drift of the world, but its "
                    "incomes are in the right unit")
    if month != ref_incident_month():
        raise Wrong("incomes of that month look normal; compare each month's median income "
                    "with the other months'")
    return ("Incomes in thousands: valid numbers, wrong unit. In the chapter the batch "
            "validation catches it before the model does.")


# 6.5 ----------------------------------------------------------------------

def ref_known_outcomes(conn: sqlite3.Connection, day: str) -> int:
    """How many logged predictions had an outcome known on ``day`` (the day itself included)."""
    query = ("SELECT COUNT(*) FROM predictions p JOIN outcomes o USING (application_id) "
             "WHERE o.outcome_known_date <= ?")
    return int(conn.execute(query, (day,)).fetchone()[0])


def _small_log() -> sqlite3.Connection:
    """A log of six applications the workbook never shows: two refused (one in the holdout),
    outcomes known on 2023-03-15 (two), 2023-04-01 and 2023-05-02."""
    conn = predlog.connect()
    rows = [("S1", "2022-03-15", "approve", 1, 0, 1.0), ("S2", "2022-03-15", "approve", 1, 0, 1.0),
            ("S3", "2022-04-01", "approve", 1, 0, 1.0), ("S4", "2022-04-20", "refuse", 0, 0, HOLDOUT),
            ("S5", "2022-05-02", "refuse", 1, 1, HOLDOUT), ("S6", "2022-06-30", "approve", 1, 0, 1.0)]
    predlog.log_predictions(conn, [
        {"request_id": "r", "application_id": a, "scored_at": d, "month": d[:7], "model_version": "1",
         "inputs": "{}", "score": 0.1, "decision": dec, "latency_ms": 1.0, "funded": f, "holdout": h,
         "propensity": p} for a, d, dec, f, h, p in rows])
    frame = pd.DataFrame({"application_id": ["S1", "S2", "S3", "S5", "S6"], "defaulted": [0, 1, 0, 1, 0],
                          "early_delinquency": [0, 0, 0, 1, 0]})
    scored = pd.to_datetime(pd.Series(["2022-03-15", "2022-03-15", "2022-04-01", "2022-05-02", "2022-06-30"]))
    frame["outcome_known_date"] = scored + pd.DateOffset(months=12)
    frame["early_delinquency_known_date"] = scored + pd.DateOffset(months=3)
    predlog.record_outcomes(conn, frame)
    return conn


def _known_days() -> list[tuple[str, str, str]]:
    """(case, which log, day): the days the learner's function is asked about."""
    conn = exercise_log()
    first = conn.execute("SELECT MIN(outcome_known_date) FROM outcomes").fetchone()[0]
    conn.close()
    before = str((pd.Timestamp(first) - pd.Timedelta(days=1)).date())
    return [("the exercise log, the day before its first outcome", "log", before),
            ("the exercise log, on the day of its first outcomes", "log", first),
            ("the exercise log, at the end of June 2023", "log", "2023-06-30"),
            ("another log, on the day two outcomes became known", "small", "2023-03-15"),
            ("another log, a day later", "small", "2023-03-16"),
            ("another log, long after every outcome", "small", "2025-01-01")]


def _known_cases() -> list[Case]:
    cases = []
    for name, which, day in _known_days():
        conn = exercise_log() if which == "log" else _small_log()
        want = ref_known_outcomes(conn, day)
        scored = int(conn.execute("SELECT COUNT(*) FROM predictions WHERE scored_at <= ?", (day,)).fetchone()[0])
        strict = int(conn.execute("SELECT COUNT(*) FROM outcomes WHERE outcome_known_date < ?", (day,))
                     .fetchone()[0])

        def verify(result, want=want, scored=scored, strict=strict, day=day):
            got = _number(result, "your function")
            if got == want:
                return
            if got == strict:
                raise Wrong(f"an outcome that became known on {day} was known on {day}: count the day itself")
            if got == scored and scored != want:
                raise Wrong("that counts every prediction scored by then; an outcome is known only "
                            "from its outcome_known_date, and never for a refused application")
            raise Wrong(f"{got:g} outcomes known on {day} is not what the log holds")
        cases.append(Case(name, (_Fresh(which), day), verify))
    return cases


class _Fresh:
    """Opens the named log when the learner's function touches it (each case gets its own)."""

    def __init__(self, which: str):
        self.which = which

    def __deepcopy__(self, memo):
        return exercise_log() if self.which == "log" else _small_log()


def _strictly_before(conn, day):
    return int(conn.execute("SELECT COUNT(*) FROM predictions p JOIN outcomes o USING (application_id) "
                            "WHERE o.outcome_known_date < ?", (day,)).fetchone()[0])


def _scored_by(conn, day):
    return int(conn.execute("SELECT COUNT(*) FROM predictions WHERE scored_at <= ?", (day,)).fetchone()[0])


@exercise("6.5", "What the lender knew on a day", workbook=WORKBOOK,
          hints=["An outcome is known on its `outcome_known_date` (table `outcomes`), not on the day "
                 "the loan was scored; a refused application has no outcome at all.",
                 "Join `predictions` and `outcomes` on `application_id` and count the rows whose "
                 "`outcome_known_date` is on or before the day (the dates are text 'YYYY-MM-DD', "
                 "which compares as dates do).",
                 "`conn.execute(query, (day,)).fetchone()[0]` runs a query with the day as a parameter."],
          reference=lambda: ref_known_outcomes,
          mistakes=[(lambda: _strictly_before, "count the day itself"),
                    (lambda: _scored_by, "every prediction scored")])
def check_known(answer) -> str:
    compare.function(answer, _known_cases(), what="your function")
    conn = exercise_log()
    share = ref_known_outcomes(conn, ASOF) / len(predlog.predictions(conn))
    conn.close()
    return (f"On {ASOF}, {share:.0%} of 2022's predictions had an outcome: nine months of outcomes, "
            "none for the refused outside the holdout, and none at all for anything scored in 2023.")


# 6.6 ----------------------------------------------------------------------

@cache
def _policies() -> pd.DataFrame:
    clean = _clean()
    months = [str(m) for m in pd.period_range("2023-01", "2024-12", freq="M")]

    def fit(rows):
        return train_model(rows, "logistic")

    return retraining.compare(clean, months, fit(_train()), fit, policies=("never", "quarterly", "yearly"))


def policy_costs() -> pd.DataFrame:
    """Three policies over 2023-2024: total cost of their decisions and number of retrainings."""
    return _policies()[["total_cost", "retrainings"]].copy()


def ref_policy_totals(review: float = REVIEW_COST) -> pd.Series:
    table = _policies()
    return (table["total_cost"] + table["retrainings"] * review).rename("total")


TOTAL_PLACES = -4  # totals in the millions, reported to the nearest ten thousand (9.37 million)


@exercise("6.6", "Retraining policies, with the cost of a retraining", workbook=WORKBOOK,
          hints=["Each retraining costs REVIEW_COST (validation, review, deployment) on top of the "
                 "decisions' cost.",
                 "total = total_cost + retrainings * REVIEW_COST, for each policy.",
                 "Return a Series indexed by policy, like `policy_costs()`'s index."],
          reference=ref_policy_totals,
          mistakes=[(lambda: ref_policy_totals(0), "review"),
                    (lambda: ref_policy_totals(2 * REVIEW_COST), "once"),
                    (lambda: ref_policy_totals().drop("never"), "lacks"),
                    (lambda: (ref_policy_totals() / 1e6).round(2), "millions")],
          rounded=[lambda: ref_policy_totals().round(-3), lambda: ref_policy_totals().round(-4)])
def check_policy_totals(answer) -> str:
    want = ref_policy_totals()
    if isinstance(answer, pd.Series) and answer.index.equals(want.index):
        got = pd.to_numeric(answer, errors="coerce")
        if got.max() < 1_000 < want.min():
            raise Wrong("those look like millions: give the totals in units (9,370,000, not 9.37)")
        for wrong, message in ((ref_policy_totals(0), "that is the decisions' cost alone: add the review "
                                                      "cost of each retraining"),
                               (ref_policy_totals(2 * REVIEW_COST), "each retraining is counted twice: "
                                                                    "count its review once")):
            if all(compare.agrees(g, w, places=TOTAL_PLACES) for g, w in zip(got, wrong)):
                raise Wrong(message)
    compare.series(answer, want, what="the total cost by policy", places=TOTAL_PLACES)
    best = want.idxmin()
    return (f"The cheapest is {best!r}. With a year of label delay, retraining buys little "
            "here; what it costs decides.")


# 6.7 ----------------------------------------------------------------------

def ref_weighted_cost(frame: pd.DataFrame) -> float:
    """The holdout-weighted cost per application: each labelled loan weighs 1 / propensity."""
    seen = frame[frame["defaulted"].notna()]
    y = seen["defaulted"].to_numpy()
    refuse = seen["decision"].to_numpy() == "refuse"
    cost = np.where(refuse, (1 - y) * COSTS.wrong_refusal, y * COSTS.missed_default)
    weight = 1 / seen["propensity"].to_numpy()
    return float(np.sum(weight * cost) / np.sum(weight))


def _lending_frame(seed: int, n: int, share: float) -> pd.DataFrame:
    """Applications with their decision, funding and (for funded loans only) outcome."""
    rng = np.random.default_rng(seed)
    score = rng.beta(1.3, 6, n)
    ids = [f"W{seed}-{i}" for i in range(n)]
    decision = np.where(score > COSTS.threshold, "refuse", "approve")
    funded = outcomes.funding(decision, ids, share)
    y = (rng.random(n) < score).astype(float)
    return pd.DataFrame({"application_id": ids, "score": np.round(score, 4), "decision": decision,
                         "propensity": funded["propensity"],
                         "defaulted": np.where(funded["funded"] == 1, y, np.nan)})


def _weighted_cases() -> list[Case]:
    calm = _lending_frame(73, 400, 0.05)
    frames = [("2,000 applications, a 5% holdout", _lending_frame(71, 2000, 0.05)),
              ("500 applications, a 20% holdout", _lending_frame(72, 500, 0.20)),
              ("a month with no refusal at all", calm[calm["decision"] == "approve"].reset_index(drop=True))]
    cases = []
    for name, frame in frames:
        want = ref_weighted_cost(frame)

        def verify(result, want=want, frame=frame):
            got = _number(result, "your function")
            if compare.rounding(got, want, what="the weighted cost", places=1):
                return
            seen = frame[frame["defaulted"].notna()]
            if compare.agrees(got, _unweighted(frame), places=1) and not compare.agrees(want, _unweighted(frame),
                                                                                      places=1):
                raise Wrong("every labelled loan weighs the same there: a holdout loan stands for "
                            "1 / propensity refused applicants, weigh it so")
            if compare.agrees(got, _approved_only(frame), places=1):
                raise Wrong("that is the approved loans alone: the holdout's loans, weighted, are what "
                            "sees the cost of the refusals")
            if compare.agrees(got, _per_application(frame), places=1):
                raise Wrong("that divides by the number of applications; the exercise asks for the "
                            "weighted mean: divide by the sum of the weights")
            if len(seen) and compare.agrees(got, float(np.sum(_weights(seen) * _costs(seen)) / len(seen)),
                                            places=1):
                raise Wrong("divide by the sum of the weights, not by the number of labelled loans")
            raise Wrong("the weighted cost is not right")
        cases.append(Case(name, (frame,), verify, keep_inputs=True))
    return cases


def _costs(seen: pd.DataFrame) -> np.ndarray:
    y = seen["defaulted"].to_numpy()
    return np.where(seen["decision"].to_numpy() == "refuse", (1 - y) * COSTS.wrong_refusal,
                    y * COSTS.missed_default)


def _weights(seen: pd.DataFrame) -> np.ndarray:
    return 1 / seen["propensity"].to_numpy()


def _unweighted(frame):
    seen = frame[frame["defaulted"].notna()]
    return float(np.mean(_costs(seen)))


def _approved_only(frame):
    seen = frame[frame["defaulted"].notna() & (frame["decision"] == "approve")]
    return float(np.mean(_costs(seen))) if len(seen) else 0.0


def _per_application(frame):
    seen = frame[frame["defaulted"].notna()]
    return float(np.sum(_weights(seen) * _costs(seen)) / len(frame))


@exercise("6.7", "The cost a lender can see, and the cost it estimates", workbook=WORKBOOK,
          hints=["Keep the loans whose outcome is known (`defaulted` not missing): the approved ones "
                 "and the holdout's.",
                 "Each one's cost: a refused loan that would have been repaid costs "
                 f"{COSTS.wrong_refusal:,.0f}, an approved loan that defaults {COSTS.missed_default:,.0f}, "
                 "anything else 0.",
                 "Weigh each by 1 / propensity and take the weighted mean: sum(w * cost) / sum(w)."],
          reference=lambda: ref_weighted_cost,
          mistakes=[(lambda: _unweighted, "weigh it so"),
                    (lambda: _approved_only, "approved loans alone"),
                    (lambda: _per_application, "number of applications")],
          rounded=[lambda: (lambda f: round(ref_weighted_cost(f), 1)),
                   lambda: (lambda f: round(ref_weighted_cost(f), 2))],
          mutate=ref_weighted_cost,
          equivalent={"`seen['decision'].to_numpy() == 'refuse'` -> "
                      "`__normalised__(seen['decision'].to_numpy()) == 'refuse'`":
                      "decisions are written 'approve' or 'refuse', already lower-case and trimmed"})
def check_weighted_cost(answer) -> str:
    compare.function(answer, _weighted_cases(), what="your function")
    return ("That is `outcomes.weighted_view`'s cost: unbiased, and noisy, because a few holdout "
            "loans weigh twenty each. The chapter prices the holdout that makes it possible.")
