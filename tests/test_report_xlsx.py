"""The workbook report: what a reviewer sees in each sheet, read back with openpyxl, and that no
text from a proposal can become a formula."""

from __future__ import annotations

import io
import json
import math
import os
import re
import shutil
import subprocess
import time
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from compliance import Reviewer, __version__
from compliance.intake.proposals import read_proposals
from compliance.proposal.sourcemap import Location
from compliance.reports.xlsx import render_xlsx
from compliance.review.findings import (
    REPORT_VERSION,
    Evidence,
    Finding,
    ReferenceOut,
    Report,
    Review,
    SelectionOut,
    SeverityChange,
)
from compliance.rules.ruleset import RuleSet
from compliance.rules.spec import Severity

from .conftest import FIXTURES

FILES = [
    "flawed-accountability-borno-brigade-training.json",
    "flawed-data-sharing-processor-breach.json",
    "flawed-civilian-harm-joint-sea-operation.json",
    "incomplete-coast-guard-training.json",
    "exemplary-humanitarian.json",
    "exemplary-community-policing.json",
]

DECISIONS = {
    "PRP-2026-061": "reject",
    "HO-F2-FAMILY-LINKS": "reject",
    "HO-F8-JOINT-SEA-OP": "reject",
    "PRP-2026-047": "needs information",
    "PRP-2026-077": "approve with conditions",
    "PRP-2026-021": "approve",
}

FINDINGS_HEADER = [
    "Proposal id",
    "Decision",
    "Severity",
    "Outcome",
    "Domain",
    "Rule",
    "Title",
    "Message",
    "Subject",
    "Field",
    "Value seen",
    "Location",
    "Remediation",
    "Severity changed",
]

# Fill of a Severity cell (openpyxl reads colours back as ARGB) and its font colour.
SEVERITY_STYLE = {
    "blocker": ("008B0000", "00FFFFFF"),
    "high": ("00FF5050", None),
    "medium": ("00FFA500", None),
    "low": ("00FFE066", None),
    "info": ("00D9D9D9", None),
}
SEVERITY_ORDER = ["blocker", "high", "medium", "low", "info"]


def title(domain: str) -> str:
    return domain.replace("_", " ").capitalize()


def review_files(reviewer: Reviewer, paths: list[str]) -> Report:
    items = read_proposals(paths)
    return reviewer.report([reviewer.review(i.proposal, i.source_map) for i in items])


def workbook(report: Report) -> Workbook:
    return load_workbook(io.BytesIO(render_xlsx(report, title)))


def rows(ws: Worksheet, first: int = 1) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in ws.iter_rows(min_row=first, values_only=True)]


def summary_value(ws: Worksheet, key: str) -> Any:
    (value,) = [r[1] for r in rows(ws) if r[0] == key]
    return value


def table_below(ws: Worksheet, heading: str) -> list[tuple[Any, ...]]:
    """The rows of the Summary table under ``heading`` (header row first), up to a blank row."""
    all_rows = rows(ws)
    start = next(i for i, r in enumerate(all_rows) if r[0] == heading)
    start += 1 if all_rows[start + 1][0] in ("Domain", "Proposal id") else 2
    out = []
    for r in all_rows[start:]:
        if all(v is None for v in r):
            break
        out.append(r)
    return out


def findings(report: Report) -> list[tuple[Review, Finding]]:
    return [(r, f) for r in report.reviews for f in r.findings]


@pytest.fixture(scope="module")
def report(durable: Reviewer) -> Report:
    return review_files(durable, [str(FIXTURES / name) for name in FILES])


@pytest.fixture(scope="module")
def book(report: Report) -> Workbook:
    return workbook(report)


def every_severity(report: Report) -> Report:
    """The first review's first finding at each severity, one re-graded (for fills and text)."""
    review = report.reviews[0]
    base = review.findings[0]
    graded = SeverityChange(
        original_severity=Severity.high, reason="Pilot with 20 people.", origin="compliance.toml"
    )
    regraded = [base.model_copy(update={"severity": s}) for s in Severity]
    regraded[2] = regraded[2].model_copy(update={"severity_override": graded})
    return report.model_copy(update={"reviews": [review.model_copy(update={"findings": regraded})]})


