"""The model file and its card: round trip, tampering, provenance, and why not pickle."""
import json
import pickle

import numpy as np
import pytest
import skops.io as sio
from threadpoolctl import threadpool_limits

from mlecourse.lender.data import fingerprints
from mlecourse.lender import features
from mlecourse.lender.modeling import artifact, estimators
from mlecourse.lender.modeling.artifact import ArtifactError

CREATED = "2024-01-01T00:00:00+00:00"


@pytest.fixture(scope="module")
def data(loan_windows):
    return loan_windows  # (train 2019-2020, validate 2021), shared from conftest


@pytest.fixture(scope="module")
def model(course_model):
    return course_model


@pytest.fixture(scope="module")
def saved(tmp_path_factory, model, data):
    directory = tmp_path_factory.mktemp("model") / "loan-default"
    artifact.save_model(model, directory, version="1.2.3", train_frame=data[0],
                        metrics={"valid_auc": 0.87}, created=CREATED)
    return directory


def copy_dir(source, target):
    target.mkdir()
    for name in (artifact.MODEL_FILE, artifact.CARD_FILE):
        (target / name).write_bytes((source / name).read_bytes())
    return target


# --- round trip -------------------------------------------------------------------

def test_round_trip_gives_the_same_predictions(saved, model, data):
    loaded, card = artifact.load_model(saved)
    X, _ = features.features_and_target(data[1])
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_card_describes_model_data_schema_and_libraries(saved, data):
    card = json.loads((saved / artifact.CARD_FILE).read_text())
    train = data[0]
    assert card["name"] == "loan-default" and card["version"] == "1.2.3"
    assert card["created"] == CREATED
    assert card["estimator"] == "HistGradientBoostingClassifier"
    assert card["threshold"] == pytest.approx(1 / 6)
    assert card["model_sha256"] == fingerprints.file_sha256(saved / artifact.MODEL_FILE)
    td = card["training_data"]
    assert td["fingerprint"] == fingerprints.data_fingerprint(train)
    assert td["rows"] == len(train)
    assert (td["first_date"], td["last_date"]) == ("2019-01-01", "2020-12-31")
    assert td["default_rate"] == pytest.approx(train["defaulted"].mean())
    assert list(card["features"]) == list(features.RAW_FEATURES)
    assert card["features"]["age"] == {"type": "integer", "min": 18, "max": 85, "nullable": False}
    assert card["features"]["annual_income"]["nullable"] is True
    assert card["features"]["annual_income"]["max"] is None
    assert card["features"]["region"]["allowed"] == list(features.CATEGORIES["region"])
    assert card["metrics"] == {"valid_auc": 0.87}
    assert set(card["libraries"]) == {"python", "scikit-learn", "skops", "numpy", "pandas"}


def test_schema_nullable_fields_cover_every_missing_feature_in_training(data):
    schema = artifact.feature_schema()
    train = data[0]
    # every feature the pipeline sees missing in training, apart from the rare
    # impossible values that cleaning blanked (age, loan_amount), may be omitted
    missing = {c for c in features.RAW_FEATURES if train[c].isna().mean() > 0.001}
    assert missing <= {name for name, spec in schema.items() if spec["nullable"]}


def test_save_creates_the_directory_and_returns_it(tmp_path, model, data):
    target = tmp_path / "a" / "b"
    out = artifact.save_model(model, target, version="1", train_frame=data[0].head(50), metrics={})
    assert out == target and (target / "model.skops").is_file() and (target / "model.json").is_file()
    assert artifact.read_card(target)["created"]  # defaults to now



