"""The registry: register once, aliases, load by alias, promote through the gate, roll back
one step at a time, serve, refuse bad input and a broken store."""
import sqlite3

import httpx
import pytest

from mlecourse.lender.mlops import registry, tracking
from mlecourse.lender.modeling import artifact
from mlecourse.lender.serving import api


@pytest.fixture(scope="module")
def store(tmp_path_factory, course_model, loan_windows):
    folder = tmp_path_factory.mktemp("registry")
    tracking.use_store(folder)
    train = loan_windows[0]
    dirs = []
    for number in (1, 2, 3):
        dirs.append(artifact.save_model(course_model, folder / f"v{number}", version=f"{number}.0",
                                        train_frame=train, metrics={"auc": 0.8},
                                        created="2021-01-01T00:00:00+00:00"))
    first = registry.register(dirs[0])
    second = registry.register(dirs[1])
    return folder, first, second, dirs


@pytest.fixture(scope="module")
def third(store):
    return registry.register(store[3][2])


def tags_of(version: int) -> dict:
    return {int(v.version): v.tags for v in registry.versions()}[version]


@pytest.fixture
def slate(store):
    """The module's store with no alias, no champion history and no verdict on any version:
    each test sets up the state it needs, so none depends on another having run first."""
    tracking.use_store(store[0])
    client = registry._client()
    for alias in list(registry.aliases()):
        client.delete_registered_model_alias(registry.MODEL_NAME, alias)
    if registry.HISTORY in client.get_registered_model(registry.MODEL_NAME).tags:
        client.delete_registered_model_tag(registry.MODEL_NAME, registry.HISTORY)
    for version in registry.versions():
        for tag in (registry.GATE, registry.GATE_DETAIL, registry.OVERRIDE, registry.ROLLED_BACK):
            if tag in version.tags:
                client.delete_model_version_tag(registry.MODEL_NAME, version.version, tag)
    return store


def passed(*versions):
    for version in versions:
        registry.record_gate(version, True, "promote: as cheap and as good as the champion")


def test_registering_the_same_model_twice_gives_the_same_version(slate):
    folder, first, second, dirs = slate
    assert first != second
    assert registry.register(dirs[0]) == first


def test_promote_refuses_a_version_without_a_passing_gate_unless_overridden(slate):
    _, first, _, _ = slate
    with pytest.raises(registry.RegistryError, match=f"version {first} has no gate verdict"):
        registry.promote(first)
    registry.record_gate(first, False, "cost 280.00 per application above the champion's 270.00")
    with pytest.raises(registry.RegistryError, match="did not pass the gate .cost 280.00") as refused:
        registry.promote(first)
    assert "override=" in str(refused.value) and "\n" not in str(refused.value)
    with pytest.raises(registry.RegistryError, match="needs a reason"):
        registry.promote(first, override="  ")
    assert registry.aliases() == {}, "a refused promotion moves nothing"
    assert registry.promote(first, override="first model; approved by the risk committee") == {
        "champion": first}
    assert tags_of(first)[registry.OVERRIDE] == "first model; approved by the risk committee"


def test_the_champion_moves_only_through_promote_and_rollback(slate):
    _, _, second, _ = slate
    for alias in (registry.CHAMPION, registry.PREVIOUS):
        with pytest.raises(registry.RegistryError, match="moves only with registry.promote"):
            registry.set_alias(alias, second)
    with pytest.raises(registry.RegistryError, match="no version 99"):
        registry.set_alias(registry.CHALLENGER, 99)


def test_promote_then_rollback_moves_the_alias(slate):
    _, first, second, _ = slate
    passed(first, second)
    registry.promote(first)
    registry.set_alias(registry.CHALLENGER, second)
    after = registry.promote(second)
    assert after == {"champion": second, "previous": first}
    assert registry.promote(second) == after  # idempotent
    assert registry.rollback() == {"champion": first}


def test_a_second_rollback_says_nothing_is_further_back(slate):
    _, first, second, _ = slate
    passed(first, second)
    registry.promote(first)
    registry.promote(second)
    registry.rollback()
    assert registry.aliases()[registry.CHAMPION] == first and registry.history() == [first]
    with pytest.raises(registry.RegistryError, match=f"nothing further back: version {first}"):
        registry.rollback()
    assert registry.aliases() == {"champion": first}, "the first rollback stands"


