"""What the model service refuses before the model sees anything, and how it says so.

Each limit here answers an attack or an accident found by trying the
service as a hostile client would:

* a body is counted while it is read (:func:`read_body`), so a chunked
  upload, or one that declares a small ``Content-Length`` and sends more,
  is cut at the limit instead of being read whole into memory;
* a body must say it is JSON (:func:`is_json`): 415 otherwise;
* JSON with a key twice is refused (:func:`parse_json`): "last one wins"
  means two systems reading the same request can see two applications;
* an object with more keys than the schema has fields is refused before
  validation (:func:`crowded_objects`), and a 422 lists at most
  :data:`MAX_REPORTED_ERRORS` problems plus their count (:func:`problem`):
  a 4 KB body of a thousand empty objects used to produce a 1-19 MB answer,
  built while nothing else could run.
"""
from __future__ import annotations

import asyncio
import json
import logging

from fastapi.responses import JSONResponse, Response

log = logging.getLogger("mlecourse.lender.serving")

MAX_BODY_BYTES = 2_000_000  # a full batch is about 0.4 MB
MAX_REPORTED_ERRORS = 20  # enough to fix a request; the count says how many there were
BODY_TIMEOUT_S = 10.0  # a client that sends no byte of its body for this long is cut off


class BodyTooLarge(Exception):
    """The body is longer than the limit (counted, not declared)."""


class BodyTimeout(Exception):
    """The client stopped sending its body."""


class ClientGone(Exception):
    """The client closed the connection before its body was complete."""


async def read_body(receive, limit: int | None = None, timeout: float | None = None) -> bytes:
    """The request body from an ASGI ``receive``, refused as soon as it passes ``limit`` bytes.

    ``Content-Length`` is a claim, not a fact: the bytes are counted as they
    arrive, and at most ``limit`` + one chunk is ever held in memory.
    """
    limit = MAX_BODY_BYTES if limit is None else limit
    timeout = BODY_TIMEOUT_S if timeout is None else timeout
    chunks, size = [], 0
    while True:
        try:
            message = await asyncio.wait_for(receive(), timeout)
        except asyncio.TimeoutError:
            raise BodyTimeout from None
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def is_json(content_type: str | None) -> bool:
    """Whether a Content-Type header says JSON (``application/json``, ``...+json``, any charset)."""
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


class DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs):
    out = dict(pairs)
    if len(out) != len(pairs):
        seen = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKey(f"the key {key!r} appears twice in one object")
            seen.add(key)
    return out


def parse_json(body: bytes):
    """The JSON value of ``body``; ValueError (with the reason) if it is not JSON or repeats a key.

    NaN and Infinity are read (as Python floats do) so that validation can
    name the field that holds them, instead of a bare "invalid JSON".
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("the body is not UTF-8 text") from None
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except RecursionError:
        raise ValueError("the body is nested too deeply") from None


def crowded_objects(payload, fields) -> tuple[list[dict], int]:
    """Errors for the unknown keys of objects with more keys than the schema has fields.

    Checked before validation, and cheaply (a set difference): pydantic would
    build an error for every extra key, and a body of 100 000 keys is small.
    Returns (at most MAX_REPORTED_ERRORS errors, how many unknown keys in all).
    """
    fields = frozenset(fields)
    if not isinstance(payload, dict):
        return [], 0
    if "applications" in payload and len(payload) <= len(fields):
        items = payload["applications"]
        objects = [((f"applications.{i}",), item) for i, item in enumerate(items)
                   if isinstance(item, dict)] if isinstance(items, list) else []
    else:
        objects, fields = [((), payload)], fields | ({"applications"} if "applications" in payload else set())
    errors, total = [], 0
    for where, item in objects:
        if len(item) <= len(fields):
            continue
        unknown = [key for key in item if key not in fields]
        total += len(unknown)
        for key in unknown[:MAX_REPORTED_ERRORS - len(errors)]:
            loc = [*where[0].split("."), key] if where else [key]
            loc = [int(p) if p.isdigit() and n == 1 else p for n, p in enumerate(loc)]
            errors.append({"field": ".".join(map(str, loc)), "loc": ["body", *loc],
                           "type": "extra_forbidden", "msg": "Extra inputs are not permitted"})
    return errors, total


def readable(errors) -> list[dict]:
    """pydantic's errors as JSON-safe dicts: field, loc, msg, type (never the input); at most the cap."""
    out = []
    for error in errors[:MAX_REPORTED_ERRORS]:
        loc = [part if isinstance(part, (int, str)) else str(part) for part in error.get("loc", ())]
        out.append({"field": ".".join(map(str, loc)) or "body", "loc": ["body", *loc],
                    "msg": str(error.get("msg", "invalid")), "type": str(error.get("type", "invalid"))})
    return out


def problem(status: int, errors: list[dict], total: int | None = None, headers=None) -> Response:
    """A 4xx/5xx body: the first :data:`MAX_REPORTED_ERRORS` errors and how many there were."""
    total = len(errors) if total is None else total
    return JSONResponse({"detail": errors[:MAX_REPORTED_ERRORS], "error_count": total},
                        status_code=status, headers=headers)


def one_problem(status: int, kind: str, msg: str, headers=None) -> Response:
    return problem(status, [{"field": "body", "loc": ["body"], "type": kind, "msg": msg}], headers=headers)


def too_large(limit: int = MAX_BODY_BYTES) -> Response:
    return one_problem(413, "too_large", f"request body over {limit} bytes")


HEADER_TIMEOUT_S = 10.0  # a connection must send a whole request head within this


def deadline_protocol(header_timeout: float | None = None):
    """uvicorn's HTTP/1.1 protocol with a deadline for each request's head (Slowloris).

    uvicorn closes an idle keep-alive connection after ``timeout_keep_alive``,
    but only once a first request was answered, and any byte received resets
    it: a client that connects and sends nothing, or a header byte now and
    then, holds a connection (and a file descriptor) forever. This protocol
    closes a connection that has not sent a whole request head within
    ``header_timeout`` seconds of connecting or of its last response.
    """
    from uvicorn.protocols.http.h11_impl import H11Protocol

    seconds = HEADER_TIMEOUT_S if header_timeout is None else header_timeout

    class DeadlineH11Protocol(H11Protocol):
        def connection_made(self, transport):
            super().connection_made(transport)
            self._arm_deadline()

        def _arm_deadline(self):
            self._deadline = self.loop.call_later(seconds, self._head_too_slow)

        def _head_too_slow(self):
            if self.cycle is None or self.cycle.response_complete:  # waiting for a request head
                self.timeout_keep_alive_handler()

        def on_response_complete(self):
            super().on_response_complete()
            self._deadline.cancel()
            self._arm_deadline()

        def connection_lost(self, exc):
            self._deadline.cancel()
            super().connection_lost(exc)

    return DeadlineH11Protocol
