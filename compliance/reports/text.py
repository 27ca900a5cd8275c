"""The text report: what a reviewer at a terminal reads.

A batch's reviews come worst first (rejected, needing information, approved with conditions,
approved; in input order within each), after a count of its decisions. Per proposal: the decision
and one line per finding, worst first (:mod:`compliance.reports.summary`); then the findings in
detail, grouped by domain (the domain with the worst finding first), worst findings first within
a domain, each with what was seen, where, how to fix it and the source it rests on; then the
questions left to answer, which come before the details when the decision waits on them.

``brief``: each review's opening alone (up to its one-line findings) and the count of decisions.
``failing_only`` (``--quiet``): only the reviews that fail the gate (rejected or needing
information); nothing at all when none does.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Callable, Mapping
from functools import lru_cache

from compliance.reports.summary import (
    FAILING,
    ReviewSummary,
    counts_line,
    decision_counts,
    decision_rank,
    item_label,
    question_text,
    summarize,
    summary_lines,
)
from compliance.review.findings import (
    Evidence,
    Finding,
    Report,
    Review,
    SelectionOut,
    WaiverOnFinding,
    WaiversOut,
)
from compliance.review.redact import redaction_line
from compliance.rules.ruleset import effective_text
from compliance.rules.spec import Severity
from compliance.words import counted

WIDTH = 100
_SHOWN = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""What :func:`clean` escapes: control characters (Unicode category Cc is exactly U+0000-U+001F
and U+007F-U+009F) and bidirectional overrides."""


def clean(text: str) -> str:
    """Text from a proposal made safe for a terminal: control characters (newlines, escape
    sequences) and bidirectional overrides are shown as escapes, so input cannot forge or hide
    lines of the report."""
    return _SHOWN.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group(0)):04x}"


_SEVERITIES = list(Severity)
BINDING = {"required": "required by", "good_practice": "good practice per"}


def value_text(e: Evidence) -> str:
    """The value an evidence item saw, as a reader writes it."""
    if e.value is None:
        return "(not answered)"
    if isinstance(e.value, bool):
        return "yes" if e.value else "no"
    if isinstance(e.value, str):
        text = e.value if len(e.value) <= 80 else e.value[:79] + "…"
        return clean(json.dumps(text, ensure_ascii=False))
    if isinstance(e.value, float) and e.value.is_integer():
        return str(int(e.value))  # amounts are read as numbers; 5400000, not 5400000.0
    return clean(json.dumps(e.value, ensure_ascii=False, default=str))


def _block(label: str, text: str, indent: str) -> list[str]:
    return list(_wrapped(label, text, indent))


_BREAKS = re.compile("[\t\n\x0b\x0c\r]")
"""The whitespace textwrap turns into spaces or expands (a text with none that fits on one line
is that line as it is)."""


@lru_cache(maxsize=8192)
def _wrapped(label: str, text: str, indent: str) -> tuple[str, ...]:
    """A block's lines. Remembered: a rule's title, remediation and references read the same in
    every review of a batch, and wrapping is most of what a text report costs."""
    head = f"{indent}{label:<10} "
    fits = len(head) + len(text) <= WIDTH and not _BREAKS.search(text)
    if fits and text.rsplit(" ", 1)[-1].strip():  # and does not end in whitespace it drops
        return (head + text,)  # what textwrap gives a text that fits on its first line
    return _hanging(head, text)


@lru_cache(maxsize=8192)
def _hanging(head: str, text: str) -> tuple[str, ...]:
    """``text`` wrapped after ``head``, its later lines indented as far as the head."""
    return tuple(
        textwrap.wrap(
            text,
            width=WIDTH,
            initial_indent=head,
            subsequent_indent=" " * len(head),
            break_long_words=False,
            break_on_hyphens=False,
        )
        or [head.rstrip()]
    )


