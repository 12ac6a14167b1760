"""The guard's parts on their own: strict JSON, the bounded work pool, the rate cost of a route."""
import asyncio
import json
import threading

import pytest
from fastapi import APIRouter, Request
from starlette.testclient import TestClient

from mlecourse.lender.serving import api, guard, limits
from mlecourse.lender.serving.batcher import Overloaded, WorkPool


@pytest.mark.parametrize("raw,kind,field", [
    (b'{"age": NaN}', "finite_number", "age"),
    (b'{"a": {"b": [1, Infinity]}}', "finite_number", "a.b.1"),
    (b'{"age": -Infinity}', "finite_number", "age"),
    (b'{"income": 1e309}', "finite_number", "income"),
    (b'{"region": "\\ud800"}', "string_unicode", "region"),
    (b'{"\\udfff": 1}', "string_unicode", "body"),
    (b'{"age": 1, "age": 2}', "duplicate_key", "body"),
    (b"[" * 40 + b"]" * 40, "json_too_deep", "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0"),
    (b"\xff\xfe", "json_invalid", "body"),
    (b"{'age': 1}", "json_invalid", "body"),
    (b'{"age": 1' + b"0" * 5000 + b"}", "json_invalid", "body"),  # over Python's 4,300 digits
])
def test_parse_json_refuses_and_names_the_field(raw, kind, field):
    with pytest.raises(limits.JsonRefused) as refused:
        limits.parse_json(raw)
    assert (refused.value.kind, refused.value.field) == (kind, field)


def test_parse_json_bounds_keys_and_items_and_keeps_what_is_fine():
    wide = json.dumps({f"k{i}": 0 for i in range(limits.MAX_KEYS + 1)}).encode()
    with pytest.raises(limits.JsonRefused, match="keys in one object"):
        limits.parse_json(wide)
    assert len(limits.parse_json(json.dumps({f"k{i}": 0 for i in range(limits.MAX_KEYS)}).encode())) == limits.MAX_KEYS
    long = json.dumps({"applications": [1] * 11}).encode()
    with pytest.raises(limits.JsonRefused) as refused:
        limits.parse_json(long, max_items=10)
    assert refused.value.field == "applications"
    value = limits.parse_json('{"age": 40.0, "name": "Zoë", "x": [1e308, -0.0, null]}'.encode())
    assert value == {"age": 40.0, "name": "Zoë", "x": [1e308, -0.0, None]}


def test_a_work_pool_runs_at_most_its_capacity_and_frees_a_slot_when_work_ends():
    gate = threading.Event()

    async def scenario():
        pool = WorkPool(workers=1, max_waiting=1)
        try:
            running = asyncio.ensure_future(pool.run(gate.wait))
            await asyncio.sleep(0.05)
            waiting = asyncio.ensure_future(pool.run(gate.wait))
            await asyncio.sleep(0.05)
            with pytest.raises(Overloaded):
                await pool.run(gate.wait)
            running.cancel()  # its client gave up, but the work has started: the slot stays taken
            waiting.cancel()  # queued work whose client gave up never runs: its slot is freed
            await asyncio.sleep(0.05)
            assert pool.in_flight == 1
            gate.set()
            for _ in range(200):
                if pool.in_flight == 0:
                    break
                await asyncio.sleep(0.01)
            assert pool.in_flight == 0 and await pool.run(lambda: 42) == 42
        finally:
            gate.set()  # never leave a worker blocked (the process could not exit)
            pool.close()

    asyncio.run(scenario())


def test_a_routers_route_is_guarded_and_charged_its_declared_cost(small_model):
    routes = APIRouter()

    @routes.post("/echo", openapi_extra={guard.COST_KEY: 7})
    async def echo(request: Request):
        return {"got": guard.payload(request)}

    app = api.create_app(small_model, {"version": "t"}, api_keys=("k",), rate_limit=1, burst=10,
                             routers=[routes])
    with TestClient(app) as client:
        assert client.post("/echo", json={"a": 1}).status_code == 401
        key = {"x-api-key": "k"}
        answer = client.post("/echo", content=b'{"a": NaN}', headers={**key, "content-type": "application/json"})
        assert answer.status_code == 422 and answer.json()["detail"][0]["field"] == "a"
        assert client.post("/echo", json={"a": 1}, headers=key).json() == {"got": {"a": 1}}  # 7 of 10
        assert client.post("/echo", json={"a": 1}, headers=key).status_code == 429
        spec = client.get("/openapi.json", headers=key).json()
    assert spec["paths"]["/echo"]["post"][guard.COST_KEY] == 7
    assert {"401", "413", "415", "422", "429"} <= set(spec["paths"]["/echo"]["post"]["responses"])
    assert "401" not in spec["paths"]["/health"]["get"]["responses"]


def test_an_unknown_route_is_401_with_keys_and_404_without():
    with TestClient(api.create_app(None, {"version": "t"}, api_keys=("k",))) as client:
        assert client.post("/nowhere").status_code == 401
        assert client.post("/nowhere", headers={"x-api-key": "k"}).status_code == 404
    with TestClient(api.create_app(None, {"version": "t"})) as client:
        assert client.post("/nowhere").status_code == 404
        assert client.get("/predict").status_code == 405


def test_metrics_name_every_published_path_and_lump_the_rest(small_model):
    from mlecourse.lender.service import compose

    with TestClient(compose.create_app(small_model, {"version": "t"})) as client:
        client.get("/ready")
        client.post("/explain", json={"age": 1})
        client.get("/wp-admin.php")
        text = client.get("/metrics").text
    for path in ("/ready", "/explain", "other"):
        assert f'path="{path}"' in text, path
    assert "wp-admin" not in text
