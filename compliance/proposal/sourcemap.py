"""Where each answer of a proposal came from, so errors and findings can point at it.

A :class:`SourceMap` maps a concrete field path (``data_sharing.flows[1].lawful_basis``) to a
:class:`Location`: the file and, for JSON, the JSON pointer, line and column; for workbooks, the
sheet and cell. A field that is absent maps to the nearest ancestor that is present (where the
answer would have to be added), marked ``present=False``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field

from compliance.proposal.fields import json_pointer
from compliance.proposal.jsonpos import LineIndex, PointerIndex

CellRef = tuple[str, tuple[int, int], bool]
"""A workbook answer's sheet, cell (row and column, from 1) and whether it holds a value."""


class Location(BaseModel):
    """Where an answer is (or, with ``present`` false, where it would have to be added)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str = Field(description="The input file as given; '-' for standard input.")
    pointer: str | None = Field(None, description="JSON pointer of the value, for JSON input.")
    line: int | None = Field(None, description="1-based line, for JSON input.")
    column: int | None = Field(None, description="1-based column, for JSON input.")
    sheet: str | None = Field(None, description="Worksheet name, for workbook input.")
    cell: str | None = Field(None, description="Cell reference such as C14, for workbooks.")
    present: bool = Field(
        True,
        description="False when the field is absent and this is where it would be added.",
    )

    def __str__(self) -> str:
        if self.sheet is not None:
            return f"{self.source}, {self.sheet}!{self.cell}" if self.cell else self.source
        if self.line is not None:
            return f"{self.source}:{self.line}:{self.column}"
        return self.source


class JsonText:
    """One JSON text (a file or standard input), with lazily computed value positions.

    The text holds one or more segments: one per JSON Lines record, per proposal of a list, or
    one for a whole document. Positions are computed on first use, per segment, and only on the
    paths to the answers shown (see :class:`~compliance.proposal.jsonpos.PointerIndex`), so that
    locating answers never costs more than reading the proposal they are in.
    """

    def __init__(self, source: str, text: str, *, first_line: int = 1) -> None:
        self.source = source
        self.text = text
        self.first_line = first_line
        """The line of the input ``text`` begins on (a JSON Lines record read on its own)."""
        self._segments: list[tuple[int, int, str]] = []
        self._offsets: dict[int, PointerIndex] = {}
        self._lines: LineIndex | None = None

    def add_segment(self, start: int, end: int, prefix: str = "") -> int:
        """Declare that ``text[start:end]`` holds one JSON value, which is at JSON pointer
        ``prefix`` of the input (a proposal in a list); returns the segment number."""
        self._segments.append((start, end, prefix))
        return len(self._segments) - 1

    def _offset(self, segment: int, pointer: str) -> int | None:
        index = self._offsets.get(segment)
        if index is None:
            start, end, _ = self._segments[segment]
            index = self._offsets[segment] = PointerIndex(self.text, start, end)
        return index.offset(pointer)

    def location(self, segment: int, pointer: str) -> Location | None:
        offset = self._offset(segment, pointer)
        if offset is None:
            return None
        if self._lines is None:
            self._lines = LineIndex(self.text)
        line, column = self._lines.line_column(offset)
        prefix = self._segments[segment][2]
        return Location(
            source=self.source,
            pointer=prefix + pointer,
            line=line + self.first_line - 1,
            column=column,
        )


def column_letter(column: int) -> str:
    """A worksheet column's letters, 1 -> ``A``, 27 -> ``AA`` (as openpyxl's
    ``get_column_letter``, without importing openpyxl for a JSON review)."""
    letters = ""
    while column > 0:
        column, rest = divmod(column - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


class SourceMap:
    """Field path -> :class:`Location` for one proposal."""

    def __init__(self, source: str, resolve: Callable[[str], Location | None]) -> None:
        self.source = source
        self._resolve = resolve
        self._located: dict[str, Location] = {}
        """Paths located so far: several findings of a proposal show the same answers."""

    @classmethod
    def for_json(cls, text: JsonText, segment: int) -> SourceMap:
        """A proposal held in ``segment`` of ``text``."""

        def resolve(path: str) -> Location | None:
            return text.location(segment, _pointer(path))

        return cls(text.source, resolve)

    @classmethod
    def for_cells(cls, source: str, cells: dict[str, CellRef]) -> SourceMap:
        """A proposal read from a workbook: ``cells`` maps concrete paths to their cells.

        An item of a list of choices (``...categories[1]``) is in its list's cell. Locations are
        made only when asked for: a register holds a hundred thousand cells.
        """

        def resolve(path: str) -> Location | None:
            found = cells.get(path)
            if found is None and path.endswith("]"):
                found = cells.get(path[: path.rindex("[")])
            if found is None:
                return None
            sheet, (row, column), present = found
            cell = f"{column_letter(column)}{row}"
            return Location(source=source, sheet=sheet, cell=cell, present=present)

        return cls(source, resolve)

    def locate(self, path: str) -> Location:
        """The location of ``path``, or of its nearest present ancestor (``present=False``)."""
        loc = self._located.get(path)
        if loc is None:
            loc = self._located[path] = self._find(path)
        return loc

    def _find(self, path: str) -> Location:
        loc = self._resolve(path)
        if loc is not None:
            return loc
        current = path
        while current:
            current = _parent(current)
            loc = self._resolve(current)
            if loc is not None:
                return loc.model_copy(update={"present": False})
        return Location(source=self.source, present=False)


_pointer = lru_cache(maxsize=4096)(json_pointer)
"""The JSON pointer of a concrete path: the same paths are located in proposal after proposal."""


def _parent(path: str) -> str:
    if path.endswith("]"):
        return path[: path.rindex("[")]
    if "." in path:
        return path.rsplit(".", 1)[0]
    return ""
