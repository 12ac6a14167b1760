"""`mlecourse`: every command leaves a learner's files intact, and `progress` tells
✓ from ○ from ✗ on a real workbook copy."""
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys

import nbformat
import pytest

from mlecourse.checks import registry
from mlecourse.course import cli, workbooks
from mlecourse.paths import EXERCISES_DIR

MLECOURSE = [sys.executable, "-m", "mlecourse.course.cli"]
CH1 = "01_the_ml_engineer.ipynb"


def hashes(folder):
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def run(work, *args):
    return subprocess.run([*MLECOURSE, "--work", str(work), *args], capture_output=True, text=True,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})


def answered_copy(work):
    """Chapter 1's workbook with 1.1 right, 1.2 wrong and the rest untouched."""
    notebook = nbformat.read(EXERCISES_DIR / CH1, as_version=4)
    right = registry()["1.1"].reference()
    for cell in notebook.cells:
        if cell.source.startswith("change = ____"):
            cell.source = f"change = {right!r}"
        elif cell.source.startswith("payback_months = ____"):
            cell.source = "payback_months = 1000.0"
    nbformat.write(notebook, work / CH1)


@pytest.fixture
def work(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    answered_copy(work)
    (work / "notes.txt").write_text("my own notes")
    (work / "backups").mkdir()
    (work / "backups" / "old.ipynb").write_text("{}")
    return work


def test_progress_reports_right_wrong_and_untouched_without_touching_the_copy(work):
    before = hashes(work)
    result = run(work, "progress", "1", "--json")
    assert result.returncode == 0, result.stderr
    outcomes = {row["exercise"]: (row["outcome"], row["message"]) for row in json.loads(result.stdout)["exercises"]}
    assert outcomes["1.1"][0] == "correct"
    assert outcomes["1.2"][0] == "incorrect" and outcomes["1.2"][1]  # with the check's message
    assert {outcomes[i][0] for i in ("1.3", "1.4", "1.5")} == {"not attempted"}
    assert set(outcomes) == {i for i, ex in registry().items() if ex.workbook == CH1}
    assert hashes(work) == before
    assert "running a copy of" in result.stderr  # the progress bar, outside a terminal


def test_every_command_keeps_what_the_learner_wrote(work, capsys):
    before = hashes(work)
    # The first step through the console, as a learner types it; the rest in
    # this process (the same functions: an exception here fails the test, where
    # a subprocess would have printed a traceback), 4-8 s of imports each saved.
    first = run(work, "start", "--no-lab")
    assert first.returncode == 0 and "Traceback" not in first.stderr, first.stderr
    steps = [("hint", "1.2"), ("hint", "9.9"), ("reset", "42"), ("doctor",),
             ("progress", "77"), ("reset", "1"), ("start", "--no-lab"), ("reset", "1")]
    for step in steps:
        assert cli.main(["--work", str(work), *step]) in (0, 1, 2), step
    assert "Traceback" not in capsys.readouterr().err
    after = hashes(work)
    # Every file the learner had is still there, byte for byte, or saved in backups/.
    saved = set(after.values())
    for name, digest in before.items():
        assert after.get(name) == digest or (name == CH1 and digest in saved), name
    assert sum(n.startswith("backups/01_the_ml_engineer-") for n in after) == 2
    assert after[CH1] == hashlib.sha256((EXERCISES_DIR / CH1).read_bytes()).hexdigest()


def test_reset_says_where_the_copy_went(work, capsys):
    assert cli.main(["--work", str(work), "reset", "01"]) == 0
    out = capsys.readouterr().out
    backup = next((work / "backups").glob("01_the_ml_engineer-*.ipynb"))
    assert str(backup.name) in out and "restored from exercises/" in out


@pytest.mark.parametrize("args,phrase", [
    (["reset", "42"], "the workbooks are 01, 02"),
    (["hint", "9.9"], "the exercises are 1.1, 1.2"),
    (["hint", "1.1", "7"], "has hints 1 to"),
    (["progress", "x"], "there is no workbook 'x'"),
])
def test_unknown_ids_get_one_line_listing_the_valid_ones(work, capsys, args, phrase):
    assert cli.main(["--work", str(work), *args]) == 2
    err = capsys.readouterr().err
    assert phrase in err and len(err.strip().splitlines()) == 1


def test_a_workbook_that_is_not_json_is_reported_and_kept(work, capsys):
    (work / CH1).write_text('{"cells": [')
    before = hashes(work)
    assert cli.main(["--work", str(work), "progress", "1", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "is not a valid notebook" in out and "mlecourse reset 01" in out
    assert hashes(work) == before


@pytest.mark.skipif(os.name != "posix", reason="permissions are POSIX here")
def test_a_work_folder_that_is_not_writable_stops_in_one_line(work, capsys):
    before = hashes(work)
    work.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        if os.access(work, os.W_OK):  # root ignores permissions: use a path under a file instead
            work.chmod(0o755)
            blocked = work / "notes.txt" / "work"
        else:
            blocked = work
        assert cli.main(["--work", str(blocked), "reset", "1"]) == 2
    finally:
        work.chmod(0o755)
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and ("not writable" in err or "cannot create" in err)
    assert hashes(work) == before


def test_backups_never_overwrite_each_other(tmp_path):
    mine = tmp_path / "01_x.ipynb"
    first, mine_bytes = [], []
    for text in ("one", "two", "three"):
        mine.write_text(text)
        first.append(workbooks.backup(mine, tmp_path / "backups"))
        mine_bytes.append(text)
    assert [p.read_text() for p in first] == mine_bytes and len(set(first)) == 3


def test_console_script_is_installed_and_lists_commands():
    script = shutil.which("mlecourse", path=os.path.dirname(sys.executable))
    assert script, "the `mlecourse` console script is not installed: run `make setup`"
    result = subprocess.run([script, "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    for command in ("start", "progress", "reset", "hint", "doctor", "bundle"):
        assert command in result.stdout


# --- feedback in a second: `mlecourse hint` reads plain data ------------------

HEAVY = {"nbformat", "jsonschema", "pandas", "sklearn", "numpy", "nbclient"}


@pytest.mark.parametrize("exercise", ["8.2", "99.9"])
def test_hint_imports_nothing_heavy(exercise):
    code = ("import sys\nfrom mlecourse.course import cli\n"
            f"code = cli.main(['hint', '{exercise}'])\n"
            f"print(sorted(set({sorted(HEAVY)!r}) & {{m.split('.')[0] for m in sys.modules}}), code)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    loaded, code = result.stdout.strip().splitlines()[-1].rsplit(" ", 1)
    assert loaded == "[]", f"`mlecourse hint {exercise}` imported {loaded}"
    assert code == ("0" if exercise == "8.2" else "2")


def test_hint_index_holds_every_exercise_with_its_hints():
    from mlecourse.checks.hint_index import HINTS
    assert list(HINTS) == list(registry())
    for id, ex in registry().items():
        assert HINTS[id] == {"title": ex.title, "workbook": ex.workbook, "hints": ex.hints}


def test_hint_prints_the_nth_hint_and_the_next_step(capsys):
    ex = registry()["1.2"]
    assert cli.main(["hint", "1.2", "2"]) == 0
    out = capsys.readouterr().out
    assert ex.hints[1] in out and "mlecourse hint 1.2 3" in out
    assert cli.main(["hint", "1.2", str(len(ex.hints))]) == 0
    assert "solutions/01_the_ml_engineer.ipynb" in capsys.readouterr().out


def test_bench_hint_prints_both_times_with_the_calibration(monkeypatch, capsys):
    from mlecourse.course import bench, calibration
    monkeypatch.setattr(calibration, "calibrate", lambda: calibration.Calibration(0.1, 0.1, (0, 0, 0), 2, "x"))
    assert bench.main(["--hint"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("calibration: ") and "mlecourse hint 8.2 " in out and "mlecourse hint 99.9" in out
    assert out.count("units (median of") == 2


# --- progress says what it does while it does it -------------------------------

def test_progress_prints_a_line_per_exercise_as_it_goes_and_its_time(work):
    result = run(work, "progress", "1")
    assert result.returncode == 0, result.stderr
    err = result.stderr.splitlines()
    assert err[0] == f"running a copy of {CH1} ..."
    lines = [line for line in err if line.startswith("  ")]
    assert [line.split()[1] for line in lines] == [i for i, ex in registry().items() if ex.workbook == CH1]
    assert lines[0].split()[0] == "✓" and lines[1].split()[0] == "✗"
    assert err[-1].startswith(f"{CH1}: done in ")
    assert "Ran temporary copies of your workbooks in " in result.stdout


def test_progress_runs_a_workbook_per_core_within_the_limit(monkeypatch):
    from mlecourse.course import progress
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert progress.workers(9) == 2 and progress.workers(1) == 1
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    assert progress.workers(9) == progress.MAX_WORKERS


def test_progress_keeps_the_workbooks_order_whatever_finishes_first(tmp_path, monkeypatch):
    import time

    from mlecourse.course import progress
    names = list(progress.exercises_by_workbook())[:3]
    for name in names:
        (tmp_path / name).write_text("{}")

    def run_copy(path, on_cell=None):   # the first workbook finishes last
        time.sleep(0.3 if path.name == names[0] else 0.0)
        return nbformat.v4.new_notebook()
    monkeypatch.setattr(progress, "run_copy", run_copy)
    monkeypatch.setattr(progress, "workbook_numbers", lambda: {n[:2]: tmp_path / n for n in names})
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    rows = progress.collect(tmp_path)
    assert [r.chapter for r in rows] == [n[:2] for n in names for _ in progress.exercises_by_workbook()[n]]


# --- stopping Lab with Ctrl-C is a normal end -----------------------------------

@pytest.mark.skipif(os.name != "posix", reason="terminals and process groups are POSIX")
def test_ctrl_c_reaches_the_foreground_job_alone():
    """In a terminal, Ctrl-C stops the job run in the foreground, not the command that waits for it."""
    import pty
    import select
    import time

    script = ("import sys\nfrom mlecourse.course.terminal import run_in_foreground\n"
              "code = run_in_foreground([sys.executable, '-c', \"import time; print('up', flush=True); "
              "time.sleep(60)\"], '.')\nprint('job ended with', code, flush=True)\n")
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(sys.executable, [sys.executable, "-c", script])
    out, deadline, sent = b"", time.monotonic() + 60, False
    # read until the line is whole: "job ended with" and its code may come in two reads
    while time.monotonic() < deadline and not re.search(rb"job ended with [^\r\n]*\r?\n", out):
        if select.select([fd], [], [], 0.2)[0]:
            try:
                out += os.read(fd, 4096)
            except OSError:
                break
        if not sent and b"up" in out:
            os.write(fd, b"\x03")   # what the terminal sends when you press Ctrl-C
            sent = True
    _, status = os.waitpid(pid, 0)
    assert b"job ended with -2" in out, out
    assert os.waitstatus_to_exitcode(status) == 0   # the waiting process was not interrupted


def test_lab_stopped_by_ctrl_c_is_a_normal_end(work, monkeypatch, capsys):
    import signal
    monkeypatch.setattr(cli.terminal, "run_in_foreground", lambda command, cwd: -signal.SIGINT)
    assert cli.main(["--work", str(work), "start"]) == 0
    assert "JupyterLab stopped" in capsys.readouterr().out


def test_bench_progress_times_a_finished_copy_of_one_workbook(monkeypatch, capsys):
    from mlecourse.course import bench, calibration
    seen = []

    def timed(command, cwd, log):
        seen.append(command)
        work = command[command.index("--work") + 1]
        assert sorted(p.name for p in __import__("pathlib").Path(work).glob("*.ipynb")) == [CH1]
        log.write_text("6 of 6 exercises correct.\n")
        return 12.0, 3.0, 0
    monkeypatch.setattr(bench, "_timed", timed)
    monkeypatch.setattr(calibration, "calibrate", lambda: calibration.Calibration(1.0, 1.0, (0, 0, 0), 2, "x"))
    assert bench.main(["--progress", "1"]) == 0
    out = capsys.readouterr().out
    assert seen and seen[0][-3:] == ["progress", "1", "--quiet"]
    assert "mlecourse progress 1: 12.0 s, 3.0 s CPU, 6.0 units" in out and "6 of 6 exercises correct" in out


@pytest.mark.skipif(os.name != "posix", reason="a signal sent to this process")
def test_ctrl_c_during_progress_stops_the_runs_and_starts_no_other(tmp_path, monkeypatch):
    import signal
    import time

    from mlecourse.course import progress
    names = list(progress.exercises_by_workbook())[:3]
    for name in names:
        (tmp_path / name).write_text("{}")
    started = []

    def run_copy(path, on_cell=None):   # a long workbook: cells until told to stop
        started.append(path.name)
        if len(started) == 1:
            os.kill(os.getpid(), signal.SIGINT)    # what Ctrl-C sends
        for index in range(600):
            time.sleep(0.01)
            on_cell(index, 600, nbformat.v4.new_code_cell())
        return nbformat.v4.new_notebook()
    monkeypatch.setattr(progress, "run_copy", run_copy)
    monkeypatch.setattr(progress, "workbook_numbers", lambda: {n[:2]: tmp_path / n for n in names})
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    clock = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        progress.collect(tmp_path)
    assert started == names[:1] and time.monotonic() - clock < 5
