"""Experiment tracking on MLflow: every candidate model as a run you can find again.

A run records what :mod:`mlecourse.lender.modeling.experiments` keeps by hand, in the
tool a team would use: the parameters, the metrics, the training data's
fingerprint, the code (the git commit, or ``uncommitted`` when the work tree
has changes nobody committed yet, so the run could not be rebuilt from git
alone), the lock file's hash (which library versions made it) and artifacts
(a plot, the model directory).

The store is a SQLite file in a folder you choose: a temporary folder in the
chapter, ``work/mlflow`` for ``make pipeline`` and ``make mlflow-ui``; never
the repository. Telemetry is off before mlflow is imported
(``MLFLOW_DISABLE_TELEMETRY=true``: MLflow 3 otherwise contacts its
telemetry host on the first tracking call).

Two processes may use one store at once (a schedule and a person both start
the pipeline). MLflow creates a new store's tables without a lock, so two
first calls race and one fails on "table runs already exists";
:func:`use_store` creates the store under :func:`store_lock`, a file lock
beside the database, which the registry also holds while it registers and
moves aliases. A store that cannot be read is one line naming the file.
"""
from __future__ import annotations

import logging
import os
import subprocess
import warnings
from pathlib import Path

from mlecourse.lender.data import fingerprints
from mlecourse.paths import ROOT, WORK_DIR

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")

EXPERIMENT = "loan-default"
STORE_FILE = "mlflow.db"
LOCK_SUFFIX = ".lock"
LOCK_TIMEOUT_S = 300  # registering a model takes about a second; minutes mean a stuck run
DEFAULT_STORE = WORK_DIR / "mlflow"
LOCK_FILE = ROOT / "requirements.lock"


class TrackingError(ValueError):
    """The tracking store cannot be used; the message says why and what to do."""


def quiet() -> None:
    """Keep MLflow's and alembic's start-up chatter ("Creating initial MLflow
    database tables") off stderr, where a notebook shows it as noise."""
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # It also logs the traceback of a database error it then raises; the caller reports it once.
    logging.getLogger("mlflow.store.db.utils").setLevel(logging.CRITICAL)
    # SQLAlchemy's notice about a loader MLflow's store uses: MLflow's to fix, not the reader's.
    warnings.filterwarnings("ignore", category=DeprecationWarning, module="mlflow")


def store_uri(folder: str | Path = DEFAULT_STORE) -> str:
    """The tracking URI of the SQLite store in ``folder`` (created if needed)."""
    folder = Path(folder).resolve()
    if folder == ROOT or ROOT in folder.parents and WORK_DIR not in (folder, *folder.parents):
        raise TrackingError(f"{folder}: keep the MLflow store out of the repository; "
                            "use a temporary folder or work/mlflow")
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / STORE_FILE}"


def store_lock(database: str | Path):
    """The file lock beside the SQLite file ``database``: one process at a time creates,
    registers or moves an alias. Re-entrant in a process (the same lock object per file)."""
    from filelock import FileLock

    return FileLock(f"{database}{LOCK_SUFFIX}", timeout=LOCK_TIMEOUT_S, is_singleton=True)


def broken_store(database: str | Path, error: BaseException) -> str:
    """The one line that says a store cannot be read, and what to do about it."""
    cause = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return (f"the MLflow store {database} cannot be read ({cause}); restore it from a backup, or "
            f"move it aside (`mv {database} {database}.broken`) and run again to start an empty one")


def store_errors() -> tuple[type[Exception], ...]:
    """What a store that cannot be read raises: MLflow's, SQLAlchemy's or sqlite3's error, or
    the file system's (imported when needed: importing MLflow takes seconds)."""
    import sqlite3

    import sqlalchemy.exc
    from mlflow.exceptions import MlflowException

    return (MlflowException, sqlalchemy.exc.SQLAlchemyError, sqlite3.Error, OSError)


def use_store(folder: str | Path = DEFAULT_STORE, experiment: str = EXPERIMENT) -> str:
    """Point MLflow at the store in ``folder`` and select ``experiment``; returns its id.

    Artifacts go to ``folder/artifacts``. Calling it again on the same folder
    reuses the store and the experiment (a rerun never fails on "already exists").
    A new store's tables and the experiment are created under the store's lock.
    """
    from filelock import Timeout

    with warnings.catch_warnings():  # tqdm's note, at import, that notebook progress bars need ipywidgets
        warnings.filterwarnings("ignore", message="IProgress not found")
        import mlflow
    quiet()
    folder = Path(folder).resolve()
    uri = store_uri(folder)
    database = folder / STORE_FILE
    try:
        with store_lock(database):
            client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
            found = client.get_experiment_by_name(experiment)  # creates the tracking tables
            client.search_registered_models(max_results=1)  # and the registry's
            if found is None:
                experiment_id = client.create_experiment(
                    experiment, artifact_location=(folder / "artifacts").as_uri())
            else:
                experiment_id = found.experiment_id
    except Timeout:
        raise TrackingError(f"another process has held {database}{LOCK_SUFFIX} for "
                            f"{LOCK_TIMEOUT_S} s; wait for it to finish, then run again") from None
    except store_errors() as error:
        raise TrackingError(broken_store(database, error)) from None
    mlflow.set_tracking_uri(uri)  # only now: a store that cannot be read is never selected
    mlflow.set_registry_uri(uri)
    mlflow.set_experiment(experiment_id=experiment_id)
    return experiment_id


# --- what a run must record ----------------------------------------------------------

def git_commit(root: str | Path = ROOT) -> str:
    """The commit the code came from: ``<sha>``, ``uncommitted (<sha> + changes)`` when
    tracked files differ from it, or ``no git`` (a downloaded copy, Colab)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              check=True, timeout=10).stdout.strip()
    try:
        sha = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return "no git"
    return f"uncommitted ({sha[:12]} + changes)" if dirty else sha


def lock_hash(path: str | Path = LOCK_FILE) -> str:
    """SHA-256 of the lock file: the exact library versions the run used."""
    path = Path(path)
    if not path.is_file():
        return "no lock file"
    return fingerprints.file_sha256(path)


def provenance(train_frame) -> dict[str, str]:
    """The tags every run carries: data fingerprint, code, lock, code version."""
    from mlecourse.lender.modeling import experiments

    return {"data_fingerprint": fingerprints.data_fingerprint(train_frame),
            "git_commit": git_commit(), "lock_sha256": lock_hash(),
            "code_version": experiments.code_version()}


def log_candidate(name: str, *, params: dict, metrics: dict, train_frame, figure=None,
                  tags: dict | None = None) -> str:
    """Log one candidate model as an MLflow run; returns the run id.

    ``figure`` (a matplotlib figure) is stored as the artifact ``plot.png``.
    """
    import mlflow

    if not metrics:
        raise TrackingError(f"run {name!r} has no metrics: log what was measured")
    with mlflow.start_run(run_name=name) as run:
        mlflow.log_params(params)
        mlflow.log_metrics({k: float(v) for k, v in metrics.items()})
        mlflow.set_tags({**provenance(train_frame), **(tags or {})})
        if figure is not None:
            mlflow.log_figure(figure, "plot.png")
    return run.info.run_id


def runs(filter_string: str = "", order_by: list[str] | None = None,
         experiment: str = EXPERIMENT):
    """``mlflow.search_runs`` on the experiment, as a DataFrame."""
    import mlflow

    return mlflow.search_runs(experiment_names=[experiment], filter_string=filter_string,
                              order_by=order_by or [])
