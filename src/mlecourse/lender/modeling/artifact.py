"""The model as a file you can trust: skops, a model card, and checks on load.

A trained model leaves the notebook as a *directory* of two files:

* ``model.skops``: the fitted scikit-learn pipeline, written with skops
  (:func:`skops.io.dump`). Unlike pickle, loading a skops file does not run
  code from the file: skops rebuilds only the types it is told to trust and
  refuses the rest (:func:`pickle_runs_code_demo` shows the difference).
* ``model.json``: the model card as data. What the model is (name, version,
  when it was made), what it was trained on (row count, date range and a
  fingerprint of the exact rows, :func:`fingerprints.data_fingerprint`), what it expects
  (the feature schema, from which the service builds its input validation),
  how good it was (the metrics passed in), which library versions made it,
  and the SHA-256 of ``model.skops``.

:func:`load_model` refuses a directory whose model file does not match its
card, whose file holds a type nobody vetted, or whose training data is not
the data the caller expected. Every refusal is an :class:`ArtifactError`
that names the file and the mismatch.

Command line (writes the course's model, used by the Dockerfile)::

    python -m mlecourse.lender.modeling.artifact --out models/loan-default --version 1.0.0
"""
from __future__ import annotations

import argparse
import copy
import io
import json
import pickle
import platform
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import skops.io as sio

from mlecourse.lender import business, features
from mlecourse.lender.data import fingerprints

MODEL_FILE = "model.skops"
CARD_FILE = "model.json"
CARD_FORMAT = 1

# The types a course model may contain beyond what skops trusts by default.
# Each was looked at: the course's own stateless transformer, numpy dtypes,
# and the fitted trees of the three model families of estimators.make_estimator.
# A type missing from this list is refused, never trusted blindly.
TRUSTED_TYPES = (
    "mlecourse.lender.features.LoanRatios",
    "numpy.dtype",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.tree._tree.Tree",
)


class ArtifactError(ValueError):
    """A model directory cannot be trusted or read; the message names the file and why."""


# --- the model card ---------------------------------------------------------------

def feature_schema() -> dict:
    """What an application must look like, from features.RANGES / CATEGORIES.

    One entry per raw feature, in the pipeline's order: ``type`` ("integer",
    "number" or "category"), ``min``/``max`` (None: unbounded) or
    ``allowed`` values, and ``nullable`` (may be missing: the fields that are
    missing in the training data and that the pipeline imputes).
    """
    schema = {}
    for name in features.RAW_FEATURES:
        nullable = name in features.OPTIONAL
        if name in features.CATEGORIES:
            schema[name] = {"type": "category", "allowed": list(features.CATEGORIES[name]),
                            "nullable": nullable}
        else:
            low, high = features.RANGES[name]
            integer = name in features.INTEGERS
            schema[name] = {"type": "integer" if integer else "number", "min": low, "max": high,
                            "nullable": nullable}
            if name == "loan_term_months":
                schema[name]["allowed"] = list(features.TERMS)
            if name == "interest_rate":  # what the product offers, not what is plausible
                schema[name]["min"], schema[name]["max"] = features.OFFERED_RATES
    return schema


def library_versions() -> dict:
    import sklearn
    import skops
    return {"python": platform.python_version(), "scikit-learn": sklearn.__version__,
            "skops": skops.__version__, "numpy": np.__version__, "pandas": pd.__version__}


def model_card(model, *, name: str, version: str, train_frame: pd.DataFrame, metrics: dict,
               created: str | None = None, threshold: float | None = None,
               evaluation: dict | None = None) -> dict:
    """The metadata written next to a model (everything but the file's hash). ``evaluation``:
    the window its metrics were measured on (first and last date, rows), if known."""
    dates = train_frame[features.DATE] if features.DATE in train_frame else None
    card = {
        "format": CARD_FORMAT,
        "name": str(name),
        "version": str(version),
        "created": created or datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        "estimator": type(getattr(model, "steps", [[None, model]])[-1][1]).__name__,
        "threshold": float(business.COSTS.threshold if threshold is None else threshold),
        "training_data": {
            "fingerprint": fingerprints.data_fingerprint(train_frame),
            "rows": int(len(train_frame)),
            "first_date": None if dates is None or dates.empty else str(dates.min().date()),
            "last_date": None if dates is None or dates.empty else str(dates.max().date()),
            "default_rate": (float(train_frame[features.TARGET].mean())
                             if features.TARGET in train_frame and len(train_frame) else None),
        },
        "features": feature_schema(),
        "metrics": {str(k): float(v) for k, v in dict(metrics).items()},
        "libraries": library_versions(),
    }
    if evaluation is not None:
        card["evaluation"] = dict(evaluation)
    return card


