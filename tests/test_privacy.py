"""Privacy: k-anonymity by hand, the generalisation ladder, and the membership attack."""
import numpy as np
import pandas as pd
import pytest
from sklearn.tree import DecisionTreeClassifier

from mlecourse.lender.responsible import privacy
from mlecourse.lender.responsible.privacy import PrivacyError

RELEASE = pd.DataFrame({"age": [29, 31, 35, 36, 50, 55],
                        "neighbourhood": ["N01", "N02", "N01", "N03", "N09", "N10"],
                        "loan_purpose": ["car"] * 6})


def test_k_is_the_smallest_class():
    assert privacy.k_anonymity(RELEASE) == 1
    assert privacy.k_anonymity(RELEASE, ["loan_purpose"]) == 6
    assert privacy.k_anonymity(privacy.generalise(RELEASE, 10, "region")) == 2


def test_bands_and_regions():
    assert list(privacy.age_band(pd.Series([30, 37, 38]), 10)) == ["28-37", "28-37", "38-47"]
    assert list(privacy.age_band(pd.Series([67, 68, 90]), 10, top=68)) == ["58-67", "68+", "68+"]
    assert list(privacy.region_of(pd.Series(["N01", "N08", "N09", "N40"]))) == ["north", "north", "south", "central"]


def test_reach_k_takes_the_finest_step_that_works():
    released, step = privacy.reach_k(RELEASE, 2)
    assert step == (10, "region", 68) and privacy.k_anonymity(released) >= 2
    with pytest.raises(PrivacyError, match="no step of the ladder reaches k = 3 \\(the coarsest gives k = 2\\)"):
        privacy.reach_k(RELEASE, 3)


@pytest.mark.parametrize("bad,message", [(RELEASE.drop(columns="age"), "no column 'age'"),
                                         (RELEASE.iloc[:0], "empty")])
def test_bad_release_gives_one_line(bad, message):
    with pytest.raises(PrivacyError, match=message):
        privacy.k_anonymity(bad)


def test_membership_attack_sees_an_overfit_model_and_not_a_coin():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(4000, 5)))
    y = (rng.random(4000) < 1 / (1 + np.exp(-X[0]))).astype(int)
    members, outsiders = slice(0, 2000), slice(2000, 4000)
    overfit = DecisionTreeClassifier(random_state=0).fit(X[members], y[members])
    careful = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X[members], y[members])
    leak = privacy.membership_advantage(overfit, X[members], y[members], X[outsiders], y[outsiders])
    safe = privacy.membership_advantage(careful, X[members], y[members], X[outsiders], y[outsiders])
    assert leak["advantage"] > 0.3 and safe["advantage"] < 0.1
    assert 0.45 < safe["attack_auc"] < 0.56


def test_a_missing_age_is_its_own_band():
    assert list(privacy.age_band(pd.Series([31, np.nan]), 10)) == ["28-37", "unknown"]
