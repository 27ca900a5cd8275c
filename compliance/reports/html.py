"""The HTML report: one self-contained page a reviewer opens in a browser, or prints.

The page, top to bottom:

- the decision banner: for one proposal its decision, large and coloured (reject red, needs
  information amber, approve with conditions teal, approve green) with its counts; for a batch,
  how many proposals took each decision and the gate's result (blocked, needs information or
  passed: what the exit code says, but for --no-fail);
- for one proposal, its summary: one line per finding, worst first (severity, rule, title, the
  item by what it holds and, for a workbook, its sheet and row), each linking to its details;
- a chart of the findings by domain and severity (inline SVG, one bar per domain; all proposals
  of a batch), or "No findings" (:mod:`compliance.reports.html_chart`);
- for a batch, the contents: the proposals worst first (reject, needs information, approve with
  conditions, approve), each linking to its section;
- the run: tool, engine, rule set and its hash, thresholds, a narrowed or tuned selection, the
  waivers file and the day expiry was judged against;
- per proposal (worst first in a batch, each opening with its decision and summary), the
  findings grouped by domain, worst first (as the text report orders them): severity, rule,
  title, outcome, whether it blocks at the threshold, message, evidence (field, value, role,
  location), remediation and references, and any waiver or severity change; then the questions
  left to answer and where the answer goes (:mod:`compliance.reports.html_parts`);
- the waivers file's use, unused waivers included.

The page loads nothing: no script, stylesheet, font or image from anywhere (a
Content-Security-Policy meta tag forbids it, should anything slip in), so it can be mailed,
attached to a ticket or archived as it is. Printed (A4 or Letter) it keeps its colours and folds
into a compact form: the details of a finding run on as paragraphs instead of tables, sources
on one line, and no page is broken for layout alone. Every piece of text from the input is
escaped (:func:`~compliance.reports.html_parts.esc`). The output depends on the report alone (no
clock), so the same report gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from compliance.exitcodes import ExitCode
from compliance.reports.html_chart import chart_html
from compliance.reports.html_parts import (
    DECISION_TEXT,
    SEVERITIES,
    Sources,
    chip,
    esc,
    finding_html,
    plural,
    stylesheet,
    summary_html,
    unanswered_html,
)
from compliance.reports.summary import WORST_FIRST, decision_rank, summarize
from compliance.reports.text import counts_text, grouped
from compliance.review.decision import Thresholds, exit_code
from compliance.review.findings import (
    Report,
    Review,
    SelectionOut,
    WaiversOut,
    WaiverStatus,
)
from compliance.review.redact import redaction_line
from compliance.rules.ruleset import effective_text
from compliance.words import counted

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


def _anchors(report: Report) -> list[str]:
    return [f"proposal-{i}" for i in range(1, len(report.reviews) + 1)]


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
    worst = next((d.value for d in WORST_FIRST if d in decisions), "empty")
    n = report.summary.proposals
    tallies = "".join(
        f'<li data-decision="{d.value}"><span class="n">{report.summary.decisions.get(d, 0)}'
        f"</span> {DECISION_TEXT[d].lower()}</li>"
        for d in WORST_FIRST
    )
    gate = exit_code(decisions)
    return (
        f'<header class="banner d-{worst}" id="decision" data-gate="{int(gate)}">\n'
        f'<p class="kicker">Batch review at {threshold}</p>\n'
        f'<p class="decision">{plural(n, "proposal")}</p>\n'
        f'<ul class="tallies">{tallies}</ul>\n'
        f'<p class="gate">Gate: {_GATE[gate]}.</p>\n</header>'
    )


def _narrowed(selection: SelectionOut | None, not_in_force: int = 0) -> str:
    """A warning under the banner when the decisions cover only part of the rules (those not
    in force on the judgment day, ``not_in_force``, do not count)."""
    if selection is None:
        return ""
    notes = []
    if not selection.builtin_rules:
        notes.append(
            "The built-in rules were not loaded: the decisions cover the project's own rules alone."
        )
    if selection.rules_run + not_in_force != selection.rules_loaded:
        notes.append(
            f"Only {selection.rules_run} of {selection.rules_loaded} rules ran: the decisions "
            "cover those rules alone."
        )
    return "".join(f'<p class="warning">{esc(n)}</p>\n' for n in notes)


# ---------------------------------------------------------------------------- the run


def _facts(report: Report, domain_title: Callable[[str], str]) -> str:
    rs = report.rule_set
    rows: list[tuple[str, str]] = [
        (
            "Tool",
            f"compliance {esc(report.tool_version)} (report version {esc(report.report_version)})",
        ),
        ("Engine", esc(report.engine)),
        ("Rule set", f"{esc(rs.name)} {esc(rs.version)} ({plural(rs.rule_count, 'rule')})"),
        ("Rule set hash", f"<code>{esc(rs.hash)}</code>"),
    ]
    if len(rs.sources) > 1:
        rows.append(
            (
                "Rule sources",
                "<br>".join(
                    f"{esc(s.name)} {esc(s.version)} ({plural(s.rule_count, 'rule')}, "
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
    rows += _selection_rows(report.selection, len(report.rules_not_in_force))
    if report.as_of is not None:
        rows.append(("Judged as of", f"{report.as_of}: the rules in force that day ran"))
    rows += [
        (
            "Not in force",
            esc(
                f"{n.rule_id} {n.title}: {n.reason.replace('_', ' ')} "
                f"({effective_text(n.effective_from, n.effective_until)})"
            ),
        )
        for n in report.rules_not_in_force
    ]
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


def _selection_rows(sel: SelectionOut | None, not_in_force: int = 0) -> list[tuple[str, str]]:
    if sel is None:
        return []
    ran = f"{sel.rules_run} of {counted(sel.rules_loaded, 'rule')} loaded"
    if sel.rules_run + not_in_force != sel.rules_loaded:
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


def _worst_first(report: Report) -> list[tuple[Review, str]]:
    """The reviews with their anchors, worst decision first (reject, needs information, approve
    with conditions, approve), in input order within a decision; the anchor is the input's
    place (``proposal-3``), so a link names the same proposal whatever the order."""
    pairs = zip(report.reviews, _anchors(report), strict=True)
    return sorted(pairs, key=lambda pair: decision_rank(pair[0].decision))


def _contents(ordered: list[tuple[Review, str]]) -> str:
    """A batch's table of contents: one row per proposal, worst first, linking to its section."""
    rows = []
    for review, anchor in ordered:
        rows.append(
            f'<tr data-decision="{review.decision.value}">'
            f'<td><a href="#{anchor}"><span class="pid">{esc(review.proposal_id)}</span></a></td>'
            f"<td>{esc(review.title)}</td><td>{chip(review.decision)}</td>"
            f'<td class="violations">{_violations(review)}</td>'
            f'<td class="num">{sum(review.counts.needs_information.values())}</td>'
            f'<td class="num">{sum(review.counts.waived.values())}</td></tr>'
        )
    return (
        '<section class="proposals">\n<h2 id="proposals">Proposals, worst first</h2>\n'
        '<table class="proposal-table">\n<colgroup><col class="c-id"><col class="c-title">'
        '<col class="c-decision"><col class="c-violations"><col><col></colgroup>\n'
        '<thead><tr><th scope="col">Proposal</th><th scope="col">Title</th>'
        '<th scope="col">Decision</th><th scope="col">Violations</th>'
        '<th scope="col" class="num">Needs information</th>'
        '<th scope="col" class="num">Waived</th></tr></thead>\n<tbody>\n'
        + "\n".join(rows)
        + "\n</tbody>\n</table>\n</section>"
    )


