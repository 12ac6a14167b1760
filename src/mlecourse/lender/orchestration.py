"""The pipeline as Dagster assets: the same steps, run by an orchestrator.

Dagster materialises the assets in this process (no server, no daemon,
an ephemeral instance whose records vanish with the process),
in dependency order, and records each step's start, end and outcome; a
failed step stops the ones that depend on it. :func:`materialise` is what
``make pipeline`` runs. Dagster's own log lines go to stderr at DEBUG level;
they are turned down here so a terminal shows the report. A failed step is
not logged by Dagster either (it would print its stack trace): its error
reaches the caller, which says it in one line, or shows the traceback of a bug.
"""
from __future__ import annotations

import logging

from mlecourse.lender import pipeline, tracking


def build_assets(reason: str, store, kind: str, data=None):
    import dagster as dg

    @dg.asset
    def clean_loans():
        from mlecourse.lender.data import load_loans
        return pipeline.validate(load_loans(data))

    @dg.asset
    def candidate_report(clean_loans):
        return pipeline.run(reason=reason, store=store, kind=kind, raw=None, clean=clean_loans)

    return [clean_loans, candidate_report]


def materialise(*, reason: str = "manual", store=tracking.DEFAULT_STORE, kind: str = "boosting",
                data=None):
    """Run the pipeline under Dagster; returns the pipeline's report. ``data``: another loans file.

    A step that fails raises its own error (``raise_on_error``), so the
    command line reports it as it does without Dagster.
    """
    import dagster as dg

    for name in ("dagster", "dagster.builtin"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    quiet = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    result = dg.materialize(build_assets(reason, store, kind, data), run_config=quiet,
                            raise_on_error=True)
    return result.output_for_node("candidate_report")
