"""The lender's training pipeline: validate -> windows -> train -> evaluate -> gate -> register -> promote.

One function per step, each taking what the previous one made and
returning it with the line it adds to the run's report, so an orchestrator
can run them as tasks (``make pipeline`` runs each as a Dagster asset,
:mod:`mlecourse.lender.mlops.orchestration`; :func:`run` calls them in order,
which is what an orchestrator does underneath). The pipeline is idempotent: the same data, code and
settings give the same model, which the registry already holds, so a rerun
registers nothing new and promotes nothing twice.

**As of a date.** ``run(as_of="2023-06-30")`` does what a lender can do on
that day: it trains only on loans whose outcome had matured by then, over an
expanding (or rolling) window, and judges the candidate and the serving
model on the newest matured cohort, which neither was chosen on
(:mod:`mlecourse.lender.mlops.windows`). Without a date it uses the course's
teaching split (train 2019-2020, evaluate 2021). A run whose newest cohort
is not newer than what the champion learnt from or was judged on has nothing
to judge, and says so (:class:`NothingNew`).

**Outcomes a lender never sees.** Rows may carry a ``propensity`` (the
probability that the loan was made, so that its outcome is known; see
:mod:`mlecourse.lender.monitoring.outcomes`): evaluation then weighs each
row by its inverse, so that the few refused-but-funded loans of a random
holdout stand for all the refused. Without the column every row weighs one.

Anyone may start it with a ``reason``: a person ("manual"), a schedule, or
the monitoring chapter's retraining trigger (``run(reason="drift: ...")``);
the reason is recorded on the run and the model version.

A candidate that fails the gate is registered with the alias
``challenger`` (so the evidence stays inspectable) but not promoted, and
the report says why.

Guards, for a pipeline that people and schedules start at will:

* before training, the labels are checked (:func:`check_labels`): the
  champion must rank the new labels about as well as its card says it did on
  the window it was evaluated on. The gate re-scores the champion on the new
  data, which is fair, but on scrambled labels both models score near chance
  and the candidate looks "as good as the champion";
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
from mlecourse.lender.mlops import gates, registry, tracking, windows as cohorts
from mlecourse.lender.modeling import artifact, behaviour, model_cache, reproducibility
from mlecourse.lender.responsible import fairness
from mlecourse.lender.data.loading import DataFileError, load_loans

AGE_GROUPS = (0, 30, 60, 200)  # < 30, 30-59, 60 and over
# With no champion, the label check's reference is the bureau's credit score, a model built by
# someone else and shipped in every application: higher scores must still mean fewer defaults.
REFERENCE_SCORE = "credit_score"
RECORDED_AUC = ("valid_auc", "auc")  # where a card records the AUC on the evaluation window
PROPENSITY = "propensity"  # the chance that a row's loan was made (its outcome known); absent: 1


class PipelineError(RuntimeError):
    """A step could not run; the message names the step and why."""


class NothingNew(PipelineError):
    """No matured cohort is newer than what the champion learnt from or was judged on."""


@dataclass
class Report:
    reason: str
    steps: list[str] = field(default_factory=list)
    version: int | None = None
    decision: gates.Decision | None = None
    metrics: dict = field(default_factory=dict)
    aliases: dict = field(default_factory=dict)
    windows: dict = field(default_factory=dict)  # as of, training window, evaluation cohort

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


def split(clean: pd.DataFrame, as_of=None, *, train_months: int | None = cohorts.TRAIN_MONTHS,
          eval_months: int = cohorts.EVAL_MONTHS) -> cohorts.Windows:
    """The training window and the evaluation cohort as of ``as_of`` (None: train on 2019-2020,
    evaluate on 2021, the windows of chapter 4)."""
    if as_of is None:
        return cohorts.fixed(clean)
    try:
        return cohorts.cohorts(clean, as_of, train_months=train_months, eval_months=eval_months)
    except cohorts.WindowError as error:
        raise PipelineError(f"windows: {error}") from None


def train(train_frame: pd.DataFrame, kind: str = "boosting", params: dict | None = None):
    """A model fitted on ``train_frame``, or the same fit from the model cache (same rows, code, libraries)."""
    return model_cache.trained(train_frame, kind, **(params or {}))


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


def weights(frame: pd.DataFrame) -> np.ndarray:
    """Each row's weight: the inverse of the probability that its outcome is known (1 if not given)."""
    if PROPENSITY not in frame:
        return np.ones(len(frame))
    propensity = frame[PROPENSITY].to_numpy(float)
    if not (propensity > 0).all():
        raise PipelineError("evaluate: a row has no chance of an outcome (propensity 0) yet has one")
    return 1.0 / propensity


