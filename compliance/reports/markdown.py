"""The Markdown report: a reviewer's memo to paste into a ticket or a pull request.

The run first, then a table of decisions, then, per proposal, the findings grouped by domain
(worst first) with evidence, fix and sources, and the questions left to answer. It reads the same
on GitHub, GitLab and in a plain-text viewer.

Text from the input (titles, messages that quote answers, values, file names) is escaped, so a
proposal cannot add headings, lists, quotes, links, images, HTML or table cells to the memo, nor
break out of a code span.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from compliance.reports.text import (
    BINDING,
    STATUS_TEXT,
    clean,
    counts_text,
    grouped,
    thresholds_text,
    value_text,
    waiver_text,
)
from compliance.review.findings import Evidence, Finding, Report, Review
from compliance.review.redact import redaction_line
from compliance.rules.ruleset import effective_text
from compliance.rules.spec import Severity
from compliance.words import counted

_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&#])")
# What opens a block when it starts a line or a list item's text: a list marker (``-``, ``+``,
# ``1.``, ``1)``), a thematic break or setext underline (``---``, ``===``); ``#``, ``>``, ``*``,
# ``_``, ``<`` and code fences are escaped wherever they stand.
_BLOCK_START = re.compile(r"^(?:([-+=])|(\d{1,9})([.)]))")
_TICKS = re.compile(r"`+")
_SEVERITIES = list(Severity)
_DECISION = {
    "approve": "approve",
    "approve_with_conditions": "approve with conditions",
    "needs_information": "needs information",
    "reject": "reject",
}


def md(text: str) -> str:
    """``text`` as literal inline Markdown on one line: the characters that make headings, links,
    images, HTML, emphasis, code or table cells are escaped, and so is what would open a list or a
    thematic break at the start (input starts the text of list items), so it reads the same
    wherever it stands."""
    flat = _SPECIAL.sub(r"\\\1", " ".join(clean(text).split()))
    return _BLOCK_START.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", flat)


def code(text: str) -> str:
    """``text`` as a code span that no backtick inside it can close early (CommonMark: fence it
    with one more backtick than its longest run)."""
    flat = " ".join(clean(text).split()).replace("|", "\\|")
    fence = "`" * (max((len(m) for m in _TICKS.findall(flat)), default=0) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def _where(e: Evidence) -> str:
    return f" ({md(str(e.location))})" if e.location is not None else ""


def _finding(f: Finding) -> list[str]:
    kind = "violation" if f.outcome == "violation" else "needs information"
    if f.waived:
        kind += ", waived"
    lines = [f"- **{f.severity.value.upper()} · {f.rule_id}: {md(f.title)}** ({kind})"]
    if f.subject:
        lines.append(f"  - Item: {code(f.subject)}")
    lines.append(f"  - {md(f.message)}")
    for e in f.evidence:
        role = "" if e.role == "violation" else f" ({e.role})"
        lines.append(f"  - Evidence{role}: {code(e.path)} = {code(value_text(e))}{_where(e)}")
    if f.severity_override is not None:
        o = f.severity_override
        lines.append(
            f"  - Graded {f.severity.value} by {md(o.origin)} (rule default "
            f"{o.original_severity.value}): {md(o.reason)}"
        )
    if f.escalation is not None:
        raised = f.escalation
        lines.append(
            f"  - Escalated to {f.severity.value} (rule severity "
            f"{raised.base_severity.value}): {md(raised.reason)}"
        )
    if f.waiver is not None:
        label = "Waived" if f.waiver.status == "applied" else "Waiver expired"
        lines.append(f"  - {label}: {md(waiver_text(f.waiver))}")
    lines.append(f"  - Fix: {md(f.remediation)}")
    for r in f.references:
        url = r.url.replace("(", "%28").replace(")", "%29")  # a bare ( or ) ends a link early
        link = f"[{md(r.instrument)}, {md(r.provision)}]({url})"
        lines.append(f"  - Source: {BINDING[r.binding]} {link}")
    return lines


def _review(review: Review, domain_title: Callable[[str], str]) -> list[str]:
    lines = [
        f"## {code(review.proposal_id)}: {md(review.title)}",
        "",
        f"**Decision: {_DECISION[review.decision.value]}**. Findings: {counts_text(review)}.",
    ]
    if review.source:
        lines[-1] += f" Source: {md(review.source)}."
    for domain, findings in grouped(review):
        lines += ["", f"### {md(domain_title(domain))}", ""]
        for f in findings:
            lines += _finding(f)
    if review.unanswered:
        lines += ["", "### Questions to answer", ""]
        for u in review.unanswered:
            where = f" ({md(str(u.location))})" if u.location is not None else ""
            lines.append(
                f"- {code(u.path)}: {md(u.question)}{where}; needed by {', '.join(u.rules)}"
            )
    return lines


def render_markdown(report: Report, domain_title: Callable[[str], str]) -> str:
    rs = report.rule_set
    summary = ", ".join(
        f"{n} {_DECISION[d.value]}" for d, n in report.summary.decisions.items() if n
    )
    lines = [
        "# Compliance review",
        "",
        f"{report.summary.proposals} proposal{'s' if report.summary.proposals != 1 else ''}: "
        f"{summary}. compliance {report.tool_version}, rules {rs.name} {rs.version} "
        f"({counted(rs.rule_count, 'rule')}, `{rs.hash[:19]}`), engine {report.engine}, threshold "
        f"{md(thresholds_text(report))}.",
    ]
    if report.redaction is not None:
        lines += ["", f"> {md(redaction_line(report.redaction))}."]
    if report.as_of is not None and report.rules_not_in_force:
        lines += ["", f"Judged as of {report.as_of}: the rules in force that day ran."]
        for n in report.rules_not_in_force:
            dates = effective_text(n.effective_from, n.effective_until)
            lines.append(
                f"- Not run: {n.rule_id} {md(n.title)}: {n.reason.replace('_', ' ')} ({dates})."
            )
    sel = report.selection
    if sel is not None and sel.rules_run + len(report.rules_not_in_force) != sel.rules_loaded:
        lines += [
            "",
            f"> Only {sel.rules_run} of {sel.rules_loaded} rules ran: the decisions cover those "
            "rules alone.",
        ]
    head = "| Proposal | Decision | " + " | ".join(s.value for s in _SEVERITIES)
    lines += [
        "",
        head + " | Needs information | Waived |",
        "| --- | --- |" + " ---: |" * (len(_SEVERITIES) + 2),
    ]
    for review in report.reviews:
        counts = " | ".join(str(review.counts.violations[s]) for s in _SEVERITIES)
        asked = sum(review.counts.needs_information.values())
        waived = sum(review.counts.waived.values())
        lines.append(
            f"| {code(review.proposal_id)} | {_DECISION[review.decision.value]} | {counts} | "
            f"{asked} | {waived} |"
        )
    if report.waivers is not None:
        w = report.waivers
        lines += [
            "",
            f"Waivers from {md(w.file)}, judged as of {w.as_of}:",
            "",
            "| Waiver | Rule | Proposal | Approved by | Expires | Status | Findings |",
            "| --- | --- | --- | --- | --- | --- | ---: |",
        ]
        for u in w.waivers:
            lines.append(
                f"| {code(u.id)} | {u.rule_id} | {code(u.proposal_id)} | {md(u.approved_by)} | "
                f"{u.expires} | {STATUS_TEXT[u.status]} | {u.findings} |"
            )
    for review in report.reviews:
        lines += ["", *_review(review, domain_title)]
    return "\n".join(lines) + "\n"
