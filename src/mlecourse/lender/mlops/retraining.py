"""When to retrain: policies, a trigger with reasons, and their cost over a replay.

A retrained model can only learn from loans whose outcome is known, so on
month ``t`` the newest training rows are about ``LABEL_DELAY_MONTHS`` old;
retraining "every month" adds one month of labels at a time. The policies:

* ``never``: the deployed model forever;
* ``monthly``, ``quarterly`` (and ``yearly``): on a calendar;
* ``drift``: when the previous month's input drift (largest PSI) is over a
  threshold, at most once per ``cooldown`` months;
* ``estimated``: when the estimated cost (CBPE) of the previous month is over
  a threshold, with the same cooldown.

:func:`should_retrain` is the trigger a scheduler would call; what it would
then start is the training pipeline of the MLOps chapter.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from mlecourse.lender.business import COSTS, decision_cost
from mlecourse.lender.features import RAW_FEATURES

POLICIES = ("never", "monthly", "quarterly", "drift", "estimated")  # compared by default
CALENDAR = {"monthly": range(1, 13), "quarterly": (1, 4, 7, 10), "yearly": (1,)}
WINDOW_MONTHS = 24  # a retrained model learns from the last 24 months of labelled loans


@dataclass(frozen=True)
class Decision:
    retrain: bool
    reasons: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.retrain


def should_retrain(*, months_since_training: int, max_psi: float | None = None,
                   estimated_cost: float | None = None, psi_threshold: float = 0.25,
                   cost_threshold: float | None = None, cooldown: int = 3,
                   max_age: int | None = None, every_months: int | None = None) -> Decision:
    """Whether to retrain now, and why. Every rule that fires is a reason.

    ``months_since_training`` counts from the last retraining; ``max_age``
    retrains a model that old; ``every_months`` is a calendar (a run every so
    many months, whatever it decided); ``cooldown`` spaces the triggers.
    """
    if months_since_training < 0:
        raise ValueError(f"months_since_training must be 0 or more, got {months_since_training}")
    reasons = []
    if every_months is not None and months_since_training >= every_months:
        reasons.append(f"scheduled: {months_since_training} months since the last run (every {every_months})")
    if max_age is not None and months_since_training >= max_age:
        reasons.append(f"the model is {months_since_training} months old (limit {max_age})")
    if months_since_training >= cooldown:
        if max_psi is not None and max_psi > psi_threshold:
            reasons.append(f"input drift: largest PSI {max_psi:.3f} > {psi_threshold}")
        if estimated_cost is not None and cost_threshold is not None and estimated_cost > cost_threshold:
            reasons.append(f"estimated cost {estimated_cost:,.0f} > {cost_threshold:,.0f} per application")
    return Decision(bool(reasons), reasons)


def training_window(frame: pd.DataFrame, month: str, window: int = WINDOW_MONTHS) -> pd.DataFrame:
    """The labelled rows a model retrained at the start of ``month`` can use."""
    start = pd.Period(month, "M").start_time
    known = frame[frame["outcome_known_date"] < start]
    return known[known["application_date"] >= start - pd.DateOffset(months=window)]


def _policy_fires(policy: str, month: str, age: int, signals: dict, settings: dict) -> Decision:
    if policy == "never":
        return Decision(False)
    if policy in CALENDAR:
        fires = pd.Period(month, "M").month in CALENDAR[policy]
        return Decision(fires, [f"{policy} schedule"] if fires else [])
    previous = str(pd.Period(month, "M") - 1)
    signal = signals.get(previous, {})
    if policy == "drift":
        return should_retrain(months_since_training=age, max_psi=signal.get("max_psi"),
                              psi_threshold=settings["psi_threshold"], cooldown=settings["cooldown"])
    if policy == "estimated":
        return should_retrain(months_since_training=age, estimated_cost=signal.get("est_cost"),
                              cost_threshold=settings["cost_threshold"], cooldown=settings["cooldown"])
    raise ValueError(f"unknown policy {policy!r}; use one of {', '.join([*POLICIES, 'yearly'])}")


def simulate(policy: str, frame: pd.DataFrame, months: list[str], initial_model, train, *,
             signals: dict | None = None, settings: dict | None = None, cache: dict | None = None,
             threshold: float = COSTS.threshold) -> dict:
    """Run ``policy`` over ``months`` of ``frame`` (cleaned loans, with outcomes).

    ``train(rows)`` fits a model; ``cache`` (month -> model) shares fits between
    policies, since a model retrained at a month is the same whichever policy
    asked. Each month's applications are decided by the model current at its
    start and costed with their true outcomes. Returns the cost per
    application, the retrain months and a monthly table.
    """
    signals, cache = signals or {}, {} if cache is None else cache
    settings = {"psi_threshold": 0.25, "cost_threshold": None, "cooldown": 3, **(settings or {})}
    model, age, retrained, rows = initial_model, 0, [], []
    by_month = frame["application_date"].dt.strftime("%Y-%m")
    for month in months:
        decision = _policy_fires(policy, month, age, signals, settings)
        if decision:
            if month not in cache:
                cache[month] = train(training_window(frame, month))
            model, age = cache[month], 0
            retrained.append(month)
        part = frame[by_month == month]
        if len(part):
            refuse = model.predict_proba(part[list(RAW_FEATURES)])[:, 1] > threshold
            rows.append({"month": month, "applications": len(part),
                         "cost": decision_cost(part["defaulted"], refuse) * len(part)})
        age += 1
    table = pd.DataFrame(rows)
    return {"policy": policy, "retrainings": len(retrained), "retrained": retrained,
            "cost_per_application": float(table["cost"].sum() / table["applications"].sum()),
            "monthly": table}


def compare(frame, months, initial_model, train, *, policies=POLICIES, **kwargs) -> pd.DataFrame:
    """The policies side by side: cost per application, total cost, retrainings."""
    cache = kwargs.pop("cache", {})
    results = [simulate(p, frame, months, initial_model, train, cache=cache, **kwargs) for p in policies]
    table = pd.DataFrame([{"policy": r["policy"], "cost_per_application": r["cost_per_application"],
                           "total_cost": float(r["monthly"]["cost"].sum()), "retrainings": r["retrainings"],
                           "retrained": ", ".join(r["retrained"])} for r in results])
    return table.set_index("policy")
