"""The model service: endpoints, offline parity, readable 422s, and no 500 for any payload."""
import json
import math

import httpx
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from threadpoolctl import threadpool_limits

from mlecourse.lender import business, features
from mlecourse.lender.modeling import artifact
from mlecourse.lender.serving import api
from mlecourse.lender.data.loading import load_loans

DECIMALS = 4  # the service rounds probabilities (create_app's probability_decimals)
REQUIRED = [name for name, spec in artifact.feature_schema().items() if not spec["nullable"]]


@pytest.fixture(scope="module")
def data(loan_splits):
    train, valid, test = loan_splits
    # 2021-2022: employment_type is missing only in 2022's incident month
    complete = pd.concat([valid, test]).dropna(subset=REQUIRED)
    return train, complete


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, data, course_model):
    return artifact.save_model(course_model, tmp_path_factory.mktemp("svc") / "model", version="2.0.1",
                               train_frame=data[0], metrics={"valid_auc": 0.8},
                               created="2024-01-01T00:00:00+00:00")


@pytest.fixture(scope="module")
def loaded(model_dir):
    return artifact.load_model(model_dir)


@pytest.fixture(scope="module")
def client(model_dir):
    with TestClient(api.create_app_from_dir(model_dir)) as c:
        yield c


@pytest.fixture(scope="module")
def sample(data):
    """300 later applications, with rows that miss each optional field."""
    valid = data[1]
    optional = [n for n in features.RAW_FEATURES if n not in REQUIRED]
    gaps = [valid[valid[n].isna()].head(5) for n in optional]
    frame = pd.concat([valid.head(300 - sum(map(len, gaps))), *gaps])
    assert frame[optional].isna().any().all()
    return frame


@pytest.fixture(scope="module")
def bodies(sample):
    return api.as_applications(sample)


def offline(model, frame):
    with threadpool_limits(1):
        return model.predict_proba(frame[list(features.RAW_FEATURES)])[:, 1]


def probabilities(response):
    assert response.status_code == 200, response.text
    return np.array([p["probability_of_default"] for p in response.json()["predictions"]])


# --- endpoints --------------------------------------------------------------------

