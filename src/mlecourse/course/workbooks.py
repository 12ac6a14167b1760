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

    python -m mlecourse.course.workbooks generate [--force]   # write exercises/ and the hint index
    python -m mlecourse.course.workbooks check                # is exercises/ up to date?
    python -m mlecourse.course.workbooks copy-to-work         # your own copies, in work/

``mlecourse reset NN`` restores one workbook in ``work/`` after saving the
learner's copy in ``work/backups/`` (see ``reset``).

Each generated workbook opens with a banner: the exercise minutes its chapter
states (the sum of ``metadata.mlecourse.exercises`` of ``chapters/<same name>``)
and how to get a hint. ``generate`` also writes ``checks/hint_index.py``, the
hints of every exercise as plain data, so that ``mlecourse hint`` answers
without importing a chapter's checks (pandas, scikit-learn: seconds on a busy
laptop). nbformat too is imported only by what reads or writes a notebook.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

from mlecourse.paths import CHAPTERS_DIR, EXERCISES_DIR, ROOT, SOLUTIONS_DIR, WORK_DIR

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
    import nbformat

    make = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
    cell = make(source)
    cell.id = hashlib.sha1(seed.encode()).hexdigest()[:12]
    return cell


def _clean(cell, source: str):
    import nbformat

    cell = nbformat.from_dict(dict(cell))
    cell.source = source
    tags = cell.metadata.get("tags")
    cell.metadata = {"tags": tags} if tags else {}
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None
    return cell


CHECK_CALL = re.compile(r"""\bcheck\(\s*["'](\d+\.\d+)["']""")


def banner(name: str, minutes: int | None, first_exercise: str | None) -> str:
    """The first cell of a workbook: how long it takes, where to work, how to get a hint."""
    heading = f"Workbook: about {minutes} minutes of exercises." if minutes else "Workbook."
    ask = ""
    if first_exercise:
        ask = (f"Stuck? `hint(\"{first_exercise}\")` in a cell, or `mlecourse hint "
               f"{first_exercise}` in a terminal, gives the next hint of exercise "
               f"{first_exercise}; run it again for the one after. ")
    return (f"> **{heading}** Work in your own copy under `work/` (`make lab` "
            f"makes it; it is never overwritten). {ask}This file is generated from "
            f"`solutions/{name}` by `make exercises`.")


def stated_minutes(name: str) -> int | None:
    """The exercise minutes that chapter ``name`` states, or None if there is no such chapter."""
    chapter = CHAPTERS_DIR / name
    if not chapter.exists():
        return None
    meta = json.loads(chapter.read_text()).get("metadata", {}).get("mlecourse") or {}
    if not meta.get("exercises"):
        raise WorkbookError(f"chapters/{name} states no exercise minutes "
                            "(metadata.mlecourse.exercises): its workbook's banner needs them")
    return sum(int(e["minutes"]) + int(e.get("review", 0)) for e in meta["exercises"].values())


def make_exercise(solution, name: str, minutes: int | None = None):
    """The learner's notebook made from one solution notebook."""
    import nbformat

    first = next((m for c in solution.cells if c.cell_type == "code"
                  for m in CHECK_CALL.findall(c.source)), None)
    cells = [_new_cell("markdown", banner(name, minutes, first), name + ":banner")]
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


def render(notebook) -> str:
    import nbformat

    return nbformat.writes(notebook) + "\n"


def expected_exercises() -> dict[str, str]:
    """File name -> the text ``make exercises`` writes for it."""
    import nbformat

    return {
        path.name: render(make_exercise(nbformat.read(path, as_version=4), path.name,
                                        stated_minutes(path.name)))
        for path in sorted(SOLUTIONS_DIR.glob("*.ipynb"))
    }


HINT_INDEX = ROOT / "src" / "mlecourse" / "checks" / "hint_index.py"


def hint_index_text() -> str:
    """``checks/hint_index.py`` as ``generate`` writes it, from the checks' registry."""
    from mlecourse.checks import registry

    hints = {ex.id: {"title": ex.title, "workbook": ex.workbook, "hints": list(ex.hints)}
             for ex in registry().values()}
    return ('"""Every exercise\'s title, workbook and hints, as plain data: `mlecourse hint`\n'
            'reads them without importing the checks. Written by `make exercises` from the\n'
            'checks\' registry; a test fails when it is out of date."""\n'
            f"HINTS = {json.dumps(hints, indent=1, ensure_ascii=False)}\n")


def holds_work(path: Path) -> bool:
    """A generated workbook has no outputs; one that does holds someone's work."""
    import nbformat

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
    index = hint_index_text()
    if not HINT_INDEX.exists() or HINT_INDEX.read_text() != index:
        HINT_INDEX.write_text(index)
        print(f"wrote {HINT_INDEX.relative_to(ROOT)}")
    return 0