def with_finding(report: Report, **changes: Any) -> Report:
    """A one-review report whose single finding has ``changes`` (review fields: ``review_*``)."""
    review = report.reviews[0]
    review_changes = {k[7:]: v for k, v in changes.items() if k.startswith("review_")}
    finding = review.findings[0].model_copy(
        update={k: v for k, v in changes.items() if not k.startswith("review_")}
    )
    review = review.model_copy(update={"findings": [finding], **review_changes})
    return report.model_copy(update={"reviews": [review]})


def all_cells(wb: Workbook) -> list[Any]:
    return [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]


def assert_no_formulas(data: bytes) -> None:
    wb = load_workbook(io.BytesIO(data))
    assert [c.coordinate for c in all_cells(wb) if c.data_type == "f"] == []
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                xml = z.read(name).decode()
                assert "<f>" not in xml
                assert "<f " not in xml


# ---------------------------------------------------------------------------- structure


def test_sheets_and_the_summary_comes_first(book: Workbook) -> None:
    assert book.sheetnames == ["Summary", "Findings", "Unanswered"]
    assert book.active.title == "Summary"


def test_one_findings_row_per_finding_in_report_order(report: Report, book: Workbook) -> None:
    ws = book["Findings"]
    assert list(rows(ws)[0][: len(FINDINGS_HEADER)]) == FINDINGS_HEADER
    shown = [r[:6] + r[11:12] for r in rows(ws, 2)]
    expected = []
    for review, f in findings(report):
        where = "\n".join(
            f"{e.location.source}:{e.location.line}:{e.location.column}"
            for e in f.evidence
            if e.location is not None
        )
        outcome = "violation" if f.outcome == "violation" else "needs information"
        expected.append(
            (
                review.proposal_id,
                DECISIONS[review.proposal_id],
                f.severity.value,
                outcome,
                title(f.domain),
                f.rule_id,
                where,
            )
        )
    assert shown == expected
    assert len(shown) == 85


def test_a_finding_row_as_the_reviewer_reads_it(book: Workbook) -> None:
    src = str(FIXTURES / "flawed-accountability-borno-brigade-training.json")
    row = rows(book["Findings"], 2)[0]
    assert dict(zip(FINDINGS_HEADER, row, strict=False)) == {
        "Proposal id": "PRP-2026-061",
        "Decision": "reject",
        "Severity": "high",
        "Outcome": "violation",
        "Domain": "Accountability",
        "Rule": "ACC-004",
        "Title": "US-funded units cleared through Leahy vetting by the US government before support",
        "Message": "25 Task Force Brigade, Damboa is to receive US-funded support, but it has not "
        "been put through Leahy vetting by the US government (vetting status: not vetted; "
        "regime: none; vetted by: not stated). The Leahy laws require the unit to be vetted by "
        "the Department of State and cleared first; a recipient's own clearance is not Leahy "
        "vetting.",
        "Subject": "security_units[1]",
        "Field": "security_units[1].vetting_status\n"
        "security_units[1].vetting_regime\n"
        "[context] legal.us_government_funding",
        "Value seen": '"not_vetted"\n"none"\nyes',
        "Location": f"{src}:28:152\n{src}:28:184\n{src}:32:30",
        "Remediation": "Submit the unit for Leahy vetting through the US embassy (INVEST) and do "
        "not deliver training, equipment or other assistance to it until it is cleared; record "
        "the clearance date in the proposal. Owner: the US-funded implementer.",
        "Severity changed": None,
    }
    assert row[14:] == (
        "Foreign Assistance Act of 1961, section 620M (22 U.S.C. 2378d), subsections (a) and (d) "
        "(credible information; procedures)",
        "Title 10, U.S. Code, section 362 (DoD Leahy law), subsection (a)",
        None,
        None,
        None,
    )


def test_needs_information_row_shows_unanswered_fields(report: Report, book: Workbook) -> None:
    index = next(i for i, (r, f) in enumerate(findings(report)) if r.proposal_id == "PRP-2026-047")
    row = rows(book["Findings"], 2)[index]
    assert row[3:6] == ("needs information", "Accountability", "ACC-003")
    assert (
        row[9]
        == "[unanswered] security_units[0].vetting_status\n[unanswered] legal.us_government_funding"
    )
    assert row[10] == "(not answered)\n(not answered)"


