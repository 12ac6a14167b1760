"""The course as data: its chapters, their timings, and a workshop schedule.

Each chapter notebook keeps its overview in its own metadata, under the key
``mlecourse``: teaching minutes, each exercise's minutes (and an open
exercise's pair review), the exercises a workshop does in the room,
questions, objectives and key points. The exercises themselves are read from
the chapter's workbook, so a new or renumbered exercise without minutes
stops the plan with its name. The site shows the overview at the top and
bottom of the chapter, the instructor notes show the minutes, and the
instructor guide adds them up into a schedule, so there is one source.
"""
from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import yaml

from mlecourse.paths import ROOT

REQUIRED = ("teaching_minutes", "questions", "objectives", "keypoints")
SEED_SCRIPT = "tools/exercise_minutes.py"


@dataclass(frozen=True)
class Exercise:
    """One exercise of a workbook, with its minutes from the chapter's metadata."""
    id: str
    minutes: int
    review: int = 0  # minutes of a pair review with the rubric, after an open exercise
    open: bool = False  # no check: a written answer, reviewed with a rubric

    @property
    def total(self) -> int:
        return self.minutes + self.review


@dataclass(frozen=True)
class Chapter:
    path: Path
    title: str
    teaching_minutes: int
    exercises: tuple[Exercise, ...]
    questions: list[str]
    objectives: list[str]
    keypoints: list[str]
    in_room: tuple[str, ...] = ()  # the exercises a workshop does in the room; the rest is homework

    @property
    def exercise_minutes(self) -> int:
        return sum(e.total for e in self.exercises)


EXERCISE_LABEL = re.compile(r"^:label:\s*ex-(\d+)-(\d+)\s*$", re.M)
CHECK_CALL = re.compile(r"""\bcheck\(\s*["']([\d.]+)["']""")


def _workbook_cells(stem: str) -> list[dict]:
    workbook = ROOT / "solutions" / f"{stem}.ipynb"
    return json.loads(workbook.read_text())["cells"] if workbook.exists() else []


def workbook_exercises(stem: str) -> tuple[str, ...]:
    """Every exercise of a chapter's workbook, checked or open, in order, from its labels."""
    cells = _workbook_cells(stem)
    found = [f"{a}.{b}" for c in cells if c["cell_type"] == "markdown"
             for a, b in EXERCISE_LABEL.findall("".join(c["source"]))]
    return tuple(dict.fromkeys(found))


def checked_exercises(stem: str) -> tuple[str, ...]:
    """The exercises of a workbook that a ``check`` call grades, in order."""
    cells = _workbook_cells(stem)
    found = [m for c in cells if c["cell_type"] == "code" for m in CHECK_CALL.findall("".join(c["source"]))]
    return tuple(dict.fromkeys(found))


def exercises_of(notebook_path: Path, meta: dict) -> tuple[tuple[Exercise, ...], tuple[str, ...]]:
    """The workbook's exercises with their minutes, and the in-room choice, from ``meta``;
    every exercise of the workbook must have minutes, and nothing else may."""
    stem, where = notebook_path.stem, f"chapters/{notebook_path.name}"
    ids, given = workbook_exercises(stem), meta.get("exercises") or {}
    missing = [i for i in ids if i not in given]
    if missing:
        raise ValueError(f"{where}: metadata.mlecourse.exercises has no minutes for {', '.join(missing)} "
                         f"(run `.venv/bin/python {SEED_SCRIPT}`, or add them by hand)")
    extra = [i for i in given if i not in ids]
    if extra:
        raise ValueError(f"{where}: metadata.mlecourse.exercises names {', '.join(extra)}, which "
                         f"solutions/{notebook_path.name} does not have")
    checked = set(checked_exercises(stem))
    exercises = tuple(Exercise(i, int(given[i]["minutes"]), int(given[i].get("review", 0)), i not in checked)
                      for i in ids)
    room = tuple(meta.get("in_room") or ())
    strangers = [i for i in room if i not in ids]
    if strangers:
        raise ValueError(f"{where}: metadata.mlecourse.in_room names {', '.join(strangers)}, not in its workbook")
    if "exercise_minutes" in meta and int(meta["exercise_minutes"]) != sum(e.total for e in exercises):
        raise ValueError(f"{where}: exercise_minutes ({meta['exercise_minutes']}) is not the sum of the "
                         "exercises' minutes: remove it, the sum is the total")
    return exercises, room


