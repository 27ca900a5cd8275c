"""Writing proposal workbooks: the blank template, and proposals exported from JSON.

Both come from one builder driven by :mod:`compliance.workbook.layout`, so the template, the export
and the intake can never disagree about where an answer goes.

The template: an Instructions sheet (with the template version, layout and contract version that
intake checks), form and table sheets with frozen headers and sized columns, drop-downs from the
enumerations (fed by a hidden Lists sheet), Yes/No/Unknown for yes/no questions, date and number
validation, and sheet protection that locks labels and leaves answer cells editable (no password:
protection guards against slips, not against the author).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator, Sequence
from enum import Enum
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from compliance import __version__
from compliance.errors import InputError
from compliance.proposal.fields import FieldSpec, Kind, catalogue, generic_path, get_in, split_path
from compliance.proposal.model import LIST_MAX, Proposal
from compliance.proposal.v2 import v2_fields_set
from compliance.proposal.validation import shown
from compliance.workbook.cellvalues import EXCEL_ERRORS
from compliance.workbook.layout import (
    CONTRACT_LABEL,
    FORM_HEADERS,
    INSTRUCTIONS_SHEET,
    LAYOUT_LABEL,
    LISTED,
    LISTS_SHEET,
    NO,
    NONE,
    PROPOSAL_ID_LABEL,
    PROPOSALS_SHEET,
    TEMPLATE_CONTRACTS,
    TEMPLATE_VERSION,
    TEMPLATE_VERSION_LABEL,
    UNKNOWN,
    YES,
    Form,
    Layout,
    Question,
    Table,
    forms,
    guidance,
    register_columns,
    tables,
)
from compliance.workbook.xlsxtext import (
    CELL_MAX,
    has_illegal,
    set_text,
    utf16_length,
    xstring_escape,
)

REGISTER_ROWS = 1000
"""Rows of the register prepared with drop-downs (more can be added by copying a row)."""
TABLE_ROWS = LIST_MAX
DATE_FORMAT = "yyyy-mm-dd"

_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
_ANSWER_FILL = PatternFill("solid", fgColor="FFF2CC")
_UNLOCKED = Protection(locked=False)
_WRAP = Alignment(wrap_text=True, vertical="top")


class _Lists:
    """The hidden Lists sheet: one column per set of allowed values, for drop-downs."""

    def __init__(self, sheet: Worksheet) -> None:
        self.sheet = sheet
        self.columns: dict[tuple[str, ...], str] = {}

    def reference(self, name: str, values: tuple[str, ...]) -> str:
        if values not in self.columns:
            column = get_column_letter(len(self.columns) + 1)
            self.sheet[f"{column}1"] = name
            for row, value in enumerate(values, start=2):
                self.sheet[f"{column}{row}"] = value
            self.columns[values] = (
                f"{quote_sheetname(LISTS_SHEET)}!${column}$2:${column}${len(values) + 1}"
            )
        return self.columns[values]


def _validation(spec: FieldSpec, lists: _Lists) -> DataValidation:
    """The drop-down or check for one answer cell or column (each gets its own, to carry its
    question as the prompt Excel shows when the cell is selected)."""
    kind = spec.kind
    if kind is Kind.BOOL:
        return DataValidation(type="list", formula1=f'"{YES},{NO},{UNKNOWN}"')
    if kind is Kind.OBJECT_LIST:
        return DataValidation(type="list", formula1=f'"{LISTED},{NONE}"')
    if kind in (Kind.ENUM, Kind.CODE, Kind.ENUM_LIST):
        name = spec.path.rsplit(".", 1)[-1].replace("[]", "")
        # A list of choices takes several values separated by commas: the drop-down offers one,
        # and typing more is allowed. Values typed in another case are allowed too. Intake checks
        # every value and reports what it cannot read.
        return DataValidation(
            type="list",
            formula1=lists.reference(name, spec.values),
            showErrorMessage=kind is not Kind.ENUM_LIST,
            errorStyle="warning",
            error="Not one of the allowed values; intake will report it.",
        )
    if kind is Kind.DATE:
        return DataValidation(
            type="date",
            operator="greaterThan",
            formula1="1",
            error="Give a date (YYYY-MM-DD).",
            showErrorMessage=True,
        )
    if kind is Kind.NUMBER:
        return DataValidation(
            type="whole" if spec.integer else "decimal",
            operator="greaterThanOrEqual",
            formula1="0",
            error="Give a number, 0 or more." if not spec.integer else "Give a whole number.",
            showErrorMessage=True,
        )
    return DataValidation()  # free text: no check, only the prompt


def _validate(sheet: Worksheet, ref: str, question: Question, lists: _Lists) -> None:
    rule = _validation(question.spec, lists)
    rule.allow_blank = True
    rule.showInputMessage = True
    rule.promptTitle = question.label[:32]
    rule.prompt = _prompt(question)[:255]
    rule.add(ref)
    sheet.add_data_validation(rule)


def _header(cell: Any, text: str) -> None:
    set_text(cell, text)
    cell.font = _HEADER_FONT
    cell.fill = _HEADER_FILL
    cell.alignment = _WRAP


def _protect(sheet: Worksheet, *, rows_editable: bool) -> None:
    """Lock the sheet (no password) but allow filtering, sorting, sizing and, in tables, rows."""
    protection = sheet.protection
    protection.sheet = True
    protection.formatColumns = False
    protection.formatRows = False
    protection.autoFilter = False
    protection.sort = False
    protection.insertRows = not rows_editable
    protection.deleteRows = not rows_editable


_FORM_WIDTHS = (30, 60, 36, 50, 10)
_LINE_HEIGHT = 15


def _fit_height(sheet: Worksheet, row: int, widths: Sequence[float]) -> None:
    """A row tall enough for its wrapped text (spreadsheet programs keep a set height, and
    openpyxl cannot measure text): about one line per column width of characters."""
    lines = 1
    for column, width in enumerate(widths, start=1):
        value = sheet.cell(row, column).value
        if isinstance(value, str):
            wrapped = sum(1 + len(part) // max(int(width) - 2, 1) for part in value.split("\n"))
            lines = max(lines, wrapped)
    if lines > 1:
        sheet.row_dimensions[row].height = _LINE_HEIGHT * min(lines, 12)


def _printable(sheet: Worksheet) -> None:
    """Landscape, as wide as the page, header row repeated: a filled-in workbook gets printed."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    if sheet.title != INSTRUCTIONS_SHEET:
        sheet.print_title_rows = "1:1"


