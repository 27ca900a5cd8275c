"""Reading a workbook's sheets as grids of values, formulas by their cached values.

Used by :mod:`compliance.workbook_read`: each sheet is streamed once into a list of rows; only
when some cell looks like a formula is the workbook read a second time for the values Excel
saved, and a formula with none is marked :data:`NO_CACHED_VALUE`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from openpyxl.utils import get_column_letter

from compliance.errors import InputError
from compliance.xlsxfile import open_workbook, reading

MAX_ROWS = 100_000
"""Rows read from one sheet at most: a larger sheet is refused rather than read for minutes."""


class _NoCachedValue:
    """A formula cell whose workbook holds no computed value."""


NO_CACHED_VALUE = _NoCachedValue()
_PLAIN = (str, int, float, bool, dt.date, dt.time, dt.timedelta, type(None))
"""What a cell's value can be; anything else (openpyxl's ArrayFormula) is a formula."""

Grid = list[tuple[Any, ...]]

_LETTERS = [get_column_letter(i) for i in range(1, 703)]  # A .. ZZ


def cell_ref(row: int, column: int) -> str:
    """``C7`` for row 7, column 3."""
    letter = _LETTERS[column - 1] if column <= len(_LETTERS) else get_column_letter(column)
    return f"{letter}{row}"


def value_at(grid: Grid, row: int, column: int) -> Any:
    """The value at 1-based ``row``, ``column`` (None beyond the sheet's edge)."""
    if row > len(grid):
        return None
    cells = grid[row - 1]
    return cells[column - 1] if column <= len(cells) else None


def blank_row(cells: Iterable[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in cells)


def read_grid(path: str, sheet: Any, formulas: list[tuple[int, int]]) -> Grid:
    """The rows of ``sheet`` (trailing blank rows dropped); the cells that hold a formula are
    added to ``formulas``."""
    sheet.reset_dimensions()  # some writers record a wrong size; read what is there
    grid: Grid = []
    for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
        if number > MAX_ROWS:
            if blank_row(cells):
                continue  # a formatted but empty row far down is not content
            raise InputError(
                f"{path}, {sheet.title}: more than {MAX_ROWS} rows; split the workbook"
            )
        grid.append(cells)
        for column, value in enumerate(cells, start=1):
            if (isinstance(value, str) and value.startswith("=")) or not isinstance(value, _PLAIN):
                formulas.append((number, column))  # a formula, or an array formula
    while grid and blank_row(grid[-1]):
        grid.pop()
    return grid


def cached_values(path: str, grids: dict[str, Grid], formulas: dict[str, list[Any]]) -> None:
    """Replace formula text by the value Excel saved (a string starting with ``=`` that is
    stored as text reads the same in both passes and stays as it is)."""
    book = open_workbook(path, data_only=True)
    try:
        with reading(path):
            for title, cells in formulas.items():
                if not cells:
                    continue
                sheet = book[title]
                sheet.reset_dimensions()
                cached = [list(row) for row in sheet.iter_rows(values_only=True)]
                grid = [list(row) for row in grids[title]]
                for row, column in cells:
                    value = (
                        cached[row - 1][column - 1]
                        if row <= len(cached) and column <= len(cached[row - 1])
                        else None
                    )
                    if value is None or not isinstance(value, _PLAIN):
                        value = NO_CACHED_VALUE
                    grid[row - 1][column - 1] = value
                grids[title] = [tuple(row) for row in grid]
    finally:
        book.close()
