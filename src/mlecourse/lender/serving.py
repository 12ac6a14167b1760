"""The model as a web service: FastAPI, validated input, one model loaded once.

Endpoints::

    GET  /health    {"status": "ok"}                  (for probes and load balancers)
    GET  /version   the model card without the schema  (which model answers?)
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
  Validation is strict: ``"35"`` is not an age and ``true`` is not a count.
* **Bad input is the client's fault, and says so.** Anything malformed gets
  a 422 whose body lists each problem with its field and reason; invalid
  JSON and oversized bodies are 4xx too. A 500 means a bug in the service,
  and the tests send thousands of malformed payloads to show there is none.
* **The model is loaded once**, when the app is created, never per request.
  The request body is parsed and validated by pydantic-core directly from
  bytes, and the feature frame is built column by column, because those
  steps, not the HTTP layer, are where a naive service loses milliseconds.
* ``/predict`` is ``async`` and calls the model on the event loop: the work
  is CPU-bound and holds the GIL, so a thread pool would add a hop and no
  parallelism. A real deployment scales with processes or replicas.
"""
from __future__ import annotations

import argparse
import json
import logging
import socket
import threading
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pydantic_core
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from mlecourse.lender import artifact, business, features
from mlecourse.lender import artifact, business, features, reasons, service_metrics

log = logging.getLogger("mlecourse.lender.serving")

MAX_BATCH = 1000  # applications per request
MAX_BODY_BYTES = 2_000_000  # a full batch is about 0.4 MB
# Where the product's rules give no upper bound (incomes, debts, counts), the
# service still needs one: a number like 1e300 would overflow the ratios the
# pipeline computes. No application has a billion of anything.
CEILING = 10**9


# --- the input contract ---------------------------------------------------------

def _field(spec: dict):
    """The (type, Field) pair pydantic.create_model needs for one schema entry."""
    nullable = bool(spec.get("nullable"))
    if spec.get("allowed"):  # a category, or a number with a fixed set of values
        kind = Literal[tuple(spec["allowed"])]
        constraints = {}
    else:
        integer = spec["type"] == "integer"
        kind = int if integer else float
        high = spec.get("max")
        constraints = {"ge": spec.get("min"), "le": CEILING if high is None else high}
        constraints = {k: v for k, v in constraints.items() if v is not None}
        if not integer:
            constraints["allow_inf_nan"] = False
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


# --- errors, readable -------------------------------------------------------------

def _readable(errors: list[dict]) -> list[dict]:
    """pydantic's errors as JSON-safe dicts: field, loc, msg, type (never the input)."""
    out = []
    for error in errors:
        loc = [part if isinstance(part, (int, str)) else str(part) for part in error.get("loc", ())]
        out.append({"field": ".".join(map(str, loc)) or "body", "loc": ["body", *loc],
                    "msg": str(error.get("msg", "invalid")), "type": str(error.get("type", "invalid"))})
    return out


def _problem(status: int, errors: list[dict]) -> Response:
    return JSONResponse({"detail": errors}, status_code=status)


def _too_large() -> Response:
    return _problem(413, [{"field": "body", "loc": ["body"], "type": "too_large",
                           "msg": f"request body over {MAX_BODY_BYTES} bytes"}])


def _read_applications(body: bytes, application: type[BaseModel], batch: type[BaseModel]):
    """The validated applications of a /predict body, or the 422 response that says why not."""
    try:
        # NaN and Infinity are read (as Python floats do) so that validation can
        # name the field that holds them, instead of a bare "invalid JSON".
        payload = pydantic_core.from_json(body, allow_inf_nan=True)
    except ValueError as error:
        return _problem(422, [{"field": "body", "loc": ["body"], "type": "json_invalid",
                               "msg": f"Invalid JSON: {error}"}])
    try:
        if isinstance(payload, dict) and "applications" in payload:
            return batch.model_validate(payload).applications
        return [application.model_validate(payload)]
    except ValidationError as error:
        return _problem(422, _readable(error.errors(include_url=False, include_input=False,
                                                     include_context=False)))


def _json_schema(application: type[BaseModel], max_batch: int) -> dict:
    """The /predict request body for the OpenAPI page: one application, or a batch."""
    one = application.model_json_schema()
    many = {"type": "object", "title": "Batch", "additionalProperties": False,
            "required": ["applications"],
            "properties": {"applications": {"type": "array", "items": one, "minItems": 1,
                                            "maxItems": max_batch}}}
    return {"required": True, "content": {"application/json": {"schema": {"oneOf": [one, many]}}}}


def thread_limit(threads: int | None):
    """A context-manager factory that caps OpenMP threads (cheap: no library scan per call)."""
    if threads is None:
        return nullcontext
    from threadpoolctl import ThreadpoolController

    controller = ThreadpoolController()
    return lambda: controller.limit(limits=threads, user_api="openmp")


# --- the app ----------------------------------------------------------------------

VERSION_KEYS = ("name", "version", "created", "estimator", "threshold", "model_sha256",
                "training_data", "metrics", "libraries")


