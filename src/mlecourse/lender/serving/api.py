"""The model as a web service: FastAPI, validated input, one model loaded once.

Endpoints (``mlecourse.lender.service.compose`` adds /explain and runs it all)::

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
* **One guard for every route** (:mod:`mlecourse.lender.serving.guard`):
  the API key, the rate limit, the body's size and type, and strict JSON
  are checked by middleware around the whole app, before routing, so a
  route added later (``routers=``, e.g. chapter 8's /explain) cannot forget
  one. Only the probes and /metrics are open.
* **Bad input is the client's fault, and says so.** Anything malformed gets
  a 4xx whose body lists the first problems (at most 20) with field and
  reason, and how many there were: 422 for invalid JSON, a key given twice,
  ``NaN`` or a value out of range, 415 for a body not declared as JSON, 413
  for an oversized one (counted while reading). A 500 means a bug in the
  service, and the tests send thousands of malformed payloads to every
  route, and a schemathesis run, to show there is none.
  :mod:`mlecourse.lender.serving.limits` holds these limits.
* **Not an open oracle.** A per-client rate limit counts applications;
  probabilities are rounded to 4 decimals (the decision uses the unrounded
  one), or left out altogether (``decisions_only=True``: each prediction is
  its decision alone, which makes copying the model by querying it slower),
  and /version does not publish the threshold. See
  :mod:`mlecourse.lender.serving.auth`.
* **The model is loaded once**, when the app is created, never per request.
  The request body is parsed and validated by pydantic-core directly from
  bytes, and the feature frame is built column by column, because those
  steps, not the HTTP layer, are where a naive service loses milliseconds.
* **Concurrent requests share one model call** (:mod:`mlecourse.lender.serving.batcher`):
  the model runs in a worker thread, off the event loop, so /health answers
  under load; when the queue is full, /predict sheds load with a 503 and
  ``Retry-After`` instead of making everyone wait. A real deployment scales
  further with processes or replicas.
"""
from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import time
from contextlib import contextmanager
from typing import Annotated, Literal, Sequence

import numpy as np
import pandas as pd
from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, create_model

from mlecourse.lender import business, features
from mlecourse.lender.modeling import artifact, openmp
from mlecourse.lender.serving import auth, guard, limits
from mlecourse.lender.serving import metrics as service_metrics
from mlecourse.lender.serving.batcher import MicroBatcher, Overloaded

log = logging.getLogger("mlecourse.lender.serving.api")

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
    course's, :func:`mlecourse.lender.modeling.artifact.feature_schema`).
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
# The guard (serving_guard) has already checked the key, the body's size and
# type, and parsed it strictly; what is left is the route's own contract.

def validate_applications(payload, application: type[BaseModel], batch: type[BaseModel] | None, fields):
    """The validated applications of a parsed body, or the 422 response that says why not.

    ``batch=None``: the route takes one application only.
    """
    crowded, total = limits.crowded_objects(payload, fields)
    if total:  # refused before validation: pydantic would build an error per extra key
        return limits.problem(422, crowded, total=total)
    try:
        if batch is not None and isinstance(payload, dict) and "applications" in payload:
            return batch.model_validate(payload).applications
        return [application.model_validate(payload)]
    except ValidationError as error:
        # error_count() is cheap; errors() builds a dict per error, so it is sliced at once
        shown = error.errors(include_url=False, include_input=False, include_context=False)
        return limits.problem(422, limits.readable(shown), total=error.error_count())


async def applications(request: Request, *, batch: bool = True):
    """The validated applications of a request, or the 422 response that says why not.

    For any route of the service: the schema is the app's own (from the model
    card), so every route accepts and refuses exactly what /predict does.
    """
    state = request.app.state
    args = (guard.payload(request), state.application_model, state.batch_model if batch else None,
            state.columns)
    if request.state.body_bytes <= guard.INLINE_BYTES:
        return validate_applications(*args)
    # a large batch takes milliseconds to validate: off the event loop, so /health answers
    return await asyncio.to_thread(validate_applications, *args)


