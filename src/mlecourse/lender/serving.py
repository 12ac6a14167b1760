"""The model as a web service: FastAPI, validated input, one model loaded once.

Endpoints::

    GET  /health    {"status": "ok"}                  (liveness: the process answers)
    GET  /ready     {"status": "ready"}, 503 when full (readiness: may it take more?)
    GET  /version   the model card without the schema or threshold  (which model answers?)
    POST /predict   one application {...}, or {"applications": [{...}, ...]}
                    -> {"model_version": "...",
                        "predictions": [{"probability_of_default": p,
                                         "decision": "approve" | "refuse"}, ...]}

Design choices, each for a reason:

* **The input contract is derived, not typed twice.** :func:`application_model`
  builds the pydantic model from the feature schema in the model card
  (itself built from ``features.RANGES`` and ``features.CATEGORIES``): types,
  bounds, allowed categories, which fields may be missing. Extra fields are
  refused (a misspelt optional field would otherwise be silently imputed).
  Validation is strict: ``"35"`` is not an age and ``true`` is not a count;
  a whole number written ``40.0`` is 40 for every integer field alike.
* **Bad input is the client's fault, and says so.** Anything malformed gets
  a 422 whose body lists the first problems (at most 20) with field and
  reason, and how many there were; invalid JSON, a key given twice, a
  non-JSON body (415), an oversized one (413, counted while reading) are 4xx
  too. A 500 means a bug in the service, and the tests send thousands of
  malformed payloads, and a schemathesis run, to show there is none.
  :mod:`mlecourse.lender.serving_limits` holds these limits.
* **Not an open oracle.** With keys configured, every request but /health
  and /ready needs one; a per-client rate limit counts applications;
  probabilities are rounded to 4 decimals (the decision uses the unrounded
  one) and /version does not publish the threshold. See
  :mod:`mlecourse.lender.auth`.
* **The model is loaded once**, when the app is created, never per request.
  The request body is parsed and validated by pydantic-core directly from
  bytes, and the feature frame is built column by column, because those
  steps, not the HTTP layer, are where a naive service loses milliseconds.
* **Concurrent requests share one model call** (:mod:`mlecourse.lender.batcher`):
  the model runs in a worker thread, off the event loop, so /health answers
  under load; when the queue is full, /predict sheds load with a 503 and
  ``Retry-After`` instead of making everyone wait. A real deployment scales
  further with processes or replicas.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import socket
import threading
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, create_model

from mlecourse.lender import artifact, auth, business, features, reasons, service_metrics
from mlecourse.lender import serving_limits as limits
from mlecourse.lender.batcher import MicroBatcher, Overloaded

log = logging.getLogger("mlecourse.lender.serving")

MAX_BATCH = 1000  # applications per request
MAX_BODY_BYTES = limits.MAX_BODY_BYTES  # a full batch is about 0.4 MB
# Where the product's rules give no upper bound (incomes, debts, counts), the
# service still needs one: a number like 1e300 would overflow the ratios the
# pipeline computes. No application has a billion of anything.
CEILING = 10**9


# --- the input contract ---------------------------------------------------------

def _whole(value):
    """40.0 as 40: JSON has one number type, and many clients write every number with a point."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _field(spec: dict):
    """The (type, Field) pair pydantic.create_model needs for one schema entry."""
    nullable = bool(spec.get("nullable"))
    integer = spec["type"] == "integer"
    if spec.get("allowed"):  # a category, or a number with a fixed set of values
        kind = Literal[tuple(spec["allowed"])]
        constraints = {}
    else:
        kind = int if integer else float
        high = spec.get("max")
        constraints = {"ge": spec.get("min"), "le": CEILING if high is None else high}
        constraints = {k: v for k, v in constraints.items() if v is not None}
        if not integer:
            constraints["allow_inf_nan"] = False
    if integer:  # the same rule for a count and for a term: 40.0 is 40, 40.5 is refused
        kind = Annotated[kind, BeforeValidator(_whole)]
    if nullable:
        return (kind | None, Field(None, **constraints))
    return (kind, Field(..., **constraints))


def application_model(schema: dict | None = None) -> type[BaseModel]:
    """A pydantic model of one application, derived from a feature schema.

    ``schema`` is the ``features`` entry of a model card (default: the
    course's, :func:`mlecourse.lender.artifact.feature_schema`).
    """
    schema = artifact.feature_schema() if schema is None else schema
    fields = {name: _field(spec) for name, spec in schema.items()}
    return create_model("Application", __config__=ConfigDict(extra="forbid", strict=True),
                        __doc__="One loan application, as the model expects it.", **fields)


