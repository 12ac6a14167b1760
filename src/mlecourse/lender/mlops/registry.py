"""The model registry: versions of the lender's model, and which one serves.

Built on MLflow's registry (the same SQLite store as the tracking runs). A
registered version is chapter 5's model directory (``model.skops`` and its
card ``model.json``) logged with the small pyfunc of
:mod:`mlecourse.lender.mlops.registry_model`: MLflow records the wrapper as code,
not as a pickle, and loading goes through :func:`artifact.load_model`, which
refuses a file that does not match its card.

Aliases name the roles: ``champion`` serves, ``challenger`` is the candidate,
``previous`` is the champion before the current one. Promoting is moving
an alias, the blue-green switch of chapter 5 in registry form; a rollback
moves it back.

The guards, because a registry is shared by people and processes:

* registering and moving aliases hold the store's file lock
  (:func:`mlecourse.lender.mlops.tracking.store_lock`), so two pipelines started at
  once register one version, not two;
* :func:`promote` takes only a version whose gate verdict, recorded on it as
  a tag (:func:`record_gate`), is a pass, or one given an override reason,
  which stays on the version as a tag;
* the champions, in order, are a tag of the registered model, so each
  :func:`rollback` steps back one version, a second one a further version,
  and with nothing further back it says so; a version rolled back is marked,
  and is not promoted again without an override;
* reading the aliases of a model that does not exist yet gives ``{}`` (no
  champion); any other failure to read the store is a :class:`RegistryError`.
"""
from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import tempfile
from pathlib import Path

from mlecourse.lender.mlops import tracking
from mlecourse.lender.modeling import artifact

MODEL_NAME = "loan-default"
CHAMPION, CHALLENGER, PREVIOUS = "champion", "challenger", "previous"
MOVED_BY_PROMOTE = (CHAMPION, PREVIOUS)  # set only by promote and rollback
# Tags: on a version, the gate's verdict, an override and a rollback; on the model, its champions.
GATE, GATE_DETAIL, OVERRIDE, ROLLED_BACK = "gate", "gate_detail", "promotion_override", "rolled_back"
HISTORY = "champion_history"
HISTORY_KEPT = 500  # rollbacks a tag can hold (MLflow caps a tag at 5,000 characters)
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


@contextlib.contextmanager
def lock():
    """Hold the store's file lock: one process at a time registers or moves an alias.

    Re-entrant: :func:`promote` inside a pipeline's ``with registry.lock():``
    takes it again without waiting. For a registry that is not a local SQLite
    file (an MLflow server used from several machines) a file here locks
    nothing, so none is taken: such a team needs a lock all its machines share.
    """
    import mlflow
    from filelock import Timeout

    uri = mlflow.get_registry_uri()
    if not uri.startswith("sqlite:///"):
        yield
        return
    database = uri.removeprefix("sqlite:///")
    try:
        with tracking.store_lock(database):
            yield
    except Timeout:
        raise RegistryError(f"another process has held {database}{tracking.LOCK_SUFFIX} for "
                            f"{tracking.LOCK_TIMEOUT_S} s; wait for it to finish") from None


@contextlib.contextmanager
def _reading(what: str):
    """Turn a store that cannot be read into one line (never into "no champion")."""
    import mlflow

    try:
        yield
    except tracking.store_errors() as error:
        where = mlflow.get_registry_uri().removeprefix("sqlite:///")
        raise RegistryError(f"{what}: " + tracking.broken_store(where, error)) from None


def versions(name: str = MODEL_NAME) -> list:
    """Every registered version of ``name``, oldest first."""
    with _reading(f"listing the versions of {name!r}"):
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
    card = artifact.read_card(model_dir)
    key = key or card["model_sha256"]
    with lock():  # look and register in one step: two processes register one version
        existing = find_key(key, name)
        if existing is not None:
            return int(existing.version)
        return _register(model_dir, card, key, name, tags)