def save_model(model, directory, *, version: str, train_frame: pd.DataFrame, metrics: dict,
               name: str = "loan-default", created: str | None = None,
               threshold: float | None = None, evaluation: dict | None = None) -> Path:
    """Write ``model.skops`` and ``model.json`` into ``directory`` (created if needed).

    ``created`` (ISO timestamp) defaults to now; pass a fixed one for a
    reproducible card. ``threshold`` (the P(default) above which the service
    refuses) defaults to the cost-based business.COSTS.threshold. Returns the
    directory.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    card = model_card(model, name=name, version=version, train_frame=train_frame,
                      metrics=metrics, created=created, threshold=threshold, evaluation=evaluation)
    model_path = directory / MODEL_FILE
    sio.dump(model, model_path)
    card["model_sha256"] = fingerprints.file_sha256(model_path)
    (directory / CARD_FILE).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    return directory


def read_card(directory) -> dict:
    """The model card (``model.json``) of a model directory, checked for the keys load needs."""
    path = Path(directory) / CARD_FILE
    if not path.is_file():
        raise ArtifactError(f"{path}: no model card; a model directory holds {MODEL_FILE} and {CARD_FILE}")
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise ArtifactError(f"{path}: not valid JSON ({error})") from None
    missing = [k for k in ("name", "version", "model_sha256", "training_data", "features")
               if not isinstance(card, dict) or k not in card]
    if missing:
        raise ArtifactError(f"{path}: the model card lacks {', '.join(missing)}")
    return card


def load_model(directory, *, expected_fingerprint: str | None = None):
    """Load a model directory written by :func:`save_model`; returns ``(model, metadata)``.

    Checks, in this order, before anything in the file is used: the SHA-256
    of ``model.skops`` equals the card's ``model_sha256``; every type the
    file would rebuild is trusted by skops or listed in :data:`TRUSTED_TYPES`;
    and, if ``expected_fingerprint`` is given, the card's training-data
    fingerprint equals it. Raises :class:`ArtifactError` otherwise.
    """
    directory = Path(directory)
    card = read_card(directory)
    model_path = directory / MODEL_FILE
    if not model_path.is_file():
        raise ArtifactError(f"{model_path}: model file missing")
    actual = fingerprints.file_sha256(model_path)
    if actual != card["model_sha256"]:
        raise ArtifactError(
            f"{model_path}: SHA-256 mismatch: the file hashes to {actual[:16]}..., "
            f"{CARD_FILE} expects {str(card['model_sha256'])[:16]}...; "
            "the file was changed or replaced after it was saved")
    if expected_fingerprint is not None:
        _check_fingerprint(directory, card, expected_fingerprint)
    if actual in _LOADED:  # these very bytes were vetted and loaded by this process already
        return copy.deepcopy(_LOADED[actual]), card
    try:
        untrusted = sio.get_untrusted_types(file=model_path)
    except Exception as error:  # not a zip, corrupt schema, ...
        raise ArtifactError(f"{model_path}: not a readable skops file ({error})") from None
    refused = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if refused:
        raise ArtifactError(f"{model_path}: holds types nobody vetted: {', '.join(refused)}; "
                            "add a type to artifact.TRUSTED_TYPES only after reading its code")
    try:
        model = sio.load(model_path, trusted=list(untrusted))
    except Exception as error:
        raise ArtifactError(f"{model_path}: could not be loaded ({error})") from None
    _LOADED[actual] = model
    while len(_LOADED) > _KEEP:
        _LOADED.pop(next(iter(_LOADED)))
    return copy.deepcopy(model), card


# Models loaded by this process, by their file's SHA-256: loading a version again (the
# registry's champion, read by the gate and then by the service) costs a copy, not a
# second unpacking of the file. The key is the content, checked above, so a changed
# file is never answered from here; the caller gets its own copy to change.
_LOADED: dict[str, object] = {}
_KEEP = 8


def _check_fingerprint(directory: Path, card: dict, expected: str) -> None:
    recorded = card["training_data"].get("fingerprint")
    if recorded != expected:
        raise ArtifactError(
            f"{directory / CARD_FILE}: training-data fingerprint mismatch: the model was "
            f"trained on data {str(recorded)[:16]}..., expected {expected[:16]}...")


# --- why not pickle ---------------------------------------------------------------

MARKS: list[str] = []  # what the demo payload did while being loaded


def _leave_mark(message: str) -> str:
    """Harmless stand-in for an attacker's code: print and record a message."""
    MARKS.append(message)
    print(message)
    return message


