"""Reading one sheet's XML as a stream, bounded in rows, columns, cells and text.

Only the cells present in the file are read, never padded to a row's width or to the sheet's
declared size (a ``<dimension>`` element is not needed and not trusted). The first value past
:data:`~compliance.workbook.grid.MAX_ROWS`, :data:`~compliance.workbook.grid.MAX_COLUMNS` or
:data:`~compliance.workbook.grid.MAX_CELLS` stops the reading with one line naming the sheet and
cell; an empty, styled cell far away is not a value and is skipped.

A cell Excel would repair or refuse is refused, naming it: a boolean other than 0 or 1, an unknown
cell type, a style the stylesheet does not define, a shared string the table does not hold, a
number or date that does not parse, an error value Excel does not know, a cell or row out of order
or repeated, text longer than a cell holds. A cell holding a formula becomes a
:class:`~compliance.workbook.grid.Formula`, whatever result the file saved for it.
"""

from __future__ import annotations

import pyexpat
import re
from dataclasses import dataclass
from typing import Any

from compliance.errors import InputError
from compliance.workbook.cellformat import NEGATIVE, POSITIVE, ZERO, rgb, unseen_colour
from compliance.workbook.excelvalues import from_excel, from_iso8601
from compliance.workbook.grid import (
    MAX_CELLS,
    MAX_COLUMNS,
    MAX_ROWS,
    MAX_TEXT,
    Formula,
    Grid,
    blank,
    cell_ref,
)
from compliance.workbook.xlsxfile import _DAMAGE_ERRORS, _damaged, _one_line, ambiguous, invalid_xml
from compliance.workbook.xlsxpackage import (
    MC,
    Package,
    SheetEntry,
    decode_xstring,
    foreign,
    xsd_boolean,
)

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


_COLUMNS = {cell_ref(1, number)[:-1]: number for number in range(1, 703)}
"""Column number by letters, A to ZZ."""


def _column(letters: str) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number


class _Cell:
    __slots__ = ("colours", "formula", "kind", "pieces", "style", "value")

    def __init__(self, kind: str, style: str | None) -> None:
        self.kind = kind
        self.style = style
        self.value: str | None = None
        self.formula: str | None = None
        self.pieces: list[str] | None = None
        self.colours: list[str] | None = None
        """The RGB font colours of the cell's rich-text runs (None: no run has one)."""


def _number(package: Package, style: int, text: str) -> Any:
    text = text.strip()
    if not _NUMBER.fullmatch(text):
        raise _Malformed(f"{_one_line(repr(text), 40)} is not a number")
    number: float | int = float(text) if "." in text or "e" in text or "E" in text else int(text)
    if isinstance(number, float) and number in (float("inf"), float("-inf")):
        raise _Malformed(f"{_one_line(repr(text), 40)} is not a number Excel holds")
    if style in package.styles.dates:
        try:
            return from_excel(number, package.epoch, timedelta=style in package.styles.durations)
        except (OverflowError, ValueError):
            return "#VALUE!"  # what openpyxl reads, and an error to intake: never an answer
    return number


def _style(package: Package, text: str | None) -> int:
    """The cell style a cell's ``s`` names (0 when it names none)."""
    if text and (not text.isdigit() or int(text) >= max(package.styles.count, 1)):
        raise _Malformed(
            f"style {_one_line(text, 20)}, but the workbook defines {package.styles.count}"
        )
    return int(text) if text else 0


def _value(package: Package, cell: _Cell, style: int) -> Any:
    """The value ``cell`` holds, in cell ``style`` (checked by :func:`_style` first)."""
    if cell.formula is not None:
        return Formula(cell.formula)
    kind, text = cell.kind, cell.value
    if kind == "inlineStr":
        return None if cell.pieces is None else decode_xstring("".join(cell.pieces))
    if not text:  # no value, or an empty one (<v/>): a blank cell, as every reader shows it
        return None
    if kind == "n":
        return _number(package, style, text)
    if kind == "s":
        index = text.strip()
        if not index.isdigit() or int(index) >= len(package.strings):
            raise _Malformed(
                f"shared string {_one_line(repr(index), 20)}, but the table holds "
                f"{len(package.strings)}"
            )
        if int(index) in package.bad_strings:
            raise _Malformed(f"shared string {index} holds two texts")
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
            return from_iso8601(text)
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
    for tag in (
        *("sheetData", "row", "c", "v", "f", "is", "t", "rPh", "r", "rPr", "extLst"),
        *("phoneticPr", "sheetFormatPr", "col", "color"),
    )
}
#: The elements a cell may hold (anywhere inside it); inside the last three, anything.
_CELL_TAGS = frozenset({"f", "v", "is", "t", "r", "rPh", "rPr", "extLst", "phoneticPr"})
_FREE = frozenset({"rPr", "extLst", "phoneticPr"})
MAX_CELL_DEPTH = 16
"""Elements nested inside one cell: Excel's deepest is four (a run's font colour)."""
MIN_ROW_HEIGHT = 2.0
"""A row lower than this many points is hidden: nothing in it can be read."""
MIN_COLUMN_WIDTH = 1.0
"""A column narrower than this many characters is hidden."""
_SEEN = "a person opening the file does not see it"
_ALTERNATE = "http://schemas.openxmlformats.org/markup-compatibility/2006 AlternateContent"


