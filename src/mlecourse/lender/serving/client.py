"""Calling the model service as a careful client does: a deadline, and retries that wait when told to.

The service answers 503 with ``Retry-After`` when it sheds load (a full
queue, a busy /explain pool) and 429 with ``Retry-After`` when a client is
over its rate. A client that gives up at once fails for no reason; one that
retries at once makes the overload worse. :func:`post` waits as the service
says (capped), retries a dropped connection or a timeout after a short
pause, and stops after a fixed number of attempts. Retrying a POST is safe
here because /predict and /explain change nothing on the server.
"""
from __future__ import annotations

import time

import httpx

RETRIED = (429, 503)


class ServiceUnavailable(RuntimeError):
    """The service did not answer after every attempt; the message says what happened last."""


def retry_after(response: httpx.Response, default: float = 1.0) -> float:
    """Seconds the service asks to wait (its ``Retry-After`` header in seconds), else ``default``."""
    value = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return default


def post(client: httpx.Client, path: str, *, json, headers=None, attempts: int = 3,
         max_wait: float = 10.0, sleep=time.sleep) -> httpx.Response:
    """POST ``json`` to ``path``; on 429 or 503, or a connection error or timeout, wait and try again.

    The client's own timeout bounds each attempt (give the client one:
    ``httpx.Client(timeout=...)``). Waits ``Retry-After`` seconds, at most
    ``max_wait``; after ``attempts`` tries returns the last answer, or raises
    :class:`ServiceUnavailable` if none came. Any other status is returned
    at once: a 4xx is the request's fault, and retrying will not fix it.
    """
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, got {attempts}")
    last: httpx.Response | None = None
    for attempt in range(1, attempts + 1):
        try:
            last = client.post(path, json=json, headers=headers)
        except (httpx.TimeoutException, httpx.TransportError) as error:
            if attempt == attempts:
                raise ServiceUnavailable(f"POST {path} failed {attempts} times; last: "
                                         f"{type(error).__name__}: {error}") from error
            sleep(min(max_wait, 0.5 * 2 ** (attempt - 1)))
            continue
        if last.status_code not in RETRIED or attempt == attempts:
            return last
        sleep(min(max_wait, retry_after(last)))
    return last
