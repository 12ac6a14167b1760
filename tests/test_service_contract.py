"""The whole service keeps its own published contract: schemathesis against /openapi.json.

Schemathesis reads the OpenAPI document the app serves and sends what it
describes (and, for the negative checks, what it forbids), in process over
ASGI: nothing leaves the machine. Every check is on: no 5xx, every status
code and response body as documented, valid data accepted, invalid data
refused. Bounded in examples and time, with a fixed seed.
"""
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from mlecourse.lender.service import compose

MAX_EXAMPLES = 60  # per operation
# The policy assistant's operations run the real model on each valid example: a
# few examples, each cut by a one-second deadline (a documented 504), bound them.
LLM_EXAMPLES = 6


@pytest.fixture(scope="module")
def app(small_model):
    return compose.create_app(small_model, {"version": "contract"},
                              assistant=compose.assistant(timeout_s=1.0, queue=8))


def test_the_service_keeps_its_published_contract(app):
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    seen = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=LLM_EXAMPLES if "/llm/" in operation.label else MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            case.call_and_validate()  # every check schemathesis has
            seen.append(case.operation.label)

        check()
    operations = {f"{m.upper()} {p}" for p, ops in app.openapi()["paths"].items() for m in ops}
    assert set(seen) == operations  # every operation the service publishes was exercised
    assert {"GET /health", "GET /ready", "GET /version", "POST /predict", "POST /explain",
            "POST /llm/answer", "POST /llm/answer/stream"} <= operations
