"""Hostile workbooks: each class refused with one exact line and exit code 2, within the budget.

Every file is made here, from the register fixture, by rewriting zip members: small on disk, some
unpacking to tens of megabytes. Each runs through the real command in a child process capped in
memory (:mod:`tests.hostile`), which must answer in under 5 s of CPU and 256 MB.
"""

from __future__ import annotations

import re
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from compliance.errors import InputError
from compliance.intake.proposals import read_proposals
from compliance.workbook import sheetstream
from compliance.workbook.cellformat import ALL_SIGNS, NEGATIVE, ZERO, Hiding, hiding
from compliance.workbook.read import validation_filter
from tests.hostile import ROOT, run_bounded

BASE = ROOT / "fixtures" / "workbooks" / "register-v2.xlsx"
PROPOSALS = "xl/worksheets/sheet2.xml"
PARTIES = "xl/worksheets/sheet3.xml"
HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
TAIL = "</sheetData></worksheet>"
AMBIGUOUS = "book.xlsx: is ambiguous ({}); readers may disagree on it, save it again from Excel"
MALFORMED = (
    "book.xlsx, Proposals!B2: is malformed ({}); Excel repairs or refuses such a file: save it "
    "again from Excel and check the cell"
)
FORMULA = (
    "book.xlsx, Proposals!B2: PRP-2026-202: title: holds a formula ({}); type the answer "
    "itself: intake does not judge a formula's saved result, which can differ from what Excel "
    "shows"
)

Members = list[tuple[str, bytes]]


def _base() -> Members:
    with zipfile.ZipFile(BASE) as book:
        return [(info.filename, book.read(info)) for info in book.infolist()]


def _write(path: Path, members: Members) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of a duplicate name, which is the point
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as book:
            for name, data in members:
                book.writestr(name, data)


def _replace(name: str, data: bytes) -> Callable[[Members], Members]:
    return lambda members: [(n, data if n == name else d) for n, d in members]


def _edit(name: str, old: bytes, new: bytes) -> Callable[[Members], Members]:
    def change(members: Members) -> Members:
        out = []
        for n, data in members:
            d = data
            if n == name:
                assert old in d
                d = d.replace(old, new, 1)
            out.append((n, d))
        return out

    return change


def _sheet(rows: bytes) -> bytes:
    return HEAD.encode() + rows + TAIL.encode()


def _title_cell(cell: str) -> Callable[[Members], Members]:
    """Proposals!B2 (the first proposal's title) replaced by ``cell``."""

    def change(members: Members) -> Members:
        out = []
        for n, data in members:
            d = data
            if n == PROPOSALS:
                d, count = re.subn(rb'<c r="B2" [^>]*><is><t>[^<]*</t></is></c>', cell.encode(), d)
                assert count == 1
            out.append((n, d))
        return out

    return change


def _with_part(name: str, content: bytes, kind: str, rel: str) -> Callable[[Members], Members]:
    """A part added to the workbook with its content type and relationship."""

    def change(members: Members) -> Members:
        out = []
        for n, data in members:
            d = data
            if n == "[Content_Types].xml":
                d = d.replace(
                    b"</Types>",
                    f'<Override PartName="/{name}" ContentType="{kind}"/></Types>'.encode(),
                )
            elif n == "xl/_rels/workbook.xml.rels":
                d = d.replace(
                    b"</Relationships>",
                    f'<Relationship Id="rIdX" Type="http://schemas.openxmlformats.org/'
                    f'officeDocument/2006/relationships/{rel}" Target="/{name}"/>'
                    "</Relationships>".encode(),
                )
            out.append((n, d))
        return [*out, (name, content)]

    return change


def _no_dimension_rows(count: int) -> bytes:
    """A sheet with no <dimension>: a header, then ``count`` rows of one value each."""
    row = '<row r="{0}"><c r="A{0}" t="inlineStr"><is><t>x</t></is></c></row>'
    return _sheet("".join(row.format(n) for n in range(2, count + 2)).encode())


def _far_right_rows(count: int) -> bytes:
    """``count`` rows, each holding one value at column XFD (16,384)."""
    return _sheet(
        "".join(
            f'<row r="{n}"><c r="XFD{n}"><v>1</v></c></row>' for n in range(2, count + 2)
        ).encode()
    )


