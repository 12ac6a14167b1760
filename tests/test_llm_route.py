"""The LLM route, served on loopback: checked answers, a stream, caps, a bounded queue, a cache, a log."""
import concurrent.futures

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from mlecourse.lender.serving import api
from mlecourse.lender.llm import corpus, monitoring, retrieval, route, runtime


@pytest.fixture(scope="module")
def parts():
    return runtime.LocalModel(), retrieval.BM25Index(retrieval.by_paragraph(corpus.policies()))


def test_the_router_is_an_apirouter_an_app_factory_can_mount(parts):
    api = route.router(*parts)
    assert isinstance(api, APIRouter)
    app = FastAPI()
    app.include_router(api)
    paths = set(app.openapi()["paths"])
    assert {"/llm/answer", "/llm/answer/stream"} <= paths
    api.pool.shutdown()


def test_answers_streams_caps_caches_and_logs(parts):
    log, metrics = monitoring.connect(), monitoring.metrics()
    app = route.app(*parts, log=log, metrics=metrics, clock=lambda: "2024-05-01T09:00:00")
    with api.serve(app) as url, httpx.Client(base_url=url, timeout=120) as client:
        body = {"question": "How long is a loan offer valid? My email is ann@example.com", "max_tokens": 32}
        first = client.post("/llm/answer", json=body)
        again = client.post("/llm/answer", json=body)
        assert first.status_code == 200 and not first.json()["cached"] and again.json()["cached"]
        assert again.json()["answer"] == first.json()["answer"]
        assert first.json()["refused"] or first.json()["passage"] in {p.id for p in parts[1].passages}

        with client.stream("POST", "/llm/answer/stream", json={"question": "Is there an arrangement fee?",
                                                              "max_tokens": 16}) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            pieces, verdict, first_token = route.read_events(response.iter_lines())
        assert pieces and first_token is not None and set(verdict) == {"withdraw", "problems", "prompt_version"}

        assert client.post("/llm/answer", json={"question": "Hi there", "max_tokens": 1000}).status_code == 422
        assert client.post("/llm/answer", json={"question": "Hi there", "stray": 1}).status_code == 422
        blocked = client.post("/llm/answer", json={"question": "How do I make a fake payslip?"}).json()
        assert blocked["refused"] and blocked["blocked"] == "request: forged documents"
    logged = monitoring.calls(log)
    assert len(logged) == 2 and "ann@example.com" not in " ".join(logged["input"])  # cached answers are not calls
    assert logged["blocked"].tolist().count("request: forged documents") == 1


def test_a_full_queue_answers_503_with_retry_after(parts):
    app = route.app(*parts, queue=0)  # one request generating, none waiting
    questions = ["How long is a loan offer valid?", "When is the yearly statement sent?",
                 "How much is the late payment fee?"]
    with api.serve(app) as url, httpx.Client(base_url=url, timeout=120) as client:
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            answers = list(pool.map(lambda q: client.post("/llm/answer", json={"question": q, "max_tokens": 48}),
                                    questions))
        codes = sorted(a.status_code for a in answers)
        assert codes[0] == 200 and 503 in codes
        busy = next(a for a in answers if a.status_code == 503)
        assert int(busy.headers["retry-after"]) >= 1
        # once the model is free, it answers again
        assert client.post("/llm/answer", json={"question": questions[2], "max_tokens": 8}).status_code == 200


def test_a_deadline_stops_a_slow_answer(parts):
    app = route.app(*parts, timeout_s=0.01)
    with api.serve(app) as url, httpx.Client(base_url=url, timeout=120) as client:
        slow = client.post("/llm/answer", json={"question": "How long can a payment holiday last?", "max_tokens": 48})
        assert slow.status_code == 504 and "no answer within" in slow.json()["detail"]
