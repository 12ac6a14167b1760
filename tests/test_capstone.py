"""The capstone is graded from the folder it leaves behind: the reference solution's folder gets a ✓
for every step, the generated exercise's a ○, and each planted mistake a ✗ with its own message;
grading never writes to the folder; and the reference values are those the data gives.

The reference folder is made once, by running ``solutions/11_capstone.ipynb`` in a temporary
folder (about a minute), and the exercise's by running ``exercises/11_capstone.ipynb``.
"""
from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import pytest

from mlecourse.checks import ____, ch11_capstone as capstone, grade, registry
from mlecourse.course import capstone as grading
from mlecourse.course import cli
from mlecourse.paths import EXERCISES_DIR, ROOT

STEPS = {id: ex for id, ex in registry().items() if ex.workbook == capstone.WORKBOOK}
PLANTED = [(id, index) for id, ex in STEPS.items() for index in range(len(ex.mistakes))]


@pytest.fixture(scope="module")
def reference() -> capstone.Submission:
    return capstone.reference_submission()


@pytest.fixture(scope="module")
def unattempted(tmp_path_factory) -> capstone.Submission:
    """The folder the generated exercise leaves when nothing is filled in."""
    import nbformat
    from nbclient import NotebookClient

    folder = tmp_path_factory.mktemp("exercise")
    notebook = nbformat.read(EXERCISES_DIR / capstone.WORKBOOK, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    return capstone.Submission(folder / "capstone")


@pytest.fixture(scope="module")
def planted_results(reference) -> dict:
    """Each planted mistake, graded once."""
    return {(id, index): grade(id, STEPS[id].mistakes[index][0]()) for id, index in PLANTED}


def snapshot(folder: Path) -> dict:
    """Every file of ``folder``: its content's hash and its modification time."""
    return {str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_the_capstone_has_its_steps():
    assert list(STEPS) == ["11.1", "11.2", "11.3", "11.4", "11.5", "11.6", "11.7", "11.8", "11.9"]
    assert all(ex.submission for ex in STEPS.values())


def test_the_reference_solution_is_correct_at_every_step_and_left_as_it_was(reference):
    before = snapshot(reference.folder)
    results = grading.grade(reference.folder)
    assert [r.outcome for r in results] == ["correct"] * len(STEPS), "\n".join(r.line() for r in results)
    assert snapshot(reference.folder) == before


def test_the_generated_exercise_is_not_attempted_at_any_step(unattempted):
    results = grading.grade(unattempted.folder)
    assert [r.outcome for r in results] == ["not attempted"] * len(STEPS), "\n".join(r.line() for r in results)


@pytest.mark.parametrize("id,index", PLANTED)
def test_each_planted_mistake_is_caught_with_its_own_message(id, index, planted_results):
    result, phrase = planted_results[(id, index)], STEPS[id].mistakes[index][1]
    assert result.outcome == "incorrect", result.line()
    assert phrase.lower() in result.message.lower(), result.line()


def test_each_step_plants_two_mistakes_or_more_and_no_two_share_a_message(planted_results):
    assert all(len(ex.hints) >= 2 and len(ex.mistakes) >= 2 for ex in STEPS.values())
    messages = [r.message for r in planted_results.values()]
    assert len(set(messages)) == len(messages), "two planted mistakes get the same message"


@pytest.mark.parametrize("id", STEPS)
def test_a_step_says_what_it_expected(id):
    assert grade(id, ____).outcome == "not attempted"
    result = grade(id, object())
    assert result.outcome == "incorrect" and "expected" in result.message.lower()


def test_the_command_grades_a_folder_and_says_so(reference, capsys):
    assert cli.main(["capstone", "check", str(reference.folder)]) == 0
    out = capsys.readouterr().out
    assert out.count("✓") == len(STEPS) and f"{len(STEPS)} of {len(STEPS)} steps correct" in out
    assert f"nothing in {reference.folder} was changed" in out
    assert cli.main(["capstone", "check", str(reference.folder), "--json"]) == 0
    assert {s["outcome"] for s in json.loads(capsys.readouterr().out)["steps"]} == {"correct"}


def test_the_command_on_no_folder_says_what_to_do(tmp_path, capsys):
    assert cli.main(["capstone", "check", str(tmp_path / "nothing")]) == 2
    assert "run the capstone workbook" in capsys.readouterr().err


def test_a_wrong_step_makes_the_command_fail(capsys):
    planted = capstone.planted(**{"11.1": {"quarantined": 1}})
    assert cli.main(["capstone", "check", str(planted.folder)]) == 1
    assert "✗ 11.1" in capsys.readouterr().out


def test_a_new_run_keeps_the_previous_one_aside(tmp_path, capsys):
    first = capstone.Submission.start(tmp_path / "capstone")
    first.record("11.1", quarantined=3)
    second = capstone.Submission.start(tmp_path / "capstone")
    assert second.answers() == {} and second.design.read_text() == capstone.design_template()
    [kept] = (tmp_path / "capstone.backups").iterdir()
    assert json.loads((kept / "answers.json").read_text()) == {"11.1": {"quarantined": 3}}
    assert "kept in" in capsys.readouterr().out
    second.design.write_text("# My design\n\nWritten by hand.\n")
    third = capstone.Submission.start(tmp_path / "capstone")
    assert third.design.read_text() == "# My design\n\nWritten by hand.\n"  # a write-up is never left behind
    assert "write-up came along" in capsys.readouterr().out


def test_a_placeholder_records_nothing_and_a_value_is_written_as_json(tmp_path):
    import numpy as np

    submission = capstone.Submission.start(tmp_path / "capstone")
    submission.record("11.1", quarantined=____)
    assert submission.answers() == {}
    submission.record("11.2", cost=np.float64(1.5), interval=np.array([1.0, 2.0]))
    assert submission.answers() == {"11.2": {"cost": 1.5, "interval": [1.0, 2.0]}}
    with pytest.raises(TypeError, match="record numbers, text or lists"):
        submission.record("11.3", model=object())


def test_the_expected_values_are_what_the_data_gives():
    computed = capstone.expected_values()
    assert set(computed) == set(capstone.EXPECTED)
    for key, value in capstone.EXPECTED.items():
        if isinstance(value, float):
            assert math.isclose(computed[key], value, rel_tol=1e-6), key
        elif isinstance(value, dict):
            assert computed[key] == pytest.approx(value, rel=1e-6), key
        else:
            assert computed[key] == value, key


def test_the_write_up_s_sections_are_chapter_10_s_system_design_steps_then_the_decisions():
    from mlecourse.teaching import career

    steps = dict(career.DESIGN_TEMPLATE)
    assert list(capstone.DESIGN_QUESTIONS)[:len(steps)] == list(steps)
    assert all(capstone.DESIGN_QUESTIONS[step] == question for step, question in steps.items())
    assert capstone.DESIGN_SECTIONS[-1] == "Decisions and their price"


def test_a_gap_rounded_as_a_report_rounds_it_is_accepted(reference):
    gap = reference.answer("11.7")["gap"]
    for rounded in (round(gap, 3), round(gap, 2)):
        assert grade("11.7", capstone.planted(**{"11.7": {"gap": rounded}})).outcome == "correct", rounded


def test_a_run_started_inside_the_course_s_folders_writes_to_work(tmp_path, monkeypatch, capsys):
    from mlecourse import paths

    root = tmp_path / "course"
    (root / "solutions").mkdir(parents=True)
    monkeypatch.setattr(paths, "ROOT", root)
    monkeypatch.setattr(paths, "WORK_DIR", root / "work")
    monkeypatch.chdir(root / "solutions")
    started = capstone.Submission.start("capstone")
    assert started.folder == root / "work" / "capstone" and started.design.is_file()
    assert not (root / "solutions" / "capstone").exists() and "work" in capsys.readouterr().out
    monkeypatch.chdir(tmp_path)
    assert capstone.Submission.start("capstone").folder == Path("capstone")  # outside the course: as asked


def test_the_instructor_notes_render_the_truths_and_the_rubric_from_the_checks():
    from docutils.core import publish_doctree
    from docutils.parsers.rst import directives

    from mlecourse.course import sphinx_ext

    directives.register_directive("capstone-truths", sphinx_ext.CapstoneTruths)
    directives.register_directive("capstone-rubric", sphinx_ext.CapstoneRubric)
    text = " ".join(publish_doctree(".. capstone-truths::\n\n.. capstone-rubric::\n", settings_overrides={
        "report_level": 5, "halt_level": 2}).astext().split())
    assert all(" ".join(value.split()) in text for _, value in capstone.truths())
    assert all(name in text for name, _, _ in capstone.RUBRIC)
    assert f"{sum(marks for _, marks, _ in capstone.RUBRIC)} marks in all" in text
    notes = (ROOT / "instructors" / "11_capstone.md").read_text()
    assert "{capstone-truths}" in notes and "{capstone-rubric}" in notes
