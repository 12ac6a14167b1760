"""Checks for the capstone (chapter 11): one system, end to end, graded from what it left behind.

The capstone's workbook writes everything it makes into one folder, a
:class:`Submission` (``capstone/`` beside the workbook: ``work/capstone/`` when
you work in ``work/``): ``answers.json``, where each step records what it
found; ``mlflow/``, the tracking store and registry; ``predictions.sqlite``,
the replay's prediction log; ``model_card.md``; ``design.md``, the write-up.
Each check here reads that folder and compares it with the reference values
in :data:`EXPECTED`, and with the folder itself (the run named in the answers
must be in the store, the version the service answered with must be the
registry's champion, the gap must be the one the log's decisions give).

A check never writes to the folder: the store and the log are read from a
copy. ``mlecourse capstone check`` runs every check from a terminal
(:mod:`mlecourse.course.capstone`).

:data:`EXPECTED` holds numbers, not code to rerun on every check: each is
what :func:`expected_values` computes from the data with the reference
procedure, and ``tests/test_capstone.py`` recomputes them. The case's truths
(when the partner started, how many retries, the shock) are in the
generator's scenario (``lender.data.loans.CAPSTONE``) and in the instructor
notes, never on a learner's page.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shutil
import sqlite3
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import compare
from .blank import is_blank
from .core import exercise
from .result import Unanswered, Wrong

WORKBOOK = "11_capstone.ipynb"
ANSWERS, STORE, LOG, CARD, DESIGN = "answers.json", "mlflow", "predictions.sqlite", "model_card.md", "design.md"

# --- the case: what the workbook states, in one place ------------------------------------

INCUMBENT_UNTIL = "2023-01-01"    # the incumbent learnt from the loans applied for before this
TRAIN_UNTIL = "2023-07-01"        # candidates learn from 2022-01 to 2023-06 ...
EVALUATE_UNTIL = "2024-01-01"     # ... and are compared on 2023-07 to 2023-12, known by 2025-01-01
NEW_YEAR = ("2025-01", "2025-12")  # the months the new champion serves
CANARY_MONTHS = ("2025-01", "2025-06")  # the canary's traffic, a month per step
CANARY_P95_MS = 1000.0            # the partner API's timeout: the canary's latency objective
DECISION_DAY = "2026-01-01"       # the year's review: retrain, roll back or hold
BOOTSTRAP = {"resamples": 1000, "level": 0.95, "seed": 0}
POLICY_GAP = 0.05                 # minority refusal rate minus majority's, at most
PROBE = 3                         # applications the service is asked about in 11.3
COST_TOLERANCE = 0.02             # a champion within 2% of the reference's cost is as good

# The rubric a person grades the project with (criterion, marks, what earns each mark).
RUBRIC = (
    ("Problem framing", 2,
     "0: no decision or measure of success stated. 1: the decision and a metric. 2: the decision, whom it "
     "serves, what each error costs in money, the measure of success, and when outcomes arrive."),
    ("Tracking and registry", 4,
     "0: nothing tracked. 1: candidates trained, not tracked. 2: a run per candidate with its parameters "
     "and metrics. 3: and its provenance (data fingerprint, commit, lock hash), the champion registered "
     "from its run. 4: and promoted through a recorded gate with an interval, the incumbent kept as "
     "'previous' so that a rollback is one move."),
    ("Deployment", 4,
     "0: not served. 1: served from a file. 2: served from the registry's alias. 3: rolled out gradually, "
     "with guards stated before it starts. 4: and the rollout's decisions read, and the way back stated."),
    ("Monitoring and alerting", 4,
     "0: nothing watched. 1: predictions logged. 2: drift measured. 3: an alert whose threshold comes from a "
     "false-alarm budget on a stable period, and the month and the input it found. 4: and the change in "
     "repayment found through an outcome, with its lag, and what would trigger action."),
    ("Reproducibility", 2,
     "0: the numbers cannot be had again. 1: seeds fixed, the data checked against its checksum. 2: and a "
     "fresh run gives the same numbers (the checks pass on it), code and libraries recorded on every run."),
    ("Tests and CI", 2,
     "0: none. 1: the checks pass, and the new fault has a rule that catches it. 2: and the write-up names "
     "the test that guards each step, and where it runs (CI)."),
    ("Responsible AI", 4,
     "0: no audit. 1: a gap computed. 2: the gap with its interval, against the written policy. 3: and its "
     "cause located (which input carries the group, and from where). 4: and an alternative weighed with its "
     "cost, a recommendation, and the model card."),
)

# The reference values, computed by expected_values() from the data (tests/test_capstone.py
# recomputes them and fails if one is stale).
EXPECTED = {
    "quarantined": 172,
    "quarantined_problems": 184,          # problems (a batch's notes included), not rows
    "quarantined_after_cleaning": 70,     # validating rows already cleaned
    "quarantined_history": 288,           # validating 2022-2024 instead
    "retries": 52,
    "scored": 15397,                      # 2025's applications the replay scores
    "champion": "logistic",
    "champion_cost": 381.7567567567568,
    "incumbent_cost": 413.3445945945946,
    "candidate_costs": {"boosting": 410.6418918918919, "tree": 422.2972972972973},
    "training_cost": 284.1,               # the champion on its own training window
    "interval_width": 40.9,
    "canary_decision": "complete",
    "canary_month": "2025-04",
    "change_month": "2025-03",
    "change_feature": "channel",
    "per_feature_month": "2025-01",
    "decision": "hold",
    "retrain_difference": -16.1,          # the retrained champion's kind minus the champion, per application
    "retrain_other_kind": -10.3,          # the pipeline's default kind (boosting) instead
    "rollback_difference": 39.1,          # the incumbent minus the champion, on the same cohort
    "gap": 0.0726,
}


# --- the submission -----------------------------------------------------------------------

class Submission:
    """The capstone's outputs, in one folder; :meth:`record` writes a step's answers.

    ``Submission.start(folder)`` begins a run: a folder that already holds a
    run is moved aside (to ``<folder>.backups/<time>``, never deleted), so every
    run of the workbook starts from an empty store and numbers its versions
    from 1. ``Submission(folder)`` opens one to read, as the checks do.
    """

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def __repr__(self) -> str:
        return f"Submission({str(self.folder)!r})"

    @classmethod
    def start(cls, folder: str | Path = "capstone") -> "Submission":
        folder, written = where(folder), None
        if folder.exists() and any(folder.iterdir()):
            from datetime import datetime
            backups = folder.with_name(folder.name + ".backups")
            backups.mkdir(exist_ok=True)
            kept = backups / datetime.now().strftime("%Y%m%d-%H%M%S-%f")
            shutil.move(str(folder), str(kept))
            print(f"Your previous run is kept in {kept} (delete {backups.name}/ once you no longer need "
                  f"it); this run starts in an empty {folder}/.")
            old = kept / DESIGN
            if old.is_file() and old.read_text(encoding="utf-8") != design_template():
                written = old.read_text(encoding="utf-8")  # the write-up is written by hand: it comes along
        folder.mkdir(parents=True, exist_ok=True)
        submission = cls(folder)
        submission.design.write_text(written or design_template(), encoding="utf-8")
        if written:
            print(f"Your write-up came along: {submission.design}.")
        return submission

    @property
    def store(self) -> Path:
        return self.folder / STORE

    @property
    def log(self) -> Path:
        return self.folder / LOG

    @property
    def card(self) -> Path:
        return self.folder / CARD

    @property
    def design(self) -> Path:
        return self.folder / DESIGN

    def answers(self) -> dict:
        path = self.folder / ANSWERS
        if not path.is_file():
            return {}
        try:
            found = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as error:
            raise Wrong(f"{path} is not valid JSON ({error}); run the workbook's steps again") from None
        return found if isinstance(found, dict) else {}

    def answer(self, id: str) -> dict:
        """What step ``id`` recorded; Unanswered if it recorded nothing yet."""
        found = self.answers().get(id)
        if not found:
            raise Unanswered()
        return found

    def record(self, id: str, **values) -> None:
        """Write what step ``id`` found (JSON-ready values). A placeholder records nothing."""
        if any(is_blank(v) for v in values.values()):
            print(f"Step {id}: nothing recorded yet (an answer is still ____).")
            return
        answers = self.answers()
        answers[id] = json.loads(json.dumps(values, default=_plain))
        path = self.folder / ANSWERS
        temporary = path.with_name(f".{path.name}.writing")
        temporary.write_text(json.dumps(answers, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(temporary, path)
        print(f"Step {id}: recorded {', '.join(values)} in {path}.")


def where(folder: str | Path) -> Path:
    """Where a run's folder goes: as asked, unless that is inside the course's own folders
    (``solutions/``, ``chapters/``...), which never hold outputs (MLflow refuses a store there
    too): then in ``work/``, under the same name."""
    from mlecourse.paths import ROOT, WORK_DIR

    asked = Path(folder).resolve()
    if ROOT in asked.parents and WORK_DIR not in (asked, *asked.parents):
        moved = WORK_DIR / asked.name
        print(f"The course keeps outputs out of its own folders: this run's folder is {moved}.")
        return moved
    return Path(folder)


def _plain(value: Any):
    """numpy numbers and arrays, paths and frames as what JSON can hold."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, pd.DataFrame):
        return json.loads(value.to_json(orient="records"))
    if isinstance(value, pd.Series):
        return json.loads(value.to_json())
    raise TypeError(f"cannot record {type(value).__name__} in answers.json: record numbers, text or lists")


