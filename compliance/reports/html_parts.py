"""The pieces of the HTML report: escaping, colours, badges, one finding, the questions left.

Every piece of text from the input goes through :func:`esc`: control characters and
bidirectional overrides shown as escapes (as in the text report), then HTML-escaped, quotes
included; only ``http``/``https`` reference URLs become links. The page's stylesheet is
``report_html.css`` beside this module (package data), with the severity and decision colours
written from the tables below, so the chart, the badges and the banner cannot disagree.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from urllib.parse import urlsplit

from compliance.proposal.sourcemap import Location
from compliance.reports.summary import Question, ReviewSummary, item_label, place_text
from compliance.reports.text import BINDING, clean, value_text
from compliance.review.decision import Thresholds
from compliance.review.findings import (
    Decision,
    Evidence,
    Finding,
    ReferenceOut,
    UnansweredField,
    WaiverOnFinding,
)
from compliance.rules.spec import Severity

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


# ---------------------------------------------------------------------------- text


def esc(text: object) -> str:
    """Text from the input, safe in element content and in quoted attribute values."""
    return html.escape(clean(str(text)), quote=True)


def link(url: str, text: str) -> str:
    """``text`` (already escaped) linking to ``url`` if it is an http(s) URL, else the URL shown
    as text beside it."""
    parts = urlsplit(url) if url == clean(url) and not any(c.isspace() for c in url) else None
    if parts is not None and parts.scheme in ("http", "https") and parts.netloc:
        return f'<a class="ref" href="{esc(url)}" rel="noopener noreferrer">{text}</a>'
    return f'{text} <span class="url">{esc(url)}</span>' if url else text


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def place(location: Location) -> str:
    """Where a location is, its file marked ``src``: the print view leaves the file out, which
    its proposal's section names once (``file:113:17`` prints ``113:17``)."""
    if location.sheet is not None and location.cell:
        return f'<span class="src">{esc(location.source)}, </span>{esc(location.sheet)}!' + esc(
            location.cell
        )
    if location.sheet is None and location.line is not None:
        return f'<span class="src">{esc(location.source)}:</span>{location.line}:{location.column}'
    return esc(location)


def location_html(location: Location | None) -> str:
    if location is None:
        return ""
    if location.present:
        return place(location)
    if location.sheet is not None:
        return f"fill in {place(location)}"
    return f'<span class="how">not in the file: </span>add it at {place(location)}'


def chip(decision: Decision) -> str:
    return f'<span class="chip d-{decision.value}">{DECISION_TEXT[decision]}</span>'


def badge(severity: Severity) -> str:
    return f'<span class="badge s-{severity.value}">{severity.value}</span>'


# ---------------------------------------------------------------------------- one finding


def waiver_note(waiver: WaiverOnFinding, waived: bool) -> str:
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


def blocks_text(finding: Finding, thresholds: Thresholds) -> tuple[str, str]:
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


def _gate(text: str) -> str:
    """The gate's words, all but the first marked ``at`` (``Blocks``): a printed finding says
    only that, the banner giving the threshold and the outcome tag what the answer is for."""
    first, _, rest = text.partition(" ")
    return f'{first}<span class="at"> {rest}</span>'


def _evidence(evidence: list[Evidence]) -> str:
    rows = "\n".join(
        f'<tr class="role-{e.role}"><td class="path"><code>{esc(e.path)}</code></td>'
        f'<td class="value"><code>{esc(value_text(e))}</code></td>'
        f'<td class="role">{e.role}</td><td class="where">{location_html(e.location)}</td></tr>'
        for e in evidence
    )
    kind = "evidence" + ("" if any(e.role == "violation" for e in evidence) else " bare")
    return (
        f'<table class="{kind}">\n<colgroup><col class="c-field"><col class="c-value">'
        '<col class="c-role"><col class="c-where"></colgroup>\n'
        '<thead><tr><th scope="col">Field</th><th scope="col">Value seen</th>'
        '<th scope="col">Role</th><th scope="col">Where</th></tr></thead>\n<tbody>\n'
        f"{rows}\n</tbody>\n</table>"
    )


