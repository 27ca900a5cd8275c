"""Conditions written out for people: ``rules show`` and the generated rules reference.

The text keeps the field paths (a reader can look them up in ``docs/fields.md``), so what is
printed is what the rule file says, one line per test.
"""

from __future__ import annotations

import datetime as dt

from compliance.rules import conditions as c

_OPS: dict[c.CompareOp, str] = {
    c.CompareOp.EQ: "is",
    c.CompareOp.NE: "is not",
    c.CompareOp.GT: ">",
    c.CompareOp.GE: "≥",
    c.CompareOp.LT: "<",
    c.CompareOp.LE: "≤",
}


def value_text(value: c.Scalar | c.FieldRef) -> str:
    """One value as written in a rule: ``yes``/``no``, dates ISO, another field by its path."""
    if isinstance(value, c.FieldRef):
        return value.path
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _values(values: tuple[c.Scalar, ...], joiner: str) -> str:
    return joiner.join(value_text(v) for v in values)


def _atom(node: c.Atom) -> str:
    field = node.path
    if isinstance(node, c.Compare):
        return f"{field} {_OPS[node.op]} {value_text(node.value)}"
    if isinstance(node, c.OneOf):
        return f"{field} is one of {_values(node.values, ', ')}"
    if isinstance(node, c.Answered):
        return f"{field} is {'answered' if node.expected else 'not answered'}"
    if isinstance(node, c.Contains):
        if len(node.values) == 1:
            return f"{field} includes {value_text(node.values[0])}"
        joiner = " or " if node.mode == "any" else " and "
        return f"{field} includes {_values(node.values, joiner)}"
    return f"number of {node.path} {_OPS[node.op]} {node.value}"


def describe(cond: c.Condition, indent: str = "") -> list[str]:
    """``cond`` as indented lines: ``all of:`` / ``any of:`` / ``not:`` above their parts."""
    if isinstance(cond, (c.All, c.AnyOf)):
        head = "all of:" if isinstance(cond, c.All) else "any of:"
        lines = [f"{indent}{head}"]
        for item in cond.items:
            lines += describe(item, indent + "  ")
        return lines
    if isinstance(cond, c.Not):
        inner = describe(cond.item, indent + "  ")
        if len(inner) == 1:
            return [f"{indent}not {inner[0].strip()}"]
        return [f"{indent}not:", *inner]
    if isinstance(cond, c.Quantified):
        quantifier = "some item" if cond.mode == "any" else "every item"
        inner = describe(cond.where, indent + "  ")
        if len(inner) == 1:
            return [f"{indent}{quantifier} of {cond.path} where {inner[0].strip()}"]
        return [f"{indent}{quantifier} of {cond.path} where:", *inner]
    return [f"{indent}{_atom(cond)}"]