def _review(
    review: Review,
    anchor: str,
    thresholds: Thresholds,
    domain_title: Callable[[str], str],
    names: Mapping[str, str] | None,
    *,
    single: bool,
) -> tuple[str, str]:
    """(summary, section): the proposal's summary, and its section, which holds the summary in
    a batch (one proposal's page shows it under the banner instead). An incomplete proposal's
    questions come before its findings' details, a checklist to work through."""
    d = review.decision
    summary = summarize(review, names)
    in_order = [f for _, findings in grouped(review) for f in findings]
    numbered = [(f, f"{anchor}-finding-{n}") for n, f in enumerate(in_order, start=1)]
    finding_anchor: dict[str, str] = {}
    by_line: dict[tuple[str, str | None], list[str]] = {}
    for f, own in numbered:
        finding_anchor.setdefault(f.rule_id, own)
        by_line.setdefault((f.rule_id, f.subject), []).append(own)
    heading = (
        '<h2 id="summary">Findings, worst first</h2>'
        if single
        else f'<h3 id="{anchor}-summary">Findings, worst first</h3>'
    )
    lines = summary_html(summary, by_line, heading)
    questions = ""
    if review.unanswered:
        questions = unanswered_html(review.unanswered, summary.questions, finding_anchor)
    parts = [
        f'<section class="proposal" id="{anchor}" data-proposal="{esc(review.proposal_id)}" '
        f'data-decision="{d.value}">',
        f'<h2><span class="pid">{esc(review.proposal_id)}</span> {esc(review.title)}</h2>',
        f'<p class="verdict">{chip(d)} Findings: {esc(counts_text(review))}.</p>',
    ]
    if review.source:
        parts.append(f'<p class="source">Source: {esc(review.source)}</p>')
    if not single:
        parts.append(lines)
    if summary.questions_first:
        parts.append(questions)
    sources = Sources()
    at = 0
    parts.append('<div class="details">')
    for domain, findings in grouped(review):
        parts.append(
            f'<h3 class="domain" data-domain="{esc(domain)}">{esc(domain_title(domain))}'
            f" <small>({plural(len(findings), 'finding')})</small></h3>"
        )
        parts += [
            finding_html(f, own, thresholds, sources, names or {})
            for f, own in numbered[at : at + len(findings)]
        ]
        at += len(findings)
    parts.append("</div>")
    if not review.findings:
        parts.append('<p class="no-findings">No findings.</p>')
    if not summary.questions_first:
        parts.append(questions)
    parts += [sources.html(), "</section>"]
    return (lines if single else ""), "\n".join(part for part in parts if part)


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


