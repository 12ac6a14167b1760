"""The course's Sphinx extension.

* Puts each chapter's overview (timing, questions, objectives) under its
  title and its key points at its end, from the notebook's metadata.
* ``{course-schedule}`` draws the workshop schedule from the same metadata.
* Serves MathJax from the site, so pages render math without a network.
* ``mlecourse_hide_solutions`` removes every worked solution, for a workshop
  build. (sphinx-exercise's own ``hide_solutions`` leaves the code cells of a
  gated ``{solution-start}`` block on the page, and then fails on its end.)
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive, directives
from sphinx.util import logging

from mlecourse.course import plan

logger = logging.getLogger(__name__)
MATHJAX_FILE = "mathjax/tex-svg.js"


def _inline(text: str) -> list[nodes.Node]:
    """Plain text with `code` spans: enough for objectives and key points."""
    parts = re.split(r"`([^`]+)`", text)
    return [nodes.literal(p, p) if i % 2 else nodes.Text(p) for i, p in enumerate(parts) if p]


def _box(title: str, classes: list[str], items: dict[str, list[str] | str]) -> nodes.admonition:
    box = nodes.admonition(classes=["admonition", *classes])
    box += nodes.title(title, title)
    for label, value in items.items():
        if isinstance(value, str):
            para = nodes.paragraph()
            para += nodes.strong(label, label)
            para += nodes.Text(" " + value)
            box += para
            continue
        if label:
            box += nodes.paragraph("", "", nodes.strong(label, label))
        bullets = nodes.bullet_list()
        for entry in value:
            bullets += nodes.list_item("", nodes.paragraph("", "", *_inline(entry)))
        box += bullets
    return box


def hide_solutions(app, doctree) -> None:
    if not app.config.mlecourse_hide_solutions:
        return
    from sphinx_exercise.nodes import solution_node

    from mlecourse.checks import registry
    checked = {f"ex-{i.replace('.', '-')}" for i in registry()}
    for node in list(doctree.findall(solution_node)):
        label = str(node.get("target_label", ""))
        if label.startswith("ex-") and label not in checked:
            # An open exercise's "solution" is its rubric, which paired review needs: it stays,
            # shown as a plain box (no solution dropdown, no "Solution to" title).
            rubric = nodes.container(classes=["open-exercise-rubric"])
            for child in node.children:
                if not isinstance(child, nodes.title):
                    rubric.extend(child.children if isinstance(child, nodes.section) else [child.deepcopy()])
            node.replace_self(rubric)
        else:
            node.parent.remove(node)


def add_overview(app, doctree) -> None:
    path = Path(app.env.doc2path(app.env.docname))
    if path.suffix != ".ipynb" or path.parent.name != "chapters":
        return
    try:
        meta = plan.overview(path)
    except ValueError as err:
        logger.warning(str(err), location=app.env.docname)
        return
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None:
        logger.warning("chapter has no title", location=app.env.docname)
        return
    teach, practise = int(meta["teaching_minutes"]), int(meta["exercise_minutes"])
    timing = f"{teach} min teaching, {practise} min exercises ({teach + practise} min in all)"
    top = _box("Overview", ["tip", "chapter-overview"], {
        "Time:": timing, "Questions": meta["questions"], "Objectives": meta["objectives"]})
    section.insert(1, top)
    section += _box("Key points", ["important", "chapter-keypoints"], {"": meta["keypoints"]})


class CourseSchedule(Directive):
    """A table of the workshop days, computed from the chapters' metadata.

    ``:track: one-day`` plans one of ``plan.TRACKS`` instead of the whole
    course, and lists which exercises are done in the room and which are homework.
    """
    has_content = False
    option_spec = {"track": directives.unchanged}

    def run(self):
        name = self.options.get("track")
        homework = {}
        if name:
            tracks = {t.name: t for t in plan.TRACKS}
            if name not in tracks:
                raise self.error(f"unknown track {name!r}; the tracks are {', '.join(tracks)}")
            rows, homework = plan.plan_track(tracks[name])
        else:
            rows = plan.schedule()
        header = ["Day", "Start", "Session", "Teaching (min)", "Exercises (min)", "In the room"]
        cells = [["" if previous and previous["day"] == r["day"] else str(r["day"]), r["start"], r["session"],
                  str(r["teaching"] or ""), str(r["exercises"] or ""), ", ".join(r["exercise_ids"])]
                 for previous, r in zip([None, *rows], rows)]
        out = [_table("course-schedule", header, cells)]
        if name:
            listing = nodes.bullet_list()
            for stem, exercises in homework.items():
                text = f"{stem}: " + (", ".join(_exercise_text(e) for e in exercises) if exercises
                                      else "none, all in the room")
                listing += nodes.list_item("", nodes.paragraph(text=text))
            load = plan.homework_minutes(homework)
            out += [nodes.paragraph(text=f"Homework (done after the workshop, checked with `mlecourse "
                                    f"progress`): {load} minutes of homework in all, about "
                                    f"{load / 60:.1f} hours:"), listing]
        return out

def _row(cells: list[str]) -> nodes.row:
    row = nodes.row()
    for text in cells:
        row += nodes.entry("", nodes.paragraph(text=text))
    return row


def _table(kind: str, header: list[str], rows: list[list[str]]) -> nodes.table:
    table = nodes.table(classes=[kind])
    group = nodes.tgroup(cols=len(header))
    table += group
    group.extend(nodes.colspec(colwidth=1) for _ in header)
    head, body = nodes.thead(), nodes.tbody()
    head += _row(header)
    for cells in rows:
        body += _row(cells)
    group += head
    group += body
    return table


def _exercise_text(exercise: plan.Exercise) -> str:
    review = f" + {exercise.review} min pair review" if exercise.review else ""
    return f"{exercise.id} ({exercise.minutes} min{review}{', open' if exercise.open else ''})"


class ChapterTiming(Directive):
    """A chapter's exercises with their minutes, and which a workshop does in the room,
    from the chapter notebook's metadata (``.. chapter-timing:: 08_ethics``)."""
    required_arguments = 1

    def run(self):
        stem = self.arguments[0]
        path = plan.ROOT / "chapters" / f"{stem}.ipynb"
        if not path.exists():
            raise self.error(f"no chapter notebook chapters/{stem}.ipynb")
        chapter = plan.chapter(path)
        table = _table("chapter-timing", ["Exercise", "Minutes", "Kind", "In a workshop"], [
            [e.id, f"{e.minutes}" + (f" + {e.review} pair review" if e.review else ""),
             "open, rubric" if e.open else "checked", "in the room" if e.id in chapter.in_room else "homework"]
            for e in chapter.exercises])
        room = sum(e.total for e in chapter.exercises if e.id in chapter.in_room)
        summary = (f"{chapter.teaching_minutes} min teaching; exercises {chapter.exercise_minutes} min in all, "
                   f"of which {room} min in the room in a workshop and {chapter.exercise_minutes - room} min "
                   "homework (the schedule's tracks use this choice).")
        return [nodes.paragraph(text=summary), table]