def _submission(answer) -> Submission:
    if is_blank(answer):
        raise Unanswered()
    if isinstance(answer, (str, Path)) and Path(answer).is_dir():
        return Submission(answer)
    if not isinstance(answer, Submission):
        raise Wrong(f"expected the capstone's Submission (the `submission` of the workbook's first cell) "
                    f"or its folder, got {compare.describe(answer)}")
    if not answer.folder.is_dir():
        raise Wrong(f"the folder {answer.folder} does not exist: run the workbook's first cell")
    return answer


def _field(found: dict, name: str, id: str):
    if name not in found:
        raise Wrong(f"step {id} recorded no {name!r}: record it with submission.record({id!r}, {name}=...)")
    value = found[name]
    if is_blank(value):
        raise Unanswered()
    return value


# --- reading the folder without writing to it ----------------------------------------------

@contextlib.contextmanager
def _copy_of(submission: Submission, *names: str):
    """A temporary copy of some of the folder's files: what the checks open."""
    with tempfile.TemporaryDirectory(prefix="capstone-check-") as scratch:
        for name in names:
            source = submission.folder / name
            if source.is_dir():
                shutil.copytree(source, Path(scratch) / name)
            elif source.is_file():
                shutil.copy2(source, Path(scratch) / name)
        yield Path(scratch)


@contextlib.contextmanager
def store_view(submission: Submission):
    """The submission's MLflow store, opened from a copy; the process's own store is restored after."""
    from mlecourse.lender.mlops import tracking

    if not (submission.store / tracking.STORE_FILE).is_file():
        raise Wrong(f"no MLflow store in {submission.store}: log the candidates with tracking.use_store"
                    f"(submission.store) first (step 11.2)")
    import mlflow

    tracking.quiet()
    before = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    with _copy_of(submission, STORE) as copy:
        uri = f"sqlite:///{copy / STORE / tracking.STORE_FILE}"
        mlflow.set_tracking_uri(uri)
        mlflow.set_registry_uri(uri)
        try:
            yield mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
        finally:
            mlflow.set_tracking_uri(before[0])
            mlflow.set_registry_uri(before[1])


@contextlib.contextmanager
def log_view(submission: Submission):
    """The replay's prediction log, opened read-only from a copy."""
    if not submission.log.is_file():
        raise Wrong(f"no prediction log at {submission.log}: replay 2025 into predlog.connect(submission.log)")
    with _copy_of(submission, LOG) as copy:
        conn = sqlite3.connect(f"file:{copy / LOG}?mode=ro", uri=True)
        try:
            yield conn
        finally:
            conn.close()


# --- the data the checks compare with --------------------------------------------------------

@cache
def _raw() -> pd.DataFrame:
    from mlecourse.lender.data.loading import CAPSTONE_FILE, load_loans
    return load_loans(CAPSTONE_FILE)


def _month(frame: pd.DataFrame) -> pd.Series:
    return frame["application_date"].dt.strftime("%Y-%m")


@cache
def _history() -> pd.DataFrame:
    """The loans known on 2025-01-01, validated and cleaned as the workbook does."""
    from mlecourse.lender import features
    from mlecourse.lender.data import validation

    raw = _raw()
    before = raw[raw["application_date"] < f"{NEW_YEAR[0]}-01"]
    return features.clean_loans(validation.validate_batch(before).accepted)[0]


def windows() -> dict[str, pd.DataFrame]:
    """The case's windows of the cleaned history: incumbent's, training, evaluation, 2024."""
    history = _history()
    dates = history["application_date"]
    return {"incumbent": history[dates < INCUMBENT_UNTIL], "train": history[dates < TRAIN_UNTIL],
            "evaluate": history[(dates >= TRAIN_UNTIL) & (dates < EVALUATE_UNTIL)],
            "year_before": history[(dates >= EVALUATE_UNTIL)]}


def _months(first: str, last: str) -> list[str]:
    return [str(m) for m in pd.period_range(first, last, freq="M")]


def validated_months(raw: pd.DataFrame, first: str, last: str, reference) -> dict:
    """Each month's validation report, as the replay makes it (the training window's reference)."""
    from mlecourse.lender.data import validation

    month = _month(raw)
    return {m: validation.validate_batch(raw[month == m], reference) for m in _months(first, last)}


# --- 11.1 -------------------------------------------------------------------------------------

