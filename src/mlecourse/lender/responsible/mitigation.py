"""Mitigating the bias: before training, during training, after training, and at the source.

The three stages the fairness literature names, each as a function that
returns something the audit (:mod:`mlecourse.lender.responsible.fairness`) can measure:

* **pre-processing**: :func:`reweighing_weights` (Kamiran and Calders, 2012)
  weights each (group, outcome) cell so that group and outcome look
  independent in training;
* **in-processing**: :func:`fit_exponentiated_gradient` (Agarwal et al., 2018)
  trains a randomised mixture of models under a fairness constraint, and
  :func:`fit_unconstrained` the same learner on the same rows without it, so
  that the price reported is the constraint's, not the learner's;
* **post-processing**: :func:`fit_threshold_optimizer` (Hardt et al., 2016)
  picks group-specific thresholds on a trained model's scores, and
  :func:`policy_thresholds` does the same for the lender's own cost and an
  approval-ratio policy, raising :class:`PolicyError` when no threshold can
  meet it.

The search for a less discriminatory alternative (a model that never sees the
group when deciding) lives in :mod:`mlecourse.lender.responsible.alternatives`;
:func:`less_discriminatory_alternatives` is re-exported here.

And one fix only a synthetic world can check: :func:`with_true_records`
replaces the biased bureau score by the score without its penalty, which the
generator knows (:func:`mlecourse.lender.data.loans.simulate`).
"""
from __future__ import annotations

import warnings
from contextlib import contextmanager

import numpy as np
import pandas as pd

from mlecourse.lender import features
from mlecourse.lender.data import loans
from mlecourse.lender.modeling import estimators
from mlecourse.lender.business import COSTS, Costs, decision_cost
from mlecourse.lender.responsible.alternatives import less_discriminatory_alternatives  # noqa: F401
from mlecourse.lender.responsible.fairness import check_sensitive


class PolicyError(ValueError):
    """No decision rule can meet the policy as stated; the message says what can."""


@contextmanager
def quiet_fairlearn():
    """fairlearn's reductions warn on every pandas call (Pandas4Warning, FutureWarning):
    silence them for the call only, so real warnings elsewhere still show."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", category=Warning, module="fairlearn")
        warnings.filterwarnings("ignore", message=".*Pandas4Warning.*")
        try:
            from pandas.errors import Pandas4Warning
            warnings.simplefilter("ignore", Pandas4Warning)
        except ImportError:  # an older pandas has no such class
            pass
        yield


# --- pre-processing ---------------------------------------------------------------

def reweighing_weights(y, sensitive) -> np.ndarray:
    """Kamiran and Calders' weights: P(group) P(outcome) / P(group, outcome), per row.

    Under these weights group and outcome are independent, so a model cannot
    learn that one group defaults more from the labels alone. Every cell
    must have members (a group with no defaults has no weight to give).
    """
    groups = check_sensitive(sensitive, len(np.asarray(y))).to_numpy()
    outcome = np.asarray(y).astype(int)
    frame = pd.DataFrame({"g": groups, "y": outcome})
    joint = frame.value_counts(normalize=True)
    if len(joint) < frame["g"].nunique() * frame["y"].nunique():
        raise PolicyError("a group has no rows of one outcome, so reweighing cannot balance it; "
                          "merge small groups first")
    p_group = frame["g"].map(frame["g"].value_counts(normalize=True))
    p_outcome = frame["y"].map(frame["y"].value_counts(normalize=True))
    p_joint = pd.Series(list(zip(groups, outcome))).map(joint)
    return (p_group * p_outcome / p_joint).to_numpy(float)


def train_reweighed(train: pd.DataFrame, sensitive: str = "ethnicity", kind: str = "boosting"):
    """The course's model trained with reweighing weights (the group is used in training only)."""
    X, y = features.features_and_target(train)
    weights = reweighing_weights(y, train[sensitive])
    return estimators.make_model(kind).fit(X, y, model__sample_weight=weights)


# --- in-processing ------------------------------------------------------------------

