"""The promotion gate: may a candidate model replace the champion?

A gate is a list of rules, each a comparison a reviewer could do by hand,
written down so a pipeline does it every time:

* cost: the candidate's expected cost per application on the evaluation
  window is not above the champion's (plus ``cost_margin``);
* AUC: the candidate does not rank worse than the champion by more than
  ``max_auc_drop``;
* fairness: the gap in refusal rates between the age groups (fairlearn's
  demographic parity difference) is at most ``max_parity_gap``;
* behaviour: every behavioural test of :mod:`mlecourse.lender.modeling.behaviour` passed.

With no champion yet, the candidate only has to meet the absolute rules
(fairness, behaviour). :func:`decide` returns every reason, not only the
first, so a refused candidate's report says all that is wrong at once.
"""
from __future__ import annotations

from dataclasses import dataclass, field

REQUIRED = ("cost", "auc", "parity_gap", "behaviour_failures")


class GateError(KeyError):
    """The gate was given metrics it cannot judge; the message names the missing one."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


@dataclass(frozen=True)
class Rules:
    cost_margin: float = 0.0
    max_auc_drop: float = 0.005
    max_parity_gap: float = 0.10


@dataclass
class Decision:
    promote: bool
    reasons: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        verdict = "promote" if self.promote else "do not promote"
        return f"{verdict}: " + "; ".join(self.reasons)


def _metrics(metrics: dict | None, who: str) -> dict:
    if metrics is None:
        raise GateError(f"no metrics for the {who}")
    missing = [key for key in REQUIRED if key not in metrics or metrics[key] is None]
    if missing:
        raise GateError(f"the {who}'s metrics lack {', '.join(map(repr, missing))}: "
                        f"evaluate it with pipeline.evaluate before the gate (needs {', '.join(REQUIRED)})")
    return {key: float(metrics[key]) for key in REQUIRED}


def decide(candidate: dict, champion: dict | None = None, rules: Rules = Rules()) -> Decision:
    """Judge ``candidate`` against ``champion`` (None: no model serves yet)."""
    new = _metrics(candidate, "candidate")
    reasons, ok = [], True
    if new["behaviour_failures"] > 0:
        ok = False
        reasons.append(f"{int(new['behaviour_failures'])} behavioural test(s) failed")
    if new["parity_gap"] > rules.max_parity_gap:
        ok = False
        reasons.append(f"refusal-rate gap {new['parity_gap']:.3f} above {rules.max_parity_gap}")
    if champion is not None:
        old = _metrics(champion, "champion")
        if new["cost"] > old["cost"] + rules.cost_margin:
            ok = False
            reasons.append(f"cost {new['cost']:.2f} per application above the champion's {old['cost']:.2f}")
        if new["auc"] < old["auc"] - rules.max_auc_drop:
            ok = False
            reasons.append(f"AUC {new['auc']:.4f} more than {rules.max_auc_drop} below the "
                           f"champion's {old['auc']:.4f}")
    if ok:
        reasons.append("no champion yet; absolute rules met" if champion is None
                       else "as cheap and as good as the champion; fair and well-behaved")
    return Decision(ok, reasons)
