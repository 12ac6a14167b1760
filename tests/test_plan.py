"""Workshop plans keep the room's rules and follow the chapters' notes: every minute
and every in-room choice comes from the chapter's metadata; no stretch over 90
minutes in a chair, welcome, recap and close included; lunch by 13:00; a
chapter's teaching on one day; every exercise in the room or listed as homework."""
import json
import shutil
from datetime import datetime
from pathlib import Path

import pytest

from mlecourse.course import plan

PAUSES = ("break", "lunch", "end")


def minutes(text):
    t = datetime.strptime(text, "%H:%M")
    return t.hour * 60 + t.minute


def check_days(rows, start="09:30", day_end="17:30", break_after=90):
    for day in sorted({r["day"] for r in rows}):
        today = [r for r in rows if r["day"] == day]
        assert today[0]["kind"] == ("welcome" if day == 1 else "recap"), today[0]
        assert today[0]["start"] == start
        last = today[-1]
        assert minutes(last["start"]) + last["minutes"] <= minutes(day_end), today
        lunches = [r for r in today if r["kind"] == "lunch"]
        if minutes(last["start"]) + last["minutes"] > minutes("13:00"):  # a day past noon has its lunch
            assert len(lunches) == 1, today
            assert minutes(lunches[0]["start"]) <= minutes("13:00")
        else:  # a morning (the course's last, short day) needs none
            assert not lunches, today
        run = 0
        for r in today:  # everything but a pause is time in a chair: welcome, recap and close too
            run = run + r["minutes"] if r["kind"] not in PAUSES else 0
            assert run <= break_after, f"day {day}: {run} minutes without a pause at {r['start']}"
        for previous, r in zip(today, today[1:]):  # the rows tile the day
            assert minutes(previous["start"]) + previous["minutes"] == minutes(r["start"])
        assert [r["kind"] for r in today[-2:]] == ["close", "end"]


def check_teaching_on_one_day(rows):
    days = {}
    for r in rows:
        if r["kind"] == "teaching":
            days.setdefault(r["session"].removesuffix(" (continued)"), set()).add(r["day"])
    split = {title: d for title, d in days.items() if len(d) > 1}
    assert not split, f"teaching split across days: {split}"


def test_the_whole_course_keeps_the_rules_and_schedules_every_minute():
    rows = plan.schedule()
    check_days(rows)
    check_teaching_on_one_day(rows)
    chosen = plan.chapters()
    taught = sum(r["minutes"] for r in rows if r["kind"] in ("teaching", "exercises", "review"))
    assert taught == sum(c.teaching_minutes + c.exercise_minutes for c in chosen)
    done = [i for r in rows if r["kind"] == "exercises" for i in r["exercise_ids"]]
    assert sorted(done) == sorted(e.id for c in chosen for e in c.exercises)  # open ones included
    reviewed = [r["exercise_ids"][0] for r in rows if r["kind"] == "review"]
    assert reviewed == [e.id for c in chosen for e in c.exercises if e.review]


@pytest.mark.parametrize("track", plan.TRACKS, ids=lambda t: t.name)
def test_every_track_keeps_the_rules_with_the_notes_in_room_choice(track):
    rows, homework = plan.plan_track(track)
    assert plan.days_used(rows) <= track.days
    check_days(rows)
    check_teaching_on_one_day(rows)
    chosen = plan.track_chapters(track)
    assert chosen, f"track {track.name} has no published chapter"
    for chapter in chosen:
        in_room = [i for r in rows if r["session"] == chapter.title for i in r["exercise_ids"]
                   if r["kind"] == "exercises"]
        assert in_room == list(chapter.in_room), chapter.title  # what the metadata (and the notes) say
        assert chapter.in_room, f"{chapter.title}: its metadata names no exercise for the room"
        every = {e.id for e in chapter.exercises}
        assert set(in_room) | {e.id for e in homework[chapter.path.stem]} == every
        assert not set(in_room) & {e.id for e in homework[chapter.path.stem]}
        minutes_in_room = sum(r["minutes"] for r in rows if r["session"].startswith(chapter.title)
                              and r["kind"] in ("exercises", "review"))
        assert minutes_in_room == sum(e.total for e in chapter.exercises if e.id in chapter.in_room)
    load = plan.homework_minutes(homework)
    assert load == sum(c.exercise_minutes for c in chosen) - sum(
        r["minutes"] for r in rows if r["kind"] in ("exercises", "review"))
    print(f"{track.name}: homework {load} min")


def test_every_chapter_gives_minutes_for_exactly_its_workbooks_exercises():
    for chapter in plan.chapters():
        assert [e.id for e in chapter.exercises] == list(plan.workbook_exercises(chapter.path.stem))
        assert all(e.minutes > 0 for e in chapter.exercises)
        open_ids = {e.id for e in chapter.exercises if e.open}
        assert open_ids == set(plan.workbook_exercises(chapter.path.stem)) - set(plan.exercise_ids(chapter))


@pytest.fixture
def course_copy(tmp_path, monkeypatch):
    """The course's _toc, chapters and workbooks in a folder of their own, to edit."""
    for folder in ("chapters", "solutions"):
        shutil.copytree(plan.ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("*.py"))
    shutil.copyfile(plan.ROOT / "_toc.yml", tmp_path / "_toc.yml")
    monkeypatch.setattr(plan, "ROOT", tmp_path)
    return tmp_path


