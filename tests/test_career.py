"""The career chapter's package code: self-assessment, gaps, plans, growth, tools."""
import matplotlib

matplotlib.use("Agg")

import math

import pandas as pd
import pytest

from mlecourse.teaching import career
from mlecourse.course import plan
from mlecourse.paths import ROOT
from mlecourse.teaching.report import load_report_table

SKILLS = career.skill_names()


def assessment(**overrides) -> dict:
    """Everyone at 2, with some skills changed (underscores for spaces and '/')."""
    ratings = dict.fromkeys(SKILLS, 2)
    names = {s.replace(" ", "_").replace("/", "_"): s for s in SKILLS}
    for key, value in overrides.items():
        ratings[names[key]] = value
    return ratings


def test_skills_come_from_the_report_in_its_order():
    assert SKILLS == list(load_report_table("skills")["category"])
    assert len(SKILLS) == 9


def test_every_path_rates_every_skill_within_the_scale():
    for path, targets in career.PATHS.items():
        assert set(targets) == set(SKILLS), path
        assert all(0 <= t <= career.MAX_RATING for t in targets.values()), path
    assert set(career.SKILL_CHAPTERS) == set(SKILLS) == set(career.SKILL_ACTIONS)


def test_foundational_skills_weigh_more_than_the_rest():
    w = career.IMPORTANCE_WEIGHTS
    assert w["Foundational"] > w["Advanced/Emerging"] > w["Advanced"] > w["Emerging"] > w["Specialization"]


def test_gap_list_values_and_order_for_a_given_assessment():
    # MLE targets: 3 for the five foundations and MLOps, 2 for big data, 1 for GenAI/specialised.
    mine = assessment(Programming=4, Math_Statistics=1, MLOps=0, Software_Engineering=3,
                      Big_Data=0, Generative_AI=0, Specialized_Areas=0)
    table = career.gaps(mine, "mle")
    assert list(table.index) == ["MLOps", "Math/Statistics", "Big Data", "ML Algorithms",
                                 "Data Handling", "Generative AI", "Specialized Areas"]
    assert table.loc["MLOps", "gap"] == 3 and table.loc["MLOps", "priority"] == 7.5
    assert table.loc["Math/Statistics", "priority"] == 6.0
    assert table.loc["Big Data", "priority"] == 4.0
    assert table.loc["Generative AI", "priority"] == 1.5
    # Met or exceeded targets are not gaps.
    assert "Programming" not in table.index and "Software Engineering" not in table.index
    assert table.loc["MLOps", "chapters"] == (5, 6, 7)


def test_ties_keep_the_reports_order():
    table = career.gaps(assessment(), "mle")  # every foundation 2 against 3: all tie at 3.0
    foundations = [s for s in table.index if table.loc[s, "importance"] == "Foundational"]
    assert foundations == SKILLS[:5]


def test_no_gaps_when_every_target_is_met():
    assert career.gaps(dict.fromkeys(SKILLS, 4), "mlops").empty


def test_the_path_changes_the_priorities():
    mine = assessment()
    assert career.gaps(mine, "mlops").index[0] == "Software Engineering"
    assert "Generative AI" not in career.gaps(mine, "mlops").index
    assert career.gaps(mine, "nlp_genai").loc["Generative AI", "priority"] == 3.0


@pytest.mark.parametrize("value", [5, -1, 2.5, "3", None, True, float("nan")])
def test_invalid_ratings_are_rejected_naming_the_skill(value):
    with pytest.raises(ValueError, match="'MLOps' must be a whole number from 0 to 4"):
        career.validate(assessment(MLOps=value))


def test_whole_floats_and_numpy_integers_are_accepted():
    import numpy as np
    rating = career.validate(assessment(MLOps=3.0, Big_Data=np.int64(1)))
    assert rating["MLOps"] == 3 and rating["Big Data"] == 1 and rating.dtype == "int64"


def test_unknown_skill_names_are_rejected():
    mine = assessment()
    mine["Maths"] = 3
    with pytest.raises(ValueError, match="unknown skill 'Maths'; the skills are: Programming"):
        career.validate(mine)


def test_a_missing_skill_is_rejected():
    mine = assessment()
    del mine["Big Data"]
    with pytest.raises(ValueError, match="no rating for 'Big Data'"):
        career.gaps(mine)


def test_unknown_path_is_rejected():
    with pytest.raises(ValueError, match="unknown path 'ceo'"):
        career.gaps(assessment(), "ceo")


def test_learning_plan_puts_what_the_course_teaches_first():
    steps = career.learning_plan(career.STARTING_POINTS["software engineer"], "mle")
    assert [s.order for s in steps] == list(range(1, len(steps) + 1))
    skills = [s.skill for s in steps]
    assert skills == ["Math/Statistics", "ML Algorithms", "Data Handling", "MLOps",
                      "Big Data", "Specialized Areas"]
    assert steps[0].chapters == (4, 6) and steps[-1].chapters == ()
    assert "outside this course" in steps[-1].action


def test_the_two_transitions_need_different_first_steps():
    se = career.learning_plan(career.STARTING_POINTS["software engineer"])
    ds = career.learning_plan(career.STARTING_POINTS["data scientist"])
    assert se[0].skill == "Math/Statistics" and ds[0].skill == "Software Engineering"


def test_chapter_links_only_link_published_chapters():
    text = career.chapter_links((2, 11))
    assert "{doc}`2 · Meet the data </chapters/02_meet_the_data>`" in text
    assert plan.published(11) or ("11 · Capstone (coming)" in text and text.count("{doc}") == 1)
    assert career.chapter_links(()) == "outside this course"


