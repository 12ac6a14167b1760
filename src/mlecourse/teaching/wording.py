"""Words glued into prose from the numbers they describe, so the text cannot claim what the data does not.

The ethics chapter says, for every method and every metric it reports,
whether the method narrowed or widened a gap and raised or lowered a cost.
Typing "narrows" beside a glued number lets the word and the number drift
apart on the next data or library change; :func:`change` picks the word from
the two numbers, and a difference smaller than ``tolerance`` is "leaves ... unchanged".
"""
from __future__ import annotations


def change(before: float, after: float, *, lower: str = "narrows", higher: str = "widens",
           same: str = "leaves unchanged", tolerance: float = 0.0005) -> str:
    """The verb for going from ``before`` to ``after``: ``lower``, ``higher`` or ``same``."""
    if abs(after - before) < tolerance:
        return same
    return lower if after < before else higher


def every(befores, afters, **words) -> str:
    """One verb when all the changes agree ("narrows"), else "does not always narrow" (with lower=...)."""
    verbs = {change(b, a, **words) for b, a in zip(befores, afters)}
    lower = words.get("lower", "narrows")
    if verbs == {lower}:
        return lower
    return f"does not always {_base(lower)}"


def _base(verb: str) -> str:
    """'narrows' -> 'narrow', 'lowers' -> 'lower' (the verbs this chapter uses)."""
    return verb[:-1] if verb.endswith("s") else verb
