"""The compiler's model of the engine's limits, checked against the engine itself."""

from __future__ import annotations

from typing import Any

import pytest

from compliance.errors import EngineError, RuleError
from compliance.rules import conditions as c
from compliance.rules.compiler import (
    CompiledRule,
    Form,
    Plan,
    Shard,
    _and,
    _node,
    _or,
    compile_rule,
    group_peak,
)
from compliance.rules.durable import DurableEngine
from compliance.rules.facts import FactPlan
from compliance.rules.reference import TV
from compliance.rules.ruleset import RuleSet

from .strategies import make_rule

STACK = 64  # durable_rules: MAX_STACK_SIZE in events.c


class _Keys:
    def __init__(self) -> None:
        self.n = 0

    def atom(self) -> Form:
        self.n += 1
        return _node({f"/k{self.n}": 1})


def _shape(name: str, keys: _Keys, size: int) -> Form:
    if name == "atom":
        return keys.atom()
    if name == "or":
        return _or([keys.atom() for _ in range(size)], exclusive=False)
    if name == "or-then-atom":
        return _and([_or([keys.atom() for _ in range(size)], exclusive=False), keys.atom()])
    if name == "two-ors":
        first = _or([keys.atom() for _ in range(size // 2)], exclusive=False)
        second = _or([keys.atom() for _ in range(size - size // 2)], exclusive=False)
        return _and([first, second])
    raise AssertionError(name)


def _plan(groups: list[list[CompiledRule]], keys: _Keys) -> Plan:
    plan = Plan((Shard("s0", tuple(tuple(g) for g in groups)),), FactPlan(), len(groups))
    facts = {f"/k{i}": 1 for i in range(1, keys.n + 1)}
    plan.facts.build = lambda view: dict(facts)  # type: ignore[method-assign]
    return plan


CALIBRATION = [
    # (shape, size of each rule's condition, rules per group, groups)
    ("atom", 1, 32, 1),
    ("atom", 1, 33, 1),
    ("or", 4, 8, 1),
    ("or", 5, 7, 1),
    ("or", 4, 9, 1),
    ("or-then-atom", 4, 8, 1),
    ("or-then-atom", 5, 7, 1),
    ("two-ors", 64, 1, 1),
    ("two-ors", 66, 1, 1),
    ("two-ors", 8, 4, 1),
    ("atom", 1, 30, 3),
    ("atom", 1, 31, 4),
]


@pytest.mark.parametrize(("shape", "size", "per_group", "groups"), CALIBRATION)
def test_stack_model_matches_the_engine(shape: str, size: int, per_group: int, groups: int) -> None:
    """The model predicts the most pending nodes exactly: the engine fails iff it exceeds 64.

    Each engine rule is given a certain (T) and a possible (P) form, as compiled rules are.
    """
    layout = []
    for g in range(groups):
        keys = _Keys()  # groups may test the same keys: their nodes sit under different markers
        layout.append(
            [
                CompiledRule(f"C-{g}{i:03d}", _shape(shape, keys, size), _shape(shape, keys, size))
                for i in range(per_group)
            ]
        )
    predicted = groups - 1 + max(group_peak(group) for group in layout)
    with DurableEngine(_plan(layout, keys)) as engine:
        if predicted <= STACK:
            fired = engine.results({})
            assert set(fired) == {r.rule_id for g in layout for r in g}
        else:
            with pytest.raises(EngineError, match="error code: 303"):
                engine.results({})


def _ends_with_or(cond: dict[str, Any]) -> bool:
    last = cond["$and"][-1] if set(cond) == {"$and"} else cond
    return set(last) == {"$or"}


def _array_inners(cond: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if isinstance(cond, dict):
        for key, value in cond.items():
            if key in ("$iany", "$iall"):
                (inner,) = value.values()
                out.append(inner)
            out.extend(_array_inners(value))
    elif isinstance(cond, list):
        for item in cond:
            out.extend(_array_inners(item))
    return out


def test_no_array_condition_ends_with_an_or(ruleset: RuleSet) -> None:
    """durable_rules fails at random (error 102) when an $or ends an $iany/$iall condition."""
    inners = [
        inner
        for rule in ruleset.rules
        for form in compile_rule(rule).forms
        for inner in _array_inners(form.cond)
    ]
    assert inners
    assert not [inner for inner in inners if _ends_with_or(inner)]


def test_branching_inside_items_is_judged_right() -> None:
    """Inside $iany the engine lets a later property's failed test overwrite an earlier success;
    the compiler's rewrite makes an OR over two fields of an item come out right."""
    rule = make_rule(
        for_each="security_units",
        violated_when=c.AnyOf(
            (
                c.Compare("security_units[].vetting_status", c.CompareOp.EQ, "denied"),
                c.Compare("security_units[].vetting_regime", c.CompareOp.EQ, "none"),
            )
        ),
    )
    ruleset = RuleSet(rules=(rule,), sources=(), hash="x")
    from compliance.rules.compiler import compile_ruleset

    with DurableEngine(compile_ruleset(ruleset)) as engine:
        denied_first = {"security_units": [{"vetting_status": "denied", "vetting_regime": "leahy"}]}
        assert engine.results(denied_first) == {"X-001": TV.TRUE}
        neither = {"security_units": [{"vetting_status": "cleared", "vetting_regime": "leahy"}]}
        assert engine.results(neither) == {}


def test_the_engine_defect_the_rewrite_avoids() -> None:
    """Documents the upstream behaviour: the same condition without the rewrite is misjudged.
    If durable_rules ever fixes it, this test fails and the rewrite can go."""
    unprotected = {
        "$iany": {
            "/l": {"$or": [{"$i./status": "denied"}, {"$i./regime": "none"}]},
        }
    }
    plan = _plan([[CompiledRule("X-001", Form(unprotected), Form({"/k0": 1}))]], _Keys())
    plan.facts.build = lambda view: {"/l": [{"/status": "denied", "/regime": "leahy"}]}  # type: ignore[method-assign]
    with DurableEngine(plan) as engine:
        assert engine.results({}) == {}  # wrong: the item's status IS denied


def test_too_complex_rule_is_refused_at_load() -> None:
    many = tuple(
        c.Compare(path, c.CompareOp.EQ, True)
        for path in [
            "activities.humanitarian_component",
            "activities.military_assets_used",
            "activities.armed_escorts",
            "activities.intelligence_use_prohibited",
            "activities.aid_conditional_on_cooperation",
            "activities.operational_independence",
            "activities.designated_groups_in_area",
            "legal.us_government_funding",
            "legal.un_support_to_security_forces",
        ]
    )
    rule = make_rule(violated_when=c.All(tuple(c.AnyOf((a, b)) for a in many for b in many[:2])))
    with pytest.raises(RuleError, match=r"rule X-001: too complex for the rule engine"):
        compile_rule(rule)
