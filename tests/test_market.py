"""Reading the report's salary table: the flags find the known inconsistencies."""
import pandas as pd

from mlecourse import market
from mlecourse.report import load_report_table


def flagged(series, table):
    return set(zip(table.loc[series, "role"], table.loc[series, "level"]))


def test_only_the_senior_mle_base_starts_below_the_level_before():
    table = market.table1()
    assert flagged(market.starts_below_previous_level(table, "base"), table) == {
        ("Machine Learning Engineer", "Senior")}
    assert not market.starts_below_previous_level(table, "total").any()


def test_overlaps_are_found_but_are_a_different_thing():
    table = market.table1()
    assert flagged(market.overlaps_previous_level(table, "total"), table) == {
        ("Machine Learning Engineer", "Mid-Level"), ("Machine Learning Engineer", "Senior"),
        ("Software Engineer", "Senior")}


def test_levels_are_compared_within_a_role_only():
    table = pd.DataFrame({"role": ["A", "A", "B"], "level": ["1", "2", "1"],
                          "base_low_usd": pd.array([100, 120, 50], dtype="Int64")})
    assert market.starts_below_previous_level(table).tolist() == [False, False, False]


def test_missing_figures_are_not_flagged():
    table = pd.DataFrame({"role": ["A", "A", "A"], "level": ["1", "2", "3"],
                          "base_low_usd": pd.array([100, None, 90], dtype="Int64")})
    assert market.starts_below_previous_level(table).tolist() == [False, False, False]


def test_intervals_leave_out_rows_without_figures():
    spans = market.intervals(market.table1())
    assert "MLOps Engineer" not in set(spans["role"])
    assert len(spans) == 15
    assert (spans["low"] <= spans["high"]).all()


def test_the_levels_fyi_figure_has_two_names():
    twice = market.one_figure_two_statistics(load_report_table("salaries"))
    assert twice.to_dict("records") == [
        {"source": "levelsfyinda", "total_low_usd": 250_000, "statistics": ["average", "median"]}]


def test_secondary_and_uncited_market_figures():
    rows = market.secondary_citations(load_report_table("market"))
    assert dict(zip(rows["metric"], rows["problem"])) == {
        "employers_struggling_ai_skills": "no citation",
        "ai_adoption_orgs": "secondary citation",
        "ai_project_failure_rate": "secondary citation"}
