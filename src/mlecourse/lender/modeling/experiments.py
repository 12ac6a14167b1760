"""A record of every experiment: what was run, on which data, with which code,
and what came out.

A minimal, dependency-free version of what an experiment tracker keeps. It
shows the four things a result needs before anyone can trust or repeat it:

* the **parameters** (everything that was set by hand or by a search);
* a **data fingerprint** (a hash of the rows and columns trained and
  evaluated on: two runs with the same fingerprint saw the same data);
* a **code version** (the package's version and a hash of the source that
  builds features and models; it works without git, for instance in a
  downloaded notebook);
* the **metrics**.

:meth:`ExperimentLog.table` lays the runs out as one tidy table, with
``params.*`` and ``metrics.*`` columns as MLflow's ``search_runs`` does; the
tracking chapter moves the same record into MLflow.
"""
from __future__ import annotations

import hashlib
import importlib
import inspect
from typing import Any

import numpy as np
import pandas as pd

from mlecourse import __version__
from mlecourse.lender.data import fingerprints

# The modules whose source decides what a model is: features, costs, models.
MODEL_SOURCES = ("mlecourse.lender.features", "mlecourse.lender.business", "mlecourse.lender.modeling.estimators")


def code_version(modules=MODEL_SOURCES, length: int = 8) -> str:
    """The package version and a hash of the given modules' source, e.g. ``0.1.0+src.1a2b3c4d``.

    The one code version of the system: the experiment log, the tracking tags
    and the model cache's keys all use it.
    """
    digest = hashlib.sha256()
    for name in modules:
        digest.update(inspect.getsource(importlib.import_module(name)).encode())
    return f"{__version__}+src.{digest.hexdigest()[:length]}"


def _plain(value: Any) -> Any:
    """A value a table cell can hold: numbers and text as they are, the rest as text."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


class ExperimentLog:
    """Runs logged one by one, read back as a table."""

    def __init__(self) -> None:
        self._runs: list[dict[str, Any]] = []

    def __len__(self) -> int:
        return len(self._runs)

    def log(self, name: str, *, params: dict, data: dict[str, pd.DataFrame],
            metrics: dict[str, float], code: str | None = None) -> dict[str, Any]:
        """Record one run. ``data`` names each frame used (``{"train": ..., "valid": ...}``)."""
        if not name:
            raise ValueError("a run needs a name")
        if not metrics:
            raise ValueError(f"run {name!r} has no metrics: what was measured?")
        run = {"run": len(self._runs) + 1, "name": name,
               "code_version": code or code_version(),
               **{f"data.{key}": fingerprints.data_fingerprint(frame)[:12] for key, frame in data.items()},
               **{f"params.{key}": _plain(value) for key, value in params.items()},
               **{f"metrics.{key}": float(value) for key, value in metrics.items()}}
        self._runs.append(run)
        return run

    def table(self) -> pd.DataFrame:
        """One row per run; columns run, name, code_version, data.*, params.*, metrics.*."""
        frame = pd.DataFrame(self._runs)
        if frame.empty:
            return pd.DataFrame(columns=["run", "name", "code_version"])
        fixed = ["run", "name", "code_version"]
        groups = [sorted(c for c in frame.columns if c.startswith(p))
                  for p in ("data.", "params.", "metrics.")]
        return frame[fixed + [c for g in groups for c in g]].set_index("run")
