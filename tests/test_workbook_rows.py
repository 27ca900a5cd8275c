"""Which rows of a table sheet are items, and what a drop-down typo is told.

A note typed in an otherwise empty row of a table sheet is refused, naming its cell, rather than
read as an item every rule would then question; a row someone started and left partly blank is
still an item, and the review asks its missing questions. A value that is not one of the allowed
ones is reported with the nearest allowed one when one is close.

The workbooks are made by ``compliance export`` of a fixture and edited with openpyxl.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from compliance.proposal.fields import split_path
from compliance.workbook.layout import Table, tables
from tests.conftest import FIXTURES, run_cli

CASH = FIXTURES / "exemplary-humanitarian.json"  # PRP-2026-077: three data flows, rows 2-4
UNITS = FIXTURES / "flawed-data-sharing-biometrics-left-behind.json"  # HO-F3-BIOMETRIC-ID
GRANULARITY = "aggregate, pseudonymised, individual"
CATEGORIES = (
    "biographic, biometric, health, location, religion_or_ethnicity, criminal_record, family, "
    "financial"
)
NOTE = "Ask legal whether the retention period applies here"


def _export(tmp_path: Path, *sources: Path, layout: str = "single") -> Path:
    out = tmp_path / "book.xlsx"
    result = run_cli("export", *map(str, sources), str(out), "--layout", layout)
    assert result.code == 0, result.err
    return out


def _edit(path: Path, sheet: str, cells: dict[str, Any]) -> None:
    book = openpyxl.load_workbook(path)
    for ref, value in cells.items():
        book[sheet][ref] = value
    book.save(path)


def _refused(path: Path) -> list[str]:
    result = run_cli("review", str(path))
    assert (result.code, result.out) == (2, ""), result.err
    return [line.replace(str(path), "book.xlsx") for line in result.err.splitlines()]


# --------------------------------------------------------------------------- stray notes


def test_a_note_in_an_empty_row_is_refused_naming_its_cell(tmp_path: Path) -> None:
    path = _export(tmp_path, CASH)
    _edit(path, "Data sharing flows", {"F7": NOTE})
    assert _refused(path) == [
        "error: book.xlsx, Data sharing flows!F7: text in a row that has no data flow (its "
        "Recipient and other columns are empty); remove the note or fill in the row"
    ]


def test_a_note_is_reported_with_the_other_problems(tmp_path: Path) -> None:
    path = _export(tmp_path, CASH)
    _edit(path, "Data sharing flows", {"F7": NOTE, "E4": "Agregate"})
    assert _refused(path) == [
        "error: book.xlsx, Data sharing flows!F7: text in a row that has no data flow (its "
        "Recipient and other columns are empty); remove the note or fill in the row",
        "error: book.xlsx, Data sharing flows!E4: PRP-2026-077: data_sharing.flows[2].granularity: "
        f"'Agregate' is not one of {GRANULARITY} (did you mean 'aggregate'?)",
    ]


@pytest.mark.parametrize(
    ("sheet", "cell", "line"),
    [
        (
            "Security units",
            "B6",
            "Security units!B6: text in a row that has no security unit (its Name and other "
            "columns are empty); remove the note or fill in the row",
        ),
        (
            "Human rights mitigations",
            "B9",
            "Human rights mitigations!B9: text in a row that has no mitigation (its Risk and "
            "other columns are empty); remove the note or fill in the row",
        ),
    ],
)
def test_a_note_in_any_free_text_column_but_the_name_is_refused(
    tmp_path: Path, sheet: str, cell: str, line: str
) -> None:
    path = _export(tmp_path, UNITS)
    _edit(path, sheet, {cell: NOTE})
    assert _refused(path) == [f"error: book.xlsx, {line}"]


def test_a_note_in_a_register_row_without_an_id_is_a_note(tmp_path: Path) -> None:
    """The register's tables lead with the proposal id, so every column is one further right; the
    id says whose item a row is, not what it is, so a row of an id and a note is a note too."""
    path = _export(tmp_path, UNITS, CASH, layout="register")
    _edit(path, "Data sharing flows", {"G12": NOTE, "A13": "PRP-2026-077", "G13": NOTE})
    assert _refused(path) == [
        "error: book.xlsx, Data sharing flows!G12: text in a row that has no data flow (its "
        "Recipient and other columns are empty); remove the note or fill in the row",
        "error: book.xlsx, Data sharing flows!G13: text in a row that has no data flow (its "
        "Recipient and other columns are empty); remove the note or fill in the row",
    ]


@pytest.mark.parametrize("table", [t for t in tables() if t.notes], ids=lambda t: t.path)
def test_export_refuses_an_item_the_workbook_would_read_back_as_a_note(
    tmp_path: Path, table: Table
) -> None:
    """What intake refuses as a note, export does not write: an item that answers only free
    text besides its naming column is refused with its path, not written to be refused later."""
    data = json.loads(CASH.read_text(encoding="utf-8"))
    *parents, name = split_path(table.path)
    holder = data
    for key in parents:
        holder = holder.setdefault(key, {})
    note = sorted(table.notes)[0].rsplit(".", 1)[-1]
    holder[name] = [{note: NOTE}]
    source = tmp_path / "proposal.json"
    source.write_text(json.dumps(data), encoding="utf-8")
    result = run_cli("export", str(source), str(tmp_path / "book.xlsx"))
    assert (result.code, result.out) == (2, "")
    assert table.naming is not None  # every table with notes has a column naming its items
    assert result.err == (
        f"error: PRP-2026-077: {table.path}[0]: an item that answers only free text besides its "
        f"{table.naming.label} would read back as a note typed in an empty row, which intake "
        f"refuses; answer its {table.naming.label} or another of its fields\n"
    )
    assert not (tmp_path / "book.xlsx").exists()


def test_a_formula_alone_in_a_row_is_reported_as_a_formula(tmp_path: Path) -> None:
    path = _export(tmp_path, CASH)
    _edit(path, "Data sharing flows", {"F7": '="see "&A2'})
    assert _refused(path) == [
        "error: book.xlsx, Data sharing flows!F7: PRP-2026-077: data_sharing.flows[3].purpose: "
        'holds a formula (="see "&A2); type the answer itself: intake does not judge a '
        "formula's saved result, which can differ from what Excel shows"
    ]


def _review(path: Path) -> dict[str, Any]:
    result = run_cli("review", str(path), "--format", "json")
    assert result.code == 4, result.err  # needs information
    review: dict[str, Any] = json.loads(result.out)["reviews"][0]
    return review


def _about(review: dict[str, Any], item: str) -> tuple[list[tuple[str, str]], list[str]]:
    """The findings about ``item`` (by rule and outcome) and its unanswered questions' cells."""
    findings = sorted(
        (f["rule_id"], f["outcome"])
        for f in review["findings"]
        if any(e["path"].startswith(f"{item}.") for e in f["evidence"])
    )
    cells = [
        f"{u['path']} {u['location']['sheet']}!{u['location']['cell']}"
        for u in review["unanswered"]
        if u["path"].startswith(f"{item}.")
    ]
    return findings, cells