def test_findings_sheet_is_a_filterable_table_with_frozen_header(
    report: Report, book: Workbook
) -> None:
    ws = book["Findings"]
    n_refs = max(len(f.references) for _, f in findings(report))
    assert n_refs == 5
    last_column = chr(ord("A") + len(FINDINGS_HEADER) + n_refs - 1)
    (table,) = ws.tables.values()
    assert table.ref == f"A1:{last_column}{len(findings(report)) + 1}"
    assert table.tableStyleInfo.name == "TableStyleMedium2"
    assert [c.name for c in table.tableColumns] == [
        *FINDINGS_HEADER,
        "Reference 1",
        "Reference 2",
        "Reference 3",
        "Reference 4",
        "Reference 5",
    ]
    assert ws.freeze_panes == "B2"


@pytest.mark.parametrize("severity", SEVERITY_ORDER)
def test_severity_cells_are_filled_with_the_severity_colour(report: Report, severity: str) -> None:
    ws = workbook(every_severity(report))["Findings"]
    (cell,) = [c for c in ws["C"][1:] if c.value == severity]
    fill, font = SEVERITY_STYLE[severity]
    assert cell.fill.fill_type == "solid"
    assert cell.fill.fgColor.rgb == fill
    assert (cell.font.color.rgb if font else None) == font


def test_severity_change_is_explained(report: Report) -> None:
    ws = workbook(every_severity(report))["Findings"]
    assert [r[13] for r in rows(ws, 2)] == [
        None,
        None,
        "medium by compliance.toml (rule default high): Pilot with 20 people.",
        None,
        None,
    ]


def test_reference_cells_link_to_their_source(report: Report, book: Workbook) -> None:
    ws = book["Findings"]
    first = len(FINDINGS_HEADER) + 1
    for row, (_, f) in enumerate(findings(report), start=2):
        cells = [ws.cell(row=row, column=first + i) for i in range(5)]
        assert [c.value for c in cells] == [
            f"{r.instrument}, {r.provision}" for r in f.references
        ] + [None] * (5 - len(f.references))
        assert [c.hyperlink.target for c in cells if c.hyperlink] == [r.url for r in f.references]


LOCATIONS = [
    (
        Location(source="in/book.xlsx", sheet="Data sharing", cell="C14"),
        "Data sharing!C14",
        "in/book.xlsx#'Data sharing'!C14",
    ),
    (
        Location(source="b.xlsx", sheet="Partner's data", cell="B2", present=False),
        "Partner's data!B2",
        "b.xlsx#'Partner''s data'!B2",
    ),
    (Location(source="b.xlsx", sheet="Funding"), "Funding", "b.xlsx#'Funding'!A1"),
    (
        Location(source="p.json", pointer="/title", line=3, column=12),
        "p.json:3:12",
        None,
    ),
    (Location(source="-"), "-", None),
    (None, None, None),
]


@pytest.mark.parametrize(("location", "text", "link"), LOCATIONS)
def test_location_text_and_link_to_the_workbook_cell(
    report: Report, location: Location | None, text: str | None, link: str | None
) -> None:
    evidence = [Evidence(path="title", value="x", role="violation", location=location)]
    ws = workbook(with_finding(report, evidence=evidence))["Findings"]
    cell = ws["L2"]
    assert cell.value == text
    assert (cell.hyperlink.target if cell.hyperlink else None) == link


def test_several_evidence_items_one_line_each(report: Report) -> None:
    evidence = [
        Evidence(
            path="data_sharing.flows[1].lawful_basis",
            value=None,
            role="unanswered",
            location=Location(source="b.xlsx", sheet="Data", cell="D7", present=False),
        ),
        Evidence(
            path="funding.total_amount",
            value=4000000.0,
            role="context",
            location=Location(source="b.xlsx", sheet="Funding", cell="C3"),
        ),
        Evidence(path="parties", value=["a", "b"], role="context", location=None),
        Evidence(path="legal.us_government_funding", value=False, role="violation"),
    ]
    row = rows(workbook(with_finding(report, evidence=evidence))["Findings"], 2)[0]
    assert row[9:12] == (
        "[unanswered] data_sharing.flows[1].lawful_basis\n[context] funding.total_amount\n"
        "[context] parties\nlegal.us_government_funding",
        '(not answered)\n4000000\n["a", "b"]\nno',
        "Data!D7\nFunding!C3",
    )


# ---------------------------------------------------------------------------- Summary


def test_summary_describes_the_run(report: Report, book: Workbook) -> None:
    ws = book["Summary"]
    assert ws["A1"].value == "Compliance review report"
    expected = {
        "Tool version": f"compliance {__version__}",
        "Engine": "durable",
        "Rule set": report.rule_set.name,
        "Rule set version": report.rule_set.version,
        "Rule set hash": report.rule_set.hash,
        "Rules": report.rule_set.rule_count,
        "Threshold": "high",
        "Report version": REPORT_VERSION,
        "Proposals": 6,
        "Decisions": "1 approve, 1 approve with conditions, 1 needs information, 3 reject",
    }
    assert {k: summary_value(ws, k) for k in expected} == expected
    assert "Rules run" not in [r[0] for r in rows(ws)]


