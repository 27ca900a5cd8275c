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

import pyexpat
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
from compliance.xlsxfile import _DAMAGE_ERRORS, _damaged, _one_line
from compliance.xlsxpackage import Package, SheetEntry, decode_xstring

_FEED = 64 * 1024

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
    if not text:  # no value, or an empty one (<v/>): a blank cell, as every reader shows it
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


_MAIN = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",
)
_TAGS = {
    f"{ns} {tag}": tag
    for ns in _MAIN
    for tag in ("sheetData", "row", "c", "v", "f", "is", "t", "rPh")
}


class _Reader:
    """The expat handlers that read one sheet (no tree is built: expat calls them directly)."""

    def __init__(self, package: Package, entry: SheetEntry, budget: Budget) -> None:
        self.package, self.entry, self.budget = package, entry, budget
        self.grid = Grid()
        self.in_data = self.done = False
        self.row = self.column = 0
        self.cell: _Cell | None = None
        self.inline = self.phonetic = 0
        self.ref = ""
        self.text: list[str] | None = None

    def malformed(self, detail: str) -> InputError:
        where = self.ref or f"row {self.row}"
        return InputError(
            f"{self.package.path}, {self.entry.title}!{where}: is malformed ({detail}); Excel "
            "repairs or refuses such a file: save it again from Excel and check the cell"
        )

    def doctype(self, *_: Any) -> None:
        raise InputError(
            _damaged(
                self.package.path, f"{self.entry.part.filename} holds a document type declaration"
            )
        )

    def chars(self, data: str) -> None:
        if self.text is not None:
            self.text.append(data)

    def start(self, name: str, attrs: dict[str, str]) -> None:
        tag = _TAGS.get(name)
        if tag is None or self.done:
            return
        if not self.in_data:
            self.in_data = tag == "sheetData"
        elif tag == "c":
            self.start_cell(attrs)
        elif tag == "row":
            self.start_row(attrs.get("r"))
        elif self.cell is None:
            return
        elif tag in {"v", "f"}:
            self.text = []
        elif tag == "is":
            self.inline += 1
            self.cell.pieces = []
        elif tag == "t":
            if self.inline and not self.phonetic:
                self.text = []
        elif tag == "rPh":
            self.phonetic += 1

    def start_row(self, at: str | None) -> None:
        previous = self.row
        self.ref = ""
        if at is None:
            self.row += 1
        elif at.isdigit() and 0 < int(at) <= EXCEL_ROWS:
            self.row = int(at)
        else:
            raise self.malformed(f"row number {_one_line(repr(at), 20)}")
        if self.row <= previous or self.row > EXCEL_ROWS:
            raise self.malformed("a row repeated or out of order")
        self.column = 0

    def start_cell(self, attrs: dict[str, str]) -> None:
        at = attrs.get("r")
        row = self.row
        if at is None:
            self.column += 1
            self.ref = cell_ref(row, self.column) if row and self.column <= EXCEL_COLUMNS else ""
        else:
            found = _REF.fullmatch(at)
            self.ref = _one_line(at, 12)
            if found is None or int(found.group(2)) != row:
                raise self.malformed("a cell reference outside its row")
            number = _column(found.group(1))
            if number <= self.column:
                raise self.malformed("a cell repeated or out of order")
            self.column = number
        if self.column > EXCEL_COLUMNS or not row:
            raise self.malformed(f"a cell past column XFD ({EXCEL_COLUMNS})")
        self.cell = _Cell(attrs.get("t", "n"), attrs.get("s"))

    def end(self, name: str) -> None:
        tag = _TAGS.get(name)
        cell = self.cell
        if tag is None or not self.in_data or self.done:
            return
        if tag == "sheetData":
            self.done = True
        elif cell is None:
            return
        elif tag == "c":
            self.cell = None
            self.end_cell(cell)
        elif tag == "v":
            if not self.inline:
                cell.value = "".join(self.text or ())
            self.text = None
        elif tag == "f":
            cell.formula = "=" + "".join(self.text or ())
            self.text = None
        elif tag == "t":
            if self.text is not None and cell.pieces is not None:
                cell.pieces.append("".join(self.text))
            self.text = None
        elif tag == "is":
            self.inline -= 1
        elif tag == "rPh":
            self.phonetic -= 1

    def end_cell(self, cell: _Cell) -> None:
        path, title, ref = self.package.path, self.entry.title, self.ref
        try:
            value = _value(self.package, cell)
        except _Malformed as exc:
            raise self.malformed(str(exc)) from None
        if value is None or value == "":
            return
        if isinstance(value, str) and len(value) > MAX_TEXT:
            raise self.malformed(f"{len(value)} characters, more than a cell holds ({MAX_TEXT})")
        row, column = self.row, self.column
        if row > MAX_ROWS or column > MAX_COLUMNS:
            if blank(value):
                return
            if row > MAX_ROWS:
                raise InputError(
                    f"{path}, {title}!{ref}: is past row {MAX_ROWS}, the last row intake "
                    "reads; split the workbook"
                )
            raise InputError(
                f"{path}, {title}!{ref}: is past column {cell_ref(1, MAX_COLUMNS)[:-1]}, "
                "the last column intake reads; move or delete it"
            )
        self.budget.cells += 1
        if self.budget.cells > MAX_CELLS:
            raise InputError(
                f"{path}, {title}!{ref}: the sheets intake reads hold more than "
                f"{MAX_CELLS} values; split the workbook"
            )
        grid = self.grid
        cells = grid.rows.get(row)
        if cells is None:
            cells = grid.rows[row] = {}
        cells[column] = value
        if row > grid.height and not blank(value):
            grid.height = row


def read_sheet(package: Package, entry: SheetEntry, budget: Budget) -> Grid:
    """The values of the sheet ``entry``; raises :class:`InputError` naming the sheet and cell at
    the first limit passed or malformed cell."""
    reader = _Reader(package, entry, budget)
    parser = pyexpat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.StartDoctypeDeclHandler = reader.doctype
    parser.EntityDeclHandler = reader.doctype
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.CharacterDataHandler = reader.chars
    info = entry.part
    try:
        with package.archive.open(info) as stream:
            while chunk := stream.read(_FEED):
                parser.Parse(chunk, False)
                if reader.done:
                    return reader.grid
            parser.Parse(b"", True)
    except pyexpat.ExpatError as exc:
        reason = _one_line(f"{info.filename}: invalid XML: {exc}")
        raise InputError(_damaged(package.path, reason)) from None
    except _DAMAGE_ERRORS:
        raise InputError(_damaged(package.path, f"{info.filename} is corrupt")) from None
    return reader.grid
