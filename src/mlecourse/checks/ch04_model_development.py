"""Checks for the workbook of chapter 4, "Model development".

References that need the data (4.4, 4.5) compute it once per session from
the committed file, cleaned and split by the course's own functions.
"""
from __future__ import annotations

import math
from functools import cache

import numpy as np
import pandas as pd
from sklearn.exceptions import NotFittedError
from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from mlecourse.lender import business, features
from mlecourse.lender.modeling import estimators
from mlecourse.lender.data.loading import load_loans
from . import compare
from .blank import is_blank
from .core import exercise
from .result import Unanswered, Wrong

WORKBOOK = "04_model_development.ipynb"


def _one_thread():
    """Fits inside a check use one thread per library: on a busy machine, gradient
    boosting's threads can wait on each other for a minute (see the chapter)."""
    return threadpool_limits(limits=1)


@cache
def _split() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The cleaned loans and the course's train, validation and test years."""
    loans, _ = features.clean_loans(load_loans())
    return (loans, *features.split_by_date(loans))


def _number_in(answer: dict, key: str, what: str) -> float:
    if key not in answer:
        raise Wrong(f"the dict has no {key!r} entry; give {what}")
    return compare.as_number(answer[key], f"{key!r}")


def _expect_dict(answer, keys: tuple[str, ...]) -> dict:
    if is_blank(answer):
        raise Unanswered()
    if not isinstance(answer, dict):
        raise Wrong(f"expected a dict with keys {', '.join(map(repr, keys))}, got {compare.describe(answer)}")
    return answer


# 4.1 ----------------------------------------------------------------------

# The confusion matrix the workbook gives (rows: outcome, columns: decision).
CONFUSION = {"tn": 7355, "fp": 699, "fn": 345, "tp": 606}
OUTCOMES, DECISIONS = ["repaid", "defaulted"], ["approved", "refused"]


def confusion_table(tn: int, fp: int, fn: int, tp: int, *, flipped: bool = False) -> pd.DataFrame:
    """A confusion matrix as the workbook shows it; ``flipped`` lists defaults and refusals first."""
    table = pd.DataFrame([[tn, fp], [fn, tp]], index=OUTCOMES, columns=DECISIONS)
    return table.iloc[::-1, ::-1] if flipped else table


def ref_precision_recall_f1(confusion: pd.DataFrame) -> dict[str, float]:
    """Precision, recall and F1 of refusing as predicting a default, by scikit-learn."""
    counts = [int(confusion.loc[outcome, decision]) for outcome in OUTCOMES for decision in DECISIONS]
    y = np.repeat([0, 0, 1, 1], counts)
    refuse = np.repeat([0, 1, 0, 1], counts)
    return {"precision": precision_score(y, refuse, zero_division=0.0),
            "recall": recall_score(y, refuse, zero_division=0.0),
            "f1": f1_score(y, refuse, zero_division=0.0)}


def ref_prf() -> dict[str, float]:
    return ref_precision_recall_f1(confusion_table(**CONFUSION))


def _prf_cases() -> list[compare.Case]:
    cases = [
        ("the workbook's matrix", confusion_table(**CONFUSION)),
        ("a stricter model (more refusals)", confusion_table(6900, 1154, 210, 741)),
        ("the same matrix with defaults and refusals listed first",
         confusion_table(7355, 699, 345, 606, flipped=True)),
        ("a model that refuses no one", confusion_table(8054, 0, 951, 0)),
        ("a tiny branch: 3 defaults, all refused, and 1 good loan refused", confusion_table(16, 1, 0, 3)),
    ]
    return [compare.Case(name, (table,), _prf_match(table), keep_inputs=True) for name, table in cases]


