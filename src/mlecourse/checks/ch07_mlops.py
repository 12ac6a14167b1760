"""Checks for the workbook of chapter 7, "MLOps in practice".

7.1 and 7.6 practise the tools: the learner's own MLflow store (runs, a
registered model, an alias) and DVC project (a local remote, pushed and
pulled) are inspected as they are. 7.2, 7.3 and 7.4 run the learner's
function on cases the workbook never shows (stand-in models whose behaviour
is known by construction, frames in other orders, a gate's boundaries).
7.5 is a judgement per scenario.
"""
from __future__ import annotations

import hashlib
import shutil
import tempfile
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from mlecourse.lender import business, features
from mlecourse.lender.data import fingerprints
from mlecourse.lender.data.loading import LOANS_FILE, load_loans
from mlecourse.paths import DATA_DIR
from . import compare
from .blank import is_blank
from .compare import Case
from .core import exercise
from .result import Unanswered, Wrong

WORKBOOK = "07_mlops.ipynb"

# 7.1 ----------------------------------------------------------------------

EXPERIMENT = "workbook-7"
MODEL = "workbook-model"
ALIAS = "champion"
DATA_FILE = DATA_DIR / LOANS_FILE


def quiet_mlflow():
    """``import mlflow`` without its start-up notes on stderr (a notebook shows them as noise)."""
    import logging
    import os

    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="IProgress not found")
        import mlflow
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=DeprecationWarning, module="mlflow")
    return mlflow


@cache
def _candidates() -> tuple[dict, dict]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    loans, _ = features.clean_loans(load_loans())
    train, valid, _ = features.split_by_date(loans)
    numbers = list(features.NUMERIC)
    medians = train[numbers].median()  # filled beforehand: the models stay plain, trusted types
    models, costs = {}, {}
    for name, c in (("strong", 1.0), ("weak", 1e-4)):
        model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=1000))
        model.fit(train[numbers].fillna(medians).to_numpy(), train[features.TARGET])
        scores = model.predict_proba(valid[numbers].fillna(medians).to_numpy())[:, 1]
        models[name] = model
        costs[name] = business.decision_cost(valid[features.TARGET], scores > business.COSTS.threshold)
    return models, costs


def candidate_models() -> tuple[dict, dict]:
    """Two fitted scikit-learn models (name -> model) and their cost per application on 2021."""
    models, costs = _candidates()
    return dict(models), dict(costs)


def _client(store: Path):
    mlflow = quiet_mlflow()
    uri = f"sqlite:///{Path(store) / 'mlflow.db'}"
    return mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)


def publish(store: Path, models: dict, costs: dict) -> int:
    """The reference steps of 7.1 on ``store``: a run per model, each registered, the cheapest
    given the alias. Returns the champion's version."""
    mlflow = quiet_mlflow()
    uri = f"sqlite:///{Path(store) / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    mlflow.create_experiment(EXPERIMENT, artifact_location=(Path(store) / "artifacts").as_uri())
    mlflow.set_experiment(EXPERIMENT)
    client = mlflow.MlflowClient()
    client.create_registered_model(MODEL)
    versions = {}
    for name, model in models.items():
        with mlflow.start_run(run_name=name) as run:
            mlflow.log_param("kind", name)
            mlflow.log_metric("cost", costs[name])
            info = mlflow.sklearn.log_model(model, name="model", pip_requirements=["scikit-learn"])
        versions[name] = client.create_model_version(MODEL, info.model_uri, run.info.run_id).version
    client.set_registered_model_alias(MODEL, ALIAS, versions[min(costs, key=costs.get)])
    return int(client.get_model_version_by_alias(MODEL, ALIAS).version)


@cache
def _reference_store() -> Path:
    store = Path(tempfile.mkdtemp(prefix="ch07-check-store-"))
    publish(store, *_candidates())
    return store


def _copy_of_reference(change) -> Path:
    """A copy of the reference store with one thing changed by ``change(client)``."""
    copy = Path(tempfile.mkdtemp(prefix="ch07-check-store-")) / "store"
    shutil.copytree(_reference_store(), copy)
    change(_client(copy))
    return copy


