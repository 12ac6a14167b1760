"""Batch scoring: the champion over every application, on one process or a Dask cluster.

The same work two ways. :func:`score_pandas` scores chunk after chunk in
this process; :func:`score_dask` sends the same chunks to the workers of a
Dask cluster (:func:`local_cluster` starts one on this machine, two worker
processes on loopback; in production ``Client("tcp://scheduler:8786")``
points the same code at a real cluster). Each chunk is *made* where it is
scored (resampled from the history with its own seed), so a ten-million-row
run never holds ten million rows anywhere: memory stays at one chunk per
worker, and the only thing sent back is a few numbers per chunk.

What to expect: a cluster costs a start-up (seconds) and a per-task
overhead (milliseconds), and with two cores it can at best double the rate.
Below some number of rows, pandas wins; :func:`benchmark` measures where.

Command line (``make bench-scale``)::

    python -m mlecourse.lender.serving.batch_scoring --rows 10000000
"""
from __future__ import annotations

import argparse
import contextlib
import time

import numpy as np
import pandas as pd

from mlecourse.lender import business, features

CHUNK_ROWS = 250_000


def make_chunk(base: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    """``rows`` applications drawn with replacement from ``base`` (seeded: chunk ``seed`` is
    always the same rows). ``rows >= len(base)`` with seed -1 gives ``base`` itself."""
    if seed < 0:
        return base
    picks = np.random.default_rng(seed).integers(0, len(base), rows)
    return base.iloc[picks].reset_index(drop=True)


def score_chunk(model, base: pd.DataFrame, rows: int, seed: int,
                threshold: float = business.COSTS.threshold) -> dict:
    """Make one chunk, score it, return what a report needs (not the scores)."""
    chunk = make_chunk(base, rows, seed)
    scores = model.predict_proba(chunk[list(features.RAW_FEATURES)])[:, 1]
    return {"rows": int(len(scores)), "sum_score": float(scores.sum()),
            "refused": int(np.sum(scores > threshold))}


def plan(total_rows: int, chunk_rows: int = CHUNK_ROWS) -> list[tuple[int, int]]:
    """(rows, seed) of each chunk; the sizes add up to ``total_rows``."""
    if total_rows <= 0 or chunk_rows <= 0:
        raise ValueError(f"rows must be positive, got total {total_rows}, chunk {chunk_rows}")
    full, rest = divmod(int(total_rows), int(chunk_rows))
    sizes = [chunk_rows] * full + ([rest] if rest else [])
    return [(size, seed) for seed, size in enumerate(sizes)]


def _summary(parts: list[dict], seconds: float, engine: str) -> dict:
    rows = sum(p["rows"] for p in parts)
    return {"engine": engine, "rows": rows, "seconds": seconds, "rows_per_s": rows / seconds,
            "mean_score": sum(p["sum_score"] for p in parts) / rows,
            "refusal_rate": sum(p["refused"] for p in parts) / rows}


def score_pandas(model, base: pd.DataFrame, total_rows: int, chunk_rows: int = CHUNK_ROWS) -> dict:
    start = time.perf_counter()
    parts = [score_chunk(model, base, rows, seed) for rows, seed in plan(total_rows, chunk_rows)]
    return _summary(parts, time.perf_counter() - start, "pandas")


def score_dask(client, model, base: pd.DataFrame, total_rows: int,
               chunk_rows: int = CHUNK_ROWS) -> dict:
    """The same chunks as :func:`score_pandas`, one task each, on ``client``'s workers."""
    start = time.perf_counter()
    # hash=False: keys of their own. Scattered by content, the same model and rows would take
    # the keys of the previous job's data while the scheduler may still be releasing them, and
    # dask.distributed can then wait for ever (this hung a test run that scattered them twice).
    model_f, base_f = client.scatter([model, base], broadcast=True, hash=False)
    chunks = plan(total_rows, chunk_rows)
    futures = client.map(score_chunk, [model_f] * len(chunks), [base_f] * len(chunks),
                         [r for r, _ in chunks], [s for _, s in chunks], pure=False)
    parts = client.gather(futures)
    return _summary(parts, time.perf_counter() - start, "dask")


@contextlib.contextmanager
def local_cluster(workers: int = 2):
    """A Dask cluster on this machine: worker processes, loopback only, no dashboard."""
    import logging

    from dask.distributed import Client, LocalCluster

    logging.getLogger("distributed").setLevel(logging.ERROR)
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None, host="127.0.0.1") as cluster, Client(cluster) as client:
        yield client


def benchmark(client, model, base: pd.DataFrame, sizes, chunk_rows: int = CHUNK_ROWS) -> pd.DataFrame:
    """Rows per second of each engine at each size; one row per (size, engine)."""
    out = []
    for size in sizes:
        chunk = min(chunk_rows, max(1, -(-int(size) // 2)))  # at least two chunks: one per worker
        out.append(score_pandas(model, base, size, chunk))
        out.append(score_dask(client, model, base, size, chunk))
    return pd.DataFrame(out)


def warmed_benchmark(client, model, base: pd.DataFrame, sizes, chunk_rows: int = CHUNK_ROWS) -> tuple[pd.DataFrame, dict]:
    """:func:`benchmark` on a cluster whose workers have first imported the libraries and received
    the model (as a long-running cluster would have), with what those two steps took."""
    started = time.perf_counter()
    client.run(lambda: bool(__import__("mlecourse.lender.features")))
    imported = time.perf_counter()
    score_dask(client, model, base, 2_000, 1_000)
    warmed = time.perf_counter()
    table = benchmark(client, model, base, sizes, chunk_rows)
    return table, {"imports": imported - started, "first job": warmed - imported}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlecourse.lender.serving.batch_scoring",
                                     description="Score many applications with pandas and with Dask.")
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--chunk", type=int, default=CHUNK_ROWS)
    args = parser.parse_args(argv)
    from mlecourse.lender.modeling import estimators
    from mlecourse.lender.data.loading import load_loans

    clean, _ = features.clean_loans(load_loans())
    train, _valid, _test = features.split_by_date(clean)
    model = estimators.train_model(train, "boosting")
    base = clean[list(features.RAW_FEATURES)]
    with local_cluster() as client:
        table = benchmark(client, model, base, [len(base), args.rows], args.chunk)
    pd.set_option("display.width", 120)
    print(table.to_string(index=False, float_format=lambda v: f"{v:,.3f}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
