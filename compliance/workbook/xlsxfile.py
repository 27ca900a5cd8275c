"""Opening Excel workbooks safely: every way a file can fail becomes one :class:`InputError`.

:func:`open_workbook` sniffs the file before openpyxl sees it, so that a legacy ``.xls``, a
password-protected workbook, a PDF or a ``.docx`` renamed ``.xlsx``, a truncated download or a
zip bomb each get a one-line message that names the file and says what to do, never a traceback.
Before openpyxl runs, the zip's central directory is checked against size limits, and (unless
``verify=False``) every member is decompressed once and its CRC-32 checked. That costs about
80 ms for a 5.6 MB workbook holding 33 MB of XML, under 1% of the 9.4 s openpyxl then takes to
read its rows, and names the damaged part before any row has been read.

openpyxl reads worksheets lazily in read-only mode, so damage found while rows are read (a file
changed after it was opened, or XML that is well-formed zip content but nonsense) surfaces
during iteration: wrap the loop in :func:`reading` to get the same one-line message.
"""

from __future__ import annotations

import codecs
import errno
import importlib
import os
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, BinaryIO
from xml.etree.ElementTree import ParseError

from compliance.errors import InputError
from compliance.workbook.xlsxwhere import member_of as _member_of
from compliance.workbook.xlsxwhere import step_of as _step_of

if TYPE_CHECKING:
    import openpyxl

#: The suffixes openpyxl accepts (it refuses any other name before reading a byte).
_OPENPYXL_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xltx", ".xltm"})

MAX_BYTES = 256 * 1024 * 1024
MAX_UNPACKED = 1024 * 1024 * 1024
#: Deflate cannot do better than about 1030:1, which a run of one byte reaches. Worksheets stay
#: near 15:1 because every cell carries its own reference (measured with openpyxl: 200,000
#: identical rows 15:1, a million styled empty cells 15:1, a million identical formulas 18:1);
#: the most repetitive legitimate part, a pivot cache whose records are all identical, reaches
#: about 340:1. The total unpacked size is the real bound; this one refuses a file of a few
#: megabytes that would unpack to most of that gigabyte.
MAX_RATIO = 500
#: The compression ratio is only judged on members larger than this: small parts (styles, rels,
#: an empty sheet) can legitimately compress far better than whole worksheets.
RATIO_FLOOR = 1024 * 1024
#: A workbook holds a few parts per sheet; 100,000 members is far past any real one. Checked from
#: the end-of-central-directory record, before :mod:`zipfile` builds one object per member.
MAX_MEMBERS = 100_000

_OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_SNIFF_BYTES = 4096
_CHUNK = 1024 * 1024  # a multiple of 128, so that no OLE directory entry straddles two chunks

_WORKBOOK_PART = "xl/workbook.xml"
_CONTENT_TYPES = "[Content_Types].xml"
_WORKBOOK_CONTENT_TYPES = (
    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    b"application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    b"application/vnd.ms-excel.template.macroEnabled.main+xml",
)

LEGACY_XLS = (
    "is a legacy Excel 97-2003 (.xls) workbook; "
    "open it in Excel or LibreOffice and save it as .xlsx"
)
PASSWORD = (
    "is protected with a password; "
    "remove the password (File > Info > Protect Workbook) and try again"
)
NOT_A_WORKBOOK = "is not an Excel workbook (.xlsx)"
ZIP_NOT_A_WORKBOOK = "is a zip file but not an Excel workbook (no xl/workbook.xml)"
ZIP_BOMB = "refused as a possible zip bomb"


