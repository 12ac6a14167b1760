"""The fairness audit: outcomes and errors by group, their gaps, and whether a gap is noise.

A fairness audit asks of a model's *decisions* (not its scores) how they
differ between groups of a sensitive attribute: who is approved, whose
default is caught, whose good loan is refused, and what that costs. The
numbers come from fairlearn's ``MetricFrame``; this module adds what an
audit in production needs around it:

* **Bad input stops with one line.** A sensitive column with missing values,
  a group with no members, or a group with no defaults (so its true positive
  rate does not exist) raises :class:`AuditError` naming the problem and the
  fix, instead of a NaN in a table that someone then reads as zero.
* **Approval, not "selection".** fairlearn's *selection rate* is the share
  predicted 1; here 1 means *refuse*, so the favourable outcome is its
  complement. The disparate-impact ratio and the four-fifths screen are
  computed on approval rates, as the US guidance defines them.
* **Intervals.** :func:`bootstrap_gap` resamples applicants within each group
  so that a reader can tell a gap from noise.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame, equalized_odds_difference

from mlecourse.lender.business import COSTS, Costs

FOUR_FIFTHS = 0.8  # the US Uniform Guidelines' screening ratio (29 CFR 1607.4(D))


class AuditError(ValueError):
    """The audit cannot be computed as asked; the message says why and what to do."""


def check_sensitive(sensitive, n_rows: int | None = None) -> pd.Series:
    """The sensitive column as text labels; raises AuditError if it cannot be audited."""
    s = pd.Series(sensitive).reset_index(drop=True)
    if n_rows is not None and len(s) != n_rows:
        raise AuditError(f"the sensitive column has {len(s)} values for {n_rows} decisions; "
                         "pass one value per applicant, in the same order")
    missing = int(s.isna().sum())
    if missing:
        raise AuditError(f"the sensitive column has {missing} missing value(s); an audit cannot "
                         "place those applicants in a group: fill them (e.g. 'unknown') or drop "
                         "those rows and say so in the report")
    if s.nunique() < 2:
        raise AuditError(f"the sensitive column has only one group ({s.iloc[0]!r} if any): "
                         "there is nothing to compare; check the slice you audit")
    return s.astype(str)


def _arrays(y_true, refuse, sensitive):
    y = np.asarray(y_true).astype(bool)
    r = np.asarray(refuse).astype(bool)
    if y.shape != r.shape:
        raise AuditError(f"outcomes and decisions differ in length: {y.shape[0]} vs {r.shape[0]}")
    return y, r, check_sensitive(sensitive, len(y))


def _rate(part: np.ndarray, of: np.ndarray) -> float:
    return float(part.sum() / of.sum())


def _metrics(costs: Costs) -> dict:
    """The audit's metrics; each takes (defaulted, refused) arrays of one group."""
    return {
        "applicants": lambda y, r: float(len(y)),
        "approval_rate": lambda y, r: float(np.mean(~r)),
        "refusal_rate": lambda y, r: float(np.mean(r)),
        # of the loans that defaulted, the share refused (caught)
        "tpr": lambda y, r: _rate(y & r, y),
        # of the loans that were repaid, the share refused (good customers turned away)
        "fpr": lambda y, r: _rate(~y & r, ~y),
        # of the refusals, the share that would have defaulted
        "precision": lambda y, r: _rate(y & r, r) if r.any() else float("nan"),
        "cost": lambda y, r: float((np.sum(y & ~r) * costs.missed_default
                                    + np.sum(~y & r) * costs.wrong_refusal) / len(y)),
    }


def _require_members(y: np.ndarray, r: np.ndarray, groups: pd.Series) -> None:
    """Every group must have applicants, defaults, repaid loans and refusals to be audited."""
    for name, rows in groups.groupby(groups).groups.items():
        rows = np.asarray(rows)
        needs = {"defaults (so its true positive rate is undefined)": y[rows].any(),
                 "repaid loans (so its false positive rate is undefined)": (~y[rows]).any(),
                 "refusals (so its precision is undefined)": r[rows].any()}
        for what, present in needs.items():
            if not present:
                raise AuditError(f"group {name!r} has {len(rows)} applicant(s) but no {what}; "
                                 "audit a larger slice or merge it with another group, and report it")