class RunsCodeOnLoad:
    """An object whose pickle tells the loader to call a function.

    ``pickle`` stores an object as "call this, with these arguments", read
    from ``__reduce__``; loading performs the call. Here the call is a
    harmless print, but it could be ``os.system`` with any command.
    """

    message = "this ran while loading"

    def __reduce__(self):
        return (_leave_mark, (self.message,))


def pickle_runs_code_demo(verbose: bool = True) -> dict:
    """Show that ``pickle.loads`` runs code, and that skops refuses the same object.

    Returns a dict: ``pickle_ran`` (the payload's function was called while
    loading), ``pickle_result`` (what loading returned: not an object at
    all, but the function's return value), ``skops_untrusted`` (the types
    skops would have to rebuild) and ``skops_refusal`` (skops' message when
    asked to load the same object without trusting its type).
    """
    before = len(MARKS)
    payload = pickle.dumps(RunsCodeOnLoad())
    if not verbose:
        import contextlib
        with contextlib.redirect_stdout(io.StringIO()):
            result = pickle.loads(payload)  # noqa: S301 - the point of the demo
    else:
        result = pickle.loads(payload)  # noqa: S301 - the point of the demo
    ran = len(MARKS) > before
    data = sio.dumps(RunsCodeOnLoad())
    untrusted = sio.get_untrusted_types(data=data)
    try:
        sio.loads(data)
        refusal = None
    except Exception as error:  # UntrustedTypesFoundException
        refusal = f"{type(error).__name__}: {error}"
    return {"pickle_ran": ran, "pickle_result": result, "skops_untrusted": untrusted,
            "skops_refusal": refusal}


# --- command line ---------------------------------------------------------------

def train_and_save(out, *, version: str = "1.0.0", created: str | None = None) -> Path:
    """Train the course's model (boosting, 2019-2020) and save it with its validation AUC."""
    from sklearn.metrics import roc_auc_score

    from mlecourse.lender.modeling import estimators
    from mlecourse.lender.data.loading import load_loans

    clean, _ = features.clean_loans(load_loans())
    train, valid, _test = features.split_by_date(clean)
    model = estimators.train_model(train, "boosting")
    X, y = features.features_and_target(valid)
    metrics = {"valid_auc": roc_auc_score(y, model.predict_proba(X)[:, 1]),
               "valid_rows": len(valid)}
    return save_model(model, out, version=version, train_frame=train, metrics=metrics,
                      created=created)


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m mlecourse.lender.modeling.artifact``."""
    parser = argparse.ArgumentParser(prog="python -m mlecourse.lender.modeling.artifact",
                                     description="Train the course's model and write a model directory.")
    parser.add_argument("--out", default="models/loan-default", help="directory to write (default: %(default)s)")
    parser.add_argument("--version", default="1.0.0")
    parser.add_argument("--created", default=None, help="ISO timestamp for the card (default: now)")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    path = train_and_save(args.out, version=args.version, created=args.created)
    card = read_card(path)
    print(f"wrote {path / MODEL_FILE} and {path / CARD_FILE} "
          f"(version {card['version']}, sha256 {card['model_sha256'][:12]}...)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