def _quarantine_messages() -> dict[int, str]:
    return {
        EXPECTED["quarantined_problems"]: "that counts problems, not rows: a month's report also lists "
                                          "notes about the whole batch, and a row can have two problems",
        EXPECTED["quarantined_after_cleaning"]: "that counts what is left after cleaning: validate the raw "
                                                "rows as they arrive, before any repair hides what upstream sent",
        EXPECTED["quarantined_history"]: "that counts 2022 to 2024: the question is about the new months, 2025",
        EXPECTED["retries"]: "that counts one kind of problem only; count every row held back",
    }


@exercise("11.1", "Validate the new year and quarantine what is bad", workbook=WORKBOOK, submission=True,
          hints=["Validate each month of 2025 as it arrives, as the replay will: "
                 "`validation.validate_batch(month_rows, reference)` with the training window's reference.",
                 "Add up `len(report.quarantined)` over the twelve reports; then read the reports' "
                 "`problems` table: which kinds of problem are there, and which one is new?"],
          reference=lambda: reference_submission(),
          mistakes=[(lambda: planted(**{"11.1": {"quarantined": EXPECTED["quarantined_problems"]}}), "not rows"),
                    (lambda: planted(**{"11.1": {"quarantined": EXPECTED["quarantined_after_cleaning"]}}),
                     "before any repair"),
                    (lambda: planted(**{"11.1": {"quarantined": EXPECTED["quarantined_history"]}}), "new months")])
def check_quarantine(answer) -> str:
    found = _submission(answer).answer("11.1")
    value = _field(found, "quarantined", "11.1")
    what = "the number of 2025's rows held back"
    number = compare.as_number(value, what)
    if number in _quarantine_messages() and number != EXPECTED["quarantined"]:
        raise Wrong(_quarantine_messages()[int(number)])
    compare.integer(value, EXPECTED["quarantined"], what=what)
    return "Now read the problems: one kind is new, and the write-up should say where it comes from."


# --- 11.2 -------------------------------------------------------------------------------------

def _costs_named() -> dict[float, str]:
    return {EXPECTED["incumbent_cost"]: "that is the incumbent's cost: the champion is the cheapest candidate",
            **{cost: f"that is the {kind}'s cost; another candidate is cheaper"
               for kind, cost in EXPECTED["candidate_costs"].items()}}


def _check_cost(cost: float) -> None:
    for known, message in _costs_named().items():
        if math.isclose(cost, known, rel_tol=1e-6):
            raise Wrong(message)
    reference = EXPECTED["champion_cost"]
    if cost < reference * (1 - COST_TOLERANCE):
        raise Wrong(f"a cost of {cost:,.1f} is lower than a candidate reaches on months it did not learn "
                    "from: was it measured on the training window, or on months whose outcomes were "
                    f"not known on {NEW_YEAR[0]}-01?")
    if cost > reference * (1 + COST_TOLERANCE):
        raise Wrong(f"a cheaper candidate exists: compare the candidates by their cost per application "
                    f"on {TRAIN_UNTIL[:7]} to {EVALUATE_UNTIL[:4]}'s end, at the cost threshold")


def _check_interval(found: dict, cost: float) -> None:
    interval = _field(found, "interval", "11.2")
    difference = compare.as_number(_field(found, "difference", "11.2"), "the cost difference")
    if (not isinstance(interval, list) or len(interval) != 2
            or not all(isinstance(v, (int, float)) for v in interval)):
        raise Wrong(f"expected the interval as two numbers [low, high], got {compare.describe(interval)}")
    low, high = sorted(interval)
    if not math.isclose(difference, cost - EXPECTED["incumbent_cost"], rel_tol=1e-3, abs_tol=0.05):
        raise Wrong("the difference should be the champion's cost minus the incumbent's, on the same window")
    if not low <= difference <= high:
        raise Wrong("the interval does not contain the difference it is an interval for")
    width = high - low
    if width < 0.5 * EXPECTED["interval_width"]:
        raise Wrong("the interval is too narrow for a 95% interval on this many applications: resample "
                    "applications with replacement, the same rows for both models, as many as there are")
    if width > 2 * EXPECTED["interval_width"]:
        raise Wrong("the interval is too wide: resample the pairs (the same applications for both models), "
                    "not each model's costs on its own")


@exercise("11.2", "Candidates, tracked, and a champion chosen by cost with an interval", workbook=WORKBOOK,
          submission=True,
          hints=["Train each candidate on the training window, measure its cost on the evaluation window "
                 "with `evaluation.classification_metrics`, and log each with `tracking.log_candidate`.",
                 "The interval: draw 1,000 resamples of the evaluation window's rows (with replacement), "
                 "and for each the champion's cost minus the incumbent's on the same rows; "
                 "`np.quantile(differences, [0.025, 0.975])`."],
          reference=lambda: reference_submission(),
          mistakes=[(lambda: planted(**{"11.2": {"cost": EXPECTED["candidate_costs"]["boosting"]}}),
                     "another candidate is cheaper"),
                    (lambda: planted(**{"11.2": {"cost": EXPECTED["training_cost"]}}), "training window"),
                    (lambda: planted(**{"11.2": {"run_id": "0" * 32}}), "no run"),
                    (lambda: planted(**{"11.2": {"interval": "narrow"}}), "too narrow")])
def check_champion(answer) -> str:
    submission = _submission(answer)
    found = submission.answer("11.2")
    cost = compare.as_number(_field(found, "cost", "11.2"), "the champion's cost")
    _check_cost(cost)
    _check_interval(found, cost)
    run_id = _field(found, "run_id", "11.2")
    with store_view(submission) as client:
        from mlflow.exceptions import MlflowException
        try:
            run = client.get_run(str(run_id))
        except MlflowException:
            raise Wrong(f"there is no run {run_id!r} in {submission.store}: record the run id "
                        "tracking.log_candidate returned for the champion") from None
    logged = run.data.metrics.get("cost")
    if logged is None or not math.isclose(logged, cost, rel_tol=1e-6):
        raise Wrong(f"the run {run_id} does not record this cost as its metric 'cost'")
    missing = [t for t in ("data_fingerprint", "git_commit", "lock_sha256") if t not in run.data.tags]
    if missing:
        raise Wrong(f"the run lacks the tags {', '.join(missing)}: log it with tracking.log_candidate, "
                    "which records the data, the code and the libraries")
    return "Cheaper than the incumbent, and the interval says it is not luck."


# --- 11.3 -------------------------------------------------------------------------------------

def _check_answer_schema(body) -> None:
    if not isinstance(body, dict) or set(body) != {"model_version", "predictions"}:
        raise Wrong("the recorded answer is not the service's /predict answer ({'model_version': ..., "
                    "'predictions': [...]}): record what POST /predict returned")
    predictions = body["predictions"]
    if not isinstance(predictions, list) or not predictions or not all(
            isinstance(p, dict) and set(p) == {"probability_of_default", "decision"} for p in predictions):
        raise Wrong("each prediction of a /predict answer has a probability_of_default and a decision")


