"""``mlecourse progress``: which exercises a learner has done, from their own copies.

Each workbook in ``work/`` is copied to a temporary folder and run there
headless, so the learner's file, its outputs and its timestamps are never
touched. Every ``check`` cell prints one line starting with ✓, ○ or ✗ (see
``checks.result``); this module reads those lines. An exercise whose check
never printed (an earlier cell failed, or the copy does not exist) is
reported too, with the reason, so no exercise silently goes missing.

Each exercise's line is passed on as soon as its check cell has run (a
workbook takes tens of seconds: a learner sees it move), and workbooks run in
parallel, one kernel per core (at most ``MAX_WORKERS``): the kernels do the
work, so threads are enough to drive them.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat

from mlecourse.checks.result import CORRECT, INCORRECT, NOT_ATTEMPTED

from .workbooks import LearnerFileError, find_workbook, workbook_numbers

LINE = re.compile(r"^(?P<icon>[✓○✗]) Exercise (?P<id>[\w.]+): (?P<outcome>correct|incorrect|not attempted)"
                  r"(?: yet)?\.?[ \t]*(?P<message>.*)$", re.M)
ICONS = {CORRECT: "✓", INCORRECT: "✗", NOT_ATTEMPTED: "○"}
CELL_TIMEOUT = 120  # seconds: generous, a slow laptop is not a wrong answer
MAX_WORKERS = 4     # kernels at once: each holds pandas and scikit-learn (~0.5 GB)


@dataclass(frozen=True)
class Row:
    chapter: str
    exercise: str
    outcome: str
    message: str


def exercises_by_workbook() -> dict[str, list[str]]:
    """Workbook file name -> its exercise ids, from the hint index (the checks'
    registry as plain data: importing every chapter's checks takes seconds)."""
    from mlecourse.checks.hint_index import HINTS

    out: dict[str, list[str]] = {}
    for id, ex in HINTS.items():
        out.setdefault(ex["workbook"], []).append(id)
    return out


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """The notebook at ``path``, or one line naming the file and the fix."""
    try:
        return nbformat.read(path, as_version=4)
    except (json.JSONDecodeError, nbformat.reader.NotJSONError) as err:
        raise LearnerFileError(f"{path.name} is not a valid notebook ({str(err).splitlines()[0][:80]}): "
                               f"`mlecourse reset {path.name[:2]}` restores it and saves yours in "
                               "work/backups/") from None
    except Exception as err:  # an unreadable or malformed notebook: still one line
        raise LearnerFileError(f"{path.name} cannot be read ({type(err).__name__}: {err}): "
                               f"`mlecourse reset {path.name[:2]}` restores it, saving yours") from None


def run_copy(path: Path, on_cell=None) -> nbformat.NotebookNode:
    """Execute a copy of ``path`` in a temporary folder and return the executed copy."""
    from nbclient import NotebookClient

    notebook = read_notebook(path)
    with tempfile.TemporaryDirectory(prefix="mlecourse-progress-") as tmp:
        shutil.copyfile(path, Path(tmp) / path.name)  # a copy, so relative writes land there
        client = NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3",
                                allow_errors=True, resources={"metadata": {"path": tmp}})
        if on_cell:  # on_cell(index, number of cells, the executed cell with its outputs)
            client.on_cell_executed = lambda cell, cell_index, **_: on_cell(cell_index, len(notebook.cells), cell)
        client.execute(stderr=subprocess.DEVNULL)  # the kernel's start-up chatter, not the learner's output
    return notebook


def _text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif "data" in out:
            parts.append(out["data"].get("text/plain", ""))
    return "".join(parts)


