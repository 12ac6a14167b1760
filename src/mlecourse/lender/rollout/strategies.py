"""Putting a new model version in front of users without betting the business on it.

This is the production side of the deployment chapter's rollout section. A
*version* here is anything that turns a DataFrame of applications into an
array of probabilities of default: a fitted model in this process
(:func:`model_predictor`) or a running service called over HTTP
(:func:`http_predictor`). The strategies do not care which.

* **Canary** (:class:`Router`, :class:`Guards`, :func:`run_canary`): a
  growing share of the traffic goes to the candidate, and each step is
  checked against guards (error rate, latency, a shift in its predictions);
  a breached guard sends all traffic back to the stable version at once.
* **Blue-green** (:class:`BlueGreen`, :func:`traffic_during`): two complete
  versions are live; the switch from one to the other is a single reference
  swap, and so is the way back.
* **Shadow** (:class:`Shadow`, :func:`compare_shadow`): every request is also
  sent to the candidate, off the user's path; users only ever see the stable
  answer, and the two are compared afterwards.
* **A/B test**: the statistics (sticky arms, sample size, significance)
  are in :mod:`mlecourse.lender.rollout.abtest`; they do not route traffic.

Traffic is assigned with a hash of an id (:func:`bucket`), never with
``random``: the same application or customer always lands on the same side,
on any machine and in any run, and raising a canary's weight only adds
requests to the candidate, it never moves one back.
"""
from __future__ import annotations

import hashlib
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

import numpy as np
import pandas as pd
from scipy import stats

from mlecourse.lender.features import DATE, RAW_FEATURES
from mlecourse.lender.modeling import openmp

Predictor = Callable[[pd.DataFrame], np.ndarray]
STABLE, CANDIDATE = "stable", "candidate"
STEPS = (0.05, 0.25, 0.5, 1.0)


# --- assignment ------------------------------------------------------------------

def bucket(keys: Iterable[Any], salt: str = "") -> np.ndarray:
    """A number in [0, 1) for each key, the same on every machine and in every run.

    SHA-256 of ``salt`` and the key, not Python's ``hash()`` (which changes
    between processes for text). A different salt gives an independent split,
    so a canary and an A/B test running at the same time do not pick the same
    customers.
    """
    out = []
    for key in keys:
        digest = hashlib.sha256(f"{salt}:{key}".encode()).digest()
        out.append(int.from_bytes(digest[:8], "big") / 2**64)
    return np.asarray(out, dtype=float)


# --- versions ----------------------------------------------------------------------

def model_predictor(model, *, threads: int | None = 1) -> Predictor:
    """A fitted classifier as a version: raw application fields in, P(default) out.

    ``threads``: OpenMP threads per call (None leaves the library's default),
    as a service would set it.
    """
    columns = list(RAW_FEATURES)
    limit = openmp.thread_limit(threads)

    def predict(frame: pd.DataFrame) -> np.ndarray:
        with limit():
            return model.predict_proba(frame[columns])[:, 1]

    return predict


def records(frame: pd.DataFrame) -> list[dict]:
    """The applications as the service's clients send them (see ``serving.as_applications``)."""
    from mlecourse.lender.serving.api import as_applications

    return as_applications(frame)


def http_predictor(base_url: str, *, client=None, timeout: float = 10.0) -> Predictor:
    """A running service as a version: one POST /predict per call, with the batch body.

    Any answer but 200 raises (``httpx.HTTPStatusError``), as does a service
    that cannot be reached (``httpx.ConnectError``): the caller counts both as
    failed requests. Pass an ``httpx.Client`` to reuse its connections.
    """
    import httpx

    http = client or httpx.Client(timeout=timeout)
    url = base_url.rstrip("/") + "/predict"

    def predict(frame: pd.DataFrame) -> np.ndarray:
        response = http.post(url, json={"applications": records(frame)})
        response.raise_for_status()
        body = response.json()
        return np.asarray([p["probability_of_default"] for p in body["predictions"]], dtype=float)

    return predict


def _valid(probabilities: Any, n: int) -> np.ndarray:
    """The version's answer as n probabilities, or an error saying why it is not one."""
    values = np.asarray(probabilities, dtype=float).reshape(-1)
    if values.shape != (n,):
        raise ValueError(f"expected {n} probabilities, got {values.size}")
    if not np.all(np.isfinite(values) & (values >= 0) & (values <= 1)):
        raise ValueError("a probability is missing or outside [0, 1]")
    return values


