"""The bundle test's wheels: what it can rebuild here, and the few it must download first.

The bundle test installs with two real interpreters of different patch levels
(Debian's /usr/bin/python3 and the one this environment was made with). The
lock may pin a package differently for them (soupsieve 2.10 below 3.11.5,
4.1.3 from 3.11.5): the version this environment has installed is rebuilt
into a wheel from its files, the other cannot be, and the test runs offline.
So `make bundle-test-wheels`, before the network goes (`.ci/run` does it),
downloads those pins with the bundle's own `download`, per resolution, into
`_build/bundle-test-wheels/`:

    .venv/bin/python tests/bundle_wheels.py
"""
from __future__ import annotations

import importlib.metadata as md
import json
import subprocess
import sys
from pathlib import Path

import packaging
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from mlecourse.course import bundle
from mlecourse.paths import ROOT

LOCK = ROOT / "requirements.lock"
FETCHED = ROOT / "_build" / "bundle-test-wheels"
TARGET = bundle.TARGETS["linux-x86_64-py3.11"]
# What `mlecourse doctor` imports, and what installing the course needs.
DOCTOR_NEEDS = ["scikit-learn", "pandas", "matplotlib", "myst-nb", "jupyter-client", "ipykernel",
                "packaging", "pyyaml", "nbformat", "nbclient", "setuptools"]


def interpreters() -> list[str]:
    """Real Python 3.11 interpreters here, one per patch level: Debian's and this venv's base."""
    found: dict[str, str] = {}
    for python in ("/usr/bin/python3", getattr(sys, "_base_executable", sys.executable)):
        if not Path(python).exists():
            continue
        version = subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                                 capture_output=True, text=True).stdout.strip()
        if version.startswith("3.11."):
            found.setdefault(version, str(Path(python).resolve()))
    return [found[v] for v in sorted(found)]


def marker_environment(python: str) -> dict[str, str]:
    """The environment markers as ``python`` itself evaluates them (packaging, run by it)."""
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); "
            "from packaging.markers import default_environment; print(json.dumps(default_environment()))")
    out = subprocess.run([python, "-c", code, str(Path(packaging.__file__).parent.parent)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def selected(python_env: dict[str, str]) -> dict[str, str]:
    """Canonical name -> version the lock pins for that environment."""
    return {canonicalize_name(r.name): next(iter(r.specifier)).version for r in bundle.pins(LOCK)
            if r.marker is None or r.marker.evaluate(python_env)}


def closure(names: list[str]) -> dict[str, md.Distribution]:
    """The installed distributions ``names`` need, themselves included."""
    found, todo = {}, list(names)
    while todo:
        name = canonicalize_name(todo.pop())
        if name in found:
            continue
        dist = md.distribution(name)
        found[name] = dist
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return found


def varying(envs: list[dict[str, str]]) -> set[str]:
    """Packages the lock pins at different versions for these environments."""
    chosen = [selected(env) for env in envs]
    names = set().union(*chosen)
    return {n for n in names if len({c.get(n) for c in chosen}) > 1}


def subset_names(envs: list[dict[str, str]]) -> set[str]:
    """The doctor's needs and every package whose pin differs between the interpreters."""
    return set(closure(DOCTOR_NEEDS + sorted(varying(envs)))) - {"uv"}


def lock_entries(names: set[str]) -> str:
    """The lock's own entries (markers, hashes) for ``names``: every pin of each, for any Python."""
    out, keep = [], False
    for line in LOCK.read_text().splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            keep = canonicalize_name(line.split("==")[0].split("[")[0]) in names
        if keep and not line.lstrip().startswith("#"):
            out.append(line)
    return "\n".join(out) + "\n"


def foreign_pins(envs: list[dict[str, str]], names: set[str]) -> set[str]:
    """'name' of pins some interpreter needs at a version this environment does not have."""
    return {n for env in envs for n, v in selected(env).items()
            if n in names and md.version(n) != v}


def fetch(into: Path = FETCHED) -> list[str]:
    """Download, with ``bundle.download``, every pin of the packages this environment cannot rebuild."""
    envs = [marker_environment(p) for p in interpreters()]
    names = foreign_pins(envs, subset_names(envs))
    into.mkdir(parents=True, exist_ok=True)
    lock = into / "foreign.lock"
    lock.write_text(lock_entries(names))
    if names:
        bundle.download(lock, into, [TARGET])
    return sorted(names)


if __name__ == "__main__":
    fetched = fetch()
    print(f"{FETCHED}: wheels of {', '.join(fetched) or 'nothing'} for the bundle test")
