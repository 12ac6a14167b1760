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
from .result import CORRECT, INCORRECT, NOT_ATTEMPTED, Result, Rounded, Unanswered, Wrong, sentence

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
    # Answers a person would give after rounding the reference: each must be accepted.
    rounded: list[Callable[[], Any]] = field(default_factory=list)
    # The reference function the test suite mutates (a bound made inclusive, a `<`
    # made `<=`, a normalisation added: see ``mutants``); every mutant must be
    # rejected unless ``equivalent`` names it with the reason it behaves the same.
    mutate: Callable | None = None
    # True when the answer is what ``mutate()`` returns (a class, a table), not
    # the function itself.
    mutate_call: bool = False
    equivalent: dict[str, str] = field(default_factory=dict)
    # Hand-made mutants the operators cannot make: (make the wrong answer, what it does)
    mutants: list[tuple[Callable[[], Any], str]] = field(default_factory=list)
    # True when the answer is a folder of outputs (the capstone's Submission), graded from
    # what it holds: its reference is a run of the solution, which its own tests make once.
    submission: bool = False


_REGISTRY: dict[str, Exercise] = {}
_HINTS_GIVEN: dict[str, int] = {}


def exercise(id: str, title: str, *, hints: list[str], reference: Callable[[], Any],
             mistakes: list[tuple[Callable[[], Any], str]], workbook: str,
             rounded: list[Callable[[], Any]] | None = None, mutate: Callable | None = None,
             mutate_call: bool = False, equivalent: dict[str, str] | None = None,
             mutants: list[tuple[Callable[[], Any], str]] | None = None, submission: bool = False):
    """Declare the checker of exercise ``id`` (a decorator).

    ``rounded``: answers rounded as a person would round them, which must pass.
    ``mutate``: the reference function whose boundary and normalisation mutants
    the suite makes and expects rejected (``mutate_call=True`` if the answer is
    what it returns); ``equivalent`` names, with a reason, the mutants that
    behave exactly as the reference on valid input; ``mutants`` adds hand-made ones.
    ``submission``: the answer is a folder of outputs (see ``ch11_capstone.Submission``).
    """
    def register(checker: Callable[[Any], str | None]):
        if id in _REGISTRY:
            raise ValueError(f"exercise {id} is declared twice")
        _REGISTRY[id] = Exercise(id, title, checker, hints, reference, mistakes, workbook,
                                 list(rounded or []), mutate, mutate_call,
                                 dict(equivalent or {}), list(mutants or []), submission)
        return checker
    return register


_LOADED = False


def _load_all() -> None:
    """Import every chapter's module once. Not "if the registry is empty": a
    workbook that imports its own chapter's module first fills the registry
    with that chapter only, and ``check`` must still know every exercise."""
    global _LOADED
    if _LOADED:
        return
    from . import __path__ as here
    for info in pkgutil.iter_modules(here):
        if info.name.startswith("ch"):
            importlib.import_module(f"{__package__}.{info.name}")
    _LOADED = True


def registry() -> dict[str, Exercise]:
    _load_all()
    return dict(sorted(_REGISTRY.items(), key=lambda kv: [int(p) for p in kv[0].split(".")]))


def _load_chapter(id: str) -> None:
    """Import only the module of exercise ``id``'s chapter ("3.2": ``ch03_...``).
    A workbook checks its own chapter; importing every chapter's libraries for
    that cost each workbook's kernel a second or more at its first check."""
    head = id.split(".", 1)[0]
    if not head.isdigit():
        return
    from . import __path__ as here
    for info in pkgutil.iter_modules(here):
        if info.name.startswith(f"ch{int(head):02d}_"):
            importlib.import_module(f"{__package__}.{info.name}")


def find(id: Any) -> Exercise | None:
    key = str(id).strip()
    if key not in _REGISTRY:
        _load_chapter(key)
    return _REGISTRY.get(key) or registry().get(key)


def grade(id: str, answer: Any) -> Result:
    """The outcome of checking ``answer`` for exercise ``id`` (prints nothing)."""
    ex = find(id)
    if ex is None:
        known = ", ".join(registry())
        return Result(str(id), INCORRECT, f"There is no exercise {id!r}; the exercises are {known}.")
    if is_blank(answer):
        return Result(ex.id, NOT_ATTEMPTED, "Replace ____ with your answer and run the cell again.")
    try:
        note = ex.checker(answer)
    except Unanswered:
        return Result(ex.id, NOT_ATTEMPTED, "Replace ____ with your answer and run the cell again.")
    except Rounded as err:  # right, but too coarse: a hint would send them after a bug
        return Result(ex.id, INCORRECT, sentence(str(err)))
    except Wrong as err:
        return Result(ex.id, INCORRECT, f"{sentence(str(err))} Stuck? hint({ex.id!r})")
    except Exception as err:  # an answer no checker foresaw: still one line, no traceback
        return Result(ex.id, INCORRECT, f"The check could not use this answer "
                      f"({type(err).__name__}: {err}). Read the exercise again for what to give.")
    return Result(ex.id, CORRECT, sentence(note) if note else "")


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
    ex = find(id)
    if ex is None:
        print(f"There is no exercise {id!r}; the exercises are {', '.join(registry())}.")
        return
    given = _HINTS_GIVEN.get(ex.id, 0)
    if given >= len(ex.hints):
        print(f"💡 No more hints for {ex.id}. The worked solution is in solutions/{ex.workbook}.")
        return
    _HINTS_GIVEN[ex.id] = given + 1
    print(f"💡 Hint {given + 1} of {len(ex.hints)} for {ex.id}: {ex.hints[given]}")
