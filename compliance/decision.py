"""The decision policy: from findings and a threshold to a decision and an exit code.

With threshold T (default ``high``; ``--fail-on`` sets it):

1. ``reject`` if any violation has severity T or worse;
2. else ``needs_information`` if any rule of severity T or worse cannot be checked because a fact it
   needs is unanswered (the answer could reveal a blocking violation);
3. else ``approve_with_conditions`` if there is any other finding of severity ``low`` or worse
   (violations and open questions below the threshold become conditions of approval);
4. else ``approve``.

``info`` findings are reported but never change the decision, unless T itself is ``info``.
"""

from __future__ import annotations

from collections.abc import Iterable

from compliance.exitcodes import ExitCode
from compliance.findings import Decision, Finding
from compliance.rulespec import Severity

DEFAULT_THRESHOLD = Severity.high

EXIT_OF_DECISION: dict[Decision, ExitCode] = {
    Decision.approve: ExitCode.PASSED,
    Decision.approve_with_conditions: ExitCode.PASSED,
    Decision.needs_information: ExitCode.NEEDS_INFORMATION,
    Decision.reject: ExitCode.BLOCKED,
}


def decide(findings: Iterable[Finding], threshold: Severity = DEFAULT_THRESHOLD) -> Decision:
    blocking = False
    unknown = False
    conditions = False
    for finding in findings:
        rank = finding.severity.rank
        if rank >= threshold.rank:
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
