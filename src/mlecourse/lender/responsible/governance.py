"""Who looks at which decision: human review under the GDPR's Article 22, from the lender's costs.

Article 22 of the GDPR gives a person the right not to be subject to a
decision based solely on automated processing that significantly affects
them; a refused loan is such a decision. A lender may still decide
automatically when it is necessary for the contract, if the applicant can
obtain human intervention, express their view and contest the decision
(Art. 22(3)). The lender's routing, in three routes to a person:

* **contest**: any refusal, when the applicant asks (Art. 22(3));
* **flagged reason**: a refusal whose principal reasons cite an input under
  review (:data:`mlecourse.lender.responsible.reasons.REVIEW`: a proxy for
  the group, a biased measurement, age);
* **close call**: an application whose two decisions cost nearly the same
  in expectation, within what a review costs: the model is close to
  indifferent, and a person with the documents can do better.

:func:`routes` gives each application its route; the rest are decided automatically.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from mlecourse.lender.business import COSTS, Costs

# What a person's review of one application costs the lender, in the same
# currency units as a decision's cost: about an hour of an underwriter's time.
# A working assumption, like business.COSTS; change it and the queue changes.
REVIEW_COST = 150.0

AUTOMATED, CLOSE_CALL, FLAGGED = "automated", "close call", "flagged reason"


def close_call_band(costs: Costs = COSTS, review_cost: float = REVIEW_COST) -> tuple[float, float]:
    """The probabilities of default at which approving and refusing cost within ``review_cost`` of each other.

    Approving costs p x missed_default on average, refusing (1 - p) x
    wrong_refusal; they are equal at the cost threshold.
    """
    if review_cost < 0:
        raise ValueError(f"a review cannot cost less than nothing, got {review_cost}")
    total = costs.missed_default + costs.wrong_refusal
    low = (costs.wrong_refusal - review_cost) / total
    high = (costs.wrong_refusal + review_cost) / total
    return max(0.0, low), min(1.0, high)


def routes(probability, refuse, flagged, costs: Costs = COSTS, review_cost: float = REVIEW_COST) -> pd.Series:
    """Each application's route: ``flagged reason``, ``close call`` or ``automated``.

    ``flagged``: True where a refusal's reasons cite an input under review
    (ignored for approvals, which give no reasons). A flagged refusal goes
    to a person whatever its probability. Contested refusals are not here:
    they reach a person on request, whatever their route.
    """
    p = np.asarray(probability, dtype=float)
    refuse, flagged = np.asarray(refuse, dtype=bool), np.asarray(flagged, dtype=bool)
    if not (len(p) == len(refuse) == len(flagged)):
        raise ValueError("probabilities, decisions and flags differ in length")
    low, high = close_call_band(costs, review_cost)
    route = np.where(refuse & flagged, FLAGGED, np.where((p > low) & (p < high), CLOSE_CALL, AUTOMATED))
    return pd.Series(route, name="route")
