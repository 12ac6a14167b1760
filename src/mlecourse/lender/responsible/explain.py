"""Explaining the model: which inputs matter overall, and why one applicant was refused.

Global: :func:`permutation_table` (how much held-out AUC drops when one raw
input is shuffled) and scikit-learn's partial dependence and ICE curves (in
the chapter). Local, two methods that work differently, so that each checks
the other:

* :func:`shap_contributions`: SHAP values (Lundberg and Lee, 2017) from
  ``shap.TreeExplainer``. It cannot read a scikit-learn ``Pipeline``, so it
  explains the last step on the transformed matrix, and the one-hot and
  missing-indicator columns are summed back onto the raw input they came from.
* :func:`replacement_contributions`: for each raw input, how much the
  log-odds fall when that input alone is replaced by a typical approved
  applicant's value. Needs only the pipeline, costs a few milliseconds, and
  speaks in the inputs an applicant filled in; the service uses it.

Both are in log-odds of default: positive pushes towards refusal.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance

from mlecourse.lender import features
from mlecourse.lender.business import COSTS


def permutation_table(model, X: pd.DataFrame, y, *, rows: int = 3000, repeats: int = 5,
                      seed: int = 0) -> pd.DataFrame:
    """Drop in ROC AUC when each raw input is shuffled, on (a sample of) held-out rows."""
    sample = X.sample(n=min(rows, len(X)), random_state=seed)
    result = permutation_importance(model, sample, np.asarray(y)[X.index.get_indexer(sample.index)],
                                    scoring="roc_auc", n_repeats=repeats, random_state=seed)
    return (pd.DataFrame({"auc_drop": result.importances_mean, "sd": result.importances_std},
                         index=X.columns).sort_values("auc_drop", ascending=False))


def raw_input_of(transformed_name: str) -> str:
    """The raw input a transformed column comes from (``region_north`` -> ``region``)."""
    name = transformed_name.removeprefix("missingindicator_")
    for raw in sorted((*features.RAW_FEATURES, *features.RATIOS), key=len, reverse=True):
        if name == raw or name.startswith(raw + "_"):
            return raw
    raise KeyError(f"no raw input for the transformed column {transformed_name!r}")


def log_odds(model, X: pd.DataFrame) -> np.ndarray:
    p = np.clip(model.predict_proba(X)[:, 1], 1e-12, 1 - 1e-12)
    return np.log(p / (1 - p))


def import_shap():
    """The shap module, imported without its import-time warnings (a deprecated matplotlib
    call, tqdm's notice about widgets). Imported on demand: it loads numba, which takes
    seconds the service should not pay."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import shap
    return shap


def shap_contributions(model, X: pd.DataFrame) -> pd.DataFrame:
    """SHAP values per raw input and ratio (rows of ``X``), in log-odds.

    ``base + contributions.sum(axis=1)`` equals the model's log-odds (SHAP's
    additivity); the base is in ``.attrs["base"]``.
    """
    shap = import_shap()

    transformed = model[:-1].transform(X)
    explainer = shap.TreeExplainer(model[-1])
    values = explainer.shap_values(transformed)
    by_column = pd.DataFrame(values, index=X.index, columns=transformed.columns)
    grouped = by_column.T.groupby(by_column.columns.map(raw_input_of)).sum().T
    grouped.attrs["base"] = float(np.ravel(explainer.expected_value)[0])
    return grouped


# The raw inputs each ratio is computed from (features.LoanRatios).
RATIO_INPUTS = {
    "monthly_payment": ("loan_amount", "interest_rate", "loan_term_months"),
    "debt_to_income": ("monthly_debt", "annual_income", "loan_amount", "interest_rate", "loan_term_months"),
    "loan_to_income": ("loan_amount", "annual_income"),
}


def onto_raw_inputs(contributions: pd.DataFrame) -> pd.DataFrame:
    """Contributions per raw input only: each ratio's share split equally among its inputs.

    An equal split is a convention, not a fact: SHAP credits the ratio, and
    how much of "debt is high for income" is the debt and how much the income
    has no single answer. The total is unchanged.
    """
    out = contributions[list(features.RAW_FEATURES)].copy()
    for ratio, inputs in RATIO_INPUTS.items():
        if ratio in contributions:
            for name in inputs:
                out[name] += contributions[ratio] / len(inputs)
    out.attrs = dict(contributions.attrs)
    return out


def reference_applicant(train: pd.DataFrame, model) -> pd.Series:
    """A typical approved applicant: the median or commonest value of each raw input
    among the training applicants the model approves."""
    X = train[list(features.RAW_FEATURES)]
    approved = X[model.predict_proba(X)[:, 1] <= COSTS.threshold]
    values = {c: approved[c].median() if c in features.NUMERIC else approved[c].mode().iloc[0]
              for c in features.RAW_FEATURES}
    return pd.Series(values, dtype=object)


def replacement_contributions(model, X: pd.DataFrame, reference: pd.Series) -> pd.DataFrame:
    """Per raw input: the applicant's log-odds minus those with that input set to ``reference``.

    One prediction for all of it: the rows with each input replaced in turn
    are stacked and scored in a single call, which on a one-row request
    (``POST /explain``) costs one model call instead of sixteen. Unlike SHAP
    the parts need not add up to the total (inputs interact), and correlated
    inputs can each claim the same effect; the chapter shows both limits.
    """
    variants = [X]
    for column in features.RAW_FEATURES:
        changed = X.copy()
        changed[column] = reference[column]
        if column in features.NUMERIC:
            changed[column] = changed[column].astype("float64")
        variants.append(changed)
    scores = log_odds(model, pd.concat(variants, ignore_index=True)).reshape(len(variants), len(X))
    return pd.DataFrame({column: scores[0] - scores[i + 1] for i, column in enumerate(features.RAW_FEATURES)},
                        index=X.index)


def top_agreement(a: pd.Series, b: pd.Series, k: int = 3) -> float:
    """Share of the ``k`` inputs pushing most towards refusal that two explanations share."""
    top = lambda s: set(s[s > 0].sort_values(ascending=False).index[:k])
    first, second = top(a), top(b)
    return len(first & second) / k
