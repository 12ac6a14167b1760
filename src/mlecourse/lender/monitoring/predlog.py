"""The prediction log: every application scored, in SQLite, and the outcomes as they arrive.

A monitoring team can only watch what it kept. This log keeps, for every
application the service scored, what came in, what went out, which model
answered, how long it took and whether the lender funded the loan; outcomes
are written to their own table on the day they become known, and joined in
only then (:func:`known_as_of`), so a query "as of" a date sees exactly what
the team saw on that date.

Only a funded loan ever has an outcome: a refused applicant never borrows,
so whether they would have repaid is unknowable. The schema says so with a
trigger (an outcome for an application the lender did not fund is refused),
and :func:`record_outcomes` keeps only the funded loans' outcomes.

Schema (``SCHEMA`` below is the source of truth)::

    predictions   one row per application scored
      request_id      TEXT  the HTTP request (one batch) it came in
      application_id  TEXT  the application (unique)
      scored_at       TEXT  when it was scored, ISO date (the replay's clock)
      month           TEXT  YYYY-MM of scored_at, for monthly queries
      model_version   TEXT  the version the service answered with
      inputs          TEXT  the request body of this application, JSON
      score           REAL  predicted probability of default
      decision        TEXT  "approve" or "refuse", the model's
      latency_ms      REAL  the request's round trip as the client measured it
      funded          INT   1 if the lender made the loan (an approval, or a refusal in the holdout)
      holdout         INT   1 if funded by the random-approval holdout against a refusal
      propensity      REAL  the probability that an application with this decision was funded
    outcomes      one row per funded loan whose outcomes were recorded
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
    latency_ms     REAL,
    funded         INTEGER NOT NULL CHECK (funded IN (0, 1)),
    holdout        INTEGER NOT NULL CHECK (holdout IN (0, 1)),
    propensity     REAL
);
CREATE INDEX IF NOT EXISTS predictions_month ON predictions (month);
CREATE TABLE IF NOT EXISTS outcomes (
    application_id               TEXT PRIMARY KEY,
    defaulted                    INTEGER NOT NULL,
    outcome_known_date           TEXT NOT NULL,
    early_delinquency            INTEGER NOT NULL,
    early_delinquency_known_date TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS outcomes_of_funded_loans_only BEFORE INSERT ON outcomes
WHEN NOT EXISTS (SELECT 1 FROM predictions WHERE application_id = NEW.application_id AND funded = 1)
BEGIN
    SELECT RAISE(ABORT, 'no outcome for an application the lender did not fund');
END;
CREATE TABLE IF NOT EXISTS rejected_batches (
    month   TEXT NOT NULL,
    rows    INTEGER NOT NULL,
    reasons TEXT NOT NULL
);
"""
PREDICTION_COLUMNS = ("request_id", "application_id", "scored_at", "month", "model_version", "inputs",
                      "score", "decision", "latency_ms", "funded", "holdout", "propensity")
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


def _funding(row: dict) -> dict:
    """A row's funding, as given, or what a lender without a holdout does: fund the approvals."""
    approved = row.get("decision") == "approve"
    defaults = {"funded": int(approved), "holdout": 0, "propensity": 1.0 if approved else 0.0}
    return {**defaults, **{k: row[k] for k in defaults if row.get(k) is not None}}


def log_predictions(conn: sqlite3.Connection, rows: list[dict]) -> int:
    """Append prediction rows (dicts with ``PREDICTION_COLUMNS``); returns how many.

    A row without ``funded`` is funded if the model approved it (no holdout).
    """
    marks = ", ".join("?" * len(PREDICTION_COLUMNS))
    with conn:
        conn.executemany(f"INSERT INTO predictions ({', '.join(PREDICTION_COLUMNS)}) VALUES ({marks})",
                         [tuple({**row, **_funding(row)}.get(c) for c in PREDICTION_COLUMNS)
                          for row in rows])
    return len(rows)


def prediction_rows(request_id: str, applications: pd.DataFrame, bodies: list[dict], answer: dict,
                    latency_ms: float, funding: pd.DataFrame | None = None) -> list[dict]:
    """The log rows of one answered request: one per application, in order.

    ``funding`` (one row per application: ``funded``, ``holdout``,
    ``propensity``, as :func:`outcomes.funding` makes) says which loans the
    lender made; without it, the approved ones.
    """
    dates = applications["application_date"].dt.strftime("%Y-%m-%d").tolist()
    funded = [{}] * len(bodies) if funding is None else funding.to_dict("records")
    return [{"request_id": request_id, "application_id": app_id, "scored_at": day, "month": day[:7],
             "model_version": answer.get("model_version"), "inputs": json.dumps(body),
             "score": p["probability_of_default"], "decision": p["decision"], "latency_ms": latency_ms, **f}
            for app_id, day, body, p, f in zip(applications["application_id"], dates, bodies,
                                               answer["predictions"], funded)]


