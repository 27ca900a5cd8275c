"""Opening workbooks: every bad file is one exact, one-line InputError, never a traceback.

Each case writes its file into a temporary folder, and the test runs from that folder so that
messages read as the user sees them: ``book.xlsx: ...``.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msoffcrypto
import olefile
import openpyxl
import pytest
from msoffcrypto.format.ooxml import OOXMLFile

from compliance.errors import InputError
from compliance.workbook.suffixes import is_workbook_path
from compliance.workbook.xlsxfile import open_workbook, reading
from compliance.workbook.xlsxpackage import decode_xstring
from tests.conftest import Run, run_cli

BOOK = "book.xlsx"
DAMAGED = "book.xlsx: is damaged or truncated ({}); save it again from Excel"
NOT_XLSX = "book.xlsx: is not an Excel workbook (.xlsx)"
LEGACY = (
    "{}: is a legacy Excel 97-2003 (.xls) workbook; "
    "open it in Excel or LibreOffice and save it as .xlsx"
)
PASSWORD = (
    "book.xlsx: is protected with a password; "
    "remove the password (File > Info > Protect Workbook) and try again"
)
BOMB = "refused as a possible zip bomb"
SHEET = "xl/worksheets/sheet1.xml"


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


# ----------------------------------------------------------------------------- building files


def good_workbook(path: str = BOOK, rows: int = 200) -> str:
    """A real openpyxl workbook: shared strings, numbers, dates, booleans, formulas, 2 sheets."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Proposals"
    sheet.append(["id", "partner", "date", "amount", "approved", "double"])
    for i in range(rows):
        day = dt.date(2024, 1, 1) + dt.timedelta(days=i)
        sheet.append([i, f"partner {i % 7}", day, i * 1.5, i % 2 == 0, f"=D{i + 2}*2"])
    book.create_sheet("Forms")["A1"] = "label"
    book.save(path)
    return path


