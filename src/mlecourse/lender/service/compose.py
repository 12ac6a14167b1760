"""The lender's model service as it is deployed: the serving app with every stage's routes.

This is where the system is put together, and the only place: ``serving.api``
knows how to serve a model behind one guard, ``responsible.reasons`` how to
explain a refusal; this module hands the second to the first as a router, so
neither imports the other and a new route (an LLM endpoint, a new report)
arrives behind the same guard without touching ``serving``. The container
runs it: ``python -m mlecourse.lender.service`` (``__main__``).

Routes::

    GET  /health, /ready, /metrics      open (probes and the scraper send no key)
    GET  /version                       the model card without the schema or threshold
    POST /predict                       one application or a batch -> probability and decision
    POST /explain                       one application -> decision and up to four reasons
    POST /llm/answer, /llm/answer/stream  with ``assistant``: a customer's question -> an answer
                                        from the policies (chapter 9), whole or token by token

Every route scores an applicant of 62 or over at the most favourable age
(Regulation B's age rule, :mod:`mlecourse.lender.responsible.age_rule`).
"""
from __future__ import annotations

import logging
import subprocess
import sys
from contextlib import contextmanager

from fastapi import APIRouter, FastAPI

from mlecourse.lender.modeling import artifact
from mlecourse.lender.responsible import age_rule, reasons
from mlecourse.lender.serving import api

log = logging.getLogger("mlecourse.lender.service")
COMMAND = ("-m", "mlecourse.lender.service")


def create_app(model, metadata: dict, *, assistant: APIRouter | None = None, age_floor: bool = True,
               **kwargs) -> FastAPI:
    """The whole service for ``model``: /predict and the rest, and /explain, behind one guard.

    ``assistant``: the LLM routes (:func:`assistant`), mounted beside the others
    when given. ``kwargs`` are :func:`api.create_app`'s (keys, rate limit,
    batching, ``decisions_only``, ...). With ``age_floor`` (the default) every
    route scores an applicant of 62 or over at the most favourable age
    (:class:`age_rule.ElderlyFloor`, Regulation B's age rule), so no answer
    and no reason code scores them down for their age.
    """
    served = age_rule.ElderlyFloor(model) if age_floor else model
    routers = [reasons.router(served, metadata, probability_decimals=kwargs.get("probability_decimals", 4),
                              decisions_only=kwargs.get("decisions_only", False))]
    if assistant is not None:
        routers.append(assistant)
    return api.create_app(served, metadata, routers=[*routers, *kwargs.pop("routers", ())], **kwargs)


def assistant(**kwargs) -> APIRouter:
    """The LLM routes of chapter 9 over the course's open model and the lender's policies.

    The retrieval cut under which a question is refused is the one chosen on
    the questions' development split, as the chapter chooses it. ``kwargs``
    go to :func:`mlecourse.lender.llm.route.router` (queue, deadline, log, ...).
    """
    from mlecourse.lender.llm import corpus, harness, retrieval, route, runtime

    index = retrieval.BM25Index(retrieval.by_paragraph(corpus.policies()))
    questions = corpus.questions()
    kwargs.setdefault("min_score", harness.choose_min_score(index, questions[questions["split"] == "dev"]))
    return route.router(runtime.LocalModel(), index, **kwargs)


def create_app_from_dir(directory, *, expected_fingerprint: str | None = None, **kwargs) -> FastAPI:
    """Load a model directory (checked by artifact.load_model) and serve it, whole."""
    model, metadata = artifact.load_model(directory, expected_fingerprint=expected_fingerprint)
    log.info("loaded %s version %s from %s", metadata.get("name"), metadata.get("version"), directory)
    return create_app(model, metadata, **kwargs)


@contextmanager
def serve_process(model_dir, host: str = "127.0.0.1", port: int | None = None, *,
                  timeout: float = 60.0, log_level: str = "warning", extra_args=(), env=None,
                  command=None):
    """Run ``python -m mlecourse.lender.service`` on ``model_dir`` in a child process; yields the URL.

    What the container runs, on loopback: a separate process with its own
    interpreter, so clients in this process do not share its GIL. Returns
    once ``/health`` answers; on exit, sends SIGTERM (uvicorn shuts down
    gracefully) and waits for the process. ``extra_args`` are more command-line
    options (e.g. ``["--rate-limit", "0"]``), ``env`` the child's environment,
    ``command`` the interpreter and module to run (default: this one's).
    """
    port = port or api.free_port(host)
    command = list(command or [sys.executable, *COMMAND])
    command += ["--model-dir", str(model_dir), "--host", host, "--port", str(port),
                "--log-level", log_level, "--no-access-log", *map(str, extra_args)]
    process = subprocess.Popen(command, env=env)
    url = f"http://{host}:{port}"
    try:
        api.wait_until_healthy(url, timeout, failure=lambda: None if process.poll() is None else
                                   f"it exited with code {process.returncode}: {' '.join(command)}")
        yield url
    finally:
        if process.poll() is None:
            api.stop_process(process)