def test_a_partly_filled_row_is_an_item_whose_questions_are_asked(tmp_path: Path) -> None:
    path = _export(tmp_path, CASH)
    _edit(
        path,
        "Data sharing flows",
        {"A5": "District health office", "F5": "Referral of children for treatment"},
    )
    review = _review(path)
    assert review["decision"] == "needs_information"
    findings, cells = _about(review, "data_sharing.flows[3]")
    assert findings == [
        ("DS-001", "needs_information"),
        ("DS-002", "needs_information"),
        ("DS-003", "needs_information"),
        ("DS-006", "needs_information"),
        ("DS-007", "needs_information"),
        ("DS-012", "needs_information"),
        ("DS-016", "needs_information"),
        ("DS-018", "needs_information"),
        ("DS-019", "needs_information"),
        ("DS-023", "needs_information"),
        ("DS-024", "needs_information"),
        ("TRN-008", "needs_information"),
    ]
    assert sorted(cells) == [  # every question the rules ask of it, at its cell in row 5
        "data_sharing.flows[3].categories Data sharing flows!C5",
        "data_sharing.flows[3].cross_border Data sharing flows!J5",
        "data_sharing.flows[3].granularity Data sharing flows!E5",
        "data_sharing.flows[3].lawful_basis Data sharing flows!H5",
        "data_sharing.flows[3].onward_transfer_allowed Data sharing flows!I5",
        "data_sharing.flows[3].purpose_category Data sharing flows!G5",
        "data_sharing.flows[3].purpose_fully_disclosed Data sharing flows!N5",
        "data_sharing.flows[3].recipient_is_origin_state_or_conflict_party Data sharing flows!M5",
        "data_sharing.flows[3].recipient_type Data sharing flows!B5",
        "data_sharing.flows[3].retention_days Data sharing flows!L5",
        "data_sharing.flows[3].subjects Data sharing flows!D5",
        "data_sharing.flows[3].torture_risk_assessed Data sharing flows!Q5",
        "data_sharing.flows[3].transfer_mechanism Data sharing flows!K5",
        "data_sharing.flows[3].use_caveats_in_writing Data sharing flows!P5",
    ]


