"""Run a notebook once, and keep what it printed for the book.

The tests and the site build both need every notebook executed. Running each
twice doubled the time of ``make test``, so there is one executor: it runs a
notebook in a fresh kernel (as "Restart and run all" would), measures it
(wall time, the kernel's CPU time, every cell), and stores the executed
notebook in the book's jupyter-cache (``_build/.jupyter_cache``). The site
build (``execute_notebooks: cache`` in ``_config.yml``) then finds it there
and renders it without running it again.

Only a notebook that ran without error is stored, so a build never passes
over a notebook that failed: it finds no cached copy and runs it itself. The
cache is keyed by the code cells (source and metadata) and the kernel, so any
edit to code runs the notebook again, while an edit to a markdown cell does not.

``python -m mlecourse.course.execute`` executes the book's notebooks that are
not already cached, two at a time, printing each as it goes (``make book``
runs it first).
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import fcntl
import hashlib
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import nbformat
import psutil
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

from mlecourse.checks.core import EXPECT_ENV
from mlecourse.paths import ROOT

CACHE_DIR = ROOT / "_build" / ".jupyter_cache"
RUNNING_DIR = ROOT / "_build" / ".executing"  # a lock per notebook being executed
# The slowest cell of the course takes about 8 s on an idle 2-core machine
# (`make bench`: chapter 4's hyperparameter search, chapter 5's load test),
# and took 15.6 s on a loaded one; a slow, busy laptop can be ten times
# slower than that again. 300 s a cell, over 30 times the slowest, stops a
# cell that hangs without failing a slow machine. Raise it with
# MLECOURSE_CELL_TIMEOUT (seconds) if you must.
CELL_TIMEOUT = 300
TIMEOUT_ENV = "MLECOURSE_CELL_TIMEOUT"
# A workbook's checks must all say "correct" in solutions/ and "not attempted"
# in exercises/ (which proves no check accepts the placeholder): the check
# function reads this expectation from the kernel's environment.
EXPECTATIONS = {"solutions": "correct", "exercises": "not_attempted"}


def cell_timeout() -> int:
    value = os.environ.get(TIMEOUT_ENV, "")
    if not value:
        return CELL_TIMEOUT
    try:
        return max(1, int(float(value)))
    except ValueError:
        raise SystemExit(f"error: {TIMEOUT_ENV}={value!r} is not a number of seconds; "
                         f"e.g. {TIMEOUT_ENV}=600") from None


def relative(path: Path) -> str:
    path = Path(path).resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


@dataclass
class Run:
    """What one execution of a notebook measured, and how it ended."""
    path: str
    wall: float = 0.0
    cpu: float = 0.0  # the kernel's CPU seconds (user + system), its children included
    cells: list[tuple[int, float]] = field(default_factory=list)  # (cell number, seconds)
    error: str | None = None  # one paragraph naming the notebook and the cell
    cached: bool = False  # stored in the book's cache
    reused: bool = False  # found in the cache, not executed

    @property
    def slowest(self) -> tuple[int, float]:
        return max(self.cells, key=lambda c: c[1], default=(0, 0.0))


def inputs_fingerprint() -> str:
    """A hash of what a notebook's outputs depend on besides its own code: the
    course's package, the data and the locked libraries. The book's cache
    key covers only the notebook, so a stored notebook counts as current only
    if these are unchanged too."""
    digest = hashlib.sha256()
    files = [*sorted((ROOT / "src" / "mlecourse").rglob("*.py")),
             *sorted(p for p in (ROOT / "data").rglob("*") if p.is_file()), ROOT / "requirements.lock"]
    for file in files:
        if file.exists():
            digest.update(str(file.relative_to(ROOT)).encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def kernel_env(path: Path) -> dict[str, str]:
    env = dict(os.environ)
    # A non-interactive backend (MPLBACKEND=Agg, common on CI machines) would
    # make every plot vanish from the pages and the cache.
    env.pop("MPLBACKEND", None)
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    expect = EXPECTATIONS.get(Path(path).parent.name)
    if expect:
        env[EXPECT_ENV] = expect
    else:
        env.pop(EXPECT_ENV, None)
    return env


def _seconds(cell) -> float:
    timing = cell.get("metadata", {}).get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (start and end):
        return 0.0
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))
    return (parse(end) - parse(start)).total_seconds()


def _first_line(cell) -> str:
    lines = [line for line in cell.source.splitlines() if line.strip()]
    return (lines[0][:70] if lines else "").strip()


def _kernel_cpu(client) -> float:
    """CPU seconds the kernel (and anything it started) has used so far."""
    try:
        process = psutil.Process(client.km.provisioner.pid)
        times = process.cpu_times()
        return times.user + times.system + times.children_user + times.children_system
    except (AttributeError, psutil.Error):
        return 0.0


def _stderr_cells(notebook) -> list[int]:
    """Code cells (1-based among all cells) that wrote to stderr: the build
    treats that as a warning, and a warning fails it."""
    return [i + 1 for i, c in enumerate(notebook.cells) if c.cell_type == "code"
            and any(o.get("output_type") == "stream" and o.get("name") == "stderr" for o in c.outputs)]


def _describe_failure(name: str, notebook, index: int | None, error: Exception, timeout: int) -> str:
    where = ""
    if index is not None and 0 <= index < len(notebook.cells):
        where = f"cell {index + 1} (`{_first_line(notebook.cells[index])}`)"
    if isinstance(error, CellTimeoutError):
        return (f"{name}: {where or 'a cell'} ran longer than {timeout} s and was stopped. "
                f"The machine may be busy: close other programs and run again, or allow more time "
                f"with {TIMEOUT_ENV}={timeout * 2} (e.g. `{TIMEOUT_ENV}={timeout * 2} make test`).")
    if isinstance(error, DeadKernelError):
        return (f"{name}: the kernel died during {where or 'a cell'} (out of memory?). "
                "Close other programs and run again.")
    detail = str(error).strip().splitlines()
    tail = "\n".join(detail[-12:])
    return f"{name}: {where or 'a cell'} failed:\n{tail}"


# A kernel that dies while starting, before any cell ran (two kernels and the
# course's services on one machine pick free ports at the same moment, and
# jupyter_client's choice can be taken before the kernel binds it), is started
# again, this many times; a kernel that dies while running a cell is the
# notebook's failure and is reported.
START_RETRIES = 2


def execute(path: Path, store: bool = True, timeout: int | None = None) -> Run:
    """Execute the notebook at ``path`` in a fresh kernel; store it in the
    book's cache if it ran cleanly and ``store`` is true."""
    path = Path(path).resolve()
    timeout = timeout or cell_timeout()
    source = nbformat.read(path, as_version=4)
    for attempt in range(START_RETRIES + 1):
        run, notebook, started = _execute_once(path, source, timeout)
        if run.error is None or started or attempt == START_RETRIES:
            break
    if run.error is None and store:
        _store(path, source, notebook, run.wall)
        run.cached = True
    return run