def overview(notebook_path: Path) -> dict:
    """The ``mlecourse`` metadata of a chapter notebook, checked for completeness;
    ``exercise_minutes`` is the sum of its exercises' minutes and reviews."""
    meta = json.loads(Path(notebook_path).read_text())["metadata"].get("mlecourse")
    if not meta:
        raise ValueError(f"{notebook_path} has no 'mlecourse' metadata (timings, objectives)")
    missing = [key for key in REQUIRED if not meta.get(key)]
    if missing:
        raise ValueError(f"{notebook_path}: 'mlecourse' metadata lacks {', '.join(missing)}")
    exercises, _ = exercises_of(Path(notebook_path), meta)
    return {**meta, "exercise_minutes": sum(e.total for e in exercises)}


def _title(notebook_path: Path) -> str:
    for cell in json.loads(notebook_path.read_text())["cells"]:
        for line in "".join(cell["source"]).splitlines():
            if cell["cell_type"] == "markdown" and line.startswith("# "):
                return line[2:].strip()
    return notebook_path.stem


def _toc_files(node) -> list[str]:
    """Every file named in _toc.yml, in reading order."""
    if isinstance(node, dict):
        found = [node["file"]] if "file" in node else []
        for key in ("parts", "chapters", "sections"):
            for child in node.get(key, []):
                found += _toc_files(child)
        return found
    return []


def chapter(path: Path) -> Chapter:
    """One chapter notebook, read from its metadata and its workbook."""
    meta = overview(path)
    exercises, room = exercises_of(path, meta)
    return Chapter(path, _title(path), int(meta["teaching_minutes"]), exercises, meta["questions"],
                   meta["objectives"], meta["keypoints"], room)


def chapters() -> list[Chapter]:
    """The chapter notebooks, in the order of the book."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [chapter(ROOT / f"{name}.ipynb") for name in _toc_files({"file": toc["root"], **toc})
            if name.startswith("chapters/") and (ROOT / f"{name}.ipynb").exists()]


def exercise_ids(chapter: Chapter) -> tuple[str, ...]:
    """The checked exercises of a chapter's workbook, in order, from its ``check`` calls."""
    return checked_exercises(chapter.path.stem)


def _clock(text: str) -> datetime:
    return datetime.strptime(text, "%H:%M")


PAUSES = ("break", "lunch", "end")  # everything else (welcome, recap, close too) is time in a chair
MIN_PART = 20  # minutes: teaching is not cut into a piece shorter than this


@dataclass(frozen=True)
class Block:
    """One chapter's teaching, one exercise done in the room, or the pair review after one."""
    title: str
    kind: str  # "teaching", "exercises" or "review"
    minutes: int
    exercises: tuple[str, ...] = ()


def blocks(chosen: list[Chapter], room: dict[str, tuple[str, ...]] | None = None) -> list[Block]:
    """Teaching, then each exercise done in the room (and its review), per chapter;
    ``room`` names the exercises done in the room (default: all of them)."""
    out = []
    for ch in chosen:
        out.append(Block(ch.title, "teaching", ch.teaching_minutes))
        kept = [e.id for e in ch.exercises] if room is None else room.get(ch.path.stem, ())
        for exercise in ch.exercises:
            if exercise.id in kept:
                out.append(Block(ch.title, "exercises", exercise.minutes, (exercise.id,)))
                if exercise.review:
                    out.append(Block(ch.title, "review", exercise.review, (exercise.id,)))
    return out