def _served_again(model_dir: Path, sent: list) -> dict:
    """The champion served once more, in this process, and asked the same question."""
    import warnings

    from mlecourse.lender.service import compose

    with warnings.catch_warnings():  # Starlette's note on its test client, not the learner's to read
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    with TestClient(compose.create_app_from_dir(model_dir)) as client:
        response = client.post("/predict", json={"applications": sent})
    if response.status_code != 200:
        raise Wrong(f"the registered champion's service refuses the recorded applications "
                    f"({response.status_code}): record the applications you sent, as sent")
    return response.json()


@exercise("11.3", "Register the champion and serve it", workbook=WORKBOOK, submission=True,
          hints=["Register the incumbent first and promote it with an override that says why (it served "
                 "before the registry did); register the champion, record the gate's verdict, promote it.",
                 "Serve what the registry's `champion` alias points to: `registry.materialise('champion')`, "
                 "`compose.create_app_from_dir(...)`, `api.serve(app)`; then POST /predict."],
          reference=lambda: reference_submission(),
          mistakes=[(lambda: planted(**{"11.3": {"version": 1}}), "is the previous champion"),
                    (lambda: planted(answer_version="2024.1"), "not the registered champion"),
                    (lambda: planted(answer_schema=True), "not the service's /predict answer")])
def check_service(answer) -> str:
    submission = _submission(answer)
    found = submission.answer("11.3")
    version = _field(found, "version", "11.3")
    body, sent = _field(found, "answer", "11.3"), _field(found, "sent", "11.3")
    _check_answer_schema(body)
    if not isinstance(sent, list) or len(sent) != len(body["predictions"]):
        raise Wrong("record the applications sent (a list, one per prediction) with the answer")
    from mlecourse.lender.mlops import registry
    with store_view(submission):
        aliases = registry.aliases()
        if aliases.get(registry.CHAMPION) is None:
            raise Wrong("the registry has no champion: promote the champion with registry.promote")
        if aliases.get(registry.PREVIOUS) is None:
            raise Wrong("the registry has no previous champion: register and promote the incumbent first, "
                        "so that a rollback has somewhere to go")
        if int(version) == aliases.get(registry.PREVIOUS):
            raise Wrong(f"version {version} is the previous champion, not the one serving now")
        if int(version) != aliases[registry.CHAMPION]:
            raise Wrong(f"the registry's champion is version {aliases[registry.CHAMPION]}, not {version}")
        with tempfile.TemporaryDirectory(prefix="capstone-champion-") as where:
            model_dir = registry.materialise(registry.CHAMPION, Path(where))
            card = json.loads((model_dir / "model.json").read_text())
            again = _served_again(model_dir, sent)
    if body["model_version"] != card["version"]:
        raise Wrong(f"the service answered as model version {body['model_version']!r}, which is not "
                    "the registered champion's: serve the model the champion alias points to")
    if [p["probability_of_default"] for p in again["predictions"]] != [
            p["probability_of_default"] for p in body["predictions"]]:
        raise Wrong("the registered champion, served again, answers these applications differently: "
                    "record the answer of the service started from the registry")
    return f"The service answers as version {card['version']}, the registry's champion, behind the guard."


# --- 11.4 -------------------------------------------------------------------------------------

CANARY_STEPS = (0.05, 0.25, 0.5, 1.0)  # strategies.STEPS, the default the case asks for


def _canary_steps(found: dict) -> list[dict]:
    steps = _field(found, "steps", "11.4")
    if not isinstance(steps, list) or not steps or not all(
            isinstance(s, dict) and {"batch", "weight", "breached", "decision"} <= set(s) for s in steps):
        raise Wrong("record the canary's table, one row per batch with its batch, weight, breached and "
                    "decision: canary[['batch', 'weight', 'breached', 'decision']]")
    return steps


@exercise("11.4", "Roll the champion out as a canary", workbook=WORKBOOK, submission=True,
          hints=["Traffic: each month from 2025-01 to 2025-06, validated and cleaned as the replay does; "
                 "the stable version is the incumbent, the candidate the champion's service.",
                 "`strategies.run_canary(strategies.Router(stable, candidate), traffic, "
                 "guards=strategies.Guards(max_p95_ms=1000))`; record its table's batch, weight, breached "
                 "and decision columns."],
          reference=lambda: reference_submission(),
          mistakes=[(lambda: planted(canary="errors"), "failed requests"),
                    (lambda: planted(canary="unfinished"), "not finished"),
                    (lambda: planted(canary="skipped a step"), "steps")])
def check_canary(answer) -> str:
    steps = _canary_steps(_submission(answer).answer("11.4"))
    last = steps[-1]
    breaches = {str(s["breached"]) for s in steps if s["breached"]}
    if any("error" in b for b in breaches):
        raise Wrong("the canary stopped on failed requests: the service refuses what validation "
                    "quarantines; send each month's accepted rows, cleaned, as the replay does")
    if last["decision"] == "rollback" and breaches == {"latency"}:
        raise Wrong("the canary rolled back on latency alone: the machine was busy while it ran. Run the canary "
                    "cell again; the guards' latency objective is the partner's timeout, 1000 ms")
    if last["decision"] != EXPECTED["canary_decision"]:
        raise Wrong(f"the canary's last decision was {last['decision']!r}: it has not finished; give it the "
                    f"months {CANARY_MONTHS[0]} to {CANARY_MONTHS[1]}, one batch a month")
    moved = [float(s["weight"]) for s in steps if s["decision"] in ("promote", "complete")]
    held = [s for s in steps if s["decision"] == "hold"]
    if steps[0]["batch"] != CANARY_MONTHS[0] or moved != list(CANARY_STEPS) or any(
            s["breached"] != "latency" for s in held):
        raise Wrong("the canary did not take the default steps (5%, 25%, 50%, 100%) from "
                    f"{CANARY_MONTHS[0]}, a month a step: run it with strategies.STEPS on the months of the case")
    if not held and last["batch"] != EXPECTED["canary_month"]:
        raise Wrong("the canary completed in another month than its steps allow: one batch a month")
    return "Four steps, guards checked at each; the incumbent stays registered as 'previous'."


# --- 11.5 -------------------------------------------------------------------------------------

def _check_log(submission: Submission) -> None:
    from mlecourse.lender.monitoring import predlog

    with log_view(submission) as conn:
        logged = predlog.predictions(conn)
    scored = logged[logged["month"].between(*NEW_YEAR)]
    if len(scored) != EXPECTED["scored"]:
        raise Wrong(f"the prediction log holds {len(scored):,} predictions for 2025, not every accepted "
                    "application of the year: replay each month of 2025 through the service, once")
    if scored["model_version"].nunique() != 1:
        raise Wrong("the log's 2025 predictions come from more than one model version: replay through the "
                    "champion's service only")