def _prf_match(table: pd.DataFrame):
    want = ref_precision_recall_f1(table)
    positional = ref_precision_recall_f1(pd.DataFrame(table.to_numpy(), index=OUTCOMES, columns=DECISIONS))

    def verify(result):
        answer = _expect_dict(result, ("precision", "recall", "f1"))
        undefined = [k for k in ("precision", "f1") if isinstance(answer.get(k), float) and math.isnan(answer[k])]
        if undefined and want[undefined[0]] == 0:
            raise Wrong(f"{undefined[0]} is NaN: with no refusal at all it is 0 / 0; give 0.0, "
                        "as scikit-learn does")
        got = {k: _number_in(answer, k, "precision, recall and f1 as numbers")
               for k in ("precision", "recall", "f1")}
        if any(v > 1 for v in got.values()):
            raise Wrong("give fractions between 0 and 1, not percentages")
        close = lambda a, b: compare.agrees(a, b, rel=1e-6, abs_tol=1e-9, places=3)
        if all(close(got[k], want[k]) for k in got):
            for key in got:   # right, but perhaps rounded too far
                compare.number(got[key], want[key], what=key, rel=1e-6, places=3)
            return
        if want != positional and all(close(got[k], positional[k]) for k in got):
            raise Wrong("the cells were read by their position; read them by their labels "
                        "(`confusion.loc['defaulted', 'refused']`), whatever the order of the rows")
        if close(got["precision"], want["recall"]) and close(got["recall"], want["precision"]):
            raise Wrong("precision and recall are swapped: precision is about the refusals, "
                        "recall about the defaults")
        for key in ("precision", "recall"):
            if not close(got[key], want[key]):
                none = " (with no refusal at all, precision is 0.0, as scikit-learn says)" \
                    if key == "precision" and table.loc[:, "refused"].sum() == 0 else ""
                raise Wrong(f"{key} is not right; check which cells of the matrix go into it{none}")
        if close(got["f1"], (want["precision"] + want["recall"]) / 2) and not close(got["f1"], want["f1"]):
            raise Wrong("that F1 is the arithmetic mean of precision and recall; F1 is the harmonic mean")
        raise Wrong("f1 is not right; it combines your precision and recall")
    return verify


def _swapped(confusion):
    r = ref_precision_recall_f1(confusion)
    return {**r, "precision": r["recall"], "recall": r["precision"]}


def _by_position(confusion):
    return ref_precision_recall_f1(pd.DataFrame(confusion.to_numpy(), index=OUTCOMES, columns=DECISIONS))


def _arithmetic(confusion):
    r = ref_precision_recall_f1(confusion)
    return {**r, "f1": (r["precision"] + r["recall"]) / 2}


@exercise("4.1", "Precision, recall and F1 from a confusion matrix", workbook=WORKBOOK,
          hints=["Here a *positive* is a default and a *refusal* is predicting one: "
                 "TP = defaulted and refused, FP = repaid but refused, FN = defaulted but approved.",
                 "Read each count by its labels: `confusion.loc['defaulted', 'refused']` is TP, "
                 "whatever the order of the rows.",
                 "Precision = TP / (TP + FP), recall = TP / (TP + FN), F1 = 2 × precision × recall / "
                 "(precision + recall); when a denominator is 0, the value is 0.0."],
          reference=lambda: ref_precision_recall_f1,
          mistakes=[(lambda: _swapped, "swapped"),
                    (lambda: _arithmetic, "arithmetic mean"),
                    (lambda: (lambda c: {k: 100 * v for k, v in ref_precision_recall_f1(c).items()}),
                     "fractions"),
                    (lambda: _by_position, "by their labels"),
                    (lambda: (lambda c: {k: round(v, 2) for k, v in ref_precision_recall_f1(c).items()}),
                     "give at least 3 decimals")])
def check_prf(answer) -> str:
    compare.function(answer, _prf_cases(), what="your function")
    ratio = business.COSTS.missed_default / business.COSTS.wrong_refusal
    return (f"F1 weighs the two errors equally; this lender does not (a missed default costs "
            f"{ratio:g} wrong refusals), which is why the chapter ranks models by cost.")


# 4.2 ----------------------------------------------------------------------

CALIBRATION_OPTIONS = {
    "a": "a straight line is not enough: a calibrated model's curve lies on the diagonal. "
         "Compare, for one bin, the predicted probability with the observed rate",
    "b": "",
    "c": "look again at which axis is which: x is what the model predicted for a bin, y how "
         "often that bin defaulted; compare the two for one point",
    "d": "calibration and ranking are different properties: a model can rank applicants well and "
         "still give probabilities that are off (its ROC AUC is printed above the plot)",
}


@exercise("4.2", "Read a reliability diagram", workbook=WORKBOOK,
          hints=["The x axis is what the model predicted for a bin of applicants, the y axis how "
                 "often they actually defaulted.",
                 "Pick one point, say the one near x = 0.4: what share of those applicants defaulted?"],
          reference=lambda: "b",
          mistakes=[(lambda: "a", "diagonal"), (lambda: "c", "which axis is which"),
                    (lambda: "d", "ranking")])