def batch_model(application: type[BaseModel], max_batch: int = MAX_BATCH) -> type[BaseModel]:
    """A pydantic model of ``{"applications": [...]}`` with 1 to ``max_batch`` items."""
    return create_model("Batch", __config__=ConfigDict(extra="forbid", strict=True),
                        applications=(list[application], Field(..., min_length=1, max_length=max_batch)))


Application = application_model()
Batch = batch_model(Application)


def applications_frame(applications, columns=features.RAW_FEATURES) -> pd.DataFrame:
    """The model's input frame for a list of applications (dicts or pydantic models).

    Exactly the frame the service builds: numbers as float64 (missing: NaN),
    categories as text (missing: NaN), columns in the pipeline's order.
    """
    rows = [a if isinstance(a, dict) else a.__dict__ for a in applications]
    data = {}
    for name in columns:
        values = [row.get(name) for row in rows]
        if name in features.CATEGORIES:
            data[name] = np.array([np.nan if v is None else v for v in values], dtype=object)
        else:
            data[name] = np.array([np.nan if v is None else v for v in values], dtype="float64")
    return pd.DataFrame(data)


def as_applications(frame: pd.DataFrame) -> list[dict]:
    """Rows of a loans frame as JSON-ready request bodies for ``/predict``.

    Only the model's raw features are kept; missing values are left out (the
    service treats an absent optional field as missing), integer fields are
    Python ints and numbers Python floats, so ``json.dumps`` gives what a
    client would send.
    """
    out = []
    for row in frame[list(features.RAW_FEATURES)].to_dict("records"):
        body = {}
        for name, value in row.items():
            if value is None or (isinstance(value, float) and np.isnan(value)):
                continue
            if name in features.INTEGERS:
                value = int(value)
            elif name not in features.CATEGORIES:
                value = float(value)
            else:
                value = str(value)
            body[name] = value
        out.append(body)
    return out


# --- reading a request -------------------------------------------------------------

def _validate(body: bytes, application: type[BaseModel], batch: type[BaseModel], fields):
    """The validated applications of a /predict body, or the 422 response that says why not."""
    try:
        payload = limits.parse_json(body)
    except ValueError as error:
        kind = "duplicate_key" if isinstance(error, limits.DuplicateKey) else "json_invalid"
        return limits.one_problem(422, kind, f"Invalid JSON: {error}")
    crowded, total = limits.crowded_objects(payload, fields)
    if total:  # refused before validation: pydantic would build an error per extra key
        return limits.problem(422, crowded, total=total)
    try:
        if isinstance(payload, dict) and "applications" in payload:
            return batch.model_validate(payload).applications
        return [application.model_validate(payload)]
    except ValidationError as error:
        # error_count() is cheap; errors() builds a dict per error, so it is sliced at once
        shown = error.errors(include_url=False, include_input=False, include_context=False)
        return limits.problem(422, limits.readable(shown), total=error.error_count())


INLINE_BYTES = 16_384  # smaller bodies are validated on the event loop: a thread hop costs more


async def read_applications(request: Request, application, batch, fields):
    """The applications of a /predict request, or the 4xx response that says why not."""
    if not limits.is_json(request.headers.get("content-type")):
        return limits.one_problem(415, "unsupported_media_type",
                                  "send the applications as JSON, with Content-Type: application/json")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limits.MAX_BODY_BYTES:
        return limits.too_large()  # refused before reading it
    try:
        body = await limits.read_body(request.receive)
    except limits.BodyTooLarge:
        return limits.too_large()
    except limits.BodyTimeout:
        return limits.one_problem(408, "timeout", f"no part of the body arrived for "
                                  f"{limits.BODY_TIMEOUT_S:.0f} s; send it whole")
    if len(body) <= INLINE_BYTES:
        return _validate(body, application, batch, fields)
    # A large body takes milliseconds to parse and validate: off the event loop,
    # so that /health and the other requests are not held up behind it.
    return await asyncio.to_thread(_validate, body, application, batch, fields)


