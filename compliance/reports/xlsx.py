"""The workbook report: what a reviewer who triages in a spreadsheet opens.

:func:`render_xlsx` turns a :class:`~compliance.review.findings.Report` into the bytes of an
``.xlsx`` workbook with three sheets:

``Summary`` (the first, active sheet)
    The run (tool version, engine, rule set name, version and hash, threshold, report version,
    number of proposals and the decisions taken; when rules were selected, disabled or re-graded,
    how many of the loaded rules ran, the config and the changes, since that qualifies every
    decision). Then *Decision per proposal*: id, title, source, decision (coloured),
    violations by severity (blocker ... info) and the number of findings that need information.
    Then *Findings by domain and severity*: one row per domain that has findings, worst domain
    first (as the text report orders them), counting every finding of every proposal (violations
    and needs information) by severity, with a total column and a total row; beside it a stacked
    bar chart of the same counts, one series per severity. With no findings at all the table
    holds a single "No findings" line and there is no chart.

``Findings``
    One row per finding, proposals in report order and each proposal's findings in report order
    (worst first). An Excel table (filter buttons), header row and id column frozen. Columns:
    Proposal id, Decision, Severity (filled with the severity's colour), Outcome, Domain, Rule,
    Title, Message, Subject, Field, Value seen, Location, Remediation, Severity changed and
    Reference 1 ... Reference N. Field, Value seen and Location hold one line per evidence item,
    aligned; a field that only made the rule apply is marked ``[context]``, an unanswered one
    ``[unanswered]``, as in the text report. A location reads ``sheet!cell`` for workbook input,
    ``file:line:column`` for JSON, else the file; when the first evidence item is in a workbook
    the Location cell links to that cell (``book.xlsx#'Sheet'!C14``, the book's path relative to
    the directory the report is written to: see :mod:`compliance.reports.xlsx_links`). Each
    reference cell reads ``instrument, provision`` and links to the reference's URL. Row heights
    are estimated from the text (Excel does not fit wrapped rows when it opens a file), at most
    27 lines (Excel's highest row). It prints landscape, one page wide (as many long as it
    takes), the header row on every page, page numbers in the footer.

``Unanswered``
    The questions left to answer, one row per proposal and field: proposal id, field, question,
    the rules that need the answer and where the answer goes. Also an Excel table.

Everything written is plain data: counts are computed here and written as numbers, and the
workbook holds no formula. Text from the input (titles, answers, sheet names, paths) is written
through :func:`_put`, which keeps a string starting with ``=`` a string (openpyxl would otherwise
store it as a formula) and marks strings starting with ``= + - @`` with Excel's quote prefix so
that editing the cell does not turn it into one; characters XML cannot hold are replaced by
U+FFFD, and text longer than a cell holds is cut with a trailing "…".
"""

from __future__ import annotations

import functools
import io
import json
import math
import os
from collections.abc import Callable, Iterable
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.chart import BarChart
from openpyxl.chart import Reference as ChartReference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.table import Table, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from compliance.reports.text import thresholds_text, waiver_text, waivers_summary
from compliance.reports.xlsx_links import Linker, link_base, location_link, location_text
from compliance.review.findings import Decision, Evidence, Finding, Report, Review
from compliance.rules.spec import Severity
from compliance.words import counted
from compliance.workbook.xlsxtext import clean, set_text

SEVERITIES = list(Severity)

SEVERITY_FILL = {
    Severity.blocker: "8B0000",
    Severity.high: "FF5050",
    Severity.medium: "FFA500",
    Severity.low: "FFE066",
    Severity.info: "D9D9D9",
}
"""Fill colour (RGB hex) of a severity cell; blocker cells have white text."""

DECISION_FILL = {
    Decision.reject: "FF5050",
    Decision.needs_information: "FFA500",
    Decision.approve_with_conditions: "FFE066",
    Decision.approve: "A9D08E",
}

_FONT = "Calibri"  # openpyxl's default; a Font without a name renders in a serif elsewhere
_LINK_FONT = Font(name=_FONT, color="0563C1", underline="single")
_BOLD = Font(name=_FONT, bold=True)
_HEADING = Font(name=_FONT, bold=True, size=12)
_WRAP = Alignment(wrap_text=True, vertical="top")
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_LINE_HEIGHT = 15.0
_MAX_LINES = 27  # 405 points: Excel's rows are at most 409 points high

