import numpy as np
import pandas as pd
import pytest

from mlecourse.lender.mlops import retraining


def test_should_retrain_gives_its_reasons():
    quiet = retraining.should_retrain(months_since_training=5, max_psi=0.05)
    assert not quiet and quiet.reasons == []
    loud = retraining.should_retrain(months_since_training=5, max_psi=0.4, estimated_cost=400,
                                     cost_threshold=300, max_age=4)
    assert loud and len(loud.reasons) == 3 and "PSI 0.400" in loud.reasons[1]
    assert not retraining.should_retrain(months_since_training=1, max_psi=0.4)  # cooldown
    with pytest.raises(ValueError, match="0 or more"):
        retraining.should_retrain(months_since_training=-1)


def test_training_window_respects_the_label_delay():
    dates = pd.date_range("2020-01-01", "2023-12-01", freq="MS")
    frame = pd.DataFrame({"application_date": dates, "outcome_known_date": dates + pd.DateOffset(months=12)})
    window = retraining.training_window(frame, "2023-06", window=24)
    assert window["outcome_known_date"].max() < pd.Timestamp("2023-06-01")
    assert window["application_date"].min() >= pd.Timestamp("2021-06-01")


class Constant:
    def __init__(self, p):
        self.p = p

    def predict_proba(self, frame):
        return np.column_stack([1 - np.full(len(frame), self.p), np.full(len(frame), self.p)])


def test_policies_count_their_retrainings_and_share_fits():
    from mlecourse.lender.features import RAW_FEATURES
    dates = pd.date_range("2021-01-01", "2023-12-01", freq="MS").repeat(10)
    frame = pd.DataFrame({c: 0.0 for c in RAW_FEATURES} | {"application_date": dates,
                         "outcome_known_date": dates + pd.DateOffset(months=12),
                         "defaulted": np.tile([1] + [0] * 9, len(dates) // 10)})
    months = [str(m) for m in pd.period_range("2023-01", "2023-12", freq="M")]
    fits = []

    def train(rows):
        fits.append(len(rows))
        return Constant(0.5)  # refuses everyone: cost 9 wrong refusals per 10

    table = retraining.compare(frame, months, Constant(0.0), train,
                               signals={"2023-03": {"max_psi": 0.5}}, settings={"cooldown": 1})
    assert table.loc["never", "retrainings"] == 0 and table.loc["monthly", "retrainings"] == 12
    assert table.loc["quarterly", "retrainings"] == 4 and table.loc["drift", "retrained"] == "2023-04"
    assert len(fits) == 12  # every month fitted once, shared by the policies
    assert table.loc["never", "cost_per_application"] == pytest.approx(500.0)  # 1 missed default in 10
    with pytest.raises(ValueError, match="unknown policy"):
        retraining.simulate("sometimes", frame, months, Constant(0.0), train)
