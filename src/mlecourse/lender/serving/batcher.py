"""Adaptive micro-batching: concurrent requests scored in one model call.

A gradient-boosting ``predict_proba`` costs a few milliseconds whether it
scores one row or fifty: the fixed cost (checks, the column transformer,
the trees' set-up) dominates. Sixty-four clients each asking for one row
therefore pay that cost sixty-four times, one after the other. A
:class:`MicroBatcher` queues the rows of concurrent requests, scores
everything queued in one call, and hands each request its own slice of the
answer: what Triton, BentoML and Ray Serve call dynamic or adaptive batching.

* **Adaptive**: the batch is whatever arrived while the previous one was
  being scored, so a lone client waits for nobody; only when requests
  overlap does the batcher wait up to ``max_wait_s`` for more.
* **Off the event loop**: the model runs in one worker thread, so the
  server's loop stays free to answer ``/health`` and to read new requests
  (scikit-learn's tree code releases the GIL while it predicts).
* **Bounded**: at most ``max_queue_rows`` rows wait; past that
  :meth:`submit` raises :class:`Overloaded`, which the service turns into a
  503 with ``Retry-After``. A queue without a bound only turns overload
  into timeouts for everyone, and memory into the limit.
* **Same answers**: a row's probability does not depend on the rows scored
  with it (each tree is applied row by row); the tests check it on every
  row of a test year.
"""
from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np


class Overloaded(Exception):
    """The queue is full: come back later (the service answers 503 with Retry-After)."""


class MicroBatcher:
    """Queue rows of concurrent requests, score them together with ``score(rows) -> probabilities``.

    ``score`` is called in a worker thread with a list of applications and
    must return one probability per application. Create the batcher inside
    the running event loop's thread (the service does it on the first
    request); :meth:`close` stops the worker thread.
    """

    def __init__(self, score, *, max_rows: int = 1000, max_wait_s: float = 0.002,
                 max_queue_rows: int = 4000):
        if max_rows < 1 or max_queue_rows < max_rows or max_wait_s < 0:
            raise ValueError("need max_rows >= 1, max_queue_rows >= max_rows and max_wait_s >= 0")
        self.score = score
        self.max_rows, self.max_wait_s, self.max_queue_rows = max_rows, max_wait_s, max_queue_rows
        self._pending: list[tuple[list, asyncio.Future]] = []
        self._queued_rows = 0
        self._worker: asyncio.Task | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model")
        self.last_overloaded = float("-inf")  # when a request was last turned away
        self.calls = 0  # model calls so far, and the rows they scored: for the chapter's table
        self.rows = 0

    @property
    def queued_rows(self) -> int:
        return self._queued_rows

    def saturated(self, within_s: float = 1.0) -> bool:
        """Whether the queue is full, or turned a request away in the last ``within_s`` seconds."""
        return (self._queued_rows >= self.max_queue_rows
                or time.monotonic() - self.last_overloaded < within_s)

    async def submit(self, rows: list) -> np.ndarray:
        """The probabilities of ``rows``, scored with whatever else is queued; Overloaded if full."""
        if self._queued_rows + len(rows) > self.max_queue_rows:
            self.last_overloaded = time.monotonic()
            raise Overloaded(f"{self._queued_rows} rows are waiting (at most {self.max_queue_rows})")
        loop = asyncio.get_running_loop()
        if self._worker is not None and self._worker.get_loop() is not loop:
            # a new event loop (a test client per request): what waited on the old one is gone
            self._pending, self._queued_rows, self._worker = [], 0, None
        future = loop.create_future()
        self._pending.append((rows, future))
        self._queued_rows += len(rows)
        if self._worker is None or self._worker.done():
            self._worker = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        overlapped = False
        while self._pending:
            if overlapped and self._queued_rows < self.max_rows and self.max_wait_s:
                await asyncio.sleep(self.max_wait_s)  # requests overlap: let a few more arrive
            taken = self._take()
            overlapped = len(taken) > 1 or bool(self._pending)
            rows = [row for part, _ in taken for row in part]
            try:
                probabilities = await loop.run_in_executor(self._pool, self.score, rows)
            except Exception:
                await self._one_by_one(loop, taken)  # a bad row fails its own request only
                continue
            self.calls += 1
            self.rows += len(rows)
            start = 0
            for part, future in taken:
                if not future.done():
                    future.set_result(probabilities[start:start + len(part)])
                start += len(part)

    def _take(self) -> list[tuple[list, asyncio.Future]]:
        """Requests from the head of the queue, up to max_rows rows (always at least one)."""
        taken, size = [], 0
        while self._pending and (not taken or size + len(self._pending[0][0]) <= self.max_rows):
            part, future = self._pending.pop(0)
            taken.append((part, future))
            size += len(part)
        self._queued_rows -= size
        return taken

    async def _one_by_one(self, loop, taken) -> None:
        for part, future in taken:
            try:
                result = await loop.run_in_executor(self._pool, self.score, part)
            except Exception as error:  # noqa: BLE001 - handed to the request that caused it
                if not future.done():
                    future.set_exception(error)
            else:
                self.calls += 1
                self.rows += len(part)
                if not future.done():
                    future.set_result(result)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class WorkPool:
    """Blocking work (an explanation, a generation) off the event loop, in bounded threads.

    At most ``workers`` calls run at once and ``max_waiting`` more wait; one
    more raises :class:`Overloaded` at once (the service answers 503 with
    ``Retry-After``) instead of queueing without bound. A slot is released
    when the work itself ends, not when its client gives up, so abandoned
    requests cannot pile up work behind the pool's back; queued work whose
    client gave up is dropped before it runs.
    """

    def __init__(self, workers: int = 1, max_waiting: int = 4, name: str = "work"):
        if workers < 1 or max_waiting < 0:
            raise ValueError("need workers >= 1 and max_waiting >= 0")
        self.capacity = workers + max_waiting
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._lock = threading.Lock()
        self._in_flight = 0

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def _release(self, _future) -> None:
        with self._lock:
            self._in_flight -= 1

    async def run(self, function, *args):
        """``function(*args)`` in a worker thread; Overloaded when the pool and its queue are full."""
        with self._lock:
            if self._in_flight >= self.capacity:
                raise Overloaded(f"{self._in_flight} calls running or waiting (at most {self.capacity})")
            self._in_flight += 1
        future = self._pool.submit(function, *args)
        future.add_done_callback(self._release)
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
