"""The course model's behavioural, fairness and staleness tests (the ML Test Score's model section).

Behavioural tests in the style of CheckList (Ribeiro et al., 2020): invariance,
directional expectation, minimum functionality. A model that breaks one never
reaches the champion alias (the pipeline's gate runs the same suite).
"""
import numpy as np
import pandas as pd
import pytest

from mlecourse.lender import features
from mlecourse.lender.mlops import pipeline
from mlecourse.lender.modeling import artifact, behaviour


@pytest.fixture(scope="module")
def sample(loan_windows):
    return loan_windows[1].iloc[:3000]


def test_ids_do_not_matter(course_model, sample):
    for column in ("application_id", "customer_id"):
        finding = behaviour.invariance(course_model, sample, column)
        assert finding.passed, finding.message


def test_the_sensitive_attribute_is_not_an_input(course_model):
    assert "ethnicity" not in course_model.feature_names_in_
    assert "application_id" not in course_model.feature_names_in_


def test_more_income_does_not_raise_risk(course_model, sample):
    finding = behaviour.directional(course_model, sample, "annual_income", lambda s: s * 1.2)
    assert finding.passed, finding.message


def test_a_better_credit_score_does_not_raise_risk(course_model, sample):
    finding = behaviour.directional(course_model, sample, "credit_score", lambda s: s + 30, upper=850)
    assert finding.passed, finding.message


def test_obvious_cases_get_obvious_answers(course_model):
    finding = behaviour.minimum_functionality(course_model)
    assert finding.passed, finding.message


class UpsideDownIncome:
    """The course model behind a planted bug: income read upside down (a unit error upstream)."""

    def __init__(self, model):
        self.model, self.feature_names_in_ = model, model.feature_names_in_

    def predict_proba(self, frame):
        flipped = frame.copy()
        flipped["annual_income"] = 1e10 / flipped["annual_income"]
        return self.model.predict_proba(flipped)


def test_the_directional_test_catches_a_planted_bug(course_model, sample):
    finding = behaviour.directional(UpsideDownIncome(course_model), sample, "annual_income",
                                    lambda s: s * 1.2)
    assert not finding.passed, finding.message


def test_refusal_rates_are_close_across_age_groups(course_model):
    """On the rows the gate sees (validated: every age known and plausible)."""
    from mlecourse.lender.data.loading import load_loans

    _, valid = pipeline.split(pipeline.validate(load_loans()))
    X, _ = features.features_and_target(valid)
    refuse = course_model.predict_proba(X)[:, 1] > pipeline.business.COSTS.threshold
    gap = pipeline.parity_gap(valid["defaulted"], refuse, pipeline.age_group(valid))
    assert 0 <= gap <= 0.10, f"refusal-rate gap between age groups is {gap:.3f}"


def test_the_model_is_not_stale(tmp_path, course_model, loan_windows):
    """Trained on data that ends at most two years before the window it is scored on."""
    train, valid = loan_windows
    card = artifact.read_card(artifact.save_model(course_model, tmp_path, version="t",
                                                  train_frame=train, metrics={}))
    last = pd.Timestamp(card["training_data"]["last_date"])
    age_days = (valid[features.DATE].min() - last).days
    assert 0 <= age_days <= 2 * 365


def test_a_stale_model_would_be_caught(loan_windows):
    old = loan_windows[0][loan_windows[0][features.DATE] < "2019-07-01"]
    age_days = (pd.Timestamp("2022-01-01") - old[features.DATE].max()).days
    assert age_days > 2 * 365


def test_scores_are_probabilities(course_model, sample):
    X, _ = features.features_and_target(sample)
    scores = course_model.predict_proba(X)[:, 1]
    assert np.isfinite(scores).all() and ((scores >= 0) & (scores <= 1)).all()


def test_the_textbook_applicants_are_in_the_data_s_units(loan_windows):
    low, high = features.OFFERED_RATES
    data = loan_windows[0]["interest_rate"]
    for case in (behaviour.STRONG, behaviour.WEAK):
        assert behaviour.check_units(case) is case
        assert low <= case["interest_rate"] <= high and data.min() <= case["interest_rate"] <= data.max()
    with pytest.raises(ValueError, match="fraction instead of a percent"):
        behaviour.check_units({**behaviour.STRONG, "interest_rate": 0.08})