def render_html(
    report: Report,
    domain_title: Callable[[str], str],
    names: Sequence[Mapping[str, str] | None] | None = None,
) -> str:
    """The report as one self-contained HTML page (see the module docstring).

    ``domain_title`` maps a domain id (``data_sharing``) to its display title, as
    ``RuleSet.domain_title`` does. ``names`` is ignored: each review names the list items it
    speaks of (``Review.item_names``); an item it gives no name is called by its place in its
    list (``data flow 2``).
    """
    thresholds = Thresholds.of_report(report)
    single = len(report.reviews) == 1
    if single:
        review = report.reviews[0]
        title = f"Compliance review: {review.proposal_id}: {DECISION_TEXT[review.decision].lower()}"
    else:
        title = f"Compliance review: {plural(report.summary.proposals, 'proposal')}"
    ordered = _worst_first(report)
    named = {a: r.item_names for r, a in ordered}
    sections = [
        _review(r, a, thresholds, domain_title, named.get(a), single=single) for r, a in ordered
    ]
    body = [
        "<h1>Compliance review</h1>",
        ""
        if report.redaction is None
        else f'<p class="redacted">{esc(redaction_line(report.redaction))}</p>',
        _banner(report),
        _narrowed(report.selection, len(report.rules_not_in_force)),
        *(summary for summary, _ in sections),
        '<div class="overview">',
        chart_html(report, domain_title),
        _facts(report, domain_title),
        "</div>",
        "" if single else _contents(ordered),
        *(section for _, section in sections),
    ]
    if report.waivers is not None:
        anchor_of: dict[str, str] = {}
        for review, anchor in ordered:
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
        f"<title>{esc(title)}</title>\n<style>{stylesheet()}</style>\n</head>\n"
        f'<body class="{"single" if single else "batch"}">\n'
        + "\n".join(part for part in body if part)
        + "\n</body>\n</html>\n"
    )
