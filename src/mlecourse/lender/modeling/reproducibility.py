"""Is a model reproducible? Train it twice and compare what matters.

Two fits with the same data, code, lock file and seed should give the same
model. "The same" needs a definition, because a skops file's bytes differ on
every save: skops names each stored array after the Python object's
``id()``, an address in memory. So :func:`model_digest` hashes what the
file *holds* (the sorted hashes of its arrays), not its bytes, and
:func:`compare_fits` also compares predictions, which is what a user sees.
"""
from __future__ import annotations

import hashlib
import io
import zipfile

import numpy as np
import pandas as pd
import skops.io as sio

from mlecourse.lender import features
from mlecourse.lender.modeling import estimators


def model_digest(model) -> str:
    """SHA-256 over the contents of the model's stored arrays (names ignored)."""
    archive = zipfile.ZipFile(io.BytesIO(sio.dumps(model)))
    contents = sorted(hashlib.sha256(archive.read(item)).hexdigest()
                      for item in archive.infolist() if item.filename.endswith(".npy"))
    return hashlib.sha256("\n".join(contents).encode()).hexdigest()


def compare_fits(first, second, frame: pd.DataFrame) -> dict:
    """How two fitted models differ: same stored arrays? largest gap in P(default) on ``frame``?"""
    X, _ = features.features_and_target(frame)
    gap = np.abs(first.predict_proba(X)[:, 1] - second.predict_proba(X)[:, 1])
    return {"same_digest": model_digest(first) == model_digest(second),
            "max_abs_diff": float(gap.max()),
            "share_changed": float(np.mean(gap > 1e-12))}


def shuffled(frame: pd.DataFrame, seed: int = 1) -> pd.DataFrame:
    """The same rows in another order (what a warehouse export without ORDER BY gives)."""
    return frame.sample(frac=1.0, random_state=seed)


def refit(train: pd.DataFrame, kind: str = "boosting", *, threads: int | None = None, **params):
    """Train again, optionally with ``threads`` OpenMP threads."""
    if threads is None:
        return estimators.train_model(train, kind, **params)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(threads):
        return estimators.train_model(train, kind, **params)
