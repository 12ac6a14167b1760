"""The lender's training pipeline: validate -> train -> evaluate -> gate -> register -> promote.

One function per step, each taking what the previous one made, so an
orchestrator can run them as tasks (``make pipeline`` runs them as Dagster
assets; :func:`run` runs them as plain calls, which is what an orchestrator
does underneath). The pipeline is idempotent: the same data, code and
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

import argparse
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from mlecourse.lender import (artifact, behaviour, business, features, gates, modeling, registry,
                              reproducibility, tracking, validation)
from mlecourse.lender.data import DataFileError, load_loans

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
    return modeling.train_model(train_frame, kind, **(params or {}))


def age_group(frame: pd.DataFrame) -> pd.Series:
    """"<30", "30-59", "60+", or "unknown" (a missing age is a group of its own, not dropped)."""
    groups = pd.cut(frame["age"], AGE_GROUPS, right=False, labels=["<30", "30-59", "60+"])
    return groups.astype(object).where(groups.notna(), "unknown").astype(str)


def parity_gap(refuse, groups) -> float:
    """fairlearn's demographic parity difference: the largest gap in refusal rates."""
    from fairlearn.metrics import demographic_parity_difference

    with warnings.catch_warnings():  # fairlearn's pandas warnings would reach stderr
        warnings.simplefilter("ignore")
        return float(demographic_parity_difference(np.asarray(refuse, dtype=int),
                                                   np.asarray(refuse, dtype=int),
                                                   sensitive_features=np.asarray(groups)))


def evaluate(model, frame: pd.DataFrame, threshold: float = business.COSTS.threshold) -> dict:
    """What the gate judges: cost, AUC, fairness gap, behavioural failures, on ``frame``."""
    X, y = features.features_and_target(frame)
    scores = model.predict_proba(X)[:, 1]
    refuse = scores > threshold
    findings = behaviour.suite(model, frame.iloc[:2000])
    return {"cost": business.decision_cost(y, refuse), "auc": float(roc_auc_score(y, scores)),
            "parity_gap": parity_gap(refuse, age_group(frame)),
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


# --- the whole run -----------------------------------------------------------------

def run(*, reason: str = "manual", store=tracking.DEFAULT_STORE, kind: str = "boosting",
        params: dict | None = None, raw: pd.DataFrame | None = None,
        clean: pd.DataFrame | None = None, rules: gates.Rules = gates.Rules(),
        data=None) -> Report:
    """Run every step once; returns what happened. ``reason``: who or what asked for it.

    ``raw`` replaces the loans file (e.g. a corrupted batch, to see validation
    stop the run); ``clean`` skips the batch validation (an orchestrator ran it
    as its own task); ``data`` is another loans file, checked against the
    ``SHA256SUMS`` beside it.
    """
    if not str(reason).strip():
        raise PipelineError("give a reason for the run (e.g. 'manual', 'schedule', 'drift: ...')")
    report = Report(str(reason))
    if clean is None:  # first, so that a bad file leaves no store behind
        clean = validate(load_loans(data) if raw is None else raw)
    train_frame, eval_frame = split(clean)
    report.say(f"validate: {len(clean)} rows accepted")
    tracking.use_store(store)
    serving = current_champion()
    report.say(check_labels(eval_frame, serving))
    model = train(train_frame, kind, params)
    metrics = evaluate(model, eval_frame)
    report.metrics = metrics
    report.say(f"train + evaluate: {kind}, cost {metrics['cost']:.1f}, AUC {metrics['auc']:.4f}, "
               f"parity gap {metrics['parity_gap']:.3f}, {int(metrics['behaviour_failures'])} "
               "behavioural failures")
    decision = gates.decide(metrics, champion_metrics(eval_frame, serving), rules)
    report.decision = decision
    report.say(f"gate: {decision}")
    _register_and_promote(report, model, train_frame, kind, params,
                          judged_against=None if serving is None else serving.version)
    return report


def _register_and_promote(report: Report, model, train_frame, kind: str, params: dict | None,
                          judged_against: int | None) -> None:
    """Log the run, register the model once, record the gate's verdict, move the aliases."""
    import mlflow

    decision, metrics = report.decision, report.metrics
    key = f"{artifact.data_fingerprint(train_frame)[:16]}-{reproducibility.model_digest(model)[:16]}"
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mlecourse.lender.pipeline",
                                     description="Validate, train, evaluate, gate, register, promote.")
    parser.add_argument("--reason", default="manual", help="why this run (recorded): %(default)s")
    parser.add_argument("--store", default=str(tracking.DEFAULT_STORE), help="MLflow store folder")
    parser.add_argument("--data", default=None,
                        help="a loans file, checked against the SHA256SUMS beside it "
                             "(default: data/loans.csv.gz)")
    parser.add_argument("--kind", default="boosting", choices=("boosting", "logistic", "tree"))
    parser.add_argument("--plain", action="store_true", help="plain function calls, no Dagster")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.plain:
            report = run(reason=args.reason, store=args.store, kind=args.kind, data=args.data)
        else:
            from mlecourse.lender import orchestration
            report = orchestration.materialise(reason=args.reason, store=args.store, kind=args.kind,
                                               data=args.data)
    except STOPS as error:
        print(f"pipeline stopped: {' '.join(str(error).split())}")
        return 1
    print(report)
    return 0


if __name__ == "__main__":
    # Run the imported module's main, not this copy's: under Dagster the steps raise
    # mlecourse.lender.pipeline.PipelineError, which a __main__.PipelineError would not catch.
    from mlecourse.lender.pipeline import main as imported_main
    raise SystemExit(imported_main())
