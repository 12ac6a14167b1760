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


def test_readme_names_every_command_a_learner_or_instructor_runs():
    """A target with a help text is a command; the README must tell people about it."""
    import re
    targets = re.findall(r"^([a-z-]+):[^\n]*##", (ROOT / "Makefile").read_text(), flags=re.M)
    readme = (ROOT / "README.md").read_text()
    plumbing = {"help", "setup", "clean"}  # `make` alone lists them; nobody needs them first
    assert len(targets) > len(plumbing)
    missing = [t for t in targets if t not in plumbing and f"make {t}`" not in readme and f"make {t} " not in readme]
    assert not missing, f"README.md does not mention: {', '.join(missing)}"


def test_make_lab_says_what_it_installs_and_lets_uv_show_how_far_it_is():
    dry = subprocess.run(["make", "-n", "-W", "requirements.lock", "lab"], cwd=ROOT,
                         capture_output=True, text=True)
    lines = dry.stdout.splitlines()
    assert any("Installing the" in line and "packages pinned in requirements.lock" in line for line in lines)
    install = next(line for line in lines if "--require-hashes -r requirements.lock" in line)
    assert "--quiet" not in install   # uv's own progress is what shows how far it is