@exercise("11.5", "Replay the year and find what changed, and when", workbook=WORKBOOK, submission=True,
          hints=["Replay 2025 through the service into `predlog.connect(submission.log)`; compare each month's "
                 "inputs with the training window (`drift.drift_table`), from 2024 on.",
                 "Alert on the largest PSI across inputs, month by month; its threshold is the largest value "
                 "it took in 2024 (`alerting.threshold_for_budget(..., 0)`); `alerting.detection` gives "
                 "the first month over it. Which input has the largest PSI that month?"],
          reference=lambda: reference_submission(),
          mistakes=[(lambda: planted(**{"11.5": {"month": EXPECTED["per_feature_month"]}}), "by chance"),
                    (lambda: planted(**{"11.5": {"month": None}}), "no alert"),
                    (lambda: planted(**{"11.5": {"month": "2025-08"}}), "repayment"),
                    (lambda: planted(**{"11.5": {"feature": "broker"}}), "a value"),
                    (lambda: planted(drop_log=True), "no prediction log")])
def check_change(answer) -> str:
    from mlecourse.lender import features

    submission = _submission(answer)
    found = submission.answer("11.5")
    if "month" not in found:
        raise Wrong("step 11.5 recorded no 'month': record it with submission.record('11.5', month=..., feature=...)")
    month, feature = found["month"], _field(found, "feature", "11.5")
    _check_log(submission)
    if month is None:
        raise Wrong("no alert at all: a threshold from folklore (PSI 0.25) never fires here; take the largest "
                    "value the series reached in 2024, a year with no change, as the threshold")
    month = str(month).strip()
    if month < EXPECTED["change_month"]:
        raise Wrong(f"{month} is an alarm that a series fires by chance: an alert per input, each with its own "
                    "2024 maximum, fires somewhere most months; watch the largest PSI across inputs")
    if month >= "2025-07":
        raise Wrong(f"{month} is when repayment changed, which the outcomes show; the question asks when "
                    "the applications themselves changed")
    if month != EXPECTED["change_month"]:
        raise Wrong(f"{month} is not the first month over the threshold set on 2024")
    if feature not in features.RAW_FEATURES:
        raise Wrong(f"{feature!r} is a value, not an input: name the input (a column of the application)")
    if feature != EXPECTED["change_feature"]:
        raise Wrong(f"{feature} moved that month too, but it is not the input with the largest PSI")
    return "The channel mix moved: the partner's API. Whose applications are these, and are they the same risk?"


# --- 11.6 -------------------------------------------------------------------------------------

DECISIONS = ("retrain", "roll back", "hold")


def _difference(found: dict, name: str) -> float:
    value = _field(found, name, "11.6")
    if not isinstance(value, list) or len(value) != 3 or not all(isinstance(v, (int, float)) for v in value):
        raise Wrong(f"record {name} as [mean, lower, upper] per application, from gates.paired_difference "
                    f"(or the gate's Decision.difference), got {compare.describe(value)}")
    mean, low, high = value
    if not low <= mean <= high:
        raise Wrong(f"{name}: the mean should lie between its bounds")
    return float(mean)


@exercise("11.6", "Retrain, roll back or hold: decided and priced", workbook=WORKBOOK, submission=True,
          hints=["On 2026-01-01, `pipeline.run(as_of='2026-01-01', data=CAPSTONE_FILE, store=submission.store, "
                 "kind=champion_kind, reason=...)` retrains on the outcomes matured by then and gates the "
                 "candidate against the champion; its report says what the gate decided, and why.",
                 "Price each option on the same evaluation cohort: the retrained candidate's difference is "
                 "the gate's (`report.decision.difference`); for a rollback, the incumbent's costs minus the "
                 "champion's (`pipeline.evaluate(..., absolute=False)['costs']`, `gates.paired_difference`)."],
          reference=lambda: reference_submission(),
          mistakes=[(lambda: planted(**{"11.6": {"decision": "retrain"}}), "the gate did not promote"),
                    (lambda: planted(**{"11.6": {"decision": "roll back"}}), "dearer"),
                    (lambda: planted(**{"11.6": {"retrain": [EXPECTED["retrain_other_kind"], -26.8, 5.2]}}),
                     "the champion's kind"),
                    (lambda: planted(**{"11.6": {"rollback": "flipped"}}), "incumbent minus")])
def check_decision(answer) -> str:
    submission = _submission(answer)
    found = submission.answer("11.6")
    decision = str(_field(found, "decision", "11.6")).strip().lower()
    if decision not in DECISIONS:
        raise Wrong(f"decide one of {', '.join(map(repr, DECISIONS))}, got {compare.describe(decision)}")
    retrain, rollback = _difference(found, "retrain"), _difference(found, "rollback")
    if math.isclose(retrain, EXPECTED["retrain_other_kind"], abs_tol=0.05):
        raise Wrong("that candidate is the pipeline's default kind: retrain the champion's kind "
                    "(kind=champion_kind), so that the difference is the new data's, not a new model's")
    if not math.isclose(retrain, EXPECTED["retrain_difference"], abs_tol=0.5):
        raise Wrong("the retrained candidate's difference is not the gate's on the evaluation cohort of "
                    f"{DECISION_DAY}: run the pipeline as of that day, on the capstone's file")
    if math.isclose(rollback, -EXPECTED["rollback_difference"], abs_tol=0.5):
        raise Wrong("the rollback's price has the wrong sign: it is the incumbent minus the champion, the "
                    "cost of going back per application")
    if not math.isclose(rollback, EXPECTED["rollback_difference"], abs_tol=0.5):
        raise Wrong("the rollback's price is not the incumbent's cost minus the champion's on the same "
                    "evaluation cohort")
    if decision == "retrain":
        raise Wrong("the gate did not promote the retrained candidate: read its reasons. A rule the lender "
                    "set (the age groups' refusal gap) outweighs a saving")
    if decision == "roll back":
        raise Wrong("the incumbent is dearer than the champion on the newest cohort: a rollback would cost "
                    "money; roll back a champion that is worse than the one before")
    from mlecourse.lender.mlops import registry
    with store_view(submission):
        aliases = registry.aliases()
        challenger = (None if aliases.get(registry.CHALLENGER) is None
                      else registry.versions()[aliases[registry.CHALLENGER] - 1])
    if challenger is None or challenger.tags.get(registry.GATE) != "fail":
        raise Wrong(f"the registry holds no candidate the gate refused: run the pipeline as of {DECISION_DAY} "
                    "on this run's store, so that the refused candidate is kept with its verdict")
    return "Held, and priced: the saving given up is the price of the age policy; retrain when the shock's outcomes mature."


# --- 11.7 -------------------------------------------------------------------------------------

def logged_decisions(submission: Submission) -> pd.DataFrame:
    """2025's logged decisions with each applicant's group (from the file)."""
    from mlecourse.lender.monitoring import predlog

    with log_view(submission) as conn:
        logged = predlog.predictions(conn)
    logged = logged[logged["month"].between(*NEW_YEAR)]
    return logged.merge(_raw()[["application_id", "ethnicity"]].drop_duplicates("application_id"),
                        on="application_id", how="left")


