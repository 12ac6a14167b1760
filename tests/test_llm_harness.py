"""The full evaluation's command on a slice: every task runs, the table has intervals, a rerun comes from the cache."""
from mlecourse.lender.llm import corpus, harness, retrieval


def test_the_search_box_baseline_and_the_refusal_cut():
    questions = corpus.questions()
    index = retrieval.BM25Index(retrieval.by_paragraph(corpus.policies()))
    cut = harness.choose_min_score(index, questions[questions["split"] == "dev"])
    test = questions[questions["split"] == "test"]
    rows = harness.answer_rows(lambda q: harness.extract(index, q, min_score=cut), test)
    summary = harness.answer_summary(rows)
    assert set(summary) == {"correct", "grounded", "facts present", "refused when unanswerable"}
    assert all(0 <= s["low"] <= s["rate"] <= s["high"] <= 1 for s in summary.values())
    # the extracted sentence is copied from a given passage, so it is grounded whenever it is sent
    sent = rows[~rows["refused"]]
    assert sent["grounded"].all()


def test_make_llm_eval_on_a_slice_then_from_the_cache(tmp_path, capsys):
    args = ["--limit", "1", "--cache", str(tmp_path / "cache"), "--out", str(tmp_path / "eval.csv")]
    assert harness.main(args) == 0
    first = capsys.readouterr().out
    assert "routing (TF-IDF + LR)" in first and "answer v3: correct" in first and "CPU" in first
    assert harness.main(args) == 0
    again = capsys.readouterr().out
    assert "generations from the cache" in again and " 0 generations" not in again
    assert (tmp_path / "eval.csv").read_text().count("\n") == first.count("\n") - 2
