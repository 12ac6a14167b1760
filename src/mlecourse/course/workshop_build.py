"""The workshop site, leak-free: what ``make book-nosolutions`` publishes.

The Sphinx extension removes the worked solutions of checked exercises from
the pages (open exercises keep their rubric: paired review uses it). Tried
as an attendee would, the built site still gave answers away in four more
places, which this module closes after the build:

* a workbook page's download button serves ``_sources/solutions/NN.ipynb``,
  the full solution notebook: it now serves the exercise notebook;
* launch buttons (Binder, Colab) and the repository buttons open
  ``solutions/NN.ipynb``: they now open ``exercises/NN.ipynb``;
* a check cell's executed output states the answer ("✓ Exercise 2.1:
  correct. ..." with the column, the months, "not significant"): removed;
* the per-chapter instructor notes hold exact answers: replaced by a notice.

Then ``leaks`` greps every file of the output (pages, sources, search
index, executed notebooks) for every marked solution line, every check
message the build printed, and the capstone's truths (its events' dates and
sizes, its reference answers: what the instructor notes state); any hit fails
the build.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat

from mlecourse.paths import EXERCISES_DIR, SOLUTIONS_DIR

from . import workbooks

CHECK_LINE = re.compile(r"✓ Exercise [\w.]+: correct\.[^<\n\"]*")
LAUNCH = re.compile(r"(https?://[^\"'\s]*?)\bsolutions/(\d\d_[\w-]+\.ipynb)")
NOTICE = ("<h1>Instructor notes</h1><p>The instructor notes are not part of the workshop copy of "
          "the site: they hold the exercises' answers. They are in the full site and in "
          "<code>instructors/</code> of the course repository.</p>")
MIN_LINE = 12  # shorter lines ("leak = {}") are too common to call a leak


def open_exercise_labels(path: Path) -> set[str]:
    """Labels (ex-2-7) of the exercises in a solution notebook that have no check: open questions."""
    from mlecourse.checks import registry
    checked = {f"ex-{i.replace('.', '-')}" for i in registry()}
    labels = set()
    for cell in nbformat.read(path, as_version=4).cells:
        found = re.search(r"^:label:\s*(ex-[\d-]+)", cell.source, flags=re.M)
        if cell.cell_type == "markdown" and found and found[1] not in checked:
            labels.add(found[1])
    return labels


def solution_lines(path: Path, keep_open: bool = True) -> set[str]:
    """Every substantial line of a worked solution in ``path``: between BEGIN and END
    SOLUTION markers, or in a solution-start/solution-end fence (an open exercise's
    rubric excepted when ``keep_open``: it is published on purpose)."""
    lines, fence, open_labels = set(), None, open_exercise_labels(path) if keep_open else set()
    for cell in nbformat.read(path, as_version=4).cells:
        first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
        if workbooks.SOLUTION_START.match(first):
            label = first.split("}", 1)[1].strip()
            fence = "open" if label in open_labels else "closed"
            continue
        if workbooks.SOLUTION_END.match(first):
            fence = None
            continue
        inside_region = False
        for line in cell.source.splitlines():
            if workbooks.BEGIN.match(line):
                inside_region = True
            elif workbooks.END.match(line):
                inside_region = False
            elif (inside_region or (fence == "closed" and not workbooks.has_answer(cell))) \
                    and len(line.strip()) > MIN_LINE:
                lines.add(line.strip())
    return lines


def _strip_check_outputs(html: str) -> str:
    """Remove the output of every cell whose code calls ``check(``."""
    from bs4 import BeautifulSoup
    soup = BeautifulSoup(html, "html.parser")
    changed = False
    for cell in soup.select("div.cell"):
        code = cell.select_one("div.cell_input")
        if code is not None and "check(" in code.get_text():
            for output in cell.select("div.cell_output"):
                output.decompose()
                changed = True
    return str(soup) if changed else html


def _stub_instructor_page(html: str) -> str:
    from bs4 import BeautifulSoup
    soup = BeautifulSoup(html, "html.parser")
    article = soup.select_one("article") or soup.select_one("main") or soup.body
    if article is None:
        return NOTICE
    # Keep the page's frame (the theme's scripts look for it); drop the notes,
    # and the page's own table of contents that linked to them.
    target = article.find("section") or article
    target.clear()
    target.append(BeautifulSoup(NOTICE, "html.parser"))
    for toc in soup.select("div.bd-sidebar-secondary nav, nav.bd-toc-nav, #pst-page-toc-nav, #jb-print-toc, ul.section-nav"):
        toc.decompose()
    return str(soup)


def finish(html_dir: Path, exercises: Path | None = None) -> list[str]:
    """Make the built site in ``html_dir`` leak-free; returns what was done, one line each."""
    exercises = exercises or EXERCISES_DIR
    done = []
    sources = html_dir / "_sources" / "solutions"
    for source in sorted(sources.glob("*.ipynb")) if sources.is_dir() else []:
        shutil.copyfile(exercises / source.name, source)
    done.append(f"download buttons serve exercises/ ({len(list(sources.glob('*.ipynb')))} notebooks)")
    for folder in ("_sources/instructors", "instructors"):
        for page in sorted((html_dir / folder).glob("[0-9][0-9]_*")):
            if page.suffix == ".html":
                page.write_text(_stub_instructor_page(page.read_text()))
            else:
                page.write_text("The instructor notes are not part of the workshop copy of the site.\n")
    done.append("instructor notes with answers replaced by a notice")
    pages = 0
    for page in html_dir.rglob("*.html"):
        text = page.read_text()
        new = LAUNCH.sub(r"\1exercises/\2", text)
        if page.parent.name == "solutions":
            new = _strip_check_outputs(new)
        if new != text:
            page.write_text(new)
            pages += 1
    done.append(f"launch buttons and check outputs fixed in {pages} pages")
    return done


def check_messages(folder: Path) -> set[str]:
    """The success lines of checks found anywhere in ``folder`` (before ``finish``)."""
    found = set()
    for path in folder.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".ipynb", ".js", ".txt", ".md", ".json"):
            found |= {m.group(0).strip() for m in CHECK_LINE.finditer(path.read_text(errors="replace"))}
    return found


def leaks(folder: Path, messages: set[str] = frozenset(), solutions: Path | None = None) -> list[str]:
    """'file: line' for every marked solution line, check message or capstone truth left in any
    file of ``folder`` (the capstone's events and answers: ``ch11_capstone.leak_strings``)."""
    from mlecourse.checks import ch11_capstone

    solutions = solutions or SOLUTIONS_DIR
    wanted = set(messages) | ch11_capstone.leak_strings()
    for path in sorted(solutions.glob("*.ipynb")):
        wanted |= solution_lines(path)
    # the write-up's headings are the template every learner is given, not an answer
    wanted -= {line.strip() for line in ch11_capstone.design_template().splitlines()}
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue  # images, fonts
        found += [f"{path.relative_to(folder)}: {line}" for line in sorted(wanted) if _contains(text, line)]
    return found


def _contains(text: str, line: str) -> bool:
    if line in text:
        return True
    from html import escape
    return escape(line, quote=False) in text or escape(line) in text


def main(html_dir: Path) -> int:
    """Close the leaks in a freshly built workshop site, prove it, and say where it is."""
    import sys
    messages = check_messages(html_dir)
    for line in finish(html_dir):
        print(f"workshop site: {line}")
    found = leaks(html_dir, messages)
    if found:
        print(f"error: the workshop site still gives {len(found)} answer(s) away, e.g. {found[0]}; "
              "nothing is published until they are gone", file=sys.stderr)
        return 1
    print(f"No solution line or check message anywhere in it. Open file://{html_dir / 'index.html'}")
    return 0
