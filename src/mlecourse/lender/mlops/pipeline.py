"""The lender's training pipeline: validate -> train -> evaluate -> gate -> register -> promote.

One function per step, each taking what the previous one made and
returning it with the line it adds to the run's report, so an orchestrator
can run them as tasks (``make pipeline`` runs each as a Dagster asset,
:mod:`mlecourse.lender.mlops.orchestration`; :func:`run` calls them in order,
which is what an orchestrator does underneath). The pipeline is idempotent: the same data, code and
settings give the same model, which the registry already holds, so a rerun
registers nothing new and promotes nothing twice.

Anyone may start it with a ``reason``: a person ("manual"), a schedule, or
the monitoring chapter's retraining trigger (``run(reason="drift: ...")``);
the reason is recorded on the run and the model version.

A candidate that fails the gate is registered with the alias
``challenger`` (so the evidence stays inspectable) but not promoted, and
the report says why.

Guards, for a pipeline that people and schedules start at will:

* before training, the labels are checked (:func:`check_labels`): the
  champion must rank the new labels about as well as its card says it did.
  The gate re-scores the champion on the new data, which is fair, but on
  scrambled labels both models score near chance and the candidate looks
  "as good as the champion";
* the gate's verdict is recorded on the version it judged, and only a pass
  promotes (:func:`registry.promote` checks);
* registering and promoting hold the registry's lock, so two runs started at
  once on the same data register one version; the second says "already
  registered". A run whose champion changed while it was being judged does
  not promote: it was judged against a model that no longer serves;
* a data file failing its checksum, or a store that cannot be read, stops
  the command in one line that names the file and how to restore it.
"""
from __future__ import annotations

import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from mlecourse.lender import business, features
from mlecourse.lender.data import fingerprints, validation
from mlecourse.lender.mlops import gates, registry, tracking
from mlecourse.lender.modeling import artifact, behaviour, estimators, reproducibility
from mlecourse.lender.responsible import fairness
from mlecourse.lender.data.loading import DataFileError, load_loans

AGE_GROUPS = (0, 30, 60, 200)  # < 30, 30-59, 60 and over
# With no champion, the label check's reference is the bureau's credit score, a model built by
# someone else and shipped in every application: higher scores must still mean fewer defaults.
REFERENCE_SCORE = "credit_score"
RECORDED_AUC = ("valid_auc", "auc")  # where a card records the AUC on the evaluation window


class PipelineError(RuntimeError):
    """A step could not run; the message names the step and why."""


@dataclass
class Report:
    reason: str
    steps: list[str] = field(default_factory=list)
    version: int | None = None
    decision: gates.Decision | None = None
    metrics: dict = field(default_factory=dict)
    aliases: dict = field(default_factory=dict)

    def say(self, line: str) -> None:
        self.steps.append(line)

    def __str__(self) -> str:
        return "\n".join([f"pipeline run ({self.reason})", *(f"  {s}" for s in self.steps)])


# --- the steps ---------------------------------------------------------------------

def validate(raw: pd.DataFrame) -> pd.DataFrame:
    """Chapter 3's validation on the whole history: stop if the batch is rejected."""
    report = validation.validate_batch(raw)
    if report.rejected:
        raise PipelineError("validate: the data was rejected: " + "; ".join(report.reasons))
    clean, _ = features.clean_loans(report.accepted)
    return clean


