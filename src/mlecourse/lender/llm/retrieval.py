"""Retrieval: find the policy passages that answer a question, and measure how well.

Two ways to cut documents into passages (paragraphs, or fixed windows of
words), two rankers (BM25 from ``bm25s``, TF-IDF with cosine similarity from
scikit-learn), and the two metrics a retrieval team reports: recall@k (was a
passage that answers among the first k?) and the mean reciprocal rank.
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

import numpy as np

from mlecourse.lender.llm.corpus import Document

STOPWORDS = frozenset("""a an and are as at be by can do does for from how i if in is it its me my of on or our
so that the this to was we what when where which who will with you your""".split())


@dataclass(frozen=True)
class Passage:
    id: str
    doc: str
    text: str


def by_paragraph(documents: list[Document]) -> list[Passage]:
    """One passage per paragraph, named ``<document>-<n>``: what a reader would cite."""
    return [Passage(f"{d.id}-{n}", d.id, p) for d in documents for n, p in enumerate(d.paragraphs, 1)]


def by_window(documents: list[Document], words: int = 40, overlap: int = 10) -> list[Passage]:
    """Fixed windows of ``words`` words, each starting ``words - overlap`` after the last."""
    if not 0 <= overlap < words:
        raise ValueError(f"overlap must be at least 0 and below the window ({words} words), got {overlap}")
    passages = []
    for d in documents:
        tokens = d.text.split()
        starts = range(0, max(len(tokens) - overlap, 1), words - overlap)
        passages += [Passage(f"{d.id}-w{n}", d.id, " ".join(tokens[s:s + words])) for n, s in enumerate(starts, 1)]
    return passages


def by_document(documents: list[Document]) -> list[Passage]:
    return [Passage(d.id, d.id, d.text) for d in documents]


CHUNKERS = {"paragraph": by_paragraph, "window": by_window, "document": by_document}


def tokens(text: str) -> list[str]:
    """Lower-cased words and numbers, stop words dropped; '8,000' stays one token."""
    return [t for t in re.findall(r"[a-z0-9]+(?:[,.][0-9]+)*", text.lower()) if t not in STOPWORDS]


class BM25Index:
    """Okapi BM25 (Lucene's variant) over passages, with ``bm25s``."""

    name = "BM25"

    def __init__(self, passages: list[Passage], k1: float = 1.5, b: float = 0.75):
        with warnings.catch_warnings():  # tqdm's note, on import, that notebook progress bars need ipywidgets
            warnings.filterwarnings("ignore", message="IProgress not found")
            import bm25s

        self.passages = list(passages)
        self.model = bm25s.BM25(k1=k1, b=b)
        self.model.index([tokens(p.text) or ["_"] for p in self.passages], show_progress=False)

    def scores(self, query: str) -> np.ndarray:
        words = [w for w in tokens(query) if w in self.model.vocab_dict] or ["_"]
        return np.asarray(self.model.get_scores(words), dtype=float)

    def search(self, query: str, k: int = 3) -> list[tuple[Passage, float]]:
        scores = self.scores(query)
        order = np.argsort(-scores, kind="stable")[:k]
        return [(self.passages[i], float(scores[i])) for i in order]


class TfidfIndex:
    """TF-IDF vectors and cosine similarity, with scikit-learn."""

    name = "TF-IDF"

    def __init__(self, passages: list[Passage]):
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.passages = list(passages)
        self.vectorizer = TfidfVectorizer(tokenizer=tokens, token_pattern=None, lowercase=False, sublinear_tf=True)
        self.matrix = self.vectorizer.fit_transform([p.text for p in self.passages])

    def scores(self, query: str) -> np.ndarray:
        return (self.matrix @ self.vectorizer.transform([query]).T).toarray().ravel()

    search = BM25Index.search


def relevant(passage: Passage, evidence: str) -> bool:
    """A passage answers the question when it holds the whole sentence the answer rests on."""
    return " ".join(evidence.split()).lower() in " ".join(passage.text.split()).lower()


def recall_at_k(ranked: list[list[bool]], k: int) -> float:
    """Share of questions with a relevant passage among the first ``k`` retrieved."""
    if not ranked:
        raise ValueError("no questions to score")
    return float(np.mean([any(flags[:k]) for flags in ranked]))


def reciprocal_rank(flags: list[bool]) -> float:
    """1 / the rank of the first relevant passage; 0 when none was retrieved."""
    for rank, hit in enumerate(flags, 1):
        if hit:
            return 1.0 / rank
    return 0.0


def mean_reciprocal_rank(ranked: list[list[bool]]) -> float:
    if not ranked:
        raise ValueError("no questions to score")
    return float(np.mean([reciprocal_rank(flags) for flags in ranked]))


def relevance_lists(index, questions, depth: int = 10) -> list[list[bool]]:
    """For each answerable question, whether each of the first ``depth`` passages answers it."""
    return [[relevant(p, q.evidence) for p, _ in index.search(q.question, depth)]
            for q in questions.itertuples() if q.answerable]
