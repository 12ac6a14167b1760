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

    python -m mlecourse.lender.serving.loadtest                 # trains the course model first
    python -m mlecourse.lender.serving.loadtest --model-dir models/loan-default

Client and server share the machine. Latency is measured with ONE client
thread (nothing queues behind anything); throughput with a few threads
(default 4), which keeps a two-core laptop busy without drowning it.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

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
    from mlecourse.lender.modeling.openmp import thread_limit

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

    The service runs as its own process (``python -m mlecourse.lender.serving.api``, as
    in the container) on a model directory (default: the course model,
    trained and saved to a temporary directory); ``in_process=True`` runs it
    in a thread of this process instead (clients then share its GIL).
    Latency (one client thread) and the raw model's timings are measured in
    alternating rounds, so that a burst of other work on the machine hits
    both alike; throughput runs come last, with ``throughput_clients`` threads.
    """
    import tempfile

    from mlecourse.lender import features
    from mlecourse.lender.modeling import artifact
    from mlecourse.lender.serving import api
    from mlecourse.lender.data.loading import load_loans

    clean, _ = features.clean_loans(load_loans())
    _train, valid, _test = features.split_by_date(clean)
    scratch = tempfile.TemporaryDirectory(prefix="mlecourse-bench-")
    if model_dir is None:
        model_dir = artifact.train_and_save(scratch.name, version="bench")
    model, metadata = artifact.load_model(model_dir)
    bodies = api.as_applications(valid)
    required = [n for n, s in api.artifact.feature_schema().items() if not s["nullable"]]
    bodies = [b for b in bodies if all(n in b for n in required)]
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(bodies))
    singles = [bodies[i] for i in order[:500]]
    batches = [{"applications": [bodies[i] for i in order[j:j + batch_size]]}
               for j in range(0, 20 * batch_size, batch_size)]
    kinds = {1: ("single", singles, single_requests),
             batch_size: (f"batch of {batch_size}", batches, batch_requests)}
    frames = {1: api.applications_frame(singles[:1]),
              batch_size: api.applications_frame(batches[0]["applications"])}

    server = api.serve(api.create_app(model, metadata)) if in_process else _url_of(server_process(model_dir))
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


@contextmanager
def _url_of(process_server):
    """The URL of a :func:`server_process`, which yields (url, pid)."""
    with process_server as (url, _pid):
        yield url


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


# --- before and after: the hardened service against an earlier commit's ---------------

BEFORE_REF = "a59c76c"  # the service before issue 12: no micro-batching, model on the event loop
LEVELS = (1, 4, 16, 64)


PROBE_SCRIPT = """
import json, os, sys, time, httpx
url, stop, every = sys.argv[1], sys.argv[2], float(sys.argv[3])
out = []
open(stop + ".ready", "w").close()
with httpx.Client(timeout=5.0) as http:
    while not os.path.exists(stop):
        start = time.perf_counter()
        try:
            ok = http.get(url + "/health").status_code == 200
        except httpx.HTTPError:
            ok = False
        out.append((time.perf_counter() - start) * 1000.0 if ok else None)
        time.sleep(every)
print(json.dumps(out))
"""


@contextmanager
def health_probe(url: str, every_s: float = 0.05):
    """GET /health every ``every_s`` from a process of its own (as a kubelet would), while the block runs.

    Yields a list that, after the block, holds each probe's milliseconds
    (None: failed). Its own process, so the clients' threads do not delay it.
    """
    import subprocess
    import sys
    import tempfile

    out: list = []
    with tempfile.TemporaryDirectory() as scratch:
        stop = Path(scratch) / "stop"
        process = subprocess.Popen([sys.executable, "-c", PROBE_SCRIPT, url, str(stop), str(every_s)],
                                   stdout=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while not Path(f"{stop}.ready").exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)  # its interpreter starts
        try:
            yield out
        finally:
            stop.touch()
            text, _ = process.communicate(timeout=30)
            out.extend(json.loads(text or "[]"))


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def checkout_src(ref: str, into) -> Path:
    """The ``src/`` of commit ``ref`` of this repository, written under ``into`` (git archive)."""
    import io
    import subprocess
    import tarfile

    from mlecourse.paths import ROOT

    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", ref, "src"],
                             check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return Path(into) / "src"


@contextmanager
def server_process(model_dir, src=None, extra_args=(), timeout: float = 90.0):
    """The service's command on loopback, from ``src`` (default: this code); yields (url, pid).

    The command is ``python -m mlecourse.lender.service``, or ``...serving``
    for code older than the service's composition into its own module.
    """
    import subprocess
    import sys

    from mlecourse.lender.serving import api

    port = api.free_port()
    env = dict(os.environ, OMP_NUM_THREADS="1")
    if src is not None:
        env["PYTHONPATH"] = str(src)
    lender = (Path(src) if src is not None else Path(__file__).parents[3]) / "mlecourse" / "lender"
    composed = (lender / "service").is_dir() or (lender / "service.py").exists()
    module = "mlecourse.lender.service" if composed else "mlecourse.lender.serving"
    command = [sys.executable, "-m", module, "--model-dir", str(model_dir),
               "--port", str(port), "--log-level", "warning", "--no-access-log", *extra_args]
    process = subprocess.Popen(command, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        api.wait_until_healthy(url, timeout, failure=lambda: None if process.poll() is None
                                   else f"it exited with code {process.returncode}")
        yield url, process.pid
    finally:
        api.stop_process(process)


def complete_applications() -> list[dict]:
    """2021's applications that have every required field, as a client sends them."""
    from mlecourse.lender import features
    from mlecourse.lender.data.loading import load_loans
    from mlecourse.lender.modeling import artifact
    from mlecourse.lender.serving import api

    clean, _ = features.clean_loans(load_loans())
    required = [n for n, s in artifact.feature_schema().items() if not s["nullable"]]
    return [b for b in api.as_applications(features.split_by_date(clean)[1]) if all(n in b for n in required)]


