"""Notebook hygiene and the course's conventions, checked on every notebook."""
import ast
import builtins
import re
from datetime import datetime, timedelta

import nbformat
import pytest
import yaml

from mlecourse.course import plan
from mlecourse.checks import registry
from mlecourse.course.notebook_setup import REPOSITORY, SETUP_CELL
from mlecourse.paths import CHAPTERS_DIR, EXERCISES_DIR, ROOT, SOLUTIONS_DIR

NOTEBOOKS = sorted(p for d in (CHAPTERS_DIR, SOLUTIONS_DIR, EXERCISES_DIR) for p in d.glob("*.ipynb"))
CHAPTERS = sorted(CHAPTERS_DIR.glob("*.ipynb"))
WORKBOOKS = sorted(SOLUTIONS_DIR.glob("*.ipynb"))
ids = lambda p: str(p.relative_to(ROOT))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_committed_clean(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    dirty = [i for i, c in enumerate(notebook.cells)
             if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"cells {dirty} have outputs or execution counts: clear them"
    assert notebook.metadata["kernelspec"]["name"] == "python3"


# --- a reader sees where every name comes from ------------------------------------

HIDDEN_TAGS = {"remove-cell", "remove-input", "hide-cell", "hide-input"}


def _python(source: str) -> ast.Module:
    return ast.parse("\n".join(line for line in source.splitlines()
                               if not line.lstrip().startswith(("%", "!"))))


def _defined(tree) -> set[str]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            out.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            out |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.arg) or (isinstance(node, ast.ExceptHandler) and node.name):
            out.add(node.arg if isinstance(node, ast.arg) else node.name)
    return out


def hidden_names_used(notebook) -> list[tuple[int, list[str]]]:
    """(cell index, names) of visible cells that use a name only a hidden cell defined."""
    hidden, visible, found = set(), set(), []
    for i, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        tree = _python(cell.source)
        if HIDDEN_TAGS & set(cell.metadata.get("tags", [])):
            hidden |= _defined(tree) - visible
            continue
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        bad = sorted((used & hidden) - _defined(tree) - set(dir(builtins)))
        if bad:
            found.append((i, bad))
        visible |= _defined(tree)
        hidden -= visible
    return found


@pytest.mark.parametrize("path", CHAPTERS + WORKBOOKS, ids=ids)
def test_no_visible_cell_uses_a_name_defined_only_in_a_hidden_cell(path):
    found = hidden_names_used(nbformat.read(path, as_version=4))
    assert not found, f"visible cells use names a reader never sees defined (cell, names): {found}"


def test_the_hidden_name_check_catches_one():
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("quiet = [1, 2]\nglue('x', 1)", metadata={"tags": ["remove-cell"]}),
        nbformat.v4.new_code_cell("import numpy as np\nnp.mean(quiet)"),
        nbformat.v4.new_code_cell("quiet = [3]\nprint(quiet)"),
        nbformat.v4.new_code_cell("print(quiet)")])
    assert hidden_names_used(notebook) == [(1, ["quiet"])]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_first_code_cell_is_the_setup_cell(path):
    cell = next(c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    assert cell.source == SETUP_CELL
    assert "remove-cell" in cell.metadata.get("tags", [])


def test_setup_cell_clones_the_books_repository():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["repository"]["url"] == REPOSITORY


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_chapter_has_overview_and_a_workbook(path):
    meta = plan.overview(path)
    assert meta["teaching_minutes"] > 0 and meta["exercise_minutes"] > 0
    assert (SOLUTIONS_DIR / path.name).exists()


def toc_files():
    return set(plan._toc_files({"file": "intro", **yaml.safe_load((ROOT / "_toc.yml").read_text())}))


@pytest.mark.parametrize("path", CHAPTERS + WORKBOOKS, ids=ids)
def test_every_chapter_and_workbook_is_in_the_book(path):
    assert str(path.relative_to(ROOT).with_suffix("")) in toc_files()


CHECK_CALL = re.compile(r"""\bcheck\(\s*["'](\d+\.\d+)["']""")


@pytest.mark.parametrize("path", WORKBOOKS, ids=ids)
def test_workbook_checks_each_of_its_exercises_once(path):
    source = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    called = CHECK_CALL.findall(source)
    declared = sorted(i for i, ex in registry().items() if ex.workbook == path.name)
    assert sorted(called) == declared


def test_every_exercise_belongs_to_a_workbook():
    names = {p.name for p in WORKBOOKS}
    assert {ex.workbook for ex in registry().values()} <= names


def test_schedule_adds_up_the_chapters():
    rows = plan.schedule()
    sessions = [r for r in rows if r["kind"] in ("teaching", "exercises", "review")]
    assert sum(r["minutes"] for r in sessions) == sum(
        c.teaching_minutes + c.exercise_minutes for c in plan.chapters())
    assert rows[-1]["session"] == "End"


def test_schedule_keeps_each_day_within_hours_with_a_lunch():
    rows = plan.schedule(start="09:30", day_end="17:30")
    for day in {r["day"] for r in rows}:
        today = [r for r in rows if r["day"] == day]
        sessions = [r for r in today if r["minutes"]]
        end = datetime.strptime(sessions[-1]["start"], "%H:%M") + timedelta(minutes=sessions[-1]["minutes"])
        assert len(sessions) == 1 or end <= datetime.strptime("17:30", "%H:%M"), today
        if end > datetime.strptime("13:30", "%H:%M"):
            assert [r["session"] for r in today].count("Lunch") == 1, today
    # a long enough day holds as much as fits in it (the whole course is more than 24 hours now)
    first_half = plan.chapters()[:5]
    assert plan.schedule(start="00:00", day_end="23:59", chosen=first_half)[-1]["day"] == 1


def test_a_downloaded_notebook_runs_from_any_folder(tmp_path, monkeypatch):
    """The site's download button gives a lone .ipynb: it must still find its data.
    Every notebook test runs its notebook in an empty folder of its own (so each
    notebook is executed once, and this holds for all of them): prove that."""
    from mlecourse.course import execute

    monkeypatch.setattr(execute, "CACHE_DIR", tmp_path / "cache")
    monkeypatch.setattr(execute, "RUNNING_DIR", tmp_path / "running")
    folder = tmp_path / "chapters"
    folder.mkdir()
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import os, pathlib\nhere = pathlib.Path.cwd()\n"
        f"assert here != pathlib.Path({str(folder)!r}) and not any(here.iterdir()), here")])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, folder / "lone.ipynb")
    run = execute.execute(folder / "lone.ipynb")
    assert run.error is None, run.error


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_every_chapter_has_instructor_notes_in_the_guide(path):
    notes = ROOT / "instructors" / f"{path.stem}.md"
    assert notes.exists(), f"write {notes.relative_to(ROOT)}"
    assert f"instructors/{path.stem}" in toc_files()
    assert f"{{doc}}`{path.stem}`" in (ROOT / "instructors" / "guide.md").read_text()
