"""Comparisons that explain themselves.

Each function raises ``Wrong`` with a message that says what is wrong with an
answer (its type, its shape, which label, which case) without revealing the
expected value, or ``Unanswered`` when the placeholder is still there.
"""
from __future__ import annotations

import contextlib
import copy
import math
import signal
import threading
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd

from .blank import is_blank  # noqa: F401  (re-exported for checkers)
from .result import Unanswered, Wrong


def describe(value: Any) -> str:
    """A short name for what a learner passed, for messages."""
    if isinstance(value, str):
        shown = value if len(value) <= 30 else value[:27] + "..."
        return f"the text {shown!r}"
    if isinstance(value, pd.DataFrame):
        return f"a DataFrame of shape {value.shape}"
    if isinstance(value, pd.Series):
        return f"a Series of length {len(value)}"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if value is None:
        return "None (did the cell or function forget to return a value?)"
    return f"{type(value).__name__} {value!r}" if np.isscalar(value) else type(value).__name__


def as_number(answer: Any, what: str) -> float:
    if is_blank(answer):
        raise Unanswered()
    if isinstance(answer, (bool, np.bool_)):
        raise Wrong(f"expected a number for {what}, got the boolean {answer}")
    if isinstance(answer, (pd.Series, pd.DataFrame, np.ndarray, list, tuple)):
        raise Wrong(f"expected a single number for {what}, got {describe(answer)}")
    if not isinstance(answer, (int, float, np.integer, np.floating)):
        raise Wrong(f"expected a number for {what}, got {describe(answer)}")
    value = float(answer)
    if math.isnan(value):
        raise Wrong(f"{what} is NaN: a missing value got into the computation")
    return value


def number(answer: Any, expected: float, *, what: str, rel: float = 1e-6,
           abs_tol: float = 1e-9, direction: bool = True) -> None:
    """A single number, within a relative tolerance."""
    value = as_number(answer, what)
    if math.isclose(value, expected, rel_tol=rel, abs_tol=abs_tol):
        return
    hint = ""
    if direction:
        hint = " (too high)" if value > expected else " (too low)"
    raise Wrong(f"{what} is not right{hint}")


def integer(answer: Any, expected: int, *, what: str) -> None:
    """A count: a whole number, exactly."""
    value = as_number(answer, what)
    if not value.is_integer():
        raise Wrong(f"{what} should be a whole number, got {value}")
    number(value, expected, what=what, rel=0, abs_tol=0)


def _plain(label: Any) -> Any:
    """A numpy scalar as the plain Python value a learner typed (0, not np.int64(0))."""
    return label.item() if isinstance(label, np.generic) else label


def _kind(label: Any) -> str:
    """What sort of label this is, in words."""
    if isinstance(label, str):
        return "text"
    if isinstance(label, (int, np.integer)) and not isinstance(label, (bool, np.bool_)):
        return "whole numbers"
    if isinstance(label, (float, np.floating)):
        return "decimal numbers"
    return type(label).__name__


def _labels(index: pd.Index) -> str:
    shown = [str(x) for x in list(index)[:5]]
    more = "" if len(index) <= 5 else f" and {len(index) - 5} more"
    return ", ".join(shown) + more


