"""Reading the answers off each kind of sheet of a proposal workbook: a form sheet's rows, the
register's proposal rows and a table sheet's item rows (and the stray notes that are not items).

What is read is gathered per proposal (:class:`ProposalCells`) for :mod:`compliance.workbook.read`
to assemble; what cannot be read is a problem line naming the file, sheet and cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from compliance.proposal.validation import shown
from compliance.workbook.grid import Formula, Grid
from compliance.workbook.grid import blank as _blank
from compliance.workbook.grid import blank_row as _blank_row
from compliance.workbook.grid import cell_ref as _cell
from compliance.workbook.grid import value_at as _value
from compliance.workbook.layout import (
    FORM_HEADERS,
    PROPOSAL_ID_LABEL,
    PROPOSALS_SHEET,
    TEMPLATE_VERSION,
    Form,
    Question,
    Table,
    normalise_label,
    register_columns,
)
from compliance.workbook.lines import formula_message as _formula_message
from compliance.workbook.lines import some as _some
from compliance.workbook.lines import text_of as _text_of

__all__ = ["Answer", "ProposalCells", "SheetReader"]


@dataclass(slots=True)
class Answer:
    """One answer cell as read: where it is and what it says."""

    question: Question
    sheet: str
    row: int
    column: int
    raw: Any


@dataclass
class ProposalCells:
    """What one proposal's cells say, gathered from every sheet before it is assembled."""

    label: str
    answers: list[Answer] = field(default_factory=list)
    items: dict[str, list[tuple[int, str, list[Answer]]]] = field(default_factory=dict)
    """Table path -> (row, sheet, answers) per item row."""
    root: tuple[str, int, int] | None = None
    """Sheet, row and column of the proposal's id."""


