"""The replay scores months through the real service, logs every prediction, keeps the
outcomes of the funded loans only, and joins them only once known; the log's problems are
reported, not skipped."""
import json
import sqlite3

import httpx
import pytest

from mlecourse.lender import features
from mlecourse.lender.data import validation
from mlecourse.lender.monitoring import outcomes, predlog, replay
from mlecourse.lender.serving import api
from mlecourse.lender.data.loading import load_loans
from mlecourse.lender.modeling.estimators import train_model


@pytest.fixture(scope="module")
def world():
    raw = load_loans()
    clean, _ = features.clean_loans(raw)
    train = clean[clean["application_date"] < "2021-01-01"]
    model = train_model(train.sample(3000, random_state=0), "logistic")
    app = api.create_app(model, {"version": "1.0.0"})
    conn = predlog.connect()
    months = ["2022-09", "2022-10"]
    with api.serve(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        result = replay.replay(client, raw, conn, months, validation.Reference.from_frame(train), batch_size=300)
        metrics = client.get("/metrics").text
    return {"raw": raw, "conn": conn, "result": result.set_index("month"), "metrics": metrics}


def test_the_incident_month_never_reaches_the_model(world):
    result, conn = world["result"], world["conn"]
    assert bool(result.loc["2022-10", "rejected"]) and result.loc["2022-10", "scored"] == 0
    assert "annual_income" in " ".join(result.loc["2022-10", "reasons"])
    assert predlog.rejected_batches(conn)["month"].tolist() == ["2022-10"]
    assert predlog.predictions(conn, "2022-10").empty


def test_every_scored_application_is_logged_in_batches(world):
    result, conn = world["result"], world["conn"]
    logged = predlog.predictions(conn, "2022-09")
    assert len(logged) == result.loc["2022-09", "scored"] > 600
    assert result.loc["2022-09", "requests"] == -(-len(logged) // 300)
    assert logged[["model_version", "score", "decision", "latency_ms"]].notna().all().all()
    assert (logged["funded"] == (logged["decision"] == "approve") | (logged["holdout"] == 1)).all()
    assert set(logged["decision"]) <= {"approve", "refuse"}
    inputs = conn.execute("SELECT inputs FROM predictions LIMIT 1").fetchone()[0]
    assert set(json.loads(inputs)) <= set(features.RAW_FEATURES)


def test_outcomes_are_joined_only_once_known(world):
    conn = world["conn"]
    before = predlog.known_as_of(conn, "2023-08-31")  # a year after September 2022: none known
    funded = before["funded"] == 1
    assert len(before) > 0 and before["defaulted"].isna().all()
    assert before.loc[funded, "early_delinquency"].notna().all()  # known after 3 months
    after = predlog.known_as_of(conn, "2023-10-01")
    assert after.loc[after["funded"] == 1, "defaulted"].notna().all()
    assert predlog.known_as_of(conn, "2022-08-31").empty  # nothing scored yet


def test_the_log_holds_no_outcome_for_a_refused_application(world):
    conn = world["conn"]
    view = predlog.known_as_of(conn, "2025-12-31")  # every outcome the lender will ever see
    refused = view[(view["decision"] == "refuse") & (view["holdout"] == 0)]
    assert len(refused) > 30 and refused["defaulted"].isna().all()
    assert refused["early_delinquency"].isna().all()
    unfunded = conn.execute("SELECT COUNT(*) FROM outcomes o JOIN predictions p USING (application_id) "
                            "WHERE p.funded = 0").fetchone()[0]
    assert unfunded == 0
    approved = view[view["decision"] == "approve"]
    assert (approved["funded"] == 1).all() and approved["defaulted"].notna().all()
    # and the schema itself refuses one, whoever writes it
    app_id = refused["application_id"].iloc[0]
    with pytest.raises(sqlite3.IntegrityError, match="did not fund"):
        with conn:
            conn.execute("INSERT INTO outcomes VALUES (?, 1, '2023-09-01', 0, '2022-12-01')", (app_id,))


def test_the_holdout_funds_a_random_share_of_refusals_with_their_propensity(world):
    view = predlog.known_as_of(world["conn"], "2025-12-31")
    refused = view[view["decision"] == "refuse"]
    assert set(refused["propensity"]) == {outcomes.HOLDOUT_SHARE}
    assert set(view.loc[view["decision"] == "approve", "propensity"]) == {1.0}
    share = refused["holdout"].mean()
    assert 0 < share < 4 * outcomes.HOLDOUT_SHARE
    held = refused[refused["holdout"] == 1]
    assert (held["funded"] == 1).all() and held["defaulted"].notna().all()


def test_the_holdout_draw_depends_on_the_id_not_on_the_order():
    ids = [f"A{i:07d}" for i in range(4000)]
    draw = outcomes.holdout_draw(ids)
    assert ((0 <= draw) & (draw < 1)).all() and abs(draw.mean() - 0.5) < 0.03
    assert outcomes.holdout_draw(ids[::-1])[::-1].tolist() == draw.tolist()
    funded = outcomes.funding(["refuse"] * 4000, ids, 0.05)
    assert abs(funded["holdout"].mean() - 0.05) < 0.015 and (funded["propensity"] == 0.05).all()
    assert outcomes.funding(["approve", "refuse"], ["A", "B"], 0.0)["funded"].tolist() == [1, 0]
    with pytest.raises(ValueError, match="holdout share"):
        outcomes.funding(["refuse"], ["A"], 1.0)


def test_metrics_count_requests_and_every_score(world):
    text, scored = world["metrics"], world["result"].loc["2022-09", "scored"]
    requests = world["result"].loc["2022-09", "requests"]
    assert f'lender_requests_total{{model_version="1.0.0",path="/predict",status="200"}} {float(requests)}' in text
    assert f'lender_predicted_default_probability_count{{model_version="1.0.0"}} {float(scored)}' in text
    assert 'lender_model_info{model_version="1.0.0"} 1.0' in text


def test_audit_reports_missing_fields_and_unknown_versions():
    conn = predlog.connect()
    row = {"request_id": "r1", "application_id": "A1", "scored_at": "2023-01-02", "month": "2023-01",
           "model_version": "1.0.0", "inputs": "{}", "score": 0.1, "decision": "approve", "latency_ms": 3.0}
    predlog.log_predictions(conn, [row, {**row, "application_id": "A2", "score": None},
                                   {**row, "application_id": "A3", "model_version": "9.9.9"}])
    problems = predlog.audit(conn, ["1.0.0"])
    assert set(problems["problem"]) == {"missing score", "unknown model version"}
    with pytest.raises(predlog.LogError, match="2023-01 has 1 rows with missing score, 1 rows with unknown") as error:
        predlog.month_frame(conn, "2023-01", ["1.0.0"])
    assert "\n" not in str(error.value)
    with pytest.raises(predlog.LogError, match="no predictions for 2023-02"):
        predlog.month_frame(conn, "2023-02", ["1.0.0"])


def test_two_apps_keep_separate_metrics():
    model = train_model(features.clean_loans(load_loans().head(2000))[0], "logistic")
    one, two = api.create_app(model, {"version": "a"}), api.create_app(model, {"version": "b"})
    assert one.state.metrics.registry is not two.state.metrics.registry
    from fastapi.testclient import TestClient
    with TestClient(one) as client:
        client.get("/health"), client.get("/nope")
        text = client.get("/metrics").text
    assert 'path="other",status="404"' in text  # unknown paths share one label
    assert "lender_requests_total{" not in two.state.metrics.exposition().decode()  # b saw nothing


def test_a_server_fault_is_counted_as_an_error():
    class Broken:
        def predict_proba(self, frame):
            raise RuntimeError("bug")
    app = api.create_app(Broken(), {"version": "x"})
    from fastapi.testclient import TestClient
    body = api.as_applications(features.clean_loans(load_loans().head(5))[0])[0]
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.post("/predict", json=body).status_code == 500
        text = client.get("/metrics").text
    assert 'lender_request_errors_total{model_version="x",path="/predict"} 1.0' in text


def test_the_metrics_page_reads_back_and_an_app_without_metrics_has_none():
    from fastapi.testclient import TestClient
    from mlecourse.lender.serving import metrics

    model = train_model(features.clean_loans(load_loans().head(2000))[0], "logistic")
    body = api.as_applications(features.clean_loans(load_loans().head(5))[0])
    with TestClient(api.create_app(model, {"version": "a"})) as client:
        client.post("/predict", json={"applications": body})
        client.get("/health")
        totals = metrics.read(client.get("/metrics").text)
    assert totals["lender_requests_total"] == 1.0  # /predict only: /health is another path
    assert totals["lender_predicted_default_probability_count"] == len(body)
    with TestClient(api.create_app(model, {"version": "b"}, metrics=False)) as client:
        assert client.post("/predict", json={"applications": body}).status_code == 200
        assert client.get("/metrics").status_code == 404
