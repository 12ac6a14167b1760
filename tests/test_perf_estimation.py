import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from mlecourse.lender.monitoring import perf_estimation as pe
from mlecourse.lender.business import COSTS, decision_cost

rng = np.random.default_rng(1)


def test_expected_auc_matches_the_auc_of_labels_drawn_from_the_probabilities():
    p = rng.beta(1, 8, 4000)
    draws = [roc_auc_score(rng.random(p.size) < p, p) for _ in range(200)]
    assert pe.expected_auc(p) == pytest.approx(np.mean(draws), abs=0.003)


def test_expected_auc_brute_force_with_ties():
    p = np.array([0.1, 0.2, 0.2, 0.6, 0.9])
    num = sum(p[i] * (1 - p[j]) * ((p[i] > p[j]) + 0.5 * (p[i] == p[j]))
              for i in range(5) for j in range(5) if i != j)
    den = sum(p[i] * (1 - p[j]) for i in range(5) for j in range(5) if i != j)
    assert pe.expected_auc(p) == pytest.approx(num / den)
    with pytest.raises(ValueError, match="two"):
        pe.expected_auc([0.5])


def test_expected_cost_is_the_mean_cost_over_drawn_outcomes():
    p = rng.beta(1, 8, 3000)
    refuse = p > COSTS.threshold
    drawn = np.mean([decision_cost(rng.random(p.size) < p, refuse) for _ in range(300)])
    assert pe.expected_cost(p, refuse) == pytest.approx(drawn, rel=0.02)


def test_estimated_and_realised_by_month():
    p = rng.beta(1, 8, 2000)
    frame = pd.DataFrame({"month": ["2023-01"] * 1000 + ["2023-02"] * 1000, "score": p,
                          "defaulted": (rng.random(2000) < p).astype(float)})
    frame.loc[1000:, "defaulted"] = np.nan  # February's labels are not known yet
    calibrator = pe.fit_calibrator(p, rng.random(2000) < p)
    est, real = pe.estimated(frame, calibrator), pe.realised(frame)
    assert est.loc["2023-01", "est_default_rate"] == pytest.approx(p[:1000].mean(), abs=0.02)
    assert real.loc["2023-01", "labelled"] == 1000 and np.isnan(real.loc["2023-02", "auc"])