def evaluate(model, frame: pd.DataFrame, threshold: float = business.COSTS.threshold, *,
             absolute: bool = True) -> dict:
    """What the gate judges, on ``frame``: the cost of each application's decision (``costs``,
    with the rows' ``weights``), their weighted mean and AUC, the refusal rate, the refusal-rate
    gap between age groups; with ``absolute``, also the behavioural failures (a rule on the
    candidate only: the champion passed it when promoted)."""
    X, y = features.features_and_target(frame)
    scores = model.predict_proba(X)[:, 1]
    refuse = scores > threshold
    w = weights(frame)
    costs = np.where(refuse, (1 - y) * business.COSTS.wrong_refusal, y * business.COSTS.missed_default)
    metrics = {"cost": float(np.average(costs, weights=w)),
               "auc": float(roc_auc_score(y, scores, sample_weight=w)),
               "refusal_rate": float(np.average(refuse, weights=w)),
               "parity_gap": parity_gap(y, refuse, age_group(frame)), "costs": costs, "weights": w}
    if absolute:
        findings = behaviour.suite(model, frame.iloc[:2000])
        metrics["behaviour_failures"] = float(sum(not f.passed for f in findings))
    return metrics


def scalars(metrics: dict) -> dict:
    """The metrics a run or a card records: the numbers, not the per-application arrays."""
    return {k: float(v) for k, v in metrics.items() if np.isscalar(v) and v is not None}


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

    @property
    def recorded_on(self) -> str:
        """The window its card's AUC was measured on, in words."""
        window = self.card.get("evaluation") or {}
        if "first" in window:
            return f"{window['first']} to {window['last']}"
        return "its evaluation window"

    @property
    def last_seen(self) -> str | None:
        """The newest date it learnt from or was judged on: a cohort up to here cannot judge it."""
        dates = [self.card.get("training_data", {}).get("last_date"),
                 (self.card.get("evaluation") or {}).get("last")]
        dates = [d for d in dates if d]
        return max(dates) if dates else None


def current_champion() -> Champion | None:
    """The version behind ``champion`` with its model, or None if no model serves yet."""
    version = registry.aliases().get(registry.CHAMPION)
    if version is None:
        return None
    model, card = registry.load_checked(registry.CHAMPION)
    return Champion(version, model, card)


def check_labels(frame: pd.DataFrame, champion: Champion | None) -> str:
    """Do the labels of ``frame`` relate to the inputs as before? The report's line, or PipelineError.

    The champion's AUC on these labels against the AUC its card recorded (on
    the window it was evaluated on); with no champion (or none recorded), the
    bureau score against chance. Rows are weighted as :func:`evaluate` weighs them.
    """
    X, y = features.features_and_target(frame)
    w = weights(frame)
    if champion is not None and champion.recorded_auc is not None:
        who, how = f"champion (version {champion.version})", "as before"
        note = f" (recorded on {champion.recorded_on})"
        found = validation.check_labels(y, champion.model.predict_proba(X)[:, 1], champion.recorded_auc,
                                        weights=w)
    else:
        why = "no champion yet" if champion is None else f"version {champion.version} records no AUC"
        who, how = f"bureau score ({REFERENCE_SCORE}: {why})", "at all"
        note = "; a weaker check: it catches labels unrelated to the inputs, not a partial mix-up"
        found = validation.check_labels(y, -X[REFERENCE_SCORE], weights=w)
    if not found.passed:
        raise PipelineError(f"validate: the labels no longer relate to the inputs {how}: the "
                            f"{who} scores {found}; were they shuffled, shifted or joined on the wrong "
                            "key? Fix the labels, or, if the world changed, decide that before retraining")
    return f"labels: the {who} scores {found}{note}"


