"""Compile rules to durable_rules rulesets (as JSON data); the facts they match are built by
:mod:`compliance.rules.facts`.

This module does not import durable_rules; :mod:`compliance.rules.durable` does, and only it.

Three-valued logic on a two-valued engine
-----------------------------------------
durable_rules conditions are true or false. Each rule becomes two engine rules over the same fact:

- ``T``: the rule is certainly violated (``applies_when AND violated_when`` is TRUE);
- ``P``: the rule is possibly violated (the same is TRUE or UNKNOWN).

``T`` fired means a violation; ``P`` without ``T`` means information is needed. Unanswered fields
are left out of the fact, so a test on one is false; its ``P`` form adds "or the field is absent"
(``$nex``). Negation is pushed down to the tests (``NOT T(x) = P(NOT x)``), so no engine rule ever
negates. Dates become day numbers and text is never sent (only whether it was answered): the
engine compares loosely typed values and mishandles strings of 64 KiB or more.

Limits of the engine this respects (see docs/ENGINE.md)
------------------------------------------------------
- Every rule is anchored on ``#doc == 1``, a key only documents have, so rules never match the
  session state the engine re-asserts after each action.
- When matching a fact the engine keeps at most 64 pending condition nodes (error 303, after which
  the session must not be touched). Each form's worst-case stack use is modelled exactly
  (:class:`Form`); rules are packed into groups under a per-group marker key, at most
  ``GROUP_BUDGET`` pending nodes per group and ``MAX_GROUPS`` groups per ruleset, so the pending
  nodes can never exceed ``MAX_GROUPS - 1 + GROUP_BUDGET`` < 64.
- At most 31 ``$and``/``$or`` and field-reference entries per rule (error 113): counted per rule.
- At most 254 properties in one fact (error 302): the plan counts them.
- Conditions inside ``$iany``/``$iall`` are rewritten around two engine defects (:func:`_array`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from compliance.errors import RuleError
from compliance.rules import conditions as c
from compliance.rules.facts import (
    COUNT,
    EACH,
    PHANTOM,
    FactPlan,
    engine_value,
    fact_plan,
    is_list,
    key_of,
)
from compliance.rules.ruleset import Rule, RuleSet

GROUP_BUDGET = 48
MAX_GROUPS = 12
MAX_EXPRESSIONS = 31
MAX_FACT_PROPERTIES = 240

ANCHOR = "#doc"

_OPS = {
    c.CompareOp.NE: "$neq",
    c.CompareOp.GT: "$gt",
    c.CompareOp.GE: "$gte",
    c.CompareOp.LT: "$lt",
    c.CompareOp.LE: "$lte",
}


# --------------------------------------------------------------------------- forms


@dataclass(frozen=True)
class Form:
    """A compiled engine condition with what it costs the engine when matching one fact.

    The engine matches a fact by a depth-first walk of its condition nodes, keeping the nodes
    still to visit on a stack of at most 64 (error 303). A form's stack use is described by:

    - ``heads``: nodes pushed at once on entering it (the branches of an ``$or`` that match);
    - ``peak``: the most nodes it holds on the stack at any moment;
    - ``leftover``: nodes still pending (unexplored ``$or`` branches) when a path leaves it.

    Every count assumes every test matches, so it bounds the worst fact. ``$or`` branches that
    exclude each other count once. ``exprs`` is the number of entries the form adds to its rule's
    expression sequence (two per ``$and``/``$or``, one per field reference; at most
    ``MAX_EXPRESSIONS`` per rule, error 113).
    """

    cond: dict[str, Any]
    heads: int = 1
    peak: int = 1
    leftover: int = 0
    exprs: int = 0


def _and(forms: list[Form]) -> Form:
    if len(forms) == 1:
        return forms[0]
    parts: list[dict[str, Any]] = []
    for f in forms:
        parts.extend(f.cond["$and"] if set(f.cond) == {"$and"} else [f.cond])
    flattened = sum(1 for f in forms if set(f.cond) == {"$and"})
    peak = 0
    pending = 0
    for f in forms:
        peak = max(peak, pending + f.peak)
        pending += f.leftover
    return Form(
        {"$and": parts},
        heads=forms[0].heads,
        peak=peak,
        leftover=pending,
        exprs=2 + sum(f.exprs for f in forms) - 2 * flattened,
    )


def _or(forms: list[Form], *, exclusive: bool) -> Form:
    """Disjunction; ``exclusive`` when at most one branch can be true for any fact.

    The engine pushes the heads of every matching branch at once, explores one branch while the
    others wait, and joins the branches in a merge node (one more node on the path).
    """
    if len(forms) == 1:
        return forms[0]
    if exclusive:
        heads = max(f.heads for f in forms)
        peak = max(f.peak for f in forms)
        leftover = max(f.leftover for f in forms)
    else:
        heads = sum(f.heads for f in forms)
        peak = max(heads - f.heads + f.peak for f in forms)
        leftover = max(heads - f.heads + f.leftover for f in forms)
    return Form(
        {"$or": [f.cond for f in forms]},
        heads=heads,
        peak=max(peak, leftover + 1),  # the merge node
        leftover=leftover,
        exprs=2 + sum(f.exprs for f in forms),
    )


def _node(cond: dict[str, Any], exprs: int = 0) -> Form:
    return Form(cond, exprs=exprs)


# Always true on an item of a list of objects / of a list of choices: the item has no key "#end";
# a choice is never this string (choices are lower_snake_case).
_TRUE_ON_OBJECT = {"$nex": {"$i.#end": 1}}
_TRUE_ON_SCALAR = {"$neq": {"$i": "#end"}}


def _heads(cond: dict[str, Any]) -> list[dict[str, Any]]:
    """The condition nodes a condition starts with (the first node of each ``$or`` branch)."""
    if set(cond) == {"$and"}:
        return _heads(cond["$and"][0])
    if set(cond) == {"$or"}:
        return [h for branch in cond["$or"] for h in _heads(branch)]
    return [cond]


def _hashed_key(node: dict[str, Any]) -> str | None:
    """The item property a node is looked up by, or None for a ``$nex`` node."""
    (op,) = node
    if op == "$nex":
        return None
    if op in _OPERATORS:
        (key,) = node[op]
        return str(key)
    return str(op)  # implicit equality: {key: value}


_OPERATORS = frozenset({"$ex", "$neq", "$gt", "$gte", "$lt", "$lte", "$iany", "$iall"})


class _Protector:
    """Rewrites a condition inside ``$iany``/``$iall`` on objects so the engine judges it right.

    Inside array operators durable_rules walks an item's properties in order and lets a later
    property's failed test overwrite an earlier success (events.c: isArrayMatch, isNextMatch), so
    a node whose following tests branch on different properties gives order-dependent results.
    ``$nex`` tests are checked first and stop at the first success, so every ``$or`` branch that
    could branch that way is made to start with its own always-true ``$nex`` test.
    """

    def __init__(self) -> None:
        self.count = 0
        self.exprs = 0

    def sentinel(self) -> dict[str, Any]:
        self.count += 1
        return {"$nex": {f"$i.#o{self.count}": 1}}

    def protect(self, cond: dict[str, Any]) -> dict[str, Any]:
        if set(cond) == {"$and"}:
            return {"$and": [self.protect(part) for part in cond["$and"]]}
        if set(cond) != {"$or"}:
            return cond
        branches = [self.protect(b) for b in cond["$or"]]
        single = all(set(b) not in ({"$and"}, {"$or"}) for b in branches)
        keys = {_hashed_key(h) for b in branches for h in _heads(b)} - {None}
        if single and len(keys) <= 1:
            return {"$or": branches}  # one property (or none) to branch on: the engine copes
        out = []
        for branch in branches:
            if set(branch) == {"$nex"}:
                out.append(branch)
            elif set(branch) == {"$and"}:
                out.append({"$and": [self.sentinel(), *branch["$and"]]})
            else:
                out.append({"$and": [self.sentinel(), branch]})
                self.exprs += 2
        return {"$or": out}


def _array(op: str, key: str, inner: Form, *, scalar_items: bool = False) -> Form:
    """An ``$iany``/``$iall`` node over ``key``: one node on the stack, whatever ``inner`` holds.

    Two engine defects are worked around here. Conditions on objects are rewritten by
    :class:`_Protector`. And durable_rules reads an uninitialised field of the merge node an
    ``$or`` compiles to when that ``$or`` is the last condition inside an array operator, then
    fails at random with error 102 (rete.c: createForwardAlpha never sets ``right.type``;
    createAlpha's $iany branch reads it), so the inner condition never ends with an ``$or``.
    """
    cond = inner.cond
    exprs = inner.exprs
    if not scalar_items:
        protector = _Protector()
        cond = protector.protect(cond)
        exprs += protector.exprs
    last = cond["$and"][-1] if set(cond) == {"$and"} else cond
    if set(last) == {"$or"}:
        sentinel = _TRUE_ON_SCALAR if scalar_items else _TRUE_ON_OBJECT
        if set(cond) == {"$and"}:
            cond = {"$and": [*cond["$and"], sentinel]}
        else:
            cond = {"$and": [cond, sentinel]}
            exprs += 2
    return Form({op: {key: cond}}, exprs=exprs)


# Internal tests, the complements of user tests that the language has no name for.


@dataclass(frozen=True)
class _NotOneOf:
    path: str
    values: tuple[c.Scalar, ...]


@dataclass(frozen=True)
class _NoneOf:
    """A list of choices holds none of ``values``."""

    path: str
    values: tuple[c.Scalar, ...]


@dataclass(frozen=True)
class _MissingAny:
    """A list of choices lacks at least one of ``values`` (the complement of contains_all)."""

    path: str
    values: tuple[c.Scalar, ...]


_Test = Any  # a condition node or one of the internal tests above


def _complement(node: _Test) -> _Test:
    """The test true exactly where ``node`` is false, on answered fields."""
    if isinstance(node, c.Compare):
        return c.Compare(node.path, c.COMPLEMENT[node.op], node.value)
    if isinstance(node, c.Count):
        return c.Count(node.path, c.COMPLEMENT[node.op], node.value)
    if isinstance(node, c.OneOf):
        return _NotOneOf(node.path, node.values)
    if isinstance(node, _NotOneOf):
        return c.OneOf(node.path, node.values)
    if isinstance(node, c.Answered):
        return c.Answered(node.path, not node.expected)
    if isinstance(node, c.Contains):
        if node.mode == "any":
            return _NoneOf(node.path, node.values)
        return _MissingAny(node.path, node.values)
    if isinstance(node, _NoneOf):
        return c.Contains(node.path, node.values, "any")
    if isinstance(node, _MissingAny):
        return c.Contains(node.path, node.values, "all")
    if isinstance(node, c.Quantified):
        return c.Quantified(node.path, "all" if node.mode == "any" else "any", c.Not(node.where))
    raise TypeError(f"cannot complement {node!r}")


@dataclass(frozen=True)
class _Ctx:
    """Where a condition is compiled: at the fact's root or inside the items of a list."""

    item_list: str | None = None
    copies_root: bool = False
    """Inside for_each items, root fields are read from copies made in each item."""

    def key(self, path: str) -> str:
        if self.item_list is not None and path.startswith(self.item_list + "[]."):
            return "$i./" + path[len(self.item_list) + 3 :].replace(".", "/")
        if self.copies_root:
            return "$i.^" + key_of(path)
        return key_of(path)

    def count_key(self, path: str) -> str:
        return self.key(path) + COUNT

    def in_items(self, path: str) -> bool:
        return self.item_list is not None and path.startswith(self.item_list + "[].")


def _present(k: str) -> Form:
    return _node({"$ex": {k: 1}})


def _absent(k: str) -> Form:
    return _node({"$nex": {k: 1}})


def _cmp(op: c.CompareOp, k: str, value: Any) -> Form:
    if op is c.CompareOp.EQ:
        return _node({k: value})
    return _node({_OPS[op]: {k: value}})


def _maybe(k: str, form: Form) -> Form:
    """P form of a test on key ``k``: the field is absent, or the test holds."""
    return _or([_absent(k), form], exclusive=True)


class _Compiler:
    def __init__(self, rule_id: str) -> None:
        self.rule_id = rule_id

    def form(self, node: _Test, want_t: bool, negated: bool, ctx: _Ctx) -> Form:
        if isinstance(node, c.All):
            parts = [self.form(i, want_t, negated, ctx) for i in node.items]
            return _or(parts, exclusive=False) if negated else _and(parts)
        if isinstance(node, c.AnyOf):
            parts = [self.form(i, want_t, negated, ctx) for i in node.items]
            return _and(parts) if negated else _or(parts, exclusive=False)
        if isinstance(node, c.Not):
            # T(NOT x) = NOT P(x);  P(NOT x) = NOT T(x)
            return self.form(node.item, not want_t, not negated, ctx)
        if negated:
            # NOT T(test) = P(complement);  NOT P(test) = T(complement)
            return self.form(_complement(node), not want_t, False, ctx)
        return self.test(node, want_t, ctx)

    def test(self, node: _Test, want_t: bool, ctx: _Ctx) -> Form:
        if isinstance(node, c.Answered):
            k = ctx.count_key(node.path) if is_list(node.path) else ctx.key(node.path)
            if not node.expected:
                return _absent(k)
            if not want_t and ctx.copies_root and ctx.in_items(node.path):
                # On the placeholder of an unanswered table, whether its fields are answered is
                # unknown, so possibly true.
                return _or([_present("$i." + PHANTOM), _present(k)], exclusive=True)
            return _present(k)
        if isinstance(node, c.Compare):
            k = ctx.key(node.path)
            if isinstance(node.value, c.FieldRef):
                ref = node.value.path
                ref_present = ctx.key(ref)
                # Only gt/gte/lt/lte take a field reference (and their complements are the same).
                test = _node({_OPS[node.op]: {k: {"$m": key_of(ref)}}}, exprs=1)
                certain = _and([_present(k), _present(ref_present), test])
                if want_t:
                    return certain
                return _or(
                    [_absent(k), _and([_present(k), _absent(ref_present)]), certain],
                    exclusive=True,
                )
            test = _cmp(node.op, k, engine_value(node.value))
            return test if want_t else _maybe(k, test)
        if isinstance(node, c.Count):
            k = ctx.count_key(node.path)
            test = _cmp(node.op, k, node.value)
            return test if want_t else _maybe(k, test)
        if isinstance(node, c.OneOf):
            k = ctx.key(node.path)
            test = _or([_node({k: engine_value(v)}) for v in node.values], exclusive=True)
            return test if want_t else _maybe(k, test)
        if isinstance(node, _NotOneOf):
            k = ctx.key(node.path)
            test = _and([_node({"$neq": {k: engine_value(v)}}) for v in node.values])
            return test if want_t else _maybe(k, test)
        if isinstance(node, c.Contains):
            k = ctx.key(node.path)
            tests = [_node({"$iany": {k: {"$i": v}}}) for v in node.values]
            if node.mode == "any" and len(tests) > 1:
                choices = _or([_node({"$i": v}) for v in node.values], exclusive=True)
                test = _array("$iany", k, choices, scalar_items=True)
            else:
                test = _and(tests)
            return test if want_t else _maybe(ctx.count_key(node.path), test)
        if isinstance(node, _NoneOf):
            k = ctx.key(node.path)
            inner: dict[str, Any] = (
                {"$neq": {"$i": node.values[0]}}
                if len(node.values) == 1
                else {"$and": [{"$neq": {"$i": v}} for v in node.values]}
            )
            empty = _node({ctx.count_key(node.path): 0})
            every = _array(
                "$iall", k, Form(inner, exprs=0 if len(node.values) == 1 else 2), scalar_items=True
            )
            test = _or([empty, every], exclusive=True)
            return test if want_t else _maybe(ctx.count_key(node.path), test)
        if isinstance(node, _MissingAny):
            k = ctx.key(node.path)
            n = ctx.count_key(node.path)
            branches = [_node({n: 0})]
            branches += [_node({"$iall": {k: {"$neq": {"$i": v}}}}) for v in node.values]
            test = _or(branches, exclusive=False)
            return test if want_t else _maybe(n, test)
        if isinstance(node, c.Quantified):
            item_ctx = _Ctx(item_list=node.path)
            inner_form = self.form(node.where, want_t, False, item_ctx)
            k = ctx.key(node.path)
            n = ctx.count_key(node.path)
            if node.mode == "any":
                test = _array("$iany", k, inner_form)
                return test if want_t else _maybe(n, test)
            everything = _array("$iall", k, inner_form)
            test = _or([_node({n: 0}), everything], exclusive=True)
            return test if want_t else _maybe(n, test)
        raise TypeError(f"rule {self.rule_id}: cannot compile {node!r}")


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class CompiledRule:
    rule_id: str
    certain: Form
    possible: Form

    @property
    def forms(self) -> tuple[Form, Form]:
        return (self.certain, self.possible)


def group_peak(rules: list[CompiledRule]) -> int:
    """Most nodes pending at once under one group marker holding ``rules``.

    The heads of every engine rule in the group are pushed together; while one is explored the
    others' heads wait.
    """
    forms = [f for r in rules for f in r.forms]
    heads = sum(f.heads for f in forms)
    return heads + max((f.peak - f.heads for f in forms), default=0)


def _rule_form(comp: _Compiler, rule: Rule, want_t: bool, ctx: _Ctx) -> Form:
    """``applies_when AND violated_when``, certain (T) or possible (P); in the P form a required
    fact that is unanswered also makes the violation possible."""
    violated = comp.form(rule.violated_when, want_t, False, ctx)
    if not want_t and rule.requires:
        missing = [_absent(ctx.count_key(p) if is_list(p) else ctx.key(p)) for p in rule.requires]
        violated = _or([violated, *missing], exclusive=False)
    parts = [violated]
    if rule.applies_when is not None:
        parts.insert(0, comp.form(rule.applies_when, want_t, False, ctx))
    return _and(parts)


def compile_rule(rule: Rule) -> CompiledRule:
    comp = _Compiler(rule.id)
    forms: dict[bool, Form] = {}
    if rule.for_each is None:
        for want_t in (True, False):
            forms[want_t] = _rule_form(comp, rule, want_t, _Ctx())
    else:
        ctx = _Ctx(item_list=rule.for_each, copies_root=True)
        each = key_of(rule.for_each) + EACH
        for want_t in (True, False):
            inner = _rule_form(comp, rule, want_t, ctx)
            if want_t:  # a certain violation is never about the placeholder of a missing table
                inner = _and([_absent("$i." + PHANTOM), inner])
            forms[want_t] = _array("$iany", each, inner)
    for form in forms.values():
        exprs = _and([_node({ANCHOR: 1}), _node({"#g": 1}), form]).exprs
        if exprs > MAX_EXPRESSIONS:
            raise RuleError(
                f"rule {rule.id}: too complex for the rule engine ({exprs} and/or nodes once "
                f"compiled; at most {MAX_EXPRESSIONS}); split it into several rules"
            )
    compiled = CompiledRule(rule.id, forms[True], forms[False])
    if group_peak([compiled]) > GROUP_BUDGET:
        raise RuleError(
            f"rule {rule.id}: too complex for the rule engine (up to {group_peak([compiled])} "
            f"condition nodes pending at once; at most {GROUP_BUDGET}); split it into several "
            "rules or shorten its any: lists"
        )
    return compiled


# --------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class Shard:
    """One durable_rules ruleset: groups of rules, each group under its own marker key."""

    name: str
    groups: tuple[tuple[CompiledRule, ...], ...]

    def definition(self) -> dict[str, dict[str, Any]]:
        """The ruleset as durable_rules JSON, without actions (``run`` is added by the engine)."""
        rules: dict[str, dict[str, Any]] = {}
        for g, group in enumerate(self.groups):
            marker = {f"#g{g}": 1}
            for compiled in group:
                for suffix, form in (("T", compiled.certain), ("P", compiled.possible)):
                    cond = form.cond
                    parts = [{ANCHOR: 1}, marker]
                    parts.extend(cond["$and"] if set(cond) == {"$and"} else [cond])
                    rules[f"{compiled.rule_id}#{suffix}"] = {"all": [{"m": {"$and": parts}}]}
        # Lowest priority, always fires: every session runs an action, so deleting it is safe.
        rules["#catch-all"] = {"all": [{"m": {ANCHOR: 1}}], "pri": 1_000_000}
        return rules


@dataclass(frozen=True)
class Plan:
    shards: tuple[Shard, ...]
    facts: FactPlan
    groups: int

    def fact(self, view: dict[str, Any]) -> dict[str, Any]:
        fact = self.facts.build(view)
        fact[ANCHOR] = 1
        for g in range(self.groups):
            fact[f"#g{g}"] = 1
        return fact


def compile_ruleset(ruleset: RuleSet) -> Plan:
    """Compile every rule and pack them into shards that stay inside the engine's limits (or
    read the plan a rule set from the rule-set cache brings: see :mod:`compliance.rules.cache`)."""
    cached = getattr(ruleset, "_cached_plan", None)
    plan = cached() if cached is not None else None
    if isinstance(plan, Plan):
        return plan
    problems: list[str] = []
    compiled: list[CompiledRule] = []
    for rule in ruleset.rules:
        try:
            compiled.append(compile_rule(rule))
        except RuleError as exc:
            problems.extend(exc.problems)
    if problems:
        raise RuleError(problems)
    shards: list[list[list[CompiledRule]]] = [[[]]]
    for item in compiled:
        groups = shards[-1]
        if group_peak([*groups[-1], item]) > GROUP_BUDGET:
            if len(groups) == MAX_GROUPS:
                shards.append([[]])
            else:
                groups.append([])
        shards[-1][-1].append(item)
    plan_shards = tuple(
        Shard(f"s{i}", tuple(tuple(g) for g in groups if g)) for i, groups in enumerate(shards)
    )
    facts = fact_plan(list(ruleset.rules))
    group_count = max(len(s.groups) for s in plan_shards)
    count = facts.property_count(group_count)
    if count > MAX_FACT_PROPERTIES:
        raise RuleError(
            f"the rule set reads {count} fields at once; the rule engine takes at most "
            f"{MAX_FACT_PROPERTIES}"
        )
    return Plan(plan_shards, facts, group_count)