def open_workbook(
    path: Path | str,
    *,
    data_only: bool = False,
    max_bytes: int = MAX_BYTES,
    max_unpacked: int = MAX_UNPACKED,
    max_ratio: int = MAX_RATIO,
    max_members: int = MAX_MEMBERS,
    verify: bool = True,
) -> openpyxl.Workbook:
    """Open a workbook read-only with openpyxl; the caller closes it.

    Raises :class:`InputError` (one line, starting with the file name) for a missing, empty,
    oversized, legacy, encrypted, foreign, damaged or suspiciously compressed file. With
    ``verify`` (the default) every zip member is decompressed and checked once beforehand.
    Iterate the rows inside :func:`reading`. (Intake reads workbooks with
    :mod:`compliance.workbook.xlsxpackage` instead, which bounds every part it reads.)
    """
    import openpyxl  # noqa: PLC0415 - not imported by a review that reads no workbook

    name = str(path)
    limits = {"max_unpacked": max_unpacked, "max_ratio": max_ratio, "max_members": max_members}
    check_workbook(name, max_bytes=max_bytes, verify=verify, **limits)
    problem: str | None = None
    try:
        return openpyxl.load_workbook(name, read_only=True, data_only=data_only, keep_links=False)
    except OSError as exc:
        # Raised by openpyxl itself ("File contains no valid workbook part") as well as by I/O.
        problem = _cannot_read(name, exc) if exc.errno else _damaged(name, _reason(exc))
    except _LOAD_ERRORS as exc:
        problem = _damaged(name, _reason(exc))
    # Raised here, outside the handler, so that the failed reader (and the zip file it holds
    # open) is released at once instead of living on in the new exception's ``__context__``.
    raise InputError(problem)


def check_workbook(
    name: str,
    *,
    max_bytes: int = MAX_BYTES,
    max_unpacked: int = MAX_UNPACKED,
    max_ratio: int = MAX_RATIO,
    max_members: int = MAX_MEMBERS,
    verify: bool = True,
) -> None:
    """Every check :func:`open_workbook` makes before a parser reads a part: the file's kind,
    the zip's directory against the size limits, duplicate member names, and (with ``verify``)
    every member's CRC-32. Raises :class:`InputError`."""
    size = _regular_file_size(name, max_bytes)
    with _open(name) as handle:
        head = handle.read(_SNIFF_BYTES)
        if head.startswith(_OLE_MAGIC):
            raise InputError(f"{name}: {_ole_kind(handle)}")
        if Path(name).suffix.lower() == ".xls":
            raise InputError(f"{name}: {LEGACY_XLS}")
        if not head.startswith(_ZIP_MAGICS):
            hint = _looks_like(head)
            raise InputError(f"{name}: {NOT_A_WORKBOOK}" + (f"; {hint}" if hint else ""))
        members = _member_count(handle, size)
    if members is not None and members > max_members:
        raise InputError(
            f"{name}: holds {members} zip members, more than {max_members}; {ZIP_BOMB}"
        )
    _check_zip(name, max_unpacked, max_ratio, max_members, verify)
    suffix = Path(name).suffix.lower()
    if suffix not in _OPENPYXL_SUFFIXES:
        raise InputError(
            f"{name}: is a workbook but named {suffix or 'without a suffix'}; rename it to .xlsx"
        )


@contextmanager
def reading(path: Path | str) -> Iterator[None]:
    """Turn damage found while a workbook's rows are read into the one-line :class:`InputError`.

    Only failures that come from the file are converted (see :func:`_from_the_file`); errors of
    the calling code, and :class:`InputError` itself, pass through unchanged.
    """
    try:
        yield
    except InputError:
        raise
    except (*_DAMAGE_ERRORS, *_CONTENT_ERRORS) as exc:
        if not _from_the_file(exc):
            raise
        raise InputError(_damaged(str(path), _reason(exc))) from None


# ----------------------------------------------------------------------------- exception types

#: What zipfile raises, besides ``BadZipFile``, on a malformed central directory or local
#: header: ``struct.error`` and ``ValueError`` on short or inconsistent records (a negative seek),
#: ``EOFError`` and ``zlib.error`` while a member is read.
_DIRECTORY_ERRORS: tuple[type[BaseException], ...] = (
    struct.error,
    ValueError,
    EOFError,
    zlib.error,
)