def _cell_value(spec: FieldSpec, value: Any, path: str) -> Any:
    """A proposal's value as the workbook writes it (what intake reads back to the same value)."""
    if value is None:
        return None
    kind = spec.kind
    if kind is Kind.BOOL:
        return YES if value else NO
    if kind is Kind.OBJECT_LIST:
        return LISTED if value else NONE
    if kind is Kind.ENUM_LIST:
        return ", ".join(_plain(v) for v in value) if value else NONE
    if kind is Kind.TEXT_LIST:
        return "\n".join(value) if value else NONE
    if isinstance(value, Enum):
        return _plain(value)
    return value


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def _write_answer(sheet: Worksheet, ref: str, spec: FieldSpec, value: Any) -> None:
    cell = sheet[ref]
    cell.protection = _UNLOCKED
    cell.alignment = _WRAP
    if value is None:
        return
    if isinstance(value, str):
        set_text(cell, value)
    elif isinstance(value, dt.date):
        cell.value = value
        cell.number_format = DATE_FORMAT
    else:
        cell.value = value


def _prompt(question: Question) -> str:
    return f"{question.spec.question} {guidance(question.spec)}"


class _Builder:
    def __init__(self, layout: Layout, version: str) -> None:
        self.layout = layout
        self.version = version
        self.book = Workbook()
        first = self.book.active
        assert first is not None
        first.title = INSTRUCTIONS_SHEET
        self.instructions = first
        lists = self.book.create_sheet(LISTS_SHEET)
        self.lists = _Lists(lists)

    def finish(self) -> Workbook:
        lists = self.book[LISTS_SHEET]
        lists.sheet_state = "hidden"
        self.book.move_sheet(lists, offset=len(self.book.sheetnames) - 1)
        self.book.active = 0
        return self.book

    # ----------------------------------------------------------------- instructions

    def write_instructions(self) -> None:
        sheet = self.instructions
        sheet["A1"] = "Partnership proposal workbook"
        sheet["A1"].font = Font(bold=True, size=14)
        meta = [
            (TEMPLATE_VERSION_LABEL, self.version),
            (LAYOUT_LABEL, self.layout.value),
            (CONTRACT_LABEL, TEMPLATE_CONTRACTS[self.version]),
            ("Made by", f"compliance {__version__}"),
        ]
        for row, (label, value) in enumerate(meta, start=3):
            sheet.cell(row, 1, label).font = Font(bold=True)
            set_text(sheet.cell(row, 2), value)
        if self.layout is Layout.single:
            how = [
                "One proposal per workbook. Answer in the yellow Answer column of each section "
                "sheet; leave a cell blank when the answer is not known.",
                "Lists of items (parties, security units, data flows, ...) go on their own "
                "sheets, one row per item. On the section sheet, answer the matching question "
                f"{LISTED} or {NONE}: {NONE} says there are none, which is not the same as no "
                "answer.",
            ]
        else:
            how = [
                f"Many proposals per workbook: one row per proposal on the {PROPOSALS_SHEET} "
                "sheet, with its proposal id in the first column.",
                f"Lists of items go on their own sheets, one row per item, keyed by the "
                f"'{PROPOSAL_ID_LABEL}' column. Answer the matching column on the "
                f"{PROPOSALS_SHEET} sheet {LISTED} or {NONE}: {NONE} says there are none, "
                "which is not the same as no answer.",
            ]
        how += [
            f"Yes/no questions take {YES}, {NO} or {UNKNOWN}. Choices come from the "
            "drop-downs; a list of choices takes several values separated by commas. Dates "
            "are YYYY-MM-DD. Hover over a header or select a cell to see its question.",
            "Review it with: compliance review this-workbook.xlsx (findings point at the "
            "sheet and cell of each answer). Check it without reviewing: compliance validate.",
            "Do not rename sheets or headers: intake finds answers by them. Extra columns, "
            "extra sheets, hidden sheets and blank rows are ignored.",
        ]
        sheet.cell(8, 1, "How to fill it in").font = Font(bold=True)
        for row, text in enumerate(how, start=8):
            set_text(sheet.cell(row, 2), text, wrap=True)
            sheet.row_dimensions[row].height = 15 * (1 + len(text) // 90)
        sheet.column_dimensions["A"].width = 22
        sheet.column_dimensions["B"].width = 100
        _protect(sheet, rows_editable=False)
        _printable(sheet)

    # ----------------------------------------------------------------- single layout

    def write_form(self, form: Form, data: dict[str, Any] | None) -> None:
        sheet = self.book.create_sheet(form.title)
        for column, text in enumerate(FORM_HEADERS, start=1):
            _header(sheet.cell(1, column), text)
        for row, question in enumerate(form.questions, start=2):
            spec = question.spec
            set_text(sheet.cell(row, 1), question.key, wrap=True)
            set_text(sheet.cell(row, 2), spec.question, wrap=True)
            set_text(sheet.cell(row, 4), guidance(spec), wrap=True)
            if spec.required:
                set_text(sheet.cell(row, 5), "Required", wrap=True)
            ref = f"C{row}"
            sheet[ref].fill = _ANSWER_FILL
            value = None
            if data is not None:
                value = _cell_value(spec, get_in(data, split_path(question.path)), question.path)
            _write_answer(sheet, ref, spec, value)
            if spec.kind is Kind.DATE:
                sheet[ref].number_format = DATE_FORMAT
            _validate(sheet, ref, question, self.lists)
            _fit_height(sheet, row, _FORM_WIDTHS)
        for letter, width in zip("ABCDE", _FORM_WIDTHS, strict=True):
            sheet.column_dimensions[letter].width = width
        sheet.freeze_panes = "C2"
        _protect(sheet, rows_editable=False)
        _printable(sheet)

    # ----------------------------------------------------------------- tables

    def write_table(
        self, table: Table, items: Sequence[tuple[str, dict[str, Any]]], *, keyed: bool
    ) -> None:
        """A table sheet; ``items`` are (proposal id, item) pairs, ``keyed`` adds the id column."""
        sheet = self.book.create_sheet(table.title)
        offset = 1 if keyed else 0
        last_row = 1 + (REGISTER_ROWS * 5 if keyed else TABLE_ROWS)
        widths: list[float] = [18] if keyed else []
        if keyed:
            _header(sheet.cell(1, 1), PROPOSAL_ID_LABEL)
            sheet.column_dimensions["A"].width = 18
            sheet.column_dimensions["A"].protection = _UNLOCKED
        for index, question in enumerate(table.columns, start=1 + offset):
            letter = get_column_letter(index)
            head = sheet.cell(1, index)
            _header(head, question.label)
            head.comment = Comment(_prompt(question), "compliance")
            width = 14 if question.spec.kind in (Kind.BOOL, Kind.NUMBER, Kind.DATE) else 28
            sheet.column_dimensions[letter].width = width
            widths.append(width)
            sheet.column_dimensions[letter].protection = _UNLOCKED
            if question.spec.kind is Kind.DATE:
                sheet.column_dimensions[letter].number_format = DATE_FORMAT
            _validate(sheet, f"{letter}2:{letter}{last_row}", question, self.lists)
        for row, (proposal_id, item) in enumerate(items, start=2):
            if keyed:
                _write_answer(sheet, f"A{row}", _ID_SPEC, proposal_id)
            for index, question in enumerate(table.columns, start=1 + offset):
                value = _cell_value(
                    question.spec, item.get(question.key), f"{table.path}[].{question.key}"
                )
                _write_answer(sheet, f"{get_column_letter(index)}{row}", question.spec, value)
            _fit_height(sheet, row, widths)
        sheet.freeze_panes = "B2" if keyed else "A2"
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(table.columns) + offset)}1"
        _protect(sheet, rows_editable=True)
        _printable(sheet)

    # ----------------------------------------------------------------- register

    def write_register(self, proposals: Sequence[dict[str, Any]]) -> None:
        sheet = self.book.create_sheet(PROPOSALS_SHEET)
        last_row = 1 + max(REGISTER_ROWS, len(proposals))
        columns = register_columns(self.version)
        for index, question in enumerate(columns, start=1):
            letter = get_column_letter(index)
            head = sheet.cell(1, index)
            _header(head, question.label)
            head.comment = Comment(_prompt(question), "compliance")
            sheet.column_dimensions[letter].width = 14 if index > 2 else 24
            sheet.column_dimensions[letter].protection = _UNLOCKED
            if question.spec.kind is Kind.DATE:
                sheet.column_dimensions[letter].number_format = DATE_FORMAT
            _validate(sheet, f"{letter}2:{letter}{last_row}", question, self.lists)
        for row, data in enumerate(proposals, start=2):
            for index, question in enumerate(columns, start=1):
                value = _cell_value(
                    question.spec, get_in(data, split_path(question.path)), question.path
                )
                _write_answer(sheet, f"{get_column_letter(index)}{row}", question.spec, value)
        sheet.row_dimensions[1].height = 60
        sheet.freeze_panes = "C2"
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}1"
        _protect(sheet, rows_editable=True)
        _printable(sheet)