class _Reader:
    """The expat handlers that read one sheet (no tree is built: expat calls them directly)."""

    def __init__(self, package: Package, entry: SheetEntry, budget: Budget) -> None:
        self.package, self.entry, self.budget = package, entry, budget
        self.grid = Grid()
        self.in_data = self.sheet_data = self.in_row = False
        self.skip = self.alternate = 0  # elements open in a skipped extLst; alternate contents
        self.row = self.column = 0
        self.cell: _Cell | None = None
        self.inline = self.phonetic = 0
        self.ref = ""
        self.text: list[str] | None = None
        self.depth = self.free = 0  # elements open inside the cell; depth of a free element
        self.texts = self.runs = self.run_texts = 0
        self.in_run = self.row_hidden = self.zero_height = False
        self.default_height = 15.0
        self.hidden_columns = bytearray(MAX_COLUMNS + 1)
        self.last_column = 0
        self.row_text = "-"  # the row's number as a cell reference ends with it
        self.styles: dict[str | None, int] = {None: 0}  # each ``s`` read, once checked
        self.plain: dict[int, bool] = {}  # styles that hide nothing (see :meth:`unseen`)

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
        if self.skip:
            self.skip += 1
            return
        cell = self.cell
        if cell is not None:
            self.start_in_cell(cell, name, attrs)
            return
        tag = _TAGS.get(name)
        if name == _ALTERNATE:
            self.alternate += 1
        elif self.alternate and tag is not None:
            raise InputError(
                ambiguous(
                    self.package.path,
                    f"alternate content (mc:AlternateContent) in {self.entry.part.filename}",
                )
            )
        if self.in_data:
            if tag == "c":
                self.start_cell(attrs)
            elif tag == "row":
                self.start_row(attrs)
            elif tag == "extLst":
                self.skip = 1
            elif tag is None:
                space = name[: name.rfind(" ")] if " " in name else "none"
                part = self.entry.part.filename
                if space == MC:
                    what = f"alternate content (mc:{name[name.rfind(' ') + 1 :]}) in {part}"
                    raise InputError(ambiguous(self.package.path, what))
                raise foreign(self.package.path, space, part)
            elif tag == "sheetData":
                raise self.malformed("two <sheetData> elements")
        elif tag == "sheetData":
            if self.sheet_data:
                raise self.malformed("two <sheetData> elements")
            self.in_data = self.sheet_data = True
        elif tag == "col":
            self.start_column(attrs)
        elif tag == "sheetFormatPr":
            self.zero_height = self.boolean(attrs, "zeroHeight")
            self.default_height = self.size(attrs, "defaultRowHeight", 15.0)
            if self.size(attrs, "defaultColWidth", MIN_COLUMN_WIDTH) < MIN_COLUMN_WIDTH:
                self.hidden_columns[:] = b"\x01" * len(self.hidden_columns)

    def start_in_cell(self, cell: _Cell, name: str, attrs: dict[str, str]) -> None:
        """An element inside the cell being read."""
        if name == _ALTERNATE:
            self.alternate += 1
        depth = self.depth = self.depth + 1
        if depth > MAX_CELL_DEPTH:
            raise self.malformed(f"elements nested more than {MAX_CELL_DEPTH} deep")
        tag = _TAGS.get(name)
        if self.free:
            if tag == "color" and self.in_run and not self.phonetic:
                colour = rgb(attrs)
                if colour is not None:
                    if cell.colours is None:
                        cell.colours = []
                    cell.colours.append(colour)
            return
        if tag not in _CELL_TAGS:
            unknown = _one_line(repr(name[name.rfind(" ") + 1 :]), 30)
            raise self.malformed(f"an element {unknown} Excel does not know in a cell")
        if tag in _FREE:
            self.free = depth
        elif tag in {"v", "f"}:
            if (cell.value if tag == "v" else cell.formula) is not None:
                raise self.malformed(f"two <{tag}> elements")
            if tag == "v" and cell.kind == "inlineStr":
                raise self.malformed("an inline string with a <v> value")
            self.text = []
        elif tag == "is":
            if cell.pieces is not None:
                raise self.malformed("two inline strings")
            self.inline += 1
            cell.pieces = []
            self.texts = self.runs = 0
        elif tag == "r" and self.inline and not self.phonetic:
            self.in_run = True
            self.runs += 1
            self.run_texts = 0
        elif tag == "t":
            if self.inline and not self.phonetic:
                if self.in_run:
                    self.run_texts += 1
                    if self.run_texts > 1:
                        raise self.malformed("a run holding two texts")
                else:
                    self.texts += 1
                    if self.texts > 1 or self.runs:
                        raise self.malformed("an inline string holding two texts")
                self.text = []
        elif tag == "rPh":
            self.phonetic += 1

    def boolean(self, attrs: dict[str, str], name: str) -> bool:
        try:
            return xsd_boolean(attrs.get(name), name)
        except ValueError as exc:
            raise self.malformed(str(exc)) from None

    def size(self, attrs: dict[str, str], name: str, default: float) -> float:
        """A row height or column width; ``default`` when there is none."""
        text = attrs.get(name)
        if text is None:
            return default
        if not _NUMBER.fullmatch(text.strip(" \t\r\n")):
            raise self.malformed(f"{name} {_one_line(repr(text), 20)}, which is not a number")
        return float(text)

    def start_column(self, attrs: dict[str, str]) -> None:
        """Columns hidden, or too narrow to show anything: ``<col>`` ranges, in order."""
        low, high = attrs.get("min", ""), attrs.get("max", "")
        if not (low.isdigit() and high.isdigit()):
            raise self.malformed(f"column range {_one_line(repr(low + ':' + high), 30)}")
        first, last = int(low), int(high)
        if not self.last_column < first <= last <= EXCEL_COLUMNS:
            raise self.malformed("column ranges overlapping or out of order")
        self.last_column = last
        hidden = self.boolean(attrs, "hidden")
        width = self.size(attrs, "width", MIN_COLUMN_WIDTH)
        mark = b"\x01" if hidden or width < MIN_COLUMN_WIDTH else b"\x00"
        if first <= MAX_COLUMNS:
            last = min(last, MAX_COLUMNS)
            self.hidden_columns[first : last + 1] = mark * (last + 1 - first)

    def start_row(self, attrs: dict[str, str]) -> None:
        at = attrs.get("r")
        previous = self.row
        self.ref = ""
        self.in_row = True
        if at is None:
            self.row += 1
        elif at.isdigit() and 0 < int(at) <= EXCEL_ROWS:
            self.row = int(at)
        else:
            raise self.malformed(f"row number {_one_line(repr(at), 20)}")
        if self.row <= previous or self.row > EXCEL_ROWS:
            raise self.malformed("a row repeated or out of order")
        self.column = 0
        self.row_text = str(self.row)
        height = self.size(attrs, "ht", -1.0)  # a row without one is the sheet's default high
        self.row_hidden = (
            self.boolean(attrs, "hidden")
            or 0 <= height < MIN_ROW_HEIGHT
            or (height < 0 and (self.zero_height or self.default_height < MIN_ROW_HEIGHT))
        )

    def start_cell(self, attrs: dict[str, str]) -> None:
        at = attrs.get("r")
        row = self.row
        if not self.in_row:
            self.ref = _one_line(at or "", 12)
            raise self.malformed("a cell outside any row")
        if at is None:
            self.column += 1
            self.ref = cell_ref(row, self.column) if row and self.column <= EXCEL_COLUMNS else ""
        else:
            # The common reference (column A to ZZ in capitals, then the row's number as
            # written) is looked up; any other is matched in full.
            number = None
            row_text = self.row_text
            if at.endswith(row_text):
                number = _COLUMNS.get(at[: len(at) - len(row_text)])
            if number is None:
                found = _REF.fullmatch(at)
                self.ref = _one_line(at, 12)
                if found is None or int(found.group(2)) != row:
                    raise self.malformed("a cell reference outside its row")
                number = _column(found.group(1))
            else:
                self.ref = at
            if number <= self.column:
                raise self.malformed("a cell repeated or out of order")
            self.column = number
        if self.column > EXCEL_COLUMNS or not row:
            raise self.malformed(f"a cell past column XFD ({EXCEL_COLUMNS})")
        self.cell = _Cell(attrs.get("t", "n"), attrs.get("s"))

    def end(self, name: str) -> None:
        if self.skip:
            self.skip -= 1
            return
        if name == _ALTERNATE:
            self.alternate -= 1
        cell = self.cell
        if cell is not None:
            depth = self.depth
            if depth:
                self.depth = depth - 1
                if self.free:
                    if depth == self.free:
                        self.free = 0
                    return
                self.end_in_cell(cell, _TAGS.get(name))
                return
        tag = _TAGS.get(name)
        if tag is None or not self.in_data:
            return
        if tag == "c":
            if cell is not None:
                self.cell = None
                self.end_cell(cell)
        elif tag == "row":
            self.in_row = False
        elif tag == "sheetData":
            self.in_data = False
            self.ref = ""

    def end_in_cell(self, cell: _Cell, tag: str | None) -> None:
        if tag == "t":
            if self.text is not None and cell.pieces is not None:
                cell.pieces.append("".join(self.text))
            self.text = None
        elif tag == "v":
            if not self.inline:
                cell.value = "".join(self.text or ())
            self.text = None
        elif tag == "f":
            cell.formula = "=" + "".join(self.text or ())
            self.text = None
        elif tag == "r" and self.inline and not self.phonetic:
            self.in_run = False
        elif tag == "is":
            self.inline -= 1
        elif tag == "rPh":
            self.phonetic -= 1

    def end_cell(self, cell: _Cell) -> None:
        package = self.package
        try:
            style = self.styles.get(cell.style)
            if style is None:
                style = self.styles[cell.style] = _style(package, cell.style)
            value = _value(package, cell, style)
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
            path, title, ref = package.path, self.entry.title, self.ref
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
            path, title, ref = package.path, self.entry.title, self.ref
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
        if (
            cell.formula is None
            and not (self.row_hidden or self.hidden_columns[column] or self.entry.hidden)
            and cell.colours is None
            and (cell.kind != "s" or not package.string_colours)
        ):
            plain = self.plain.get(style)
            if plain is None:
                styles = package.styles
                plain = self.plain[style] = (
                    styles.colours.get(style) is None
                    and style not in styles.text_formats
                    and style not in styles.number_formats
                )
            if plain:
                return  # nothing in the cell's style or runs can hide it
        unseen = self.unseen(cell, value, column, style)
        if unseen is not None:
            grid.unseen[row, column] = unseen

    def unseen(self, cell: _Cell, value: Any, column: int, style: int) -> str | None:
        """Why a person opening the file does not see the value the cell holds, or None."""
        if self.entry.hidden:
            return f"is on a hidden sheet: {_SEEN}; unhide the sheet"
        if self.row_hidden:
            return f"is in a hidden row: {_SEEN}; unhide the row"
        if self.hidden_columns[column]:
            return f"is in a hidden column: {_SEEN}; unhide the column"
        if cell.formula is not None:
            return None  # refused as a formula
        styles = self.package.styles
        colour = styles.colours.get(style)
        colours = cell.colours or []
        if cell.kind == "s" and cell.value is not None:
            colours = self.package.string_colours.get(int(cell.value.strip()), [])
        filled, fill = styles.fills.get(style, (False, None))
        for run in colours:  # a run in the colour of the cell's fill, or white with none
            colour = colour or unseen_colour(run, fill, filled)
        if colour is not None:
            return f"{colour}: {_SEEN}; give it a visible font colour"
        code: str | None = None
        if isinstance(value, str) and cell.kind in ("inlineStr", "s", "str"):
            code = styles.text_formats.get(style)
            what = "shows other text than the cell holds"
        elif cell.kind in ("n", "d") and style in styles.number_formats:
            code, signs = styles.number_formats[style]
            number = 1.0 if cell.kind == "d" else float((cell.value or "0").strip())
            sign = POSITIVE if number > 0 else NEGATIVE if number < 0 else ZERO
            code = code if signs & sign else None
            what = "does not show the number the cell holds"
        if code is None:
            return None
        return (
            f"is shown through the number format {_one_line(repr(code), 40)}, which {what}; "
            "set the cell's format to General"
        )


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
            parser.Parse(b"", True)
    except pyexpat.ExpatError as exc:
        reason = invalid_xml(info.filename, exc)
        raise InputError(_damaged(package.path, reason)) from None
    except _DAMAGE_ERRORS:
        raise InputError(_damaged(package.path, f"{info.filename} is corrupt")) from None
    return reader.grid
