"""The condition language after validation: a small immutable tree.

Both evaluators read this tree: the reference evaluator (:mod:`compliance.rules.reference`)
interprets it directly with three-valued logic, and the durable_rules compiler
(:mod:`compliance.rules.compiler`) translates it. Paths are generic catalogue paths
(``data_sharing.flows[].lawful_basis``).

Truth is three-valued: a condition on a field that is not answered is *unknown*, never false.
``answered`` is the one test that is always known.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum

Scalar = bool | int | float | str | dt.date


class CompareOp(str, Enum):
    EQ = "equals"
    NE = "not_equals"
    GT = "gt"
    GE = "gte"
    LT = "lt"
    LE = "lte"


# The comparison that is true exactly when the given one is false (on an answered field).
COMPLEMENT: dict[CompareOp, CompareOp] = {
    CompareOp.EQ: CompareOp.NE,
    CompareOp.NE: CompareOp.EQ,
    CompareOp.GT: CompareOp.LE,
    CompareOp.LE: CompareOp.GT,
    CompareOp.GE: CompareOp.LT,
    CompareOp.LT: CompareOp.GE,
}


@dataclass(frozen=True)
class FieldRef:
    """The value of another field, as the right-hand side of a comparison."""

    path: str


@dataclass(frozen=True)
class Compare:
    path: str
    op: CompareOp
    value: Scalar | FieldRef


@dataclass(frozen=True)
class OneOf:
    path: str
    values: tuple[Scalar, ...]


@dataclass(frozen=True)
class Answered:
    path: str
    expected: bool


@dataclass(frozen=True)
class Contains:
    """A list of choices holds the value(s): ``mode`` ``any`` (at least one) or ``all``."""

    path: str
    values: tuple[Scalar, ...]
    mode: str


@dataclass(frozen=True)
class Count:
    path: str
    op: CompareOp
    value: int


@dataclass(frozen=True)
class Quantified:
    """Some (``mode`` ``any``) or every (``all``) item of a list of objects meets ``where``."""

    path: str
    mode: str
    where: Condition


@dataclass(frozen=True)
class All:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    item: Condition


Condition = Compare | OneOf | Answered | Contains | Count | Quantified | All | AnyOf | Not
Atom = Compare | OneOf | Answered | Contains | Count


def walk_tests(cond: Condition) -> Iterator[tuple[Atom | Quantified, str | None]]:
    """Every field test in ``cond`` in reading order, with the table whose items it is about
    when it sits inside a quantifier (None otherwise). Quantifiers come before their inner tests."""
    stack: list[tuple[Condition, str | None]] = [(cond, None)]
    while stack:
        node, within = stack.pop()
        if isinstance(node, (All, AnyOf)):
            stack.extend((item, within) for item in reversed(node.items))
        elif isinstance(node, Not):
            stack.append((node.item, within))
        elif isinstance(node, Quantified):
            yield node, within
            stack.append((node.where, node.path))
        else:
            yield node, within


def referenced_paths(cond: Condition) -> list[str]:
    """Every field path ``cond`` reads, right-hand references included, in first-seen order."""
    seen: dict[str, None] = {}
    for node, _ in walk_tests(cond):
        seen.setdefault(node.path, None)
        if isinstance(node, Compare) and isinstance(node.value, FieldRef):
            seen.setdefault(node.value.path, None)
    return list(seen)