def _sparse_rows(count: int) -> bytes:
    """``count`` rows spread down to row 1,048,576, one value each."""
    step = 1_048_000 // count
    return _sheet(
        "".join(
            f'<row r="{n}"><c r="A{n}"><v>1</v></c></row>' for n in range(2, 1_048_000, step)
        ).encode()
    )


def _made(name: str, make: Callable[[int], bytes], count: int) -> Callable[[Members], Members]:
    """Replace ``name`` with ``make(count)``, made when the case runs: not at import, where every
    test worker would build hundreds of thousands of rows for a case it may never run."""

    def change(members: Members) -> Members:
        return _replace(name, make(count))(members)

    return change


def _many_sheets(count: int) -> Callable[[Members], Members]:
    sheets = "".join(
        f'<sheet name="S{n}" sheetId="{n + 20}" r:id="rIdS{n}"/>' for n in range(count)
    )
    return _edit("xl/workbook.xml", b"</sheets>", sheets.encode() + b"</sheets>")


SST = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
PAST_ROWS = "book.xlsx, {}: is past row 50000, the last row intake reads; split the workbook"

CASES: list[tuple[str, Callable[[Members], Members], str]] = [
    (
        "a sheet with no dimension unpacking past the read limit",
        _made(PARTIES, _no_dimension_rows, 600_000),
        "book.xlsx: the sheets intake reads and their strings unpack to 41.1 MiB, more than "
        "32 MiB; split the workbook",
    ),
    (
        "a sheet with no dimension and more rows than intake reads",
        _made(PARTIES, _no_dimension_rows, 60_000),
        PAST_ROWS.format("Parties!A50001"),
    ),
    (
        "a huge shared-string table",
        _with_part(
            "xl/sharedStrings.xml",
            b"<sst>" + b"<si><t>x</t></si>" * 2_500_000 + b"</sst>",
            SST,
            "sharedStrings",
        ),
        "book.xlsx: the sheets intake reads and their strings unpack to 40.7 MiB, more than "
        "32 MiB; split the workbook",
    ),
    (
        "a huge stylesheet",
        _replace(
            "xl/styles.xml", b"<styleSheet>" + b"<!-- padding -->" * 600_000 + b"</styleSheet>"
        ),
        "book.xlsx: the stylesheet (xl/styles.xml) unpacks to 9.2 MiB, more than 8 MiB",
    ),
    ("thousands of sheets", _many_sheets(1_000), "book.xlsx: has more than 1000 sheets"),
    (
        "one value at column XFD in 99,000 rows",
        _made(PARTIES, _far_right_rows, 99_000),
        "book.xlsx, Parties!XFD2: is past column AMJ, the last column intake reads; move or "
        "delete it",
    ),
    (
        "3,000 sparse rows",
        _made(PARTIES, _sparse_rows, 3_000),
        PAST_ROWS.format("Parties!A50258"),
    ),
    (
        "two zip members with one name",
        lambda m: [*m, (PARTIES, _sheet(b""))],
        AMBIGUOUS.format(f"two zip members named {PARTIES}"),
    ),
    (
        "two zip members whose names differ in case and slashes",
        lambda m: [*m, ("/XL\\worksheets\\Sheet3.xml", _sheet(b""))],
        AMBIGUOUS.format(f"two zip members named {PARTIES}"),
    ),
    (
        "two sheets on one part",
        _edit(
            "xl/_rels/workbook.xml.rels",
            b'Target="/xl/worksheets/sheet4.xml"',
            b'Target="/xl/worksheets/sheet3.xml"',
        ),
        AMBIGUOUS.format("the sheets 'Parties' and 'Security units' are one part"),
    ),
    (
        "a sheet outside the package",
        _edit(
            "xl/_rels/workbook.xml.rels",
            b'Target="/xl/worksheets/sheet3.xml"',
            b'Target="../../sheet3.xml"',
        ),
        AMBIGUOUS.format("the sheet 'Parties' is outside the workbook: ../../sheet3.xml"),
    ),
    (
        "two content types for one part",
        _edit(
            "[Content_Types].xml",
            b"</Types>",
            f'<Override PartName="/xl/worksheets/sheet3.xml" ContentType="{SHEET_TYPE}.x"/></Types>'.encode(),
        ),
        AMBIGUOUS.format("two content types for xl/worksheets/sheet3.xml"),
    ),
    (
        "two relationships with one id",
        _edit("xl/_rels/workbook.xml.rels", b'Id="rId4"', b'Id="rId3"'),
        AMBIGUOUS.format("two relationships rId3 in xl/_rels/workbook.xml.rels"),
    ),
    (
        "a document type declaration",
        _edit(PROPOSALS, b"<worksheet", b'<!DOCTYPE worksheet [<!ENTITY y "Yes">]><worksheet'),
        "book.xlsx: is damaged or truncated (xl/worksheets/sheet2.xml holds a document type "
        "declaration); save it again from Excel",
    ),
    (
        "a formula whose saved value differs",
        _title_cell('<c r="B2" t="str"><f>"Other"</f><v>A safe title</v></c>'),
        FORMULA.format('="Other"'),
    ),
    (
        "a DDE formula",
        _title_cell("<c r=\"B2\"><f>cmd|' /C calc'!A0</f><v>0</v></c>"),
        FORMULA.format("=cmd|' /C calc'!A0"),
    ),
    (
        "an external reference",
        _title_cell('<c r="B2" t="str"><f>[1]Sheet1!A1</f><v>Title</v></c>'),
        FORMULA.format("=[1]Sheet1!A1"),
    ),
    (
        "a copy of a shared formula",
        _title_cell('<c r="B2" t="str"><f t="shared" si="0"/><v>A safe title</v></c>'),
        FORMULA.format("copied from another cell"),
    ),
    (
        "a boolean holding 2",
        _title_cell('<c r="B2" t="b"><v>2</v></c>'),
        MALFORMED.format("a boolean holding '2'"),
    ),
    (
        "an unknown cell type",
        _title_cell('<c r="B2" t="x"><v>Title</v></c>'),
        MALFORMED.format("an unknown cell type 'x'"),
    ),
    (
        "an undefined style",
        _title_cell('<c r="B2" s="999" t="inlineStr"><is><t>Title</t></is></c>'),
        MALFORMED.format("style 999, but the workbook defines 9"),
    ),
    (
        "a cell repeated",
        _title_cell('<c r="A2" t="inlineStr"><is><t>PRP-2026-999</t></is></c>'),
        "book.xlsx, Proposals!A2: is malformed (a cell repeated or out of order); Excel repairs "
        "or refuses such a file: save it again from Excel and check the cell",
    ),
]


