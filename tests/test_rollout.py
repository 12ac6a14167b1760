"""Rollout strategies: assignment, canary guards, blue-green switch, shadow (A/B: test_abtest.py).

The versions here are tiny functions of the data (fast and exact), so each
test says precisely what a router or guard must do with them.
"""
import json
import math
import threading
import time

import httpx
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mlecourse.lender.rollout import strategies
from mlecourse.lender.features import RAW_FEATURES


def applications(n: int, seed: int = 0, start: str = "2023-01-01") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "application_id": [f"A{seed:02d}{i:06d}" for i in range(n)],
        "customer_id": [f"C{i % (n // 2 + 1):06d}" for i in range(n)],
        "application_date": pd.Timestamp(start) + pd.to_timedelta(rng.integers(0, 120, n), unit="D"),
        "credit_score": np.where(rng.random(n) < 0.05, np.nan, rng.normal(650, 60, n)),
    })
    for column in RAW_FEATURES:
        if column not in frame:
            frame[column] = 1.0
    return frame


def score(frame: pd.DataFrame) -> np.ndarray:
    """A stand-in model: lower credit score, higher risk; a missing score is average."""
    s = frame["credit_score"].fillna(650).to_numpy(float)
    return 1 / (1 + np.exp((s - 600) / 40))


def shifted(frame: pd.DataFrame) -> np.ndarray:
    return np.clip(score(frame) + 0.4, 0, 1)


def needs_score(frame: pd.DataFrame) -> np.ndarray:
    if frame["credit_score"].isna().any():
        raise ValueError("credit_score is missing")
    return score(frame)


def by_month(n_per_month: int = 2000, months: int = 8) -> list[pd.DataFrame]:
    return [applications(n_per_month, seed=m) for m in range(months)]


# --- assignment -------------------------------------------------------------------

def test_bucket_is_deterministic_uniform_and_salted():
    keys = [f"A{i}" for i in range(20_000)]
    first, again = strategies.bucket(keys), strategies.bucket(keys)
    np.testing.assert_array_equal(first, again)
    assert first.min() >= 0 and first.max() < 1
    assert stats.kstest(first, "uniform").pvalue > 0.01
    other = strategies.bucket(keys, salt="another experiment")
    assert abs(np.corrcoef(first, other)[0, 1]) < 0.03


# --- router -----------------------------------------------------------------------

def test_router_weights_are_sticky_and_monotone():
    frame = applications(5000)
    router = strategies.Router(score, shifted, weight=0.0)
    assert (router.assign(frame["application_id"]) == "stable").all()
    router.weight = 0.05
    small = router.assign(frame["application_id"]) == "candidate"
    assert 0.03 < small.mean() < 0.07
    assert (router.assign(frame["application_id"]) == "candidate").tolist() == small.tolist()
    router.weight = 0.25
    large = router.assign(frame["application_id"]) == "candidate"
    assert (large | ~small).all(), "raising the weight moved a request back to stable"
    router.weight = 1.0
    assert (router.assign(frame["application_id"]) == "candidate").all()
    router.weight = 1.5
    with pytest.raises(ValueError):
        router.assign(frame["application_id"])


def test_route_serves_every_row_in_order_with_the_right_version():
    frame = applications(500)
    frame.index = [7] * len(frame)  # an index that is not unique must not matter
    log = strategies.Router(score, shifted, weight=0.3, chunk_size=64).route(frame)
    assert len(log) == len(frame) and list(log["key"]) == list(frame["application_id"])
    stable = (log["version"] == "stable").to_numpy()
    np.testing.assert_allclose(log["probability"][stable], score(frame)[stable])
    np.testing.assert_allclose(log["probability"][~stable], shifted(frame)[~stable])
    assert (log["error"] == "").all() and (log["latency_ms"] >= 0).all()


def test_a_failing_row_does_not_fail_its_neighbours():
    frame = applications(300, seed=3)
    missing = frame["credit_score"].isna().to_numpy()
    assert missing.any() and not missing.all()
    log = strategies.call_version(needs_score, frame, chunk_size=100)
    assert (log["error"] != "").to_numpy().tolist() == missing.tolist()
    assert log["error"][missing].str.contains("credit_score is missing").all()
    np.testing.assert_allclose(log["probability"][~missing], score(frame)[~missing])
    assert log["probability"][missing].isna().all()


@pytest.mark.parametrize("bad", [lambda f: np.full(len(f), np.nan),
                                 lambda f: np.full(len(f), 1.5),
                                 lambda f: np.zeros(len(f) + 1)])
def test_an_answer_that_is_not_a_probability_is_an_error(bad):
    log = strategies.call_version(bad, applications(10), chunk_size=4)
    assert (log["error"] != "").all()


# --- canary -----------------------------------------------------------------------

def test_ks_margin_is_the_classical_bound():
    assert strategies.ks_margin(100, 100) == pytest.approx(1.3581 * math.sqrt(2 / 100), rel=1e-3)
    assert strategies.ks_margin(0, 10) == math.inf