@exercise("11.7", "The fairness review: the gap against the policy", workbook=WORKBOOK, submission=True,
          hints=["The review is of the decisions the service made in 2025: the prediction log's `decision`, "
                 "joined with each applicant's `ethnicity` from the file on `application_id`.",
                 "`fairness.refusal_gap(y, refuse, ethnicity)` is the minority's refusal rate minus the "
                 "majority's; the policy allows at most 0.05. `fairness.bootstrap_gap` gives its interval."],
          reference=lambda: reference_submission(),
          mistakes=[(lambda: planted(**{"11.7": {"gap": -EXPECTED["gap"]}}), "minority minus majority"),
                    (lambda: planted(**{"11.7": {"gap": 0.039, "meets_policy": True}}), "not the gap of the decisions"),
                    (lambda: planted(**{"11.7": {"meets_policy": True}}), "policy")])
def check_fairness(answer) -> str:
    from mlecourse.lender.responsible import fairness

    submission = _submission(answer)
    found = submission.answer("11.7")
    gap = compare.as_number(_field(found, "gap", "11.7"), "the refusal-rate gap")
    meets = _field(found, "meets_policy", "11.7")
    decisions = logged_decisions(submission)
    if decisions.empty:
        raise Wrong("the prediction log holds no decision of 2025: replay the year first (step 11.5)")
    refuse = (decisions["decision"] == "refuse").to_numpy()
    actual = fairness.refusal_gap(refuse, refuse, decisions["ethnicity"])
    if abs(actual) > 5e-3 and compare.agrees(gap, -actual, rel=1e-3, places=2):
        raise Wrong("that is the majority's rate minus the minority's: the gap is minority minus majority")
    if not compare.agrees(gap, actual, rel=1e-3, places=2):  # 0.0726 as 0.073 or 0.07, as a report rounds
        raise Wrong("that is not the gap of the decisions in the prediction log: audit the decisions the "
                    "service made in 2025, not a model's scores or another year")
    if not isinstance(meets, (bool, np.bool_)):
        raise Wrong(f"meets_policy is True or False, got {compare.describe(meets)}")
    if bool(meets) != (actual <= POLICY_GAP):
        raise Wrong(f"a gap of {actual:.3f} {'meets' if actual <= POLICY_GAP else 'breaks'} a policy of at "
                    f"most {POLICY_GAP}: check the verdict")
    return "The gap is measured on what the service decided, and compared with the policy in writing."


# --- 11.8 -------------------------------------------------------------------------------------

CARD_TITLE = re.compile(r"^# Model card: (?P<name>\S+) (?P<version>\S+)\s*$", re.M)


@exercise("11.8", "The model card of the registered champion", workbook=WORKBOOK, submission=True,
          hints=["Read the champion back from the registry (`registry.load_checked('champion')`): its card "
                 "is the artifact's, with the data fingerprint and the file's SHA-256.",
                 "Audit it on the newest window whose outcomes are known, and render the card with "
                 "`model_card.render(facts)`; write it to `submission.card`."],
          reference=lambda: reference_submission(),
          mistakes=[(lambda: planted(card="incumbent"), "not the registered champion"),
                    (lambda: planted(card="typed"), "fingerprint"),
                    (lambda: planted(card=None), "no model card")])
def check_card(answer) -> str:
    submission = _submission(answer)
    if not submission.card.is_file():
        raise Unanswered() if not (submission.folder / ANSWERS).is_file() else Wrong(
            f"no model card at {submission.card}: write model_card.render(...) there")
    text = submission.card.read_text(encoding="utf-8")
    title = CARD_TITLE.search(text)
    if title is None:
        raise Wrong("the card has no title '# Model card: <name> <version>': render it with model_card.render")
    from mlecourse.lender.mlops import registry
    with store_view(submission):
        if registry.aliases().get(registry.CHAMPION) is None:
            raise Wrong("the registry has no champion to compare the card with (step 11.3)")
        with tempfile.TemporaryDirectory(prefix="capstone-card-") as where:
            card = json.loads((registry.materialise(registry.CHAMPION, Path(where)) / "model.json").read_text())
    if title["version"] != card["version"]:
        raise Wrong(f"the card describes version {title['version']}, not the registered champion "
                    f"({card['version']}): render it from registry.load_checked('champion')")
    if card["training_data"]["fingerprint"][:16] not in text:
        raise Wrong("the card does not state the champion's training-data fingerprint: it was not "
                    "generated from the registered model's own card")
    if card["estimator"] not in text:
        raise Wrong(f"the card does not name the champion's estimator ({card['estimator']})")
    return "Generated from the registered model, so the card cannot drift from what serves."


# --- 11.9 -------------------------------------------------------------------------------------

# The write-up's sections: chapter 10's system-design steps (teaching.career.DESIGN_TEMPLATE; a
# test keeps them equal, and the course's machinery may not import the teaching helpers), then
# the decisions taken.
DESIGN_QUESTIONS = {
    "Requirements": "What decision does the model support, for whom, how fast, and how is success measured?",
    "Data": "Which data exist at decision time, how much, how clean, and when do labels arrive?",
    "Features": "Which inputs are allowed, available at decision time, and computed the same way in training "
                "and serving?",
    "Model": "Which baseline first, which model next, validated how, against which metric?",
    "Serving": "Batch or online, what latency and throughput, how is a new version rolled out?",
    "Monitoring": "What is watched before labels arrive, what after, and what triggers action?",
    "Fairness and compliance": "Which groups could be harmed, how is it measured, which rules apply?",
    "Decisions and their price": "What did you decide (champion, rollout, retraining, the fairness finding), "
                                 "what does each cost or save, and what would you do next?",
}
DESIGN_SECTIONS = tuple(DESIGN_QUESTIONS)
MAX_WORDS = 900  # a page
MIN_SECTION_WORDS = 25
MIN_NUMBERS = 8
TODO = "(your text)"


def design_template() -> str:
    """The write-up's skeleton: one heading per section, with the question it settles."""
    parts = ["# The lender's loan-default system: design and decisions\n"]
    for section, question in DESIGN_QUESTIONS.items():
        parts.append(f"## {section}\n\n<!-- {question} -->\n{TODO}\n")
    return "\n".join(parts)


def design_sections(text: str) -> dict[str, str]:
    sections, current = {}, None
    for line in text.splitlines():
        if line.startswith("## "):
            current = line[3:].strip()
            sections[current] = ""
        elif current is not None:
            sections[current] += line + "\n"
    return {k: re.sub(r"<!--.*?-->", "", v, flags=re.S).strip() for k, v in sections.items()}


def _words(text: str) -> int:
    return len(re.findall(r"[\w'%.,-]+", re.sub(r"<!--.*?-->", "", text, flags=re.S)))


@exercise("11.9", "A one-page system design, with the decisions and their price", workbook=WORKBOOK,
          submission=True,
          hints=["Answer each section's question in a short paragraph, with the numbers your run found "
                 "(rows quarantined, costs, the interval, the month, the gap).",
                 "Keep it to a page: a reviewer reads it in five minutes. The rubric grades the content; "
                 "this check only its form."],
          reference=lambda: reference_submission(),
          mistakes=[(lambda: planted(design="missing section"), "has no section"),
                    (lambda: planted(design="too long"), "a page"),
                    (lambda: planted(design="no numbers"), "numbers")])
