"""Checks for the workbook of chapter 8, "Responsible AI".

References that need the model (8.2, 8.4) train it once per session from the
committed data, with the course's own functions, and grade against the test
year 2022, which the workbook never touches for 8.4 (the hidden data).
"""
from __future__ import annotations

import math
import re
from functools import cache

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from mlecourse.lender import business, features
from mlecourse.lender.modeling import estimators
from mlecourse.lender.responsible import fairness, mitigation, privacy
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
        model = estimators.train_model(train, "boosting")
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

SLICE = ("region", "south")  # the applicants the workbook audits


@cache
def ref_interval() -> dict:
    train, valid, test, model = _data()
    rows = test[test[SLICE[0]] == SLICE[1]]
    X, y = features.features_and_target(rows)
    refuse = model.predict_proba(X)[:, 1] > business.COSTS.threshold
    b = fairness.bootstrap_gap(y, refuse, rows["ethnicity"], n_boot=2000, seed=0)
    return {"low": b["low"], "high": b["high"], "clear": b["clear"], "estimate": b["estimate"]}


def _one_sd_interval() -> dict:
    r = ref_interval()
    half = (r["high"] - r["low"]) / (2 * 1.96)
    return {"low": r["estimate"] - half, "high": r["estimate"] + half, "clear": r["clear"]}


@exercise("8.2", "Is the gap noise?", workbook=WORKBOOK,
          hints=["`fairness.bootstrap_gap(y, refuse, groups)` resamples applicants within each "
                 "group and returns the interval's `low` and `high`.",
                 "Use the applicants of the south region only, as the exercise's cell selects them.",
                 "A gap is clear of noise when its interval does not contain 0."],
          reference=lambda: {k: ref_interval()[k] for k in ("low", "high", "clear")},
          mistakes=[(lambda: {**ref_interval(), "clear": not ref_interval()["clear"]}, "contain"),
                    (_one_sd_interval, "too narrow"),
                    (lambda: {**ref_interval(), "low": ref_interval()["high"], "high": ref_interval()["low"]},
                     "low end")])
def check_interval(answer) -> str:
    answer = _expect_dict(answer, ("low", "high", "clear"))
    want = ref_interval()
    low, high = compare.as_number(answer["low"], "'low'"), compare.as_number(answer["high"], "'high'")
    if low > high:
        raise Wrong("the low end is above the high end; swap them")
    width, want_width = high - low, want["high"] - want["low"]
    if width < 0.75 * want_width:
        raise Wrong("that interval is too narrow for 95%: use the 2.5% and 97.5% quantiles of the gaps")
    if width > 1.3 * want_width:
        raise Wrong("that interval is too wide: did you resample everyone instead of this slice?")
    # another seed or number of resamples moves each end by about 0.003
    if abs(low - want["low"]) > 0.01 or abs(high - want["high"]) > 0.01:
        raise Wrong("the interval is not where this slice's gap is; check the slice and that 1 means refuse")
    if _expect_bool(answer["clear"], "'clear'") != (low > 0 or high < 0):
        raise Wrong("compare your interval with 0: a gap is clear only if the interval does not contain 0")
    return ("Right: in the south the gap could be chance. That is not a clean bill of health, "
            "only too few applicants to tell; the whole year's gap is clear.")


# 8.3 ----------------------------------------------------------------------

PROXY_OPTIONS = (*features.RAW_FEATURES, "neighbourhood", "ethnicity")


@cache
def ref_proxy() -> str:
    train, valid, test, _ = _data()
    return str(fairness.proxy_strength(train, test, features.RAW_FEATURES).index[0])


@exercise("8.3", "Find the proxy", workbook=WORKBOOK,
          hints=["`fairness.proxy_strength(train, test, columns)` scores each column alone: the "
                 "ROC AUC with which it predicts the group.",
                 "Give it the model's inputs, `features.RAW_FEATURES`: the question is what reaches the model.",
                 "Think about how the data was made: which input did the legacy pricing set, and how?"],
          reference=ref_proxy,
          mistakes=[(lambda: "neighbourhood", "not one of the model's inputs"),
                    (lambda: "region", "summarises"),
                    (lambda: "credit_score", "another input"),
                    (lambda: "ethnicity", "the attribute itself")])
def check_proxy(answer) -> str:
    if is_blank(answer):
        raise Unanswered()
    if not isinstance(answer, str):
        raise Wrong(f"expected a column name as text, got {compare.describe(answer)}")
    name = answer.strip()
    if name not in PROXY_OPTIONS:
        raise Wrong(f"{name!r} is not a column of the data; the model's inputs are features.RAW_FEATURES")
    if name == "ethnicity":
        raise Wrong("that is the attribute itself; which *other* input reveals it?")
    if name == "neighbourhood":
        raise Wrong("neighbourhood is a proxy, but it is not one of the model's inputs; "
                    "measure the inputs the model does see")
    if name == "region":
        raise Wrong("region is a proxy (it summarises the districts), but another input reveals the group more")
    if name != ref_proxy():
        raise Wrong(f"{name} carries less of the group than another input does; measure them all")
    return ("Right: interest_rate carries the legacy pricing premium, and with the recorded score "
            "beside it the premium is easy to read off.")