def _execute_once(path: Path, source, timeout: int):
    """One run in a fresh kernel: (the Run, the executed notebook, whether any cell started)."""
    name = relative(path)
    notebook = copy.deepcopy(source)
    # In an empty folder of its own, as a notebook downloaded from the site
    # runs: this proves it finds its data from anywhere (nothing in the course
    # uses relative paths) and keeps files it writes out of the repository.
    workdir = tempfile.TemporaryDirectory(prefix=f"mlecourse-{path.stem}-")
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3", record_timing=True,
                            resources={"metadata": {"path": workdir.name}})
    run = Run(name)
    current = {"index": None, "cpu": 0.0}

    def started(cell, cell_index, **_):
        current["index"] = cell_index

    def finished(cell, cell_index, **_):
        current["cpu"] = _kernel_cpu(client)

    client.on_cell_execute = started
    client.on_cell_executed = finished
    began = time.perf_counter()
    try:
        with _running(path), _quiet_stderr():
            client.execute(env=kernel_env(path))
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
        run.error = _describe_failure(name, notebook, current["index"], error, timeout)
    except RuntimeError as error:  # "Kernel died before replying to kernel_info"
        if current["index"] is not None:
            raise
        run.error = f"{name}: the kernel did not start ({error}). Run again; if it persists, `make doctor`."
    run.wall = time.perf_counter() - began
    workdir.cleanup()
    run.cpu = current["cpu"]
    run.cells = [(i + 1, _seconds(c)) for i, c in enumerate(notebook.cells) if c.cell_type == "code"]
    if run.error is None and (noisy := _stderr_cells(notebook)):
        run.error = (f"{name}: cell(s) {noisy} wrote to stderr (a warning or a log line); the book "
                     "build fails on that. Silence it in the cell, or show it on purpose via stdout.")
    return run, notebook, current["index"] is not None


