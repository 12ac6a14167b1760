"""Solutions-first workbooks: ``solutions/`` is written, ``exercises/`` is made.

In a solution notebook, each answer sits between two marker comments; the
text after ``BEGIN SOLUTION:`` is what the learner sees instead::

    # BEGIN SOLUTION: n_rows = ____
    n_rows = len(loans)
    # END SOLUTION

Worked solutions for the site are fenced by ``{solution-start}`` and
``{solution-end}`` markdown cells (sphinx-exercise's gated syntax). In the
exercise notebook, everything inside those fences disappears except code
cells holding a marked answer, which keep their placeholder. Nothing of a
solution survives, not even in metadata.

Commands::

    python -m mlecourse.course.workbooks generate [--force]   # write exercises/
    python -m mlecourse.course.workbooks check                # is exercises/ up to date?
    python -m mlecourse.course.workbooks copy-to-work         # your own copies, in work/
"""
from __future__ import annotations

import argparse
import hashlib
import re
import shutil
import sys
from pathlib import Path

import nbformat

from mlecourse.paths import EXERCISES_DIR, SOLUTIONS_DIR, WORK_DIR

BEGIN = re.compile(r"^(?P<indent>[ \t]*)# BEGIN SOLUTION(?::[ \t]*(?P<placeholder>.*))?$")
END = re.compile(r"^[ \t]*# END SOLUTION[ \t]*$")
SOLUTION_START = re.compile(r"^(```+|:::+)\{solution-start\}")
SOLUTION_END = re.compile(r"^(```+|:::+)\{solution-end\}")
EXERCISE_OPEN = re.compile(r"^(?P<fence>```+|:::+)\{exercise\}[ \t]*(?P<title>.*)$")
ANSWER_HERE = "✍️ *Your answer here: double-click this cell to write it.*"
KEEP_NB_METADATA = ("kernelspec", "language_info")


class WorkbookError(ValueError):
    """A solution notebook breaks the marker rules."""


def strip_solution(source: str, where: str) -> str:
    """Replace every marked region in a code cell with its placeholder."""
    out, inside = [], False
    for number, line in enumerate(source.splitlines(), start=1):
        begin = BEGIN.match(line)
        if begin:
            if inside:
                raise WorkbookError(f"{where}, line {number}: BEGIN SOLUTION inside another")
            if not begin["placeholder"]:
                raise WorkbookError(f"{where}, line {number}: say what the learner sees, "
                                    "e.g. '# BEGIN SOLUTION: answer = ____'")
            out.append(begin["indent"] + begin["placeholder"] + "  # your code here")
            inside = True
        elif END.match(line):
            if not inside:
                raise WorkbookError(f"{where}, line {number}: END SOLUTION without BEGIN")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise WorkbookError(f"{where}: BEGIN SOLUTION is never closed")
    return "\n".join(out)


def has_answer(cell) -> bool:
    return cell.cell_type == "code" and any(BEGIN.match(l) for l in cell.source.splitlines())


def exercise_heading(source: str) -> str:
    """Turn a MyST ``{exercise}`` block into plain markdown for Jupyter."""
    lines = source.splitlines()
    opened = EXERCISE_OPEN.match(lines[0]) if lines else None
    if not opened:
        return source
    fence, body = opened["fence"], lines[1:]
    while body and re.match(r"^:[\w-]+:", body[0]):
        body = body[1:]
    if body and body[-1].strip() == fence:
        body = body[:-1]
    return "\n".join([f"### Exercise {opened['title']}".rstrip(), *body]).strip()


def _new_cell(kind: str, source: str, seed: str):
    make = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
    cell = make(source)
    cell.id = hashlib.sha1(seed.encode()).hexdigest()[:12]
    return cell


def _clean(cell, source: str):
    cell = nbformat.from_dict(dict(cell))
    cell.source = source
    tags = cell.metadata.get("tags")
    cell.metadata = {"tags": tags} if tags else {}
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None
    return cell