# 8.4 ----------------------------------------------------------------------

POLICY = {"min_ratio": 0.95, "max_cost": 300.0}  # on the hidden year 2022


def _fitted_optimizer(constraint="demographic_parity", objective="balanced_accuracy_score",
                      sensitive="ethnicity"):
    from fairlearn.postprocessing import ThresholdOptimizer

    train, valid, test, model = _data()
    X, y = features.features_and_target(valid)
    optimizer = ThresholdOptimizer(estimator=model, constraints=constraint, objective=objective,
                                   prefit=True, predict_method="predict_proba")
    with mitigation.quiet_fairlearn():
        optimizer.fit(X, y, sensitive_features=valid[sensitive].astype(str).to_numpy())
    return optimizer


def _unfitted():
    from fairlearn.postprocessing import ThresholdOptimizer
    return ThresholdOptimizer(estimator=_data()[3], prefit=True, predict_method="predict_proba")


@exercise("8.4", "A threshold optimizer that meets a policy on hidden data", workbook=WORKBOOK,
          hints=["Fit `ThresholdOptimizer(estimator=model, constraints=..., objective=..., prefit=True, "
                 "predict_method='predict_proba')` on the validation year with `sensitive_features`.",
                 "The objective decides what the thresholds optimise: plain accuracy is cheapest when "
                 "almost nobody is refused, which this lender cannot afford.",
                 "`balanced_accuracy_score` weighs the rare defaults up; try each constraint with it "
                 "and look at cost and ratio on 2021."],
          reference=_fitted_optimizer,
          mistakes=[(lambda: _fitted_optimizer(objective="accuracy_score"), "costs"),
                    (_unfitted, "not fitted"),
                    (lambda: _fitted_optimizer(sensitive="region"), "fitted on groups")])
def check_optimizer(answer) -> str:
    from fairlearn.postprocessing import ThresholdOptimizer

    if is_blank(answer):
        raise Unanswered()
    if not isinstance(answer, ThresholdOptimizer):
        raise Wrong(f"expected a fitted fairlearn ThresholdOptimizer, got {compare.describe(answer)}")
    if not hasattr(answer, "interpolated_thresholder_"):
        raise Wrong("the optimizer is not fitted: call .fit(X_valid, y_valid, sensitive_features=...)")
    groups = {str(g) for g in answer.interpolated_thresholder_.interpolation_dict}
    if groups != {"majority", "minority"}:
        raise Wrong(f"it was fitted on groups {', '.join(sorted(groups))}, not on ethnicity's "
                    "majority and minority")
    _, _, test, _ = _data()
    X, y = features.features_and_target(test)
    with mitigation.quiet_fairlearn():
        refuse = answer.predict(X, sensitive_features=test["ethnicity"].to_numpy(), random_state=0).astype(bool)
    cost = business.decision_cost(y, refuse)
    ratio = fairness.disparities(y, refuse, test["ethnicity"])["approval_ratio"]
    if ratio < POLICY["min_ratio"]:
        raise Wrong(f"on the hidden year the approval ratio is {ratio:.3f}, under the policy's "
                    f"{POLICY['min_ratio']}: choose another constraint")
    if cost > POLICY["max_cost"]:
        raise Wrong(f"on the hidden year it costs {cost:.0f} per application, more than the policy's "
                    f"{POLICY['max_cost']:.0f}: the objective matters as much as the constraint")
    return (f"Meets the policy on 2022: ratio {ratio:.3f}, cost {cost:.0f}. It uses ethnicity at "
            "decision time, which US credit law forbids: the chapter's box says what a lender may do.")


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
                    (lambda: _weakest_first, "strongest first"), (lambda: _all_reasons, "at most")])
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


def _band_contains(band, age: float) -> str | None:
    """None if ``band`` is a valid band containing ``age``, else what is wrong."""
    if isinstance(band, (int, float, np.integer, np.floating)) and not isinstance(band, bool):
        return None if float(band) == age else "changes an exact age"
    text = str(band).strip()
    if m := re.fullmatch(r"(\d+)\s*-\s*(\d+)", text):
        low, high = int(m[1]), int(m[2])
        if high - low + 1 > MAX_BAND:
            return f"has a band {text!r} wider than {MAX_BAND} years"
        return None if low <= age <= high else f"puts age {age:g} in the band {text!r}, which does not contain it"
    if m := re.fullmatch(r"(\d+)\s*\+", text):
        if int(m[1]) < OPEN_FROM:
            return f"has an open band {text!r} starting before {OPEN_FROM}"
        return None if age >= int(m[1]) else f"puts age {age:g} in {text!r}, which does not contain it"
    return f"has an age value {text!r} that is neither an age, a band like '18-37' nor an open band like '58+'"


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
