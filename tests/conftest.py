"""Shared test set-up.

Notebooks are run by the course's pytest plugin (``mlecourse.course.nbtest``,
loaded in pyproject's addopts), which gives each notebook's kernel its
environment, including what a workbook's checks must say: "correct" in
solutions/ and "not attempted" in exercises/.
"""
import os

os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
# As in the Makefile: two notebooks run at once on two cores; one OpenMP
# thread each, or their thread pools fight (kernels inherit this).
os.environ.setdefault("OMP_NUM_THREADS", "1")


import pytest  # noqa: E402

# Files that build a site or a bundle, drive a browser, time the book, or run the
# command line's subprocesses: `make test` runs them, `make test-fast` (the
# edit-test loop: every unit test, in under two minutes) leaves them out.
SLOW_FILES = {"test_site_browser.py", "test_bundle.py", "test_book.py", "test_mlflow_ui.py",
              "test_setup_recovery.py", "test_workshop_build.py", "test_make.py", "test_execute.py",
              "test_cli.py", "test_slides.py", "test_live_coding.py", "test_capstone.py"}


def pytest_collection_modifyitems(items):
    for item in items:
        if item.path.name in SLOW_FILES or item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.slow)

# --- the built site, made once per test run ----------------------------------
# test_book.py checks the builds; test_site_browser.py opens them in a browser.
# With several xdist workers each would run a session fixture of its own, so
# the first worker to get the lock builds and writes the result down; the
# others wait on the lock and read it. Keyed by the run's id: never a stale site.

def _run_builds() -> list[dict]:
    """Both builds, after the notebooks.

    The notebook tests ran every notebook and left it in the book's cache (the
    plugin hands the book's tests out last, and waits for a notebook still
    running); anything missing or stale is executed here, once, for both builds,
    so neither build executes a notebook.
    """
    import subprocess
    import tempfile

    from mlecourse.course import build
    from mlecourse.paths import ROOT

    failures = build.execute_notebooks(workers=1)
    assert not failures, "\n".join(failures)
    env = {**os.environ, "MPLBACKEND": "Agg"}  # as CI machines often do: plots must still draw
    # One after the other: both builds write the executed notebooks' images
    # into _build/jupyter_execute, and two at once raced on a fresh clone.
    results = []
    for command in (build.command(), build.command(no_solutions=True)):
        with tempfile.TemporaryFile("w+") as log:  # a file, not a pipe: a long log cannot block
            code = subprocess.run(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True,
                                  env=env).returncode
            log.seek(0)
            results.append({"args": command, "returncode": code, "stdout": log.read(), "stderr": ""})
    if results[1]["returncode"] == 0:  # as `make book-nosolutions` does: close the leaks, and prove it
        results[1] = _finish_workshop_site(results[1])
    return results


def _finish_workshop_site(result: dict) -> dict:
    import contextlib
    import io

    from mlecourse.course import workshop_build
    from mlecourse.paths import ROOT

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = workshop_build.main(ROOT / "_build" / "nosolutions" / "_build" / "html")
    return {**result, "returncode": code, "stdout": result["stdout"] + out.getvalue(),
            "stderr": result["stderr"] + err.getvalue()}


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


@pytest.fixture(scope="session")
def tiny_frame():
    """2019-2020 loans, cleaned: enough to train the course's models in about a second."""
    from mlecourse.lender import features
    from mlecourse.lender.data.loading import load_loans

    clean, _ = features.clean_loans(load_loans())
    return features.split_by_date(clean)[0]


@pytest.fixture(scope="session")
def loan_splits():
    """(train 2019-2020, validate 2021, test 2022), cleaned: shared, so never modify them in place."""
    from mlecourse.lender import features
    from mlecourse.lender.data.loading import load_loans

    clean, _ = features.clean_loans(load_loans())
    return features.split_by_date(clean)


@pytest.fixture(scope="session")
def loan_windows():
    """(train 2019-2020, validate 2021), cleaned."""
    from mlecourse.lender import features
    from mlecourse.lender.data.loading import load_loans

    clean, _ = features.clean_loans(load_loans())
    train, valid, _test = features.split_by_date(clean)
    return train, valid


@pytest.fixture(scope="session")
def course_model(loan_windows):
    """The course's boosting model on 2019-2020: the chapters' own fit, from the
    model cache (fitted here only if no notebook has stored it yet)."""
    from threadpoolctl import threadpool_limits

    from mlecourse.lender.modeling import model_cache

    # one OpenMP thread: the suite runs two test processes on two cores, and
    # boosting's threads spinning against each other can make a 1 s fit take 60 s
    with threadpool_limits(1):
        return model_cache.trained(loan_windows[0], "boosting")


@pytest.fixture(scope="session")
def small_model(loan_windows):
    """A quick boosting model (3,000 rows, 10 trees) for tests of the service's plumbing."""
    from threadpoolctl import threadpool_limits

    from mlecourse.lender.modeling import model_cache

    with threadpool_limits(1):
        return model_cache.trained(loan_windows[0].head(3000), "boosting", max_iter=10)
