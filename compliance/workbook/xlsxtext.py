"""Writing text into workbook cells safely.

openpyxl makes a formula of any string that starts with ``=``, refuses characters XML cannot hold,
and Excel cuts a cell at 32,767 UTF-16 code units. Every string this tool writes into a workbook,
whether a proposal's answer or a finding's message, goes through :func:`set_text`, so text from an
input is never evaluated by Excel and never breaks the file.
"""

from __future__ import annotations

import re
from typing import Any

from openpyxl.styles import Alignment

CELL_MAX = 32_767
"""Excel's limit on the text of one cell, in UTF-16 code units."""

# Characters XML 1.0 cannot carry (openpyxl refuses the C0 controls; lone surrogates and the
# non-characters U+FFFE/U+FFFF would make an unreadable file).
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# What a spreadsheet may take for the start of a formula when the cell is edited, or when the sheet
# is saved as CSV and opened again (the characters OWASP's CSV injection guidance lists).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_WRAP = Alignment(wrap_text=True, vertical="top")
# Office Open XML strings carry ``_xHHHH_`` as an escaped character (ST_Xstring), and Excel shows
# ``_x0041_`` as "A"; openpyxl writes it as it is. Escaping its underscore (``_x005F_``) makes
# Excel show the text as written.
_XSTRING_ESCAPE = re.compile("_(x[0-9A-Fa-f]{4}_)")


def xstring_escape(text: str) -> str | None:
    """The first part of ``text`` a spreadsheet reads as an escaped character (``_x0041_``)."""
    found = _XSTRING_ESCAPE.search(text)
    return None if found is None else found.group()


def has_illegal(text: str) -> bool:
    """Whether ``text`` holds a character a workbook cannot store."""
    return _ILLEGAL.search(text) is not None


def utf16_length(text: str) -> int:
    """Length as Excel counts it (a character beyond the BMP counts twice)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def clean(text: str) -> str:
    """``text`` as a cell can hold it: XML-illegal characters replaced by U+FFFD, and cut to
    Excel's cell limit with a trailing "…"."""
    text = _ILLEGAL.sub("\ufffd", text)
    if len(text) <= CELL_MAX // 2 or utf16_length(text) <= CELL_MAX:
        return text
    kept: list[str] = []
    used = 0
    for ch in text:
        width = 2 if ord(ch) > 0xFFFF else 1
        if used + width > CELL_MAX - 1:
            break
        kept.append(ch)
        used += width
    return "".join(kept) + "…"


def set_text(cell: Any, text: str, *, wrap: bool = False) -> None:
    """Write ``text`` (made safe by :func:`clean`) as a string, never a formula. Text that starts
    like a formula (``=``, ``+``, ``-``, ``@``, a tab or a carriage return) gets the quote prefix,
    so Excel keeps it text when the cell is edited; ``_x0041_`` is written so Excel shows it as
    written, not as "A"."""
    value = clean(text)
    cell.value = _XSTRING_ESCAPE.sub(r"_x005F_\1", value)
    if value.startswith("="):
        cell.data_type = "s"  # openpyxl took it for a formula
    if value.startswith(_FORMULA_START):
        cell.quotePrefix = True
    if wrap:
        cell.alignment = _WRAP
