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
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd

from .blank import is_blank  # noqa: F401  (re-exported for checkers)
from .result import Rounded, Unanswered, Wrong


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


def _decimals(value: float, *, below_units: bool = False) -> int:
    """How many decimals a person gave: 471.18 -> 2, 3.0 -> 0, 1e-05 -> 5.
    With ``below_units``, a whole number's trailing zeros count as negative
    decimals, for a check that accepts rounding to the thousand: 192000 -> -3."""
    text = repr(float(value))
    mantissa, _, exponent = text.partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = fraction.rstrip("0")
    places = len(digits) - int(exponent or 0)
    if below_units and not digits and whole.strip("-") not in ("", "0"):
        places = -(len(whole) - len(whole.rstrip("0"))) - int(exponent or 0)
    return places if below_units else max(0, places)


def _is_rounding(value: float, expected: float, places: int) -> bool:
    """Is ``value`` what ``expected`` gives rounded (or cut) to ``places`` decimals?"""
    step = 10.0 ** -places
    slack = 1e-9 * max(1.0, abs(expected))
    if abs(value - expected) <= step / 2 + slack:
        return True
    return math.isclose(value, math.trunc(expected / step) * step, abs_tol=slack)


def _places_needed(expected: float, *, rel: float, abs_tol: float,
                   places: int | None, sig: int | None) -> int:
    """The fewest decimals a right answer must have: as declared (``places``
    decimals, or ``sig`` significant figures), else what the tolerance demands."""
    if places is not None:
        return places
    magnitude = math.floor(math.log10(abs(expected))) if expected else 0
    if sig is not None:
        return max(0, sig - 1 - magnitude)
    for candidate in range(0, 16):
        if math.isclose(round(expected, candidate), expected, rel_tol=rel, abs_tol=abs_tol):
            return candidate
    return 16


def _in_words(places: int) -> str:
    if places < 0:
        return f"the nearest {10 ** -places:,}"
    return "a whole number" if places == 0 else f"{places} decimal{'s' if places > 1 else ''}"


def _at_least(places: int) -> str:
    """What a right answer must keep, in words."""
    if places < 0:
        return f"round to the nearest {10 ** -places:,} or finer"
    return f"give at least {_in_words(places)}"


def rounding(value: float, expected: float, *, what: str, rel: float = 1e-6, abs_tol: float = 1e-9,
             places: int | None = None, sig: int | None = None, given: int | None = None) -> bool:
    """True if ``value`` is ``expected`` rounded to enough decimals; raise
    ``Rounded`` if it is ``expected`` rounded too far; False otherwise.

    Without ``places`` or ``sig``, "enough" is what the tolerance needs, and an
    answer rounded coarser (keeping at least 2 significant figures) is still
    told it is rounded, never that it is wrong. ``given``: the decimals the
    learner used, when known better than from ``value`` alone (a whole Series)."""
    if not math.isfinite(value) or not math.isfinite(expected):
        return False
    declared = places is not None or sig is not None
    if expected == 0:
        return places is not None and abs(value) <= 10.0 ** -places / 2
    need = _places_needed(expected, rel=rel, abs_tol=abs_tol, places=places, sig=sig)
    given = _decimals(value, below_units=need < 0) if given is None else given
    # 0.530 is the float 0.53: a right rounding to `need` decimals may show fewer
    if _is_rounding(value, expected, max(given, need)):
        return True
    if given >= need or not _is_rounding(value, expected, given):
        return False
    kept = given + math.floor(math.log10(abs(expected))) + 1   # significant figures left
    if declared or kept >= 2:
        raise Rounded(f"{what} looks rounded to {_in_words(given)}: {_at_least(need)}")
    return False


def agrees(value: float, expected: float, *, rel: float = 1e-6, abs_tol: float = 1e-9,
           places: int | None = None, sig: int | None = None) -> bool:
    """Is ``value`` ``expected``, or ``expected`` rounded (even too far)? For
    checkers that recognise a known mistake, which a learner may have rounded."""
    if math.isclose(value, expected, rel_tol=rel, abs_tol=abs_tol):
        return True
    try:
        return rounding(value, expected, what="", rel=rel, abs_tol=abs_tol, places=places, sig=sig)
    except Rounded:
        return True


