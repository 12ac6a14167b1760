"""Batch scoring: pandas and a Dask LocalCluster give the same numbers from the same chunks."""
import pytest

from mlecourse.lender import features
from mlecourse.lender.serving import batch_scoring


def test_plan_covers_the_rows_exactly():
    assert [r for r, _ in batch_scoring.plan(10, 4)] == [4, 4, 2]
    with pytest.raises(ValueError, match="positive"):
        batch_scoring.plan(0)


def test_chunks_are_reproducible(loan_windows):
    base = loan_windows[1][list(features.RAW_FEATURES)]
    a = batch_scoring.make_chunk(base, 100, 3)
    assert a.equals(batch_scoring.make_chunk(base, 100, 3))
    assert not a.equals(batch_scoring.make_chunk(base, 100, 4))


def test_dask_and_pandas_agree(course_model, loan_windows):
    base = loan_windows[1][list(features.RAW_FEATURES)]
    local = batch_scoring.score_pandas(course_model, base, 6_000, 2_000)
    with batch_scoring.local_cluster() as client:
        distributed = batch_scoring.score_dask(client, course_model, base, 6_000, 2_000)
        table, warm = batch_scoring.warmed_benchmark(client, course_model, base, [4_000], 2_000)
    assert set(table["engine"]) == {"pandas", "dask"} and (table["rows"] == 4_000).all()
    assert set(warm) == {"imports", "first job"} and all(v > 0 for v in warm.values())
    assert distributed["rows"] == local["rows"] == 6_000
    assert distributed["mean_score"] == pytest.approx(local["mean_score"], rel=1e-12)
    assert distributed["refusal_rate"] == local["refusal_rate"]
