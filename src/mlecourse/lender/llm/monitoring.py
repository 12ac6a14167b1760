"""Watching an LLM feature: a log of every call, topic drift, and the metrics alerts read.

The call log is the prediction log of chapter 6 for a model whose output is
text. It keeps what an incident review needs (which prompt version answered,
how many tokens it cost, how long it took, whether it refused or cited a
passage) and never the customer's words unredacted.

Topic drift: nobody labels incoming questions, but the cheap router does.
Each month's share of topics is compared with a reference month's
(:func:`topic_drift`); a new topic is where the policies, the retrieval and
the prompts were never evaluated.
"""
from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency

from mlecourse.lender.llm.guardrails import redact

SCHEMA = """
CREATE TABLE IF NOT EXISTS llm_calls (
    call_id           TEXT PRIMARY KEY,
    at                TEXT NOT NULL,
    month             TEXT NOT NULL,
    task              TEXT NOT NULL,
    prompt_version    TEXT NOT NULL,
    model             TEXT NOT NULL,
    input             TEXT NOT NULL,
    output            TEXT NOT NULL,
    prompt_tokens     INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    latency_ms        REAL NOT NULL,
    refused           INTEGER NOT NULL,
    grounded          INTEGER,
    blocked           TEXT
);
CREATE INDEX IF NOT EXISTS llm_calls_month ON llm_calls (month);
"""
COLUMNS = ("call_id", "at", "month", "task", "prompt_version", "model", "input", "output", "prompt_tokens",
           "completion_tokens", "latency_ms", "refused", "grounded", "blocked")


def connect(path: str | Path = ":memory:") -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), check_same_thread=False)
    conn.executescript(SCHEMA)
    return conn


def log_call(conn: sqlite3.Connection, *, at: str, task: str, prompt_version: str, model: str, text_in: str,
             text_out: str, prompt_tokens: int, completion_tokens: int, latency_ms: float, refused: bool,
             grounded: bool | None = None, blocked: str | None = None) -> str:
    """Append one call; the input and output are redacted here, so no caller can forget to."""
    call_id = uuid.uuid4().hex
    row = (call_id, at, at[:7], task, prompt_version, model, redact(text_in), redact(text_out), int(prompt_tokens),
           int(completion_tokens), float(latency_ms), int(refused), None if grounded is None else int(grounded),
           blocked)
    with conn:
        conn.execute(f"INSERT INTO llm_calls ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})", row)
    return call_id


def calls(conn: sqlite3.Connection) -> pd.DataFrame:
    return pd.read_sql_query(f"SELECT {', '.join(COLUMNS)} FROM llm_calls ORDER BY at, call_id", conn)


def monthly(conn: sqlite3.Connection) -> pd.DataFrame:
    """Per month and prompt version: calls, tokens, median and 95th-percentile latency, refusal and grounding."""
    frame = calls(conn)
    grouped = frame.groupby(["month", "prompt_version"])
    return pd.DataFrame({
        "calls": grouped.size(),
        "tokens_per_call": grouped.apply(lambda g: (g.prompt_tokens + g.completion_tokens).mean(), include_groups=False),
        "p50_ms": grouped["latency_ms"].median(),
        "p95_ms": grouped["latency_ms"].quantile(0.95),
        "refusal_rate": grouped["refused"].mean(),
        "grounded_rate": grouped["grounded"].mean(),
        "blocked": grouped["blocked"].count(),
    })


# --- topic drift -------------------------------------------------------------------------

def simulate_months(messages: pd.Series, months: list[str], shift: dict[str, dict[str, float]] | None = None,
                    per_month: int = 200, topics: pd.Series | None = None, seed: int = 0) -> pd.DataFrame:
    """Incoming messages month by month, drawn from ``messages``.

    Each month draws ``per_month`` messages, evenly across ``topics`` unless
    ``shift`` gives that month other weights (e.g. a rate rise doubling
    hardship messages). Returns month, message and the true topic, which a
    real lender would not have.
    """
    rng = np.random.default_rng(seed)
    topics = pd.Series(topics).reset_index(drop=True)
    messages = pd.Series(messages).reset_index(drop=True)
    names = sorted(topics.unique())
    rows = []
    for month in months:
        weights = np.array([(shift or {}).get(month, {}).get(t, 1.0) for t in names], dtype=float)
        chosen = rng.choice(names, size=per_month, p=weights / weights.sum())
        for topic in chosen:
            pool = messages[topics == topic].to_numpy()
            rows.append((month, pool[rng.integers(len(pool))], topic))
    return pd.DataFrame(rows, columns=["month", "message", "topic"])


def topic_shares(months: pd.Series, labels) -> pd.DataFrame:
    """Counts of each predicted topic per month (rows: months)."""
    return pd.crosstab(pd.Series(list(months), name="month"), pd.Series(list(labels), name="topic"))


def psi(reference: np.ndarray, current: np.ndarray, floor: float = 1e-4) -> float:
    """Population stability index between two count vectors over the same topics."""
    p = np.maximum(np.asarray(reference, float) / np.sum(reference), floor)
    q = np.maximum(np.asarray(current, float) / np.sum(current), floor)
    return float(np.sum((q - p) * np.log(q / p)))


def topic_drift(counts: pd.DataFrame, reference: str, alpha: float = 0.01) -> pd.DataFrame:
    """Each month against the reference month: PSI, a chi-square test, and the topic that grew most."""
    base = counts.loc[reference]
    rows = {}
    for month, row in counts.iterrows():
        if month == reference:
            continue
        p_value = chi2_contingency(np.vstack([base.to_numpy(), row.to_numpy()]))[1]
        share_change = row / row.sum() - base / base.sum()
        rows[month] = {"psi": psi(base, row), "p_value": float(p_value), "drift": bool(p_value < alpha),
                       "grew_most": str(share_change.idxmax()), "by": float(share_change.max())}
    return pd.DataFrame(rows).T


# --- Prometheus metrics ------------------------------------------------------------------

def metrics(registry=None) -> dict:
    """The LLM route's metrics, on ``registry`` (a new one by default, so tests do not collide)."""
    from prometheus_client import CollectorRegistry, Counter, Histogram

    registry = registry or CollectorRegistry()
    return {
        "registry": registry,
        "requests": Counter("lender_llm_requests", "LLM requests by outcome", ["outcome"], registry=registry),
        "tokens": Counter("lender_llm_tokens", "tokens read and written", ["kind"], registry=registry),
        "answers": Counter("lender_llm_answers", "answers sent, by whether they cite a given passage",
                           ["grounded"], registry=registry),
        "first_token": Histogram("lender_llm_time_to_first_token_seconds", "seconds to the first token",
                                 buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10), registry=registry),
    }