def cost_objective(costs: Costs = COSTS):
    """fairlearn's ErrorRate weighted by the lender's two costs (they sum to 1)."""
    from fairlearn.reductions import ErrorRate

    total = costs.missed_default + costs.wrong_refusal
    return ErrorRate(costs={"fp": costs.wrong_refusal / total, "fn": costs.missed_default / total})


class ReducedModel:
    """An ExponentiatedGradient mixture behind the course's fitted preprocessor.

    ``predict(X)`` returns refusals (True = refuse); the mixture is randomised,
    so a seed fixes which of its models decides each application.
    """

    def __init__(self, preprocessor, mitigator):
        self.preprocessor, self.mitigator = preprocessor, mitigator

    def predict(self, X, random_state: int = 0) -> np.ndarray:
        with quiet_fairlearn():
            return self.mitigator.predict(self.preprocessor.transform(X),
                                          random_state=random_state).astype(bool)

    def predict_proba(self, X) -> np.ndarray:
        """The mixture's probability of refusing (its weighted vote), per application."""
        with quiet_fairlearn():
            return self.mitigator._pmf_predict(self.preprocessor.transform(X))


def same_rows(train: pd.DataFrame, rows: int = 6000, seed: int = 0) -> pd.DataFrame:
    """The subsample the in-processing methods fit on: ``rows`` applications of ``train``.

    One function for the constrained model and its unconstrained twin, so that
    both see exactly the same applications.
    """
    return train.sample(n=min(rows, len(train)), random_state=seed)


def fit_exponentiated_gradient(train: pd.DataFrame, constraint: str = "demographic_parity",
                               bound: float = 0.02, rows: int = 6000, max_iter: int = 20,
                               sensitive: str = "ethnicity", seed: int = 0) -> ReducedModel:
    """Agarwal et al.'s reductions: logistic regressions under a constraint, on the lender's cost.

    Each iteration refits the base model, so ``rows`` (a random subsample of
    ``train``, :func:`same_rows`) and ``max_iter`` keep the fit to a few
    seconds; logistic regression is the base model for the same reason (a
    boosted model per iteration would take a minute). Compare it with
    :func:`fit_unconstrained` on the same arguments, not with the course's
    boosted model: that comparison mixes the price of the constraint with the
    price of a weaker learner on fewer rows. ``constraint``:
    ``demographic_parity`` (equal refusal rates) or ``equalized_odds`` (equal
    TPR and FPR).
    """
    from fairlearn.reductions import DemographicParity, EqualizedOdds, ExponentiatedGradient
    from sklearn.linear_model import LogisticRegression

    kinds = {"demographic_parity": DemographicParity, "equalized_odds": EqualizedOdds}
    if constraint not in kinds:
        raise PolicyError(f"unknown constraint {constraint!r}; use one of {', '.join(kinds)}")
    sample = same_rows(train, rows, seed)
    X, y = features.features_and_target(sample)
    preprocessor = features.build_preprocessor(scale=True).fit(X)
    mitigator = ExponentiatedGradient(LogisticRegression(max_iter=1000),
                                      kinds[constraint](difference_bound=bound),
                                      objective=cost_objective(), max_iter=max_iter)
    with quiet_fairlearn():
        mitigator.fit(preprocessor.transform(X), y.to_numpy(),
                      sensitive_features=check_sensitive(sample[sensitive]).to_numpy())
    return ReducedModel(preprocessor, mitigator)


def fit_unconstrained(train: pd.DataFrame, rows: int = 6000, seed: int = 0):
    """The same learner as :func:`fit_exponentiated_gradient`, on the same rows, with no constraint.

    A logistic regression behind the same scaled features, fitted on
    :func:`same_rows` of ``train``; decide with the lender's cost threshold.
    Its cost and gaps are the baseline against which the constraint's price
    is read.
    """
    return estimators.train_model(same_rows(train, rows, seed), "logistic")


# --- post-processing ------------------------------------------------------------------

