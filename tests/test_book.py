"""The site builds with zero warnings, offline, with and without solutions;
and a broken citation or reference really does fail a build."""
import os
import re
import shutil
import subprocess

import pytest

from mlecourse.course import build
from mlecourse.paths import ROOT

# The two builds run once per test run, shared with test_site_browser.py
# (the `site_builds` fixture in conftest.py).
HTML = ROOT / "_build" / "html"
NOSOL = ROOT / "_build" / "nosolutions" / "_build" / "html"


def run(cmd, cwd=ROOT):
    # As CI machines often do: the build must still draw its plots.
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)


@pytest.fixture(scope="module")
def builds(site_builds):
    return site_builds


def test_the_builds_render_the_executed_notebooks_without_running_them_again(builds):
    for result in builds:
        log = result.stdout + result.stderr
        assert "Executing notebook" not in log, log[-4000:]
        assert "Using cached notebook" in log or "0 source files" in log or "no targets are out of date" in log, log[-4000:]


def test_the_book_and_the_executor_give_cells_the_same_time_limit():
    import yaml
    from mlecourse.course import execute

    assert yaml.safe_load((ROOT / "_config.yml").read_text())["execute"]["timeout"] == execute.CELL_TIMEOUT


def test_book_builds_without_warnings(builds):
    for result in builds:
        log = result.stdout + result.stderr
        problems = [line for line in log.splitlines() if re.search(r"WARNING|ERROR|error:", line)]
        assert result.returncode == 0, "\n".join(problems[:30]) or log[-4000:]
        assert "build succeeded" in log, log[-4000:]
        assert not re.search(r": (WARNING|ERROR):", log), log[-4000:]


def pages():
    return {p.relative_to(HTML).as_posix(): p.read_text() for p in HTML.rglob("*.html")}


def test_every_part_of_the_book_is_there(builds):
    html = pages()
    for page in ("index.html", "chapters/02_meet_the_data.html", "solutions/02_meet_the_data.html",
                 "appendices/setup.html", "appendices/glossary.html",
                 "appendices/bibliography.html", "instructors/guide.html"):
        assert page in html, page
    assert (HTML / "searchindex.js").exists()


CHAPTER_PAGES = sorted(f"chapters/{p.stem}.html" for p in (ROOT / "chapters").glob("*.ipynb"))


@pytest.mark.parametrize("page", CHAPTER_PAGES)
def test_chapter_shows_its_overview_key_points_and_launch_buttons(builds, page):
    html = pages()[page]
    assert "chapter-overview" in html and "chapter-keypoints" in html
    assert 'src="../_images/' in html, "the chapter's plots are missing"
    assert "colab.research.google.com" in html and "mybinder.org" in html


def test_every_chapter_has_its_workbook_page(builds):
    for page in CHAPTER_PAGES:
        assert page.replace("chapters/", "solutions/") in pages()


def cited_keys() -> set[str]:
    """Every citation key used in the book's pages and notebooks."""
    keys = set()
    for path in [*ROOT.glob("*.md"), *ROOT.glob("*/*.md"), *ROOT.glob("*/*.ipynb")]:
        if path.parts[len(ROOT.parts)] in {"exercises", "data", ".venv", "_build", "work"}:
            continue
        for group in re.findall(r"\{cite:[a-z]+\}`([^`]+)`", path.read_text()):
            keys.update(k.strip() for k in group.split(","))
    return keys


def test_bibliography_lists_every_cited_source(builds):
    page = pages()["appendices/bibliography.html"]
    keys = cited_keys()
    assert len(keys) >= 2
    assert page.count('class="citation"') == len(keys)


def test_pages_load_no_script_or_style_from_the_internet(builds):
    remote = re.compile(r"""<(?:script|link)[^>]+(?:src|href)=["']https?://""")
    offenders = [name for name, text in pages().items() if remote.search(text)]
    assert not offenders, offenders
    assert (HTML / "_static" / "mathjax" / "tex-svg.js").stat().st_size > 1_000_000


def test_solutions_fold_away_and_the_workshop_build_has_none(builds):
    with_solutions = (HTML / "solutions" / "02_meet_the_data.html").read_text()
    without = (NOSOL / "solutions" / "02_meet_the_data.html").read_text()
    assert 'class="solution' in with_solutions and "dropdown" in with_solutions
    assert 'class="solution' not in without
    assert "BEGIN SOLUTION" not in without


def test_a_broken_citation_or_reference_fails_the_build(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    for name in ("_config.yml", "references.bib"):
        shutil.copy(ROOT / name, book / name)
    (book / "_toc.yml").write_text("format: jb-book\nroot: index\n")
    (book / "index.md").write_text("# Page\n\nSee {cite:p}`no-such-source` and {ref}`no-such-label`.\n")
    result = run(build.command(output=tmp_path / "out", root=book), cwd=book)
    log = result.stdout + result.stderr
    assert result.returncode != 0
    assert "no-such-source" in log and "no-such-label" in log