def test_radar_chart_has_a_title_and_a_label_per_skill():
    ax = career.radar_chart(assessment(MLOps=4))
    assert ax.name == "polar" and "self-assessment" in ax.get_title().lower()
    assert [t.get_text() for t in ax.get_xticklabels()] == SKILLS
    assert ax.get_ylim() == (0, 4)


def test_compound_growth_values():
    assert career.compound_growth(100_000, 0.07, 0) == 100_000
    assert math.isclose(career.compound_growth(100_000, 0.10, 2), 121_000)
    assert math.isclose(career.compound_growth(137_000, 0.07, 5), 137_000 * 1.07 ** 5)
    # Compounding beats simple growth.
    assert career.compound_growth(1, 0.2, 10) > 1 + 0.2 * 10


@pytest.mark.parametrize("rate,phrase", [(7, "pass a fraction"), (1.0, "pass a fraction"),
                                          (-1.0, "nothing to grow")])
def test_compound_growth_rejects_rates_given_in_percent(rate, phrase):
    with pytest.raises(ValueError, match=phrase):
        career.compound_growth(100_000, rate, 5)


@pytest.mark.parametrize("start,target,rate,years", [
    (100, 121, 0.10, 2),             # exact hits: the logarithm alone gives 3 for some
    (100, 144, 0.20, 2),
    (100, 110.25, 0.05, 2),
    (100_000, 150_000, 0.07, 6),     # 5.99 years: round up
    (100, 121.01, 0.10, 3),          # just past an exact hit
    (137_000, 137_000, 0.07, 0),
    (175_000, 137_000, 0.07, 0),
    (50_000, 1_000_000, 0.02, 152),
])
def test_years_to_reach_counts_whole_years(start, target, rate, years):
    result = career.years_to_reach(start, target, rate)
    assert result == years and isinstance(result, int)
    if years:
        assert career.compound_growth(start, rate, years) >= target * (1 - 1e-12)
        assert career.compound_growth(start, rate, years - 1) < target


@pytest.mark.parametrize("rate", [0.0, -0.03])
def test_a_salary_that_does_not_grow_never_reaches_a_higher_target(rate):
    assert career.years_to_reach(137_000, 175_000, rate) is None
    assert career.years_to_reach(175_000, 137_000, rate) == 0


def test_years_to_reach_finds_exact_hits_over_many_rates():
    for rate in (0.01, 0.03, 0.07, 0.15, 0.2):
        for n in range(1, 40):
            assert career.years_to_reach(1000, 1000 * (1 + rate) ** n, rate) == n, (rate, n)


def test_years_to_reach_rejects_a_rate_in_percent():
    with pytest.raises(ValueError, match="pass a fraction"):
        career.years_to_reach(100_000, 150_000, 7)


def test_growth_scenarios_plot_has_a_line_per_scenario_and_the_ceiling():
    scenarios = pd.DataFrame({"7%": [100_000, 107_000], "20%": [100_000, 120_000]}, index=[0, 1])
    ax = career.plot_growth_scenarios(scenarios, ceiling=306_000, ceiling_label="senior top")
    assert len(ax.lines) == 3 and ax.lines[-1].get_ydata()[0] == 306
    assert "thousands of US dollars" in ax.get_ylabel() and ax.get_title()


def test_growth_rates_come_from_the_market_table():
    rates = career.growth_rates()["rate"]
    assert rates.to_dict() == {"mle_salary_growth_annual": 0.15, "ml_mlops_comp_growth_yoy": 0.20,
                               "mid_level_mle_salary_growth_yoy": 0.07}


def test_every_tool_in_the_report_has_a_place_in_the_course():
    tools = set(load_report_table("tools")["tool"])
    assert tools <= set(career.TOOL_MAP)
    assert set(career.TOOL_MAP) <= tools, "the map has tools the report does not list"
    for tool, use in career.TOOL_MAP.items():
        assert use.kind in career.KINDS, tool
        plan.planned_chapter(use.chapter)
    table = career.tool_map()
    assert len(table) == len(load_report_table("tools"))
    assert career.TOOL_MAP["MLflow"].kind == "used" and career.TOOL_MAP["MLflow"].chapter == 7


def test_question_bank_is_graded_and_points_to_real_chapters():
    table = career.question_table()
    assert set(table["difficulty"]) == set(career.DIFFICULTIES)
    ranks = table["difficulty"].map(career.DIFFICULTIES.index)
    assert ranks.is_monotonic_increasing
    for q in career.QUESTION_BANK:
        plan.planned_chapter(q.chapter)
        assert q.question.endswith(("?", "."))
    assert len(career.QUESTION_BANK) >= 10


def _chapter_text(number: int) -> str:
    import json
    path = ROOT / f"{plan.planned_chapter(number)[2]}.ipynb"
    cells = json.loads(path.read_text())["cells"]
    return "\n".join("".join(cell["source"]) for cell in cells).lower()


# Only tools whose chapter is written: a planned chapter has nothing to hold to yet.
WRITTEN_TOOLS = sorted(t for t, use in career.TOOL_MAP.items() if plan.published(use.chapter))


@pytest.mark.parametrize("tool", WRITTEN_TOOLS)
def test_a_published_chapter_the_map_points_to_names_the_tool(tool):
    """The map's promise holds: the chapter it names talks about the tool."""
    use = career.TOOL_MAP[tool]
    name = tool.split(" (")[0].lower()
    assert name in _chapter_text(use.chapter), (
        f"career.TOOL_MAP says chapter {use.chapter} covers {tool!r}, but the chapter never names it")
