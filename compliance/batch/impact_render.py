"""The impact report as text, Markdown or JSON (see :mod:`compliance.batch.impact`).

Both readable forms say the same, in the same order: the two rule sets and how their rules
differ, the totals by decision change, each proposal that differs (its decisions and findings:
``+`` added, ``-`` removed, ``~`` changed), and each rule whose findings differ. Proposal ids and
file names come from the input: text shows their control characters escaped, Markdown escapes
what would make markup.
"""

from __future__ import annotations

from compliance.batch.impact_model import (
    FindingChange,
    FindingRef,
    ImpactReport,
    ProposalImpact,
    RuleImpact,
)
from compliance.reports.markdown import code, md
from compliance.reports.text import clean
from compliance.review.findings import Decision, RuleSetOut
from compliance.rules.ruleset import effective_text
from compliance.words import counted

FORMATS = ("text", "json", "markdown")


def render(fmt: str, report: ImpactReport) -> str:
    if fmt == "json":
        return report.model_dump_json(indent=2) + "\n"
    if fmt == "markdown":
        return markdown(report)
    return text(report)


def _decision(d: Decision) -> str:
    return d.value.replace("_", " ")


def _decisions(p: ProposalImpact) -> str:
    if p.decision_before is p.decision_after:
        return f"{_decision(p.decision_after)} (decision unchanged)"
    return f"{_decision(p.decision_before)} -> {_decision(p.decision_after)}"


def _outcome(outcome: str) -> str:
    return "violation" if outcome == "violation" else "needs information"


def _rule_set(r: RuleSetOut) -> str:
    return f"{r.name} {r.version}, {counted(r.rule_count, 'rule')}, {r.hash[:19]}"


def _ids(ids: list[str]) -> str:
    return ", ".join(ids) if ids else "none"


def _finding(f: FindingRef) -> str:
    item = f" {f.item}" if f.item else ""
    return f"{f.rule_id}{item}: {_outcome(f.outcome)}, {f.severity.value}"


def _change(c: FindingChange) -> str:
    item = f" {c.item}" if c.item else ""
    parts = []
    if c.outcome_before != c.outcome_after:
        parts.append(f"{_outcome(c.outcome_before)} -> {_outcome(c.outcome_after)}")
    if c.severity_before is not c.severity_after:
        parts.append(f"{c.severity_before.value} -> {c.severity_after.value}")
    return f"{c.rule_id}{item}: " + ", ".join(parts)


def _rule_line(r: RuleImpact) -> str:
    said = []
    for label, on in (
        ("newly fires on", r.newly_fires_on),
        ("stops firing on", r.stops_firing_on),
        ("fires differently on", r.changed_on),
    ):
        if on:
            said.append(f"{label} {len(on)}: {', '.join(on)}")
    return f"{r.rule_id} ({r.status}): " + ("; ".join(said) or "no proposal's findings change")


def _totals(report: ImpactReport) -> list[str]:
    s = report.summary
    return [
        f"{counted(s.proposals, 'proposal')} reviewed with both: "
        f"{s.decided_differently} decided differently, {s.findings_differ} with different "
        f"findings, {s.unchanged} unchanged"
    ]


def _log(report: ImpactReport) -> list[str]:
    """A line on the decision log replayed, if one was."""
    log = report.decision_log
    if log is None:
        return []
    return [
        f"Decision log: {counted(log.decisions, 'decision')} read, {log.replayed} replayed "
        f"({counted(log.proposals, 'proposal')}); {log.not_replayed()}"
    ]


def _changes_line(report: ImpactReport) -> str:
    c = report.rule_changes
    return (
        f"Rules in force on {report.in_force_on}: added {_ids(c.added)}; removed "
        f"{_ids(c.removed)}; changed {_ids(c.changed)}"
    )