def _register(model_dir, card: dict, key: str, name: str, tags: dict | None) -> int:
    import mlflow

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
    """Alias -> version number, e.g. ``{"champion": 2, "previous": 1}``.

    ``{}`` only when the model does not exist yet; a store that cannot be read
    raises :class:`RegistryError` (a broken store is not "no champion").
    """
    model = _model(name)
    return {} if model is None else {alias: int(v) for alias, v in model.aliases.items()}


def _model(name: str):
    """The registered model, or None if nobody registered it yet."""
    from mlflow.exceptions import MlflowException

    with _reading(f"reading model {name!r}"):
        try:
            return _client().get_registered_model(name)
        except MlflowException as error:
            if error.error_code == "RESOURCE_DOES_NOT_EXIST":
                return None
            raise


def version_of(alias: str, name: str = MODEL_NAME) -> int:
    """The version an alias points to; a clear error for an alias nobody set."""
    known = aliases(name)
    if alias not in known:
        listed = ", ".join(sorted(known)) or "none yet"
        how = ("promote a version with registry.promote(version)" if alias in MOVED_BY_PROMOTE
               else f"set it with registry.set_alias({alias!r}, version)")
        raise RegistryError(f"model {name!r} has no alias {alias!r} (its aliases: {listed}); {how}")
    return known[alias]


def set_alias(alias: str, version: int, name: str = MODEL_NAME) -> None:
    """Point ``alias`` at ``version``; the champion moves only through promote and rollback."""
    if alias in MOVED_BY_PROMOTE:
        raise RegistryError(f"{alias!r} moves only with registry.promote(version) or "
                            "registry.rollback(), which check the gate and keep the history")
    _version(version, name)
    with lock():
        _client().set_registered_model_alias(name, alias, str(version))


def _version(version: int, name: str):
    """The model version ``version``; a clear error if it was never registered."""
    from mlflow.exceptions import MlflowException

    with _reading(f"reading version {version} of {name!r}"):
        try:
            return _client().get_model_version(name, str(int(version)))
        except MlflowException as error:
            if error.error_code != "RESOURCE_DOES_NOT_EXIST":
                raise
    raise RegistryError(f"model {name!r} has no version {version}; registry.versions() lists them")


def record_gate(version: int, passed: bool, detail: str = "", name: str = MODEL_NAME) -> None:
    """Write the gate's verdict on ``version`` (the pipeline does, for every version it judges)."""
    _version(version, name)
    client = _client()
    with lock():
        client.set_model_version_tag(name, str(version), GATE, "pass" if passed else "fail")
        client.set_model_version_tag(name, str(version), GATE_DETAIL, str(detail)[:4000])


def history(name: str = MODEL_NAME) -> list[int]:
    """The versions that served as champion, oldest first, ending with the current one."""
    model = _model(name)
    if model is None:
        return []
    if HISTORY in model.tags:
        return [int(v) for v in json.loads(model.tags[HISTORY])]
    # A store from before the history was kept: what the aliases still say.
    return [int(model.aliases[a]) for a in (PREVIOUS, CHAMPION) if a in model.aliases]


def _refusal(version: int, name: str) -> str | None:
    """Why ``version`` may not be promoted without an override (with what to do), or None."""
    tags = _version(version, name).tags
    exception = "registry.promote(version, override='why') to record an exception"
    if ROLLED_BACK in tags:
        return (f"version {version} was rolled back ({tags[ROLLED_BACK]}); "
                f"promote it again only with {exception}")
    if tags.get(GATE) == "pass":
        return None
    why = ("has no gate verdict" if GATE not in tags
           else f"did not pass the gate ({tags.get(GATE_DETAIL) or tags[GATE]})")
    return f"version {version} {why}; promote it through the pipeline, or give {exception}"


def _move_champion(chain: list[int], name: str) -> dict[str, int]:
    """Point champion (and previous) at the end of ``chain`` and store ``chain`` as the history."""
    client = _client()
    client.set_registered_model_tag(name, HISTORY, json.dumps(chain[-HISTORY_KEPT:]))
    if ROLLED_BACK in _version(chain[-1], name).tags:  # serving again: no longer "rolled back"
        client.delete_model_version_tag(name, str(chain[-1]), ROLLED_BACK)
    client.set_registered_model_alias(name, CHAMPION, str(chain[-1]))
    if len(chain) > 1:
        client.set_registered_model_alias(name, PREVIOUS, str(chain[-2]))
    elif PREVIOUS in aliases(name):
        client.delete_registered_model_alias(name, PREVIOUS)
    return aliases(name)