def edit_metadata(path, change):
    notebook = json.loads(path.read_text())
    change(notebook["metadata"]["mlecourse"])
    path.write_text(json.dumps(notebook))


def test_an_exercise_added_to_a_workbook_flows_into_the_plan_or_stops_it(course_copy):
    """A new exercise without minutes stops the plan, naming it; with minutes it is planned."""
    workbook = course_copy / "solutions" / "02_meet_the_data.ipynb"
    notebook = json.loads(workbook.read_text())
    notebook["cells"].append({"cell_type": "markdown", "metadata": {}, "id": "newexercise",
                              "source": [":::{exercise} 2.8 · A new one (open)\n", ":label: ex-2-8\n",
                                         ":nonumber:\n", "\n", "Write it.\n", ":::\n"]})
    workbook.write_text(json.dumps(notebook))
    with pytest.raises(ValueError, match="no minutes for 2.8"):
        plan.chapters()
    chapter_path = course_copy / "chapters" / "02_meet_the_data.ipynb"
    edit_metadata(chapter_path, lambda meta: meta["exercises"].update({"2.8": {"minutes": 7, "review": 3}}))
    ch = next(c for c in plan.chapters() if c.path.stem == "02_meet_the_data")
    assert ch.exercises[-1] == plan.Exercise("2.8", 7, 3, True)
    _, homework = plan.plan_track(plan.TRACKS[0])
    assert plan.Exercise("2.8", 7, 3, True) in homework["02_meet_the_data"]
    edit_metadata(chapter_path, lambda meta: meta["in_room"].append("2.9"))
    with pytest.raises(ValueError, match="in_room names 2.9"):
        plan.chapters()


def test_a_total_that_disagrees_with_the_exercises_is_refused(course_copy):
    edit_metadata(course_copy / "chapters" / "01_the_ml_engineer.ipynb",
                  lambda meta: meta.update(exercise_minutes=1))
    with pytest.raises(ValueError, match="not the sum"):
        plan.chapters()


def fake_chapter(n, teaching, exercise_minutes, in_room=2):
    exercises = tuple(plan.Exercise(f"{n}.{k}", m) for k, m in enumerate(exercise_minutes, 1))
    return plan.Chapter(Path(f"chapters/{n:02d}_x.ipynb"), f"Chapter {n}", teaching, exercises,
                        ["q"], ["o"], ["k"], tuple(e.id for e in exercises[:in_room]))


def test_seventeen_hours_keep_the_rules(monkeypatch):
    """The course as it will be (about 17 hours, with its LLM chapter and a capstone)."""
    big = [fake_chapter(n, 45, [10, 15, 20, 25]) for n in range(1, 10)]  # 9 x 115 min
    rows = plan.schedule(chosen=big)
    check_days(rows)
    check_teaching_on_one_day(rows)
    assert plan.days_used(rows) <= 4  # about 5 hours in a chair a day, once pauses and the rules are kept


def test_long_teaching_is_split_at_a_pause_but_never_across_days():
    chosen = [fake_chapter(1, 200, [10]), fake_chapter(2, 150, [10]), fake_chapter(3, 90, [80, 80])]
    rows = plan.schedule(chosen=chosen)
    check_days(rows)
    check_teaching_on_one_day(rows)
    with pytest.raises(ValueError, match="do not fit one day"):
        plan.schedule(chosen=[fake_chapter(1, 400, [10])])


def test_a_track_that_cannot_fit_says_what_to_change(monkeypatch):
    big = [fake_chapter(n, 120, [30, 30]) for n in range(1, 10)]
    monkeypatch.setattr(plan, "track_chapters", lambda track: big)
    with pytest.raises(ValueError, match="drop a chapter"):
        plan.plan_track(plan.TRACKS[0])


@pytest.mark.parametrize("text,phrase", [
    (".. course-schedule::\n", "Welcome and setup check"),
    (".. course-schedule::\n   :track: one-day\n", "Homework"),
    (".. course-schedule::\n   :track: two-day\n", "minutes of homework"),
    (".. course-checkpoints::\n", "after the exercises"),
    (".. chapter-timing:: 08_ethics\n", "8.7"),
])
def test_the_guide_directives_render(text, phrase):
    from docutils.core import publish_doctree
    from docutils.parsers.rst import directives

    from mlecourse.course import sphinx_ext
    directives.register_directive("course-schedule", sphinx_ext.CourseSchedule)
    directives.register_directive("course-checkpoints", sphinx_ext.CourseCheckpoints)
    directives.register_directive("chapter-timing", sphinx_ext.ChapterTiming)
    tree = publish_doctree(text, settings_overrides={"report_level": 5, "halt_level": 2})
    assert phrase in tree.astext()


def test_the_chapter_timing_renders_the_metadata():
    from docutils.core import publish_doctree
    from docutils.parsers.rst import directives

    from mlecourse.course import sphinx_ext
    directives.register_directive("chapter-timing", sphinx_ext.ChapterTiming)
    text = publish_doctree(".. chapter-timing:: 04_model_development\n",
                           settings_overrides={"report_level": 5, "halt_level": 2}).astext()
    ch = next(c for c in plan.chapters() if c.path.stem == "04_model_development")
    for exercise in ch.exercises:
        assert exercise.id in text
    assert f"{ch.exercise_minutes} min" in text and "pair review" in text


def test_checkpoints_cover_every_chapter():
    titles = {c.title for c in plan.chapters()}
    assert {p["chapter"] for p in plan.checkpoints()} == titles