def _skipped(report: ImpactReport) -> list[str]:
    """A line per rule set with rules not in force on the day compared."""
    lines = []
    for label, skipped in (
        ("baseline", report.not_in_force.baseline),
        ("current", report.not_in_force.current),
    ):
        if skipped:
            rules = ", ".join(
                f"{n.rule_id} ({effective_text(n.effective_from, n.effective_until)})"
                for n in skipped
            )
            lines.append(f"Not in force that day ({label}): {rules}")
    return lines


def text(report: ImpactReport) -> str:
    lines = [
        "Impact of the rule change",
        f"  baseline: {_rule_set(report.baseline)}",
        f"  current:  {_rule_set(report.current)}",
        _changes_line(report),
        *_skipped(report),
        *_totals(report),
        *_log(report),
        "",
        "Decisions (before -> after: proposals):",
    ]
    for d in report.summary.decisions:
        same = " (unchanged)" if d.before is d.after else ""
        lines.append(f"  {_decision(d.before)} -> {_decision(d.after)}: {d.proposals}{same}")
    if not report.summary.decisions:
        lines.append("  none")
    lines += ["", "Proposals that differ:"]
    for p in report.proposals:
        where = f" ({clean(p.source)})" if p.source else ""
        lines.append(f"  {clean(p.proposal_id)}{where}: {_decisions(p)}")
        lines += [f"    + {_finding(f)}" for f in p.added]
        lines += [f"    - {_finding(f)}" for f in p.removed]
        lines += [f"    ~ {_change(c)}" for c in p.changed]
    if not report.proposals:
        lines.append("  none")
    lines += ["", "Rules whose findings differ:"]
    lines += [f"  {clean(_rule_line(r))}" for r in report.rules]
    if not report.rules:
        lines.append("  none")
    return "\n".join(lines) + "\n"


def markdown(report: ImpactReport) -> str:
    c = report.rule_changes
    lines = [
        "# Impact of the rule change",
        "",
        f"- Baseline: {md(_rule_set(report.baseline))}",
        f"- Current: {md(_rule_set(report.current))}",
        f"- Rules in force on {report.in_force_on}: added {md(_ids(c.added))}; removed "
        f"{md(_ids(c.removed))}; changed {md(_ids(c.changed))}",
        *[f"- {md(line)}" for line in _skipped(report)],
        f"- {md(_totals(report)[0])}",
        *[f"- {md(line)}" for line in _log(report)],
        "",
        "## Decisions",
        "",
        "| Before | After | Proposals |",
        "| --- | --- | ---: |",
    ]
    for d in report.summary.decisions:
        same = " (unchanged)" if d.before is d.after else ""
        lines.append(f"| {_decision(d.before)} | {_decision(d.after)}{same} | {d.proposals} |")
    lines += ["", "## Proposals that differ", ""]
    for p in report.proposals:
        where = f" ({md(p.source)})" if p.source else ""
        lines += [
            f"### {md(p.proposal_id)}{where}",
            "",
            f"Decision: {_decisions(p)}",
            "",
        ]
        lines += [f"- Added: {code(_finding(f))}" for f in p.added]
        lines += [f"- Removed: {code(_finding(f))}" for f in p.removed]
        lines += [f"- Changed: {code(_change(x))}" for x in p.changed]
        if p.added or p.removed or p.changed:
            lines.append("")
    if not report.proposals:
        lines += ["None.", ""]
    lines += ["## Rules whose findings differ", ""]
    if report.rules:
        lines += [
            "| Rule | Definition | Newly fires on | Stops firing on | Fires differently on |",
            "| --- | --- | --- | --- | --- |",
        ]
        for r in report.rules:
            cells = [
                md(", ".join(on)) if on else "none"
                for on in (r.newly_fires_on, r.stops_firing_on, r.changed_on)
            ]
            lines.append(f"| {r.rule_id} | {r.status} | " + " | ".join(cells) + " |")
    else:
        lines.append("None.")
    return "\n".join(lines) + "\n"
