"""The placeholder ``____`` that stands where a learner's answer goes.

A generated workbook runs from top to bottom before anyone has typed a thing,
so the placeholder must not crash the cells that use it: any operation on it
gives the placeholder back, and ``check`` reports "not attempted yet".
"""
from __future__ import annotations


class Blank:
    """The one placeholder object: ``____``."""

    _instance: "Blank | None" = None

    def __new__(cls) -> "Blank":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "____"

    def __bool__(self) -> bool:
        return False

    def _same(self, *args, **kwargs) -> "Blank":
        return self

    __call__ = __getattr__ = __getitem__ = _same
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _same
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = _same
    __mod__ = __rmod__ = __pow__ = __rpow__ = __neg__ = __abs__ = _same
    __and__ = __rand__ = __or__ = __ror__ = __invert__ = _same
    __lt__ = __le__ = __gt__ = __ge__ = _same


____ = Blank()


def is_blank(value: object) -> bool:
    """True if ``value`` is the placeholder or still contains it."""
    if value is ____:
        return True
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(is_blank(v) for v in value)
    if isinstance(value, dict):
        return any(is_blank(v) for v in value.values())
    return False