def champion_metrics(frame: pd.DataFrame, champion: Champion | None = None) -> dict | None:
    """The serving model, measured again on the same window as the candidate (or None); not its
    behaviour, a rule on the candidate."""
    champion = champion or current_champion()
    return None if champion is None else evaluate(champion.model, frame, absolute=False)


def check_new(windows: cohorts.Windows, champion: Champion | None) -> None:
    """Stop (NothingNew) if the evaluation cohort is not newer than all the champion has seen.

    A rerun on the champion's own training rows goes through: it makes the
    same model, which the registry already holds (the pipeline is idempotent).
    """
    seen = None if champion is None else champion.last_seen
    first = windows.evaluate[features.DATE].min()
    if seen is None or first > pd.Timestamp(seen):
        return
    rerun = champion.card.get("training_data", {}).get("fingerprint") == \
        fingerprints.data_fingerprint(windows.train)
    if not rerun:
        raise NothingNew(f"nothing new to judge on: the newest matured cohort starts {first.date()}, and the "
                         f"champion (version {champion.version}) learnt from or was judged on loans up to "
                         f"{seen}; run again once newer outcomes have matured")


def package(model, windows: cohorts.Windows, metrics: dict, folder: Path, version: str) -> Path:
    """Chapter 5's model directory, its card recording the window its AUC was measured on;
    the card's date is the data's, so a rerun writes the same card."""
    train_frame = windows.train
    created = f"{train_frame[features.DATE].max().date()}T00:00:00+00:00"
    summary = windows.summary()
    evaluation = {"first": summary["evaluate_first"], "last": summary["evaluate_last"],
                  "rows": summary["evaluate_rows"], "as_of": summary["as_of"],
                  "weighted": bool(PROPENSITY in windows.evaluate)}
    return artifact.save_model(model, folder, version=version, train_frame=train_frame,
                               metrics=scalars(metrics), created=created, evaluation=evaluation)


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
    as_of: object = None  # the day of the run: only outcomes matured by then (None: the teaching split)
    train_months: int | None = cohorts.TRAIN_MONTHS  # None: expanding window; a number: rolling
    eval_months: int = cohorts.EVAL_MONTHS

    def __post_init__(self):
        if not str(self.reason).strip():
            raise PipelineError("give a reason for the run (e.g. 'manual', 'schedule', 'drift: ...')")
        if self.as_of is not None:
            try:
                self.as_of = str(pd.Timestamp(self.as_of).date())
            except (ValueError, TypeError):
                raise PipelineError(f"as_of must be a date such as 2023-06-30, got {self.as_of!r}") from None


@dataclass
class Step:
    value: object
    line: str


def validate_step(settings: Settings, raw: pd.DataFrame | None = None) -> Step:
    """The accepted, cleaned history (first, so that a bad file leaves no store behind)."""
    clean = validate(load_loans(settings.data) if raw is None else raw)
    return Step(clean, f"validate: {len(clean)} rows accepted")


def windows_step(settings: Settings, clean: pd.DataFrame) -> Step:
    """The training window and the evaluation cohort, as of the run's date."""
    found = split(clean, settings.as_of, train_months=settings.train_months,
                  eval_months=settings.eval_months)
    return Step(found, f"windows: {found}")


def champion_step(settings: Settings, windows: cohorts.Windows) -> Step:
    """The serving model, after checking that the new labels still relate to the inputs and that
    there is something new to judge on."""
    tracking.use_store(settings.store)
    serving = current_champion()
    line = check_labels(windows.evaluate, serving)
    check_new(windows, serving)
    return Step(serving, line)


def train_step(settings: Settings, windows: cohorts.Windows) -> Step:
    model = train(windows.train, settings.kind, settings.params)
    return Step(model, f"train: {settings.kind} on {len(windows.train)} rows")


def evaluate_step(settings: Settings, model, windows: cohorts.Windows) -> Step:
    metrics = evaluate(model, windows.evaluate)
    return Step(metrics, f"evaluate: cost {metrics['cost']:.1f}, AUC {metrics['auc']:.4f}, parity gap "
                f"{metrics['parity_gap']:.3f}, {int(metrics['behaviour_failures'])} behavioural failures")


def gate_step(settings: Settings, metrics: dict, champion: Champion | None, windows: cohorts.Windows) -> Step:
    decision = gates.decide(metrics, champion_metrics(windows.evaluate, champion), settings.rules)
    return Step(decision, f"gate: {decision}")


