"""Excel's column letters, date serials and built-in number formats, as openpyxl reads them.

The workbook reader (:mod:`compliance.workbook.xlsxpackage` and its callers) needs six small
functions and tables of openpyxl's, and importing any of them runs openpyxl's package
``__init__``, which loads its whole object model, its writer, its charts and (where installed)
Pillow and NumPy: about 0.3 s of CPU before a workbook review reads a byte, more than the rest of
its start-up. They are restated here with openpyxl's behaviour, value for value:
``tests/test_excelvalues.py`` compares every one with openpyxl itself (all column numbers, every
built-in format, generated serials, ISO 8601 texts and format codes), so an openpyxl release that
changes them fails the suite rather than drifting apart from what the exporter writes.

Adapted from ``openpyxl.utils.cell``, ``openpyxl.utils.datetime`` and ``openpyxl.styles.numbers``
of openpyxl 3.1 (Copyright (c) 2010-2024 openpyxl, MIT licence).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Final

#: The epoch of the 1900 date system (serial 0 is 30 December 1899, with Excel's fictitious
#: 29 February 1900 kept as serial 60) and of the 1904 system (``workbookPr date1904``).
CALENDAR_WINDOWS_1900: Final = dt.datetime(1899, 12, 30)
CALENDAR_MAC_1904: Final = dt.datetime(1904, 1, 1)
_SECONDS_PER_DAY = 86400

#: The number formats every workbook has without declaring them (ECMA-376 Part 1, 18.8.30), by
#: ``numFmtId``; the ids this table lacks are locale-dependent and read as ``General``.
BUILTIN_FORMATS: Final[dict[int, str]] = {
    0: "General",
    1: "0",
    2: "0.00",
    3: "#,##0",
    4: "#,##0.00",
    5: '"$"#,##0_);("$"#,##0)',
    6: '"$"#,##0_);[Red]("$"#,##0)',
    7: '"$"#,##0.00_);("$"#,##0.00)',
    8: '"$"#,##0.00_);[Red]("$"#,##0.00)',
    9: "0%",
    10: "0.00%",
    11: "0.00E+00",
    12: "# ?/?",
    13: "# ??/??",
    14: "mm-dd-yy",
    15: "d-mmm-yy",
    16: "d-mmm",
    17: "mmm-yy",
    18: "h:mm AM/PM",
    19: "h:mm:ss AM/PM",
    20: "h:mm",
    21: "h:mm:ss",
    22: "m/d/yy h:mm",
    37: "#,##0_);(#,##0)",
    38: "#,##0_);[Red](#,##0)",
    39: "#,##0.00_);(#,##0.00)",
    40: "#,##0.00_);[Red](#,##0.00)",
    41: r'_(* #,##0_);_(* \(#,##0\);_(* "-"_);_(@_)',
    42: r'_("$"* #,##0_);_("$"* \(#,##0\);_("$"* "-"_);_(@_)',
    43: r'_(* #,##0.00_);_(* \(#,##0.00\);_(* "-"??_);_(@_)',
    44: r'_("$"* #,##0.00_)_("$"* \(#,##0.00\)_("$"* "-"??_)_(@_)',
    45: "mm:ss",
    46: "[h]:mm:ss",
    47: "mmss.0",
    48: "##0.0E+0",
    49: "@",
}

# Quoted literals and bracketed locale or colour codes, except the elapsed-time ones ([h], [mm]).
_STRIP = re.compile(r'".*?"|\[(?!hh?\]|mm?\]|ss?\])[^\]]*\]')
_DATE_CODE = re.compile(r"(?<![_\\])[dmhysDMHYS]")
_ELAPSED = re.compile(r"\[hh?\](:mm(:ss(\.0*)?)?)?|\[mm?\](:ss(\.0*)?)?|\[ss?\](\.0*)?", re.I)

_ISO = re.compile(
    r"(?P<date>(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2}))?T?"
    r"(?P<time>(?P<hour>\d{2}):(?P<minute>\d{2})"
    r"(:(?P<second>\d{2})(?P<microsecond>\.\d{1,3})?)?)?Z?"
)
_ISO_DURATION = re.compile(
    r"PT((?P<hours>\d+)H)?((?P<minutes>\d+)M)?((?P<seconds>\d+(\.\d{1,3})?)S)?"
)


def get_column_letter(column: int) -> str:
    """``A`` for column 1, ``AA`` for 27, up to ``ZZZ`` (18,278); ValueError beyond."""
    if not 1 <= column <= 18278:
        raise ValueError(f"Invalid column index {column}")
    letters = ""
    while column:
        column, remainder = divmod(column - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def is_date_format(code: str | None) -> bool:
    """Whether a number format shows a date or a time (its first section decides)."""
    if code is None:
        return False
    return _DATE_CODE.search(_STRIP.sub("", code.split(";")[0])) is not None


def is_timedelta_format(code: str | None) -> bool:
    """Whether a number format shows elapsed time (``[h]:mm:ss``), a duration, not a clock."""
    if code is None:
        return False
    return _ELAPSED.search(code.split(";")[0]) is not None


def from_excel(
    value: float | None, epoch: dt.datetime = CALENDAR_WINDOWS_1900, timedelta: bool = False
) -> dt.datetime | dt.time | dt.timedelta | None:
    """The date, time of day or (``timedelta``) duration an Excel serial stands for.

    To the millisecond; a serial under 1 is a time of day; in the 1900 system a serial under 60
    is moved a day on, past Excel's 29 February 1900. OverflowError or ValueError for a serial
    no date holds.
    """
    if value is None:
        return None
    if timedelta:
        span = dt.timedelta(days=value)
        if span.microseconds:
            span = dt.timedelta(
                seconds=span.total_seconds() // 1, microseconds=round(span.microseconds, -3)
            )
        return span
    day, fraction = divmod(value, 1)
    diff = dt.timedelta(milliseconds=round(fraction * _SECONDS_PER_DAY * 1000))
    if 0 <= value < 1 and diff.days == 0:
        minutes, seconds = divmod(diff.seconds, 60)
        hours, minutes = divmod(minutes, 60)
        return dt.time(hours, minutes, seconds, diff.microseconds)
    if 0 < value < 60 and epoch == CALENDAR_WINDOWS_1900:
        day += 1
    return epoch + dt.timedelta(days=day) + diff


def from_iso8601(text: str) -> dt.datetime | dt.date | dt.time | dt.timedelta | None:
    """A date, time, date and time, or (``PT1H2M3S``) duration written in ISO 8601, as a ``d``
    cell holds it (ECMA-376 Part 1, 18.17.4); None for an empty text, ValueError for another."""
    if not text:
        return None
    match = _ISO.match(text)
    if match and any(match.groups()):
        parts = match.groupdict(0)
        number = {key: int(parts[key]) for key in ("year", "month", "day", "hour", "minute")}
        second = int(parts["second"])
        micro = int(float(parts["microsecond"]) * 1_000_000) if parts["microsecond"] else 0
        if not parts["date"]:
            return dt.time(number["hour"], number["minute"], second, micro)
        if not parts["time"]:
            return dt.date(number["year"], number["month"], number["day"])
        return dt.datetime(
            number["year"],
            number["month"],
            number["day"],
            number["hour"],
            number["minute"],
            second,
            micro,
        )
    match = _ISO_DURATION.match(text)
    if match and any(match.groups()):
        span = {key: float(value) for key, value in match.groupdict(0).items()}
        return dt.timedelta(**span)
    raise ValueError(f"Invalid datetime value {text}")