def _first_error(notebook) -> str:
    for index, cell in enumerate(notebook.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                return f"cell {index + 1} raised {out['ename']}: {out['evalue']}"[:160]
    return ""


def rows_for(workbook: str, ids: list[str], notebook=None, missing: str = "") -> list[Row]:
    """One row per exercise of ``workbook``, from an executed notebook's check lines."""
    chapter, seen = workbook[:2], {}
    for cell in (notebook.cells if notebook is not None else []):
        for match in LINE.finditer(_text(cell)):
            seen.setdefault(match["id"], (match["outcome"], match["message"].strip()))
    error = _first_error(notebook) if notebook is not None else ""
    rows = []
    for id in ids:
        if id in seen:
            rows.append(Row(chapter, id, *seen[id]))
        elif missing:
            rows.append(Row(chapter, id, NOT_ATTEMPTED, missing))
        else:
            why = f"its check did not run: {error}" if error else "its check cell is missing from your copy"
            rows.append(Row(chapter, id, INCORRECT, why))
    return rows


def workers(count: int) -> int:
    """How many workbooks to run at once: one per core, within MAX_WORKERS."""
    return max(1, min(count, os.cpu_count() or 1, MAX_WORKERS))


def _one_workbook(work_dir: Path, name: str, ids: list[str], reporter=None,
                  stop: threading.Event | None = None) -> list[Row]:
    """The rows of one workbook; ``reporter`` hears of each as its check cell runs."""
    copy = work_dir / name
    if not copy.exists():
        return rows_for(name, ids, missing=f"no copy in {work_dir.name}/ yet (`mlecourse start` makes it)")
    stop = stop or threading.Event()
    if stop.is_set():   # Ctrl-C came before this workbook's turn
        raise KeyboardInterrupt
    if reporter:
        reporter.start(name)

    def on_cell(index: int, cells: int, cell) -> None:
        if stop.is_set():   # Ctrl-C: end this workbook's run after the cell it was in
            raise KeyboardInterrupt
        for match in LINE.finditer(_text(cell)) if reporter else ():
            if match["id"] in ids:
                reporter.row(Row(name[:2], match["id"], match["outcome"], match["message"].strip()))
    try:
        rows = rows_for(name, ids, run_copy(copy, on_cell))
    except LearnerFileError as err:
        rows = [Row(name[:2], id, INCORRECT, str(err)) for id in ids]
    if reporter:
        reporter.done(name)
    return rows


def collect(work_dir: Path, chapter: str | None = None, reporter=None) -> list[Row]:
    """The rows of every workbook (or one chapter's), from the copies in ``work_dir``,
    in the workbooks' order; several workbooks run at once (see ``workers``).

    ``reporter`` (a ``Reporter``) hears when a workbook starts and ends, and of
    every check line as it is printed, from several threads."""
    by_workbook = exercises_by_workbook()
    names = [find_workbook(chapter).name] if chapter else list(p.name for p in workbook_numbers().values())
    names = [n for n in names if n in by_workbook]
    stop = threading.Event()
    pool = ThreadPoolExecutor(workers(len(names)), thread_name_prefix="progress")
    try:
        runs = [pool.submit(_one_workbook, work_dir, name, by_workbook[name], reporter, stop)
                for name in names]
        return [row for run in runs for row in run.result()]
    except KeyboardInterrupt:   # the kernels got Ctrl-C too: start no other run, stop these
        pool.shutdown(wait=False, cancel_futures=True)
        stop.set()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


class Reporter:
    """What ``progress`` says while it runs: a line when a workbook starts, a line
    per exercise as its check runs, a line when the workbook is done (with its
    time). Threads share it, so each line is written whole."""

    def __init__(self, stream=sys.stderr, clock=time.perf_counter):
        self.stream, self.clock = stream, clock
        self.started: dict[str, float] = {}
        self.lock = threading.Lock()

    def _say(self, text: str) -> None:
        with self.lock:
            self.stream.write(text + "\n")
            self.stream.flush()

    def start(self, name: str) -> None:
        self.started[name] = self.clock()
        self._say(f"running a copy of {name} ...")

    def done(self, name: str) -> None:
        self._say(f"{name}: done in {duration(self.clock() - self.started[name])}")

    def row(self, row: Row) -> None:
        message = f"  {row.message}" if row.outcome != CORRECT and row.message else ""
        self._say(f"  {ICONS[row.outcome]} {row.exercise:<6}{row.outcome}{message}")


def duration(seconds: float) -> str:
    """'48 s', '3 min 05 s': how long, as a person says it."""
    seconds = round(seconds)
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60:02d} s"


def table(rows: list[Row]) -> str:
    """A table per chapter: ✓ correct, ○ not attempted, ✗ incorrect (with the check's message)."""
    lines, chapter = [], None
    for row in rows:
        if row.chapter != chapter:
            chapter = row.chapter
            mine = [r for r in rows if r.chapter == chapter]
            done = sum(r.outcome == CORRECT for r in mine)
            lines += ["" if lines else None, f"Chapter {int(chapter)}: {done} of {len(mine)} correct"]
        message = f"  {row.message}" if row.outcome != CORRECT and row.message else ""
        lines.append(f"  {ICONS[row.outcome]} {row.exercise:<6}{row.outcome}{message}")
    correct = sum(r.outcome == CORRECT for r in rows)
    lines += ["", f"{correct} of {len(rows)} exercises correct. ✓ correct  ○ not attempted  ✗ incorrect"]
    return "\n".join(line for line in lines if line is not None)


def as_json(rows: list[Row], work_dir: Path) -> str:
    return json.dumps({"work": str(work_dir), "exercises": [asdict(r) for r in rows]}, indent=2,
                      ensure_ascii=False)
