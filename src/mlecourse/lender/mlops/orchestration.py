"""The pipeline as Dagster assets, one per step, and ``make pipeline``'s command.

Each step of :mod:`mlecourse.lender.mlops.pipeline` is an asset here, named for
what it makes (the validated loans, the windows, the champion, the candidate,
its metrics, the gate's decision, the registered version), with the steps it
needs as its inputs: Dagster runs them in dependency order, records each
one's start, end and outcome, and a failed step stops the ones that depend on
it. Dagster materialises them in this process (no server, no daemon, an
ephemeral instance whose records vanish with the process). Its own log lines
go to stderr at DEBUG level; they are turned down here so a terminal shows
the report. A failed step is not logged by Dagster either (it would print its
stack trace): its error reaches the caller, which says it in one line.

Command line (``make pipeline``)::

    python -m mlecourse.lender.mlops.orchestration --reason "drift: ..."   # under Dagster
    python -m mlecourse.lender.mlops.orchestration --plain                 # the same steps, plain calls
"""
from __future__ import annotations

import argparse
import logging

from mlecourse.lender.mlops import pipeline, tracking


def build_assets(settings: pipeline.Settings) -> list:
    """One asset per step of the pipeline, wired by what each step needs."""
    import dagster as dg

    @dg.asset
    def validated_loans():
        return pipeline.validate_step(settings)

    @dg.asset
    def windows(validated_loans):
        return pipeline.split(validated_loans.value)

    @dg.asset
    def champion(windows):
        return pipeline.champion_step(settings, windows)

    @dg.asset(deps=[champion])  # the labels are checked before anything is trained on them
    def candidate(windows):
        return pipeline.train_step(settings, windows)

    @dg.asset
    def candidate_metrics(candidate, windows):
        return pipeline.evaluate_step(settings, candidate.value, windows)

    @dg.asset
    def gate_decision(candidate_metrics, champion, windows):
        return pipeline.gate_step(settings, candidate_metrics.value, champion.value, windows)

    @dg.asset
    def registered_version(validated_loans, windows, champion, candidate, candidate_metrics,
                           gate_decision):
        report = pipeline.register_step(settings, candidate.value, windows, candidate_metrics.value,
                                        gate_decision.value, champion.value)
        return pipeline.assemble([validated_loans, champion, candidate, candidate_metrics, gate_decision],
                                 report)

    return [validated_loans, windows, champion, candidate, candidate_metrics, gate_decision,
            registered_version]


def materialise(*, reason: str = "manual", store=tracking.DEFAULT_STORE, kind: str = "boosting",
                data=None):
    """Run the pipeline under Dagster; returns the pipeline's report. ``data``: another loans file.

    A step that fails raises its own error (``raise_on_error``), so the
    command line reports it as it does without Dagster.
    """
    import dagster as dg

    settings = pipeline.Settings(reason=reason, store=store, kind=kind, data=data)
    for name in ("dagster", "dagster.builtin"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    quiet = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    result = dg.materialize(build_assets(settings), run_config=quiet, raise_on_error=True)
    return result.output_for_node("registered_version")


# What stops a run with a message for a person (anything else is a bug: its traceback helps).
STOPS = pipeline.STOPS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mlecourse.lender.mlops.orchestration",
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
            report = pipeline.run(reason=args.reason, store=args.store, kind=args.kind, data=args.data)
        else:
            report = materialise(reason=args.reason, store=args.store, kind=args.kind, data=args.data)
    except STOPS as error:
        print(f"pipeline stopped: {' '.join(str(error).split())}")
        return 1
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
