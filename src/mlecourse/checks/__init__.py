"""Checks for the workbooks: ``check("2.1", answer)`` and ``hint("2.1")``.

A workbook starts with ``from mlecourse.checks import check, hint, ____``.
"""
from .blank import ____, is_blank
from .core import check, grade, hint, registry

__all__ = ["____", "check", "grade", "hint", "is_blank", "registry"]
