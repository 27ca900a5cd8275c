"""Loaded rules: what the evaluators and reports work with once rule files have been validated."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from compliance.proposal.model import Proposal
from compliance.rules.conditions import Condition, referenced_paths
from compliance.rules.spec import Severity

Binding = Literal["required", "good_practice"]
ExampleKind = Literal["fires", "passes", "needs_information"]

KNOWN_DOMAINS: dict[str, str] = {
    "accountability": "Accountability",
    "transparency": "Transparency",
    "data_sharing": "Data sharing and data protection",
    "human_rights": "Human-rights safeguards",
    "humanitarian_principles": "Humanitarian principles and civil-military separation",
    "financial_integrity": "Financial integrity and counter-terrorism financing",
    "civilian_harm": "Civilian harm and protection",
    "local_ownership": "Local ownership and community engagement",
    "monitoring": "Monitoring, evaluation and review",
}


@dataclass(frozen=True)
class Reference:
    instrument: str
    provision: str
    url: str
    binding: Binding
    binds_when: Condition | None = None
    """When a required source binds this proposal's actors; otherwise it is good practice."""

    def to_dict(self, binding: Binding | None = None) -> dict[str, str]:
        return {
            "instrument": self.instrument,
            "provision": self.provision,
            "url": self.url,
            "binding": binding or self.binding,
        }


@dataclass(frozen=True)
class Escalation:
    """A higher severity for a finding of the rule where ``when`` is true (see
    :mod:`compliance.rules.escalation`)."""

    severity: Severity
    when: Condition
    reason: str


@dataclass(frozen=True)
class SeverityOverride:
    """A project's decision to judge a rule at another severity, and why."""

    original: Severity
    reason: str
    origin: str
    """Where the override was set: the config file."""


class Example:
    """A rule's example: a proposal and what the rule must conclude on it. ``proposal`` may be
    given as a function that makes it, called on first use (a rule set read from the rule-set
    cache validates its examples' proposals only when they are used)."""

    __slots__ = ("_proposal", "evidence", "kind", "note", "severity")

    def __init__(
        self,
        kind: ExampleKind,
        note: str,
        proposal: Proposal | Callable[[], Proposal],
        evidence: tuple[str, ...] | None = None,
        severity: Severity | None = None,
    ) -> None:
        self.kind = kind
        self.note = note
        self._proposal = proposal
        self.evidence = evidence
        self.severity = severity
        """The finding's severity the example expects (after escalation), if it says."""

    @property
    def proposal(self) -> Proposal:
        if not isinstance(self._proposal, Proposal):
            self._proposal = self._proposal()
        return self._proposal

    def _compared(self) -> tuple[object, ...]:
        return (self.kind, self.note, self.proposal, self.evidence, self.severity)

    def __eq__(self, other: object) -> bool:
        if type(other) is not Example:
            return NotImplemented
        return self._compared() == other._compared()

    __hash__ = None  # type: ignore[assignment]  # a proposal is not hashable

    def __repr__(self) -> str:
        return f"Example(kind={self.kind!r}, note={self.note!r}, proposal={self.proposal!r})"


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    domain: str
    severity: Severity
    violated_when: Condition
    message: str
    remediation: str
    references: tuple[Reference, ...]
    source: str
    """The rule file, relative to its rule directory."""
    applies_when: Condition | None = None
    for_each: str | None = None
    when_unanswered: Literal["needs_information", "ignore"] = "needs_information"
    requires: tuple[str, ...] = ()
    """Facts the rule cannot conclude without: while one is unanswered the rule asks for it."""
    examples: tuple[Example, ...] = ()
    override: SeverityOverride | None = None
    """Set when the project changed this rule's severity (``severity`` is then the new one)."""
    covers: tuple[str, ...] = ()
    """Ids of the framework requirements the rule checks (see :class:`Framework`)."""
    escalations: tuple[Escalation, ...] = ()
    """Higher severities where their condition holds, in ascending order of severity."""
    effective_from: dt.date | None = None
    """The first day the rule is in force (None: since always)."""
    effective_until: dt.date | None = None
    """The last day the rule is in force, that day included (None: until further notice)."""

    def in_force(self, day: dt.date) -> bool:
        """Whether the rule is in force on ``day``: on or after its first day, on or before
        its last."""
        return (self.effective_from is None or self.effective_from <= day) and (
            self.effective_until is None or day <= self.effective_until
        )

    @property
    def fields(self) -> list[str]:
        """Every field the rule reads, applicability first."""
        seen: dict[str, None] = {}
        if self.for_each:
            seen[self.for_each] = None
        for cond in (self.applies_when, self.violated_when):
            if cond is not None:
                for path in referenced_paths(cond):
                    seen.setdefault(path, None)
        for path in self.requires:
            seen.setdefault(path, None)
        return list(seen)


