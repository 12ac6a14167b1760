"""One cap on the model's OpenMP threads, for every place that calls a model.

Gradient boosting predicts in parallel with OpenMP. For a handful of rows the
threads' start-up and waiting cost more than the work: on a busy two-core
machine a one-row prediction went from about 10 ms with one thread to 70 ms
and more with two. Services and benchmarks scale with processes instead.
"""
from __future__ import annotations

from contextlib import nullcontext

_CONTROLLER = None


def thread_limit(threads: int | None):
    """A context-manager factory that caps OpenMP threads (None: no cap; no library scan per call).

    OpenMP's thread count is a per-thread setting: enter the context in the
    thread that calls the model (the service's worker thread does).
    """
    global _CONTROLLER
    if threads is None:
        return nullcontext
    if _CONTROLLER is None:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    controller = _CONTROLLER
    return lambda: controller.limit(limits=threads, user_api="openmp")