def _json_schema(application: type[BaseModel], max_batch: int) -> dict:
    """The /predict request body for the OpenAPI page: one application, or a batch."""
    one = application.model_json_schema()
    many = {"type": "object", "title": "Batch", "additionalProperties": False,
            "required": ["applications"],
            "properties": {"applications": {"type": "array", "items": one, "minItems": 1,
                                            "maxItems": max_batch}}}
    return {"required": True, "content": {"application/json": {"schema": {"oneOf": [one, many]}}}}


def thread_limit(threads: int | None):
    """A context-manager factory that caps OpenMP threads (cheap: no library scan per call).

    OpenMP's thread count is a per-thread setting: enter it in the thread
    that calls the model (the batcher's worker does).
    """
    if threads is None:
        return nullcontext
    from threadpoolctl import ThreadpoolController

    controller = ThreadpoolController()
    return lambda: controller.limit(limits=threads, user_api="openmp")


# --- the documented answers ---------------------------------------------------------

class Prediction(BaseModel):
    probability_of_default: float = Field(..., ge=0, le=1, description=(
        "rounded to the decimals the service publishes (4 by default)"))
    decision: Literal["approve", "refuse"] = Field(
        ..., description="from the unrounded probability and the model's threshold")


class Predictions(BaseModel):
    model_version: str
    predictions: list[Prediction]


class ErrorItem(BaseModel):
    field: str
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    detail: list[ErrorItem] = Field(..., description=(
        f"the first {limits.MAX_REPORTED_ERRORS} problems, each naming its field and the reason"))
    error_count: int = Field(..., description="how many problems there were in all")


def _responses(*codes) -> dict:
    why = {400: "the request could not be read (Host not served, connection closed)",
           401: "no valid API key in the X-API-Key header (only when the service has keys)",
           408: "the body stopped arriving", 413: f"body over {limits.MAX_BODY_BYTES} bytes",
           415: "the body is not declared as JSON",
           422: "the body is not valid JSON or not valid applications",
           429: "too many applications from this client; see Retry-After",
           503: "the service is saturated; retry after Retry-After seconds"}
    return {code: {"model": Problem, "description": why[code]} for code in codes}


class HostCheck:
    """ASGI middleware: answer 400 to a Host header the service is not known by (DNS rebinding)."""

    def __init__(self, app, allowed):
        self.app, self.allowed = app, tuple(h.lower() for h in allowed)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and "*" not in self.allowed:
            host = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
            if not auth.host_allowed(host, self.allowed):
                response = limits.one_problem(400, "invalid_host", "this service does not answer "
                                              "that Host name")
                return await response(scope, receive, send)
        return await self.app(scope, receive, send)


# --- the app ----------------------------------------------------------------------

# What /version tells anyone who asks: which model, trained on what, how good.
# Not the decision threshold: with it, searching for the smallest change that
# turns a refusal into an approval needs no guessing.
VERSION_KEYS = ("name", "version", "created", "estimator", "model_sha256",
                "training_data", "metrics", "libraries")


