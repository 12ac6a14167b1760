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
        if row.score == 0.5:
            assert row.evidence.startswith("chapters/") or "automated" in row._5, row.test


def test_final_score_is_the_weakest_section():
    assert mltestscore.final_score() == mltestscore.section_scores().min()


def test_the_bands_are_the_paper_s():
    assert mltestscore.band(0) == mltestscore.BANDS[0][1]
    assert "serious holes" in mltestscore.band(1.0) and "first pass" in mltestscore.band(1.5)
    assert "reasonably tested" in mltestscore.band(3.0)  # (2, 3]
    assert "mission-critical" in mltestscore.band(3.5) and "mission-critical" in mltestscore.band(5.0)  # (3, 5]
    assert "exceptional" in mltestscore.band(5.5)


def test_every_test_short_of_a_point_says_what_it_misses():
    for row in mltestscore.audit().itertuples():
        assert (row.score == 1.0) == (row.missing == ""), row.test
        assert row.score == 0.0 or row._5, f"{row.test}: say what the score rests on"


def test_the_audit_fails_some_tests():
    assert (mltestscore.audit()["score"] == 0.0).sum() >= 3
