"""The three outcomes of a check, and the one-line message each prints."""
from __future__ import annotations

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