# Narrow enough that fitting the sheet to one page wide keeps text legible, wide enough that
# the long columns wrap to a few lines: 300 characters, and 24 per reference.
FINDINGS_COLUMNS: list[tuple[str, float]] = [
    ("Proposal id", 14),
    ("Decision", 11),
    ("Severity", 9),
    ("Outcome", 11),
    ("Domain", 16),
    ("Rule", 9),
    ("Title", 28),
    ("Message", 50),
    ("Subject", 14),
    ("Field", 30),
    ("Value seen", 20),
    ("Location", 18),
    ("Remediation", 50),
    ("Severity changed", 20),
]
REFERENCE_WIDTH = 24.0

SUMMARY_WIDTHS = [24.0, 50.0, 40.0, 22.0, 10.0, 10.0, 10.0, 10.0, 10.0, 18.0]
COUNTS_COLUMN = 5
"""Summary: the first severity column (E) of both the decisions and the domain table."""

UNANSWERED_COLUMNS: list[tuple[str, float]] = [
    ("Proposal id", 18),
    ("Field", 40),
    ("Question", 50),
    ("Needed by", 24),
    ("Location", 30),
]


# ---------------------------------------------------------------------------- safe writing


def _put(ws: Worksheet, row: int, column: int, value: str | int | None) -> Cell:
    """Write one value: the only way this module writes a cell.

    A string goes through :func:`compliance.workbook.xlsxtext.set_text`: made safe, stored as a
    string, never a formula.
    """
    cell = _cell(ws, row, column)
    if isinstance(value, str):
        if value:  # an empty string stays an empty cell
            set_text(cell, value)
    elif value is not None:
        cell.value = int(value)
    return cell


def _cell(ws: Worksheet, row: int, column: int) -> Cell:
    cell = ws.cell(row=row, column=column)
    assert isinstance(cell, Cell), "no merged cells here"
    return cell


def _link(cell: Cell, target: str) -> None:
    cell.hyperlink = clean(target)
    cell.font = _LINK_FONT


# ---------------------------------------------------------------------------- wording


def decision_text(decision: Decision) -> str:
    """``approve_with_conditions`` -> ``approve with conditions``."""
    return decision.value.replace("_", " ")


def outcome_text(outcome: str) -> str:
    return outcome.replace("_", " ")


def value_text(value: Any) -> str:
    """A value seen, as the text report shows it (strings quoted, JSON for lists)."""
    if value is None:
        return "(not answered)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return json.dumps(value, ensure_ascii=False, default=str)


def severity_change_text(finding: Finding) -> str:
    o = finding.severity_override
    if o is None:
        return ""
    return (
        f"{finding.severity.value} by {o.origin} "
        f"(rule default {o.original_severity.value}): {o.reason}"
    )


def _evidence_field(e: Evidence) -> str:
    return e.path if e.role == "violation" else f"[{e.role}] {e.path}"


def _lines(texts: Iterable[str]) -> str:
    return "\n".join(texts).rstrip("\n")


# ---------------------------------------------------------------------------- layout helpers


def _header(ws: Worksheet, row: int, names: list[str], column: int = 1) -> None:
    for i, name in enumerate(names):
        cell = _put(ws, row, column + i, name)
        cell.font = _BOLD
        cell.fill = _HEADER_FILL
        cell.alignment = _WRAP
        if name.lower() in Severity.__members__:
            _fill_severity(cell, Severity(name.lower()))


def _fill_severity(cell: Cell, severity: Severity) -> None:
    cell.fill = PatternFill("solid", fgColor=SEVERITY_FILL[severity])
    if severity is Severity.blocker:
        cell.font = Font(name=_FONT, bold=True, color="FFFFFF")


def _widths(ws: Worksheet, widths: Iterable[float]) -> None:
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width


def _row_height(ws: Worksheet, row: int, texts: Iterable[tuple[str, float]]) -> None:
    """An estimated height for wrapped text (Excel does not fit rows when it opens a file)."""
    lines = 1
    for text, width in texts:
        chars = max(int(width * 1.1), 1)
        n = sum(max(1, math.ceil(len(line) / chars)) for line in text.split("\n"))
        lines = max(lines, n)
    ws.row_dimensions[row].height = _LINE_HEIGHT * min(lines, _MAX_LINES)