def check_design(answer) -> str:
    submission = _submission(answer)
    if not submission.design.is_file():
        raise Wrong(f"no write-up at {submission.design}: the workbook's first cell writes its template")
    text = submission.design.read_text(encoding="utf-8")
    sections = design_sections(text)
    if all(not v or v == TODO for v in sections.values()):
        raise Unanswered()
    for name in DESIGN_SECTIONS:
        if name not in sections:
            raise Wrong(f"the write-up has no section '## {name}': keep the template's headings")
        if sections[name] == TODO or _words(sections[name]) < MIN_SECTION_WORDS:
            raise Wrong(f"the section '{name}' is empty or a line: answer its question in a paragraph")
    if _words(text) > MAX_WORDS:
        raise Wrong(f"the write-up has {_words(text)} words; a page is about {MAX_WORDS}: cut to what a "
                    "reviewer needs")
    numbers = re.findall(r"\d[\d,.]*", re.sub(r"^#.*$", "", text, flags=re.M))
    if len(numbers) < MIN_NUMBERS:
        raise Wrong("the write-up states too few numbers: a design review asks 'how much?' at every step")
    return "Its form is right; the rubric grades what it says (peer or instructor review)."


# --- the reference values, computed -----------------------------------------------------------

def bootstrap_difference(costs_new, costs_old) -> tuple[float, float, float]:
    """The mean of cost(new) - cost(old) per application and its 95% interval, resampling the
    applications in pairs: the gate's own bootstrap (``gates.paired_difference``), two-sided."""
    from mlecourse.lender.mlops import gates

    found = gates.paired_difference(costs_new, costs_old, confidence=1 - (1 - BOOTSTRAP["level"]) / 2,
                                    resamples=BOOTSTRAP["resamples"], seed=BOOTSTRAP["seed"])
    return found.mean, found.lower, found.upper


def expected_values() -> dict:
    """Every value of :data:`EXPECTED`, computed from the data with the reference procedure.

    In this process, without the store or the service the workbook goes through:
    the same windows, validation, models, canary, drift and audit give the same numbers.
    """
    from mlecourse.lender import features
    from mlecourse.lender.business import COSTS
    from mlecourse.lender.data import validation
    from mlecourse.lender.mlops import gates, pipeline, windows as cohorts
    from mlecourse.lender.modeling import estimators
    from mlecourse.lender.monitoring import alerting, drift
    from mlecourse.lender.responsible import fairness
    from mlecourse.lender.rollout import strategies

    raw, w = _raw(), windows()
    reference = validation.Reference.from_frame(w["train"])
    reports = validated_months(raw, *NEW_YEAR, reference)
    accepted = {m: features.clean_loans(r.accepted)[0] for m, r in reports.items()}
    month = _month(raw)
    out = {"quarantined": sum(len(r.quarantined) for r in reports.values()),
           "quarantined_problems": sum(len(r.problems) for r in reports.values()),
           "quarantined_after_cleaning": sum(len(validation.validate_batch(
               features.clean_loans(raw[month == m])[0], reference).quarantined) for m in reports),
           "quarantined_history": len(validation.validate_batch(raw[raw["application_date"] < "2025-01-01"])
                                      .quarantined),
           "retries": sum(int((r.problems["check"] == "duplicate of an earlier row under another id").sum())
                          for r in reports.values()),
           "scored": sum(len(a) for a in accepted.values())}

    models = {kind: estimators.train_model(w["train"], kind) for kind in ("logistic", "tree", "boosting")}
    incumbent = estimators.train_model(w["incumbent"], "boosting")
    measured = {k: pipeline.evaluate(m, w["evaluate"], absolute=False) for k, m in models.items()}
    costs = {k: m["cost"] for k, m in measured.items()}
    champion = min(costs, key=costs.get)
    on_incumbent = pipeline.evaluate(incumbent, w["evaluate"], absolute=False)
    _, low, high = bootstrap_difference(measured[champion]["costs"], on_incumbent["costs"])
    out |= {"champion": champion, "champion_cost": costs[champion], "incumbent_cost": on_incumbent["cost"],
            "candidate_costs": {k: v for k, v in costs.items() if k != champion},
            "training_cost": round(pipeline.evaluate(models[champion], w["train"], absolute=False)["cost"], 1),
            "interval_width": round(high - low, 1)}

    cohort = cohorts.cohorts(pipeline.validate(raw), DECISION_DAY)
    on_cohort = pipeline.evaluate(models[champion], cohort.evaluate, absolute=False)["costs"]
    retrained = {kind: pipeline.evaluate(pipeline.train(cohort.train, kind), cohort.evaluate, absolute=False)
                 for kind in (champion, "boosting")}
    gate = gates.Rules()
    out |= {"decision": "hold",
            "retrain_difference": round(gates.paired_difference(
                retrained[champion]["costs"], on_cohort, confidence=gate.confidence, resamples=gate.resamples,
                seed=gate.seed).mean, 1),
            "retrain_other_kind": round(gates.paired_difference(
                retrained["boosting"]["costs"], on_cohort, confidence=gate.confidence, resamples=gate.resamples,
                seed=gate.seed).mean, 1),
            "rollback_difference": round(bootstrap_difference(
                pipeline.evaluate(incumbent, cohort.evaluate, absolute=False)["costs"], on_cohort)[0], 1)}

    traffic = {m: accepted[m] for m in _months(*CANARY_MONTHS)}
    router = strategies.Router(strategies.model_predictor(incumbent), strategies.model_predictor(models[champion]))
    canary = strategies.run_canary(router, traffic, guards=strategies.Guards(max_p95_ms=math.inf))
    out |= {"canary_decision": canary["decision"].iloc[-1], "canary_month": canary["batch"].iloc[-1]}

    year = pd.concat(accepted.values(), ignore_index=True)
    production = pd.concat([w["year_before"], year], ignore_index=True)
    psi = drift.drift_table(w["train"], production, features.RAW_FEATURES,
                            categorical=features.CATEGORICAL).pivot(index="month", columns="feature", values="psi")
    before = psi.index < NEW_YEAR[0]
    largest = psi.max(axis=1)
    found = alerting.detection(largest, alerting.threshold_for_budget(largest[before], 0), NEW_YEAR[0])
    per_feature = min(alerting.detection(psi[f], alerting.threshold_for_budget(psi.loc[before, f], 0),
                                         NEW_YEAR[0])["flagged_month"] or "9999" for f in psi.columns)
    decisions = models[champion].predict_proba(year[list(features.RAW_FEATURES)])[:, 1] > COSTS.threshold
    out |= {"change_month": found["flagged_month"], "change_feature": psi.loc[found["flagged_month"]].idxmax(),
            "per_feature_month": per_feature,
            "gap": round(fairness.refusal_gap(decisions, decisions, year["ethnicity"]), 4)}
    return out


