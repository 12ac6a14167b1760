"""From raw loan records to model features: cleaning, splitting by time, one pipeline.

This is the production side of the chapter "The ML lifecycle". Three rules
shape it:

* **Cleaning keeps rows.** A bad value becomes missing (and the imputer
  deals with it) unless its cause is known and reversible; only exact
  duplicates are dropped. Every decision is counted in a :class:`CleaningLog`.
* **Split by time.** A lender scores next month's applicants with a model
  trained on the past, so validation must do the same (:func:`split_by_date`).
* **One transformation path.** :func:`build_preprocessor` returns one
  scikit-learn object that turns raw application fields into features. It
  is fitted on training data only, saved inside the model, and used
  unchanged by the service in the deployment chapter, so training and
  serving cannot compute features differently (training/serving skew).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mlecourse.lender.data import loans as spec

# What an application carries when it reaches the model. ``ethnicity`` is
# never a feature; ``neighbourhood`` is left out too, because it is a proxy
# for ethnicity (the ethics chapter measures how good a proxy).
NUMERIC = ("age", "annual_income", "employment_years", "loan_amount", "loan_term_months",
           "interest_rate", "monthly_debt", "credit_score", "num_credit_lines",
           "previous_defaults")
CATEGORICAL = ("employment_type", "home_ownership", "region", "channel", "loan_purpose")
RAW_FEATURES = NUMERIC + CATEGORICAL
RATIOS = ("monthly_payment", "debt_to_income", "loan_to_income")
TARGET = "defaulted"
DATE = "application_date"

# Allowed values, from the product's rules and the datasheet (data/README.md).
CATEGORIES = {
    "employment_type": spec.EMPLOYMENT_TYPES,
    "home_ownership": ("rent", "mortgage", "own"),
    "region": spec.REGIONS,
    "channel": ("branch", "online", "broker"),
    "loan_purpose": spec.PURPOSES,
}
RANGES = {  # inclusive bounds of a plausible value; None means unbounded
    "age": (18, 85),
    "annual_income": (1.0, None),
    "employment_years": (0.0, 60.0),
    "loan_amount": (100.0, spec.MAX_LOAN_AMOUNT),
    "loan_term_months": (12, 60),
    "interest_rate": (0.0, 100.0),
    "monthly_debt": (0.0, None),
    "credit_score": (300.0, 850.0),
    "num_credit_lines": (0, None),
    "previous_defaults": (0, None),
}
TERMS = (12, 24, 36, 60)  # the only loan terms the product offers, in months
OFFERED_RATES = spec.RATE_CARD  # the only interest rates the product offers, percent a year
INTEGERS = ("age", "loan_term_months", "num_credit_lines", "previous_defaults")
# Fields an application may leave blank: the training data has them missing
# (data/README.md says why) and the pipeline imputes them. The validator and
# the model service both read this list.
OPTIONAL = ("annual_income", "employment_years", "employment_type", "home_ownership", "credit_score")

# The course's standard split: train on 2019-2020, validate on 2021, test on
# 2022 (the last year before the drifts, with every label known by 2023-12-31).
CUTS = ("2021-01-01", "2022-01-01", "2023-01-01")

REGION_SPELLINGS = {"nrth": "north", "wset": "west", "centre": "central"}


@dataclass
class CleaningLog:
    """What :func:`clean_loans` did, as counts, so that nothing happens silently."""
    rows_in: int = 0
    steps: list[tuple[str, int]] = field(default_factory=list)

    def add(self, step: str, count: int) -> None:
        self.steps.append((step, int(count)))

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(self.steps, columns=["step", "rows affected"])


def normalise_region(region: pd.Series) -> pd.Series:
    """Strip, lower-case and fix the known misspellings; other values are kept as they are."""
    fixed = region.str.strip().str.lower()
    return fixed.replace(REGION_SPELLINGS)


def clean_loans(raw: pd.DataFrame) -> tuple[pd.DataFrame, CleaningLog]:
    """The raw loans, cleaned; ``raw`` is not changed. Returns the frame and its log.

    Duplicated rows are dropped (the same application twice). The incident
    month's incomes, stored in thousands, are repaired (cause known and
    reversible). Other impossible values (ages, non-positive incomes, loan
    amounts above the product's limit) become missing: the row stays, and
    the pipeline imputes the value and flags that it did.
    """
    log = CleaningLog(rows_in=len(raw))
    dupes = raw.duplicated()
    log.add("exact duplicate rows dropped", dupes.sum())
    out = raw.loc[~dupes].copy()

    incident = out[DATE].dt.strftime("%Y-%m") == spec.INCIDENT_MONTH
    log.add(f"incomes of {spec.INCIDENT_MONTH} multiplied by 1000", incident.sum())
    out.loc[incident, "annual_income"] *= spec.INCIDENT_INCOME_DIVISOR

    region = normalise_region(out["region"])
    log.add("region spellings fixed", (region != out["region"]).sum())
    out["region"] = region

    for column, (low, high) in RANGES.items():
        values = out[column].astype("float64")
        bad = (values < low) if low is not None else pd.Series(False, index=out.index)
        if high is not None:
            bad |= values > high
        if bad.any():
            log.add(f"{column} out of range set to missing", bad.sum())
            out[column] = values.mask(bad)
    return out.reset_index(drop=True), log


def split_by_date(frame: pd.DataFrame, cuts=CUTS, date_column: str = DATE) -> list[pd.DataFrame]:
    """Cut ``frame`` at each date in ``cuts`` (each cut starts the next part).

    With cuts (a, b, c) it returns [date < a, a <= date < b, b <= date < c];
    rows on or after the last cut are left out (they are the future). Rows
    keep their order; every part may be empty.
    """
    edges = pd.to_datetime(list(cuts))
    if not edges.is_monotonic_increasing:
        raise ValueError(f"cuts must be in increasing order, got {list(cuts)}")
    dates = frame[date_column]
    lower = [None, *edges[:-1]]
    return [frame.loc[(dates >= lo if lo is not None else True) & (dates < hi)]
            for lo, hi in zip(lower, edges)]


# The annuity payment of a loan: the lender's own formula, from the generator.
monthly_payment = spec.monthly_payment


class LoanRatios(TransformerMixin, BaseEstimator):
    """Adds the ratios a lender looks at: the new payment, debt-to-income, loan-to-income.

    Stateless (nothing is learnt in ``fit``), so it is safe before the split.
    Incomes that are missing or not positive give a missing ratio, which the
    imputer then fills and flags.
    """

    def fit(self, X, y=None):
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        return self

    def transform(self, X):
        out = X.copy()
        income = X["annual_income"].where(X["annual_income"] > 0)
        payment = monthly_payment(X["loan_amount"], X["interest_rate"], X["loan_term_months"])
        out["monthly_payment"] = payment
        out["debt_to_income"] = (X["monthly_debt"] + payment) / (income / 12)
        out["loan_to_income"] = X["loan_amount"] / income
        return out

    def get_feature_names_out(self, input_features=None):
        return np.asarray([*self.feature_names_in_, *RATIOS], dtype=object)


def build_preprocessor(scale: bool = True) -> Pipeline:
    """Raw application fields in, a numeric feature table out (pandas, named columns).

    Numbers: median imputation with a missing-value indicator, then scaling.
    Categories: missing becomes its own level; a level never seen in training
    is encoded as all zeros instead of failing (the validator reports it).
    """
    numbers = [SimpleImputer(strategy="median", add_indicator=True)]
    if scale:
        numbers.append(StandardScaler())
    categories = [SimpleImputer(strategy="constant", fill_value="missing"),
                  OneHotEncoder(handle_unknown="ignore", sparse_output=False)]
    columns = ColumnTransformer(
        [("num", Pipeline([(type(s).__name__.lower(), s) for s in numbers]), [*NUMERIC, *RATIOS]),
         ("cat", Pipeline([("impute", categories[0]), ("onehot", categories[1])]), list(CATEGORICAL))],
        verbose_feature_names_out=False)
    return Pipeline([("ratios", LoanRatios()), ("columns", columns)]).set_output(transform="pandas")


def features_and_target(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """The raw feature columns and the label, in the order the pipeline expects."""
    return frame[list(RAW_FEATURES)], frame[TARGET]
