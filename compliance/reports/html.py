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
a template made, its control characters shown as escapes first, by the report's own escaping
(:func:`~compliance.reports.html_parts.written`, the environment's ``finalize``, which the
compiled templates call in place of Jinja2's escaping); an undefined name is an error, not an
empty string. Jinja2 is imported when the first page is rendered, never at start-up; the
templates are compiled once per process. A batch's views are worked out proposal by proposal as
the page is written, and a place in a file or a source, cited thousands of times in a batch, is
written by its macro once.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from functools import cache
from typing import TYPE_CHECKING, Generic, TypeVar, overload

from compliance.exitcodes import ExitCode
from compliance.proposal.sourcemap import Location
from compliance.reports.html_chart import chart_of
from compliance.reports.html_parts import (
    DECISION_TEXT,
    SEVERITIES,
    SEVERITY_COLOUR,
    SEVERITY_INK,
    Pieces,
    ProposalView,
    Source,
    plural,
    proposal_view,
    stylesheet,
    text_of,
    written,
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

T = TypeVar("T")

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
    from jinja2 import nodes  # noqa: PLC0415
    from jinja2.compiler import CodeGenerator, Frame  # noqa: PLC0415

    class Generator(CodeGenerator):
        """Code that writes a value with the environment's ``finalize`` alone where autoescaping
        is on (:func:`~compliance.reports.html_parts.written` escapes it, markup as it is),
        instead of finalizing it and then escaping it again with :func:`markupsafe.escape`: one
        call per value, and quotes spelt as the report spells them. Where a template turns
        autoescaping off, a value is written as text (``text_of``). Values are never folded
        into the code when it is compiled: each is escaped the same way, when the page is
        rendered. The hooks are those Jinja2's own native-types generator overrides."""

        def _output_child_to_const(
            self, node: nodes.Expr, frame: Frame, finalize: CodeGenerator._FinalizeInfo
        ) -> str:
            if not isinstance(node, nodes.TemplateData):
                raise nodes.Impossible()
            return super()._output_child_to_const(node, frame, finalize)

        def _output_child_pre(
            self, node: nodes.Expr, frame: Frame, finalize: CodeGenerator._FinalizeInfo
        ) -> None:
            if frame.eval_ctx.volatile:
                self.write(
                    "(environment.finalize if context.eval_ctx.autoescape "
                    "else environment.text_of)("
                )
            elif frame.eval_ctx.autoescape:
                self.write("environment.finalize(")
            else:
                self.write("environment.text_of(")

        def _output_child_post(
            self, node: nodes.Expr, frame: Frame, finalize: CodeGenerator._FinalizeInfo
        ) -> None:
            self.write(")")

    class Environment(jinja2.Environment):
        code_generator_class = Generator
        text_of = staticmethod(text_of)

    env = Environment(
        loader=jinja2.PackageLoader("compliance.reports", "templates"),
        autoescape=True,
        finalize=written,
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


@cache
def _pieces() -> Pieces:
    """The macros of ``common.html.j2`` that write a place in a file and a source, each called
    once per distinct value."""
    common = vars(environment().get_template("common.html.j2").module)
    return Pieces(
        place=_Once(common["location"], _location_key),
        reference=_Once(common["reference"], _source_key),
    )


def _source_key(source: Source) -> tuple[str, ...]:
    """What ``reference`` writes of a source: not its number."""
    return (source.binding, source.instrument, source.provision, source.url)


def _location_key(location: Location | None) -> tuple[object, ...] | None:
    if location is None:
        return None
    return (
        location.source,
        location.pointer,
        location.line,
        location.column,
        location.sheet,
        location.cell,
        location.present,
    )


class _Once(Generic[T]):
    """A macro of one value written once per value (of what it writes: ``key``), the page
    reusing it thereafter: a batch's page cites the same few hundred sources, and the same
    places in its files, thousands of times, and a macro call costs more than the markup it
    writes. What is kept is bounded."""

    def __init__(self, macro: Callable[[T], str], key: Callable[[T], Hashable]) -> None:
        self._macro = macro
        self._key = key
        self._written: dict[Hashable, str] = {}

    def __call__(self, value: T) -> str:
        key = self._key(value)
        markup = self._written.get(key)
        if markup is None:
            if len(self._written) >= 4096:
                self._written.clear()
            markup = self._written[key] = self._macro(value)
        return markup


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


class _Views(Sequence[ProposalView]):
    """What each proposal's section shows, in the page's order, worked out when the template
    comes to it, so that a batch's views are not all held at once (and the collector does not
    walk them over and over while the page is rendered)."""

    def __init__(self, ordered: list[tuple[Review, str]], thresholds: Thresholds) -> None:
        self._ordered = ordered
        self._thresholds = thresholds
        self._pieces = _pieces()
        self._last: tuple[int, ProposalView] | None = None

    def __len__(self) -> int:
        return len(self._ordered)

    @overload
    def __getitem__(self, index: int) -> ProposalView: ...
    @overload
    def __getitem__(self, index: slice) -> list[ProposalView]: ...
    def __getitem__(self, index: int | slice) -> ProposalView | list[ProposalView]:
        if isinstance(index, slice):
            return [self[i] for i in range(len(self))[index]]
        index = range(len(self))[index]
        if self._last is None or self._last[0] != index:
            review, anchor = self._ordered[index]
            view = proposal_view(review, anchor, self._thresholds, review.item_names, self._pieces)
            self._last = (index, view)
        return self._last[1]


def render_html(
    report: Report,
    domain_title: Callable[[str], str],
) -> str:
    """The report as one self-contained HTML page (see the module docstring).

    ``domain_title`` maps a domain id (``data_sharing``) to its display title, as
    ``RuleSet.domain_title`` does. Each review names the list items it speaks of
    (``Review.item_names``); an item it gives no name is called by its place in its list
    (``data flow 2``).
    """
    thresholds = Thresholds.of_report(report)
    ordered = _worst_first(report)
    decisions = [r.decision for r in report.reviews]
    anchor_of: dict[str, str] = {}
    for review, anchor in ordered:
        anchor_of.setdefault(review.proposal_id, anchor)
    narrowed, warnings = _narrowed(report.selection, len(report.rules_not_in_force))
    return (
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
            ordered=ordered,
            proposals=_Views(ordered, thresholds),
            anchor_of=anchor_of,
        )
    )
