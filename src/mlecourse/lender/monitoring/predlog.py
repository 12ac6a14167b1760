"""The prediction log: every application scored, in SQLite, and the outcomes as they arrive.

A monitoring team can only watch what it kept. This log keeps, for every
application the service scored, what came in, what went out, which model
answered and how long it took; outcomes are written to their own table on
the day they become known, and joined in only then (:func:`known_as_of`),
so a query "as of" a date sees exactly what the team saw on that date.

Schema (``SCHEMA`` below is the source of truth)::

    predictions   one row per application scored
      request_id      TEXT  the HTTP request (one batch) it came in
      application_id  TEXT  the application (unique)
      scored_at       TEXT  when it was scored, ISO date (the replay's clock)
      month           TEXT  YYYY-MM of scored_at, for monthly queries
      model_version   TEXT  the version the service answered with
      inputs          TEXT  the request body of this application, JSON
      score           REAL  predicted probability of default
      decision        TEXT  "approve" or "refuse"
      latency_ms      REAL  the request's round trip as the client measured it
    outcomes      one row per loan whose outcomes were recorded
      application_id, defaulted, outcome_known_date,
      early_delinquency, early_delinquency_known_date
    rejected_batches  months the validation refused to score: month, rows, reasons

SQLite because it is one file, in the standard library, and real SQL: a
team would use Postgres or a warehouse, with the same schema and queries.
"""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pandas as pd

SCHEMA = """
CREATE TABLE IF NOT EXISTS predictions (
    request_id     TEXT NOT NULL,
    application_id TEXT NOT NULL UNIQUE,
    scored_at      TEXT NOT NULL,
    month          TEXT NOT NULL,
    model_version  TEXT,
    inputs         TEXT,
    score          REAL,
    decision       TEXT,
    latency_ms     REAL
);
CREATE INDEX IF NOT EXISTS predictions_month ON predictions (month);
CREATE TABLE IF NOT EXISTS outcomes (
    application_id               TEXT PRIMARY KEY,
    defaulted                    INTEGER NOT NULL,
    outcome_known_date           TEXT NOT NULL,
    early_delinquency            INTEGER NOT NULL,
    early_delinquency_known_date TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rejected_batches (
    month   TEXT NOT NULL,
    rows    INTEGER NOT NULL,
    reasons TEXT NOT NULL
);
"""
PREDICTION_COLUMNS = ("request_id", "application_id", "scored_at", "month", "model_version", "inputs",
                      "score", "decision", "latency_ms")
REQUIRED = ("model_version", "inputs", "score", "decision")  # a row without one of these is broken
OUTCOME_COLUMNS = ("application_id", "defaulted", "outcome_known_date", "early_delinquency",
                   "early_delinquency_known_date")


class LogError(ValueError):
    """The log holds rows that cannot be trusted; the message says which and how many."""


def connect(path: str | Path = ":memory:") -> sqlite3.Connection:
    """Open (or create) a prediction log at ``path`` with its schema."""
    conn = sqlite3.connect(str(path))
    conn.executescript(SCHEMA)
    return conn


def log_predictions(conn: sqlite3.Connection, rows: list[dict]) -> int:
    """Append prediction rows (dicts with ``PREDICTION_COLUMNS``); returns how many."""
    marks = ", ".join("?" * len(PREDICTION_COLUMNS))
    with conn:
        conn.executemany(f"INSERT INTO predictions ({', '.join(PREDICTION_COLUMNS)}) VALUES ({marks})",
                         [tuple(row.get(c) for c in PREDICTION_COLUMNS) for row in rows])
    return len(rows)


def prediction_rows(request_id: str, applications: pd.DataFrame, bodies: list[dict], answer: dict,
                    latency_ms: float) -> list[dict]:
    """The log rows of one answered request: one per application, in order."""
    dates = applications["application_date"].dt.strftime("%Y-%m-%d").tolist()
    return [{"request_id": request_id, "application_id": app_id, "scored_at": day, "month": day[:7],
             "model_version": answer.get("model_version"), "inputs": json.dumps(body),
             "score": p["probability_of_default"], "decision": p["decision"], "latency_ms": latency_ms}
            for app_id, day, body, p in zip(applications["application_id"], dates, bodies,
                                            answer["predictions"])]


def record_outcomes(conn: sqlite3.Connection, frame: pd.DataFrame) -> int:
    """Store the outcomes of ``frame``'s loans, each with the date it becomes known."""
    table = frame[list(OUTCOME_COLUMNS)].copy()
    for column in ("outcome_known_date", "early_delinquency_known_date"):
        table[column] = table[column].dt.strftime("%Y-%m-%d")
    with conn:
        conn.executemany(f"INSERT OR REPLACE INTO outcomes VALUES ({', '.join('?' * len(OUTCOME_COLUMNS))})",
                         table.astype(object).itertuples(index=False, name=None))
    return len(table)


