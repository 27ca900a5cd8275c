"""The HTML report: one self-contained page a reviewer opens in a browser, or prints.

The page, top to bottom:

- the decision banner: for one proposal its decision, large and coloured (reject red, needs
  information amber, approve with conditions teal, approve green) with its counts; for a batch,
  how many proposals took each decision and the gate's result (blocked, needs information or
  passed: what the exit code says, but for --no-fail);
- a chart of the findings by domain and severity (inline SVG, stacked horizontal bars, one per
  domain, counts labelled; all proposals of a batch), or "No findings";
- the run: tool, engine, rule set and its hash, thresholds, a narrowed or tuned selection, the
  waivers file and the day expiry was judged against;
- for a batch, a table of the proposals, each linking to its section;
- per proposal, the findings grouped by domain, worst first (as the text report orders them):
  severity, rule, title, outcome, whether it blocks at the threshold, message, evidence (field,
  value, role, location), remediation and references, and any waiver or severity change; then
  the questions left to answer and where the answer goes;
- the waivers file's use, unused waivers included.

The page loads nothing: no script, stylesheet, font or image from anywhere (a
Content-Security-Policy meta tag forbids it, should anything slip in), so it can be mailed,
attached to a ticket or archived as it is. It prints on A4 or Letter with its colours, and without
splitting a finding across pages. Every piece of text from the input goes through :func:`esc`:
control characters and bidirectional overrides shown as escapes (as in the text report), then
HTML-escaped, quotes included; only ``http``/``https`` reference URLs become links. The output
depends on the report alone (no clock), so the same report gives the same bytes.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from urllib.parse import urlsplit

from compliance.decision import Thresholds, exit_code
from compliance.exitcodes import ExitCode
from compliance.findings import (
    Decision,
    Evidence,
    Finding,
    Report,
    Review,
    SelectionOut,
    UnansweredField,
    WaiverOnFinding,
    WaiversOut,
    WaiverStatus,
)
from compliance.report_text import BINDING, clean, counts_text, grouped, value_text
from compliance.report_xlsx import domain_counts
from compliance.rulespec import Severity
from compliance.sourcemap import Location

SEVERITIES = list(Severity)

SEVERITY_COLOUR = {
    Severity.blocker: "#7b1020",
    Severity.high: "#e03c31",
    Severity.medium: "#f39c12",
    Severity.low: "#f4d03f",
    Severity.info: "#a0aab4",
}
"""Fill of a severity in the chart and its badges; each differs from every decision colour."""

SEVERITY_INK = {
    Severity.blocker: "#ffffff",
    Severity.high: "#ffffff",
    Severity.medium: "#1b1f24",
    Severity.low: "#1b1f24",
    Severity.info: "#1b1f24",
}

DECISION_COLOUR = {
    Decision.reject: "#b42318",
    Decision.needs_information: "#f2b705",
    Decision.approve_with_conditions: "#0e7490",
    Decision.approve: "#1e7b34",
}

DECISION_INK = {
    Decision.reject: "#ffffff",
    Decision.needs_information: "#231a00",
    Decision.approve_with_conditions: "#ffffff",
    Decision.approve: "#ffffff",
}

DECISION_TEXT = {
    Decision.reject: "Reject",
    Decision.needs_information: "Needs information",
    Decision.approve_with_conditions: "Approve with conditions",
    Decision.approve: "Approve",
}

_WORST_FIRST = [
    Decision.reject,
    Decision.needs_information,
    Decision.approve_with_conditions,
    Decision.approve,
]

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'"
)
"""Nothing may be loaded: no script, no stylesheet but the inline one, images only inline."""

_GATE = {
    ExitCode.BLOCKED: "blocked: at least one proposal is rejected",
    ExitCode.NEEDS_INFORMATION: (
        "needs information: none is rejected, but at least one leaves a question open that a "
        "blocking rule needs"
    ),
    ExitCode.PASSED: "passed: every proposal is approved, with or without conditions",
    ExitCode.INVALID_INPUT: "no proposal was reviewed",
}
"""The gate's result (the exit code is in the banner's data-gate; --no-fail makes it 0)."""

_WAIVER_STATUS: dict[WaiverStatus, str] = {
    "applied": "applied",
    "expired": "expired: its findings are open again",
    "superseded": "not used: a more specific waiver accepted its findings",
    "unused": "unused: no finding matched",
    "proposal_not_reviewed": "not used: the proposal was not reviewed",
    "rule_not_run": "not used: the rule did not run",
}

# The chart's geometry, in CSS pixels (it scales down to the page when printed).
CHART_WIDTH = 760
_BAR_AREA = 700  # the longest bar; its total is written after it
_LEGEND_HEIGHT = 30
_LABEL_HEIGHT = 18
_BAR_HEIGHT = 24
_ROW_GAP = 10
_DIGIT_WIDTH = 8
_MAX_UNIT = 44  # at most this wide per finding: a bar of 2 is not a full-width bar

# ---------------------------------------------------------------------------- text


def esc(text: object) -> str:
    """Text from the input, safe in element content and in quoted attribute values."""
    return html.escape(clean(str(text)), quote=True)


def _link(url: str, text: str) -> str:
    """``text`` (already escaped) linking to ``url`` if it is an http(s) URL, else the URL shown
    as text beside it."""
    parts = urlsplit(url) if url == clean(url) and not any(c.isspace() for c in url) else None
    if parts is not None and parts.scheme in ("http", "https") and parts.netloc:
        return f'<a class="ref" href="{esc(url)}" rel="noopener noreferrer">{text}</a>'
    return f'{text} <span class="url">{esc(url)}</span>' if url else text


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _location_text(location: Location | None) -> str:
    if location is None:
        return ""
    if location.present:
        return str(location)
    if location.sheet is not None:
        return f"fill in {location}"
    return f"not in the file: add it at {location}"


def _anchors(report: Report) -> list[str]:
    return [f"proposal-{i}" for i in range(1, len(report.reviews) + 1)]


def _chip(decision: Decision) -> str:
    return f'<span class="chip d-{decision.value}">{DECISION_TEXT[decision]}</span>'


def _badge(severity: Severity) -> str:
    return f'<span class="badge s-{severity.value}">{severity.value}</span>'


# ---------------------------------------------------------------------------- banner


def _banner(report: Report) -> str:
    threshold = f"threshold {report.threshold.value}"
    if report.domain_thresholds:
        threshold += " (some domains have their own: see the run below)"
    if len(report.reviews) == 1:
        review = report.reviews[0]
        d = review.decision
        return (
            f'<header class="banner d-{d.value}" id="decision" data-decision="{d.value}">\n'
            f'<p class="kicker">Decision at {threshold}</p>\n'
            f'<p class="decision">{DECISION_TEXT[d]}</p>\n'
            f'<p class="subject"><span class="pid">{esc(review.proposal_id)}</span> '
            f"{esc(review.title)}</p>\n"
            f'<p class="counts">Findings: {esc(counts_text(review))}'
            "</p>\n</header>"
        )
    decisions = [r.decision for r in report.reviews]
    worst = next((d.value for d in _WORST_FIRST if d in decisions), "empty")
    n = report.summary.proposals
    tallies = "".join(
        f'<li data-decision="{d.value}"><span class="n">{report.summary.decisions.get(d, 0)}'
        f"</span> {DECISION_TEXT[d].lower()}</li>"
        for d in _WORST_FIRST
    )
    gate = exit_code(decisions)
    return (
        f'<header class="banner d-{worst}" id="decision" data-gate="{int(gate)}">\n'
        f'<p class="kicker">Batch review at {threshold}</p>\n'
        f'<p class="decision">{_plural(n, "proposal")}</p>\n'
        f'<ul class="tallies">{tallies}</ul>\n'
        f'<p class="gate">Gate: {_GATE[gate]}.</p>\n</header>'
    )


def _narrowed(selection: SelectionOut | None) -> str:
    """A warning under the banner when the decisions cover only part of the rules."""
    if selection is None:
        return ""
    notes = []
    if not selection.builtin_rules:
        notes.append(
            "The built-in rules were not loaded: the decisions cover the project's own rules alone."
        )
    if selection.rules_run != selection.rules_loaded:
        notes.append(
            f"Only {selection.rules_run} of {selection.rules_loaded} rules ran: the decisions "
            "cover those rules alone."
        )
    return "".join(f'<p class="warning">{esc(n)}</p>\n' for n in notes)


# ---------------------------------------------------------------------------- chart


def _label_width(n: int) -> int:
    """The width a segment needs to hold its count."""
    return _DIGIT_WIDTH * len(str(n)) + 4


def _chart(report: Report, domain_title: Callable[[str], str]) -> str:
    counts = domain_counts(report)
    scope = "all proposals" if len(report.reviews) > 1 else "this proposal"
    heading = f'<h2 id="chart">Findings by domain and severity <small>({scope})</small></h2>\n'
    if not counts:
        return (
            f'<section class="chart">\n{heading}<p class="no-findings">No findings.</p>\n</section>'
        )
    totals = {s: sum(c[s] for c in counts.values()) for s in SEVERITIES}
    biggest = max(sum(c.values()) for c in counts.values())
    # Every segment is at least as wide as its count, so that every count can be read on the
    # page and in print (a few blockers beside a hundred questions would otherwise lose theirs);
    # the room those minimums take is kept out of the scale, so no bar outgrows the area.
    reserved = max(sum(_label_width(n) for n in c.values() if n) for c in counts.values())
    unit = min((_BAR_AREA - reserved) / biggest, _MAX_UNIT)
    out: list[str] = []
    x = 0
    for s in SEVERITIES:  # the legend
        label = f"{s.value} ({totals[s]})"
        out.append(
            f'<g class="legend-item" data-severity="{s.value}" data-total="{totals[s]}">'
            f'<rect x="{x}" y="6" width="14" height="14" fill="{SEVERITY_COLOUR[s]}"/>'
            f'<text x="{x + 19}" y="18">{label}</text></g>'
        )
        x += 19 + 8 * len(label) + 22
    y = _LEGEND_HEIGHT
    summary = []
    for domain, by_severity in counts.items():
        title = domain_title(domain)
        total = sum(by_severity.values())
        shown = title if len(title) <= 90 else title[:89] + "…"
        out.append(f'<g class="bar" data-domain="{esc(domain)}" data-total="{total}">')
        out.append(f'<text class="domain" x="0" y="{y + 13}">{esc(shown)}</text>')
        bar_y = y + _LABEL_HEIGHT
        left = 0
        for s in SEVERITIES:
            n = by_severity[s]
            if not n:
                continue
            width = max(round(n * unit), _label_width(n))
            out.append(
                f'<rect class="segment" x="{left}" y="{bar_y}" width="{width}" '
                f'height="{_BAR_HEIGHT}" fill="{SEVERITY_COLOUR[s]}" data-severity="{s.value}" '
                f'data-count="{n}"><title>{esc(title)}: {n} {s.value}</title></rect>'
            )
            out.append(
                f'<text class="count" x="{left + width / 2:g}" y="{bar_y + 17}" '
                f'text-anchor="middle" fill="{SEVERITY_INK[s]}" '
                f'data-severity="{s.value}">{n}</text>'
            )
            left += width
        out.append(f'<text class="total" x="{left + 6}" y="{bar_y + 17}">{total}</text></g>')
        detail = ", ".join(f"{by_severity[s]} {s.value}" for s in SEVERITIES if by_severity[s])
        summary.append(f"{title}: {total} ({detail})")
        y = bar_y + _BAR_HEIGHT + _ROW_GAP
    height = y
    label = f"Findings by domain and severity, {scope}. " + "; ".join(summary) + "."
    return (
        f'<section class="chart">\n{heading}'
        f'<svg id="chart-findings" class="chart-findings" role="img" aria-label="{esc(label)}" '
        f'width="{CHART_WIDTH}" height="{height}" viewBox="0 0 {CHART_WIDTH} {height}">\n'
        f"<title>{esc(label)}</title>\n" + "\n".join(out) + "\n</svg>\n"
        '<p class="note">Every finding counts: violations, open questions and waived findings. '
        "Hover over a segment for its count.</p>\n</section>"
    )


# ---------------------------------------------------------------------------- the run


def _facts(report: Report, domain_title: Callable[[str], str]) -> str:
    rs = report.rule_set
    rows: list[tuple[str, str]] = [
        (
            "Tool",
            f"compliance {esc(report.tool_version)} (report version {esc(report.report_version)})",
        ),
        ("Engine", esc(report.engine)),
        ("Rule set", f"{esc(rs.name)} {esc(rs.version)} ({_plural(rs.rule_count, 'rule')})"),
        ("Rule set hash", f"<code>{esc(rs.hash)}</code>"),
    ]
    if len(rs.sources) > 1:
        rows.append(
            (
                "Rule sources",
                "<br>".join(
                    f"{esc(s.name)} {esc(s.version)} ({_plural(s.rule_count, 'rule')}, "
                    f"<code>{esc(s.hash)}</code>)"
                    for s in rs.sources
                ),
            )
        )
    rows.append(("Threshold", f"{report.threshold.value}: findings at or above it block"))
    if report.domain_thresholds:
        rows.append(
            (
                "Domain thresholds",
                "<br>".join(
                    f"{esc(domain_title(d))} (<code>{esc(d)}</code>): {s.value}"
                    for d, s in sorted(report.domain_thresholds.items())
                ),
            )
        )
    rows += _selection_rows(report.selection)
    if report.waivers is not None:
        w = report.waivers
        rows += [
            ("Waivers file", f"{esc(w.file)} (<code>{esc(w.sha256)}</code>)"),
            (
                "Waivers as of",
                f"{w.as_of.isoformat()}; blockers may be waived: "
                f"{'yes' if w.allow_blockers else 'no'}",
            ),
        ]
    body = "\n".join(f'<tr><th scope="row">{k}</th><td>{v}</td></tr>' for k, v in rows)
    return (
        f'<section class="run">\n<h2 id="run">The run</h2>\n<table class="facts">\n<tbody>\n'
        f"{body}\n</tbody>\n</table>\n</section>"
    )


def _selection_rows(sel: SelectionOut | None) -> list[tuple[str, str]]:
    if sel is None:
        return []
    ran = f"{sel.rules_run} of {sel.rules_loaded} rules loaded"
    if sel.rules_run != sel.rules_loaded:
        ran = f"only {ran}: the decisions cover those rules alone"
    rows = [("Rules run", esc(ran)), ("Config", esc(sel.config or "none"))]
    if not sel.builtin_rules:
        rows.append(("Built-in rules", "not loaded: the decisions cover the project's own rules"))
    chosen = [f"--domain {d}" for d in sel.domains] + [f"--rule {r}" for r in sel.rules]
    chosen += [f"--skip-rule {r}" for r in sel.skipped]
    if chosen:
        rows.append(("Selection", f"<code>{esc(' '.join(chosen))}</code>"))
    rows += [("Disabled", esc(f"{d.rule_id} by {d.origin}: {d.reason}")) for d in sel.disabled]
    rows += [
        (
            "Re-graded",
            esc(
                f"{o.rule_id} {o.original_severity.value} -> {o.severity.value} by {o.origin}: "
                f"{o.reason}"
            ),
        )
        for o in sel.severity_overrides
    ]
    return rows


# ---------------------------------------------------------------------------- proposals


def _violations(review: Review) -> str:
    """Violations by severity as badges (``2 high``), worst first; ``none`` when there are none."""
    badges = [
        f'<span class="badge s-{s.value}" data-severity="{s.value}">{n} {s.value}</span>'
        for s in SEVERITIES
        if (n := review.counts.violations[s])
    ]
    return " ".join(badges) or '<span class="none">none</span>'


def _proposals_table(report: Report) -> str:
    rows = []
    for review, anchor in zip(report.reviews, _anchors(report), strict=True):
        rows.append(
            f'<tr data-decision="{review.decision.value}">'
            f'<td><a href="#{anchor}"><span class="pid">{esc(review.proposal_id)}</span></a></td>'
            f"<td>{esc(review.title)}</td><td>{_chip(review.decision)}</td>"
            f'<td class="violations">{_violations(review)}</td>'
            f'<td class="num">{sum(review.counts.needs_information.values())}</td>'
            f'<td class="num">{sum(review.counts.waived.values())}</td></tr>'
        )
    return (
        '<section class="proposals">\n<h2 id="proposals">Proposals</h2>\n'
        '<table class="proposal-table">\n<colgroup><col class="c-id"><col class="c-title">'
        '<col class="c-decision"><col class="c-violations"><col><col></colgroup>\n'
        '<thead><tr><th scope="col">Proposal</th><th scope="col">Title</th>'
        '<th scope="col">Decision</th><th scope="col">Violations</th>'
        '<th scope="col" class="num">Needs information</th>'
        '<th scope="col" class="num">Waived</th></tr></thead>\n<tbody>\n'
        + "\n".join(rows)
        + "\n</tbody>\n</table>\n</section>"
    )


def _waiver_note(waiver: WaiverOnFinding, waived: bool) -> str:
    approved = (
        f"Approved by {esc(waiver.approved_by)} on {waiver.approved_on.isoformat()}; "
        f"expires {waiver.expires.isoformat()} (the last day in force); "
        f"from {esc(waiver.origin)}."
    )
    justification = f'<p class="justification">Justification: {esc(waiver.justification)}</p>'
    if waived:
        return (
            f'<div class="waiver applied"><p><strong>Waived</strong> by waiver '
            f'<span class="waiver-id">{esc(waiver.id)}</span>: accepted risk, it does not '
            f"block.</p>\n{justification}\n<p>{approved}</p></div>"
        )
    return (
        f'<div class="waiver expired"><p><strong>Waiver <span class="waiver-id">'
        f"{esc(waiver.id)}</span> expired on {waiver.expires.isoformat()} — finding "
        f"re-opened.</strong></p>\n{justification}\n<p>{approved}</p></div>"
    )


def _blocks_text(finding: Finding, thresholds: Thresholds) -> tuple[str, str]:
    """(class, text) saying whether the finding holds the proposal back at the threshold."""
    threshold = thresholds.of(finding.domain)
    at = f"threshold {threshold.value}"
    if finding.domain in thresholds.domains:
        at += " (this domain's)"
    if finding.waived:
        return "waived", "Does not block: waived"
    if thresholds.blocks(finding):
        if finding.outcome == "violation":
            return "blocks", f"Blocks at {at}: rejects the proposal"
        return "blocks", f"Blocks at {at}: the answer is needed before approval"
    if finding.severity.rank >= Severity.low.rank:
        return "condition", f"Does not block at {at}: a condition of approval"
    return "info", f"Does not block at {at}: for information"


def _evidence_rows(evidence: list[Evidence]) -> str:
    rows = []
    for e in evidence:
        rows.append(
            f'<tr class="role-{e.role}"><td><code>{esc(e.path)}</code></td>'
            f"<td><code>{esc(value_text(e))}</code></td><td>{e.role}</td>"
            f"<td>{esc(_location_text(e.location))}</td></tr>"
        )
    return "\n".join(rows)


def _finding(f: Finding, anchor: str, thresholds: Thresholds) -> str:
    outcome = "Violation" if f.outcome == "violation" else "Needs information"
    blocks_class, blocks = _blocks_text(f, thresholds)
    classes = f"finding s-{f.severity.value} {blocks_class}"
    if f.waiver is not None and not f.waived:
        classes += " reopened"
    parts = [
        f'<article class="{classes}" id="{anchor}" data-rule="{esc(f.rule_id)}">',
        '<header class="finding-head">',
        _badge(f.severity),
        f' <span class="rule-id">{esc(f.rule_id)}</span>',
        f' <span class="finding-title">{esc(f.title)}</span>',
        f'<br><span class="tag outcome-{f.outcome}">{outcome}</span>',
        f' <span class="tag gate-{blocks_class}">{blocks}</span>',
    ]
    if f.waived:
        parts.append(' <span class="tag waived-tag">Waived</span>')
    parts.append("</header>")
    if f.waiver is not None:
        parts.append(_waiver_note(f.waiver, f.waived))
    if f.severity_override is not None:
        o = f.severity_override
        parts.append(
            f'<p class="override">Severity changed: {f.severity.value} (rule default '
            f"{o.original_severity.value}) by {esc(o.origin)}: {esc(o.reason)}</p>"
        )
    if f.escalation is not None:
        e = f.escalation
        parts.append(
            f'<p class="escalation">Severity raised: {f.severity.value} (rule severity '
            f"{e.base_severity.value}): {esc(e.reason)}</p>"
        )
    if f.subject:
        parts.append(f'<p class="item">Item: <code>{esc(f.subject)}</code></p>')
    parts.append(f'<p class="message">{esc(f.message)}</p>')
    if f.evidence:
        parts.append(
            '<table class="evidence">\n<colgroup><col class="c-field"><col class="c-value">'
            '<col class="c-role"><col class="c-where"></colgroup>\n'
            '<thead><tr><th scope="col">Field</th><th scope="col">Value seen</th>'
            '<th scope="col">Role</th><th scope="col">Where</th></tr></thead>\n<tbody>\n'
            f"{_evidence_rows(f.evidence)}\n</tbody>\n</table>"
        )
    parts.append(f'<p class="fix"><strong>Fix:</strong> {esc(f.remediation)}</p>')
    if f.references:
        refs = "\n".join(
            f'<li class="{r.binding}"><span class="binding">{BINDING[r.binding].capitalize()}'
            f"</span> {_link(r.url, f'{esc(r.instrument)}, {esc(r.provision)}')}</li>"
            for r in f.references
        )
        parts.append(f'<ul class="references">\n{refs}\n</ul>')
    parts.append("</article>")
    return "\n".join(parts)


def _unanswered(items: list[UnansweredField], finding_anchor: dict[str, str]) -> str:
    rows = []
    for u in items:
        needed = ", ".join(
            f'<a href="#{finding_anchor[r]}">{esc(r)}</a>' if r in finding_anchor else esc(r)
            for r in u.rules
        )
        rows.append(
            f"<tr><td><code>{esc(u.path)}</code></td><td>{esc(u.question)}</td>"
            f"<td>{esc(_location_text(u.location)) or 'the proposal'}</td><td>{needed}</td></tr>"
        )
    return (
        '<h3 class="questions">Questions to answer</h3>\n<table class="unanswered">\n'
        '<colgroup><col class="c-field"><col class="c-question"><col class="c-where">'
        '<col class="c-rules"></colgroup>\n'
        '<thead><tr><th scope="col">Field</th><th scope="col">Question</th>'
        '<th scope="col">Where to answer</th><th scope="col">Needed by</th></tr></thead>\n'
        "<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>"
    )


def _review(
    review: Review, anchor: str, thresholds: Thresholds, domain_title: Callable[[str], str]
) -> str:
    d = review.decision
    parts = [
        f'<section class="proposal" id="{anchor}" data-proposal="{esc(review.proposal_id)}" '
        f'data-decision="{d.value}">',
        f'<h2><span class="pid">{esc(review.proposal_id)}</span> {esc(review.title)}</h2>',
        f'<p class="verdict">{_chip(d)} Findings: {esc(counts_text(review))}.</p>',
    ]
    if review.source:
        parts.append(f'<p class="source">Source: {esc(review.source)}</p>')
    finding_anchor: dict[str, str] = {}
    number = 0
    for domain, findings in grouped(review):
        parts.append(
            f'<h3 class="domain" data-domain="{esc(domain)}">{esc(domain_title(domain))}'
            f" <small>({_plural(len(findings), 'finding')})</small></h3>"
        )
        for f in findings:
            number += 1
            own = f"{anchor}-finding-{number}"
            finding_anchor.setdefault(f.rule_id, own)
            parts.append(_finding(f, own, thresholds))
    if not review.findings:
        parts.append('<p class="no-findings">No findings.</p>')
    if review.unanswered:
        parts.append(_unanswered(review.unanswered, finding_anchor))
    parts.append("</section>")
    return "\n".join(parts)


# ---------------------------------------------------------------------------- waivers


def _waivers(waivers: WaiversOut, anchor_of: dict[str, str]) -> str:
    rows = []
    for w in waivers.waivers:
        proposal = esc(w.proposal_id)
        if w.proposal_id in anchor_of:
            proposal = f'<a href="#{anchor_of[w.proposal_id]}">{proposal}</a>'
        rows.append(
            f'<tr class="status-{w.status}" data-waiver="{esc(w.id)}">'
            f'<td class="nowrap"><span class="waiver-id">{esc(w.id)}</span></td>'
            f'<td class="nowrap">{esc(w.rule_id)}</td>'
            f"<td>{proposal}</td><td>{f'<code>{esc(w.path)}</code>' if w.path else 'any'}</td>"
            f'<td>{esc(w.approved_by)}</td><td class="nowrap">{w.approved_on.isoformat()}</td>'
            f'<td class="nowrap">{w.expires.isoformat()}</td><td>{_WAIVER_STATUS[w.status]}</td>'
            f'<td class="num">{w.findings}</td></tr>'
        )
    body = "\n".join(rows) or '<tr><td colspan="9">The file holds no waiver.</td></tr>'
    return (
        '<section class="waivers">\n<h2 id="waivers">Waivers</h2>\n'
        f"<p>{esc(waivers.file)} (<code>{esc(waivers.sha256)}</code>), judged as of "
        f"{waivers.as_of.isoformat()}.</p>\n"
        '<table class="waiver-table">\n<thead><tr><th scope="col">Waiver</th>'
        '<th scope="col">Rule</th><th scope="col">Proposal</th><th scope="col">Path</th>'
        '<th scope="col">Approved by</th><th scope="col">Approved on</th>'
        '<th scope="col">Expires</th><th scope="col">Status</th>'
        '<th scope="col" class="num">Findings</th></tr></thead>\n<tbody>\n'
        f"{body}\n</tbody>\n</table>\n</section>"
    )


# ---------------------------------------------------------------------------- page


def _style() -> str:
    sev = "\n".join(
        f".s-{s.value} {{ --sev: {SEVERITY_COLOUR[s]}; --sev-ink: {SEVERITY_INK[s]}; }}"
        for s in SEVERITIES
    )
    dec = "\n".join(
        f".d-{d.value} {{ --dec: {DECISION_COLOUR[d]}; --dec-ink: {DECISION_INK[d]}; }}"
        for d in Decision
    )
    return f"""