class _Day:
    """The clock of a workshop: rows so far, and the rules a new row must keep."""

    def __init__(self, start, day_end, break_after, break_minutes, lunch_minutes, close_minutes):
        self.start, self.end = _clock(start), _clock(day_end)
        self.break_after, self.break_minutes = break_after, break_minutes
        self.lunch_minutes, self.close_minutes = lunch_minutes, close_minutes
        self.rows: list[dict] = []
        self.day, self.clock, self.since, self.lunched = 1, self.start, 0, False

    def copy(self) -> "_Day":
        twin = copy.copy(self)
        twin.rows = list(self.rows)
        return twin

    def add(self, session: str, kind: str, minutes: int, ids=()) -> None:
        last = self.rows[-1] if self.rows else None
        if kind == "exercises" and last and last["kind"] == kind and last["session"] == session:
            last = self.rows[-1] = {**last, "minutes": last["minutes"] + minutes, "exercises": last["exercises"]
                                    + minutes, "exercise_ids": last["exercise_ids"] + list(ids)}
        else:
            self.rows.append({"day": self.day, "start": self.clock.strftime("%H:%M"), "session": session,
                              "kind": kind, "teaching": minutes if kind == "teaching" else 0,
                              "exercises": minutes if kind in ("exercises", "review") else 0,
                              "minutes": minutes, "exercise_ids": list(ids)})
        self.clock += timedelta(minutes=minutes)
        self.since = 0 if kind in PAUSES else self.since + minutes

    def fits(self, minutes: int) -> bool:
        """``minutes`` more in the chair now keep every rule, with the day's close still to come."""
        after, since = self.clock + timedelta(minutes=minutes), self.since + minutes
        if since > self.break_after or (not self.lunched and after > _clock("13:00")):
            return False
        tail = self.close_minutes if since + self.close_minutes <= self.break_after else \
            self.break_minutes + self.close_minutes
        return after + timedelta(minutes=tail) <= self.end

    def lunch_due(self) -> bool:
        """The first gap after noon is lunch."""
        return not self.lunched and self.clock >= _clock("12:00") and self.since >= MIN_PART

    def pause(self) -> None:
        lunch = not self.lunched and self.clock >= _clock("11:30")
        self.add("Lunch" if lunch else "Break", "lunch" if lunch else "break",
                 self.lunch_minutes if lunch else self.break_minutes)
        self.lunched |= lunch

    def can_pause_for(self, minutes: int) -> bool:
        twin = self.copy()
        twin.pause()
        return twin.fits(minutes)

    def close(self, session: str) -> None:
        if self.since + self.close_minutes > self.break_after:
            self.pause()
        self.add(session, "close", self.close_minutes)

    def new_day(self, recap_minutes: int) -> None:
        self.close("Close: sticky notes, questions, what is next")
        self.add("End of the day", "end", 0)
        self.day, self.clock, self.since, self.lunched = self.day + 1, self.start, 0, False
        self.add("Recap of yesterday, questions", "recap", recap_minutes)

    def place(self, block: Block, recap_minutes: int) -> None:
        """Add ``block`` whole, after a pause or on the next day if it must wait."""
        title = block.title if block.kind != "review" else f"{block.title}: pair review of {block.exercises[0]}"
        for _ in range(3):
            if self.lunch_due() and self.since:
                self.pause()
            if self.fits(block.minutes):
                self.add(title, block.kind, block.minutes, block.exercises)
                return
            if self.since and self.can_pause_for(block.minutes):
                self.pause()
            else:
                self.new_day(recap_minutes)
        raise ValueError(f"{title} ({block.minutes} min, {block.kind}) fits no stretch of "
                         f"{self.break_after} minutes in a day")

    def teach(self, block: Block) -> bool:
        """Add a chapter's teaching, split at pauses into pieces of at least MIN_PART minutes,
        all on this day; False (and nothing kept by the caller) if the day cannot hold it."""
        left, part = block.minutes, 0
        while left:
            if self.lunch_due() and self.since:
                self.pause()
            room = next((m for m in range(left, 0, -1) if self.fits(m)), 0)
            piece = room if room >= left else min(room, left - MIN_PART)
            if piece < MIN_PART and piece < left:
                if not self.since or not self.can_pause_for(min(left, MIN_PART)):
                    return False
                self.pause()
                continue
            self.add(block.title + ("" if part == 0 else " (continued)"), "teaching", piece)
            left, part = left - piece, part + 1
        return True


def schedule(start: str = "09:30", day_end: str = "17:30", break_after: int = 90,
             break_minutes: int = 15, lunch_minutes: int = 60, chosen: list[Chapter] | None = None,
             room: dict[str, tuple[str, ...]] | None = None, welcome_minutes: int = 30,
             recap_minutes: int = 15, close_minutes: int = 15) -> list[dict]:
    """Workshop days, from the chapters' minutes: welcome, teaching, exercises, pauses.

    Day 1 opens with a welcome and setup check (``mlecourse doctor``), later
    days with a recap; each day closes with a sticky-note round. Those count
    as time in the chair: nobody sits more than ``break_after`` minutes, all
    included, without a pause. A chapter's teaching is split only at a pause
    (into pieces of at least 20 minutes) and never across days; an exercise
    and its pair review are never split. Lunch is the first pause from 11:30
    (from noon at the latest) and comes by 13:00. Each row has a ``day`` and a
    ``kind`` (welcome, recap, teaching, exercises, review, close, or a pause).
    """
    plan = _Day(start, day_end, break_after, break_minutes, lunch_minutes, close_minutes)
    plan.add("Welcome and setup check (`mlecourse doctor`)", "welcome", welcome_minutes)
    for block in blocks(chosen if chosen is not None else chapters(), room):
        if block.kind != "teaching":
            plan.place(block, recap_minutes)
            continue
        trial = plan.copy()
        if not trial.teach(block):
            plan.new_day(recap_minutes)
            trial = plan.copy()
            if not trial.teach(block):
                raise ValueError(f"{block.title}: {block.minutes} min of teaching do not fit one day")
        plan.__dict__.update(trial.__dict__)
    plan.close("Close: sticky notes, questions")
    plan.add("End", "end", 0)
    return plan.rows


