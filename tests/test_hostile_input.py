"""The service under hostile input, over real HTTP on loopback.

The service is the deployed one (``compose.create_app``: /predict, /explain
and the probes) with an API key configured, and the probes are sent to every
route its own OpenAPI document lists, so a route added later is attacked
without anyone adding it here. Each case asserts the status, the size of the
answer, and that /health and a valid /predict still answer quickly
afterwards. Bounded in count and time; nothing leaves 127.0.0.1.
"""
import asyncio
import json
import logging
import socket
import threading
import time

import httpx
import numpy as np
import pytest

from mlecourse.lender import features
from mlecourse.lender.modeling import artifact
from mlecourse.lender.service import __main__ as service_command, compose
from mlecourse.lender.serving import api, auth, guard, limits
from mlecourse.lender.serving.batcher import MicroBatcher

REQUIRED = [n for n, s in artifact.feature_schema().items() if not s["nullable"]]
QUICK_S = 2.0  # "quickly", on a shared two-core machine: the old service took seconds
KEY = "s3cret"
SMALL = 4096  # bytes: every refusal is a short answer, whatever was sent


@pytest.fixture(scope="module")
def data(loan_splits):
    return loan_splits


@pytest.fixture(scope="module")
def model(small_model):
    return small_model


@pytest.fixture(scope="module")
def bodies(data):
    return [b for b in api.as_applications(data[1].head(300)) if all(n in b for n in REQUIRED)]


@pytest.fixture(scope="module")
def url(model):
    # the whole deployed service, the policy assistant of chapter 9 included (its real model:
    # every hostile body below is refused before any route, so it never generates a token)
    app = compose.create_app(model, {"version": "t"}, api_keys=(KEY,), assistant=compose.assistant())
    with api.serve(app) as base:
        yield base


@pytest.fixture(scope="module")
def http(url):
    with httpx.Client(base_url=url, timeout=30, headers={"x-api-key": KEY}) as client:
        yield client


@pytest.fixture(scope="module")
def operations(http):
    """(method, path) of every operation the service publishes."""
    spec = http.get("/openapi.json").json()
    found = [(m.upper(), path) for path, ops in spec["paths"].items() for m in ops]
    assert {("POST", "/predict"), ("POST", "/explain"), ("GET", "/version"), ("POST", "/llm/answer"),
            ("POST", "/llm/answer/stream")} <= set(found)
    return found


def post(http, raw: bytes, content_type="application/json", path="/predict", **kw):
    return http.post(path, content=raw, headers={"content-type": content_type, **kw})


def still_healthy(http, bodies):
    start = time.perf_counter()
    assert http.get("/health").status_code == 200
    assert http.post("/predict", json=bodies[0]).status_code == 200
    assert time.perf_counter() - start < QUICK_S


# --- 1. error amplification -----------------------------------------------------------

def test_a_thousand_empty_objects_get_a_short_422(http, bodies):
    raw = json.dumps({"applications": [{}] * 1000}).encode()
    assert len(raw) < 5000
    response = post(http, raw)
    assert response.status_code == 422
    assert len(response.content) < 5000  # was 1-19 MB
    body = response.json()
    assert len(body["detail"]) == limits.MAX_REPORTED_ERRORS
    assert body["error_count"] == 1000 * len(REQUIRED)
    still_healthy(http, bodies)


def test_an_object_with_many_unknown_keys_is_refused_before_validation(http, bodies):
    extra = limits.MAX_KEYS - len(bodies[0])  # as many as one object may hold
    raw = json.dumps({**bodies[0], **{f"k{i}": 0 for i in range(extra)}}).encode()
    response = post(http, raw)
    assert response.status_code == 422 and len(response.content) < SMALL
    body = response.json()
    assert body["error_count"] == extra
    assert {d["type"] for d in body["detail"]} == {"extra_forbidden"}
    assert body["detail"][0]["field"] == "k0"
    still_healthy(http, bodies)


