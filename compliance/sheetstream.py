"""Reading one sheet's XML as a stream, bounded in rows, columns, cells and text.

Only the cells present in the file are read, never padded to a row's width or to the sheet's
declared size (a ``<dimension>`` element is not needed and not trusted). The first value past
:data:`~compliance.workbook_grid.MAX_ROWS`, :data:`~compliance.workbook_grid.MAX_COLUMNS` or
:data:`~compliance.workbook_grid.MAX_CELLS` stops the reading with one line naming the sheet and
cell; an empty, styled cell far away is not a value and is skipped.

A cell Excel would repair or refuse is refused, naming it: a boolean other than 0 or 1, an unknown
cell type, a style the stylesheet does not define, a shared string the table does not hold, a
number or date that does not parse, an error value Excel does not know, a cell or row out of order
or repeated, text longer than a cell holds. A cell holding a formula becomes a
:class:`~compliance.workbook_grid.Formula`, whatever result the file saved for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from openpyxl.utils.datetime import from_excel, from_ISO8601

from compliance.errors import InputError
from compliance.workbook_grid import (
    MAX_CELLS,
    MAX_COLUMNS,
    MAX_ROWS,
    MAX_TEXT,
    Formula,
    Grid,
    blank,
    cell_ref,
)
from compliance.xlsxfile import _one_line
from compliance.xlsxpackage import Package, SheetEntry, decode_xstring, walk

EXCEL_ROWS = 1_048_576
EXCEL_COLUMNS = 16_384
#: The error values Excel writes (``t="e"``); any other is a file Excel repairs.
ERROR_VALUES = frozenset(
    {
        "#NULL!",
        "#DIV/0!",
        "#VALUE!",
        "#REF!",
        "#NAME?",
        "#NUM!",
        "#N/A",
        "#GETTING_DATA",
        "#SPILL!",
        "#CALC!",
        "#FIELD!",
        "#BLOCKED!",
        "#CONNECT!",
        "#BUSY!",
        "#UNKNOWN!",
        "#PYTHON!",
    }
)
_REF = re.compile(r"([A-Za-z]{1,3})([0-9]{1,7})")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


@dataclass
class Budget:
    """What the sheets of one workbook have used of :data:`MAX_CELLS`."""

    cells: int = 0


class _Malformed(Exception):
    pass


def _column(letters: str) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number


class _Cell:
    __slots__ = ("formula", "kind", "pieces", "style", "value")

    def __init__(self, kind: str, style: str | None) -> None:
        self.kind = kind
        self.style = style
        self.value: str | None = None
        self.formula: str | None = None
        self.pieces: list[str] | None = None


def _number(package: Package, cell: _Cell, text: str) -> Any:
    text = text.strip()
    if not _NUMBER.fullmatch(text):
        raise _Malformed(f"{_one_line(repr(text), 40)} is not a number")
    number: float | int = float(text) if "." in text or "e" in text or "E" in text else int(text)
    if isinstance(number, float) and number in (float("inf"), float("-inf")):
        raise _Malformed(f"{_one_line(repr(text), 40)} is not a number Excel holds")
    style = int(cell.style) if cell.style else 0
    if style in package.styles.dates:
        try:
            return from_excel(number, package.epoch, timedelta=style in package.styles.durations)
        except (OverflowError, ValueError):
            return "#VALUE!"  # what openpyxl reads, and an error to intake: never an answer
    return number


def _value(package: Package, cell: _Cell) -> Any:
    if cell.style and (not cell.style.isdigit() or int(cell.style) >= max(package.styles.count, 1)):
        raise _Malformed(
            f"style {_one_line(cell.style, 20)}, but the workbook defines {package.styles.count}"
        )
    if cell.formula is not None:
        return Formula(cell.formula)
    kind, text = cell.kind, cell.value
    if kind == "inlineStr":
        return None if cell.pieces is None else decode_xstring("".join(cell.pieces))
    if text is None:
        return None
    if kind == "n":
        return _number(package, cell, text)
    if kind == "s":
        index = text.strip()
        if not index.isdigit() or int(index) >= len(package.strings):
            raise _Malformed(
                f"shared string {_one_line(repr(index), 20)}, but the table holds "
                f"{len(package.strings)}"
            )
        return package.strings[int(index)]
    if kind == "b":
        if text.strip() not in ("0", "1"):
            raise _Malformed(f"a boolean holding {_one_line(repr(text), 20)}")
        return text.strip() == "1"
    if kind == "str":
        return decode_xstring(text)
    if kind == "e":
        if text not in ERROR_VALUES:
            raise _Malformed(f"an unknown error value {_one_line(repr(text), 20)}")
        return text
    if kind == "d":
        try:
            return from_ISO8601(text)
        except (ValueError, TypeError, OverflowError):
            raise _Malformed(f"{_one_line(repr(text), 40)} is not a date") from None
    raise _Malformed(f"an unknown cell type {_one_line(repr(kind), 20)}")


def read_sheet(package: Package, entry: SheetEntry, budget: Budget) -> Grid:
    """The values of the sheet ``entry``; raises :class:`InputError` naming the sheet and cell at
    the first limit passed or malformed cell."""
    path, title = package.path, entry.title
    grid = Grid()
    rows = grid.rows
    in_data = False
    row = column = 0
    cell: _Cell | None = None
    inline = phonetic = 0
    ref = ""

    def malformed(detail: str) -> InputError:
        return InputError(
            f"{path}, {title}!{ref or f'row {row}'}: is malformed ({detail}); Excel repairs or "
            "refuses such a file: save it again from Excel and check the cell"
        )

    for started, name, element in walk(package, entry.part):
        if not in_data:
            in_data = started and name == "sheetData"
            continue
        if started:
            if name == "c":
                ref = ""
                at = element.get("r")
                if at is None:
                    column += 1
                    ref = cell_ref(row, column) if row and column <= EXCEL_COLUMNS else ""
                else:
                    found = _REF.fullmatch(at)
                    ref = _one_line(at, 12)
                    if found is None or int(found.group(2)) != row:
                        raise malformed("a cell reference outside its row")
                    number = _column(found.group(1))
                    if number <= column:
                        raise malformed("a cell repeated or out of order")
                    column = number
                if column > EXCEL_COLUMNS or not row:
                    raise malformed(f"a cell past column XFD ({EXCEL_COLUMNS})")
                cell = _Cell(element.get("t", "n"), element.get("s"))
            elif name == "row":
                at = element.get("r")
                previous = row
                ref = ""
                if at is None:
                    row += 1
                elif at.isdigit() and 0 < int(at) <= EXCEL_ROWS:
                    row = int(at)
                else:
                    row = previous
                    raise malformed(f"row number {_one_line(repr(at), 20)}")
                if row <= previous or row > EXCEL_ROWS:
                    raise malformed("a row repeated or out of order")
                column = 0
            elif name == "is":
                inline += 1
                if cell is not None:
                    cell.pieces = []
            elif name == "rPh":
                phonetic += 1
            continue
        if name == "sheetData":
            break
        if cell is None:
            continue
        if name == "c":
            try:
                value = _value(package, cell)
            except _Malformed as exc:
                raise malformed(str(exc)) from None
            cell = None
            if blank(value) and not isinstance(value, str):
                continue
            if isinstance(value, str) and len(value) > MAX_TEXT:
                raise malformed(f"{len(value)} characters, more than a cell holds ({MAX_TEXT})")
            if value == "":
                continue
            if row > MAX_ROWS:
                if blank(value):
                    continue
                raise InputError(
                    f"{path}, {title}!{ref}: is past row {MAX_ROWS}, the last row intake "
                    "reads; split the workbook"
                )
            if column > MAX_COLUMNS:
                if blank(value):
                    continue
                raise InputError(
                    f"{path}, {title}!{ref}: is past column {cell_ref(1, MAX_COLUMNS)[:-1]}, "
                    "the last column intake reads; move or delete it"
                )
            budget.cells += 1
            if budget.cells > MAX_CELLS:
                raise InputError(
                    f"{path}, {title}!{ref}: the sheets intake reads hold more than "
                    f"{MAX_CELLS} values; split the workbook"
                )
            rows.setdefault(row, {})[column] = value
            if row > grid.height and not blank(value):
                grid.height = row
        elif name == "v" and not inline:
            cell.value = element.text or ""
        elif name == "f":
            cell.formula = "=" + (element.text or "")
        elif name == "t" and inline and not phonetic and cell.pieces is not None:
            cell.pieces.append(element.text or "")
        elif name == "is":
            inline -= 1
        elif name == "rPh":
            phonetic -= 1
    return grid
