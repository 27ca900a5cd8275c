"""Reading one answer cell: what people type into spreadsheets, turned into a proposal's value.

Tolerated, because people do it: spaces around values, drop-down values in another case (and
``co-designed`` for ``co_designed``), numbers stored as text (with thousands separators), dates as
text or as Excel serial numbers, ``TRUE``/``FALSE`` for yes/no. Not guessed: a value that is none of
the allowed ones, a date in any order other than year-month-day, a fraction where a whole number is
asked. Those come back as a problem to report, never as a best guess: the nearest allowed value of a
typo is suggested in the problem (``did you mean 'aggregate'?``), never read in its place.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from compliance.proposal.fields import FieldSpec, Kind
from compliance.proposal.validation import shown
from compliance.words import closest
from compliance.workbook.excelvalues import from_excel
from compliance.workbook.layout import LISTED, NO, NONE, UNKNOWN, YES

_TRUE = frozenset({"yes", "y", "true"})
_FALSE = frozenset({"no", "n", "false"})
_UNKNOWN = frozenset({"unknown", "not known", "don't know", "dont know"})
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]00:00(?::00(?:\.0+)?)?)?$")
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_GROUPED = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_SPACE_GROUPED = re.compile(r"^[+-]?\d{1,3}(?:[ \u00a0\u202f\u2009]\d{3})+(?:\.\d+)?$")
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]")
_LIST_SEPARATORS = re.compile(r"[,;\n]")
EXCEL_ERRORS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"})
_SERIAL_MIN = 10_000  # 1927-05-18
_SERIAL_MAX = 2_958_465  # 9999-12-31
_FIRST_YEAR = 1927  # the first year of serial _SERIAL_MIN
_NEAR = 80
"""The longest refused value compared with the allowed ones for a suggestion (the longest allowed
value has 33 characters; a typo of one is not more than twice as long)."""


class Blank:
    """Not answered (a blank cell, Unknown, or only spaces)."""


BLANK = Blank()


@dataclass(frozen=True)
class CellProblem:
    message: str


def choice_key(text: str) -> str:
    """How drop-down values are compared: case, spaces and hyphens do not matter."""
    return "_".join(text.replace("-", " ").replace("_", " ").split()).casefold()


@cache
def _choices(spec: FieldSpec) -> dict[str, str]:
    """Allowed value by its :func:`choice_key` (and by itself, the common case)."""
    out = {choice_key(v): v for v in spec.values}
    out.update({v: v for v in spec.values})
    return out


def _choice(spec: FieldSpec, text: str) -> str | None:
    choices = _choices(spec)
    found = choices.get(text)
    return found if found is not None else choices.get(choice_key(text))


def _not_one_of(value: Any, allowed: list[str] | tuple[str, ...]) -> CellProblem:
    text = str(value)
    near = closest(text, allowed) if len(text) <= _NEAR else None
    hint = f" (did you mean {shown(near)}?)" if near is not None else ""
    return CellProblem(f"{shown(value)} is not one of {', '.join(allowed)}{hint}")


def _text(value: Any) -> str:
    """A non-text cell read as text (an id typed as a number, a date in a text question)."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _number(spec: FieldSpec, value: Any) -> Any:
    if isinstance(value, (bool, dt.date, dt.time, dt.timedelta)):
        return CellProblem(f"expected a number, got {shown(_text(value))}")
    number: float | int
    if isinstance(value, (int, float)):
        number = value
    else:
        text = str(value).strip()
        if _GROUPED.match(text) or _SPACE_GROUPED.match(text):
            text = _SPACES.sub("", text.replace(",", ""))  # thousands separators only
        if not _NUMBER.match(text):
            return CellProblem(f"expected a number, got {shown(str(value).strip())}")
        number = float(text)
    if spec.integer:
        if isinstance(number, float):
            if not number.is_integer():
                return CellProblem(f"expected a whole number, got {shown(number)}")
            return int(number)
        return number
    return float(number)