class LiveCoding(Directive):
    """A chapter's live-coding script (``instructors/live/NN_slug.yml``), step by step."""
    required_arguments = 1

    def run(self):
        from mlecourse.course import live_coding
        try:
            steps = live_coding.load(self.arguments[0])
        except (OSError, ValueError) as err:
            raise self.error(str(err))
        out = [nodes.paragraph(text=f"{len(steps)} steps, {sum(s.minutes for s in steps)} minutes in all.")]
        for number, step in enumerate(steps, 1):
            box = nodes.admonition(classes=["admonition", "live-coding-step"])
            title = f"Step {number}: {step.title} ({step.minutes} min)"
            box += nodes.title(title, title)
            box += nodes.paragraph("", "", nodes.strong("Say first: ", "Say first: "), *_inline(step.say))
            box += nodes.paragraph("", "", nodes.strong("Type:", "Type:"))
            box += nodes.literal_block(step.type, step.type, language="python")
            box += nodes.paragraph("", "", nodes.strong("The room sees: ", "The room sees: "), *_inline(step.see))
            box += nodes.paragraph("", "", nodes.strong("Where it goes wrong: ", "Where it goes wrong: "),
                                   *_inline(step.wrong))
            out.append(box)
        return out


class CapstoneTruths(Directive):
    """The capstone's events and reference answers, for the instructor notes only
    (the workshop build replaces those pages and greps for these lines)."""
    has_content = False

    def run(self):
        from mlecourse.checks import ch11_capstone
        return [_table("capstone-truths", ["What", "The truth"], [list(row) for row in ch11_capstone.truths()])]


class CapstoneRubric(Directive):
    """The capstone's rubric (``ch11_capstone.RUBRIC``): the chapter page, the solution and the
    instructor notes grade with the same data."""
    has_content = False

    def run(self):
        from mlecourse.checks import ch11_capstone
        rows = [[name, str(marks), earns] for name, marks, earns in ch11_capstone.RUBRIC]
        total = sum(marks for _, marks, _ in ch11_capstone.RUBRIC)
        return [_table("capstone-rubric", ["Criterion", "Marks", "What earns them"], rows),
                nodes.paragraph(text=f"{total} marks in all.")]


class CourseCheckpoints(Directive):
    """Sticky-note checkpoints per chapter, from the chapters' metadata."""
    has_content = False

    def run(self):
        listing = nodes.bullet_list()
        for point in plan.checkpoints():
            item = nodes.list_item("", nodes.paragraph(
                text=f"{point['chapter']}, after the {point['after']}:"))
            asks = nodes.bullet_list()
            for ask in point["ask"]:
                asks += nodes.list_item("", nodes.paragraph("", "", *_inline(ask)))
            item += asks
            listing += item
        return [listing]


def copy_mathjax(app, exception) -> None:
    if exception or app.builder.format != "html":
        return
    import mathjax  # the pinned django-static-mathjax package ships MathJax 3
    source = Path(mathjax.__path__[0]) / "static" / "mathjax" / "es5" / "tex-svg.js"
    target = Path(app.outdir) / "_static" / MATHJAX_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def setup(app):
    app.add_config_value("mlecourse_hide_solutions", False, "env")
    app.connect("doctree-read", hide_solutions)
    app.connect("doctree-read", add_overview)
    app.connect("build-finished", copy_mathjax)
    app.add_directive("course-schedule", CourseSchedule)
    app.add_directive("course-checkpoints", CourseCheckpoints)
    app.add_directive("chapter-timing", ChapterTiming)
    app.add_directive("live-coding", LiveCoding)
    app.add_directive("capstone-truths", CapstoneTruths)
    app.add_directive("capstone-rubric", CapstoneRubric)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
