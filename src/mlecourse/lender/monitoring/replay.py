"""A production replay: month by month, the real service scores that month's applications.

For each month, in order, what a lender's batch job would do:

1. **validate** the month's raw applications (``validation.validate_batch``
   against the training reference): a rejected batch is recorded in the log
   and never reaches the model; quarantined rows are held back;
2. **clean** the accepted rows as training was cleaned (``features.clean_loans``);
3. **score** them through the service over HTTP, ``batch_size`` applications
   per request (the service accepts up to ``serving.MAX_BATCH``), timing each;
4. **fund** the approved applications and, at random, a documented share of
   the refused ones (the random-approval holdout of
   :mod:`mlecourse.lender.monitoring.outcomes`);
5. **log** every prediction (:mod:`mlecourse.lender.monitoring.predlog`) and the
   *funded* loans' outcomes, each with the date it becomes known. A refused
   applicant never borrows: the data file knows their outcome, the lender
   never does, and the log never holds it.

The clock is the data's: an application is scored on its ``application_date``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import pandas as pd

from mlecourse.lender import features
from mlecourse.lender.data import validation
from mlecourse.lender.monitoring import outcomes, predlog
from mlecourse.lender.serving.api import MAX_BATCH, as_applications


class ReplayError(RuntimeError):
    """The service refused or failed a request during the replay."""


@dataclass
class MonthResult:
    month: str
    rows_in: int
    scored: int
    rejected: bool
    reasons: list[str] = field(default_factory=list)
    requests: int = 0
    seconds: float = 0.0


def months_of(frame: pd.DataFrame, start: str, end: str) -> list[str]:
    """The calendar months (YYYY-MM) from ``start`` to ``end`` inclusive."""
    return [str(m) for m in pd.period_range(start, end, freq="M")]


def score_month(client, applications: pd.DataFrame, conn, month: str,
                batch_size: int = MAX_BATCH, holdout: float = outcomes.HOLDOUT_SHARE) -> tuple[int, int]:
    """Score ``applications`` through the service in batches, decide which loans are funded
    (``holdout``: the share of refusals funded at random), and log them: (rows, requests)."""
    if not 1 <= batch_size <= MAX_BATCH:
        raise ValueError(f"batch_size must be 1 to {MAX_BATCH}, got {batch_size}")
    requests = 0
    for start in range(0, len(applications), batch_size):
        part = applications.iloc[start:start + batch_size]
        bodies = as_applications(part)
        began = time.perf_counter()
        response = client.post("/predict", json={"applications": bodies})
        latency_ms = (time.perf_counter() - began) * 1000
        if response.status_code != 200:
            raise ReplayError(f"{month}: the service answered {response.status_code} to a batch of "
                              f"{len(bodies)}: {response.text[:200]}")
        requests += 1
        answer = response.json()
        funded = outcomes.funding([p["decision"] for p in answer["predictions"]], part["application_id"],
                                  holdout)
        predlog.log_predictions(conn, predlog.prediction_rows(
            f"{month}-{requests:03d}", part, bodies, answer, latency_ms, funded))
    return len(applications), requests


def replay_month(client, raw_month: pd.DataFrame, conn, month: str, reference: validation.Reference,
                 batch_size: int = MAX_BATCH, holdout: float = outcomes.HOLDOUT_SHARE) -> MonthResult:
    """Validate, clean, score, fund and log one month of raw applications."""
    began = time.perf_counter()
    report = validation.validate_batch(raw_month, reference)
    if report.rejected:
        predlog.record_rejection(conn, month, report.rows_in, report.reasons)
        return MonthResult(month, report.rows_in, 0, True, list(report.reasons),
                           seconds=time.perf_counter() - began)
    clean, _ = features.clean_loans(report.accepted)
    scored, requests = score_month(client, clean, conn, month, batch_size, holdout)
    predlog.record_outcomes(conn, clean)  # the funded loans' only
    return MonthResult(month, report.rows_in, scored, False, requests=requests,
                       seconds=time.perf_counter() - began)


def replay(client, raw: pd.DataFrame, conn, months: list[str], reference: validation.Reference,
           batch_size: int = MAX_BATCH, holdout: float = outcomes.HOLDOUT_SHARE) -> pd.DataFrame:
    """Replay ``months`` of ``raw`` through the service behind ``client`` (an httpx.Client).

    Returns one row per month: rows in, scored, rejected, requests, seconds.
    """
    by_month = raw["application_date"].dt.strftime("%Y-%m")
    results = [replay_month(client, raw[by_month == month], conn, month, reference, batch_size, holdout)
               for month in months]
    return pd.DataFrame([r.__dict__ for r in results])