def test_health(client):
    response = client.get("/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_version_is_the_card_without_the_schema(client, loaded):
    body = client.get("/version").json()
    card = loaded[1]
    assert body["version"] == "2.0.1" and body["name"] == "loan-default"
    assert body["model_sha256"] == card["model_sha256"]
    assert body["training_data"]["fingerprint"] == card["training_data"]["fingerprint"]
    # the schema is at /openapi.json; the threshold is not published (it guides an attacker)
    assert "features" not in body and "threshold" not in body


def test_single_prediction_equals_the_offline_model(client, loaded, sample, bodies):
    model = loaded[0]
    expected = offline(model, sample)
    for i in (0, 1, 2, len(bodies) - 1):
        got = probabilities(client.post("/predict", json=bodies[i]))
        assert got.shape == (1,)
        np.testing.assert_array_equal(got, np.round(expected[i:i + 1], DECIMALS))


def test_batch_prediction_equals_the_offline_model_row_by_row(client, loaded, sample, bodies):
    response = client.post("/predict", json={"applications": bodies})
    got = probabilities(response)
    expected = offline(loaded[0], sample)
    np.testing.assert_array_equal(got, np.round(expected, DECIMALS))
    body = response.json()
    assert body["model_version"] == "2.0.1"
    threshold = business.COSTS.threshold  # the decision is taken on the unrounded probability
    assert [p["decision"] for p in body["predictions"]] == \
        ["refuse" if p > threshold else "approve" for p in expected]
    assert {"approve", "refuse"} == {p["decision"] for p in body["predictions"]}


def test_null_and_absent_optional_fields_are_the_same_missing_value(client, bodies):
    full = dict(bodies[0])
    absent = {k: v for k, v in full.items() if k not in ("annual_income", "home_ownership")}
    null = {**full, "annual_income": None, "home_ownership": None}
    a = probabilities(client.post("/predict", json=absent))
    b = probabilities(client.post("/predict", json=null))
    assert a == b and a != probabilities(client.post("/predict", json=full))


def test_the_model_is_loaded_once(model_dir, bodies, monkeypatch):
    calls = []
    real = artifact.load_model
    monkeypatch.setattr(artifact, "load_model", lambda *a, **k: calls.append(1) or real(*a, **k))
    with TestClient(api.create_app_from_dir(model_dir)) as c:
        for body in bodies[:5]:
            assert c.post("/predict", json=body).status_code == 200
    assert len(calls) == 1


def test_the_card_threshold_drives_the_decision(loaded, bodies):
    model, card = loaded
    with TestClient(api.create_app(model, {**card, "threshold": 0.0})) as c:
        decisions = {p["decision"] for p in c.post("/predict", json={"applications": bodies[:20]}).json()["predictions"]}
    assert decisions == {"refuse"}


def test_no_page_needs_the_internet(client):
    """FastAPI's /docs and /redoc load their scripts from a CDN: the service does not offer them."""
    assert client.get("/docs").status_code == 404
    assert client.get("/redoc").status_code == 404
    assert client.get("/openapi.json").status_code == 200


def test_openapi_documents_the_request_body(client):
    spec = client.get("/openapi.json").json()
    schema = spec["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    one, batch = schema["oneOf"]
    assert set(one["required"]) == set(REQUIRED)
    assert batch["properties"]["applications"]["maxItems"] == api.MAX_BATCH


# --- readable errors ----------------------------------------------------------------

def drop(key):
    return lambda b: {k: v for k, v in b.items() if k != key}


def put(key, value):
    return lambda b: {**b, key: value}


CASES = {  # name: (make the body from a valid one, field, type, words in the message)
    "missing field": (drop("age"), "age", "missing", "required"),
    "wrong type, text for a number": (put("annual_income", "50000"), "annual_income", "float_type", "number"),
    "wrong type, fraction for an integer": (put("age", 40.5), "age", "int_type", "integer"),
    "wrong type, boolean for a count": (put("previous_defaults", True), "previous_defaults", "int_type", "integer"),
    "null for a required field": (put("loan_amount", None), "loan_amount", "float_type", "number"),
    "out of range, above": (put("credit_score", 900.0), "credit_score", "less_than_equal", "850"),
    "out of range, below": (put("age", 12), "age", "greater_than_equal", "18"),
    "above the service ceiling": (put("monthly_debt", 1e300), "monthly_debt", "less_than_equal", "1000000000"),
    "not finite": (put("interest_rate", math.inf), "interest_rate", "finite_number", "finite"),
    "not a number": (put("annual_income", math.nan), "annual_income", "finite_number", "finite"),
    "unknown category": (put("region", "mars"), "region", "literal_error", "'north'"),
    "category with other case": (put("channel", "Online"), "channel", "literal_error", "'online'"),
    "extra field": (put("ethnicity", "minority"), "ethnicity", "extra_forbidden", "not permitted"),
    "empty batch": (lambda b: {"applications": []}, "applications", "too_short", "at least 1"),
    "batch too large": (lambda b: {"applications": [b] * (api.MAX_BATCH + 1)}, "applications",
                        "too_many_items", f"at most {api.MAX_BATCH}"),
    "bad item in a batch": (lambda b: {"applications": [b, b, {**b, "age": "x"}]}, "applications.2.age",
                            "int_type", "integer"),
    "batch with an extra key": (lambda b: {"applications": [b], "priority": 1}, "priority",
                                "extra_forbidden", "not permitted"),
    "body is a list": (lambda b: [b], "body", "model_type", "dictionary"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_malformed_input_is_a_422_naming_field_and_reason(client, bodies, name):
    make, field, kind, words = CASES[name]
    response = client.post("/predict", content=json.dumps(make(bodies[0])),
                           headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert [d["field"] for d in detail] == [field], detail
    assert detail[0]["type"] == kind
    assert words.lower() in detail[0]["msg"].lower()
    assert detail[0]["loc"][0] == "body"


def test_every_problem_is_listed_not_just_the_first(client, bodies):
    body = {**drop("age")(bodies[0]), "region": "mars", "loan_term_months": 600}
    detail = client.post("/predict", json=body).json()["detail"]
    assert sorted(d["field"] for d in detail) == ["age", "loan_term_months", "region"]


@pytest.mark.parametrize("raw", [b"{bad", b"", b"{'age': 40}", b'{"age": 40,}', b"\xff\xfe", b"[" * 5000])
def test_invalid_json_is_a_422(client, raw):
    response = client.post("/predict", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail[0]["field"] == "body" and detail[0]["type"] in ("json_invalid", "json_too_deep")
    reason = {b"\xff\xfe": "not UTF-8", b"[" * 5000: "nested too deeply"}.get(raw, "Invalid JSON")
    assert reason in detail[0]["msg"]


def test_an_oversized_body_is_a_413(client):
    response = client.post("/predict", content=b" " * (api.MAX_BODY_BYTES + 1),
                           headers={"content-type": "application/json"})
    assert response.status_code == 413 and "bytes" in response.json()["detail"][0]["msg"]


def test_unknown_routes_and_methods_are_4xx(client):
    assert client.get("/predict").status_code == 405
    assert client.post("/nothing").status_code == 404


# --- the property: no payload makes the service fail ----------------------------------

JSON_LEAF = (st.none() | st.booleans() | st.integers(min_value=-10**40, max_value=10**40)
             | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20)
             | st.sampled_from([10**400, -(10**30), 1e308, -0.0, "", "north", "NaN", "1e999"]))
JSON_VALUE = st.recursive(JSON_LEAF, lambda inner: st.lists(inner, max_size=4)
                          | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)
FIELDS = st.sampled_from(list(features.RAW_FEATURES))
SCHEMA = artifact.feature_schema()


@st.composite
def mutated_application(draw, valid):
    body = dict(draw(st.sampled_from(valid)))
    for _ in range(draw(st.integers(1, 4))):
        how = draw(st.sampled_from(["drop", "junk", "extra", "huge", "nonfinite", "text", "extremes"]))
        key = draw(FIELDS)
        if how == "drop":
            body.pop(key, None)
        elif how == "junk":
            body[key] = draw(JSON_VALUE)
        elif how == "extra":
            body[draw(st.text(min_size=1, max_size=12))] = draw(JSON_VALUE)
        elif how == "huge":
            body[key] = draw(st.sampled_from([10**18, 10**400, 1e300, 1.7e308, -1e300, 2**63, -(2**63)]))
        elif how == "extremes":  # every number at an edge the schema allows: where arithmetic overflows
            for name, spec in SCHEMA.items():
                if spec["type"] != "category":
                    high = api.CEILING if spec["max"] is None else spec["max"]
                    kind = int if spec["type"] == "integer" else float
                    body[name] = kind(draw(st.sampled_from([spec["min"], high])))
        elif how == "nonfinite":
            body[key] = draw(st.sampled_from([math.nan, math.inf, -math.inf]))
        else:
            body[key] = draw(st.text(max_size=30))
    return body


@st.composite
def payloads(draw, valid):
    shape = draw(st.sampled_from(["one", "batch", "batch-junk", "any-json", "bytes"]))
    if shape == "one":
        return json.dumps(draw(mutated_application(valid))).encode()
    if shape == "batch":
        items = draw(st.lists(mutated_application(valid) | st.sampled_from(valid), min_size=1, max_size=5))
        return json.dumps({"applications": items}).encode()
    if shape == "batch-junk":
        return json.dumps({"applications": draw(JSON_VALUE)}).encode()
    if shape == "any-json":
        return json.dumps(draw(JSON_VALUE)).encode()
    return draw(st.binary(max_size=200))


def schema_accepts(app, raw: bytes) -> bool:
    """What the service should do with ``raw``, judged by its own schema alone."""
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return False
    try:
        if isinstance(payload, dict) and "applications" in payload:
            app.state.batch_model.model_validate(payload)
        else:
            app.state.application_model.model_validate(payload)
    except ValidationError:
        return False
    return True


def test_no_payload_causes_a_server_error(client, bodies):
    valid = bodies[:50]
    seen = {"4xx": 0, "200": 0}

    @settings(max_examples=500, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.function_scoped_fixture])
    @given(raw=payloads(valid))
    def send(raw):
        # TestClient re-raises any exception inside the app, so a bug fails here
        response = client.post("/predict", content=raw, headers={"content-type": "application/json"})
        assert response.status_code < 500, response.text
        body = response.json()
        if response.status_code == 200:
            seen["200"] += 1
            assert schema_accepts(client.app, raw)
            assert all(0 <= p["probability_of_default"] <= 1 for p in body["predictions"])
        else:
            seen["4xx"] += 1
            assert response.status_code in (413, 422)
            assert not schema_accepts(client.app, raw)
            assert all(d["field"] and d["msg"] for d in body["detail"])

    send()
    assert seen["4xx"] + seen["200"] >= 500
    assert seen["4xx"] > 0.8 * (seen["4xx"] + seen["200"])  # the payloads are mostly malformed
    # and the service still answers a valid request, the same as before
    assert client.post("/predict", json=bodies[0]).status_code == 200
    assert client.get("/health").json() == {"status": "ok"}


# --- the contract, derived ---------------------------------------------------------

def test_application_model_follows_the_feature_schema():
    fields = api.Application.model_fields
    assert list(fields) == list(features.RAW_FEATURES)
    assert {n for n, f in fields.items() if not f.is_required()} == set(features.OPTIONAL)
    schema = {**artifact.feature_schema(), "age": {"type": "integer", "min": 30, "max": 40, "nullable": False}}
    narrow = api.application_model(schema)
    with pytest.raises(ValidationError, match="greater than or equal to 30"):
        narrow.model_validate({**{n: None for n in features.OPTIONAL}, "age": 25})


def test_applications_frame_matches_the_training_dtypes(sample, bodies):
    frame = api.applications_frame(bodies)
    assert list(frame.columns) == list(features.RAW_FEATURES)
    for name in features.NUMERIC:
        assert frame[name].dtype == "float64"
        np.testing.assert_array_equal(frame[name].to_numpy(), sample[name].to_numpy(dtype=float))
    for name in features.CATEGORICAL:
        assert frame[name].isna().tolist() == sample[name].isna().tolist()


# --- over real HTTP on loopback ------------------------------------------------------

def test_serve_on_loopback_answers_and_stops(model_dir, loaded, sample, bodies):
    app = api.create_app_from_dir(model_dir)
    expected = offline(loaded[0], sample)
    with api.serve(app) as url:
        assert url.startswith("http://127.0.0.1:")
        with httpx.Client(base_url=url, timeout=10) as http:
            assert http.get("/health").json() == {"status": "ok"}
            assert http.get("/version").json()["version"] == "2.0.1"
            one = probabilities(http.post("/predict", json=bodies[3]))
            np.testing.assert_array_equal(one, np.round(expected[3:4], DECIMALS))
            many = probabilities(http.post("/predict", json={"applications": bodies}))
            np.testing.assert_array_equal(many, np.round(expected, DECIMALS))
            bad = http.post("/predict", json={**bodies[0], "region": "mars"})
            assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "region"
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/health", timeout=1)


def test_serve_takes_a_given_port_and_two_servers_can_run(model_dir):
    app = api.create_app_from_dir(model_dir)
    port = api.free_port()
    with api.serve(app, port=port) as blue, api.serve(app) as green:
        assert blue.endswith(f":{port}") and blue != green
        assert httpx.get(f"{blue}/health").status_code == 200
        assert httpx.get(f"{green}/health").status_code == 200


def test_a_loan_term_the_product_does_not_offer_is_refused_by_name():
    application = dict(api.as_applications(load_loans().head(1))[0], loan_term_months=13)
    with pytest.raises(ValidationError) as error:
        api.Application.model_validate(application)
    assert error.value.errors()[0]["loc"] == ("loan_term_months",)
    assert "36" in error.value.errors()[0]["msg"]
