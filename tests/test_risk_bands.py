"""The refactored risk band of chapter 1: pure, parameterised, explicit on bad input."""
import numpy as np
import pandas as pd
import pytest

from mlecourse.teaching.handoff import CONTRACT_FIELDS, contract_problems
from mlecourse.teaching.risk_bands import add_risk_band


def frame(debts, incomes):
    return pd.DataFrame({"monthly_debt": debts, "annual_income": incomes})


def test_bands_and_boundaries():
    # dti: 0.12, 0.36 (exactly the medium threshold), 0.40, 0.60
    out = add_risk_band(frame([120.0, 360.0, 400.0, 600.0], [12_000.0] * 4))
    assert out["dti"].tolist() == pytest.approx([0.12, 0.36, 0.40, 0.60])
    assert out["risk_band"].tolist() == ["low", "medium", "medium", "high"]


def test_thresholds_are_parameters():
    out = add_risk_band(frame([120.0, 300.0], [12_000.0] * 2), medium_from=0.1, high_from=0.3)
    assert out["risk_band"].tolist() == ["medium", "high"]


def test_bad_incomes_are_unknown_and_kept():
    out = add_risk_band(frame([100.0, 100.0, 100.0], [0.0, -5_000.0, np.nan]))
    assert len(out) == 3
    assert out["dti"].isna().all()
    assert (out["risk_band"] == "unknown").all()


def test_input_is_not_changed_and_empty_frames_work():
    loans = frame([120.0], [12_000.0])
    before = loans.copy()
    add_risk_band(loans)
    pd.testing.assert_frame_equal(loans, before)
    empty = add_risk_band(frame([], []).astype(float))
    assert list(empty.columns) == ["monthly_debt", "annual_income", "dti", "risk_band"]
    assert empty.empty


def test_thresholds_in_the_wrong_order_are_refused():
    with pytest.raises(ValueError, match="must not exceed"):
        add_risk_band(frame([1.0], [1.0]), medium_from=0.5, high_from=0.4)


def test_contract_problems_name_missing_and_empty_fields():
    full = {field: "written" for field in CONTRACT_FIELDS}
    assert contract_problems(full) == []
    partial = {**full, "owner": "  "}
    del partial["monitoring"]
    problems = contract_problems(partial)
    assert len(problems) == 2
    assert any("'monitoring'" in p and "missing" in p for p in problems)
    assert any("'owner'" in p and "empty" in p for p in problems)
    assert contract_problems("a text") == ["a contract is a dict of fields, not str"]