def finding_html(
    f: Finding,
    anchor: str,
    thresholds: Thresholds,
    sources: Sources,
    names: Mapping[str, str],
) -> str:
    """One finding in full: its head (severity, rule, title, outcome, gate), any waiver or
    severity change, the item, the message, the evidence, the fix and the sources."""
    outcome = "Violation" if f.outcome == "violation" else "Needs information"
    blocks_class, blocks = blocks_text(f, thresholds)
    classes = f"finding s-{f.severity.value} {blocks_class}"
    if f.waiver is not None and not f.waived:
        classes += " reopened"
    parts = [
        f'<article class="{classes}" id="{anchor}" data-rule="{esc(f.rule_id)}">',
        '<header class="finding-head">',
        badge(f.severity),
        f' <span class="rule-id">{esc(f.rule_id)}</span>',
        f' <span class="finding-title">{esc(f.title)}</span>',
        f'<br><span class="tag outcome-{f.outcome}">{outcome}</span>',
        f' <span class="tag gate-{blocks_class}">{_gate(blocks)}</span>',
    ]
    if f.waived:
        parts.append(' <span class="tag waived-tag">Waived</span>')
    parts.append("</header>")
    if f.waiver is not None:
        parts.append(waiver_note(f.waiver, f.waived))
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
        label = item_label(f.subject, names)
        named = f"{esc(label)} " if label != f.subject else ""
        parts.append(f'<p class="item">Item: {named}<code>{esc(f.subject)}</code></p>')
    parts.append(f'<p class="message">{_lead(f.message, ASK)}</p>')
    if f.evidence:
        parts.append(_evidence(f.evidence))
    parts.append(f'<p class="fix"><strong>Fix:</strong> {_lead(f.remediation, ANSWER)}</p>')
    if f.references:
        refs = "\n".join(
            f'<li class="{r.binding}"><span class="full">{_reference(r)}</span> '
            f'<span class="cite">[{sources.number(r)}]</span></li>'
            for r in f.references
        )
        parts.append(f'<ul class="references">\n{refs}\n</ul>')
    parts.append("</article>")
    return "\n".join(parts)


ASK = "Not enough information to check this rule. "
ANSWER = "Answer the questions named in this finding in the proposal, then review it again. "
"""The words every open question's message and fix begin with (compliance/review/reviewer.py):
printed once under the questions to answer, not on every finding."""


def _reference(r: ReferenceOut) -> str:
    """``Required by`` or ``Good practice per``, then the instrument and provision, linked."""
    return (
        f'<span class="binding">{BINDING[r.binding].capitalize()}</span> '
        f"{link(r.url, f'{esc(r.instrument)}, {esc(r.provision)}')}"
    )


def _lead(text: str, lead: str) -> str:
    """``text`` escaped, its standard ``lead`` marked ``lead`` for the print view to leave out."""
    if text.startswith(lead):
        return f'<span class="lead">{esc(lead)}</span>{esc(text[len(lead) :])}'
    return esc(text)


class Sources:
    """A proposal's references, numbered in order of first citation: in print a finding cites
    them by number, and the proposal's section lists each once."""

    def __init__(self) -> None:
        self._numbers: dict[tuple[str, str, str, str], int] = {}
        self._cited: list[ReferenceOut] = []

    def number(self, ref: ReferenceOut) -> int:
        key = (ref.binding, ref.instrument, ref.provision, ref.url)
        if key not in self._numbers:
            self._numbers[key] = len(self._numbers) + 1
            self._cited.append(ref)
        return self._numbers[key]

    def html(self) -> str:
        """The numbered list, for print only (on screen each finding shows its sources)."""
        if not self._cited:
            return ""
        items = "\n".join(
            f'<li class="{r.binding}" value="{n}">{_reference(r)}</li>'
            for n, r in enumerate(self._cited, start=1)
        )
        return (
            '<div class="sources">\n'
            "<h3>Sources <small>(good practice, unless marked required)</small></h3>\n"
            f'<ol class="source-list">\n{items}\n</ol>\n</div>'
        )


