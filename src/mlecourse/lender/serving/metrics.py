"""The service's own metrics, in Prometheus' text format, at ``GET /metrics``.

:func:`instrument` adds them to an app made by ``serving.create_app``:

* ``lender_requests_total{path, status, model_version}``: requests answered;
* ``lender_request_errors_total{path, model_version}``: answers with a 5xx;
* ``lender_request_duration_seconds{path, model_version}``: a latency histogram;
* ``lender_predicted_default_probability{model_version}``: a histogram of the
  scores the service gave (one observation per application), whose buckets
  include the decision threshold, so the refusal rate is a PromQL query;
* ``lender_model_info{model_version}``: 1, to join the version onto any series.

:func:`read` parses that page back (with ``prometheus_client``'s own parser), as
a scraper would: the totals of a few series, summed over their labels.

Each app gets its own ``CollectorRegistry``: two apps in one process (a
canary and the stable model in a test) do not mix their counts. The
middleware is plain ASGI, not Starlette's ``BaseHTTPMiddleware``: it wraps
``send`` and reads the JSON body of ``/predict`` answers only to observe the
scores, which costs microseconds (the chapter measures it).
"""
from __future__ import annotations

import json
import time

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)  # seconds
# 1/6 is the cost-based decision threshold of business.COSTS: scores above it are refused
SCORE_BUCKETS = (0.02, 0.05, 0.1, 0.1667, 0.25, 0.4, 0.6, 0.8, 1.0)


class ServiceMetrics:
    """The collectors of one app, in one registry."""

    def __init__(self, model_version: str, known_paths=lambda: ("/predict", "/health", "/version")):
        self.registry = CollectorRegistry()
        self.version = model_version
        self._known_paths = known_paths  # the app's own routes, read once they all exist
        self._paths: frozenset | None = None
        self.requests = Counter("lender_requests", "Requests answered, by path and status",
                                ["path", "status", "model_version"], registry=self.registry)
        self.errors = Counter("lender_request_errors", "Requests answered with a server error (5xx)",
                              ["path", "model_version"], registry=self.registry)
        self.latency = Histogram("lender_request_duration_seconds", "Time to answer a request",
                                 ["path", "model_version"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.scores = Histogram("lender_predicted_default_probability",
                                "Predicted probability of default, one per application scored",
                                ["model_version"], buckets=SCORE_BUCKETS, registry=self.registry)
        info = Gauge("lender_model_info", "The model version this service answers with",
                     ["model_version"], registry=self.registry)
        info.labels(model_version).set(1)

    def observe_request(self, path: str, status: int, seconds: float) -> None:
        # unknown paths share one label: a scanner must not create a series per URL
        if self._paths is None:
            self._paths = frozenset((*self._known_paths(), "/metrics"))
        path = path if path in self._paths else "other"
        self.requests.labels(path, str(status), self.version).inc()
        self.latency.labels(path, self.version).observe(seconds)
        if status >= 500:
            self.errors.labels(path, self.version).inc()

    def observe_scores(self, body: bytes) -> None:
        try:
            predictions = json.loads(body)["predictions"]
        except (ValueError, KeyError, TypeError):
            return  # not a prediction answer: nothing to observe
        self.observe_probabilities(p["probability_of_default"] for p in predictions
                                   if isinstance(p, dict) and "probability_of_default" in p)

    def observe_probabilities(self, values) -> None:
        """Record scores the answers do not carry (a service that publishes decisions only)."""
        histogram = self.scores.labels(self.version)
        for value in values:
            histogram.observe(float(value))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _MetricsMiddleware:
    """Times every request, counts its status, and reads /predict answers' scores."""

    def __init__(self, app, metrics: ServiceMetrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = {"code": 500}
        chunks: list[bytes] = []
        watch_body = scope["path"] == "/predict"

        async def wrapped_send(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            elif message["type"] == "http.response.body" and watch_body and status["code"] == 200:
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, wrapped_send)
        finally:
            self.metrics.observe_request(scope["path"], status["code"], time.perf_counter() - start)
            if chunks:
                self.metrics.observe_scores(b"".join(chunks))


def instrument(app, model_version: str) -> ServiceMetrics:
    """Add the metrics middleware to ``app`` and serve ``GET /metrics``; returns the collectors."""
    from fastapi import Response

    # every path the app publishes (its OpenAPI document), so a route added by a router is labelled too
    metrics = ServiceMetrics(str(model_version), known_paths=lambda: tuple(app.openapi()["paths"]))
    app.state.metrics = metrics

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    app.add_middleware(_MetricsMiddleware, metrics=metrics)
    return metrics


# What the monitoring chapter reads after each year of its replay.
PREDICT_SERIES = ("lender_requests_total", "lender_request_duration_seconds_count",
                  "lender_request_duration_seconds_sum", "lender_predicted_default_probability_count",
                  "lender_predicted_default_probability_sum")


def read(exposition: str, names=PREDICT_SERIES, path: str = "/predict") -> dict[str, float]:
    """The totals of the samples ``names`` in a /metrics page (Prometheus' text format).

    Samples are summed over their labels (every status, every model version);
    a sample with a ``path`` label counts only if it is ``path``.
    """
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name in names and sample.labels.get("path", path) == path:
                found[sample.name] = found.get(sample.name, 0.0) + sample.value
    return found
