"""Explanations: SHAP adds up, the two local methods agree, reason codes and POST /explain."""
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from mlecourse.lender import business, features
from mlecourse.lender.responsible import explain, reasons
from mlecourse.lender.service import compose


@pytest.fixture(scope="module")
def fitted(course_model, loan_splits):
    train, _valid, test = loan_splits
    return course_model, train, test


@pytest.fixture(scope="module")
def refused(fitted):
    model, _train, test = fitted
    X = test[list(features.RAW_FEATURES)].dropna()
    return X[model.predict_proba(X)[:, 1] > business.COSTS.threshold].iloc[:40]


def test_raw_inputs_of_transformed_columns():
    assert explain.raw_input_of("region_north") == "region"
    assert explain.raw_input_of("missingindicator_credit_score") == "credit_score"
    assert explain.raw_input_of("loan_to_income") == "loan_to_income"
    with pytest.raises(KeyError, match="no raw input"):
        explain.raw_input_of("colour_red")


def test_shap_values_add_up_to_the_log_odds(fitted, refused):
    model = fitted[0]
    parts = explain.shap_contributions(model, refused)
    total = parts.attrs["base"] + parts.sum(axis=1)
    assert np.allclose(total, explain.log_odds(model, refused), atol=1e-4)


def test_the_two_local_methods_mostly_agree_on_the_top_reasons(fitted, refused):
    model, train, _ = fitted
    shap_parts = explain.onto_raw_inputs(explain.shap_contributions(model, refused))
    reference = pd.Series(reasons.TYPICAL_APPROVED, dtype=object)
    replaced = explain.replacement_contributions(model, refused, reference)
    agreement = np.mean([explain.top_agreement(shap_parts.loc[i], replaced.loc[i], k=3) for i in refused.index])
    assert agreement >= 0.55  # two of the top three reasons, most of the time
    assert np.allclose(shap_parts.sum(axis=1), explain.shap_contributions(model, refused).sum(axis=1))


def test_typical_approved_applicant_is_what_the_data_says(fitted):
    model, train, _ = fitted
    computed = explain.reference_applicant(train, model)
    for name, value in reasons.TYPICAL_APPROVED.items():
        if isinstance(value, str):
            assert computed[name] == value, name
        else:
            assert computed[name] == pytest.approx(value, rel=0.02, abs=0.1), name


def test_reason_codes_keep_only_what_pushed_towards_refusal():
    parts = pd.Series(0.0, index=list(reasons.REASONS))
    parts[["credit_score", "monthly_debt", "loan_amount", "age", "annual_income"]] = [0.9, 1.2, 0.3, 0.2, -2.0]
    codes = reasons.reason_codes(parts)
    assert [c["input"] for c in codes] == ["monthly_debt", "credit_score", "loan_amount", "age"]
    assert codes[3]["review"] and not codes[0]["review"]
    assert len(reasons.reason_codes(parts, limit=2)) == 2
    with pytest.raises(KeyError, match="no reason text for colour"):
        reasons.reason_codes(pd.Series({"colour": 1.0}))


@pytest.fixture(scope="module")
def client(fitted):
    model = fitted[0]
    app = compose.create_app(model, {"version": "9.9.9", "threshold": business.COSTS.threshold})
    return TestClient(app)


def _application(row: pd.Series) -> dict:
    body = {}
    for name in features.RAW_FEATURES:
        value = row[name]
        body[name] = int(value) if name in features.INTEGERS else value.item() if hasattr(value, "item") else value
    return body


def test_explain_endpoint_gives_reasons_for_a_refusal_and_none_for_an_approval(client, fitted, refused):
    model, _, test = fitted
    body = client.post("/explain", json=_application(refused.iloc[0])).json()
    assert body["decision"] == "refuse" and body["model_version"] == "9.9.9"
    assert 1 <= len(body["reasons"]) <= reasons.MAX_REASONS
    assert set(body["reasons"][0]) == {"code", "input", "text", "log_odds", "review"}
    assert body["probability_of_default"] == round(model.predict_proba(refused.iloc[[0]])[0, 1], 4)  # rounded as /predict rounds
    X = test[list(features.RAW_FEATURES)].dropna()
    approved = X[model.predict_proba(X)[:, 1] < 0.05].iloc[0]
    body = client.post("/explain", json=_application(approved)).json()
    assert body["decision"] == "approve" and body["reasons"] == []


def test_explain_endpoint_validates_with_the_service_schema(client, refused):
    bad = {**_application(refused.iloc[0]), "age": 7}
    response = client.post("/explain", json=bad)
    assert response.status_code == 422 and "age" in response.text
    extra = {**_application(refused.iloc[0]), "ethnicity": "minority"}
    assert client.post("/explain", json=extra).status_code == 422
    schema = client.get("/openapi.json").json()
    assert "Explanation" in schema["components"]["schemas"]


def test_explain_and_predict_agree_when_fields_are_missing(client, refused):
    body = {**_application(refused.iloc[0]), "employment_type": None, "annual_income": None}
    explained = client.post("/explain", json=body).json()
    predicted = client.post("/predict", json=body).json()["predictions"][0]
    assert explained["probability_of_default"] == pytest.approx(predicted["probability_of_default"])
    assert explained["decision"] == predicted["decision"]


def test_every_input_that_reveals_the_group_is_reviewed_before_its_reason_is_given(fitted):
    from mlecourse.lender.responsible import fairness

    _model, train, test = fitted
    proxies = fairness.proxy_strength(train, test, features.RAW_FEATURES)
    table = reasons.review_table(proxies)
    flagged = set(table.loc[table["review"], "input"])
    assert set(proxies[proxies >= reasons.PROXY_FLAG_AUC].index) <= flagged
    assert {"interest_rate", "credit_score", "region", "age"} <= flagged
    assert table.loc["R06", "review"] and "legacy price" in table.loc["R06", "why"]
    with pytest.raises(ValueError, match="monthly_debt predict"):
        reasons.review_table(pd.Series({"monthly_debt": 0.7}))


def test_a_reason_citing_a_reviewed_input_is_flagged_on_the_notice():
    parts = pd.Series(0.0, index=list(reasons.REASONS))
    parts[["interest_rate", "monthly_debt"]] = [0.8, 0.5]
    codes = reasons.reason_codes(parts)
    assert [(c["code"], c["review"]) for c in codes] == [("R06", True), ("R03", False)]


def test_replacement_contributions_in_one_call_equal_one_call_per_input(fitted, refused):
    model = fitted[0]
    reference = pd.Series(reasons.TYPICAL_APPROVED, dtype=object)
    batched = explain.replacement_contributions(model, refused, reference)
    base = explain.log_odds(model, refused)
    for column in features.RAW_FEATURES:
        changed = refused.copy()
        changed[column] = reference[column]
        if column in features.NUMERIC:
            changed[column] = changed[column].astype("float64")
        assert np.allclose(batched[column], base - explain.log_odds(model, changed), atol=1e-12), column
