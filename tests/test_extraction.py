"""Model extraction against the real service: made-up queries, the copy, and what the defences do."""
import httpx
import numpy as np
import pandas as pd
import pytest

from mlecourse.lender import features
from mlecourse.lender.responsible import age_rule, extraction
from mlecourse.lender.service import compose
from mlecourse.lender.serving import api


@pytest.fixture(scope="module")
def known(loan_windows):
    return loan_windows[1].sample(300, random_state=0)


def test_made_up_applications_draw_each_field_from_known_values(known):
    made = extraction.attacker_applications(known, 500, seed=1)
    assert list(made.columns) == list(features.RAW_FEATURES) and len(made) == 500
    assert not made.isna().any().any()
    for column in features.RAW_FEATURES:
        assert set(made[column]) <= set(known[column].dropna())
    with pytest.raises(ValueError, match="needs some known"):
        extraction.attacker_applications(known.iloc[:0], 5)


def test_the_copy_reads_the_threshold_off_the_answers():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({c: rng.random(400) for c in features.NUMERIC}).assign(
        **{c: values[0] for c, values in features.CATEGORIES.items()})[list(features.RAW_FEATURES)]
    p = np.round(0.05 + 0.5 * X["credit_score"].to_numpy(), 4)
    answers = pd.DataFrame({"refuse": p > 0.3, "probability": p})
    copy = extraction.fit_copy(X, answers)
    assert 1 / (1 + np.exp(-copy.threshold)) == pytest.approx(0.3, abs=0.002)
    assert extraction.agreement(copy, X, p > 0.3) > 0.95
    decisions = answers.assign(probability=np.nan)
    assert extraction.fit_copy(X, decisions).threshold is None
    with pytest.raises(ValueError, match="same decision"):
        extraction.fit_copy(X, decisions.assign(refuse=False))


def test_hours_to_query_charges_each_answer_its_cost():
    assert extraction.hours_to_query(1000, rate=1, burst=1000) == 0
    assert extraction.hours_to_query(4600, rate=1, burst=1000) == pytest.approx(1.0)
    assert extraction.hours_to_query(1000, rate=10, burst=1000, cost=20) == pytest.approx(19000 / 10 / 3600)


def test_the_service_answers_an_attacker_until_its_defences_stop_it(small_model, known):
    queries = extraction.attacker_applications(known, 1200, seed=2)
    open_app = compose.create_app(small_model, {"version": "t"})
    guarded = compose.create_app(small_model, {"version": "t"}, api_keys=("k",), rate_limit=1, burst=1000)
    plain = compose.create_app(small_model, {"version": "t"}, decisions_only=True)
    with api.serve(open_app) as url, httpx.Client(base_url=url, timeout=60) as client:
        answers = extraction.query(client, queries.iloc[:300], batch=100)
    assert len(answers) == 300 and answers["probability"].notna().all()
    expected = age_rule.ElderlyFloor(small_model).predict_proba(queries.iloc[:300])[:, 1]  # as served
    assert np.allclose(answers["probability"], np.round(expected, 4))
    with api.serve(guarded) as url, httpx.Client(base_url=url, timeout=60) as client:
        with pytest.raises(extraction.QueryRefused) as no_key:
            extraction.query(client, queries.iloc[:10])
        with pytest.raises(extraction.QueryRefused) as limited:
            extraction.query(client, queries, batch=1000, headers={"x-api-key": "k"})
    assert no_key.value.status == 401 and no_key.value.answered == 0
    assert limited.value.status == 429 and limited.value.answered == 1000
    assert int(limited.value.retry_after) >= 199  # the next 200 applications at 1 a second
    with api.serve(plain) as url, httpx.Client(base_url=url, timeout=60) as client:
        decisions = extraction.query(client, queries.iloc[:300], batch=300)
        explained = client.post("/explain", json=api.as_applications(queries.iloc[:1])[0]).json()
    assert decisions["probability"].isna().all()
    assert np.array_equal(decisions["refuse"], answers["refuse"])
    assert set(explained) == {"model_version", "decision", "reasons"}
    assert all("log_odds" not in r for r in explained["reasons"])
