"""Fingerprints: a SHA-256 of a file's bytes, and of a table's rows, the one way the system hashes data.

A model card records the fingerprint of the rows it was trained on; the
experiment log, the tracking tags, the registry's idempotence key and the
model cache all use the same function, so "the same data" means one thing
everywhere. The data file's checksum (``data/SHA256SUMS``) is
:func:`file_sha256`.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

_MISSING = "-"  # a text value is written "<length>:<text>", so a missing one cannot be mistaken for it


def file_sha256(path: str | Path) -> str:
    """SHA-256 (hex) of a file's bytes, read in chunks (what ``sha256sum`` prints)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _column_bytes(column: pd.Series) -> bytes:
    """A column's values as bytes that are the same on any machine (little-endian, one NaN)."""
    kind = column.dtype.kind
    if kind == "b":
        return column.to_numpy(dtype="uint8").tobytes()
    if kind in "iu" and not column.hasnans:
        return column.to_numpy().astype("<i8").tobytes()
    if kind in "iuf":  # floats, and nullable integers with a missing value
        values = column.to_numpy(dtype="float64", na_value=np.nan)
        return np.where(np.isnan(values), np.nan, values).astype("<f8").tobytes()
    if kind == "M":
        return column.to_numpy().view("<i8").tobytes()
    # f"{len(v)}:{v}" per value and one mark for a missing one, in pandas' string loops
    missing = column.isna().to_numpy()
    texts = column.astype(object).where(~missing, "").astype(str)
    texts = (texts.str.len().astype("int64").astype(str) + ":" + texts).where(~missing, _MISSING)
    return "".join(texts.tolist()).encode("utf-8")


def data_fingerprint(frame: pd.DataFrame) -> str:
    """SHA-256 (hex) of ``frame``'s rows: the same rows in the same order give the same value.

    Columns are taken in name order, the index is ignored, each column's name
    and dtype are part of it (1 and 1.0 differ), numbers are hashed as
    little-endian 8-byte values with one NaN, dates as their integer time,
    text as UTF-8. Row order counts on purpose: the course's boosting model
    holds out a random slice of the rows for early stopping, so the same rows
    in another order give another model.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"data_fingerprint needs a pandas DataFrame, got {type(frame).__name__}")
    digest = hashlib.sha256(f"rows:{len(frame)}\n".encode())
    for name in sorted(frame.columns, key=str):
        column = frame[name]
        digest.update(f"{name}:{column.dtype}\n".encode("utf-8"))
        digest.update(hashlib.sha256(_column_bytes(column)).digest())
    return digest.hexdigest()