def number(answer: Any, expected: float, *, what: str, rel: float = 1e-6,
           abs_tol: float = 1e-9, direction: bool = True, places: int | None = None,
           sig: int | None = None) -> None:
    """A single number, within a relative tolerance, or rounded as a person would.

    ``places=2`` (money to the cent), ``places=-3`` (a salary to the thousand)
    or ``sig=3`` (a rate to three significant figures) declares how far a right
    answer may be rounded; an answer rounded further is told so ("looks rounded
    to 1 decimal: give at least 2 decimals")."""
    value = as_number(answer, what)
    if math.isclose(value, expected, rel_tol=rel, abs_tol=abs_tol):
        return
    if rounding(value, expected, what=what, rel=rel, abs_tol=abs_tol, places=places, sig=sig):
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
           abs_tol: float = 1e-9, ordered: bool = False, places: int | None = None,
           sig: int | None = None) -> None:
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
    values, wanted = got.to_numpy(float), expected.to_numpy(float)
    close = np.isclose(values, wanted, rtol=rel, atol=abs_tol, equal_nan=True)
    finite = values[np.isfinite(values)]
    below = places is not None and places < 0
    given = max((_decimals(v, below_units=below) for v in finite), default=0)   # rounded as a whole
    for i in np.flatnonzero(~close):   # rounded values are right, or told they are rounded
        label = _plain(expected.index[i])
        close[i] = rounding(values[i], wanted[i], what=f"{what} at {label!r}", rel=rel,
                            abs_tol=abs_tol, places=places, sig=sig, given=given)
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


# A function that waits instead of computing (a sleep, a lock) uses no CPU: the
# wall clock stops it after this many times its CPU budget (at least WALL_MIN s).
WALL_FACTOR, WALL_MIN = 10, 30.0


@contextlib.contextmanager
def time_limit(seconds: float, *, wall: float | None = None):
    """Stop the code inside once it has used ``seconds`` of CPU time, or ``wall``
    seconds on the clock (default: the larger of 10 x ``seconds`` and 30 s).

    CPU time, not wall time: on a slow or busy laptop a right answer takes longer
    on the clock but not more CPU, so the limit does not move with the load.
    Timer signals exist on Linux and macOS, in the main thread; elsewhere, no limit.
    """
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return
    wall = max(WALL_FACTOR * seconds, WALL_MIN) if wall is None else wall

    def stop(*_):
        raise _Overtime()

    clocks = {signal.ITIMER_PROF: time.process_time, signal.ITIMER_REAL: time.monotonic}
    timers = ((signal.SIGPROF, signal.ITIMER_PROF, seconds), (signal.SIGALRM, signal.ITIMER_REAL, wall))
    saved = []
    for sig, which, limit in timers:
        handler = signal.signal(sig, stop)
        outer, _ = signal.setitimer(which, limit)   # a limit already running outside this one
        saved.append((sig, which, handler, outer, clocks[which]()))
    try:
        yield
    finally:
        for sig, which, handler, outer, began in saved:
            signal.setitimer(which, 0)
            signal.signal(sig, handler)
            if outer:   # give the outer limit back what is left of it
                signal.setitimer(which, max(outer - (clocks[which]() - began), 1e-3))


def function(answer: Any, cases: list[Case], *, what: str, seconds: float = 5,
             overtime: str = "a loop that never ends?") -> None:
    """Run a learner's function on hidden cases; report the first that fails.

    Each case may use ``seconds`` of CPU time (see ``time_limit``): a loop that
    never ends gets a message, not a notebook that hangs.
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
            raise Wrong(f"on {case.name}, {what} was still running after {seconds:g} s "
                        f"of computing: {overtime}") from None
        except Exception as err:  # the learner's code: report it, do not crash
            raise Wrong(f"on {case.name}, {what} raised {type(err).__name__}: {err}") from None
        if is_blank(result):
            raise Unanswered()
        if case.keep_inputs and not all(map(_same, args, case.args)):
            raise Wrong(f"on {case.name}, {what} changed the data it was given; work on a copy")
        try:
            case.verify(result)
        except Wrong as err:   # Rounded stays Rounded: a right answer, given too coarsely
            raise type(err)(f"on {case.name}: {err}") from None