def counts_text(review: Review) -> str:
    """``3 violations (1 blocker, 2 high), 1 need information (1 medium)``, or ``none``."""

    def part(counts: dict[Severity, int], noun: str) -> str | None:
        total = sum(counts.values())
        if not total:
            return None
        detail = ", ".join(f"{n} {s.value}" for s in _SEVERITIES if (n := counts[s]))
        return f"{total} {noun} ({detail})"

    parts = [
        part(
            review.counts.violations,
            "violation" + ("s" if sum(review.counts.violations.values()) != 1 else ""),
        ),
        part(review.counts.needs_information, "need information"),
        part(review.counts.waived, "waived"),
    ]
    shown = [p for p in parts if p]
    return ", ".join(shown) if shown else "none"


def waiver_text(w: WaiverOnFinding) -> str:
    """A finding's waiver in one sentence."""
    if w.status == "applied":
        return (
            f"{w.id}, approved by {w.approved_by} on {w.approved_on}, in force until "
            f"{w.expires}: {w.justification}"
        )
    return (
        f"{w.id} EXPIRED on {w.expires}: this finding is open again (it was approved by "
        f"{w.approved_by} on {w.approved_on}: {w.justification})"
    )


def thresholds_text(report: Report) -> str:
    """``high`` or ``high (data_sharing medium, monitoring low)``."""
    extra = ", ".join(f"{d} {s.value}" for d, s in report.domain_thresholds.items())
    return report.threshold.value + (f" ({extra})" if extra else "")


STATUS_TEXT = {
    "applied": "applied",
    "expired": "expired (findings open again)",
    "superseded": "superseded by a more specific waiver",
    "unused": "unused (matched no finding)",
    "proposal_not_reviewed": "proposal not in this run",
    "rule_not_run": "rule not run",
}


def waivers_summary(w: WaiversOut) -> str:
    """``waivers W.yaml as of 2026-11-21: 2 applied, 1 unused (W-3)``."""
    parts = []
    for status, label in (
        ("applied", "applied"),
        ("expired", "expired"),
        ("superseded", "superseded"),
        ("unused", "unused"),
        ("proposal_not_reviewed", "for proposals not in this run"),
        ("rule_not_run", "for rules not run"),
    ):
        ids = [u.id for u in w.waivers if u.status == status]
        if ids:
            shown = f" ({', '.join(ids)})" if status in ("expired", "unused") else ""
            parts.append(f"{len(ids)} {label}{shown}")
    return f"waivers {w.file} as of {w.as_of}: " + (", ".join(parts) or "none listed")


def _finding(f: Finding, names: Mapping[str, str]) -> list[str]:
    """One finding in full; ``names``: the review's item names."""
    marker = "VIOLATION" if f.outcome == "violation" else "NEEDS INFORMATION"
    if f.waived:
        marker += ", WAIVED"
    lines = [f"  [{f.severity.value.upper()}] {f.rule_id}  {f.title}  ({marker})"]
    indent = "    "
    if f.subject:
        lines += _block("item:", clean(f"{item_label(f.subject, names)} ({f.subject})"), indent)
    lines += _block("finding:", clean(f.message), indent)
    label = "evidence:"
    for e in f.evidence:
        where = f"  ({e.location})" if e.location is not None else ""
        role = "" if e.role == "violation" else f"[{e.role}] "
        lines += _block(label, f"{role}{e.path} = {value_text(e)}{clean(where)}", indent)
        label = ""
    if f.severity_override is not None:
        o = f.severity_override
        lines += _block(
            "graded:",
            clean(
                f"{f.severity.value} by {o.origin} (rule default "
                f"{o.original_severity.value}): {o.reason}"
            ),
            indent,
        )
    if f.escalation is not None:
        raised = f.escalation
        lines += _block(
            "escalated:",
            clean(
                f"{f.severity.value} (rule severity {raised.base_severity.value}): {raised.reason}"
            ),
            indent,
        )
    if f.waiver is not None:
        label = "waived:" if f.waiver.status == "applied" else "waiver:"
        lines += _block(label, clean(waiver_text(f.waiver)), indent)
    lines += _block("fix:", clean(f.remediation), indent)
    label = "source:"
    for r in f.references:
        lines += _block(label, f"{BINDING[r.binding]} {r.instrument}, {r.provision}", indent)
        lines += _block("", r.url, indent)
        label = ""
    return lines


