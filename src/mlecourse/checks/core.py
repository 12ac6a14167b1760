"""The registry of exercises and the learner-facing ``check`` and ``hint``.

Every exercise lives in one chapter module of this package, declared with
``@exercise``. Its checker raises ``Wrong`` or ``Unanswered`` (see ``compare``)
and its ``reference`` gives a correct answer, so the test suite can prove each
check accepts the right answer, rejects the placeholder, and rejects each
declared plausible mistake with its own message.
"""
from __future__ import annotations

import importlib
import os
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable

from .blank import is_blank
from .result import CORRECT, INCORRECT, NOT_ATTEMPTED, Result, Unanswered, Wrong

# Set by the test suite: a check whose outcome differs raises, so a solution
# that is not correct, or an exercise that is not blank, fails the run.
EXPECT_ENV = "MLECOURSE_EXPECT"


@dataclass
class Exercise:
    id: str
    title: str
    checker: Callable[[Any], str | None]
    hints: list[str]
    reference: Callable[[], Any]
    # (a function making a plausible wrong answer, a phrase its message must contain)
    mistakes: list[tuple[Callable[[], Any], str]] = field(default_factory=list)
    workbook: str = ""


_REGISTRY: dict[str, Exercise] = {}
_HINTS_GIVEN: dict[str, int] = {}


def exercise(id: str, title: str, *, hints: list[str], reference: Callable[[], Any],
             mistakes: list[tuple[Callable[[], Any], str]], workbook: str):
    """Declare the checker of exercise ``id`` (a decorator)."""
    def register(checker: Callable[[Any], str | None]):
        if id in _REGISTRY:
            raise ValueError(f"exercise {id} is declared twice")
        _REGISTRY[id] = Exercise(id, title, checker, hints, reference, mistakes, workbook)
        return checker
    return register


def _load_all() -> None:
    from . import __path__ as here
    for info in pkgutil.iter_modules(here):
        if info.name.startswith("ch"):
            importlib.import_module(f"{__package__}.{info.name}")


def registry() -> dict[str, Exercise]:
    if not _REGISTRY:
        _load_all()
    return dict(sorted(_REGISTRY.items(), key=lambda kv: [int(p) for p in kv[0].split(".")]))


def _find(id: Any) -> Exercise | None:
    return registry().get(str(id).strip())


def grade(id: str, answer: Any) -> Result:
    """The outcome of checking ``answer`` for exercise ``id`` (prints nothing)."""
    ex = _find(id)
    if ex is None:
        known = ", ".join(registry())
        return Result(str(id), INCORRECT, f"There is no exercise {id!r}; the exercises are {known}.")
    if is_blank(answer):
        return Result(ex.id, NOT_ATTEMPTED, "Replace ____ with your answer and run the cell again.")
    try:
        note = ex.checker(answer)
    except Unanswered:
        return Result(ex.id, NOT_ATTEMPTED, "Replace ____ with your answer and run the cell again.")
    except Wrong as err:
        return Result(ex.id, INCORRECT, f"{_sentence(str(err))} Stuck? hint({ex.id!r})")
    except Exception as err:  # an answer no checker foresaw: still one line, no traceback
        return Result(ex.id, INCORRECT, f"The check could not use this answer "
                      f"({type(err).__name__}: {err}). Read the exercise again for what to give.")
    return Result(ex.id, CORRECT, note or "")


def _sentence(text: str) -> str:
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


class CheckExpectationError(AssertionError):
    """A check did not give the outcome the test suite expects."""


def check(id: str, answer: Any) -> None:
    """Check your answer to exercise ``id`` and print one line saying how it went."""
    result = grade(id, answer)
    print(result.line())
    expected = os.environ.get(EXPECT_ENV, "").replace("_", " ")
    if expected and result.outcome != expected:
        raise CheckExpectationError(f"expected {expected!r}, got: {result.line()}")


def hint(id: str) -> None:
    """Print the next hint for exercise ``id``."""
    ex = _find(id)
    if ex is None:
        print(f"There is no exercise {id!r}; the exercises are {', '.join(registry())}.")
        return
    given = _HINTS_GIVEN.get(ex.id, 0)
    if given >= len(ex.hints):
        print(f"💡 No more hints for {ex.id}. The worked solution is in solutions/{ex.workbook}.")
        return
    _HINTS_GIVEN[ex.id] = given + 1
    print(f"💡 Hint {given + 1} of {len(ex.hints)} for {ex.id}: {ex.hints[given]}")