def _styled(members: Members) -> Members:
    """Cell styles 9 to 12 added to the stylesheet: a format showing other text than the cell
    holds, a white font with no fill, a font the colour of its solid fill, a ``[White]`` format."""
    return _edit(
        "xl/styles.xml",
        b"</cellXfs>",
        b'<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        b'<xf numFmtId="0" fontId="4" fillId="0" borderId="0" xfId="0"/>'
        b'<xf numFmtId="0" fontId="5" fillId="3" borderId="0" xfId="0"/>'
        b'<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>',
    )(
        _edit(
            "xl/styles.xml",
            b"</fills>",
            b'<fill><patternFill patternType="solid"><fgColor rgb="FF123456"/></patternFill>'
            b"</fill></fills>",
        )(
            _edit(
                "xl/styles.xml",
                b"</fonts>",
                b'<font><color rgb="FFFFFFFF"/></font><font><color rgb="FF123456"/></font></fonts>',
            )(
                _edit(
                    "xl/styles.xml",
                    b"</numFmts>",
                    b'<numFmt numFmtId="165" formatCode=";;;&quot;Nothing to see&quot;"/>'
                    b'<numFmt numFmtId="166" formatCode="[White]@"/></numFmts>',
                )(members)
            )
        )
    )


def _styled_title(style: int) -> Callable[[Members], Members]:
    cell = f'<c r="B2" s="{style}" t="inlineStr"><is><t>A safe title</t></is></c>'
    return lambda members: _title_cell(cell)(_styled(members))


#: A part no reader of intake's parses, to hold a document type declaration.
_EXTRA = "customXml/item1.xml"
_LAUGHS = b'<!DOCTYPE lolz [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
DOCTYPE = (
    "book.xlsx: is damaged or truncated ({} holds a document type declaration); save it again "
    "from Excel"
)

