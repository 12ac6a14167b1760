"""`mlecourse`: every command leaves a learner's files intact, and `progress` tells
✓ from ○ from ✗ on a real workbook copy."""
import hashlib
import json
import os
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