def audit(y_true, refuse, sensitive, costs: Costs = COSTS) -> MetricFrame:
    """fairlearn's MetricFrame of the decisions ``refuse`` (True = refuse) by group.

    Metrics: applicants, approval and refusal rate, TPR (defaults refused),
    FPR (repaid loans refused), precision (refusals that defaulted) and the
    cost per application. Raises AuditError rather than return a NaN.
    """
    y, r, groups = _arrays(y_true, refuse, sensitive)
    _require_members(y, r, groups)
    return MetricFrame(metrics=_metrics(costs), y_true=y, y_pred=r, sensitive_features=groups)


def disparities(y_true, refuse, sensitive, *, reference: str | None = None) -> dict:
    """The gaps an audit reports, as plain numbers.

    ``approval_gap`` (demographic parity difference: largest minus smallest
    approval rate), ``approval_ratio`` (disparate-impact ratio: smallest over
    largest approval rate, or the others over ``reference``'s), ``four_fifths``
    (that ratio is at least 0.8), ``equalized_odds_difference`` (the larger
    of the TPR gap and the FPR gap), and the ``tpr_gap`` and ``fpr_gap``.
    """
    frame = audit(y_true, refuse, sensitive)
    by_group = frame.by_group
    approval = by_group["approval_rate"]
    if reference is not None and reference not in approval.index:
        raise AuditError(f"reference group {reference!r} is not in the data; "
                         f"the groups are {', '.join(map(repr, approval.index))}")
    denominator = approval[reference] if reference else approval.max()
    if denominator == 0:
        raise AuditError("no applicant of the reference group is approved, so the ratio of "
                         "approval rates is undefined; check the decisions (are 1s refusals?)")
    ratio = (approval.drop(reference) / denominator).min() if reference else approval.min() / denominator
    y, r, groups = _arrays(y_true, refuse, sensitive)
    return {
        "approval_gap": float(approval.max() - approval.min()),
        "approval_ratio": float(ratio),
        "four_fifths": bool(ratio >= FOUR_FIFTHS),
        "equalized_odds_difference": float(equalized_odds_difference(y, r, sensitive_features=groups)),
        "tpr_gap": float(np.ptp(by_group["tpr"])),
        "fpr_gap": float(np.ptp(by_group["fpr"])),
    }


def refusal_gap(y_true, refuse, sensitive, focus: str = "minority") -> float:
    """Refusal rate of ``focus`` minus that of everyone else."""
    r = np.asarray(refuse).astype(bool)
    groups = check_sensitive(sensitive, len(r)).to_numpy()
    inside = groups == focus
    if not inside.any() or inside.all():
        raise AuditError(f"group {focus!r} has no members in this slice (or is everyone); "
                         "there is no gap to measure")
    return float(r[inside].mean() - r[~inside].mean())


def bootstrap_gap(y_true, refuse, sensitive, metric: str = "refusal_rate", focus: str = "minority",
                  n_boot: int = 2000, level: float = 0.95, seed: int = 0) -> dict:
    """A percentile bootstrap interval for ``metric`` of ``focus`` minus the rest.

    Applicants are resampled *within* each group, so each replicate keeps
    the groups' sizes (a stratified bootstrap). ``metric`` is
    ``refusal_rate``, ``tpr`` or ``fpr``. Returns the estimate, ``low``,
    ``high`` and whether the interval excludes zero (``clear``).
    """
    y, r, groups = _arrays(y_true, refuse, sensitive)
    inside = groups.to_numpy() == focus
    if not inside.any() or inside.all():
        raise AuditError(f"group {focus!r} has no members in this slice (or is everyone)")
    base = {"refusal_rate": np.ones_like(y), "tpr": y, "fpr": ~y}
    if metric not in base:
        raise AuditError(f"unknown metric {metric!r}; use one of {', '.join(base)}")
    rng = np.random.default_rng(seed)

    def replicates(rows: np.ndarray) -> np.ndarray:
        rows = rows[base[metric][rows]]
        if len(rows) == 0:
            raise AuditError(f"a group has no applicants for which {metric} is defined")
        picks = rng.integers(0, len(rows), size=(n_boot, len(rows)))
        return r[rows][picks].mean(axis=1)

    gaps = replicates(np.flatnonzero(inside)) - replicates(np.flatnonzero(~inside))
    estimate = float(r[inside & base[metric]].mean() - r[~inside & base[metric]].mean())
    low, high = np.quantile(gaps, [(1 - level) / 2, (1 + level) / 2])
    return {"estimate": estimate, "low": float(low), "high": float(high),
            "clear": bool(low > 0 or high < 0)}


