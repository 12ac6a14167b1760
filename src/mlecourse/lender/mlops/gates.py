"""The promotion gate: may a candidate model replace the champion?

A gate is a list of rules, each a comparison a reviewer could do by hand,
written down so a pipeline does it every time:

* cost: on the same applications (the evaluation cohort, which neither model
  was chosen on), the candidate must save more than ``cost_margin`` per
  application, and be *sure* of it: the upper end of a paired bootstrap
  interval of (candidate cost - champion cost), at ``confidence``, must lie
  below ``-cost_margin``. Two point estimates compared with a margin of zero
  promote on noise half the time when two models are equally good;
* AUC: the candidate does not rank worse than the champion by more than
  ``max_auc_drop``;
* fairness: the gap in refusal rates between the age groups (the largest
  difference between two groups' refusal rates) is at most ``max_parity_gap``,
  the lender's policy, or, if the champion's gap on the same applicants is
  already wider, no wider than the champion's: a gap that comes with the
  applicants (a campaign that brings young, riskier borrowers widens it for
  any model) must not block every model, and no promotion may widen it;
* behaviour: every behavioural test of :mod:`mlecourse.lender.modeling.behaviour` passed.

Behaviour is the candidate's own (the champion passed it when it was
promoted); with no champion yet, behaviour and the policy's fairness limit
are all it must meet.
:func:`decide` returns every reason, not only the first, so a refused
candidate's report says all that is wrong at once.

The metrics a gate reads are :func:`mlecourse.lender.mlops.pipeline.evaluate`'s:
scalars, and ``costs`` (each application's cost under the model's decision)
with ``weights`` (each row's inverse propensity of having an outcome, 1 when
every outcome is known), in the same row order for both models.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

CANDIDATE = ("cost", "auc", "parity_gap", "behaviour_failures", "costs")
CHAMPION = ("cost", "auc", "parity_gap", "costs")


class GateError(KeyError):
    """The gate was given metrics it cannot judge; the message names the missing one."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


@dataclass(frozen=True)
class Rules:
    cost_margin: float = 1.0  # units per application the candidate must save, at `confidence`
    confidence: float = 0.95  # one-sided: the candidate saves more than the margin 95 times in 100
    resamples: int = 2000  # bootstrap resamples of the evaluation cohort
    seed: int = 0
    max_auc_drop: float = 0.005
    max_parity_gap: float = 0.10


@dataclass(frozen=True)
class Difference:
    """Candidate cost minus champion cost per application (negative: the candidate is cheaper)."""
    mean: float
    upper: float  # the one-sided bound at `confidence`: the difference is below it that often
    lower: float  # the same bound from below
    confidence: float
    rows: int

    def __str__(self) -> str:
        share = f"{self.confidence:.0%}"
        return (f"cost difference {self.mean:+.1f} per application on {self.rows:,} applications "
                f"({share} bounds {self.lower:+.1f} and {self.upper:+.1f})")


@dataclass
class Decision:
    promote: bool
    reasons: list[str] = field(default_factory=list)
    difference: Difference | None = None

    def __str__(self) -> str:
        verdict = "promote" if self.promote else "do not promote"
        return f"{verdict}: " + "; ".join(self.reasons)


def paired_difference(candidate_costs, champion_costs, weights=None, *, confidence: float = 0.95,
                      resamples: int = 2000, seed: int = 0) -> Difference:
    """The mean of (candidate - champion) cost per application, with a paired bootstrap.

    Each resample draws applications with replacement and recomputes the
    weighted mean difference on them, the two models' costs staying paired
    (the same applicant's two costs move together, which is what makes a
    small difference measurable). Percentile bounds.
    """
    a, b = np.asarray(candidate_costs, float), np.asarray(champion_costs, float)
    if a.shape != b.shape or a.ndim != 1 or a.size == 0:
        raise GateError(f"paired costs need the same applications in the same order: "
                        f"{a.shape} vs {b.shape}")
    w = np.ones_like(a) if weights is None else np.asarray(weights, float)
    if w.shape != a.shape or (w <= 0).any():
        raise GateError("the weights must be one positive number per application")
    d = a - b
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    step = max(1, 2_000_000 // d.size)  # resamples at a time, to bound the memory
    for start in range(0, resamples, step):
        rows = rng.integers(0, d.size, (min(step, resamples - start), d.size))
        means[start:start + len(rows)] = (d[rows] * w[rows]).sum(axis=1) / w[rows].sum(axis=1)
    return Difference(float(np.sum(d * w) / np.sum(w)), float(np.quantile(means, confidence)),
                      float(np.quantile(means, 1 - confidence)), confidence, int(d.size))


def _metrics(metrics: dict | None, who: str, required) -> dict:
    if metrics is None:
        raise GateError(f"no metrics for the {who}")
    missing = [key for key in required if key not in metrics or metrics[key] is None]
    if missing:
        raise GateError(f"the {who}'s metrics lack {', '.join(map(repr, missing))}: "
                        f"evaluate it with pipeline.evaluate before the gate (needs {', '.join(required)})")
    return metrics


def _fairness(new: dict, old: dict | None, rules: Rules) -> list[str]:
    """The refusal-rate gap: within the policy's limit, or no wider than the champion's."""
    gap = float(new["parity_gap"])
    allowed = rules.max_parity_gap if old is None else max(rules.max_parity_gap, float(old["parity_gap"]))
    if gap <= allowed:
        return []
    if old is None or allowed == rules.max_parity_gap:
        return [f"refusal-rate gap {gap:.3f} above the policy's {rules.max_parity_gap}"]
    return [f"refusal-rate gap {gap:.3f} wider than the champion's {allowed:.3f} on the same applicants"]


def decide(candidate: dict, champion: dict | None = None, rules: Rules = Rules()) -> Decision:
    """Judge ``candidate`` against ``champion`` (None: no model serves yet)."""
    new = _metrics(candidate, "candidate", CANDIDATE)
    old = None if champion is None else _metrics(champion, "champion", CHAMPION)
    failed = []
    if float(new["behaviour_failures"]) > 0:
        failed.append(f"{int(new['behaviour_failures'])} behavioural test(s) failed")
    failed += _fairness(new, old, rules)
    if old is None:
        return Decision(not failed, failed or ["no champion yet; absolute rules met"])
    difference = paired_difference(new["costs"], old["costs"], new.get("weights"),
                                   confidence=rules.confidence, resamples=rules.resamples, seed=rules.seed)
    if difference.upper >= -rules.cost_margin:
        failed.append(f"not surely cheaper: {difference}, the bound must be below -{rules.cost_margin:g}")
    if float(new["auc"]) < float(old["auc"]) - rules.max_auc_drop:
        failed.append(f"AUC {float(new['auc']):.4f} more than {rules.max_auc_drop} below the "
                      f"champion's {float(old['auc']):.4f}")
    if failed:
        return Decision(False, failed, difference)
    return Decision(True, [f"cheaper beyond the margin: {difference}; fair and well-behaved"], difference)
