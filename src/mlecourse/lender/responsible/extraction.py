"""Copying a model through its API (Tramèr et al., 2016), and what the service's defences do to it.

A scoring service answers anyone who can reach it. An attacker who sends it
made-up applications and records the answers can train a model of their
own that decides as the lender's does: a copy to game (which change turns
a refusal into an approval?) or to resell. This module is the attack,
run against the real service:

* :func:`attacker_applications`: made-up applications, each field drawn on
  its own from values the attacker knows are typical (from a few hundred
  real applications), so the fields are plausible one by one but not together;
* :func:`query`: sends them to ``/predict`` in batches and keeps what the
  answer carries (probability when published, and the decision);
* :func:`fit_copy`: the attacker's model: boosting on the log-odds when
  probabilities are published, on the decisions when they are not;
* :func:`agreement`: the share of real applications on which the copy
  decides as the service does, which is what the attacker wants.

The defences are the service's own: an API key (no key, no answer), the rate
limit (one application of /predict costs 1, one of /explain 20, per
client), probabilities rounded, or decisions only (``decisions_only=True``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from mlecourse.lender import features
from mlecourse.lender.serving import api


class QueryRefused(RuntimeError):
    """The service stopped answering the attacker; ``answered`` rows were answered before it did."""

    def __init__(self, status: int, retry_after: str | None, answered: int):
        super().__init__(f"the service answered {status} after {answered} applications"
                         + (f" (Retry-After: {retry_after} s)" if retry_after else ""))
        self.status, self.retry_after, self.answered = status, retry_after, answered


def attacker_applications(known: pd.DataFrame, n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` made-up applications: each input drawn independently from its known (non-missing) values."""
    if known.empty:
        raise ValueError("the attacker needs some known applications to draw typical values from")
    rng = np.random.default_rng(seed)
    columns = {}
    for c in features.RAW_FEATURES:  # every field filled: a made-up application has no reason to leave one blank
        values = known[c].dropna().to_numpy()
        if len(values) == 0:
            raise ValueError(f"no known value of {c!r} to draw from")
        columns[c] = values[rng.integers(0, len(values), n)]
    return pd.DataFrame(columns)


def query(client, frame: pd.DataFrame, *, batch: int = 1000, headers=None) -> pd.DataFrame:
    """Every row of ``frame`` sent to ``/predict`` in batches; the answers as a frame.

    Columns: ``refuse`` (bool) and ``probability`` (NaN when the service
    publishes decisions only). Raises :class:`QueryRefused` at the first
    answer that is not 200 (no key, over the rate): an attacker cannot retry
    their way past a limit, only wait.
    """
    rows = []
    for start in range(0, len(frame), batch):
        body = {"applications": api.as_applications(frame.iloc[start:start + batch])}
        response = client.post("/predict", json=body, headers=headers)
        if response.status_code != 200:
            raise QueryRefused(response.status_code, response.headers.get("retry-after"), len(rows))
        rows += response.json()["predictions"]
    return pd.DataFrame({"refuse": [r["decision"] == "refuse" for r in rows],
                         "probability": [r.get("probability_of_default", np.nan) for r in rows]})


class Copy:
    """The attacker's model: ``refuse(X)`` decides as it learnt the service decides."""

    def __init__(self, model, threshold: float | None):
        self.model, self.threshold = model, threshold  # threshold: on log-odds; None for a classifier

    def refuse(self, X: pd.DataFrame) -> np.ndarray:
        if self.threshold is None:
            return self.model.predict(X).astype(bool)
        return self.model.predict(X) > self.threshold


def _log_odds(p: np.ndarray, step: float) -> np.ndarray:
    p = np.clip(p, step / 2, 1 - step / 2)  # a published 0.0 means "under half a step"
    return np.log(p / (1 - p))


def fit_copy(X: pd.DataFrame, answers: pd.DataFrame, decimals: int | None = 4, seed: int = 0) -> Copy:
    """Boosting on the answers: a regression on the log-odds when probabilities are published
    (to ``decimals``), a classifier on the decisions otherwise.

    The service does not publish its threshold, but its answers give it away:
    it lies between the highest probability approved and the lowest refused.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.pipeline import Pipeline

    refuse = answers["refuse"].to_numpy(bool)
    prepare = features.build_preprocessor(scale=False)
    if answers["probability"].isna().all():
        if refuse.all() or not refuse.any():
            raise ValueError("every answer is the same decision: there is nothing to learn yet")
        model = Pipeline([("features", prepare), ("model", HistGradientBoostingClassifier(random_state=seed))])
        return Copy(model.fit(X, refuse), None)
    p = answers["probability"].to_numpy(float)
    step = 10.0 ** -(decimals if decimals is not None else 12)
    model = Pipeline([("features", prepare), ("model", HistGradientBoostingRegressor(random_state=seed))])
    model.fit(X, _log_odds(p, step))
    if refuse.any() and (~refuse).any():
        cut = (p[~refuse].max() + p[refuse].min()) / 2
    else:  # all one decision: no sign of the threshold yet; the lender's is a guess away
        cut = 0.5
    return Copy(model, float(_log_odds(np.array([cut]), step)[0]))


def agreement(copy: Copy, X: pd.DataFrame, served_refuse) -> float:
    """Share of the applications ``X`` on which the copy decides as the service did."""
    return float(np.mean(copy.refuse(X) == np.asarray(served_refuse, dtype=bool)))


def curve(X_queries: pd.DataFrame, answers: pd.DataFrame, X_real: pd.DataFrame, served_refuse,
          sizes, decimals: int | None = 4) -> pd.Series:
    """Agreement of copies fitted on the first ``n`` answers, for each ``n`` in ``sizes``."""
    out = {}
    for n in sizes:
        if n > len(answers):
            raise ValueError(f"only {len(answers)} answers; cannot fit a copy on {n}")
        out[int(n)] = agreement(fit_copy(X_queries.iloc[:n], answers.iloc[:n], decimals), X_real, served_refuse)
    return pd.Series(out, name="agreement").rename_axis("queries")


def hours_to_query(n: int, rate: float, burst: float, cost: float = 1.0) -> float:
    """Hours a client limited to ``rate`` per second (``burst`` at once) needs for ``n`` answers
    costing ``cost`` each (1 for /predict, 20 for /explain)."""
    if rate <= 0:
        raise ValueError("the rate must be positive")
    return max(0.0, n * cost - burst) / rate / 3600
