"""Checks for the workbook of chapter 7, "MLOps in practice".

Nothing here needs MLflow or a trained model: 7.1 reads a table shaped like
``mlflow.search_runs``'s (made here from a fixed seed), 7.2 tests small
stand-in models whose behaviour is known by construction, 7.3 and 7.4 run
the learner's function on hidden cases, 7.5 is a judgement per scenario.
"""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from mlecourse.lender.data import fingerprints
from . import compare
from .blank import is_blank
from .compare import Case
from .core import exercise
from .result import Unanswered, Wrong

WORKBOOK = "07_mlops.ipynb"

# 7.1 ----------------------------------------------------------------------

MAX_REFUSAL = 0.30  # the business constraint of 7.1: refuse at most 30% of applications

# name, kind, cost, auc, refusal rate: chosen so that each shortcut picks another run
_RUNS = [
    ("logistic-c1", "logistic", 272.0, 0.8613, 0.262),
    ("logistic-c01", "logistic", 274.5, 0.8601, 0.255),
    ("tree-d5", "tree", 290.1, 0.8414, 0.241),
    ("tree-d8", "tree", 281.7, 0.8502, 0.318),
    ("boost-lr03", "boosting", 266.0, 0.8682, 0.300),
    ("boost-lr10", "boosting", 263.9, 0.8675, 0.336),
    ("boost-lr20", "boosting", 269.3, 0.8690, 0.284),
    ("boost-leaf7", "boosting", 268.2, 0.8641, 0.2999),
]


def recorded_runs() -> pd.DataFrame:
    """Exercise 7.1's runs, laid out as ``mlflow.search_runs`` returns them."""
    rng = np.random.default_rng(707)
    ids = [hashlib.sha256(f"{name}-{rng.integers(1e9)}".encode()).hexdigest()[:32]
           for name, *_ in _RUNS]
    return pd.DataFrame({
        "run_id": ids,
        "status": "FINISHED",
        "metrics.cost": [r[2] for r in _RUNS],
        "metrics.auc": [r[3] for r in _RUNS],
        "metrics.refusal_rate": [r[4] for r in _RUNS],
        "params.kind": [r[1] for r in _RUNS],
        "tags.mlflow.runName": [r[0] for r in _RUNS],
    })


def _run_id(name: str) -> str:
    runs = recorded_runs()
    return runs.loc[runs["tags.mlflow.runName"] == name, "run_id"].item()


def ref_best_run() -> str:
    runs = recorded_runs()
    allowed = runs[runs["metrics.refusal_rate"] <= MAX_REFUSAL]
    return allowed.sort_values("metrics.cost").iloc[0]["run_id"]


_WRONG_RUNS = {
    "boost-lr10": "that run is the cheapest overall, but it refuses more than 30% of applicants: "
                  "filter on the constraint first",
    "boost-lr20": "that run has the best AUC; the question asks for the lowest cost",
    "boost-leaf7": "that run is cheapest among runs refusing strictly less than 30%; "
                   "'at most 30%' includes exactly 30%",
    "tree-d5": "that run has the highest cost among those allowed: sort ascending",
}


@exercise("7.1", "The best run under a constraint", workbook=WORKBOOK,
          hints=["Keep the rows whose `metrics.refusal_rate` is at most 0.30, then sort them by "
                 "`metrics.cost`.",
                 "`runs[runs['metrics.refusal_rate'] <= 0.30].sort_values('metrics.cost')`: the "
                 "first row's `run_id`. In MLflow the same query is `filter_string=\"metrics."
                 "refusal_rate <= 0.30\"`, `order_by=[\"metrics.cost ASC\"]`."],
          reference=ref_best_run,
          mistakes=[(lambda name=name: _run_id(name), message.split(":")[0].split(",")[0])
                    for name, message in _WRONG_RUNS.items()])
def check_best_run(answer) -> str:
    if is_blank(answer):
        raise Unanswered()
    if not isinstance(answer, str):
        raise Wrong(f"expected a run id (the text in the run_id column), got {compare.describe(answer)}")
    runs = recorded_runs()
    by_id = dict(zip(runs["run_id"], runs["tags.mlflow.runName"]))
    by_name = {name: run_id for run_id, name in by_id.items()}
    answer = answer.strip()
    if answer in by_name:
        raise Wrong("that is a run's name; give its run_id, which stays unique when names repeat")
    if answer not in by_id:
        raise Wrong("that is not one of the run ids in the table")
    if answer != ref_best_run():
        raise Wrong(_WRONG_RUNS.get(by_id[answer], "that run is allowed, but it is not the cheapest one"))
    return "In MLflow: search_runs(filter_string=..., order_by=[...]) does the same in the store."


