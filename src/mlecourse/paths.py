"""Where the course's files are, wherever a notebook was opened from.

A notebook may run with its own folder as the working directory (Jupyter,
nbmake, Binder, Colab), so nothing in the course uses relative paths: every
path is found from this file, which lives in ``<repo>/src/mlecourse/``.
``MLECOURSE_ROOT`` overrides the search, for an unusual install.
"""
from __future__ import annotations

import os
from pathlib import Path


def repo_root() -> Path:
    """The folder that holds ``data/``, ``chapters/`` and ``solutions/``."""
    override = os.environ.get("MLECOURSE_ROOT")
    if override:
        return Path(override).resolve()
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "data").is_dir() and (parent / "pyproject.toml").is_file():
            return parent
    raise FileNotFoundError(
        "Cannot find the course folder (the one holding data/ and pyproject.toml) "
        f"above {here}. Install the course with `make setup` from a clone of the "
        "repository, or set MLECOURSE_ROOT to the clone's folder."
    )


ROOT = repo_root()
DATA_DIR = ROOT / "data"
CHAPTERS_DIR = ROOT / "chapters"
SOLUTIONS_DIR = ROOT / "solutions"
EXERCISES_DIR = ROOT / "exercises"
WORK_DIR = ROOT / "work"