#: Always damage, whoever raised them:
#: - ``zipfile.BadZipFile``: a bad CRC-32, a bad local header, a missing end of archive;
#: - ``zlib.error``: deflate data that cannot be decompressed;
#: - ``EOFError``: zipfile ran out of compressed data before the member's declared size.
_DAMAGE_ERRORS: tuple[type[BaseException], ...] = (zipfile.BadZipFile, zlib.error, EOFError)


def _lxml_errors() -> tuple[type[BaseException], ...]:
    # openpyxl parses small parts with lxml when it is installed; lxml's errors do not derive
    # from the standard library's ParseError (they do from SyntaxError, caught only below).
    try:
        etree = importlib.import_module("lxml.etree")
    except ImportError:
        return ()
    error: type[BaseException] = etree.LxmlError
    return (error,)


#: Errors that mean bad file content only when raised while parsing it (see
#: :func:`_from_the_file`), since the calling code raises them too:
#: - ``ParseError`` (and lxml's errors): XML that is not well-formed;
#: - ``ValueError``: a number, date or index in the XML that does not parse (``int("x")``);
#:   also openpyxl's "Unable to read workbook" and defusedxml's refusals, which subclass it;
#: - ``KeyError``: a part named in the workbook's relationships that is not in the zip;
#: - ``IndexError``: a shared-string index past the end of the shared-string table;
#: - ``TypeError``: an attribute of the wrong type (openpyxl's descriptors raise it);
#: - ``OverflowError``: a date serial number outside the calendar.
_CONTENT_ERRORS: tuple[type[BaseException], ...] = (
    ParseError,
    *_lxml_errors(),
    ValueError,
    KeyError,
    IndexError,
    TypeError,
    OverflowError,
)

#: Inside :func:`open_workbook` only openpyxl runs, so every one of these is the file's fault;
#: ``NotImplementedError`` is zipfile's refusal of an unsupported zip feature (checked for
#: beforehand, but the file may change in between).
_LOAD_ERRORS: tuple[type[BaseException], ...] = (
    *_DAMAGE_ERRORS,
    *_CONTENT_ERRORS,
    NotImplementedError,
)

#: Modules whose frames on a traceback show the exception came from parsing the file: the
#: worksheet parser and the XML parsers it drives, and zipfile reading a member.
_PARSING_MODULES = (
    "openpyxl.worksheet._reader",
    "openpyxl.reader.",
    "xml.etree.",
    "xml.parsers.",
    "lxml.",
    "defusedxml.",
)


def _from_the_file(exc: BaseException) -> bool:
    """Whether ``exc`` is damage in the file rather than a bug of the code inside the block.

    The damage types are always the file's. The others (``ValueError``, ``KeyError``...) only if
    the traceback passes through the worksheet parser or an XML parser, so that a ``KeyError``
    in the caller's own loop body is not reported as a damaged workbook.
    """
    if isinstance(exc, _DAMAGE_ERRORS):
        return True
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:
        module = str(tb.tb_frame.f_globals.get("__name__", ""))
        if module.startswith(_PARSING_MODULES):
            return True
        tb = tb.tb_next
    return False


# ----------------------------------------------------------------------------- messages