def test_health_answers_while_a_large_invalid_batch_is_checked(http, url, bodies):
    raw = json.dumps({"applications": [{**bodies[0], "age": "x"}] * 1000}).encode()
    waits = []
    done = threading.Event()

    def probe():
        with httpx.Client(base_url=url, timeout=10) as client:
            while not done.is_set():
                start = time.perf_counter()
                client.get("/health")
                waits.append(time.perf_counter() - start)

    prober = threading.Thread(target=probe)
    prober.start()
    try:
        for _ in range(5):
            assert post(http, raw).status_code == 422
        deadline = time.perf_counter() + 30
        while not waits and time.perf_counter() < deadline:  # a probe must overlap the posts
            assert post(http, raw).status_code == 422
    finally:
        done.set()
        prober.join()
    assert waits and max(waits) < QUICK_S


# --- 2. body size, counted ----------------------------------------------------------

def test_a_chunked_body_is_cut_at_the_limit(http, bodies):
    sent = [0]

    def chunks():  # no Content-Length: httpx sends it chunked
        piece = b" " * 65536
        while sent[0] < 20 * limits.MAX_BODY_BYTES:
            sent[0] += len(piece)
            yield piece

    try:
        response = http.post("/predict", content=chunks(), headers={"content-type": "application/json"})
        assert response.status_code == 413 and len(response.content) < 1000
    except httpx.TransportError:
        pass  # the server answered 413 and closed while we were still sending: also a refusal
    still_healthy(http, bodies)


def test_read_body_stops_reading_at_the_limit_whatever_was_declared():
    taken = []

    async def receive():  # a client that declared nothing and sends 64 KB chunks forever
        taken.append(1)
        return {"type": "http.request", "body": b" " * 65536, "more_body": True}

    with pytest.raises(limits.BodyTooLarge):
        asyncio.run(limits.read_body(receive, limit=1_000_000))
    assert len(taken) == 1_000_000 // 65536 + 1  # at most the limit plus one chunk was held


# --- 3. the rate that divided by zero -------------------------------------------------

def test_zero_and_tiny_rates_have_the_zero_rate_payment():
    amount, months = np.array([12_000.0, 12_000.0, 12_000.0]), np.array([12, 12, 12])
    payment = features.monthly_payment(amount, np.array([0.0, 1e-14, 1e-300]), months)
    np.testing.assert_allclose(payment, 1000.0, rtol=1e-12)
    # an ordinary rate keeps the textbook formula, bit for bit
    r = 12.0 / 1200
    assert features.monthly_payment(12_000.0, 12.0, 12) == 12_000.0 * r / (1 - (1 + r) ** -12.0)


def test_a_rate_the_product_does_not_offer_is_refused_by_name(http, bodies):
    low, high = features.OFFERED_RATES
    for rate in (1e-14, 0.0, low - 0.01, high + 0.01):
        response = http.post("/predict", json={**bodies[0], "interest_rate": rate})
        assert response.status_code == 422
        assert [d["field"] for d in response.json()["detail"]] == ["interest_rate"]
    assert http.post("/predict", json={**bodies[0], "interest_rate": low}).status_code == 200


def test_a_card_that_allows_a_zero_rate_scores_it(model, bodies):
    """An older card (rates from 0) still gets a number, not a 500 or a NaN, for every row of a batch."""
    schema = artifact.feature_schema()
    schema["interest_rate"] = {**schema["interest_rate"], "min": 0.0, "max": 100.0}
    app = api.create_app(model, {"version": "old", "features": schema})
    batch = [bodies[0], {**bodies[0], "interest_rate": 0.0}, {**bodies[0], "interest_rate": 1e-14}]
    with api.serve(app) as base:
        response = httpx.post(f"{base}/predict", json={"applications": batch}, timeout=30)
    assert response.status_code == 200
    p = [x["probability_of_default"] for x in response.json()["predictions"]]
    assert all(0 <= v <= 1 for v in p) and p[1] == p[2]  # 0 and 1e-14 are the same loan


# --- 4. load: shed with 503, /health isolated, /ready says "full" -------------------

class SlowModel:
    """A model that takes 0.2 s per call, to fill the queue on purpose."""

    def predict_proba(self, frame):
        time.sleep(0.2)
        return np.full((len(frame), 2), 0.5)