def fit_threshold_optimizer(model, valid: pd.DataFrame, constraint: str = "demographic_parity",
                            sensitive: str = "ethnicity"):
    """fairlearn's ThresholdOptimizer on a fitted model, chosen on ``valid``.

    It needs the group at decision time: ``predict(X, sensitive_features=...)``.
    Its objective is balanced accuracy, the nearest it offers to this
    lender's cost (which weighs a missed default five times a wrong refusal).
    """
    from fairlearn.postprocessing import ThresholdOptimizer

    X, y = features.features_and_target(valid)
    optimizer = ThresholdOptimizer(estimator=model, constraints=constraint, prefit=True,
                                   predict_method="predict_proba", objective="balanced_accuracy_score")
    with quiet_fairlearn():
        optimizer.fit(X, y, sensitive_features=check_sensitive(valid[sensitive]).to_numpy())
    return optimizer


def _approval_at(scores: np.ndarray, threshold: float) -> float:
    return float(np.mean(scores <= threshold))


def policy_thresholds(y, scores, sensitive, min_ratio: float, focus: str = "minority",
                      costs: Costs = COSTS, grid: int = 201) -> dict:
    """Group thresholds of least cost such that ``focus``'s approval rate is at least
    ``min_ratio`` times everyone else's.

    The others keep the cost threshold; ``focus``'s threshold is the lowest
    on a grid of its score quantiles that meets the ratio. Raises
    PolicyError when no threshold can: the ratio would need an approval
    rate above 100%. Returns the thresholds, approval rates, ratio and cost.
    """
    scores, y = np.asarray(scores, float), np.asarray(y).astype(bool)
    groups = check_sensitive(sensitive, len(scores)).to_numpy()
    inside = groups == focus
    if not inside.any() or inside.all():
        raise PolicyError(f"group {focus!r} has no members in these data (or is everyone)")
    others = _approval_at(scores[~inside], costs.threshold)
    needed = min_ratio * others
    if needed > 1:
        raise PolicyError(f"no threshold meets an approval ratio of {min_ratio:g}: the others are "
                          f"approved at {others:.1%}, so {focus!r} would need {needed:.1%}; "
                          f"the highest ratio any threshold reaches is {1 / others:.3f}")
    candidates = np.unique(np.r_[costs.threshold, np.quantile(scores[inside], np.linspace(0, 1, grid)), 1.0])
    meeting = [t for t in candidates if t >= costs.threshold and _approval_at(scores[inside], t) >= needed]
    threshold = float(min(meeting))  # the lowest that meets it refuses the most risk
    refuse = np.where(inside, scores > threshold, scores > costs.threshold)
    rate = _approval_at(scores[inside], threshold)
    return {"thresholds": {focus: threshold, "others": costs.threshold},
            "approval": {focus: rate, "others": others}, "ratio": rate / others,
            "cost": decision_cost(y, refuse, costs), "refuse": refuse}


# --- the source: the measurement itself -----------------------------------------------------

def with_true_records(frame: pd.DataFrame, world: pd.DataFrame | None = None) -> pd.DataFrame:
    """``frame`` with ``credit_score`` replaced by the bureau's score without its penalty.

    Only the generator knows that score (``unbiased_credit_score`` of
    :func:`mlecourse.lender.data.loans.simulate`); rows are matched on
    ``application_id``. Thin files stay without a score, as in the records.
    The truth columns of the world come along, prefixed ``true_``.
    """
    world = loans.simulate() if world is None else world
    truth = world.set_index("application_id")
    ids = frame["application_id"]
    unknown = ~ids.isin(truth.index)
    if unknown.any():
        raise PolicyError(f"{int(unknown.sum())} application id(s) are not in the generator's world, "
                          f"e.g. {ids[unknown].iloc[0]!r}; use rows of data/loans.csv.gz")
    row = truth.loc[ids]
    return frame.assign(
        credit_score=row["unbiased_credit_score"].to_numpy(),
        true_default_probability=row["default_probability"].to_numpy(),
        true_fair_default_probability=row["fair_default_probability"].to_numpy())
