"""The shared feature code (features.py) and the business side (business.py):
cleaning accounts for every row, the time split has no gaps or overlaps, the
pipeline learns from training rows only and survives new values."""
from functools import cache

import numpy as np
import pandas as pd
import pytest

from mlecourse.lender.data import loans as spec
from mlecourse.lender.business import COSTS, Costs, business_rule, decision_cost
from mlecourse.lender.data.loading import load_loans
from mlecourse.lender.features import (CATEGORICAL, CUTS, NUMERIC, RATIOS, RAW_FEATURES, LoanRatios,
                                build_preprocessor, clean_loans, features_and_target,
                                monthly_payment, normalise_region, split_by_date)


@cache
def raw() -> pd.DataFrame:
    return load_loans()


@cache
def cleaned():
    return clean_loans(raw())


def application(**changes) -> pd.DataFrame:
    row = {"age": 40, "annual_income": 48_000.0, "employment_years": 5.0, "loan_amount": 12_000.0,
           "loan_term_months": 36, "interest_rate": 10.0, "monthly_debt": 500.0,
           "credit_score": 700.0, "num_credit_lines": 4, "previous_defaults": 0,
           "employment_type": "salaried", "home_ownership": "rent", "region": "north",
           "channel": "online", "loan_purpose": "car"}
    return pd.DataFrame([{**row, **changes}])


# --- cleaning -------------------------------------------------------------------

def test_cleaning_accounts_for_every_row():
    frame, log = cleaned()
    dropped = dict(log.steps)["exact duplicate rows dropped"]
    assert log.rows_in == len(raw())
    assert len(frame) == log.rows_in - dropped
    assert dropped == raw().duplicated().sum() and not frame.duplicated().any()


def test_cleaning_keeps_bad_values_as_missing_and_says_how_many():
    frame, log = cleaned()
    steps = dict(log.steps)
    assert steps["age out of range set to missing"] == spec.IMPOSSIBLE_AGE_COUNT
    assert frame["age"].between(18, 85).all() or frame["age"].isna().sum() == spec.IMPOSSIBLE_AGE_COUNT
    assert frame["loan_amount"].max() <= spec.MAX_LOAN_AMOUNT
    assert (frame["annual_income"].dropna() > 0).all()


def test_cleaning_repairs_the_incident_month_and_only_it():
    frame, _ = cleaned()
    month = frame["application_date"].dt.strftime("%Y-%m")
    by_month = frame.groupby(month)["annual_income"].median()
    assert by_month.min() > 0.5 * by_month.median()  # no month a thousand times too small
    before = raw().drop_duplicates()
    other = before["application_date"].dt.strftime("%Y-%m") != spec.INCIDENT_MONTH
    kept = before.loc[other, "annual_income"].to_numpy()
    after = frame.loc[(month != spec.INCIDENT_MONTH).to_numpy(), "annual_income"].to_numpy()
    ok = before.loc[other, "annual_income"].gt(0).to_numpy()
    np.testing.assert_array_equal(after[ok], kept[ok])


def test_cleaning_fixes_region_spellings_and_leaves_raw_alone():
    before = raw().copy()
    frame, _ = cleaned()
    assert set(frame["region"]) == set(spec.REGIONS)
    pd.testing.assert_frame_equal(raw(), before)
    fixed = normalise_region(pd.Series([" South", "NORTH", "wset", "centre", "mars"]))
    assert fixed.tolist() == ["south", "north", "west", "central", "mars"]


# --- the time split ---------------------------------------------------------------

def dated(days: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"application_date": pd.to_datetime(days), "n": range(len(days))})


def test_split_cuts_at_each_date_with_rows_on_a_cut_going_forward():
    frame = dated(["2020-12-31", "2021-01-01", "2021-06-30", "2022-01-01", "2022-12-31",
                   "2023-01-01", "2024-05-05"])
    train, valid, test = split_by_date(frame)
    assert train["n"].tolist() == [0]
    assert valid["n"].tolist() == [1, 2]
    assert test["n"].tolist() == [3, 4]  # 2023-01-01 and later: the future, left out


def test_split_keeps_order_of_unsorted_input_and_allows_empty_parts():
    frame = dated(["2022-03-01", "2019-05-01", "2021-02-01", "2019-01-01"])
    train, valid, test = split_by_date(frame)
    assert train["n"].tolist() == [1, 3] and valid["n"].tolist() == [2] and test["n"].tolist() == [0]
    empty = split_by_date(frame.iloc[0:0])
    assert [len(part) for part in empty] == [0, 0, 0]


def test_split_refuses_cuts_out_of_order():
    with pytest.raises(ValueError, match="increasing"):
        split_by_date(dated(["2020-01-01"]), cuts=("2022-01-01", "2021-01-01"))