def test_a_second_load_is_a_copy_of_the_vetted_model_and_a_changed_file_is_checked_again(saved, data, tmp_path):
    first, _ = artifact.load_model(saved)
    second, _ = artifact.load_model(saved)  # the same bytes: answered from this process's loads
    assert second is not first
    second.set_params(model__max_iter=1)  # the caller's copy is its own
    X, _ = features.features_and_target(data[1].head(200))
    np.testing.assert_array_equal(artifact.load_model(saved)[0].predict_proba(X), first.predict_proba(X))
    bad = copy_dir(saved, tmp_path / "changed-after-load")
    blob = bytearray((bad / artifact.MODEL_FILE).read_bytes())
    blob[len(blob) // 3] ^= 0xFF
    (bad / artifact.MODEL_FILE).write_bytes(bytes(blob))
    with pytest.raises(ArtifactError, match="SHA-256 mismatch"):
        artifact.load_model(bad)

# --- refusals ---------------------------------------------------------------------

def test_tampered_model_file_is_refused_naming_the_file(saved, tmp_path):
    bad = copy_dir(saved, tmp_path / "bad")
    blob = bytearray((bad / artifact.MODEL_FILE).read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    (bad / artifact.MODEL_FILE).write_bytes(bytes(blob))
    with pytest.raises(ArtifactError, match=r"model\.skops.*SHA-256 mismatch"):
        artifact.load_model(bad)


def test_a_different_model_under_the_same_card_is_refused(saved, tmp_path, data):
    bad = copy_dir(saved, tmp_path / "swapped")
    other = estimators.train_model(data[0].head(2000), "logistic")
    sio.dump(other, bad / artifact.MODEL_FILE)
    with pytest.raises(ArtifactError, match="model.skops"):
        artifact.load_model(bad)


def test_fingerprint_mismatch_is_refused(saved, data):
    model, card = artifact.load_model(saved, expected_fingerprint=fingerprints.data_fingerprint(data[0]))
    assert card["version"] == "1.2.3"
    with pytest.raises(ArtifactError, match=r"model\.json.*fingerprint mismatch"):
        artifact.load_model(saved, expected_fingerprint=fingerprints.data_fingerprint(data[1]))


def test_untrusted_type_is_refused_even_with_a_matching_hash(tmp_path):
    bad = tmp_path / "evil"
    bad.mkdir()
    sio.dump(artifact.RunsCodeOnLoad(), bad / artifact.MODEL_FILE)
    card = {"name": "x", "version": "1", "training_data": {}, "features": {},
            "model_sha256": fingerprints.file_sha256(bad / artifact.MODEL_FILE)}
    (bad / artifact.CARD_FILE).write_text(json.dumps(card))
    with pytest.raises(ArtifactError, match=r"model\.skops.*RunsCodeOnLoad"):
        artifact.load_model(bad)


def test_a_pickle_renamed_to_skops_is_refused_without_running_it(tmp_path):
    bad = tmp_path / "pickled"
    bad.mkdir()
    (bad / artifact.MODEL_FILE).write_bytes(pickle.dumps(artifact.RunsCodeOnLoad()))
    card = {"name": "x", "version": "1", "training_data": {}, "features": {},
            "model_sha256": fingerprints.file_sha256(bad / artifact.MODEL_FILE)}
    (bad / artifact.CARD_FILE).write_text(json.dumps(card))
    before = len(artifact.MARKS)
    with pytest.raises(ArtifactError, match="not a readable skops file"):
        artifact.load_model(bad)
    assert len(artifact.MARKS) == before


@pytest.mark.parametrize("damage, message", [
    (lambda d: (d / artifact.CARD_FILE).unlink(), "no model card"),
    (lambda d: (d / artifact.CARD_FILE).write_text("{not json"), "not valid JSON"),
    (lambda d: (d / artifact.CARD_FILE).write_text('{"name": "x"}'), "lacks version"),
    (lambda d: (d / artifact.MODEL_FILE).unlink(), "model file missing"),
])
def test_broken_directories_give_clear_errors(saved, tmp_path, damage, message):
    bad = copy_dir(saved, tmp_path / "broken")
    damage(bad)
    with pytest.raises(ArtifactError, match=message):
        artifact.load_model(bad)


def test_artifact_error_is_a_value_error():
    assert issubclass(ArtifactError, ValueError)


def test_trusted_types_cover_the_three_model_families(data, tmp_path):
    small = {"logistic": {}, "tree": {}, "boosting": {"max_iter": 10}}
    for kind, params in small.items():
        with threadpool_limits(1):
            fitted = estimators.train_model(data[0].head(3000), kind, **params)
        directory = artifact.save_model(fitted, tmp_path / kind, version="1",
                                        train_frame=data[0].head(3000), metrics={})
        loaded, _ = artifact.load_model(directory)
        X = data[1][list(features.RAW_FEATURES)].head(20)
        np.testing.assert_array_equal(loaded.predict_proba(X), fitted.predict_proba(X))


# --- why not pickle -----------------------------------------------------------------

def test_pickle_runs_code_while_loading(capsys):
    before = len(artifact.MARKS)
    result = pickle.loads(pickle.dumps(artifact.RunsCodeOnLoad()))  # noqa: S301
    assert "this ran while loading" in capsys.readouterr().out
    assert len(artifact.MARKS) == before + 1
    assert result == "this ran while loading"  # not even the object: the call's result


def test_skops_refuses_the_same_payload():
    data = sio.dumps(artifact.RunsCodeOnLoad())
    assert sio.get_untrusted_types(data=data) == ["mlecourse.lender.modeling.artifact.RunsCodeOnLoad"]
    before = len(artifact.MARKS)
    with pytest.raises(Exception, match="Untrusted types"):
        sio.loads(data)
    assert len(artifact.MARKS) == before


def test_demo_reports_both_sides(capsys):
    demo = artifact.pickle_runs_code_demo(verbose=False)
    assert capsys.readouterr().out == ""
    assert demo["pickle_ran"] is True
    assert demo["pickle_result"] == "this ran while loading"
    assert demo["skops_untrusted"] == ["mlecourse.lender.modeling.artifact.RunsCodeOnLoad"]
    assert "UntrustedTypesFoundException" in demo["skops_refusal"]
    artifact.pickle_runs_code_demo(verbose=True)
    assert "this ran while loading" in capsys.readouterr().out
