"""The GitHub Actions workflow is valid (actionlint) and runs what the chapter says."""
import subprocess
import sys
from pathlib import Path

import yaml

from mlecourse.paths import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "course.yml"
ACTIONLINT = Path(sys.executable).with_name("actionlint")


def test_actionlint_accepts_the_workflow():
    result = subprocess.run([str(ACTIONLINT), str(WORKFLOW)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.read_text().replace("runs-on: ubuntu-24.04", "runs-on: [", 1))
    result = subprocess.run([str(ACTIONLINT), str(broken)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0


def test_the_workflow_tests_then_runs_the_pipeline():
    flow = yaml.safe_load(WORKFLOW.read_text())
    steps = " ".join(step.get("run", "") for step in flow["jobs"]["pipeline"]["steps"])
    assert "make pipeline" in steps and flow["jobs"]["pipeline"]["needs"] == "test"
    assert ".ci/run" in " ".join(step.get("run", "") for step in flow["jobs"]["test"]["steps"])
