"""Back-of-the-envelope value of an ML project, with every assumption named.

A business case for a model is a handful of numbers multiplied together. The
numbers that matter most are usually assumptions (how big the process is,
what building and running the model costs, whether it reaches production at
all), so they are fields of a dataclass here, not constants buried in a cell.
"""
from __future__ import annotations

import math
from dataclasses import dataclass


def percent_change(before: float, after: float) -> float:
    """Change from ``before`` to ``after`` in percent of ``before`` (negative = a fall)."""
    if before == 0:
        raise ValueError("a percent change from 0 is undefined")
    return (after - before) / before * 100


@dataclass(frozen=True)
class Investment:
    """An ML project seen by the finance team.

    annual_benefit: money saved or earned per year once the model runs.
    build_cost: paid once, before any benefit (people, data, infrastructure).
    annual_running_cost: serving, monitoring, retraining and on-call, per year.
    """
    annual_benefit: float
    build_cost: float
    annual_running_cost: float = 0.0

    @property
    def net_annual_benefit(self) -> float:
        """Benefit minus running cost, per year."""
        return self.annual_benefit - self.annual_running_cost

    def roi(self, years: float) -> float:
        """Return on investment over ``years``: (benefit - cost) / cost, as a fraction."""
        cost = self.build_cost + years * self.annual_running_cost
        return (years * self.annual_benefit - cost) / cost

    def payback_months(self) -> float:
        """Months until the net benefit has repaid the build cost (inf if never)."""
        if self.net_annual_benefit <= 0:
            return math.inf
        return self.build_cost / (self.net_annual_benefit / 12)

    def break_even_success_probability(self, years: float) -> float:
        """The chance of reaching production at which the project breaks even.

        Assumes the build cost is spent whether or not the model ships, and
        that benefit and running cost only come if it does. Above 1: the
        project loses money even when it certainly ships.
        """
        net = years * self.net_annual_benefit
        if net <= 0:
            return math.inf
        return self.build_cost / net