def each_version(scratch, model_dir, before: str | None, before_args=()):
    """(name, server) for commit ``before`` (if any), then this code, on one model directory.

    ``model_dir`` None: the course model, trained once into ``scratch``. Each
    server is a :func:`server_process` (enter it to start it); this code runs
    with no rate limit, as a benchmark must.
    """
    from mlecourse.lender.modeling import artifact

    if model_dir is None:
        model_dir = artifact.train_and_save(Path(scratch) / "model", version="bench")
    if before:
        yield f"before ({before})", server_process(model_dir, checkout_src(before, Path(scratch) / "before"),
                                                   list(before_args))
    yield "after", server_process(model_dir, None, ["--rate-limit", "0"])


def measure_levels(url: str, pid: int, payloads, levels=LEVELS, *, requests_per_client: int = 20,
                   minimum: int = 200) -> list[dict]:
    """Throughput, p50/p99 and /health p99 at each level of concurrent single-application clients."""
    rows = []
    for clients in levels:
        cpu0, wall0 = _cpu_seconds(pid), time.perf_counter()
        with health_probe(url) as probes:
            result = run_load(f"{url}/predict", payloads, concurrency=clients,
                              requests=max(minimum, requests_per_client * clients))
        wall, cpu = time.perf_counter() - wall0, _cpu_seconds(pid) - cpu0
        ok = result[result["status"] == 200]
        health = [p for p in probes if p is not None]
        rows.append({"clients": clients, "requests": len(result),
                     "failed": int((result["status"] != 200).sum()),
                     "throughput_rps": len(ok) / float(result["end_s"].max() - result["start_s"].min()),
                     "p50_ms": float(np.percentile(ok["latency_ms"], 50)) if len(ok) else float("nan"),
                     "p99_ms": float(np.percentile(ok["latency_ms"], 99)) if len(ok) else float("nan"),
                     "health_p99_ms": float(np.percentile(health, 99)) if health else float("nan"),
                     "health_failed": sum(p is None for p in probes), "health_probes": len(probes),
                     "server_cpu_s": cpu, "wall_s": wall})
    return rows


def bench_service(model_dir=None, *, before: str | None = BEFORE_REF, levels=LEVELS,
                  requests_per_client: int = 20, minimum: int = 200, seed: int = 0) -> pd.DataFrame:
    """The service before (commit ``before``) and after, side by side, in one run on this machine.

    Both serve the same model directory (default: the course model, trained
    once into a temporary directory) as their own process, on loopback, with
    no rate limit; the clients send single applications. ``before=None``
    measures the current code only.
    """
    import tempfile

    bodies = complete_applications()
    order = np.random.default_rng(seed).permutation(len(bodies))
    singles = [bodies[i] for i in order[:500]]
    out = []
    with tempfile.TemporaryDirectory(prefix="mlecourse-bench-") as scratch:
        for name, server in each_version(scratch, model_dir, before, before_args=[]):
            with server as (url, pid):
                load = os.getloadavg()[0]
                for row in measure_levels(url, pid, singles, levels,
                                          requests_per_client=requests_per_client, minimum=minimum):
                    out.append({"service": name, **row, "load_avg": load})
    return pd.DataFrame(out)


def speedups(table: pd.DataFrame) -> pd.DataFrame:
    """After / before throughput at each level (when both are in ``table``)."""
    after = table[table["service"] == "after"].set_index("clients")
    before = table[table["service"] != "after"].set_index("clients")
    if before.empty:
        return pd.DataFrame()
    return pd.DataFrame({"throughput_x": after["throughput_rps"] / before["throughput_rps"],
                         "health_p99_before_ms": before["health_p99_ms"],
                         "health_p99_after_ms": after["health_p99_ms"]}).reset_index()


# --- a storm of explanations ----------------------------------------------------------

EXPLAIN_BEFORE_REF = "307f729"  # /explain before it sat behind the service's guard


def _until(deadline: float, url: str, body: bytes, record) -> None:
    """POST ``body`` to ``url`` from one client until ``deadline``; ``record(status, ms)`` each answer."""
    import httpx

    with httpx.Client(timeout=120.0, headers={"content-type": "application/json"}) as http:
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            try:
                status = http.post(url, content=body).status_code
            except httpx.HTTPError:
                status = 0
            record(status, (time.perf_counter() - start) * 1000.0)


