"""The course as data: its chapters, their timings, and a workshop schedule.

Each chapter notebook keeps its overview in its own metadata, under the key
``mlecourse``: teaching and exercise minutes, questions, objectives and key
points. The site shows it at the top and bottom of the chapter, and the
instructor guide adds the minutes up into a schedule, so there is one source.
"""
from __future__ import annotations

import json
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


def schedule(start: str = "09:30", day_end: str = "17:30", break_after: int = 90,
             break_minutes: int = 15, lunch_minutes: int = 60) -> list[dict]:
    """Workshop days: each chapter's teaching and exercises, with breaks and lunch.

    Nothing is cut in half: pauses fall between chapters. A 15-minute break
    comes once ``break_after`` minutes have passed since the last pause;
    lunch (which replaces a break that is due) comes at the first gap after
    noon, or from 11:30 before a chapter that would run past 13:00. A chapter that would end after
    ``day_end`` starts the next day. Each row has a ``day``.
    """
    day, clock, since_pause, lunched, rows = 1, _clock(start), 0, False, []

    def add(session: str, minutes: int, teaching: int = 0, exercises: int = 0) -> None:
        nonlocal clock
        rows.append({"day": day, "start": clock.strftime("%H:%M"), "session": session,
                     "teaching": teaching, "exercises": exercises, "minutes": minutes})
        clock += timedelta(minutes=minutes)

    for chapter in chapters():
        minutes = chapter.teaching_minutes + chapter.exercise_minutes
        due = since_pause >= break_after
        at = clock + timedelta(minutes=break_minutes if due else 0)  # lunch may replace a break
        lunch = not lunched and at >= _clock("11:30") and (
            at >= _clock("12:00") or at + timedelta(minutes=minutes) > _clock("13:00"))
        pause = lunch_minutes if lunch else break_minutes if due else 0
        if rows and clock + timedelta(minutes=pause + minutes) > _clock(day_end):
            add("End of the day", 0)
            day, clock, since_pause, lunched = day + 1, _clock(start), 0, False
        elif pause:
            add("Lunch" if lunch else "Break", pause)
            since_pause, lunched = 0, lunched or lunch
        add(chapter.title, minutes, chapter.teaching_minutes, chapter.exercise_minutes)
        since_pause += minutes
    add("End", 0)
    return rows


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
    (9, "Skills, tools and career paths", "chapters/09_skills_tools_careers"),
    (10, "Capstone", "chapters/10_capstone"),
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
