"""Findings, reviews and the JSON report: a public, versioned contract.

These pydantic models are the contract's single source of truth: the CLI serialises them, and
``docs/report.schema.json`` is generated from them (a test fails when it is stale). Any change to
their shape changes ``REPORT_VERSION``: the minor number for additions, the major for anything a
consumer could trip over (a removed or renamed field, a changed meaning).
"""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from compliance.proposal.sourcemap import Location
from compliance.rules.spec import Severity

REPORT_VERSION = "1.5"


class Decision(str, Enum):
    approve = "approve"
    approve_with_conditions = "approve_with_conditions"
    needs_information = "needs_information"
    reject = "reject"


_M = TypeVar("_M", bound="_Out")


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def made(cls: type[_M], **fields: Any) -> _M:
        """An instance of values the review made itself, already of their fields' types, not
        validated again.

        Every field is given, defaults too, so the instance equals and serialises exactly as the
        validated one would. Unlike ``model_construct`` (which is slower than validating these
        small models) it fills in nothing: a missing or unknown field is a ``TypeError``. On
        pydantic 2.14 it saves little (measured with ``timeit``: a ``Finding`` 3.2 µs against
        4.3 µs validated, an ``Evidence`` 1.8 µs against 1.6 µs)."""
        if fields.keys() != cls.__pydantic_fields__.keys():
            missing = sorted(cls.__pydantic_fields__.keys() - fields.keys())
            unknown = sorted(fields.keys() - cls.__pydantic_fields__.keys())
            raise TypeError(f"{cls.__name__}.made: missing {missing}, unknown {unknown}")
        made = cls.__new__(cls)
        object.__setattr__(made, "__dict__", fields)
        object.__setattr__(made, "__pydantic_fields_set__", set(fields))
        object.__setattr__(made, "__pydantic_extra__", None)
        object.__setattr__(made, "__pydantic_private__", None)
        return made


class Evidence(_Out):
    path: str = Field(description="Concrete field path, e.g. data_sharing.flows[1].lawful_basis.")
    value: Any = Field(description="The value seen; null when the field is not answered.")
    role: Literal["violation", "context", "unanswered"] = Field(
        description="violation: the answer that breaks the rule; context: an answer that made "
        "the rule apply; unanswered: a question whose answer the rule needs."
    )
    location: Location | None = Field(
        None, description="Where the answer is in the input (null when reviewed as a library)."
    )


class ReferenceOut(_Out):
    instrument: str
    provision: str
    url: str
    binding: Literal["required", "good_practice"] = Field(
        description="required: the source binds (law, binding policy); good_practice: it does not."
    )


class SeverityChange(_Out):
    original_severity: Severity = Field(description="The severity the rule file gives.")
    reason: str = Field(description="Why the project judges the rule at another severity.")
    origin: str = Field(description="Where the override is set (the config file).")


class EscalationOut(_Out):
    """Why a finding is graded above its rule's severity: an escalation of the rule held."""

    base_severity: Severity = Field(
        description="The rule's severity before escalation (the project's, if it re-graded it)."
    )
    reason: str = Field(description="What made the finding worse, as the rule says it.")


class WaiverOnFinding(_Out):
    """The waiver that matched a finding. ``applied``: the risk is accepted until ``expires`` and
    the finding does not block. ``expired``: the waiver ran out, and the finding is open again."""

    id: str
    status: Literal["applied", "expired"]
    justification: str
    approved_by: str
    approved_on: date
    expires: date = Field(description="The last day the waiver is in force.")
    origin: str = Field(description="The waivers file that holds it.")
    superseded: list[str] = Field(
        default_factory=list,
        description="Other waivers that matched this finding and gave way to this one (less "
        "specific, or expired earlier).",
    )


class Finding(_Out):
    rule_id: str
    outcome: Literal["violation", "needs_information"]
    domain: str
    severity: Severity
    title: str
    message: str
    subject: str | None = Field(
        None, description="The list item judged by a for_each rule, e.g. security_units[0]."
    )
    evidence: list[Evidence]
    remediation: str
    references: list[ReferenceOut]
    severity_override: SeverityChange | None = Field(
        None, description="Set when the project re-graded this rule; severity is the new one."
    )
    escalation: EscalationOut | None = Field(
        None,
        description="Set when an escalation of the rule raised this finding's severity above "
        "the rule's; severity is the raised one.",
    )
    waived: bool = Field(
        False,
        description="True when a waiver in force accepts this finding: it is shown, but it "
        "does not block (it makes an approval conditional).",
    )
    waiver: WaiverOnFinding | None = Field(
        None, description="The waiver that matched this finding, applied or expired."
    )


class UnansweredField(_Out):
    path: str
    question: str
    rules: list[str] = Field(description="Ids of the rules that need the answer.")
    location: Location | None = None


class Counts(_Out):
    """Open findings by outcome and severity; waived findings are counted apart."""

    violations: dict[Severity, int]
    needs_information: dict[Severity, int]
    waived: dict[Severity, int] = Field(
        default_factory=lambda: dict.fromkeys(Severity, 0),
        description="Findings a waiver in force accepts (not in the two counts above).",
    )


