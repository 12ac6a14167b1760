"""Features from the customer's history, built without leaking the future.

A lender's warehouse is a snapshot of *today*: it knows how every past loan
ended. A feature computed from it for an application made in 2020 may use
outcomes that were only known in 2021, including the outcome of that very
application. The model then learns from information it will never have when it
scores a new applicant: **leakage** (Kaufman et al., 2012). Its validation
score is excellent and its production score is not.

The fix is a *point-in-time* (as-of) join: for each application, use only the
records whose outcome was known **before** the application date.

``warehouse_extract`` builds the wider table that the chapter's workbook
gives learners to inspect: the application fields plus three columns "from
the warehouse", one of which leaks. The three columns are synthetic, made from
the data with a fixed seed, and documented in :data:`EXTRACT_COLUMNS`.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline

from mlecourse.lender.features import RAW_FEATURES, build_preprocessor
from mlecourse.lender.modeling.estimators import make_estimator

KEYS = ("customer_id", "application_date", "outcome_known_date", "defaulted")


def _need(frame: pd.DataFrame, columns) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise KeyError(f"the frame needs the column(s) {', '.join(missing)}")


def customer_defaults_snapshot(frame: pd.DataFrame) -> pd.Series:
    """LEAKY: each customer's number of defaults in the whole frame, as a warehouse
    query run today would give it. It counts the application's own outcome and
    any later ones. Shown to be wrong; never use it."""
    _need(frame, ("customer_id", "defaulted"))
    return frame.groupby("customer_id")["defaulted"].transform("sum").rename("customer_defaults")


def customer_defaults_as_of(frame: pd.DataFrame) -> pd.Series:
    """Point in time: for each row, the customer's defaults whose outcome was known
    strictly before that row's application date. Aligned with ``frame``'s index."""
    _need(frame, KEYS)
    apps = pd.DataFrame({"customer_id": frame["customer_id"].to_numpy(),
                         "application_date": frame["application_date"].to_numpy(),
                         "position": np.arange(len(frame))})
    history = pd.DataFrame({"customer_id": frame["customer_id"].to_numpy(),
                            "known": frame["outcome_known_date"].to_numpy(),
                            "defaulted": frame["defaulted"].to_numpy()})
    pairs = apps.merge(history[history["defaulted"] > 0], on="customer_id")
    pairs = pairs[pairs["known"] < pairs["application_date"]]
    counts = pairs.groupby("position")["defaulted"].sum()
    values = counts.reindex(range(len(frame)), fill_value=0).to_numpy().astype("int64")
    return pd.Series(values, index=frame.index, name="customer_defaults")


def make_model_with(extra: Sequence[str], kind: str = "boosting") -> Pipeline:
    """The course's model with extra numeric columns next to the application fields.

    The application fields go through the usual feature pipeline; the extra
    columns are median-imputed and passed on. Unfitted.
    """
    extra = list(extra)
    parts = [("application", build_preprocessor(scale=kind == "logistic"), list(RAW_FEATURES))]
    if extra:
        parts.append(("extra", SimpleImputer(strategy="median"), extra))
    columns = ColumnTransformer(parts, verbose_feature_names_out=False).set_output(transform="pandas")
    return Pipeline([("features", columns), ("model", make_estimator(kind))])


# What the data team says about the three warehouse columns (a data dictionary).
EXTRACT_COLUMNS = {
    "bureau_enquiries_6m": "credit searches on the applicant at the bureau in the six months "
                           "before the application (from the bureau report pulled at application)",
    "months_at_address": "months the applicant has lived at their current address "
                         "(from the application form)",
    "max_days_in_arrears": "the most days any payment of this loan has been late "
                           "(from the loan servicing system, refreshed every night)",
}
EXTRACT_SEED = 3


def warehouse_extract(frame: pd.DataFrame, seed: int = EXTRACT_SEED) -> pd.DataFrame:
    """``frame`` with the three columns of :data:`EXTRACT_COLUMNS` added (a copy).

    Deterministic for a given frame and seed. ``max_days_in_arrears`` is
    recorded after the loan was made: defaulted loans are, by definition,
    90 days or more in arrears, so it leaks the outcome.
    """
    _need(frame, ("age", "num_credit_lines", "previous_defaults", "defaulted"))
    rng = np.random.default_rng(seed)
    n = len(frame)
    lines = frame["num_credit_lines"].fillna(0).to_numpy(float)
    previous = frame["previous_defaults"].fillna(0).to_numpy(float)
    enquiries = rng.poisson(0.3 + 0.15 * lines + 0.6 * np.minimum(previous, 3))
    age = frame["age"].fillna(40).clip(18, 85).to_numpy(float)
    months = np.minimum(rng.gamma(1.5, 4 + (age - 18) * 1.2), (age - 16) * 12).round()
    defaulted = frame["defaulted"].to_numpy() > 0
    # Most repaid loans were never late; some were, a few badly enough to look
    # like a default before they recovered.
    late = rng.choice([0, 15, 30, 60, 90, 120], n, p=[0.85, 0.06, 0.04, 0.02, 0.02, 0.01])
    arrears = np.where(defaulted, 90 + rng.integers(0, 270, n), late)
    return frame.assign(bureau_enquiries_6m=enquiries.astype("int64"),
                        months_at_address=months.astype("int64"),
                        max_days_in_arrears=arrears.astype("int64"))
