"""The pytest plugin that makes notebooks tests (``-p mlecourse.course.nbtest``).

Every notebook in chapters/, solutions/ and exercises/ is one test: it runs
once, in a fresh kernel, through :mod:`mlecourse.course.execute`, which keeps
the executed notebook for the site build (so ``make test`` executes each
notebook once, not once for the test and again for the book). A failure names
the notebook and the cell.

The plugin also says where the time goes: it prints a line as each notebook
finishes (how many are left), and at the end a table per test file and per
notebook of wall and CPU seconds, also written to ``_build/test-profile.json``.
The slowest notebooks run first next time, so the two workers finish together.
"""
from __future__ import annotations

import json
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

from mlecourse.paths import ROOT

NOTEBOOK_FOLDERS = ("chapters", "solutions", "exercises")
PROFILE = ROOT / "_build" / "test-profile.json"


def _is_course_notebook(path: Path) -> bool:
    return path.suffix == ".ipynb" and path.parent.name in NOTEBOOK_FOLDERS and path.parent.parent == ROOT


class NotebookFailed(Exception):
    """A notebook's cell failed, timed out, or wrote to stderr."""


def pytest_collect_file(file_path: Path, parent):
    if _is_course_notebook(Path(file_path)):
        return NotebookFile.from_parent(parent, path=Path(file_path))
    return None


class NotebookFile(pytest.File):
    def collect(self):
        yield NotebookItem.from_parent(self, name=self.path.name)


class NotebookItem(pytest.Item):
    def runtest(self):
        from mlecourse.course import execute

        run = execute.execute(self.path)
        cell, seconds = run.slowest
        self.user_properties += [("kernel_cpu", run.cpu), ("slowest_cell", cell),
                                 ("slowest_cell_s", seconds), ("notebook_wall", run.wall)]
        if run.error:
            raise NotebookFailed(run.error)

    def repr_failure(self, excinfo, style=None):
        if excinfo.errisinstance(NotebookFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, 0, f"notebook {self.path.relative_to(ROOT)}"


# --- order: the longest first, so the two workers finish together ------------
# With two workers, the run takes as long as the busier one. Handing out the
# longest files first and the short ones last (longest-processing-time-first)
# leaves little for one worker to finish alone. The times come from the last
# run here (_build/test-profile.json), else from tests/durations.json, a
# committed copy for a fresh clone (it only orders; a stale one costs seconds).

DURATIONS = ROOT / "tests" / "durations.json"
BOOK = "tests/test_book.py"        # builds both sites (the `site_builds` fixture)
BROWSER = "tests/test_site_browser.py"  # opens what that build made


def _previous_walls() -> dict[str, float]:
    for source in (PROFILE, DURATIONS):
        try:
            return {k: v["wall"] for k, v in json.loads(source.read_text())["files"].items()}
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return {}


def _file_of(item) -> str:
    return item.nodeid.split("::", 1)[0]


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    """Notebooks first, longest first (by the last run, else by size); then
    the site build, which renders what they executed; then the other tests,
    longest first, but the browser test only after one other file, so the
    build it needs is done by the time a worker reaches it."""
    walls = _previous_walls()
    files = list(dict.fromkeys(_file_of(i) for i in items if not isinstance(i, NotebookItem)))
    others = sorted((f for f in files if f != BOOK), key=lambda f: -walls.get(f, 0.0))
    if BROWSER in others:
        others.remove(BROWSER)
        others.insert(min(1, len(others)), BROWSER)
    rank = {name: n for n, name in enumerate(([BOOK] if BOOK in files else []) + others)}

    def key(item):
        name = _file_of(item)
        if isinstance(item, NotebookItem):
            return (0, -walls.get(name, item.path.stat().st_size / 1e4))
        return (1, rank[name])

    items.sort(key=key)  # stable: tests keep their order within a file
    config._course_notebooks = sum(isinstance(i, NotebookItem) for i in items)


# --- measure: CPU per phase on the worker, reported to the controller ---------

def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # Made right after its phase ran, so the phase's CPU is known.
    outcome = yield
    outcome.get_result().user_properties.append(("cpu", getattr(item, f"_course_cpu_{call.when}", 0.0)))


def _measured(when):
    @pytest.hookimpl(hookwrapper=True)
    def hook(item):
        before = _cpu()
        yield
        setattr(item, f"_course_cpu_{when}", _cpu() - before)
    return hook


pytest_runtest_setup = _measured("setup")
pytest_runtest_call = _measured("call")
pytest_runtest_teardown = _measured("teardown")


# --- report: progress lines and the profile, on the controller ----------------

class Profile:
    def __init__(self, config):
        self.config = config
        self.files = defaultdict(lambda: {"wall": 0.0, "cpu": 0.0, "tests": 0})
        self.notebooks = {}
        self.done = 0
        self.began = time.perf_counter()
        self.failed = []

    @property
    def total(self) -> int:
        return getattr(self.config, "_course_notebooks", 0) or self.config.stash.get(_TOTAL, 0)

    def add(self, report):
        props = dict(report.user_properties)
        name = report.nodeid.split("::", 1)[0]
        entry = self.files[name]
        entry["wall"] += report.duration
        entry["cpu"] += props.get("cpu", 0.0)
        if report.when == "call":
            entry["tests"] += 1
        if report.when == "call" and "notebook_wall" in props:
            # The kernel is a reaped child: its CPU is already in the phase's "cpu".
            self.notebooks[name] = {"wall": props["notebook_wall"], "cpu": props["kernel_cpu"],
                                    "slowest_cell": props["slowest_cell"],
                                    "slowest_cell_s": props["slowest_cell_s"], "passed": report.passed}
            self.done += 1
            left = max(self.total - self.done, 0)
            status = "ok" if report.passed else "FAILED"
            writer = self.config.pluginmanager.get_plugin("terminalreporter")
            if writer is not None:
                writer.write_line(
                    f"notebook {self.done}/{self.total or '?'} {status}: {name} "
                    f"{props['notebook_wall']:.1f} s (kernel CPU {props['kernel_cpu']:.1f} s, "
                    f"slowest cell {props['slowest_cell']}: {props['slowest_cell_s']:.1f} s); "
                    f"{left} left, {time.perf_counter() - self.began:.0f} s elapsed")


_TOTAL = pytest.StashKey[int]()


_PROFILES: list[Profile] = []


def pytest_configure(config):
    config._course_profile = Profile(config)
    if not hasattr(config, "workerinput"):  # the controller (or a run without workers)
        _PROFILES.append(config._course_profile)


def pytest_unconfigure(config):
    if config._course_profile in _PROFILES:
        _PROFILES.remove(config._course_profile)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node, ids):
    config = node.config
    config.stash[_TOTAL] = sum(1 for i in ids if i.split("::", 1)[0].endswith(".ipynb"))


