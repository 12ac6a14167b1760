"""Checks for the workbook of chapter 3, "The ML lifecycle: from a business
problem to validated features".

Reference answers come from the course's own code: the cleaned data and time
split of ``features``, the costs of ``business``, the warehouse extract of
``leakage``. Heavy references (models) are computed once and cached.
"""
from __future__ import annotations

import math
from functools import cache

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mlecourse.lender.business import COSTS, business_rule, decision_cost
from mlecourse.lender.data.loading import load_loans
from mlecourse.lender.features import RAW_FEATURES, clean_loans, split_by_date
from mlecourse.teaching.leakage import EXTRACT_COLUMNS, make_model_with, warehouse_extract
from . import compare
from .blank import is_blank
from .core import exercise
from .result import Rounded, Unanswered, Wrong

WORKBOOK = "03_lifecycle_features.ipynb"


@cache
def _clean() -> pd.DataFrame:
    return clean_loans(load_loans())[0]


@cache
def _parts() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return tuple(split_by_date(_clean()))


def train() -> pd.DataFrame:
    return _parts()[0].copy()


def valid() -> pd.DataFrame:
    return _parts()[1].copy()


# 3.1 ----------------------------------------------------------------------
# The risk team's simpler rule: refuse anyone with a previous default or a
# bureau score below 600; a missing score does not refuse on its own.

def simple_rule(frame: pd.DataFrame, missing_refuses: bool = False) -> pd.Series:
    refuse = (frame["previous_defaults"] > 0) | (frame["credit_score"] < 600)
    if missing_refuses:
        refuse |= frame["credit_score"].isna()
    return refuse


def _rule_cost(frame: pd.DataFrame, **kwargs) -> float:
    return decision_cost(frame["defaulted"], simple_rule(frame, **kwargs))


def _total_cost(frame: pd.DataFrame) -> float:
    return _rule_cost(frame) * len(frame)


def _swapped_cost(frame: pd.DataFrame) -> float:
    refuse = simple_rule(frame)
    y = frame["defaulted"] == 1
    return float(((y & ~refuse).sum() * COSTS.wrong_refusal
                  + (~y & refuse).sum() * COSTS.missed_default) / len(frame))


def ref_rule_cost() -> float:
    return _rule_cost(valid())


@exercise("3.1", "What does the simpler rule cost?", workbook=WORKBOOK,
          hints=["Two kinds of mistake: approving a loan that defaults (5,000) and refusing "
                 "one that would have been repaid (1,000). Correct decisions cost nothing.",
                 "Build the decisions as a boolean Series (True = refuse) on the 2021 "
                 "validation rows; a comparison with a missing score is False, which is what "
                 "the rule wants.",
                 "Count missed defaults and wrong refusals, weight them by their costs, then "
                 "divide by the number of applications (or use `decision_cost`)."],
          reference=ref_rule_cost,
          mistakes=[(lambda: _total_cost(valid()), "total"),
                    (lambda: _swapped_cost(valid()), "swapped"),
                    (lambda: _rule_cost(_clean()), "2021"),
                    (lambda: _rule_cost(valid(), missing_refuses=True), "missing score"),
                    (lambda: decision_cost(valid()["defaulted"], business_rule(valid())), "business_rule"),
                    (lambda: round(ref_rule_cost()), "give at least 2 decimals"),
                    (lambda: round(_total_cost(valid()), 2), "total")],
          rounded=[lambda: round(ref_rule_cost(), 2), lambda: round(ref_rule_cost(), 3),
                   lambda: math.trunc(ref_rule_cost() * 100) / 100])
