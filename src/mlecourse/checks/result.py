"""The three outcomes of a check, and the one-line message each prints."""
from __future__ import annotations

import re
from dataclasses import dataclass

CORRECT, INCORRECT, NOT_ATTEMPTED = "correct", "incorrect", "not attempted"


@dataclass(frozen=True)
class Result:
    exercise: str
    outcome: str
    message: str = ""

    @property
    def correct(self) -> bool:
        return self.outcome == CORRECT

    def line(self) -> str:
        icon = {CORRECT: "✓", INCORRECT: "✗", NOT_ATTEMPTED: "○"}[self.outcome]
        text = f"{icon} Exercise {self.exercise}: {self.outcome}"
        if self.outcome == NOT_ATTEMPTED:
            text += " yet"
        # one line whatever a message quotes (a learner's text may hold a newline)
        return " ".join(f"{text}. {self.message}".split())


class Wrong(Exception):
    """Raised by a checker to say what is wrong with an answer."""


class Unanswered(Exception):
    """Raised by a checker when the answer still holds the placeholder."""


class Rounded(Wrong):
    """Raised when an answer is the right value rounded too far: not a mistake of
    logic, so the message says how many decimals to give, not what to rethink."""


# A first word that is plainly English: lower-case letters (an apostrophe or a
# hyphen inside), at least two of them, or the article "a". Anything else
# (`credit_score`, `k`, `f1`, `p95_ms`, a quoted name) is code and keeps its case.
_WORD = re.compile(r"(?:a|[a-z][a-z'-]*[a-z])(?=[\s,:;.!?]|$)")
_NOT_A_NAME = re.compile(r"\s*(?:=|\(|\[|\.\w)")   # "k = 1", "f(x)", "x.mean": code after all
# "1 quiet months are", "it returned 1 labels.": a count of one with a plural
# noun, followed by a plural verb or the end of a clause (so "row 1 has" and
# "row 1 looks" are left alone). Not "0.1 months" or "21 months"; not nouns
# whose singular ends in s ("1 class").
_ONE_OF_MANY = re.compile(r"(?:(\w+) )?(?<![\w.,])1 ((?:[a-z]+ )?[a-z]+?[^su'])s"
                          r"(?:( are| were| have)\b|(?=[.,;:)]|$))")
_SINGULAR_VERB = {" are": " is", " were": " was", " have": " has"}
# "exercise 1 takes.": after these, 1 names a thing, it does not count them.
_LABELS = {"row", "exercise", "step", "case", "cell", "level", "chapter", "version", "hint",
           "column", "item", "number", "line", "fold", "month", "year", "day", "week", "part"}


def _one(match: re.Match) -> str:
    before = f"{match[1]} " if match[1] else ""
    if (match[1] or "").lower() in _LABELS:
        return match[0]
    return f"{before}1 {match[2]}{_SINGULAR_VERB.get(match[3] or '', '')}"


def plural(count: int, noun: str, many: str | None = None) -> str:
    """'1 quiet month', '3 quiet months': a count with its noun agreeing."""
    return f"{count} {noun if count == 1 else (many or noun + 's')}"


def sentence(text: str) -> str:
    """A message as one sentence: a capital if it starts with an English word
    (never with an identifier: 'credit_score carries...' stays as written), a
    count of one in the singular, and a full stop."""
    text = " ".join(str(text).split())
    text = _ONE_OF_MANY.sub(_one, text)
    first = _WORD.match(text)
    if first and not _NOT_A_NAME.match(text, first.end()):
        text = text[:1].upper() + text[1:]
    return text if not text or text.endswith((".", "?", "!")) else text + "."