def pytest_runtest_logreport(report):
    for profile in _PROFILES:
        profile.add(report)


@pytest.hookimpl
def pytest_terminal_summary(terminalreporter, exitstatus, config):
    profile = config._course_profile
    if hasattr(config, "workerinput") or not profile.files:
        return
    wall = time.perf_counter() - profile.began
    rows = sorted(profile.files.items(), key=lambda kv: -kv[1]["wall"])
    write = terminalreporter.write_line
    terminalreporter.section("where the time goes (wall and CPU seconds per test file)")
    write(f"{'file':<52} {'tests':>5} {'wall s':>8} {'CPU s':>8}")
    for name, entry in rows[:25]:
        write(f"{name:<52} {entry['tests']:>5} {entry['wall']:>8.1f} {entry['cpu']:>8.1f}")
    if len(rows) > 25:
        rest = rows[25:]
        write(f"{f'({len(rest)} more files)':<52} {sum(e['tests'] for _, e in rest):>5} "
              f"{sum(e['wall'] for _, e in rest):>8.1f} {sum(e['cpu'] for _, e in rest):>8.1f}")
    total_wall = sum(e["wall"] for e in profile.files.values())
    total_cpu = sum(e["cpu"] for e in profile.files.values())
    write(f"{'all tests (summed over workers)':<52} {'':>5} {total_wall:>8.1f} {total_cpu:>8.1f}; "
          f"session wall {wall:.1f} s")
    if profile.notebooks:
        # The machine's yardstick, so these figures compare with another machine's.
        from mlecourse.course.calibration import calibrate

        cal = calibrate()
        write(cal.line())
        write(f"session: {cal.figure(wall, total_cpu)}; notebooks' kernels {sum(n['cpu'] for n in profile.notebooks.values()):.1f} s CPU")
    try:
        PROFILE.parent.mkdir(parents=True, exist_ok=True)
        previous = {}
        if PROFILE.exists():
            previous = json.loads(PROFILE.read_text()).get("files", {})
        # A partial run (one file) keeps the timings of files it did not run.
        PROFILE.write_text(json.dumps({"files": {**previous, **profile.files},
                                       "notebooks": profile.notebooks,
                                       "session_wall": wall}, indent=1, sort_keys=True))
    except (OSError, ValueError):
        pass


def write_durations() -> int:
    """``python -m mlecourse.course.nbtest --durations``: copy the last full run's
    seconds per file into tests/durations.json, the order a fresh clone uses."""
    try:
        files = json.loads(PROFILE.read_text())["files"]
    except (OSError, ValueError, KeyError):
        print(f"error: no {PROFILE.relative_to(ROOT)} yet: run `make test` first", file=sys.stderr)
        return 1
    about = ("Seconds per test file in one full run, used only to hand out the longest files first "
             "(mlecourse.course.nbtest); refresh with: python -m mlecourse.course.nbtest --durations")
    data = {"_about": about, "files": {k: {"wall": round(v["wall"], 1)} for k, v in sorted(files.items())}}
    DURATIONS.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {DURATIONS.relative_to(ROOT)} ({len(files)} files)")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] != ["--durations"]:
        sys.exit("usage: python -m mlecourse.course.nbtest --durations")
    sys.exit(write_durations())