def test_a_row_with_only_a_choice_is_an_item(tmp_path: Path) -> None:
    """A drop-down answered is an answer about an item, not a note: the row is read."""
    path = _export(tmp_path, CASH)
    _edit(path, "Data sharing flows", {"E5": "individual"})
    findings, cells = _about(_review(path), "data_sharing.flows[3]")
    assert ("DS-001", "needs_information") in findings
    assert "data_sharing.flows[3].lawful_basis Data sharing flows!H5" in cells
    assert "data_sharing.flows[3].granularity Data sharing flows!E5" not in cells


# --------------------------------------------------------------------------- drop-down typos


@pytest.mark.parametrize(
    ("sheet", "cell", "typed", "line"),
    [
        (
            "Data sharing flows",
            "E4",
            "AGREGATE",
            "Data sharing flows!E4: PRP-2026-077: data_sharing.flows[2].granularity: "
            f"'AGREGATE' is not one of {GRANULARITY} (did you mean 'aggregate'?)",
        ),
        (
            "Data sharing flows",
            "C2",
            "biographic, finacial",
            "Data sharing flows!C2: PRP-2026-077: data_sharing.flows[0].categories: "
            f"'finacial' is not one of {CATEGORIES} (did you mean 'financial'?)",
        ),
        (
            "Data sharing flows",
            "I3",
            "Yse",
            "Data sharing flows!I3: PRP-2026-077: data_sharing.flows[1].onward_transfer_allowed: "
            "'Yse' is not one of Yes, No, Unknown (did you mean 'Yes'?)",
        ),
    ],
)
def test_a_drop_down_typo_is_told_the_nearest_allowed_value(
    tmp_path: Path, sheet: str, cell: str, typed: str, line: str
) -> None:
    path = _export(tmp_path, CASH)
    _edit(path, sheet, {cell: typed})
    assert _refused(path) == [f"error: book.xlsx, {line}"]


def test_a_far_off_value_gets_no_suggestion(tmp_path: Path) -> None:
    path = _export(tmp_path, CASH)
    _edit(path, "Data sharing flows", {"E4": "everything we hold"})
    assert _refused(path) == [
        "error: book.xlsx, Data sharing flows!E4: PRP-2026-077: data_sharing.flows[2].granularity: "
        f"'everything we hold' is not one of {GRANULARITY}"
    ]
