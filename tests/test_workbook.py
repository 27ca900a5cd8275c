"""The Excel round trip: template, filling it in, export, and intake with cell-precise errors.

The bar: template -> fill (here, with openpyxl, independently of the export code) -> review, and
export -> review, give the same decision and findings as the JSON review for every fixture; only
locations differ. What people do to spreadsheets is tolerated; what cannot be read is reported
with file, sheet and cell.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import openpyxl.styles
import pytest
from openpyxl.chart import BarChart
from openpyxl.worksheet.formula import ArrayFormula

from compliance.errors import InputError
from compliance.intake.proposals import LoadedProposal, read_proposals
from compliance.proposal.fields import Kind, catalogue
from compliance.proposal.model import Proposal
from compliance.review.findings import Review
from compliance.review.reviewer import Reviewer
from compliance.workbook.layout import Layout
from compliance.workbook.write import build, to_bytes
from tests.conftest import FIXTURES, Run, plain_review, run_cli

ALL = sorted(FIXTURES.glob("*.json"))
RICH = FIXTURES / "flawed-data-sharing-biometrics-left-behind.json"  # flows, units, parties

FORM_SHEETS = {
    "Proposal": "",
    "Lead": "lead",
    "Activities": "activities",
    "Legal": "legal",
    "Funding": "funding",
    "Data sharing": "data_sharing",
    "Human rights": "human_rights",
    "Safeguards": "safeguards",
    "Oversight": "oversight",
    "Monitoring": "monitoring",
    "Technology": "technology",
}
TABLE_SHEETS = {
    "Parties": "parties",
    "Security units": "security_units",
    "Funding sources": "funding.sources",
    "Data sharing flows": "data_sharing.flows",
    "Data sharing processors": "data_sharing.processors",
    "Human rights mitigations": "human_rights.mitigations",
    "Subcontractors": "subcontractors",
}


def _one(path: Path) -> LoadedProposal:
    (loaded,) = read_proposals([str(path)])
    return loaded


def _v2(proposal: Proposal) -> Proposal:
    """A proposal as a template of contract v2 holds it: a v1 proposal becomes v2, nothing
    else changes."""
    return proposal.model_copy(update={"schema_version": "2"})


def _review(reviewer: Reviewer, loaded: LoadedProposal) -> Review:
    return reviewer.review(loaded.proposal, loaded.source_map)


def _export(tmp_path: Path, source: Path, layout: Layout = Layout.single) -> Path:
    out = tmp_path / f"{source.stem}.xlsx"
    out.write_bytes(_exported(source, layout))
    return out


@functools.cache
def _exported(source: Path, layout: Layout) -> bytes:
    """A fixture exported as a workbook, made once per test process: the tests that edit a
    workbook as people do each start from the same export (a tenth of a second to make)."""
    return to_bytes(build(layout, [_one(source).proposal]))


def _lookup(data: dict[str, Any], dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(part)  # type: ignore[assignment]
    return data


def _as_typed(path: str, value: Any) -> Any:
    """A JSON value as a person would type it into the template."""
    spec = catalogue()[path]
    if value is None:
        return None
    if spec.kind is Kind.BOOL:
        return "yes" if value else "NO"  # any case is fine
    if spec.kind is Kind.OBJECT_LIST:
        return "Listed" if value else "None"
    if spec.kind is Kind.ENUM_LIST:
        return "; ".join(value) if value else "none"
    if spec.kind is Kind.TEXT_LIST:
        return "\n".join(value) if value else "None"
    return value


def _fill(template: Path, data: dict[str, Any], out: Path) -> None:
    """Fill a blank single-layout template from JSON, as a person would, with openpyxl alone."""
    book = openpyxl.load_workbook(template)
    for title, section in FORM_SHEETS.items():
        sheet = book[title]
        for row in sheet.iter_rows(min_row=2):
            key = row[0].value
            path = f"{section}.{key}" if section else key
            value = _as_typed(path, _lookup(data, path))
            if value is not None:
                row[2].value = value
    for title, path in TABLE_SHEETS.items():
        sheet = book[title]
        headers = [c.value for c in sheet[1]]
        for index, item in enumerate(_lookup(data, path) or [], start=2):
            for column, header in enumerate(headers, start=1):
                key = header.lower().replace(" ", "_")
                typed = _as_typed(f"{path}[].{key}", item.get(key))
                if typed is not None:
                    sheet.cell(index, column).value = typed
    book.save(out)


# --------------------------------------------------------------------------- the bar


@pytest.fixture(scope="module")
def blank_single(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.xlsx"
    path.write_bytes(to_bytes(build(Layout.single)))
    return path


@pytest.mark.parametrize("source", ALL, ids=lambda p: p.stem)
def test_template_filled_in_reviews_as_the_json(
    source: Path, blank_single: Path, tmp_path: Path, durable: Reviewer
) -> None:
    filled = tmp_path / "filled.xlsx"
    _fill(blank_single, json.loads(source.read_text()), filled)
    from_json, from_book = _one(source), _one(filled)
    assert from_book.proposal == _v2(from_json.proposal)
    assert plain_review(_review(durable, from_book)) == plain_review(_review(durable, from_json))


@pytest.mark.parametrize("source", ALL, ids=lambda p: p.stem)
def test_exported_workbook_reviews_as_the_json(
    source: Path, tmp_path: Path, durable: Reviewer
) -> None:
    book = _one(_export(tmp_path, source))
    expected = _review(durable, _one(source))
    got = _review(durable, book)
    assert plain_review(got) == plain_review(expected)
    located = [e.location for f in got.findings for e in f.evidence]
    assert all(loc is not None and loc.sheet and loc.cell for loc in located)


def test_register_of_every_fixture_reviews_as_the_json(tmp_path: Path, durable: Reviewer) -> None:
    loaded = read_proposals([str(p) for p in ALL])
    register = tmp_path / "register.xlsx"
    register.write_bytes(to_bytes(build(Layout.register, [item.proposal for item in loaded])))
    back = read_proposals([str(register)])
    assert [b.proposal.id for b in back] == [a.proposal.id for a in loaded]
    for before, after in zip(loaded, back, strict=True):
        assert after.proposal == _v2(before.proposal)
        assert plain_review(_review(durable, after)) == plain_review(_review(durable, before))


def test_a_folder_of_single_workbooks_reads_in_name_order(tmp_path: Path) -> None:
    for source in ALL[:3]:
        _export(tmp_path, source)
    (tmp_path / "~$lockfile.xlsx").write_bytes(b"lock")  # Excel's lock file is skipped
    (tmp_path / "notes.txt").write_text("not a proposal")
    loaded = read_proposals([str(tmp_path)])
    assert [item.proposal.id for item in loaded] == [_one(p).proposal.id for p in ALL[:3]]


# --------------------------------------------------------------------------- locations


def test_findings_point_at_the_answer_cell(tmp_path: Path, durable: Reviewer) -> None:
    review = _review(durable, _one(_export(tmp_path, RICH)))
    cells = {
        (e.path, e.location.sheet, e.location.cell, e.location.present)
        for f in review.findings
        for e in f.evidence
        if e.location is not None
    }
    book = openpyxl.load_workbook(tmp_path / f"{RICH.stem}.xlsx")
    for path, sheet, cell, present in cells:
        answer = book[sheet][cell].value
        assert (answer is not None) == present, (path, sheet, cell)
    assert ("data_sharing.emergency_deletion_plan", "Data sharing", "C10", True) in cells
    assert ("data_sharing.flows[0].granularity", "Data sharing flows", "E2", True) in cells
    assert ("funding.iati_identifier", "Funding", "C6", False) in cells  # blank: to be answered


# --------------------------------------------------------------------------- tolerance

Mutation = Callable[[openpyxl.Workbook], None]


def _form_row(sheet: Any, key: str) -> int:
    return next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == key)


def _set(sheet_name: str, key: str, value: Any) -> Mutation:
    def mutate(book: openpyxl.Workbook) -> None:
        sheet = book[sheet_name]
        sheet.cell(_form_row(sheet, key), 3).value = value

    return mutate


def _retype(sheet_name: str, key: str, change: Callable[[Any], Any]) -> Mutation:
    """Rewrite an answer the way a person might, keeping its meaning."""

    def mutate(book: openpyxl.Workbook) -> None:
        cell = book[sheet_name].cell(_form_row(book[sheet_name], key), 3)
        cell.value = change(cell.value)

    return mutate


def _set_cell(sheet_name: str, ref: str, value: Any) -> Mutation:
    def mutate(book: openpyxl.Workbook) -> None:
        book[sheet_name][ref].value = value

    return mutate


def _reverse_form_rows(book: openpyxl.Workbook) -> None:
    sheet = book["Data sharing"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    for offset, values in enumerate(reversed(rows), start=2):
        for column, value in enumerate(values, start=1):
            sheet.cell(offset, column).value = value


def _swap_table_columns(book: openpyxl.Workbook) -> None:
    sheet = book["Data sharing flows"]
    for row in range(1, sheet.max_row + 1):
        a, b = sheet.cell(row, 1), sheet.cell(row, 6)
        a.value, b.value = b.value, a.value


def _blank_rows_and_extra_column(book: openpyxl.Workbook) -> None:
    sheet = book["Parties"]
    sheet.insert_rows(2, 2)
    sheet.insert_rows(6, 1)
    sheet.cell(1, 9).value = "Our notes"
    sheet.cell(3, 9).value = "call back on Monday"  # a note in a row that is otherwise blank


def _hide_and_add_sheets(book: openpyxl.Workbook) -> None:
    """Sheets intake does not read may be hidden (those it reads may not: a person opening the
    file would not see their answers)."""
    book.create_sheet("Old answers").sheet_state = "hidden"
    book.create_sheet("Scratch").sheet_state = "veryHidden"
    book.create_sheet("Working notes")["A1"] = "=SUM(1,2)"
    book.move_sheet("Monitoring", offset=-5)


def _delete_columns(book: openpyxl.Workbook) -> None:
    for title in FORM_SHEETS:
        book[title].delete_cols(4, 2)  # Guidance, Required
        book[title].delete_cols(2)  # Question: the answer is now column B


def _far_row(book: openpyxl.Workbook) -> None:
    book["Parties"]["A150000"].font = openpyxl.styles.Font(bold=True)  # styled, no value


def _mixed_case_headers(book: openpyxl.Workbook) -> None:
    book["Data sharing flows"]["B1"].value = "  RECIPIENT_type "


TOLERATED: list[tuple[str, Mutation]] = [
    (
        "trailing spaces in a choice",
        _retype("Human rights", "recipient_record", lambda v: v + "  "),
    ),
    ("a choice in another case", _retype("Human rights", "risk_level", str.upper)),
    (
        "a choice with spaces",
        _retype("Human rights", "recipient_record", lambda v: v.replace("_", " ")),
    ),
    (
        "a yes/no as TRUE or FALSE",
        _retype("Human rights", "confidentiality_override", lambda v: v == "Yes"),
    ),
    (
        "yes/no in lower case",
        _retype("Data sharing", "emergency_deletion_plan", lambda v: f" {v.lower()} "),
    ),
    ("a number stored as text", _set("Funding", "total_amount", "30,000,000")),
    ("a whole number as text", _set("Monitoring", "review_frequency_months", " 6")),
    ("a date as text", _set("Monitoring", "start_date", "2026-02-01")),
    ("a date as an Excel serial", _set("Monitoring", "start_date", 46054)),
    ("a date with a midnight time", _set("Monitoring", "start_date", dt.datetime(2026, 2, 1))),
    (
        "choices with other separators",
        _set_cell("Data sharing flows", "C2", "BIOMETRIC;biographic\nfamily"),
    ),
    ("a hyphen for an underscore", _set_cell("Data sharing flows", "G2", "law-enforcement")),
    ("rows of a form reordered", _reverse_form_rows),
    ("columns of a table reordered", _swap_table_columns),
    ("blank rows and an extra column", _blank_rows_and_extra_column),
    ("hidden extra sheets, added and moved sheets", _hide_and_add_sheets),
    ("a header in another case", _mixed_case_headers),
    ("a field key with spaces", _set_cell("Data sharing", "A3", " Impact_Assessment . Status ")),
    ("the Question, Guidance and Required columns deleted", _delete_columns),
    ("a formatted empty row far down", _far_row),
]


@pytest.mark.parametrize(("name", "mutate"), TOLERATED, ids=[t[0] for t in TOLERATED])
def test_what_people_do_to_spreadsheets_is_tolerated(
    name: str, mutate: Mutation, tmp_path: Path
) -> None:
    path = _export(tmp_path, RICH)
    book = openpyxl.load_workbook(path)
    mutate(book)
    book.save(path)
    assert _one(path).proposal == _v2(_one(RICH).proposal)


def test_unknown_means_not_answered(tmp_path: Path) -> None:
    path = _export(tmp_path, RICH)
    book = openpyxl.load_workbook(path)
    _set("Data sharing", "emergency_deletion_plan", "Unknown")(book)
    book.save(path)
    proposal = _one(path).proposal
    assert proposal.data_sharing is not None
    assert proposal.data_sharing.emergency_deletion_plan is None


def _with_cached_formula(path: Path, sheet_xml: str, formula: str, cached: str | None) -> None:
    """Give a formula cell the value Excel would have saved (openpyxl saves none)."""
    with zipfile.ZipFile(path) as source:
        members = {name: source.read(name) for name in source.namelist()}
    xml = members[sheet_xml].decode()
    # openpyxl writes the empty value as <v /> through ElementTree, as <v></v> through lxml.
    old = next(
        f"<f>{formula}</f>{v}" for v in ("<v />", "<v></v>") if f"<f>{formula}</f>{v}" in xml
    )
    members[sheet_xml] = xml.replace(old, f"<f>{formula}</f><v>{cached}</v>").encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, content in members.items():
            target.writestr(name, content)


def _sheet_xml(path: Path, title: str) -> str:
    book = openpyxl.load_workbook(path)
    return f"xl/worksheets/sheet{book.sheetnames.index(title) + 1}.xml"


def test_a_formula_is_refused_whatever_value_it_saved(tmp_path: Path) -> None:
    """The saved result of a formula is what the file claims, not what Excel shows after
    recalculating: a formula in an answer is refused even when its saved value is right."""
    path = _export(tmp_path, RICH)
    book = openpyxl.load_workbook(path)
    _set("Monitoring", "review_frequency_months", "=3*2")(book)
    book.save(path)
    _with_cached_formula(path, _sheet_xml(path, "Monitoring"), "3*2", "6")
    assert _problems(path) == [
        f"book.xlsx, Monitoring!C4: {ID}: monitoring.review_frequency_months: holds a formula "
        "(=3*2); type the answer itself: intake does not judge a formula's saved result, which "
        "can differ from what Excel shows"
    ]


def test_text_that_starts_with_equals_stays_text(tmp_path: Path) -> None:
    data = json.loads(RICH.read_text())
    data["summary"] = '=HYPERLINK("http://example.org","x") is not a formula'
    source = tmp_path / "p.json"
    source.write_text(json.dumps(data))
    path = _export(tmp_path, source)
    assert _one(path).proposal.summary == data["summary"]
    assert openpyxl.load_workbook(path)["Proposal"]["C4"].data_type == "s"


# --------------------------------------------------------------------------- errors


def _problems(path: Path) -> list[str]:
    with pytest.raises(InputError) as caught:
        read_proposals([str(path)])
    return [line.replace(str(path), "book.xlsx") for line in caught.value.problems]


def _remove_row(sheet_name: str, key: str) -> Mutation:
    def mutate(book: openpyxl.Workbook) -> None:
        sheet = book[sheet_name]
        sheet.delete_rows(_form_row(sheet, key))

    return mutate


def _rename(sheet_name: str, new: str) -> Mutation:
    def mutate(book: openpyxl.Workbook) -> None:
        book[sheet_name].title = new

    return mutate


def _formula_without_value(book: openpyxl.Workbook) -> None:
    _set("Monitoring", "end_date", "=DATE(2027,1,31)")(book)


def _shadow(title: str) -> Mutation:
    def mutate(book: openpyxl.Workbook) -> None:
        copy = book.copy_worksheet(book[title])
        copy.title = "_" + title.replace(" ", "_")
        copy.sheet_state = "veryHidden"

    return mutate


def _chart_sheet_for(title: str) -> Mutation:
    def mutate(book: openpyxl.Workbook) -> None:
        del book[title]
        book.create_chartsheet(title).add_chart(BarChart())

    return mutate


def _drop_instructions_version(book: openpyxl.Workbook) -> None:
    book["Instructions"]["B3"] = "7"


ID = "HO-F3-BIOMETRIC-ID"
CATEGORIES = "biographic, biometric, health, location, religion_or_ethnicity, criminal_record, family, financial"
REJECTED: list[tuple[str, Mutation, list[str]]] = [
    (
        "a wrong drop-down value",
        _set_cell("Data sharing flows", "C2", "Biometrics"),
        [
            f"book.xlsx, Data sharing flows!C2: {ID}: data_sharing.flows[0].categories: "
            f"'Biometrics' is not one of {CATEGORIES} (did you mean 'biometric'?)"
        ],
    ),
    (
        "a yes/no that is neither",
        _set("Data sharing", "emergency_deletion_plan", "Maybe"),
        [
            f"book.xlsx, Data sharing!C10: {ID}: data_sharing.emergency_deletion_plan: "
            "'Maybe' is not one of Yes, No, Unknown"
        ],
    ),
    (
        "a date written day first",
        _set("Monitoring", "start_date", "01/02/2026"),
        [
            f"book.xlsx, Monitoring!C6: {ID}: monitoring.start_date: "
            "'01/02/2026' is not a date (write YYYY-MM-DD)"
        ],
    ),
    (
        "a year typed in a date cell (Excel shows 1905-07-19)",
        _set("Monitoring", "end_date", 2027),
        [
            f"book.xlsx, Monitoring!C7: {ID}: monitoring.end_date: "
            "1905-07-19 is not a plausible date (write YYYY-MM-DD)"
        ],
    ),
    (
        "a year typed as text",
        _set("Monitoring", "end_date", "2027"),
        [
            f"book.xlsx, Monitoring!C7: {ID}: monitoring.end_date: "
            "'2027' is not a date (write YYYY-MM-DD)"
        ],
    ),
    (
        "a list of choices with only a separator",
        _set_cell("Data sharing flows", "C2", " , "),
        [
            f"book.xlsx, Data sharing flows!C2: {ID}: data_sharing.flows[0].categories: "
            "',' names no value; write None for none"
        ],
    ),
    (
        "spaces inside a number",
        _set("Funding", "total_amount", "6 12"),
        [f"book.xlsx, Funding!C2: {ID}: funding.total_amount: expected a number, got '6 12'"],
    ),
    (
        "a fraction for a whole number",
        _set("Monitoring", "review_frequency_months", 2.5),
        [
            f"book.xlsx, Monitoring!C4: {ID}: monitoring.review_frequency_months: "
            "expected a whole number, got 2.5"
        ],
    ),
    (
        "a word for a number",
        _set("Funding", "total_amount", "thirty million"),
        [
            f"book.xlsx, Funding!C2: {ID}: funding.total_amount: "
            "expected a number, got 'thirty million'"
        ],
    ),
    (
        "a bad country code (reported by validation, at the cell)",
        _set_cell("Parties", "C2", "Narnia"),
        [
            f"book.xlsx, Parties!C2: {ID}: parties[0].country: "
            "'NARNIA' is not an ISO 3166-1 alpha-2 country code"
        ],
    ),
    (
        "a formula with no saved value",
        _formula_without_value,
        [
            f"book.xlsx, Monitoring!C7: {ID}: monitoring.end_date: holds a formula "
            "(=DATE(2027,1,31)); type the answer itself: intake does not judge a formula's "
            "saved result, which can differ from what Excel shows"
        ],
    ),
    (
        "an Excel error value",
        _set("Funding", "total_amount", "#DIV/0!"),
        [
            f"book.xlsx, Funding!C2: {ID}: funding.total_amount: "
            "holds the Excel error #DIV/0!, not an answer"
        ],
    ),
    (
        "a table said None while it lists items",
        _set("Data sharing", "flows", "None"),
        [
            f"book.xlsx, Data sharing!C2: {ID}: data_sharing.flows: says None, but the sheet "
            "'Data sharing flows' lists 1 item for it"
        ],
    ),
    (
        "a table said Listed with no items",
        lambda book: book["Data sharing processors"].delete_rows(2),
        [
            f"book.xlsx, Data sharing!C8: {ID}: data_sharing.processors: says Listed, but the "
            "sheet 'Data sharing processors' lists no items for it; list them there, or answer None"
        ],
    ),
    (
        "a superscript digit in a date",
        _set("Monitoring", "start_date", "²"),
        [
            f"book.xlsx, Monitoring!C6: {ID}: monitoring.start_date: '²' is not a date (write YYYY-MM-DD)"
        ],
    ),
    (
        "an array formula",
        _set("Proposal", "summary", ArrayFormula("C4", '=UPPER("abc")')),
        [
            f'book.xlsx, Proposal!C4: {ID}: summary: holds a formula (=UPPER("abc")); type '
            "the answer itself: intake does not judge a formula's saved result, which can differ "
            "from what Excel shows"
        ],
    ),
    (
        "a blank contract version (reported where it is)",
        _set_cell("Instructions", "B5", None),
        [f"book.xlsx, Instructions!B5: {ID}: schema_version: '' is not '1' or '2'"],
    ),
    (
        "a hidden sheet shadowing a sheet of answers",
        _shadow("Data sharing"),
        [
            "book.xlsx: the sheets 'Data sharing' and '_Data_sharing' have the same name for "
            "intake; rename or delete one"
        ],
    ),
    (
        "a chart sheet in the place of a sheet of answers",
        _chart_sheet_for("Oversight"),
        [
            "book.xlsx: 'Oversight' is a chart sheet; intake reads sheets of answers (rename or delete it)"
        ],
    ),
    (
        "a missing sheet",
        _rename("Oversight", "Oversight (old)"),
        ["book.xlsx: the sheet 'Oversight' is missing"],
    ),
    (
        "a renamed header",
        _set_cell("Data sharing flows", "H1", "Legal basis"),
        [
            "book.xlsx, Data sharing flows: row 1 has no column headed 'Lawful basis' (headers "
            "found: 'Recipient', 'Recipient type', 'Categories', 'Subjects', 'Granularity', "
            "'Purpose', 'Purpose category', 'Legal basis' and 9 more)"
        ],
    ),
    (
        "a deleted question row",
        _remove_row("Legal", "sanctions_exemption"),
        [
            "book.xlsx, Legal: no row for the field sanctions_exemption (column 'Field'); "
            "make a new template with: compliance template"
        ],
    ),
    (
        "an unknown field row",
        _set_cell("Lead", "A3", "org_kind"),
        [
            "book.xlsx, Lead!A3: 'org_kind' is not a field of this sheet (fields: name, org_type)",
            "book.xlsx, Lead: no row for the field org_type (column 'Field'); "
            "make a new template with: compliance template",
        ],
    ),
    (
        "another template version",
        _drop_instructions_version,
        [
            "book.xlsx, Instructions!B3: template version '7' is not supported (this tool reads "
            "versions 1 and 2); make a new template with: compliance template"
        ],
    ),
]


@pytest.mark.parametrize(("name", "mutate", "expected"), REJECTED, ids=[r[0] for r in REJECTED])
def test_what_cannot_be_read_is_reported_at_its_cell(
    name: str, mutate: Mutation, expected: list[str], tmp_path: Path
) -> None:
    path = _export(tmp_path, RICH)
    book = openpyxl.load_workbook(path)
    mutate(book)
    book.save(path)
    assert _problems(path) == expected


def test_a_workbook_not_made_from_the_template(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    book = openpyxl.Workbook()
    book.active["A1"] = "Proposal title"
    book.save(path)
    assert _problems(path) == [
        "book.xlsx: not a proposal workbook (no 'Instructions' sheet); "
        "make one with: compliance template"
    ]


def _register(tmp_path: Path) -> Path:
    loaded = read_proposals([str(RICH), str(FIXTURES / "exemplary-humanitarian.json")])
    path = tmp_path / "register.xlsx"
    path.write_bytes(to_bytes(build(Layout.register, [item.proposal for item in loaded])))
    return path


def test_register_errors_name_the_row(tmp_path: Path) -> None:
    path = _register(tmp_path)
    book = openpyxl.load_workbook(path)
    flows = book["Data sharing flows"]
    flows["A3"] = "PRP-9999"  # an item keyed to no proposal
    proposals = book["Proposals"]
    proposals["A5"] = None
    proposals["B5"] = "A proposal without an id"
    proposals["E3"] = "peace_keeping"  # sector, one letter off
    book.save(path)
    assert _problems(path) == [
        "book.xlsx, Proposals!A5: this row has answers but no proposal id",
        "book.xlsx, Data sharing flows!A3: proposal id 'PRP-9999' is not on the Proposals sheet",
    ]
    proposals["A5"] = None
    proposals["B5"] = None
    flows["A3"] = "PRP-2026-077"
    book.save(path)
    assert _problems(path) == [
        "book.xlsx, Proposals!E3: PRP-2026-077: sector: 'peace_keeping' is not one of "
        "counter_terrorism, preventing_violent_extremism, counter_narcotics, peacekeeping, "
        "humanitarian, community_engagement, border_and_migration (did you mean 'peacekeeping'?)"
    ]


def test_register_extra_columns_with_notes_on_empty_rows_are_not_proposals(
    tmp_path: Path,
) -> None:
    path = _register(tmp_path)
    book = openpyxl.load_workbook(path)
    sheet = book["Proposals"]
    notes = sheet.max_column + 1
    sheet.cell(1, notes).value = "Reviewer status"
    for row in range(2, 12):
        sheet.cell(row, notes).value = "open" if row < 4 else None
    sheet.cell(8, notes).value = "waiting for the legal team"
    book.save(path)
    assert [p.proposal.id for p in read_proposals([str(path)])] == [ID, "PRP-2026-077"]


def test_register_with_an_unreadable_header_reports_only_that(tmp_path: Path) -> None:
    path = _register(tmp_path)
    book = openpyxl.load_workbook(path)
    book["Proposals"]["A1"] = "Proposal identifier"
    book.save(path)
    (problem,) = _problems(path)
    assert problem.startswith(
        "book.xlsx, Proposals: row 1 has no column headed 'Proposal id' (headers found: "
        "'Proposal identifier', 'Title', "
    )


def test_register_duplicate_ids_are_reported_at_their_cells(tmp_path: Path) -> None:
    path = _register(tmp_path)
    book = openpyxl.load_workbook(path)
    for sheet in book.worksheets:  # the second proposal takes the first one's id everywhere
        for cell in sheet["A"]:
            if cell.value == "PRP-2026-077":
                cell.value = ID
    book.save(path)
    problems = _problems(path)
    assert problems == [
        f"book.xlsx, Proposals!A3: {ID}: id: duplicate proposal id (first seen at book.xlsx, "
        "Proposals!A2)"
    ]


# --------------------------------------------------------------------------- the template


def test_template_sheets_and_version() -> None:
    single = build(Layout.single)
    assert single.sheetnames == ["Instructions", *FORM_SHEETS, *TABLE_SHEETS, "Lists"]
    register = build(Layout.register)
    assert register.sheetnames == ["Instructions", "Proposals", *TABLE_SHEETS, "Lists"]
    info = single["Instructions"]
    assert [(info[f"A{r}"].value, info[f"B{r}"].value) for r in (3, 4, 5)] == [
        ("Template version", "2"),
        ("Layout", "single"),
        ("Contract version", "2"),
    ]
    assert single["Lists"].sheet_state == "hidden"


def test_template_form_rows_guide_the_answer() -> None:
    sheet = build(Layout.single)["Data sharing"]
    assert [c.value for c in sheet[1]] == ["Field", "Question", "Answer", "Guidance", "Required"]
    row = _form_row(sheet, "impact_assessment.status")
    assert [c.value for c in sheet[row]][:4] == [
        "impact_assessment.status",
        "Was a data protection impact assessment done?",
        None,
        "One of: full, screening, none.",
    ]
    assert sheet.freeze_panes == "C2"
    assert sheet.protection.sheet
    assert sheet[f"C{row}"].protection.locked is False
    assert sheet[f"B{row}"].protection.locked is True
    rules = {str(dv.sqref): dv for dv in sheet.data_validations.dataValidation}
    assert rules[f"C{row}"].type == "list"
    assert rules[f"C{row}"].formula1 == "'Lists'!$J$2:$J$4"
    lists = build(Layout.single)["Lists"]
    assert [lists[f"J{r}"].value for r in range(1, 6)] == [
        "status",
        "full",
        "screening",
        "none",
        None,
    ]
    proposal = build(Layout.single)["Proposal"]
    assert [c.value for c in proposal[3]][4] == "Required"  # title


@pytest.mark.parametrize(
    ("sheet", "column", "kind", "formula"),
    [
        ("Data sharing flows", "I", "list", '"Yes,No,Unknown"'),
        ("Data sharing flows", "L", "whole", "0"),
        ("Security units", "D", "list", None),
        ("Parties", "C", "list", None),
    ],
)
def test_template_tables_have_drop_downs_and_checks(
    sheet: str, column: str, kind: str, formula: str | None
) -> None:
    table = build(Layout.single)[sheet]
    assert table.freeze_panes == "A2"
    rules = {str(dv.sqref): dv for dv in table.data_validations.dataValidation}
    rule = rules[f"{column}2:{column}501"]
    assert rule.type == kind
    if formula is not None:
        assert rule.formula1 == formula
    assert rule.prompt


def test_template_date_cells_are_validated_and_formatted() -> None:
    sheet = build(Layout.single)["Monitoring"]
    row = _form_row(sheet, "start_date")
    rules = {str(dv.sqref): dv for dv in sheet.data_validations.dataValidation}
    assert rules[f"C{row}"].type == "date"
    assert sheet[f"C{row}"].number_format == "yyyy-mm-dd"


def test_blank_template_reviews_as_needing_information(
    blank_single: Path, tmp_path: Path, durable: Reviewer
) -> None:
    book = openpyxl.load_workbook(blank_single)
    _set("Proposal", "id", "BLANK-1")(book)
    _set("Proposal", "title", "Nothing answered yet")(book)
    path = tmp_path / "blank.xlsx"
    book.save(path)
    review = _review(durable, _one(path))
    assert review.decision.value == "needs_information"
    sector = next(u for u in review.unanswered if u.path == "sector")
    assert sector.location is not None
    assert (sector.location.sheet, sector.location.cell, sector.location.present) == (
        "Proposal",
        "C6",
        False,
    )
    assert all(
        u.location and re.fullmatch(r"C\d+", u.location.cell or "") for u in review.unanswered
    )


# --------------------------------------------------------------------------- the commands


def test_cli_template_export_review_round_trip(tmp_path: Path) -> None:
    blank = tmp_path / "blank.xlsx"
    assert run_cli("template", str(blank)) == Run(
        0, f"wrote {blank} (single layout, template version 2)\n", ""
    )
    again = run_cli("template", str(blank))
    assert again == Run(2, "", f"error: {blank}: already exists; give --force to overwrite it\n")
    assert run_cli("template", str(blank), "--layout", "register", "--force").code == 0
    assert openpyxl.load_workbook(blank)["Instructions"]["B4"].value == "register"

    book = tmp_path / "p.xlsx"
    exported = run_cli("export", str(RICH), str(book))
    assert exported == Run(0, f"wrote {book} (1 proposal, single layout)\n", "")
    from_json = run_cli("review", str(RICH), "--format", "json")
    from_book = run_cli("review", str(book), "--format", "json")
    assert from_book.code == from_json.code == 3
    json_review = json.loads(from_json.out)["reviews"][0]
    book_review = json.loads(from_book.out)["reviews"][0]
    assert book_review["decision"] == json_review["decision"]
    assert [f["rule_id"] for f in book_review["findings"]] == [
        f["rule_id"] for f in json_review["findings"]
    ]
    first = book_review["findings"][0]["evidence"][0]["location"]
    assert set(first) >= {"sheet", "cell"}
    assert run_cli("validate", str(book)) == Run(0, "1 proposal valid\n", "")


def test_cli_export_many_as_register_or_one_workbook_each(tmp_path: Path) -> None:
    sources = [str(p) for p in ALL[:3]]
    register = tmp_path / "register.xlsx"
    assert run_cli("export", *sources, str(register)) == Run(
        0, f"wrote {register} (3 proposals, register layout)\n", ""
    )
    folder = tmp_path / "each"
    assert run_cli("export", *sources, str(folder), "--layout", "single") == Run(
        0, f"wrote 3 workbooks in {folder}\n", ""
    )
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        f"{_one(Path(s)).proposal.id}.xlsx" for s in sources
    )
    again = run_cli("export", *sources, str(folder), "--layout", "single")
    first = _one(Path(sources[0])).proposal.id
    assert again == Run(
        2, "", f"error: {folder / first}.xlsx: already exists; give --force to overwrite it\n"
    )
    named_like_a_file = tmp_path / "many.xlsx"
    assert run_cli("export", *sources, str(named_like_a_file), "--layout", "single") == Run(
        2,
        "",
        f"error: {named_like_a_file}: 3 proposals in the single layout need a directory (one "
        "workbook each), or use --layout register\n",
    )
    assert not named_like_a_file.exists()
    by_folder = json.loads(run_cli("review", str(folder), "--format", "json").out)
    by_register = json.loads(run_cli("review", str(register), "--format", "json").out)
    assert sorted((r["proposal_id"], r["decision"]) for r in by_folder["reviews"]) == sorted(
        (r["proposal_id"], r["decision"]) for r in by_register["reviews"]
    )


def test_cli_excel_report_needs_an_output_file(tmp_path: Path) -> None:
    assert run_cli("review", str(RICH), "--format", "xlsx") == Run(
        2, "", "error: a workbook is not written to the terminal; give --output FILE\n"
    )
    report = tmp_path / "report.xlsx"
    done = run_cli("review", str(RICH), "--format", "xlsx", "-o", str(report))
    assert (done.code, done.out, done.err) == (
        3,
        "",
        f"wrote {report}; 1 proposal: 1 reject; exit 3\n",
    )
    assert openpyxl.load_workbook(report).sheetnames == ["Summary", "Findings", "Unanswered"]


def test_cli_workbook_errors_are_one_line_each_with_exit_2(tmp_path: Path) -> None:
    path = _export(tmp_path, RICH)
    book = openpyxl.load_workbook(path)
    _set_cell("Data sharing flows", "C2", "Biometrics")(book)
    _set("Monitoring", "start_date", "01/02/2026")(book)
    book.save(path)
    result = run_cli("review", str(path))
    assert result.code == 2
    assert result.out == ""
    assert result.err.splitlines() == [  # forms first, then tables
        f"error: {path}, Monitoring!C6: {ID}: monitoring.start_date: "
        "'01/02/2026' is not a date (write YYYY-MM-DD)",
        f"error: {path}, Data sharing flows!C2: {ID}: data_sharing.flows[0].categories: "
        f"'Biometrics' is not one of {CATEGORIES} (did you mean 'biometric'?)",
    ]


def test_an_empty_folder_is_an_error(tmp_path: Path) -> None:
    assert run_cli("review", str(tmp_path)) == Run(
        2,
        "",
        f"error: {tmp_path}: a directory with no proposal files "
        "(.json, .jsonl, .ndjson, .xlsm, .xlsx)\n",
    )


def test_export_refuses_what_would_read_back_differently(tmp_path: Path) -> None:
    data = json.loads(RICH.read_text())
    data["parties"].append({})
    data["monitoring"]["indicators"] = ["Incidents\nper month"]
    data["summary"] = "#N/A"
    data["oversight"]["suspension_triggers"] = "line one\r\nline two"
    data["human_rights"]["referral_criteria"] = "\U0001f600" * 20_000  # 40,000 UTF-16 units
    source = tmp_path / "odd.json"
    source.write_text(json.dumps(data))
    result = run_cli("export", str(source), str(tmp_path / "odd.xlsx"))
    assert result.code == 2
    assert result.err.splitlines() == [
        f"error: {ID}: summary: '#N/A' reads as an Excel error value",
        f"error: {ID}: parties[3]: an item with no answers cannot be written as a row (a blank "
        "row is not an item); remove it or answer one of its fields",
        f"error: {ID}: human_rights.referral_criteria: is longer than a cell holds "
        "(32767 UTF-16 code units)",
        f"error: {ID}: oversight.suspension_triggers: holds a carriage return, which a workbook "
        "stores as a line break",
        f"error: {ID}: monitoring.indicators: the item 'Incidents\\nper month' cannot be written "
        "one per line (it holds a line break or surrounding spaces, or is the word None)",
    ]
    assert not (tmp_path / "odd.xlsx").exists()


BUNDLED_V1 = {
    # Made by the template of contract v1 (template version 1), kept as they were sent.
    "register.xlsx": [
        "exemplary-humanitarian.json",
        "flawed-refugee-data-sharing.json",
        "incomplete-coast-guard-training.json",
    ],
    "flawed-data-sharing-biometrics-left-behind.xlsx": [
        "flawed-data-sharing-biometrics-left-behind.json"
    ],
}
BUNDLED_V2 = {
    "flawed-financial-integrity-transporter-checkpoint-payments.xlsx": [
        "flawed-financial-integrity-transporter-checkpoint-payments.json"
    ],
    "register-v2.xlsx": [
        "flawed-accountability-contingent-self-certified.json",
        "flawed-accountability-border-surveillance-no-due-diligence.json",
        "flawed-human-rights-death-penalty-policy-dialogue.json",
    ],
}
BUNDLED = {**BUNDLED_V1, **BUNDLED_V2}


def test_every_bundled_workbook_is_listed() -> None:
    assert sorted(p.name for p in (FIXTURES / "workbooks").glob("*.xlsx")) == sorted(BUNDLED)


@pytest.mark.parametrize(("workbook", "sources"), BUNDLED.items())
def test_bundled_workbooks_hold_their_json_fixtures(workbook: str, sources: list[str]) -> None:
    book = read_proposals([str(FIXTURES / "workbooks" / workbook)])
    assert [item.proposal for item in book] == [_one(FIXTURES / name).proposal for name in sources]


@pytest.mark.parametrize(
    ("workbook", "version"), [*((w, "1") for w in BUNDLED_V1), *((w, "2") for w in BUNDLED_V2)]
)
def test_bundled_workbooks_are_of_their_template_version(workbook: str, version: str) -> None:
    info = openpyxl.load_workbook(FIXTURES / "workbooks" / workbook)["Instructions"]
    assert [(info[f"A{r}"].value, info[f"B{r}"].value) for r in (3, 5)] == [
        ("Template version", version),
        ("Contract version", version),
    ]


@pytest.mark.parametrize(("workbook", "sources"), BUNDLED.items())
def test_bundled_workbooks_review_as_their_json_fixtures(
    workbook: str, sources: list[str], durable: Reviewer
) -> None:
    book = read_proposals([str(FIXTURES / "workbooks" / workbook)])
    assert len(book) == len(sources)
    findings = 0
    for loaded, name in zip(book, sources, strict=True):
        from_json = _review(durable, _one(FIXTURES / name))
        got = _review(durable, loaded)
        assert plain_review(got) == plain_review(from_json)
        findings += len(got.findings) + len(got.unanswered)
    assert findings  # each workbook holds a flawed proposal: the comparison has substance


def test_an_export_named_like_a_hidden_file_is_still_reviewed(tmp_path: Path) -> None:
    data = json.loads(RICH.read_text())
    data["id"] = ".flawed"  # a valid id; the export is named .flawed.xlsx
    source = tmp_path / "p.json"
    source.write_text(json.dumps(data))
    folder = tmp_path / "out"
    folder.mkdir()  # an existing directory gets one workbook per proposal
    assert run_cli("export", str(source), str(folder), "--layout", "single").code == 0
    result = run_cli("review", str(folder), "--format", "json")
    assert result.code == 3
    assert [r["proposal_id"] for r in json.loads(result.out)["reviews"]] == [".flawed"]


def test_a_large_register_reads_in_linear_time(tmp_path: Path) -> None:
    """20,000 rows with an id and a title (the duplicate-id check was once quadratic)."""
    book = build(Layout.register)
    sheet = book["Proposals"]
    for row in range(2, 20_002):
        sheet.cell(row, 1).value = f"P-{row}"
        sheet.cell(row, 2).value = "A title"
    path = tmp_path / "big.xlsx"
    book.save(path)
    assert len(read_proposals([str(path)])) == 20_000
