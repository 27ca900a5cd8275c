"""Running every rule's own examples: the rule author's test suite, no Python needed.

Each example is judged by both engines (the durable_rules engine, cross-checked against the
reference evaluator, and the reference evaluator alone):

- ``fires``: the rule finds a violation; when the example names ``evidence``, the violation
  evidence paths are exactly those;
- ``passes``: the rule finds nothing: no violation and no missing information;
- ``needs_information``: the rule cannot decide and asks for information.
"""

from __future__ import annotations

from dataclasses import dataclass

from compliance.errors import ComplianceError
from compliance.evaluator import TV, Outcome
from compliance.review import ENGINES, Reviewer
from compliance.ruleset import Example, Rule, RuleSet

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


def check_example(rule: Rule, example: Example, outcomes: list[Outcome]) -> str | None:
    """Why ``example`` fails for ``rule`` given the reviewer's outcomes, or None if it holds."""
    mine = [o for o in outcomes if o.rule.id == rule.id]
    got = max((o.result for o in mine), default=TV.FALSE)
    want = EXPECTED[example.kind]
    if got is not want:
        names = {TV.TRUE: "a violation", TV.FALSE: "a pass", TV.UNKNOWN: "needs information"}
        detail = ""
        if got is TV.UNKNOWN:
            missing = sorted({p for o in mine for p in o.unanswered})
            detail = f" (unanswered: {', '.join(missing)})"
        return f"expected {names[want]}, got {names[got]}{detail}"
    if example.evidence is not None:
        paths = sorted({s.path for o in mine if o.result is TV.TRUE for s in o.violation})
        if paths != sorted(example.evidence):
            return f"expected evidence {sorted(example.evidence)}, got {paths}"
    return None


def run_examples(ruleset: RuleSet) -> list[ExampleResult]:
    """Judge every example of every rule with every engine; one result per example."""
    results: list[ExampleResult] = []
    reviewers = [Reviewer(ruleset, engine=engine) for engine in ENGINES]
    try:
        for rule in ruleset.rules:
            counters: dict[str, int] = {}
            for example in rule.examples:
                index = counters.get(example.kind, 0)
                counters[example.kind] = index + 1
                problems: list[str] = []
                for reviewer in reviewers:
                    try:
                        problem = check_example(rule, example, reviewer.outcomes(example.proposal))
                    except ComplianceError as exc:
                        problem = str(exc)
                    if problem:
                        problems.append(f"{reviewer.engine} engine: {problem}")
                results.append(ExampleResult(rule, example, index, "; ".join(problems) or None))
    finally:
        for reviewer in reviewers:
            reviewer.close()
    return results
