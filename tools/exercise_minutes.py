"""Write each exercise's minutes and the in-room choice into its chapter's metadata.

The schedule, the chapter's overview box and the instructor notes all read
``metadata.mlecourse`` of the chapter notebook: ``exercises`` (id -> minutes,
plus ``review`` minutes for an open exercise reviewed in pairs) and
``in_room`` (the exercises a workshop does in the room; the rest is homework).
The total ``exercise_minutes`` is their sum, so it is removed.

This script seeds those values from the instructor notes as they were
written. It fills in only what a notebook lacks (an author's own values stay;
``--force`` overwrites), so run it again after chapters change:

    .venv/bin/python tools/exercise_minutes.py          # fill in, then list what is missing
    .venv/bin/python tools/exercise_minutes.py --check  # exit 1 if any exercise has no minutes

An exercise of the workbook with no minutes here or in the notebook is
listed; the schedule refuses to plan it until its chapter's metadata says.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from mlecourse.course import plan  # noqa: E402
from mlecourse.paths import CHAPTERS_DIR  # noqa: E402

# From each chapter's instructor notes ("Timing"): minutes for a learner new
# to the topic; in the room, the exercises that carry the chapter's main idea,
# few enough that the two-day track (seven chapters and the capstone) keeps its days.
SEED = {
    "01_the_ml_engineer": ({"1.1": 5, "1.2": 10, "1.3": 5, "1.4": 15, "1.5": 25, "1.6": 20},
                           {}, ["1.1", "1.2", "1.3"]),
    "02_meet_the_data": ({"2.1": 3, "2.2": 4, "2.3": 5, "2.4": 6, "2.5": 6, "2.6": 6, "2.7": 5},
                         {}, ["2.1", "2.2", "2.3", "2.5"]),
    "03_lifecycle_features": ({"3.1": 10, "3.2": 10, "3.3": 10, "3.4": 15, "3.5": 15, "3.6": 10},
                              {}, ["3.2", "3.3", "3.4"]),
    "04_model_development": ({"4.1": 5, "4.2": 5, "4.3": 10, "4.4": 10, "4.5": 15, "4.6": 20},
                             {"4.6": 10}, ["4.1", "4.2", "4.3"]),
    "05_deployment": ({"5.1": 5, "5.2": 15, "5.3": 10, "5.4": 10, "5.5": 15, "5.6": 5, "5.7": 10},
                      {"5.7": 5}, ["5.1", "5.2", "5.5"]),
    "06_monitoring": ({"6.1": 15, "6.2": 8, "6.3": 15, "6.4": 8, "6.5": 7, "6.6": 7, "6.7": 10},
                      {}, ["6.1", "6.3"]),
    "07_mlops": ({"7.1": 10, "7.2": 15, "7.3": 10, "7.4": 15, "7.5": 10, "7.6": 20},
                 {}, ["7.1", "7.4"]),
    "08_ethics": ({"8.1": 8, "8.2": 10, "8.3": 7, "8.4": 15, "8.5": 8, "8.6": 7, "8.7": 25},
                  {}, ["8.1", "8.3", "8.5"]),
    "10_skills_tools_careers": ({"10.1": 5, "10.2": 5, "10.3": 15, "10.4": 5, "10.5": 15, "10.6": 15,
                                 "10.7": 20}, {}, ["10.2", "10.4"]),
}


def fill(path: Path, force: bool = False) -> tuple[bool, list[str]]:
    """Fill ``path``'s metadata from SEED; (changed, exercise ids still without minutes)."""
    notebook = nbformat.read(path, as_version=4)
    meta = notebook.metadata.setdefault("mlecourse", {})
    minutes, reviews, room = SEED.get(path.stem, ({}, {}, []))
    ids = plan.workbook_exercises(path.stem)
    exercises = meta.get("exercises", {})
    before = (dict(exercises), list(meta.get("in_room", [])), "exercise_minutes" in meta)
    for id in ids:
        if id in minutes and (force or id not in exercises):
            exercises[id] = {"minutes": minutes[id], **({"review": reviews[id]} if id in reviews else {})}
    if exercises:
        meta["exercises"] = {id: exercises[id] for id in ids if id in exercises}
        meta.pop("exercise_minutes", None)
    if room and (force or "in_room" not in meta):
        meta["in_room"] = [id for id in room if id in ids]
    changed = before != (meta.get("exercises", {}), meta.get("in_room", []), "exercise_minutes" in meta)
    if changed:
        nbformat.write(notebook, path)
    return changed, [id for id in ids if id not in meta.get("exercises", {})]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--force", action="store_true", help="overwrite minutes already in the notebooks")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if minutes are missing")
    args = parser.parse_args(argv)
    missing_any = False
    for path in sorted(CHAPTERS_DIR.glob("[0-9][0-9]_*.ipynb")):
        if args.check:
            ids = plan.workbook_exercises(path.stem)
            have = nbformat.read(path, as_version=4).metadata.get("mlecourse", {}).get("exercises", {})
            changed, missing = False, [i for i in ids if i not in have]
        else:
            changed, missing = fill(path, args.force)
        if changed:
            print(f"wrote minutes and in-room exercises into {path.relative_to(CHAPTERS_DIR.parent)}")
        if missing:
            missing_any = True
            print(f"{path.name}: no minutes for {', '.join(missing)}: add them to its metadata.mlecourse.exercises "
                  "(or to SEED here) and run this again")
    return 1 if missing_any and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
