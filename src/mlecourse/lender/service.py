"""The lender's model service as it is deployed: the serving app with every stage's routes.

This is where the system is put together, and the only place: ``serving``
knows how to serve a model behind one guard, ``reasons`` (chapter 8) how to
explain a refusal; this module hands the second to the first as a router, so
neither imports the other and a new route (an LLM endpoint, a new report)
arrives behind the same guard without touching ``serving``. It is also the
container's command: ``python -m mlecourse.lender.service``.

Routes::

    GET  /health, /ready, /metrics      open (probes and the scraper send no key)
    GET  /version                       the model card without the schema or threshold
    POST /predict                       one application or a batch -> probability and decision
    POST /explain                       one application -> decision and up to four reasons
"""
from __future__ import annotations

import argparse
import logging
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from fastapi import FastAPI

from mlecourse.lender import artifact, auth, reasons, serving
from mlecourse.lender import serving_limits as limits

log = logging.getLogger("mlecourse.lender.serving")
COMMAND = ("-m", "mlecourse.lender.service")


def create_app(model, metadata: dict, **kwargs) -> FastAPI:
    """The whole service for ``model``: /predict and the rest, and /explain, behind one guard.

    ``kwargs`` are :func:`serving.create_app`'s (keys, rate limit, batching, ...).
    """
    decimals = kwargs.get("probability_decimals", 4)
    routers = [reasons.router(model, metadata, probability_decimals=decimals)]
    return serving.create_app(model, metadata, routers=[*routers, *kwargs.pop("routers", ())], **kwargs)


def create_app_from_dir(directory, *, expected_fingerprint: str | None = None, **kwargs) -> FastAPI:
    """Load a model directory (checked by artifact.load_model) and serve it, whole."""
    model, metadata = artifact.load_model(directory, expected_fingerprint=expected_fingerprint)
    log.info("loaded %s version %s from %s", metadata.get("name"), metadata.get("version"), directory)
    return create_app(model, metadata, **kwargs)


@contextmanager
def serve_process(model_dir, host: str = "127.0.0.1", port: int | None = None, *,
                  timeout: float = 60.0, log_level: str = "warning", extra_args=(), env=None,
                  command=None):
    """Run ``python -m mlecourse.lender.service`` on ``model_dir`` in a child process; yields the URL.

    What the container runs, on loopback: a separate process with its own
    interpreter, so clients in this process do not share its GIL. Returns
    once ``/health`` answers; on exit, sends SIGTERM (uvicorn shuts down
    gracefully) and waits for the process. ``extra_args`` are more command-line
    options (e.g. ``["--rate-limit", "0"]``), ``env`` the child's environment,
    ``command`` the interpreter and module to run (default: this one's).
    """
    port = port or serving.free_port(host)
    command = list(command or [sys.executable, *COMMAND])
    command += ["--model-dir", str(model_dir), "--host", host, "--port", str(port),
                "--log-level", log_level, "--no-access-log", *map(str, extra_args)]
    process = subprocess.Popen(command, env=env)
    url = f"http://{host}:{port}"
    try:
        serving.wait_until_healthy(url, timeout, failure=lambda: None if process.poll() is None else
                                   f"it exited with code {process.returncode}: {' '.join(command)}")
        yield url
    finally:
        if process.poll() is None:
            serving.stop_process(process)


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m mlecourse.lender.serving`` (the container's command)."""
    parser = argparse.ArgumentParser(prog="python -m mlecourse.lender.service",
                                     description="Serve a model directory over HTTP with uvicorn: /predict, /explain and the probes.")
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
                access_log=not args.no_access_log, http=limits.deadline_protocol(), **serving.SERVER_LIMITS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
