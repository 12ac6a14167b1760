"""Shared test set-up.

A workbook's checks must all say "correct" in solutions/ and "not attempted"
in exercises/ (which proves no check accepts the placeholder). The check
function reads the expectation from the environment, which the kernel that
nbmake starts for each notebook inherits.
"""
import os
from pathlib import Path

import pytest

from mlecourse.checks.core import EXPECT_ENV

os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
# As in the Makefile: two notebooks run at once on two cores; one OpenMP
# thread each, or their thread pools fight (kernels inherit this).
os.environ.setdefault("OMP_NUM_THREADS", "1")

EXPECTATIONS = {"solutions": "correct", "exercises": "not_attempted"}


def pytest_runtest_setup(item: pytest.Item) -> None:
    path = Path(str(item.fspath))
    expect = EXPECTATIONS.get(path.parent.name) if path.suffix == ".ipynb" else None
    if expect:
        os.environ[EXPECT_ENV] = expect
    else:
        os.environ.pop(EXPECT_ENV, None)


# --- the built site, made once per test run ----------------------------------
# test_book.py checks the builds; test_site_browser.py opens them in a browser.
# With several xdist workers each would run a session fixture of its own, so
# the first worker to get the lock builds and writes the result down; the
# others wait on the lock and read it. Keyed by the run's id: never a stale site.

def _run_builds() -> list[dict]:
    import subprocess

    from mlecourse.course import build
    from mlecourse.paths import ROOT

    env = {**os.environ, "MPLBACKEND": "Agg"}  # as CI machines often do: plots must still draw
    results = []
    for no_solutions in (False, True):
        done = subprocess.run(build.command(no_solutions=no_solutions), cwd=ROOT,
                              capture_output=True, text=True, env=env)
        results.append({"args": done.args, "returncode": done.returncode,
                        "stdout": done.stdout, "stderr": done.stderr})
    return results


@pytest.fixture(scope="session")
def site_builds(testrun_uid):
    """The two builds (with solutions, then without), as finished processes."""
    import fcntl
    import json
    import subprocess

    from mlecourse.paths import ROOT

    state = ROOT / "_build" / ".site-builds"
    state.mkdir(parents=True, exist_ok=True)
    record = state / f"{testrun_uid}.json"
    with open(state / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not record.exists():
            for old in state.glob("*.json"):
                old.unlink()
            record.write_text(json.dumps(_run_builds()))
        results = json.loads(record.read_text())
    return [subprocess.CompletedProcess(r["args"], r["returncode"], r["stdout"], r["stderr"])
            for r in results]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The browser test needs the built site: hand it out last, so whichever
    # worker gets it finds the build done (or nearly) rather than idling on it.
    items.sort(key=lambda item: Path(str(item.fspath)).name == "test_site_browser.py")
