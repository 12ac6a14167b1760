"""The pipeline end to end on a temporary store: promote, rerun idempotently, refuse on the gate."""
import pytest

from mlecourse.lender import gates, pipeline, registry
from mlecourse.lender.data import load_loans


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return tmp_path_factory.mktemp("pipeline")


def test_first_run_promotes_and_a_rerun_changes_nothing(store):
    first = pipeline.run(reason="test", store=store, kind="logistic")
    assert first.decision.promote and first.aliases["champion"] == first.version
    again = pipeline.run(reason="test again", store=store, kind="logistic")
    assert again.version == first.version and again.aliases == first.aliases
    assert len(registry.versions()) == 1


def test_a_worse_candidate_stops_at_the_gate_and_says_why(store):
    champion = registry.aliases()["champion"]
    report = pipeline.run(reason="retrain: tree", store=store, kind="tree")
    assert not report.decision.promote
    assert "cost" in str(report.decision)
    assert registry.aliases()["champion"] == champion
    assert registry.aliases()["challenger"] == report.version


def test_rejected_data_stops_the_run_before_training(store):
    raw = load_loans().drop(columns=["annual_income"])
    with pytest.raises(pipeline.PipelineError, match="validate"):
        pipeline.run(reason="bad batch", store=store, raw=raw)


def test_a_run_needs_a_reason(store):
    with pytest.raises(pipeline.PipelineError, match="reason"):
        pipeline.run(reason=" ", store=store)


def test_the_command_line_reports_a_stopped_run_in_one_line(capsys, store):
    assert pipeline.main(["--plain", "--store", str(store), "--reason", ""]) == 1
    out = capsys.readouterr().out
    assert out.startswith("pipeline stopped:") and out.count("\n") == 1


def test_gate_rules_reach_the_run(store):
    strict = gates.Rules(max_parity_gap=0.0)
    report = pipeline.run(reason="strict", store=store, kind="logistic", rules=strict)
    assert not report.decision.promote and "gap" in str(report.decision)


def test_make_pipeline_runs_the_steps_as_dagster_assets(tmp_path):
    from mlecourse.lender import orchestration

    report = orchestration.materialise(reason="dagster test", store=tmp_path, kind="logistic")
    assert report.reason == "dagster test" and report.decision.promote
    assert registry.aliases()["champion"] == report.version
