"""The workshop site gives no answer away: a grep of the whole output folder
(pages, sources, search index) finds no marked solution line and no check
message, while exercises and open exercises' rubrics stay."""
import json
import shutil

import nbformat
import pytest

from mlecourse.checks import registry
from mlecourse.course import workshop_build
from mlecourse.paths import CHAPTERS_DIR, EXERCISES_DIR, SOLUTIONS_DIR

SOLUTIONS = sorted(SOLUTIONS_DIR.glob("*.ipynb"))


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_no_chapter_repeats_a_line_of_its_workbooks_solutions(path):
    chapter = CHAPTERS_DIR / path.name
    if not chapter.exists():
        pytest.fail(f"{path.name} has no chapter")
    text = {line.strip() for cell in nbformat.read(chapter, as_version=4).cells
            for line in cell.source.splitlines()}
    repeated = sorted(workshop_build.solution_lines(path) & text)
    assert not repeated, f"chapters/{path.name} gives away solution lines: {repeated[:3]}"


def page(cells, extra=""):
    """A workbook page as Jupyter Book writes it: input and output divs inside each cell."""
    body = "".join(f'<div class="cell docutils container"><div class="cell_input docutils container">'
                   f'<pre>{code}</pre></div><div class="cell_output docutils container"><pre>{out}</pre>'
                   f'</div></div>' for code, out in cells)
    return (f'<html><body><a href="../_sources/solutions/02_meet_the_data.ipynb">download</a>'
            f'<a href="https://mybinder.org/v2/gh/o/r/main?urlpath=lab/tree/solutions/02_meet_the_data.ipynb">b</a>'
            f'<a href="https://colab.research.google.com/github/o/r/blob/main/solutions/02_meet_the_data.ipynb">c</a>'
            f'<article>{body}{extra}</article></body></html>')


@pytest.fixture
def site(tmp_path):
    """An output folder holding what the build publishes: real solution notebooks as
    sources, a workbook page with check outputs, instructor notes, a search index."""
    html = tmp_path / "html"
    (html / "_sources" / "solutions").mkdir(parents=True)
    for path in SOLUTIONS:
        shutil.copyfile(path, html / "_sources" / "solutions" / path.name)
    message = "✓ Exercise 2.1: correct. A double-loaded batch: drop these before counting anything else."
    (html / "solutions").mkdir()
    (html / "solutions" / "02_meet_the_data.html").write_text(page(
        [('check("2.1", n_duplicates)', message), ("loans.head()", "a table the learner needs")],
        extra="<p>Exercise 2.1 · Count the duplicated rows</p><p>What a good answer covers</p>"))
    (html / "instructors").mkdir()
    (html / "instructors" / "02_meet_the_data.html").write_text(
        "<html><body><article><p>The answer to 2.1 is 412.</p></article></body></html>")
    (html / "instructors" / "guide.html").write_text("<html><body><article>Schedule</article></body></html>")
    some_line = sorted(workshop_build.solution_lines(SOLUTIONS[1]))[0]
    (html / "searchindex.js").write_text("Search.setIndex(" + json.dumps({"x": some_line}) + ")")
    return html, message


def test_the_grep_finds_what_a_plain_build_publishes(site):
    html, message = site
    found = workshop_build.leaks(html, {message})
    where = {line.split(":")[0] for line in found}
    assert "solutions/02_meet_the_data.html" in where and "searchindex.js" in where
    assert any(w.startswith("_sources/solutions/") for w in where)


def test_finish_leaves_nothing_to_find_and_keeps_the_exercises(site):
    html, message = site
    messages = workshop_build.check_messages(html)
    assert message in messages
    (html / "searchindex.js").write_text("Search.setIndex({})")  # the index holds words, see below
    workshop_build.finish(html)
    assert workshop_build.leaks(html, messages) == []
    page_text = (html / "solutions" / "02_meet_the_data.html").read_text()
    assert "Count the duplicated rows" in page_text and "What a good answer covers" in page_text
    assert "a table the learner needs" in page_text  # only check outputs go
    assert "tree/exercises/02_meet_the_data.ipynb" in page_text and "blob/main/exercises/" in page_text
    assert "tree/solutions/" not in page_text
    served = (html / "_sources" / "solutions" / "02_meet_the_data.ipynb").read_bytes()
    assert served == (EXERCISES_DIR / "02_meet_the_data.ipynb").read_bytes()
    assert "412" not in (html / "instructors" / "02_meet_the_data.html").read_text()
    assert "Schedule" in (html / "instructors" / "guide.html").read_text()


