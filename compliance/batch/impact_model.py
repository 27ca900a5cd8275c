"""The JSON form of ``compliance rules impact``: a public contract, like the review report.

These models are the source of ``docs/impact.schema.json`` (written by ``compliance docs``). A
change to their shape changes :data:`IMPACT_VERSION`: the minor number for additions, the major
for anything a consumer could trip over.

A finding is identified by its rule id and the list item it judges (``item``: a ``for_each``
rule's subject, such as ``security_units[0]``; null for a rule about the whole proposal). Only
proposals whose decision or findings differ are listed; the others are counted.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import ConfigDict, Field

from compliance.review.findings import Decision, RuleNotInForceOut, RuleSetOut, _Out
from compliance.rules.spec import Severity

IMPACT_VERSION = "1.1"

FindingOutcome = Literal["violation", "needs_information"]
RuleStatus = Literal["added", "removed", "changed", "unchanged"]


class FindingRef(_Out):
    """A finding, as the comparison identifies and grades it."""

    rule_id: str
    item: str | None = Field(
        description="The list item a for_each rule judged (security_units[0]); null for a rule "
        "about the whole proposal."
    )
    outcome: FindingOutcome
    severity: Severity


class FindingChange(_Out):
    """A finding made by both rule sets, graded differently."""

    rule_id: str
    item: str | None
    outcome_before: FindingOutcome
    outcome_after: FindingOutcome
    severity_before: Severity
    severity_after: Severity


class ProposalImpact(_Out):
    """One proposal whose decision or findings differ between the baseline and the current
    rules."""

    proposal_id: str = Field(
        description="The proposal's id; for a proposal replayed from a decision log, the id of "
        "the decision that reviewed it (with #1, #2, ... after it when the decision reviewed "
        "several)."
    )
    source: str | None = Field(
        description="The input file the proposal came from; for a proposal replayed from a "
        "decision log, the proposal's own id."
    )
    decision_before: Decision = Field(description="The decision under the baseline rules.")
    decision_after: Decision = Field(description="The decision under the current rules.")
    added: list[FindingRef] = Field(description="Findings only the current rules make.")
    removed: list[FindingRef] = Field(description="Findings only the baseline rules made.")
    changed: list[FindingChange] = Field(
        description="Findings of both, with another severity or outcome."
    )


class RuleImpact(_Out):
    """One rule whose definition or findings differ between the two rule sets."""

    rule_id: str
    status: RuleStatus = Field(
        description="The rule's definition: only in the current rules (added), only in the "
        "baseline (removed), in both but different (changed), or the same in both."
    )
    newly_fires: int = Field(description="Proposals it makes findings on now and did not before.")
    stops_firing: int = Field(description="Proposals it made findings on before and does not now.")
    changed: int = Field(
        description="Proposals it makes findings on under both, with different findings (another "
        "severity, outcome or item)."
    )
    newly_fires_on: list[str] = Field(description="Their proposal ids, in input order.")
    stops_firing_on: list[str] = Field(description="Their proposal ids, in input order.")
    changed_on: list[str] = Field(description="Their proposal ids, in input order.")


class RuleChanges(_Out):
    """How the two rule sets differ, rule by rule (ids, sorted)."""

    added: list[str] = Field(description="Rules only in the current rule set.")
    removed: list[str] = Field(description="Rules only in the baseline.")
    changed: list[str] = Field(
        description="Rules in both whose definition differs (anything but their examples)."
    )


class NotInForce(_Out):
    """The loaded rules of each rule set that did not run: not in force on ``in_force_on``."""

    baseline: list[RuleNotInForceOut]
    current: list[RuleNotInForceOut]


class DecisionChange(_Out):
    before: Decision
    after: Decision
    proposals: int


class ImpactSummary(_Out):
    proposals: int = Field(description="Proposals reviewed with both rule sets.")
    decided_differently: int = Field(description="Proposals whose decision changes.")
    findings_differ: int = Field(description="Proposals whose findings differ.")
    unchanged: int = Field(description="Proposals with the same decision and findings.")
    decisions: list[DecisionChange] = Field(
        description="Every pair of decisions (before, after) with its number of proposals, "
        "the same decision included, in the order of the decisions."
    )


class LogReplay(_Out):
    """The decisions of a decision log replayed (``--decision-log``)."""

    decisions: int = Field(description="Decisions read from the log.")
    replayed: int = Field(description="Decisions whose stored proposals were compared.")
    proposals: int = Field(description="The proposals of those decisions, compared.")
    without_proposals: int = Field(
        description="Decisions with no stored proposal (the service did not keep them then): "
        "not compared."
    )

    def not_replayed(self) -> str:
        """``N decisions have no stored proposal``, as the reports say it."""
        n = self.without_proposals
        return f"{n} decision{' has' if n == 1 else 's have'} no stored proposal"


class ImpactReport(_Out):
    """The JSON report of ``compliance rules impact --format json``."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="compliance rule impact report",
        json_schema_extra={
            "$comment": "Generated from the code (compliance docs); do not edit by hand."
        },
    )

    impact_version: str = Field(description=f"Version of this contract ({IMPACT_VERSION}).")
    tool_version: str
    engine: Literal["durable", "reference"]
    baseline: RuleSetOut = Field(description="The rule set before the change.")
    current: RuleSetOut = Field(
        description="The rule set a review runs now (after the config's selection and tuning)."
    )
    in_force_on: date | None = Field(
        description="The day whose rules in force were compared (both rule sets): the judgment "
        "day, or a later day given with --in-force-on."
    )
    not_in_force: NotInForce
    threshold: Severity = Field(description="Gate threshold, the same for both rule sets.")
    domain_thresholds: dict[str, Severity] = Field(default_factory=dict)
    rule_changes: RuleChanges
    summary: ImpactSummary
    proposals: list[ProposalImpact] = Field(
        description="The proposals whose decision or findings differ, in input order."
    )
    rules: list[RuleImpact] = Field(
        description="The rules whose definition or findings differ, by rule id."
    )
    decision_log: LogReplay | None = Field(
        None,
        description="The decision log replayed, after the proposals of the paths given (1.1); "
        "null without --decision-log.",
    )


def impact_schema() -> dict[str, Any]:
    """JSON Schema of the impact report."""
    body = ImpactReport.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **body}
