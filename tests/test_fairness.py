"""The fairness audit: fairlearn's numbers, and one clear line instead of a NaN."""
import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import demographic_parity_difference, true_positive_rate

from mlecourse.lender.responsible import fairness
from mlecourse.lender.responsible.fairness import AuditError

Y = np.array([1, 0, 0, 1, 0, 0, 1, 0, 0, 0])
REFUSE = np.array([1, 1, 0, 0, 0, 1, 1, 0, 0, 0], bool)
GROUP = np.array(["a"] * 5 + ["b"] * 5)


def test_audit_counts_by_hand():
    table = fairness.audit(Y, REFUSE, GROUP).by_group
    # group a: refused rows 0, 1 of 5; defaults rows 0, 3, of which row 0 refused
    assert table.loc["a", "approval_rate"] == pytest.approx(3 / 5)
    assert table.loc["a", "tpr"] == pytest.approx(1 / 2)
    assert table.loc["a", "fpr"] == pytest.approx(1 / 3)
    assert table.loc["a", "precision"] == pytest.approx(1 / 2)
    # group b: one default (row 6, refused); rows 5 and 6 refused
    assert table.loc["b", "tpr"] == pytest.approx(1.0)
    # cost: a missed default (row 3) = 5000, one wrong refusal (row 1) = 1000, over 5 rows
    assert table.loc["a", "cost"] == pytest.approx(6000 / 5)
    assert table.loc["b", "tpr"] == pytest.approx(true_positive_rate(Y[5:], REFUSE[5:]))


def test_disparities_agree_with_fairlearn():
    gaps = fairness.disparities(Y, REFUSE, GROUP)
    assert gaps["approval_gap"] == pytest.approx(demographic_parity_difference(Y, REFUSE, sensitive_features=GROUP))
    assert gaps["approval_ratio"] == pytest.approx(0.6 / 0.6)
    assert gaps["four_fifths"]


def test_four_fifths_is_inclusive_at_the_boundary():
    # approvals: group a 4 of 5 (0.8), group b 5 of 5 -> ratio exactly 0.8
    y = np.array([1, 0, 0, 0, 0, 1, 0, 0, 0, 1])
    refuse = np.array([1, 0, 0, 0, 0, 0, 0, 0, 0, 0], bool)
    with pytest.raises(AuditError, match="no refusals"):
        fairness.disparities(y, refuse, GROUP)
    refuse_b = refuse.copy()
    refuse_b[[5]] = True  # b: 4 of 5 approved too
    refuse_b[[1]] = True  # a: 3 of 5 approved -> ratio 0.75
    gaps = fairness.disparities(y, refuse_b, GROUP)
    assert gaps["approval_ratio"] == pytest.approx(0.75) and not gaps["four_fifths"]


@pytest.mark.parametrize("sensitive,message", [
    (pd.Series(["a"] * 4 + [None] + ["b"] * 5), "1 missing value"),
    (np.array(["a"] * 10), "only one group"),
    (np.array(["a"] * 9), "9 values for 10 decisions"),
])
def test_bad_sensitive_column_gives_one_line(sensitive, message):
    with pytest.raises(AuditError, match=message) as err:
        fairness.audit(Y, REFUSE, sensitive)
    assert "\n" not in str(err.value)


def test_group_without_defaults_is_named_not_nan():
    y = Y.copy()
    y[6] = 0  # group b has no default left
    with pytest.raises(AuditError, match="group 'b' has 5 applicant\\(s\\) but no defaults"):
        fairness.audit(y, REFUSE, GROUP)


def test_bootstrap_interval_contains_estimate_and_narrows_with_data():
    rng = np.random.default_rng(1)
    g = np.where(rng.random(4000) < 0.25, "minority", "majority")
    refuse = rng.random(4000) < np.where(g == "minority", 0.20, 0.14)
    y = rng.random(4000) < 0.1
    big = fairness.bootstrap_gap(y, refuse, g, n_boot=500)
    small = fairness.bootstrap_gap(y[:400], refuse[:400], g[:400], n_boot=500)
    assert big["low"] < big["estimate"] < big["high"] and big["clear"]
    assert (small["high"] - small["low"]) > 2 * (big["high"] - big["low"])
    same = fairness.bootstrap_gap(y, refuse, g, n_boot=500)
    assert same == big  # seeded


def test_bootstrap_refuses_absent_group():
    with pytest.raises(AuditError, match="'minority' has no members"):
        fairness.bootstrap_gap(Y, REFUSE, GROUP)


def test_proxy_strength_finds_a_planted_proxy():
    rng = np.random.default_rng(0)
    g = np.where(rng.random(3000) < 0.3, "minority", "majority")
    frame = pd.DataFrame({"ethnicity": g, "noise": rng.normal(size=3000),
                          "proxy": np.where(g == "minority", 1.0, 0.0) + rng.normal(0, 0.5, 3000),
                          "district": np.where((g == "minority") & (rng.random(3000) < 0.7), "D1", "D2")})
    strength = fairness.proxy_strength(frame[:2000], frame[2000:], ["noise", "proxy", "district"])
    assert strength.index[0] == "proxy" and strength["proxy"] > 0.9
    assert strength["noise"] < 0.56 and strength["district"] > 0.7
    together = fairness.inputs_reveal_group(frame[:2000], frame[2000:], ["noise", "proxy", "district"])
    assert together > strength["proxy"] - 0.02


def test_ratio_without_any_approval_is_named():
    refuse = np.ones(10, bool)
    with pytest.raises(AuditError, match="ratio of approval rates is undefined"):
        fairness.disparities(Y, refuse, GROUP)
