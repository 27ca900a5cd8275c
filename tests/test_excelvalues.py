"""The workbook reader's own Excel helpers give exactly what openpyxl's give, value for value.

:mod:`compliance.workbook.excelvalues` restates six small openpyxl functions and tables so that
reading a workbook does not import openpyxl; these tests hold it to openpyxl itself, on every
column number, every built-in format, and generated serials, texts and format codes, so that an
openpyxl release that changes them fails here.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.styles import numbers as openpyxl_numbers
from openpyxl.utils import cell as openpyxl_cell
from openpyxl.utils import datetime as openpyxl_datetime

from compliance.workbook import excelvalues
from tests.conftest import ROOT

EPOCHS = [excelvalues.CALENDAR_WINDOWS_1900, excelvalues.CALENDAR_MAC_1904]
many = settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))


def outcome(function: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[str, Any]:
    """What a call gives: its value and the value's type, or the type of what it raises."""
    try:
        value = function(*args, **kwargs)
    except Exception as exc:
        return ("raises", type(exc))
    return ("gives", (type(value), value))


def test_the_tables_are_openpyxls() -> None:
    assert excelvalues.BUILTIN_FORMATS == openpyxl_numbers.BUILTIN_FORMATS
    assert excelvalues.CALENDAR_WINDOWS_1900 == openpyxl_datetime.CALENDAR_WINDOWS_1900
    assert excelvalues.CALENDAR_MAC_1904 == openpyxl_datetime.CALENDAR_MAC_1904


def test_every_column_letter_and_the_columns_past_the_last() -> None:
    for column in range(-2, 18282):
        ours = outcome(excelvalues.get_column_letter, column)
        assert ours == outcome(openpyxl_cell.get_column_letter, column), column
    assert excelvalues.get_column_letter(1) == "A"
    assert excelvalues.get_column_letter(28) == "AB"
    assert excelvalues.get_column_letter(16384) == "XFD"


# Format codes as workbooks hold them: Excel's and LibreOffice's own, locale prefixes, elapsed
# time, literals and escapes that look like date codes, conditions and empty sections.
FORMAT_CODES = [
    *openpyxl_numbers.BUILTIN_FORMATS.values(),
    "yyyy-mm-dd",
    "YYYY-MM-DD",
    "dd/mm/yyyy hh:mm",
    "[$-409]mmmm d, yyyy",
    "[$-F800]dddd, mmmm dd, yyyy",
    '"Due "0',
    '"day "d',
    r"\d0",
    "_d0",
    "[Red]0.00",
    "[Red]d",
    "[h]:mm",
    "[hh]:mm:ss",
    "[mm]:ss",
    "[ss].00",
    "[H]",
    "h:mm;@",
    "General;@",
    ";;;",
    ";;;@",
    "[>=100]0;0.0",
    "0.00_);[Red](0.00)",
    "@",
    "",
    "m",
    "ss.000",
    "[White]d-mmm",
]
FORMAT_ALPHABET = 'dmhysDMHYS0#?.,;:"[]\\_@$-/ hHEe+%ARedW>=<'


@pytest.mark.parametrize("code", FORMAT_CODES)
def test_format_codes_as_workbooks_hold_them(code: str) -> None:
    for ours, theirs in [
        (excelvalues.is_date_format, openpyxl_numbers.is_date_format),
        (excelvalues.is_timedelta_format, openpyxl_numbers.is_timedelta_format),
    ]:
        assert outcome(ours, code) == outcome(theirs, code), (ours.__name__, code)
    assert excelvalues.is_date_format(None) is excelvalues.is_timedelta_format(None) is False


@many
@given(st.text(alphabet=FORMAT_ALPHABET, max_size=24))
def test_generated_format_codes(code: str) -> None:
    assert outcome(excelvalues.is_date_format, code) == outcome(
        openpyxl_numbers.is_date_format, code
    )
    assert outcome(excelvalues.is_timedelta_format, code) == outcome(
        openpyxl_numbers.is_timedelta_format, code
    )