def make_exercise(solution: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """The learner's notebook made from one solution notebook."""
    banner = (f"> **Workbook.** Work in your own copy under `work/` (`make lab` makes it; "
              f"it is never overwritten). This file is generated from `solutions/{name}` "
              "by `make exercises`.")
    cells = [_new_cell("markdown", banner, name + ":banner")]
    in_solution, kept_in_region = False, 0
    for index, cell in enumerate(solution.cells):
        where = f"solutions/{name}, cell {index + 1}"
        first = cell.source.lstrip().splitlines()[0] if cell.source.strip() else ""
        if cell.cell_type == "markdown" and SOLUTION_START.match(first):
            in_solution, kept_in_region = True, 0
            continue
        if cell.cell_type == "markdown" and SOLUTION_END.match(first):
            if not in_solution:
                raise WorkbookError(f"{where}: solution-end without solution-start")
            if not kept_in_region:
                cells.append(_new_cell("markdown", ANSWER_HERE, f"{name}:{index}"))
            in_solution = False
            continue
        if in_solution and not has_answer(cell):
            continue
        if cell.cell_type == "code":
            cells.append(_clean(cell, strip_solution(cell.source, where)))
            kept_in_region += in_solution
        else:
            cells.append(_clean(cell, exercise_heading(cell.source)))
    if in_solution:
        raise WorkbookError(f"solutions/{name}: a solution-start is never closed")
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata = {k: solution.metadata[k] for k in KEEP_NB_METADATA if k in solution.metadata}
    return notebook


def render(notebook: nbformat.NotebookNode) -> str:
    return nbformat.writes(notebook) + "\n"


def expected_exercises() -> dict[str, str]:
    """File name -> the text ``make exercises`` writes for it."""
    return {
        path.name: render(make_exercise(nbformat.read(path, as_version=4), path.name))
        for path in sorted(SOLUTIONS_DIR.glob("*.ipynb"))
    }


def holds_work(path: Path) -> bool:
    """A generated workbook has no outputs; one that does holds someone's work."""
    notebook = nbformat.read(path, as_version=4)
    return any(c.get("outputs") or c.get("execution_count") for c in notebook.cells
               if c.cell_type == "code")


def generate(force: bool = False) -> int:
    EXERCISES_DIR.mkdir(exist_ok=True)
    wanted = expected_exercises()
    for name, text in wanted.items():
        target = EXERCISES_DIR / name
        if target.exists() and target.read_text() == text:
            continue
        if target.exists() and holds_work(target) and not force:
            print(f"exercises/{name} has outputs, so it holds someone's work: not overwritten. "
                  f"Move it to work/ and run `make exercises` again (or pass --force).")
            return 1
        target.write_text(text)
        print(f"wrote exercises/{name}")
    for stale in sorted(set(p.name for p in EXERCISES_DIR.glob("*.ipynb")) - set(wanted)):
        print(f"exercises/{stale} has no solution notebook; remove it if it is not yours")
    return 0


def stale() -> list[str]:
    """Problems that make ``exercises/`` differ from what ``generate`` writes."""
    wanted = expected_exercises()
    have = {p.name for p in EXERCISES_DIR.glob("*.ipynb")}
    problems = [f"exercises/{n} is missing" for n in sorted(set(wanted) - have)]
    problems += [f"exercises/{n} has no solution notebook" for n in sorted(have - set(wanted))]
    problems += [f"exercises/{n} is out of date" for n in sorted(set(wanted) & have)
                 if (EXERCISES_DIR / n).read_text() != wanted[n]]
    return problems


def copy_to_work() -> int:
    """Copy each workbook to work/ unless a copy is already there."""
    WORK_DIR.mkdir(exist_ok=True)
    for source in sorted(EXERCISES_DIR.glob("*.ipynb")):
        target = WORK_DIR / source.name
        if target.exists():
            if source.stat().st_mtime > target.stat().st_mtime:
                print(f"work/{source.name}: kept your copy; a newer workbook is in exercises/")
            continue
        shutil.copy2(source, target)
        print(f"work/{source.name}: new copy")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlecourse.course.workbooks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["generate", "check", "copy-to-work"])
    parser.add_argument("--force", action="store_true", help="overwrite exercise files with outputs")
    args = parser.parse_args(argv)
    try:
        if args.command == "generate":
            return generate(args.force)
        if args.command == "copy-to-work":
            return copy_to_work()
        problems = stale()
    except WorkbookError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for problem in problems:
        print(problem + " (run `make exercises`)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