def test_a_good_candidate_reaches_all_traffic():
    log = strategies.run_canary(strategies.Router(score, score), by_month())
    assert log["decision"].tolist() == ["promote", "promote", "promote", "complete"]
    assert log["weight"].tolist() == [0.05, 0.25, 0.5, 1.0]
    assert (log["breached"] == "").all()


def test_a_shifted_candidate_is_rolled_back_at_the_first_step():
    router = strategies.Router(score, shifted)
    log = strategies.run_canary(router, by_month())
    assert log["decision"].tolist() == ["rollback"]
    assert "prediction shift" in log["breached"].iloc[0]
    assert router.weight == 0.0


def test_a_candidate_that_errors_is_rolled_back():
    log = strategies.run_canary(strategies.Router(score, needs_score), by_month())
    assert log["decision"].iloc[-1] == "rollback"
    assert "error rate" in log["breached"].iloc[-1]
    assert log["error_rate"].iloc[-1] > 0.01


def test_a_slow_candidate_breaches_latency_but_a_slow_machine_does_not():
    def slow(frame):  # far slower than the model on a busy machine too (it scores 500 rows in 10-80 ms)
        time.sleep(0.25)
        return score(frame)

    guards = strategies.Guards(max_p95_ms=10)
    log = strategies.run_canary(strategies.Router(score, slow, chunk_size=500), by_month(1000), guards=guards)
    # Slow in two batches running: held once to confirm, then rolled back.
    assert log["decision"].tolist() == ["hold", "rollback"]
    assert log["breached"].tolist() == ["latency", "latency"] and log["weight"].tolist() == [0.05, 0.05]
    # Both versions equally slow: above the objective, but not slower than stable.
    log = strategies.run_canary(strategies.Router(slow, slow, chunk_size=500), by_month(1000), guards=guards)
    assert log["decision"].iloc[-1] == "complete"


def test_too_little_traffic_holds_instead_of_promoting():
    tiny = [applications(100, seed=m) for m in range(3)]
    log = strategies.run_canary(strategies.Router(score, score), tiny,
                             guards=strategies.Guards(min_requests=30))
    assert log["decision"].tolist() == ["hold"] * 3
    assert log["next_weight"].tolist() == [0.05] * 3


def test_noise_alone_does_not_roll_back_a_good_candidate():
    """Same model, small steps, many seeds: the sampling margin keeps false alarms rare."""
    rollbacks = 0
    for seed in range(10):
        traffic = [applications(600, seed=10 * seed + m) for m in range(5)]
        log = strategies.run_canary(strategies.Router(score, score, salt=f"s{seed}"), traffic,
                                 guards=strategies.Guards(min_requests=10))
        rollbacks += int((log["decision"] == "rollback").any())
    assert rollbacks <= 1


def test_run_canary_accepts_labelled_batches_and_rejects_bad_steps():
    traffic = {"2023-01": applications(2000, 1), "2023-02": applications(2000, 2)}
    log = strategies.run_canary(strategies.Router(score, score), traffic, steps=(0.5, 1.0))
    assert log["batch"].tolist() == ["2023-01", "2023-02"]
    for steps in [(0.1, 0.5), (0.0, 1.0), ()]:
        with pytest.raises(ValueError):
            strategies.run_canary(strategies.Router(score, score), traffic, steps=steps)
    with pytest.raises(ValueError):
        strategies.run_canary(strategies.Router(score), traffic)


def test_next_step():
    assert strategies.next_step(0.0) == 0.05
    assert strategies.next_step(0.05) == 0.25
    assert strategies.next_step(0.3) == 0.5
    assert strategies.next_step(1.0) == 1.0


def test_by_period_splits_by_month_in_date_order():
    frame = applications(1000)
    months = strategies.by_period(frame)
    assert list(months) == sorted(months) and sum(map(len, months.values())) == len(frame)
    for label, rows in months.items():
        assert (rows["application_date"].dt.strftime("%Y-%m") == label).all()
        assert rows["application_date"].is_monotonic_increasing


# --- blue-green ---------------------------------------------------------------------

def test_switch_and_rollback():
    bg = strategies.BlueGreen(score, shifted)
    assert bg.live == "blue" and bg.predict(applications(3))[0] == "blue"
    with pytest.raises(RuntimeError):
        bg.rollback()
    assert bg.switch() == "green" and bg.live == "green"
    np.testing.assert_allclose(bg.predict(applications(3))[1], shifted(applications(3)))
    assert bg.rollback() == "blue" and bg.live == "blue"
    with pytest.raises(ValueError):
        bg.switch("purple")
    with pytest.raises(ValueError):
        strategies.BlueGreen(score, shifted, live="red")


def test_switching_under_concurrent_traffic_fails_no_request():
    def slowish(frame):
        time.sleep(0.002)
        return score(frame)

    bg = strategies.BlueGreen(slowish, slowish)
    requests = [applications(5, seed=i % 7) for i in range(300)]
    log = strategies.traffic_during(lambda f: bg.predict(f)[0], requests, bg.switch, concurrency=6)
    assert len(log) == 300 and log["ok"].all()
    assert set(log.loc[log["after_action"], "answer"]) == {"green"}
    assert set(log.loc[log["end_s"] < log.attrs["action_start_s"], "answer"]) == {"blue"}


