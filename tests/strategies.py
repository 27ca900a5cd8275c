"""Hypothesis strategies generated from the field catalogue: proposals and rule conditions.

Proposals: every field is either left unanswered or given a valid value of its kind, with numbers
and dates drawn near a few boundaries so comparisons land on both sides. Conditions: random trees
of every operator of the rule language over real fields, including quantifiers, field references
and for_each rules, so the durable_rules compiler is tested on shapes no rule file has yet.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from hypothesis import strategies as st

from compliance.proposal.fields import Kind, catalogue
from compliance.rules import conditions as c
from compliance.rules.ruleset import Reference, Rule
from compliance.rules.spec import Severity

NUMBERS = [0, 1, 2, 3, 6, 12, 30, 90, 365, 1000, 250000.5, 5e-05, 1e-07, 123456.78, 1e15]
# Numbers a rule may compare with (the loader refuses what the engine cannot parse).
LITERALS = [0, 1, 2, 3, 6, 12, 30, 90, 365, 1000, 250000.5, 123456.78, 0.0001, 1e15]
DATES = [dt.date(2025, 1, 1), dt.date(2026, 1, 1), dt.date(2026, 3, 1), dt.date(2026, 6, 30)]
TEXTS = ["x", "Ministry of Interior", "مرحبا", "Détachement 3", "  padded  "]
COUNTRIES = ["KE", "SO", "US", "DE", "UA", "AF"]
CURRENCIES = ["USD", "EUR", "KES"]


def _children(prefix: str) -> list[str]:
    """Direct child paths of a section or list item prefix (``legal.`` or ``parties[].``)."""
    out = []
    for path in catalogue():
        if (
            path.startswith(prefix)
            and "." not in path[len(prefix) :]
            and "[" not in path[len(prefix) :]
        ):
            out.append(path)
    return out


@functools.cache
def _scalar(path: str) -> st.SearchStrategy[Any]:
    spec = catalogue()[path]
    kind = spec.kind
    if kind is Kind.BOOL:
        return st.booleans()
    if kind is Kind.ENUM:
        return st.sampled_from(spec.values)
    if kind is Kind.CODE:
        return st.sampled_from(COUNTRIES if len(spec.values[0]) == 2 else CURRENCIES)
    if kind is Kind.NUMBER:
        if spec.integer:
            return st.sampled_from([n for n in NUMBERS if isinstance(n, int) and 1 <= n <= 365])
        return st.sampled_from(NUMBERS)
    if kind is Kind.DATE:
        return st.sampled_from(DATES).map(dt.date.isoformat)
    if kind is Kind.TEXT:
        return st.sampled_from(TEXTS)
    if kind is Kind.ENUM_LIST:
        return st.lists(st.sampled_from(spec.values), max_size=4, unique=True)
    if kind is Kind.TEXT_LIST:
        return st.lists(st.sampled_from(TEXTS), max_size=3)
    raise AssertionError(path)


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy, strategy)


@functools.cache
def _object(prefix: str) -> st.SearchStrategy[dict[str, Any]]:
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for path in _children(prefix):
        spec = catalogue()[path]
        name = path[len(prefix) :]
        if spec.required:
            continue
        if spec.kind is Kind.OBJECT:
            fields[name] = _maybe(_object(path + "."))
        elif spec.kind is Kind.OBJECT_LIST:
            fields[name] = _maybe(st.lists(_object(path + "[]."), max_size=3))
        else:
            fields[name] = _maybe(_scalar(path))
    return st.fixed_dictionaries({}, optional=fields)


@st.composite
def proposals(draw: st.DrawFn) -> dict[str, Any]:
    """A valid proposal as JSON-like data."""
    body = draw(_object(""))
    return {"schema_version": "2", "id": "GEN-1", "title": "Generated", **body}


# --------------------------------------------------------------------------- conditions

_SCALAR_OPS = {
    Kind.BOOL: ["equals", "not_equals", "answered"],
    Kind.ENUM: ["equals", "not_equals", "one_of", "not_one_of", "answered"],
    Kind.CODE: ["equals", "one_of", "answered"],
    Kind.NUMBER: ["equals", "gt", "gte", "lt", "lte", "one_of", "answered"],
    Kind.DATE: ["gt", "lte", "equals", "answered", "ref"],
    Kind.TEXT: ["answered"],
    Kind.ENUM_LIST: ["contains", "contains_any", "contains_all", "count", "answered"],
    Kind.TEXT_LIST: ["count", "answered"],
    Kind.OBJECT_LIST: ["count", "answered"],
}


@functools.cache
def _value(path: str) -> st.SearchStrategy[Any]:
    spec = catalogue()[path]
    if spec.kind is Kind.DATE:
        return st.sampled_from(DATES)
    if spec.kind is Kind.NUMBER and not spec.integer:
        return st.sampled_from(LITERALS)
    if spec.kind in (Kind.ENUM_LIST,):
        return st.sampled_from(spec.values)
    return _scalar(path)


@functools.cache
def _test(paths: tuple[str, ...]) -> st.SearchStrategy[c.Condition]:
    """A leaf test over one of ``paths`` (built once per tuple of paths: hypothesis validates a
    strategy when first drawn from, and building one per draw made the tests spend most of their
    time building strategies rather than testing)."""
    return _leaf(paths)


@st.composite
def _leaf(draw: st.DrawFn, paths: tuple[str, ...]) -> c.Condition:
    path = draw(st.sampled_from(paths))
    spec = catalogue()[path]
    op = draw(st.sampled_from(_SCALAR_OPS[spec.kind]))
    if op == "answered":
        return c.Answered(path, draw(st.booleans()))
    if op in ("equals", "not_equals", "gt", "gte", "lt", "lte"):
        return c.Compare(path, c.CompareOp(op), draw(_value(path)))
    if op == "ref":
        others = [p for p in paths if catalogue()[p].kind is Kind.DATE and p != path]
        roots = [p for p in others if catalogue()[p].list_path is None]
        if not roots:
            return c.Answered(path, True)
        other = draw(st.sampled_from(roots))
        op2 = draw(st.sampled_from([c.CompareOp.GT, c.CompareOp.LE, c.CompareOp.LT]))
        return c.Compare(path, op2, c.FieldRef(other))
    if op in ("one_of", "not_one_of"):
        values = tuple(draw(st.lists(_value(path), min_size=1, max_size=3, unique=True)))
        node: c.Condition = c.OneOf(path, values)
        return c.Not(node) if op == "not_one_of" else node
    if op in ("contains", "contains_any", "contains_all"):
        size = 1 if op == "contains" else 3
        values = tuple(draw(st.lists(_value(path), min_size=1, max_size=size, unique=True)))
        return c.Contains(path, values, "all" if op == "contains_all" else "any")
    assert op == "count"
    return c.Count(path, draw(st.sampled_from(list(c.CompareOp))), draw(st.integers(0, 3)))


@functools.cache
def _tree(leaf: st.SearchStrategy[c.Condition]) -> st.SearchStrategy[c.Condition]:
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.lists(inner, min_size=1, max_size=3).map(lambda xs: c.All(tuple(xs))),
            st.lists(inner, min_size=1, max_size=3).map(lambda xs: c.AnyOf(tuple(xs))),
            inner.map(c.Not),
        ),
        max_leaves=5,
    )


@functools.cache
def _root_fields() -> tuple[str, ...]:
    return tuple(
        p
        for p, s in catalogue().items()
        if s.list_path is None and s.kind is not Kind.OBJECT and not s.required
    )


@functools.cache
def _item_fields(list_path: str) -> tuple[str, ...]:
    return tuple(p for p, s in catalogue().items() if s.list_path == list_path)


@functools.cache
def _tables() -> tuple[str, ...]:
    return tuple(p for p, s in catalogue().items() if s.kind is Kind.OBJECT_LIST)


@st.composite
def _quantified(draw: st.DrawFn) -> c.Condition:
    table = draw(st.sampled_from(_tables()))
    where = draw(_tree(_test(_item_fields(table))))
    return c.Quantified(table, draw(st.sampled_from(["any", "all"])), where)


@functools.cache
def root_conditions() -> st.SearchStrategy[c.Condition]:
    # Two root tests to one quantifier (two objects: one_of counts a repeated strategy once).
    leaf = st.one_of(_leaf(_root_fields()), _leaf(_root_fields()), _quantified())
    return _tree(leaf)


_REF = (Reference("Test", "1", "https://example.org", "required"),)


def make_rule(**fields: Any) -> Rule:
    """A rule built in code, with placeholder text; ``fields`` override any attribute."""
    base: dict[str, Any] = {
        "id": "X-001",
        "title": "Generated",
        "domain": "generated",
        "severity": Severity.high,
        "violated_when": c.Answered("legal.us_government_funding", False),
        "message": "m",
        "remediation": "r",
        "references": _REF,
        "source": "generated",
    }
    return Rule(**{**base, **fields})


@st.composite
def rules(draw: st.DrawFn, index: int = 0) -> Rule:
    """A random rule: plain, or for_each over a table with item and root fields."""
    if draw(st.booleans()):
        applies = draw(st.one_of(st.none(), root_conditions()))
        violated = draw(root_conditions())
        for_each = None
        fields = _root_fields()
    else:
        for_each = draw(st.sampled_from(_tables()))
        fields = _item_fields(for_each) + _root_fields()
        applies = draw(st.one_of(st.none(), _tree(_test(fields))))
        violated = draw(_tree(_test(fields)))
    requires = tuple(draw(st.lists(st.sampled_from(fields), max_size=2, unique=True)))
    return make_rule(
        id=f"GEN-{index:03d}",
        severity=draw(st.sampled_from(list(Severity))),
        violated_when=violated,
        applies_when=applies,
        for_each=for_each,
        requires=requires,
    )