def _size(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n // scale} {unit}" if n % scale == 0 else f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def _one_line(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def part_key(name: str) -> str:
    """How OPC compares part names: ``\\`` as ``/``, no leading ``/``, ASCII case ignored."""
    return name.replace("\\", "/").lstrip("/").lower()


def ambiguous(name: str, reason: str) -> str:
    """The message for a file that readers could read in more than one way."""
    return f"{name}: is ambiguous ({reason}); readers may disagree on it, save it again from Excel"


def _damaged(name: str, reason: str) -> str:
    return f"{name}: is damaged or truncated ({reason}); save it again from Excel"


def _cannot_read(name: str, exc: OSError) -> str:
    return f"{name}: cannot be read ({exc.strerror or exc})"


def invalid_xml(member: str | None, exc: BaseException) -> str:
    """``member: invalid XML at line N``: the line, which every parser reports alike."""
    pos = getattr(exc, "position", None)  # ParseError and lxml's; pyexpat's has lineno
    line = pos[0] if isinstance(pos, tuple) and pos else getattr(exc, "lineno", None)
    where = f"{member}: " if member else ""
    return f"{where}invalid XML at line {line}" if line is not None else f"{where}invalid XML"


def _reason(exc: BaseException, member: str | None = None) -> str:
    """A short, one-line reason for the damage ``exc`` shows."""
    step = _step_of(exc)
    if isinstance(exc, ValueError) and exc.__cause__ is not None and "Unable to read" in str(exc):
        exc = exc.__cause__  # openpyxl's wrapper, three generic lines around the real error
    member = member or _member_of(exc) or step
    if isinstance(exc, _DAMAGE_ERRORS):
        text = str(exc)
        if member:
            return f"{member} is corrupt"
        if isinstance(exc, zipfile.BadZipFile) and "Bad CRC-32 for file" in text:
            return f"{text.split('file ', 1)[1]} is corrupt"
        return _one_line(text) if text else "the data ends early"
    if isinstance(exc, KeyError) and "There is no item named" in str(exc):
        part = str(exc).split("named ", 1)[1].split(" in the archive", 1)[0]
        return f"part {part.strip(chr(34) + chr(39))} is missing"
    if isinstance(exc, SyntaxError):  # ParseError, lxml's XMLSyntaxError
        return invalid_xml(member, exc)
    if isinstance(exc, OSError) and not exc.errno:
        return _one_line(str(exc))
    where = f"{member}: " if member else ""
    return _one_line(f"{where}unexpected content: {type(exc).__name__}: {exc}")


# ----------------------------------------------------------------------------- file checks


def _regular_file_size(name: str, max_bytes: int) -> int:
    try:
        info = os.stat(name)
    except FileNotFoundError:
        raise InputError(f"{name}: no such file") from None
    except NotADirectoryError:
        raise InputError(f"{name}: no such file (a part of the path is not a folder)") from None
    except OSError as exc:
        raise InputError(_cannot_read(name, exc)) from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"{name}: is a directory, not a workbook file")
    if not stat.S_ISREG(info.st_mode):  # a pipe or a device: opening it could block forever
        raise InputError(f"{name}: is not a regular file")
    if info.st_size == 0:
        raise InputError(f"{name}: is empty")
    if info.st_size > max_bytes:
        raise InputError(f"{name}: is larger than {_size(max_bytes)}")
    return info.st_size


@contextmanager
def _open(name: str) -> Iterator[BinaryIO]:
    try:
        handle = open(name, "rb")  # noqa: SIM115 - closed below, after the sniffing
    except OSError as exc:
        raise InputError(_cannot_read(name, exc)) from None
    try:
        yield handle
    except OSError as exc:
        raise InputError(_cannot_read(name, exc)) from None
    finally:
        handle.close()


def _ole_has_stream(handle: BinaryIO, names: tuple[str, ...]) -> str | None:
    """The first of ``names`` that is an entry of the OLE2 compound file's directory.

    Directory entries are 128 bytes, start at file offsets that are multiples of 128 (sectors
    are 512 or 4096 bytes and follow a header of one sector), begin with the name in UTF-16LE
    and hold its length in bytes, with the terminating NUL, at offset 64. Scanning every such
    slot for the name and its length avoids parsing the sector chains, and does not mistake the
    same text inside a stream (the DataSpaceMap stream names "EncryptedPackage" too) for an entry.
    """
    needles = [(n, n.encode("utf-16-le"), struct.pack("<H", 2 * len(n) + 2)) for n in names]
    handle.seek(0)
    start = 0
    while chunk := handle.read(_CHUNK):
        for name, needle, length in needles:
            at = chunk.find(needle)
            while at >= 0:
                if (start + at) % 128 == 0 and chunk[at + 64 : at + 66] == length:
                    return name
                at = chunk.find(needle, at + 1)
        start += len(chunk)
    return None