def check_rule_cost(answer) -> str:
    value = compare.as_number(answer, "the expected cost per application")
    frame = valid()
    close = lambda other: compare.agrees(value, other, places=2)   # a mistake, maybe to the cent
    if close(_total_cost(frame)):
        raise Wrong("that is the total cost of the year; divide by the number of applications")
    if close(_swapped_cost(frame)):
        raise Wrong("the two costs are swapped: a missed default costs 5,000, a wrong refusal 1,000")
    if close(_rule_cost(frame, missing_refuses=True)):
        raise Wrong("your rule refuses applicants with a missing score; a missing score does not "
                    "refuse on its own")
    if close(decision_cost(frame["defaulted"], business_rule(frame))):
        raise Wrong("that is the cost of the lender's full rule (`business_rule`); this exercise "
                    "asks for the simpler rule: previous default or score below 600")
    if close(_rule_cost(_clean())) or close(_rule_cost(train())):
        raise Wrong("measure the rule on the 2021 validation rows only, not on other years")
    compare.number(value, ref_rule_cost(), what="the expected cost per application", places=2)
    approve_all = decision_cost(frame["defaulted"], np.zeros(len(frame), bool))
    return (f"Approving everyone costs {approve_all:,.0f} per application: a two-line rule "
            "already saves money. Any model must beat the rule, not zero.")


# 3.2 ----------------------------------------------------------------------

def ref_time_split(frame: pd.DataFrame, valid_start, valid_end):
    dates = frame["application_date"]
    start, end = pd.Timestamp(valid_start), pd.Timestamp(valid_end)
    return frame[dates < start], frame[(dates >= start) & (dates < end)]