def create_app(model, metadata: dict, *, max_batch: int = MAX_BATCH,
               model_threads: int | None = 1, api_keys=(), rate_limit: float | None = None,
               burst: float | None = None, allowed_hosts=None, probability_decimals: int | None = 4,
               micro_batching: bool = True, max_wait_ms: float = 2.0,
               max_queue_rows: int | None = None) -> FastAPI:
    """A FastAPI app serving ``model`` (a fitted pipeline) described by ``metadata``.

    ``metadata`` is a model card (:func:`mlecourse.lender.artifact.load_model`); its
    ``features`` entry defines the input contract (default: the course's
    schema), its ``threshold`` the decision (default: business.COSTS).
    ``model_threads`` caps the OpenMP threads of one prediction (None: no
    cap). Gradient boosting predicts in parallel with OpenMP; for a handful
    of rows the threads' start-up and waiting cost more than the work, and
    on a busy two-core machine a one-row prediction went from about 10 ms
    with one thread to 70 ms and more with two. Scale with processes instead.

    Hardening, all optional (the defaults are for loopback):
    ``api_keys`` (empty: no key asked; see :mod:`mlecourse.lender.auth`),
    ``rate_limit`` applications per second per client with ``burst`` (None:
    no limit), ``allowed_hosts`` (default: loopback names; ``("*",)`` turns
    the check off), ``probability_decimals`` (None: full precision).
    ``micro_batching`` scores concurrent requests in one model call
    (:mod:`mlecourse.lender.batcher`), waiting up to ``max_wait_ms`` when
    requests overlap; at most ``max_queue_rows`` rows wait (default: four
    full batches), past that /predict answers 503 with Retry-After.
    """
    metadata = dict(metadata or {})
    schema = metadata.get("features") or artifact.feature_schema()
    columns = tuple(schema)
    application = application_model(schema)
    batch = batch_model(application, max_batch)
    threshold = float(metadata.get("threshold", business.COSTS.threshold))
    model_version = str(metadata.get("version", "unknown"))
    version_body = {k: metadata[k] for k in VERSION_KEYS if k in metadata}
    version_body.setdefault("version", model_version)
    limit = thread_limit(model_threads)
    keys = tuple(api_keys or ())
    limiter = auth.RateLimiter(rate_limit, burst or max(rate_limit, max_batch)) if rate_limit else None

    def score(items) -> np.ndarray:
        with limit():  # entered in the thread that runs the model
            return model.predict_proba(applications_frame(items, columns))[:, 1]

    queue_rows = max_queue_rows or 4 * max_batch
    batcher = MicroBatcher(score, max_rows=max_batch, max_wait_s=max_wait_ms / 1000,
                           max_queue_rows=queue_rows) if micro_batching else None

    # No /docs or /redoc pages: FastAPI builds them from scripts on a CDN, which
    # an offline machine cannot load. The contract is at /openapi.json.
    app = FastAPI(title="Loan default model", version=model_version, docs_url=None, redoc_url=None,
                  description="Probability that a loan application defaults, and the decision it implies.")
    app.add_middleware(HostCheck, allowed=allowed_hosts or auth.LOOPBACK_HOSTS)
    app.state.model = model
    app.state.metadata = metadata
    app.state.application_model = application
    app.state.batch_model = batch
    app.state.batcher = batcher

    def refused(request: Request, cost: int = 0) -> Response | None:
        """401 without a valid key (when there are keys), 429 over the client's rate; else None."""
        client = None
        if keys:
            client = auth.key_id(request.headers.get(auth.API_KEY_HEADER), keys)
            if client is None:
                return limits.one_problem(401, "unauthorized", "send a valid API key in the "
                                          "X-API-Key header", headers={"WWW-Authenticate": "ApiKey"})
        if limiter and cost:
            client = client or (request.client.host if request.client else "unknown")
            wait = limiter.take(client, cost)
            if wait:
                return limits.one_problem(429, "rate_limited", f"over {limiter.rate:g} applications "
                                          "a second for this client", headers={
                                              "Retry-After": auth.retry_after(wait)})
        return None

    # Liveness: the process and its event loop are alive. It must stay 200
    # under any load: a liveness failure restarts the pod, and restarting
    # busy pods makes a traffic spike worse.
    @app.get("/health")
    async def health():
        return {"status": "ok"}

    # Readiness: may this replica take more traffic? 503 while its queue is
    # full, so that the load balancer sends new requests to other replicas.
    @app.get("/ready", responses=_responses(503))
    async def ready():
        if batcher is not None and batcher.saturated():
            return limits.one_problem(503, "saturated", "the queue is full",
                                      headers={"Retry-After": "1"})
        return {"status": "ready"}

    @app.get("/version", responses=_responses(401))
    async def version(request: Request):
        return refused(request) or version_body

    @app.post("/predict", response_model=Predictions, openapi_extra={
        "requestBody": _json_schema(application, max_batch)},
        responses=_responses(400, 401, 408, 413, 415, 422, 429, 503))
    async def predict(request: Request) -> Response:
        denied = refused(request)
        if denied:
            return denied
        try:
            items = await read_applications(request, application, batch, columns)
        except limits.ClientGone:
            log.info("client %s closed the connection before sending its whole body",
                     request.client.host if request.client else "?")
            return Response(status_code=400)  # nobody reads it; not a server fault
        if isinstance(items, Response):
            return items
        denied = refused(request, cost=len(items)) if limiter else None
        if denied:
            return denied
        try:
            probabilities = (await batcher.submit(items) if batcher is not None
                             else await asyncio.to_thread(score, items))
        except Overloaded:
            return limits.one_problem(503, "saturated", "the service is saturated; retry later",
                                      headers={"Retry-After": "1"})
        return Response(_answer(probabilities, threshold, model_version, probability_decimals),
                        media_type="application/json")

    @app.exception_handler(Exception)
    async def server_fault(request: Request, error: Exception):
        # Only real faults of the service get here: they are logged in full,
        # and the client learns nothing about the internals.
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": "internal server error"}, status_code=500)

    # --- extensions: other modules add their routes and instruments here -----------
    # monitoring: request counts, latency and scores at GET /metrics (Prometheus; chapter 6)
    service_metrics.instrument(app, model_version)
    # POST /explain: adverse-action reasons (chapter 8)
    reasons.add_routes(app, model, metadata, probability_decimals=probability_decimals)

    return app