def test_summary_says_when_only_some_rules_ran(report: Report) -> None:
    selection = SelectionOut(
        config="project/compliance.toml",
        builtin_rules=True,
        rules_loaded=72,
        rules_run=9,
        domains=["data_sharing"],
        rules=[],
        skipped=["DS-003"],
        disabled=[],
        severity_overrides=[],
    )
    ws = workbook(report.model_copy(update={"selection": selection}))["Summary"]
    assert summary_value(ws, "Rules run") == (
        "only 9 of 72 rules loaded (--domain data_sharing --skip-rule DS-003): "
        "the decisions cover those rules alone"
    )
    assert summary_value(ws, "Config") == "project/compliance.toml"


def test_summary_decisions_table(report: Report, book: Workbook) -> None:
    table = table_below(book["Summary"], "Decision per proposal")
    assert table[0] == (
        "Proposal id",
        "Title",
        "Source",
        "Decision",
        "Blocker",
        "High",
        "Medium",
        "Low",
        "Info",
        "Needs information",
    )
    expected = [
        (
            r.proposal_id,
            r.title,
            r.source,
            DECISIONS[r.proposal_id],
            *(r.counts.violations[Severity(s)] for s in SEVERITY_ORDER),
            sum(r.counts.needs_information.values()),
        )
        for r in report.reviews
    ]
    assert table[1:] == expected
    assert [(r[0], r[4:]) for r in table[1:]] == [
        ("PRP-2026-061", (0, 3, 0, 0, 0, 10)),
        ("HO-F2-FAMILY-LINKS", (0, 2, 1, 2, 0, 9)),
        ("HO-F8-JOINT-SEA-OP", (0, 4, 0, 3, 0, 14)),
        ("PRP-2026-047", (0, 0, 0, 0, 0, 31)),
        ("PRP-2026-077", (0, 0, 0, 0, 0, 6)),
        ("PRP-2026-021", (0, 0, 0, 0, 0, 0)),
    ]


def test_summary_counts_findings_by_domain_and_severity(report: Report, book: Workbook) -> None:
    table = table_below(book["Summary"], "Findings by domain and severity")
    header, *body, total = [(r[0], *r[4:10]) for r in table]
    assert header == ("Domain", "Blocker", "High", "Medium", "Low", "Info", "Total")
    counted = Counter((title(f.domain), f.severity.value) for _, f in findings(report))
    domains = {d for d, _ in counted}
    expected = {
        d: (*(counted[d, s] for s in SEVERITY_ORDER), sum(counted[d, s] for s in SEVERITY_ORDER))
        for d in domains
    }
    assert {r[0]: r[1:] for r in body} == expected
    assert total == (
        "Total",
        *(sum(counted[d, s] for d in domains) for s in SEVERITY_ORDER),
        len(findings(report)),
    )
    # worst domain first, then the most findings
    assert [r[0] for r in body][:3] == ["Accountability", "Human rights", "Financial integrity"]


def test_summary_has_a_stacked_bar_chart_of_the_domain_table(book: Workbook) -> None:
    ws = book["Summary"]
    (chart,) = ws._charts
    assert chart.grouping == "stacked"
    assert len(chart.series) == 5
    domains = [r[0] for r in table_below(ws, "Findings by domain and severity")[1:-1]]
    header_row = next(i for i, r in enumerate(rows(ws), start=1) if r[0] == "Domain")
    first, last = header_row + 1, header_row + len(domains)
    columns = "EFGHI"
    assert [s.val.numRef.f for s in chart.series] == [
        f"'Summary'!${c}${first}:${c}${last}" for c in columns
    ]
    assert {(s.cat.numRef or s.cat.strRef).f for s in chart.series} == {
        f"'Summary'!$A${first}:$A${last}"
    }


