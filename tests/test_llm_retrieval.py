"""Retrieval: chunking, the two rankers, and the metrics on lists whose answers are known."""
import pytest

from mlecourse.lender.llm import corpus, retrieval


@pytest.fixture(scope="module")
def documents():
    return corpus.policies()


def test_paragraph_passages_are_named_for_citation(documents):
    passages = retrieval.by_paragraph(documents)
    assert len(documents) == 10 and len(passages) == sum(len(d.paragraphs) for d in documents)
    assert passages[0].id.endswith("-1") and len({p.id for p in passages}) == len(passages)


def test_windows_overlap_and_cover_every_word(documents):
    windows = retrieval.by_window(documents[:1], words=20, overlap=5)
    words = documents[0].text.split()
    assert " ".join(windows[0].text.split()[-5:]) == " ".join(windows[1].text.split()[:5])
    assert windows[-1].text.split()[-1] == words[-1]
    with pytest.raises(ValueError, match="overlap"):
        retrieval.by_window(documents, words=10, overlap=10)


def test_tokens_keep_numbers_whole_and_drop_stop_words():
    assert retrieval.tokens("What is the fee under 8,000?") == ["fee", "under", "8,000"]


@pytest.mark.parametrize("index_type", [retrieval.BM25Index, retrieval.TfidfIndex])
def test_each_ranker_finds_the_paragraph_that_answers(documents, index_type):
    index = index_type(retrieval.by_paragraph(documents))
    top = index.search("How long is a settlement figure valid?", 3)
    assert top[0][0].id == "early-repayment-1" and top[0][1] >= top[1][1] >= top[2][1]
    assert index.search("zzzz unknown words", 1)[0][1] == 0


def test_recall_and_mrr_on_known_lists():
    ranked = [[False, True, False], [True, False, False], [False, False, False], [False, False, True]]
    assert retrieval.recall_at_k(ranked, 1) == 0.25
    assert retrieval.recall_at_k(ranked, 2) == 0.5
    assert retrieval.recall_at_k(ranked, 3) == 0.75
    assert retrieval.mean_reciprocal_rank(ranked) == pytest.approx((1 / 2 + 1 + 0 + 1 / 3) / 4)
    with pytest.raises(ValueError):
        retrieval.recall_at_k([], 1)


def test_relevance_needs_the_whole_evidence_sentence(documents):
    passage = retrieval.by_paragraph(documents)[0]
    sentence = passage.text.split(". ")[1]
    assert retrieval.relevant(passage, sentence.upper())
    assert not retrieval.relevant(passage, sentence + " and more")
