"""The lender's stages keep their order: an upward import fails lint-imports, naming the contract."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mlecourse.paths import ROOT

LENDER = ROOT / "src" / "mlecourse" / "lender"
STAGES = ("data", "modeling", "serving", "rollout", "monitoring", "responsible", "mlops", "service")
LAYERS = "The lender's stages in lifecycle order"
LINT = Path(sys.executable).with_name("lint-imports")


def lint(src: Path) -> subprocess.CompletedProcess:
    """lint-imports with the repository's contracts, on the package under ``src``."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(src), "HOME": str(src)}
    return subprocess.run([str(LINT), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
                          cwd=src, capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture
def copy_of_src(tmp_path):
    shutil.copytree(ROOT / "src" / "mlecourse", tmp_path / "mlecourse",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def test_every_module_of_the_lender_sits_in_a_stage_or_is_shared_vocabulary():
    loose = sorted(p.name for p in LENDER.glob("*.py") if p.name != "__init__.py")
    assert loose == ["business.py", "features.py"]
    for stage in STAGES:
        doc = (LENDER / stage / "__init__.py").read_text()
        assert doc.startswith('"""') and "Use" in doc, f"{stage}/__init__ must say what it does and may use"


def test_the_contracts_hold_on_the_code_as_it_is(copy_of_src):
    done = lint(copy_of_src)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "broken" in done.stdout and " 0 broken" in done.stdout


@pytest.mark.parametrize("lower,higher", [("data", "modeling.estimators"), ("serving", "responsible.reasons"),
                                          ("monitoring", "responsible.fairness"), ("mlops", "service.compose")])
def test_an_upward_import_fails_with_the_contract_named(copy_of_src, lower, higher):
    probe = copy_of_src / "mlecourse" / "lender" / lower / "_upward.py"
    probe.write_text(f"from mlecourse.lender.{higher.split('.')[0]} import {higher.split('.')[1]}\n")
    done = lint(copy_of_src)
    assert done.returncode != 0
    assert LAYERS in done.stdout and "BROKEN" in done.stdout, done.stdout[-3000:]
    assert f"mlecourse.lender.{lower}._upward" in done.stdout
