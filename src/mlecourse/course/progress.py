"""``mlecourse progress``: which exercises a learner has done, from their own copies.

Each workbook in ``work/`` is copied to a temporary folder and run there
headless, so the learner's file, its outputs and its timestamps are never
touched. Every ``check`` cell prints one line starting with ✓, ○ or ✗ (see
``checks.result``); this module reads those lines. An exercise whose check
never printed (an earlier cell failed, or the copy does not exist) is
reported too, with the reason, so no exercise silently goes missing.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat

from mlecourse.checks import registry
from mlecourse.checks.result import CORRECT, INCORRECT, NOT_ATTEMPTED

from .workbooks import LearnerFileError, find_workbook, workbook_numbers

LINE = re.compile(r"^(?P<icon>[✓○✗]) Exercise (?P<id>[\w.]+): (?P<outcome>correct|incorrect|not attempted)"
                  r"(?: yet)?\.?[ \t]*(?P<message>.*)$", re.M)
ICONS = {CORRECT: "✓", INCORRECT: "✗", NOT_ATTEMPTED: "○"}
CELL_TIMEOUT = 120  # seconds: generous, a slow laptop is not a wrong answer


@dataclass(frozen=True)
class Row:
    chapter: str
    exercise: str
    outcome: str
    message: str


def exercises_by_workbook() -> dict[str, list[str]]:
    """Workbook file name -> its exercise ids, from the checks registry."""
    out: dict[str, list[str]] = {}
    for ex in registry().values():
        out.setdefault(ex.workbook, []).append(ex.id)
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
        if on_cell:
            client.on_cell_executed = lambda cell, cell_index, **_: on_cell(cell_index, len(notebook.cells))
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


def collect(work_dir: Path, chapter: str | None = None, progress=None) -> list[Row]:
    """The rows of every workbook (or one chapter's), from the copies in ``work_dir``."""
    by_workbook = exercises_by_workbook()
    names = [find_workbook(chapter).name] if chapter else list(p.name for p in workbook_numbers().values())
    names = [n for n in names if n in by_workbook]
    rows: list[Row] = []
    for position, name in enumerate(names):
        copy = work_dir / name
        if not copy.exists():
            rows += rows_for(name, by_workbook[name], missing=f"no copy in {work_dir.name}/ yet "
                             "(`mlecourse start` makes it)")
            continue
        tick = (lambda i, n, p=position: progress(p, len(names), name, i, n)) if progress else None
        try:
            rows += rows_for(name, by_workbook[name], run_copy(copy, tick))
        except LearnerFileError as err:
            rows += [Row(name[:2], id, INCORRECT, str(err)) for id in by_workbook[name]]
    return rows


def bar(stream=sys.stderr):
    """A one-line progress bar: redrawn in a terminal, a line per workbook otherwise."""
    last = {"name": None}

    def show(position: int, total: int, name: str, cell: int, cells: int) -> None:
        done = (position + (cell + 1) / max(cells, 1)) / total
        filled = int(done * 30)
        text = f"[{'#' * filled}{'.' * (30 - filled)}] {done:4.0%} running {name}"
        if stream.isatty():
            stream.write("\r" + text.ljust(78)[:78])
        elif last["name"] != name:
            stream.write(f"running a copy of {name} ({position + 1} of {total})\n")
        last["name"] = name
        stream.flush()

    def close() -> None:
        if stream.isatty():
            stream.write("\r" + " " * 78 + "\r")

    show.close = close
    return show


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