def call_version(predict: Predictor, frame: pd.DataFrame, chunk_size: int = 100) -> pd.DataFrame:
    """Score ``frame`` with one version, in micro-batches; one row per application.

    Columns: ``probability`` (NaN where it failed), ``latency_ms`` (the time of
    the call that served the row), ``error`` ('' when fine, else the error's
    type and message). A micro-batch that fails is split in halves and
    retried, down to single rows, so one bad application does not fail its
    neighbours (and a few bad rows cost a few calls, not one per row).
    """
    n = len(frame)
    probability = np.full(n, np.nan)
    latency = np.full(n, np.nan)
    error = np.full(n, "", dtype=object)

    def serve(start: int, stop: int) -> None:
        began = time.perf_counter()
        try:
            probability[start:stop] = _valid(predict(frame.iloc[start:stop]), stop - start)
            latency[start:stop] = (time.perf_counter() - began) * 1000
            return
        except Exception as err:
            if stop - start == 1:
                error[start] = f"{type(err).__name__}: {err}"[:200]
                latency[start] = (time.perf_counter() - began) * 1000
                return
        middle = (start + stop) // 2
        serve(start, middle)
        serve(middle, stop)

    size = max(1, int(chunk_size))
    for start in range(0, n, size):
        serve(start, min(n, start + size))
    return pd.DataFrame({"probability": probability, "latency_ms": latency, "error": error},
                        index=frame.index)


# --- canary --------------------------------------------------------------------------