def split(clean: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train on 2019-2020, evaluate on 2021: the windows of chapter 4."""
    train, valid, _test = features.split_by_date(clean)
    return train, valid


def train(train_frame: pd.DataFrame, kind: str = "boosting", params: dict | None = None):
    return estimators.train_model(train_frame, kind, **(params or {}))


def age_group(frame: pd.DataFrame) -> pd.Series:
    """"<30", "30-59", "60+", or "unknown" (a missing age is a group of its own, not dropped)."""
    groups = pd.cut(frame["age"], AGE_GROUPS, right=False, labels=["<30", "30-59", "60+"])
    return groups.astype(object).where(groups.notna(), "unknown").astype(str)


# A group with fewer applicants than this is left out of the gate's fairness rule:
# its refusal rate is too noisy to judge a model by (the standard error of a rate
# near 0.3 on 100 applicants is 4.6 points). The audit of chapter 8 reports it.
MIN_GROUP = 100


def parity_gap(y, refuse, groups) -> float:
    """The largest gap in refusal (equally, approval) rates between age groups, by the
    fairness audit (:func:`fairness.disparities`), over groups of at least MIN_GROUP applicants."""
    groups = pd.Series(np.asarray(groups))
    counts = groups.value_counts()
    kept = groups.isin(counts[counts >= MIN_GROUP].index).to_numpy()
    with warnings.catch_warnings():  # fairlearn's pandas warnings would reach stderr
        warnings.simplefilter("ignore")
        found = fairness.disparities(np.asarray(y)[kept], np.asarray(refuse)[kept], groups[kept])
    return found["approval_gap"]


def evaluate(model, frame: pd.DataFrame, threshold: float = business.COSTS.threshold) -> dict:
    """What the gate judges: cost, AUC, fairness gap, behavioural failures, on ``frame``."""
    X, y = features.features_and_target(frame)
    scores = model.predict_proba(X)[:, 1]
    refuse = scores > threshold
    findings = behaviour.suite(model, frame.iloc[:2000])
    return {"cost": business.decision_cost(y, refuse), "auc": float(roc_auc_score(y, scores)),
            "parity_gap": parity_gap(y, refuse, age_group(frame)),
            "behaviour_failures": float(sum(not f.passed for f in findings)),
            "refusal_rate": float(refuse.mean())}


@dataclass
class Champion:
    """The serving model, as the pipeline judges against it."""
    version: int
    model: object
    card: dict

    @property
    def recorded_auc(self) -> float | None:
        metrics = self.card.get("metrics", {})
        return next((float(metrics[k]) for k in RECORDED_AUC if k in metrics), None)


def current_champion() -> Champion | None:
    """The version behind ``champion`` with its model, or None if no model serves yet."""
    version = registry.aliases().get(registry.CHAMPION)
    if version is None:
        return None
    model, card = registry.load_checked(registry.CHAMPION)
    return Champion(version, model, card)


def check_labels(frame: pd.DataFrame, champion: Champion | None) -> str:
    """Do the labels of ``frame`` relate to the inputs as before? The report's line, or PipelineError.

    The champion's AUC on these labels against the AUC its card recorded;
    with no champion (or none recorded), the bureau score against chance.
    """
    X, y = features.features_and_target(frame)
    if champion is not None and champion.recorded_auc is not None:
        who, note, how = f"champion (version {champion.version})", "", "as before"
        found = validation.check_labels(y, champion.model.predict_proba(X)[:, 1], champion.recorded_auc)
    else:
        why = "no champion yet" if champion is None else f"version {champion.version} records no AUC"
        who, how = f"bureau score ({REFERENCE_SCORE}: {why})", "at all"
        note = "; a weaker check: it catches labels unrelated to the inputs, not a partial mix-up"
        found = validation.check_labels(y, -X[REFERENCE_SCORE])
    if not found.passed:
        raise PipelineError(f"validate: the labels no longer relate to the inputs {how}: the "
                            f"{who} scores {found}; were they shuffled, shifted or joined on the wrong "
                            "key? Fix the labels, or, if the world changed, decide that before retraining")
    return f"labels: the {who} scores {found}{note}"


def champion_metrics(frame: pd.DataFrame, champion: Champion | None = None) -> dict | None:
    """The serving model, measured again on the same window as the candidate (or None)."""
    champion = champion or current_champion()
    return None if champion is None else evaluate(champion.model, frame)


def package(model, train_frame: pd.DataFrame, metrics: dict, folder: Path, version: str) -> Path:
    """Chapter 5's model directory; the card's date is the data's, so a rerun writes the same card."""
    created = f"{train_frame[features.DATE].max().date()}T00:00:00+00:00"
    return artifact.save_model(model, folder, version=version, train_frame=train_frame,
                               metrics=metrics, created=created)


# --- the whole run, step by step -----------------------------------------------------
# Each step returns what it made and the line it adds to the report, so an
# orchestrator can run it as a task of its own and the report is the same.

@dataclass
class Settings:
    """What a run is asked to do; the same for every step."""
    reason: str = "manual"
    store: object = tracking.DEFAULT_STORE
    kind: str = "boosting"
    params: dict | None = None
    rules: gates.Rules = field(default_factory=gates.Rules)
    data: object = None  # another loans file (checked against the SHA256SUMS beside it)

    def __post_init__(self):
        if not str(self.reason).strip():
            raise PipelineError("give a reason for the run (e.g. 'manual', 'schedule', 'drift: ...')")


@dataclass
class Step:
    value: object
    line: str


def validate_step(settings: Settings, raw: pd.DataFrame | None = None) -> Step:
    """The accepted, cleaned history (first, so that a bad file leaves no store behind)."""
    clean = validate(load_loans(settings.data) if raw is None else raw)
    return Step(clean, f"validate: {len(clean)} rows accepted")


def champion_step(settings: Settings, windows) -> Step:
    """The serving model, after checking that the new labels still relate to the inputs."""
    tracking.use_store(settings.store)
    serving = current_champion()
    return Step(serving, check_labels(windows[1], serving))


def train_step(settings: Settings, windows) -> Step:
    model = train(windows[0], settings.kind, settings.params)
    return Step(model, f"train: {settings.kind} on {len(windows[0])} rows")


def evaluate_step(settings: Settings, model, windows) -> Step:
    metrics = evaluate(model, windows[1])
    return Step(metrics, f"evaluate: cost {metrics['cost']:.1f}, AUC {metrics['auc']:.4f}, parity gap "
                f"{metrics['parity_gap']:.3f}, {int(metrics['behaviour_failures'])} behavioural failures")


def gate_step(settings: Settings, metrics: dict, champion: Champion | None, windows) -> Step:
    decision = gates.decide(metrics, champion_metrics(windows[1], champion), settings.rules)
    return Step(decision, f"gate: {decision}")


def register_step(settings: Settings, model, windows, metrics: dict, decision: gates.Decision,
                  champion: Champion | None) -> Report:
    """Log, register once, record the verdict, move the aliases; the report of the whole run."""
    report = Report(str(settings.reason), metrics=metrics, decision=decision)
    _register_and_promote(report, model, windows[0], settings.kind, settings.params,
                          judged_against=None if champion is None else champion.version)
    return report


def assemble(steps: list[Step], report: Report) -> Report:
    """The run's report: each step's line, then what registering and promoting said."""
    report.steps[:0] = [step.line for step in steps]
    return report


def run(*, reason: str = "manual", store=tracking.DEFAULT_STORE, kind: str = "boosting",
        params: dict | None = None, raw: pd.DataFrame | None = None,
        clean: pd.DataFrame | None = None, rules: gates.Rules = gates.Rules(),
        data=None) -> Report:
    """Run every step once, in order; returns what happened. ``reason``: who or what asked for it.

    ``raw`` replaces the loans file (e.g. a corrupted batch, to see validation
    stop the run); ``clean`` skips the batch validation; ``data`` is another
    loans file, checked against the ``SHA256SUMS`` beside it.
    """
    settings = Settings(reason, store, kind, params, rules, data)
    validated = validate_step(settings, raw) if clean is None else Step(clean, f"validate: {len(clean)} rows given")
    windows = split(validated.value)
    champion = champion_step(settings, windows)
    model = train_step(settings, windows)
    metrics = evaluate_step(settings, model.value, windows)
    decision = gate_step(settings, metrics.value, champion.value, windows)
    report = register_step(settings, model.value, windows, metrics.value, decision.value, champion.value)
    return assemble([validated, champion, model, metrics, decision], report)


def _register_and_promote(report: Report, model, train_frame, kind: str, params: dict | None,
                          judged_against: int | None) -> None:
    """Log the run, register the model once, record the gate's verdict, move the aliases."""
    import mlflow

    decision, metrics = report.decision, report.metrics
    key = f"{fingerprints.data_fingerprint(train_frame)[:16]}-{reproducibility.model_digest(model)[:16]}"
    with mlflow.start_run(run_name=f"pipeline {kind}"):
        mlflow.log_params({"kind": kind, **(params or {})})
        mlflow.log_metrics(metrics)
        mlflow.set_tags({**tracking.provenance(train_frame), "reason": report.reason,
                         "gate": "pass" if decision.promote else "fail"})
        model_dir = package(model, train_frame, metrics, Path(tempfile.mkdtemp(prefix="candidate-")),
                            version=key[:8])
        with registry.lock():  # from "is it registered?" to the last alias move: one run at a time
            existing = registry.find_key(key)
            report.version = registry.register(model_dir, key=key, tags={"reason": report.reason})
            report.say(f"register: version {report.version}" + (
                " already registered (same data, same model): nothing new" if existing else ""))
            registry.record_gate(report.version, decision.promote, str(decision))
            report.say(_promote(report.version, decision, judged_against))
            report.aliases = registry.aliases()


def _promote(version: int, decision: gates.Decision, judged_against: int | None) -> str:
    """Move the aliases as the gate decided (under the registry's lock); the report's line."""
    champion = registry.aliases().get(registry.CHAMPION)
    if decision.promote and champion == version:
        return f"promote: version {version} is already the champion; nothing to do"
    if not decision.promote:
        registry.set_alias(registry.CHALLENGER, version)
        return f"not promoted: version {version} is the challenger; the champion stays"
    if champion != judged_against:
        registry.set_alias(registry.CHALLENGER, version)
        return (f"not promoted: the champion became version {champion} while this run judged "
                f"against {judged_against or 'no champion'}; version {version} is the challenger; "
                "run the pipeline again to judge it against the new champion")
    try:
        aliases = registry.promote(version)
    except registry.RegistryError as refused:  # e.g. it was rolled back: a person decides
        registry.set_alias(registry.CHALLENGER, version)
        return f"not promoted: {refused}"
    return f"promote: champion is version {aliases[registry.CHAMPION]}"


# What stops a run with a message for a person (anything else is a bug: its traceback helps).
STOPS = (PipelineError, gates.GateError, registry.RegistryError, artifact.ArtifactError,
         tracking.TrackingError, DataFileError)