def _answer(probabilities, threshold: float, model_version: str, decimals: int | None) -> str:
    """The /predict body: each probability (rounded to ``decimals``) and its decision."""
    values = np.asarray(probabilities, dtype=float)
    decisions = np.where(values > threshold, "refuse", "approve").tolist()
    shown = (np.round(values, decimals) if decimals is not None else values).tolist()
    predictions = [{"probability_of_default": p, "decision": d} for p, d in zip(shown, decisions)]
    return json.dumps({"model_version": model_version, "predictions": predictions})


def create_app_from_dir(directory, *, expected_fingerprint: str | None = None, **kwargs) -> FastAPI:
    """Load a model directory (checked by artifact.load_model) and serve it."""
    model, metadata = artifact.load_model(directory, expected_fingerprint=expected_fingerprint)
    log.info("loaded %s version %s from %s", metadata.get("name"), metadata.get("version"), directory)
    return create_app(model, metadata, **kwargs)


# --- running it -------------------------------------------------------------------

# The server's own limits (uvicorn's settings). Past LIMIT_CONCURRENCY open
# connections and requests, uvicorn answers 503 itself instead of queueing
# without bound (and running out of file descriptors); an idle keep-alive
# connection is closed after timeout_keep_alive seconds; request heads are
# capped in size and, by serving_limits.deadline_protocol, in time; a body that
# arrives too slowly is cut by serving_limits.BODY_TIMEOUT_S. What uvicorn
# cannot do (connections per client address, TLS, a total request deadline)
# a reverse proxy in front must: see deploy/kubernetes.yaml's notes.
SERVER_LIMITS = {"limit_concurrency": 512, "timeout_keep_alive": 5, "backlog": 512,
                 "h11_max_incomplete_event_size": 16_384}


@contextmanager
def serve(app, host: str = "127.0.0.1", port: int | None = None, *, timeout: float = 30.0,
          access_log: bool = False, log_level: str = "warning", nagle: bool = False,
          header_timeout: float | None = None, **server_limits):
    """Run ``app`` with uvicorn in a background thread; yields the base URL.

    ``port=None`` takes a free port (the socket is bound here and handed to
    uvicorn, so no other process can take it in between). Returns once
    ``/health`` answers; on exit, asks the server to stop and joins the
    thread, so a notebook kernel or a test process exits cleanly. Works in
    Jupyter: the server runs its own event loop in its own thread.
    ``nagle=True`` leaves Nagle's algorithm on, only to measure what it costs.
    ``server_limits`` override :data:`SERVER_LIMITS` (uvicorn.Config's names);
    ``header_timeout`` is the seconds a connection has to send a request head
    (default: serving_limits.HEADER_TIMEOUT_S).
    """
    import uvicorn

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio switches Nagle's algorithm off
    # (TCP_NODELAY) only on sockets that say they are TCP. Without it, the
    # response body waits for the client's delayed ACK: +40 ms per request.
    sock = socket.socket(family, socket.SOCK_STREAM, 0 if nagle else socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 0 if nagle else 1)
    sock.bind((host, port or 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, access_log=access_log,
                            lifespan="off", timeout_graceful_shutdown=5,
                            http=limits.deadline_protocol(header_timeout),
                            **{**SERVER_LIMITS, **server_limits})
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                              name=f"uvicorn-{port}", daemon=True)
    thread.start()
    url = f"http://[{host}]:{port}" if family == socket.AF_INET6 else f"http://{host}:{port}"
    try:
        _wait_until_healthy(url, timeout, started=lambda: server.started,
                            failure=lambda: None if thread.is_alive() else "its thread stopped")
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=timeout)
        sock.close()