def series(answer: Any, expected: pd.Series, *, what: str, rel: float = 1e-6,
           abs_tol: float = 1e-9, ordered: bool = False) -> None:
    """A Series with the same labels and (nearly) the same values."""
    if is_blank(answer):
        raise Unanswered()
    if isinstance(answer, pd.DataFrame) and answer.shape[1] == 1:
        raise Wrong(f"expected a Series for {what}, got a one-column DataFrame: select the column")
    if not isinstance(answer, pd.Series):
        raise Wrong(f"expected a pandas Series for {what}, got {describe(answer)}")
    missing = expected.index.difference(answer.index)
    extra = answer.index.difference(expected.index)
    if len(missing) and sorted(map(str, answer.index)) == sorted(map(str, expected.index)):
        example = _plain(expected.index[0])
        raise Wrong(f"{what} has the right labels, but as {_kind(answer.index[0])} instead of "
                    f"{_kind(expected.index[0])} (like {example!r})")
    if len(missing):
        raise Wrong(f"{what} lacks these labels: {_labels(missing)}")
    if len(extra):
        raise Wrong(f"{what} has labels that should not be there: {_labels(extra)}")
    if ordered and list(answer.index) != list(expected.index):
        raise Wrong(f"{what} has the right labels in the wrong order")
    aligned = answer.reindex(expected.index)
    got = pd.to_numeric(aligned, errors="coerce")
    if got.isna().any() and not expected.isna().any():
        label = _plain(got[got.isna()].index[0])
        if aligned.isna().any():
            raise Wrong(f"{what} has missing values (NaN or NA), e.g. at {label!r}: "
                        "decide what each one should be")
        raise Wrong(f"{what} has values that are not numbers, e.g. at {label!r}")
    close = np.isclose(got.to_numpy(float), expected.to_numpy(float), rtol=rel, atol=abs_tol)
    if not close.all():
        bad = expected.index[~close]
        raise Wrong(f"{what} is wrong at {len(bad)} label(s), e.g. {_plain(bad[0])!r}")


def choice(answer: Any, correct: str, explanations: dict[str, str], *, what: str = "your choice") -> None:
    """One option out of several; a wrong option gets its own explanation."""
    if is_blank(answer):
        raise Unanswered()
    options = ", ".join(repr(k) for k in explanations)
    if not isinstance(answer, str):
        raise Wrong(f"expected one of {options} as text, got {describe(answer)}")
    key = answer.strip().lower()
    if key not in explanations:
        raise Wrong(f"{answer!r} is not an option; choose one of {options}")
    if key != correct:
        raise Wrong(explanations[key])


@dataclass
class Case:
    """One hidden test case for a learner's function."""
    name: str
    args: tuple
    verify: Callable[[Any], None]   # raises Wrong if the result is not right
    kwargs: dict | None = None
    # The function must leave its arguments as it found them (production code
    # that edits its caller's DataFrame is a bug waiting for a second caller).
    keep_inputs: bool = False


def _same(a: Any, b: Any) -> bool:
    if hasattr(a, "equals"):
        return type(a) is type(b) and a.equals(b) and list(getattr(a, "columns", [])) == \
            list(getattr(b, "columns", []))
    return bool(a == b)


class _Overtime(Exception):
    """A learner's function ran past its time limit."""


@contextlib.contextmanager
def time_limit(seconds: float):
    """Stop the code inside after ``seconds``, where the platform allows it
    (a timer signal: Linux and macOS, main thread); elsewhere, no limit."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(*_):
        raise _Overtime()

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def function(answer: Any, cases: list[Case], *, what: str, seconds: float = 5,
             overtime: str = "a loop that never ends?") -> None:
    """Run a learner's function on hidden cases; report the first that fails.

    Each case may run for ``seconds``: a loop that never ends gets a message,
    not a notebook that hangs.
    """
    if is_blank(answer):
        raise Unanswered()
    if not callable(answer):
        raise Wrong(f"expected a function (written with `def`), got {describe(answer)}")
    for case in cases:
        args = copy.deepcopy(case.args)
        try:
            with time_limit(seconds):
                result = answer(*args, **(case.kwargs or {}))
        except NotImplementedError:
            raise Unanswered() from None
        except _Overtime:
            raise Wrong(f"on {case.name}, {what} was still running after {seconds:g} s: "
                        f"{overtime}") from None
        except Exception as err:  # the learner's code: report it, do not crash
            raise Wrong(f"on {case.name}, {what} raised {type(err).__name__}: {err}") from None
        if is_blank(result):
            raise Unanswered()
        if case.keep_inputs and not all(map(_same, args, case.args)):
            raise Wrong(f"on {case.name}, {what} changed the data it was given; work on a copy")
        try:
            case.verify(result)
        except Wrong as err:
            raise Wrong(f"on {case.name}: {err}") from None
