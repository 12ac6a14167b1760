"""The Makefile refuses a Python older than 3.11, saying so."""
import subprocess

from mlecourse.paths import ROOT


def test_make_stops_on_an_old_python(tmp_path):
    fake = tmp_path / "python3.10"
    fake.write_text('#!/bin/sh\n[ "$1" = "-V" ] && echo "Python 3.10.12" && exit 0\nexit 1\n')
    fake.chmod(0o755)
    result = subprocess.run(["make", "-C", str(ROOT), "setup", f"PYTHON={fake}",
                             f"VENV={tmp_path / 'venv'}"], capture_output=True, text=True)
    assert result.returncode != 0
    assert "needs Python 3.11 or newer" in result.stdout + result.stderr
    assert "3.10.12" in result.stdout + result.stderr
    assert not (tmp_path / "venv").exists()


def test_make_stops_when_python_is_missing(tmp_path):
    result = subprocess.run(["make", "-C", str(ROOT), "setup", "PYTHON=no-such-python",
                             f"VENV={tmp_path / 'venv'}"], capture_output=True, text=True)
    assert result.returncode != 0 and "not found" in result.stdout + result.stderr
