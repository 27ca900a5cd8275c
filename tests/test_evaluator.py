"""The reference evaluator: three-valued truth and the evidence it reports."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compliance.errors import EngineError
from compliance.proposal.model import Proposal
from compliance.rules import conditions as c
from compliance.rules import reference as evaluator
from compliance.rules.reference import (
    TV,
    Outcome,
    ReferenceEvaluator,
    Scope,
    Seen,
    compile_condition,
    evaluate,
    judge,
    proposal_view,
    subjects,
)
from compliance.rules.ruleset import Rule, RuleSet

from .strategies import (
    _item_fields,
    _root_fields,
    _tables,
    _test,
    _tree,
    make_rule,
    proposals,
    root_conditions,
    rules,
)

T, F, U = TV.TRUE, TV.FALSE, TV.UNKNOWN


def view(**body: Any) -> dict[str, Any]:
    return proposal_view(
        Proposal.model_validate({"schema_version": "1", "id": "P", "title": "t", **body})
    )


def truth(cond: c.Condition, **body: Any) -> TV:
    return evaluate(cond, Scope(view(**body)))[0]


US = "legal.us_government_funding"
UN = "legal.un_support_to_security_forces"


def eq(path: str, value: Any) -> c.Compare:
    return c.Compare(path, c.CompareOp.EQ, value)


@pytest.mark.parametrize(
    ("us", "un", "conj", "disj", "neg_us"),
    [
        (True, True, T, T, F),
        (True, False, F, T, F),
        (True, None, U, T, F),
        (False, None, F, U, T),
        (None, None, U, U, U),
        (False, False, F, F, T),
    ],
)
def test_kleene_truth_tables(us: Any, un: Any, conj: TV, disj: TV, neg_us: TV) -> None:
    body = {"legal": {"us_government_funding": us, "un_support_to_security_forces": un}}
    a, b = eq(US, True), eq(UN, True)
    assert truth(c.All((a, b)), **body) is conj
    assert truth(c.AnyOf((a, b)), **body) is disj
    assert truth(c.Not(a), **body) is neg_us


ATOMS: list[tuple[str, c.Condition, dict[str, Any], TV]] = [
    ("answered is always known", c.Answered(US, False), {}, T),
    (
        "answered on a present false",
        c.Answered(US, True),
        {"legal": {"us_government_funding": False}},
        T,
    ),
    ("equals on unanswered", eq(US, True), {}, U),
    ("not_equals on unanswered", c.Not(eq(US, True)), {}, U),
    (
        "one_of hit",
        c.OneOf("sector", ("humanitarian", "peacekeeping")),
        {"sector": "peacekeeping"},
        T,
    ),
    ("one_of miss", c.OneOf("sector", ("humanitarian",)), {"sector": "peacekeeping"}, F),
    (
        "number comparison",
        c.Compare("funding.total_amount", c.CompareOp.GE, 100),
        {"funding": {"total_amount": 100}},
        T,
    ),
    (
        "date comparison",
        c.Compare("monitoring.start_date", c.CompareOp.LT, dt.date(2026, 1, 1)),
        {"monitoring": {"start_date": "2025-12-31"}},
        T,
    ),
    (
        "field reference",
        c.Compare(
            "human_rights.due_diligence.completed_on",
            c.CompareOp.GT,
            c.FieldRef("monitoring.start_date"),
        ),
        {
            "human_rights": {"due_diligence": {"completed_on": "2026-04-01"}},
            "monitoring": {"start_date": "2026-03-01"},
        },
        T,
    ),
    (
        "field reference to an unanswered field",
        c.Compare(
            "human_rights.due_diligence.completed_on",
            c.CompareOp.GT,
            c.FieldRef("monitoring.start_date"),
        ),
        {"human_rights": {"due_diligence": {"completed_on": "2026-04-01"}}},
        U,
    ),
    (
        "contains",
        c.Contains("data_sharing.security_controls", ("patching",), "any"),
        {"data_sharing": {"security_controls": ["patching"]}},
        T,
    ),
    (
        "contains on empty list",
        c.Contains("data_sharing.security_controls", ("patching",), "any"),
        {"data_sharing": {"security_controls": []}},
        F,
    ),
    (
        "contains on unanswered list",
        c.Contains("data_sharing.security_controls", ("patching",), "any"),
        {},
        U,
    ),
    (
        "contains_all partial",
        c.Contains("data_sharing.security_controls", ("patching", "encryption"), "all"),
        {"data_sharing": {"security_controls": ["patching"]}},
        F,
    ),
    ("count", c.Count("security_units", c.CompareOp.GE, 1), {"security_units": []}, F),
    (
        "any_item over empty",
        c.Quantified("security_units", "any", eq("security_units[].identified", False)),
        {"security_units": []},
        F,
    ),
    (
        "all_items over empty",
        c.Quantified("security_units", "all", eq("security_units[].identified", False)),
        {"security_units": []},
        T,
    ),
    (
        "any_item over unanswered",
        c.Quantified("security_units", "any", eq("security_units[].identified", False)),
        {},
        U,
    ),
    (
        "any_item: one item unknown, none true",
        c.Quantified("security_units", "any", eq("security_units[].identified", False)),
        {"security_units": [{"identified": True}, {}]},
        U,
    ),
    (
        "any_item: one true beats unknown",
        c.Quantified("security_units", "any", eq("security_units[].identified", False)),
        {"security_units": [{}, {"identified": False}]},
        T,
    ),
    (
        "all_items: one false beats unknown",
        c.Quantified("security_units", "all", eq("security_units[].identified", True)),
        {"security_units": [{}, {"identified": False}]},
        F,
    ),
]


@pytest.mark.parametrize(("label", "cond", "body", "expected"), ATOMS, ids=[a[0] for a in ATOMS])
def test_tests(label: str, cond: c.Condition, body: dict[str, Any], expected: TV) -> None:
    assert truth(cond, **body) is expected


def test_evidence_of_a_true_and_names_every_part() -> None:
    cond = c.All((eq(US, True), c.Count("security_units", c.CompareOp.GE, 1)))
    value, seen = evaluate(
        cond, Scope(view(legal={"us_government_funding": True}, security_units=[{}, {}]))
    )
    assert value is T
    assert seen == [Seen(US, True), Seen("security_units", 2)]


def test_evidence_of_a_quantifier_names_the_matching_items_only() -> None:
    cond = c.Quantified("security_units", "any", eq("security_units[].vetting_status", "denied"))
    body = {
        "security_units": [
            {"vetting_status": "cleared"},
            {"vetting_status": "denied"},
            {"vetting_status": "denied"},
        ]
    }
    value, seen = evaluate(cond, Scope(view(**body)))
    assert value is T
    assert seen == [
        Seen("security_units[1].vetting_status", "denied"),
        Seen("security_units[2].vetting_status", "denied"),
    ]


def test_evidence_of_unknown_names_the_unanswered_parts() -> None:
    cond = c.AnyOf((eq(US, True), eq(UN, True)))
    value, seen = evaluate(cond, Scope(view(legal={"us_government_funding": False})))
    assert value is U
    assert seen == [Seen(UN, None)]


def _rule(**kw: Any) -> Rule:
    defaults: dict[str, Any] = {
        "for_each": "security_units",
        "violated_when": eq("security_units[].identified", False),
    }
    return make_rule(**{**defaults, **kw})


def test_for_each_judges_every_item() -> None:
    rule = _rule()
    root = view(security_units=[{"identified": True}, {"identified": False}, {}])
    results = [
        (o.subject, o.result) for o in (judge(rule, s, s.item_prefix) for s in subjects(rule, root))
    ]
    assert results == [("security_units[0]", F), ("security_units[1]", T), ("security_units[2]", U)]


def test_for_each_over_an_unanswered_list_needs_the_list() -> None:
    rule = _rule(violated_when=c.Answered("security_units[].name", False))
    (scope,) = subjects(rule, view())
    outcome = judge(rule, scope, scope.item_prefix)
    assert (outcome.subject, outcome.result, outcome.unanswered) == (None, U, ("security_units",))


def test_for_each_over_an_empty_list_passes() -> None:
    rule = _rule()
    assert subjects(rule, view(security_units=[])) == []


def test_applicability_false_wins_over_unknown_violation() -> None:
    rule = _rule(for_each=None, applies_when=eq(US, True), violated_when=eq(UN, True))
    (scope,) = subjects(rule, view(legal={"us_government_funding": False}))
    assert judge(rule, scope, None).result is F


def test_requires_asks_instead_of_passing() -> None:
    rule = make_rule(
        applies_when=eq("sector", "border_and_migration"),
        violated_when=c.All(
            (
                eq("human_rights.refoulement_or_detention_risk", True),
                c.Count("human_rights.mitigations", c.CompareOp.LT, 1),
            )
        ),
        requires=("human_rights.refoulement_or_detention_risk",),
    )

    def result(**body: Any) -> tuple[TV, tuple[str, ...]]:
        (scope,) = subjects(rule, view(sector="border_and_migration", **body))
        outcome = judge(rule, scope, None)
        return outcome.result, outcome.unanswered

    some = {"mitigations": [{"risk": "r", "measure": "m"}]}
    assert result(human_rights=some) == (U, ("human_rights.refoulement_or_detention_risk",))
    assert result(human_rights={**some, "refoulement_or_detention_risk": False}) == (F, ())
    assert result(human_rights={"refoulement_or_detention_risk": True, "mitigations": []})[0] is T


def test_answered_on_the_placeholder_of_an_unanswered_table_is_unknown() -> None:
    rule = _rule(
        applies_when=c.Answered("security_units[].name", True),
        violated_when=eq("security_units[].vetting_status", "denied"),
    )
    (scope,) = subjects(rule, view())
    assert judge(rule, scope, None).result is U


# --------------------------------------------------------------------------- compiled truth
# ReferenceEvaluator judges every rule with conditions compiled to closures and asks the
# interpreter (evaluate/judge) only for the outcomes that are not FALSE. Both must agree exactly.


def interpreted(ruleset: RuleSet, root: dict[str, Any]) -> list[Outcome]:
    """ReferenceEvaluator.outcomes as the interpreter alone computes it."""
    out = []
    for rule in ruleset.rules:
        for scope in subjects(rule, root):
            outcome = judge(rule, scope, scope.item_prefix)
            if outcome.result is not F:
                out.append(outcome)
    return out


@functools.cache
def _for_each_conditions(table: str) -> st.SearchStrategy[c.Condition]:
    """Condition trees of a for_each rule over ``table``: tests of its item's and the root's
    fields, and quantifiers over any table whose tests may name the for_each item's fields (which
    a quantifier's scope does not see). Built once per table, not once per draw."""

    @st.composite
    def quantified(draw: st.DrawFn) -> c.Condition:
        inner = draw(st.sampled_from(_tables()))
        where = draw(_tree(_test(_item_fields(inner) + _item_fields(table) + _root_fields())))
        return c.Quantified(inner, draw(st.sampled_from(["any", "all"])), where)

    return _tree(st.one_of(_test(_item_fields(table) + _root_fields()), quantified()))


