"""Fingerprints of data: the same rows give the same value, any change another, on any machine."""
import numpy as np
import pandas as pd
import pytest

from mlecourse.lender import features
from mlecourse.lender.data import fingerprints
from mlecourse.lender.data.loading import load_loans


@pytest.fixture(scope="module")
def data():
    clean, _ = features.clean_loans(load_loans())
    return features.split_by_date(clean)


# --- data_fingerprint -----------------------------------------------------------

def test_fingerprint_is_stable_and_ignores_index_and_column_order(data):
    train = data[0].head(500)
    first = fingerprints.data_fingerprint(train)
    assert len(first) == 64 and int(first, 16) >= 0
    assert fingerprints.data_fingerprint(train.copy()) == first
    assert fingerprints.data_fingerprint(train.reset_index(drop=True)) == first
    assert fingerprints.data_fingerprint(train[train.columns[::-1]]) == first


def test_fingerprint_changes_with_one_value_a_row_or_the_order(data):
    train = data[0].head(500).reset_index(drop=True)
    base = fingerprints.data_fingerprint(train)
    changed = train.copy()
    changed.loc[3, "annual_income"] = changed.loc[3, "annual_income"] + 0.01
    assert fingerprints.data_fingerprint(changed) != base
    assert fingerprints.data_fingerprint(train.iloc[:-1]) != base
    assert fingerprints.data_fingerprint(train.iloc[::-1]) != base


def test_fingerprint_tells_a_float_from_an_int_and_missing_from_zero():
    a = pd.DataFrame({"x": [1.0, np.nan]})
    assert fingerprints.data_fingerprint(a) != fingerprints.data_fingerprint(pd.DataFrame({"x": [1.0, 0.0]}))
    assert fingerprints.data_fingerprint(pd.DataFrame({"x": [1, 2]})) != \
        fingerprints.data_fingerprint(pd.DataFrame({"x": [1.0, 2.0]}))
    # 17 significant digits: two floats that differ in the last bit differ
    b = pd.DataFrame({"x": [0.1]})
    c = pd.DataFrame({"x": [np.nextafter(0.1, 1.0)]})
    assert fingerprints.data_fingerprint(b) != fingerprints.data_fingerprint(c)


def test_fingerprint_refuses_what_is_not_a_frame():
    with pytest.raises(TypeError, match="DataFrame"):
        fingerprints.data_fingerprint([[1, 2]])


def test_text_values_cannot_run_into_each_other_or_into_missing():
    one = pd.DataFrame({"t": ["ab", "c"]})
    assert fingerprints.data_fingerprint(one) != fingerprints.data_fingerprint(pd.DataFrame({"t": ["a", "bc"]}))
    assert fingerprints.data_fingerprint(pd.DataFrame({"t": ["-", "c"]})) != \
        fingerprints.data_fingerprint(pd.DataFrame({"t": [None, "c"]}))


def test_nullable_integers_and_dates_are_fingerprinted():
    a = pd.DataFrame({"n": pd.array([1, None], dtype="Int64"), "d": pd.to_datetime(["2024-01-01", None])})
    b = a.assign(n=pd.array([1, 2], dtype="Int64"))
    assert fingerprints.data_fingerprint(a) == fingerprints.data_fingerprint(a.copy())
    assert fingerprints.data_fingerprint(a) != fingerprints.data_fingerprint(b)


def test_a_file_checksum_is_what_sha256sum_prints(tmp_path):
    import hashlib

    path = tmp_path / "f.bin"
    path.write_bytes(b"loans" * 100_000)
    assert fingerprints.file_sha256(path) == hashlib.sha256(b"loans" * 100_000).hexdigest()
