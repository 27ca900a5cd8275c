"""A sheet as intake holds it: the cells that hold something, by row and column, never padded.

Built by :mod:`compliance.workbook.sheetstream`, which reads each sheet once as a stream and refuses
it at the first cell past a limit. A formula cell holds a :class:`Formula`, never the result the
file saved for it: that result can be crafted to differ from what Excel shows after recalculating.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from compliance.workbook.excelvalues import get_column_letter

MAX_ROWS = 50_000
"""The last row intake reads: a value below it is refused (a styled, empty row is ignored). The
longest sheet of a register of 1,000 proposals has 2,020 rows; a register of 20,000 proposals (the
most one input holds) needs 20,001."""
MAX_COLUMNS = 1024
"""The last column intake reads (AMJ): the widest sheet of the template has 98 columns."""
MAX_CELLS = 300_000
"""Values held from all the sheets intake reads of one workbook: a register of 1,000 proposals
holds 135,000, read in about 3 s."""
MAX_TEXT = 32_767
"""Characters in one cell: Excel's own limit."""


@dataclass(frozen=True)
class Formula:
    """A cell holding a formula (its text, with the ``=``)."""

    text: str

    def __str__(self) -> str:
        return self.text


@dataclass
class Grid:
    """The values of one sheet: ``rows[row][column]``, 1-based, blank cells left out."""

    rows: dict[int, dict[int, Any]] = field(default_factory=dict)
    height: int = 0
    """The last row holding a value that is not blank."""
    unseen: dict[tuple[int, int], str] = field(default_factory=dict)
    """Why a person opening the file does not see a cell's value (a hidden row or column, a
    number format that shows other text, a font the colour of its fill), by row and column."""

    def __len__(self) -> int:
        return self.height

    def row(self, number: int) -> dict[int, Any]:
        return self.rows.get(number, {})


_LETTERS = [get_column_letter(i) for i in range(1, 703)]  # A .. ZZ


def cell_ref(row: int, column: int) -> str:
    """``C7`` for row 7, column 3."""
    letter = _LETTERS[column - 1] if column <= len(_LETTERS) else get_column_letter(column)
    return f"{letter}{row}"


def value_at(grid: Grid, row: int, column: int) -> Any:
    """The value at 1-based ``row``, ``column`` (None where the cell is blank)."""
    cells = grid.rows.get(row)
    return cells.get(column) if cells else None


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def blank_row(cells: Iterable[Any]) -> bool:
    return all(blank(v) for v in cells)


def formula_shown(formula: Formula, limit: int = 40) -> str:
    """The formula as an error line quotes it, cut to ``limit`` characters."""
    text = " ".join(formula.text.split())
    if text == "=":  # a cell of a shared formula holds only a reference to the first cell's
        return "copied from another cell"
    return text if len(text) <= limit else text[: limit - 3] + "..."