def check_calibration(answer) -> str:
    compare.choice(answer, "b", CALIBRATION_OPTIONS, what="your reading")
    return ("Right: weighting the rare class inflates every probability. The ranking survives, "
            "the probabilities do not, and neither does the 1/6 threshold.")


# 4.3 ----------------------------------------------------------------------

def ref_cheapest_threshold(defaulted, scores) -> float:
    thresholds = np.round(np.linspace(0, 1, 1001), 3)
    costs = [business.decision_cost(defaulted, np.asarray(scores) > t) for t in thresholds]
    return float(thresholds[int(np.argmin(costs))])


def _threshold_cases() -> list[compare.Case]:
    rng = np.random.default_rng(4)

    def case(name, defaulted, scores):
        defaulted = np.asarray(defaulted)
        scores = np.asarray(scores, dtype=float)
        candidates = np.concatenate([[-1.0], np.unique(scores)])
        costs = np.array([business.decision_cost(defaulted, scores > t) for t in candidates])
        best = costs.min()
        # the threshold that maximises accuracy: both mistakes weighed the same
        errors = np.array([np.mean((scores > t) != defaulted.astype(bool)) for t in candidates])
        accuracy_cost = costs[int(np.argmin(errors))]

        def verify(result):
            value = compare.as_number(result, "the threshold your function returns")
            cost = business.decision_cost(defaulted, scores > value)
            if np.isclose(cost, best, rtol=1e-9):
                return
            if not 0 <= value <= 1:
                raise Wrong(f"it returned {value:g}, which is not a threshold between 0 and 1 "
                            f"(a position in the list of thresholds, perhaps?)")
            if np.isclose(business.decision_cost(defaulted, scores >= value), best, rtol=1e-9):
                raise Wrong("its threshold is cheapest when refusing at or above it (>=); the rule "
                            "here refuses strictly above it (>)")
            if value == 0.5:
                raise Wrong("it returned 0.5, the default threshold, which ignores the costs")
            if np.isclose(value, business.COSTS.threshold):
                raise Wrong("it returned the theory's 1/6, which assumes calibrated scores; "
                            "these are not, so search the threshold on the data")
            mistakes = np.mean((scores > value) != defaulted.astype(bool))
            if np.isclose(mistakes, errors.min()) and not np.isclose(accuracy_cost, best):
                raise Wrong("its threshold minimises the number of mistakes, as if both cost "
                            "the same; weigh them with business.COSTS")
            raise Wrong(f"its threshold {value:g} does not give the lowest expected cost")
        return compare.Case(name, (pd.Series(defaulted), pd.Series(scores)), verify, keep_inputs=True)

    small_y = [0, 0, 1, 0, 1, 1, 0, 0, 0, 0, 1, 0]
    small_s = [0.05, 0.10, 0.12, 0.15, 0.30, 0.35, 0.40, 0.02, 0.08, 0.22, 0.60, 0.55]
    risk = rng.random(400)
    y = rng.random(400) < risk * 0.4
    low = np.clip(np.round(risk * 0.3, 3), 0.001, 0.999)   # scores far too low: best threshold is small
    high = np.clip(np.round(0.3 + risk * 0.65, 3), 0.001, 0.999)   # far too high
    return [case("twelve applications", small_y, small_s),
            case("400 applications with scores that are too low", y, low),
            case("400 applications with scores that are too high", y, high),
            case("applications that all repaid", [0] * 20, np.round(rng.random(20), 3).clip(0.001))]


@exercise("4.3", "The cheapest threshold", workbook=WORKBOOK,
          hints=["Try many thresholds (every 0.001 from 0 to 1 is enough here) and keep the cheapest.",
                 "For one threshold t, the decisions are `scores > t`, and "
                 "`business.decision_cost(defaulted, scores > t)` is their cost.",
                 "`np.argmin` of the list of costs gives the position of the cheapest threshold."],
          reference=lambda: ref_cheapest_threshold,
          mistakes=[(lambda: (lambda d, s: 0.5), "0.5"),
                    (lambda: (lambda d, s: business.COSTS.threshold), "calibrated"),
                    (lambda: (lambda d, s: float(np.round(np.linspace(0, 1, 1001), 3)[int(np.argmin(
                        [np.mean((np.asarray(s) > t) != np.asarray(d).astype(bool))
                         for t in np.round(np.linspace(0, 1, 1001), 3)]))])), "both cost the same")],
          mutate=ref_cheapest_threshold)
