"""The pipeline end to end on a temporary store: promote, rerun idempotently, refuse on the gate;
and as an attacker or a careless operator would run it: twice at once, on shuffled labels,
on a corrupted data file, on a broken store."""
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from mlecourse.lender.mlops import gates, orchestration, pipeline, registry, tracking
from mlecourse.lender.data.loading import LOANS_FILE, load_loans
from mlecourse.paths import DATA_DIR, ROOT


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return tmp_path_factory.mktemp("pipeline")


def test_first_run_promotes_and_a_rerun_changes_nothing(store):
    first = pipeline.run(reason="test", store=store, kind="logistic")
    assert first.decision.promote and first.aliases["champion"] == first.version
    assert "labels: the bureau score (credit_score: no champion yet)" in str(first)
    again = pipeline.run(reason="test again", store=store, kind="logistic")
    assert again.version == first.version and again.aliases == first.aliases
    assert "already registered" in str(again) and "labels: the champion (version 1)" in str(again)
    assert len(registry.versions()) == 1
    assert registry.versions()[0].tags["gate"] == "pass"


def test_a_worse_candidate_stops_at_the_gate_and_says_why(store):
    champion = registry.aliases()["champion"]
    report = pipeline.run(reason="retrain: tree", store=store, kind="tree")
    assert not report.decision.promote
    assert "cost" in str(report.decision)
    assert registry.aliases()["champion"] == champion
    assert registry.aliases()["challenger"] == report.version
    tags = {int(v.version): v.tags for v in registry.versions()}[report.version]
    assert tags["gate"] == "fail" and "cost" in tags["gate_detail"]
    with pytest.raises(registry.RegistryError, match="did not pass the gate"):
        registry.promote(report.version)


def test_a_run_judged_against_a_champion_that_has_since_changed_does_not_promote(store):
    champion = registry.aliases()["champion"]
    line = pipeline._promote(champion + 1, gates.Decision(True, ["as good"]), judged_against=None)
    assert line.startswith(f"not promoted: the champion became version {champion}")
    assert registry.aliases()["champion"] == champion


def shuffled(frame, seed=0):
    """The same rows, with the outcomes shuffled among them (and the checksum, say, updated)."""
    labels = np.random.default_rng(seed).permutation(frame["defaulted"].to_numpy())
    return frame.assign(defaulted=labels)


def test_shuffled_labels_are_refused_by_validation_before_the_gate(store):
    known = len(registry.versions())
    with pytest.raises(pipeline.PipelineError) as error:
        pipeline.run(reason="shuffled", store=store, kind="logistic", raw=shuffled(load_loans()))
    message = str(error.value)
    assert message.startswith("validate: the labels no longer relate to the inputs as before")
    assert "the champion (version 1)" in message and "\n" not in message
    assert len(registry.versions()) == known, "nothing was trained, judged or registered"


