"""``python -m mlecourse.lender.service``: the container's command.

Loads a model directory, refuses to start open on a public address, and runs
the whole service (:func:`compose.create_app_from_dir`) with uvicorn.
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

from mlecourse.lender.modeling import artifact
from mlecourse.lender.service.compose import assistant, create_app_from_dir
from mlecourse.lender.serving import api, auth, limits

log = logging.getLogger("mlecourse.lender.service")


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m mlecourse.lender.service`` (the container's command)."""
    parser = argparse.ArgumentParser(prog="python -m mlecourse.lender.service",
                                     description="Serve a model directory over HTTP with uvicorn: /predict, /explain and the probes.")
    parser.add_argument("--model-dir", required=True, type=Path,
                        help="directory with model.skops and model.json (python -m mlecourse.lender.modeling.artifact)")
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
    parser.add_argument("--assistant", action="store_true",
                        help="also serve the policy assistant of chapter 9 at /llm/answer (loads the open model)")
    parser.add_argument("--decisions-only", action="store_true",
                        help="answer with decisions only, no probability (slows copying the model by querying it)")
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
        extra = {"assistant": assistant()} if args.assistant else {}
        app = create_app_from_dir(args.model_dir, api_keys=keys, **extra,
                                  rate_limit=args.rate_limit or None, burst=args.burst,
                                  allowed_hosts=(*auth.LOOPBACK_HOSTS, *(args.allowed_host or ())),
                                  micro_batching=not args.no_micro_batching,
                                  max_wait_ms=args.max_wait_ms, decisions_only=args.decisions_only)
    except artifact.ArtifactError as error:
        log.error("refusing to start: %s", error)
        return 2
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level,
                access_log=not args.no_access_log, http=limits.deadline_protocol(), **api.SERVER_LIMITS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
