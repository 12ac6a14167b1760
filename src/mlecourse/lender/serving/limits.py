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
import math

from fastapi.responses import JSONResponse, Response

log = logging.getLogger("mlecourse.lender.serving.api")

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


class JsonRefused(ValueError):
    """A body that is JSON but not JSON the service takes; ``field`` names where."""

    def __init__(self, kind: str, message: str, field: str = "body"):
        super().__init__(message)
        self.kind, self.field = kind, field


class DuplicateKey(JsonRefused):
    pass


# Structure no client of this service needs, refused before anything walks it:
# a body of a million tiny values or keys is small on the wire and slow to check.
MAX_DEPTH = 16
MAX_KEYS = 64  # per object: an application has 15 fields
MAX_ITEMS = 1000  # per array: a full batch


class _NonFinite(str):
    """A number JSON cannot carry (NaN, Infinity, 1e309), kept as its text until the walk names its field."""


def _number(text: str):
    value = float(text)
    return value if math.isfinite(value) else _NonFinite(text)


def _no_duplicates(pairs):
    out = dict(pairs)
    if len(out) != len(pairs):
        seen = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKey("duplicate_key", f"the key {key!r} appears twice in one object")
            seen.add(key)
    return out


def _text_ok(text: str) -> bool:
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:  # a lone surrogate such as "\ud800": valid JSON, not text
        return False


def _walk(value, path: tuple, max_items: int, depth: int = 0) -> None:
    """Raise JsonRefused at the first value the service does not take, naming its field."""
    where = ".".join(map(str, path)) or "body"
    if depth > MAX_DEPTH:
        raise JsonRefused("json_too_deep", f"nested more than {MAX_DEPTH} levels", where)
    if isinstance(value, _NonFinite):
        raise JsonRefused("finite_number", f"{value} is not a finite number", where)
    if isinstance(value, str):
        if not _text_ok(value):
            raise JsonRefused("string_unicode", "the text holds an unpaired surrogate", where)
    elif isinstance(value, dict):
        if len(value) > MAX_KEYS:
            raise JsonRefused("too_many_keys", f"{len(value)} keys in one object (at most {MAX_KEYS})",
                              where)
        for key, item in value.items():
            if not _text_ok(key):
                raise JsonRefused("string_unicode", "a key holds an unpaired surrogate", where)
            _walk(item, (*path, key), max_items, depth + 1)
    elif isinstance(value, list):
        if len(value) > max_items:
            raise JsonRefused("too_many_items", f"{len(value)} items in one array (at most {max_items})",
                              where)
        for i, item in enumerate(value):
            _walk(item, (*path, i), max_items, depth + 1)


def parse_json(body: bytes, max_items: int = MAX_ITEMS):
    """The JSON value of ``body``, or :class:`JsonRefused` saying what is wrong and where.

    Refused: text that is not UTF-8 or not JSON, a key given twice, a number
    JSON cannot carry (``NaN``, ``Infinity``, ``1e309``: Python's parser takes
    them, and they would reach the model or fail the answer's encoding), a
    lone surrogate, and structure deeper or wider than any request needs.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise JsonRefused("json_invalid", "the body is not UTF-8 text") from None
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_NonFinite,
                           parse_float=_number)
    except RecursionError:
        raise JsonRefused("json_too_deep", "the body is nested too deeply") from None
    except JsonRefused:
        raise
    except ValueError as error:  # json.JSONDecodeError, or an integer of over 4,300 digits
        raise JsonRefused("json_invalid", f"Invalid JSON: {error}") from None
    _walk(value, (), max_items)
    return value


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
    # Connection: close, so the server stops receiving what it has refused
    # (otherwise the client may go on uploading, and the server discarding)
    return one_problem(413, "too_large", f"request body over {limit} bytes", headers={"Connection": "close"})


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
