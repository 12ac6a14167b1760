"""Checks for the workbook of chapter 8, "Responsible AI".

References that need the model (8.2, 8.3, 8.4, 8.7) use the course's model
from the model cache, trained on 2019-2020 with the course's own functions.
Functions the learner writes (8.2, 8.3, 8.5, 8.7) run on cases the workbook
does not show; 8.4's alternative is judged on the test year 2022, which the
workbook never touches (the hidden data).
"""
from __future__ import annotations

import math
import re
from functools import cache

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from mlecourse.lender import business, features
from mlecourse.lender.modeling import model_cache
from mlecourse.lender.responsible import alternatives, fairness, mitigation, privacy
from mlecourse.lender.data.loading import load_loans
from . import compare
from .blank import is_blank
from .core import exercise
from .result import Unanswered, Wrong

WORKBOOK = "08_ethics.ipynb"


@cache
def _data():
    """The cleaned loans split by time, and the course's model trained on 2019-2020."""
    loans, _ = features.clean_loans(load_loans())
    train, valid, test = features.split_by_date(loans)
    with threadpool_limits(limits=1):
        model = model_cache.trained(train, "boosting")
    return train, valid, test, model


def _expect_dict(answer, keys: tuple[str, ...]) -> dict:
    if is_blank(answer):
        raise Unanswered()
    if not isinstance(answer, dict):
        raise Wrong(f"expected a dict with keys {', '.join(map(repr, keys))}, got {compare.describe(answer)}")
    missing = [k for k in keys if k not in answer]
    if missing:
        raise Wrong(f"the dict has no {', '.join(map(repr, missing))} entry")
    return answer


def _rounded_number(value, expected: float, what: str, rel: float = 0.01) -> None:
    """A number right to about two significant decimals; a coarser rounding is named as such."""
    got = compare.as_number(value, what)
    if math.isclose(got, expected, rel_tol=rel):
        return
    if math.isclose(got, expected, rel_tol=0.08) and round(got, 1) == got:
        raise Wrong(f"{what} is rounded too coarsely: give more decimals (two are enough)")
    compare.number(got, expected, what=what, rel=rel)


