"""The load-test helpers: percentiles, throughput, and a real run on loopback."""
import time

import numpy as np
import pandas as pd
import pytest

from mlecourse.lender.serving import api, loadtest


def test_summarise_percentiles_and_sequential_throughput():
    stats = loadtest.summarise(np.arange(1, 101))
    assert stats["n"] == 100
    assert stats["p50_ms"] == pytest.approx(50.5)
    assert stats["p95_ms"] == pytest.approx(95.05)
    assert stats["p99_ms"] == pytest.approx(99.01)
    assert stats["mean_ms"] == pytest.approx(50.5)
    # one after the other: 100 requests in 5.05 s
    assert stats["throughput_rps"] == pytest.approx(100 / 5.05)


def test_summarise_uses_wall_clock_of_a_run_frame():
    frame = pd.DataFrame({"latency_ms": [100.0] * 4, "start_s": [0.0, 0.0, 0.1, 0.1],
                          "end_s": [0.1, 0.1, 0.2, 0.2]})
    assert loadtest.summarise(frame)["throughput_rps"] == pytest.approx(20.0)  # 4 in 0.2 s
    assert loadtest.summarise(frame, elapsed_s=1.0)["throughput_rps"] == pytest.approx(4.0)


@pytest.mark.parametrize("bad", [[], [1.0, np.nan], [1.0, -2.0], [np.inf]])
def test_summarise_refuses_empty_or_impossible_latencies(bad):
    with pytest.raises(ValueError):
        loadtest.summarise(bad)


def test_overhead_compares_one_client_service_with_raw():
    table = pd.DataFrame([
        {"what": "service, single", "clients": 1, "rows": 1, "p50_ms": 8.0},
        {"what": "service, single", "clients": 4, "rows": 1, "p50_ms": 30.0},
        {"what": "raw predict_proba, 1 row", "clients": 1, "rows": 1, "p50_ms": 6.0},
    ])
    out = loadtest.overhead(table)
    assert out.to_dict("records") == [{"rows": 1, "service_p50_ms": 8.0, "raw_p50_ms": 6.0,
                                       "overhead_ms": 2.0, "overhead_ratio": 8.0 / 6.0}]


@pytest.fixture(scope="module")
def small(small_model, loan_windows):
    bodies = [b for b in api.as_applications(loan_windows[1].head(200)) if "age" in b and "loan_amount" in b]
    return small_model, bodies


def test_run_load_records_every_request(small):
    model, bodies = small
    payloads = [bodies[0], {"applications": bodies[:10]}, {**bodies[1], "region": "mars"}]
    with api.serve(api.create_app(model, {"version": "t"})) as url:
        result = loadtest.run_load(f"{url}/predict", payloads, concurrency=3, requests=30)
    assert list(result.columns) == list(loadtest.COLUMNS)
    assert len(result) == 30 and result["request"].tolist() == list(range(30))
    assert result.groupby("batch_size")["status"].agg(set).to_dict() == {1: {200, 422}, 10: {200}}
    assert (result.loc[result["request"] % 3 == 2, "status"] == 422).all()
    assert (result["latency_ms"] > 0).all() and (result["end_s"] >= result["start_s"]).all()
    assert set(result["client"]) <= {0, 1, 2} and (result["error"] == "").all()


def test_run_load_reports_a_refused_connection_as_status_0(small):
    port = api.free_port()  # nothing listens there
    result = loadtest.run_load(f"http://127.0.0.1:{port}/predict", small[1][:1], concurrency=1,
                               requests=2, warmup=0, timeout=2)
    assert result["status"].tolist() == [0, 0] and result["error"].str.contains("Connect").all()


def test_run_load_refuses_bad_arguments():
    with pytest.raises(ValueError):
        loadtest.run_load("http://127.0.0.1:1/", [], concurrency=1)
    with pytest.raises(ValueError):
        loadtest.run_load("http://127.0.0.1:1/", [{}], concurrency=0)


def test_raw_predict_timings(small):
    model, bodies = small
    timings = loadtest.raw_predict_timings(model, api.applications_frame(bodies[:5]), repeats=7)
    assert timings.shape == (7,) and (timings > 0).all()


def test_speedups_compare_after_with_before_at_each_level():
    table = pd.DataFrame([
        {"service": "before (x)", "clients": 1, "throughput_rps": 10.0, "health_p99_ms": 50.0},
        {"service": "before (x)", "clients": 64, "throughput_rps": 20.0, "health_p99_ms": 900.0},
        {"service": "after", "clients": 1, "throughput_rps": 12.0, "health_p99_ms": 5.0},
        {"service": "after", "clients": 64, "throughput_rps": 200.0, "health_p99_ms": 9.0},
    ])
    out = loadtest.speedups(table).set_index("clients")
    assert out.loc[1, "throughput_x"] == pytest.approx(1.2) and out.loc[64, "throughput_x"] == 10.0
    assert out.loc[64, "health_p99_before_ms"] == 900.0 and out.loc[64, "health_p99_after_ms"] == 9.0
    assert loadtest.speedups(table[table["service"] == "after"]).empty


def test_health_probe_runs_in_its_own_process_and_counts_failures(small):
    with api.serve(api.create_app(small[0], {"version": "t"})) as url:
        with loadtest.health_probe(url, every_s=0.02) as probes:
            time.sleep(1.0)
    assert len(probes) > 0, "no probe ran"
    assert all(p is not None and p > 0 for p in probes)
    with loadtest.health_probe(f"http://127.0.0.1:{api.free_port()}", every_s=0.02) as dead:
        time.sleep(1.0)
    assert len(dead) > 0 and all(p is None for p in dead)


def test_checkout_src_writes_an_earlier_commit(tmp_path):
    src = loadtest.checkout_src(loadtest.BEFORE_REF, tmp_path)
    old = (src / "mlecourse" / "lender" / "serving.py").read_text()  # that commit's layout
    assert "def create_app" in old and "MicroBatcher" not in old
