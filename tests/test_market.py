"""Reading the report's salary table: the flags find the known inconsistencies."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.text import Annotation

from mlecourse.teaching import market
from mlecourse.teaching.report import load_report_table


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


def test_range_labels_are_written_as_the_report_writes_them():
    assert market.range_label(137_000, 175_000) == "137k-175k"
    assert market.range_label(115_000, 210_000, open_ended=True) == "115k-210k+"
    assert market.range_label(108_000, 108_000) == "108k"
    assert market.range_label(pd.NA, pd.NA) == "-"


def test_ranges_table_has_one_readable_row_per_table_row():
    ranges = market.ranges_table(market.table1()).set_index(["role", "level"])
    assert len(ranges) == 9
    senior = ranges.loc[("Machine Learning Engineer", "Senior")]
    assert (senior["base"], senior["total"]) == ("115k-210k+", "174k-306k+")
    assert ranges.loc[("MLOps Engineer", "Mid/Senior"), "base"] == "-"


def test_base_against_total_names_the_measure_of_each_figure():
    rows = market.base_against_total(load_report_table("salaries"))
    assert set(zip(rows["role"], rows["measure"])) == {("MLE", "base"), ("MLE", "total"),
                                                        ("SE", "base"), ("SE", "total")}
    se_total = rows[(rows["role"] == "SE") & (rows["measure"] == "total")]
    assert se_total["usd"].tolist() == [161_000] and se_total["statistic"].tolist() == ["average"]


def test_salary_plot_draws_one_row_per_table_row_and_one_line_per_range():
    table = market.table1()
    flags = market.starts_below_previous_level(table)
    ax = market.plot_salary_ranges(table, highlight=flags, sources=True)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == 9 and labels[0] == "MLE · Entry/Junior" and labels[2] == "MLE · Senior"
    assert len(ax.lines) == len(market.intervals(table)) == 15
    arrows = [t for t in ax.texts if isinstance(t, Annotation)]
    assert len(arrows) == int(market.intervals(table)["open_ended"].sum()) == 6
    assert len(ax.patches) == 1   # the shaded senior MLE row
    assert "salary ranges" in ax.get_title() and "thousands of US dollars" in ax.get_xlabel()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["base salary", "total compensation", "starts below the previous level"]
    assert any("motion2025a" in t.get_text() for t in ax.texts)
    assert any(t.get_text() == "no figure in the report" for t in ax.texts)   # the MLOps row
    plt.close(ax.figure)


def test_salary_plot_uses_the_given_axes_and_checks_the_highlight():
    table = market.table1()
    fig, ax = plt.subplots()
    assert market.plot_salary_ranges(table, ax=ax, short=False) is ax
    assert ax.get_yticklabels()[0].get_text() == "Machine Learning Engineer · Entry/Junior"
    assert len(ax.patches) == 0 and not any("motion" in t.get_text() for t in ax.texts)
    with pytest.raises(ValueError, match="highlight has 2 values for 9 rows"):
        market.plot_salary_ranges(table, highlight=[True, False])
    plt.close("all")