def _alias_on_the_dearer(client) -> None:
    versions = client.search_model_versions(f"name='{MODEL}'")
    current = client.get_model_version_by_alias(MODEL, ALIAS).version
    other = next(v.version for v in versions if v.version != current)
    client.set_registered_model_alias(MODEL, ALIAS, other)


def _folder_with(name: str) -> Path:
    """A folder holding only ``name``: what MLflow leaves when the tracking URI was never set."""
    folder = Path(tempfile.mkdtemp(prefix="ch07-check-"))
    (folder / name).mkdir()
    return folder


def _versions_by_run(client) -> dict:
    return {v.run_id: v for v in client.search_model_versions(f"name='{MODEL}'")}


@exercise("7.1", "Runs, a registered model and an alias, in your own MLflow store", workbook=WORKBOOK,
          hints=["Point MLflow at a SQLite file in your folder (`mlflow.set_tracking_uri` and "
                 "`mlflow.set_registry_uri`, both `sqlite:///<folder>/mlflow.db`), create the experiment "
                 "with its artifacts in the same folder, then `mlflow.set_experiment`.",
                 "Per model: `with mlflow.start_run(run_name=name):` log the param `kind` and the metric "
                 "`cost`, then `info = mlflow.sklearn.log_model(model, name=\"model\", "
                 "pip_requirements=[\"scikit-learn\"])`; then `client.create_model_version("
                 "\"workbook-model\", info.model_uri, run.info.run_id)` (after one "
                 "`client.create_registered_model(\"workbook-model\")`).",
                 "`mlflow.MlflowClient().set_registered_model_alias(\"workbook-model\", \"champion\", "
                 "version)` with the cheaper run's version; read it back with "
                 "`get_model_version_by_alias`."],
          reference=_reference_store,
          mistakes=[(lambda: _copy_of_reference(_alias_on_the_dearer), "not the cheapest"),
                    (lambda: _copy_of_reference(lambda c: c.delete_registered_model_alias(MODEL, ALIAS)),
                     "no version has the alias"),
                    (lambda: _folder_with("mlruns"), "no MLflow store")])
def check_store(answer) -> str:
    if is_blank(answer):
        raise Unanswered()
    if not isinstance(answer, (str, Path)):
        raise Wrong(f"expected the folder of your MLflow store (a path), got {compare.describe(answer)}")
    store = Path(answer)
    if store.is_dir() and not any(store.iterdir()):
        raise Unanswered()  # the folder is still as the exercise made it
    if not (store / "mlflow.db").is_file():
        raise Wrong(f"no MLflow store in {store}: the tracking URI should be sqlite:///{store}/mlflow.db")
    client = _client(store)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    if experiment is None:
        raise Wrong(f"the store has no experiment named {EXPERIMENT!r}")
    runs = [r for r in client.search_runs([experiment.experiment_id])
            if "cost" in r.data.metrics and "kind" in r.data.params]
    if len(runs) < 2:
        raise Wrong(f"the experiment holds {len(runs)} run(s) with a 'cost' metric and a 'kind' "
                    "parameter; log one per model")
    if not client.search_registered_models(f"name='{MODEL}'"):
        raise Wrong(f"no registered model named {MODEL!r}: register each run's model")
    registered = _versions_by_run(client)
    costs = {r.info.run_id: r.data.metrics["cost"] for r in runs if r.info.run_id in registered}
    if len(costs) < 2:
        raise Wrong(f"{len(costs)} of your runs has a registered version; register both models")
    try:
        champion = client.get_model_version_by_alias(MODEL, ALIAS)
    except Exception:  # MLflow raises its own error for an alias nobody set
        raise Wrong(f"no version has the alias {ALIAS!r}: set it with set_registered_model_alias") from None
    if costs.get(champion.run_id) != min(costs.values()):
        raise Wrong(f"the alias {ALIAS!r} is on a version that is not the cheapest run's")
    return (f"Version {champion.version} is the champion. The course's registry does the same, and "
            "moves the alias only with a gate's pass or a recorded override.")


# 7.2 ----------------------------------------------------------------------

