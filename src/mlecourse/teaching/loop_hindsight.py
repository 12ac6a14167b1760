"""The monitoring chapter's closed loop judged with the truth a lender never has.

The case-study data knows every applicant's outcome, the refused included.
With it, each decision of the loop's gate can be checked in hindsight, and
the feedback loop of retraining on approved loans only can be measured:

* :func:`runs`: for each pipeline run, what the gate estimated (from the
  funded loans, the holdout weighted), what a naive gate would have seen
  (the approved loans alone, a point estimate), the true difference on the
  same cohort, and the true difference over the months the candidate would
  have served had it been promoted;
* :func:`feedback`: candidates trained on the same window from the approved
  loans only, from those and the holdout, and from every outcome, each costed
  with the truth on the months that follow.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from mlecourse.lender import features
from mlecourse.lender.business import COSTS
from mlecourse.lender.mlops import gates, pipeline, windows


def costs(model, frame: pd.DataFrame) -> np.ndarray:
    """Each application's cost under ``model``'s decision, with its true outcome."""
    refuse = model.predict_proba(frame[list(features.RAW_FEATURES)])[:, 1] > COSTS.threshold
    y = frame[features.TARGET].to_numpy()
    return np.where(refuse, (1 - y) * COSTS.wrong_refusal, y * COSTS.missed_default)


def _between(frame: pd.DataFrame, first, last) -> pd.DataFrame:
    dates = frame[features.DATE]
    return frame[(dates >= pd.Timestamp(first)) & (dates <= pd.Timestamp(last))]


def runs(loop, champion, scored: pd.DataFrame, end: str) -> pd.DataFrame:
    """One row per pipeline run of ``loop`` after the first; ``scored``: every application the loop
    scored, with its true outcome; ``champion``: the model that served; ``end``: the replay's end."""
    reports = [r for r in loop.reports if r.windows.get("as_of") not in (None, "fixed split")]
    rows = []
    for i, report in enumerate(reports):
        as_of = pd.Timestamp(report.windows["as_of"])
        window = windows.cohorts(loop.labelled(as_of), as_of, train_months=loop.settings.train_months,
                                 eval_months=loop.settings.eval_months)
        candidate = pipeline.train(window.train, loop.settings.kind)
        approved = window.evaluate[window.evaluate[pipeline.PROPENSITY] == 1.0]
        cohort = _between(scored, report.windows["evaluate_first"], report.windows["evaluate_last"])
        until = pd.Timestamp(reports[i + 1].windows["as_of"]) if i + 1 < len(reports) else pd.Timestamp(end)
        served = _between(scored, as_of + pd.Timedelta(days=1), until)
        rows.append({"as of": str(as_of.date()), "gate": "promote" if report.decision.promote else "refuse",
                     "gate estimate": report.decision.difference.mean,
                     "gate bound": report.decision.difference.upper,
                     "naive estimate": float(np.mean(costs(candidate, approved) - costs(champion, approved))),
                     "true, same cohort": float(np.mean(costs(candidate, cohort) - costs(champion, cohort))),
                     "true, months after": float(np.mean(costs(candidate, served) - costs(champion, served))),
                     "months after": len(served)})
    return pd.DataFrame(rows).set_index("as of")


def feedback(labelled: pd.DataFrame, every: pd.DataFrame, first, last, test: pd.DataFrame,
             champion, refused_ids, kind: str = "boosting") -> pd.DataFrame:
    """Candidates trained on the loans applied for from ``first`` to ``last``: the labelled ones
    (approved and holdout), the approved only, and ``every`` application with its true outcome;
    each costed on ``test`` with the truth, and what it does with the applicants the champion refused."""
    window = _between(labelled, first, last)
    variants = {"approved loans only": window[window[pipeline.PROPENSITY] == 1.0],
                "approved + holdout": window, "every outcome (truth)": _between(every, first, last)}
    refused = test["application_id"].isin(refused_ids).to_numpy()
    rows = {"champion (never retrained)": (champion, 0)}
    rows.update({name: (pipeline.train(rows_, kind), len(rows_)) for name, rows_ in variants.items()})
    table = []
    for name, (model, n) in rows.items():
        p = model.predict_proba(test[list(features.RAW_FEATURES)])[:, 1]
        table.append({"trained on": name, "loans": n, "cost": float(costs(model, test).mean()),
                      "mean P(default), refused": float(p[refused].mean()),
                      "approves of the refused": float(np.mean(p[refused] <= COSTS.threshold))})
    out = pd.DataFrame(table).set_index("trained on")
    out.attrs["true default rate, refused"] = float(test.loc[refused, features.TARGET].mean())
    return out


def gate_views(candidate, champion, evaluate: pd.DataFrame, cohort: pd.DataFrame,
               rules: gates.Rules = gates.Rules()) -> dict:
    """One candidate judged three ways on one cohort: the naive view (approved loans, a point
    estimate), the gate's (funded loans, holdout weighted, bootstrap bound) and the truth."""
    approved = evaluate[evaluate[pipeline.PROPENSITY] == 1.0]
    weighted = gates.paired_difference(costs(candidate, evaluate), costs(champion, evaluate),
                                       1.0 / evaluate[pipeline.PROPENSITY].to_numpy(),
                                       confidence=rules.confidence, resamples=rules.resamples, seed=rules.seed)
    return {"naive estimate": float(np.mean(costs(candidate, approved) - costs(champion, approved))),
            "gate estimate": weighted.mean, "gate bound": weighted.upper,
            "true difference": float(np.mean(costs(candidate, cohort) - costs(champion, cohort)))}