def _ole_kind(handle: BinaryIO) -> str:
    found = _ole_has_stream(handle, ("EncryptedPackage", "WordDocument", "PowerPoint Document"))
    if found == "EncryptedPackage":
        return PASSWORD
    if found == "WordDocument":
        return f"{NOT_A_WORKBOOK}; it looks like a Word 97-2003 document (.doc)"
    if found == "PowerPoint Document":
        return f"{NOT_A_WORKBOOK}; it looks like a PowerPoint 97-2003 presentation (.ppt)"
    return LEGACY_XLS


def _looks_like(head: bytes) -> str | None:
    """What a file that is not a zip seems to be, from its first bytes, if that is cheap."""
    if head.startswith(b"%PDF"):
        return "it looks like a PDF"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = head[2:].decode("utf-16-le" if head[:2] == b"\xff\xfe" else "utf-16-be", "ignore")
    else:
        decoder = codecs.getincrementaldecoder("utf-8-sig")()
        try:
            text = decoder.decode(head, final=False)
        except UnicodeDecodeError:
            return None
        if "\x00" in text:
            return None
    stripped = text.lstrip()
    lowered = stripped[:_SNIFF_BYTES].lower()
    if stripped.startswith(("{", "[")):
        return "it looks like JSON"
    if "urn:schemas-microsoft-com:office:spreadsheet" in lowered or "excel.sheet" in lowered:
        return "it looks like an Excel 2003 XML spreadsheet; open it in Excel and save it as .xlsx"
    if lowered.startswith(("<!doctype html", "<html")) or "<html" in lowered[:512]:
        return "it looks like a web page (HTML)"
    if stripped.startswith("<"):
        return "it looks like XML"
    return "it looks like a text file"


def _member_count(handle: BinaryIO, size: int) -> int | None:
    """The number of members the zip's end-of-central-directory record announces, ZIP64
    included, or None when there is no such record (zipfile then reports the damage)."""
    tail_size = min(size, 22 + 65535)
    handle.seek(size - tail_size)
    tail = handle.read(tail_size)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return None
    (count,) = struct.unpack_from("<H", tail, at + 10)
    if count != 0xFFFF:
        return int(count)
    locator = at - 20
    if locator < 0 or tail[locator : locator + 4] != b"PK\x06\x07":
        return None
    (offset,) = struct.unpack_from("<Q", tail, locator + 8)
    if offset + 56 > size:
        return None
    handle.seek(offset)
    record = handle.read(56)
    if record[:4] != b"PK\x06\x06":
        return None
    (count64,) = struct.unpack_from("<Q", record, 32)
    return int(count64)


def _zip_hint(names: set[str]) -> str:
    if "word/document.xml" in names:
        return "; it looks like a Word document (.docx)"
    if "ppt/presentation.xml" in names:
        return "; it looks like a PowerPoint presentation (.pptx)"
    if "xl/workbook.bin" in names:
        return "; it looks like an Excel binary workbook (.xlsb); save it as .xlsx"
    if "content.xml" in names and "mimetype" in names:
        return "; it looks like an OpenDocument file (.ods); save it as .xlsx"
    return ""


def _check_zip(
    name: str, max_unpacked: int, max_ratio: int, max_members: int, verify: bool
) -> None:
    problem: str | None = None
    try:
        with zipfile.ZipFile(name) as archive:
            problem = _zip_problem(name, archive, max_unpacked, max_ratio, max_members, verify)
    except NotImplementedError as exc:
        # zipfile's refusal of what Excel never writes: a newer zip version (or a damaged
        # version field), patched data, strong encryption, another compression method.
        problem = _damaged(name, _one_line(f"unsupported zip feature: {exc}"))
    except OSError as exc:
        # EINVAL: zipfile seeking to a negative offset read from a damaged directory.
        bad_offset = exc.errno == errno.EINVAL
        problem = _damaged(name, "bad zip directory") if bad_offset else _cannot_read(name, exc)
    except zipfile.BadZipFile as exc:
        text = str(exc)
        if text == "File is not a zip file":  # no end-of-central-directory record
            text = "the end of the zip file is missing"
        problem = _damaged(name, _one_line(text))
    except _DIRECTORY_ERRORS as exc:
        problem = _damaged(name, _one_line(f"bad zip directory: {exc}"))
    if problem is not None:
        raise InputError(problem)