def _table(ws: Worksheet, name: str, columns: int, last_row: int) -> None:
    """Make ``A1:<last column><last_row>`` an Excel table (header and at least one row)."""
    ref = f"A1:{get_column_letter(columns)}{max(last_row, 2)}"
    table = Table(displayName=name, ref=ref)
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    ws.add_table(table)


def _print_setup(ws: Worksheet, fit_width: bool) -> None:
    """Landscape; with ``fit_width``, scaled to one page wide and as many pages long as it takes
    (fitToWidth 1, fitToHeight 0), narrow margins, and page numbers in the footer."""
    ws.page_setup.orientation = "landscape"
    if fit_width:
        props = ws.sheet_properties.pageSetUpPr
        if props is None:
            props = ws.sheet_properties.pageSetUpPr = PageSetupProperties()
        props.fitToPage = True
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.page_margins = PageMargins(left=0.25, right=0.25, top=0.5, bottom=0.5, footer=0.25)
        ws.oddFooter.center.text = "Page &P of &N"


# ---------------------------------------------------------------------------- Summary


def _run_lines(report: Report) -> list[tuple[str, str | int]]:
    rs = report.rule_set
    decisions = ", ".join(
        f"{n} {decision_text(d)}" for d, n in report.summary.decisions.items() if n
    )
    lines: list[tuple[str, str | int]] = [
        ("Tool version", f"compliance {report.tool_version}"),
        ("Engine", report.engine),
        ("Rule set", rs.name),
        ("Rule set version", rs.version),
        ("Rule set hash", rs.hash),
        ("Rules", rs.rule_count),
        ("Threshold", thresholds_text(report)),
        ("Report version", report.report_version),
        ("Proposals", report.summary.proposals),
        ("Decisions", decisions or "none"),
    ]
    if report.waivers is not None:
        lines.append(("Waivers", waivers_summary(report.waivers)))
    sel = report.selection
    if sel is None:
        return lines
    ran = f"{sel.rules_run} of {counted(sel.rules_loaded, 'rule')} loaded"
    if sel.rules_run != sel.rules_loaded:
        chosen = [f"--domain {d}" for d in sel.domains] + [f"--rule {r}" for r in sel.rules]
        chosen += [f"--skip-rule {r}" for r in sel.skipped]
        how = f" ({' '.join(chosen)})" if chosen else ""
        ran = f"only {ran}{how}: the decisions cover those rules alone"
    lines.append(("Rules run", ran))
    lines.append(("Config", sel.config or "none"))
    if not sel.builtin_rules:
        lines.append(
            ("Built-in rules", "not loaded: the decisions cover the project's own rules alone")
        )
    lines += [("Disabled", f"{d.rule_id} by {d.origin}: {d.reason}") for d in sel.disabled]
    lines += [
        (
            "Re-graded",
            f"{o.rule_id} {o.original_severity.value} -> {o.severity.value} "
            f"by {o.origin}: {o.reason}",
        )
        for o in sel.severity_overrides
    ]
    return lines


def domain_counts(report: Report) -> dict[str, dict[Severity, int]]:
    """Findings (violations and needs information) of all reviews by domain and severity;
    domains ordered worst first, then by number of findings, then by id."""
    counts: dict[str, dict[Severity, int]] = {}
    for review in report.reviews:
        for f in review.findings:
            counts.setdefault(f.domain, dict.fromkeys(SEVERITIES, 0))[f.severity] += 1

    def key(item: tuple[str, dict[Severity, int]]) -> tuple[int, int, str]:
        domain, by_severity = item
        worst = max(s.rank for s, n in by_severity.items() if n)
        return (-worst, -sum(by_severity.values()), domain)

    return dict(sorted(counts.items(), key=key))