def funded_ids(conn: sqlite3.Connection) -> set[str]:
    return {row[0] for row in conn.execute("SELECT application_id FROM predictions WHERE funded = 1")}


def record_outcomes(conn: sqlite3.Connection, frame: pd.DataFrame) -> int:
    """Store the outcomes of ``frame``'s funded loans, each with the date it becomes known.

    Rows of applications the log does not show as funded are left out: a
    refused applicant never borrowed, so no outcome exists. Returns how many
    outcomes were stored.
    """
    table = frame.loc[frame["application_id"].isin(funded_ids(conn)), list(OUTCOME_COLUMNS)].copy()
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
             f"latency_ms, funded, holdout, propensity FROM predictions {where} "
             "ORDER BY scored_at, application_id")
    return pd.read_sql_query(query, conn, params=params, parse_dates=["scored_at"])


def known_as_of(conn: sqlite3.Connection, date) -> pd.DataFrame:
    """Predictions scored by ``date``, with each outcome only if it was known on ``date``.

    ``defaulted`` and ``early_delinquency`` are missing (NaN) where the
    outcome was still in the future, and always for a loan that was not
    funded: exactly what a team querying its log on ``date`` would have seen.
    """
    day = pd.Timestamp(date).strftime("%Y-%m-%d")
    query = """
        SELECT p.application_id, p.scored_at, p.month, p.model_version, p.score, p.decision,
               p.funded, p.holdout, p.propensity,
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


def _with_inputs(rows: list[tuple]) -> pd.DataFrame:
    """(application_id, scored_at, inputs JSON, *rest) rows as one frame, one column per input."""
    frame = pd.DataFrame([json.loads(row[2]) for row in rows])
    frame.insert(0, "application_date", pd.to_datetime([row[1] for row in rows]))
    frame.insert(0, "application_id", [row[0] for row in rows])
    return frame


def inputs_frame(conn: sqlite3.Connection, month: str | None = None) -> pd.DataFrame:
    """The logged inputs as a frame, one row per prediction (all, or one month's): what drift is
    measured on. A field absent from a request (an optional value left out) is NaN here: the
    JSON of a request leaves it out, so read it with ``.get``, never ``[...]``.
    """
    where, params = ("WHERE month = ?", (month,)) if month else ("", ())
    rows = conn.execute(f"SELECT application_id, scored_at, inputs FROM predictions {where} "
                        "ORDER BY scored_at, application_id", params).fetchall()
    if not rows:
        return pd.DataFrame(columns=["application_id", "application_date"])
    return _with_inputs(rows)


def outcome_months(conn: sqlite3.Connection, date) -> list[str]:
    """The months (YYYY-MM) of the funded loans whose outcome was known on ``date``."""
    day = pd.Timestamp(date).strftime("%Y-%m-%d")
    rows = conn.execute("SELECT DISTINCT p.month FROM predictions p JOIN outcomes o USING (application_id) "
                        "WHERE o.outcome_known_date <= ? ORDER BY p.month", (day,)).fetchall()
    return [row[0] for row in rows]


def labelled(conn: sqlite3.Connection, date) -> pd.DataFrame:
    """The funded loans whose outcome was known on ``date``: inputs, outcome, when it became
    known, and the propensity of being funded. What a retraining on ``date`` can learn from."""
    day = pd.Timestamp(date).strftime("%Y-%m-%d")
    rows = conn.execute(
        "SELECT p.application_id, p.scored_at, p.inputs, o.defaulted, o.outcome_known_date, p.propensity "
        "FROM predictions p JOIN outcomes o USING (application_id) "
        "WHERE o.outcome_known_date <= ? ORDER BY p.scored_at, p.application_id", (day,)).fetchall()
    if not rows:
        return pd.DataFrame(columns=["application_id", "application_date", "defaulted",
                                     "outcome_known_date", "propensity"])
    frame = _with_inputs(rows)
    frame["defaulted"] = [row[3] for row in rows]
    frame["outcome_known_date"] = pd.to_datetime([row[4] for row in rows])
    frame["propensity"] = [row[5] for row in rows]
    return frame