@dataclass(frozen=True)
class Requirement:
    """One operative requirement of a framework, from a rule directory's catalogue."""

    id: str
    provision: str
    summary: str
    out_of_scope: str | None = None
    """Why a proposal review cannot check it; None when rules are expected to."""


@dataclass(frozen=True)
class Framework:
    """A framework the rules rest on, with its operative requirements (``frameworks.yaml``)."""

    id: str
    title: str
    instrument: str
    requirements: tuple[Requirement, ...]
    source: str
    """The catalogue file, as shown in messages."""
    url: str | None = None


@dataclass(frozen=True)
class RuleSource:
    """One rule directory that was loaded: its identity and content hash."""

    name: str
    version: str
    hash: str
    rule_count: int
    released: dt.date | None = None
    """The release date its manifest gives."""

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "version": self.version,
            "hash": self.hash,
            "rule_count": self.rule_count,
            "released": self.released.isoformat() if self.released is not None else None,
        }


@dataclass(frozen=True)
class DisabledRule:
    rule_id: str
    reason: str
    origin: str


@dataclass(frozen=True)
class NotInForce:
    """A loaded rule skipped because it is not in force on the judgment day."""

    rule_id: str
    title: str
    effective_from: dt.date | None
    effective_until: dt.date | None
    reason: Literal["not_yet_in_force", "no_longer_in_force"]


def effective_text(start: dt.date | None, until: dt.date | None) -> str:
    """A rule's dates as people read them: ``from 2026-03-01 until 2026-12-31`` (both days in
    force), ``from ...``, ``until ...``, or nothing for a rule without dates."""
    parts = ([f"from {start}"] if start else []) + ([f"until {until}"] if until else [])
    return " ".join(parts)


def not_in_force_text(rule: NotInForce) -> str:
    """``R-1: no longer in force (until 2025-12-31)``."""
    why = rule.reason.replace("_", " ")
    return f"{rule.rule_id}: {why} ({effective_text(rule.effective_from, rule.effective_until)})"


@dataclass(frozen=True)
class Tuning:
    """How a project narrowed or adjusted the loaded rules (see :mod:`compliance.rules.tuning`)."""

    loaded: int
    """How many rules were loaded before selection."""
    config: str | None = None
    builtin: bool = True
    """False when the built-in rules were not loaded."""
    domains: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    disabled: tuple[DisabledRule, ...] = ()


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    sources: tuple[RuleSource, ...]
    hash: str
    """sha256 over the canonical content of every loaded rule, in load order."""
    domain_titles: dict[str, str] = field(default_factory=dict)
    tuning: Tuning | None = None
    """Set when rules were selected, disabled or re-graded; every report records it."""
    frameworks: tuple[Framework, ...] = ()
    """The framework catalogues of the loaded rule directories, in load order."""
    as_of: dt.date | None = None
    """The judgment day the rules were chosen for (see :func:`compliance.rules.tuning.in_force`):
    ``rules`` are those in force on it. None for a rule set as loaded."""
    not_in_force: tuple[NotInForce, ...] = ()
    """The rules skipped because they are not in force on ``as_of``."""

    @property
    def name(self) -> str:
        return "+".join(s.name for s in self.sources)

    @property
    def version(self) -> str:
        return "+".join(s.version for s in self.sources)

    def domain_title(self, domain: str) -> str:
        return (
            self.domain_titles.get(domain)
            or KNOWN_DOMAINS.get(domain)
            or (domain.replace("_", " ").capitalize())
        )

    def identity(self) -> dict[str, object]:
        return {
            "name": self.name,
            "version": self.version,
            "hash": self.hash,
            "rule_count": len(self.rules),
            "sources": [s.to_dict() for s in self.sources],
        }