def promote(version: int, name: str = MODEL_NAME, *, override: str | None = None) -> dict[str, int]:
    """Make ``version`` the champion; the old champion becomes ``previous``.

    Only a version whose recorded gate verdict is a pass, unless ``override``
    says why a person promotes it anyway (kept on the version as the tag
    ``promotion_override``). Promoting the current champion again changes
    nothing (idempotent). Returns the aliases after the move.
    """
    version = int(version)
    if override is not None and not str(override).strip():
        raise RegistryError("an override needs a reason, e.g. override='hotfix approved by ...'")
    with lock():
        known = aliases(name)
        if known.get(CHAMPION) == version:
            return known
        why_not = _refusal(version, name)
        if why_not and override is None:
            raise RegistryError(why_not)
        if override is not None:
            _client().set_model_version_tag(name, str(version), OVERRIDE, str(override).strip())
        if known.get(CHALLENGER) == version:
            _client().delete_registered_model_alias(name, CHALLENGER)
        return _move_champion([*history(name), version], name)


def rollback(name: str = MODEL_NAME) -> dict[str, int]:
    """Point ``champion`` back at the version that served before it; one step each call.

    The version rolled back is marked (tag ``rolled_back``), so a pipeline
    that judges it again does not quietly promote it back. With nothing
    further back, a :class:`RegistryError` says so.
    """
    with lock():
        chain = history(name)
        current = aliases(name).get(CHAMPION)
        if current is None:
            raise RegistryError(f"model {name!r} has no champion to roll back from; "
                                "promote a version with registry.promote(version)")
        if chain[-1:] != [current]:
            raise RegistryError(f"the champion (version {current}) was moved outside "
                                f"registry.promote, so its history {chain} is not its past; "
                                "promote the version you want with registry.promote")
        if len(chain) < 2:
            raise RegistryError(f"nothing further back: version {current} is the first champion "
                                f"model {name!r} had; promote another version to replace it")
        _client().set_model_version_tag(name, str(current), ROLLED_BACK,
                                        f"replaced by version {chain[-2]} in a rollback")
        return _move_champion(chain[:-1], name)


# --- using a registered model ---------------------------------------------------------

def model_uri(alias: str, name: str = MODEL_NAME) -> str:
    version_of(alias, name)  # fails clearly before MLflow does
    return f"models:/{name}@{alias}"


def materialise(alias: str, destination=None, name: str = MODEL_NAME) -> Path:
    """Download the model directory (``model.skops`` + ``model.json``) behind an alias.

    Returns the folder, ready for ``api.create_app_from_dir`` or
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
    except ImportError as error:  # its logged code imports a module this version of the code moved
        raise RegistryError(f"{uri} was registered by an older version of the course's code "
                            f"({error.name or error}): run `make pipeline` again to register it anew") from None


def load_checked(alias: str, name: str = MODEL_NAME):
    """``(model, card)`` of an alias, read with artifact.load_model (no MLflow at predict time)."""
    try:
        with tempfile.TemporaryDirectory(prefix=f"{name}-{alias}-") as folder:  # loaded into memory, then removed
            return artifact.load_model(materialise(alias, folder, name=name))
    except artifact.ArtifactError as error:
        raise RegistryError(f"models:/{name}@{alias}: {error}") from None


def create_app(alias: str = CHAMPION, name: str = MODEL_NAME, **kwargs):
    """Chapter 5's service, started from ``models:/<name>@<alias>``."""
    from mlecourse.lender.serving import api

    try:
        with tempfile.TemporaryDirectory(prefix=f"{name}-{alias}-") as folder:  # loaded into memory, then removed
            return api.create_app_from_dir(materialise(alias, folder, name=name), **kwargs)
    except artifact.ArtifactError as error:
        raise RegistryError(f"models:/{name}@{alias}: {error}") from None
