"""Data validation: bad rows are quarantined, never lost; bad batches are
rejected with a reason; no malformed batch makes the validator crash; labels
that no longer relate to the inputs are refused."""
from functools import cache

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlecourse.lender.data import loans as spec
from mlecourse.lender.data.loading import load_loans
from mlecourse.lender.features import CATEGORIES, CATEGORICAL, NUMERIC, RAW_FEATURES, clean_loans, split_by_date
from mlecourse.lender.data.validation import (LABEL_FALSE_ALARM, POLICY, PROBLEM_COLUMNS, Policy, Reference,
                                         auc_standard_error, batch_schema, check_labels, validate_batch)


@cache
def raw() -> pd.DataFrame:
    return load_loans()


@cache
def reference() -> Reference:
    return Reference.from_frame(split_by_date(clean_loans(raw())[0])[0])


def month(name: str) -> pd.DataFrame:
    frame = raw()
    return frame[frame["application_date"].dt.strftime("%Y-%m") == name].copy()


def good_rows(n: int = 60) -> pd.DataFrame:
    """Rows that pass every check: a clean month, without its few bad rows."""
    frame = month("2022-09")
    report = validate_batch(frame)
    return report.accepted.head(n).copy()


def accounted(report, batch) -> None:
    assert len(report.accepted) + len(report.quarantined) == len(batch)
    both = report.accepted.index.append(report.quarantined.index)
    assert sorted(map(str, both)) == sorted(map(str, batch.index))
    assert list(report.problems.columns) == PROBLEM_COLUMNS


def test_a_clean_month_is_accepted_with_its_few_bad_rows_quarantined():
    batch = month("2022-09")
    report = validate_batch(batch, reference())
    accounted(report, batch)
    assert not report.rejected
    assert 0 < len(report.quarantined) <= POLICY.max_quarantined_share * len(batch)
    # every quarantined row has at least one row problem that names it
    named = set(report.problems.loc[report.problems["level"] == "row", "row"])
    assert set(report.quarantined.index) <= named
    # accepted rows are the batch's rows, unchanged
    pd.testing.assert_frame_equal(report.accepted, batch.loc[report.accepted.index])


def test_the_incident_month_is_rejected_for_its_income_scale():
    batch = month(spec.INCIDENT_MONTH)
    report = validate_batch(batch, reference())
    accounted(report, batch)
    assert report.rejected and len(report.accepted) == 0
    assert any("annual_income" in reason and "scale" in reason for reason in report.reasons)
    # the incomes pass the row checks: only the distribution check sees them
    incomes = report.problems[(report.problems["column"] == "annual_income")]
    assert set(incomes["level"]) == {"batch"}


def test_without_a_reference_the_incident_month_slips_through():
    """Row checks alone cannot see a unit change: the reason the chapter adds one."""
    report = validate_batch(month(spec.INCIDENT_MONTH))
    assert not report.rejected


def test_a_new_category_is_named_and_its_rows_quarantined():
    batch = month("2022-09")
    batch.loc[batch.index[:3], "channel"] = "partner_app"
    report = validate_batch(batch, reference())
    accounted(report, batch)
    assert set(batch.index[:3]) <= set(report.quarantined.index)
    named = report.problems[(report.problems["level"] == "batch") & (report.problems["column"] == "channel")]
    assert len(named) == 1 and "partner_app" in named["value"].iloc[0]
    assert not report.rejected  # three rows are not a systemic problem


def test_many_bad_rows_reject_the_batch():
    batch = good_rows(40)
    batch.loc[batch.index[:5], "age"] = 200  # 12.5% > 5%
    report = validate_batch(batch)
    assert report.rejected and len(report.quarantined) == len(batch)
    assert "5%" in report.reasons[0]


def test_the_policy_decides_the_threshold():
    batch = good_rows(40)
    batch.loc[batch.index[:5], "age"] = 200
    report = validate_batch(batch, policy=Policy(max_quarantined_share=0.2))
    assert not report.rejected and len(report.quarantined) == 5


@pytest.mark.parametrize("column,value,check", [
    ("age", 17, "greater_than_or_equal_to"), ("age", 86, "less_than_or_equal_to"),
    ("age", 30.5, "whole_number"), ("annual_income", 0.0, "greater_than_or_equal_to"),
    ("annual_income", np.inf, "finite"), ("loan_term_months", 18, "isin"),
    ("credit_score", 900, "less_than_or_equal_to"), ("age", "forty", "not a number"),
    ("age", np.nan, "not_nullable"), ("region", "North", "isin"), ("channel", None, "not_nullable"),
])
def test_each_row_check_quarantines_and_names_the_problem(column, value, check):
    batch = good_rows(60)
    batch[column] = batch[column].astype(object)
    target = batch.index[7]
    batch.at[target, column] = value
    report = validate_batch(batch)
    assert list(report.quarantined.index) == [target]
    row = report.problems[report.problems["level"] == "row"].iloc[0]
    assert row["column"] == column and check in row["check"] and row["row"] == target