def rezip(source: str, target: str, change: Callable[[str, bytes], bytes | None]) -> None:
    """Copy a zip member by member; ``change`` returns new content, or None to drop it."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = change(info.filename, old.read(info))
            if data is not None:
                new.writestr(info.filename, data)


def ole_file(streams: dict[str, bytes]) -> bytes:
    """A minimal but valid OLE2 compound file (version 3, 512-byte sectors) holding
    ``streams`` in its root storage, each padded to 4096 bytes so that it lives in regular
    sectors. Sector 0 is the FAT, sector 1 the directory (at most 3 streams), then the data."""
    assert len(streams) <= 3
    sector, end, free, fat_sect, no_stream = 512, 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
    fat = [fat_sect, end]
    data = b""
    entries = []
    for name, raw in streams.items():
        content = raw.ljust(4096, b"\0")
        first = 2 + len(data) // sector
        count = len(content) // sector
        fat += [first + k + 1 for k in range(count - 1)] + [end]
        entries.append((name, first, len(content)))
        data += content
    fat += [free] * (128 - len(fat))

    def entry(name: str, kind: int, child: int, right: int, start: int, size: int) -> bytes:
        encoded = name.encode("utf-16-le") + b"\0\0" if name else b""
        return (
            encoded.ljust(64, b"\0")
            + struct.pack("<HBB3I", len(encoded), kind, 1, no_stream, right, child)
            + bytes(16 + 4 + 16)
            + struct.pack("<IQ", start, size)
        )

    # Siblings form a chain through their right links (a degenerate but valid red-black tree).
    directory = entry("Root Entry", 5, 1 if entries else no_stream, no_stream, end, 0)
    for i, (name, start, size) in enumerate(entries, start=1):
        right = i + 1 if i < len(entries) else no_stream
        directory += entry(name, 2, no_stream, right, start, size)
    while len(directory) < sector:
        directory += entry("", 0, no_stream, no_stream, 0, 0)
    header = (
        bytes.fromhex("d0cf11e0a1b11ae1")
        + bytes(16)
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + bytes(6)
        + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, end, 0, end, 0)
        + struct.pack("<109I", 0, *([free] * 108))
    )
    assert len(header) == sector
    return header + struct.pack("<128I", *fat) + directory + data


#: A BIFF8 workbook stream: BOF (workbook globals, BIFF8) then EOF.
BIFF8 = struct.pack("<HHHHHHII", 0x0809, 16, 0x0600, 0x0005, 0x0DBB, 0x07CC, 0, 0x0206)
BIFF8 += struct.pack("<HH", 0x000A, 0)


def write_bytes(data: bytes, name: str = BOOK) -> Callable[[], str]:
    def build() -> str:
        Path(name).write_bytes(data)
        return name

    return build


def missing() -> str:
    return BOOK


def directory() -> str:
    os.mkdir(BOOK)
    return BOOK


def broken_link() -> str:
    os.symlink("nowhere.xlsx", BOOK)
    return BOOK


def fifo() -> str:
    os.mkfifo(BOOK)
    return BOOK


def legacy_xls() -> str:
    Path(BOOK).write_bytes(ole_file({"Workbook": BIFF8}))
    return BOOK


def legacy_xls_named_xls() -> str:
    Path("book.xls").write_bytes(ole_file({"Workbook": BIFF8}))
    return "book.xls"


def html_named_xls() -> str:
    # What many web applications export as "Excel": Excel opens it, openpyxl cannot.
    Path("book.xls").write_text("<html><body><table><tr><td>1</td></tr></table></body></html>")
    return "book.xls"


def legacy_xls_mentioning_encryptedpackage() -> str:
    """An .xls whose data holds the name as text: only directory entries count."""
    text = b"\0" * 3 + "EncryptedPackage".encode("utf-16-le")
    Path(BOOK).write_bytes(ole_file({"Workbook": BIFF8 + text}))
    return BOOK


def word_97_document() -> str:
    Path(BOOK).write_bytes(ole_file({"WordDocument": b"\xec\xa5" + bytes(30)}))
    return BOOK


def encrypted_with_msoffcrypto() -> str:
    good_workbook("plain.xlsx")
    with open("plain.xlsx", "rb") as plain, open(BOOK, "wb") as out:
        OOXMLFile(plain).encrypt("secret", out)
    return BOOK


def encrypted_by_hand() -> str:
    """The streams Excel writes for "Encrypt with Password", with placeholder contents."""
    streams = {"EncryptionInfo": b"\x04\x00\x04\x00\x40\x00\x00\x00", "EncryptedPackage": b"x"}
    Path(BOOK).write_bytes(ole_file(streams))
    return BOOK


def zip_of(members: dict[str, bytes], name: str = BOOK) -> Callable[[], str]:
    def build() -> str:
        with zipfile.ZipFile(name, "w", zipfile.ZIP_DEFLATED) as archive:
            for member, data in members.items():
                archive.writestr(member, data)
        return name

    return build


def truncated() -> str:
    good_workbook("whole.xlsx")
    data = Path("whole.xlsx").read_bytes()
    Path(BOOK).write_bytes(data[: len(data) // 2])
    return BOOK


def compressed_data_offset(path: str, member: str) -> tuple[int, int]:
    """Where ``member``'s compressed bytes start in the file, and how many there are."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    data = Path(path).read_bytes()
    name_length, extra_length = struct.unpack_from("<HH", data, info.header_offset + 26)
    return info.header_offset + 30 + name_length + extra_length, info.compress_size


def corrupted_member() -> str:
    """Bytes flipped in the middle of the worksheet's deflate data."""
    good_workbook()
    start, size = compressed_data_offset(BOOK, SHEET)
    data = bytearray(Path(BOOK).read_bytes())
    for at in range(start + size // 2, start + size // 2 + 16):
        data[at] ^= 0xFF
    Path(BOOK).write_bytes(data)
    return BOOK


def central_header(data: bytes | bytearray, header_offset: int) -> int:
    """Where the central directory entry of the member whose local header is at
    ``header_offset`` starts."""
    at = data.find(b"PK\x01\x02")
    while struct.unpack_from("<I", data, at + 42)[0] != header_offset:
        at = data.find(b"PK\x01\x02", at + 1)
    return at


def wrong_checksum() -> str:
    """Intact deflate data, but the CRC-32 recorded for the worksheet does not match it.
    Deterministic whatever zlib does with flipped bytes: found only once all is read."""
    good_workbook()
    data = bytearray(Path(BOOK).read_bytes())
    with zipfile.ZipFile(BOOK) as archive:
        offset = archive.getinfo(SHEET).header_offset
    for crc_at in (offset + 14, central_header(data, offset) + 16):
        data[crc_at] ^= 0xFF
    Path(BOOK).write_bytes(data)
    return BOOK


def with_sheet(rows: str) -> str:
    """A real workbook whose first worksheet is replaced by this fixed XML (one line per row,
    so that positions in messages do not depend on openpyxl's writer)."""
    good_workbook("whole.xlsx", rows=1)
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\n'
        '<dimension ref="A1:B300"/>\n<sheetData>\n'
        + "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>\n' for r in range(1, 300))
        + rows
        + "</sheetData>\n</worksheet>\n"
    )
    rezip("whole.xlsx", BOOK, lambda name, data: xml.encode() if name == SHEET else data)
    return BOOK