def _summary(ws: Worksheet, report: Report, domain_title: Callable[[str], str]) -> None:
    ws.title = "Summary"
    title = _put(ws, 1, 1, "Compliance review report")
    title.font = Font(name=_FONT, bold=True, size=14)
    row = 3
    for key, value in _run_lines(report):
        _put(ws, row, 1, key).font = _BOLD
        cell = _put(ws, row, 2, value)
        cell.alignment = Alignment(horizontal="left", vertical="top")
        row += 1

    # Decisions
    row += 1
    _put(ws, row, 1, "Decision per proposal").font = _HEADING
    _put(
        ws,
        row + 1,
        1,
        "Violations by severity; needs information: findings the proposal lacks answers for.",
    )
    row += 2
    names = ["Proposal id", "Title", "Source", "Decision"]
    names += [s.value.capitalize() for s in SEVERITIES] + ["Needs information"]
    _header(ws, row, names)
    for review in report.reviews:
        row += 1
        _decision_row(ws, row, review)

    # Findings by domain and severity: counts in the columns of the decisions' counts
    row += 2
    _put(ws, row, 1, "Findings by domain and severity").font = _HEADING
    row += 1
    header_row = row
    _header(ws, row, ["Domain", "", "", ""])
    _header(ws, row, [s.value.capitalize() for s in SEVERITIES] + ["Total"], column=COUNTS_COLUMN)
    total_column = COUNTS_COLUMN + len(SEVERITIES)
    counts = domain_counts(report)
    if not counts:
        _put(ws, row + 1, 1, "No findings")
        return
    for domain, by_severity in counts.items():
        row += 1
        _put(ws, row, 1, domain_title(domain))  # runs on over the empty cells beside it
        for i, s in enumerate(SEVERITIES, start=COUNTS_COLUMN):
            _put(ws, row, i, by_severity[s])
        _put(ws, row, total_column, sum(by_severity.values()))
    last_domain_row = row
    row += 1
    _put(ws, row, 1, "Total").font = _BOLD
    for i, s in enumerate(SEVERITIES, start=COUNTS_COLUMN):
        _put(ws, row, i, sum(c[s] for c in counts.values())).font = _BOLD
    _put(ws, row, total_column, sum(sum(c.values()) for c in counts.values())).font = _BOLD
    _domain_chart(
        ws, header_row, last_domain_row, anchor=f"{get_column_letter(total_column + 2)}{header_row}"
    )


def _domain_chart(ws: Worksheet, header_row: int, last_row: int, anchor: str) -> None:
    """A stacked bar chart of the domain table: one bar per domain, one series per severity."""
    chart = BarChart()
    chart.type = "bar"  # horizontal bars: domain titles are long
    chart.grouping = "stacked"
    chart.overlap = 100
    chart.title = "Findings by domain and severity"
    chart.y_axis.title = "Findings"
    chart.x_axis.scaling.orientation = "maxMin"  # domains top-down, as in the table
    chart.y_axis.crosses = "max"  # ... with the count axis still at the bottom
    chart.x_axis.delete = False  # openpyxl 3.1 hides the axes otherwise
    chart.y_axis.delete = False
    chart.y_axis.majorGridlines = None
    chart.height = max(7.5, 1.0 * (last_row - header_row) + 4)
    chart.width = 22
    data = ChartReference(
        ws,
        min_col=COUNTS_COLUMN,
        max_col=COUNTS_COLUMN + len(SEVERITIES) - 1,
        min_row=header_row,
        max_row=last_row,
    )
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(
        ChartReference(ws, min_col=1, max_col=1, min_row=header_row + 1, max_row=last_row)
    )
    for series, s in zip(chart.series, SEVERITIES, strict=True):
        series.graphicalProperties.solidFill = SEVERITY_FILL[s]
        series.graphicalProperties.line.solidFill = SEVERITY_FILL[s]
    ws.add_chart(chart, anchor)


def _decision_row(ws: Worksheet, row: int, review: Review) -> None:
    values: list[str | int] = [
        review.proposal_id,
        review.title,
        review.source or "",
        decision_text(review.decision),
    ]
    values += [review.counts.violations.get(s, 0) for s in SEVERITIES]
    values.append(sum(review.counts.needs_information.values()))
    for column, value in enumerate(values, start=1):
        _put(ws, row, column, value).alignment = _WRAP
    _cell(ws, row, 4).fill = PatternFill("solid", fgColor=DECISION_FILL[review.decision])
    _row_height(
        ws, row, [(review.title, SUMMARY_WIDTHS[1]), (review.source or "", SUMMARY_WIDTHS[2])]
    )


# ---------------------------------------------------------------------------- Findings