def record_rejection(conn: sqlite3.Connection, month: str, rows: int, reasons: list[str]) -> None:
    with conn:
        conn.execute("INSERT INTO rejected_batches VALUES (?, ?, ?)", (month, rows, "; ".join(reasons)))


def rejected_batches(conn: sqlite3.Connection) -> pd.DataFrame:
    return pd.read_sql_query("SELECT * FROM rejected_batches ORDER BY month", conn)


def predictions(conn: sqlite3.Connection, month: str | None = None) -> pd.DataFrame:
    """The logged predictions (all, or one month's), without the inputs."""
    where, params = ("WHERE month = ?", (month,)) if month else ("", ())
    query = (f"SELECT request_id, application_id, scored_at, month, model_version, score, decision, "
             f"latency_ms FROM predictions {where} ORDER BY scored_at, application_id")
    return pd.read_sql_query(query, conn, params=params, parse_dates=["scored_at"])


def known_as_of(conn: sqlite3.Connection, date) -> pd.DataFrame:
    """Predictions scored by ``date``, with each outcome only if it was known on ``date``.

    ``defaulted`` and ``early_delinquency`` are missing (NaN) where the
    outcome was still in the future: exactly what a team querying its log on
    ``date`` would have seen.
    """
    day = pd.Timestamp(date).strftime("%Y-%m-%d")
    query = """
        SELECT p.application_id, p.scored_at, p.month, p.model_version, p.score, p.decision,
               CASE WHEN o.outcome_known_date <= :day THEN o.defaulted END AS defaulted,
               CASE WHEN o.early_delinquency_known_date <= :day THEN o.early_delinquency END
                   AS early_delinquency
        FROM predictions p LEFT JOIN outcomes o USING (application_id)
        WHERE p.scored_at <= :day
        ORDER BY p.scored_at, p.application_id"""
    return pd.read_sql_query(query, conn, params={"day": day}, parse_dates=["scored_at"])


def audit(conn: sqlite3.Connection, known_versions) -> pd.DataFrame:
    """Problems in the log, one row per (month, problem) with its count; empty if none.

    A row missing a required field, or answered by a model version nobody
    deployed, is reported here; monthly statistics must not quietly skip it.
    """
    versions = tuple(str(v) for v in known_versions)
    marks = ", ".join("?" * len(versions)) or "''"
    checks = [(f"missing {c}", f"{c} IS NULL") for c in REQUIRED]
    checks.append(("unknown model version", f"model_version IS NOT NULL AND model_version NOT IN ({marks})"))
    frames = []
    for name, condition in checks:
        params = versions if name == "unknown model version" else ()
        found = pd.read_sql_query(f"SELECT month, COUNT(*) AS rows FROM predictions WHERE {condition} "
                                  "GROUP BY month", conn, params=params)
        frames.append(found.assign(problem=name))
    problems = pd.concat(frames, ignore_index=True)
    return problems[["month", "problem", "rows"]].sort_values(["month", "problem"], ignore_index=True)


def month_frame(conn: sqlite3.Connection, month: str, known_versions) -> pd.DataFrame:
    """One month of predictions for monitoring; raises LogError if any of its rows is broken."""
    problems = audit(conn, known_versions)
    problems = problems[problems["month"] == month]
    if len(problems):
        listed = ", ".join(f"{r.rows} rows with {r.problem}" for r in problems.itertuples())
        raise LogError(f"the log of {month} has {listed}: fix or exclude them explicitly "
                       "before computing this month's statistics")
    frame = predictions(conn, month)
    if frame.empty:
        raise LogError(f"the log has no predictions for {month}: was the month replayed?")
    return frame


def inputs_frame(conn: sqlite3.Connection) -> pd.DataFrame:
    """The logged inputs as a frame, one row per prediction: what drift is measured on.

    A field absent from a request (an optional value left out) is NaN here.
    """
    rows = conn.execute("SELECT application_id, scored_at, inputs FROM predictions "
                        "ORDER BY scored_at, application_id").fetchall()
    frame = pd.DataFrame([json.loads(text) for _, _, text in rows])
    frame.insert(0, "application_date", pd.to_datetime([day for _, day, _ in rows]))
    frame.insert(0, "application_id", [app_id for app_id, _, _ in rows])
    return frame