def test_a_leak_left_in_the_search_index_fails_the_build(site, capsys):
    html, _ = site
    assert workshop_build.main(html) == 1
    assert "still gives" in capsys.readouterr().err


def test_open_exercises_keep_their_rubric_checked_ones_lose_their_solution():
    path = SOLUTIONS_DIR / "02_meet_the_data.ipynb"
    open_labels = workshop_build.open_exercise_labels(path)
    assert open_labels and not {f"ex-{i.replace('.', '-')}" for i in registry()} & open_labels
    kept = workshop_build.solution_lines(path)
    everything = workshop_build.solution_lines(path, keep_open=False)
    assert kept < everything  # the rubric's lines are published on purpose
    assert any("What a good answer covers" in line for line in everything - kept)


def test_the_extension_drops_checked_solutions_and_keeps_open_rubrics_plain():
    from types import SimpleNamespace

    from docutils import nodes
    from sphinx_exercise.nodes import solution_node, solution_title

    from mlecourse.course import sphinx_ext

    def solution(label, text):
        node = solution_node(target_label=label)
        node += solution_title("", "Solution to")
        section = nodes.section()
        section += nodes.paragraph(text=text)
        node += section
        return node

    tree = nodes.document(None, None)
    tree += solution("ex-2-1", "n_duplicates = int(loans.duplicated().sum())")
    tree += solution("ex-2-7", "What a good answer covers")
    app = SimpleNamespace(config=SimpleNamespace(mlecourse_hide_solutions=True))
    sphinx_ext.hide_solutions(app, tree)
    assert not list(tree.findall(solution_node))
    assert "duplicated" not in tree.astext() and "What a good answer covers" in tree.astext()
    assert "Solution to" not in tree.astext()


# --- the capstone: its truths are for the instructor notes only ----------------------------

def test_a_capstone_truth_on_a_page_is_found_and_the_notes_that_state_them_are_replaced(tmp_path):
    from mlecourse.checks import ch11_capstone

    html = tmp_path / "html"
    (html / "instructors").mkdir(parents=True)
    truths = sorted(ch11_capstone.leak_strings())
    notes = html / "instructors" / "11_capstone.html"
    notes.write_text("<html><body><article><section><table>" + "".join(
        f"<tr><td>{truth}</td></tr>" for truth in truths) + "</table></section></article></body></html>")
    (html / "searchindex.js").write_text("Search.setIndex(" + json.dumps({"x": truths[0]}) + ")")
    found = workshop_build.leaks(html)
    assert {line.split(":")[0] for line in found} == {"instructors/11_capstone.html", "searchindex.js"}
    (html / "searchindex.js").write_text("Search.setIndex({})")
    workshop_build.finish(html)
    assert workshop_build.leaks(html) == []


def test_the_write_up_s_template_headings_are_not_answers_but_its_sentences_are(tmp_path):
    html = tmp_path / "html"
    html.mkdir()
    (html / "page.html").write_text("<h2>## Monitoring an LLM feature</h2>")
    assert workshop_build.leaks(html) == []  # "## Monitoring" is every learner's template
    answer = next(line for line in workshop_build.solution_lines(SOLUTIONS_DIR / "11_capstone.ipynb")
                  if line.startswith("Replaying 2025 through the service"))
    (html / "page.html").write_text(f"<p>{answer}</p>")
    assert workshop_build.leaks(html)


@pytest.mark.parametrize("path", ["chapters/11_capstone.ipynb", "exercises/11_capstone.ipynb", "intro.md",
                                  "data/capstone/README.md", "instructors/live/11_capstone.yml"])
def test_no_page_a_learner_reads_states_a_capstone_truth(path):
    from mlecourse.checks import ch11_capstone
    from mlecourse.paths import ROOT

    text = (ROOT / path).read_text()
    told = [truth for truth in ch11_capstone.leak_strings() if truth in text]
    assert not told, f"{path} gives the capstone away: {told}"
    partner = ch11_capstone.spec_dates()
    assert not [date for date in partner if date in text], f"{path} names a date of the capstone's events"
