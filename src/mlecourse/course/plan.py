"""The course as data: its chapters, their timings, and a workshop schedule.

Each chapter notebook keeps its overview in its own metadata, under the key
``mlecourse``: teaching and exercise minutes, questions, objectives and key
points. The site shows it at the top and bottom of the chapter, and the
instructor guide adds the minutes up into a schedule, so there is one source.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import yaml

from mlecourse.paths import ROOT

REQUIRED = ("teaching_minutes", "exercise_minutes", "questions", "objectives", "keypoints")


@dataclass(frozen=True)
class Chapter:
    path: Path
    title: str
    teaching_minutes: int
    exercise_minutes: int
    questions: list[str]
    objectives: list[str]
    keypoints: list[str]


def overview(notebook_path: Path) -> dict:
    """The ``mlecourse`` metadata of a chapter notebook, checked for completeness."""
    meta = json.loads(Path(notebook_path).read_text())["metadata"].get("mlecourse")
    if not meta:
        raise ValueError(f"{notebook_path} has no 'mlecourse' metadata (timings, objectives)")
    missing = [key for key in REQUIRED if not meta.get(key)]
    if missing:
        raise ValueError(f"{notebook_path}: 'mlecourse' metadata lacks {', '.join(missing)}")
    return meta


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


def chapters() -> list[Chapter]:
    """The chapter notebooks, in the order of the book."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    out = []
    for name in _toc_files({"file": toc["root"], **toc}):
        path = ROOT / f"{name}.ipynb"
        if name.startswith("chapters/") and path.exists():
            meta = overview(path)
            out.append(Chapter(path, _title(path), int(meta["teaching_minutes"]),
                               int(meta["exercise_minutes"]), meta["questions"],
                               meta["objectives"], meta["keypoints"]))
    return out


def _clock(text: str) -> datetime:
    return datetime.strptime(text, "%H:%M")


PAUSES = ("break", "lunch", "welcome", "recap", "close", "end")
MIN_PART = 20  # minutes: a block is not cut into a piece shorter than this


@dataclass(frozen=True)
class Block:
    """One chapter's teaching, or the exercises of it done in the room."""
    title: str
    kind: str  # "teaching" or "exercises"
    minutes: int
    exercises: tuple[str, ...] = ()


def blocks(chosen: list[Chapter], room: dict[str, tuple[str, ...]] | None = None) -> list[Block]:
    """Teaching then exercises, per chapter; ``room`` limits the exercises done in the room."""
    out = []
    for chapter in chosen:
        out.append(Block(chapter.title, "teaching", chapter.teaching_minutes))
        everything = exercise_ids(chapter)
        kept = everything if room is None else room.get(chapter.path.stem, everything)
        minutes = chapter.exercise_minutes if room is None else exercise_minutes(chapter, len(kept))
        if minutes:
            out.append(Block(chapter.title, "exercises", minutes, tuple(kept)))
    return out


CHECK_CALL = re.compile(r"""\bcheck\(\s*["']([\d.]+)["']""")


def exercise_ids(chapter: Chapter) -> tuple[str, ...]:
    """The checked exercises of a chapter's workbook, in order, from its ``check`` calls."""
    workbook = ROOT / "solutions" / chapter.path.name
    if not workbook.exists():
        return ()
    cells = json.loads(workbook.read_text())["cells"]
    found = [m for c in cells if c["cell_type"] == "code" for m in CHECK_CALL.findall("".join(c["source"]))]
    return tuple(dict.fromkeys(found))


def exercise_minutes(chapter: Chapter, count: int) -> int:
    """Minutes for the first ``count`` exercises: the chapter's total shared out evenly."""
    total = len(exercise_ids(chapter)) or 1
    return round(chapter.exercise_minutes * min(count, total) / total)