# --- what the instructor knows --------------------------------------------------------------

def truths() -> list[tuple[str, str]]:
    """The case's events with their dates and sizes, and each step's reference answer.

    The instructor notes render them (``{capstone-truths}``); the workshop build proves
    none of them reaches a page an attendee sees (:func:`leak_strings`).
    """
    from mlecourse.lender.data import loans as spec

    partner, shock, e = spec.CAPSTONE.partner, spec.CAPSTONE.shock, EXPECTED
    return [
        ("The partner's API goes live", f"{partner.start}, adding {partner.share:.0%} of the regular volume, "
                                        "all through the broker channel"),
        ("Its applicants", f"mean age {partner.age_mean:g}, incomes x{partner.income_factor:g}, existing debts "
                           f"x{partner.debt_factor:g}, {partner.minority_share:.0%} in the minority group"),
        ("Its pricing", f"+{partner.fee:.1f} points on every loan, +{partner.postcode_premium:.1f} more in the "
                        f"districts {', '.join(spec.MINORITY_DISTRICTS)}"),
        ("Its faulty release", f"{partner.retry_from} to {partner.retry_until}: {partner.retry_rate:.0%} of its "
                               f"requests stored twice; {e['retries']} retries quarantined"),
        ("The shock to repayment", f"loans from {shock.start}: +{shock.intercept:g} on the log-odds, "
                                   f"+{shock.dti:g} per unit of debt-to-income"),
        ("11.1 rows quarantined in 2025", f"{e['quarantined']} of {e['scored'] + e['quarantined']:,}, "
                                          "validated month by month"),
        ("11.2 champion", f"{e['champion']} at {e['champion_cost']:.1f} per application against the "
                          f"incumbent's {e['incumbent_cost']:.1f}; its 95% interval about "
                          f"{e['interval_width']:.1f} wide, wholly below zero"),
        ("11.4 canary", f"{e['canary_decision']} in {e['canary_month']}, after 5%, 25% and 50%"),
        ("11.5 change", f"{e['change_month']} on {e['change_feature']} (an alert per input fires in "
                        f"{e['per_feature_month']}, by chance)"),
        ("11.6 decision", f"{e['decision']} on {DECISION_DAY}: the retrained candidate saves "
                          f"{-e['retrain_difference']:.1f} per application but the gate refuses it (the age "
                          f"groups' gap); a rollback would cost {e['rollback_difference']:.1f}"),
        ("11.7 gap", f"{e['gap']:.4f} in 2025's decisions, above the policy's {POLICY_GAP}"),
    ]


def spec_dates() -> tuple[str, ...]:
    """The dates of the case's events: a learner's page must not name one."""
    from mlecourse.lender.data import loans as spec

    partner, shock = spec.CAPSTONE.partner, spec.CAPSTONE.shock
    return partner.start, partner.retry_from, partner.retry_until, shock.start


def leak_strings() -> set[str]:
    """Text that would give the capstone away if a page an attendee sees held it."""
    return {value for _, value in truths()}


# --- the reference, and wrong submissions made from it ---------------------------------------

_REFERENCE: dict[str, Path] = {}


def reference_submission() -> Submission:
    """The reference solution's outputs: ``solutions/11_capstone.ipynb`` run once per process
    in a temporary folder (about a minute). The tests grade it, and plant mistakes in copies."""
    if "folder" not in _REFERENCE:
        from mlecourse.paths import SOLUTIONS_DIR

        import nbformat
        from nbclient import NotebookClient

        folder = Path(tempfile.mkdtemp(prefix="capstone-reference-"))
        notebook = nbformat.read(SOLUTIONS_DIR / WORKBOOK, as_version=4)
        env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
        NotebookClient(notebook, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(folder)}}).execute(env=env)
        _REFERENCE["folder"] = folder / "capstone"
    return Submission(_REFERENCE["folder"])


def planted(**changes) -> Submission:
    """A copy of the reference submission with one planted mistake.

    ``changes``: ``"11.x": {...}`` overwrites fields of a step's answers (``interval="narrow"``
    makes a tenth of the real one); ``answer_version``/``answer_schema`` spoil 11.3's recorded
    answer; ``card`` replaces the model card ("incumbent": the incumbent's, "typed": written by
    hand, None: removed); ``design`` spoils the write-up; ``drop_log`` removes the prediction log.
    """
    source = reference_submission().folder
    folder = Path(tempfile.mkdtemp(prefix="capstone-planted-")) / "capstone"
    shutil.copytree(source, folder)
    submission = Submission(folder)
    answers = submission.answers()
    for key, value in changes.items():
        if re.fullmatch(r"11\.\d+", key):
            step = answers[key]
            if value.get("interval") == "narrow":  # a tenth of the width, around the same difference
                low, high = step["interval"]
                half = (high - low) / 20
                value = {**value, "interval": [step["difference"] - half, step["difference"] + half]}
            step.update(value)
    if changes.get("11.6", {}).get("rollback") == "flipped":
        mean, low, high = reference_submission().answer("11.6")["rollback"]
        answers["11.6"]["rollback"] = [-mean, -high, -low]
    if "canary" in changes:
        answers["11.4"]["steps"] = _planted_canary(answers["11.4"]["steps"], changes["canary"])
    if "answer_version" in changes:
        answers["11.3"]["answer"]["model_version"] = changes["answer_version"]
    if changes.get("answer_schema"):
        answers["11.3"]["answer"] = {"probabilities": [p["probability_of_default"]
                                                       for p in answers["11.3"]["answer"]["predictions"]]}
    (folder / ANSWERS).write_text(json.dumps(answers, indent=1), encoding="utf-8")
    _plant_files(submission, changes)
    return submission


def _planted_canary(steps: list[dict], mistake: str) -> list[dict]:
    if mistake == "errors":  # raw rows sent: the service refuses the invalid ones
        return [{**steps[0], "breached": "error rate", "decision": "rollback"}]
    if mistake == "unfinished":  # too few months of traffic
        return steps[:-1]
    return [{**s, "weight": w} for s, w in zip(steps[1:], CANARY_STEPS[1:])]  # started at 25%


def _plant_files(submission: Submission, changes: dict) -> None:
    if "card" in changes:
        text = submission.card.read_text(encoding="utf-8")
        if changes["card"] is None:
            submission.card.unlink()
        elif changes["card"] == "incumbent":
            submission.card.write_text(CARD_TITLE.sub("# Model card: loan-default 2024.1", text, count=1))
        else:
            submission.card.write_text(re.sub(r"`[0-9a-f]{16}`", "`0123456789abcdef`", text))
    if "design" in changes:
        text = submission.design.read_text(encoding="utf-8")
        if changes["design"] == "missing section":
            text = text.replace("## Monitoring", "## Watching")
        elif changes["design"] == "too long":
            text += "\n" + " ".join(["More words."] * MAX_WORDS)
        else:
            text = re.sub(r"\d", "", text)
        submission.design.write_text(text)
    if changes.get("drop_log"):
        submission.log.unlink()
