"""Selecting and tuning the loaded rules: ``--domain``, ``--rule``, ``--skip-rule`` and the
project config's disabled rules and severity overrides.

A rule that does not run looks exactly like a pass, so every name given here must exist (a typo
is an error, with a suggestion), a selection that leaves no rule is an error, and what was
selected, skipped, disabled or re-graded is recorded in the rule set (and so in every report),
each disable and override with its reason.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, replace

from compliance.errors import UsageError
from compliance.ruleset import DisabledRule, RuleSet, SeverityOverride, Tuning
from compliance.rulespec import Severity


@dataclass(frozen=True)
class Override:
    rule_id: str
    severity: Severity
    reason: str
    origin: str


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

    @property
    def is_empty(self) -> bool:
        return not (self.domains or self.rules or self.skip or self.disabled or self.overrides)


def _did_you_mean(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def apply(ruleset: RuleSet, selection: Selection) -> RuleSet:
    """The rule set narrowed and re-graded by ``selection``; raises :class:`UsageError` listing
    every unknown name, contradiction, or an empty result."""
    if selection.is_empty and selection.config is None:
        return ruleset
    ids = [r.id for r in ruleset.rules]
    domains = sorted({r.domain for r in ruleset.rules})
    problems: list[str] = []

    def check_ids(names: Sequence[str], label: str) -> None:
        seen: set[str] = set()
        for name in names:
            if name not in ids:
                problems.append(f"{label} {name}: no such rule{_did_you_mean(name, ids)}")
            elif name in seen:
                problems.append(f"{label} {name}: given twice")
            seen.add(name)

    for name in selection.domains:
        if name not in domains:
            problems.append(
                f"--domain {name}: no loaded rule has this domain (domains: {', '.join(domains)})"
            )
    check_ids(selection.rules, "--rule")
    check_ids(selection.skip, "--skip-rule")
    where = selection.config or "config"
    check_ids([d.rule_id for d in selection.disabled], f"{where}: disabled rule")
    check_ids([o.rule_id for o in selection.overrides], f"{where}: severity override for")
    disabled_ids = {d.rule_id for d in selection.disabled}
    for override in selection.overrides:
        if override.rule_id in disabled_ids:
            problems.append(
                f"{where}: {override.rule_id} is both disabled and given a new severity"
            )
    if problems:
        raise UsageError(problems)

    chosen = set(selection.rules)
    wanted_domains = set(selection.domains)
    removed = set(selection.skip) | disabled_ids
    overrides = {o.rule_id: o for o in selection.overrides}
    rules = []
    for rule in ruleset.rules:
        if (chosen or wanted_domains) and not (rule.id in chosen or rule.domain in wanted_domains):
            continue
        if rule.id in removed:
            continue
        o = overrides.get(rule.id)
        if o is None:
            rules.append(rule)
            continue
        change = SeverityOverride(original=rule.severity, reason=o.reason, origin=o.origin)
        rules.append(replace(rule, severity=o.severity, override=change))
    if not rules:
        raise UsageError(
            "no rule is left to run after selection (a review without rules would pass "
            "everything); check --domain, --rule, --skip-rule and the disabled rules"
        )
    tuning = Tuning(
        loaded=len(ruleset.rules),
        config=selection.config,
        domains=tuple(selection.domains),
        rules=tuple(selection.rules),
        skipped=tuple(selection.skip),
        disabled=tuple(selection.disabled),
    )
    return replace(ruleset, rules=tuple(rules), tuning=tuning)
