"""Privacy: what in the data is personal, how identifiable a release is, and what the model leaks.

* :data:`FIELDS` classifies every column of the data (direct identifier,
  quasi-identifier, sensitive, other) and says whether it may leave the lender.
* :func:`k_anonymity` is the size of the smallest group of rows that share
  their quasi-identifiers (Sweeney, 2002): with k = 1, someone who knows a
  person's age, district and loan purpose finds their row.
* :func:`generalise` coarsens quasi-identifiers (ages into bands, districts
  into regions); :func:`reach_k` climbs a ladder of such steps until a
  target k holds, and says so when even the coarsest step does not.
* :func:`membership_advantage` runs a loss-threshold membership-inference
  attack (Yeom et al., 2018): can an attacker with the model tell whether a
  person's loan was in the training set?
"""
from __future__ import annotations

import numpy as np
import pandas as pd

# column: (kind, may it leave the lender in a release?)
FIELDS = {
    "application_id": ("direct identifier", "no: replace by a random key per release"),
    "customer_id": ("direct identifier", "no: replace by a random key per release"),
    "application_date": ("quasi-identifier", "as month only"),
    "age": ("quasi-identifier", "in bands"),
    "neighbourhood": ("quasi-identifier", "as region only"),
    "region": ("quasi-identifier", "yes"),
    "annual_income": ("quasi-identifier", "in bands"),
    "employment_type": ("quasi-identifier", "yes"),
    "ethnicity": ("sensitive (protected attribute)", "only aggregated, for audits"),
    "defaulted": ("sensitive (financial outcome)", "only aggregated or under contract"),
    "previous_defaults": ("sensitive (financial history)", "only under contract"),
    "credit_score": ("sensitive (financial history)", "only under contract"),
}
QUASI_IDENTIFIERS = ("age", "neighbourhood")  # what a neighbour, or a social network, knows


class PrivacyError(ValueError):
    """A release cannot be checked or made k-anonymous as asked."""


def k_anonymity(frame: pd.DataFrame, quasi_identifiers=QUASI_IDENTIFIERS) -> int:
    """The size of the smallest equivalence class (rows equal on all quasi-identifiers)."""
    missing = [c for c in quasi_identifiers if c not in frame.columns]
    if missing:
        raise PrivacyError(f"the release has no column {', '.join(map(repr, missing))}; "
                           f"it has {', '.join(map(str, frame.columns))}")
    if frame.empty:
        raise PrivacyError("the release is empty: k-anonymity is not defined for no rows")
    return int(frame.groupby(list(quasi_identifiers), dropna=False).size().min())


YOUNGEST = 18  # the product lends from 18: bands start there


def age_band(age: pd.Series, width: int, top: int | None = None) -> pd.Series:
    """Ages as bands of ``width`` years from 18: 37 with width 10 is ``"28-37"``.

    Ages from ``top`` on are one open band (``"68+"``): the old are few, and a
    band of three people identifies them. A missing age is the band
    ``"unknown"``: it is a value an attacker can match on too.
    """
    if width < 1:
        raise PrivacyError(f"an age band must be at least one year wide, got {width}")
    age = pd.Series(age, dtype="float64")
    low = YOUNGEST + ((age - YOUNGEST) // width) * width

    def label(a: float, lo: float) -> str:
        if pd.isna(a):
            return "unknown"
        if top is not None and a >= top:
            return f"{top}+"
        return f"{int(lo)}-{int(lo) + width - 1}"

    return pd.Series([label(a, lo) for a, lo in zip(age, low)], index=age.index, dtype=object)


def region_of(neighbourhood: pd.Series) -> pd.Series:
    """The region of a district (N01-N08 north, N09-N16 south, ...), as the generator assigns it."""
    from mlecourse.lender.data.loans import REGIONS

    number = pd.Series(neighbourhood).str.lstrip("N").astype(int)
    return number.map(lambda n: REGIONS[(n - 1) // 8])


# From finest to coarsest: (age band width or None for exact, location, open top band from)
LADDER = ((None, "district", None), (5, "district", None), (10, "district", 68),
          (10, "region", 68), (20, "region", 58), (40, "region", 58))


def generalise(frame: pd.DataFrame, age_width: int | None, location: str, top: int | None = None) -> pd.DataFrame:
    """``frame`` with ``age`` in bands (None keeps it exact) and ``neighbourhood`` kept or
    replaced by its region (``location`` is ``district`` or ``region``)."""
    if location not in ("district", "region"):
        raise PrivacyError(f"location must be 'district' or 'region', got {location!r}")
    out = frame.copy()
    if age_width is not None:
        out["age"] = age_band(out["age"], age_width, top).to_numpy()
    if location == "region":
        out["neighbourhood"] = region_of(out["neighbourhood"]).to_numpy()
    return out


def reach_k(frame: pd.DataFrame, k: int, quasi_identifiers=QUASI_IDENTIFIERS) -> tuple[pd.DataFrame, tuple]:
    """The finest step of :data:`LADDER` at which the release is k-anonymous, and that step."""
    if k < 1:
        raise PrivacyError(f"k must be at least 1, got {k}")
    for step in LADDER:
        released = generalise(frame, *step)
        if k_anonymity(released, quasi_identifiers) >= k:
            return released, step
    raise PrivacyError(f"no step of the ladder reaches k = {k} (the coarsest gives "
                       f"k = {k_anonymity(released, quasi_identifiers)}); suppress the rarest rows "
                       "or drop a quasi-identifier, and say which in the release notes")


def _log_loss_per_row(model, X, y) -> np.ndarray:
    p = np.clip(model.predict_proba(X)[:, 1], 1e-12, 1 - 1e-12)
    y = np.asarray(y)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def membership_advantage(model, X_members, y_members, X_outsiders, y_outsiders,
                         rows: int = 4000, seed: int = 0) -> dict:
    """A loss-threshold membership-inference attack on equal numbers of members and outsiders.

    The attacker guesses "was in training" when a person's loss is small.
    Returns the attack's ROC AUC (0.5: no better than a coin) and the
    membership advantage, the best TPR - FPR over thresholds (0: no leak).
    """
    from sklearn.metrics import roc_auc_score, roc_curve

    n = min(rows, len(X_members), len(X_outsiders))
    if n == 0:
        raise PrivacyError("the attack needs members and outsiders; one of the sets is empty")
    rng = np.random.default_rng(seed)
    pick_in = rng.choice(len(X_members), n, replace=False)
    pick_out = rng.choice(len(X_outsiders), n, replace=False)
    loss = np.r_[_log_loss_per_row(model, X_members.iloc[pick_in], np.asarray(y_members)[pick_in]),
                 _log_loss_per_row(model, X_outsiders.iloc[pick_out], np.asarray(y_outsiders)[pick_out])]
    member = np.r_[np.ones(n), np.zeros(n)]
    fpr, tpr, _ = roc_curve(member, -loss)
    return {"attack_auc": float(roc_auc_score(member, -loss)), "advantage": float(np.max(tpr - fpr)),
            "rows_each": int(n)}