def _expect_bool(value, what: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise Wrong(f"expected True or False for {what}, got {compare.describe(value)}")
    return bool(value)


# 8.1 ----------------------------------------------------------------------

# One branch's 2022 decisions (the workbook shows the same table).
BRANCH = {"majority": {"applicants": 400, "approved": 340},
          "minority": {"applicants": 120, "approved": 95}}


def _branch_decisions() -> tuple[np.ndarray, np.ndarray]:
    """One row per applicant of BRANCH: the group, and True where refused."""
    groups, refused = [], []
    for name, c in BRANCH.items():
        groups += [name] * c["applicants"]
        refused += [False] * c["approved"] + [True] * (c["applicants"] - c["approved"])
    return np.array(groups), np.array(refused)


def ref_rates() -> dict:
    from fairlearn.metrics import MetricFrame

    groups, refused = _branch_decisions()
    approval = MetricFrame(metrics=lambda y, r: float(np.mean(~r)), y_true=refused, y_pred=refused,
                           sensitive_features=groups).by_group
    ratio = float(approval["minority"] / approval["majority"])
    return {"majority": float(approval["majority"]), "minority": float(approval["minority"]),
            "ratio": ratio, "passes": ratio >= fairness.FOUR_FIFTHS}


def _refusal_rates() -> dict:
    r = ref_rates()
    majority, minority = 1 - r["majority"], 1 - r["minority"]
    return {"majority": majority, "minority": minority, "ratio": minority / majority, "passes": False}


@exercise("8.1", "Approval rates and the disparate-impact ratio", workbook=WORKBOOK,
          hints=["An approval rate is approved / applicants, for each group separately.",
                 "The disparate-impact ratio puts the group with the lower approval rate on top: "
                 "minority rate / majority rate.",
                 "The four-fifths screen passes when that ratio is at least 0.8."],
          reference=ref_rates,
          mistakes=[(_refusal_rates, "refusal"),
                    (lambda: {**ref_rates(), "ratio": 1 / ref_rates()["ratio"]}, "the other way round"),
                    (lambda: {**ref_rates(), "passes": not ref_rates()["passes"]}, "four-fifths"),
                    (lambda: {**ref_rates(), "majority": 85.0, "minority": 79.2}, "fractions"),
                    (lambda: {**ref_rates(), "ratio": 0.9}, "more decimals")])
def check_rates(answer) -> str:
    answer = _expect_dict(answer, ("majority", "minority", "ratio", "passes"))
    want = ref_rates()
    got = {k: compare.as_number(answer[k], repr(k)) for k in ("majority", "minority", "ratio")}
    if got["majority"] > 1 or got["minority"] > 1:
        raise Wrong("give the rates as fractions between 0 and 1, not percentages")
    refusal = _refusal_rates()
    if math.isclose(got["majority"], refusal["majority"], rel_tol=0.02):
        raise Wrong("those are refusal rates; the ratio is about the favourable outcome, approval")
    for key in ("majority", "minority"):
        _rounded_number(got[key], want[key], f"the {key} approval rate")
    if math.isclose(got["ratio"], 1 / want["ratio"], rel_tol=0.01):
        raise Wrong("the ratio is the other way round: the lower approval rate goes on top")
    _rounded_number(got["ratio"], want["ratio"], "the ratio")
    if _expect_bool(answer["passes"], "'passes'") != want["passes"]:
        raise Wrong("look again at the four-fifths screen: it passes when the ratio is at least 0.8")
    return ("Right. This branch passes the screen; the chapter's audit shows why passing it "
            "does not settle whether the model is fair.")


# 8.2 ----------------------------------------------------------------------

LEVEL = 0.95
CHECK_RESAMPLES = 3000  # the check runs your function with this many resamples, so chance moves the ends little
REFERENCE_RESAMPLES = 20_000


def ref_gap_interval(refused, groups, level=0.95, n_boot=2000, seed=0):
    """Percentile bootstrap interval of the minority-minus-majority refusal rate, within each group."""
    refused = np.asarray(refused, dtype=float)
    groups = np.asarray(groups)
    rng = np.random.default_rng(seed)
    minority = np.flatnonzero(groups == "minority")
    others = np.flatnonzero(groups != "minority")

    def rates(rows):
        return refused[rows][rng.integers(0, len(rows), size=(n_boot, len(rows)))].mean(axis=1)

    gaps = rates(minority) - rates(others)
    low, high = np.quantile(gaps, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def _slice(column: str, value: str) -> tuple[np.ndarray, np.ndarray]:
    """The course model's 2022 refusals and groups, for the applicants with ``column == value``."""
    _, _, test, model = _data()
    rows = test[test[column] == value]
    X, _ = features.features_and_target(rows)
    return model.predict_proba(X)[:, 1] > business.COSTS.threshold, rows["ethnicity"].to_numpy()


def _branch() -> tuple[np.ndarray, np.ndarray]:
    """A small branch, made up: 90 majority applicants (12 refused) and 30 minority (8 refused)."""
    groups = np.repeat(["majority", "minority"], [90, 30])
    refused = np.r_[np.ones(12), np.zeros(78), np.ones(8), np.zeros(22)].astype(bool)
    return refused, groups


INTERVAL_CASES = (("the south region of 2022 (the workbook's)", ("region", "south"), LEVEL),
                  ("the east region of 2022", ("region", "east"), LEVEL),
                  ("applications through a broker in 2022", ("channel", "broker"), LEVEL),
                  ("a small branch, at 90%", None, 0.90))


def _case_data(where):
    return _branch() if where is None else _slice(*where)


@cache
def _interval_truth(where, level: float) -> dict:
    """The bootstrap interval with many resamples (what any right function approaches), and its spread."""
    refused, groups = _case_data(where)
    refused, groups = np.asarray(refused, dtype=float), np.asarray(groups)
    rng = np.random.default_rng(12345)
    inside, outside = np.flatnonzero(groups == "minority"), np.flatnonzero(groups != "minority")
    gaps = []
    for _ in range(REFERENCE_RESAMPLES // 2000):  # in chunks: one draw of 20,000 x 2,000 would take 300 MB
        gaps.append(refused[inside][rng.integers(0, len(inside), (2000, len(inside)))].mean(axis=1)
                    - refused[outside][rng.integers(0, len(outside), (2000, len(outside)))].mean(axis=1))
    gaps = np.concatenate(gaps)
    low, high = np.quantile(gaps, [(1 - level) / 2, (1 + level) / 2])
    return {"low": float(low), "high": float(high), "sd": float(gaps.std())}


def _two_numbers(result) -> tuple[float, float]:
    if isinstance(result, dict) and {"low", "high"} <= set(result):
        result = (result["low"], result["high"])
    if not isinstance(result, (tuple, list, np.ndarray)) or len(result) != 2:
        raise Wrong(f"expected the interval as two numbers (low, high), got {compare.describe(result)}")
    return compare.as_number(result[0], "the low end"), compare.as_number(result[1], "the high end")


def _interval_case(name, where, level) -> compare.Case:
    refused, groups = (pd.Series(values) for values in _case_data(where))
    shown = INTERVAL_CASES[0]

    def verify(result):
        low, high = _two_numbers(result)
        truth = _interval_truth(where, level)
        sd, width = truth["sd"], truth["high"] - truth["low"]
        near = lambda a, b: abs(a - b) <= 0.2 * sd  # chance moves an end by about 0.05 sd
        if low > high:
            raise Wrong("the low end is above the high end")
        if where != shown[1]:
            south = _interval_truth(shown[1], shown[2])
            if abs(low - south["low"]) < 0.002 and abs(high - south["high"]) < 0.002:
                raise Wrong("it gives the south's interval for another slice: use the decisions and "
                            "groups the function is given, not the notebook's variables")
        if near(low, -truth["high"]) and near(high, -truth["low"]) and not near(low, truth["low"]):
            raise Wrong("the interval is the mirror image of the right one: the gap is the minority's "
                        "refusal rate minus the majority's")
        ratio = (high - low) / width
        middle, want_middle = (low + high) / 2, (truth["low"] + truth["high"]) / 2
        if abs(middle - want_middle) > 0.2 * sd:
            raise Wrong("the interval is not where this slice's gap is: count 1 as refused, the minority "
                        "first, and resample each group's own applicants")
        if ratio < 0.93 or ratio > 1.07:
            narrow = f"{'narrower' if ratio < 1 else 'wider'} than a {level:.0%} interval"
            if level != LEVEL and abs(ratio - _width_ratio(LEVEL, level)) < 0.07:
                raise Wrong(f"it is {narrow}: it gives a {LEVEL:.0%} interval whatever `level` it is asked for")
            raise Wrong(f"it is {narrow}: at level {level:g} take the {(1 - level) / 2:g} and "
                        f"{(1 + level) / 2:g} quantiles of the resampled gaps")
        if not (near(low, truth["low"]) and near(high, truth["high"])):
            raise Wrong("its ends are off: resample each group's applicants with replacement, the "
                        "group's own size each time")
    return compare.Case(name, (refused, groups), verify, {"level": level, "n_boot": CHECK_RESAMPLES, "seed": 1},
                        keep_inputs=True)


def _width_ratio(given: float, asked: float) -> float:
    """How much wider a ``given`` interval is than an ``asked`` one, for a bell-shaped spread."""
    from scipy.stats import norm
    return float(norm.ppf((1 + given) / 2) / norm.ppf((1 + asked) / 2))


def _ninety(refused, groups, level=0.95, n_boot=2000, seed=0):
    return ref_gap_interval(refused, groups, 0.90, n_boot, seed)


def _fixed_level(refused, groups, level=0.95, n_boot=2000, seed=0):
    return ref_gap_interval(refused, groups, 0.95, n_boot, seed)


def _the_south_always(refused, groups, level=0.95, n_boot=2000, seed=0):
    return ref_gap_interval(*_slice("region", "south"), level, n_boot, seed)


def _mirrored(refused, groups, level=0.95, n_boot=2000, seed=0):
    low, high = ref_gap_interval(refused, groups, level, n_boot, seed)
    return -high, -low


def _rounded_interval(refused, groups, level=0.95, n_boot=2000, seed=0):
    low, high = ref_gap_interval(refused, groups, level, n_boot, seed)
    return round(low, 3), round(high, 3)


@exercise("8.2", "Is the gap noise? Write the bootstrap", workbook=WORKBOOK,
          hints=["Split the rows by group first: `np.flatnonzero(groups == 'minority')` and the rest. "
                 "Resample each group's rows with replacement, its own number of rows each time.",
                 "One resample of a group: `rng.integers(0, len(rows), size=len(rows))` picks positions; "
                 "the refusal rate is the mean of `refused` at them. Do it `n_boot` times (a 2-D "
                 "`size=(n_boot, len(rows))` does all at once).",
                 "The gap of each resample is the minority's rate minus the majority's; the interval is "
                 "`np.quantile(gaps, [(1 - level) / 2, (1 + level) / 2])`."],
          reference=lambda: ref_gap_interval,
          mistakes=[(lambda: _ninety, "quantiles"), (lambda: _fixed_level, "whatever `level`"),
                    (lambda: _the_south_always, "not the notebook's variables"),
                    (lambda: _mirrored, "mirror image")],
          rounded=[lambda: _rounded_interval],
          mutate=ref_gap_interval,
          equivalent={
              "`groups == 'minority'` -> `__normalised__(groups) == 'minority'`":
                  "the groups arrive as a numpy array, which the normalisation leaves as it is",
              "`groups != 'minority'` -> `__normalised__(groups) != 'minority'`":
                  "the groups arrive as a numpy array, which the normalisation leaves as it is"})
def check_gap_interval(answer) -> str:
    compare.function(answer, [_interval_case(*case) for case in INTERVAL_CASES], what="your function",
                     seconds=20, overtime="3,000 resamples of a few thousand applicants take a second "
                                          "with numpy; a Python loop over applicants takes far longer")
    truth = _interval_truth(*INTERVAL_CASES[0][1:])
    verdict = "clear of noise" if truth["low"] > 0 or truth["high"] < 0 else "not clear of noise: it contains 0"
    return (f"Right. The south's 95% interval, {truth['low']:.3f} to {truth['high']:.3f}, is {verdict}; "
            "too few applicants to tell is not a clean bill of health.")


# 8.3 ----------------------------------------------------------------------

def ref_proxy_auc(train_values, train_in_group, test_values, test_in_group):
    """How well one column alone predicts the group on the test rows: a folded ROC AUC."""
    from sklearn.metrics import roc_auc_score

    train_values, test_values = pd.Series(train_values), pd.Series(test_values)
    in_train = np.asarray(train_in_group, dtype=bool)
    if pd.api.types.is_numeric_dtype(train_values):
        score = test_values.fillna(train_values.median())
    else:
        share = pd.Series(in_train).groupby(train_values.fillna("missing").to_numpy()).mean()
        score = test_values.fillna("missing").map(share).fillna(in_train.mean())
    auc = roc_auc_score(np.asarray(test_in_group, dtype=bool), score.to_numpy(float))
    return max(auc, 1 - auc)


def _unfolded(train_values, train_in_group, test_values, test_in_group):
    """The AUC as it comes: under 0.5 for a number that is lower for the group."""
    from sklearn.metrics import roc_auc_score

    train_values, test_values = pd.Series(train_values), pd.Series(test_values)
    if not pd.api.types.is_numeric_dtype(train_values):
        return ref_proxy_auc(train_values, train_in_group, test_values, test_in_group)
    return roc_auc_score(np.asarray(test_in_group, bool), test_values.fillna(train_values.median()))


def _shares_on_test(train_values, train_in_group, test_values, test_in_group):
    """Each category's share learnt on the rows it scores."""
    return ref_proxy_auc(test_values, test_in_group, test_values, test_in_group)


def _unseen_as_zero(train_values, train_in_group, test_values, test_in_group):
    """A category the training rows never saw scored 0 instead of the overall share."""
    from sklearn.metrics import roc_auc_score

    train_values, test_values = pd.Series(train_values), pd.Series(test_values)
    if pd.api.types.is_numeric_dtype(train_values):
        return ref_proxy_auc(train_values, train_in_group, test_values, test_in_group)
    share = pd.Series(np.asarray(train_in_group, bool)).groupby(train_values.fillna("missing").to_numpy()).mean()
    auc = roc_auc_score(np.asarray(test_in_group, bool), test_values.fillna("missing").map(share).fillna(0.0))
    return max(auc, 1 - auc)


def _rounded_auc(train_values, train_in_group, test_values, test_in_group):
    return round(ref_proxy_auc(train_values, train_in_group, test_values, test_in_group), 3)


def _proxy_cases() -> list[compare.Case]:
    rng = np.random.default_rng(83)
    n = 3000
    in_train, in_test = rng.random(n) < 0.25, rng.random(n) < 0.25
    # a number that is LOWER for the group (folding matters), with a few missing values
    low_for_group = lambda g: pd.Series(np.where(g, 640, 680) + rng.normal(0, 40, len(g))).mask(rng.random(len(g)) < 0.05)
    places = np.array(["A", "B", "C", "D"])
    def place(g, extra=False):
        p = np.where(g, rng.choice(places, len(g), p=[0.5, 0.3, 0.1, 0.1]), rng.choice(places, len(g), p=[0.1, 0.2, 0.35, 0.35]))
        if extra:  # a district the training rows never saw
            p = np.where(rng.random(len(g)) < 0.08, "E", p)
        return pd.Series(p, dtype=object)
    train_frame, test_frame = _data()[0], _data()[2]

    def case(name, train_values, train_in, test_values, test_in):
        args = (train_values, train_in, test_values, test_in)
        expected = ref_proxy_auc(*args)
        if pd.api.types.is_numeric_dtype(pd.Series(train_values)):
            known = {"it fills a missing value with the median of the rows it scores: use the training "
                     "rows' median, as a model would": _shares_on_test(*args)}
        else:
            known = {"it learns each category's share on the rows it scores: learn the shares on the "
                     "training rows only, as a model would": _shares_on_test(*args),
                     "a category the training rows never saw gets the training rows' overall share of "
                     "the group, not 0": _unseen_as_zero(*args)}

        def verify(result):
            value = compare.as_number(result, "the AUC your function returns")
            if math.isclose(value, expected, abs_tol=5e-4):
                return
            if math.isclose(value, 1 - expected, abs_tol=5e-4) and expected > 0.5:
                raise Wrong("it gives an AUC under 0.5 for a column that is lower for the group: such a "
                            "column reveals the group as well; fold it (max of auc and 1 - auc)")
            for message, wrong in known.items():
                if not math.isclose(wrong, expected, abs_tol=5e-4) and math.isclose(value, wrong, abs_tol=5e-4):
                    raise Wrong(message)
            compare.number(value, expected, what="the AUC", places=3)
        return compare.Case(name, args, verify, keep_inputs=True)

    in_train, in_test = pd.Series(in_train), pd.Series(in_test)
    is_minority = lambda frame: (frame["ethnicity"] == "minority").reset_index(drop=True)
    column = lambda frame, name: frame[name].reset_index(drop=True)
    return [
        case("a score that is lower for the group, with missing values", low_for_group(in_train), in_train,
             low_for_group(in_test), in_test),
        case("a district, with one the training rows never saw", place(in_train), in_train,
             place(in_test, extra=True), in_test),
        case("loan_purpose, 2019-2020 then 2022", column(train_frame, "loan_purpose"), is_minority(train_frame),
             column(test_frame, "loan_purpose"), is_minority(test_frame)),
        case("employment_type (with missing values), 2019-2020 then 2022", column(train_frame, "employment_type"),
             is_minority(train_frame), column(test_frame, "employment_type"), is_minority(test_frame)),
    ]


@exercise("8.3", "Find the proxy: write the measure", workbook=WORKBOOK,
          hints=["A number column scores each test applicant by its value (missing: the training "
                 "median); `roc_auc_score(test_in_group, score)`.",
                 "A text column scores each applicant by their category's share of the group in the "
                 "*training* rows: `pd.Series(train_in_group).groupby(train_values.to_numpy()).mean()`, "
                 "then `.map` it onto the test values; a category the training rows never saw (or a "
                 "missing one) gets the training rows' overall share.",
                 "An AUC of 0.3 reveals the group as well as 0.7: return `max(auc, 1 - auc)`."],
          reference=lambda: ref_proxy_auc,
          mistakes=[(lambda: _unfolded, "fold it"), (lambda: _shares_on_test, "rows it scores"),
                    (lambda: _unseen_as_zero, "not 0")],
          rounded=[lambda: _rounded_auc],
          mutants=[(lambda: _shares_on_test, "learns the shares on the rows it scores"),
                   (lambda: _unseen_as_zero, "gives an unseen district a share of 0")])
def check_proxy_auc(answer) -> str:
    compare.function(answer, _proxy_cases(), what="your function")
    return ("Right; `fairness.proxy_strength` does the same for many columns. Run yours on every input: "
            "the strongest is the lender's own legacy price.")


# 8.4 ----------------------------------------------------------------------

# On the hidden year 2022, against the course model: a gap at least a quarter smaller, for at most 2% more cost.
LDA_POLICY = {"max_gap_share": 0.75, "max_extra_cost": 0.02}


def _parts(answer) -> tuple[object, dict, float]:
    """(model, inputs held fixed, threshold) of an answer: a dict or an alternatives.Alternative."""
    from fairlearn.postprocessing import ThresholdOptimizer

    if is_blank(answer):
        raise Unanswered()
    if isinstance(answer, ThresholdOptimizer) or isinstance(getattr(answer, "model", None), ThresholdOptimizer) \
            or (isinstance(answer, dict) and isinstance(answer.get("model"), ThresholdOptimizer)):
        raise Wrong("a threshold optimizer needs the group at decision time: that is disparate treatment "
                    "under US credit law; search among models that decide from the application alone")
    if isinstance(answer, alternatives.Alternative):
        return answer.model, dict(answer.fills), float(answer.threshold)
    if not isinstance(answer, dict) or "model" not in answer or "threshold" not in answer:
        raise Wrong("expected {'model': a fitted model, 'threshold': a number, 'fixed': {input: value}} "
                    f"(or an alternatives.Alternative), got {compare.describe(answer)}")
    if is_blank(answer["model"]) or is_blank(answer["threshold"]):
        raise Unanswered()
    fixed = answer.get("fixed") or {}
    if not isinstance(fixed, dict):
        raise Wrong("'fixed' maps each input left out to the one value it is held at, e.g. "
                    "{'interest_rate': 12.0}")
    return answer["model"], dict(fixed), compare.as_number(answer["threshold"], "the threshold")


def _columns(model) -> list[str]:
    names = getattr(model, "feature_names_in_", None)
    if names is None or not hasattr(model, "predict_proba"):
        raise Wrong("the model must be fitted on a DataFrame of application columns and have predict_proba")
    return [str(n) for n in names]


def _scores(model, fixed: dict, frame: pd.DataFrame) -> np.ndarray:
    X = frame.assign(**fixed) if fixed else frame
    return model.predict_proba(X[_columns(model)])[:, 1]


def _fitted_on(model, fixed: dict) -> str | None:
    """Which rows the model's recipe, refitted, reproduces it on: 'train', 'test', 'valid' or None."""
    from sklearn.base import clone

    train, valid, test, _ = _data()
    probe = test.sample(300, random_state=4)
    mine = _scores(model, fixed, probe)
    for name, rows in (("train", train), ("test", test), ("valid", valid)):
        X = rows.assign(**fixed) if fixed else rows
        try:
            with threadpool_limits(limits=1):
                again = clone(model).fit(X[_columns(model)], rows[features.TARGET])
        except Exception:  # a recipe that cannot be refitted: judged on the hidden year only
            return "unknown"
        if np.allclose(_scores(again, fixed, probe), mine, atol=1e-9):
            return name
    return None


def _baseline_2022() -> dict:
    _, _, test, model = _data()
    X, y = features.features_and_target(test)
    refuse = model.predict_proba(X)[:, 1] > business.COSTS.threshold
    return {"cost": business.decision_cost(y, refuse),
            "gap": fairness.disparities(y, refuse, test["ethnicity"])["approval_gap"]}


def check_alternative_answer(answer) -> str:
    model, fixed, threshold = _parts(answer)
    columns = _columns(model)
    if "ethnicity" in columns or "ethnicity" in fixed:
        raise Wrong("the model reads `ethnicity`: it uses the protected attribute at decision time, which "
                    "is disparate treatment; leave it out of the inputs")
    unknown = [c for c in fixed if c not in features.RAW_FEATURES]
    if unknown:
        raise Wrong(f"'fixed' names {', '.join(unknown)}, which is not an application input")
    where = _fitted_on(model, fixed)
    if where == "test":
        raise Wrong("it was trained on 2022, the hidden year it is judged on: train on 2019-2020")
    if where == "valid":
        raise Wrong("it was trained on 2021, the year you choose on: train on 2019-2020, choose on 2021")
    if where is None:
        raise Wrong("refitting its recipe on 2019-2020 does not give the same model: train it on the "
                    "2019-2020 rows (`train`), with a fixed random_state (estimators.make_model sets one)")
    train, valid, test, _ = _data()
    for rows, name in ((train, "2019-2020, the rows the model was trained on"), (test, "2022, the hidden year")):
        on_rows = alternatives.cheapest_threshold(rows[features.TARGET], _scores(model, fixed, rows))
        if math.isclose(threshold, on_rows, abs_tol=1e-12) and not math.isclose(threshold, business.COSTS.threshold):
            raise Wrong(f"its threshold is the cheapest on {name}: choose it on 2021")
    y = test[features.TARGET]
    refuse = _scores(model, fixed, test) > threshold
    cost = business.decision_cost(y, refuse)
    gap = fairness.disparities(y, refuse, test["ethnicity"])["approval_gap"]
    base = _baseline_2022()
    if gap > LDA_POLICY["max_gap_share"] * base["gap"]:
        raise Wrong(f"on the hidden year its approval gap is {gap:.3f}, not at least a quarter below the course "
                    f"model's {base['gap']:.3f}: which inputs carry the group?")
    if cost > (1 + LDA_POLICY["max_extra_cost"]) * base["cost"]:
        raise Wrong(f"on the hidden year it costs {cost:.1f} per application, more than 2% above the course "
                    f"model's {base['cost']:.1f}: the rule must keep the cost within its allowance")
    return (f"A less discriminatory alternative on 2022: approval gap {gap:.3f} against {base['gap']:.3f}, "
            f"cost {cost:.1f} against {base['cost']:.1f}, and it never sees the group when it decides.")


@cache
def ref_alternative():
    """The search's choice (fitted on 2019-2020, thresholds set on the first half of 2021, chosen on the second)."""
    train, valid, _, _ = _data()
    with threadpool_limits(limits=1):
        table = alternatives.less_discriminatory_alternatives(train, valid)
    chosen = table.loc[alternatives.choose_alternative(table, max_extra_cost=0.01), "model"]
    return {"model": chosen.model, "threshold": chosen.threshold, "fixed": dict(chosen.fills)}


def _optimizer_on_2021():
    train, valid, _, model = _data()
    return mitigation.fit_threshold_optimizer(model, valid)


def _refit_on(part: int, threshold=None):
    """The reference's recipe refitted on another part of the data (0 train, 1 valid, 2 test)."""
    from sklearn.base import clone

    ref = ref_alternative()
    rows = _data()[part]
    X = rows.assign(**ref["fixed"])
    with threadpool_limits(limits=1):
        model = clone(ref["model"]).fit(X[_columns(ref["model"])], rows[features.TARGET])
    return {**ref, "model": model, "threshold": ref["threshold"] if threshold is None else threshold}


def _threshold_on(part: int):
    ref = ref_alternative()
    rows = _data()[part]
    return {**ref, "threshold": alternatives.cheapest_threshold(rows[features.TARGET],
                                                                 _scores(ref["model"], ref["fixed"], rows))}


def _reads_the_group():
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    train = _data()[0]
    columns = ["ethnicity", "annual_income", "loan_amount"]
    model = make_pipeline(ColumnTransformer([("group", OneHotEncoder(), ["ethnicity"]),
                                             ("numbers", StandardScaler(), columns[1:])]),
                          LogisticRegression(max_iter=1000))
    rows = train.dropna(subset=columns)
    return {"model": model.fit(rows[columns], rows[features.TARGET]), "threshold": business.COSTS.threshold}


def _the_course_model():
    return {"model": _data()[3], "threshold": business.COSTS.threshold}


@exercise("8.4", "Search for a less discriminatory alternative", workbook=WORKBOOK,
          hints=["A candidate is a model class (`estimators.make_model('boosting')` or `'logistic'`), the "
                 "inputs it leaves out (hold each at one value, its 2019-2020 median, in training and when "
                 "deciding: `rows.assign(interest_rate=...)`), and a threshold.",
                 "Train each candidate on `train`; choose a 'cheapest' threshold on the first half of 2021 "
                 "(`alternatives.cheapest_threshold(y, scores)`), and compare cost and approval gap "
                 "(`business.decision_cost`, `fairness.disparities`) on the second half.",
                 "Keep the candidates that cost at most 1% more than the course model on the second half "
                 "of 2021, and take the one with the smallest approval gap. Which inputs did the proxy "
                 "measure flag?"],
          reference=ref_alternative,
          mistakes=[(_optimizer_on_2021, "decision time"), (_reads_the_group, "reads `ethnicity`"),
                    (lambda: _refit_on(2), "trained on 2022"), (lambda: _refit_on(1), "trained on 2021"),
                    (lambda: _threshold_on(0), "cheapest on 2019-2020"),
                    (lambda: _threshold_on(2), "cheapest on 2022"),
                    (_the_course_model, "approval gap")],
          rounded=[lambda: {**ref_alternative(), "threshold": round(ref_alternative()["threshold"], 3)}])
def check_alternative(answer) -> str:
    return check_alternative_answer(answer)


# 8.5 ----------------------------------------------------------------------

def ref_top_reasons(contributions: pd.Series, k: int = 4) -> list:
    pushing = contributions[contributions > 0].sort_values(ascending=False, kind="stable")
    return list(pushing.index[:k])


def _by_size(contributions, k=4):
    return list(contributions.abs().sort_values(ascending=False).index[:k])


def _with_zeros(contributions, k=4):
    return list(contributions[contributions >= 0].sort_values(ascending=False).index[:k])


def _weakest_first(contributions, k=4):
    return list(contributions[contributions > 0].sort_values().index[:k])


def _all_reasons(contributions, k=4):
    return list(contributions[contributions > 0].sort_values(ascending=False).index)


def _reason_cases() -> list[compare.Case]:
    def case(name, values, k=4):
        series = pd.Series(values, dtype="float64")
        expected = ref_top_reasons(series, k)

        def verify(result):
            if not isinstance(result, (list, tuple)):
                raise Wrong(f"expected a list of input names, got {compare.describe(result)}")
            result = list(result)
            if len(result) > k:
                raise Wrong(f"it gives {len(result)} reasons; give at most k = {k}")
            if any(series.get(n, 1.0) < 0 for n in result):
                raise Wrong("it gives an input that lowered the risk as a reason for refusal")
            if any(series.get(n, 1.0) == 0 for n in result):
                raise Wrong("it gives an input with no effect (a contribution of exactly 0) as a reason")
            if sorted(result) == sorted(expected) and result != expected:
                raise Wrong("the right reasons in the wrong order: strongest first")
            if result != expected:
                raise Wrong("these are not the inputs that pushed most towards refusal")
        return compare.Case(name, (series,), verify, {"k": k}, keep_inputs=True)

    return [
        case("a typical refusal", {"credit_score": 0.9, "monthly_debt": 1.2, "annual_income": -2.0,
                                   "loan_amount": 0.3, "age": 0.2, "channel": -0.1}),
        case("many small reasons", {"region": 0.05, "loan_purpose": 0.4, "credit_score": 0.6,
                                    "employment_years": 0.1, "home_ownership": 0.02, "annual_income": -0.3}),
        case("an input with no effect", {"credit_score": 0.4, "previous_defaults": 0.0, "loan_amount": -0.2}),
        case("only two reasons pushing", {"interest_rate": 0.7, "loan_term_months": 0.1,
                                          "annual_income": -0.5, "monthly_debt": -0.3, "age": -0.1}),
        case("k = 2", {"credit_score": 0.9, "monthly_debt": 1.2, "loan_amount": 0.3}, k=2),
    ]


@exercise("8.5", "Reason codes for a refused applicant", workbook=WORKBOOK,
          hints=["A reason for a refusal is an input that pushed the risk *up*: a positive contribution.",
                 "Keep the positive ones only, sort them from the largest down, and keep at most k.",
                 "`series[series > 0].sort_values(ascending=False)` does most of it; return the index as a list."],
          reference=lambda: ref_top_reasons,
          mistakes=[(lambda: _by_size, "lowered the risk"), (lambda: _with_zeros, "no effect"),
                    (lambda: _weakest_first, "strongest first"), (lambda: _all_reasons, "at most")],
          mutate=ref_top_reasons)
def check_top_reasons(answer) -> str:
    compare.function(answer, _reason_cases(), what="top_reasons")
    return "Right. `reasons.reason_codes` does the same and words each input for the applicant."


# 8.6 ----------------------------------------------------------------------

K_TARGET = 3
MAX_BAND = 20  # the analysts need ages no coarser than 20-year bands
OPEN_FROM = 58  # an open top band may start at 58 or later ("60+")


def release() -> pd.DataFrame:
    """The small release of the workbook: 300 applicants of 2022 with a known age."""
    loans, _ = features.clean_loans(load_loans())
    test = features.split_by_date(loans)[2]
    return (test.dropna(subset=["age"]).sample(300, random_state=8)[["age", "neighbourhood"]]
            .reset_index(drop=True))


def ref_release() -> pd.DataFrame:
    return privacy.generalise(release(), 20, "region", 58)


TOP_AGE = 85  # the oldest applicant the product takes
_INTERVAL = re.compile(r"([\(\[])\s*(-?inf|-?[\d.]+)\s*,\s*(-?inf|-?[\d.]+)\s*([\)\]])")


def _interval_ages(left: float, right: float, closed_left: bool, closed_right: bool) -> tuple[int, int]:
    """The first and last whole ages an interval holds (pd.cut writes 38-57 as "(37, 57]")."""
    first = math.ceil(left) if closed_left else math.floor(left) + 1
    last = math.floor(right) if closed_right else math.ceil(right) - 1
    return max(first, 18), min(last, TOP_AGE)


def _band_of(band) -> tuple[int, int] | str:
    """(first, last) whole age of a band, written '18-37', '58+', '(37, 57]' or as a pd.Interval;
    or what is wrong with it."""
    if isinstance(band, pd.Interval):
        return _interval_ages(band.left, band.right, band.closed_left, band.closed_right)
    text = str(band).strip()
    if m := re.fullmatch(r"(\d+)\s*-\s*(\d+)", text):
        return int(m[1]), int(m[2])
    if m := re.fullmatch(r"(\d+)\s*\+", text):
        return int(m[1]), TOP_AGE
    if m := _INTERVAL.fullmatch(text):
        return _interval_ages(float(m[2]), float(m[3]), m[1] == "[", m[4] == "]")
    return (f"has an age value {text!r} that is neither an age, a band like '18-37' or '(37, 57]', "
            "nor an open band like '58+'")


def _band_contains(band, age: float) -> str | None:
    """None if ``band`` is a valid band containing ``age``, else what is wrong."""
    if isinstance(band, (int, float, np.integer, np.floating)) and not isinstance(band, bool):
        return None if float(band) == age else "changes an exact age"
    found = _band_of(band)
    if isinstance(found, str):
        return found
    first, last = found
    if last >= TOP_AGE and first < OPEN_FROM and last - first + 1 > MAX_BAND:
        return f"has an open band {str(band)!r} starting before {OPEN_FROM}"
    if last < TOP_AGE and last - first + 1 > MAX_BAND:
        return f"has a band {str(band)!r} wider than {MAX_BAND} years"
    return None if first <= age <= last else f"puts age {age:g} in the band {str(band)!r}, which does not contain it"


def _truthful(answer: pd.DataFrame, original: pd.DataFrame) -> None:
    for band, age in zip(answer["age"], original["age"]):
        problem = _band_contains(band, float(age))
        if problem:
            raise Wrong(f"the release {problem}")
    regions = privacy.region_of(original["neighbourhood"]).to_numpy()
    for place, district, region in zip(answer["neighbourhood"], original["neighbourhood"], regions):
        if place not in (district, region):
            raise Wrong(f"the location {place!r} is neither the district {district!r} nor its region")


@exercise("8.6", "Reach k-anonymity on a small release", workbook=WORKBOOK,
          hints=["`privacy.k_anonymity(frame, ['age', 'neighbourhood'])` gives the size of the smallest "
                 "group of rows that look alike.",
                 "Generalise both: districts into regions (`privacy.region_of`), ages into bands "
                 "(`privacy.age_band(ages, width, top)`).",
                 "Few applicants are old: an open top band ('58+') merges them."],
          reference=ref_release,
          mistakes=[(lambda: ref_release().iloc[10:], "rows"),
                    (lambda: privacy.generalise(release(), 10, "region", 68), "k = "),
                    (lambda: privacy.generalise(release(), 40, "region", 58), "wider than"),
                    (lambda: ref_release().assign(age=privacy.age_band(release()["age"] + 1, 20, 58)),
                     "does not contain")])
def check_release(answer) -> str:
    if is_blank(answer):
        raise Unanswered()
    if not isinstance(answer, pd.DataFrame):
        raise Wrong(f"expected a DataFrame like the release, got {compare.describe(answer)}")
    original = release()
    missing = [c for c in ("age", "neighbourhood") if c not in answer.columns]
    if missing:
        raise Wrong(f"the release lacks the column(s) {', '.join(missing)}; generalise them, do not drop them")
    if len(answer) != len(original) or not answer.index.equals(original.index):
        raise Wrong(f"the release has {len(answer)} rows; keep all {len(original)} rows, in order "
                    "(suppressing rows is a last resort, not needed here)")
    _truthful(answer, original)
    k = privacy.k_anonymity(answer, ["age", "neighbourhood"])
    if k < K_TARGET:
        raise Wrong(f"k = {k}: some combination of age and location is shared by fewer than {K_TARGET} rows")
    return f"k = {k} with ages in bands no wider than {MAX_BAND} years: releasable by this rule."


# 8.7 ----------------------------------------------------------------------

def ref_elderly_scored_down(score, applicants, ages=range(18, 62)):
    """For each applicant of 62 or over: is their risk higher than at the most favourable younger age?"""
    elderly = applicants[applicants["age"] >= 62]
    own = np.asarray(score(elderly), dtype=float)
    ages = list(ages)
    younger = pd.concat([elderly.assign(age=float(a)) for a in ages])  # all the elderly at one age, then the next
    risk = np.asarray(score(younger), dtype=float).reshape(len(ages), len(elderly))
    return pd.Series(own > risk.min(axis=0), index=elderly.index)


def _toy(rule):
    """A scorer whose probability of default depends on age (and income) by ``rule``."""
    def score(frame):
        age = frame["age"].to_numpy(dtype=float)
        return np.clip(rule(age) - 0.000001 * (frame["annual_income"].to_numpy(dtype=float) - 40_000), 0, 1)
    return score


SCORERS = {
    "a risk that rises from age 60": _toy(lambda a: 0.10 + 0.004 * np.clip(a - 60, 0, None)),
    "a risk that steps up at 62 exactly": _toy(lambda a: np.where(a >= 62, 0.13, 0.10)),
    "a risk high for the young, lowest at 40": _toy(lambda a: 0.08 + np.where(a < 40, 0.1 * ((a - 40) / 20) ** 2,
                                                                             0.0005 * (a - 40))),
    "a risk with no age in it": _toy(lambda a: np.full_like(a, 0.12)),
    "a U-shaped risk, lowest at 45": _toy(lambda a: 0.08 + 0.5 * ((a - 45) / 25) ** 2 * 0.1),
    "a risk that falls with age": _toy(lambda a: 0.2 - 0.001 * a),
}


def _applicants(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ages = np.r_[[30, 61, 62, 63, 70, 85], rng.integers(18, 86, 14)].astype(float)
    ages[7] = np.nan  # an age the application did not give
    return pd.DataFrame({"age": ages, "annual_income": rng.integers(20, 90, len(ages)) * 1000.0},
                        index=pd.RangeIndex(100, 100 + len(ages)))


def _course_applicants() -> tuple:
    """The course model (served with its age floor off) on 30 applicants of 2022, 16 of them 62 or over."""
    _, _, test, model = _data()
    X = test[list(features.RAW_FEATURES)].dropna(subset=["age"])
    chosen = pd.concat([X[X["age"] >= 62].sample(16, random_state=7), X[X["age"] < 62].sample(14, random_state=7)])
    return (lambda frame: model.predict_proba(frame)[:, 1]), chosen


def _age_cases() -> list[compare.Case]:
    def case(name, score, applicants):
        expected = ref_elderly_scored_down(score, applicants)

        def verify(result):
            if isinstance(result, pd.DataFrame) and result.shape[1] == 1:
                result = result.iloc[:, 0]
            if not isinstance(result, pd.Series):
                raise Wrong(f"expected a Series of True/False, one per applicant of 62 or over, got "
                            f"{compare.describe(result)}")
            extra = result.index.difference(expected.index)
            missing = expected.index.difference(result.index)
            ages = applicants["age"]
            if len(extra):
                raise Wrong(f"it includes applicants who are not 62 or over (aged {ages[extra[0]]:g}); "
                            "only they are protected by this rule")
            if len(missing):
                if (ages[missing] == 62).any():
                    raise Wrong("it leaves out applicants aged exactly 62: Regulation B's elderly are 62 or older")
                raise Wrong(f"it leaves out applicants of 62 or over (aged {ages[missing[0]]:g})")
            got = result.reindex(expected.index)
            if got.dtype != bool and not set(got.unique()) <= {True, False}:
                raise Wrong("expected True or False for each applicant")
            wrong = got.astype(bool) != expected
            if wrong.any():
                at = wrong[wrong].index[0]
                if got[at] and not expected[at]:
                    raise Wrong(f"it flags an applicant aged {ages[at]:g} whose risk is no higher than at "
                                "the most favourable age under 62: an equal risk is not scored down, and "
                                "62 itself is not a younger age")
                raise Wrong(f"it misses an applicant aged {ages[at]:g} who would score lower at some age "
                            "from 18 to 61: compare with every younger age, not one")
        return compare.Case(name, (score, applicants), verify, keep_inputs=True)

    cases = [case(name, score, _applicants(seed)) for seed, (name, score) in enumerate(SCORERS.items())]
    return [*cases, case("the course model on applicants of 2022", *_course_applicants())]


def _over_62(score, applicants, ages=range(18, 62)):
    elderly = applicants[applicants["age"] > 62]
    return ref_elderly_scored_down(score, elderly, ages)


def _at_least_as_risky(score, applicants, ages=range(18, 62)):
    elderly = applicants[applicants["age"] >= 62]
    own = np.asarray(score(elderly), dtype=float)
    risk = np.column_stack([score(elderly.assign(age=float(a))) for a in ages])
    return pd.Series(own >= risk.min(axis=1), index=elderly.index)


def _against_the_average(score, applicants, ages=range(18, 62)):
    elderly = applicants[applicants["age"] >= 62]
    own = np.asarray(score(elderly), dtype=float)
    risk = np.column_stack([score(elderly.assign(age=float(a))) for a in ages])
    return pd.Series(own > risk.mean(axis=1), index=elderly.index)


@exercise("8.7", "Regulation B's age test", workbook=WORKBOOK,
          hints=["Keep the applicants of 62 or over (`applicants['age'] >= 62`: 62 counts) and score them "
                 "as they are.",
                 "Score the same applicants again at each age from 18 to 61 (`elderly.assign(age=a)`), "
                 "everything else unchanged, and keep each applicant's lowest risk.",
                 "An applicant is scored down when their own risk is strictly higher than that lowest "
                 "risk; return a Series of True/False on their index."],
          reference=lambda: ref_elderly_scored_down,
          mistakes=[(lambda: _over_62, "exactly 62"), (lambda: _at_least_as_risky, "equal risk"),
                    (lambda: _against_the_average, "every younger age")],
          mutate=ref_elderly_scored_down)
def check_elderly_scored_down(answer) -> str:
    compare.function(answer, _age_cases(), what="your function", seconds=20)
    score, applicants = _course_applicants()
    down = ref_elderly_scored_down(score, applicants)
    return (f"Right. The course model alone scores {int(down.sum())} of these {len(down)} applicants of 62 "
            "or over down; the deployed service scores them at their most favourable age (age_rule.ElderlyFloor).")