def check_cheapest_threshold(answer) -> str:
    compare.function(answer, _threshold_cases(), what="your function")
    return ("Chosen on validation scores, this threshold also corrects a model's miscalibration; "
            "report its cost on data it was not chosen on.")


# 4.4 ----------------------------------------------------------------------

@cache
def _leak_costs() -> dict[str, dict[str, float]]:
    """Costs of logistic regression validated two ways, at 1/6 and at 0.5."""
    loans = _split()[0]
    recent = loans[(loans["application_date"] >= "2021-01-01") & (loans["application_date"] < "2024-01-01")]
    past, future = features.split_by_date(recent, cuts=("2023-07-01", "2024-01-01"))
    shuffled_fit, shuffled_check = train_test_split(recent, test_size=len(future), random_state=0)
    out = {}
    for name, (fit, check) in {"shuffled": (shuffled_fit, shuffled_check), "time": (past, future)}.items():
        with _one_thread():
            model = estimators.train_model(fit, "logistic")
        X, y = features.features_and_target(check)
        p = model.predict_proba(X)[:, 1]
        out[name] = {"theory": business.decision_cost(y, p > business.COSTS.threshold),
                     "half": business.decision_cost(y, p > 0.5)}
    return out


def ref_leak() -> dict[str, float]:
    return {k: v["theory"] for k, v in _leak_costs().items()}


@exercise("4.4", "What a shuffled split hides", workbook=WORKBOOK,
          hints=["Keep the cleaned rows applied from 2021-01-01 up to 2023-12-31. The time split is "
                 "`features.split_by_date(recent, cuts=('2023-07-01', '2024-01-01'))`.",
                 "The shuffled split: `train_test_split(recent, test_size=len(future), random_state=0)`.",
                 "For each split: `estimators.train_model(fit_rows, 'logistic')`, then "
                 "`business.decision_cost(y, p > business.COSTS.threshold)` on the held-out rows."],
          reference=ref_leak,
          mistakes=[(lambda: {"shuffled": ref_leak()["time"], "time": ref_leak()["shuffled"]}, "swapped"),
                    (lambda: {k: v["half"] for k, v in _leak_costs().items()}, "threshold")],
          rounded=[lambda: {k: round(v, 2) for k, v in ref_leak().items()}])
def check_leak(answer) -> str:
    answer = _expect_dict(answer, ("shuffled", "time"))
    got = {k: _number_in(answer, k, "the expected cost per application of each split")
           for k in ("shuffled", "time")}
    want, costs = ref_leak(), _leak_costs()
    close = lambda a, b: compare.agrees(a, b, places=2)   # costs: to the cent is enough
    if close(got["shuffled"], want["time"]) and close(got["time"], want["shuffled"]):
        raise Wrong("the two costs are swapped: the time-ordered split is the one validated after July 2023")
    if close(got["shuffled"], costs["shuffled"]["half"]) or close(got["time"], costs["time"]["half"]):
        raise Wrong("that cost uses the threshold 0.5; decide with business.COSTS.threshold (1/6)")
    right = {key: close(got[key], want[key]) for key in ("shuffled", "time")}
    if not any(right.values()):
        raise Wrong("neither cost is right: check the rows (cleaned, applied 2021-01-01 to 2023-12-31), "
                    "the model (logistic regression) and the threshold")
    if not right["shuffled"]:
        raise Wrong("the time-ordered cost is right but the shuffled one is not: check test_size "
                    "(as many rows as the time-ordered validation set) and random_state=0")
    if not right["time"]:
        raise Wrong("the shuffled cost is right but the time-ordered one is not: check the cut "
                    "dates of the time split")
    return (f"The shuffled split promises {want['shuffled']:,.0f} per application; after the downturn "
            f"the model costs {want['time']:,.0f}. Only the time split shows it.")


# 4.5 ----------------------------------------------------------------------

