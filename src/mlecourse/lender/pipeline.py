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
from mlecourse.lender.data import load_loans

AGE_GROUPS = (0, 30, 60, 200)  # < 30, 30-59, 60 and over


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


def champion_metrics(frame: pd.DataFrame) -> dict | None:
    """The serving model, measured again on the same window as the candidate (or None)."""
    if registry.CHAMPION not in registry.aliases():
        return None
    model, _card = registry.load_checked(registry.CHAMPION)
    return evaluate(model, frame)


def package(model, train_frame: pd.DataFrame, metrics: dict, folder: Path, version: str) -> Path:
    """Chapter 5's model directory; the card's date is the data's, so a rerun writes the same card."""
    created = f"{train_frame[features.DATE].max().date()}T00:00:00+00:00"
    return artifact.save_model(model, folder, version=version, train_frame=train_frame,
                               metrics=metrics, created=created)


# --- the whole run -----------------------------------------------------------------

def run(*, reason: str = "manual", store=tracking.DEFAULT_STORE, kind: str = "boosting",
        params: dict | None = None, raw: pd.DataFrame | None = None,
        clean: pd.DataFrame | None = None, rules: gates.Rules = gates.Rules()) -> Report:
    """Run every step once; returns what happened. ``reason``: who or what asked for it.

    ``raw`` replaces the loans file (e.g. a corrupted batch, to see validation
    stop the run); ``clean`` skips validation (an orchestrator ran it as its own task).
    """
    import mlflow

    if not str(reason).strip():
        raise PipelineError("give a reason for the run (e.g. 'manual', 'schedule', 'drift: ...')")
    report = Report(str(reason))
    tracking.use_store(store)
    if clean is None:
        clean = validate(load_loans() if raw is None else raw)
    train_frame, eval_frame = split(clean)
    report.say(f"validate: {len(clean)} rows accepted")
    model = train(train_frame, kind, params)
    metrics = evaluate(model, eval_frame)
    report.metrics = metrics
    report.say(f"train + evaluate: {kind}, cost {metrics['cost']:.1f}, AUC {metrics['auc']:.4f}, "
               f"parity gap {metrics['parity_gap']:.3f}, {int(metrics['behaviour_failures'])} "
               "behavioural failures")
    champion = champion_metrics(eval_frame)
    decision = gates.decide(metrics, champion, rules)
    report.decision = decision
    report.say(f"gate: {decision}")
    key = f"{artifact.data_fingerprint(train_frame)[:16]}-{reproducibility.model_digest(model)[:16]}"
    with mlflow.start_run(run_name=f"pipeline {kind}"):
        mlflow.log_params({"kind": kind, **(params or {})})
        mlflow.log_metrics(metrics)
        mlflow.set_tags({**tracking.provenance(train_frame), "reason": report.reason,
                         "gate": "pass" if decision.promote else "fail"})
        folder = Path(tempfile.mkdtemp(prefix="candidate-"))
        model_dir = package(model, train_frame, metrics, folder, version=key[:8])
        report.version = registry.register(model_dir, key=key, tags={"reason": report.reason})
    report.say(f"register: version {report.version}")
    if decision.promote and registry.aliases().get(registry.CHAMPION) == report.version:
        report.aliases = registry.aliases()
        report.say(f"promote: version {report.version} is already the champion; nothing to do")
    elif decision.promote:
        report.aliases = registry.promote(report.version)
        report.say(f"promote: champion is version {report.aliases[registry.CHAMPION]}")
    else:
        registry.set_alias(registry.CHALLENGER, report.version)
        report.aliases = registry.aliases()
        report.say(f"not promoted: version {report.version} is the challenger; the champion stays")
    return report


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mlecourse.lender.pipeline",
                                     description="Validate, train, evaluate, gate, register, promote.")
    parser.add_argument("--reason", default="manual", help="why this run (recorded): %(default)s")
    parser.add_argument("--store", default=str(tracking.DEFAULT_STORE), help="MLflow store folder")
    parser.add_argument("--kind", default="boosting", choices=("boosting", "logistic", "tree"))
    parser.add_argument("--plain", action="store_true", help="plain function calls, no Dagster")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.plain:
            report = run(reason=args.reason, store=args.store, kind=args.kind)
        else:
            from mlecourse.lender import orchestration
            report = orchestration.materialise(reason=args.reason, store=args.store, kind=args.kind)
    except (PipelineError, gates.GateError, registry.RegistryError, artifact.ArtifactError) as error:
        print(f"pipeline stopped: {error}")
        return 1
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
