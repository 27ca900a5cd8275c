"""Reading proposals from workbooks made from the template (either layout).

The workbook is streamed by intake's own reader, one pass per sheet. Sheets are found by
name and columns by header (case, spacing and underscores do not matter), so reordered rows,
columns and sheets, extra columns and sheets (hidden or not) and blank rows are all fine; an
answer a person opening the file would not see (a hidden row, column or sheet, a number format
showing other text, a font the colour of its fill) is reported. What
cannot be read is reported, one line per problem, naming the file, sheet and cell:
a missing sheet or header, an unknown field row, a value that is not one of the allowed ones, a
formula.

Every answer's cell goes into the proposal's :class:`SourceMap`, so validation errors and findings
point back at it.

Formulas: a formula in a cell intake reads (an answer, a proposal id) is reported, never judged by
the result the file saved for it, which can be crafted to differ from what Excel shows after
recalculating. Formulas in other cells and sheets are ignored.

The package is read by :mod:`compliance.workbook.xlsxpackage` and each sheet by
:mod:`compliance.workbook.sheetstream`, within the limits of :mod:`compliance.workbook.grid`; the
answers are taken off each sheet by :mod:`compliance.workbook.sheets` and assembled here.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

from compliance.errors import InputError
from compliance.proposal.fields import FieldSpec, Kind
from compliance.proposal.sourcemap import CellRef, SourceMap
from compliance.proposal.validation import shown
from compliance.workbook.cellvalues import BLANK, CellProblem, read_cell
from compliance.workbook.grid import Formula, Grid
from compliance.workbook.grid import value_at as _value
from compliance.workbook.layout import (
    CONTRACT_LABEL,
    INSTRUCTIONS_SHEET,
    LAYOUT_LABEL,
    LISTED,
    NONE,
    PROPOSALS_SHEET,
    TEMPLATE_CONTRACTS,
    TEMPLATE_VERSION_LABEL,
    Layout,
    forms,
    normalise_label,
    tables,
)
from compliance.workbook.lines import formula_message as _formula_message
from compliance.workbook.lines import put as _put
from compliance.workbook.lines import text_of as _text_of
from compliance.workbook.lines import validation_filter
from compliance.workbook.sheets import Answer, ProposalCells, SheetReader
from compliance.workbook.sheetstream import Budget, read_sheet
from compliance.workbook.xlsxpackage import Package, open_package

__all__ = ["Document", "WorkbookReader", "iter_workbook", "read_workbook", "validation_filter"]

_INSTRUCTION_ROWS = 40
_UNSEEN = object()

Document = tuple[Any, SourceMap, str]


class WorkbookReader(SheetReader):
    """Reads one workbook; :meth:`documents` returns each proposal's data and source map."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self._seen: dict[tuple[str, type, Any], Any] = {}
        self._unseen: dict[str, dict[tuple[int, int], str]] = {}  # by sheet, where there are any
        self.layout = Layout.single
        """Its layout, once its Instructions sheet is read."""
        self._titles_of: dict[str, str] = {}  # each table's sheet title by its path

    # ----------------------------------------------------------------- sheets

    def _load(self) -> tuple[dict[str, Grid], dict[str, str], dt.datetime]:
        """Every sheet's values, the sheet titles by normalised name, and the date epoch."""
        package = open_package(self.path)
        try:
            titles = self._titles(package)
            entries = {entry.title: entry for entry in package.sheets}
            wanted = [entries[title] for title in self._wanted(titles)]
            package.load(wanted)
            budget = Budget()
            grids = {entry.title: read_sheet(package, entry, budget) for entry in wanted}
            return grids, titles, package.epoch
        finally:
            package.close()

    def _titles(self, package: Package) -> dict[str, str]:
        """Worksheet title by normalised name. Two sheets that both answer to one name (``Data
        sharing`` and a hidden ``_Data_sharing``) are refused: intake must not choose which one
        holds the answers. A chart sheet is not a sheet of answers."""
        titles: dict[str, str] = {}
        required = {normalise_label(name) for name in self._names()}
        for entry in package.sheets:
            title = entry.title
            key = normalise_label(title.strip("_ "))
            if key not in required:
                continue  # the user's own sheets: ignored
            if key in titles:
                raise InputError(
                    f"{self.path}: the sheets {titles[key]!r} and {title!r} have the same name "
                    "for intake; rename or delete one"
                )
            if entry.kind != "worksheet":
                kind = "chart sheet" if entry.kind == "chartsheet" else f"{entry.kind[:20]}"
                raise InputError(
                    f"{self.path}: {title!r} is a {kind}; intake reads sheets of answers "
                    "(rename or delete it)"
                )
            titles[key] = title
        return titles

    @staticmethod
    def _names() -> list[str]:
        """Every sheet intake reads, in either layout and any template version."""
        names = [INSTRUCTIONS_SHEET, PROPOSALS_SHEET]
        for version in TEMPLATE_CONTRACTS:
            names += [f.title for f in forms(version)] + [t.title for t in tables(version)]
        return list(dict.fromkeys(names))

    def _wanted(self, titles: dict[str, str]) -> list[str]:
        return [titles[key] for key in map(normalise_label, self._names()) if key in titles]

    # ----------------------------------------------------------------- structure

    def _instructions(self, grid: Grid) -> tuple[Layout, str, int | None] | None:
        found: dict[str, tuple[int, Any]] = {}
        for row in range(1, min(len(grid), _INSTRUCTION_ROWS) + 1):
            label = _value(grid, row, 1)
            if isinstance(label, str):
                found.setdefault(normalise_label(label), (row, _value(grid, row, 2)))
        version = found.get(normalise_label(TEMPLATE_VERSION_LABEL))
        if version is None:
            self.problems.append(
                f"{self.path}, {INSTRUCTIONS_SHEET}: no '{TEMPLATE_VERSION_LABEL}' row; "
                "this is not a workbook made by: compliance template"
            )
            return None
        row, value = version
        text = _text_of(value)
        if text not in TEMPLATE_CONTRACTS:
            *older, newest = TEMPLATE_CONTRACTS
            self._problem(
                INSTRUCTIONS_SHEET,
                row,
                2,
                f"template version {shown(text)} is not supported (this tool reads versions "
                f"{', '.join(older)} and {newest}); make a new template with: compliance template",
            )
            return None
        self.version = text
        layout_row = found.get(normalise_label(LAYOUT_LABEL))
        layouts = {layout.value: layout for layout in Layout}
        if layout_row is None or _text_of(layout_row[1]).lower() not in layouts:
            self._problem(
                INSTRUCTIONS_SHEET,
                layout_row[0] if layout_row else None,
                2,
                f"the '{LAYOUT_LABEL}' must be one of {', '.join(layouts)}",
            )
            return None
        contract = found.get(normalise_label(CONTRACT_LABEL))
        return (
            layouts[_text_of(layout_row[1]).lower()],
            _text_of(contract[1]) if contract else "",
            contract[0] if contract else None,
        )

    def _required(self, titles: dict[str, str], names: Iterable[str]) -> bool:
        missing = [name for name in names if normalise_label(name) not in titles]
        for name in missing:
            self.problems.append(f"{self.path}: the sheet '{name}' is missing")
        return not missing

    # ----------------------------------------------------------------- assembly

    def _assemble(
        self, proposal: ProposalCells, contract: str, contract_cell: CellRef, epoch: dt.datetime
    ) -> Document:
        data: dict[str, Any] = {"schema_version": contract}
        cells: dict[str, CellRef] = {"schema_version": contract_cell}
        if proposal.root is not None:
            sheet, row, column = proposal.root
            cells[""] = (sheet, (row, column), True)
        tables_said: dict[str, tuple[Any, Answer]] = {}
        read, label = self._read, proposal.label
        for answer in proposal.answers:
            question = answer.question
            path = question.path
            value = read(answer, label, epoch, path)
            cells[path] = (answer.sheet, (answer.row, answer.column), value is not BLANK)
            if question.spec.kind is Kind.OBJECT_LIST:
                tables_said[path] = (value, answer)
            elif value is not BLANK and not isinstance(value, CellProblem):
                _put(data, path, value)
        for path, (said, answer) in tables_said.items():
            rows = proposal.items.get(path, [])
            title = self._titles_of[path]
            if rows:
                if said == NONE:
                    self._problem(
                        answer.sheet,
                        answer.row,
                        answer.column,
                        f"{proposal.label}: {path}: says {NONE}, but the sheet '{title}' lists "
                        f"{len(rows)} item{'s' if len(rows) != 1 else ''} for it",
                    )
                    continue
                cells[path] = (answer.sheet, (answer.row, answer.column), True)
                items = []
                for index, (row, sheet, item_answers) in enumerate(rows):
                    concrete = f"{path}[{index}]"
                    cells[concrete] = (sheet, (row, 1), True)
                    item: dict[str, Any] = {}
                    for item_answer in item_answers:
                        item_path = f"{concrete}.{item_answer.question.key}"
                        value = self._read(item_answer, proposal.label, epoch, item_path)
                        cells[item_path] = (sheet, (row, item_answer.column), value is not BLANK)
                        if value is not BLANK and not isinstance(value, CellProblem):
                            _put(item, item_answer.question.key, value)
                    items.append(item)
                _put(data, path, items)
            elif said == LISTED:
                self._problem(
                    answer.sheet,
                    answer.row,
                    answer.column,
                    f"{proposal.label}: {path}: says {LISTED}, but the sheet '{title}' lists "
                    "no items for it; list them there, or answer None",
                )
            elif said == NONE:
                _put(data, path, [])
        return data, SourceMap.for_cells(self.path, cells), proposal.label

    def _read(self, answer: Answer, label: str, epoch: dt.datetime, path: str) -> Any:
        raw = answer.raw
        if raw is None:
            return BLANK
        spec: FieldSpec = answer.question.spec
        hidden = self._unseen.get(answer.sheet)
        unseen = hidden.get((answer.row, answer.column)) if hidden else None
        if isinstance(raw, Formula):
            value: Any = CellProblem(_formula_message(raw, "answer"))
        elif unseen is not None:
            value = CellProblem(unseen)
        else:
            # Most answers repeat (Yes, No, the same choices): each distinct one is read once.
            key = (spec.path, type(raw), raw)
            value = self._seen.get(key, _UNSEEN)
            if value is _UNSEEN:
                value = read_cell(spec, raw, epoch)
                self._seen[key] = value
            if isinstance(value, list):
                value = list(value)  # each proposal gets its own list
        if isinstance(value, CellProblem):
            self._problem(
                answer.sheet, answer.row, answer.column, f"{label}: {path}: {value.message}"
            )
        return value

    # ----------------------------------------------------------------- entry

    def documents(self) -> list[Document]:
        """Each proposal's data (not yet validated), source map and label; raises
        :class:`InputError` for what makes the workbook unreadable as a whole, and collects
        problems with single answers in :attr:`problems`."""
        return list(self.iter_documents())

    def iter_documents(self) -> Iterator[Document]:
        """What :meth:`documents` returns, one proposal at a time: the sheets are read and checked
        before this returns (raising :class:`InputError` as :meth:`documents` does), then each
        proposal is assembled when asked for and forgotten once handed over. A proposal's cell
        problems are in :attr:`problems` when it is yielded (complete once exhausted)."""
        proposals, contract, contract_cell, epoch = self._prepare()
        return self._assembled(proposals, contract, contract_cell, epoch)

    def _assembled(
        self,
        proposals: list[ProposalCells],
        contract: str,
        contract_cell: CellRef,
        epoch: dt.datetime,
    ) -> Iterator[Document]:
        pending = deque(proposals)
        proposals.clear()
        while pending:
            yield self._assemble(pending.popleft(), contract, contract_cell, epoch)

    def _prepare(self) -> tuple[list[ProposalCells], str, CellRef, dt.datetime]:
        """The proposals read from the sheets, ready to assemble, after every check of the
        workbook as a whole."""
        grids, titles, epoch = self._load()
        self._unseen = {title: grid.unseen for title, grid in grids.items() if grid.unseen}
        if normalise_label(INSTRUCTIONS_SHEET) not in titles:
            raise InputError(
                f"{self.path}: not a proposal workbook (no '{INSTRUCTIONS_SHEET}' sheet); "
                "make one with: compliance template"
            )
        found = self._instructions(grids[titles[normalise_label(INSTRUCTIONS_SHEET)]])
        if found is None:
            raise InputError(self.problems)
        layout, contract, contract_row = found
        self.layout = layout
        contract_cell: CellRef = (
            titles[normalise_label(INSTRUCTIONS_SHEET)],
            (contract_row or 1, 2 if contract_row else 1),
            bool(contract),
        )
        forms_read, tables_read = forms(self.version), tables(self.version)
        self._titles_of = {table.path: table.title for table in tables_read}
        middle = [f.title for f in forms_read] if layout is Layout.single else [PROPOSALS_SHEET]
        if not self._required(titles, [*middle, *(t.title for t in tables_read)]):
            raise InputError(self.problems)

        def grid(name: str) -> tuple[str, Grid]:
            title = titles[normalise_label(name)]
            return title, grids[title]

        proposals: list[ProposalCells] | None
        owners: dict[str, ProposalCells] | None
        if layout is Layout.single:
            single = ProposalCells("proposal")
            for form in forms_read:
                self._form(form, *grid(form.title), single)
            proposals = [single]
            owners = {"": single}
        else:
            proposals = self._register(*grid(PROPOSALS_SHEET))
            owners = None  # unreadable Proposals sheet: check the tables' headers only
            if proposals is not None:
                owners = {item.label: item for item in proposals}
        for table in tables_read:
            self._table(table, *grid(table.title), owners)
        if self.problems or proposals is None:
            raise InputError(self.problems + self.notes)
        if not proposals:
            raise InputError(
                [*self.notes, f"{self.path}: the {PROPOSALS_SHEET} sheet lists no proposals"]
            )
        self.problems.extend(self.notes)  # before any proposal is handed on: the file is refused
        if layout is Layout.single:
            ident = next((a for a in single.answers if a.question.path == "id"), None)
            if ident is not None and ident.raw is not None:
                single.label = _text_of(ident.raw) or single.label
                single.root = (ident.sheet, ident.row, ident.column)
        return proposals, contract, contract_cell, epoch


def read_workbook(path: str) -> tuple[list[Document], list[str], Layout]:
    """The proposals of the workbook at ``path`` (unvalidated), the problems met reading their
    cells, and the workbook's layout."""
    reader = WorkbookReader(path)
    documents = reader.documents()
    return documents, reader.problems, reader.layout


def iter_workbook(path: str) -> tuple[Iterator[Document], list[str], Layout]:
    """:func:`read_workbook` with the proposals assembled one at a time, in the same order.

    The sheets are read and the workbook's structure checked before this returns, raising
    :class:`InputError` for the same problems as :func:`read_workbook`. The problems list is the
    reader's own: the problems of a proposal's cells are added before that proposal is yielded,
    so the list is the one :func:`read_workbook` returns once the iterator is exhausted. As with
    :func:`read_workbook`, a workbook with any problem must be refused as a whole."""
    reader = WorkbookReader(path)
    documents = reader.iter_documents()
    return documents, reader.problems, reader.layout