def invalid_xml_late_in_sheet() -> str:
    """An intact zip, but a worksheet whose XML breaks after 299 good rows (line 304)."""
    return with_sheet('<row r="300"><c r="A300"><v>1</v></c></oops>\n')


def bad_value_in_sheet() -> str:
    """Well-formed XML, but a shared-string index that is not a number."""
    return with_sheet('<row r="300"><c r="A300" t="s"><v>seven</v></c></row>\n')


def no_content_types() -> str:
    good_workbook("whole.xlsx")
    rezip("whole.xlsx", BOOK, lambda name, data: None if name == "[Content_Types].xml" else data)
    return BOOK


def bad_stylesheet() -> str:
    good_workbook("whole.xlsx", rows=1)
    rezip(
        "whole.xlsx", BOOK, lambda name, data: b"<styleSheet" if name == "xl/styles.xml" else data
    )
    return BOOK


def declared_two_gib() -> str:
    """A 3 KB file whose central directory claims a 2 GiB member: refused before unpacking."""
    good_workbook(rows=5)
    data = bytearray(Path(BOOK).read_bytes())
    central = data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 2 << 30)
    Path(BOOK).write_bytes(data)
    return BOOK


def zip_flagged_encrypted() -> str:
    """Every member flagged as encrypted with the zip's own (legacy) password scheme."""
    good_workbook()
    data = bytearray(Path(BOOK).read_bytes())
    with zipfile.ZipFile(BOOK) as archive:
        offsets = [info.header_offset for info in archive.infolist()]
    for offset in offsets:
        data[offset + 6] |= 0x1
        data[central_header(data, offset) + 8] |= 0x1
    Path(BOOK).write_bytes(data)
    return BOOK


def sparse_file(size: int) -> Callable[[], str]:
    def build() -> str:
        with open(BOOK, "wb") as out:
            out.write(b"PK\x03\x04")
            out.truncate(size)
        return BOOK

    return build


SPREADSHEET_2003 = (
    '<?xml version="1.0"?>\n<?mso-application progid="Excel.Sheet"?>\n'
    '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"></Workbook>\n'
)