def schedule(start: str = "09:30", day_end: str = "17:30", break_after: int = 90,
             break_minutes: int = 15, lunch_minutes: int = 60, chosen: list[Chapter] | None = None,
             room: dict[str, tuple[str, ...]] | None = None, welcome_minutes: int = 30,
             recap_minutes: int = 15, close_minutes: int = 15) -> list[dict]:
    """Workshop days, from the chapters' minutes: welcome, teaching, exercises, pauses.

    Day 1 opens with a welcome and setup check (``mlecourse doctor``), later
    days with a recap; each day closes with a sticky-note round. Nobody sits
    more than ``break_after`` minutes without a pause: a block that would
    run longer is split at a break (into pieces of at least 20 minutes).
    Lunch is the first pause from 12:00, and comes by 13:00 at the latest.
    Each row has a ``day`` and a ``kind`` (teaching, exercises, or a pause).
    """
    rows: list[dict] = []
    state = {"day": 1, "clock": _clock(start), "since": 0, "lunched": False}
    end_of_day, noon, latest_lunch = _clock(day_end), _clock("12:00"), _clock("13:00")

    def add(session: str, kind: str, minutes: int, teaching: int = 0, exercises: int = 0, ids=()) -> None:
        rows.append({"day": state["day"], "start": state["clock"].strftime("%H:%M"), "session": session,
                     "kind": kind, "teaching": teaching, "exercises": exercises, "minutes": minutes,
                     "exercise_ids": list(ids)})
        state["clock"] += timedelta(minutes=minutes)
        state["since"] = 0 if kind in PAUSES else state["since"] + minutes

    def pause() -> None:
        lunch = not state["lunched"] and state["clock"] >= _clock("11:30")
        add("Lunch" if lunch else "Break", "lunch" if lunch else "break",
            lunch_minutes if lunch else break_minutes)
        state["lunched"] |= lunch

    def room_now() -> int:
        """Minutes that can run from now before a pause or the day's close must come."""
        left = (end_of_day - state["clock"]).seconds // 60 - close_minutes
        if state["clock"] > end_of_day - timedelta(minutes=close_minutes):
            left = 0
        limit = min(break_after - state["since"], left)
        if not state["lunched"]:
            limit = min(limit, int((latest_lunch - state["clock"]).total_seconds() // 60))
        return max(limit, 0)

    def new_day() -> None:
        add("Close: sticky notes, questions, what is next", "close", close_minutes)
        add("End of the day", "end", 0)
        state.update(day=state["day"] + 1, clock=_clock(start), since=0, lunched=False)
        add("Recap of yesterday, questions", "recap", recap_minutes)

    add("Welcome and setup check (`mlecourse doctor`)", "welcome", welcome_minutes)
    for block in blocks(chosen if chosen is not None else chapters(), room):
        left, part = block.minutes, 0
        while left:
            room = room_now()
            if not state["lunched"] and state["clock"] >= noon and state["since"] >= MIN_PART:
                room = 0  # the first gap after noon is lunch
            piece = min(left, room)
            if piece < left and left - piece < MIN_PART:
                piece = left - MIN_PART  # leave a remainder worth resuming after the pause
            if piece < left and piece < MIN_PART:  # too little room: pause (or end the day) first
                if (end_of_day - state["clock"]).seconds // 60 - close_minutes < MIN_PART + break_minutes:
                    new_day()
                else:
                    pause()
                continue
            title = block.title + ("" if part == 0 else " (continued)")
            add(title, block.kind, piece, piece if block.kind == "teaching" else 0,
                piece if block.kind == "exercises" else 0, block.exercises if part == 0 else ())
            left, part = left - piece, part + 1
    add("Close: sticky notes, questions", "close", close_minutes)
    add("End", "end", 0)
    return rows


@dataclass(frozen=True)
class Track:
    """A workshop of ``days`` days on some chapters; exercises that do not fit are homework."""
    name: str
    days: int
    chapters: tuple[int, ...]
    summary: str


TRACKS = (
    Track("one-day", 1, (2, 3, 4, 5),
          "the data, the lifecycle, model development and deployment: the core of the job"),
    Track("two-day", 2, (1, 2, 3, 4, 5, 6, 7, 8, 9),
          "every chapter's teaching; the first exercises of each in the room, the rest as homework"),
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
        ids = exercise_ids(chapter)
        if ids:
            out.append({"chapter": chapter.title, "after": "exercises",
                        "ask": [f"Green if `check` shows ✓ for {', '.join(ids[:2])}; red if you are stuck "
                                f"on one (say which). `mlecourse progress {chapter.path.name[:2].lstrip('0')}` "
                                "tells you where you are."]})
    return out


def days_used(rows: list[dict]) -> int:
    return max(r["day"] for r in rows)


def plan_track(track: Track, **hours) -> tuple[list[dict], dict[str, tuple[str, ...]]]:
    """The track's schedule and its homework: in-room exercises are the first of each
    workbook; the last (hardest) move to homework until the track fits its days."""
    chosen = track_chapters(track)
    room = {c.path.stem: exercise_ids(c) for c in chosen}
    while True:
        rows = schedule(chosen=chosen, room=room, **hours)
        if days_used(rows) <= track.days:
            break
        longest = max(room, key=lambda stem: len(room[stem]))
        if len(room[longest]) <= 1:
            raise ValueError(f"track {track.name!r} does not fit {track.days} day(s) even with one "
                             "exercise per chapter in the room: drop a chapter from it in plan.TRACKS")
        room[longest] = room[longest][:-1]
    homework = {c.path.stem: tuple(i for i in exercise_ids(c) if i not in room[c.path.stem]) for c in chosen}
    return rows, homework


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
