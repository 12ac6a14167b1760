"""Prompts and their evaluations in MLflow: the registry, runs, and traces, all on a local SQLite store.

Measured offline with ``MLFLOW_DISABLE_TELEMETRY=true``: the prompt registry
(``mlflow.genai.register_prompt``, aliases, ``load_prompt``) and tracing
(``mlflow.start_span``) both run on SQLite. ``mlflow.genai.evaluate`` runs
too, but takes seconds per call and prints a banner; our scorers are plain
functions (:mod:`evaluation`), so an evaluation is logged as a run's metrics
and a table, tagged with the prompt's registry version.
"""
from __future__ import annotations

import os
import time

from mlecourse.lender.mlops import tracking as store
from mlecourse.lender.llm.prompts import Prompt

os.environ.setdefault("MLFLOW_ENABLE_ASYNC_TRACE_LOGGING", "false")  # a trace is stored before the call returns
EXPERIMENT = "llm-answers"


def use_store(folder) -> str:
    """Point MLflow at the SQLite store in ``folder``; returns the experiment's id."""
    return store.use_store(folder, EXPERIMENT)


def _template(prompt: Prompt) -> list[dict]:
    return [{"role": "system", "content": prompt.system}, {"role": "user", "content": prompt.user}]


def register(prompt: Prompt) -> int:
    """Register ``prompt`` unless the registry's latest version is the same text; returns the registry version."""
    import mlflow

    try:
        latest = mlflow.genai.load_prompt(f"prompts:/{prompt.name}@latest")
    except Exception:  # MLflow raises its own error type for a name it has never seen
        latest = None
    if latest is not None and latest.tags.get("digest") == prompt.digest:
        return int(latest.version)
    registered = mlflow.genai.register_prompt(name=prompt.name, template=_template(prompt),
                                              commit_message=prompt.note or prompt.label,
                                              tags={"digest": prompt.digest, "course_version": str(prompt.version)})
    return int(registered.version)


def promote(prompt: Prompt, registry_version: int, alias: str = "production") -> None:
    import mlflow

    mlflow.genai.set_prompt_alias(prompt.name, alias=alias, version=registry_version)


def serving(name: str, alias: str = "production"):
    """The registry's prompt under ``alias``: what a service loads at start."""
    import mlflow

    return mlflow.genai.load_prompt(f"prompts:/{name}@{alias}")


def log_evaluation(prompt: Prompt, registry_version: int, metrics: dict[str, float], rows=None) -> str:
    """One run per evaluated prompt: its metrics, its per-item table, and which prompt it was."""
    import mlflow

    with mlflow.start_run(run_name=prompt.label) as run:
        mlflow.set_tags({"prompt": prompt.name, "prompt_version": str(prompt.version), "digest": prompt.digest,
                         "registry_version": str(registry_version)})
        mlflow.log_metrics({k: float(v) for k, v in metrics.items()})
        if rows is not None:
            mlflow.log_table(rows, artifact_file="evaluation.json")
    return run.info.run_id


def traced_answer(model, index, question: str, prompt: Prompt, **kwargs):
    """:func:`tasks.answer` with a trace: retrieval, prompt and generation as spans, with tokens and time."""
    import mlflow

    from mlecourse.lender.llm import tasks

    with mlflow.start_span(name="answer", span_type="CHAIN") as root:
        root.set_inputs({"question": question, "prompt": prompt.label})
        with mlflow.start_span(name="retrieve", span_type="RETRIEVER") as span:
            started = time.perf_counter()
            hits = index.search(question, kwargs.get("k", 3))
            span.set_outputs([{"id": p.id, "score": round(s, 3)} for p, s in hits])
            span.set_attribute("seconds", time.perf_counter() - started)
        with mlflow.start_span(name="generate", span_type="LLM") as span:
            result = tasks.answer(model, index, question, prompt, passages=[p for p, _ in hits],
                                  **{k: v for k, v in kwargs.items() if k != "k"})
            g = result.generation
            span.set_inputs({"prompt_version": prompt.label, "passages": list(result.passages)})
            span.set_outputs({"answer": result.text, "passage": result.cited})
            if g is not None:
                span.set_attributes({"prompt_tokens": g.prompt_tokens, "completion_tokens": g.completion_tokens,
                                     "seconds": g.seconds, "model": g.model})
        root.set_outputs({"answer": result.text, "passage": result.cited})
        trace_id = root.trace_id
    return result, trace_id