CASES: list[tuple[str, Callable[[], str], str]] = [
    ("missing", missing, "book.xlsx: no such file"),
    ("broken symlink", broken_link, "book.xlsx: no such file"),
    ("directory", directory, "book.xlsx: is a directory, not a workbook file"),
    ("fifo", fifo, "book.xlsx: is not a regular file"),
    ("empty", write_bytes(b""), "book.xlsx: is empty"),
    ("over 256 MiB", sparse_file(256 * 1024 * 1024 + 1), "book.xlsx: is larger than 256 MiB"),
    (
        "json",
        write_bytes(b'{"schema_version": "1", "id": "P-1"}'),
        f"{NOT_XLSX}; it looks like JSON",
    ),
    ("json list, BOM", write_bytes(b"\xef\xbb\xbf\n  [1, 2]"), f"{NOT_XLSX}; it looks like JSON"),
    (
        "pdf",
        write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"),
        f"{NOT_XLSX}; it looks like a PDF",
    ),
    ("csv", write_bytes(b"id,title\nP-1,Training\n"), f"{NOT_XLSX}; it looks like a text file"),
    (
        "html",
        write_bytes(b"<!DOCTYPE html><html><body></body></html>"),
        f"{NOT_XLSX}; it looks like a web page (HTML)",
    ),
    ("xml", write_bytes(b'<?xml version="1.0"?><proposal/>'), f"{NOT_XLSX}; it looks like XML"),
    (
        "spreadsheet 2003",
        write_bytes(SPREADSHEET_2003.encode()),
        f"{NOT_XLSX}; it looks like an Excel 2003 XML spreadsheet; open it in Excel and save it as .xlsx",
    ),
    ("png", write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), NOT_XLSX),
    ("legacy xls", legacy_xls, LEGACY.format(BOOK)),
    ("legacy xls named .xls", legacy_xls_named_xls, LEGACY.format("book.xls")),
    ("html named .xls", html_named_xls, LEGACY.format("book.xls")),
    (
        "xls mentioning EncryptedPackage",
        legacy_xls_mentioning_encryptedpackage,
        LEGACY.format(BOOK),
    ),
    (
        "ole magic only",
        write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + bytes(600)),
        LEGACY.format(BOOK),
    ),
    ("word 97", word_97_document, f"{NOT_XLSX}; it looks like a Word 97-2003 document (.doc)"),
    ("encrypted (msoffcrypto)", encrypted_with_msoffcrypto, PASSWORD),
    ("encrypted (by hand)", encrypted_by_hand, PASSWORD),
    (
        "docx",
        zip_of({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"}),
        "book.xlsx: is a zip file but not an Excel workbook (no xl/workbook.xml); it looks like a Word document (.docx)",
    ),
    (
        "plain zip",
        zip_of({"notes.txt": b"hello"}),
        "book.xlsx: is a zip file but not an Excel workbook (no xl/workbook.xml)",
    ),
    (
        "empty zip",
        zip_of({}),
        "book.xlsx: is a zip file but not an Excel workbook (no xl/workbook.xml)",
    ),
    ("truncated", truncated, DAMAGED.format("the end of the zip file is missing")),
    ("corrupted member", corrupted_member, DAMAGED.format(f"{SHEET} is corrupt")),
    ("wrong checksum", wrong_checksum, DAMAGED.format(f"{SHEET} is corrupt")),
    (
        "no [Content_Types].xml",
        no_content_types,
        DAMAGED.format("part [Content_Types].xml is missing"),
    ),
    (
        "invalid XML late in a sheet",
        invalid_xml_late_in_sheet,
        DAMAGED.format(f"{SHEET}: invalid XML at line 304"),
    ),
    (
        "bad stylesheet",
        bad_stylesheet,
        DAMAGED.format("stylesheet: invalid XML at line 1"),
    ),
    (
        "bad shared-string index",
        bad_value_in_sheet,
        DAMAGED.format(
            f"{SHEET}: unexpected content: ValueError: invalid literal for int() with base 10: 'seven'"
        ),
    ),
    ("2 GiB declared", declared_two_gib, f"book.xlsx: unpacks to 2.0 GiB, more than 1 GiB; {BOMB}"),
    (
        "zip encryption",
        zip_flagged_encrypted,
        "book.xlsx: is a password-protected zip file, not an Excel workbook",
    ),
    (
        "workbook named .zip",
        lambda: good_workbook("book.zip"),
        "book.zip: is a workbook but named .zip; rename it to .xlsx",
    ),
]


def read_everything(path: str, **options: Any) -> list[list[tuple[Any, ...]]]:
    """What a caller does: open, then read every row of every sheet inside ``reading``."""
    book = open_workbook(path, **options)
    try:
        with reading(path):
            return [list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets]
    finally:
        book.close()


@pytest.mark.parametrize(("build", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
@pytest.mark.parametrize("verify", [True, False], ids=["verify", "lazy"])
def test_bad_file_is_one_exact_line(build: Callable[[], str], message: str, verify: bool) -> None:
    path = build()
    with pytest.raises(InputError) as info:
        read_everything(path, verify=verify)
    assert info.value.problems == [message]
    assert info.value.exit_code == 2
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__ or info.value.__context__ is None


def test_corrupted_deflate_data_found_while_reading_without_verification() -> None:
    """Without the up-front check, bytes flipped in the worksheet's deflate data are found
    while the rows are read: as bad deflate data, a CRC mismatch, or the garbage they decode to
    (which depends on the zlib build), so only the part is certain."""
    corrupted_member()
    with pytest.raises(InputError) as info:
        read_everything(BOOK, verify=False)
    (problem,) = info.value.problems
    assert re.fullmatch(
        r"book\.xlsx: is damaged or truncated \(xl/worksheets/sheet1\.xml"
        r"( is corrupt|: invalid XML.*|: unexpected content: .*)\); save it again from Excel",
        problem,
    ), problem


def test_members_limit() -> None:
    good_workbook()
    with zipfile.ZipFile(BOOK) as archive:
        count = len(archive.infolist())
    with pytest.raises(InputError) as info:
        open_workbook(BOOK, max_members=count - 1)
    assert info.value.problems == [
        f"book.xlsx: holds {count} zip members, more than {count - 1}; {BOMB}"
    ]


def test_unpacked_limit() -> None:
    workbook = b"<workbook/>"
    zip_of({"xl/workbook.xml": workbook, "pad.bin": bytes(2 * 1024 * 1024 - len(workbook))})()
    with pytest.raises(InputError) as info:
        open_workbook(BOOK, max_unpacked=1024 * 1024)
    assert info.value.problems == [f"book.xlsx: unpacks to 2 MiB, more than 1 MiB; {BOMB}"]


def test_compression_ratio_limit() -> None:
    good_workbook("whole.xlsx")
    rezip("whole.xlsx", BOOK, lambda name, data: data)
    with zipfile.ZipFile(BOOK, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/image1.bin", bytes(8 * 1024 * 1024))
        info = archive.getinfo("xl/media/image1.bin")
    ratio = info.file_size // info.compress_size
    assert ratio > 500
    with pytest.raises(InputError) as info_:
        open_workbook(BOOK)
    assert info_.value.problems == [
        f"book.xlsx: xl/media/image1.bin is compressed {ratio}:1, more than 500:1; {BOMB}"
    ]


def test_size_limit_is_a_parameter() -> None:
    good_workbook()
    with pytest.raises(InputError) as info:
        open_workbook(BOOK, max_bytes=1000)
    assert info.value.problems == ["book.xlsx: is larger than 1000 bytes"]


def test_realistic_test_files() -> None:
    """The hand-built OLE files are real compound files, and msoffcrypto's output is what
    Excel writes for a password: the builders test what they claim to."""
    legacy_xls()
    with olefile.OleFileIO(BOOK) as ole:
        assert ole.listdir() == [["Workbook"]]
        assert ole.openstream("Workbook").read()[:4] == b"\x09\x08\x10\x00"
    encrypted_by_hand()
    with olefile.OleFileIO(BOOK) as ole:
        assert sorted(ole.listdir()) == [["EncryptedPackage"], ["EncryptionInfo"]]
    encrypted_with_msoffcrypto()
    with open(BOOK, "rb") as handle:
        office = msoffcrypto.OfficeFile(handle)
        assert office.is_encrypted()
        office.load_key(password="secret")
        plain = io.BytesIO()
        office.decrypt(plain)
    assert zipfile.ZipFile(plain).read("xl/workbook.xml").startswith(b"<")


# ----------------------------------------------------------------------------- good files


@pytest.mark.parametrize("data_only", [False, True])
def test_good_workbook_rows_read(data_only: bool) -> None:
    good_workbook(rows=3)
    proposals, forms = read_everything(BOOK, data_only=data_only)
    assert proposals[0] == ("id", "partner", "date", "amount", "approved", "double")
    assert proposals[1] == (
        0,
        "partner 0",
        dt.datetime(2024, 1, 1),
        0,
        True,
        None if data_only else "=D2*2",
    )
    assert len(proposals) == 4
    assert forms == [("label",)]


def test_protected_sheet_and_structure_open_fine() -> None:
    """Sheet and workbook-structure protection, with a password, is not encryption."""
    book = openpyxl.Workbook()
    book.active["A1"] = "locked"
    book.active.protection.sheet = True
    book.active.protection.password = "secret"
    book.security = openpyxl.workbook.protection.WorkbookProtection(
        workbookPassword="secret", lockStructure=True
    )
    book.save(BOOK)
    assert read_everything(BOOK) == [[("locked",)]]


def test_macro_workbook_and_upper_case_suffix_open_fine() -> None:
    good_workbook("BOOK.XLSM", rows=1)
    assert len(read_everything("BOOK.XLSM")[0]) == 2


def test_workbook_part_named_elsewhere_opens() -> None:
    """Some writers name the workbook part differently; [Content_Types].xml says where."""
    good_workbook("whole.xlsx", rows=1)
    renamed = {
        "xl/workbook.xml": "xl/book.xml",
        "xl/_rels/workbook.xml.rels": "xl/_rels/book.xml.rels",
    }
    with zipfile.ZipFile("whole.xlsx") as old, zipfile.ZipFile(BOOK, "w") as new:
        for info in old.infolist():
            data = old.read(info).replace(b"xl/workbook.xml", b"xl/book.xml")
            new.writestr(renamed.get(info.filename, info.filename), data)
    assert len(read_everything(BOOK)[0]) == 2


# ----------------------------------------------------------------------------- reading()


def test_reading_lets_the_callers_errors_through() -> None:
    empty: dict[str, int] = {}
    none: list[int] = []
    with pytest.raises(KeyError), reading(BOOK):
        empty["missing"]
    with pytest.raises(ValueError, match="invalid literal"), reading(BOOK):
        int("seven")
    with pytest.raises(IndexError), reading(BOOK):
        none[0]
    with pytest.raises(InputError) as info, reading(BOOK):
        raise InputError("book.xlsx, Proposals: more than 10 rows; split the workbook")
    assert info.value.problems == ["book.xlsx, Proposals: more than 10 rows; split the workbook"]


def test_reading_lets_programming_errors_in_openpyxl_calls_through() -> None:
    """A bad argument to openpyxl is the caller's bug, not damage: it is raised outside the
    worksheet parser."""
    good_workbook(rows=1)
    book = open_workbook(BOOK)
    try:
        with pytest.raises(KeyError), reading(BOOK):
            book["No such sheet"]
    finally:
        book.close()


def test_reading_converts_damage_raised_anywhere() -> None:
    with pytest.raises(InputError) as info, reading(Path(BOOK)):
        raise zipfile.BadZipFile("Bad magic number for file header")
    assert info.value.problems == [DAMAGED.format("Bad magic number for file header")]


# ----------------------------------------------------------------------------- is_workbook_path


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("book.xlsx", True),
        ("BOOK.XLSX", True),
        ("dir/book.xlsm", True),
        ("book.Xls", True),
        ("template.xltx", True),
        (Path("book.xlsx"), True),
        ("book.xlsb", False),
        ("book.json", False),
        ("xlsx", False),
        ("book.xlsx.bak", False),
        ("-", False),
    ],
)
def test_is_workbook_path(path: str | Path, expected: bool) -> None:
    assert is_workbook_path(path) is expected


# ----------------------------------------------------------------------------- through the CLI

THROUGH_THE_CLI = {
    "empty",
    "json",
    "pdf",
    "legacy xls",
    "encrypted (msoffcrypto)",
    "docx",
    "truncated",
    "corrupted member",
    "invalid XML late in a sheet",
}


@pytest.mark.parametrize(
    ("build", "message"),
    [c[1:] for c in CASES if c[0] in THROUGH_THE_CLI],
    ids=[c[0] for c in CASES if c[0] in THROUGH_THE_CLI],
)
def test_bad_workbook_through_the_cli_is_one_line_and_exit_2(
    build: Callable[[], str], message: str, tmp_path: Path
) -> None:
    path = build()
    for command in ("review", "validate"):
        result = run_cli(command, path, cwd=tmp_path)
        assert result == Run(2, "", f"error: {message}\n")


def test_every_cli_case_is_a_known_case() -> None:
    assert {c[0] for c in CASES} >= THROUGH_THE_CLI


# ----------------------------------------------------------------------------- text escapes


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("Y_x0065_s", "Yes"),
        ("_x005F_x0041_", "_x0041_"),  # an escaped underscore: the rest is text
        ("_xD83D__xDE00_", "\U0001f600"),  # two escaped halves are one character
        ("_xD83D_", "\ud83d"),  # a lone half stays one, for the text rule to refuse
        ("_x00e9_ and _x_", "\u00e9 and _x_"),
        ("plain", "plain"),
    ],
)
def test_text_escapes_read_as_excel_shows_them(written: str, shown: str) -> None:
    assert decode_xstring(written) == shown