def _zip_problem(
    name: str,
    archive: zipfile.ZipFile,
    max_unpacked: int,
    max_ratio: int,
    max_members: int,
    verify: bool,
) -> str | None:
    infos = archive.infolist()
    if len(infos) > max_members:
        return f"{name}: holds {len(infos)} zip members, more than {max_members}; {ZIP_BOMB}"
    for info in infos:
        if info.flag_bits & 0x1:
            return f"{name}: is a password-protected zip file, not an Excel workbook"
        if info.flag_bits & 0x60:  # patched data, strong encryption: zipfile cannot read them
            return _damaged(name, f"{info.filename} uses zip flags 0x{info.flag_bits:04x}")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            # Excel only stores or deflates; zipfile cannot read some other methods at all.
            return _damaged(
                name, f"{info.filename} uses zip compression method {info.compress_type}"
            )
    names = {info.filename for info in infos}
    seen: dict[str, str] = {}
    for info in infos:
        key = part_key(info.filename)
        if key in seen:
            return ambiguous(name, f"two zip members named {_one_line(seen[key], 80)}")
        seen[key] = info.filename
    if _WORKBOOK_PART not in names and not _declares_workbook(archive):
        return f"{name}: {ZIP_NOT_A_WORKBOOK}{_zip_hint(names)}"
    # The sizes below are the central directory's; zipfile never returns more bytes than a
    # member declares and checks the CRC-32 at its end, so a lying size fails as corruption.
    total = sum(info.file_size for info in infos)
    if total > max_unpacked:
        return f"{name}: unpacks to {_size(total)}, more than {_size(max_unpacked)}; {ZIP_BOMB}"
    for info in infos:
        if info.file_size > RATIO_FLOOR and info.file_size > max_ratio * info.compress_size:
            ratio = info.file_size // max(info.compress_size, 1)
            return (
                f"{name}: {info.filename} is compressed {ratio}:1, more than {max_ratio}:1;"
                f" {ZIP_BOMB}"
            )
    return corrupt_member(name, archive) if verify else None


def corrupt_member(name: str, archive: zipfile.ZipFile) -> str | None:
    """The message for the first damaged member: each is decompressed once, its CRC-32 checked
    (0.15 s of CPU per 100 MB), and a document type declaration (UTF-8 or UTF-16) refused even
    in a part never parsed here: a reader expanding its entities can build gigabytes."""
    for info in archive.infolist():
        try:
            with archive.open(info) as member:
                tail = b""
                while chunk := member.read(_CHUNK):
                    window = tail + chunk
                    if any(needle in window for needle in _DOCTYPES):
                        return _damaged(name, f"{info.filename} holds a document type declaration")
                    tail = window[-17:]  # a needle split between two chunks is found
        except _DAMAGE_ERRORS:
            return _damaged(name, f"{info.filename} is corrupt")
    return None


_DOCTYPES = tuple("<!DOCTYPE".encode(codec) for codec in ("utf-8", "utf-16-le", "utf-16-be"))


def _declares_workbook(archive: zipfile.ZipFile) -> bool:
    """Whether [Content_Types].xml names a workbook part elsewhere than xl/workbook.xml (some
    writers do; openpyxl finds it there)."""
    try:
        info = archive.getinfo(_CONTENT_TYPES)
    except KeyError:
        return False
    if info.file_size > 1024 * 1024:
        return False
    try:
        text = archive.read(info)
    except _DAMAGE_ERRORS:
        return False
    return any(content_type in text for content_type in _WORKBOOK_CONTENT_TYPES)