SERIALS = [
    0,
    0.0,
    0.5,
    0.999999,
    0.9999999999,
    1,
    1.25,
    59,
    59.99,
    60,
    60.5,
    61,
    -0.5,
    -1,
    -700000,
    46363,
    46363.75,
    2958465,
    2958465.9999999,
    2958466,
    10**20,
    1e308,
    float("inf"),
    float("nan"),
    None,
]


@pytest.mark.parametrize("serial", SERIALS, ids=repr)
def test_serials_at_the_edges(serial: float | None) -> None:
    for epoch in EPOCHS:
        for timedelta in (False, True):
            ours = outcome(excelvalues.from_excel, serial, epoch, timedelta=timedelta)
            theirs = outcome(openpyxl_datetime.from_excel, serial, epoch, timedelta=timedelta)
            assert ours == theirs, (epoch, timedelta)


@many
@given(
    st.one_of(
        st.integers(min_value=-800_000, max_value=3_100_000),
        st.floats(min_value=-800_000, max_value=3_100_000, allow_nan=False),
        st.floats(),
    ),
    st.sampled_from(EPOCHS),
    st.booleans(),
)
def test_generated_serials(serial: float, epoch: dt.datetime, timedelta: bool) -> None:
    ours = outcome(excelvalues.from_excel, serial, epoch, timedelta=timedelta)
    assert ours == outcome(openpyxl_datetime.from_excel, serial, epoch, timedelta=timedelta)


ISO_TEXTS = [
    "",
    "2026-12-07",
    "2026-12-07T10:11:12Z",
    "2026-12-07T10:11:12.345",
    "2026-12-07T10:11:12.5Z",
    "2026-12-07T10:11",
    "2026-12-07T",
    "T10:11:12",
    "10:11",
    "10:11:12.001",
    "PT1H2M3S",
    "PT36H",
    "PT1.5S",
    "PT",
    "2026-13-01",
    "2026-02-30T00:00:00",
    "0000-01-01",
    "2026-12-07T25:00:00",
    "not a date",
    "2026/12/07",
    "Z",
]


@pytest.mark.parametrize("text", ISO_TEXTS)
def test_iso_8601_as_cells_hold_it(text: str) -> None:
    assert outcome(excelvalues.from_iso8601, text) == outcome(openpyxl_datetime.from_ISO8601, text)


@many
@given(
    st.one_of(
        st.text(alphabet="0123456789-:TZ.PHMS", max_size=30),
        st.from_regex(
            r"\A(\d{4}-\d{2}-\d{2})?T?(\d{2}:\d{2}(:\d{2}(\.\d{1,4})?)?)?Z?\Z", fullmatch=True
        ),
        st.from_regex(r"\APT(\d{1,3}H)?(\d{1,3}M)?(\d{1,3}(\.\d{1,4})?S)?\Z", fullmatch=True),
    )
)
def test_generated_iso_8601(text: str) -> None:
    assert outcome(excelvalues.from_iso8601, text) == outcome(openpyxl_datetime.from_ISO8601, text)


def test_a_workbook_review_does_not_import_openpyxl() -> None:
    """The point of the module: reading a workbook leaves openpyxl (and NumPy, Pillow) unloaded."""
    script = (
        "import sys\n"
        "from compliance.cli import main\n"
        "sys.argv = ['compliance', 'review', sys.argv[1], '--format', 'json', '--no-config']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        "loaded = sorted({m.split('.')[0] for m in sys.modules} & {'openpyxl', 'numpy', 'PIL'})\n"
        "print(code, loaded, file=sys.stderr)\n"
    )
    workbook = ROOT / "fixtures" / "workbooks" / "flawed-data-sharing-biometrics-left-behind.xlsx"
    done = subprocess.run(
        [sys.executable, "-c", script, str(workbook)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.stdout.startswith("{")  # the review ran and wrote its report
    assert done.stderr.strip().splitlines()[-1] == "3 []"
