"""How fast is the service, and what does the HTTP layer cost on top of the model?

:func:`run_load` sends requests from a pool of client threads (one
``httpx.Client`` each, with keep-alive, as a real caller would) and records
every request; :func:`summarise` turns latencies into percentiles and
throughput; :func:`raw_predict_timings` times the model alone on the same
rows, so the difference is the service's own overhead (parsing, validation,
building the frame, serialising, HTTP).

Percentiles, not the mean: users feel the slow requests, and one slow
request in a hundred is p99.

Command line (the table in the deployment chapter's instructor notes)::

    python -m mlecourse.lender.loadtest                 # trains the course model first
    python -m mlecourse.lender.loadtest --model-dir models/loan-default

Client and server share the machine. Latency is measured with ONE client
thread (nothing queues behind anything); throughput with a few threads
(default 4), which keeps a two-core laptop busy without drowning it.
"""
from __future__ import annotations

import argparse
import itertools
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

COLUMNS = ("request", "client", "start_s", "end_s", "latency_ms", "status", "batch_size", "error")


def _batch_size(payload) -> int:
    if isinstance(payload, dict) and isinstance(payload.get("applications"), list):
        return len(payload["applications"])
    return 1


def run_load(url: str, payloads, *, concurrency: int = 8, requests: int = 200,
             warmup: int = 2, timeout: float = 30.0) -> pd.DataFrame:
    """POST ``requests`` bodies to ``url`` from ``concurrency`` client threads.

    ``payloads`` is a list of JSON-ready bodies (dicts) used in turn; each is
    serialised once, before the clock starts. Each client thread first sends
    ``warmup`` unrecorded requests (connection set-up, first-call caches).
    Returns one row per request: ``latency_ms``, ``status`` (0 when the
    request failed without an HTTP answer), ``batch_size``, ``error`` (text,
    empty when none), and ``start_s``/``end_s`` seconds since the run began,
    from which :func:`summarise` computes the throughput.
    """
    import httpx

    if concurrency < 1 or requests < 0:
        raise ValueError("concurrency must be >= 1 and requests >= 0")
    payloads = list(payloads)
    if not payloads:
        raise ValueError("no payloads to send")
    bodies = [(json.dumps(p).encode(), _batch_size(p)) for p in payloads]
    headers = {"content-type": "application/json"}
    counter = itertools.count()
    lock = threading.Lock()
    ready = threading.Barrier(concurrency)
    t0 = [0.0]
    records: list[tuple] = []

    def client(index: int) -> list[tuple]:
        rows = []
        with httpx.Client(timeout=timeout, headers=headers) as http:
            for i in range(warmup):
                try:
                    http.post(url, content=bodies[i % len(bodies)][0])
                except httpx.HTTPError:
                    pass
            if ready.wait() == 0:
                t0[0] = time.perf_counter()
            ready.wait()
            while True:
                with lock:
                    i = next(counter)
                if i >= requests:
                    return rows
                body, size = bodies[i % len(bodies)]
                start = time.perf_counter()
                try:
                    status, error = http.post(url, content=body).status_code, ""
                except httpx.HTTPError as exc:
                    status, error = 0, f"{type(exc).__name__}: {exc}"
                end = time.perf_counter()
                rows.append((i, index, start - t0[0], end - t0[0], (end - start) * 1000.0,
                             status, size, error))

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for rows in pool.map(client, range(concurrency)):
            records.extend(rows)
    frame = pd.DataFrame(records, columns=list(COLUMNS))
    return frame.sort_values("request", ignore_index=True)


def summarise(latencies_ms, *, elapsed_s: float | None = None) -> dict:
    """Percentiles (p50, p95, p99), mean and throughput of a set of latencies.

    ``latencies_ms`` is a sequence of milliseconds or a :func:`run_load`
    frame. Throughput (requests per second) uses ``elapsed_s`` if given,
    else the frame's wall-clock span, else assumes the requests ran one
    after the other (the sum of the latencies).
    """
    if isinstance(latencies_ms, pd.DataFrame):
        frame = latencies_ms
        values = frame["latency_ms"].to_numpy(dtype=float)
        if elapsed_s is None and len(frame) and {"start_s", "end_s"} <= set(frame.columns):
            elapsed_s = float(frame["end_s"].max() - frame["start_s"].min())
    else:
        values = np.asarray(latencies_ms, dtype=float).ravel()
    if values.size == 0:
        raise ValueError("no latencies to summarise")
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError("latencies must be finite and non-negative")
    if elapsed_s is None:
        elapsed_s = values.sum() / 1000.0
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {"n": int(values.size), "p50_ms": float(p50), "p95_ms": float(p95),
            "p99_ms": float(p99), "mean_ms": float(values.mean()),
            "throughput_rps": float(values.size / elapsed_s) if elapsed_s > 0 else float("inf")}


def raw_predict_timings(model, rows: pd.DataFrame, repeats: int = 50, *, threads: int | None = 1,
                        warmup: int = 2) -> np.ndarray:
    """Milliseconds of ``model.predict_proba(rows)``, ``repeats`` times.

    ``threads`` caps OpenMP threads as the service does (None: no cap), so
    the comparison with the service is fair.
    """
    from mlecourse.lender.serving import thread_limit

    limit = thread_limit(threads)
    out = np.empty(repeats)
    with limit():
        for _ in range(warmup):
            model.predict_proba(rows)
        for i in range(repeats):
            start = time.perf_counter()
            model.predict_proba(rows)
            out[i] = (time.perf_counter() - start) * 1000.0
    return out


# --- the benchmark ----------------------------------------------------------------

