"""The registry: register once, aliases, load by alias, promote, roll back, serve, refuse bad input."""
import httpx
import pytest

from mlecourse.lender import artifact, registry, serving, tracking


@pytest.fixture(scope="module")
def store(tmp_path_factory, course_model, loan_windows):
    folder = tmp_path_factory.mktemp("registry")
    tracking.use_store(folder)
    train = loan_windows[0]
    dirs = []
    for number in (1, 2):
        dirs.append(artifact.save_model(course_model, folder / f"v{number}", version=f"{number}.0",
                                        train_frame=train, metrics={"auc": 0.8},
                                        created="2021-01-01T00:00:00+00:00"))
    first = registry.register(dirs[0])
    second = registry.register(dirs[1])
    return folder, first, second, dirs


def test_registering_the_same_model_twice_gives_the_same_version(store):
    folder, first, second, dirs = store
    assert first != second
    assert registry.register(dirs[0]) == first


def test_promote_then_rollback_moves_the_alias(store):
    _, first, second, _ = store
    registry.promote(first)
    registry.set_alias(registry.CHALLENGER, second)
    after = registry.promote(second)
    assert after == {"champion": second, "previous": first}
    assert registry.promote(second) == after  # idempotent
    assert registry.rollback()[registry.CHAMPION] == first
    registry.promote(second)


def test_load_by_alias_predicts_like_the_model(store, course_model, loan_windows):
    frame = loan_windows[1].iloc[:50]
    pyfunc = registry.load(registry.CHAMPION)
    from mlecourse.lender import features
    X, _ = features.features_and_target(frame)
    assert (pyfunc.predict(X) == course_model.predict_proba(X)[:, 1]).all()


def test_the_service_starts_from_the_champion_alias(store):
    app = registry.create_app(registry.CHAMPION)
    with serving.serve(app) as url:
        answer = httpx.get(f"{url}/version", timeout=10).json()
    assert answer["version"] == "2.0"


def test_an_unknown_alias_is_one_clear_line(store):
    with pytest.raises(registry.RegistryError) as error:
        registry.load("blue")
    message = str(error.value)
    assert "no alias 'blue'" in message and "set_alias" in message and "\n" not in message


def test_a_corrupted_model_file_in_the_store_is_refused(store):
    folder, first, _, _ = store
    registry.set_alias("corrupt-test", first)
    stored = [p for p in folder.rglob("model.skops") if "artifacts" in p.parts]
    target = stored[0]
    original = target.read_bytes()
    try:
        for path in stored:
            data = bytearray(path.read_bytes())
            data[len(data) // 2] ^= 0xFF
            path.write_bytes(bytes(data))
        with pytest.raises(registry.RegistryError, match="SHA-256 mismatch"):
            registry.load_checked("corrupt-test")
        with pytest.raises(registry.RegistryError, match="SHA-256 mismatch"):
            registry.load("corrupt-test")
    finally:
        for path in stored:
            path.write_bytes(original) if path == target else None
    assert target.read_bytes() == original
