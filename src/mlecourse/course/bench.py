"""``make bench``: how long every notebook and its slowest cell take, on this machine.

Runs each notebook of chapters/, solutions/ and exercises/ in a fresh kernel
(as a learner's "Restart and run all" would) and prints a table: wall
seconds, the kernel's CPU seconds, and both as a multiple of a calibration
of this machine (see :mod:`mlecourse.course.calibration`), measured before
and after the notebooks, so that two runs on different machines compare.
Exits 1 if a notebook takes more than 270 units or a cell more than 45: the
course's budgets, in units so that a busy machine's slowness is not counted
against a notebook (about 60 s and 10 s at an idle 2-core laptop's 0.22 s
unit). One notebook is allowed twice the budget: the capstone's reference
solution, which runs the whole system. The executed notebooks also go to the
book's cache.

``--service`` times the model service's benchmark (``make bench-service``)
the same way, around :func:`mlecourse.lender.serving.loadtest.main`.

``--hint`` (``make bench-hint``) times ``mlecourse hint 8.2`` and ``mlecourse
hint 99.9`` (an exercise that does not exist) as a learner types them, each
a fresh process, against a budget of 5 units.

``--progress NN`` times ``mlecourse progress NN`` on a copy of workbook NN
with every answer filled in (its solution), as a learner who has finished it
would run it.

``--book`` (``make bench-book``) times the site as a newcomer builds it: a
fresh clone of the committed course, ``make book`` there from nothing
(install from the local package cache, execute every notebook, render), then
one markdown cell edited and ``make book`` again. Budgets: 5 minutes cold,
30 s for the rebuild.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mlecourse.course import calibration, execute
from mlecourse.paths import CHAPTERS_DIR, EXERCISES_DIR, ROOT, SOLUTIONS_DIR

NOTEBOOK_UNITS, CELL_UNITS = 270.0, 45.0
# The capstone's workbook, solved, runs the whole system once (an MLflow store, a service,
# a canary, a year's replay, a search for a fairer model): the one notebook allowed more.
NOTEBOOK_UNITS_FOR = {"solutions/11_capstone.ipynb": 540.0}
COLD_BOOK_BUDGET, REBUILD_BUDGET = 300.0, 30.0
HINT_BUDGET_UNITS, HINT_RUNS = 5.0, 5
HINTED = ("8.2", "99.9")   # an exercise, and one that does not exist (it lists the real ones)


def all_notebooks():
    return [p for d in (CHAPTERS_DIR, SOLUTIONS_DIR, EXERCISES_DIR) for p in sorted(d.glob("*.ipynb"))]


def _resolve(name: str) -> Path:
    """A notebook named from the repository root or the current folder."""
    path = next((p for p in (ROOT / name, Path(name).resolve()) if p.exists()), ROOT / name)
    if not path.exists() or path.suffix != ".ipynb":
        raise SystemExit(f"error: {name} is not a notebook of the course; give a path such as "
                         "chapters/05_deployment.ipynb")
    return path.resolve()


HEADER = (f"{'notebook':<40} {'wall s':>7} {'CPU s':>6} {'units':>6} "
          f"{'slowest cell s':>14} {'cell':>4} {'units':>6}")


def notebook_budget(path: str) -> float:
    """The units a notebook may take (``path`` as the bench names it, from the repository)."""
    return NOTEBOOK_UNITS_FOR.get(path, NOTEBOOK_UNITS)


def row(run: execute.Run, cal: calibration.Calibration) -> tuple[str, bool]:
    cell, seconds = run.slowest
    over = cal.times(run.wall) > notebook_budget(run.path) or cal.times(seconds) > CELL_UNITS
    text = (f"{run.path:<40} {run.wall:>7.1f} {run.cpu:>6.1f} {cal.times(run.wall):>6.1f} "
            f"{seconds:>14.2f} {cell:>4} {cal.times(seconds):>6.2f}")
    if run.error:
        text += "  FAILED"
    elif over:
        text += "  OVER BUDGET"
    return text, over


def bench_notebooks(paths) -> int:
    before = calibration.calibrate()
    print(before.line(), flush=True)
    print(HEADER, flush=True)
    over = failed = 0
    wall = cpu = 0.0
    for path in paths:
        run = execute.execute(path)
        text, flag = row(run, before)
        over += flag
        failed += run.error is not None
        wall, cpu = wall + run.wall, cpu + run.cpu
        print(text, flush=True)
        if run.error:
            print(f"  error: {run.error}", flush=True)
    print(f"{'all ' + str(len(paths)) + ' notebooks, one after another':<40} {wall:>7.1f} {cpu:>6.1f} "
          f"{before.times(wall):>6.1f}")
    after = calibration.calibrate()
    print(after.line().replace("calibration:", "calibration after:"))
    allowed = ", ".join(f"{name} {units:.0f}" for name, units in NOTEBOOK_UNITS_FOR.items())
    print(f"budgets: {NOTEBOOK_UNITS:.0f} units a notebook ({allowed}), {CELL_UNITS:.0f} units a cell; "
          f"{over} over budget, {failed} failed. 'units' = wall / the calibration unit "
          f"({before.unit:.3f} s here; about 0.22 s on an idle 2-core laptop).")
    return 1 if over or failed else 0


def bench_service(argv: list[str]) -> int:
    from mlecourse.lender.serving import loadtest

    before = calibration.calibrate()
    print(before.line(), flush=True)
    wall, cpu = time.perf_counter(), time.process_time()
    code = loadtest.main(argv)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    after = calibration.calibrate()
    print(after.line().replace("calibration:", "calibration after:"))
    print(f"bench-service: {before.figure(wall, cpu)} (this process's CPU; the server's own "
          f"process is not counted); a latency of L ms is L / {before.unit * 1000:.0f} units here.")
    return code


def _timed(command: list[str], cwd: Path, log: Path) -> tuple[float, float, int]:
    """Wall and CPU seconds (its processes, reaped) of one command, and its exit code."""
    def children() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "MLECOURSE_ROOT")}
    wall, cpu = time.perf_counter(), children()
    with open(log, "a") as out:
        code = subprocess.call(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env)
    return time.perf_counter() - wall, children() - cpu, code


def _mlecourse() -> list[str]:
    """The command a learner types: the console script next to this Python."""
    script = Path(sys.executable).with_name("mlecourse")
    return [str(script)] if script.exists() else [sys.executable, "-m", "mlecourse.course.cli"]


def bench_hint(ids=HINTED, runs: int = HINT_RUNS) -> int:
    """The median wall and CPU time of ``mlecourse hint ID``, each run a new process."""
    cal = calibration.calibrate()
    print(cal.line(), flush=True)
    over = 0
    for id in ids:
        times = sorted(_timed([*_mlecourse(), "hint", id], ROOT, Path(os.devnull))[:2] for _ in range(runs))
        wall, cpu = times[len(times) // 2]
        flag = "  OVER BUDGET" if cal.times(wall) > HINT_BUDGET_UNITS else ""
        over += bool(flag)
        print(f"mlecourse hint {id:<5} {wall:.2f} s, {cpu:.2f} s CPU, {cal.times(wall):.1f} units "
              f"(median of {runs}; budget "
              f"{HINT_BUDGET_UNITS:.0f} units){flag}", flush=True)
    print(calibration.calibrate().line().replace("calibration:", "calibration after:"))
    return 1 if over else 0


def bench_progress(chapter: str) -> int:
    """The time of ``mlecourse progress NN`` on a finished copy of workbook NN."""
    from mlecourse.course.workbooks import find_workbook

    solution = find_workbook(chapter, SOLUTIONS_DIR)
    cal = calibration.calibrate()
    print(cal.line(), flush=True)
    with tempfile.TemporaryDirectory(prefix="mlecourse-bench-progress-") as work:
        shutil.copy(solution, Path(work) / solution.name)
        log = Path(work) / "progress.log"
        wall, cpu, code = _timed([*_mlecourse(), "--work", work, "progress", chapter, "--quiet"], ROOT, log)
        summary = [line for line in log.read_text().splitlines() if "exercises correct" in line]
    print(f"mlecourse progress {chapter}: {cal.figure(wall, cpu)} (CPU of the command and its "
          f"kernel); {summary[0] if summary else 'no summary: see the command itself'}", flush=True)
    print(calibration.calibrate().line().replace("calibration:", "calibration after:"))
    return code


def edit_one_markdown_cell(clone: Path) -> str:
    """Add a sentence to the first markdown cell of chapter 1, as an author would."""
    import nbformat

    path = sorted((clone / "chapters").glob("01_*.ipynb"))[0]
    notebook = nbformat.read(path, as_version=4)
    cell = next(c for c in notebook.cells if c.cell_type == "markdown")
    cell.source += f"\n\n{EDITED}"
    nbformat.write(notebook, path)
    return path.relative_to(clone).as_posix()


EDITED = "An edited sentence, to time a rebuild."


def bench_book() -> int:
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout
    cal = calibration.calibrate()
    print(cal.line(), flush=True)
    if dirty.strip():
        print("note: uncommitted changes are not in the clone; this times the last commit")
    scratch = Path(tempfile.mkdtemp(prefix="mlecourse-bench-book-"))
    clone, log = scratch / "course", scratch / "build.log"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    rows = [("make book, fresh clone (install, execute, render)", COLD_BOOK_BUDGET,
             *_timed(["make", "book"], clone, log))]
    edited = edit_one_markdown_cell(clone)
    rows.append((f"make book again, one markdown cell of {edited} edited", REBUILD_BUDGET,
                 *_timed(["make", "book"], clone, log)))
    page = clone / "_build" / "html" / edited.replace(".ipynb", ".html")
    if rows[-1][-1] == 0 and EDITED not in page.read_text():  # a rebuild that skipped the edit times nothing
        rows[-1] = (*rows[-1][:-1], 1)
        print(f"error: the rebuilt {page.name} does not show the edit")
    over = failed = 0
    for name, budget, wall, cpu, code in rows:
        flag = "  FAILED" if code else ("  OVER BUDGET" if wall > budget else "")
        over, failed = over + (wall > budget), failed + (code != 0)
        print(f"{name:<62} {cal.figure(wall, cpu)} (budget {budget:.0f} s){flag}", flush=True)
    print(calibration.calibrate().line().replace("calibration:", "calibration after:"))
    if failed:
        print(f"error: a build failed; the clone and its log are kept: {log}")
        return 1
    shutil.rmtree(scratch, ignore_errors=True)
    return 1 if over else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlecourse.course.bench", description=__doc__)
    parser.add_argument("notebooks", nargs="*", help="notebooks to time (default: all)")
    parser.add_argument("--service", action="store_true",
                        help="time the model service benchmark instead; other arguments go to it")
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--service" in argv:  # everything else is the load test's own options
        return bench_service([a for a in argv if a != "--service"])
    if argv == ["--book"]:
        return bench_book()
    if argv == ["--hint"]:
        return bench_hint()
    if len(argv) == 2 and argv[0] == "--progress":
        return bench_progress(argv[1])
    args = parser.parse_args(argv)
    paths = [_resolve(p) for p in args.notebooks] or all_notebooks()
    return bench_notebooks(paths)


if __name__ == "__main__":
    sys.exit(main())
