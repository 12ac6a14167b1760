"""Workshop plans fit their days: a welcome and setup check, no stretch over 90
minutes without a pause, lunch by 13:00, every track within its days."""
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from mlecourse.course import plan

LEARNING = ("teaching", "exercises")


def minutes(text):
    t = datetime.strptime(text, "%H:%M")
    return t.hour * 60 + t.minute


def check_days(rows, start="09:30", day_end="17:30", break_after=90):
    for day in sorted({r["day"] for r in rows}):
        today = [r for r in rows if r["day"] == day]
        assert today[0]["kind"] == ("welcome" if day == 1 else "recap"), today[0]
        last = today[-1]
        assert minutes(last["start"]) + last["minutes"] <= minutes(day_end), today
        lunches = [r for r in today if r["kind"] == "lunch"]
        if minutes(last["start"]) + last["minutes"] > minutes("13:00"):  # a day past noon has its lunch
            assert len(lunches) == 1, today
            assert minutes(lunches[0]["start"]) <= minutes("13:00")
        else:  # a morning (the course's last, short day) needs none
            assert not lunches, today
        run = 0
        for r in today:
            run = run + r["minutes"] if r["kind"] in LEARNING else 0
            assert run <= break_after, f"day {day}: {run} minutes without a pause at {r['start']}"
        for previous, r in zip(today, today[1:]):  # the rows tile the day
            assert minutes(previous["start"]) + previous["minutes"] == minutes(r["start"])


def test_the_whole_course_keeps_each_day_within_hours():
    rows = plan.schedule()
    check_days(rows)
    taught = sum(r["minutes"] for r in rows if r["kind"] in LEARNING)
    assert taught == sum(c.teaching_minutes + c.exercise_minutes for c in plan.chapters())


@pytest.mark.parametrize("track", plan.TRACKS, ids=lambda t: t.name)
def test_every_track_fits_its_days(track):
    rows, homework = plan.plan_track(track)
    assert plan.days_used(rows) <= track.days
    check_days(rows)
    chosen = plan.track_chapters(track)
    assert chosen, f"track {track.name} has no published chapter"
    in_room = {i for r in rows for i in r["exercise_ids"]}
    for chapter in chosen:
        ids = set(plan.exercise_ids(chapter))
        assert ids == (ids & in_room) | set(homework[chapter.path.stem])  # each exercise: room or homework
        assert ids & in_room, f"{chapter.title}: no exercise done in the room"


def fake_chapter(n, teaching, exercises):
    return plan.Chapter(Path(f"chapters/{n:02d}_x.ipynb"), f"Chapter {n}", teaching, exercises, ["q"], ["o"], ["k"])


def test_seventeen_hours_still_fit_the_tracks(monkeypatch):
    """The course as it will be (about 17 hours): the days hold, tracks trim to homework."""
    big = [fake_chapter(n, 45, 70) for n in range(1, 10)]  # 9 x 115 min = 17.25 h
    ids = {c.path.stem: tuple(f"{n + 1}.{k}" for k in range(1, 6)) for n, c in enumerate(big)}
    monkeypatch.setattr(plan, "chapters", lambda: big)
    monkeypatch.setattr(plan, "exercise_ids", lambda chapter: ids[chapter.path.stem])
    monkeypatch.setattr(plan, "track_chapters", lambda track: [c for c in big if int(c.path.name[:2]) in track.chapters])
    rows = plan.schedule()
    check_days(rows)
    assert plan.days_used(rows) == 3
    for track in plan.TRACKS:
        rows, homework = plan.plan_track(track)
        assert plan.days_used(rows) <= track.days
        check_days(rows)
        assert any(homework.values())


def test_a_track_that_cannot_fit_says_what_to_change(monkeypatch):
    big = [fake_chapter(n, 120, 60) for n in range(1, 10)]
    monkeypatch.setattr(plan, "track_chapters", lambda track: big)
    monkeypatch.setattr(plan, "exercise_ids", lambda chapter: ("1.1", "1.2"))
    with pytest.raises(ValueError, match="drop a chapter"):
        plan.plan_track(plan.TRACKS[0])


@pytest.mark.parametrize("text,phrase", [
    (".. course-schedule::\n", "Welcome and setup check"),
    (".. course-schedule::\n   :track: one-day\n", "Homework"),
    (".. course-schedule::\n   :track: two-day\n", "In the room"),
    (".. course-checkpoints::\n", "after the exercises"),
])
def test_the_guide_directives_render(text, phrase):
    from docutils.core import publish_doctree
    from docutils.parsers.rst import directives

    from mlecourse.course import sphinx_ext
    directives.register_directive("course-schedule", sphinx_ext.CourseSchedule)
    directives.register_directive("course-checkpoints", sphinx_ext.CourseCheckpoints)
    tree = publish_doctree(text, settings_overrides={"report_level": 5, "halt_level": 2})
    assert phrase in tree.astext()


def test_checkpoints_cover_every_chapter():
    titles = {c.title for c in plan.chapters()}
    assert {p["chapter"] for p in plan.checkpoints()} == titles
