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


def test_the_scheduled_pipeline_restores_the_registry_before_it_runs():
    flow = yaml.safe_load(WORKFLOW.read_text())
    steps = flow["jobs"]["pipeline"]["steps"]
    uses = [step.get("uses", "").split("@")[0] for step in steps]
    restore = steps[uses.index("actions/cache")]
    assert restore["with"]["path"] == "work/mlflow" and "github.run_id" in restore["with"]["key"]
    assert restore["with"]["key"].startswith(restore["with"]["restore-keys"])
    runs = [i for i, step in enumerate(steps) if "make pipeline" in step.get("run", "")]
    assert len(runs) == 2 and uses.index("actions/cache") < runs[0]
    assert "AS_OF=none" in steps[runs[0]]["run"] and "AS_OF" not in steps[runs[1]]["run"]
    assert "schedule" in flow[True] and flow["jobs"]["pipeline"]["if"] == "github.event_name != 'pull_request'"


def test_the_pages_job_publishes_the_folder_make_pages_builds():
    from mlecourse.course import pages

    flow = yaml.safe_load(WORKFLOW.read_text())
    job = flow["jobs"]["pages"]
    assert job["needs"] == "test" and "refs/heads/main" in job["if"] and "push" in job["if"]
    assert job["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    steps = job["steps"]
    uses = [step.get("uses", "").split("@")[0] for step in steps]
    upload = steps[uses.index("actions/upload-pages-artifact")]
    assert upload["with"]["path"] == pages.PAGES_DIR.relative_to(ROOT).as_posix()
    assert uses.index("actions/deploy-pages") > uses.index("actions/upload-pages-artifact")
    built = [i for i, step in enumerate(steps) if step.get("run") == "make pages"]
    assert built and built[0] < uses.index("actions/upload-pages-artifact")
    recipe = (ROOT / "Makefile").read_text().split("\npages:", 1)[1].split("\n\n", 1)[0]
    assert "mlecourse.course.pages" in recipe and all(t in recipe.splitlines()[0]
                                                      for t in ("book", "book-nosolutions", "slides"))


def test_pages_assembles_the_three_builds_and_names_a_missing_one(tmp_path):
    from mlecourse.course import pages

    builds = {}
    for name in ("full", "workshop", "slides"):
        builds[name] = tmp_path / name
        builds[name].mkdir()
        (builds[name] / "index.html").write_text(f"<html>{name}</html>")
    (builds["full"] / ".buildinfo").write_text("sphinx")
    out = pages.assemble(builds["full"], builds["workshop"], builds["slides"], tmp_path / "pages")
    assert (out / "index.html").read_text() == "<html>full</html>"
    assert (out / "workshop" / "index.html").read_text() == "<html>workshop</html>"
    assert (out / "slides" / "index.html").read_text() == "<html>slides</html>"
    assert (out / ".nojekyll").exists() and not (out / ".buildinfo").exists()
    (builds["slides"] / "index.html").unlink()
    try:
        pages.assemble(builds["full"], builds["workshop"], builds["slides"], tmp_path / "pages")
    except FileNotFoundError as err:
        assert "make slides" in str(err)
    else:
        raise AssertionError("a missing build was not named")


def test_a_fork_is_told_to_name_its_own_repository():
    from mlecourse.course import pages

    url = pages.repository_url()
    owner_repo = url.removeprefix("https://github.com/")
    assert pages.mismatch(url, owner_repo) == "" and pages.mismatch(url, None) == ""
    assert "repository.url in _config.yml" in pages.mismatch(url, "someone/fork")