def test_traffic_during_counts_failed_requests():
    down = threading.Event()

    def service(frame):
        time.sleep(0.002)
        if down.is_set():
            raise ConnectionError("connection refused")
        return "up"

    log = strategies.traffic_during(service, [applications(2)] * 100, down.set, concurrency=3)
    assert len(log) == 100
    assert not log["ok"].all() and log.loc[log["after_action"], "ok"].eq(False).all()
    assert log.loc[~log["ok"], "error"].str.contains("connection refused").all()


def test_traffic_during_paces_each_client():
    log = strategies.traffic_during(lambda f: "ok", [applications(1)] * 20, concurrency=2, interval=0.02)
    assert log["ok"].all()
    span = log["start_s"].max() - log["start_s"].min()
    assert span >= 0.02 * 9 * 0.9  # 10 requests per client, 20 ms apart


# --- shadow -------------------------------------------------------------------------

def test_shadow_serves_stable_and_records_the_candidate():
    frames = [applications(50, seed=i) for i in range(6)]
    with strategies.Shadow(score, needs_score) as shadow:
        answers = [shadow.predict(f) for f in frames]  # needs_score fails: users never see it
        log = shadow.results()
    for frame, answer in zip(frames, answers):
        np.testing.assert_allclose(answer, score(frame))
    assert len(log) == 300
    assert list(log["key"]) == [k for f in frames for k in f["application_id"]]
    failed = log["candidate_error"] != ""
    assert failed.any() and log.loc[failed, "candidate"].isna().all()
    summary = strategies.compare_shadow(log, threshold=0.5)
    assert summary["requests"] == 300 and summary["candidate_errors"] == failed.sum()
    assert summary["decision_agreement"] == 1.0 and summary["correlation"] == pytest.approx(1.0)


def test_compare_shadow_measures_disagreement():
    frame = applications(400)
    log = pd.DataFrame({"key": frame["application_id"], "stable": score(frame),
                        "candidate": shifted(frame), "candidate_error": ""})
    summary = strategies.compare_shadow(log, threshold=0.5)
    expected = ((score(frame) > 0.5) == (shifted(frame) > 0.5)).mean()
    assert summary["decision_agreement"] == pytest.approx(expected)
    assert summary["refusal_rate_candidate"] > summary["refusal_rate_stable"]
    with pytest.raises(ValueError):
        strategies.compare_shadow(log.iloc[:0], threshold=0.5)


# --- versions ---------------------------------------------------------------------------

def test_records_are_json_ready():
    frame = applications(3)
    frame["credit_score"] = [np.nan, 640.0, 700.0]
    rows = strategies.records(frame)
    assert set(rows[1]) == set(RAW_FEATURES)
    assert set(rows[0]) == set(RAW_FEATURES) - {"credit_score"}  # missing: left out
    assert isinstance(rows[1]["age"], int) and isinstance(rows[1]["loan_amount"], float)
    json.dumps(rows, allow_nan=False)


def test_http_predictor_posts_a_batch_and_raises_on_errors():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append(body)
        if len(body["applications"]) > 2:
            return httpx.Response(422, json={"detail": "batch too large"})
        return httpx.Response(200, json={"model_version": "1", "predictions": [
            {"probability_of_default": 0.25, "decision": "refuse"} for _ in body["applications"]]})

    client = httpx.Client(transport=httpx.MockTransport(handler))
    predict = strategies.http_predictor("http://service/", client=client)
    np.testing.assert_allclose(predict(applications(2)), [0.25, 0.25])
    assert set(seen[0]["applications"][0]) == set(RAW_FEATURES)
    with pytest.raises(httpx.HTTPStatusError):
        predict(applications(3))


def test_one_stalled_batch_holds_the_canary_instead_of_rolling_a_good_version_back():
    """A shared machine stalls now and then; one slow step is not a slow version."""
    stalls = iter([False, True, False, False, False, False])

    def stalls_once(frame):
        if next(stalls):
            time.sleep(0.03)
        return score(frame)

    guards = strategies.Guards(max_p95_ms=10)
    log = strategies.run_canary(strategies.Router(score, stalls_once, chunk_size=5000), by_month(1000),
                             guards=guards)
    assert log["decision"].tolist() == ["promote", "hold", "promote", "promote", "complete"]
    assert log["breached"].tolist() == ["", "latency", "", "", ""]


def test_a_latency_breach_with_another_guard_rolls_back_at_once():
    def slow_and_shifted(frame):
        time.sleep(0.03)
        return shifted(frame)

    log = strategies.run_canary(strategies.Router(score, slow_and_shifted, chunk_size=500), by_month(1000),
                             guards=strategies.Guards(max_p95_ms=10))
    assert log["decision"].tolist() == ["rollback"]
    assert "latency" in log["breached"].iloc[0] and "prediction shift" in log["breached"].iloc[0]