def test_boundaries_and_optional_fields_are_accepted():
    batch = good_rows(10)
    batch["age"] = [18, 85] * 5
    batch["credit_score"] = [300.0, 850.0, np.nan] + [700.0] * 7
    batch["annual_income"] = [1.0, np.nan] + [30_000.0] * 8
    batch["employment_type"] = batch["employment_type"].astype(object)
    batch.loc[batch.index[0], "employment_type"] = None
    report = validate_batch(batch)
    assert len(report.accepted) == 10, report.problems


def test_duplicates_are_quarantined_once():
    batch = good_rows(20)
    batch = pd.concat([batch, batch.iloc[[3]]])
    report = validate_batch(batch, policy=Policy(max_quarantined_share=0.5))
    assert len(report.quarantined) == 1 and len(report.accepted) == 20


def test_a_request_stored_twice_under_a_new_id_is_quarantined_once():
    """A client retried a request that timed out; the intake stored the retry with a new id."""
    batch = good_rows(20)
    retry = batch.iloc[[3]].assign(application_id="A9999999")
    report = validate_batch(pd.concat([batch, retry]), policy=Policy(max_quarantined_share=0.5))
    assert len(report.quarantined) == 1 and report.quarantined["application_id"].item() == "A9999999"
    [problem] = report.problems.itertuples()
    assert problem.check == "duplicate of an earlier row under another id" and problem.column == "application_id"
    # a real second application (another day) is not a retry
    later = retry.assign(application_date=retry["application_date"] + pd.Timedelta(days=1))
    assert not validate_batch(pd.concat([batch, later])).quarantined.size
    # without an id column, only exact duplicates are
    no_ids = pd.concat([batch, batch.iloc[[3]]]).drop(columns=["application_id"])
    assert validate_batch(no_ids, policy=Policy(max_quarantined_share=0.5)).problems["check"].tolist() == \
        ["duplicate of an earlier row"]


def test_structural_problems_are_reported_not_raised():
    batch = good_rows(30)
    for broken, phrase in [(batch.drop(columns=["age", "channel"]), "missing"),
                           (batch.assign(loan_amount="lots"), "cannot be read as numbers"),
                           (batch.iloc[0:0], "empty")]:
        report = validate_batch(broken, reference())
        accounted(report, broken)
        assert report.rejected and phrase in " ".join(report.reasons)


def test_extra_columns_are_allowed_and_kept():
    batch = good_rows(10).assign(note="hello")
    report = validate_batch(batch)
    assert len(report.accepted) == 10 and "note" in report.accepted


def test_a_missing_field_far_more_often_than_in_training_rejects():
    batch = good_rows(60)
    batch["employment_type"] = batch["employment_type"].astype(object)
    batch.loc[batch.index[:20], "employment_type"] = None  # allowed per row, not a third of them
    report = validate_batch(batch, reference())
    assert report.rejected and "employment_type" in report.reasons[0]


def test_small_batches_skip_the_distribution_checks():
    batch = month(spec.INCIDENT_MONTH).head(POLICY.min_rows_for_distribution - 1)
    assert not any("scale" in r for r in validate_batch(batch, reference()).reasons)


def test_index_labels_are_kept_even_when_repeated_or_text():
    batch = good_rows(6)
    batch.index = ["a", "b", "a", "c", "d", "e"]
    batch.iloc[2, batch.columns.get_loc("age")] = 5
    report = validate_batch(batch, policy=Policy(max_quarantined_share=0.5))
    assert list(report.quarantined.index) == ["a"] and len(report.accepted) == 5


def test_the_batch_is_not_changed():
    batch = month("2022-09")
    before = batch.copy()
    validate_batch(batch, reference())
    pd.testing.assert_frame_equal(batch, before)


def test_not_a_frame_is_a_programming_error():
    with pytest.raises(TypeError, match="DataFrame"):
        validate_batch([{"age": 30}])


def test_schema_and_reference_come_from_the_feature_constants():
    schema = batch_schema()
    assert set(schema.columns) == set(RAW_FEATURES)
    assert reference().medians["annual_income"] > 1000
    again = Reference.from_dict(reference().to_dict())
    assert again == reference()
    # what training saw is what the schema allows
    train = split_by_date(clean_loans(raw())[0])[0]
    for column in CATEGORICAL:
        assert set(train[column].dropna()) == set(CATEGORIES[column])


# --- properties: any malformed batch, every row accounted for ------------------

cell = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True),
                 st.integers(-10**6, 10**6), st.text(max_size=6), st.booleans(),
                 st.sampled_from(["online", "north", "car", "salaried", "rent", "36"]),
                 st.sampled_from([[1, 2], {"a": 1}, pd.Timestamp("2022-01-01"), pd.NA, b"x"]))