# 7.2 ----------------------------------------------------------------------

class _StandIn:
    """A model with a known formula: P(default) from income (and a planted bug, maybe)."""

    def __init__(self, name: str, bump: float = 0.0, bump_from: float = np.inf,
                 slope: float = -1.0, bump_rows: int | None = None):
        self.name, self.bump, self.bump_from, self.slope = name, bump, bump_from, slope
        self.bump_rows = bump_rows

    def __repr__(self) -> str:
        return f"<model {self.name}>"

    def __eq__(self, other) -> bool:  # the check compares a model before and after the test
        return type(other) is _StandIn and vars(self) == vars(other)

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        income = frame["annual_income"].fillna(40_000).to_numpy(dtype=float)
        p = 0.5 + 0.3 * np.tanh(self.slope * (income - 50_000) / 40_000)
        bumped = income >= self.bump_from
        if self.bump_rows is not None:  # the bug hits only a few applicants (one region)
            bumped &= frame["region"].to_numpy() == "central"
        p = np.clip(p + self.bump * bumped, 0.0, 1.0)
        return np.column_stack([1 - p, p])


def applicants(seed: int = 72, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    income = np.round(rng.lognormal(10.7, 0.45, n), -2)
    income[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame({"application_id": [f"A{i:05d}" for i in range(n)],
                         "annual_income": income,
                         "region": rng.choice(["north", "south", "central"], n, p=[0.45, 0.45, 0.1]),
                         "credit_score": np.round(rng.normal(660, 60, n))})


# (model, what a right test returns on it, what it is)
STAND_INS = [
    (_StandIn("sound"), True, "a sound model (risk falls with income)"),
    (_StandIn("flat", slope=0.0), True, "a model that ignores income"),
    (_StandIn("wiggle", slope=0.0, bump=0.0005, bump_from=60_000), True,
     "a model whose risk rises by 0.0005 above 60,000 (within the tolerance)"),
    (_StandIn("sign bug", slope=1.0), False, "a model with the income sign flipped"),
    (_StandIn("cliff", bump=0.2, bump_from=90_000), False,
     "a model whose risk jumps up above 90,000 of income"),
    (_StandIn("one region", bump=0.3, bump_from=70_000, bump_rows=1), False,
     "a model whose risk jumps for high earners in one region only"),
]


def ref_directional_test():
    def income_never_raises_risk(model, frame):
        richer = frame.copy()
        richer["annual_income"] = richer["annual_income"] * 1.5
        rise = model.predict_proba(richer)[:, 1] - model.predict_proba(frame)[:, 1]
        return bool(np.all(rise <= 0.001))
    return income_never_raises_risk


def _always(value):
    return lambda model, frame: value


def _mean_only(model, frame):
    richer = frame.copy()
    richer["annual_income"] = richer["annual_income"] * 1.5
    return bool(np.mean(model.predict_proba(richer)[:, 1] - model.predict_proba(frame)[:, 1]) <= 0.001)


def _no_tolerance(model, frame):
    richer = frame.copy()
    richer["annual_income"] = richer["annual_income"] * 1.5
    return bool(np.all(model.predict_proba(richer)[:, 1] - model.predict_proba(frame)[:, 1] <= 0))


def _in_place(model, frame):
    before = model.predict_proba(frame)[:, 1]
    frame["annual_income"] = frame["annual_income"] * 1.5
    return bool(np.all(model.predict_proba(frame)[:, 1] - before <= 0.001))


def _verdict(expected: bool, what: str):
    def verify(result):
        if not isinstance(result, (bool, np.bool_)):
            raise Wrong(f"expected True or False from your test, got {compare.describe(result)}")
        if bool(result) != expected:
            if expected:
                raise Wrong(f"your test fails {what}, which meets the specification "
                            "(a rise up to 0.001 is allowed)")
            raise Wrong(f"your test passes {what}: it missed the planted bug")
    return verify


@exercise("7.2", "A directional test that catches a planted bug", workbook=WORKBOOK,
          hints=["Make a copy of the frame with `annual_income` multiplied by 1.5, score both, "
                 "and look at the difference row by row.",
                 "The test passes only if *every* row's rise is at most 0.001: `np.all(rise <= 0.001)`. "
                 "A mean hides a bug that hits a few applicants."],
          reference=ref_directional_test,
          mistakes=[(lambda: _always(True), "missed the planted bug"),
                    (lambda: _always(False), "meets the specification"),
                    (lambda: _mean_only, "90,000"),
                    (lambda: _no_tolerance, "within the tolerance"),
                    (lambda: _in_place, "changed the data")])
def check_directional(answer) -> str:
    frame = applicants()
    cases = [Case(what, (model, frame), _verdict(expected, what), keep_inputs=True)
             for model, expected, what in STAND_INS]
    compare.function(answer, cases, what="your test")
    return ("That is a directional-expectation test: tests/test_model_behaviour.py runs one like "
            "it on the course's model.")


# 7.3 ----------------------------------------------------------------------

def _loans_sample() -> pd.DataFrame:
    rng = np.random.default_rng(73)
    n = 50
    return pd.DataFrame({"application_id": [f"A{i:04d}" for i in range(n)],
                         "loan_amount": np.round(rng.uniform(1_000, 30_000, n), 2),
                         "credit_score": np.where(rng.random(n) < 0.1, np.nan,
                                                  np.round(rng.normal(650, 50, n))),
                         "region": rng.choice(["north", "south", "east"], n),
                         "defaulted": rng.integers(0, 2, n)})


def _changed(frame: pd.DataFrame, column: str, value) -> pd.DataFrame:
    out = frame.copy()
    out.loc[out.index[7], column] = value
    return out


def _fingerprint_cases() -> list[tuple[str, pd.DataFrame, bool]]:
    """(what, a frame, must its fingerprint equal the original's)"""
    base = _loans_sample()
    twice = pd.concat([base, base.iloc[[3]]], ignore_index=True)
    return [
        ("the rows in another order", base.sample(frac=1, random_state=1), True),
        ("the columns in another order", base[base.columns[::-1]], True),
        ("the same rows with another index", base.set_axis(range(100, 150)), True),
        ("rows and columns both reordered", base.sample(frac=1, random_state=2)[base.columns[::-1]], True),
        ("one loan amount changed by 0.01", _changed(base, "loan_amount", base["loan_amount"].iloc[7] + 0.01), False),
        ("one region changed", _changed(base, "region", "west"), False),
        ("one missing credit score filled in", _changed(base, "credit_score", 600.0), False),
        ("one row duplicated", twice, False),
        ("one row removed", base.iloc[1:], False),
        ("a column renamed", base.rename(columns={"region": "regions"}), False),
    ]


def ref_fingerprint():
    def fingerprint(frame):
        ordered = frame[sorted(frame.columns)]
        rows = pd.util.hash_pandas_object(ordered, index=False).sort_values()
        header = ",".join(ordered.columns)
        return hashlib.sha256(header.encode() + rows.to_numpy().tobytes()).hexdigest()
    return fingerprint


def _with_index(frame):
    ordered = frame[sorted(frame.columns)]
    rows = pd.util.hash_pandas_object(ordered, index=True).sort_values()
    return hashlib.sha256(rows.to_numpy().tobytes()).hexdigest()


def _as_set(frame):
    ordered = frame[sorted(frame.columns)].drop_duplicates()
    rows = pd.util.hash_pandas_object(ordered, index=False).sort_values()
    return hashlib.sha256(",".join(ordered.columns).encode() + rows.to_numpy().tobytes()).hexdigest()


def _no_header(frame):
    ordered = frame[sorted(frame.columns)]
    rows = pd.util.hash_pandas_object(ordered, index=False).sort_values()
    return hashlib.sha256(rows.to_numpy().tobytes()).hexdigest()


@exercise("7.3", "A fingerprint that ignores order", workbook=WORKBOOK,
          hints=["Put the columns in a fixed order (sorted by name), hash each row with "
                 "`pd.util.hash_pandas_object(frame, index=False)`, then sort those row hashes.",
                 "Hash the sorted row hashes together with the column names (e.g. "
                 "`hashlib.sha256(names.encode() + hashes.to_numpy().tobytes()).hexdigest()`): "
                 "sorting makes order irrelevant, keeping every hash keeps duplicates."],
          reference=ref_fingerprint,
          mistakes=[(lambda: fingerprints.data_fingerprint, "another order"),
                    (lambda: _with_index, "another index"),
                    (lambda: _as_set, "duplicated"),
                    (lambda: _no_header, "renamed")])
def check_fingerprint(answer) -> str:
    base = _loans_sample()

    def verify_against(original: str, same: bool, what: str):
        def verify(result):
            if not isinstance(result, str):
                raise Wrong(f"expected the fingerprint as text (a hex digest), got {compare.describe(result)}")
            if same and result != original:
                raise Wrong(f"{what} should give the same fingerprint: the data did not change")
            if not same and result == original:
                raise Wrong(f"{what} gave the same fingerprint: a real change went unseen")
        return verify

    compare.function(answer, [Case("the sample", (base,), lambda r: None, keep_inputs=True)],
                     what="your fingerprint")
    original = answer(base.copy())
    if not isinstance(original, str):
        raise Wrong(f"expected the fingerprint as text (a hex digest), got {compare.describe(original)}")
    cases = [Case(what, (frame,), verify_against(original, same, what), keep_inputs=True)
             for what, frame, same in _fingerprint_cases()]
    compare.function(answer, cases, what="your fingerprint")
    return ("Order-free and duplicate-aware. The course's fingerprints.data_fingerprint keeps row order on "
            "purpose: for the boosting model, order changes the model.")


# 7.4 ----------------------------------------------------------------------

def _m(cost, auc, gap):
    return {"cost": cost, "auc": auc, "parity_gap": gap}


CHAMP = _m(266.0, 0.868, 0.08)
GATE_CASES = [  # (what, candidate, champion, promote?)
    ("a cheaper, better, fair candidate", _m(260.0, 0.871, 0.05), CHAMP, True),
    ("a candidate costing exactly the champion's cost", _m(266.0, 0.868, 0.08), CHAMP, True),
    ("a candidate whose AUC is 0.004 lower, and cheaper", _m(265.0, 0.864, 0.08), CHAMP, True),
    ("a candidate whose AUC is 0.006 lower, and cheaper", _m(265.0, 0.862, 0.08), CHAMP, False),
    ("a candidate costing 0.5 more per application", _m(266.5, 0.870, 0.05), CHAMP, False),
    ("a candidate with a refusal-rate gap of exactly 0.10", _m(262.0, 0.870, 0.10), CHAMP, True),
    ("a cheaper candidate with a refusal-rate gap of 0.12", _m(250.0, 0.880, 0.12), CHAMP, False),
    ("a first model, with no champion yet, and fair", _m(300.0, 0.80, 0.06), None, True),
    ("a first model, with no champion yet, but a gap of 0.15", _m(250.0, 0.90, 0.15), None, False),
]


def ref_gate():
    def should_promote(candidate, champion):
        if candidate["parity_gap"] > 0.10:
            return False
        if champion is None:
            return True
        return (candidate["cost"] <= champion["cost"]
                and candidate["auc"] >= champion["auc"] - 0.005)
    return should_promote


def _strict_cost(candidate, champion):
    if candidate["parity_gap"] > 0.10:
        return False
    return champion is None or (candidate["cost"] < champion["cost"]
                                and candidate["auc"] >= champion["auc"] - 0.005)


def _strict_gap(candidate, champion):
    if candidate["parity_gap"] >= 0.10:
        return False
    return champion is None or (candidate["cost"] <= champion["cost"]
                                and candidate["auc"] >= champion["auc"] - 0.005)


def _no_fairness_without_champion(candidate, champion):
    if champion is None:
        return True
    return (candidate["parity_gap"] <= 0.10 and candidate["cost"] <= champion["cost"]
            and candidate["auc"] >= champion["auc"] - 0.005)


def _auc_must_improve(candidate, champion):
    if candidate["parity_gap"] > 0.10:
        return False
    return champion is None or (candidate["cost"] <= champion["cost"]
                                and candidate["auc"] >= champion["auc"])


@exercise("7.4", "A promotion gate", workbook=WORKBOOK,
          hints=["Check fairness first: it applies whether or not there is a champion.",
                 "Then, if there is a champion: promote only if the cost is not higher "
                 "(`<=`) and the AUC is at least the champion's minus 0.005."],
          reference=ref_gate,
          mistakes=[(lambda: _strict_cost, "exactly the champion's cost"),
                    (lambda: _strict_gap, "exactly 0.10"),
                    (lambda: _no_fairness_without_champion, "no champion yet, but"),
                    (lambda: _auc_must_improve, "0.004 lower")])
def check_gate(answer) -> str:
    def verify(expected: bool, what: str):
        def check(result):
            if not isinstance(result, (bool, np.bool_)):
                raise Wrong(f"expected True (promote) or False, got {compare.describe(result)}")
            if bool(result) != expected:
                raise Wrong(f"your gate says {'promote' if result else 'do not promote'} for {what}, "
                            "which the specification does not")
        return check

    cases = [Case(what, (candidate, champion), verify(expected, what), keep_inputs=True)
             for what, candidate, champion, expected in GATE_CASES]
    compare.function(answer, cases, what="your gate")
    return "lender/mlops/gates.py is the same gate, with every reason reported, not only a verdict."


# 7.5 ----------------------------------------------------------------------

SCENARIOS = {
    "a": "A data scientist retrains in a notebook every quarter and emails the model file to "
         "the operations team, who copy it onto the server.",
    "b": "Training is a script in git; an engineer runs it by hand, logs the run in MLflow and "
         "moves the registry alias to deploy.",
    "c": "A pipeline retrains, validates, gates and deploys the model on a schedule and when "
         "monitoring sees drift; changes to the pipeline's own code are deployed by hand.",
    "d": "Every change to the pipeline's code is built and tested by CI, and CD deploys the new "
         "pipeline, which then retrains and deploys models on its own triggers.",
    "e": "A nightly job retrains and replaces the model automatically, with no validation "
         "step and no comparison against the serving model.",
}
LEVELS = {"a": 0, "b": 0, "c": 1, "d": 2, "e": 1}
WHY = {
    "b": "b uses good tools, but every step still waits for a person: tools are not automation",
    "c": "c automates training and deployment (continuous training), but not the pipeline's own delivery",
    "d": "d automates the delivery of the pipeline itself (CI/CD of the pipeline): the top level",
    "e": "e is automated continuous training; its missing checks make it a risky level 1, still level 1",
    "a": "a is manual from end to end",
}


@exercise("7.5", "Place scenarios on the maturity levels", workbook=WORKBOOK,
          hints=["Level 0: every step is manual. Level 1: the *training pipeline* runs on its own "
                 "(continuous training). Level 2: the *pipeline's code* is built, tested and "
                 "deployed by CI/CD too.",
                 "Judge what is automated, not which tools are used or how good the checks are."],
          reference=lambda: dict(LEVELS),
          mistakes=[(lambda: {**LEVELS, "b": 1}, "tools are not automation"),
                    (lambda: {**LEVELS, "e": 0}, "risky level 1"),
                    (lambda: {**LEVELS, "c": 2}, "not the pipeline's own delivery")])
def check_levels(answer) -> str:
    if is_blank(answer):
        raise Unanswered()
    if not isinstance(answer, dict):
        raise Wrong(f"expected a dict from scenario letter to level, e.g. {{'a': 0, ...}}, "
                    f"got {compare.describe(answer)}")
    if any(is_blank(v) for v in answer.values()):
        raise Unanswered()
    missing = sorted(set(LEVELS) - set(answer))
    if missing:
        raise Wrong(f"your answer lacks the scenario {missing[0]!r}")
    for key in sorted(LEVELS):
        level = answer[key]
        if isinstance(level, bool) or not isinstance(level, (int, np.integer)) or level not in (0, 1, 2):
            raise Wrong(f"the level of scenario {key!r} should be 0, 1 or 2, got {compare.describe(level)}")
        if int(level) != LEVELS[key]:
            raise Wrong(f"scenario {key!r} is not at level {int(level)}: {WHY[key]}")
    return "Most teams are at level 0 or 1; level 2 pays off when pipelines change often."