def _findings(
    ws: Worksheet, report: Report, domain_title: Callable[[str], str], links: Linker
) -> None:
    n_refs = max(
        [len(f.references) for r in report.reviews for f in r.findings] + [1],
    )
    names = [name for name, _ in FINDINGS_COLUMNS]
    names += [f"Reference {i}" for i in range(1, n_refs + 1)]
    widths = [w for _, w in FINDINGS_COLUMNS] + [REFERENCE_WIDTH] * n_refs
    _header(ws, 1, names)
    row = 1
    for review in report.reviews:
        for f in review.findings:
            row += 1
            values = [
                review.proposal_id,
                decision_text(review.decision),
                f.severity.value,
                outcome_text(f.outcome)
                + ("" if f.waiver is None else f"\n{'waived' if f.waived else 'waiver'}: ")
                + ("" if f.waiver is None else waiver_text(f.waiver)),
                domain_title(f.domain),
                f.rule_id,
                f.title,
                f.message,
                f.subject or "",
                _lines(_evidence_field(e) for e in f.evidence),
                _lines(value_text(e.value) for e in f.evidence),
                _lines(location_text(e.location) for e in f.evidence),
                f.remediation,
                severity_change_text(f),
            ]
            for column, value in enumerate(values, start=1):
                _put(ws, row, column, value).alignment = _WRAP
            _fill_severity(_cell(ws, row, 3), f.severity)
            target = links(f.evidence[0].location) if f.evidence else None
            if target is not None:
                _link(_cell(ws, row, 12), target)
            refs = [f"{ref.instrument}, {ref.provision}" for ref in f.references]
            for i, (ref, text) in enumerate(zip(f.references, refs, strict=True)):
                cell = _put(ws, row, len(values) + 1 + i, text)
                cell.alignment = _WRAP
                if ref.url.startswith(("https://", "http://")):
                    _link(cell, ref.url)
            _row_height(ws, row, zip(values + refs, widths, strict=False))
    _table(ws, "FindingsTable", len(names), row)
    _widths(ws, widths)
    ws.freeze_panes = "B2"
    ws.print_title_rows = "1:1"
    _print_setup(ws, fit_width=True)


# ---------------------------------------------------------------------------- Unanswered


def _unanswered(ws: Worksheet, report: Report, links: Linker) -> None:
    _header(ws, 1, [name for name, _ in UNANSWERED_COLUMNS])
    widths = [w for _, w in UNANSWERED_COLUMNS]
    row = 1
    for review in report.reviews:
        for u in review.unanswered:
            row += 1
            values = [
                review.proposal_id,
                u.path,
                u.question,
                ", ".join(u.rules),
                location_text(u.location),
            ]
            for column, value in enumerate(values, start=1):
                _put(ws, row, column, value).alignment = _WRAP
            target = links(u.location)
            if target is not None:
                _link(_cell(ws, row, 5), target)
            _row_height(ws, row, zip(values, widths, strict=True))
    _table(ws, "UnansweredTable", len(UNANSWERED_COLUMNS), row)
    _widths(ws, widths)
    ws.freeze_panes = "A2"
    ws.print_title_rows = "1:1"
    _print_setup(ws, fit_width=True)


# ---------------------------------------------------------------------------- entry point


def render_xlsx(
    report: Report,
    domain_title: Callable[[str], str],
    output: str | os.PathLike[str] | None = None,
) -> bytes:
    """The report as the bytes of an ``.xlsx`` workbook (sheets: see the module docstring).

    ``domain_title`` maps a domain id (``data_sharing``) to its display title, as
    ``RuleSet.domain_title`` does. ``output`` is where the report will be written: cell links
    are made relative to its directory (see :func:`link_base`); without it they hold each input
    path as given.
    """
    if output is None:
        links: Linker = functools.partial(location_link, as_given=True)
    else:
        links = functools.partial(location_link, base=link_base(output))
    wb = Workbook()
    summary = wb.worksheets[0]
    _summary(summary, report, domain_title)
    _widths(summary, SUMMARY_WIDTHS)
    _print_setup(summary, fit_width=True)
    _findings(wb.create_sheet("Findings"), report, domain_title, links)
    _unanswered(wb.create_sheet("Unanswered"), report, links)
    wb.active = 0
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