@dataclass(frozen=True)
class Track:
    """A workshop of ``days`` days on some chapters; exercises that do not fit are homework."""
    name: str
    days: int
    chapters: tuple[int, ...]
    summary: str


TRACKS = (
    Track("one-day", 1, (2, 3, 4, 5, 11),
          "the data, the lifecycle, model development and deployment: the core of the job; the capstone "
          "presented and its first step done in the room, the rest a take-home project"),
    Track("two-day", 2, (2, 3, 4, 5, 6, 7, 8, 11),
          "the production core: data to deployment, monitoring, MLOps and responsible AI, each chapter's "
          "teaching with its first exercises in the room and the rest as homework; chapter 1 read before "
          "day 1; the capstone presented at the end, its first step in the room, the rest a take-home project"),
    Track("three-day", 3, (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11),
          "every chapter, LLM systems and careers included, with each chapter's first exercises in the "
          "room; the capstone presented at the end, its first step in the room, the rest a take-home project"),
)


def track_chapters(track: Track) -> list[Chapter]:
    """The track's chapters that exist in the book, in the book's order."""
    wanted = {planned_chapter(n)[2] for n in track.chapters}
    return [c for c in chapters() if f"chapters/{c.path.stem}" in wanted]


def checkpoints() -> list[dict]:
    """Sticky-note moments per chapter: after its teaching (can you answer its
    questions?) and after its exercises (which checks show ✓?)."""
    out = []
    for chapter in chapters():
        out.append({"chapter": chapter.title, "after": "teaching", "ask": list(chapter.questions)})
        ids = [i for i in (chapter.in_room or exercise_ids(chapter)) if i in exercise_ids(chapter)]
        if ids:
            out.append({"chapter": chapter.title, "after": "exercises",
                        "ask": [f"Green if `check` shows ✓ for {', '.join(ids[:2])}; red if you are stuck "
                                f"on one (say which). `mlecourse progress {chapter.path.name[:2].lstrip('0')}` "
                                "tells you where you are."]})
    return out


def days_used(rows: list[dict]) -> int:
    return max(r["day"] for r in rows)


def plan_track(track: Track, **hours) -> tuple[list[dict], dict[str, tuple[Exercise, ...]]]:
    """The track's schedule and its homework: each chapter's ``in_room`` exercises (its
    metadata, from its instructor notes) are done in the room, every other one is homework."""
    chosen = track_chapters(track)
    room = {c.path.stem: c.in_room for c in chosen}
    rows = schedule(chosen=chosen, room=room, **hours)
    if days_used(rows) > track.days:
        raise ValueError(f"track {track.name!r} needs {days_used(rows)} days, not {track.days}, with the "
                         "chapters' in-room exercises: drop a chapter from it in plan.TRACKS, or move "
                         "exercises to homework in a chapter's metadata.mlecourse.in_room")
    homework = {c.path.stem: tuple(e for e in c.exercises if e.id not in room[c.path.stem]) for c in chosen}
    return rows, homework


def homework_minutes(homework: dict[str, tuple[Exercise, ...]]) -> int:
    return sum(e.total for exercises in homework.values() for e in exercises)


# The whole course, planned: number, title, notebook (without .ipynb). A page
# appears in the book only once its notebook exists; code that points learners
# to a chapter (the career chapter's gap list) uses this table.
PLAN = (
    (1, "The Machine Learning Engineer", "chapters/01_the_ml_engineer"),
    (2, "Meet the data", "chapters/02_meet_the_data"),
    (3, "The ML lifecycle: from a business problem to validated features", "chapters/03_lifecycle_features"),
    (4, "Model development", "chapters/04_model_development"),
    (5, "Deployment", "chapters/05_deployment"),
    (6, "Monitoring and maintenance", "chapters/06_monitoring"),
    (7, "MLOps in practice", "chapters/07_mlops"),
    (8, "Ethics and responsible AI", "chapters/08_ethics"),
    (9, "LLM systems", "chapters/09_llm_systems"),
    (10, "Skills, tools and career paths", "chapters/10_skills_tools_careers"),
    (11, "Capstone", "chapters/11_capstone"),
)


def planned_chapter(number: int) -> tuple[int, str, str]:
    """The plan's entry for chapter ``number``."""
    for entry in PLAN:
        if entry[0] == number:
            return entry
    raise KeyError(f"the course has no chapter {number}")


def published(number: int) -> bool:
    """True once chapter ``number``'s notebook exists."""
    return (ROOT / f"{planned_chapter(number)[2]}.ipynb").exists()
