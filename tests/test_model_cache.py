"""The model cache gives back exactly the model a fresh fit gives, keyed by
everything the fit depends on; and the data is parsed once per process."""
import shutil

import numpy as np
import pytest

from mlecourse.lender import features
from mlecourse.lender.data import loading
from mlecourse.lender.modeling import estimators, experiments, model_cache

PARAMS = {"max_iter": 10}


@pytest.fixture
def rows(tiny_frame):
    return tiny_frame.head(3000)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setattr(model_cache, "CACHE_DIR", tmp_path / "model-cache")
    monkeypatch.delenv(model_cache.SWITCH_ENV, raising=False)
    return tmp_path / "model-cache"


def scores(model, frame):
    return model.predict_proba(frame[list(features.RAW_FEATURES)])[:, 1]


def test_a_cached_model_predicts_exactly_what_a_fresh_fit_predicts(rows, cache, tiny_frame, monkeypatch):
    fresh = estimators.train_model(rows, "boosting", **PARAMS)
    first = model_cache.trained(rows, "boosting", **PARAMS)
    assert len(list(cache.glob("*.skops"))) == 1

    def no_fitting(*args, **kwargs):
        raise AssertionError("fitted again although the cache holds this model")

    monkeypatch.setattr(estimators, "train_model", no_fitting)
    again = model_cache.trained(rows, "boosting", **PARAMS)
    for model in (first, again):
        assert np.array_equal(scores(model, tiny_frame), scores(fresh, tiny_frame))


def test_the_key_changes_with_the_rows_the_settings_and_the_code(rows, monkeypatch):
    key = model_cache.cache_key(rows, "boosting", **PARAMS)
    changed = rows.copy()
    changed.iloc[7, changed.columns.get_loc("annual_income")] += 1.0
    assert model_cache.cache_key(changed, "boosting", **PARAMS) != key
    assert model_cache.cache_key(rows.iloc[::-1], "boosting", **PARAMS) != key  # order matters to a fit
    assert model_cache.cache_key(rows, "boosting", max_iter=11) != key
    assert model_cache.cache_key(rows, "logistic") != key
    assert model_cache.cache_key(rows, "boosting", **PARAMS) == key

    real = experiments.inspect.getsource
    monkeypatch.setattr(experiments.inspect, "getsource",
                        lambda module: real(module) + ("# edited" if module is features else ""))
    assert model_cache.cache_key(rows, "boosting", **PARAMS) != key


def test_a_damaged_cache_file_is_fitted_again_and_replaced(rows, cache, tiny_frame):
    model_cache.trained(rows, "boosting", **PARAMS)
    (stored,) = cache.glob("*.skops")
    stored.write_bytes(b"not a skops file")
    model = model_cache.trained(rows, "boosting", **PARAMS)
    assert np.array_equal(scores(model, tiny_frame),
                          scores(estimators.train_model(rows, "boosting", **PARAMS), tiny_frame))
    assert stored.read_bytes()[:2] == b"PK"  # a zip again: skops' format


def test_off_or_unwritable_still_trains(rows, cache, monkeypatch, tmp_path):
    monkeypatch.setenv(model_cache.SWITCH_ENV, "off")
    assert model_cache.trained(rows, "tree") is not None and not cache.exists()
    monkeypatch.delenv(model_cache.SWITCH_ENV)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setattr(model_cache, "CACHE_DIR", blocker / "model-cache")  # cannot be created
    assert model_cache.trained(rows, "tree") is not None


def test_the_data_is_parsed_once_and_each_caller_gets_its_own_copy(monkeypatch):
    first = loading.load_loans()
    calls = []
    monkeypatch.setattr(loading, "_parse", lambda path: calls.append(path))
    second = loading.load_loans()
    assert calls == [] and second is not first and second.equals(first)
    second.loc[0, "annual_income"] = -1.0
    assert loading.load_loans().loc[0, "annual_income"] == first.loc[0, "annual_income"] != -1.0


def test_a_changed_file_is_checked_and_parsed_again(tmp_path):
    shutil.copy(loading.DATA_DIR / loading.LOANS_FILE, tmp_path / loading.LOANS_FILE)
    loading.write_checksums(tmp_path)
    original = loading.load_loans(tmp_path / loading.LOANS_FILE)
    loading.write_loans(original.head(100), tmp_path / loading.LOANS_FILE)
    with pytest.raises(loading.DataFileError, match="has changed or is corrupt"):
        loading.load_loans(tmp_path / loading.LOANS_FILE)  # the parse is reused, never the check
    loading.write_checksums(tmp_path)
    assert len(loading.load_loans(tmp_path / loading.LOANS_FILE)) == 100