def create_app(model, metadata: dict, *, max_batch: int = MAX_BATCH,
               model_threads: int | None = 1) -> FastAPI:
    """A FastAPI app serving ``model`` (a fitted pipeline) described by ``metadata``.

    ``metadata`` is a model card (:func:`mlecourse.lender.artifact.load_model`); its
    ``features`` entry defines the input contract (default: the course's
    schema), its ``threshold`` the decision (default: business.COSTS).
    ``model_threads`` caps the OpenMP threads of one prediction (None: no
    cap). Gradient boosting predicts in parallel with OpenMP; for a handful
    of rows the threads' start-up and waiting cost more than the work, and
    on a busy two-core machine a one-row prediction went from about 10 ms
    with one thread to 70 ms and more with two. Scale with processes instead.
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
    version_body.setdefault("threshold", threshold)
    limit = thread_limit(model_threads)

    # No /docs or /redoc pages: FastAPI builds them from scripts on a CDN, which
    # an offline machine cannot load. The contract is at /openapi.json.
    app = FastAPI(title="Loan default model", version=model_version, docs_url=None, redoc_url=None,
                  description="Probability that a loan application defaults, and the decision it implies.")
    app.state.model = model
    app.state.metadata = metadata
    app.state.application_model = application
    app.state.batch_model = batch

    @app.get("/health")
    async def health():
        return {"status": "ok"}

    @app.get("/version")
    async def version():
        return version_body

    @app.post("/predict", openapi_extra={"requestBody": _json_schema(application, max_batch)})
    async def predict(request: Request) -> Response:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            return _too_large()  # refused before reading it
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return _too_large()
        items = _read_applications(body, application, batch)
        if isinstance(items, Response):
            return items
        frame = applications_frame(items, columns)
        with limit():
            probabilities = model.predict_proba(frame)[:, 1]
        predictions = [{"probability_of_default": p,
                        "decision": "refuse" if p > threshold else "approve"}
                       for p in probabilities.tolist()]
        content = json.dumps({"model_version": model_version, "predictions": predictions})
        return Response(content, media_type="application/json")

    @app.exception_handler(Exception)
    async def server_fault(request: Request, error: Exception):
        # Only real faults of the service get here: they are logged in full,
        # and the client learns nothing about the internals.
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": "internal server error"}, status_code=500)

    # --- monitoring: request counts, latency and scores at GET /metrics (Prometheus) ---
    service_metrics.instrument(app, model_version)
    reasons.add_routes(app, model, metadata)  # POST /explain: adverse-action reasons (the ethics chapter)
    return app


def create_app_from_dir(directory, *, expected_fingerprint: str | None = None, **kwargs) -> FastAPI:
    """Load a model directory (checked by artifact.load_model) and serve it."""
    model, metadata = artifact.load_model(directory, expected_fingerprint=expected_fingerprint)
    log.info("loaded %s version %s from %s", metadata.get("name"), metadata.get("version"), directory)
    return create_app(model, metadata, **kwargs)


# --- running it -------------------------------------------------------------------

@contextmanager
def serve(app, host: str = "127.0.0.1", port: int | None = None, *, timeout: float = 30.0,
          access_log: bool = False, log_level: str = "warning", nagle: bool = False):
    """Run ``app`` with uvicorn in a background thread; yields the base URL.

    ``port=None`` takes a free port (the socket is bound here and handed to
    uvicorn, so no other process can take it in between). Returns once
    ``/health`` answers; on exit, asks the server to stop and joins the
    thread, so a notebook kernel or a test process exits cleanly. Works in
    Jupyter: the server runs its own event loop in its own thread.
    ``nagle=True`` leaves Nagle's algorithm on, only to measure what it costs.
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
                            lifespan="off", timeout_graceful_shutdown=5)
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
                  timeout: float = 60.0, log_level: str = "warning"):
    """Run ``python -m mlecourse.lender.serving`` on ``model_dir`` in a child process; yields the URL.

    What the container runs, on loopback: a separate process with its own
    interpreter, so clients in this process do not share its GIL. Returns
    once ``/health`` answers; on exit, sends SIGTERM (uvicorn shuts down
    gracefully) and waits for the process.
    """
    import subprocess
    import sys

    port = port or free_port(host)
    command = [sys.executable, "-m", "mlecourse.lender.serving", "--model-dir", str(model_dir),
               "--host", host, "--port", str(port), "--log-level", log_level, "--no-access-log"]
    process = subprocess.Popen(command)
    url = f"http://{host}:{port}"
    try:
        _wait_until_healthy(url, timeout, failure=lambda: None if process.poll() is None else
                            f"it exited with code {process.returncode}: {' '.join(command)}")
        yield url
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
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
                        help="address to listen on (default: %(default)s; 0.0.0.0 in a container)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--no-access-log", action="store_true", help="do not log every request")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)

    import uvicorn

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        app = create_app_from_dir(args.model_dir)
    except artifact.ArtifactError as error:
        log.error("refusing to start: %s", error)
        return 2
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level,
                access_log=not args.no_access_log)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
