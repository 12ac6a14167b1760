"""Footprint measures: positive, in the stated units, and bigger for bigger models."""
import numpy as np
import pandas as pd
import pytest
from sklearn.tree import DecisionTreeClassifier

from mlecourse.teaching import footprint

rng = np.random.default_rng(0)
X = pd.DataFrame(rng.normal(size=(400, 4)), columns=list("abcd"))
y = (X["a"] + rng.normal(size=400) > 0).astype(int)


def test_fit_timed_returns_the_fitted_model_and_a_duration():
    model, seconds = footprint.fit_timed(DecisionTreeClassifier(random_state=0), X, y)
    assert hasattr(model, "tree_") and seconds > 0


def test_a_deeper_tree_is_bigger_on_disk():
    stump = DecisionTreeClassifier(max_depth=1, random_state=0).fit(X, y)
    deep = DecisionTreeClassifier(random_state=0).fit(X, y)
    assert 0 < footprint.size_on_disk(stump) < footprint.size_on_disk(deep)


def test_latency_is_per_row_and_batching_is_cheaper_per_row():
    model = DecisionTreeClassifier(random_state=0).fit(X, y)
    result = footprint.latency(model, X, single_calls=20, batch_size=400, repeats=2)
    assert set(result) == {"per_row_single_ms", "per_row_batch_ms"}
    assert 0 < result["per_row_batch_ms"] < result["per_row_single_ms"]


def test_footprint_table_and_bad_options():
    model, seconds = footprint.fit_timed(DecisionTreeClassifier(random_state=0), X, y)
    table = footprint.footprint_table({"tree": (model, seconds)}, X, single_calls=5, batch_size=50)
    assert list(table.columns) == ["train_s", "per_row_single_ms", "per_row_batch_ms", "size_kb"]
    assert table.loc["tree", "train_s"] == seconds
    with pytest.raises(ValueError):
        footprint.latency(model, X, single_calls=0)
    with pytest.raises(ValueError, match="no rows"):
        footprint.latency(model, X.iloc[:0])