def _json_schema(application: type[BaseModel], max_batch: int) -> dict:
    """The /predict request body for the OpenAPI page: one application, or a batch."""
    one = application.model_json_schema()
    many = {"type": "object", "title": "Batch", "additionalProperties": False,
            "required": ["applications"],
            "properties": {"applications": {"type": "array", "items": one, "minItems": 1,
                                            "maxItems": max_batch}}}
    return {"required": True, "content": {"application/json": {"schema": {"oneOf": [one, many]}}}}


# --- the documented answers ---------------------------------------------------------

class Prediction(BaseModel):
    probability_of_default: float = Field(..., ge=0, le=1, description=(
        "rounded to the decimals the service publishes (4 by default)"))
    decision: Literal["approve", "refuse"] = Field(
        ..., description="from the unrounded probability and the model's threshold")


class Predictions(BaseModel):
    model_version: str
    predictions: list[Prediction]


class Decision(BaseModel):
    decision: Literal["approve", "refuse"] = Field(
        ..., description="from the probability and the model's threshold; the probability is not published")


class Decisions(BaseModel):
    model_version: str
    predictions: list[Decision]


class ErrorItem(BaseModel):
    field: str
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    detail: list[ErrorItem] = Field(..., description=(
        f"the first {limits.MAX_REPORTED_ERRORS} problems, each naming its field and the reason"))
    error_count: int = Field(..., description="how many problems there were in all")


def shed_response() -> dict:
    """The documented 503 of a route that sheds load (the guard documents its own answers)."""
    return {503: {"model": Problem, "description": guard.WHY[503]}}


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
               max_queue_rows: int | None = None, routers: Sequence[APIRouter] = (),
               decisions_only: bool = False, metrics: bool = True) -> FastAPI:
    """A FastAPI app serving ``model`` (a fitted pipeline) described by ``metadata``.

    ``metadata`` is a model card (:func:`mlecourse.lender.modeling.artifact.load_model`); its
    ``features`` entry defines the input contract (default: the course's
    schema), its ``threshold`` the decision (default: business.COSTS).
    ``model_threads`` caps the OpenMP threads of one prediction (None: no
    cap). Gradient boosting predicts in parallel with OpenMP; for a handful
    of rows the threads' start-up and waiting cost more than the work, and
    on a busy two-core machine a one-row prediction went from about 10 ms
    with one thread to 70 ms and more with two. Scale with processes instead.

    ``routers`` are more routes, from other parts of the system (the reason
    codes of chapter 8 at /explain): they sit behind the same guard
    (:mod:`mlecourse.lender.serving.guard`) as /predict, by construction.

    Hardening, all optional (the defaults are for loopback):
    ``api_keys`` (empty: no key asked; see :mod:`mlecourse.lender.serving.auth`),
    ``rate_limit`` applications per second per client with ``burst`` (None:
    no limit), ``allowed_hosts`` (default: loopback names; ``("*",)`` turns
    the check off), ``probability_decimals`` (None: full precision),
    ``decisions_only`` (answers carry the decision without the probability;
    /metrics still records the scores).
    ``micro_batching`` scores concurrent requests in one model call
    (:mod:`mlecourse.lender.serving.batcher`), waiting up to ``max_wait_ms`` when
    requests overlap; at most ``max_queue_rows`` rows wait (default: four
    full batches), past that /predict answers 503 with Retry-After.
    ``metrics=False`` leaves out the Prometheus metrics (no GET /metrics): only to
    measure what they cost, as the monitoring chapter does.
    """
    with_metrics = metrics  # the parameter shadows no module: serving.metrics is service_metrics here
    metadata = dict(metadata or {})
    schema = metadata.get("features") or artifact.feature_schema()
    columns = tuple(schema)
    application = application_model(schema)
    batch = batch_model(application, max_batch)
    threshold = float(metadata.get("threshold", business.COSTS.threshold))
    model_version = str(metadata.get("version", "unknown"))
    version_body = {k: metadata[k] for k in VERSION_KEYS if k in metadata}
    version_body.setdefault("version", model_version)
    limit = openmp.thread_limit(model_threads)
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
    app.state.model = model
    app.state.metadata = metadata
    app.state.application_model = application
    app.state.batch_model = batch
    app.state.columns = columns
    app.state.batcher = batcher
    app.state.model_threads = model_threads
    app.state.probability_decimals = probability_decimals
    app.state.decisions_only = decisions_only

    # Liveness: the process and its event loop are alive. It must stay 200
    # under any load: a liveness failure restarts the pod, and restarting
    # busy pods makes a traffic spike worse.
    @app.get("/health")
    async def health():
        return {"status": "ok"}

    # Readiness: may this replica take more traffic? 503 while its queue is
    # full, so that the load balancer sends new requests to other replicas.
    @app.get("/ready", responses=shed_response())
    async def ready():
        if batcher is not None and batcher.saturated():
            return limits.one_problem(503, "saturated", "the queue is full",
                                      headers={"Retry-After": "1"})
        return {"status": "ready"}

    @app.get("/version")
    async def version():
        return version_body

    @app.post("/predict", response_model=Decisions if decisions_only else Predictions,
              responses=shed_response(), openapi_extra={
                  "requestBody": _json_schema(application, max_batch), guard.COST_KEY: 1})
    async def predict(request: Request) -> Response:
        items = await applications(request)
        if isinstance(items, Response):
            return items
        probabilities = (await batcher.submit(items) if batcher is not None
                         else await asyncio.to_thread(score, items))
        if decisions_only and collectors is not None:
            collectors.observe_probabilities(probabilities)
        return Response(_answer(probabilities, threshold, model_version, probability_decimals, decisions_only),
                        media_type="application/json")

    for router in routers:
        app.include_router(router)

    harden(app, api_keys=api_keys, limiter=limiter, allowed_hosts=allowed_hosts,
           max_items=max(max_batch, limits.MAX_ITEMS))
    # monitoring: request counts, latency and scores at GET /metrics (Prometheus; chapter 6)
    collectors = service_metrics.instrument(app, model_version) if with_metrics else None
    return app