class _StandIn:
    """A model with a known formula: P(default) from income (and a planted bug, maybe).

    The bug adds ``bump`` to the risk of incomes from ``bump_from`` up to ``bump_to``; with
    ``bump_rows``, only in the central region."""

    def __init__(self, name: str, bump: float = 0.0, bump_from: float = np.inf,
                 slope: float = -1.0, bump_rows: int | None = None, bump_to: float = np.inf):
        self.name, self.bump, self.bump_from, self.slope = name, bump, bump_from, slope
        self.bump_rows, self.bump_to = bump_rows, bump_to

    def __repr__(self) -> str:
        return f"<model {self.name}>"

    def __eq__(self, other) -> bool:  # the check compares a model before and after the test
        return type(other) is _StandIn and vars(self) == vars(other)

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        income = frame["annual_income"].fillna(40_000).to_numpy(dtype=float)
        p = 0.5 + 0.3 * np.tanh(self.slope * (income - 50_000) / 40_000)
        bumped = (income >= self.bump_from) & (income < self.bump_to)
        if self.bump_rows is not None:  # the bug hits only a few applicants (one region)
            bumped &= frame["region"].to_numpy() == "central"
        p = np.clip(p + self.bump * bumped, 0.0, 1.0)
        return np.column_stack([1 - p, p])