@st.composite
def _for_each_rules_with_quantifiers(draw: st.DrawFn) -> Rule:
    """for_each rules whose conditions hold quantifiers, over their own table or another."""
    table = draw(st.sampled_from(_tables()))
    fields = _item_fields(table) + _root_fields()
    conditions = _for_each_conditions(table)
    return make_rule(
        applies_when=draw(st.one_of(st.none(), conditions)),
        violated_when=draw(conditions),
        for_each=table,
        requires=tuple(draw(st.lists(st.sampled_from(fields), max_size=2, unique=True))),
    )


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(st.one_of(rules(), _for_each_rules_with_quantifiers()), min_size=1, max_size=6),
    st.lists(proposals(), min_size=1, max_size=3),
)
def test_outcomes_are_exactly_the_interpreters(
    rule_list: list[Rule], docs: list[dict[str, Any]]
) -> None:
    ruleset = RuleSet(rules=tuple(rule_list), sources=(), hash="generated")
    reference = ReferenceEvaluator(ruleset)
    for doc in docs:
        root = proposal_view(Proposal.model_validate(doc))
        assert reference.outcomes(root) == interpreted(ruleset, root)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(root_conditions(), proposals())
def test_a_compiled_condition_has_the_interpreters_truth(
    cond: c.Condition, doc: dict[str, Any]
) -> None:
    root = proposal_view(Proposal.model_validate(doc))
    assert compile_condition(cond)(root, None) == evaluate(cond, Scope(root))[0]


def test_compiled_truth_on_the_placeholder_of_an_unanswered_table() -> None:
    rule = _rule(
        applies_when=c.Answered("security_units[].name", False),
        violated_when=c.Answered(US, False),
    )
    ruleset = RuleSet(rules=(rule,), sources=(), hash="t")
    for body in ({}, {"legal": {"us_government_funding": True}}):
        root = view(**body)
        assert ReferenceEvaluator(ruleset).outcomes(root) == interpreted(ruleset, root)
    (outcome,) = ReferenceEvaluator(ruleset).outcomes(view())
    assert (outcome.subject, outcome.result, outcome.item) == (None, U, {})


def test_a_compiled_result_the_interpreter_contradicts_fails_the_review(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rule = make_rule(violated_when=eq(US, True))
    reference = ReferenceEvaluator(RuleSet(rules=(rule,), sources=(), hash="t"))
    root = view(legal={"us_government_funding": False})
    assert reference.outcomes(root) == []
    monkeypatch.setattr(evaluator._CompiledRule, "result", lambda self, root, item: 2)
    with pytest.raises(EngineError, match="X-001: the compiled evaluator found TRUE"):
        reference.outcomes(root)