@dataclass
class Router:
    """Sends each application to the stable or the candidate version.

    An application goes to the candidate when the bucket of its id is below
    ``weight``: sticky (the same id, the same version) and monotone (raising
    the weight from 5% to 25% keeps the first 5% where they were).
    """
    stable: Predictor
    candidate: Predictor | None = None
    weight: float = 0.0
    key: str = "application_id"
    salt: str = "canary"
    chunk_size: int = 100

    def assign(self, keys: Iterable[Any]) -> np.ndarray:
        if not 0 <= self.weight <= 1:
            raise ValueError(f"weight must be between 0 and 1, got {self.weight}")
        keys = list(keys)
        if self.candidate is None or self.weight == 0:
            return np.full(len(keys), STABLE, dtype=object)
        return np.where(bucket(keys, self.salt) < self.weight, CANDIDATE, STABLE).astype(object)

    def route(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Serve every application in ``frame``; one log row per application, in order."""
        version = self.assign(frame[self.key])
        n = len(frame)
        probability, latency = np.full(n, np.nan), np.full(n, np.nan)
        error = np.full(n, "", dtype=object)
        for name, predict in ((STABLE, self.stable), (CANDIDATE, self.candidate)):
            where = np.flatnonzero(version == name)
            if len(where):
                served = call_version(predict, frame.iloc[where], self.chunk_size)
                probability[where] = served["probability"].to_numpy()
                latency[where] = served["latency_ms"].to_numpy()
                error[where] = served["error"].to_numpy()
        return pd.DataFrame({"key": frame[self.key].to_numpy(), "version": version,
                             "probability": probability, "latency_ms": latency, "error": error},
                            index=frame.index)


def ks_margin(n: int, m: int, confidence: float = 0.95) -> float:
    """How large a two-sample KS statistic can be by chance alone, at this confidence.

    The classical large-sample bound c(alpha) * sqrt((n + m) / (n m)) with
    c(alpha) = sqrt(-ln(alpha / 2) / 2): 1.36 at 95%.
    """
    if n <= 0 or m <= 0:
        return math.inf
    alpha = 1 - confidence
    return math.sqrt(-math.log(alpha / 2) / 2) * math.sqrt((n + m) / (n * m))


@dataclass(frozen=True)
class Guards:
    """When a canary step must be rolled back, and when it has seen too little to judge.

    * ``max_error_rate``: share of the candidate's requests that failed.
    * ``max_p95_ms`` and ``max_latency_ratio``: the candidate's 95th percentile
      latency breaches when it is above the service's objective AND more than
      ``max_latency_ratio`` times the stable version's. Both conditions,
      because a busy machine slows every version: the ratio tells a slow
      candidate from a slow afternoon. And twice in a row: a step whose only
      breach is latency holds the weight for one more batch, and rolls back
      only if the next batch breaches too (as an alert's ``for:`` waits for a
      condition to last). One stalled moment of a shared machine hits the few
      calls of one step, and without this it rolled back a good version.
    * ``max_shift``: tolerated two-sample KS statistic between the candidate's
      predictions and the stable version's. A small canary step sees few
      requests, so the statistic is noisy: the guard fires only when the
      statistic exceeds the tolerance by more than chance allows
      (:func:`ks_margin`), so a good candidate is not rolled back for bad luck.
    * ``min_requests``: below this many candidate requests, a step that
      breaches nothing is held (it waits for more traffic) instead of promoted.
    """
    max_error_rate: float = 0.01
    max_p95_ms: float = 250.0
    max_latency_ratio: float = 3.0
    max_shift: float = 0.10
    confidence: float = 0.95
    min_requests: int = 30

    def evaluate(self, candidate_log: pd.DataFrame, reference: np.ndarray,
                 reference_latency_ms: np.ndarray | None = None) -> dict:
        """The step's measurements and the list of guards it breached.

        ``reference``: the stable version's predictions to compare with;
        ``reference_latency_ms``: its latencies (if None, only the objective counts).
        """
        n = len(candidate_log)
        failed = candidate_log["error"].astype(str) != "" if n else pd.Series(dtype=bool)
        errors = int(failed.sum())
        error_rate = errors / n if n else math.nan
        p95 = float(np.percentile(candidate_log["latency_ms"], 95)) if n else math.nan
        served = candidate_log.loc[~failed, "probability"].to_numpy(float) if n else np.array([])
        reference = np.asarray(reference, dtype=float)
        if len(served) and len(reference):
            shift = float(stats.ks_2samp(served, reference).statistic)
            limit = self.max_shift + ks_margin(len(served), len(reference), self.confidence)
        else:
            shift, limit = math.nan, math.nan
        breached = []
        if n and error_rate > self.max_error_rate:
            breached.append("error rate")
        stable_p95 = (float(np.percentile(reference_latency_ms, 95))
                      if reference_latency_ms is not None and len(reference_latency_ms) else 0.0)
        if n and p95 > self.max_p95_ms and p95 > self.max_latency_ratio * stable_p95:
            breached.append("latency")
        if not math.isnan(shift) and shift > limit:
            breached.append("prediction shift")
        return {"candidate_requests": n, "errors": errors, "error_rate": error_rate,
                "p95_ms": p95, "stable_p95_ms": stable_p95, "shift": shift, "shift_limit": limit, "breached": breached}


def next_step(weight: float, steps: tuple[float, ...] = STEPS) -> float:
    """The first step above ``weight`` (the last step stays where it is)."""
    above = [s for s in steps if s > weight]
    return min(above) if above else max(steps)


def _batches(traffic) -> list[tuple[Any, pd.DataFrame]]:
    if isinstance(traffic, Mapping):
        return list(traffic.items())
    return list(enumerate(traffic))


def run_canary(router: Router, traffic, steps: tuple[float, ...] = STEPS,
               guards: Guards = Guards()) -> pd.DataFrame:
    """Walk the candidate through ``steps``, one batch of traffic at a time.

    ``traffic``: a list of DataFrames, or a mapping label -> DataFrame (e.g.
    one month of applications each, see :func:`by_period`). After each batch
    the candidate's requests are checked with ``guards`` against all the
    stable version's predictions so far. (At 100% the batch has no stable
    requests, so the comparison is with earlier batches: a season that
    changes who applies would count as shift. A production canary keeps a
    small stable share, or scores a sample with both versions.) A breach rolls back (weight 0) and
    ends the canary (a breach of latency alone holds first, and rolls back if
    the next batch breaches it again); too few requests holds the weight;
    otherwise the weight moves to the next step, and a clean step at 100%
    completes the rollout.

    Returns one row per batch served: the weight it was served at, the
    measurements, the decision (promote, hold, rollback, complete) and the
    weight that follows. The router is left at the final weight.
    """
    steps = tuple(sorted(steps))
    if not steps or steps[0] <= 0 or steps[-1] != 1.0:
        raise ValueError(f"steps must be positive and end at 1.0, got {steps}")
    if router.candidate is None:
        raise ValueError("the router has no candidate to roll out")
    router.weight = steps[0]
    reference: list[np.ndarray] = []
    latencies: list[np.ndarray] = []
    rows = []
    slow_before = False  # the previous step breached latency (and only latency)
    for label, batch in _batches(traffic):
        weight = router.weight
        log = router.route(batch)
        ok = log["error"] == ""
        stable_ok = log.loc[(log["version"] == STABLE) & ok, "probability"].to_numpy(float)
        if len(stable_ok):
            reference.append(stable_ok)
            latencies.append(log.loc[log["version"] == STABLE, "latency_ms"].to_numpy(float))
        past = np.concatenate(reference) if reference else np.array([])
        past_ms = np.concatenate(latencies) if latencies else np.array([])
        measured = guards.evaluate(log[log["version"] == CANDIDATE], past, past_ms)
        only_slow = measured["breached"] == ["latency"]
        if only_slow and not slow_before:
            decision, following = "hold", weight  # confirm on the next batch
        elif measured["breached"]:
            decision, following = "rollback", 0.0
        elif measured["candidate_requests"] < guards.min_requests:
            decision, following = "hold", weight
        elif weight >= steps[-1]:
            decision, following = "complete", 1.0
        else:
            decision, following = "promote", next_step(weight, steps)
        rows.append({"batch": label, "weight": weight, "requests": len(log), **measured,
                     "breached": ", ".join(measured["breached"]), "decision": decision,
                     "next_weight": following})
        router.weight = following
        slow_before = only_slow
        if decision in ("rollback", "complete"):
            break
    return pd.DataFrame(rows)


def by_period(frame: pd.DataFrame, freq: str = "M", date_column: str = DATE) -> dict:
    """Traffic in batches: label -> the rows of each period ('M' month, 'W' week), in date order."""
    ordered = frame.sort_values(date_column, kind="stable")
    groups = ordered.groupby(ordered[date_column].dt.to_period(freq))
    return {str(period): rows for period, rows in groups}


# --- blue-green -------------------------------------------------------------------------

class BlueGreen:
    """Two live versions and one pointer to the one users get.

    ``switch`` and ``rollback`` replace that pointer in one assignment (under a
    lock so that two operators cannot interleave); a request reads it once, so
    every request is served entirely by one version, before or after the
    switch, never by a mix.
    """

    def __init__(self, blue: Predictor, green: Predictor, live: str = "blue"):
        self.versions = {"blue": blue, "green": green}
        if live not in self.versions:
            raise ValueError(f"live must be 'blue' or 'green', got {live!r}")
        self._live = live
        self._previous: str | None = None
        self._lock = threading.Lock()
        self.history: list[tuple[float, str]] = [(time.perf_counter(), live)]

    @property
    def live(self) -> str:
        return self._live

    def predict(self, frame: pd.DataFrame) -> tuple[str, np.ndarray]:
        """The live version's name and its predictions for ``frame``."""
        name = self._live  # one read: the whole request uses this version
        return name, self.versions[name](frame)

    def switch(self, to: str | None = None) -> str:
        """Send all new requests to ``to`` (default: the other colour); returns it."""
        with self._lock:
            target = to or ("green" if self._live == "blue" else "blue")
            if target not in self.versions:
                raise ValueError(f"no version {target!r}; use 'blue' or 'green'")
            if target != self._live:
                self._previous, self._live = self._live, target
                self.history.append((time.perf_counter(), target))
            return target

    def rollback(self) -> str:
        """Back to the version that was live before the last switch."""
        if self._previous is None:
            raise RuntimeError("nothing to roll back to: there has been no switch")
        return self.switch(self._previous)


