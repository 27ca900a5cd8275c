"""The reference evaluator: a plain-Python interpreter of the condition language.

It has two jobs. It explains: for every rule that fires it computes the evidence, which fields and
which list items made it fire and what values they held. And it is the oracle: the durable_rules
engine must reach exactly the same result for every rule on every proposal (the differential tests
check this), and the review refuses to report a finding the two disagree on.

For speed, :class:`ReferenceEvaluator` judges every rule with its conditions compiled once into
closures (:func:`compile_condition`), which compute the truth alone; only the outcomes that are not
FALSE, a few per proposal, are judged again by the interpreter (:func:`evaluate`, :func:`judge`),
which explains them and must reach the same result.

Logic is three-valued (Kleene): TRUE, FALSE, UNKNOWN. A test on an unanswered field is UNKNOWN;
``and`` is the minimum, ``or`` the maximum, ``not`` swaps TRUE and FALSE. A rule's result is
``applies_when AND violated_when``: TRUE is a violation, UNKNOWN means information is needed.

A rule with ``for_each`` is judged once per item of its list. When the list itself is unanswered
it is judged once against a placeholder item whose fields are all unanswered.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import Any

from compliance.errors import EngineError
from compliance.proposal.fields import Kind, catalogue, get_in, split_path
from compliance.proposal.model import Proposal
from compliance.rules import conditions as c
from compliance.rules.ruleset import Rule, RuleSet


class TV(IntEnum):
    """A three-valued truth value; the order makes ``min`` AND and ``max`` OR."""

    FALSE = 0
    UNKNOWN = 1
    TRUE = 2

    def __invert__(self) -> TV:
        return TV(2 - self.value)


@dataclass(frozen=True)
class Seen:
    """A field a conclusion rests on: its concrete path and the value found (None: unanswered)."""

    path: str
    value: Any


@dataclass(frozen=True)
class Outcome:
    """What one rule concluded about one subject (the proposal, or one item for ``for_each``)."""

    rule: Rule
    result: TV
    subject: str | None
    """The list item judged (``data_sharing.flows[1]``), or None for the whole proposal."""
    violation: tuple[Seen, ...]
    """The fields that make the violation condition true (or unknown)."""
    context: tuple[Seen, ...]
    """The fields that made the rule apply."""
    item: dict[str, Any] | None = None

    @property
    def unanswered(self) -> tuple[str, ...]:
        """Paths of the unanswered fields behind an UNKNOWN result, first seen first."""
        out: dict[str, None] = {}
        for seen in self.violation + self.context:
            if seen.value is None:
                out.setdefault(seen.path, None)
        return tuple(out)


@dataclass(frozen=True)
class Scope:
    root: dict[str, Any]
    item: dict[str, Any] | None = None
    item_list: str | None = None
    item_prefix: str | None = None
    """Concrete path of the current item; None for the placeholder of an unanswered list."""


_Result = tuple[TV, list[Seen]]


def plain(value: Any) -> Any:
    """Python value of a field as rules see it: enumerations as their string values."""
    if isinstance(value, Enum):
        return value._value_  # what ``value.value`` returns, without the descriptor's cost
    if isinstance(value, list):
        return [
            v._value_ if isinstance(v, Enum) else plain(v) if isinstance(v, list) else v
            for v in value
        ]
    return value


def _get(data: dict[str, Any] | None, dotted: str) -> Any:
    return get_in(data, split_path(dotted))


def _lookup(path: str, scope: Scope) -> tuple[str, Any]:
    """(concrete path, value) of a generic path in the current scope."""
    if scope.item_list is not None and path.startswith(scope.item_list + "[]."):
        rest = path[len(scope.item_list) + 3 :]
        if scope.item_prefix is None:
            return scope.item_list, None
        return f"{scope.item_prefix}.{rest}", plain(_get(scope.item, rest))
    return path, plain(_get(scope.root, path))


def _shown(path: str, value: Any) -> Any:
    """Evidence value: a table (list of objects) is shown as its number of rows."""
    if isinstance(value, list) and catalogue()[path].kind is Kind.OBJECT_LIST:
        return len(value)
    return value


def _in_placeholder(path: str, scope: Scope) -> bool:
    return (
        scope.item_list is not None
        and scope.item_prefix is None
        and path.startswith(scope.item_list + "[].")
    )


def _compare(op: c.CompareOp, left: Any, right: Any) -> bool:
    if op is c.CompareOp.EQ:
        return bool(left == right)
    if op is c.CompareOp.NE:
        return bool(left != right)
    if op is c.CompareOp.GT:
        return bool(left > right)
    if op is c.CompareOp.GE:
        return bool(left >= right)
    if op is c.CompareOp.LT:
        return bool(left < right)
    return bool(left <= right)


def _truth(value: bool) -> TV:
    return TV.TRUE if value else TV.FALSE


def evaluate(cond: c.Condition, scope: Scope) -> _Result:
    """The truth value of ``cond`` and the fields that explain it."""
    if isinstance(cond, c.All):
        return _combine([evaluate(i, scope) for i in cond.items], conjunction=True)
    if isinstance(cond, c.AnyOf):
        return _combine([evaluate(i, scope) for i in cond.items], conjunction=False)
    if isinstance(cond, c.Not):
        value, seen = evaluate(cond.item, scope)
        return ~value, seen
    if isinstance(cond, c.Quantified):
        return _quantified(cond, scope)
    path, value = _lookup(cond.path, scope)
    seen = [Seen(path, _shown(cond.path, value))]
    if isinstance(cond, c.Answered):
        if _in_placeholder(cond.path, scope):
            return TV.UNKNOWN, seen  # a field of an item of a table that is itself unanswered
        return _truth((value is not None) == cond.expected), seen
    if value is None:
        return TV.UNKNOWN, seen
    if isinstance(cond, c.Compare):
        right = cond.value
        if isinstance(right, c.FieldRef):
            right_path, right = _lookup(right.path, scope)
            seen.append(Seen(right_path, right))
            if right is None:
                return TV.UNKNOWN, seen
        return _truth(_compare(cond.op, value, right)), seen
    if isinstance(cond, c.OneOf):
        return _truth(value in cond.values), seen
    if isinstance(cond, c.Contains):
        hits = [v in value for v in cond.values]
        return _truth(any(hits) if cond.mode == "any" else all(hits)), seen
    assert isinstance(cond, c.Count)
    return _truth(_compare(cond.op, len(value), cond.value)), seen


def _combine(results: list[_Result], *, conjunction: bool) -> _Result:
    """AND (``conjunction``) or OR of ``results``, with the parts that explain the outcome.

    A TRUE AND and a FALSE OR rest on every part; otherwise only the parts with the outcome's own
    value decided it (the FALSE parts of a FALSE AND, the UNKNOWN parts of an UNKNOWN result).
    """
    values = [v for v, _ in results]
    value = min(values) if conjunction else max(values)
    if value is not TV.UNKNOWN and (value is TV.TRUE) == conjunction:
        chosen = results
    else:
        chosen = [r for r in results if r[0] is value]
    seen: list[Seen] = []
    for _, part in chosen:
        seen.extend(part)
    return value, seen


def _quantified(cond: c.Quantified, scope: Scope) -> _Result:
    path, items = _lookup(cond.path, scope)
    if items is None:
        return TV.UNKNOWN, [Seen(path, None)]
    raw_items = _get(scope.root, cond.path) or []
    results = [
        evaluate(
            cond.where,
            Scope(scope.root, item, cond.path, f"{cond.path}[{i}]"),
        )
        for i, item in enumerate(raw_items)
    ]
    if not results:
        return (TV.FALSE if cond.mode == "any" else TV.TRUE), [Seen(path, 0)]
    return _combine(results, conjunction=cond.mode == "all")


def _dedupe(seen: Sequence[Seen]) -> tuple[Seen, ...]:
    out: dict[str, Seen] = {}
    for s in seen:
        out.setdefault(s.path, s)
    return tuple(out.values())


def judge(rule: Rule, scope: Scope, subject: str | None) -> Outcome:
    """Apply one rule to one subject."""
    if rule.applies_when is not None:
        applies, context = evaluate(rule.applies_when, scope)
    else:
        applies, context = TV.TRUE, []
    if applies is TV.FALSE:
        return Outcome(rule, TV.FALSE, subject, (), _dedupe(context), scope.item)
    violated, violation = evaluate(rule.violated_when, scope)
    if rule.requires and violated is not TV.TRUE:
        # A required fact left unanswered: the rule cannot conclude that it is met.
        found = [_lookup(path, scope) for path in rule.requires]
        missing = [Seen(where, None) for where, value in found if value is None]
        if missing:
            violation = missing if violated is TV.FALSE else [*violation, *missing]
            violated = TV.UNKNOWN
    result = min(applies, violated)
    if scope.item_list is not None and scope.item_prefix is None and result is not TV.FALSE:
        # The placeholder of an unanswered list: nothing is certain, the list itself is needed.
        result = TV.UNKNOWN
        context = [Seen(scope.item_list, None), *context]
    return Outcome(rule, result, subject, _dedupe(violation), _dedupe(context), scope.item)


def subjects(rule: Rule, root: dict[str, Any]) -> list[Scope]:
    """The scopes a rule is judged in: the proposal, or each item of its ``for_each`` list."""
    if rule.for_each is None:
        return [Scope(root)]
    items = _get(root, rule.for_each)
    if items is None:
        return [Scope(root, {}, rule.for_each, None)]
    return [
        Scope(root, item, rule.for_each, f"{rule.for_each}[{i}]") for i, item in enumerate(items)
    ]


def proposal_view(proposal: Proposal) -> dict[str, Any]:
    """The proposal as plain nested dicts, the form both evaluators read."""
    return proposal.model_dump()


# ---------------------------------------------------------------------------------------------
# The compiled truth: the same three-valued logic as :func:`evaluate` and :func:`judge`, without
# the evidence. Each condition tree is turned once per rule set into nested closures (paths split,
# operators bound, where each path is read from decided), so most rules, which do not fire, cost a
# few dictionary look-ups. Evidence is then computed by the interpreter for the few that do.
#
# Truth values are plain ints here, in the order of TV: 0 FALSE, 1 UNKNOWN, 2 TRUE. The item
# argument is the current list item (None when there is none; _PLACEHOLDER for the placeholder
# item of an unanswered for_each list).

_Getter = Callable[[dict[str, Any], Any], Any]
_Test = Callable[[dict[str, Any], Any], int]

_PLACEHOLDER: Any = object()

_OPS: dict[c.CompareOp, Callable[[Any, Any], Any]] = {
    c.CompareOp.EQ: operator.eq,
    c.CompareOp.NE: operator.ne,
    c.CompareOp.GT: operator.gt,
    c.CompareOp.GE: operator.ge,
    c.CompareOp.LT: operator.lt,
    c.CompareOp.LE: operator.le,
}

_TVS = (TV.FALSE, TV.UNKNOWN, TV.TRUE)


def _under(path: str, item_list: str | None) -> bool:
    return item_list is not None and path.startswith(item_list + "[].")


def _getter(path: str, item_list: str | None, *, raw: bool = False) -> _Getter:
    """Compiled :func:`_lookup` (the value only) of a generic path in a scope over ``item_list``;
    with ``raw``, the value as the view holds it, before :func:`plain`."""
    if item_list is not None and _under(path, item_list):
        rest = split_path(path[len(item_list) + 3 :])
        if raw:
            return lambda root, item: None if item is _PLACEHOLDER else get_in(item, rest)
        return lambda root, item: None if item is _PLACEHOLDER else plain(get_in(item, rest))
    parts = split_path(path)
    if raw:
        return lambda root, item: get_in(root, parts)
    return lambda root, item: plain(get_in(root, parts))


def compile_condition(cond: c.Condition, item_list: str | None = None) -> _Test:
    """The truth of ``cond`` as a function of (proposal view, current item): it returns
    ``int(evaluate(cond, scope)[0])`` for a scope over ``item_list`` (see the notes above)."""
    if isinstance(cond, (c.All, c.AnyOf)):
        parts = tuple(compile_condition(i, item_list) for i in cond.items)
        if isinstance(cond, c.All):

            def conjunction(root: dict[str, Any], item: Any) -> int:
                result = 2
                for part in parts:
                    value = part(root, item)
                    if value < result:
                        if not value:
                            return 0
                        result = value
                return result

            return conjunction

        def disjunction(root: dict[str, Any], item: Any) -> int:
            result = 0
            for part in parts:
                value = part(root, item)
                if value > result:
                    if value == 2:
                        return 2
                    result = value
            return result

        return disjunction
    if isinstance(cond, c.Not):
        inner = compile_condition(cond.item, item_list)
        return lambda root, item: 2 - inner(root, item)
    if isinstance(cond, c.Quantified):
        return _compile_quantified(cond, item_list)
    if isinstance(cond, c.Answered):
        get = _getter(cond.path, item_list, raw=True)  # plain() keeps None and only None
        expected = cond.expected
        if _under(cond.path, item_list):

            def answered_in_item(root: dict[str, Any], item: Any) -> int:
                if item is _PLACEHOLDER:
                    return 1  # a field of an item of a table that is itself unanswered
                return 2 if (get(root, item) is not None) == expected else 0

            return answered_in_item
        return lambda root, item: 2 if (get(root, item) is not None) == expected else 0
    if isinstance(cond, c.Count):
        count_op, bound = _OPS[cond.op], cond.value
        get_raw = _getter(cond.path, item_list, raw=True)

        def count(root: dict[str, Any], item: Any) -> int:
            value = get_raw(root, item)
            if value is None:
                return 1
            # A list has as many items as its plain() copy, which is not worth making.
            return (
                2 if count_op(len(value if value.__class__ is list else plain(value)), bound) else 0
            )

        return count
    get = _getter(cond.path, item_list)
    if isinstance(cond, c.Compare):
        op = _OPS[cond.op]
        right = cond.value
        if isinstance(right, c.FieldRef):
            get_right = _getter(right.path, item_list)

            def compare_fields(root: dict[str, Any], item: Any) -> int:
                value = get(root, item)
                if value is None:
                    return 1
                other = get_right(root, item)
                if other is None:
                    return 1
                return 2 if op(value, other) else 0

            return compare_fields

        def compare(root: dict[str, Any], item: Any) -> int:
            value = get(root, item)
            if value is None:
                return 1
            return 2 if op(value, right) else 0

        return compare
    if isinstance(cond, c.OneOf):
        values = cond.values

        def one_of(root: dict[str, Any], item: Any) -> int:
            value = get(root, item)
            if value is None:
                return 1
            return 2 if value in values else 0

        return one_of
    assert isinstance(cond, c.Contains)
    wanted = cond.values
    every = cond.mode != "any"

    def contains(root: dict[str, Any], item: Any) -> int:
        value = get(root, item)
        if value is None:
            return 1
        hits = [v in value for v in wanted]
        return 2 if (all(hits) if every else any(hits)) else 0

    return contains


def _compile_quantified(cond: c.Quantified, item_list: str | None) -> _Test:
    where = compile_condition(cond.where, cond.path)
    every = cond.mode == "all"
    raw_parts = split_path(cond.path)
    # The list is tested for an answer in the current scope, but its items are always read from
    # the proposal (as :func:`_quantified` does); in a valid rule both are the same list.
    get_list = None if not _under(cond.path, item_list) else _getter(cond.path, item_list)

    def quantified(root: dict[str, Any], item: Any) -> int:
        raw = get_in(root, raw_parts)
        if get_list is None:
            if raw is None:
                return 1
        elif get_list(root, item) is None:
            return 1
        result = 2 if every else 0
        for each in raw or []:
            value = where(root, each)
            if every:
                if value < result:
                    if not value:
                        return 0
                    result = value
            elif value > result:
                if value == 2:
                    return 2
                result = value
        return result

    return quantified


@dataclass(frozen=True)
class _CompiledRule:
    rule: Rule
    applies: _Test | None
    violated: _Test
    requires: tuple[_Getter, ...]
    for_each: tuple[str, ...] | None

    @classmethod
    def of(cls, rule: Rule) -> _CompiledRule:
        scope = rule.for_each
        return cls(
            rule=rule,
            applies=(
                compile_condition(rule.applies_when, scope)
                if rule.applies_when is not None
                else None
            ),
            violated=compile_condition(rule.violated_when, scope),
            requires=tuple(_getter(path, scope) for path in rule.requires),
            for_each=split_path(rule.for_each) if rule.for_each is not None else None,
        )

    def result(self, root: dict[str, Any], item: Any) -> int:
        """``int(judge(...).result)`` for the rule in the scope of ``item``."""
        applies = 2 if self.applies is None else self.applies(root, item)
        if not applies:
            return 0
        violated = self.violated(root, item)
        if violated != 2 and self.requires:
            for get in self.requires:
                if get(root, item) is None:
                    violated = 1  # a required fact left unanswered
                    break
        result = applies if applies < violated else violated
        if result and item is _PLACEHOLDER:
            return 1  # the placeholder of an unanswered list: the list itself is needed
        return result


class ReferenceEvaluator:
    """Evaluates a whole rule set on a proposal, in plain Python.

    Methods take the proposal as plain dicts (:func:`proposal_view`), converted once per review.
    Every rule is judged by its compiled truth; the outcomes that are not FALSE are then judged
    again by the interpreter (:func:`judge`), which explains them, and must reach the same result.
    """

    name = "reference"

    def __init__(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        self._compiled = tuple(_CompiledRule.of(rule) for rule in ruleset.rules)

    def outcomes(self, view: dict[str, Any]) -> list[Outcome]:
        """Every outcome that is not FALSE, rule by rule in rule-set order."""
        out: list[Outcome] = []
        for cr in self._compiled:
            _rule_outcomes(cr, view, out)
        return out

    def outcomes_of(self, view: dict[str, Any], rule_ids: Container[str]) -> list[Outcome]:
        """:meth:`outcomes` of the rules named alone (each rule is judged on its own)."""
        out: list[Outcome] = []
        for cr in self._compiled:
            if cr.rule.id in rule_ids:
                _rule_outcomes(cr, view, out)
        return out

    def results(self, view: dict[str, Any]) -> dict[str, TV]:
        """The rule-level result of every rule that is not FALSE: the worst over its subjects."""
        return worst_by_rule(self.outcomes(view))


def _rule_outcomes(cr: _CompiledRule, view: dict[str, Any], out: list[Outcome]) -> None:
    """Append the outcomes that are not FALSE of one rule, subject by subject."""
    if cr.for_each is None:
        if result := cr.result(view, None):
            out.append(_explain(cr, Scope(view), result))
        return
    each = cr.rule.for_each
    items = get_in(view, cr.for_each)
    if items is None:
        if result := cr.result(view, _PLACEHOLDER):
            out.append(_explain(cr, Scope(view, {}, each, None), result))
        return
    for i, item in enumerate(items):
        if result := cr.result(view, item):
            out.append(_explain(cr, Scope(view, item, each, f"{each}[{i}]"), result))


def _explain(cr: _CompiledRule, scope: Scope, result: int) -> Outcome:
    """The outcome of a rule that does not pass, with its evidence, by the interpreter."""
    outcome = judge(cr.rule, scope, scope.item_prefix)
    if outcome.result is not _TVS[result]:
        raise EngineError(
            f"rule {cr.rule.id}"
            + (f" on {scope.item_prefix}" if scope.item_prefix else "")
            + f": the compiled evaluator found {_TVS[result].name}, "
            f"the interpreter {outcome.result.name}"
        )
    return outcome


def worst_by_rule(outcomes: Sequence[Outcome]) -> dict[str, TV]:
    """Rule id -> the worst result among its outcomes (rules without outcomes are left out)."""
    out: dict[str, TV] = {}
    for outcome in outcomes:
        out[outcome.rule.id] = max(out.get(outcome.rule.id, TV.FALSE), outcome.result)
    return out


def scope_of(outcome: Outcome, view: dict[str, Any]) -> Scope:
    """The scope an outcome was judged in (the proposal, or its item of a for_each table)."""
    rule = outcome.rule
    if rule.for_each is None:
        return Scope(view)
    return Scope(view, outcome.item, rule.for_each, outcome.subject)


def outcome_test(cond: c.Condition, each: str | None) -> Callable[[dict[str, Any], Outcome], TV]:
    """``evaluate(cond, scope_of(outcome, view))[0]`` for outcomes of a rule over ``each``,
    compiled once: how a finding's escalations and references are judged in its scope."""
    test = compile_condition(cond, each)

    def truth(view: dict[str, Any], outcome: Outcome) -> TV:
        placeholder = each is not None and outcome.subject is None
        return _TVS[test(view, _PLACEHOLDER if placeholder else outcome.item)]

    return truth


def lookup_for_template(root: dict[str, Any], outcome: Outcome) -> Callable[[str], Any]:
    """Resolve template placeholders against the proposal and the outcome's item."""
    rule = outcome.rule

    def get(path: str) -> Any:
        if rule.for_each and path.startswith(rule.for_each + "[]."):
            if outcome.item is None:
                return None
            return _get(outcome.item, path[len(rule.for_each) + 3 :])
        return _get(root, path)

    return get
