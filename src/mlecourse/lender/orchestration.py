"""The pipeline as Dagster assets: the same steps, run by an orchestrator.

Dagster materialises the assets in this process (no server, no daemon,
an ephemeral instance whose records vanish with the process),
in dependency order, and records each step's start, end and outcome; a
failed step stops the ones that depend on it. :func:`materialise` is what
``make pipeline`` runs. Dagster's own log lines go to stderr at DEBUG level;
they are turned down to warnings here so a terminal shows the report.
"""
from __future__ import annotations

import logging

from mlecourse.lender import pipeline, tracking


def build_assets(reason: str, store, kind: str):
    import dagster as dg

    @dg.asset
    def clean_loans():
        from mlecourse.lender.data import load_loans
        return pipeline.validate(load_loans())

    @dg.asset
    def candidate_report(clean_loans):
        return pipeline.run(reason=reason, store=store, kind=kind, raw=None, clean=clean_loans)

    return [clean_loans, candidate_report]


def materialise(*, reason: str = "manual", store=tracking.DEFAULT_STORE, kind: str = "boosting"):
    """Run the pipeline under Dagster; returns the pipeline's report."""
    import dagster as dg

    for name in ("dagster", "dagster.builtin"):
        logging.getLogger(name).setLevel(logging.WARNING)
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    result = dg.materialize(build_assets(reason, store, kind), run_config=quiet,
                            raise_on_error=True)
    return result.output_for_node("candidate_report")
