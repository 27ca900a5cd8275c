"""Where the workbook report's locations point: the text of a location, and the hyperlink from a
finding back to the cell of the input workbook.

A link is ``book.xlsx#'Sheet name'!C14``. Excel and LibreOffice resolve a relative book path
against the directory of the report as it is opened, so the path is made relative to the
directory the report is written to (:func:`link_base`): the link keeps working wherever the
report is saved, as long as the report and the input keep their places relative to each other
(moved together, or the report alone within the same tree). A report written to a pipe or a
device (``-o /dev/stdout``) has no known place: its links hold the absolute path of the input.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable

from compliance.proposal.sourcemap import Location

Linker = Callable[[Location | None], str | None]
"""A location's hyperlink target (see :func:`location_link`)."""


def location_text(location: Location | None) -> str:
    """``sheet!cell`` for a workbook, ``file:line:column`` for JSON, else the file."""
    if location is None:
        return ""
    if location.sheet is not None:
        return f"{location.sheet}!{location.cell}" if location.cell else location.sheet
    if location.line is not None:
        return f"{location.source}:{location.line}:{location.column}"
    return location.source


def link_base(output: str | os.PathLike[str]) -> str | None:
    """The directory cell links are made relative to: that of ``output``, the path the report is
    written to, as given (a symbolic link is not followed). None, for absolute links, when
    ``output`` is a pipe or a device: where the report ends up is not known."""
    path = os.fspath(output)
    try:
        written_in_place = not stat.S_ISREG(os.stat(path).st_mode)
    except OSError:  # not there yet: a new file
        written_in_place = False
    return None if written_in_place else os.path.dirname(os.path.abspath(path))


def location_link(
    location: Location | None, base: str | None = None, *, as_given: bool = False
) -> str | None:
    """The hyperlink target of a workbook location: ``book.xlsx#'Sheet name'!C14``, the book's
    path relative to the directory ``base``, or absolute when ``base`` is None (as given with
    ``as_given``)."""
    if location is None or location.sheet is None or location.source == "-":
        return None
    book = location.source
    if not as_given:
        book = os.path.abspath(book)
        if base is not None:
            book = os.path.relpath(book, base)
    sheet = location.sheet.replace("'", "''")
    return f"{book}#'{sheet}'!{location.cell or 'A1'}"
