"""The ROI helpers of chapter 1, on numbers worked by hand."""
import math

import pytest

from mlecourse.teaching.roi import Investment, percent_change


def test_percent_change_of_the_recruitment_case():
    assert percent_change(60, 36) == pytest.approx(-40.0)


def test_percent_change_up_and_from_zero():
    assert percent_change(100, 110) == pytest.approx(10.0)
    with pytest.raises(ValueError, match="from 0"):
        percent_change(0, 5)


def test_payback_counts_the_running_cost():
    project = Investment(annual_benefit=360_000, build_cost=450_000, annual_running_cost=90_000)
    assert project.net_annual_benefit == 270_000
    assert project.payback_months() == pytest.approx(20.0)


def test_roi_over_three_years():
    project = Investment(annual_benefit=300_000, build_cost=400_000, annual_running_cost=100_000)
    # cost 400k + 300k = 700k; benefit 900k; (900 - 700) / 700
    assert project.roi(3) == pytest.approx(200 / 700)


def test_a_project_that_never_pays_back():
    project = Investment(annual_benefit=50_000, build_cost=100_000, annual_running_cost=60_000)
    assert math.isinf(project.payback_months())
    assert math.isinf(project.break_even_success_probability(3))


def test_break_even_success_probability():
    project = Investment(annual_benefit=360_000, build_cost=450_000, annual_running_cost=90_000)
    # shipping brings 3 x 270k = 810k; the 450k is spent either way
    assert project.break_even_success_probability(3) == pytest.approx(450 / 810)