_ID_SPEC = FieldSpec("id", Kind.TEXT, "Proposal identifier.")


def _items(table: Table, proposals: Sequence[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    for data in proposals:
        for item in get_in(data, split_path(table.path)) or ():
            out.append((str(data["id"]), item))
    return out


def _answers(data: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(concrete path, value) of every answer, list items included."""
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _answers(value, f"{path}.")
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for index, item in enumerate(value):
                yield f"{path}[{index}]", item
                yield from _answers(item, f"{path}[{index}].")
        else:
            yield path, value


def _reads_as_note(table: Table) -> str:
    """Why an item answering only ``table``'s note columns cannot be written."""
    if table.naming is None:
        return (
            "an item that answers only free text would read back as a note typed in an empty "
            "row, which intake refuses; answer another of its fields"
        )
    label = table.naming.label
    return (
        f"an item that answers only free text besides its {label} would read back as a note "
        f"typed in an empty row, which intake refuses; answer its {label} or another of its fields"
    )


def _unwritable_text(text: str) -> str | None:
    """Why ``text`` would not read back from a cell as it is, if it would not."""
    if has_illegal(text):
        return "holds control characters a workbook cannot store"
    if "\r" in text:
        return "holds a carriage return, which a workbook stores as a line break"
    escape = xstring_escape(text)
    if escape is not None:
        return f"holds {shown(escape)}, which Excel shows as the character it encodes"
    if text.strip() in EXCEL_ERRORS:
        return f"{shown(text)} reads as an Excel error value"
    if utf16_length(text) > CELL_MAX:
        return f"is longer than a cell holds ({CELL_MAX} UTF-16 code units)"
    return None


def _unwritable(data: dict[str, Any]) -> list[str]:
    """What a workbook cannot hold so that it reads back the same."""
    problems = []
    by_path = {f"{table.path}[]": table for table in tables()}
    for path, value in _answers(data):
        why = None
        if isinstance(value, dict) and not value:
            why = (
                "an item with no answers cannot be written as a row (a blank row is not an "
                "item); remove it or answer one of its fields"
            )
        elif isinstance(value, dict) and (table := by_path.get(generic_path(path))) is not None:
            answered = {f"{table.path}[].{key}" for key in value}
            if answered <= table.notes:
                why = _reads_as_note(table)
        elif isinstance(value, str):
            why = _unwritable_text(value)
        elif isinstance(value, list) and catalogue()[generic_path(path)].kind is Kind.TEXT_LIST:
            for item in value:
                if "\n" in item or "\r" in item or item.strip() != item or item == NONE:
                    why = (
                        f"the item {shown(item)} cannot be written one per line (it holds a "
                        f"line break or surrounding spaces, or is the word {NONE})"
                    )
                elif _unwritable_text(item):
                    why = _unwritable_text(item)
            if why is None:
                why = _unwritable_text("\n".join(value))
        if why is not None:
            problems.append(f"{data['id']}: {path}: {why}")
    return problems


def build(
    layout: Layout, proposals: Sequence[Proposal] = (), version: str = TEMPLATE_VERSION
) -> Workbook:
    """The template for ``layout``, filled with ``proposals`` (none: a blank template).

    A workbook states the contract of its template ``version`` (contract v2 by default), so a v1
    proposal exported comes back as its v2 form, nothing lost. An older ``version`` is for
    making workbooks as earlier templates made them; a proposal it cannot hold is refused.
    """
    if layout is Layout.single and len(proposals) > 1:
        raise InputError(
            f"{len(proposals)} proposals cannot go in one single-proposal workbook; "
            "use --layout register, or export into a directory"
        )
    if TEMPLATE_CONTRACTS[version] == "1":
        later = [f"{p.id}: {path}" for p in proposals for path in v2_fields_set(p)]
        if later:
            raise InputError([f"{line}: not in a template version {version}" for line in later])
    data = [p.model_dump(mode="python", exclude_none=True) for p in proposals]
    problems = [line for item in data for line in _unwritable(item)]
    if problems:
        raise InputError(problems)
    builder = _Builder(layout, version)
    builder.write_instructions()
    if layout is Layout.single:
        for form in forms(version):
            builder.write_form(form, data[0] if data else None)
    else:
        builder.write_register(data)
    for table in tables(version):
        builder.write_table(table, _items(table, data), keyed=layout is Layout.register)
    return builder.finish()


def to_bytes(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
