"""The Prometheus alert rules are valid and their unit tests pass, with the real promtool.

promtool comes from Debian's ``prometheus`` package (``.ci/run`` installs it);
these tests fail, rather than skip, where it is missing, so CI cannot go
green without running them.
"""
import shutil
import subprocess

import yaml

from mlecourse.lender.serving import metrics
from mlecourse.paths import ROOT

RULES = ROOT / "deploy" / "prometheus"


def promtool(*args):
    tool = shutil.which("promtool")
    assert tool, "promtool is not installed: apt-get install -y prometheus (see .ci/run)"
    return subprocess.run([tool, *args], cwd=RULES, capture_output=True, text=True, timeout=60)


def test_rules_are_valid():
    result = promtool("check", "rules", "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_each_alert_fires_on_a_bad_series_and_not_on_a_good_one():
    result = promtool("test", "rules", "alerts_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    tests = yaml.safe_load((RULES / "alerts_test.yml").read_text())["tests"]
    alerts = [r["alert"] for g in yaml.safe_load((RULES / "alerts.yml").read_text())["groups"]
              for r in g["rules"] if "alert" in r]
    for alert in alerts:
        cases = [t for t in tests for c in t["alert_rule_test"] if c["alertname"] == alert]
        outcomes = {bool(c["exp_alerts"]) for t in cases for c in t["alert_rule_test"]}
        assert outcomes == {True, False}, f"{alert} needs a firing and a quiet test"


def test_a_broken_expectation_fails(tmp_path):
    # the unit tests can fail: flip one expectation and promtool must say so
    text = (RULES / "alerts_test.yml").read_text().replace("values: '0+70x120'", "values: '0+99x120'", 1)
    (tmp_path / "alerts.yml").write_text((RULES / "alerts.yml").read_text())
    (tmp_path / "t.yml").write_text(text)
    result = subprocess.run([shutil.which("promtool"), "test", "rules", "t.yml"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0


def test_rules_use_the_metrics_the_service_exports():
    text = (RULES / "alerts.yml").read_text()
    for name in ("lender_request_duration_seconds", "lender_requests_total",
                 "lender_predicted_default_probability"):
        assert name in text
    assert 0.25 in metrics.LATENCY_BUCKETS  # the latency SLO's bound is a bucket edge
