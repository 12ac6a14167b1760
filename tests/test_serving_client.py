"""The careful client: waits as Retry-After says, retries a dropped connection, gives up in time."""
import httpx
import pytest

from mlecourse.lender.serving import client as service_client


def _client(answers):
    calls = []

    def handle(request):
        calls.append(request)
        answer = answers[min(len(calls), len(answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.Client(transport=httpx.MockTransport(handle), base_url="http://service"), calls


def test_a_busy_service_is_retried_after_the_wait_it_asks_for():
    waits = []
    client, calls = _client([httpx.Response(503, headers={"retry-after": "2"}), httpx.Response(200, json={})])
    answer = service_client.post(client, "/explain", json={}, sleep=waits.append)
    assert answer.status_code == 200 and len(calls) == 2 and waits == [2.0]


def test_a_request_error_is_not_retried_and_a_long_wait_is_capped():
    waits = []
    client, calls = _client([httpx.Response(422, json={})])
    assert service_client.post(client, "/explain", json={}, sleep=waits.append).status_code == 422
    assert len(calls) == 1 and waits == []
    client, calls = _client([httpx.Response(429, headers={"retry-after": "600"})])
    last = service_client.post(client, "/explain", json={}, attempts=2, max_wait=5, sleep=waits.append)
    assert last.status_code == 429 and len(calls) == 2 and waits == [5]


def test_a_dropped_connection_is_retried_then_reported():
    waits = []
    client, calls = _client([httpx.ConnectError("refused"), httpx.Response(200, json={})])
    assert service_client.post(client, "/predict", json={}, sleep=waits.append).status_code == 200
    client, calls = _client([httpx.ReadTimeout("slow")])
    with pytest.raises(service_client.ServiceUnavailable, match="failed 3 times; last: ReadTimeout"):
        service_client.post(client, "/predict", json={}, sleep=waits.append)
    assert len(calls) == 3