def explain_storm(url: str, pid: int, application: dict, *, clients: int = 16,
                  seconds: float = 20.0) -> dict:
    """``clients`` threads POST /explain for ``seconds``, beside one /predict client and a /health probe.

    What a storm of expensive requests does to everyone else: how many
    explanations completed or were shed (503), /predict's latency beside
    them, and /health's p99 from a probe in its own process.
    """
    body = json.dumps(application).encode()
    explained: list[tuple[int, float]] = []
    predicted: list[tuple[int, float]] = []
    cpu0 = _cpu_seconds(pid)
    deadline = time.perf_counter() + seconds
    with health_probe(url) as probes, ThreadPoolExecutor(max_workers=clients + 1) as pool:
        jobs = [pool.submit(_until, deadline, f"{url}/explain", body,
                            lambda s, ms: explained.append((s, ms))) for _ in range(clients)]
        jobs.append(pool.submit(_until, deadline, f"{url}/predict", body,
                                lambda s, ms: predicted.append((s, ms))))
        for job in jobs:
            job.result()
    ok = [ms for s, ms in predicted if s == 200]
    health = [p for p in probes if p is not None]
    codes = [s for s, _ in explained]
    return {"clients": clients, "seconds": seconds,
            "explain_200": codes.count(200), "explain_503": codes.count(503),
            "explain_other": len(codes) - codes.count(200) - codes.count(503),
            "predict_ok": len(ok), "predict_failed": len(predicted) - len(ok),
            "predict_p50_ms": float(np.percentile(ok, 50)) if ok else float("nan"),
            "predict_p99_ms": float(np.percentile(ok, 99)) if ok else float("nan"),
            "health_p99_ms": float(np.percentile(health, 99)) if health else float("nan"),
            "health_failed": sum(p is None for p in probes), "server_cpu_s": _cpu_seconds(pid) - cpu0}


def bench_explain(model_dir=None, *, before: str | None = EXPLAIN_BEFORE_REF, clients: int = 16,
                  seconds: float = 20.0) -> pd.DataFrame:
    """The explanation storm against the service before (commit ``before``) and now."""
    import tempfile

    application = complete_applications()[0]
    out = []
    with tempfile.TemporaryDirectory(prefix="mlecourse-bench-") as scratch:
        for name, server in each_version(scratch, model_dir, before, before_args=["--rate-limit", "0"]):
            with server as (url, pid):
                out.append({"service": name, **explain_storm(url, pid, application, clients=clients,
                                                              seconds=seconds)})
    return pd.DataFrame(out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlecourse.lender.serving.loadtest",
                                     description="Latency and throughput of the model service on loopback.")
    parser.add_argument("--model-dir", default=None, help="serve this model directory "
                        "(default: train the course model in memory)")
    parser.add_argument("--single-requests", type=int, default=400)
    parser.add_argument("--batch-requests", type=int, default=60)
    parser.add_argument("--clients", type=int, default=4, help="client threads for throughput (default: 4)")
    parser.add_argument("--in-process", action="store_true",
                        help="run the server in a thread of this process, not as its own process")
    parser.add_argument("--before-after", action="store_true",
                        help=f"the service before ({BEFORE_REF}) and now at {LEVELS} concurrent clients")
    parser.add_argument("--before", default=BEFORE_REF, help="the commit to compare with (default: %(default)s)")
    parser.add_argument("--explain-storm", action="store_true",
                        help=f"16 clients on /explain for 20 s, before ({EXPLAIN_BEFORE_REF}) and now")
    args = parser.parse_args(argv)
    if args.explain_storm:
        return main_explain_storm(args.model_dir)
    if args.before_after:
        return main_before_after(args.model_dir, args.before)

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


def main_before_after(model_dir, before: str) -> int:
    load = os.getloadavg()
    started = time.perf_counter()
    table = bench_service(model_dir, before=before)
    with pd.option_context("display.width", 200, "display.max_columns", 20,
                           "display.float_format", "{:,.1f}".format):
        print(f"loopback, {os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
              f"before the run, {os.getloadavg()[0]:.2f} after; single-application clients "
              f"(threads of this process), each server its own process; {time.perf_counter() - started:.0f} s")
        print(table.to_string(index=False))
        print()
        print(speedups(table).to_string(index=False))
    return 0


def main_explain_storm(model_dir) -> int:
    load = os.getloadavg()
    table = bench_explain(model_dir)
    with pd.option_context("display.width", 220, "display.max_columns", 20,
                           "display.float_format", "{:,.1f}".format):
        print(f"loopback, {os.cpu_count()} CPUs, load average {load[0]:.2f} before the run, "
              f"{os.getloadavg()[0]:.2f} after; 16 threads on /explain, 1 on /predict, "
              "/health probed from its own process every 50 ms")
        print(table.to_string(index=False))
    after = table[table["service"] == "after"].iloc[0]
    return 0 if after["explain_other"] == 0 and after["predict_failed"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