def test_a_report_without_findings(durable: Reviewer) -> None:
    report = review_files(durable, [str(FIXTURES / "exemplary-community-policing.json")])
    assert [(r.decision.value, r.findings, r.unanswered) for r in report.reviews] == [
        ("approve", [], [])
    ]
    wb = workbook(report)
    ws = wb["Summary"]
    assert table_below(ws, "Findings by domain and severity")[1][0] == "No findings"
    assert ws._charts == []
    findings_ws = wb["Findings"]
    assert findings_ws.tables["FindingsTable"].ref == "A1:O2"  # Excel wants one row
    assert rows(findings_ws, 2) == [] or all(v is None for v in rows(findings_ws, 2)[0])
    assert wb["Unanswered"].tables["UnansweredTable"].ref == "A1:E2"


def test_unanswered_sheet(report: Report, book: Workbook) -> None:
    ws = book["Unanswered"]
    assert rows(ws)[0] == ("Proposal id", "Field", "Question", "Needed by", "Location")
    expected = [
        (
            r.proposal_id,
            u.path,
            u.question,
            ", ".join(u.rules),
            f"{u.location.source}:{u.location.line}:{u.location.column}" if u.location else None,
        )
        for r in report.reviews
        for u in r.unanswered
    ]
    assert rows(ws, 2) == expected
    assert len(expected) == 93
    assert ws.tables["UnansweredTable"].ref == f"A1:E{len(expected) + 1}"


# ---------------------------------------------------------------------------- untrusted text

HOSTILE = [
    '=HYPERLINK("http://evil","x")',
    "=1+1",
    "+1+1",
    "-1+1",
    "@SUM(A1:A2)",
    "=cmd|' /C calc'!A0",
]


def test_proposal_text_never_becomes_a_formula(durable: Reviewer, tmp_path: Path) -> None:
    proposal = json.loads((FIXTURES / FILES[0]).read_text(encoding="utf-8"))
    proposal["id"] = "-1-1"
    proposal["title"] = HOSTILE[0]
    proposal["security_units"][1]["name"] = HOSTILE[5]  # echoed at the start of a message
    path = tmp_path / "=evil.json"
    path.write_text(json.dumps(proposal), encoding="utf-8")
    report = review_files(durable, [str(path)])
    data = render_xlsx(report, title)
    assert_no_formulas(data)
    wb = load_workbook(io.BytesIO(data))
    decisions = table_below(wb["Summary"], "Decision per proposal")[1]
    assert decisions[:3] == ("-1-1", HOSTILE[0], str(path))
    first = rows(wb["Findings"], 2)[0]
    assert first[0] == "-1-1"
    assert first[7].startswith(HOSTILE[5] + " is to receive US-funded support")
    cells = [c for c in all_cells(wb) if isinstance(c.value, str) and c.value[0] in "=+-@"]
    assert cells
    assert all(c.quotePrefix for c in cells)


@pytest.mark.parametrize("text", HOSTILE)
def test_every_text_column_keeps_formula_like_text(report: Report, text: str) -> None:
    evidence = [
        Evidence(
            path=text,
            value=text,
            role="violation",
            location=Location(source=text, sheet=text, cell="C14"),
        )
    ]
    ref = ReferenceOut(
        instrument=text, provision=text, url="https://example.org", binding="required"
    )
    changed = with_finding(
        report,
        review_proposal_id=text,
        review_title=text,
        review_source=text,
        rule_id=text,
        domain=text,
        title=text,
        message=text,
        subject=text,
        remediation=text,
        evidence=evidence,
        references=[ref],
    )
    data = render_xlsx(changed, lambda d: d)
    assert_no_formulas(data)
    wb = load_workbook(io.BytesIO(data))
    row = rows(wb["Findings"], 2)[0]
    assert row[0] == text
    assert row[4:10] == (text, text, text, text, text, text)
    assert row[11:15] == (f"{text}!C14", text, None, f"{text}, {text}")
    assert table_below(wb["Summary"], "Decision per proposal")[1][:3] == (text, text, text)
    assert table_below(wb["Summary"], "Findings by domain and severity")[1][0] == text
    # the first review's open questions, under its (hostile) id
    unanswered = changed.reviews[0].unanswered
    assert len(unanswered) == 17
    assert [r[:2] for r in rows(wb["Unanswered"], 2)] == [(text, u.path) for u in unanswered]