def grouped(review: Review) -> list[tuple[str, list[Finding]]]:
    """Findings by domain, the domain with the worst finding first (then the most violations)."""
    by_domain: dict[str, list[Finding]] = {}
    for f in review.findings:
        by_domain.setdefault(f.domain, []).append(f)

    def domain_key(item: tuple[str, list[Finding]]) -> tuple[int, int, str]:
        domain, findings = item
        worst = max(f.severity.rank for f in findings)
        violations = sum(f.outcome == "violation" for f in findings)
        return (-worst, -violations, domain)

    return sorted(by_domain.items(), key=domain_key)


def _opening(review: Review, summary: ReviewSummary) -> list[str]:
    """A review's first lines: the proposal, its decision, and its findings in a line each."""
    lines = [f"{review.proposal_id}  {clean(review.title)}"]
    lines.append(f"  decision: {review.decision.value.upper()}")
    if review.source:
        lines.append(f"  source:   {clean(review.source)}")
    lines.append(f"  findings: {counts_text(review)}")
    lines += [clean(f"    {line}") for line in summary_lines(summary)]
    return lines


def _checklist(summary: ReviewSummary) -> list[str]:
    lines = ["", "  QUESTIONS TO ANSWER"]
    for q in summary.questions:
        asked, where = question_text(q)
        lines += _hanging("   [ ] ", clean(asked))
        lines += _hanging("       ", clean(where))
    return lines


def render_review(review: Review, domain_title: Callable[[str], str]) -> list[str]:
    """One review's lines, its items named as the review names them."""
    summary = summarize(review)
    lines = _opening(review, summary)
    if summary.questions_first:
        lines += _checklist(summary)
    for domain, findings in grouped(review):
        lines.append("")
        lines.append(f"  {domain_title(domain).upper()}")
        for f in findings:
            lines.extend(_finding(f, review.item_names))
    if summary.questions and not summary.questions_first:
        lines += _checklist(summary)
    return lines


def _selection(sel: SelectionOut | None, not_in_force: int = 0) -> list[str]:
    """What a narrowed or tuned run covered: said up front, since it qualifies every decision.
    ``not_in_force``: loaded rules that did not run because of their dates (not a narrowing)."""
    if sel is None:
        return []
    lines: list[str] = []
    if sel.config:
        lines.append(f"config {clean(sel.config)}")
    if not sel.builtin_rules:
        lines.append(
            f"the built-in rules were NOT loaded (builtin = false in {clean(sel.config or '')}): "
            "the decisions cover the project's own rules alone"
        )
    if sel.rules_run + not_in_force != sel.rules_loaded:
        chosen = [f"--domain {d}" for d in sel.domains] + [f"--rule {r}" for r in sel.rules]
        chosen += [f"--skip-rule {r}" for r in sel.skipped]
        how = f" ({' '.join(chosen)})" if chosen else ""
        total = sel.rules_loaded - not_in_force
        lines.append(
            f"only {sel.rules_run} of {total} rules{' in force' if not_in_force else ''} "
            f"ran{clean(how)}: "
            "the decisions cover those rules alone"
        )
    for d in sel.disabled:
        lines += _block("disabled:", clean(f"{d.rule_id} by {d.origin}: {d.reason}"), "")
    for o in sel.severity_overrides:
        lines += _block(
            "graded:",
            clean(
                f"{o.rule_id} {o.original_severity.value} -> {o.severity.value} "
                f"by {o.origin}: {o.reason}"
            ),
            "",
        )
    return lines


