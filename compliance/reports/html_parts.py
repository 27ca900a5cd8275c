"""The pieces of the HTML report: escaping, colours, the stylesheet, and what the templates show
of one proposal (its summary lines, findings and questions, numbered sources).

Every value a template writes is written by :func:`written` (control characters and
bidirectional overrides as escapes, as in the text report, then HTML-escaped, quotes included,
as the report has always spelt them; markup as it is): the environment's ``finalize``, called
in place of autoescaping's escape (:mod:`compliance.reports.html`); only ``http``/``https``
reference URLs become links (:func:`linkable`). The page's stylesheet is ``html.css`` beside
this module (package data), with the severity and decision colours written from the tables
below, so the chart, the badges and the banner cannot disagree. The markup is in
``templates/``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from html import escape
from importlib.resources import files
from typing import Any
from urllib.parse import urlsplit

from compliance.proposal.sourcemap import Location
from compliance.reports.summary import (
    FindingLine,
    ReviewSummary,
    item_label,
    place_text,
    summarize,
)
from compliance.reports.text import BINDING, clean, grouped, value_text
from compliance.review.decision import Thresholds
from compliance.review.findings import (
    Decision,
    Evidence,
    Finding,
    ReferenceOut,
    Review,
    UnansweredField,
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

ASK = "Not enough information to check this rule. "
ANSWER = "Answer the questions named in this finding in the proposal, then review it again. "
"""The words every open question's message and fix begin with (compliance/review/reviewer.py):
printed once under the questions to answer, not on every finding."""

_OUTCOME = {
    ("violation", False): "violation",
    ("needs_information", False): "needs information",
    ("violation", True): "waived",
    ("needs_information", True): "waived",
}


# ---------------------------------------------------------------------------- text


def written(value: Any) -> Any:
    """What a template writes of a value (the environment's ``finalize``, which escapes in
    place of autoescaping: :mod:`compliance.reports.html`): markup (a macro's output, a value
    marked ``safe``) as it is; anything else as text with its control characters and
    bidirectional overrides shown as escapes (as in the text report), so input cannot hide or
    reorder what the page says, then HTML-escaped, quotes included, as :func:`html.escape`
    spells them (``&quot;``, ``&#x27;``), as the report always has."""
    kind = type(value)
    if kind is str:
        return _escaped(value) if len(value) <= _SHORT else escape(clean(value))
    if hasattr(value, "__html__"):
        return value.__html__()
    if kind is int:
        return str(value)
    return escape(clean(str(value)))


_SHORT = 200


@lru_cache(maxsize=2048)
def _escaped(text: str) -> str:
    """A short text escaped: the same few (severities, rule ids, titles, sources, the file)
    are written thousands of times in a batch's page; the cache is bounded, in entries and in
    their length, so a long-running service does not hold on to proposals' text."""
    return escape(clean(text))


def text_of(value: Any) -> str:
    """What a template writes of a value where it has turned autoescaping off: the text of
    :func:`written`, not escaped."""
    if hasattr(value, "__html__"):
        return str(value.__html__())
    return clean(str(value))


@cache
def linkable(url: str) -> bool:
    """Whether a reference's URL becomes a link: an http(s) URL with a host, written plainly
    (anything else is shown as text beside the reference)."""
    if url != clean(url) or any(c.isspace() for c in url):
        return False
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _lead(text: str, lead: str) -> tuple[str, str]:
    """``text`` as (its standard ``lead``, the rest): the print view leaves the lead out. The
    lead is empty when the text does not begin with it."""
    if text.startswith(lead):
        return lead, text[len(lead) :]
    return "", text


# ---------------------------------------------------------------------------- what is shown


@dataclass(frozen=True, slots=True)
class Gate:
    """Whether a finding holds the proposal back at the threshold: ``kind`` is ``waived``,
    ``blocks``, ``condition`` (a condition of approval) or ``info``."""

    kind: str
    threshold: str
    own: bool
    """The finding's domain has its own threshold."""
    violation: bool


def gate_of(finding: Finding, thresholds: Thresholds) -> Gate:
    threshold = thresholds.of(finding.domain).value
    own = finding.domain in thresholds.domains
    violation = finding.outcome == "violation"
    if finding.waived:
        kind = "waived"
    elif thresholds.blocks(finding):
        kind = "blocks"
    elif finding.severity.rank >= Severity.low.rank:
        kind = "condition"
    else:
        kind = "info"
    return Gate(kind, threshold, own, violation)


@dataclass(frozen=True, slots=True)
class FindingView:
    """One finding in full, as ``finding.html.j2`` shows it."""

    finding: Finding
    anchor: str
    gate: Gate
    label: str
    """The item by what it holds (``data flow "Ministry"``), or its path when it has no name."""
    message: tuple[str, str]
    fix: tuple[str, str]
    evidence: list[tuple[Evidence, str, str]]
    """Each piece of evidence with the value seen, as the text report writes it, and where it
    is (the markup of the ``location`` macro)."""
    references: list[tuple[Source, str]]
    """Each source the finding cites, with its markup (the ``reference`` macro's)."""
    bare: bool
    """No evidence item is the violation itself."""


@dataclass(frozen=True, slots=True)
class LineView:
    """One summary line: the line, its outcome's words, what it is about (the item, the
    workbook's sheet and row) and the anchor of the finding's details."""

    line: FindingLine
    outcome: str
    about: list[str]
    target: str | None


@dataclass(frozen=True, slots=True)
class QuestionView:
    field: UnansweredField
    item: str | None
    rules: list[tuple[str, str | None]]
    """The rules that need the answer, each with the anchor of its finding, if shown."""
    where: str
    """Where the answer goes (the markup of the ``location`` macro)."""


@dataclass(frozen=True, slots=True)
class ProposalView:
    """A proposal's section: the review, its anchor (``proposal-3``), its summary lines, its
    questions (first when the proposal is incomplete), its findings grouped by domain and the
    sources they cite, numbered in order of first citation."""

    review: Review
    anchor: str
    lines: list[LineView]
    questions: list[QuestionView]
    questions_first: bool
    domains: list[tuple[str, list[FindingView]]]
    sources: list[tuple[Source, str]]


@dataclass(frozen=True, slots=True)
class Source:
    """A reference as the page cites it: ``Required by`` or ``Good practice per`` (``words``),
    then the instrument and provision, linked when the URL is an http(s) one (``link``), else
    with the URL beside them as text."""

    number: int
    binding: str
    words: str
    instrument: str
    provision: str
    url: str
    link: bool


@dataclass(frozen=True, slots=True)
class Pieces:
    """The markup of the pieces a page writes thousands of times, by the templates' macros
    (:mod:`compliance.reports.html` writes each distinct one once): a place in a file
    (``location``) and a source (``reference``)."""

    place: Callable[[Location | None], str]
    reference: Callable[[Source], str]


class _Sources:
    """A proposal's references, numbered in order of first citation: in print a finding cites
    them by number, and the proposal's section lists each once."""

    def __init__(self) -> None:
        self._cited: dict[tuple[str, str, str, str], Source] = {}

    def cite(self, ref: ReferenceOut) -> Source:
        key = (ref.binding, ref.instrument, ref.provision, ref.url)
        source = self._cited.get(key)
        if source is None:
            source = Source(
                number=len(self._cited) + 1,
                binding=ref.binding,
                words=BINDING[ref.binding].capitalize(),
                instrument=ref.instrument,
                provision=ref.provision,
                url=ref.url,
                link=linkable(ref.url),
            )
            self._cited[key] = source
        return source

    def cited(self, markup: Pieces) -> list[tuple[Source, str]]:
        return [(s, markup.reference(s)) for s in self._cited.values()]


def _lines(
    summary: ReviewSummary, anchors: dict[tuple[str, str | None], list[str]]
) -> list[LineView]:
    """One line per finding, worst first (the order of :mod:`compliance.reports.summary`), each
    linking to the finding's details; ``anchors`` maps a finding's rule and item to the anchors
    of its details, in the review's order."""
    left = {key: list(found) for key, found in anchors.items()}
    out = []
    for line in summary.lines:
        about = [line.item] if line.item is not None else []
        if line.place is not None:
            about.append(place_text(line.place))
        found = left.get((line.rule_id, line.subject))
        target = found.pop(0) if found else None
        out.append(LineView(line, _OUTCOME[(line.outcome, line.waived)], about, target))
    return out


def proposal_view(
    review: Review,
    anchor: str,
    thresholds: Thresholds,
    names: Mapping[str, str] | None,
    markup: Pieces,
) -> ProposalView:
    """What a proposal's section shows; the findings in the order of the text report (grouped by
    domain, worst first), each anchored ``{anchor}-finding-{n}``."""
    summary = summarize(review, names)
    groups = grouped(review)
    in_order = [f for _, findings in groups for f in findings]
    numbered = [(f, f"{anchor}-finding-{n}") for n, f in enumerate(in_order, start=1)]
    finding_anchor: dict[str, str] = {}
    by_line: dict[tuple[str, str | None], list[str]] = {}
    for f, own in numbered:
        finding_anchor.setdefault(f.rule_id, own)
        by_line.setdefault((f.rule_id, f.subject), []).append(own)
    questions = [
        QuestionView(
            u, q.item, [(r, finding_anchor.get(r)) for r in u.rules], markup.place(u.location)
        )
        for u, q in zip(review.unanswered, summary.questions, strict=True)
    ]
    sources = _Sources()
    domains: list[tuple[str, list[FindingView]]] = []
    at = 0
    for domain, findings in groups:
        views = []
        for f, own in numbered[at : at + len(findings)]:
            views.append(
                FindingView(
                    finding=f,
                    anchor=own,
                    gate=gate_of(f, thresholds),
                    label=item_label(f.subject, names or {}) if f.subject else "",
                    message=_lead(f.message, ASK),
                    fix=_lead(f.remediation, ANSWER),
                    evidence=[(e, value_text(e), markup.place(e.location)) for e in f.evidence],
                    references=[(s, markup.reference(s)) for s in map(sources.cite, f.references)],
                    bare=not any(e.role == "violation" for e in f.evidence),
                )
            )
        domains.append((domain, views))
        at += len(findings)
    return ProposalView(
        review=review,
        anchor=anchor,
        lines=_lines(summary, by_line),
        questions=questions,
        questions_first=summary.questions_first,
        domains=domains,
        sources=sources.cited(markup),
    )


# ---------------------------------------------------------------------------- style


@cache
def stylesheet() -> str:
    """The page's CSS: the colour of each severity and decision, then ``html.css``."""
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
