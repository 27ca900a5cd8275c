"""Selecting and tuning the loaded rules: ``--domain``, ``--rule``, ``--skip-rule`` and the
project config's disabled rules and severity overrides.

A rule that does not run looks exactly like a pass, so every name given here must exist (a typo
is an error, with a suggestion), a selection that leaves no rule is an error, and what was
selected, skipped, disabled or re-graded is recorded in the rule set (and so in every report),
each disable and override with its reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace

from compliance.errors import UsageError
from compliance.rules.cache import PLAN_ATTRIBUTE
from compliance.rules.ruleset import DisabledRule, NotInForce, RuleSet, SeverityOverride, Tuning
from compliance.rules.spec import Severity
from compliance.words import did_you_mean


@dataclass(frozen=True)
class Override:
    rule_id: str
    severity: Severity
    reason: str
    origin: str
    downgrade_blocker: bool = False
    """Lowering a blocker must be said deliberately."""


@dataclass(frozen=True)
class Selection:
    """What to run. Empty ``domains`` and ``rules`` select every rule; when either is given, a rule
    runs if its domain is listed or its id is. ``skip`` and ``disabled`` then remove rules."""

    domains: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    disabled: tuple[DisabledRule, ...] = ()
    overrides: tuple[Override, ...] = ()
    config: str | None = None
    """The config file the disables and overrides came from."""
    builtin: bool = True
    """Whether the built-in rules were loaded (a config may turn them off)."""

    @property
    def is_empty(self) -> bool:
        return not (self.domains or self.rules or self.skip or self.disabled or self.overrides)


def apply(ruleset: RuleSet, selection: Selection) -> RuleSet:
    """The rule set narrowed and re-graded by ``selection``; raises :class:`UsageError` listing
    every unknown or repeated name, contradiction, or an empty result.

    Ids are matched without regard to case (they are written upper case) and domains likewise
    (written lower case); the report records the canonical names.
    """
    if selection.is_empty and selection.config is None and selection.builtin:
        return ruleset
    by_id = {r.id.upper(): r.id for r in ruleset.rules}
    by_domain = {r.domain.lower(): r.domain for r in ruleset.rules}
    severity_of = {r.id: r.severity for r in ruleset.rules}
    problems: list[str] = []
    where = selection.config or "config"

    def canonical(names: Sequence[str], label: str, known: dict[str, str]) -> list[str]:
        found: list[str] = []
        for name in names:
            real = known.get(name.strip().upper() if known is by_id else name.strip().lower())
            if real is None:
                if known is by_id:
                    hint = did_you_mean(name.strip().upper(), list(by_id.values()))
                    problems.append(f"{label} {name}: no such rule{hint}")
                else:
                    problems.append(
                        f"{label} {name}: no loaded rule has this domain "
                        f"(domains: {', '.join(sorted(by_domain.values()))})"
                    )
            elif real in found:
                problems.append(f"{label} {real}: given twice")
            else:
                found.append(real)
        return found

    domains = canonical(selection.domains, "--domain", by_domain)
    chosen = canonical(selection.rules, "--rule", by_id)
    skipped = canonical(selection.skip, "--skip-rule", by_id)
    disabled_ids = canonical(
        [d.rule_id for d in selection.disabled], f"{where}: disabled rule", by_id
    )
    canonical([o.rule_id for o in selection.overrides], f"{where}: severity override for", by_id)
    reasons = {by_id.get(d.rule_id.strip().upper()): d.reason for d in selection.disabled}
    for rule_id in chosen:
        if rule_id in skipped:
            problems.append(f"--rule {rule_id}: also given with --skip-rule")
        if rule_id in reasons:
            problems.append(
                f"--rule {rule_id}: the rule is disabled by {where} ({reasons[rule_id]}); "
                "remove it from the config's disabled rules to run it"
            )
    overrides: dict[str, Override] = {}
    for entry in selection.overrides:
        target = by_id.get(entry.rule_id.strip().upper())
        if target is None:
            continue  # already reported
        original = severity_of[target]
        if target in disabled_ids:
            problems.append(f"{where}: {target} is both disabled and given a new severity")
        elif entry.severity is original:
            problems.append(
                f"{where}: severity override for {target}: the rule is already {original.value}"
            )
        elif original is Severity.blocker and not entry.downgrade_blocker:
            problems.append(
                f"{where}: severity override for {target}: lowering a blocker needs "
                "downgrade_blocker = true in its entry (a blocker marks a bar in law or a serious "
                "harm; say so deliberately)"
            )
        overrides[target] = replace(entry, rule_id=target)
    if problems:
        raise UsageError(problems)

    wanted = set(chosen)
    wanted_domains = set(domains)
    removed = set(skipped) | set(disabled_ids)
    rules = []
    for rule in ruleset.rules:
        if (wanted or wanted_domains) and not (rule.id in wanted or rule.domain in wanted_domains):
            continue
        if rule.id in removed:
            continue
        override = overrides.get(rule.id)
        if override is None:
            rules.append(rule)
            continue
        change = SeverityOverride(
            original=rule.severity, reason=override.reason, origin=override.origin
        )
        rules.append(replace(rule, severity=override.severity, override=change))
    if not rules:
        raise UsageError(
            "no rule is left to run after selection (a review without rules would pass "
            "everything); check --domain, --rule, --skip-rule and the disabled rules"
        )
    tuning = Tuning(
        loaded=len(ruleset.rules),
        config=selection.config,
        builtin=selection.builtin,
        domains=tuple(domains),
        rules=tuple(chosen),
        skipped=tuple(skipped),
        disabled=tuple(
            replace(d, rule_id=by_id[d.rule_id.strip().upper()]) for d in selection.disabled
        ),
    )
    return replace(ruleset, rules=tuple(rules), tuning=tuning)


def in_force(ruleset: RuleSet, day: dt.date) -> RuleSet:
    """The rules of ``ruleset`` in force on ``day`` (the judgment day), the others recorded as
    skipped: like a narrowed selection, what runs is this rule set, in both engines. A rule is
    in force from its ``effective_from`` to its ``effective_until``, both days included. Raises
    :class:`UsageError` when no rule is left."""
    kept = tuple(r for r in ruleset.rules if r.in_force(day))
    skipped = tuple(
        NotInForce(
            rule_id=r.id,
            title=r.title,
            effective_from=r.effective_from,
            effective_until=r.effective_until,
            reason="not_yet_in_force"
            if r.effective_from is not None and day < r.effective_from
            else "no_longer_in_force",
        )
        for r in ruleset.rules
        if not r.in_force(day)
    )
    if not kept:
        raise UsageError(
            f"no rule is in force on {day} among the {len(ruleset.rules)} selected (a review "
            "without rules would pass everything); check the rules' effective_from and "
            "effective_until, and --as-of"
        )
    chosen = replace(ruleset, rules=kept, as_of=day, not_in_force=skipped)
    plan = getattr(ruleset, PLAN_ATTRIBUTE, None)
    if plan is not None and not skipped:  # the same rules: the compiled plan still holds
        object.__setattr__(chosen, PLAN_ATTRIBUTE, plan)
    return chosen