def _date(value: Any, epoch: dt.datetime) -> Any:
    if isinstance(value, (dt.date, dt.datetime)) and value.year < _FIRST_YEAR:
        return CellProblem(f"{value.isoformat()[:10]} is not a plausible date (write YYYY-MM-DD)")
    if isinstance(value, dt.datetime):
        if value.time() != dt.time():
            return CellProblem(f"expected a date without a time, got {value.isoformat(' ')}")
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    serial: float | None = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        serial = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if _ISO_DATE.match(text):
            day = text[:10]
            try:
                dt.date.fromisoformat(day)
            except ValueError:
                return CellProblem(f"{shown(text)} is not a date")
            return day
    # A bare number is a date only as an Excel serial from 1927 on: 2027 typed in a date cell is
    # a year, not 19 July 1905, and is reported rather than guessed.
    if serial is not None and _SERIAL_MIN <= serial <= _SERIAL_MAX and serial.is_integer():
        converted = from_excel(serial, epoch)
        if isinstance(converted, dt.datetime):
            return converted.date().isoformat()
    return CellProblem(f"{shown(_text(value))} is not a date (write YYYY-MM-DD)")


def _read_text(spec: FieldSpec, value: Any, epoch: dt.datetime) -> Any:
    return value if isinstance(value, str) else _text(value)


def _read_code(spec: FieldSpec, value: Any, epoch: dt.datetime) -> Any:
    return _text(value).strip()


def _read_bool(spec: FieldSpec, value: Any, epoch: dt.datetime) -> Any:
    if isinstance(value, bool):
        return value
    key = choice_key(_text(value)).replace("_", " ")
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    if key in _UNKNOWN:
        return BLANK
    return _not_one_of(_text(value).strip(), (YES, NO, UNKNOWN))


def _read_enum(spec: FieldSpec, value: Any, epoch: dt.datetime) -> Any:
    text = _text(value).strip()
    found = _choice(spec, text)
    return found if found is not None else _not_one_of(text, spec.values)


def _read_enum_list(spec: FieldSpec, value: Any, epoch: dt.datetime) -> Any:
    text = _text(value).strip()
    if choice_key(text) == "none":
        return []
    if not _LIST_SEPARATORS.sub("", text).strip():
        return CellProblem(f"{shown(text)} names no value; write {NONE} for none")
    items: list[str] = []
    for piece in _LIST_SEPARATORS.split(text):
        part = piece.strip()
        if not part:
            continue
        found = _choice(spec, part)
        if found is None:
            return _not_one_of(part, spec.values)
        items.append(found)
    return items


def _read_text_list(spec: FieldSpec, value: Any, epoch: dt.datetime) -> Any:
    text = _text(value)
    if text.strip().casefold() == NONE.casefold():
        return []
    return [line.rstrip("\r") for line in text.split("\n") if line.strip()]


def _read_table(spec: FieldSpec, value: Any, epoch: dt.datetime) -> Any:
    key = choice_key(_text(value))
    if key == choice_key(LISTED):
        return LISTED
    if key == choice_key(NONE):
        return NONE
    return _not_one_of(_text(value).strip(), (LISTED, NONE))


def _read_number(spec: FieldSpec, value: Any, epoch: dt.datetime) -> Any:
    return _number(spec, value)


def _read_date(spec: FieldSpec, value: Any, epoch: dt.datetime) -> Any:
    return _date(value, epoch)


_READERS = {
    Kind.TEXT: _read_text,
    Kind.CODE: _read_code,
    Kind.BOOL: _read_bool,
    Kind.ENUM: _read_enum,
    Kind.ENUM_LIST: _read_enum_list,
    Kind.TEXT_LIST: _read_text_list,
    Kind.OBJECT_LIST: _read_table,
    Kind.NUMBER: _read_number,
    Kind.DATE: _read_date,
}


def read_cell(spec: FieldSpec, value: Any, epoch: dt.datetime) -> Any:
    """The proposal value of one cell: a JSON-like value, :data:`BLANK`, or a
    :class:`CellProblem` saying why it cannot be read."""
    if value is None:
        return BLANK
    if isinstance(value, str):
        stripped = value.strip()
        if not stripped:
            return BLANK
        if stripped[0] == "#" and stripped in EXCEL_ERRORS:
            return CellProblem(f"holds the Excel error {stripped}, not an answer")
    reader = _READERS.get(spec.kind)
    if reader is None:
        raise TypeError(f"{spec.path}: a {spec.kind.value} is not read from one cell")
    return reader(spec, value, epoch)