def test_the_course_split_has_no_gap_and_no_overlap():
    frame, _ = cleaned()
    parts = split_by_date(frame)
    assert sum(map(len, parts)) == (frame["application_date"] < CUTS[-1]).sum()
    for earlier, later in zip(parts, parts[1:]):
        assert earlier["application_date"].max() < later["application_date"].min()


# --- features -----------------------------------------------------------------------

def test_ratios_follow_the_lenders_formula():
    out = LoanRatios().fit_transform(application())
    payment = monthly_payment(12_000.0, 10.0, 36)
    assert out["monthly_payment"].iloc[0] == pytest.approx(payment)
    assert out["debt_to_income"].iloc[0] == pytest.approx((500 + payment) / 4000)
    assert out["loan_to_income"].iloc[0] == pytest.approx(0.25)
    bad = LoanRatios().fit_transform(application(annual_income=0.0))
    assert bad[["debt_to_income", "loan_to_income"]].isna().all(axis=None)


def test_pipeline_is_fitted_on_training_rows_only():
    frame, _ = cleaned()
    train, valid, _ = split_by_date(frame)
    pre = build_preprocessor().fit(train[list(RAW_FEATURES)])
    scaler = pre.named_steps["columns"].named_transformers_["num"].named_steps["standardscaler"]
    ages = scaler.mean_[list(NUMERIC + RATIOS).index("age")]
    assert ages == pytest.approx(train["age"].fillna(train["age"].median()).mean())
    assert ages != pytest.approx(frame["age"].fillna(frame["age"].median()).mean(), abs=1e-6)


def test_pipeline_output_is_a_named_numeric_table():
    frame, _ = cleaned()
    train = split_by_date(frame)[0]
    out = build_preprocessor().fit(train[list(RAW_FEATURES)]).transform(train[list(RAW_FEATURES)].head(5))
    assert isinstance(out, pd.DataFrame) and out.index.equals(train.head(5).index)
    assert "debt_to_income" in out and "channel_online" in out and "missingindicator_annual_income" in out
    assert not out.isna().any(axis=None)


def test_an_unseen_category_and_a_missing_value_do_not_break_the_pipeline():
    frame, _ = cleaned()
    train = split_by_date(frame)[0]
    pre = build_preprocessor(scale=False).fit(train[list(RAW_FEATURES)])
    odd = application(channel="partner_app", annual_income=np.nan)
    out = pre.transform(odd)
    assert (out.filter(like="channel_") == 0).all(axis=None)
    assert out["missingindicator_annual_income"].iloc[0] == 1
    assert out["annual_income"].iloc[0] == train["annual_income"].median()
    assert not out.isna().any(axis=None)


def test_features_and_target_use_the_declared_columns():
    X, y = features_and_target(cleaned()[0].head())
    assert list(X.columns) == list(RAW_FEATURES) and y.name == "defaulted"
    assert not {"ethnicity", "neighbourhood"} & set(X.columns)
    assert set(CATEGORICAL) <= set(X.columns)


# --- business ---------------------------------------------------------------------------

def test_threshold_follows_from_the_costs():
    assert COSTS.threshold == pytest.approx(1 / 6)
    assert Costs(missed_default=1, wrong_refusal=1).threshold == 0.5


def test_decision_cost_counts_each_mistake_at_its_price():
    defaulted = [1, 1, 0, 0]
    refuse = [True, False, True, False]  # one caught, one missed, one wrong refusal, one fine
    assert decision_cost(defaulted, refuse) == pytest.approx((5_000 + 1_000) / 4)
    assert decision_cost([0, 0], [False, False]) == 0
    with pytest.raises(ValueError, match="length"):
        decision_cost([1, 0], [True])
    with pytest.raises(ValueError, match="no applications"):
        decision_cost([], [])


def test_business_rule_refuses_for_each_stated_reason_and_not_for_missing():
    assert not business_rule(application()).iloc[0]
    assert business_rule(application(previous_defaults=1)).iloc[0]
    assert business_rule(application(credit_score=579.0)).iloc[0]
    assert not business_rule(application(credit_score=580.0)).iloc[0]
    assert business_rule(application(monthly_debt=2_000.0)).iloc[0]  # DTI above 43%
    assert not business_rule(application(credit_score=np.nan, annual_income=np.nan)).iloc[0]
    assert business_rule(application()).dtype == bool


def test_business_rule_beats_approving_everyone_on_validation():
    valid = split_by_date(cleaned()[0])[1]
    rule = decision_cost(valid["defaulted"], business_rule(valid))
    approve_all = decision_cost(valid["defaulted"], np.zeros(len(valid), bool))
    assert rule < approve_all
