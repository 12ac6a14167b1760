"""One guard in front of every route of the model service, so no route can forget one.

A route written later, by another team, for another chapter, gets the same
protection as ``/predict`` without doing anything: the guard is ASGI
middleware around the whole app, and it runs before routing. In order:

1. **Open paths** (:data:`OPEN_PATHS`) pass untouched: the probes a
   load balancer or kubelet sends carry no key, and ``/metrics`` publishes
   aggregates only. Every other path, including one that does not exist,
   needs the key when the service has keys: an unknown route answers 401,
   not 404, so a scanner learns nothing about what exists.
2. **The key** (``X-API-Key``, compared in constant time; never from the URL,
   which ends up in logs): 401 without a valid one.
3. **A body** (on POST, PUT, PATCH) must say it is JSON (415), is refused
   before it is read when it declares too many bytes (413), is counted while
   it is read (413 past the limit, 408 when it stops arriving), and is
   parsed strictly (:func:`serving_limits.parse_json`: a key given twice,
   ``NaN``, ``Infinity``, ``1e309``, a lone surrogate or absurd nesting is a
   422 naming the field). Routes then read the parsed value from
   ``request.state.json`` (:func:`payload`), never the wire.
4. **The rate limit** charges each request its route's cost per item: a
   route declares ``openapi_extra={"x-rate-cost": n}`` (default 1), and an
   item is an application of a batch (``{"applications": [...]}``) or the
   whole body. So a batch of 100 costs 100, and one ``/explain`` (some
   twenty model calls) costs what twenty predictions do. 429 with
   ``Retry-After`` when a client is over its rate.

Every answer the guard gives is small (one problem, under a kilobyte) and
documented: :func:`document` adds these statuses to every operation of the
OpenAPI document, so the published contract is what the service does.
"""
from __future__ import annotations

import asyncio
import json

from fastapi import FastAPI, Request

from mlecourse.lender.serving import auth, limits

# Paths any client may call without a key, and why. Everything else needs one.
OPEN_PATHS = {
    "/health": "liveness probe: the kubelet sends no key",
    "/ready": "readiness probe: the load balancer sends no key",
    "/metrics": "Prometheus scrapes it from inside the cluster; counts and histograms only",
}
BODY_METHODS = ("POST", "PUT", "PATCH")
COST_KEY = "x-rate-cost"
INLINE_BYTES = 16_384  # smaller bodies are parsed on the event loop: a thread hop costs more


class Guard:
    """ASGI middleware: key, body limits, strict JSON and the rate limit, for every route."""

    def __init__(self, app, *, keys=(), limiter: auth.RateLimiter | None = None,
                 max_items: int = limits.MAX_ITEMS, fastapi_app: FastAPI | None = None):
        self.app, self.keys, self.limiter, self.max_items = app, tuple(keys), limiter, max_items
        self.fastapi_app = fastapi_app
        self._costs: dict[str, float] | None = None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            return await self.app(scope, receive, send)
        client = self._client(scope)
        if client is None:
            return await _send(limits.one_problem(
                401, "unauthorized", "send a valid API key in the X-API-Key header",
                headers={"WWW-Authenticate": "ApiKey"}), scope, receive, send)
        state = scope.setdefault("state", {})
        state["client"] = client
        if scope["path"] not in self.costs():  # not a route: the router answers 404 or 405, unread
            return await self.app(scope, receive, send)
        if scope["method"] in BODY_METHODS:
            parsed = await self._read(scope, receive)
            if not isinstance(parsed, tuple):  # an answer: the body was refused
                return await _send(parsed, scope, receive, send)
            body, state["json"] = parsed
            state["body_bytes"] = len(body)
            receive = _replay(body)
        refused = self._charge(scope, client, state.get("json"))
        if refused is not None:
            return await _send(refused, scope, receive, send)
        return await self.app(scope, receive, send)

    def _client(self, scope) -> str | None:
        """Who is asking: the key's id when there are keys (None: no valid key), else the address."""
        if self.keys:
            presented = dict(scope["headers"]).get(auth.API_KEY_HEADER.encode(), b"")
            return auth.key_id(presented.decode("latin-1"), self.keys)
        return scope["client"][0] if scope.get("client") else "unknown"

    async def _read(self, scope, receive):
        """(raw body, parsed JSON), or the 4xx answer saying why the body is refused."""
        headers = dict(scope["headers"])
        if not limits.is_json(headers.get(b"content-type", b"").decode("latin-1")):
            return limits.one_problem(415, "unsupported_media_type",
                                      "send the body as JSON, with Content-Type: application/json")
        declared = headers.get(b"content-length", b"").decode("latin-1")
        if declared.isdigit() and int(declared) > limits.MAX_BODY_BYTES:
            return limits.too_large()  # refused before a byte of it is read
        try:
            body = await limits.read_body(receive)
        except limits.BodyTooLarge:
            return limits.too_large()
        except limits.BodyTimeout:
            return limits.one_problem(408, "timeout", f"no part of the body arrived for "
                                      f"{limits.BODY_TIMEOUT_S:.0f} s; send it whole",
                                      headers={"Connection": "close"})
        except limits.ClientGone:
            limits.log.info("client %s closed the connection before sending its whole body",
                            scope["client"][0] if scope.get("client") else "?")
            return limits.one_problem(400, "client_gone", "the body did not arrive whole")
        try:
            if len(body) <= INLINE_BYTES:
                return body, limits.parse_json(body, max_items=self.max_items)
            # a large body takes milliseconds to parse: off the event loop, so /health answers
            return body, await asyncio.to_thread(limits.parse_json, body, max_items=self.max_items)
        except limits.JsonRefused as error:
            return limits.problem(422, [{"field": error.field, "loc": ["body", *error.field.split(".")],
                                         "type": error.kind, "msg": str(error)}])

    def _charge(self, scope, client: str, parsed):
        """None when the client may go ahead (the cost is spent), else the 429 answer."""
        if self.limiter is None:
            return None
        cost = self.costs().get(scope["path"], 1) * items(parsed)
        wait = self.limiter.take(client, cost)
        if not wait:
            return None
        return limits.one_problem(429, "rate_limited", f"over {self.limiter.rate:g} requests' worth "
                                  "a second for this client", headers={"Retry-After": auth.retry_after(wait)})

    def costs(self) -> dict[str, float]:
        """Path -> rate cost per item, read once from the published contract's ``x-rate-cost``.

        Read from the OpenAPI document, not the route objects: the document is
        public and stable, and it is what clients see, so the cost a client is
        charged is the cost it can read.
        """
        if self._costs is None:
            spec = self.fastapi_app.openapi() if self.fastapi_app is not None else {}
            self._costs = {path: float(max((op.get(COST_KEY, 1) for op in ops.values()), default=1))
                           for path, ops in spec.get("paths", {}).items()}
        return self._costs