:root {{ color-scheme: light; --ink: #1b1f24; --muted: #57606a; --line: #d0d7de;
  --soft: #f6f8fa; }}
{sev}
{dec}
.d-empty {{ --dec: #57606a; --dec-ink: #ffffff; }}
* {{ box-sizing: border-box; }}
html {{ -webkit-print-color-adjust: exact; print-color-adjust: exact; }}
body {{ margin: 0 auto; max-width: 1120px; padding: 20px 28px 40px; color: var(--ink);
  background: #fff; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto,
  "Helvetica Neue", Arial, sans-serif; }}
h1 {{ font-size: 20px; margin: 0 0 10px; color: var(--muted); font-weight: 600; }}
h2 {{ font-size: 20px; margin: 28px 0 10px; }}
h2 small, h3 small {{ font-weight: 400; color: var(--muted); font-size: 14px; }}
h3 {{ font-size: 17px; margin: 20px 0 8px; padding-bottom: 3px;
  border-bottom: 1px solid var(--line); }}
code, .pid, .rule-id, .waiver-id {{ font-family: ui-monospace, SFMono-Regular, Menlo, Consolas,
  "Liberation Mono", monospace; font-size: 0.9em; overflow-wrap: anywhere; }}
a {{ color: #0550ae; }}
.banner {{ background: var(--dec); color: var(--dec-ink); border-radius: 8px;
  padding: 14px 22px 16px; margin: 0 0 12px; }}
.banner p {{ margin: 2px 0; }}
.banner .kicker {{ font-size: 14px; text-transform: uppercase; letter-spacing: 0.06em;
  opacity: 0.9; }}
.banner .decision {{ font-size: 38px; line-height: 1.15; font-weight: 800; }}
.banner .subject {{ font-size: 18px; font-weight: 600; overflow-wrap: anywhere; }}
.banner .counts, .banner .gate {{ font-size: 16px; }}
.banner .tallies {{ list-style: none; padding: 0; margin: 6px 0; display: flex; flex-wrap: wrap;
  gap: 8px; }}
.banner .tallies li {{ background: rgba(255, 255, 255, 0.92); color: var(--ink);
  border-radius: 6px; padding: 3px 10px; font-size: 15px; }}
.banner .tallies .n {{ font-weight: 800; font-size: 18px; }}
.warning {{ border: 2px solid #9a6700; background: #fff8c5; padding: 8px 12px;
  border-radius: 6px; font-weight: 600; }}
.chart h2 {{ margin-top: 16px; }}
.chart-findings {{ display: block; max-width: 100%; height: auto; }}
.chart-findings text {{ font: 13px system-ui, -apple-system, "Segoe UI", Roboto, Arial,
  sans-serif; }}
.chart-findings text.count {{ font-weight: 700; }}
.chart-findings text.domain {{ font-weight: 600; }}
.chart-findings text.total {{ font-weight: 700; }}
.note {{ color: var(--muted); font-size: 13px; margin: 4px 0; }}
table {{ border-collapse: collapse; width: 100%; margin: 6px 0 10px; }}
th, td {{ border: 1px solid var(--line); padding: 4px 8px; text-align: left;
  vertical-align: top; }}
td {{ overflow-wrap: anywhere; }}
th {{ overflow-wrap: normal; }}
thead th {{ background: var(--soft); }}
.num {{ text-align: right; }}
.nowrap {{ white-space: nowrap; }}
.facts th {{ width: 190px; background: var(--soft); font-weight: 600; }}
.chip {{ display: inline-block; background: var(--dec); color: var(--dec-ink);
  border-radius: 4px; padding: 1px 8px; font-weight: 700; font-size: 13px;
  white-space: nowrap; overflow-wrap: normal; }}
.badge {{ display: inline-block; background: var(--sev); color: var(--sev-ink);
  border-radius: 4px; padding: 1px 7px; font-weight: 700; font-size: 12px;
  text-transform: uppercase; letter-spacing: 0.03em; white-space: nowrap; }}
.proposal {{ margin-top: 34px; border-top: 3px solid var(--ink); padding-top: 4px; }}
.proposal h2 {{ margin-top: 8px; overflow-wrap: anywhere; }}
.verdict, .source {{ margin: 4px 0; }}
.finding {{ border: 1px solid var(--line); border-left: 7px solid var(--sev);
  border-radius: 6px; padding: 8px 14px 6px; margin: 0 0 12px; break-inside: avoid;
  page-break-inside: avoid; }}
.finding p {{ margin: 6px 0; }}
.finding-head {{ line-height: 1.7; }}
.rule-id {{ font-weight: 700; }}
.finding-title {{ font-weight: 600; }}
.tag {{ display: inline-block; border: 1px solid var(--line); border-radius: 4px;
  padding: 0 6px; font-size: 13px; background: var(--soft); }}
.gate-blocks {{ border-color: #b42318; color: #8c1d13; background: #fdecea; font-weight: 600; }}
.waived-tag {{ border: 2px solid #4b5563; font-weight: 700; background: #eef0f3; }}
.finding.waived {{ background: repeating-linear-gradient(135deg, #fff 0 12px, #f5f6f8 12px 24px);
  }}
.waiver {{ border-radius: 6px; padding: 4px 12px; margin: 6px 0; }}
.waiver.applied {{ border: 2px dashed #4b5563; background: #f3f4f6; }}
.waiver.expired {{ border: 2px solid #b42318; background: #fdecea; }}
.override, .escalation {{ border-left: 4px solid #8250df; padding-left: 8px; }}
.evidence .c-field {{ width: 33%; }} .evidence .c-value {{ width: 24%; }}
.evidence .c-role {{ width: 12%; }} .evidence .c-where {{ width: 31%; }}
.proposal-table .c-title {{ width: 38%; }}
.proposal-table .c-violations {{ width: 20%; }}
.violations .badge {{ margin: 1px 0; text-transform: none; letter-spacing: 0; }}
.none {{ color: var(--muted); }}
.evidence, .unanswered {{ table-layout: fixed; font-size: 14px; }}
.unanswered .c-field {{ width: 28%; }} .unanswered .c-question {{ width: 32%; }}
.unanswered .c-where {{ width: 25%; }} .unanswered .c-rules {{ width: 15%; }}
.role-unanswered td {{ background: #fff8c5; }}
.references {{ margin: 4px 0 6px; padding-left: 20px; }}
.binding {{ font-weight: 600; }}
.url {{ font-family: ui-monospace, monospace; overflow-wrap: anywhere; }}
.no-findings {{ font-size: 16px; font-weight: 600; }}
.status-expired td {{ background: #fdecea; }}
.status-unused td, .status-proposal_not_reviewed td, .status-rule_not_run td {{
  color: var(--muted); }}
footer {{ margin-top: 32px; color: var(--muted); font-size: 13px;
  border-top: 1px solid var(--line); padding-top: 6px; }}
@page {{ margin: 14mm 12mm; }}
@media print {{
  body {{ max-width: none; padding: 0; font-size: 10pt; }}
  table {{ font-size: 9pt; }}
  th, td {{ padding: 3px 5px; }}
  .chip {{ white-space: normal; }}
  h2 {{ font-size: 14pt; }} h3 {{ font-size: 12pt; }}
  h2, h3 {{ break-after: avoid; page-break-after: avoid; }}
  .banner, .chart, .finding, tr, .waiver {{ break-inside: avoid; page-break-inside: avoid; }}
  .batch .proposal {{ break-before: page; page-break-before: always; border-top: 0; }}
  .chart-findings {{ width: 100%; height: auto; }}
  a {{ color: inherit; }}
  a.ref::after {{ content: " <" attr(href) ">"; font-size: 8.5pt; overflow-wrap: anywhere;
    color: var(--muted); }}
  .chart .note {{ display: none; }}
}}
"""


def render_html(report: Report, domain_title: Callable[[str], str]) -> str:
    """The report as one self-contained HTML page (see the module docstring).

    ``domain_title`` maps a domain id (``data_sharing``) to its display title, as
    ``RuleSet.domain_title`` does.
    """
    thresholds = Thresholds.of_report(report)
    anchors = _anchors(report)
    single = len(report.reviews) == 1
    if single:
        review = report.reviews[0]
        title = f"Compliance review: {review.proposal_id}: {DECISION_TEXT[review.decision].lower()}"
    else:
        title = f"Compliance review: {_plural(report.summary.proposals, 'proposal')}"
    body = [
        "<h1>Compliance review</h1>",
        _banner(report),
        _narrowed(report.selection),
        _chart(report, domain_title),
        _facts(report, domain_title),
    ]
    if not single:
        body.append(_proposals_table(report))
    body += [
        _review(review, anchor, thresholds, domain_title)
        for review, anchor in zip(report.reviews, anchors, strict=True)
    ]
    if report.waivers is not None:
        anchor_of: dict[str, str] = {}
        for review, anchor in zip(report.reviews, anchors, strict=True):
            anchor_of.setdefault(review.proposal_id, anchor)
        body.append(_waivers(report.waivers, anchor_of))
    body.append(
        f"<footer>compliance {esc(report.tool_version)}, report version "
        f"{esc(report.report_version)}; rules {esc(report.rule_set.name)} "
        f"{esc(report.rule_set.version)}.</footer>"
    )
    return (
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f'<meta name="generator" content="compliance {esc(report.tool_version)}">\n'
        f"<title>{esc(title)}</title>\n<style>{_style()}</style>\n</head>\n"
        f'<body class="{"single" if single else "batch"}">\n'
        + "\n".join(part for part in body if part)
        + "\n</body>\n</html>\n"
    )
