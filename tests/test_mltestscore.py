"""The chapter's ML Test Score audit claims only what the repository holds."""
from mlecourse.paths import ROOT
from mlecourse.teaching import mltestscore


def test_the_rubric_has_its_28_tests_in_four_sections():
    table = mltestscore.audit()
    assert len(table) == 28 and table.groupby("section").size().eq(7).all()
    assert set(table["score"]) <= {0.0, 0.5, 1.0}


def test_every_claimed_score_names_evidence_that_exists():
    for row in mltestscore.audit().itertuples():
        if row.score > 0:
            assert row.evidence and (ROOT / row.evidence).exists(), row.test
        if row.score == 1.0:
            assert row.evidence.startswith("tests/"), f"{row.test}: automated means a test"


def test_final_score_is_the_weakest_section():
    assert mltestscore.final_score() == mltestscore.section_scores().min()