def traffic_during(send: Callable[[pd.DataFrame], Any], requests: list[pd.DataFrame],
                   action: Callable[[], Any] | None = None, *, concurrency: int = 4,
                   after: float = 0.5, interval: float = 0.0) -> pd.DataFrame:
    """Send ``requests`` from ``concurrency`` threads; run ``action`` part-way through.

    Each thread is a client that sends its next request when the previous one
    is answered, but not sooner than ``interval`` seconds after it started: a
    steady stream, as real callers make, rather than a loop that fires as fast
    as refusals come back.

    ``action`` runs in the calling thread once a share ``after`` of the
    requests has been answered, while the others are still in flight. Returns
    one row per request: when it started and ended (seconds from the start),
    whether it succeeded, what ``send`` returned (e.g. the version's name) or
    the error, and the column ``after_action`` (started after the action ended).
    """
    total = len(requests)
    results: list[dict | None] = [None] * total
    next_index = iter(range(total))
    take = threading.Lock()
    done = threading.Semaphore(0)
    origin = time.perf_counter()

    def worker():
        while True:
            with take:
                i = next(next_index, None)
            if i is None:
                return
            began = time.perf_counter() - origin
            try:
                answer, ok, error = send(requests[i]), True, ""
            except Exception as err:  # a failed request is a result, not a crash
                answer, ok, error = None, False, f"{type(err).__name__}: {err}"[:200]
            ended = time.perf_counter() - origin
            results[i] = {"request": i, "start_s": began, "end_s": ended,
                          "ok": ok, "answer": answer, "error": error}
            done.release()
            if interval > ended - began:
                time.sleep(interval - (ended - began))

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(max(1, concurrency))]
    for t in threads:
        t.start()
    action_start = action_end = math.nan
    if action is not None:
        for _ in range(min(total, int(total * after))):
            done.acquire()
        action_start = time.perf_counter() - origin
        action()
        action_end = time.perf_counter() - origin
    for t in threads:
        t.join()
    log = pd.DataFrame([r for r in results if r is not None])
    log["after_action"] = log["start_s"] >= action_end if action is not None else False
    log.attrs.update(action_start_s=action_start, action_end_s=action_end)
    return log


