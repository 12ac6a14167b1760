"""Every chapter's live-coding script is complete and runs as typed: each step's code
runs, in order, in a fresh Python in an empty folder, offline (the suite has no network)."""
import pytest

from mlecourse.course import live_coding, plan, workshop_build
from mlecourse.paths import SOLUTIONS_DIR

CHAPTERS = [c.path.stem for c in plan.chapters()]


def test_every_chapter_has_a_script():
    assert live_coding.scripts() == sorted(CHAPTERS)


@pytest.mark.parametrize("stem", CHAPTERS)
def test_the_script_runs_as_typed(stem):
    steps = live_coding.load(stem)
    result = live_coding.run(stem)
    step = live_coding.failed_step(result)
    assert step is None, f"{stem}: step {step} ({steps[step - 1].title if step else '?'}) failed:\n" \
                         f"{result.stderr[-2500:]}"
    assert result.stdout.count(live_coding.MARK) == len(steps)


@pytest.mark.parametrize("stem", CHAPTERS)
def test_the_script_types_no_line_of_a_worked_solution(stem):
    answers = set().union(*(workshop_build.solution_lines(p) for p in SOLUTIONS_DIR.glob("*.ipynb")))
    typed = {line.strip() for step in live_coding.load(stem) for line in step.type.splitlines()}
    assert not typed & answers, f"{stem} types a solution line: {sorted(typed & answers)[:2]}"


def test_a_failing_step_is_named(tmp_path, monkeypatch):
    (tmp_path / "01_x.yml").write_text(
        "chapter: 01_x\nsteps:\n"
        "  - {title: fine, minutes: 1, say: s, type: 'x = 1', see: s, wrong: w}\n"
        "  - {title: broken, minutes: 2, say: s, type: 'x / 0', see: s, wrong: w}\n")
    monkeypatch.setattr(live_coding, "LIVE_DIR", tmp_path)
    assert live_coding.failed_step(live_coding.run("01_x")) == 2
    (tmp_path / "01_x.yml").write_text("chapter: 01_x\nsteps:\n  - {title: t, minutes: 0, say: s, type: x, see: s}\n")
    with pytest.raises(ValueError, match="needs exactly"):
        live_coding.load("01_x")