def test_a_full_queue_sheds_with_503_and_retry_after_while_health_answers(bodies):
    app = api.create_app(SlowModel(), {"version": "slow"}, max_batch=2, max_queue_rows=4,
                             max_wait_ms=0)
    with api.serve(app) as base:
        def one(_):
            with httpx.Client(base_url=base, timeout=30) as c:
                r = c.post("/predict", json=bodies[0])
                return r.status_code, r.headers.get("retry-after")

        ready = []
        with __import__("concurrent.futures").futures.ThreadPoolExecutor(16) as pool:
            futures = [pool.submit(one, i) for i in range(16)]
            time.sleep(0.3)
            start = time.perf_counter()
            health = httpx.get(f"{base}/health", timeout=10)
            health_s = time.perf_counter() - start
            ready.append(httpx.get(f"{base}/ready", timeout=10).status_code)
            results = [f.result() for f in futures]
    codes = [c for c, _ in results]
    assert set(codes) <= {200, 503} and 200 in codes and 503 in codes
    assert all(retry == "1" for code, retry in results if code == 503)
    assert health.status_code == 200 and health_s < QUICK_S
    assert ready == [503]


# --- 5. slow and idle clients -------------------------------------------------------

def closed_by_server(sock) -> bool:
    try:
        while sock.recv(4096):  # the rest of an answer, if any, then the end
            pass
        return True
    except TimeoutError:
        return False  # still open
    except OSError:
        return True  # reset


@pytest.mark.parametrize("first_request", [False, True])
def test_idle_connections_are_closed_and_do_not_block_the_service(model, bodies, first_request):
    app = api.create_app(model, {"version": "t"})
    with api.serve(app, timeout_keep_alive=1, header_timeout=1) as base:
        host, port = base.removeprefix("http://").split(":")
        idle = [socket.create_connection((host, int(port)), timeout=0.2) for _ in range(100)]
        try:
            if first_request:  # one answered request, then silence (keep-alive)
                for s in idle:
                    s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                    s.settimeout(5)
                    assert s.recv(4096).startswith(b"HTTP/1.1 200")
                    s.settimeout(0.2)
            else:  # Slowloris: a few bytes of a request head, then nothing
                for s in idle[::2]:
                    s.sendall(b"GET /health HTTP/1.1\r\nHo")
            with httpx.Client(base_url=base, timeout=10) as c:
                still_healthy(c, bodies)
            time.sleep(2.5)
            assert sum(closed_by_server(s) for s in idle) == len(idle)
        finally:
            for s in idle:
                s.close()