CASES += [
    (
        "two texts in one inline string",
        _title_cell('<c r="B2" t="inlineStr"><is><t>A safe title</t><t>Other</t></is></c>'),
        MALFORMED.format("an inline string holding two texts"),
    ),
    (
        "a text after a run in one inline string",
        _title_cell('<c r="B2" t="inlineStr"><is><r><t>A safe</t></r><t>title</t></is></c>'),
        MALFORMED.format("an inline string holding two texts"),
    ),
    (
        "two texts in one run",
        _title_cell('<c r="B2" t="inlineStr"><is><r><t>A safe</t><t>title</t></r></is></c>'),
        MALFORMED.format("a run holding two texts"),
    ),
    (
        "two texts in one shared string",
        lambda m: _with_part(
            "xl/sharedStrings.xml",
            b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            b"<si><t>A safe title</t><t>Other</t></si></sst>",
            SST,
            "sharedStrings",
        )(_title_cell('<c r="B2" t="s"><v>0</v></c>')(m)),
        MALFORMED.format("shared string 0 holds two texts"),
    ),
    (
        "two values in one cell",
        _title_cell('<c r="B2"><v>1</v><v>2</v></c>'),
        MALFORMED.format("two <v> elements"),
    ),
    (
        "an escaped lone surrogate",
        _title_cell('<c r="B2" t="inlineStr"><is><t>_xD800_A safe title</t></is></c>'),
        "book.xlsx, Proposals!B2: PRP-2026-202: title: holds a lone surrogate (U+D800) at "
        "character 1, which is not a character",
    ),
    (
        "an unknown element nested 200,000 deep in a cell",
        _title_cell(
            '<c r="B2" t="inlineStr"><is><t>A safe title</t></is>'
            + "<x>" * 200_000
            + "</x>" * 200_000
            + "</c>"
        ),
        MALFORMED.format("an element 'x' Excel does not know in a cell"),
    ),
    (
        "elements nested deep in a cell's extension list",
        _title_cell(
            '<c r="B2" t="inlineStr"><is><t>A safe title</t></is><extLst>'
            + "<x>" * 50_000
            + "</x>" * 50_000
            + "</extLst></c>"
        ),
        MALFORMED.format("elements nested more than 16 deep"),
    ),
    (
        "a number format showing other text",
        _styled_title(9),
        "book.xlsx, Proposals!B2: PRP-2026-202: title: is shown through the number format "
        "';;;\"Nothing to see\"', which shows other text than the cell holds; set the cell's "
        "format to General",
    ),
    (
        "a white font with no fill",
        _styled_title(10),
        "book.xlsx, Proposals!B2: PRP-2026-202: title: is written in white (FFFFFF) with no "
        "fill: a person opening the file does not see it; give it a visible font colour",
    ),
    (
        "a font the colour of its fill",
        _styled_title(11),
        "book.xlsx, Proposals!B2: PRP-2026-202: title: is written in the colour of its fill "
        "(123456): a person opening the file does not see it; give it a visible font colour",
    ),
    (
        "a white number format",
        _styled_title(12),
        "book.xlsx, Proposals!B2: PRP-2026-202: title: is written in white (FFFFFF) with no "
        "fill: a person opening the file does not see it; give it a visible font colour",
    ),
    (
        "a hidden row",
        _edit(PROPOSALS, b'<row r="2"', b'<row r="2" hidden="1"'),
        "book.xlsx, Proposals!A2: is in a hidden row: a person opening the file does not see it; "
        "unhide the row",
    ),
    (
        "a row of height zero",
        _edit(PROPOSALS, b'<row r="2"', b'<row r="2" ht="0" customHeight="1"'),
        "book.xlsx, Proposals!A2: is in a hidden row: a person opening the file does not see it; "
        "unhide the row",
    ),
    (
        "a hidden column",
        _edit(PROPOSALS, b'min="2" max="2"', b'min="2" max="2" hidden="1"'),
        "\nerror: ".join(
            f"book.xlsx, Proposals!B{row}: {ident}: title: is in a hidden column: a person "
            "opening the file does not see it; unhide the column"
            for row, ident in ((2, "PRP-2026-202"), (3, "PRP-2026-209"), (4, "PRP-2026-201"))
        ),
    ),
    (
        "a hidden sheet of answers",
        _edit(
            "xl/workbook.xml",
            b'name="Proposals" sheetId="2" state="visible"',
            b'name="Proposals" sheetId="2" state="hidden"',
        ),
        "\nerror: ".join(
            f"book.xlsx, Proposals!A{row}: is on a hidden sheet: a person opening the file does "
            "not see it; unhide the sheet"
            for row in (2, 3, 4)
        ),
    ),
    (
        "a document type declaration in the document properties",
        _edit("docProps/core.xml", b"<cp:coreProperties", _LAUGHS + b"<cp:coreProperties"),
        DOCTYPE.format("docProps/core.xml"),
    ),
    (
        "a document type declaration in a comment part",
        _edit("xl/comments/comment1.xml", b"<comments", _LAUGHS + b"<comments"),
        DOCTYPE.format("xl/comments/comment1.xml"),
    ),
    (
        "a document type declaration across two read chunks of an unread part",
        lambda m: [*m, (_EXTRA, b" " * (1024 * 1024 - 4) + _LAUGHS + b"<x/>")],
        DOCTYPE.format(_EXTRA),
    ),
    (
        "a document type declaration in UTF-16",
        lambda m: [*m, (_EXTRA, ("\ufeff" + _LAUGHS.decode() + "<x/>").encode("utf-16-le"))],
        DOCTYPE.format(_EXTRA),
    ),
]


