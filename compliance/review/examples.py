"""Running every rule's own examples: the rule author's test suite, no Python needed.

Each example is judged by both engines (the durable_rules engine, cross-checked against the
reference evaluator, and the reference evaluator alone):

- ``fires``: the rule finds a violation; when the example names ``evidence``, the violation
  evidence paths are exactly those;
- ``passes``: the rule finds nothing: no violation and no missing information;
- ``needs_information``: the rule cannot decide and asks for information.

A ``fires`` or ``needs_information`` example may also name the ``severity`` its finding must
have, after escalation (the worst of the rule's findings, for a ``for_each`` rule).
"""

from __future__ import annotations

from dataclasses import dataclass

from compliance.errors import EngineError
from compliance.review.reviewer import ENGINES, Reviewer
from compliance.rules.reference import TV
from compliance.rules.ruleset import Example, Rule, RuleSet

EXPECTED: dict[str, TV] = {
    "fires": TV.TRUE,
    "passes": TV.FALSE,
    "needs_information": TV.UNKNOWN,
}


@dataclass(frozen=True)
class ExampleResult:
    rule: Rule
    example: Example
    index: int
    problem: str | None

    @property
    def label(self) -> str:
        return f"{self.rule.id} {self.example.kind}[{self.index}] ({self.example.note})"


def check_example(rule: Rule, example: Example, reviewer: Reviewer) -> str | None:
    """Why ``example`` fails for ``rule`` when ``reviewer`` reviews its proposal, or None if it
    holds.

    Every rule is evaluated (both engines, checked against each other) and the rule's findings
    are written as a review writes them, so a message or remediation that cannot be written
    fails too.
    """
    mine = reviewer.findings_of(example.proposal, rule.id)
    if any(f.outcome == "violation" for f in mine):
        got = TV.TRUE
    elif mine:
        got = TV.UNKNOWN
    else:
        got = TV.FALSE
    want = EXPECTED[example.kind]
    if got is not want:
        names = {TV.TRUE: "a violation", TV.FALSE: "a pass", TV.UNKNOWN: "needs information"}
        detail = ""
        if got is TV.UNKNOWN:
            missing = sorted({e.path for f in mine for e in f.evidence if e.role == "unanswered"})
            detail = f" (unanswered: {', '.join(missing)})"
        return f"expected {names[want]}, got {names[got]}{detail}"
    if example.evidence is not None:
        violations = [f for f in mine if f.outcome == "violation"]
        paths = sorted({e.path for f in violations for e in f.evidence if e.role == "violation"})
        if paths != sorted(example.evidence):
            return f"expected evidence {sorted(example.evidence)}, got {paths}"
    if example.severity is not None:
        judged = [f for f in mine if (f.outcome == "violation") == (got is TV.TRUE)]
        worst = max(judged, key=lambda f: f.severity.rank)
        if worst.severity is not example.severity:
            why = f" ({worst.escalation.reason})" if worst.escalation is not None else ""
            return f"expected severity {example.severity.value}, got {worst.severity.value}{why}"
    return None


def run_examples(ruleset: RuleSet) -> list[ExampleResult]:
    """Judge every example of every rule with every engine; one result per example.

    An engine that fails on one example is rebuilt for the next, so one bad example does not
    hide the others.
    """
    results: list[ExampleResult] = []
    reviewers = {engine: Reviewer(ruleset, engine=engine) for engine in ENGINES}
    try:
        for rule in ruleset.rules:
            counters: dict[str, int] = {}
            for example in rule.examples:
                index = counters.get(example.kind, 0)
                counters[example.kind] = index + 1
                problems: list[str] = []
                for engine in ENGINES:
                    try:
                        problem = check_example(rule, example, reviewers[engine])
                    except EngineError as exc:
                        problem = str(exc)
                        reviewers[engine].close()
                        reviewers[engine] = Reviewer(ruleset, engine=engine)
                    except Exception as exc:  # a rule that breaks the review fails its test
                        problem = f"the review failed: {type(exc).__name__}: {exc}"
                    if problem:
                        problems.append(f"{engine} engine: {problem}")
                results.append(ExampleResult(rule, example, index, "; ".join(problems) or None))
    finally:
        for reviewer in reviewers.values():
            reviewer.close()
    return results
