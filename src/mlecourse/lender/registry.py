"""The model registry: versions of the lender's model, and which one serves.

Built on MLflow's registry (the same SQLite store as the tracking runs). A
registered version is chapter 5's model directory (``model.skops`` and its
card ``model.json``) logged with the small pyfunc of
:mod:`mlecourse.lender.registry_model`: MLflow records the wrapper as code,
not as a pickle, and loading goes through :func:`artifact.load_model`, which
refuses a file that does not match its card.

Aliases name the roles: ``champion`` serves, ``challenger`` is the candidate,
``previous`` is the champion before the last promotion. Promoting is moving
an alias, the blue-green switch of chapter 5 in registry form; a rollback
moves it back.
"""
from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
from pathlib import Path

from mlecourse.lender import artifact

MODEL_NAME = "loan-default"
CHAMPION, CHALLENGER, PREVIOUS = "champion", "challenger", "previous"
WRAPPER = Path(__file__).with_name("registry_model.py")
# What the wrapper needs to run; given explicitly, because inferring it starts
# a subprocess that takes 8-25 s and picks up test-only packages.
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
REQUIREMENTS = ["mlflow", "scikit-learn", "skops", "pandas", "numpy"]


class RegistryError(LookupError):
    """The registry cannot give what was asked; the message names it and the fix."""


def _client():
    import mlflow
    return mlflow.MlflowClient()


def versions(name: str = MODEL_NAME) -> list:
    """Every registered version of ``name``, oldest first."""
    found = _client().search_model_versions(f"name = '{name}'")
    return sorted(found, key=lambda v: int(v.version))


def find_key(key: str, name: str = MODEL_NAME):
    """The version registered with idempotence key ``key``, or None."""
    for version in versions(name):
        if version.tags.get("key") == key:
            return version
    return None


def register(model_dir, *, key: str | None = None, name: str = MODEL_NAME,
             tags: dict | None = None) -> int:
    """Register the model directory ``model_dir`` as a version of ``name``; returns its number.

    Idempotent: ``key`` says what makes two models the same (default: the
    model file's SHA-256; the pipeline passes the data fingerprint and
    :func:`reproducibility.model_digest`, because a skops file's bytes differ
    on every save). A key already registered gets its existing version back,
    so rerunning a notebook or a pipeline adds nothing. Logged inside the
    active run if there is one (the run that trained it).
    """
    import mlflow

    card = artifact.read_card(model_dir)
    key = key or card["model_sha256"]
    existing = find_key(key, name)
    if existing is not None:
        return int(existing.version)
    own_run = mlflow.active_run() is None
    if own_run:
        mlflow.start_run(run_name=f"register {card['version']}")
    try:
        # MLflow logs that a DataFrame type hint gives no signature; the card is the schema.
        pyfunc_log = logging.getLogger("mlflow.pyfunc")
        level = pyfunc_log.level
        pyfunc_log.setLevel(logging.ERROR)
        try:
            info = mlflow.pyfunc.log_model(name="model", python_model=str(WRAPPER),
                                           artifacts={"model_dir": str(model_dir)},
                                           pip_requirements=REQUIREMENTS)
        finally:
            pyfunc_log.setLevel(level)
    finally:
        if own_run:
            mlflow.end_run()
    all_tags = {"key": key, "model_sha256": card["model_sha256"], "card_version": card["version"],
                "data_fingerprint": card["training_data"]["fingerprint"], **(tags or {})}
    with contextlib.redirect_stderr(io.StringIO()):  # "Successfully registered ..." chatter
        registered = mlflow.register_model(info.model_uri, name, tags=all_tags)
    return int(registered.version)


# --- aliases -----------------------------------------------------------------------

def aliases(name: str = MODEL_NAME) -> dict[str, int]:
    """Alias -> version number, e.g. ``{"champion": 2, "previous": 1}``."""
    try:
        model = _client().get_registered_model(name)
    except Exception:
        return {}
    return {alias: int(version) for alias, version in model.aliases.items()}


def version_of(alias: str, name: str = MODEL_NAME) -> int:
    """The version an alias points to; a clear error for an alias nobody set."""
    known = aliases(name)
    if alias not in known:
        listed = ", ".join(sorted(known)) or "none yet"
        raise RegistryError(f"model {name!r} has no alias {alias!r} (its aliases: {listed}); "
                            f"set it with registry.set_alias({alias!r}, version)")
    return known[alias]


def set_alias(alias: str, version: int, name: str = MODEL_NAME) -> None:
    _client().set_registered_model_alias(name, alias, str(version))


def promote(version: int, name: str = MODEL_NAME) -> dict[str, int]:
    """Make ``version`` the champion; the old champion becomes ``previous``.

    Promoting the current champion again changes nothing (idempotent).
    Returns the aliases after the move.
    """
    known = aliases(name)
    if known.get(CHAMPION) == int(version):
        return known
    if CHAMPION in known:
        set_alias(PREVIOUS, known[CHAMPION], name)
    set_alias(CHAMPION, version, name)
    if known.get(CHALLENGER) == int(version):
        _client().delete_registered_model_alias(name, CHALLENGER)
    return aliases(name)


def rollback(name: str = MODEL_NAME) -> dict[str, int]:
    """Point ``champion`` back at ``previous`` (and ``previous`` at the version rolled back)."""
    previous = version_of(PREVIOUS, name)
    current = version_of(CHAMPION, name)
    set_alias(CHAMPION, previous, name)
    set_alias(PREVIOUS, current, name)
    return aliases(name)


# --- using a registered model ---------------------------------------------------------

def model_uri(alias: str, name: str = MODEL_NAME) -> str:
    version_of(alias, name)  # fails clearly before MLflow does
    return f"models:/{name}@{alias}"


def materialise(alias: str, destination=None, name: str = MODEL_NAME) -> Path:
    """Download the model directory (``model.skops`` + ``model.json``) behind an alias.

    Returns the folder, ready for ``serving.create_app_from_dir`` or
    ``artifact.load_model``.
    """
    import mlflow

    destination = Path(destination or tempfile.mkdtemp(prefix=f"{name}-{alias}-"))
    local = Path(mlflow.artifacts.download_artifacts(artifact_uri=model_uri(alias, name),
                                                     dst_path=str(destination)))
    cards = sorted(local.rglob(artifact.CARD_FILE))
    if not cards:
        raise RegistryError(f"models:/{name}@{alias} holds no {artifact.CARD_FILE}; "
                            "was it registered with registry.register?")
    return cards[0].parent


def load(alias: str, name: str = MODEL_NAME):
    """The pyfunc model behind ``models:/<name>@<alias>``, checked as it loads."""
    import mlflow

    uri = model_uri(alias, name)
    try:
        return mlflow.pyfunc.load_model(uri)
    except artifact.ArtifactError as error:
        raise RegistryError(f"{uri}: {error}") from None


def load_checked(alias: str, name: str = MODEL_NAME):
    """``(model, card)`` of an alias, read with artifact.load_model (no MLflow at predict time)."""
    try:
        return artifact.load_model(materialise(alias, name=name))
    except artifact.ArtifactError as error:
        raise RegistryError(f"models:/{name}@{alias}: {error}") from None


def create_app(alias: str = CHAMPION, name: str = MODEL_NAME, **kwargs):
    """Chapter 5's service, started from ``models:/<name>@<alias>``."""
    from mlecourse.lender import serving

    try:
        return serving.create_app_from_dir(materialise(alias, name=name), **kwargs)
    except artifact.ArtifactError as error:
        raise RegistryError(f"models:/{name}@{alias}: {error}") from None