def test_a_body_that_stops_arriving_is_a_408(model, bodies, monkeypatch):
    monkeypatch.setattr(limits, "BODY_TIMEOUT_S", 0.5)
    with api.serve(api.create_app(model, {"version": "t"})) as base:
        host, port = base.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as s:
            s.sendall(b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 100\r\n\r\n{\"age\"")
            answer = s.recv(4096)
        assert answer.startswith(b"HTTP/1.1 408")
        with httpx.Client(base_url=base, timeout=10) as c:
            still_healthy(c, bodies)


def test_a_client_that_leaves_mid_body_is_logged_as_a_client_abort(model, bodies, caplog):
    with api.serve(api.create_app(model, {"version": "t"}), log_level="info") as base:
        host, port = base.removeprefix("http://").split(":")
        with caplog.at_level(logging.INFO):
            with socket.create_connection((host, int(port)), timeout=10) as s:
                s.sendall(b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
                          b"\r\nContent-Length: 1000\r\n\r\n{\"age\": 4")
            time.sleep(0.5)
            with httpx.Client(base_url=base, timeout=10) as c:
                still_healthy(c, bodies)
    ours = [r for r in caplog.records if r.name == "mlecourse.lender.serving.api"]
    assert any("closed the connection" in r.getMessage() for r in ours)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# --- 6. the contract ----------------------------------------------------------------

@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_a_body_not_declared_as_json_is_a_415(http, bodies, content_type):
    response = post(http, json.dumps(bodies[0]).encode(), content_type=content_type)
    assert response.status_code == 415 and response.json()["detail"][0]["type"] == "unsupported_media_type"


def test_json_with_a_charset_or_a_json_suffix_is_accepted(http, bodies):
    raw = json.dumps(bodies[0]).encode()
    assert post(http, raw, content_type="application/json; charset=utf-8").status_code == 200
    assert post(http, raw, content_type="application/vnd.lender+json").status_code == 200


def test_a_key_given_twice_is_refused(http, bodies):
    raw = json.dumps(bodies[0])[:-1] + ', "age": 18}'
    response = post(http, raw.encode())
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "duplicate_key" and "'age'" in response.text


def test_whole_numbers_are_whole_for_every_integer_field(http, bodies):
    one = {**bodies[0], "age": 40, "loan_term_months": 36}
    floats = {**one, "age": 40.0, "loan_term_months": 36.0, "previous_defaults": float(one["previous_defaults"])}
    assert http.post("/predict", json=floats).json() == http.post("/predict", json=one).json()
    for name, value in [("age", 40.5), ("loan_term_months", 36.5)]:
        response = http.post("/predict", json={**one, name: value})
        assert response.status_code == 422 and response.json()["detail"][0]["field"] == name


def test_an_unknown_host_is_a_400(http, bodies):
    response = http.get("/health", headers={"host": "evil.example"})
    assert response.status_code == 400 and response.json()["detail"][0]["type"] == "invalid_host"
    assert http.get("/health", headers={"host": "localhost:8000"}).status_code == 200


@pytest.mark.parametrize("header,ok", [("127.0.0.1:80", True), ("[::1]:8000", True), ("localhost", True),
                                       ("127.0.0.1.evil.example", False), ("", False),
                                       ("api.lender.example", True), ("x.api.lender.example", False)])
def test_host_allowed(header, ok):
    assert auth.host_allowed(header, (*auth.LOOPBACK_HOSTS, "api.lender.example")) is ok


def test_predict_documents_its_answers(http):
    spec = http.get("/openapi.json").json()
    answers = spec["paths"]["/predict"]["post"]["responses"]
    assert {"200", "413", "415", "422", "503"} <= set(answers)
    ok = answers["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/Predictions"}
    problem = spec["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"detail", "error_count"}


# --- 6b. every route, enumerated from the service's own contract ----------------------

def body_routes(operations):
    return sorted({path for method, path in operations if method in guard.BODY_METHODS})


def hostile_bodies(application: dict) -> dict[str, tuple[bytes, str, int, str]]:
    """name -> (raw body, content type, status it must get, field or type its answer must name)."""
    text = json.dumps(application)
    with_value = lambda v: (text[:-1] + f', "age": {v}}}').replace(f'"age": {application["age"]}, ', "")
    unknown = json.dumps({f"key_{i:06d}": 0 for i in range(40_000)})  # about 592 KB
    return {
        "NaN": (with_value("NaN").encode(), "application/json", 422, "age"),
        "Infinity": (with_value("Infinity").encode(), "application/json", 422, "age"),
        "-Infinity": (with_value("-Infinity").encode(), "application/json", 422, "age"),
        "1e309": (with_value("1e309").encode(), "application/json", 422, "age"),
        "lone surrogate": (text.replace('"employment_type": "', '"employment_type": "\\ud800'
                                        ).encode(), "application/json", 422, "employment_type"),
        "duplicate key": ((text[:-1] + ', "age": 30}').encode(), "application/json", 422, "duplicate_key"),
        "592 KB of unknown keys": (unknown.encode(), "application/json", 422, "too_many_keys"),
        "not JSON": (b"{'age': 40}", "application/json", 422, "json_invalid"),
        "nested 100 deep": (b"[" * 100 + b"]" * 100, "application/json", 422, "json_too_deep"),
        "text/plain": (text.encode(), "text/plain", 415, "unsupported_media_type"),
        "no content type": (text.encode(), "", 415, "unsupported_media_type"),
    }


def test_every_route_but_the_open_ones_needs_the_key(url, operations):
    open_paths = set(guard.OPEN_PATHS)
    with httpx.Client(base_url=url, timeout=10) as anonymous:
        for method, path in operations:
            attempts = [{}, {"headers": {"x-api-key": "wrong"}}, {"params": {"api_key": KEY}},
                        {"params": {"x-api-key": KEY}}, {"headers": {"authorization": f"Bearer {KEY}"}}]
            for attempt in attempts:
                answer = anonymous.request(method, path, **attempt)
                if path in open_paths:
                    assert answer.status_code != 401, (method, path)
                else:
                    assert answer.status_code == 401, (method, path, attempt, answer.status_code)
                    assert answer.headers["www-authenticate"] == "ApiKey" and len(answer.content) < SMALL
        # and what the document does not list: its own page, /metrics, a path that does not exist
        assert anonymous.get("/openapi.json").status_code == 401
        assert anonymous.get("/no-such-route").status_code == 401
        assert {anonymous.get(p).status_code for p in open_paths} == {200}


def test_the_open_paths_are_the_probes_and_metrics_only():
    assert set(guard.OPEN_PATHS) == {"/health", "/ready", "/metrics"}


def test_every_post_route_refuses_each_hostile_body_with_a_short_4xx(http, operations, bodies):
    for path in body_routes(operations):
        for name, (raw, content_type, status, named) in hostile_bodies(bodies[0]).items():
            answer = post(http, raw, content_type=content_type, path=path)
            assert answer.status_code == status, (path, name, answer.status_code, answer.text[:300])
            assert len(answer.content) < SMALL, (path, name, len(answer.content))
            detail = answer.json()["detail"][0]
            assert named in (detail["field"], detail["type"]), (path, name, detail)
    still_healthy(http, bodies)


def test_every_post_route_refuses_a_large_body_before_reading_it(http, operations, bodies):
    for path in body_routes(operations):
        start = time.perf_counter()
        try:
            answer = http.post(path, content=b" " * (5 * limits.MAX_BODY_BYTES),
                               headers={"content-type": "application/json"})
            assert answer.status_code == 413 and len(answer.content) < SMALL, path
        except httpx.TransportError:
            pass  # the server answered 413 and closed while we were still sending: also a refusal
        assert time.perf_counter() - start < 10 * QUICK_S, path
        sent = [0]

        def chunks():  # no Content-Length: httpx sends it chunked
            while sent[0] < 50 * limits.MAX_BODY_BYTES:
                sent[0] += 65536
                yield b" " * 65536

        try:
            answer = http.post(path, content=chunks(), headers={"content-type": "application/json"})
            assert answer.status_code == 413 and len(answer.content) < SMALL, path
        except httpx.TransportError:
            pass
        assert sent[0] < 50 * limits.MAX_BODY_BYTES, f"{path} read the whole chunked upload"
    still_healthy(http, bodies)


GUARD_KINDS = {"unauthorized", "too_large", "unsupported_media_type", "rate_limited", "timeout", "json_invalid",
               "finite_number", "string_unicode", "duplicate_key", "too_many_keys", "too_many_items",
               "json_too_deep"}


def test_well_formed_bodies_pass_the_guard_on_every_post_route(http, operations, bodies):
    """The guard lets clean JSON through to every route; what the route then says is the route's."""
    for path in body_routes(operations):
        answer = post(http, json.dumps(bodies[0]).encode(), path=path)
        if answer.status_code != 200:  # a route that takes something else: its own 422, naming its fields
            assert answer.status_code == 422, (path, answer.status_code)
            kinds = {d["type"] for d in answer.json()["detail"]}
            assert not kinds & GUARD_KINDS, (path, kinds)
    assert post(http, json.dumps(bodies[0]).encode(), path="/predict").status_code == 200


def test_explain_sheds_with_503_when_its_pool_is_full_and_health_answers(bodies):
    class SlowExplained(SlowModel):
        pass

    app = compose.create_app(SlowExplained(), {"version": "slow"})
    with api.serve(app) as base:
        def one(_):
            with httpx.Client(base_url=base, timeout=60) as c:
                r = c.post("/explain", json=bodies[0])
                return r.status_code, r.headers.get("retry-after"), len(r.content)

        with __import__("concurrent.futures").futures.ThreadPoolExecutor(12) as pool:
            futures = [pool.submit(one, i) for i in range(12)]
            time.sleep(0.3)
            start = time.perf_counter()
            health = httpx.get(f"{base}/health", timeout=10)
            health_s = time.perf_counter() - start
            results = [f.result() for f in futures]
    codes = [c for c, _, _ in results]
    assert set(codes) <= {200, 503} and 200 in codes and 503 in codes
    assert all(retry == "1" and size < SMALL for code, retry, size in results if code == 503)
    assert health.status_code == 200 and health_s < QUICK_S


def test_explain_costs_more_than_a_prediction_in_the_rate_limit(model, bodies):
    app = compose.create_app(model, {"version": "t"}, rate_limit=1, burst=25)
    with api.serve(app) as base, httpx.Client(base_url=base, timeout=30) as c:
        assert c.post("/explain", json=bodies[0]).status_code == 200  # 20 of the 25
        assert c.post("/explain", json=bodies[0]).status_code == 429
        assert c.post("/predict", json={"applications": bodies[:4]}).status_code == 200
    spec = app.openapi()
    assert spec["paths"]["/explain"]["post"][guard.COST_KEY] > spec["paths"]["/predict"]["post"][guard.COST_KEY]


def test_every_operation_documents_the_guards_answers(http, operations):
    spec = http.get("/openapi.json").json()
    for method, path in operations:
        answers = set(spec["paths"][path][method.lower()]["responses"])
        assert {str(c) for c in guard.guarded_codes(path, method)} <= answers, (method, path)


# --- 7. not an open oracle -----------------------------------------------------------

def test_the_rate_limit_counts_applications_per_client(model, bodies):
    app = api.create_app(model, {"version": "t"}, rate_limit=1, burst=10)
    with api.serve(app) as base, httpx.Client(base_url=base, timeout=10) as c:
        assert c.post("/predict", json={"applications": bodies[:10]}).status_code == 200
        refused = c.post("/predict", json=bodies[0])
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert c.get("/health").status_code == 200  # never counted


def test_rate_limiter_refills_and_forgets_old_clients():
    now = [0.0]
    limiter = auth.RateLimiter(rate=2, burst=4, clock=lambda: now[0], max_clients=2)
    assert limiter.take("a", 4) == 0 and limiter.take("a", 1) == pytest.approx(0.5)
    now[0] = 0.5
    assert limiter.take("a", 1) == 0
    limiter.take("b"), limiter.take("c")
    assert len(limiter._buckets) == 2


def test_probabilities_are_rounded_and_the_threshold_is_not_published(http, bodies):
    p = http.post("/predict", json=bodies[0]).json()["predictions"][0]["probability_of_default"]
    assert p == round(p, 4)
    assert "threshold" not in http.get("/version").json()


def test_the_command_line_refuses_a_public_address_without_a_key(tmp_path, caplog, monkeypatch):
    monkeypatch.delenv(auth.API_KEY_ENV, raising=False)
    with caplog.at_level(logging.ERROR):
        assert service_command.main(["--model-dir", str(tmp_path), "--host", "0.0.0.0"]) == 2
    assert "without an API key" in caplog.text
    (tmp_path / "keys").write_text("\n\n")
    assert service_command.main(["--model-dir", str(tmp_path), "--api-key-file", str(tmp_path / "keys")]) == 2
    assert "has no key" in caplog.text


def test_keys_come_from_a_file_or_the_environment(tmp_path):
    (tmp_path / "keys").write_text("one\n two \n\n")
    assert auth.load_api_keys(tmp_path / "keys") == ("one", "two")
    assert auth.load_api_keys(environ={auth.API_KEY_ENV: " k "}) == ("k",)
    assert auth.load_api_keys(environ={}) == ()
    with pytest.raises(auth.ApiKeyError, match="does not exist"):
        auth.load_api_keys(tmp_path / "missing")


# --- micro-batching changes no answer -----------------------------------------------

def test_micro_batching_gives_predict_proba_on_the_whole_test_year(model, data):
    test = data[2]
    rows = api.as_applications(test)
    expected = model.predict_proba(api.applications_frame(rows))[:, 1]
    batcher = MicroBatcher(lambda items: model.predict_proba(api.applications_frame(items))[:, 1],
                           max_rows=500, max_wait_s=0.001, max_queue_rows=len(rows))
    sizes = np.random.default_rng(0).integers(1, 40, size=len(rows))
    starts = np.concatenate([[0], np.cumsum(sizes)])
    parts = [rows[a:b] for a, b in zip(starts[:-1], starts[1:]) if a < len(rows)]

    async def all_at_once():
        return await asyncio.gather(*(batcher.submit(p) for p in parts))

    try:
        got = np.concatenate(asyncio.run(all_at_once()))
    finally:
        batcher.close()
    assert len(got) == len(test) and batcher.calls < len(parts) / 5  # they were batched
    assert np.max(np.abs(got - expected)) <= 1e-12


def test_a_batch_larger_than_the_burst_is_charged_in_full():
    now = [0.0]
    limiter = auth.RateLimiter(rate=1, burst=10, clock=lambda: now[0])
    assert limiter.take("a", 1000) == 0  # a full bucket lets one big batch through ...
    now[0] = 10.0
    assert limiter.take("a", 1) == pytest.approx(981)  # ... and owes the rest: -990 + 10 s x 1 a second
    now[0] = 1001.0
    assert limiter.take("a", 1) == 0
