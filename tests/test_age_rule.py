"""Regulation B's age rule: the test finds a model that scores the elderly down, the floor fixes it,
and the deployed service (its /predict and its reason codes) never scores down an applicant of 62 or over."""
import httpx
import numpy as np
import pandas as pd
import pytest

from mlecourse.lender import business, features
from mlecourse.lender.responsible import age_rule
from mlecourse.lender.service import compose
from mlecourse.lender.serving import api


class RiskRisesWithAge:
    """A toy scorer: risk 0.1, plus 0.002 a year from 40 on."""

    def predict_proba(self, X):
        p = 0.1 + 0.002 * np.clip(X["age"].to_numpy(float) - 40, 0, None)
        return np.column_stack([1 - p, p])


def _applicants(ages):
    return pd.DataFrame({"age": np.asarray(ages, dtype=float), "income": 1.0})


def test_the_test_finds_the_elderly_scored_down_from_62_and_not_at_61():
    model = RiskRisesWithAge()
    result = age_rule.scored_down(lambda f: model.predict_proba(f)[:, 1], _applicants([61, 62, 70, np.nan]))
    assert list(result.index) == [1, 2]  # 62 is elderly (inclusive), 61 and a missing age are not
    assert result["scored_down"].all() and result.loc[1, "excess"] == pytest.approx(0.002 * 22)


def test_the_floor_gives_the_elderly_the_best_younger_age_and_changes_nobody_else():
    model = RiskRisesWithAge()
    floor = age_rule.ElderlyFloor(model)
    X = _applicants([30, 61, 62, 80])
    p = floor.predict_proba(X)[:, 1]
    assert p[:2] == pytest.approx(model.predict_proba(X)[:2, 1])
    assert p[2:] == pytest.approx([0.1, 0.1])
    assert not age_rule.scored_down(lambda f: floor.predict_proba(f)[:, 1], X)["scored_down"].any()


@pytest.fixture(scope="module")
def elderly_2022(course_model):
    from mlecourse.lender.data.loading import load_loans

    clean, _ = features.clean_loans(load_loans())
    test = features.split_by_date(clean)[2]
    X = test[list(features.RAW_FEATURES)]
    return X[age_rule.elderly(X)]


def test_the_course_model_alone_scores_some_elderly_applicants_down(course_model, elderly_2022):
    raw = age_rule.scored_down(lambda f: course_model.predict_proba(f)[:, 1], elderly_2022)
    assert raw["scored_down"].sum() > 0.1 * len(raw)


def _served_probabilities(client, frame):
    out = []
    for start in range(0, len(frame), 1000):
        body = {"applications": api.as_applications(frame.iloc[start:start + 1000])}
        out += [p["probability_of_default"] for p in client.post("/predict", json=body).json()["predictions"]]
    return np.array(out)


def test_the_deployed_service_never_scores_an_applicant_of_62_or_over_down_for_age(course_model, elderly_2022):
    app = compose.create_app(course_model, {"version": "t", "threshold": business.COSTS.threshold})
    raw = age_rule.scored_down(lambda f: course_model.predict_proba(f)[:, 1], elderly_2022)
    sample = elderly_2022.loc[raw.sort_values("excess").index[-40:]]  # the 40 the model alone treats worst
    refused = sample[age_rule.ElderlyFloor(course_model).predict_proba(sample)[:, 1] > business.COSTS.threshold]
    assert len(refused) >= 3
    with api.serve(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        served = age_rule.scored_down(lambda f: _served_probabilities(client, f), sample)
        explained = [client.post("/explain", json=body).json() for body in api.as_applications(refused)]
    assert not served["scored_down"].any()  # rounding to 4 decimals keeps the order: no tolerance needed
    assert all(e["decision"] == "refuse" for e in explained)
    cited = [r["input"] for e in explained for r in e["reasons"]]
    assert cited and "age" not in cited


def test_the_service_can_serve_the_model_alone_for_comparison(course_model, elderly_2022):
    from fastapi.testclient import TestClient

    worst = age_rule.scored_down(lambda f: course_model.predict_proba(f)[:, 1], elderly_2022)
    one = elderly_2022.loc[[worst["excess"].idxmax()]]
    with TestClient(compose.create_app(course_model, {"version": "t"}, age_floor=False)) as plain:
        p = plain.post("/predict", json=api.as_applications(one)[0]).json()["predictions"][0]
    assert p["probability_of_default"] == pytest.approx(round(course_model.predict_proba(one)[0, 1], 4))