def applicants(seed: int = 72, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    income = np.round(rng.lognormal(10.7, 0.45, n), -2)
    income[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame({"application_id": [f"A{i:05d}" for i in range(n)],
                         "annual_income": income,
                         "region": rng.choice(["north", "south", "central"], n, p=[0.45, 0.45, 0.1]),
                         "credit_score": np.round(rng.normal(660, 60, n))})


# (model, what a right test returns on it, what it is)
STAND_INS = [
    (_StandIn("sound"), True, "a sound model (risk falls with income)"),
    (_StandIn("flat", slope=0.0), True, "a model that ignores income"),
    (_StandIn("wiggle", slope=0.0, bump=0.0005, bump_from=60_000), True,
     "a model whose risk rises by 0.0005 above 60,000 (within the tolerance)"),
    (_StandIn("sign bug", slope=1.0), False, "a model with the income sign flipped"),
    (_StandIn("cliff", bump=0.2, bump_from=90_000), False,
     "a model whose risk jumps up above 90,000 of income"),
    (_StandIn("one region", bump=0.3, bump_from=70_000, bump_rows=1), False,
     "a model whose risk jumps for high earners in one region only"),
    (_StandIn("band", bump=0.25, bump_from=90_000, bump_to=200_000), False,
     "a model whose risk jumps for incomes between 90,000 and 200,000"),
]


def checked_frame() -> pd.DataFrame:
    """The applicants the check tests with: the same as ``applicants()``, but the central region's,
    where one planted bug hides, come last (a test of the first rows only misses it)."""
    frame = applicants()
    order = np.argsort((frame["region"] == "central").to_numpy(), kind="stable")
    return frame.iloc[order].reset_index(drop=True)


def ref_directional_test():
    def income_never_raises_risk(model, frame):
        richer = frame.copy()
        richer["annual_income"] = richer["annual_income"] * 1.5
        rise = model.predict_proba(richer)[:, 1] - model.predict_proba(frame)[:, 1]
        return bool(np.all(rise <= 0.001))
    return income_never_raises_risk


def _always(value):
    return lambda model, frame: value


def _mean_only(model, frame):
    richer = frame.copy()
    richer["annual_income"] = richer["annual_income"] * 1.5
    return bool(np.mean(model.predict_proba(richer)[:, 1] - model.predict_proba(frame)[:, 1]) <= 0.001)


def _no_tolerance(model, frame):
    richer = frame.copy()
    richer["annual_income"] = richer["annual_income"] * 1.5
    return bool(np.all(model.predict_proba(richer)[:, 1] - model.predict_proba(frame)[:, 1] <= 0))


def _first_rows(model, frame):
    head = frame.head(100)
    richer = head.assign(annual_income=head["annual_income"] * 1.5)
    return bool(np.all(model.predict_proba(richer)[:, 1] - model.predict_proba(head)[:, 1] <= 0.001))


def _times_150(model, frame):
    richer = frame.assign(annual_income=frame["annual_income"] * 150)
    return bool(np.all(model.predict_proba(richer)[:, 1] - model.predict_proba(frame)[:, 1] <= 0.001))


def _in_place(model, frame):
    before = model.predict_proba(frame)[:, 1]
    frame["annual_income"] = frame["annual_income"] * 1.5
    return bool(np.all(model.predict_proba(frame)[:, 1] - before <= 0.001))


def _verdict(expected: bool, what: str):
    def verify(result):
        if not isinstance(result, (bool, np.bool_)):
            raise Wrong(f"expected True or False from your test, got {compare.describe(result)}")
        if bool(result) != expected:
            if expected:
                raise Wrong(f"your test fails {what}, which meets the specification "
                            "(a rise up to 0.001 is allowed)")
            raise Wrong(f"your test passes {what}: it missed the planted bug")
    return verify


@exercise("7.2", "A directional test that catches a planted bug", workbook=WORKBOOK,
          hints=["Make a copy of the frame with `annual_income` multiplied by 1.5, score both, "
                 "and look at the difference row by row.",
                 "The test passes only if *every* row's rise is at most 0.001: `np.all(rise <= 0.001)`. "
                 "A mean hides a bug that hits a few applicants."],
          reference=ref_directional_test,
          mistakes=[(lambda: _always(True), "missed the planted bug"),
                    (lambda: _always(False), "meets the specification"),
                    (lambda: _mean_only, "90,000"),
                    (lambda: _no_tolerance, "within the tolerance"),
                    (lambda: _in_place, "changed the data"),
                    (lambda: _first_rows, "one region"),
                    (lambda: _times_150, "missed the planted bug")])
def check_directional(answer) -> str:
    frame = checked_frame()
    cases = [Case(what, (model, frame), _verdict(expected, what), keep_inputs=True)
             for model, expected, what in STAND_INS]
    compare.function(answer, cases, what="your test")
    return ("That is a directional-expectation test: tests/test_model_behaviour.py runs one like "
            "it on the course's model.")


# 7.3 ----------------------------------------------------------------------

def _loans_sample() -> pd.DataFrame:
    rng = np.random.default_rng(73)
    n = 50
    return pd.DataFrame({"application_id": [f"A{i:04d}" for i in range(n)],
                         "loan_amount": np.round(rng.uniform(1_000, 30_000, n), 2),
                         "credit_score": np.where(rng.random(n) < 0.1, np.nan,
                                                  np.round(rng.normal(650, 50, n))),
                         "region": rng.choice(["north", "south", "east"], n),
                         "defaulted": rng.integers(0, 2, n)})


def _changed(frame: pd.DataFrame, column: str, value) -> pd.DataFrame:
    out = frame.copy()
    out.loc[out.index[7], column] = value
    return out


def _fingerprint_cases() -> list[tuple[str, pd.DataFrame, bool]]:
    """(what, a frame, must its fingerprint equal the original's)"""
    base = _loans_sample()
    twice = pd.concat([base, base.iloc[[3]]], ignore_index=True)
    return [
        ("the rows in another order", base.sample(frac=1, random_state=1), True),
        ("the columns in another order", base[base.columns[::-1]], True),
        ("the same rows with another index", base.set_axis(range(100, 150)), True),
        ("rows and columns both reordered", base.sample(frac=1, random_state=2)[base.columns[::-1]], True),
        ("one loan amount changed by 0.01", _changed(base, "loan_amount", base["loan_amount"].iloc[7] + 0.01), False),
        ("one region changed", _changed(base, "region", "west"), False),
        ("one missing credit score filled in", _changed(base, "credit_score", 600.0), False),
        ("one row duplicated", twice, False),
        ("one row added twice", pd.concat([base, base.iloc[[5, 5]]], ignore_index=True), False),
        ("one row removed", base.iloc[1:], False),
        ("a column renamed", base.rename(columns={"region": "regions"}), False),
    ]


def ref_fingerprint():
    def fingerprint(frame):
        ordered = frame[sorted(frame.columns)]
        rows = pd.util.hash_pandas_object(ordered, index=False).sort_values()
        header = ",".join(ordered.columns)
        return hashlib.sha256(header.encode() + rows.to_numpy().tobytes()).hexdigest()
    return fingerprint


def _with_index(frame):
    ordered = frame[sorted(frame.columns)]
    rows = pd.util.hash_pandas_object(ordered, index=True).sort_values()
    return hashlib.sha256(rows.to_numpy().tobytes()).hexdigest()


def _as_set(frame):
    ordered = frame[sorted(frame.columns)].drop_duplicates()
    rows = pd.util.hash_pandas_object(ordered, index=False).sort_values()
    return hashlib.sha256(",".join(ordered.columns).encode() + rows.to_numpy().tobytes()).hexdigest()


def _xor_of_rows(frame):
    ordered = frame[sorted(frame.columns)]
    rows = pd.util.hash_pandas_object(ordered, index=False).to_numpy()
    folded = np.bitwise_xor.reduce(rows) if len(rows) else np.uint64(0)
    return hashlib.sha256(",".join(ordered.columns).encode() + np.uint64(folded).tobytes()).hexdigest()


def _no_header(frame):
    ordered = frame[sorted(frame.columns)]
    rows = pd.util.hash_pandas_object(ordered, index=False).sort_values()
    return hashlib.sha256(rows.to_numpy().tobytes()).hexdigest()


@exercise("7.3", "A fingerprint that ignores order", workbook=WORKBOOK,
          hints=["Put the columns in a fixed order (sorted by name), hash each row with "
                 "`pd.util.hash_pandas_object(frame, index=False)`, then sort those row hashes.",
                 "Hash the sorted row hashes together with the column names (e.g. "
                 "`hashlib.sha256(names.encode() + hashes.to_numpy().tobytes()).hexdigest()`): "
                 "sorting makes order irrelevant, keeping every hash keeps duplicates."],
          reference=ref_fingerprint,
          mistakes=[(lambda: fingerprints.data_fingerprint, "another order"),
                    (lambda: _with_index, "another index"),
                    (lambda: _as_set, "duplicated"),
                    (lambda: _no_header, "renamed"),
                    (lambda: _xor_of_rows, "added twice")])
def check_fingerprint(answer) -> str:
    base = _loans_sample()

    def verify_against(original: str, same: bool, what: str):
        def verify(result):
            if not isinstance(result, str):
                raise Wrong(f"expected the fingerprint as text (a hex digest), got {compare.describe(result)}")
            if same and result != original:
                raise Wrong(f"{what} should give the same fingerprint: the data did not change")
            if not same and result == original:
                raise Wrong(f"{what} gave the same fingerprint: a real change went unseen")
        return verify

    compare.function(answer, [Case("the sample", (base,), lambda r: None, keep_inputs=True)],
                     what="your fingerprint")
    original = answer(base.copy())
    if not isinstance(original, str):
        raise Wrong(f"expected the fingerprint as text (a hex digest), got {compare.describe(original)}")
    cases = [Case(what, (frame,), verify_against(original, same, what), keep_inputs=True)
             for what, frame, same in _fingerprint_cases()]
    compare.function(answer, cases, what="your fingerprint")
    return ("Order-free and duplicate-aware. The course's fingerprints.data_fingerprint keeps row order on "
            "purpose: for the boosting model, order changes the model.")


# 7.4 ----------------------------------------------------------------------

MARGIN = 1.0  # units per application the candidate must save, at 95%
MAX_AUC_DROP = 0.005
MAX_GAP = 0.10


def bootstrap_upper(differences, confidence: float = 0.95, resamples: int = 2000, seed: int = 0) -> float:
    """The paired bootstrap's upper bound of the mean of ``differences`` (candidate minus champion,
    per application): 95 times in 100, the true mean difference is below it."""
    d = np.asarray(differences, float)
    rows = np.random.default_rng(seed).integers(0, d.size, (resamples, d.size))
    return float(np.quantile(d[rows].mean(axis=1), confidence))


def ref_gate(candidate: dict, champion: dict | None) -> bool:
    if candidate["parity_gap"] > MAX_GAP:
        return False
    if champion is None:
        return True
    differences = np.asarray(candidate["costs"]) - np.asarray(champion["costs"])
    surely_cheaper = bootstrap_upper(differences) < -MARGIN
    return surely_cheaper and candidate["auc"] >= champion["auc"] - MAX_AUC_DROP


def _costs(seed: int, n: int = 2000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.where(rng.random(n) < 0.1, 5000.0, np.where(rng.random(n) < 0.1, 1000.0, 0.0))


BASE = _costs(74)
NOISE = np.random.default_rng(75).normal(0, 400, BASE.size)
CHAMPION = {"costs": BASE, "auc": 0.875, "parity_gap": 0.08}


def _cand(costs, auc=0.875, gap=0.08) -> dict:
    return {"costs": np.asarray(costs, float), "auc": auc, "parity_gap": gap}


GATE_CASES = [  # (what, candidate, champion, promote?)
    ("a candidate surely cheaper by 20 per application", _cand(BASE - 20), CHAMPION, True),
    ("a candidate surely cheaper by 0.5, less than the margin", _cand(BASE - 0.5), CHAMPION, False),
    ("a candidate saving exactly the margin, surely", _cand(BASE - MARGIN), CHAMPION, False),
    ("a candidate cheaper by 10 on average, within the noise", _cand(BASE - 10 + NOISE), CHAMPION, False),
    ("a candidate 0.1% dearer", _cand(BASE * 1.001), CHAMPION, False),
    ("a cheaper candidate whose AUC is exactly 0.005 lower", _cand(BASE - 20, auc=0.870), CHAMPION, True),
    ("a cheaper candidate whose AUC is 0.0052 lower", _cand(BASE - 20, auc=0.8698), CHAMPION, False),
    ("a cheaper candidate with a refusal-rate gap of exactly 0.10", _cand(BASE - 20, gap=0.10), CHAMPION, True),
    ("a cheaper candidate with a refusal-rate gap of 0.12", _cand(BASE - 20, gap=0.12), CHAMPION, False),
    ("a first model, with no champion yet, and fair", _cand(BASE + 300, auc=0.80, gap=0.06), None, True),
    ("a first model, with no champion yet, but a gap of 0.15", _cand(BASE, gap=0.15), None, False),
]


def _gate_verdict(expected: bool, what: str):
    def verify(result):
        if not isinstance(result, (bool, np.bool_)):
            raise Wrong(f"expected True (promote) or False, got {compare.describe(result)}")
        if bool(result) != expected:
            raise Wrong(f"your gate says {'promote' if result else 'do not promote'} for {what}, "
                        "which the policy does not")
    return verify


def _point_estimate(candidate, champion):
    if candidate["parity_gap"] > MAX_GAP:
        return False
    if champion is None:
        return True
    saving = np.mean(champion["costs"]) - np.mean(candidate["costs"])
    return saving > MARGIN and candidate["auc"] >= champion["auc"] - MAX_AUC_DROP


def _no_margin(candidate, champion):
    if candidate["parity_gap"] > MAX_GAP:
        return False
    if champion is None:
        return True
    differences = np.asarray(candidate["costs"]) - np.asarray(champion["costs"])
    return bootstrap_upper(differences) < 0 and candidate["auc"] >= champion["auc"] - MAX_AUC_DROP


def _loose_auc(candidate, champion):
    if candidate["parity_gap"] > MAX_GAP:
        return False
    if champion is None:
        return True
    differences = np.asarray(candidate["costs"]) - np.asarray(champion["costs"])
    return bootstrap_upper(differences) < -MARGIN and candidate["auc"] >= champion["auc"] - 0.0055


def _fairness_only_with_champion(candidate, champion):
    if champion is None:
        return True
    return ref_gate(candidate, champion)


@exercise("7.4", "A promotion gate that asks for evidence", workbook=WORKBOOK,
          hints=["Fairness first: it applies whether or not there is a champion (`parity_gap` above "
                 "MAX_GAP refuses).",
                 "With a champion: the differences are `candidate[\"costs\"] - champion[\"costs\"]`, "
                 "application by application (the same applicants, in the same order). "
                 "`bootstrap_upper(differences)` is how high the mean difference may really be.",
                 "Promote only if that upper bound is below -MARGIN (a saving beyond the margin, "
                 "surely) and the AUC is at least the champion's minus MAX_AUC_DROP."],
          reference=lambda: ref_gate,
          mistakes=[(lambda: _point_estimate, "within the noise"),
                    (lambda: _no_margin, "less than the margin"),
                    (lambda: _loose_auc, "0.0052 lower"),
                    (lambda: _fairness_only_with_champion, "no champion yet, but")],
          mutate=ref_gate)
def check_gate(answer) -> str:
    cases = [Case(what, (candidate, champion), _gate_verdict(expected, what))
             for what, candidate, champion, expected in GATE_CASES]
    compare.function(answer, cases, what="your gate", seconds=20)
    return ("lender/mlops/gates.py is the same gate, with every reason reported, the costs "
            "weighted when the outcomes came from a holdout, and no wider refusal gap than the champion's.")


# 7.5 ----------------------------------------------------------------------

SCENARIOS = {
    "a": "A data scientist retrains in a notebook every quarter and emails the model file to "
         "the operations team, who copy it onto the server.",
    "b": "Training is a script in git; an engineer runs it by hand, logs the run in MLflow and "
         "moves the registry alias to deploy.",
    "c": "A pipeline retrains, validates, gates and deploys the model on a schedule and when "
         "monitoring sees drift; changes to the pipeline's own code are deployed by hand.",
    "d": "Every change to the pipeline's code is built and tested by CI, and CD deploys the new "
         "pipeline, which then retrains and deploys models on its own triggers.",
    "e": "A nightly job retrains on the latest data, validates the data and compares the new model "
         "with the serving one, and deploys it only if it passes; the job's code is copied onto the "
         "server by hand.",
}
LEVELS = {"a": 0, "b": 0, "c": 1, "d": 2, "e": 1}
WHY = {  # what to look at again, without the level
    "a": "look again at a: which of its steps runs without a person?",
    "b": "look again at b: the tools are good, but which step starts without a person?",
    "c": "look again at c: what is automated, the training of models, or also the delivery of the "
         "pipeline's own code?",
    "d": "look again at d: who delivers a change to the pipeline's code, a person or CI/CD?",
    "e": "look again at e: does the training pipeline run on its own, with data and model validation "
         "inside it, and who delivers its code?",
}


@exercise("7.5", "Place scenarios on the maturity levels", workbook=WORKBOOK,
          hints=["Level 0: every step is manual. Level 1: the *training pipeline* runs on its own "
                 "(continuous training), with data and model validation inside it. Level 2: the "
                 "*pipeline's code* is built, tested and deployed by CI/CD too.",
                 "Judge what is automated, not which tools are used."],
          reference=lambda: dict(LEVELS),
          mistakes=[(lambda: {**LEVELS, "b": 1}, "look again at b"),
                    (lambda: {**LEVELS, "e": 2}, "look again at e"),
                    (lambda: {**LEVELS, "c": 2}, "look again at c")])
def check_levels(answer) -> str:
    if is_blank(answer):
        raise Unanswered()
    if not isinstance(answer, dict):
        raise Wrong(f"expected a dict from scenario letter to level, e.g. {{'a': 0, ...}}, "
                    f"got {compare.describe(answer)}")
    if any(is_blank(v) for v in answer.values()):
        raise Unanswered()
    missing = sorted(set(LEVELS) - set(answer))
    if missing:
        raise Wrong(f"your answer lacks the scenario {missing[0]!r}")
    for key in sorted(LEVELS):
        level = answer[key]
        if isinstance(level, bool) or not isinstance(level, (int, np.integer)) or level not in (0, 1, 2):
            raise Wrong(f"the level of scenario {key!r} should be 0, 1 or 2, got {compare.describe(level)}")
        if int(level) != LEVELS[key]:
            raise Wrong(WHY[key])
    return "Most teams are at level 0 or 1; level 2 pays off when pipelines change often."


# 7.6 ----------------------------------------------------------------------

def version_data(project: Path, remote: Path, data: Path = DATA_FILE) -> str:
    """The reference steps of 7.6: a DVC project without git, analytics off, a local remote, the
    data added and pushed, then deleted (file and cache) and pulled back. Returns its md5."""
    from dvc.repo import Repo

    repo = Repo.init(str(project), no_scm=True)
    with repo.config.edit() as config:
        config["core"]["analytics"] = False
        config["core"]["remote"] = "local"
        config["remote"]["local"] = {"url": str(remote)}
    target = Path(project) / data.name
    shutil.copy(data, target)
    repo.add(str(target))
    repo.push()
    target.unlink()
    shutil.rmtree(Path(project) / ".dvc" / "cache")
    Repo(str(project)).pull()
    return _dvc_md5(Path(project) / f"{data.name}.dvc")


def _dvc_md5(dvc_file: Path) -> str:
    import yaml

    return yaml.safe_load(dvc_file.read_text())["outs"][0]["md5"]


@cache
def _reference_project() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="ch07-check-dvc-"))
    version_data(folder / "project", folder / "remote")
    return folder / "project"


def _changed_project(change) -> Path:
    copy = Path(tempfile.mkdtemp(prefix="ch07-check-dvc-")) / "project"
    shutil.copytree(_reference_project(), copy)
    change(copy)
    return copy


def _analytics_on(project: Path) -> None:
    config = project / ".dvc" / "config"
    config.write_text(config.read_text().replace("analytics = False", "analytics = True"))


def _never_pushed(project: Path) -> None:
    remote = project.parent / "remote-empty"
    remote.mkdir()
    config = project / ".dvc" / "config"
    text = config.read_text()
    old = _remote_of(project)
    config.write_text(text.replace(str(old), str(remote)))


def _remote_of(project: Path) -> Path | None:
    from dvc.repo import Repo

    config = Repo(str(project)).config
    name = config["core"].get("remote")
    url = config["remote"].get(name, {}).get("url") if name else None
    return Path(url) if url else None


@exercise("7.6", "Version the data with DVC on a local remote", workbook=WORKBOOK,
          hints=["`from dvc.repo import Repo`; `repo = Repo.init(str(project), no_scm=True)` (no git "
                 "needed); then, in `with repo.config.edit() as config:`, set "
                 "`config[\"core\"][\"analytics\"] = False`, a remote `config[\"remote\"][\"local\"] = "
                 "{\"url\": str(remote)}` and `config[\"core\"][\"remote\"] = \"local\"`.",
                 "Copy the data file into the project, `repo.add(str(path))`, then `repo.push()`.",
                 "Delete the file and `.dvc/cache`, then `Repo(str(project)).pull()` brings it back "
                 "from the remote."],
          reference=_reference_project,
          mistakes=[(lambda: _changed_project(_analytics_on), "analytics"),
                    (lambda: _changed_project(_never_pushed), "push"),
                    (lambda: _changed_project(lambda p: (p / DATA_FILE.name).unlink()), "pull it back"),
                    (lambda: _folder_with("data"), "not a DVC project")])
def check_dvc(answer) -> str:
    if is_blank(answer):
        raise Unanswered()
    if not isinstance(answer, (str, Path)):
        raise Wrong(f"expected the folder of your DVC project (a path), got {compare.describe(answer)}")
    project = Path(answer)
    if project.is_dir() and not any(project.iterdir()):
        raise Unanswered()  # the folder is still as the exercise made it
    if not (project / ".dvc" / "config").is_file():
        raise Wrong(f"{project} is not a DVC project (no .dvc/config): start with Repo.init")
    from dvc.repo import Repo

    config = Repo(str(project)).config
    if config["core"].get("analytics", True) is not False:
        raise Wrong("DVC's analytics are still on: set core.analytics to False before anything else")
    remote = _remote_of(project)
    if remote is None or not remote.is_dir():
        raise Wrong("no local remote is configured as the default (core.remote), or its folder does not exist")
    target, dvc_file = project / DATA_FILE.name, project / f"{DATA_FILE.name}.dvc"
    if not dvc_file.is_file():
        raise Wrong(f"no {dvc_file.name}: add the data file with repo.add")
    md5 = _dvc_md5(dvc_file)
    if not (remote / "files" / "md5" / md5[:2] / md5[2:]).is_file():
        raise Wrong("the remote does not hold the data: push it (repo.push) after adding it")
    if not target.is_file():
        raise Wrong(f"{target.name} is not in the project: pull it back from the remote (repo.pull)")
    if fingerprints.file_sha256(target) != fingerprints.file_sha256(DATA_FILE):
        raise Wrong(f"{target.name} in the project is not the course's data file")
    return (f"The data is versioned by its md5 ({md5[:12]}...), pushed and restored. The course keeps "
            "a SHA-256 of the same file in data/SHA256SUMS, which load_loans checks.")