def items(parsed) -> int:
    """How many things a body asks for: the applications of a batch, else one."""
    if isinstance(parsed, dict) and isinstance(parsed.get("applications"), list):
        return max(1, len(parsed["applications"]))
    return 1


def payload(request: Request):
    """The JSON body the guard parsed for this request (routes never read the wire twice)."""
    return request.state.json


def _replay(body: bytes):
    """An ASGI ``receive`` that hands the already-read body to the app, then waits for disconnect."""
    sent = False

    async def receive():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # as a real receive does: nothing more until disconnect

    return receive


async def _send(response, scope, receive, send) -> None:
    await response(scope, receive, send)


# --- the published contract ------------------------------------------------------

WHY = {400: "the request could not be read (Host not served, body cut off)",
       401: "no valid API key in the X-API-Key header (only when the service has keys)",
       408: "the body stopped arriving",
       413: f"body over {limits.MAX_BODY_BYTES} bytes",
       415: "the body is not declared as JSON",
       422: "the body is not valid JSON, or not what the route takes; names the field",
       429: "over this client's rate; see Retry-After",
       503: "the service is saturated; retry after Retry-After seconds"}


def document(app: FastAPI, problem_model) -> None:
    """Publish the guard's answers in every operation of ``app``'s OpenAPI document.

    ``problem_model`` is the pydantic model of an error body. Open paths can
    answer 400 (an unknown Host) only; every other operation 400, 401 and
    429, and one with a body 408, 413, 415 and 422 too. Done on the document
    itself (FastAPI's documented way to extend it), so it holds for routes
    added by any router, in any order.
    """
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            spec = build()
            schemas = spec.setdefault("components", {}).setdefault("schemas", {})
            body = problem_model.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(body.pop("$defs", {}))
            schemas.setdefault(problem_model.__name__, body)
            ref = {"$ref": f"#/components/schemas/{problem_model.__name__}"}
            for path, operations in spec.get("paths", {}).items():
                for method, operation in operations.items():
                    for code in guarded_codes(path, method):
                        operation.setdefault("responses", {}).setdefault(str(code), {
                            "description": WHY[code], "content": {"application/json": {"schema": ref}}})
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi


def guarded_codes(path: str, method: str) -> list[int]:
    """The statuses the guard (and the Host check) may answer on one operation."""
    codes = [400]
    if path not in OPEN_PATHS:
        codes += [401, 429]
        if method.upper() in BODY_METHODS:
            codes += [408, 413, 415, 422]
    return codes


def dumps(value) -> bytes:
    """JSON for an answer: strict (no NaN can leave the service either)."""
    return json.dumps(value, allow_nan=False).encode()