def unanswered_html(
    items: list[UnansweredField], questions: tuple[Question, ...], finding_anchor: dict[str, str]
) -> str:
    """The questions left to answer (each with the item it is about, from the summary), where
    each answer goes and the rules that need it."""
    rows = []
    for u, q in zip(items, questions, strict=True):
        needed = ", ".join(
            f'<a href="#{finding_anchor[r]}">{esc(r)}</a>' if r in finding_anchor else esc(r)
            for r in u.rules
        )
        about = f'<span class="about">{esc(q.item)}:</span> ' if q.item is not None else ""
        rows.append(
            f'<tr><td class="question">{about}{esc(u.question)}</td>'
            f'<td class="path"><code>{esc(u.path)}</code></td>'
            f'<td class="where">{location_html(u.location) or "the proposal"}</td>'
            f'<td class="rules">{needed}</td></tr>'
        )
    return (
        '<h3 class="questions">Questions to answer</h3>\n'
        '<p class="ask">Answer each question where it says, then review the proposal again: '
        "until then, the rules that need the answer cannot be checked.</p>\n"
        '<table class="unanswered">\n'
        '<colgroup><col class="c-question"><col class="c-field"><col class="c-where">'
        '<col class="c-rules"></colgroup>\n'
        '<thead><tr><th scope="col">Question</th><th scope="col">Field</th>'
        '<th scope="col">Where to answer</th><th scope="col">Needed by</th></tr></thead>\n'
        "<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>"
    )


# ---------------------------------------------------------------------------- the summary

_OUTCOME = {
    ("violation", False): "violation",
    ("needs_information", False): "needs information",
    ("violation", True): "waived",
    ("needs_information", True): "waived",
}


def summary_html(
    summary: ReviewSummary, anchors: dict[tuple[str, str | None], list[str]], heading: str
) -> str:
    """One line per finding, worst first (the order of :mod:`compliance.reports.summary`), each
    linking to the finding's details: severity, outcome, rule, title, and the item it is about
    by what it holds and, for a workbook, its sheet and row. ``anchors`` maps a finding's rule
    and item to the anchors of its details, in the review's order; ``heading`` is the block's
    heading element, opened and closed."""
    if not summary.lines:
        return ""
    left = {key: list(found) for key, found in anchors.items()}
    items = []
    for line in summary.lines:
        about = [esc(line.item)] if line.item is not None else []
        if line.place is not None:
            about.append(esc(place_text(line.place)))
        where = f' <span class="about">({"; ".join(about)})</span>' if about else ""
        outcome = _OUTCOME[(line.outcome, line.waived)]
        text = (
            f'{badge(line.severity)} <span class="tag outcome">{outcome}</span> '
            f'<span class="rule-id">{esc(line.rule_id)}</span> '
            f'<span class="line-title">{esc(line.title)}</span>{where}'
        )
        found = left.get((line.rule_id, line.subject))
        if found:
            text = f'<a href="#{found.pop(0)}">{text}</a>'
        items.append(
            f'<li class="s-{line.severity.value}" data-rule="{esc(line.rule_id)}">{text}</li>'
        )
    return (
        f'<div class="summary">\n{heading}\n<ol class="summary-lines">\n'
        + "\n".join(items)
        + "\n</ol>\n</div>"
    )


# ---------------------------------------------------------------------------- style


@cache
def stylesheet() -> str:
    """The page's CSS: the colour of each severity and decision, then ``report_html.css``."""
    sev = "\n".join(
        f".s-{s.value} {{ --sev: {SEVERITY_COLOUR[s]}; --sev-ink: {SEVERITY_INK[s]}; }}"
        for s in SEVERITIES
    )
    dec = "\n".join(
        f".d-{d.value} {{ --dec: {DECISION_COLOUR[d]}; --dec-ink: {DECISION_INK[d]}; }}"
        for d in Decision
    )
    css = files("compliance.reports").joinpath("html.css").read_text(encoding="utf-8")
    return f"\n{sev}\n{dec}\n{css}"