def test_control_characters_are_replaced_not_fatal(report: Report) -> None:
    changed = with_finding(
        report,
        review_title="bad\x00title\x1b[31m red\x0b",
        message="line one\nline two\ttab\x07bell \ud800 lone surrogate \ufffe",
    )
    wb = workbook(changed)
    assert (
        table_below(wb["Summary"], "Decision per proposal")[1][1]
        == "bad\ufffdtitle\ufffd[31m red\ufffd"
    )
    assert rows(wb["Findings"], 2)[0][7] == (
        "line one\nline two\ttab\ufffdbell \ufffd lone surrogate \ufffd"
    )


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("x" * 32_767, "x" * 32_767),
        ("x" * 40_000, "x" * 32_766 + "…"),
        ("😀" * 20_000, "😀" * 16_383 + "…"),  # Excel counts UTF-16 units: 2 per emoji
    ],
)
def test_text_longer_than_a_cell_is_cut(report: Report, text: str, kept: str) -> None:
    wb = workbook(with_finding(report, message=text))
    assert rows(wb["Findings"], 2)[0][7] == kept


# ---------------------------------------------------------------------------- printing

FINDINGS_WIDTHS = [14, 11, 9, 11, 16, 9, 28, 50, 14, 30, 20, 18, 50, 20] + [24] * 5
WRAPPED = ["Title", "Message", "Field", "Value seen", "Location", "Remediation"]


def test_the_findings_sheet_prints_one_page_wide(report: Report, book: Workbook) -> None:
    ws = book["Findings"]
    setup = ws.page_setup
    assert (setup.orientation, setup.fitToWidth, setup.fitToHeight) == ("landscape", 1, 0)
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    assert ws.print_title_rows == "$1:$1"  # the header row on every page
    margins = ws.page_margins
    assert (margins.left, margins.right, margins.top, margins.bottom) == (0.25, 0.25, 0.5, 0.5)
    assert ws.oddFooter.center.text == "Page &P of &N"
    widths = [ws.column_dimensions[chr(ord("A") + i)].width for i in range(len(FINDINGS_WIDTHS))]
    assert widths == FINDINGS_WIDTHS
    # long text wraps, in every row
    header = [c.value for c in ws[1]]
    for name in WRAPPED:
        column = header.index(name)
        assert all(row[column].alignment.wrap_text for row in ws.iter_rows(min_row=2))
    # a row is as tall as its longest wrapped text, up to Excel's highest row (409 points):
    # text is no longer cut at 12 lines (180 points), which a printout cannot scroll
    heights = [ws.row_dimensions[r].height for r in range(2, len(findings(report)) + 2)]
    assert 180 < max(heights) <= 405
    assert min(heights) >= 15


@pytest.mark.parametrize("sheet", ["Summary", "Unanswered"])
def test_the_other_sheets_print_one_page_wide_too(book: Workbook, sheet: str) -> None:
    setup = book[sheet].page_setup
    assert (setup.orientation, setup.fitToWidth, setup.fitToHeight) == ("landscape", 1, 0)


# ---------------------------------------------------------------------------- LibreOffice

OFFICE = shutil.which("libreoffice") or shutil.which("soffice")


@pytest.mark.skipif(OFFICE is None, reason="neither libreoffice nor soffice is on PATH")
def test_libreoffice_converts_the_report_to_pdf(report: Report, tmp_path: Path) -> None:
    assert OFFICE is not None
    book_path = tmp_path / "report.xlsx"
    book_path.write_bytes(render_xlsx(report, title))
    home = tmp_path / "home"
    home.mkdir()
    started = time.monotonic()
    proc = subprocess.run(
        [OFFICE, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(book_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "HOME": str(home)},
    )
    elapsed = time.monotonic() - started
    pdf = tmp_path / "report.pdf"
    assert pdf.exists(), f"{proc.returncode}: {proc.stdout}{proc.stderr}"
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page(?![a-z])", data))
    # One page wide: a row is at most 409 points high and the sheet prints at a third of full
    # size or more, so three rows or more fit on a landscape page (A4 or Letter). Printed
    # several pages wide, as before, the Findings alone took six pages per page of rows.
    n_findings = len(findings(report))
    n_unanswered = sum(len(r.unanswered) for r in report.reviews)
    assert pages <= math.ceil(n_findings / 3) + math.ceil(n_unanswered / 3) + 2
    print(f"libreoffice converted the report in {elapsed:.1f} s: {pages} pages")


def test_ruleset_titles_are_used(ruleset: RuleSet, report: Report) -> None:
    wb = load_workbook(io.BytesIO(render_xlsx(report, ruleset.domain_title)))
    shown = {r[4] for r in rows(wb["Findings"], 2)}
    assert shown == {ruleset.domain_title(f.domain) for _, f in findings(report)}
    assert "Human-rights safeguards" in shown