# --- shadow -------------------------------------------------------------------------------

class Shadow:
    """Users get the stable version's answer; the candidate sees the same requests.

    The candidate is called on a background thread after the stable answer
    is ready, so its latency and its failures never reach a user. Call
    :meth:`results` to wait for the mirrored calls and get both sides.
    """

    def __init__(self, stable: Predictor, candidate: Predictor, *, key: str = "application_id",
                 workers: int = 2):
        self.stable, self.candidate, self.key = stable, candidate, key
        self._pool = ThreadPoolExecutor(max_workers=workers)
        self._pending: list = []
        self._lock = threading.Lock()

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        began = time.perf_counter()
        answer = _valid(self.stable(frame), len(frame))  # the user's answer: errors propagate
        stable_ms = (time.perf_counter() - began) * 1000
        future = self._pool.submit(self._mirror, frame.copy(), answer.copy(), stable_ms)
        with self._lock:
            self._pending.append(future)
        return answer

    def _mirror(self, frame: pd.DataFrame, stable: np.ndarray, stable_ms: float) -> pd.DataFrame:
        began = time.perf_counter()
        try:
            candidate, error = _valid(self.candidate(frame), len(frame)), ""
        except Exception as err:
            candidate, error = np.full(len(frame), np.nan), f"{type(err).__name__}: {err}"[:200]
        return pd.DataFrame({"key": frame[self.key].to_numpy(), "stable": stable,
                             "candidate": candidate, "stable_ms": stable_ms,
                             "candidate_ms": (time.perf_counter() - began) * 1000,
                             "candidate_error": error})

    def results(self) -> pd.DataFrame:
        """Every mirrored request so far (waits for those still running), in request order."""
        with self._lock:
            pending = list(self._pending)
        parts = [f.result() for f in pending]
        if not parts:
            return pd.DataFrame(columns=["key", "stable", "candidate", "stable_ms",
                                         "candidate_ms", "candidate_error"])
        return pd.concat(parts, ignore_index=True)

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def __enter__(self) -> "Shadow":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def compare_shadow(log: pd.DataFrame, threshold: float) -> dict:
    """How the candidate would have decided, next to what users got.

    ``threshold``: refuse when P(default) is above it. Rows where the
    candidate failed count as errors and are left out of the comparisons.
    """
    if len(log) == 0:
        raise ValueError("the shadow log is empty: no request was mirrored")
    failed = log["candidate_error"].astype(str) != ""
    both = log.loc[~failed]
    refuse_stable = both["stable"] > threshold
    refuse_candidate = both["candidate"] > threshold
    enough = len(both) > 1 and both["stable"].std() > 0 and both["candidate"].std() > 0
    return {
        "requests": len(log),
        "candidate_errors": int(failed.sum()),
        "decision_agreement": float((refuse_stable == refuse_candidate).mean()) if len(both) else math.nan,
        "refusal_rate_stable": float(refuse_stable.mean()) if len(both) else math.nan,
        "refusal_rate_candidate": float(refuse_candidate.mean()) if len(both) else math.nan,
        "correlation": float(np.corrcoef(both["stable"], both["candidate"])[0, 1]) if enough else math.nan,
        "mean_abs_difference": float((both["stable"] - both["candidate"]).abs().mean()) if len(both) else math.nan,
    }