def calibration_by_group(y_true, scores, sensitive, bins=(0, 0.05, 0.1, 0.167, 0.3, 1.0)) -> pd.DataFrame:
    """Observed default rate against mean predicted risk, per score band and group.

    A model is calibrated by group when, in every band, each group's observed
    rate matches the prediction. With different base rates, a calibrated
    model cannot also give the groups equal error rates (Chouldechova, 2017;
    Kleinberg et al., 2017): the audit shows both, side by side.
    """
    groups = check_sensitive(sensitive, len(np.asarray(scores)))
    frame = pd.DataFrame({"y": np.asarray(y_true, float), "p": np.asarray(scores, float),
                          "group": groups.to_numpy()})
    frame["band"] = pd.cut(frame["p"], list(bins), include_lowest=True)
    table = frame.groupby(["band", "group"], observed=True).agg(
        applicants=("y", "size"), predicted=("p", "mean"), observed=("y", "mean"))
    return table.reset_index()


def proxy_strength(train: pd.DataFrame, test: pd.DataFrame, columns, sensitive: str = "ethnicity",
                   focus: str = "minority") -> pd.Series:
    """How well each column alone predicts membership of ``focus``: ROC AUC on ``test``.

    A number column is scored by its value (the AUC is folded: 0.3 and 0.7
    are equally informative); a text column by its category's share of
    ``focus`` in ``train`` (categories unseen in train get train's share).
    0.5 means the column says nothing about the group, 1.0 that it reveals it.
    """
    from sklearn.metrics import roc_auc_score

    is_focus = lambda frame: (check_sensitive(frame[sensitive]) == focus).to_numpy()
    y_train, y_test = is_focus(train), is_focus(test)
    strength = {}
    for column in columns:
        if pd.api.types.is_numeric_dtype(train[column]):
            score = test[column].fillna(train[column].median())
        else:
            share = pd.Series(y_train).groupby(train[column].fillna("missing").to_numpy()).mean()
            score = test[column].fillna("missing").map(share).fillna(y_train.mean())
        auc = roc_auc_score(y_test, score.to_numpy(float))
        strength[column] = max(auc, 1 - auc)
    return pd.Series(strength, name="AUC for the group").sort_values(ascending=False)


def inputs_reveal_group(train: pd.DataFrame, test: pd.DataFrame, columns, sensitive: str = "ethnicity",
                        focus: str = "minority", seed: int = 0) -> float:
    """ROC AUC on ``test`` of a boosted model that predicts the group from ``columns`` together."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score

    numeric = [c for c in columns if pd.api.types.is_numeric_dtype(train[c])]
    text = [c for c in columns if c not in numeric]
    as_matrix = lambda f: pd.concat([f[numeric], f[text].astype("category")], axis=1)
    X_train = as_matrix(train)
    X_test = as_matrix(test)
    for c in text:  # the same categories in both, so codes mean the same thing
        X_test[c] = pd.Categorical(X_test[c], categories=X_train[c].cat.categories)
    y_train = (check_sensitive(train[sensitive]) == focus).to_numpy()
    y_test = (check_sensitive(test[sensitive]) == focus).to_numpy()
    model = HistGradientBoostingClassifier(random_state=seed, categorical_features="from_dtype")
    model.fit(X_train, y_train)
    return float(roc_auc_score(y_test, model.predict_proba(X_test)[:, 1]))
