"""Setup that recovers at the venue: a PYTHON= that .venv was not made with is refused
loudly (never silently ignored), and `make setup` runs again once its stamp exists."""
import subprocess

from mlecourse.paths import ROOT


def fake_python(path, version):
    path.write_text(f'#!/bin/sh\necho "{version}"\n')
    path.chmod(0o755)
    return path


def make(*args):
    return subprocess.run(["make", "-C", str(ROOT), *args], capture_output=True, text=True)


def test_another_python_is_refused_once_the_venv_exists(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    fake_python(venv / "bin" / "python", "3.11.7")
    other = fake_python(tmp_path / "python3.12", "3.12.1")
    result = make("doctor", f"VENV={venv}", f"PYTHON={other}")
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "was made with Python 3.11.7" in out and "3.12.1" in out and "rm -rf" in out
    assert sorted(p.name for p in (venv / "bin").iterdir()) == ["python"]  # nothing was changed


def test_the_same_python_passes_the_check(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    fake_python(venv / "bin" / "python", "3.11.7")
    same = fake_python(tmp_path / "python3.11", "3.11.7")
    result = make("doctor", f"VENV={venv}", f"PYTHON={same}")
    assert "was made with" not in result.stdout + result.stderr
    assert result.returncode == 0  # the fake python "ran" the doctor


def test_setup_is_not_skipped_when_the_stamp_exists():
    """`make setup` after setup must still install and run the doctor's repair."""
    dry = make("-n", "setup")
    assert "uv pip install" in dry.stdout and "doctor --fix" in dry.stdout
