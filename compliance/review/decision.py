"""The decision policy: from findings and a threshold to a decision and an exit code.

With threshold T (default ``high``; ``--fail-on`` sets it):

1. ``reject`` if any violation has severity T or worse;
2. else ``needs_information`` if any rule of severity T or worse cannot be checked because a fact it
   needs is unanswered (the answer could reveal a blocking violation);
3. else ``approve_with_conditions`` if there is any other finding of severity ``low`` or worse
   (violations and open questions below the threshold become conditions of approval);
4. else ``approve``.

``info`` findings are reported but never change the decision, unless T itself is ``info``.

T may differ by domain (``--fail-on data_sharing=medium``): each finding is judged against its own
domain's threshold. A waived finding (a waiver in force accepts it) never blocks; at ``low`` or
worse it makes the approval conditional, as an accepted risk.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from compliance.exitcodes import ExitCode
from compliance.review.findings import Decision, Finding, Report
from compliance.rules.spec import Severity

DEFAULT_THRESHOLD = Severity.high

EXIT_OF_DECISION: dict[Decision, ExitCode] = {
    Decision.approve: ExitCode.PASSED,
    Decision.approve_with_conditions: ExitCode.PASSED,
    Decision.needs_information: ExitCode.NEEDS_INFORMATION,
    Decision.reject: ExitCode.BLOCKED,
}


@dataclass(frozen=True)
class Thresholds:
    """The gate threshold, and the domains that have their own."""

    default: Severity = DEFAULT_THRESHOLD
    domains: Mapping[str, Severity] = field(default_factory=dict)

    def of(self, domain: str) -> Severity:
        return self.domains.get(domain, self.default)

    @classmethod
    def of_report(cls, report: Report) -> Thresholds:
        return cls(report.threshold, dict(report.domain_thresholds))

    def blocks(self, finding: Finding) -> bool:
        """Whether the finding holds the proposal back: a violation rejects it, an open question
        leaves it needing information. Waived findings never do."""
        return not finding.waived and finding.severity.rank >= self.of(finding.domain).rank


def decide(
    findings: Iterable[Finding], threshold: Severity | Thresholds = DEFAULT_THRESHOLD
) -> Decision:
    thresholds = threshold if isinstance(threshold, Thresholds) else Thresholds(threshold)
    blocking = False
    unknown = False
    conditions = False
    for finding in findings:
        rank = finding.severity.rank
        if finding.waived:
            conditions = conditions or rank >= Severity.low.rank
        elif thresholds.blocks(finding):
            if finding.outcome == "violation":
                blocking = True
            else:
                unknown = True
        elif rank >= Severity.low.rank:
            conditions = True
    if blocking:
        return Decision.reject
    if unknown:
        return Decision.needs_information
    if conditions:
        return Decision.approve_with_conditions
    return Decision.approve


WORST_FIRST = (
    Decision.reject,
    Decision.needs_information,
    Decision.approve_with_conditions,
    Decision.approve,
)


def worst(decisions: Iterable[Decision]) -> Decision:
    """The decision of a batch as one word: the worst of its proposals' (reject for none)."""
    return min(decisions, key=WORST_FIRST.index, default=Decision.reject)


def exit_code(decisions: Iterable[Decision]) -> ExitCode:
    """The exit code of a batch: blocked beats needs information beats passed."""
    codes = [EXIT_OF_DECISION[d] for d in decisions]
    if ExitCode.BLOCKED in codes:
        return ExitCode.BLOCKED
    if ExitCode.NEEDS_INFORMATION in codes:
        return ExitCode.NEEDS_INFORMATION
    if not codes:
        return ExitCode.INVALID_INPUT
    return ExitCode.PASSED