def harden(app: FastAPI, *, api_keys=(), limiter: auth.RateLimiter | None = None, allowed_hosts=None,
           max_items: int = limits.MAX_ITEMS) -> FastAPI:
    """Put ``app`` behind the service's guard, Host check and error handlers; returns it.

    The one way any of the lender's apps is served: every route, whatever
    router added it, gets the key, the rate limit (by its declared
    ``x-rate-cost``), the body limits and strict JSON, capped error bodies
    that never echo the input, 503 for a saturated pool, and a published
    contract listing all of it. Call it after every route is added.
    """
    @app.exception_handler(Overloaded)
    async def saturated(request: Request, error: Overloaded):
        return limits.one_problem(503, "saturated", "the service is saturated; retry later",
                                  headers={"Retry-After": "1"})

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError):
        # a route that lets FastAPI validate still answers as the others do: capped, no input echoed
        errors = error.errors()
        return limits.problem(422, limits.readable(errors), total=len(errors))

    @app.exception_handler(Exception)
    async def server_fault(request: Request, error: Exception):
        # Only real faults of the service get here: they are logged in full,
        # and the client learns nothing about the internals.
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": "internal server error"}, status_code=500)

    # Outermost last: the Host check runs before the key is looked at, and the guard before any route.
    app.add_middleware(guard.Guard, keys=tuple(api_keys or ()), limiter=limiter, max_items=max_items,
                       fastapi_app=app)
    app.add_middleware(HostCheck, allowed=allowed_hosts or auth.LOOPBACK_HOSTS)
    guard.document(app, Problem)
    return app


def _answer(probabilities, threshold: float, model_version: str, decimals: int | None,
            decisions_only: bool = False) -> str:
    """The /predict body: each probability (rounded to ``decimals``) and its decision, or the decision alone."""
    values = np.asarray(probabilities, dtype=float)
    decisions = np.where(values > threshold, "refuse", "approve").tolist()
    if decisions_only:
        return json.dumps({"model_version": model_version, "predictions": [{"decision": d} for d in decisions]})
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
        wait_until_healthy(url, timeout, started=lambda: server.started,
                            failure=lambda: None if thread.is_alive() else "its thread stopped")
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=timeout)
        sock.close()


def wait_until_healthy(url: str, timeout: float, *, failure, started=lambda: True) -> None:
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


def stop_process(process, grace: float = 15) -> None:
    """Ask a server process (a ``subprocess.Popen``) to stop (SIGTERM: uvicorn drains), then insist."""
    import subprocess

    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