EVIL = 'xmlns:x="urn:evil"'
FOREIGN = AMBIGUOUS.format("an element of another namespace, {}, in {}")
MAIN_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'

CASES += [
    (
        "a shared string of another namespace before the title's",
        lambda m: _with_part(
            "xl/sharedStrings.xml",
            f"<sst {MAIN_NS} {EVIL}><x:si><t>Other</t></x:si><si><t>A safe title</t></si></sst>".encode(),
            SST,
            "sharedStrings",
        )(_title_cell('<c r="B2" t="s"><v>0</v></c>')(m)),
        FOREIGN.format("urn:evil", "xl/sharedStrings.xml"),
    ),
    (
        "a shared string of no namespace",
        lambda m: _with_part(
            "xl/sharedStrings.xml",
            f'<sst {MAIN_NS}><si xmlns=""><t>Other</t></si><si><t>A safe title</t></si></sst>'.encode(),
            SST,
            "sharedStrings",
        )(_title_cell('<c r="B2" t="s"><v>0</v></c>')(m)),
        FOREIGN.format("none", "xl/sharedStrings.xml"),
    ),
    (
        "a number format of another namespace",
        _edit(
            "xl/styles.xml",
            b"</numFmts>",
            f'<x:numFmt {EVIL} numFmtId="164" formatCode="General"/></numFmts>'.encode(),
        ),
        FOREIGN.format("urn:evil", "xl/styles.xml"),
    ),
    (
        "a sheet of another namespace",
        _edit(
            "xl/workbook.xml",
            b"</sheets>",
            f'<x:sheet {EVIL} name="Other" sheetId="99" r:id="rId3"/></sheets>'.encode(),
        ),
        FOREIGN.format("urn:evil", "xl/workbook.xml"),
    ),
    (
        "a row of another namespace",
        _edit(PROPOSALS, b'<row r="3"', f'<x:row {EVIL} r="3"/><row r="3"'.encode()),
        FOREIGN.format("urn:evil", PROPOSALS),
    ),
    (
        "alternate content in a sheet's data",
        _edit(
            PROPOSALS,
            b'<row r="3"',
            b'<mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-'
            b'compatibility/2006"><mc:Choice Requires="x"/><mc:Fallback/></mc:AlternateContent>'
            b'<row r="3"',
        ),
        AMBIGUOUS.format(f"alternate content (mc:AlternateContent) in {PROPOSALS}"),
    ),
    (
        "alternate content holding a sheet's data",
        _edit(
            PROPOSALS,
            b"</worksheet>",
            b'<mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-'
            b'compatibility/2006"><mc:Choice Requires="x"><sheetData/></mc:Choice>'
            b"</mc:AlternateContent></worksheet>",
        ),
        AMBIGUOUS.format(f"alternate content (mc:AlternateContent) in {PROPOSALS}"),
    ),
    (
        "two sheet data elements",
        _edit(PROPOSALS, b"</sheetData>", b"</sheetData><sheetData/>"),
        "book.xlsx, Proposals!row 4: is malformed (two <sheetData> elements); Excel repairs or "
        "refuses such a file: save it again from Excel and check the cell",
    ),
    (
        "a cell outside any row",
        _edit(
            PROPOSALS,
            b'<row r="3"',
            b'<c r="C3" t="inlineStr"><is><t>Other</t></is></c><row r="3"',
        ),
        "book.xlsx, Proposals!C3: is malformed (a cell outside any row); Excel repairs or "
        "refuses such a file: save it again from Excel and check the cell",
    ),
]


