"""The exercise workbooks are exactly what the generator makes from the
solutions, and hold nothing of the solutions."""
import json

import nbformat
import pytest

from mlecourse.course import workbooks
from mlecourse.course.workshop_build import solution_lines
from mlecourse.paths import EXERCISES_DIR, SOLUTIONS_DIR

SOLUTIONS = sorted(SOLUTIONS_DIR.glob("*.ipynb"))


def test_exercises_are_up_to_date():
    assert workbooks.stale() == [], "run `make exercises`"


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_no_solution_reaches_the_learner(path):
    text = (EXERCISES_DIR / path.name).read_text()
    notebook = json.loads(text)
    sources = "\n".join("".join(c["source"]) for c in notebook["cells"])
    leaked = [line for line in solution_lines(path, keep_open=False) if line in sources]
    assert not leaked, f"solution lines in exercises/{path.name}: {leaked[:3]}"
    assert "BEGIN SOLUTION" not in text and "solution-start" not in text
    assert set(notebook["metadata"]) <= {"kernelspec", "language_info"}
    assert all(set(c["metadata"]) <= {"tags"} for c in notebook["cells"])


def nb(*cells):
    return nbformat.v4.new_notebook(cells=list(cells), metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})


def code(text):
    return nbformat.v4.new_code_cell(text)


def md(text):
    return nbformat.v4.new_markdown_cell(text)


def sources(notebook):
    return [c.source for c in notebook.cells[1:]]  # after the banner


def test_region_becomes_its_placeholder_at_its_indentation():
    solution = nb(code("def f(x):\n    # BEGIN SOLUTION: return ____\n    return x + 1\n    # END SOLUTION"))
    assert sources(workbooks.make_exercise(solution, "t.ipynb")) == [
        "def f(x):\n    return ____  # your code here"]


@pytest.mark.parametrize("text,phrase", [
    ("# BEGIN SOLUTION\nx = 1\n# END SOLUTION", "say what the learner sees"),
    ("# BEGIN SOLUTION: x = ____\nx = 1", "never closed"),
    ("x = 1\n# END SOLUTION", "without BEGIN"),
])
def test_broken_markers_are_reported_with_their_place(text, phrase):
    with pytest.raises(workbooks.WorkbookError, match=phrase):
        workbooks.make_exercise(nb(code(text)), "t.ipynb")


def test_gated_solution_is_removed_but_the_answer_cell_stays():
    solution = nb(
        md(":::{exercise} 9.1 Title\n:label: ex-9-1\n:nonumber:\n\nDo it.\n:::"),
        md(":::{solution-start} ex-9-1\n:class: dropdown\n:::"),
        md("The trick is X."),
        code("import secret_helper"),
        code("# BEGIN SOLUTION: y = ____\ny = 42\n# END SOLUTION"),
        md(":::{solution-end}\n:::"),
        code('check("9.1", y)'),
    )
    assert sources(workbooks.make_exercise(solution, "t.ipynb")) == [
        "### Exercise 9.1 Title\n\nDo it.", "y = ____  # your code here", 'check("9.1", y)']


def test_open_exercise_gets_an_answer_cell():
    solution = nb(md(":::{solution-start} ex\n:::"), md("A rubric."), md(":::{solution-end}\n:::"))
    assert sources(workbooks.make_exercise(solution, "t.ipynb")) == [workbooks.ANSWER_HERE]


def test_generate_never_overwrites_a_learners_work(tmp_path, monkeypatch, capsys):
    target = tmp_path / SOLUTIONS[0].name
    worked = nbformat.read(SOLUTIONS[0], as_version=4)
    first_code = next(c for c in worked.cells if c.cell_type == "code")
    first_code.execution_count = 1
    first_code.outputs = [nbformat.v4.new_output("stream", text="my work")]
    nbformat.write(worked, target)
    before = target.read_text()
    monkeypatch.setattr(workbooks, "EXERCISES_DIR", tmp_path)
    assert workbooks.generate() == 1
    assert target.read_text() == before
    assert "not overwritten" in capsys.readouterr().out


def test_copy_to_work_keeps_existing_copies(tmp_path, monkeypatch):
    monkeypatch.setattr(workbooks, "WORK_DIR", tmp_path)
    mine = tmp_path / SOLUTIONS[0].name
    mine.write_text("my own work")
    workbooks.copy_to_work()
    assert mine.read_text() == "my own work"
    assert {p.name for p in tmp_path.glob("*.ipynb")} == {p.name for p in EXERCISES_DIR.glob("*.ipynb")}


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_each_workbook_opens_with_its_minutes_and_how_to_get_a_hint(path):
    from mlecourse.course import plan
    from mlecourse.paths import CHAPTERS_DIR

    first = nbformat.read(EXERCISES_DIR / path.name, as_version=4).cells[0]
    minutes = plan.overview(CHAPTERS_DIR / path.name)["exercise_minutes"]
    exercise = workbooks.CHECK_CALL.search(path.read_text().replace('\\"', '"'))[1]
    assert first.cell_type == "markdown"
    assert f"about {minutes} minutes of exercises" in first.source
    assert f'hint("{exercise}")' in first.source and f"mlecourse hint {exercise}" in first.source


def test_a_chapter_without_exercise_minutes_stops_the_generator(tmp_path, monkeypatch):
    (tmp_path / "09_x.ipynb").write_text(json.dumps({"cells": [], "metadata": {"mlecourse": {}}}))
    monkeypatch.setattr(workbooks, "CHAPTERS_DIR", tmp_path)
    with pytest.raises(workbooks.WorkbookError, match="states no exercise minutes"):
        workbooks.stated_minutes("09_x.ipynb")
    assert workbooks.stated_minutes("11_not_written_yet.ipynb") is None
