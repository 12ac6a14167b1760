"""Point-in-time customer history, and the warehouse extract of the workbook."""
import numpy as np
import pandas as pd
import pytest

from mlecourse.lender.features import RAW_FEATURES
from mlecourse.teaching.leakage import (EXTRACT_COLUMNS, customer_defaults_as_of,
                               customer_defaults_snapshot, make_model_with, warehouse_extract)


def history() -> pd.DataFrame:
    """Customer A: defaults on a 2019 loan (known 2020-03-01), then applies twice more."""
    rows = [("A", "2019-03-01", 1), ("A", "2020-02-01", 0), ("A", "2020-03-01", 1),
            ("A", "2021-06-01", 0), ("B", "2020-01-01", 1)]
    frame = pd.DataFrame(rows, columns=["customer_id", "application_date", "defaulted"])
    frame["application_date"] = pd.to_datetime(frame["application_date"])
    frame["outcome_known_date"] = frame["application_date"] + pd.DateOffset(years=1)
    frame.index = [10, 11, 12, 13, 14]
    return frame


def test_snapshot_counts_the_loans_own_outcome_and_later_ones():
    assert customer_defaults_snapshot(history()).tolist() == [2, 2, 2, 2, 1]


def test_as_of_counts_only_outcomes_known_before_the_application():
    counts = customer_defaults_as_of(history())
    # 2020-02-01: the 2019 default is not known yet (known 2020-03-01);
    # 2020-03-01: known on that very day, not strictly before, so not counted;
    # 2021-06-01: both defaults known (2020-03-01 and 2021-03-01), so two.
    assert counts.tolist() == [0, 0, 0, 2, 0]
    assert counts.index.tolist() == [10, 11, 12, 13, 14]


def test_as_of_never_sees_its_own_outcome_in_shuffled_input():
    frame = history().sample(frac=1, random_state=1)
    counts = customer_defaults_as_of(frame)
    assert counts.loc[13] == 2 and counts.loc[10] == 0


def test_missing_columns_are_named():
    with pytest.raises(KeyError, match="outcome_known_date"):
        customer_defaults_as_of(history().drop(columns="outcome_known_date"))


def test_extract_is_deterministic_and_its_leak_is_the_outcome():
    frame = pd.DataFrame({"age": [30, 40, 50, 60] * 50, "num_credit_lines": [0, 2, 5, 9] * 50,
                          "previous_defaults": [0, 0, 1, 2] * 50, "defaulted": [0, 1] * 100})
    one, two = warehouse_extract(frame), warehouse_extract(frame)
    pd.testing.assert_frame_equal(one, two)
    assert set(EXTRACT_COLUMNS) <= set(one.columns)
    assert (one.loc[one["defaulted"] == 1, "max_days_in_arrears"] >= 90).all()
    assert (one["months_at_address"] <= (one["age"] - 16) * 12).all()
    assert "max_days_in_arrears" not in frame  # the input is not changed


def test_model_with_extra_columns_uses_them():
    rng = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame({"age": rng.integers(20, 70, n), "annual_income": rng.uniform(2e4, 9e4, n),
                          "employment_years": rng.uniform(0, 20, n), "loan_amount": rng.uniform(1e3, 3e4, n),
                          "loan_term_months": 36, "interest_rate": 10.0, "monthly_debt": 400.0,
                          "credit_score": rng.uniform(500, 800, n), "num_credit_lines": 3,
                          "previous_defaults": 0, "employment_type": "salaried", "home_ownership": "rent",
                          "region": "north", "channel": "online", "loan_purpose": "car"})
    signal = rng.random(n)
    frame["signal"] = signal
    y = (signal > 0.7).astype(int)
    model = make_model_with(["signal"], kind="tree").fit(frame[list(RAW_FEATURES) + ["signal"]], y)
    assert (model.predict(frame[list(RAW_FEATURES) + ["signal"]]) == y).mean() > 0.95
    names = model[:-1].get_feature_names_out()
    assert "signal" in names and "debt_to_income" in names
