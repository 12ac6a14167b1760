"""Who may ask the model service, how often, and under which host name.

An open scoring endpoint is an oracle: with unlimited free queries anyone
can copy the model (fit their own to its answers) or search for the
smallest change to an application that turns a refusal into an approval.
The defences are ordinary ones:

* **an API key** (:func:`load_api_keys`), read from an environment
  variable or a file (a Kubernetes Secret mounted as a file), never from
  the repository; compared in constant time;
* **a per-client rate limit** (:class:`RateLimiter`), a token bucket in
  applications per second, so a batch costs what it asks for;
* **a Host check** (:func:`host_allowed`): a service on loopback that
  answers any ``Host`` can be reached from a web page through DNS
  rebinding; it answers only the names it is known by.

The service runs without a key only on loopback (the command line refuses
otherwise); that is how the chapters and tests call it.
"""
from __future__ import annotations

import hmac
import math
import os
import threading
import time
from pathlib import Path

API_KEY_ENV = "MLECOURSE_API_KEY"
API_KEY_HEADER = "x-api-key"
# The names a loopback service is known by; "testserver" is what Starlette's
# TestClient sends. A deployment adds its own (--allowed-host, the manifest).
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "testserver")


class ApiKeyError(ValueError):
    """A key source that is configured but unusable (empty file, missing file)."""


def load_api_keys(key_file=None, environ=None) -> tuple[str, ...]:
    """The configured API keys: one per non-empty line of ``key_file``, or the env variable.

    Returns ``()`` when neither is set (the service then runs open, and only
    on loopback). A file that is named but missing or empty is an error, not
    an open service.
    """
    environ = os.environ if environ is None else environ
    if key_file is not None:
        path = Path(key_file)
        if not path.is_file():
            raise ApiKeyError(f"the API key file {path} does not exist")
        keys = tuple(line.strip() for line in path.read_text().splitlines() if line.strip())
        if not keys:
            raise ApiKeyError(f"the API key file {path} has no key in it")
        return keys
    value = environ.get(API_KEY_ENV, "").strip()
    return (value,) if value else ()


def key_id(presented: str | None, keys) -> str | None:
    """Which configured key was presented (its position as text), or None; constant time per key."""
    if not presented:
        return None
    found = None
    for i, key in enumerate(keys):
        if hmac.compare_digest(presented.encode(), key.encode()):
            found = f"key-{i}"
    return found


def host_allowed(host_header: str | None, allowed) -> bool:
    """Whether the Host header (with or without a port, IPv6 in brackets) names an allowed host."""
    if not host_header:
        return False
    host = host_header.strip().lower()
    if host.startswith("["):
        host = host[1:host.find("]")] if "]" in host else host
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    return any(host == name or (name.startswith("*.") and host.endswith(name[1:])) for name in allowed)


class RateLimiter:
    """A token bucket per client: ``rate`` applications per second, up to ``burst`` at once.

    :meth:`take` returns 0 when the client may go ahead (and spends the
    tokens), else the seconds until it may (for ``Retry-After``).
    """

    def __init__(self, rate: float, burst: float, clock=time.monotonic, max_clients: int = 10_000):
        if rate <= 0 or burst < 1:
            raise ValueError("the rate must be positive and the burst at least 1")
        self.rate, self.burst, self.clock, self.max_clients = rate, burst, clock, max_clients
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, client: str, cost: float = 1.0) -> float:
        # A request dearer than the whole burst (a batch larger than it) may go once the
        # bucket is full, and leaves it in debt for its full cost: a batch of 1,000 costs
        # 1,000 applications whatever the burst. (Charging it only the burst let a client
        # with a burst of 10 score 1,000 applications every 10 / rate seconds.)
        needed = min(cost, self.burst)
        with self._lock:
            now = self.clock()
            tokens, last = self._buckets.get(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= needed:
                self._store(client, tokens - cost, now)
                return 0.0
            self._store(client, tokens, now)
            return (needed - tokens) / self.rate

    def _store(self, client, tokens, now) -> None:
        if client not in self._buckets and len(self._buckets) >= self.max_clients:
            self._buckets.pop(next(iter(self._buckets)))  # forget the oldest client: memory stays bounded
        self._buckets[client] = (tokens, now)


def retry_after(seconds: float) -> str:
    """A Retry-After header value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))