HIDDEN_ROW = (
    "book.xlsx, Proposals!A2: is in a hidden row: a person opening the file does not see it; "
    "unhide the row"
)
HIDDEN_ROWS = "\nerror: ".join(HIDDEN_ROW.replace("A2", f"A{row}") for row in (2, 3, 4))
NUMBER_FORMAT = (
    "book.xlsx, Proposals!BY2: PRP-2026-202: oversight.reporting_frequency_months: is shown "
    "through the number format {!r}, which does not show the number the cell holds; set the "
    "cell's format to General"
)
ROW_MALFORMED = (
    "book.xlsx, Proposals!row 2: is malformed ({}); Excel repairs or refuses such a file: save "
    "it again from Excel and check the cell"
)

CASES += [
    (
        "a row hidden with whitespace around the boolean",
        _edit(PROPOSALS, b'<row r="2"', b'<row r="2" hidden=" true\n"'),
        HIDDEN_ROW,
    ),
    (
        "a row hidden by a boolean XML Schema does not know",
        _edit(PROPOSALS, b'<row r="2"', b'<row r="2" hidden="yes"'),
        ROW_MALFORMED.format("hidden 'yes', which is not a boolean"),
    ),
    (
        "a row whose height is not a number",
        _edit(PROPOSALS, b'<row r="2"', b'<row r="2" ht="NaN" customHeight="1"'),
        ROW_MALFORMED.format("ht 'NaN', which is not a number"),
    ),
    (
        "rows hidden by default with whitespace around the boolean",
        _edit(PROPOSALS, b'defaultRowHeight="15"', b'defaultRowHeight="15" zeroHeight=" 1"'),
        HIDDEN_ROWS,
    ),
    (
        "rows too low by default",
        _edit(PROPOSALS, b'defaultRowHeight="15"', b'defaultRowHeight="0.5" customHeight="1"'),
        HIDDEN_ROWS,
    ),
    (
        "a relationship naming its part in another case",
        _edit(
            "xl/_rels/workbook.xml.rels",
            b'Target="/xl/worksheets/sheet3.xml"',
            b'Target="/XL/worksheets/Sheet3.xml"',
        ),
        AMBIGUOUS.format(
            "the sheet 'Parties' is XL/worksheets/Sheet3.xml, but the part is named "
            "xl/worksheets/sheet3.xml"
        ),
    ),
    (
        "a number answer in a built-in percent format",
        lambda m: _edit(
            "xl/styles.xml",
            b"</cellXfs>",
            b'<xf numFmtId="9" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>',
        )(_edit(PROPOSALS, b'<c r="BY2" s="7" t="n">', b'<c r="BY2" s="9" t="n">')(m)),
        NUMBER_FORMAT.format("0%"),
    ),
    (
        "a number answer in a format of literal digits",
        lambda m: _edit(
            "xl/styles.xml",
            b"</numFmts>",
            b'<numFmt numFmtId="165" formatCode="&quot;1&quot;0"/></numFmts>',
        )(
            _edit(
                "xl/styles.xml",
                b"</cellXfs>",
                b'<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>',
            )(_edit(PROPOSALS, b'<c r="BY2" s="7" t="n">', b'<c r="BY2" s="9" t="n">')(m))
        ),
        NUMBER_FORMAT.format('"1"0'),
    ),
    (
        "a rich-text run in the colour of its cell's fill",
        lambda m: _edit(
            "xl/styles.xml",
            b"</cellXfs>",
            b'<xf numFmtId="0" fontId="0" fillId="3" borderId="0" xfId="0"/></cellXfs>',
        )(
            _title_cell(
                '<c r="B2" s="13" t="inlineStr"><is><r><t>A safe title</t></r><r><rPr>'
                '<color rgb="FF123456"/></rPr><t> Other</t></r></is></c>'
            )(_styled(m))
        ),
        "book.xlsx, Proposals!B2: PRP-2026-202: title: is written in the colour of its fill "
        "(123456): a person opening the file does not see it; give it a visible font colour",
    ),
    (
        "a white rich-text run of a shared string with no fill",
        lambda m: _with_part(
            "xl/sharedStrings.xml",
            f'<sst {MAIN_NS}><si><r><t>A safe title</t></r><r><rPr><color rgb="FFFFFFFF"/>'
            "</rPr><t> Other</t></r></si></sst>".encode(),
            SST,
            "sharedStrings",
        )(_title_cell('<c r="B2" t="s"><v>0</v></c>')(m)),
        "book.xlsx, Proposals!B2: PRP-2026-202: title: is written in white (FFFFFF) with no "
        "fill: a person opening the file does not see it; give it a visible font colour",
    ),
    (
        "two workbook properties",
        _edit("xl/workbook.xml", b"<workbookPr />", b'<workbookPr /><workbookPr date1904="1"/>'),
        AMBIGUOUS.format("two workbookPr in xl/workbook.xml"),
    ),
    (
        "a date epoch XML Schema does not read as a boolean",
        _edit("xl/workbook.xml", b"<workbookPr />", b'<workbookPr date1904="yes"/>'),
        "book.xlsx: is damaged or truncated (xl/workbook.xml: date1904 'yes', which is not a "
        "boolean); save it again from Excel",
    ),
]


