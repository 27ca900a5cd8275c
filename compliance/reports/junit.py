"""The JUnit XML report: one test case per rule per proposal, for CI systems that show test results.

Each proposal is a ``testsuite`` (named by its id, with the decision as a property); each rule that
ran is a ``testcase`` (``classname`` the proposal id and domain, ``name`` the rule id and title).
A rule's outcome maps onto JUnit as the gate sees it, with the thresholds of the run (a domain may
have its own):

- a violation at or above the threshold is a ``failure`` (it rejects the proposal);
- an unanswered fact that a rule at or above the threshold needs is an ``error`` (the rule could
  not be checked; the proposal needs information);
- anything below the threshold passes, with the finding in ``system-out`` (a condition of
  approval), and so does a waived finding, with its waiver;
- a rule that found nothing passes.

A for_each rule that fires on several items is one test case listing every item. The XML is
written by the standard library, which escapes all text from the input.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from compliance.reports.text import clean, value_text, waiver_text
from compliance.review.decision import Thresholds
from compliance.review.findings import Finding, Report, Review
from compliance.rules.ruleset import Rule


def _text(findings: Sequence[Finding]) -> str:
    parts = []
    for f in findings:
        lines = [f"[{f.severity.value}] {f.message}"]
        if f.subject:
            lines.append(f"item: {f.subject}")
        for e in f.evidence:
            where = f" ({e.location})" if e.location is not None else ""
            lines.append(f"evidence ({e.role}): {e.path} = {value_text(e)}{where}")
        if f.waiver is not None:
            lines.append(f"{'waived' if f.waived else 'waiver'}: {waiver_text(f.waiver)}")
        lines.append(f"fix: {f.remediation}")
        lines += [f"source: {r.instrument}, {r.provision} {r.url}" for r in f.references]
        parts.append(clean("\n".join(lines)).replace("\\u000a", "\n"))
    return "\n\n".join(parts)


def _suite(review: Review, rules: Sequence[Rule], report: Report) -> ET.Element:
    thresholds = Thresholds.of_report(report)
    by_rule: dict[str, list[Finding]] = {}
    for f in review.findings:
        by_rule.setdefault(f.rule_id, []).append(f)
    suite = ET.Element("testsuite", name=review.proposal_id)
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", name="title", value=clean(review.title))
    ET.SubElement(props, "property", name="decision", value=review.decision.value)
    if review.source:
        ET.SubElement(props, "property", name="source", value=clean(review.source))
    failures = errors = 0
    for rule in rules:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"{review.proposal_id}.{rule.domain}",
            name=f"{rule.id}: {rule.title}",
        )
        findings = by_rule.get(rule.id, [])
        if not findings:
            continue
        blocking = [f for f in findings if thresholds.blocks(f)]
        violations = [f for f in blocking if f.outcome == "violation"]
        if violations:
            failures += 1
            node = ET.SubElement(
                case, "failure", type=violations[0].severity.value, message=violations[0].title
            )
            node.text = _text(findings)
        elif blocking:
            errors += 1
            node = ET.SubElement(
                case,
                "error",
                type="needs_information",
                message="not enough information to check this rule",
            )
            node.text = _text(findings)
        else:
            ET.SubElement(case, "system-out").text = _text(findings)
    suite.set("tests", str(len(rules)))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("skipped", "0")
    return suite


def render_junit(report: Report, rules: Sequence[Rule]) -> str:
    """``rules``: the rules that ran (the rule set after selection and tuning)."""
    root = ET.Element("testsuites", name="compliance")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for review in report.reviews:
        suite = _suite(review, rules, report)
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