def benchmark(model_dir=None, *, single_requests: int = 400, batch_requests: int = 60,
              batch_size: int = 100, throughput_clients: int = 4, rounds: int = 4,
              in_process: bool = False, seed: int = 0) -> pd.DataFrame:
    """Service vs raw model, single applications and batches; one row per measurement.

    The service runs as its own process (``python -m mlecourse.lender.serving``, as
    in the container) on a model directory (default: the course model,
    trained and saved to a temporary directory); ``in_process=True`` runs it
    in a thread of this process instead (clients then share its GIL).
    Latency (one client thread) and the raw model's timings are measured in
    alternating rounds, so that a burst of other work on the machine hits
    both alike; throughput runs come last, with ``throughput_clients`` threads.
    """
    import tempfile

    from mlecourse.lender import artifact, features, serving
    from mlecourse.lender.data import load_loans

    clean, _ = features.clean_loans(load_loans())
    _train, valid, _test = features.split_by_date(clean)
    scratch = tempfile.TemporaryDirectory(prefix="mlecourse-bench-")
    if model_dir is None:
        model_dir = artifact.train_and_save(scratch.name, version="bench")
    model, metadata = artifact.load_model(model_dir)
    bodies = serving.as_applications(valid)
    required = [n for n, s in serving.artifact.feature_schema().items() if not s["nullable"]]
    bodies = [b for b in bodies if all(n in b for n in required)]
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(bodies))
    singles = [bodies[i] for i in order[:500]]
    batches = [{"applications": [bodies[i] for i in order[j:j + batch_size]]}
               for j in range(0, 20 * batch_size, batch_size)]
    kinds = {1: ("single", singles, single_requests),
             batch_size: (f"batch of {batch_size}", batches, batch_requests)}
    frames = {1: serving.applications_frame(singles[:1]),
              batch_size: serving.applications_frame(batches[0]["applications"])}

    server = (serving.serve(serving.create_app(model, metadata)) if in_process
              else serving.serve_process(model_dir))
    service = {size: [] for size in kinds}
    raw = {size: [] for size in kinds}
    rows = []
    with scratch, server as url:
        for _ in range(rounds):
            for size, (kind, payloads, n) in kinds.items():
                result = run_load(f"{url}/predict", payloads, concurrency=1,
                                  requests=max(1, n // rounds))
                service[size].append(result)
                raw[size].append(raw_predict_timings(model, frames[size], max(1, n // rounds)))
        for size, (kind, payloads, n) in kinds.items():
            result = pd.concat(service[size], ignore_index=True)
            rows.append({"what": f"service, {kind}", "clients": 1, "rows": size,
                         "failed": int((result["status"] != 200).sum()),
                         **summarise(result["latency_ms"])})
            result = run_load(f"{url}/predict", payloads, concurrency=throughput_clients, requests=n)
            rows.append({"what": f"service, {kind}", "clients": throughput_clients, "rows": size,
                         "failed": int((result["status"] != 200).sum()), **summarise(result)})
    for size in kinds:
        rows.append({"what": f"raw predict_proba, {size} row{'s' if size > 1 else ''}",
                     "clients": 1, "rows": size, "failed": 0,
                     **summarise(np.concatenate(raw[size]))})
    return pd.DataFrame(rows)


def overhead(table: pd.DataFrame) -> pd.DataFrame:
    """Service p50 (one client) against the raw model's p50, per request size."""
    out = []
    for size in sorted(table["rows"].unique()):
        service = table[(table["rows"] == size) & table["what"].str.startswith("service")
                        & (table["clients"] == 1)]
        raw = table[(table["rows"] == size) & table["what"].str.startswith("raw")]
        if service.empty or raw.empty:
            continue
        s, r = service["p50_ms"].iloc[0], raw["p50_ms"].iloc[0]
        out.append({"rows": int(size), "service_p50_ms": s, "raw_p50_ms": r,
                    "overhead_ms": s - r, "overhead_ratio": s / r})
    return pd.DataFrame(out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlecourse.lender.loadtest",
                                     description="Latency and throughput of the model service on loopback.")
    parser.add_argument("--model-dir", default=None, help="serve this model directory "
                        "(default: train the course model in memory)")
    parser.add_argument("--single-requests", type=int, default=400)
    parser.add_argument("--batch-requests", type=int, default=60)
    parser.add_argument("--clients", type=int, default=4, help="client threads for throughput (default: 4)")
    parser.add_argument("--in-process", action="store_true",
                        help="run the server in a thread of this process, not as its own process")
    args = parser.parse_args(argv)

    import os

    load = os.getloadavg()
    table = benchmark(args.model_dir, single_requests=args.single_requests,
                      batch_requests=args.batch_requests, throughput_clients=args.clients,
                      in_process=args.in_process)
    shown = table.rename(columns={"p50_ms": "p50 ms", "p95_ms": "p95 ms", "p99_ms": "p99 ms",
                                  "mean_ms": "mean ms", "throughput_rps": "req/s"})
    with pd.option_context("display.width", 200, "display.max_columns", 20,
                           "display.float_format", "{:,.2f}".format):
        print(f"loopback, {os.cpu_count()} CPUs, load average before {load[0]:.1f}, after "
              f"{os.getloadavg()[0]:.1f}; latency with 1 client thread (single-client rows), "
              f"throughput with {args.clients}; the model capped at 1 OpenMP thread; server "
              f"{'in a thread of the client process' if args.in_process else 'in its own process'}")
        print(shown.drop(columns=["n"]).to_string(index=False))
        print()
        print("service overhead at p50 (one client):")
        print(overhead(table).to_string(index=False))
    return 0 if (table["failed"] == 0).all() else 1


if __name__ == "__main__":
    raise SystemExit(main())