def register_step(settings: Settings, model, windows: cohorts.Windows, metrics: dict,
                  decision: gates.Decision, champion: Champion | None) -> Report:
    """Log, register once, record the verdict, move the aliases; the report of the whole run."""
    report = Report(str(settings.reason), metrics=scalars(metrics), decision=decision,
                    windows=windows.summary())
    _register_and_promote(report, model, windows, settings.kind, settings.params,
                          judged_against=None if champion is None else champion.version)
    return report


def assemble(steps: list[Step], report: Report) -> Report:
    """The run's report: each step's line, then what registering and promoting said."""
    report.steps[:0] = [step.line for step in steps]
    return report


def run(*, reason: str = "manual", store=tracking.DEFAULT_STORE, kind: str = "boosting",
        params: dict | None = None, raw: pd.DataFrame | None = None,
        clean: pd.DataFrame | None = None, rules: gates.Rules = gates.Rules(),
        data=None, as_of=None, train_months: int | None = cohorts.TRAIN_MONTHS,
        eval_months: int = cohorts.EVAL_MONTHS) -> Report:
    """Run every step once, in order; returns what happened. ``reason``: who or what asked for it.

    ``as_of`` (a date): train on the outcomes matured by then, judge on the
    newest matured cohort (see :mod:`mlecourse.lender.mlops.windows`; None: the
    teaching split). ``raw`` replaces the loans file (e.g. a corrupted batch,
    to see validation stop the run); ``clean`` skips the batch validation (it
    may carry a ``propensity`` column); ``data`` is another loans file,
    checked against the ``SHA256SUMS`` beside it.
    """
    settings = Settings(reason, store, kind, params, rules, data, as_of, train_months, eval_months)
    validated = validate_step(settings, raw) if clean is None else Step(clean, f"validate: {len(clean)} rows given")
    windows = windows_step(settings, validated.value)
    champion = champion_step(settings, windows.value)
    model = train_step(settings, windows.value)
    metrics = evaluate_step(settings, model.value, windows.value)
    decision = gate_step(settings, metrics.value, champion.value, windows.value)
    report = register_step(settings, model.value, windows.value, metrics.value, decision.value,
                           champion.value)
    return assemble([validated, windows, champion, model, metrics, decision], report)


def _register_and_promote(report: Report, model, windows: cohorts.Windows, kind: str, params: dict | None,
                          judged_against: int | None) -> None:
    """Log the run, register the model once, record the gate's verdict, move the aliases."""
    import mlflow

    decision, metrics, train_frame = report.decision, report.metrics, windows.train
    key = f"{fingerprints.data_fingerprint(train_frame)[:16]}-{reproducibility.model_digest(model)[:16]}"
    with mlflow.start_run(run_name=f"pipeline {kind}"):
        mlflow.log_params({"kind": kind, **(params or {}), **report.windows})
        mlflow.log_metrics(metrics)
        mlflow.set_tags({**tracking.provenance(train_frame), "reason": report.reason,
                         "gate": "pass" if decision.promote else "fail"})
        folder = tempfile.TemporaryDirectory(prefix="candidate-")  # the registry keeps its own copy
        model_dir = package(model, windows, metrics, Path(folder.name), version=key[:8])
        with registry.lock():  # from "is it registered?" to the last alias move: one run at a time
            existing = registry.find_key(key)
            report.version = registry.register(model_dir, key=key, tags={"reason": report.reason})
            report.say(f"register: version {report.version}" + (
                " already registered (same data, same model): nothing new" if existing else ""))
            if report.version != registry.aliases().get(registry.CHAMPION):  # not judged against itself
                registry.record_gate(report.version, decision.promote, str(decision))
            report.say(_promote(report.version, decision, judged_against))
            report.aliases = registry.aliases()
        folder.cleanup()


def _promote(version: int, decision: gates.Decision, judged_against: int | None) -> str:
    """Move the aliases as the gate decided (under the registry's lock); the report's line."""
    champion = registry.aliases().get(registry.CHAMPION)
    if champion == version:  # the same data and model again: judged against itself, it changes nothing
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
         tracking.TrackingError, DataFileError, cohorts.WindowError)
