"""The search for a less discriminatory alternative (LDA): a model as good for the lender, fairer to the group.

US fair-lending practice asks a lender whose model has a disparate impact
whether another model would serve the same business need with less of it
(Black et al., 2024, "Less Discriminatory Algorithms"). Many models predict
about equally well; they differ in whom they refuse. The search looks
among models that never see the protected attribute when deciding, so that
whatever it finds can be used without disparate treatment:

* **inputs**: a candidate may leave out inputs that carry the group (the
  lender's legacy ``interest_rate``, ``region``). A left-out input is held at
  one value for everyone (its training median or commonest value), so the
  model cannot use it and the ratios the pipeline computes from it still exist;
* **model class**: ``estimators.make_model``'s kinds (boosting, logistic);
* **threshold**: the lender's cost threshold, or the cheapest threshold on
  the first half of the selection year.

:func:`less_discriminatory_alternatives` fits every candidate on the
training years and judges it on the selection year (the validation year,
never the test year): a ``cheapest`` threshold is chosen on the first half
of that year and every candidate is scored on the second half, so that no
candidate is judged on the rows that set its threshold (a threshold scored
where it was chosen looks cheaper than it is, and the search would favour
it). :func:`choose_alternative` keeps the candidates that cost at most a
stated share more than the baseline and returns the one with the smallest
approval gap. Report the choice on a later year.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlecourse.lender import features
from mlecourse.lender.business import COSTS, Costs, decision_cost
from mlecourse.lender.modeling import model_cache
from mlecourse.lender.responsible import fairness

THRESHOLDS = ("cost", "cheapest")


class SearchError(ValueError):
    """The search cannot run as asked; the message says why and what to do."""


@dataclass(frozen=True)
class Candidate:
    """One model to try: its class, the inputs it may not use, and how it sets its threshold."""

    kind: str = "boosting"
    without: tuple[str, ...] = ()
    threshold: str = "cost"

    def __post_init__(self):
        unknown = [c for c in self.without if c not in features.RAW_FEATURES]
        if unknown:
            raise SearchError(f"{', '.join(unknown)} is not a model input; inputs are features.RAW_FEATURES")
        if self.threshold not in THRESHOLDS:
            raise SearchError(f"threshold must be one of {', '.join(THRESHOLDS)}, got {self.threshold!r}")

    @property
    def name(self) -> str:
        inputs = "all inputs" if not self.without else "without " + " and ".join(self.without)
        return f"{self.kind}, {inputs}, {self.threshold} threshold"


# Inputs the fairness audit finds carrying the group (the proxy measure of the
# ethics chapter): the legacy price first, then the region.
DEFAULT_CANDIDATES = tuple(Candidate(kind, without, threshold)
                           for kind in ("boosting", "logistic")
                           for without in ((), ("interest_rate",), ("interest_rate", "region"))
                           for threshold in THRESHOLDS)
BASELINE = Candidate("boosting", (), "cost")  # the course's model, as served


class Alternative:
    """A fitted candidate: decides from the application alone, never from the group.

    ``predict_proba(X)`` holds the left-out inputs at their fixed values and
    calls the model; ``refuse(X)`` applies the threshold. ``inputs`` are the
    application fields it reads.
    """

    def __init__(self, candidate: Candidate, model, fills: dict, threshold: float):
        self.candidate, self.model, self.fills, self.threshold = candidate, model, dict(fills), float(threshold)

    @property
    def inputs(self) -> tuple[str, ...]:
        return tuple(c for c in features.RAW_FEATURES if c not in self.fills)

    def uses(self, attribute: str) -> bool:
        """Whether deciding needs ``attribute``: it would have to be an input of the model."""
        return attribute in self.inputs or attribute in getattr(self.model, "feature_names_in_", ())

    def blind(self, X: pd.DataFrame) -> pd.DataFrame:
        return X.assign(**self.fills) if self.fills else X

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self.model.predict_proba(self.blind(X[list(features.RAW_FEATURES)]))

    def refuse(self, X: pd.DataFrame) -> np.ndarray:
        return self.predict_proba(X)[:, 1] > self.threshold

    def __repr__(self) -> str:
        return f"<{self.candidate.name}: refuse above {self.threshold:.3f}>"


def fixed_values(train: pd.DataFrame, without) -> dict:
    """The value each left-out input is held at: the training median, or the commonest category."""
    return {c: float(train[c].median()) if c in features.NUMERIC else train[c].mode().iloc[0]
            for c in without}


def cheapest_threshold(y, scores, costs: Costs = COSTS, grid: int = 199) -> float:
    """The threshold on ``scores`` (refuse above it) of least cost on these outcomes."""
    candidates = np.unique(np.r_[costs.threshold, np.quantile(scores, np.linspace(0.005, 0.995, grid))])
    spent = [decision_cost(y, scores > t, costs) for t in candidates]
    return float(candidates[int(np.argmin(spent))])


def fit(candidate: Candidate, train: pd.DataFrame, tune: pd.DataFrame, costs: Costs = COSTS) -> Alternative:
    """``candidate`` trained on ``train``; a ``cheapest`` threshold is chosen on ``tune``."""
    fills = fixed_values(train, candidate.without)
    model = model_cache.trained(train.assign(**fills) if fills else train, candidate.kind)
    alternative = Alternative(candidate, model, fills, costs.threshold)
    if candidate.threshold == "cheapest":
        X, y = features.features_and_target(tune)
        alternative.threshold = cheapest_threshold(y, alternative.predict_proba(X)[:, 1], costs)
    return alternative


def halves(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``frame`` cut in two at its median application date: (earlier half, later half)."""
    dates = frame[features.DATE]
    middle = dates.sort_values().iloc[len(dates) // 2]
    earlier, later = frame[dates < middle], frame[dates >= middle]
    if earlier.empty or later.empty:
        raise SearchError("the selection rows span a single day: there is no earlier half to choose "
                          "thresholds on; give a longer period")
    return earlier, later


def scores(alternative: Alternative, frame: pd.DataFrame, sensitive: str = "ethnicity",
           costs: Costs = COSTS) -> dict:
    """What the audit reports of one alternative's decisions on ``frame``."""
    X, y = features.features_and_target(frame)
    refuse = alternative.refuse(X)
    gaps = fairness.disparities(y, refuse, frame[sensitive])
    return {"cost": decision_cost(y, refuse, costs), "approval_gap": gaps["approval_gap"],
            "approval_ratio": gaps["approval_ratio"],
            "equalized_odds_difference": gaps["equalized_odds_difference"]}


def less_discriminatory_alternatives(train: pd.DataFrame, select: pd.DataFrame,
                                     candidates=DEFAULT_CANDIDATES, *, sensitive: str = "ethnicity",
                                     costs: Costs = COSTS) -> pd.DataFrame:
    """Every candidate fitted on ``train`` and judged on ``select``, one row each.

    ``select`` is the period the choice is made on (the validation year), never
    the one it is reported on: its earlier half (:func:`halves`) sets the
    ``cheapest`` thresholds, its later half is where every candidate's cost
    and gaps are measured. Columns: ``kind``, ``without``, ``threshold``
    (the number), ``cost`` per application, ``approval_gap``,
    ``approval_ratio``, ``equalized_odds_difference``,
    ``uses_protected_attribute`` (False for every candidate: none has the
    attribute among its inputs, and the search refuses one that would) and
    ``model``, the fitted :class:`Alternative`. Indexed by the candidate's name.
    """
    candidates = list(candidates)
    if not candidates:
        raise SearchError("no candidates to search; give at least the baseline")
    if sensitive in features.RAW_FEATURES:
        raise SearchError(f"{sensitive!r} is a model input: no candidate could avoid it")
    for part, name in ((train, "train"), (select, "select")):
        if sensitive not in part.columns:
            raise SearchError(f"the {name} rows have no {sensitive!r} column to audit with")
    tune, judge = halves(select)
    rows = {}
    for candidate in candidates:
        alternative = fit(candidate, train, tune, costs)
        if alternative.uses(sensitive):  # cannot happen with the course's inputs; stop if it ever does
            raise SearchError(f"{candidate.name} would decide with {sensitive!r}: disparate treatment")
        rows[candidate.name] = {"kind": candidate.kind, "without": ", ".join(candidate.without) or "-",
                                "threshold": alternative.threshold,
                                **scores(alternative, judge, sensitive, costs),
                                "uses_protected_attribute": alternative.uses(sensitive),
                                "model": alternative}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "candidate"
    return table


def choose_alternative(table: pd.DataFrame, baseline: str = BASELINE.name,
                       max_extra_cost: float = 0.01) -> str:
    """The candidate with the smallest approval gap among those that cost at most
    ``max_extra_cost`` (a share: 0.01 is 1%) more than ``baseline``; ties go to the cheaper.

    A candidate that uses the protected attribute is never chosen. Returns its
    name (an index of ``table``); the baseline itself if nothing is fairer.
    """
    if baseline not in table.index:
        raise SearchError(f"the baseline {baseline!r} is not among the candidates")
    if max_extra_cost < 0:
        raise SearchError(f"max_extra_cost is a share of the baseline's cost, at least 0; got {max_extra_cost}")
    allowed = table[~table["uses_protected_attribute"].astype(bool)
                    & (table["cost"] <= table.loc[baseline, "cost"] * (1 + max_extra_cost))]
    if baseline not in allowed.index:
        raise SearchError("the baseline itself uses the protected attribute; search from a lawful baseline")
    return str(allowed.sort_values(["approval_gap", "cost"], kind="stable").index[0])
