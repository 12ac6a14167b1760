"""What a model costs to run, besides its errors: time to train, time to
predict, and bytes to store and ship.

Timings are wall-clock, measured with :func:`time.perf_counter`; they vary
from run to run and machine to machine, so take the median of several
repeats and compare models measured on the same machine in the same run.
Sizes are those of the model serialised with ``skops.io.dumps``, the format
the course uses for model files (the deployment chapter explains why not
pickle).
"""
from __future__ import annotations

import time
from statistics import median

import pandas as pd


def fit_timed(model, X, y) -> tuple[object, float]:
    """Fit ``model`` on ``X, y``; return the fitted model and the seconds it took."""
    start = time.perf_counter()
    model.fit(X, y)
    return model, time.perf_counter() - start


def size_on_disk(model) -> int:
    """Bytes of the model serialised with skops (what a model file would weigh)."""
    import skops.io as sio

    return len(sio.dumps(model))


def latency(model, X: pd.DataFrame, *, single_calls: int = 50, batch_size: int = 1000,
            repeats: int = 3) -> dict[str, float]:
    """Prediction time of ``model.predict_proba``, in milliseconds per row.

    ``per_row_single``: median time of ``single_calls`` calls with one row
    each (an application scored as it arrives, as a web service does).
    ``per_row_batch``: median over ``repeats`` of one call on ``batch_size``
    rows, divided by the rows (a nightly batch job). The first call is a
    warm-up and is not counted.
    """
    if single_calls < 1 or batch_size < 1 or repeats < 1:
        raise ValueError("single_calls, batch_size and repeats must be at least 1")
    if len(X) == 0:
        raise ValueError("no rows to predict")
    model.predict_proba(X.iloc[:1])  # warm-up: lazy imports, caches
    singles = []
    for i in range(single_calls):
        row = X.iloc[[i % len(X)]]
        start = time.perf_counter()
        model.predict_proba(row)
        singles.append(time.perf_counter() - start)
    batch = X.iloc[:batch_size]
    batches = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.predict_proba(batch)
        batches.append(time.perf_counter() - start)
    return {"per_row_single_ms": 1000 * median(singles),
            "per_row_batch_ms": 1000 * median(batches) / len(batch)}


def footprint_table(models: dict[str, tuple[object, float]], X: pd.DataFrame,
                    **latency_options) -> pd.DataFrame:
    """One row per model: training seconds, latencies (ms per row) and size (kB).

    ``models`` maps a name to ``(fitted model, training seconds)``, as
    :func:`fit_timed` returns them.
    """
    rows = {}
    for name, (model, seconds) in models.items():
        rows[name] = {"train_s": seconds, **latency(model, X, **latency_options),
                      "size_kb": size_on_disk(model) / 1000}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")
