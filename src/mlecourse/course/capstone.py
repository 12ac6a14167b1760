"""``mlecourse capstone check``: grade a capstone folder from a terminal, without touching it.

The capstone's workbook leaves everything it made in one folder (``work/capstone/``
by default; see :class:`mlecourse.checks.ch11_capstone.Submission`). This command
copies the folder, runs every check of chapter 11 on the copy, and prints one line
per check, as ``mlecourse progress`` does (✓ correct, ○ not attempted, ✗ incorrect
with what is wrong), then a summary. The learner's folder is never written: the
checks read the copy, and the copy is deleted after.

Instructors grade many folders with the same command (``--json`` for a script);
its exit code is 0 when every check is correct, 1 otherwise, 2 when there is no
folder to grade.
"""
from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

from mlecourse.checks.result import CORRECT, NOT_ATTEMPTED, Result

from .workbooks import LearnerFileError

ICONS = {"correct": "✓", "incorrect": "✗", "not attempted": "○"}


def capstone_ids() -> list[str]:
    """The capstone's checked steps, in order (from the checks' registry)."""
    from mlecourse.checks import ch11_capstone, registry

    return [i for i, ex in registry().items() if ex.workbook == ch11_capstone.WORKBOOK]


def grade(folder: Path) -> list[Result]:
    """One result per capstone step, from a copy of ``folder`` (which is left as it was)."""
    from mlecourse.checks import core
    from mlecourse.checks.ch11_capstone import Submission

    folder = Path(folder)
    if not folder.is_dir():
        raise LearnerFileError(f"there is no capstone folder at {folder}: run the capstone workbook "
                               "(its first cell makes it), or name the folder to grade")
    with tempfile.TemporaryDirectory(prefix="capstone-grading-") as scratch:
        copy = Path(scratch) / folder.name
        shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("*.lock"))
        submission = Submission(copy)
        return [core.grade(id, submission) for id in capstone_ids()]


def table(results: list[Result], folder: Path, seconds: float) -> str:
    lines = [f"Capstone: {folder}"]
    for result in results:
        message = f"  {result.message}" if result.outcome != CORRECT and result.message else ""
        if result.outcome == NOT_ATTEMPTED:  # the workbook's advice; here, say what is missing
            message = "  nothing recorded for this step yet: run its cells in the workbook"
        lines.append(f"  {ICONS[result.outcome]} {result.exercise:<6}{result.outcome}{message}")
    done = sum(r.correct for r in results)
    lines += ["", f"{done} of {len(results)} steps correct, in {seconds:.0f} s; nothing in {folder} was "
              "changed. The rubric on the chapter page grades the rest (design.md)."]
    return "\n".join(lines)


def as_json(results: list[Result], folder: Path) -> str:
    return json.dumps({"folder": str(folder), "steps": [
        {"step": r.exercise, "outcome": r.outcome, "message": r.message} for r in results]},
        indent=2, ensure_ascii=False)


def main(folder: Path, as_json_output: bool = False) -> int:
    began = time.perf_counter()
    results = grade(folder)
    print(as_json(results, folder) if as_json_output else table(results, folder, time.perf_counter() - began))
    return 0 if all(r.correct for r in results) else 1
