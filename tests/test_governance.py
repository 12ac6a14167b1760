"""Article 22 in practice: which applications a person reviews, from the lender's costs."""
import numpy as np
import pytest

from mlecourse.lender.business import COSTS, Costs
from mlecourse.lender.responsible import governance


def test_the_close_call_band_surrounds_the_cost_threshold():
    low, high = governance.close_call_band(COSTS, review_cost=150)
    assert low < COSTS.threshold < high
    assert (low, high) == pytest.approx((850 / 6000, 1150 / 6000))
    assert governance.close_call_band(COSTS, 0) == pytest.approx((COSTS.threshold, COSTS.threshold))
    assert governance.close_call_band(Costs(5000, 1000), 10_000) == (0.0, 1.0)
    with pytest.raises(ValueError, match="less than nothing"):
        governance.close_call_band(COSTS, -1)


def test_routes_send_flagged_refusals_and_close_calls_to_a_person():
    low, high = governance.close_call_band()
    p = np.array([0.05, low, (low + high) / 2, high, 0.5, 0.5])
    refuse = p > COSTS.threshold
    flagged = np.array([True, False, False, False, False, True])
    route = governance.routes(p, refuse, flagged).tolist()
    assert route == ["automated", "automated", "close call", "automated", "automated", "flagged reason"]
    with pytest.raises(ValueError, match="differ in length"):
        governance.routes(p, refuse, flagged[:2])
