"""Proposals to engine facts: which answers go into the fact durable_rules matches, and where.

The rules compiled by :mod:`compliance.rules.compiler` read a proposal through the fact built
here, and only through it. A root field ``a.b`` goes under the key ``/a/b``. Unanswered fields are
left out, so a test on one is false. Dates become day numbers and whole numbers integers
(:func:`engine_value`); text is never sent, only whether it was answered (the engine compares
loosely typed values and mishandles strings of 64 KiB or more). A list also gets its length under
``key#n``; lists of objects that quantifiers test send their items' fields, and lists that
``for_each`` rules run over send each item with copies of the root fields the rule reads (an
unanswered table becomes one placeholder item marked ``#ph``). :func:`fact_plan` collects, once per
rule set, every field the rules read; :meth:`FactPlan.build` then makes each proposal's fact.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from compliance.proposal.fields import LIST_KINDS, Kind, catalogue, get_in, split_path
from compliance.rules import conditions as c
from compliance.rules.ruleset import Rule

PHANTOM = "#ph"
EACH = "#each"
COUNT = "#n"


def key_of(path: str) -> str:
    """Engine key of a root field: ``a.b`` -> ``/a/b``."""
    return "/" + path.replace(".", "/")


def engine_value(value: Any) -> Any:
    """A value as the engine compares it: dates as day numbers, whole numbers as integers."""
    if isinstance(value, dt.date):
        return value.toordinal()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def is_list(path: str) -> bool:
    """Whether the field at ``path`` holds a list (its length goes into the fact too)."""
    return catalogue()[path].kind in LIST_KINDS


@dataclass
class _ListPlan:
    item_keys: dict[str, str] = field(default_factory=dict)  # relative item path -> key
    root_copies: dict[str, str] = field(default_factory=dict)  # root path -> key


@dataclass
class FactPlan:
    """Which fields go into the engine fact, under which keys."""

    root: dict[str, str] = field(default_factory=dict)
    """Root field path -> key (lists also get ``key#n``)."""
    quantified: dict[str, _ListPlan] = field(default_factory=dict)
    """Lists of objects tested by quantifiers: item fields sent."""
    each: dict[str, _ListPlan] = field(default_factory=dict)
    """Lists of objects that for_each rules run over: item fields and root copies sent."""

    def property_count(self, groups: int) -> int:
        count = 1 + groups  # anchor and group markers
        for path in self.root:
            count += 2 if is_list(path) else 1
        for path in self.quantified:
            if path not in self.root:
                count += 2
        return count + len(self.each)

    @cached_property
    def _steps(self) -> tuple[list[_Put], list[tuple[_Parts, str, list[_Put]]], list[_Each]]:
        """The plan resolved once: split paths, keys and kinds, ready for every proposal."""

        def puts(paths: dict[str, str], *, relative: bool = False) -> list[_Put]:
            return [
                (
                    split_path(path.rsplit("[].", 1)[1] if relative else path),
                    key,
                    catalogue()[path].kind,
                )
                for path, key in paths.items()
            ]

        root = puts(self.root)
        quantified = [
            (split_path(path), key_of(path), puts(plan.item_keys, relative=True))
            for path, plan in self.quantified.items()
        ]
        each = [
            (
                split_path(path),
                key_of(path) + EACH,
                puts(plan.item_keys, relative=True),
                puts(plan.root_copies),
            )
            for path, plan in self.each.items()
        ]
        return root, quantified, each

    def build(self, view: dict[str, Any]) -> dict[str, Any]:
        """The engine fact for a proposal (``view`` as from ``evaluator.proposal_view``)."""
        root, quantified, each = self._steps
        fact: dict[str, Any] = {}
        _put_all(fact, root, view)
        for parts, key, item_puts in quantified:
            items = get_in(view, parts)
            if items is not None:
                fact[key] = [_put_all({}, item_puts, item) for item in items]
                fact[key + COUNT] = len(items)
        for parts, key, item_puts, copies in each:
            items = get_in(view, parts)
            shared = _put_all({}, copies, view)
            if items is None:
                fact[key] = [{**shared, PHANTOM: 1}]
            else:
                fact[key] = [_put_all(dict(shared), item_puts, item) for item in items]
        return fact


_Parts = tuple[str, ...]
_Put = tuple[_Parts, str, Kind]
_Each = tuple[_Parts, str, list[_Put], list[_Put]]


def _put_all(target: dict[str, Any], puts: list[_Put], source: dict[str, Any]) -> dict[str, Any]:
    for parts, key, kind in puts:
        value = get_in(source, parts)
        if value is None:
            continue
        if kind is Kind.TEXT:
            target[key] = True
        elif kind is Kind.ENUM_LIST:
            target[key] = [getattr(v, "value", v) for v in value]
            target[key + COUNT] = len(value)
        elif kind is Kind.TEXT_LIST or kind is Kind.OBJECT_LIST:
            target[key + COUNT] = len(value)
        else:
            target[key] = engine_value(getattr(value, "value", value))
    return target


def _item_key(path: str) -> str:
    return "/" + path.rsplit("[].", 1)[1].replace(".", "/")


def fact_plan(rules: list[Rule]) -> FactPlan:
    """Collect every field the rules read and where in the fact it must go."""
    plan = FactPlan()
    for rule in rules:
        each = plan.each.setdefault(rule.for_each, _ListPlan()) if rule.for_each else None
        required = c.All(tuple(c.Answered(p, True) for p in rule.requires))
        for cond in (rule.applies_when, rule.violated_when, required):
            if cond is None:
                continue
            for node, within in c.walk_tests(cond):
                if isinstance(node, c.Quantified):
                    plan.quantified.setdefault(node.path, _ListPlan())
                    continue
                refs = (
                    [node.value.path]
                    if isinstance(node, c.Compare) and isinstance(node.value, c.FieldRef)
                    else []
                )
                for path in [node.path, *refs]:
                    if within is not None:
                        plan.quantified[within].item_keys[path] = _item_key(path)
                    elif each is not None:
                        if catalogue()[path].list_path == rule.for_each:
                            each.item_keys[path] = _item_key(path)
                        else:
                            each.root_copies[path] = "^" + key_of(path)
                            if path in refs:  # the comparison reads it with $m at the root
                                plan.root[path] = key_of(path)
                    else:
                        plan.root[path] = key_of(path)
    return plan
