"""Train a model once per data and code version: a content-addressed cache.

The chapters, their workbooks and the tests train the course's models on
the same rows with the same code again and again. :func:`trained` is
:func:`mlecourse.lender.modeling.estimators.train_model` with a memory: the first call
fits the model and writes it to ``_build/model-cache/<key>.skops``; every
later call with the same inputs loads that file instead.

The key is a SHA-256 of everything the fitted model depends on:

* the training rows (:func:`mlecourse.lender.data.fingerprints.data_fingerprint`:
  every value in order, the column names and dtypes);
* the model family and its parameters;
* the source of the training code (:func:`experiments.code_version`: the
  features, the costs and the estimators);
* the versions of scikit-learn, numpy, pandas and scipy.

Change any of them and the key changes, so a stale model is never loaded;
nothing is ever invalidated by hand. The file is written with skops (no
pickle) and loaded trusting only the types :data:`artifact.TRUSTED_TYPES`
vetted. A file that cannot be read is trained again and replaced. Two
processes asking for the same model at once (the tests run two) train it
once: the second waits for the first. ``MLECOURSE_MODEL_CACHE=off`` turns
the cache off; a cache folder that cannot be written is skipped silently.

A model loaded from the cache predicts exactly what a fresh fit predicts
(the tests compare them): scikit-learn's fits are deterministic with the
course's fixed seeds, and skops stores every array bit for bit.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import scipy
import sklearn
import skops.io as sio

from mlecourse.lender.data import fingerprints
from mlecourse.lender.modeling import artifact, estimators, experiments
from mlecourse.paths import ROOT

CACHE_DIR = ROOT / "_build" / "model-cache"
SWITCH_ENV = "MLECOURSE_MODEL_CACHE"


def code_version() -> str:
    """The training code (:func:`experiments.code_version`, in full) and the libraries that run it."""
    versions = [sklearn.__version__, np.__version__, pd.__version__, scipy.__version__]
    return "\0".join([experiments.code_version(length=64), *versions])


def cache_key(frame: pd.DataFrame, kind: str = "boosting", **params) -> str:
    recipe = json.dumps({"rows": fingerprints.data_fingerprint(frame), "kind": kind, "params": params,
                         "code": code_version()}, sort_keys=True, default=repr)
    return hashlib.sha256(recipe.encode()).hexdigest()[:32]


def enabled() -> bool:
    return os.environ.get(SWITCH_ENV, "on").strip().lower() not in ("off", "0", "no", "false")


def trained(frame: pd.DataFrame, kind: str = "boosting", **params):
    """``estimators.train_model(frame, kind, **params)``, fitted once per data and code version."""
    if not enabled():
        return estimators.train_model(frame, kind, **params)
    path = CACHE_DIR / f"{cache_key(frame, kind, **params)}.skops"
    with _exclusive(path):
        model = _load(path)
        if model is None:
            model = estimators.train_model(frame, kind, **params)
            _store(model, path)
    return model


def _load(path: Path):
    """The cached model, or None if there is none or it cannot be trusted and read."""
    try:
        untrusted = sio.get_untrusted_types(file=path)
        if set(untrusted) - set(artifact.TRUSTED_TYPES):
            return None
        return sio.load(path, trusted=list(untrusted))
    except Exception:  # missing, truncated, from another skops: train it again
        return None


def _store(model, path: Path) -> None:
    """Write atomically (a reader never sees half a file); skip a folder that is not writable."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        part = tempfile.NamedTemporaryFile(dir=path.parent, suffix=".part", delete=False)
    except OSError:
        return
    try:
        with part:
            part.write(sio.dumps(model))
        os.replace(part.name, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(part.name)


@contextlib.contextmanager
def _exclusive(path: Path):
    """One process at a time per key (where the system has POSIX file locks)."""
    try:
        import fcntl

        path.parent.mkdir(parents=True, exist_ok=True)
        lock = open(path.with_suffix(".lock"), "w")
    except (ImportError, OSError):
        yield
        return
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