@st.composite
def malformed_batches(draw):
    base = good_rows(60)
    n = draw(st.integers(0, 12))
    frame = base.head(n).copy()
    columns = draw(st.lists(st.sampled_from(list(RAW_FEATURES)), max_size=4, unique=True))
    frame = frame.drop(columns=[c for c in columns if draw(st.booleans())])
    for column in columns:
        if column in frame and n:
            frame[column] = pd.Series(draw(st.lists(cell, min_size=n, max_size=n)),
                                      index=frame.index, dtype=object)
    if draw(st.booleans()):
        frame["extra"] = draw(st.sampled_from([1, "x", None]))
    if draw(st.booleans()) and n:
        frame.index = draw(st.lists(st.sampled_from([0, 1, "a", 2.5]), min_size=n, max_size=n))
    return frame


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=malformed_batches())
def test_never_loses_a_row_and_never_crashes(batch):
    report = validate_batch(batch, reference())
    accounted(report, batch)
    if report.rejected:
        assert len(report.accepted) == 0
    assert report.problems["level"].isin(["row", "batch"]).all()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=3)),
                       min_size=1, max_size=20), column=st.sampled_from(list(NUMERIC)))
def test_numbers_in_any_form_are_accounted_for(values, column):
    batch = good_rows(len(values))
    batch[column] = pd.Series(values, index=batch.index, dtype=object)
    report = validate_batch(batch)
    accounted(report, batch)


# --- the labels --------------------------------------------------------------------------

def scored_batch(rows: int, seed: int, separation: float = 1.2):
    """Labels (12% positive) and scores that rank them with an AUC near 0.8."""
    rng = np.random.default_rng(seed)
    labels = (rng.random(rows) < 0.12).astype(int)
    return labels, labels * separation + rng.normal(size=rows)


def test_the_auc_standard_error_agrees_with_the_bootstrap():
    from sklearn.metrics import roc_auc_score

    labels, scores = scored_batch(3000, seed=7)
    auc, positives = roc_auc_score(labels, scores), int(labels.sum())
    rng = np.random.default_rng(1)
    resamples = [rng.integers(0, len(labels), len(labels)) for _ in range(300)]
    bootstrap = np.std([roc_auc_score(labels[i], scores[i]) for i in resamples])
    # Hanley and McNeil's formula is a little wide on these scores (errs towards accepting)
    ratio = auc_standard_error(auc, positives, len(labels) - positives) / bootstrap
    assert 0.9 < ratio < 1.5, ratio


def test_sound_batches_pass_and_shuffled_labels_do_not():
    labels, scores = scored_batch(3000, seed=0)
    recorded = check_labels(labels, scores).auc  # as a card records it
    refused = sum(not check_labels(*scored_batch(3000, seed), recorded).passed for seed in range(1, 201))
    assert refused <= 2, f"{refused} of 200 sound batches refused (expected about {LABEL_FALSE_ALARM:.1%})"
    shuffled = np.random.default_rng(0).permutation(labels)
    found = check_labels(shuffled, scores, recorded)
    assert not found.passed and found.auc < found.floor < recorded
    assert str(found).startswith("AUC 0.") and "below the recorded" in str(found)


def test_the_tolerance_is_3_1_standard_errors_of_a_difference():
    labels, scores = scored_batch(3000, seed=3)
    auc = check_labels(labels, scores).auc
    positives = int(labels.sum())
    for errors, passed in [(3.0, True), (3.2, False)]:
        # a recorded AUC this many standard errors (of a difference of two AUCs) above today's;
        # the error is the recorded AUC's, so find it by a few fixed-point steps
        recorded = auc
        for _ in range(20):
            recorded = auc + errors * np.sqrt(2) * auc_standard_error(recorded, positives,
                                                                      len(labels) - positives)
        assert check_labels(labels, scores, recorded).passed is passed, errors


def test_with_nothing_recorded_the_scores_must_beat_chance():
    from scipy.stats import norm

    labels, scores = scored_batch(3000, seed=4)
    found = check_labels(labels, scores)
    positives, negatives = int(labels.sum()), int((1 - labels).sum())
    # Mann-Whitney's variance when the labels are unrelated to the scores
    chance = np.sqrt((positives + negatives + 1) / (12 * positives * negatives))
    assert found.floor == pytest.approx(0.5 + norm.isf(LABEL_FALSE_ALARM) * chance)
    assert found.passed and found.recorded is None
    assert "above chance (0.5)" in str(found)
    assert not check_labels(np.random.default_rng(4).permutation(labels), scores).passed


def test_labels_of_one_class_or_missing_scores():
    labels, scores = scored_batch(500, seed=5)
    one_class = check_labels(np.zeros_like(labels), scores, 0.8)
    assert not one_class.passed and "one outcome only" in str(one_class)
    with_gaps = scores.copy()
    with_gaps[:50] = np.nan  # a missing bureau score: that row is left out
    found = check_labels(labels, with_gaps, None)
    assert found.passed and found.rows == 450