class Review(_Out):
    proposal_id: str
    title: str
    source: str | None = Field(None, description="The input file the proposal came from.")
    decision: Decision
    counts: Counts
    findings: list[Finding]
    unanswered: list[UnansweredField]
    item_names: dict[str, str] = Field(
        default_factory=dict,
        description="The name of each list item the findings judge (subject) or the questions "
        "are about, by its path: the answer of the item's first text field, e.g. "
        '{"data_sharing.flows[1]": "Ministry of Home Affairs"} (a data flow by its recipient). '
        "Items whose name is not answered are left out (since 1.5).",
    )


class RuleSourceOut(_Out):
    name: str
    version: str
    hash: str
    rule_count: int
    released: date | None = Field(
        None, description="The release date its manifest gives (since 1.4); null if none."
    )


class RuleSetOut(_Out):
    name: str
    version: str
    hash: str = Field(description="sha256 over the canonical content of every rule loaded.")
    rule_count: int
    sources: list[RuleSourceOut]


class DisabledRuleOut(_Out):
    rule_id: str
    reason: str
    origin: str


class SeverityOverrideOut(SeverityChange):
    rule_id: str
    severity: Severity = Field(description="The severity the rule is judged at.")


class SelectionOut(_Out):
    """Which of the loaded rules ran, and how the project tuned them. A narrowed selection means
    the decision covers only the rules that ran."""

    config: str | None = Field(None, description="The project config file used, if any.")
    builtin_rules: bool = Field(
        description="False when the config turned the built-in rules off: only its own ran."
    )
    rules_loaded: int
    rules_run: int
    domains: list[str] = Field(description="--domain choices (empty: every domain).")
    rules: list[str] = Field(description="--rule choices (empty: every rule).")
    skipped: list[str] = Field(description="--skip-rule choices.")
    disabled: list[DisabledRuleOut]
    severity_overrides: list[SeverityOverrideOut]


class RuleNotInForceOut(_Out):
    """A loaded rule that did not run: it is not in force on the judgment day (``as_of``)."""

    rule_id: str
    title: str
    effective_from: date | None = Field(description="The first day the rule is in force.")
    effective_until: date | None = Field(
        description="The last day the rule is in force, that day included."
    )
    reason: Literal["not_yet_in_force", "no_longer_in_force"] = Field(
        description="not_yet_in_force: as_of is before effective_from; no_longer_in_force: "
        "as_of is after effective_until."
    )


WaiverStatus = Literal[
    "applied", "expired", "superseded", "unused", "proposal_not_reviewed", "rule_not_run"
]


class WaiverUse(_Out):
    """What one waiver did in this run."""

    id: str
    rule_id: str
    proposal_id: str
    path: str | None = Field(description="The field path it is limited to (null: any).")
    approved_by: str
    approved_on: date
    expires: date
    status: WaiverStatus = Field(
        description="applied: it accepted findings; expired: it matched findings but ran out, "
        "so they are open; superseded: it matched findings that a more specific waiver accepted; "
        "unused: its proposal was reviewed but no finding matched; "
        "proposal_not_reviewed / rule_not_run: this run could not use it."
    )
    findings: int = Field(description="How many findings it matched.")


class WaiversOut(_Out):
    file: str
    sha256: str = Field(description="sha256 of the waivers file's bytes.")
    as_of: date = Field(description="The day expiry was judged against.")
    allow_blockers: bool = Field(description="Whether the config lets blockers be waived.")
    waivers: list[WaiverUse]


class RedactionOut(_Out):
    """How a redacted report (``--redact PROFILE``) hides the proposals' free text."""

    profile: str = Field(description="The redaction profile (default: every free-text field).")
    fields: list[str] = Field(
        description="The free-text fields whose answers are placeholders such as [party 2]; "
        "the same answer has the same placeholder throughout the report."
    )
    source_kept: bool = Field(
        description="False when input names are placeholders ([source 1]) too."
    )


class Summary(_Out):
    proposals: int
    decisions: dict[Decision, int]


class Report(_Out):
    """The JSON report of ``compliance review --format json``."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="compliance review report",
        json_schema_extra={
            "$comment": "Generated from the code (compliance docs); do not edit by hand."
        },
    )

    report_version: str = Field(description=f"Version of this contract ({REPORT_VERSION}).")
    tool_version: str
    engine: Literal["durable", "reference"]
    rule_set: RuleSetOut
    threshold: Severity = Field(description="Gate threshold: findings at or above it block.")
    domain_thresholds: dict[str, Severity] = Field(
        default_factory=dict,
        description="Thresholds set for single domains; the others use threshold.",
    )
    selection: SelectionOut | None = Field(
        None, description="Present when rules were selected, disabled or re-graded."
    )
    as_of: date | None = Field(
        None,
        description="The judgment day (since 1.4): the rules in force on it ran, and waiver "
        "expiry was judged against it; today (UTC) or --as-of. Null only for a library review "
        "of a rule set not chosen for a day.",
    )
    rules_not_in_force: list[RuleNotInForceOut] = Field(
        default_factory=list,
        description="Loaded rules that did not run because they are not in force on as_of "
        "(since 1.4).",
    )
    waivers: WaiversOut | None = Field(None, description="Present when a waivers file was used.")
    redaction: RedactionOut | None = Field(
        None,
        description="Present when the report is redacted (since 1.4): the proposals' free text "
        "is replaced by placeholders.",
    )
    summary: Summary
    reviews: list[Review]
