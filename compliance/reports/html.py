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
on one line, and no page is broken for layout alone. The output depends on the report alone (no
clock), so the same report gives the same bytes.

The markup is in Jinja2 templates shipped in the package (``templates/*.html.j2``: the page, the
run and the waivers, one proposal, one finding, the chart, and small pieces such as badges) and
the style in ``html.css``: an organisation restyles the report there, without touching code.
This module and :mod:`compliance.reports.html_parts` work out what is shown; the templates say
how. The environment autoescapes: every value a template writes is escaped unless it is markup
a template made, its control characters shown as escapes first
(:func:`~compliance.reports.html_parts.shown`); an undefined name is an error, not an empty
string. Jinja2 is imported when the first page is rendered, never at start-up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING

from compliance.exitcodes import ExitCode
from compliance.reports.html_chart import chart_of
from compliance.reports.html_parts import (
    DECISION_TEXT,
    SEVERITIES,
    SEVERITY_COLOUR,
    SEVERITY_INK,
    plural,
    proposal_view,
    quotes_as_written,
    shown,
    stylesheet,
)
from compliance.reports.summary import WORST_FIRST, decision_rank
from compliance.reports.text import counts_text, value_text
from compliance.review.decision import Thresholds, exit_code
from compliance.review.findings import Report, Review, SelectionOut, WaiverStatus
from compliance.review.redact import redaction_line
from compliance.rules.ruleset import effective_text
from compliance.words import counted

if TYPE_CHECKING:
    import jinja2

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


@cache
def environment() -> jinja2.Environment:
    """The templates' environment: they are read from the package alone, once."""
    import jinja2  # noqa: PLC0415

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("compliance.reports", "templates"),
        autoescape=True,
        finalize=shown,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.globals.update(
        decision_text=DECISION_TEXT,
        severities=SEVERITIES,
        severity_colour=SEVERITY_COLOUR,
        severity_ink=SEVERITY_INK,
        worst_first=WORST_FIRST,
        gate_text=_GATE,
        waiver_status=_WAIVER_STATUS,
        plural=plural,
        counted=counted,
        counts_text=counts_text,
        value_text=value_text,
        effective_text=effective_text,
    )
    return env


def _anchors(report: Report) -> list[str]:
    return [f"proposal-{i}" for i in range(1, len(report.reviews) + 1)]


def _narrowed(selection: SelectionOut | None, not_in_force: int = 0) -> tuple[bool, list[str]]:
    """Whether the decisions cover only part of the rules (those not in force on the judgment
    day, ``not_in_force``, do not count), and the warnings shown under the banner if so."""
    if selection is None:
        return False, []
    notes = []
    if not selection.builtin_rules:
        notes.append(
            "The built-in rules were not loaded: the decisions cover the project's own rules alone."
        )
    narrowed = selection.rules_run + not_in_force != selection.rules_loaded
    if narrowed:
        notes.append(
            f"Only {selection.rules_run} of {selection.rules_loaded} rules ran: the decisions "
            "cover those rules alone."
        )
    return narrowed, notes


def _chosen(selection: SelectionOut | None) -> str:
    """The options that narrowed the run, as given (``--domain x --skip-rule Y``)."""
    if selection is None:
        return ""
    chosen = [f"--domain {d}" for d in selection.domains] + [f"--rule {r}" for r in selection.rules]
    chosen += [f"--skip-rule {r}" for r in selection.skipped]
    return " ".join(chosen)


def _worst_first(report: Report) -> list[tuple[Review, str]]:
    """The reviews with their anchors, worst decision first (reject, needs information, approve
    with conditions, approve), in input order within a decision; the anchor is the input's
    place (``proposal-3``), so a link names the same proposal whatever the order."""
    pairs = zip(report.reviews, _anchors(report), strict=True)
    return sorted(pairs, key=lambda pair: decision_rank(pair[0].decision))


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
    ordered = _worst_first(report)
    decisions = [r.decision for r in report.reviews]
    anchor_of: dict[str, str] = {}
    for review, anchor in ordered:
        anchor_of.setdefault(review.proposal_id, anchor)
    narrowed, warnings = _narrowed(report.selection, len(report.rules_not_in_force))
    page = (
        environment()
        .get_template("report.html.j2")
        .render(
            report=report,
            single=len(report.reviews) == 1,
            csp=CSP,
            stylesheet=stylesheet(),
            domain_title=domain_title,
            redaction=None if report.redaction is None else redaction_line(report.redaction),
            worst=next((d.value for d in WORST_FIRST if d in decisions), "empty"),
            gate=exit_code(decisions),
            warnings=warnings,
            narrowed=narrowed,
            chosen=_chosen(report.selection),
            chart=chart_of(report, domain_title),
            proposals=[proposal_view(r, a, thresholds, r.item_names) for r, a in ordered],
            anchor_of=anchor_of,
        )
    )
    return quotes_as_written(page)
