"""The stage's data: the lender's policy documents and the labelled sets written for the course.

Every file is checked against ``data/SHA256SUMS`` before it is read, as the
loans are. See ``data/llm/README.md`` for the datasheet.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mlecourse.lender.data.fingerprints import file_sha256
from mlecourse.lender.data.loading import DataFileError, read_checksums
from mlecourse.paths import DATA_DIR

LLM_DIR = DATA_DIR / "llm"
POLICY_DIR = LLM_DIR / "policies"


def _checked(path: Path) -> Path:
    relative = path.relative_to(DATA_DIR).as_posix()
    expected = read_checksums(DATA_DIR).get(relative)
    if expected is None:
        raise DataFileError(f"data/{relative} is not listed in data/SHA256SUMS; restore it with `git checkout -- data/`")
    if file_sha256(path) != expected:
        raise DataFileError(f"data/{relative} has changed (its SHA-256 does not match data/SHA256SUMS); "
                            f"restore it with `git checkout -- data/{relative}`")
    return path


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    paragraphs: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


def parse_document(doc_id: str, markdown: str) -> Document:
    """A policy page: a ``# Title`` line, then paragraphs separated by blank lines."""
    blocks = [b.strip() for b in re.split(r"\n\s*\n", markdown.strip()) if b.strip()]
    if not blocks or not blocks[0].startswith("# "):
        raise ValueError(f"{doc_id}: a policy document starts with a '# Title' line")
    return Document(doc_id, blocks[0][2:].strip(), tuple(" ".join(b.split()) for b in blocks[1:]))


def policies() -> list[Document]:
    """The lender's ten policy documents, in a fixed order."""
    return [parse_document(p.stem, _checked(p).read_text(encoding="utf-8"))
            for p in sorted(POLICY_DIR.glob("*.md"))]


def questions() -> pd.DataFrame:
    """Customers' questions: the document and sentence that answer each, the facts an answer needs.

    ``answerable`` is False where the documents do not answer; ``split`` is
    ``dev`` (to choose settings on) or ``test`` (to report on), alternately.
    """
    frame = pd.read_csv(_checked(LLM_DIR / "questions.csv"), dtype=str, keep_default_na=False)
    frame["answerable"] = frame["doc"] != ""
    frame["facts"] = [[f for f in facts.split(";") if f] for facts in frame["facts"]]
    frame["split"] = ["dev" if i % 2 == 0 else "test" for i in range(len(frame))]
    return frame


def intents() -> pd.DataFrame:
    """Applicants' and customers' messages, each with the team that should answer it."""
    return pd.read_csv(_checked(LLM_DIR / "intents.csv"), dtype=str)


def attacks() -> pd.DataFrame:
    """Prompt injections: through the customer's message, or planted in a policy document."""
    return pd.read_csv(_checked(LLM_DIR / "attacks.csv"), dtype=str)


def jailbreaks() -> pd.DataFrame:
    """Requests to refuse (``harmful`` 1) beside look-alike requests to answer (0)."""
    frame = pd.read_csv(_checked(LLM_DIR / "jailbreaks.csv"), dtype={"id": str, "text": str, "harmful": int})
    frame["harmful"] = frame["harmful"].astype(bool)
    return frame


def judged_answers() -> pd.DataFrame:
    """Answers to the questions, each labelled acceptable or not by a person (see the datasheet)."""
    frame = pd.read_csv(_checked(LLM_DIR / "judged_answers.csv"), dtype=str, keep_default_na=False)
    frame["acceptable"] = frame["acceptable"].astype(int).astype(bool)
    return frame