MARGIN = 0.30   # the model must cost at least 30% less than the business rule on validation
# Trained on rows whose outcomes are shuffled, a model that learns only from its rows
# has no signal to learn. Its validation ROC AUC is chance, which here wanders widely
# (0.36 to 0.62 over logistic, tree and boosting models and six shuffles), while a model
# that also learns from other years' true outcomes scores 0.8 or more.
NO_SIGNAL_AUC = 0.75


@cache
def _shuffled_outcomes() -> pd.DataFrame:
    """The training years with the outcome column permuted: no signal left to learn."""
    rows = _split()[1].copy()
    rows[features.TARGET] = np.random.default_rng(0).permutation(rows[features.TARGET].to_numpy())
    return rows


@cache
def _rule_cost_valid() -> float:
    valid = _split()[2]
    return business.decision_cost(valid[features.TARGET], business.business_rule(valid))


def _validation_scores(model) -> tuple[pd.Series, np.ndarray]:
    """The validation outcomes and the model's probabilities of default for them."""
    valid = _split()[2]
    X, y = features.features_and_target(valid)
    if not hasattr(model, "predict_proba"):
        raise Wrong(f"expected a fitted model with predict_proba, got {compare.describe(model)}")
    try:
        proba = np.asarray(model.predict_proba(X))
    except NotFittedError:
        raise Wrong("the model it returns is not fitted: call fit inside the function") from None
    except Exception as err:  # the learner's model: report, do not crash
        raise Wrong(f"the model it returns failed on the validation applications "
                    f"({type(err).__name__}: {err})") from None
    if proba.ndim != 2 or proba.shape != (len(y), 2):
        raise Wrong(f"predict_proba should give two columns per application, got shape {proba.shape}")
    if np.isnan(proba).any():
        raise Wrong("the model predicts NaN for some applications")
    return y, proba[:, 1]


def _validation_cost(model) -> float:
    y, p = _validation_scores(model)
    return business.decision_cost(y, p > business.COSTS.threshold)


def _training_cases() -> list[compare.Case]:
    def verify(model):
        cost = _validation_cost(model)
        saving = 1 - cost / _rule_cost_valid()
        if saving <= 0:
            raise Wrong(f"on the validation year its model costs {cost:,.0f} per application, "
                        f"no better than the business rule ({_rule_cost_valid():,.0f}); the bar is "
                        f"{MARGIN:.0%} below the rule")
        if saving < MARGIN:
            raise Wrong(f"on the validation year its model costs {cost:,.0f} per application, "
                        f"{saving:.0%} less than the business rule; the bar is {MARGIN:.0%}")

    def verify_learns_from_rows(model):
        auc = roc_auc_score(*_validation_scores(model))
        if auc > NO_SIGNAL_AUC:
            raise Wrong(f"given rows whose outcomes were shuffled, its model still ranks the "
                        f"validation year well (ROC AUC {auc:.2f}): it learns from something other "
                        f"than the rows it is given; train on `rows` only")

    train = _split()[1]
    return [compare.Case("the training years 2019-2020", (train,), verify, keep_inputs=True),
            compare.Case("the training years with their outcomes shuffled", (_shuffled_outcomes(),),
                         verify_learns_from_rows, keep_inputs=True)]


@exercise("4.5", "A training function that beats the rule", workbook=WORKBOOK,
          hints=["`estimators.make_model(kind)` gives an unfitted pipeline; your function must fit it "
                 "on the rows it receives and return it.",
                 "`features.features_and_target(rows)` gives the X and y to fit on.",
                 "A default decision tree is not enough; compare logistic regression and gradient "
                 "boosting on time-ordered folds of the rows you are given."],
          reference=lambda: (lambda rows: estimators.train_model(rows, "boosting")),
          mistakes=[(lambda: (lambda rows: estimators.make_model("boosting")), "not fitted"),
                    (lambda: (lambda rows: estimators.train_model(rows, "tree")), "the bar is"),
                    (lambda: (lambda rows: estimators.train_model(pd.concat(_split()[1:3]), "logistic")),
                     "other than the rows")])
def check_training(answer) -> str:
    with _one_thread():
        compare.function(answer, _training_cases(), what="your function", seconds=60,
                         overtime="keep the search within budget")
    return ("It learnt only from the rows the check gave it (2019-2020; given shuffled outcomes, "
            "it learnt nothing), so its validation cost is honest and the test year is untouched.")