def test_make_pipeline_on_a_shuffled_file_stops_in_one_line_even_with_no_champion(tmp_path):
    """The attack as it came: labels shuffled in the file, its checksum updated, `make pipeline`
    (Dagster, in a process of its own) on a new store. The bureau score is the reference."""
    from mlecourse.lender.data.loading import write_checksums, write_loans

    write_loans(shuffled(load_loans()), tmp_path / LOANS_FILE)
    write_checksums(tmp_path)
    done = subprocess.run([sys.executable, "-m", "mlecourse.lender.mlops.orchestration", "--reason", "shuffled",
                           "--store", str(tmp_path / "store"), "--data", str(tmp_path / LOANS_FILE)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 1 and done.stdout.count("\n") == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert done.stdout.startswith("pipeline stopped: validate: the labels no longer relate "
                                  "to the inputs at all")
    assert "the bureau score (credit_score: no champion yet)" in done.stdout


def test_rejected_data_stops_the_run_before_training(store):
    raw = load_loans().drop(columns=["annual_income"])
    with pytest.raises(pipeline.PipelineError, match="validate"):
        pipeline.run(reason="bad batch", store=store, raw=raw)


def test_a_run_needs_a_reason(store):
    with pytest.raises(pipeline.PipelineError, match="reason"):
        pipeline.run(reason=" ", store=store)


def test_the_command_line_reports_a_stopped_run_in_one_line(capsys, store):
    assert orchestration.main(["--plain", "--store", str(store), "--reason", ""]) == 1
    out = capsys.readouterr().out
    assert out.startswith("pipeline stopped:") and out.count("\n") == 1


def test_gate_rules_reach_the_run(store):
    pipeline.run(reason="a champion", store=store, kind="logistic")  # already there if run in order
    strict = gates.Rules(max_auc_drop=-0.01)  # the candidate must rank better by 0.01
    report = pipeline.run(reason="strict", store=store, kind="logistic", rules=strict)
    assert not report.decision.promote and "more than -0.01 below" in str(report.decision)


def test_make_pipeline_runs_each_step_as_a_dagster_asset(tmp_path):
    assets = orchestration.build_assets(pipeline.Settings())
    assert [a.key.to_user_string() for a in assets] == [
        "validated_loans", "windows", "champion", "candidate", "candidate_metrics", "gate_decision",
        "registered_version"]
    report = orchestration.materialise(reason="dagster test", store=tmp_path, kind="logistic")
    assert report.reason == "dagster test" and report.decision.promote
    assert registry.aliases()["champion"] == report.version
    assert [line.split(":")[0] for line in report.steps[:6]] == ["validate", "windows", "labels", "train",
                                                                 "evaluate", "gate"]


def test_two_pipelines_started_together_register_one_version(tmp_path):
    """Two real processes on one fresh store: one registers, the other finds it registered."""
    command = [sys.executable, "-m", "mlecourse.lender.mlops.orchestration", "--plain", "--kind", "logistic",
               "--store", str(tmp_path), "--as-of", "none"]
    runs = [subprocess.Popen([*command, "--reason", f"run {n}"], cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for n in (1, 2)]
    outcomes = [(run.wait(timeout=600), *run.communicate()) for run in runs]
    for code, out, err in outcomes:
        assert code == 0 and "Traceback" not in err, out + err
    said = sorted("already registered" in out for _, out, _ in outcomes)
    assert said == [False, True], [out for _, out, _ in outcomes]
    tracking.use_store(tmp_path)
    assert len(registry.versions()) == 1 and registry.aliases() == {"champion": 1}


@pytest.mark.parametrize("mode", [["--plain"], []], ids=["plain", "dagster"])
def test_a_data_file_failing_its_checksum_stops_in_one_line(tmp_path, capsys, mode):
    data = tmp_path / "data"
    data.mkdir()
    for name in (LOANS_FILE, "SHA256SUMS"):
        shutil.copy(DATA_DIR / name, data / name)
    content = bytearray((data / LOANS_FILE).read_bytes())
    content[len(content) // 2] ^= 0xFF
    (data / LOANS_FILE).write_bytes(bytes(content))
    code = orchestration.main([*mode, "--store", str(tmp_path / "store"), "--data", str(data / LOANS_FILE)])
    out, err = capsys.readouterr()
    assert code == 1 and out.count("\n") == 1 and "Traceback" not in err, out + err
    assert out.startswith("pipeline stopped: data/loans.csv.gz has changed or is corrupt")
    assert "python -m mlecourse.lender.data generate" in out


def test_a_broken_store_stops_in_one_line(tmp_path, capsys):
    (tmp_path / tracking.STORE_FILE).write_bytes(b"not a database " * 100)
    assert orchestration.main(["--plain", "--store", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert out.count("\n") == 1 and "Traceback" not in err, out + err
    assert str(tmp_path / tracking.STORE_FILE) in out and "restore it from a backup" in out


@pytest.fixture(scope="module")
def loans_copy(tmp_path_factory):
    """Another loans file with its checksum, as a second data set would come."""
    folder = tmp_path_factory.mktemp("another-data")
    for name in (LOANS_FILE, "SHA256SUMS"):
        shutil.copy(DATA_DIR / name, folder / name)
    return folder / LOANS_FILE


DAYS = ("2023-06-30", "2023-12-31", "2024-06-30", "2024-12-31")


def test_runs_as_of_successive_dates_train_on_new_windows_and_meet_a_champion(tmp_path, loans_copy):
    first = pipeline.run(reason="the first model", store=tmp_path, kind="logistic", data=loans_copy)
    assert first.decision.promote and first.windows["as_of"] == "fixed split"
    reports = [pipeline.run(reason=f"as of {day}", store=tmp_path, kind="logistic", data=loans_copy, as_of=day)
               for day in DAYS]
    trained_on = {(r.windows["train_first"], r.windows["train_last"]) for r in reports}
    assert len(trained_on) == len(DAYS), trained_on
    for report, day in zip(reports, DAYS):
        assert report.windows["as_of"] == day
        assert report.windows["train_last"] < report.windows["evaluate_first"] <= report.windows["evaluate_last"]
        assert pd.Timestamp(report.windows["evaluate_last"]) + pd.DateOffset(months=12) <= pd.Timestamp(day)
        assert "labels: the champion (version" in str(report) and report.decision.difference is not None
    champion = registry.load_checked(registry.CHAMPION)[1]
    assert champion["evaluation"]["first"] in {r.windows["evaluate_first"] for r in [first, *reports]}


def test_a_run_with_no_newer_cohort_than_the_champion_has_nothing_to_judge(tmp_path, capsys):
    pipeline.run(reason="first", store=tmp_path, kind="logistic")  # judged on 2021
    with pytest.raises(pipeline.NothingNew, match="nothing new to judge on"):
        pipeline.run(reason="too soon", store=tmp_path, kind="logistic", as_of="2022-12-31")  # 2021 H2
    code = orchestration.main(["--plain", "--store", str(tmp_path), "--kind", "logistic",
                               "--as-of", "2022-12-31", "--train-months", "24"])
    out = capsys.readouterr().out
    assert code == 0 and out.startswith("pipeline: nothing new") and out.count("\n") == 1


def test_a_run_before_any_outcome_matured_stops_in_one_line(tmp_path):
    with pytest.raises(pipeline.PipelineError, match="no outcome had matured by 2019-06-30"):
        pipeline.run(reason="too early", store=tmp_path, kind="logistic", as_of="2019-06-30")
    with pytest.raises(pipeline.PipelineError, match="as_of must be a date"):
        pipeline.run(reason="typo", store=tmp_path, as_of="last tuesday")


def test_evaluation_weighs_each_row_by_its_inverse_propensity():
    from mlecourse.lender import features
    loans = pipeline.validate(load_loans())
    window = loans[loans["application_date"].dt.year == 2021].head(3000)
    model = pipeline.train(loans[loans["application_date"] < "2021-01-01"], "logistic")
    plain = pipeline.evaluate(model, window, absolute=False)
    rare = window.assign(propensity=np.where(np.arange(len(window)) < 100, 0.05, 1.0))
    weighted = pipeline.evaluate(model, rare, absolute=False)
    assert weighted["weights"][:100].tolist() == [20.0] * 100
    assert weighted["cost"] == pytest.approx(np.average(plain["costs"], weights=weighted["weights"]))
    assert "costs" not in pipeline.scalars(weighted) and "cost" in pipeline.scalars(weighted)
    with pytest.raises(pipeline.PipelineError, match="propensity 0"):
        pipeline.evaluate(model, window.assign(propensity=0.0), absolute=False)
    assert features.TARGET in window