def _wait_until_healthy(url: str, timeout: float, *, failure, started=lambda: True) -> None:
    """Poll ``url``/health until it answers 200; raise if ``failure()`` names a reason or time runs out."""
    import httpx

    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=url, timeout=2.0) as client:
        while True:
            reason = failure()
            if reason:
                raise RuntimeError(f"the server on {url} stopped while starting: {reason}")
            if started():
                try:
                    if client.get("/health").status_code == 200:
                        return
                except httpx.TransportError:
                    pass  # not listening yet
            if time.monotonic() > deadline:
                raise TimeoutError(f"the server on {url} did not answer /health within {timeout} s")
            time.sleep(0.02)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (for a server in another process)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@contextmanager
def serve_process(model_dir, host: str = "127.0.0.1", port: int | None = None, *,
                  timeout: float = 60.0, log_level: str = "warning", extra_args=(), env=None):
    """Run ``python -m mlecourse.lender.serving`` on ``model_dir`` in a child process; yields the URL.

    What the container runs, on loopback: a separate process with its own
    interpreter, so clients in this process do not share its GIL. Returns
    once ``/health`` answers; on exit, sends SIGTERM (uvicorn shuts down
    gracefully) and waits for the process. ``extra_args`` are more command-line
    options (e.g. ``["--rate-limit", "0"]``), ``env`` the child's environment.
    """
    import subprocess
    import sys

    port = port or free_port(host)
    command = [sys.executable, "-m", "mlecourse.lender.serving", "--model-dir", str(model_dir),
               "--host", host, "--port", str(port), "--log-level", log_level, "--no-access-log", *map(str, extra_args)]
    process = subprocess.Popen(command, env=env)
    url = f"http://{host}:{port}"
    try:
        _wait_until_healthy(url, timeout, failure=lambda: None if process.poll() is None else
                            f"it exited with code {process.returncode}: {' '.join(command)}")
        yield url
    finally:
        if process.poll() is None:
            stop_process(process)


def stop_process(process, grace: float = 15) -> None:
    """Ask a server process (a ``subprocess.Popen``) to stop (SIGTERM: uvicorn drains), then insist."""
    import subprocess

    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m mlecourse.lender.serving`` (the container's command)."""
    parser = argparse.ArgumentParser(prog="python -m mlecourse.lender.serving",
                                     description="Serve a model directory over HTTP with uvicorn.")
    parser.add_argument("--model-dir", required=True, type=Path,
                        help="directory with model.skops and model.json (python -m mlecourse.lender.artifact)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default: %(default)s; 0.0.0.0 in a container, "
                        "which needs an API key)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--no-access-log", action="store_true", help="do not log every request")
    parser.add_argument("--api-key-file", type=Path, default=None,
                        help=f"file with the API keys, one a line (default: the {auth.API_KEY_ENV} "
                        "environment variable; neither: no key, loopback only)")
    parser.add_argument("--allowed-host", action="append", default=None, metavar="NAME",
                        help="a Host name the service answers besides the loopback names (repeat)")
    parser.add_argument("--rate-limit", type=float, default=100.0,
                        help="applications per second per client (0: no limit; default: %(default)s)")
    parser.add_argument("--burst", type=float, default=None,
                        help="applications a client may send at once (default: one full batch)")
    parser.add_argument("--max-wait-ms", type=float, default=2.0,
                        help="how long overlapping requests wait to be batched (default: %(default)s)")
    parser.add_argument("--no-micro-batching", action="store_true",
                        help="score each request on its own (to measure what batching gains)")
    return parser


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)

    import uvicorn

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        keys = auth.load_api_keys(args.api_key_file)
    except auth.ApiKeyError as error:
        log.error("refusing to start: %s", error)
        return 2
    if not keys and args.host not in LOOPBACK:
        log.error("refusing to start: --host %s without an API key would open the model to anyone "
                  "who can reach it; set %s or --api-key-file (or listen on 127.0.0.1)",
                  args.host, auth.API_KEY_ENV)
        return 2
    try:
        app = create_app_from_dir(args.model_dir, api_keys=keys,
                                  rate_limit=args.rate_limit or None, burst=args.burst,
                                  allowed_hosts=(*auth.LOOPBACK_HOSTS, *(args.allowed_host or ())),
                                  micro_batching=not args.no_micro_batching,
                                  max_wait_ms=args.max_wait_ms)
    except artifact.ArtifactError as error:
        log.error("refusing to start: %s", error)
        return 2
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level,
                access_log=not args.no_access_log, http=limits.deadline_protocol(), **SERVER_LIMITS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
