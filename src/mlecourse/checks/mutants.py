"""Mutants of a reference solution: the mistakes that hidden cases miss.

A check's hidden cases easily test the inside of each rule and miss its edges:
a validator that refuses the valid age 85, a controller that holds at exactly
200 requests, a rule that lower-cases ``"WEST"`` into a valid channel. Each
mutant here is the reference with ONE such change, made on its source code:

- a comparison made strict or loose (``<`` to ``<=``, ``>=`` to ``>``);
- ``Series.between(a, b)`` made to leave out one end;
- a keyword bound made strict or loose (pydantic's ``Field(ge=...)`` to ``gt=``);
- a field annotated ``float`` narrowed to ``int``;
- a normalisation added before a comparison with text (``.strip().lower()``).

The test suite (``tests/test_checks_mutants.py``) asks the exercise's check to
reject every mutant, except those the exercise names as equivalent (same
behaviour on every valid input) with the reason.
"""
from __future__ import annotations

import ast
import copy
import inspect
import textwrap
from dataclasses import dataclass
from typing import Any, Callable

import pandas as pd

FLIP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt}
KEYWORD_FLIP = {"ge": "gt", "gt": "ge", "le": "lt", "lt": "le"}
NORMALISE = "__normalised__"


def normalised(value: Any) -> Any:
    """What a too-lenient rule does to text before comparing it."""
    if isinstance(value, str):
        return value.strip().lower()
    if isinstance(value, pd.Series) and (value.dtype == object or pd.api.types.is_string_dtype(value)):
        return value.str.strip().str.lower()
    return value


@dataclass(frozen=True)
class Mutant:
    name: str                       # "`age.between(18, 85)` -> `age.between(18, 85, inclusive='left')`"
    make: Callable[[], Any]         # builds the mutated function


def _texts(value: Any) -> bool:
    """A constant collection of text (a tuple of channels, say)."""
    return isinstance(value, (tuple, list, set, frozenset)) and bool(value) and \
        all(isinstance(v, str) for v in value)


class _Sites(ast.NodeTransformer):
    """Walks a tree in a fixed order; mutates the ``target``-th site (or none, to
    count them), recording each site's before and after as text."""

    def __init__(self, names: dict, target: int = -1):
        self.names, self.target, self.count, self.change = names, target, 0, ""

    def _site(self, node: ast.AST, mutate: Callable[[ast.AST], ast.AST]) -> ast.AST:
        here, self.count = self.count, self.count + 1
        if here != self.target:
            return node
        before = ast.unparse(node)
        node = mutate(copy.deepcopy(node))
        self.change = f"`{before}` -> `{ast.unparse(node)}`"
        return node

    def _text_side(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Constant):
            return isinstance(node.value, str) or _texts(node.value)
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return bool(node.elts) and all(isinstance(e, ast.Constant) and isinstance(e.value, str)
                                           for e in node.elts)
        return isinstance(node, ast.Name) and _texts(self.names.get(node.id))

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        for i, op in enumerate(node.ops):
            if type(op) in FLIP:
                def flip(n, i=i):
                    n.ops[i] = FLIP[type(n.ops[i])]()
                    return n
                node = self._site(node, flip)
        textual = [type(op) in (ast.In, ast.NotIn, ast.Eq, ast.NotEq) for op in node.ops]
        if len(node.ops) == 1 and textual[0] and self._text_side(node.comparators[0]) \
                and not isinstance(node.left, ast.Constant):
            def lower(n):
                n.left = ast.Call(ast.Name(NORMALISE, ast.Load()), [n.left], [])
                return n
            node = self._site(node, lower)
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        attr = node.func.attr if isinstance(node.func, ast.Attribute) else ""
        keywords = {k.arg for k in node.keywords}
        if attr == "between" and len(node.args) == 2 and "inclusive" not in keywords:
            for end in ("left", "right"):
                def leave_out(n, end=end):
                    n.keywords.append(ast.keyword("inclusive", ast.Constant(end)))
                    return n
                node = self._site(node, leave_out)
        if attr == "isin":
            def lower(n):
                n.func.value = ast.Call(ast.Name(NORMALISE, ast.Load()), [n.func.value], [])
                return n
            node = self._site(node, lower)
        for j, keyword in enumerate(node.keywords):
            if keyword.arg in KEYWORD_FLIP:
                def flip(n, j=j):
                    n.keywords[j].arg = KEYWORD_FLIP[n.keywords[j].arg]
                    return n
                node = self._site(node, flip)
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.annotation, ast.Name) and node.annotation.id == "float":
            def narrow(n):
                n.annotation = ast.Name("int", ast.Load())
                return n
            node = self._site(node, narrow)
        return node


def _tree(func: Callable) -> ast.Module:
    tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    tree.body[0].decorator_list = []   # a @cache would share results between mutants
    return tree


def _build(func: Callable, tree: ast.Module, name: str) -> Callable:
    namespace = dict(func.__globals__)
    namespace[NORMALISE] = normalised
    code = compile(ast.fix_missing_locations(tree), f"<mutant of {func.__qualname__}: {name}>", "exec")
    exec(code, namespace)
    return namespace[tree.body[0].name]


def mutants_of(func: Callable) -> list[Mutant]:
    """Every one-change mutant of ``func`` (a plain module-level function)."""
    original = _tree(func)
    counter = _Sites(func.__globals__)
    counter.visit(copy.deepcopy(original))
    found: list[Mutant] = []
    seen: dict[str, int] = {}
    for target in range(counter.count):
        sites = _Sites(func.__globals__, target)
        tree = sites.visit(copy.deepcopy(original))
        name = sites.change
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name = f"{name} (occurrence {seen[name]})"
        found.append(Mutant(name, lambda tree=tree, name=name: _build(func, tree, name)))
    return found