class SheetReader:
    """Reads the sheets of one workbook into :class:`ProposalCells`, collecting problems."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[str] = []
        self.version = TEMPLATE_VERSION
        """The template version of the workbook, once its Instructions sheet is read."""
        self.notes: list[str] = []
        """Stray notes in table rows: problems that do not stop the cells being read, so that
        they are reported together with the cells' problems."""

    def _line(self, sheet: str, row: int | None, column: int | None, message: str) -> str:
        where = f"{sheet}!{_cell(row, column)}" if row and column else sheet
        return f"{self.path}, {where}: {message}"

    def _problem(self, sheet: str, row: int | None, column: int | None, message: str) -> None:
        self.problems.append(self._line(sheet, row, column, message))

    def _header(
        self, sheet: str, grid: Grid, wanted: dict[str, Question | str]
    ) -> dict[str, int] | None:
        """Column of each wanted header (by normalised label); ``None`` after reporting a
        missing or repeated one. Other columns are extra and ignored."""
        columns: dict[str, int] = {}
        seen: dict[str, int] = {}
        headers = sorted(grid.row(1).items())
        for column, text in headers:
            if not isinstance(text, str) or not text.strip():
                continue
            key = normalise_label(text)
            name = wanted.get(key)
            if name is None:
                continue
            ident = name if isinstance(name, str) else name.path
            if ident in seen:
                self._problem(
                    sheet,
                    1,
                    column,
                    f"the header {shown(text.strip())} appears twice "
                    f"(also in {_cell(1, seen[ident])})",
                )
                return None
            seen[ident] = column
            columns[ident] = column
        expected: dict[str, str] = {}
        for name in wanted.values():
            ident = name if isinstance(name, str) else name.path
            label = name if isinstance(name, str) else name.label
            expected.setdefault(ident, label)
        missing = [label for ident, label in expected.items() if ident not in columns]
        if missing:
            found = [str(h).strip() for _, h in headers if h is not None and str(h).strip()]
            self._problem(
                sheet,
                None,
                None,
                f"row 1 has no column headed {', '.join(repr(m) for m in missing)}"
                + (f" (headers found: {_some(found)})" if found else ""),
            )
            return None
        return columns

    # ----------------------------------------------------------------- layouts

    def _form(self, form: Form, sheet: str, grid: Grid, proposal: ProposalCells) -> None:
        wanted: dict[str, Question | str] = {
            normalise_label(h): h for h in (FORM_HEADERS[0], FORM_HEADERS[2])
        }
        columns = self._header(sheet, grid, wanted)
        if columns is None:
            return
        key_column, answer_column = columns[FORM_HEADERS[0]], columns[FORM_HEADERS[2]]
        by_key = {normalise_label(q.key): q for q in form.questions}
        seen: dict[str, int] = {}
        for row in range(2, len(grid) + 1):
            key = _value(grid, row, key_column)
            if key is None or (isinstance(key, str) and not key.strip()):
                continue
            question = by_key.get(normalise_label(str(key)))
            if question is None:
                allowed = ", ".join(q.key for q in form.questions)
                self._problem(
                    sheet,
                    row,
                    key_column,
                    f"{shown(key)} is not a field of this sheet (fields: {allowed})",
                )
                continue
            if question.path in seen:
                self._problem(
                    sheet,
                    row,
                    key_column,
                    f"the field {question.key} appears twice (also in row {seen[question.path]})",
                )
                continue
            seen[question.path] = row
            raw = _value(grid, row, answer_column)
            proposal.answers.append(Answer(question, sheet, row, answer_column, raw))
        for question in form.questions:
            if question.path not in seen:
                self._problem(
                    sheet,
                    None,
                    None,
                    f"no row for the field {question.key} (column {FORM_HEADERS[0]!r}); "
                    "make a new template with: compliance template",
                )

    def _register(self, sheet: str, grid: Grid) -> list[ProposalCells] | None:
        wanted: dict[str, Question | str] = {}
        for question in register_columns(self.version):
            wanted[normalise_label(question.label)] = question
            wanted.setdefault(normalise_label(question.path), question)
        columns = self._header(sheet, grid, wanted)
        if columns is None:
            return None
        id_column = columns["id"]
        mapped = sorted(set(columns.values()))
        placed = [(question, columns[question.path]) for question in register_columns(self.version)]
        out: list[ProposalCells] = []
        by_id: dict[str, ProposalCells] = {}
        for row in range(2, len(grid) + 1):
            cells = grid.rows.get(row)
            if not cells or _blank_row(cells.get(column) for column in mapped):
                continue  # notes or helper formulas in extra columns do not make a proposal
            ident = cells.get(id_column)
            if ident is None or (isinstance(ident, str) and not ident.strip()):
                self._problem(sheet, row, id_column, "this row has answers but no proposal id")
                continue
            if isinstance(ident, Formula):
                self._problem(sheet, row, id_column, _formula_message(ident, "proposal id"))
                continue
            if (row, id_column) in grid.unseen:
                # Reported, and the proposal kept so that its items are not reported as well:
                # no proposal is assembled once a problem is found here.
                self._problem(sheet, row, id_column, grid.unseen[row, id_column])
            label = _text_of(ident)
            first = by_id.get(label)
            if first is not None:
                self._problem(
                    sheet,
                    row,
                    id_column,
                    f"{label}: id: duplicate proposal id (first seen at "
                    f"{self.path}, {sheet}!{_cell(row=first.root[1], column=first.root[2])})"
                    if first.root
                    else f"{label}: id: duplicate proposal id",
                )
                continue
            proposal = ProposalCells(label, root=(sheet, row, id_column))
            by_id[label] = proposal
            proposal.answers = [
                Answer(question, sheet, row, column, cells.get(column))
                for question, column in placed
            ]
            out.append(proposal)
        return out

    def _table(
        self, table: Table, sheet: str, grid: Grid, owners: dict[str, ProposalCells] | None
    ) -> None:
        """Read a table's item rows into their proposals (``owners`` by id in a register; in a
        single workbook the one proposal is ``owners[""]``; ``None``: check the headers only)."""
        keyed = owners is None or "" not in owners
        wanted: dict[str, Question | str] = {}
        if keyed:
            wanted[normalise_label(PROPOSAL_ID_LABEL)] = PROPOSAL_ID_LABEL
        for question in table.columns:
            wanted[normalise_label(question.label)] = question
            wanted.setdefault(normalise_label(question.key), question)
        columns = self._header(sheet, grid, wanted)
        if columns is None or owners is None:
            return
        placed = [columns[q.path] for q in table.columns]
        notes = _NoteColumns(table, placed)
        for row in range(2, len(grid) + 1):
            found = grid.rows.get(row)
            if not found:
                continue
            cells = [found.get(column) for column in placed]
            if _blank_row(cells):
                continue
            note = notes.stray(grid, row, cells)
            if note is not None:
                self.notes.append(self._line(sheet, row, note, notes.message))
                continue
            if keyed:
                id_column = columns[PROPOSAL_ID_LABEL]
                ident = _value(grid, row, id_column)
                if isinstance(ident, Formula):
                    self._problem(sheet, row, id_column, _formula_message(ident, "proposal id"))
                    continue
                if (row, id_column) in grid.unseen:
                    self._problem(sheet, row, id_column, grid.unseen[row, id_column])
                    continue
                owner = owners.get(_text_of(ident)) if ident is not None else None
                if owner is None:
                    message = (
                        "this row has answers but no proposal id"
                        if ident is None or not _text_of(ident)
                        else f"proposal id {shown(_text_of(ident))} is not on the "
                        f"{PROPOSALS_SHEET} sheet"
                    )
                    self._problem(sheet, row, id_column, message)
                    continue
            else:
                owner = owners[""]
            answers = [
                Answer(q, sheet, row, column, value)
                for q, column, value in zip(table.columns, placed, cells, strict=True)
            ]
            owner.items.setdefault(table.path, []).append((row, sheet, answers))


class _NoteColumns:
    """Which rows of a table sheet are stray notes rather than items.

    A row is an item when it answers the column that names an item (``Recipient``, ``Name``,
    ``Risk``) or any column whose answer has a fixed form (a choice, yes/no, list of choices,
    number, date or code): a value there is either read or reported as not allowed. A row whose
    only answers are free text in other columns (``Purpose``, ``Parent force``, ``Measure``) names
    no item and answers no question about one: it is a note typed in an empty row, and is refused
    rather than read as an item every rule would then question. A formula or a cell a person would
    not see is left to the checks that report those."""

    def __init__(self, table: Table, placed: list[int]) -> None:
        naming = table.naming
        self.columns = [
            (column, question.path in table.notes)
            for question, column in zip(table.columns, placed, strict=True)
        ]
        missing = f"its {naming.label} and other columns are" if naming else "its other columns are"
        self.message = (
            f"text in a row that has no {table.item} ({missing} empty); "
            "remove the note or fill in the row"
        )

    def stray(self, grid: Grid, row: int, cells: list[Any]) -> int | None:
        """The column of the row's leftmost note if the row is only notes, else ``None``."""
        first: int | None = None
        for (column, note), value in zip(self.columns, cells, strict=True):
            if _blank(value):
                continue
            if not note or isinstance(value, Formula) or (row, column) in grid.unseen:
                return None
            first = column if first is None else min(first, column)
        return first