def stale() -> list[str]:
    """Problems that make ``exercises/`` differ from what ``generate`` writes."""
    wanted = expected_exercises()
    have = {p.name for p in EXERCISES_DIR.glob("*.ipynb")}
    problems = [f"exercises/{n} is missing" for n in sorted(set(wanted) - have)]
    problems += [f"exercises/{n} has no solution notebook" for n in sorted(have - set(wanted))]
    problems += [f"exercises/{n} is out of date" for n in sorted(set(wanted) & have)
                 if (EXERCISES_DIR / n).read_text() != wanted[n]]
    if not HINT_INDEX.exists() or HINT_INDEX.read_text() != hint_index_text():
        problems.append(f"{HINT_INDEX.relative_to(ROOT)} is out of date")
    return problems


class LearnerFileError(RuntimeError):
    """A learner's file or folder the course cannot use; the message says the fix."""


def workbook_numbers(folder: Path | None = None) -> dict[str, Path]:
    """Two-digit chapter number -> its workbook in ``folder``, found from the files."""
    folder = folder or EXERCISES_DIR
    return {p.name[:2]: p for p in sorted(folder.glob("[0-9][0-9]_*.ipynb"))}


def find_workbook(chapter: str | int, folder: Path | None = None) -> Path:
    """The workbook of chapter ``chapter`` (``3``, ``"03"``), or one line naming the valid ones."""
    known = workbook_numbers(folder)
    key = str(chapter).strip()
    key = key.zfill(2) if key.isdigit() else key
    if key not in known:
        raise LearnerFileError(f"there is no workbook {chapter!r}; the workbooks are "
                               f"{', '.join(known) or 'none (run `make exercises`)'}")
    return known[key]


def _writable(folder: Path) -> None:
    """Stop with one line if ``folder`` cannot be created or written to."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise LearnerFileError(f"cannot create {folder} ({err.strerror}): create it yourself "
                               "or run the course from a folder you own") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise LearnerFileError(f"{folder} is not writable: fix its permissions "
                               f"(e.g. `chmod u+w {folder}`) and run the command again")


def copy_to_work(work_dir: Path | None = None, source_dir: Path | None = None) -> list[str]:
    """Copy each workbook to ``work_dir`` unless a copy is already there; say what happened."""
    work_dir, source_dir = work_dir or WORK_DIR, source_dir or EXERCISES_DIR
    _writable(work_dir)
    said = []
    for source in sorted(source_dir.glob("*.ipynb")):
        target = work_dir / source.name
        if target.exists():
            note = "kept your copy" + ("; a newer workbook is in exercises/ (`mlecourse reset "
                                       f"{source.name[:2]}` takes it, saving yours first)"
                                       if source.stat().st_mtime > target.stat().st_mtime else "")
            said.append(f"{_shown(target)}: {note}")
            continue
        # Exclusive create: if a copy appeared meanwhile, it is not overwritten.
        with source.open("rb") as src, target.open("xb") as dst:
            shutil.copyfileobj(src, dst)
        said.append(f"{_shown(target)}: new copy of exercises/{source.name}")
    return said


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(WORK_DIR.parent))
    except ValueError:
        return str(path)


def backup(path: Path, backups: Path) -> Path:
    """Save ``path`` under ``backups`` with a timestamp, never over an earlier backup."""
    _writable(backups)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1000):
        target = backups / f"{path.stem}-{stamp}{f'-{n}' if n else ''}{path.suffix}"
        try:
            with path.open("rb") as src, target.open("xb") as dst:
                shutil.copyfileobj(src, dst)
        except FileExistsError:
            continue
        if target.read_bytes() != path.read_bytes():
            raise LearnerFileError(f"the backup {target} differs from {path}: nothing was reset; "
                                   "check the disk has space")
        return target
    raise LearnerFileError(f"too many backups of {path.name} this second in {backups}")


def reset(chapter: str | int, work_dir: Path | None = None, source_dir: Path | None = None) -> list[str]:
    """Restore workbook ``chapter`` from ``exercises/``, saving the learner's copy first."""
    work_dir, source_dir = work_dir or WORK_DIR, source_dir or EXERCISES_DIR
    source = find_workbook(chapter, source_dir)
    _writable(work_dir)
    target, said = work_dir / source.name, []
    if target.exists():
        saved = backup(target, work_dir / "backups")
        said.append(f"saved your copy of {source.name} as {_shown(saved)}")
    temporary = target.with_name(f".{target.name}.resetting")
    shutil.copyfile(source, temporary)
    os.replace(temporary, target)  # atomic: the workbook is either the old or the new one
    said.append(f"{_shown(target)}: restored from exercises/{source.name}")
    return said


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
            print("\n".join(copy_to_work()))
            return 0
        problems = stale()
    except (WorkbookError, LearnerFileError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for problem in problems:
        print(problem + " (run `make exercises`)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
