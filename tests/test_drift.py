"""Drift statistics: agree with scipy, handle empty bins, and refuse bad windows in one line."""
import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from mlecourse.lender.monitoring import drift

rng = np.random.default_rng(0)
REF = rng.normal(0, 1, 5000)


def test_psi_is_zero_for_the_same_sample_and_grows_with_a_shift():
    assert drift.psi(REF, REF) == pytest.approx(0.0, abs=1e-12)
    small, large = drift.psi(REF, REF + 0.1), drift.psi(REF, REF + 1.0)
    assert 0 < small < large


def test_psi_is_the_symmetrised_kl_divergence_scipy_computes():
    cur = rng.normal(0.5, 1.2, 3000)
    edges = drift.bin_edges(REF)
    e, a = drift.shares(REF, edges), drift.shares(cur, edges)
    assert drift.psi(REF, cur) == pytest.approx(stats.entropy(a, e) + stats.entropy(e, a), rel=1e-9)


def test_deciles_hold_a_tenth_of_the_reference_each():
    assert np.allclose(drift.shares(REF, drift.bin_edges(REF)), 0.1, atol=0.001)


def test_an_empty_bin_gives_a_finite_psi_that_depends_on_the_floor():
    cur = REF[REF > np.quantile(REF, 0.2)]  # the two lowest deciles are empty
    value = drift.psi(REF, cur)
    assert np.isfinite(value)
    assert drift.psi(REF, cur, epsilon=1e-6) > value  # a lower floor: a larger penalty
    expected = (0.1 - 1e-4) * np.log(0.1 / 1e-4) * 2  # each empty bin's term, plus the others
    assert value > expected


def test_ks_and_wasserstein_are_scipys():
    cur = rng.normal(0.3, 1, 2000)
    assert drift.ks(REF, cur)[0] == pytest.approx(stats.ks_2samp(REF, cur).statistic)
    assert drift.wasserstein(REF, cur, normalise=False) == pytest.approx(stats.wasserstein_distance(REF, cur))
    assert drift.wasserstein(REF, cur) == pytest.approx(stats.wasserstein_distance(REF, cur) / REF.std())


def test_categorical_statistics():
    ref = pd.Series(["a"] * 50 + ["b"] * 50)
    cur = pd.Series(["a"] * 80 + ["b"] * 10 + ["c"] * 10)  # a category never seen
    assert drift.js_distance(ref, cur) == pytest.approx(jensenshannon([.5, .5, 0], [.8, .1, .1], base=2))
    assert drift.js_distance(ref, ref) == pytest.approx(0.0, abs=1e-9)
    assert drift.chi2_test(ref, cur)[1] < 0.001 and drift.chi2_test(ref, ref)[1] == pytest.approx(1.0)
    assert np.isfinite(drift.psi_categorical(ref, cur))


@pytest.mark.parametrize("current, phrase", [([], "empty"), ([np.nan, np.nan], "only missing")])
def test_bad_windows_are_named_in_one_line(current, phrase):
    for function in (drift.psi, drift.ks, drift.wasserstein, drift.js_distance):
        with pytest.raises(drift.DriftInputError, match=phrase) as error:
            function(REF, current)
        assert "\n" not in str(error.value)


def test_text_in_a_numeric_statistic_is_refused():
    with pytest.raises(drift.DriftInputError, match="not numeric"):
        drift.psi(REF, ["a", "b"])


def test_drift_table_by_month_and_feature():
    dates = pd.to_datetime(["2023-01-05"] * 200 + ["2023-02-05"] * 200)
    frame = pd.DataFrame({"application_date": dates, "x": np.r_[rng.normal(0, 1, 200), rng.normal(2, 1, 200)],
                          "c": ["a", "b"] * 200})
    ref = pd.DataFrame({"x": REF, "c": ["a", "b"] * 2500})
    table = drift.drift_table(ref, frame, ["x", "c"], categorical=["c"])
    assert list(table["month"].unique()) == ["2023-01", "2023-02"]
    psi = table.set_index(["month", "feature"])["psi"]
    assert psi["2023-02", "x"] > 1 > 0.1 > psi["2023-01", "x"]
    with pytest.raises(drift.DriftInputError, match="empty"):
        drift.drift_table(ref, frame.iloc[:0], ["x"])


def test_a_profile_gives_the_same_numbers_as_the_functions():
    cur = rng.normal(0.2, 1.1, 700)
    got = drift.Profile(REF, categorical=False).compare(cur)
    assert got["psi"] == pytest.approx(drift.psi(REF, cur))
    assert got["ks"] == pytest.approx(drift.ks(REF, cur)[0]) and got["p_value"] == pytest.approx(drift.ks(REF, cur)[1])
    assert got["wasserstein"] == pytest.approx(drift.wasserstein(REF, cur))
    ref_c = pd.Series(rng.choice(["a", "b", "c"], 3000))
    cur_c = pd.Series(rng.choice(["a", "b", "d"], 500))
    got = drift.Profile(ref_c, categorical=True).compare(cur_c)
    assert got["psi"] == pytest.approx(drift.psi_categorical(ref_c, cur_c))
    assert got["js"] == pytest.approx(drift.js_distance(ref_c, cur_c))
    assert got["p_value"] == pytest.approx(drift.chi2_test(ref_c, cur_c)[1])
