"""`make slides`: a deck per chapter, made from the executed chapter, that opens offline
(no external resource at all) and gives no answer away (the workshop site's leak test)."""
import re

import pytest

from mlecourse.course import plan, slides, workshop_build
from mlecourse.paths import SOLUTIONS_DIR


@pytest.fixture(scope="module")
def decks(site_builds, tmp_path_factory):
    """Built after the site builds: every chapter is then in the book's cache."""
    out = tmp_path_factory.mktemp("slides")
    return out, slides.build(out)


def test_every_chapter_gets_a_deck_with_its_objectives_plots_and_exercises(decks):
    out, written = decks
    chapters = plan.chapters()
    assert [p.stem for p in written] == [c.path.stem for c in chapters]
    index = (out / "index.html").read_text()
    for chapter, deck in zip(chapters, written):
        html = deck.read_text()
        assert f"href='{deck.name}'" in index
        assert html.count("<section>") >= 6, deck.name
        plain = re.sub(r"<[^>]+>", "", html)
        for text in chapter.objectives[:2] + chapter.keypoints[:2]:
            assert re.sub(r"`", "", text)[:40] in plain, (deck.name, text)
        for exercise in chapter.exercises:
            assert f"<td>{exercise.id}</td>" in html
        has_plot = any("image/png" in o.get("data", {}) for c in slides.executed(chapter.path).cells
                       for o in c.get("outputs", []))
        assert ("data:image/png;base64," in html) == has_plot, deck.name
        assert "{glue" not in html and "…" not in html, deck.name  # every glued number filled in


def test_a_deck_needs_nothing_from_the_network(decks):
    _, written = decks
    for deck in written:
        html = deck.read_text()
        external = re.findall(r"""(?:src|href)\s*=\s*['"](?:https?:)?//""", html)
        assert not external and "<link" not in html and "<script src" not in html, deck.name


def test_no_deck_gives_an_answer_away(decks):
    out, _ = decks
    assert slides.leaks(out) == []


def test_the_leak_check_finds_a_solution_line_in_a_deck(tmp_path):
    line = sorted(workshop_build.solution_lines(SOLUTIONS_DIR / "02_meet_the_data.ipynb"))[0]
    (tmp_path / "02_meet_the_data.html").write_text(f"<section><pre>{line}</pre></section>")
    assert slides.leaks(tmp_path)