def _split_frame(days: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame({"application_date": pd.to_datetime(days),
                          "defaulted": [i % 2 for i in range(len(days))]})
    frame.index = [100 + 7 * i for i in range(len(days))]  # not 0, 1, 2: labels must be kept
    return frame


def _split_cases() -> list[compare.Case]:
    def case(name, days, start="2021-01-01", end="2022-01-01"):
        frame = _split_frame(days)
        want_train, want_valid = ref_time_split(frame, start, end)

        def verify(result):
            if not isinstance(result, tuple) or len(result) != 2:
                raise Wrong(f"expected a tuple (train, valid), got {compare.describe(result)}")
            for got, want, part in zip(result, (want_train, want_valid), ("train", "valid")):
                if not isinstance(got, pd.DataFrame):
                    raise Wrong(f"{part} should be a DataFrame, got {compare.describe(got)}")
                if list(got.columns) != list(frame.columns):
                    raise Wrong(f"{part} should keep the columns of the input")
                got_rows, want_rows = list(got.index), list(want.index)
                if got_rows == want_rows:
                    continue
                if any(r not in frame.index for r in got_rows):
                    raise Wrong(f"{part} has row labels that are not in the input: keep the "
                                "index as it is (no `reset_index`)")
                if len(set(got_rows)) < len(got_rows):
                    raise Wrong(f"{part} holds some rows twice")
                if sorted(got_rows) == sorted(want_rows):
                    raise Wrong(f"{part} has the right rows in another order: keep the input's order")
                dates = frame["application_date"]
                extra = [r for r in got_rows if r not in want_rows]
                lacking = [r for r in want_rows if r not in got_rows]
                if extra and all(dates[r] >= pd.Timestamp(end) for r in extra):
                    raise Wrong(f"{part} has rows dated on or after the end of validation: "
                                "they are the future and belong to neither part")
                on_cut = [r for r in extra + lacking if dates[r] in (pd.Timestamp(start), pd.Timestamp(end))]
                if on_cut:
                    raise Wrong("a row dated exactly on a cut is in the wrong part: a cut date "
                                "starts the next part")
                if any(dates[r] >= pd.Timestamp(start) for r in extra) and part == "train":
                    raise Wrong("train holds rows from the validation period or later: a random "
                                "or positional split mixes the future into training")
                raise Wrong(f"{part} has {len(got_rows)} rows, expected {len(want_rows)}")
        return compare.Case(name, (frame, start, end), verify, keep_inputs=True)

    return [
        case("rows in date order", ["2019-03-01", "2020-06-01", "2021-02-01", "2021-11-30"]),
        case("rows in shuffled order", ["2021-05-01", "2019-01-02", "2021-12-31", "2020-07-07",
                                        "2021-01-15", "2019-09-09"]),
        case("rows exactly on the cuts", ["2020-12-31", "2021-01-01", "2021-12-31", "2022-01-01"]),
        case("rows after the last cut", ["2020-01-01", "2021-03-03", "2022-06-01", "2023-02-02"]),
        case("an empty frame", []),
        case("no validation rows", ["2019-01-01", "2019-02-01"]),
        case("cuts given as text of another year", ["2022-12-31", "2023-01-01", "2023-12-31",
                                                    "2024-01-01"], "2023-01-01", "2024-01-01"),
    ]


def _random_split(frame, valid_start, valid_end):
    if len(frame) < 2:
        return frame, frame.iloc[0:0]
    return tuple(train_test_split(frame, test_size=0.25, random_state=0))


def _inclusive_split(frame, valid_start, valid_end):
    dates = frame["application_date"]
    start, end = pd.Timestamp(valid_start), pd.Timestamp(valid_end)
    return frame[dates <= start], frame[(dates > start) & (dates <= end)]


def _sorted_split(frame, valid_start, valid_end):
    ordered = frame.sort_values("application_date")
    return ref_time_split(ordered, valid_start, valid_end)


def _keeps_future(frame, valid_start, valid_end):
    dates = frame["application_date"]
    return frame[dates < pd.Timestamp(valid_start)], frame[dates >= pd.Timestamp(valid_start)]


@exercise("3.2", "A time split you can trust", workbook=WORKBOOK,
          hints=["Compare the `application_date` column with each cut: the result is a boolean "
                 "mask you can index the frame with.",
                 "A row dated exactly on `valid_start` is validation, one dated exactly on "
                 "`valid_end` is neither: use `<` for the end of a part, `>=` for its start.",
                 "Do not sort, shuffle or slice by position: a mask keeps the input's order and "
                 "labels, and works on an empty frame too."],
          reference=lambda: ref_time_split,
          mistakes=[(lambda: _random_split, "random"),
                    (lambda: _inclusive_split, "exactly on a cut"),
                    (lambda: _sorted_split, "order"),
                    (lambda: _keeps_future, "future")],
          mutate=ref_time_split)
def check_time_split(answer) -> str:
    compare.function(answer, _split_cases(), what="your function")
    return ("Rows on a cut go forward, the future is left out, and order is kept: "
            "`features.split_by_date` does the same for the whole course.")


# 3.3 ----------------------------------------------------------------------
LEAK = "max_days_in_arrears"


@cache
def _extract_parts():
    extract = warehouse_extract(_clean())
    parts = split_by_date(extract)
    return parts[0], parts[1]


@cache
def _leak_model(columns: tuple[str, ...]):
    tr, _ = _extract_parts()
    return make_model_with(list(columns)).fit(tr[list(RAW_FEATURES) + list(columns)], tr["defaulted"])


@cache
def _auc(columns: tuple[str, ...], on: str = "valid", scores: str = "proba") -> float:
    """The AUC of the model trained on ``columns``, scored on ``on`` with ``scores``."""
    tr, va = _extract_parts()
    frame = va if on == "valid" else tr
    model, features = _leak_model(tuple(columns)), list(RAW_FEATURES) + list(columns)
    if scores == "proba":
        score = model.predict_proba(frame[features])[:, 1]
    else:
        score = model.predict(frame[features])
    return float(roc_auc_score(frame["defaulted"], score))


HONEST = tuple(c for c in EXTRACT_COLUMNS if c != LEAK)


def ref_leak() -> tuple[str, float]:
    return LEAK, _auc(HONEST)


LEAK_CHOICES = {
    LEAK: "",
    "bureau_enquiries_6m": "the bureau report is pulled at application: its enquiries are known "
                           "when the decision is made. Ask of each column WHEN its value is known",
    "months_at_address": "the applicant writes it on the form: it is known at decision time. "
                         "Ask of each column WHEN its value is known",
}


@exercise("3.3", "Find the leak, report the honest score", workbook=WORKBOOK,
          hints=["For each new column ask: on the day of the application, could the lender "
                 "have known this value? The data dictionary says where each one comes from.",
                 "A single column whose validation AUC is close to 1 on its own is a suspect: "
                 "`roc_auc_score(valid['defaulted'], valid[column])`.",
                 "Train `make_model_with(kept)` on `train` with the application fields plus the "
                 "columns you keep, and score `predict_proba(...)[:, 1]` on `valid`."],
          reference=ref_leak,
          mistakes=[(lambda: ("bureau_enquiries_6m", _auc(HONEST)), "when its value is known"),
                    (lambda: (LEAK, _auc(tuple(EXTRACT_COLUMNS))), "still"),
                    (lambda: (LEAK, _auc(HONEST, on="train")), "training rows"),
                    (lambda: (LEAK, _auc(HONEST, scores="labels")), "probabilities"),
                    (lambda: (LEAK, round(_auc(HONEST), 2)), "rounded too far")])
def check_leak(answer) -> str:
    if is_blank(answer):
        raise Unanswered()
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        raise Wrong(f"expected a tuple (leaking column, honest AUC), got {compare.describe(answer)}")
    column, auc = answer
    if is_blank(column) or is_blank(auc):
        raise Unanswered()
    if not isinstance(column, str):
        raise Wrong(f"expected the leaking column's name as text, got {compare.describe(column)}")
    if column.strip().lower() not in LEAK_CHOICES:
        raise Wrong(f"{column!r} is not one of the new columns: {', '.join(EXTRACT_COLUMNS)}")
    compare.choice(column, LEAK, LEAK_CHOICES, what="the leaking column")
    value = compare.as_number(auc, "the honest AUC")
    close = lambda other: math.isclose(value, other, abs_tol=5e-4)
    if close(_auc(HONEST)):
        _, va = _extract_parts()
        alone = roc_auc_score(va["defaulted"], va[LEAK])
        return (f"On its own, {LEAK} ranks defaults with an AUC of {alone:.3f}: no model can "
                "know that at application. The honest number is the one to report.")
    if value > 0.97:
        raise Wrong("an AUC that high means the model still sees the leak: train it without "
                    "that column")
    if close(_auc(HONEST, on="train")):
        raise Wrong("that AUC is measured on the training rows, which the model has seen: "
                    "score the 2021 validation rows")
    if close(_auc(HONEST, scores="labels")):
        raise Wrong("AUC needs scores, not 0/1 decisions: use the predicted probabilities "
                    "(`predict_proba(...)[:, 1]`)")
    if abs(value - _auc(HONEST)) < 0.006 and value == round(value, 2):
        raise Rounded("that AUC is rounded too far to compare: give at least 3 decimals")
    if close(_auc(())):
        return ("Correct column. You dropped the two legitimate columns as well; they add "
                "little here, but do not drop a feature without a reason.")
    compare.number(value, _auc(HONEST), what="the honest AUC", rel=0, abs_tol=5e-4, places=3)
    return "Correct."  # not reached: number() raises unless close to the honest AUC


# 3.4 ----------------------------------------------------------------------
NUMBERS = ["annual_income", "credit_score", "loan_amount"]
LABELS = ["channel", "home_ownership"]


def make_reference_transformer(indicator=True, unknown="ignore", impute="median", scale=True,
                               pandas=True) -> ColumnTransformer:
    steps = [("impute", SimpleImputer(strategy=impute, add_indicator=indicator))]
    if scale:
        steps.append(("scale", StandardScaler()))
    transformer = ColumnTransformer(
        [("num", Pipeline(steps), NUMBERS),
         ("cat", Pipeline([("impute", SimpleImputer(strategy="constant", fill_value="missing")),
                           ("onehot", OneHotEncoder(handle_unknown=unknown, sparse_output=False))]),
          LABELS)],
        verbose_feature_names_out=False)
    return transformer.set_output(transform="pandas") if pandas else transformer


def _one_line(err: Exception, limit: int = 160) -> str:
    text = " ".join(str(err).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _fitted(frame: pd.DataFrame, **kwargs) -> ColumnTransformer:
    return make_reference_transformer(**kwargs).fit(frame[NUMBERS + LABELS])


@cache
def _fitted_cached(which: str):
    if which == "train":
        return _fitted(train())
    if which == "all":
        return _fitted(pd.concat([train(), valid()]))
    if which == "every year":
        return _fitted(_clean())
    options = {"noindicator": {"indicator": False}, "error": {"unknown": "error"},
               "mean": {"impute": "mean"}, "noscale": {"scale": False}, "numpy": {"pandas": False}}
    return _fitted(train(), **options[which])


def ref_transformer():
    return _fitted_cached("train")


def flags_kept_01() -> ColumnTransformer:
    """The other right reading of 3.4: the numbers standardised, their flags left 0/1."""
    numbers = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
    labels = make_reference_transformer().transformers[1]
    return ColumnTransformer(
        [("num", numbers, NUMBERS), ("flag", MissingIndicator(), NUMBERS), labels],
        verbose_feature_names_out=False).set_output(transform="pandas").fit(train()[NUMBERS + LABELS])


def _hidden_rows() -> pd.DataFrame:
    rows = valid().head(6)[NUMBERS + LABELS].copy()
    odd = pd.DataFrame({"annual_income": [np.nan, 52_000.0], "credit_score": [640.0, np.nan],
                        "loan_amount": [8_000.0, 15_000.0], "channel": ["partner_app", "branch"],
                        "home_ownership": ["rent", None]}, index=[-1, -2])
    return pd.concat([rows, odd])


@exercise("3.4", "Build the feature transformer to spec", workbook=WORKBOOK,
          hints=["A `ColumnTransformer` takes a list of (name, transformer, columns); each "
                 "transformer here is a small `Pipeline` of two steps.",
                 "Numbers: `SimpleImputer(strategy='median', add_indicator=True)` then "
                 "`StandardScaler()`. Labels: a constant imputer, then "
                 "`OneHotEncoder(handle_unknown='ignore', sparse_output=False)`.",
                 "`verbose_feature_names_out=False` and `.set_output(transform='pandas')` give "
                 "plain column names; fit on `train[numbers + labels]` only."],
          reference=ref_transformer,
          mistakes=[(lambda: _fitted_cached("all"), "more than the training rows"),
                    (lambda: _fitted_cached("every year"), "more than the training rows"),
                    (lambda: _fitted_cached("error"), "unseen"),
                    (lambda: _fitted_cached("noindicator"), "indicator"),
                    (lambda: _fitted_cached("mean"), "imputed with the mean"),
                    (lambda: _fitted_cached("noscale"), "not scaled"),
                    (lambda: _fitted_cached("numpy"), "pandas"),
                    (lambda: make_reference_transformer(), "not fitted")],
          rounded=[flags_kept_01])
def check_transformer(answer) -> str:
    if is_blank(answer):
        raise Unanswered()
    if not hasattr(answer, "transform") or not hasattr(answer, "fit"):
        raise Wrong(f"expected a fitted scikit-learn transformer, got {compare.describe(answer)}")
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted
    try:
        check_is_fitted(answer)
    except NotFittedError:
        raise Wrong("the transformer is not fitted yet: call `.fit(train[numbers + labels])`") from None
    except TypeError as err:
        raise Wrong(f"expected a fitted scikit-learn transformer ({err})") from None
    rows = _hidden_rows()
    try:
        out = answer.transform(rows)
    except ValueError as err:
        if "unknown" in str(err).lower():
            raise Wrong("it fails on an unseen category ('partner_app'): the encoder must ignore "
                        "categories it never saw in training") from None
        if "feature names" in str(err).lower():
            raise Wrong("it was fitted on other columns than the spec's: fit it on "
                        "`train[numbers + labels]`") from None
        raise Wrong(f"transforming new rows raised ValueError: {_one_line(err)}") from None
    except Exception as err:  # fitted on other columns, a broken custom step...
        raise Wrong(f"transforming new rows raised {type(err).__name__}: {_one_line(err)}") from None
    if not isinstance(out, pd.DataFrame):
        raise Wrong(f"the output is {compare.describe(out)}, not a pandas DataFrame: "
                    "ask for pandas output with `.set_output(transform='pandas')`")
    expected = ref_transformer().transform(rows)
    missing = [c for c in expected.columns if c not in out.columns]
    if missing and any("__" in str(c) for c in out.columns):
        raise Wrong("the column names carry a prefix like 'num__': pass "
                    "`verbose_feature_names_out=False` to the ColumnTransformer")
    if any(c.startswith("missingindicator_") for c in missing):
        raise Wrong("there is no missing-value indicator column: add `add_indicator=True` to the "
                    "numeric imputer, so the model knows a value was filled in")
    if any(c.endswith("_missing") for c in missing):
        raise Wrong("a missing label does not have its own column: fill missing labels with the "
                    "text 'missing' before encoding, so they become a category of their own")
    if missing:
        raise Wrong(f"the output lacks the column(s) {', '.join(missing[:3])}")
    extra = [c for c in out.columns if c not in expected.columns]
    if extra:
        raise Wrong(f"the output has column(s) that the spec does not ask for: {', '.join(map(str, extra[:3]))}")
    try:
        got = out[expected.columns].to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise Wrong("the output has values that are not numbers") from None

    def same_as(which: str) -> bool:
        return np.allclose(got, _fitted_cached(which).transform(rows)[expected.columns].to_numpy(float),
                           atol=1e-9)

    # Two readings of the spec are right: the flags standardised with the numbers
    # (one pipeline), or kept as 0/1 (a scaler on the numbers only).
    flags_as_01 = expected.copy()
    for column in [c for c in expected.columns if c.startswith("missingindicator_")]:
        flags_as_01[column] = rows[column.removeprefix("missingindicator_")].isna().astype(float)
    if np.allclose(got, expected.to_numpy(float), atol=1e-9) or \
            np.allclose(got, flags_as_01.to_numpy(float), atol=1e-9):
        return ("A missing income became the training median plus a flag, and 'partner_app' "
                "became all zeros: the validator must still report such rows.")
    if same_as("all") or same_as("every year"):
        raise Wrong("it was fitted on more than the training rows (later years leaked "
                    "into its medians and scales): fit on `train` only")
    if same_as("mean"):
        raise Wrong("missing values are imputed with the mean; the spec asks for the median, "
                    "which a few huge incomes do not drag up")
    if same_as("noscale"):
        raise Wrong("the numbers are not scaled: add a `StandardScaler()` after the imputer")
    bad = [c for c in expected.columns
           if not np.allclose(out[c].to_numpy(float), expected[c].to_numpy(float), atol=1e-9)]
    raise Wrong(f"the values of {', '.join(bad[:3])} differ from the spec: check the steps, and "
                "that it was fitted on `train` only")


# 3.5 ----------------------------------------------------------------------
CHANNELS = ("branch", "online", "broker")
REQUIRED = ("age", "annual_income", "channel")
MAX_BAD_SHARE = 0.10


def ref_split_batch(batch: pd.DataFrame):
    if any(c not in batch.columns for c in REQUIRED):
        return batch.iloc[0:0], batch
    age = pd.to_numeric(batch["age"], errors="coerce")
    income = pd.to_numeric(batch["annual_income"], errors="coerce")
    good = age.between(18, 85) & (age == age.round())
    good &= batch["annual_income"].isna() | (np.isfinite(income) & (income > 0))
    good &= batch["channel"].isin(CHANNELS)
    if len(batch) and (~good).mean() > MAX_BAD_SHARE:
        return batch.iloc[0:0], batch
    return batch[good], batch[~good]


def _batch(ages, incomes, channels, index=None) -> pd.DataFrame:
    frame = pd.DataFrame({"application_id": [f"A{i:03d}" for i in range(len(ages))],
                          "age": pd.Series(ages, dtype="float64"),
                          "annual_income": pd.Series(incomes, dtype="float64"),
                          "channel": pd.Series(channels, dtype=object)})
    frame.index = index if index is not None else [50 + 3 * i for i in range(len(ages))]
    return frame


def _batch_cases() -> list[compare.Case]:
    fine = dict(ages=[30.0] * 20, incomes=[40_000.0] * 20, channels=["online"] * 20)

    def case(name, frame):
        want_accepted, want_quarantined = ref_split_batch(frame)

        def verify(result):
            if not isinstance(result, tuple) or len(result) != 2:
                raise Wrong(f"expected a tuple (accepted, quarantined), got {compare.describe(result)}")
            accepted, quarantined = result
            for part, got in (("accepted", accepted), ("quarantined", quarantined)):
                if not isinstance(got, pd.DataFrame):
                    raise Wrong(f"{part} should be a DataFrame, got {compare.describe(got)}")
            rows_out = list(accepted.index) + list(quarantined.index)
            if len(rows_out) < len(frame):
                raise Wrong(f"{len(frame) - len(rows_out)} row(s) were lost: every row must end up "
                            "either accepted or quarantined, never dropped")
            if len(rows_out) > len(frame):
                raise Wrong("some rows appear twice: a row is either accepted or quarantined")
            if any(r not in frame.index for r in rows_out) or len(set(rows_out)) < len(rows_out):
                raise Wrong("the rows returned do not carry the batch's index labels: return rows "
                            "of `batch` as they are (no `reset_index`), each once")
            if set(accepted.index) == set(want_accepted.index) and \
                    set(quarantined.index) == set(want_quarantined.index):
                return
            wrongly_held = [r for r in quarantined.index if r in set(want_accepted.index)]
            wrongly_passed = [r for r in accepted.index if r in set(want_quarantined.index)]
            if len(want_accepted) and not len(accepted) and len(quarantined) == len(frame):
                bad = len(want_quarantined) / len(frame)
                raise Wrong(f"this batch should not be rejected as a whole: {bad:.0%} of its rows "
                            "are not valid, which is not more than 10%")
            if not len(want_accepted) and len(accepted):
                raise Wrong("this batch should be rejected as a whole (too many bad rows, or a "
                            "column missing): accept nothing and quarantine every row")
            if wrongly_held:
                row = frame.loc[wrongly_held[0]]
                if pd.isna(row["annual_income"]):
                    raise Wrong("a row with a missing income was quarantined: a missing income is "
                                "allowed (the pipeline imputes it)")
                raise Wrong(f"row {wrongly_held[0]!r} (age {row['age']}, income {row['annual_income']}, "
                            f"channel {row['channel']!r}) is valid but was quarantined")
            if not wrongly_passed:
                raise Wrong("the rows are not split as the specification says")
            row = frame.loc[wrongly_passed[0]]
            if isinstance(row["channel"], str) and row["channel"].strip().lower() in CHANNELS:
                raise Wrong(f"row {wrongly_passed[0]!r} has the channel {row['channel']!r}, which is "
                            "not one of the exact values, yet it was accepted: compare the text as "
                            "it is (no strip, no lower-casing); a validator reports dirty data")
            raise Wrong(f"row {wrongly_passed[0]!r} (age {row['age']}, income {row['annual_income']}, "
                        f"channel {row['channel']!r}) breaks a rule but was accepted")
        return compare.Case(name, (frame,), verify, keep_inputs=True)

    one_bad = _batch([30.0] * 19 + [17.0], [40_000.0] * 20, ["online"] * 20)
    # each bound at, just inside and just outside, one rule broken per row, 3 bad rows in 60
    # (few enough that a rule wrong on both age bounds is still not a rejected batch)
    boundaries = _batch([18.0, 85.0, 19.0, 84.0, 17.0, 86.0, 40.0, 40.0] + [40.0] * 52,
                        [50_000.0] * 6 + [0.0, 1.0] + [50_000.0] * 52,
                        ["branch", "broker", "online", "online"] + ["online"] * 56)
    # the chapter's point: a validator reports dirty text, it does not repair it
    dirty_text = _batch([30.0] * 40, [40_000.0] * 40,
                        ["Online", " branch", "BROKER "] + ["online"] * 37)
    missing_income = _batch([30.0] * 20, [np.nan, np.inf] + [40_000.0] * 18, ["online"] * 20)
    many_bad = _batch([30.0] * 16 + [200.0] * 4, [40_000.0] * 20, ["online"] * 20)
    channels = _batch([30.0] * 20, [40_000.0] * 20, ["partner_app", None] + ["branch"] * 18)
    odd_ages = _batch([30.5, np.nan] + [45.0] * 18, [40_000.0] * 20, ["online"] * 20)
    text_index = _batch(**fine, index=[f"r{i}" for i in range(20)])
    no_channel = _batch(**fine).drop(columns="channel")
    empty = _batch([], [], [])
    return [case("a clean batch", _batch(**fine)), case("a batch with one young applicant", one_bad),
            case("ages and incomes on the boundaries", boundaries),
            case("missing and infinite incomes", missing_income),
            case("unknown and missing channels", channels),
            case("channels in capitals or with spaces", dirty_text),
            case("fractional and missing ages", odd_ages),
            case("a batch with text row labels", text_index),
            case("a batch where 20% of rows are bad", many_bad),
            case("a batch without the channel column", no_channel),
            case("an empty batch", empty)]


def _drops_bad_rows(batch):
    accepted, _ = ref_split_batch(batch)
    return accepted, batch.iloc[0:0]


def _income_required(batch):
    if "annual_income" in batch:
        accepted, quarantined = ref_split_batch(batch.fillna({"annual_income": -1.0}))
        return batch.loc[accepted.index], batch.loc[quarantined.index]
    return ref_split_batch(batch)


def _never_rejects(batch):
    if any(c not in batch.columns for c in REQUIRED):
        return batch.iloc[0:0], batch
    age = batch["age"]
    income = batch["annual_income"]
    good = age.between(18, 85) & (age == age.round())
    good &= income.isna() | (np.isfinite(income) & (income > 0))
    good &= batch["channel"].isin(CHANNELS)
    return batch[good], batch[~good]


def _rejects_at_ten_percent(batch):
    accepted, quarantined = ref_split_batch(batch)
    if len(batch) and len(quarantined) / len(batch) >= MAX_BAD_SHARE:
        return batch.iloc[0:0], batch
    return accepted, quarantined


def _exclusive_ages(batch):
    if "age" in batch:
        shifted = batch.assign(age=batch["age"].where(~batch["age"].isin([18.0, 85.0]), 0.0))
        accepted, quarantined = ref_split_batch(shifted)
        return batch.loc[accepted.index], batch.loc[quarantined.index]
    return ref_split_batch(batch)


def _lower_cases_channel(batch):
    if "channel" in batch:
        cleaned = batch.assign(channel=batch["channel"].str.strip().str.lower())
        accepted, quarantined = ref_split_batch(cleaned)
        return batch.loc[accepted.index], batch.loc[quarantined.index]
    return ref_split_batch(batch)


@exercise("3.5", "Quarantine, do not drop", workbook=WORKBOOK,
          hints=["Build one boolean mask `good` with a condition per rule, combined with `&`; "
                 "then `batch[good]` and `batch[~good]` split the rows without losing any.",
                 "A comparison with NaN is False: `income > 0` is False for a missing income, so "
                 "allow missing explicitly with `income.isna() | (...)`; `np.isfinite` rules out inf.",
                 "Check the batch-level rules first (a required column missing) and last (more "
                 "than 10% of rows bad): then accept nothing, `batch.iloc[0:0]`, and quarantine "
                 "the whole batch."],
          reference=lambda: ref_split_batch,
          mistakes=[(lambda: _drops_bad_rows, "lost"),
                    (lambda: _income_required, "missing income is allowed"),
                    (lambda: _never_rejects, "rejected as a whole"),
                    (lambda: _rejects_at_ten_percent, "not more than 10%"),
                    (lambda: _exclusive_ages, "valid but was quarantined"),
                    (lambda: _lower_cases_channel, "not one of the exact values")],
          mutate=ref_split_batch)
def check_split_batch(answer) -> str:
    compare.function(answer, _batch_cases(), what="split_batch")
    return ("Rows in = rows accepted + rows quarantined, on every batch. "
            "`mlecourse.lender.data.validation.validate_batch` follows the same rules, with a report.")
