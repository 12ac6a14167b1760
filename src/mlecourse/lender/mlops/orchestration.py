"""The pipeline as Dagster assets, one per step, and ``make pipeline``'s command.

Each step of :mod:`mlecourse.lender.mlops.pipeline` is an asset here, named for
what it makes (the validated loans, the windows as of the run's date, the champion, the candidate,
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
    python -m mlecourse.lender.mlops.orchestration --as-of 2023-06-30      # as a run on that day would

By default a run is as of today: it learns from every outcome matured by
now. A scheduled run that finds no cohort newer than the champion's says so
and exits 0 (:class:`pipeline.NothingNew`): nothing new is not a failure.
"""
from __future__ import annotations

import argparse
import datetime
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
        return pipeline.windows_step(settings, validated_loans.value)

    @dg.asset
    def champion(windows):
        return pipeline.champion_step(settings, windows.value)

    @dg.asset(deps=[champion])  # the labels are checked before anything is trained on them
    def candidate(windows):
        return pipeline.train_step(settings, windows.value)

    @dg.asset
    def candidate_metrics(candidate, windows):
        return pipeline.evaluate_step(settings, candidate.value, windows.value)

    @dg.asset
    def gate_decision(candidate_metrics, champion, windows):
        return pipeline.gate_step(settings, candidate_metrics.value, champion.value, windows.value)

    @dg.asset
    def registered_version(validated_loans, windows, champion, candidate, candidate_metrics,
                           gate_decision):
        report = pipeline.register_step(settings, candidate.value, windows.value, candidate_metrics.value,
                                        gate_decision.value, champion.value)
        return pipeline.assemble([validated_loans, windows, champion, candidate, candidate_metrics,
                                  gate_decision], report)

    return [validated_loans, windows, champion, candidate, candidate_metrics, gate_decision,
            registered_version]


def materialise(*, reason: str = "manual", store=tracking.DEFAULT_STORE, kind: str = "boosting",
                data=None, as_of=None, train_months=pipeline.cohorts.TRAIN_MONTHS):
    """Run the pipeline under Dagster; returns the pipeline's report. ``data``: another loans file;
    ``as_of``: the run's date (None: the teaching split).

    A step that fails raises its own error (``raise_on_error``), so the
    command line reports it as it does without Dagster.
    """
    import dagster as dg

    settings = pipeline.Settings(reason=reason, store=store, kind=kind, data=data, as_of=as_of,
                                 train_months=train_months)
    for name in ("dagster", "dagster.builtin"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    quiet = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    result = dg.materialize(build_assets(settings), run_config=quiet, raise_on_error=True)
    return result.output_for_node("registered_version")


# What stops a run with a message for a person (anything else is a bug: its traceback helps).
STOPS = pipeline.STOPS


def _as_of(text: str):
    return None if text.strip().lower() == "none" else text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mlecourse.lender.mlops.orchestration",
                                     description="Validate, train, evaluate, gate, register, promote.")
    parser.add_argument("--reason", default="manual", help="why this run (recorded): %(default)s")
    parser.add_argument("--store", default=str(tracking.DEFAULT_STORE), help="MLflow store folder")
    parser.add_argument("--data", default=None,
                        help="a loans file, checked against the SHA256SUMS beside it "
                             "(default: data/loans.csv.gz)")
    parser.add_argument("--kind", default="boosting", choices=("boosting", "logistic", "tree"))
    parser.add_argument("--as-of", default=datetime.date.today().isoformat(), type=_as_of,
                        help="learn from the outcomes matured by this date (default: today, %(default)s); "
                             "'none': the course's teaching split (train 2019-2020, evaluate 2021)")
    parser.add_argument("--train-months", type=int, default=None,
                        help="train on the last N months before the evaluation cohort (default: all of them)")
    parser.add_argument("--plain", action="store_true", help="plain function calls, no Dagster")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    run = pipeline.run if args.plain else materialise
    try:
        report = run(reason=args.reason, store=args.store, kind=args.kind, data=args.data, as_of=args.as_of,
                     train_months=args.train_months)
    except pipeline.NothingNew as quiet:
        print(f"pipeline: {' '.join(str(quiet).split())}")
        return 0
    except STOPS as error:
        print(f"pipeline stopped: {' '.join(str(error).split())}")
        return 1
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
