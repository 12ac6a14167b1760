"""Monitoring an LLM feature: a redacted call log, its monthly summary, topic drift found where it was put."""
import pandas as pd

from mlecourse.lender.llm import corpus, monitoring, tasks


def test_the_call_log_redacts_what_it_stores():
    conn = monitoring.connect()
    monitoring.log_call(conn, at="2024-03-02T10:00:00", task="answer", prompt_version="answer@v3", model="m",
                        text_in="I'm ann@example.com, card 4929 1234 5678 9012", text_out="ok", prompt_tokens=100,
                        completion_tokens=10, latency_ms=900.0, refused=False, grounded=True)
    row = monitoring.calls(conn).iloc[0]
    assert row["input"] == "I'm [EMAIL], card [CARD]" and row["month"] == "2024-03"


def test_the_monthly_summary_per_prompt_version():
    conn = monitoring.connect()
    for i, (version, refused) in enumerate([("v2", False), ("v2", True), ("v3", False)]):
        monitoring.log_call(conn, at=f"2024-0{1 + i // 2}-01", task="answer", prompt_version=version, model="m",
                            text_in="q", text_out="a", prompt_tokens=100, completion_tokens=20,
                            latency_ms=1000.0 * (i + 1), refused=refused, grounded=not refused)
    summary = monitoring.monthly(conn)
    assert summary.loc[("2024-01", "v2"), "refusal_rate"] == 0.5
    assert summary.loc[("2024-01", "v2"), "tokens_per_call"] == 120
    assert summary.loc[("2024-02", "v3"), "p50_ms"] == 3000


def test_topic_drift_is_found_in_the_shifted_months_only():
    msgs = corpus.intents()
    test = msgs[msgs["split"] == "test"]
    router = tasks.BaselineRouter(*msgs[msgs["split"] == "train"][["message", "intent"]].T.values)
    months = [f"2024-0{i}" for i in range(1, 7)]
    incoming = monitoring.simulate_months(test["message"], months, topics=test["intent"], per_month=500,
                                          shift={m: {"hardship": 3.0} for m in months[4:]}, seed=9)
    counts = monitoring.topic_shares(incoming["month"], router.predict(incoming["message"]))
    drift = monitoring.topic_drift(counts, reference="2024-01")
    assert drift.index[drift["drift"].astype(bool)].tolist() == months[4:]
    assert set(drift.loc[months[4:], "grew_most"]) == {"hardship"}


def test_psi_is_zero_for_the_same_mix_and_grows_with_change():
    assert monitoring.psi([10, 20, 30], [20, 40, 60]) == 0
    assert monitoring.psi([10, 20, 30], [30, 20, 10]) > monitoring.psi([10, 20, 30], [12, 20, 28]) > 0


def test_metrics_live_on_their_own_registry():
    from prometheus_client import generate_latest

    m = monitoring.metrics()
    m["answers"].labels(grounded="false").inc()
    text = generate_latest(m["registry"]).decode()
    assert 'lender_llm_answers_total{grounded="false"} 1.0' in text
    assert isinstance(monitoring.calls(monitoring.connect()), pd.DataFrame)


def test_the_alert_reads_the_counter_the_route_exports():
    from mlecourse.paths import ROOT

    rules = (ROOT / "deploy" / "prometheus" / "alerts.yml").read_text()
    assert "lender_llm_answers_total" in rules and "LLMUngroundedAnswers" in rules
    from prometheus_client import generate_latest

    m = monitoring.metrics()
    m["answers"].labels(grounded="true").inc()
    assert "lender_llm_answers_total" in generate_latest(m["registry"]).decode()