def _store(path: Path, source, executed, seconds: float) -> None:
    """Put the executed notebook in the cache under the source's key: cell
    metadata back as committed (timings out), so the build's lookup matches."""
    from jupyter_cache.base import CacheBundleIn

    for original, cell in zip(source.cells, executed.cells):
        cell.metadata = copy.deepcopy(original.metadata)
    with _cache() as cache:
        stage = cache.add_nb_to_project(str(path))
        data = {"execution_seconds": seconds, "inputs": inputs_fingerprint()}
        cache.cache_notebook_bundle(CacheBundleIn(executed, stage.uri, data=data),
                                    check_validity=False, overwrite=True)


def is_cached(path: Path, inputs: str | None = None) -> bool:
    """Whether the cache holds this notebook, executed with the current
    package, data and libraries. Waits for a run of it in progress."""
    notebook = nbformat.read(path, as_version=4)
    with _running(path), _cache() as cache:
        try:
            record = cache.match_cache_notebook(notebook)
        except KeyError:
            return False
    return (record.data or {}).get("inputs") == (inputs or inputs_fingerprint())


@contextlib.contextmanager
def _running(path: Path):
    """Held while a notebook executes: another process that needs it (the book
    build in the tests) waits for that run instead of starting a second one."""
    RUNNING_DIR.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha256(str(Path(path).resolve()).encode()).hexdigest()[:16]
    with open(RUNNING_DIR / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextlib.contextmanager
def _cache():
    """The book's jupyter-cache, one writer at a time (tests run two workers)."""
    from jupyter_cache import get_cache

    CACHE_DIR.parent.mkdir(parents=True, exist_ok=True)
    with open(CACHE_DIR.parent / ".jupyter_cache.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield get_cache(str(CACHE_DIR))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextlib.contextmanager
def _quiet_stderr():
    """Kernels print start-up notices to the terminal's stderr; a cell's own
    stderr still reaches its outputs (and fails the run, above)."""
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def book_notebooks() -> list[Path]:
    """The notebooks the site renders, in the order of its table of contents."""
    from mlecourse.course import plan
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = plan._toc_files({"file": toc.get("root", "intro"), **toc})
    return [ROOT / f"{f}.ipynb" for f in files if (ROOT / f"{f}.ipynb").exists()]


def execute_missing(paths: list[Path], workers: int = 2, out=sys.stdout) -> list[Run]:
    """Execute, ``workers`` at a time, the notebooks the cache lacks; print
    each as it finishes. Returns every run (reused ones marked)."""
    inputs = inputs_fingerprint()
    todo = [p for p in paths if not is_cached(p, inputs)]
    runs = [Run(relative(p), reused=True) for p in paths if p not in todo]
    print(f"notebooks: {len(paths) - len(todo)} of {len(paths)} already executed (cached), "
          f"{len(todo)} to run", file=out, flush=True)
    if not todo:
        return runs
    with ProcessPoolExecutor(max_workers=max(1, min(workers, len(todo)))) as pool:
        futures = [pool.submit(execute, p) for p in todo]
        for done, future in enumerate(as_completed(futures), 1):
            run = future.result()
            runs.append(run)
            cell, seconds = run.slowest
            status = "FAILED" if run.error else "ok"
            print(f"[{done}/{len(todo)}] {run.path}: {status} in {run.wall:.1f} s "
                  f"(CPU {run.cpu:.1f} s, slowest cell {cell}: {seconds:.1f} s)", file=out, flush=True)
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlecourse.course.execute", description=__doc__)
    parser.add_argument("notebooks", nargs="*", help="notebooks to execute (default: the book's)")
    parser.add_argument("--workers", type=int, default=2, help="notebooks at once (default 2)")
    args = parser.parse_args(argv)
    paths = [Path(p).resolve() for p in args.notebooks] or book_notebooks()
    runs = execute_missing(paths, args.workers)
    failed = [r for r in runs if r.error]
    for run in failed:
        print(f"error: {run.error}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