@pytest.mark.parametrize(("name", "mutate", "message"), CASES, ids=[c[0] for c in CASES])
def test_hostile_workbook_is_refused_in_one_line_within_budget(
    name: str, mutate: Callable[[Members], Members], message: str, tmp_path: Path
) -> None:
    path = tmp_path / "book.xlsx"
    _write(path, mutate(_base()))
    result = run_bounded("review", "book.xlsx", cwd=tmp_path)
    assert (result.code, result.out, result.err) == (2, "", f"error: {message}\n")
    result.within_budget()


def test_the_base_workbook_is_read() -> None:
    """The fixture the hostile files are made from is itself reviewed (exit 3: a rejection)."""
    result = run_bounded("review", str(BASE))
    assert result.code == 3, result.err
    result.within_budget()


def test_values_past_the_cell_limit_are_refused_at_the_cell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The limit on values held counts across sheets (lowered here: at its real 300,000 the
    refusal costs about as much as reading a 2,000-proposal register)."""
    monkeypatch.setattr(sheetstream, "MAX_CELLS", 200)
    path = tmp_path / "book.xlsx"
    _write(path, _base())
    with pytest.raises(InputError) as caught:
        read_proposals([str(path)])
    assert caught.value.problems == [
        f"{path}, Proposals!CL2: the sheets intake reads hold more than 200 values; "
        "split the workbook"
    ]


def test_a_cell_longer_than_excel_holds_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    long = "x" * 32_768
    _write(path, _title_cell(f'<c r="B2" t="inlineStr"><is><t>{long}</t></is></c>')(_base()))
    result = run_bounded("review", "book.xlsx", cwd=tmp_path)
    assert (result.code, result.err) == (
        2,
        "error: " + MALFORMED.format("32768 characters, more than a cell holds (32767)") + "\n",
    )
    result.within_budget()


def _shared_strings(members: Members) -> Members:
    """The workbook as Excel and LibreOffice save it: every text in a shared-string table (one
    of them escaped, one with a phonetic reading), not inline."""
    table: dict[bytes, int] = {}

    def shared(match: re.Match[bytes]) -> bytes:
        index = table.setdefault(match.group(2), len(table))
        return match.group(1) + b't="s"><v>' + str(index).encode() + b"</v></c>"

    out = [
        (
            n,
            re.sub(
                rb'(<c r="[A-Z]+[0-9]+" (?:s="[0-9]+" )?)t="inlineStr"><is><t>([^<]*)</t></is></c>',
                shared,
                d,
            ),
        )
        for n, d in members
    ]
    items = []
    for text in table:
        if text == b"Yes":
            items.append(b'<si><t>Y_x0065_s</t><rPh sb="0" eb="1"><t>no</t></rPh></si>')
        elif re.match(rb"[A-Za-z0-9][A-Za-z0-9 ]", text):  # in two runs, as rich text is
            items.append(b"<si><r><t>" + text[:1] + b"</t></r><r><t>" + text[1:] + b"</t></r></si>")
        else:
            items.append(b"<si><t>" + text + b"</t></si>")
    sst = (
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + b"".join(items)
        + b"</sst>"
    )
    return _with_part("xl/sharedStrings.xml", sst, SST, "sharedStrings")(out)


def test_a_shared_string_table_reads_as_inline_text(tmp_path: Path) -> None:
    inline, shared = tmp_path / "inline.xlsx", tmp_path / "shared.xlsx"
    _write(inline, _base())
    _write(shared, _shared_strings(_base()))
    with zipfile.ZipFile(shared) as book:
        assert b'<c r="A2" s="7" t="s"><v>' in book.read(PROPOSALS)
        strings = book.read("xl/sharedStrings.xml")
        assert b"<si><t>Y_x0065_s</t><rPh" in strings
        assert b"</t></r><r><t>" in strings
    expected = [item.proposal for item in read_proposals([str(inline)])]
    assert [item.proposal for item in read_proposals([str(shared)])] == expected


def test_built_in_and_template_formats_hide_nothing() -> None:
    from openpyxl.styles.numbers import BUILTIN_FORMATS

    from compliance.workbook.write import DATE_FORMAT

    # openpyxl's copy of format 44 lacks its semicolons (Excel's has them): a built-in format is
    # never analysed, only those a workbook defines.
    builtins = [code for number, code in BUILTIN_FORMATS.items() if number not in (9, 10, 44)]
    for code in [*builtins, DATE_FORMAT, '#,##0.00 "USD"', "[Red]@", "0;[Red]-0", "0.00E+00"]:
        assert hiding(code) == Hiding(False, 0), code
    # The percent formats show 3 as 300%: other digits than the number's.
    assert [hiding(BUILTIN_FORMATS[n]) for n in (9, 10)] == [Hiding(False, ALL_SIGNS)] * 2


@pytest.mark.parametrize(
    ("code", "hidden"),
    [
        (";;;", Hiding(True, ALL_SIGNS)),
        (';;;"Nothing to see"', Hiding(True, ALL_SIGNS)),
        ('"Prefix "@', Hiding(True, 0)),
        ('0;0;0;"x"@', Hiding(True, 0)),
        ('"Approved"', Hiding(False, ALL_SIGNS)),
        ("0;;0", Hiding(False, NEGATIVE)),
        ('0;-0;"nil"', Hiding(False, ZERO)),
        ('[>100]"big";0', Hiding(False, ALL_SIGNS)),
        ('0;"a;b";\\\\;@', Hiding(False, NEGATIVE | ZERO)),
        ('0;"a;b";\\;@', Hiding(True, NEGATIVE | ZERO)),
        ('"1"0', Hiding(False, ALL_SIGNS)),
        ('0"0"', Hiding(False, ALL_SIGNS)),
        ("0\\0", Hiding(False, ALL_SIGNS)),
        ("0,", Hiding(False, ALL_SIGNS)),
        ('#,##0.0,,"M"', Hiding(False, ALL_SIGNS)),
        ("0%", Hiding(False, ALL_SIGNS)),
        ('0;"-1"', Hiding(False, NEGATIVE)),
        ("#,##0", Hiding(False, 0)),
        ("mmmm d, yyyy", Hiding(False, 0)),
    ],
)
def test_formats_that_hide_a_value(code: str, hidden: Hiding) -> None:
    assert hiding(code) == hidden


def test_validation_lines_at_a_refused_cell_are_dropped() -> None:
    keep = validation_filter(
        "a: b.xlsx",
        [
            "a: b.xlsx, Proposals!B2: PRP-1: title: holds a formula (=1)",
            "a: b.xlsx: the sheet 'Legal' is missing",
        ],
    )
    assert not keep("a: b.xlsx, Proposals!B2: PRP-1: title: required field is missing")
    assert keep("a: b.xlsx, Proposals!B3: PRP-2: title: required field is missing")
    assert keep("a: b.xlsx, Proposals!B22: PRP-1: title: required field is missing")
    assert keep("a: b.xlsx: PRP-1: expected a proposal object")
