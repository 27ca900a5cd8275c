"""Severity escalation: a rule's finding graded higher where the framework says the harm is worse.

A rule's ``severity`` is its floor. ``escalate`` lists higher severities, each with a condition and
a short reason, in ascending order. A finding (a violation, or a question the rule needs answered)
takes the highest escalation whose condition is TRUE in the finding's own scope (the proposal, or
the item of a ``for_each`` rule); an unanswered or false condition does not escalate. Escalation
changes how bad a finding is, never whether there is one: both engines decide that, and the
severity is then read from the proposal in Python, like a reference's ``binds_when``.

A project's severity override replaces the floor: escalations at or below the new severity no
longer change anything, those above it still apply (the framework's reason to grade a finding
higher holds whatever the project's baseline).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from compliance.rules import conditions as c
from compliance.rules.reference import TV, Outcome, Scope, evaluate, outcome_test
from compliance.rules.ruleset import Escalation, Rule
from compliance.rules.spec import Severity

if TYPE_CHECKING:
    from compliance.rules.spec_models import EscalationSpec, RuleSpec


def build(
    specs: Sequence[EscalationSpec],
    base: Severity,
    condition: Callable[[Any, str], c.Condition | None],
    fail: Callable[[str, str], None],
) -> tuple[Escalation, ...]:
    """A rule's escalations from its validated spec; every problem is reported with ``fail``
    (key, message) and conditions are built with ``condition`` (spec, key), as applies_when is."""
    out: list[Escalation] = []
    below = base
    for i, spec in enumerate(specs):
        key = f"escalate[{i}]"
        when = condition(spec.when, f"{key}.when")
        if spec.severity.rank <= base.rank:
            fail(
                f"{key}.severity",
                f"{spec.severity.value} is not above the rule's severity {base.value}; "
                "an escalation must raise it",
            )
        elif spec.severity.rank <= below.rank:
            fail(
                f"{key}.severity",
                f"{spec.severity.value} is not above the escalation before it "
                f"({below.value}); list escalations in ascending order of severity",
            )
        below = spec.severity if spec.severity.rank > below.rank else below
        if when is not None:
            out.append(Escalation(spec.severity, when, spec.reason))
    return tuple(out)


def example_problems(spec: RuleSpec, where: str) -> list[str]:
    """Examples that expect a severity the rule cannot give, or expect one of a pass."""
    possible = [spec.severity, *(e.severity for e in spec.escalate or ())]
    names = ", ".join(s.value for s in possible)
    problems = []
    for kind in ("fires", "passes", "needs_information"):
        for i, ex in enumerate(getattr(spec.examples, kind)):
            if ex.severity is None:
                continue
            key = f"{where}: examples.{kind}[{i}].severity"
            if kind == "passes":
                problems.append(f"{key}: a passing example has no finding, so no severity")
            elif ex.severity not in possible:
                problems.append(
                    f"{key}: the rule never gives {ex.severity.value} (it gives: {names})"
                )
    return problems


def escalation_test(rule: Rule) -> Callable[[dict[str, Any], Outcome], Escalation | None]:
    """:func:`escalation_of` for the outcomes of ``rule`` (in their own scope), with the
    conditions compiled once per rule set rather than interpreted once per finding."""
    above = itertools.takewhile(
        lambda e: e.severity.rank > rule.severity.rank, reversed(rule.escalations)
    )
    tests = [(e, outcome_test(e.when, rule.for_each)) for e in above]

    def escalation(view: dict[str, Any], outcome: Outcome) -> Escalation | None:
        for escalation, test in tests:
            if test(view, outcome) is TV.TRUE:
                return escalation
        return None

    return escalation


def escalation_of(rule: Rule, scope: Scope) -> Escalation | None:
    """The escalation that grades a finding of ``rule`` judged in ``scope``, if any: the highest
    whose condition is TRUE and whose severity is above the rule's (possibly overridden) one."""
    for escalation in reversed(rule.escalations):
        if escalation.severity.rank <= rule.severity.rank:
            return None  # ascending order: every one before it is lower still
        if evaluate(escalation.when, scope)[0] is TV.TRUE:
            return escalation
    return None