def in_force_lines(report: Report) -> list[str]:
    """The judgment day, and each loaded rule skipped because it is not in force on it; nothing
    when every rule loaded ran (the day then changed nothing the report shows but in JSON)."""
    if report.as_of is None or not report.rules_not_in_force:
        return []
    lines = [f"judged as of {report.as_of}: the rules in force that day ran"]
    for n in report.rules_not_in_force:
        dates = effective_text(n.effective_from, n.effective_until)
        why = f"{n.reason.replace('_', ' ')} ({dates})"
        lines += _block("not run:", clean(f"{n.rule_id} {n.title}: {why}"), "")
    return lines


def shown(report: Report, failing_only: bool) -> bool:
    """Whether a text report has anything to say: with ``failing_only``, only when a proposal
    fails the gate."""
    return not failing_only or any(report.summary.decisions.get(d) for d in FAILING)


def head_text(report: Report, failing_only: bool = False) -> str:
    """The lines before the reviews: the tool, the rules, the gate, the selection, the waivers,
    and for a batch its decisions, worst first (the order the reviews follow)."""
    if not shown(report, failing_only):
        return ""
    rs = report.rule_set
    lines = [
        f"compliance {report.tool_version}: rules {rs.name} {rs.version} "
        f"({counted(rs.rule_count, 'rule')}, {rs.hash[:19]}), engine {report.engine}, "
        f"threshold {thresholds_text(report)}",
    ]
    if report.redaction is not None:
        lines.append(redaction_line(report.redaction))
    lines += _selection(report.selection, len(report.rules_not_in_force))
    lines += in_force_lines(report)
    if report.waivers is not None:
        lines += textwrap.wrap(
            clean(waivers_summary(report.waivers)), WIDTH, subsequent_indent="  "
        )
    counts = decision_counts(report.summary)
    if counts.proposals > 1:
        lines.append(counts_line(counts))
    hidden = report.summary.proposals - sum(report.summary.decisions.get(d, 0) for d in FAILING)
    if failing_only and hidden:
        lines.append(f"(--quiet: {hidden} approved proposal{'s' if hidden != 1 else ''} not shown)")
    return "\n".join(lines)


def review_text(review: Review, domain_title: Callable[[str], str]) -> str:
    """One review as it follows the head (or the review before it)."""
    return "\n\n" + "\n".join(render_review(review, domain_title))


def brief_text(review: Review) -> str:
    """One review in brief: its opening lines alone, and a blank line."""
    return "\n".join(_opening(review, summarize(review))) + "\n\n"


def tail_text(report: Report, failing_only: bool = False) -> str:
    """The closing count of decisions."""
    if not shown(report, failing_only):
        return ""
    return "\n\n" + _reviewed(report) + "\n"


def brief_tail(report: Report, failing_only: bool = False) -> str:
    """The brief report's closing count of decisions."""
    return _reviewed(report) + "\n" if shown(report, failing_only) else ""


def _reviewed(report: Report) -> str:
    counts = decision_counts(report.summary)
    decisions = ", ".join(f"{n} {d.value}" for d, n in counts.counts)
    proposals = counts.proposals
    return f"{proposals} proposal{'s' if proposals != 1 else ''} reviewed: {decisions}"


def render(
    report: Report,
    domain_title: Callable[[str], str],
    *,
    brief: bool = False,
    failing_only: bool = False,
) -> str:
    """The whole text report. It reads as the streamed report (:mod:`compliance.reports.stream`)
    of the same batch, from a report made now or read back (items named as its reviews name
    them)."""
    reviews = sorted(report.reviews, key=lambda r: decision_rank(r.decision))
    if failing_only:
        reviews = [r for r in reviews if r.decision in FAILING]
    if brief:
        return "".join(brief_text(r) for r in reviews) + brief_tail(report, failing_only)
    return (
        head_text(report, failing_only)
        + "".join(review_text(r, domain_title) for r in reviews)
        + tail_text(report, failing_only)
    )