def test_a_rolled_back_version_returns_only_with_an_override(slate):
    _, first, second, _ = slate
    passed(first, second)
    registry.promote(first)
    registry.promote(second)
    registry.rollback()
    assert tags_of(second)[registry.ROLLED_BACK] == f"replaced by version {first} in a rollback"
    with pytest.raises(registry.RegistryError, match=f"version {second} was rolled back"):
        registry.promote(second)
    after = registry.promote(second, override="the incident was in the feature store, not the model")
    assert after == {"champion": second, "previous": first}
    assert registry.ROLLED_BACK not in tags_of(second), "serving again: no longer marked"


def test_rollbacks_walk_back_one_champion_at_a_time(slate, third):
    _, first, second, _ = slate
    passed(first, second, third)
    for version in (first, second, third):
        registry.promote(version)
    assert registry.history() == [first, second, third]
    assert registry.rollback() == {"champion": second, "previous": first}
    assert registry.rollback() == {"champion": first}
    with pytest.raises(registry.RegistryError, match="nothing further back"):
        registry.rollback()


@pytest.fixture
def second_serves(slate):
    _, first, second, _ = slate
    passed(first, second)
    registry.promote(first)
    registry.promote(second)
    return slate


def test_load_by_alias_predicts_like_the_model(second_serves, course_model, loan_windows):
    frame = loan_windows[1].iloc[:50]
    pyfunc = registry.load(registry.CHAMPION)
    from mlecourse.lender import features
    X, _ = features.features_and_target(frame)
    assert (pyfunc.predict(X) == course_model.predict_proba(X)[:, 1]).all()


def test_a_model_registered_by_older_code_is_refused_in_one_line(tmp_path, store, course_model, loan_windows):
    """A learner's store from before the stages moved: its logged code imports a module that left.

    Loaded in a process of its own, as a learner's next session would: this one has
    already run the current copy of the code and would reuse it."""
    import subprocess
    import sys

    tracking.use_store(tmp_path / "old")
    try:
        folder = artifact.save_model(course_model, tmp_path / "m", version="0.9", train_frame=loan_windows[0],
                                     metrics={"auc": 0.8}, created="2021-01-01T00:00:00+00:00")
        registry.set_alias("old", registry.register(folder, key="older-code"))
    finally:
        tracking.use_store(store[0])
    (logged,) = (tmp_path / "old").rglob("registry_model.py")
    logged.write_text(logged.read_text().replace("from mlecourse.lender.modeling import artifact",
                                                 "from mlecourse.lender import artifact"))
    code = ("import sys; from mlecourse.lender.mlops import registry, tracking\n"
            f"tracking.use_store({str(tmp_path / 'old')!r})\n"
            "try:\n    registry.load('old')\nexcept registry.RegistryError as e:\n    print(e); sys.exit(3)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 3, done.stderr[-2000:]
    line = done.stdout.strip()
    assert "older version of the course's code" in line and "make pipeline" in line and "\n" not in line


def test_the_service_starts_from_the_champion_alias(second_serves):
    app = registry.create_app(registry.CHAMPION)
    with api.serve(app) as url:
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


@pytest.fixture
def other_store(store, tmp_path):
    """A second store for one test; the module's store is selected again afterwards."""
    tracking.use_store(tmp_path)
    yield tmp_path
    tracking.use_store(store[0])


def test_only_a_model_nobody_registered_means_no_champion(other_store, store):
    assert registry.aliases() == {} and registry.history() == []
    registry.register(store[3][0])
    with sqlite3.connect(other_store / tracking.STORE_FILE) as db:
        db.execute("DROP TABLE registered_model_aliases")  # a store half-migrated, or damaged
    with pytest.raises(registry.RegistryError) as error:
        registry.aliases()
    message = str(error.value)
    assert str(other_store / tracking.STORE_FILE) in message and "\n" not in message
    assert "restore it from a backup" in message and "no such table" in message


def test_two_processes_share_the_registry_lock(store):
    """The lock is a real file lock: another process cannot take it while this one holds it."""
    import subprocess
    import sys

    database = store[0] / tracking.STORE_FILE
    probe = ("import sys; from filelock import FileLock, Timeout\n"
             "try:\n    FileLock(sys.argv[1], timeout=0.2).acquire()\nexcept Timeout:\n    print('held')\n"
             "else:\n    print('free')")
    def other_process_sees():
        return subprocess.run([sys.executable, "-c", probe, f"{database}{tracking.LOCK_SUFFIX}"],
                              capture_output=True, text=True, timeout=60).stdout.strip()
    with registry.lock():
        with registry.lock():  # re-entrant in this process
            assert other_process_sees() == "held"
    assert other_process_sees() == "free"
