"""A workbook's package read the way Excel reads it, within bounds, refusing what readers could
read in more than one way.

:func:`open_package` runs the file checks of :mod:`compliance.workbook.xlsxfile` (kind, zip limits,
duplicate member names, CRC-32), then reads the small parts every reader reads first: the content
types, the package's and the workbook's relationships, the workbook part (sheet names, the date
epoch) and the stylesheet (which cell styles show dates). Each of those parts is checked against a
size limit from the zip directory before a byte of it is parsed, and parsed as a stream, keeping
only what intake needs. The sheets themselves are read by :mod:`compliance.workbook.sheetstream`,
the shared strings by :meth:`Package.load` once the reader knows which sheets it reads, so that
their total size is checked first.

Refused as ambiguous (another reader could take another part): two zip members with one name
(checked in :mod:`compliance.workbook.xlsxfile`), two content types for one part, two relationships
with one id, two main workbook parts, two string tables or stylesheets, a sheet whose part is
outside the package or is also another sheet's part, two sheets with one name. Refused as damaged: a
document type declaration (Excel never writes one; a parser that expands its entities would read
text Excel does not show), a missing part, XML that is not well-formed.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import cast
from xml.etree.ElementTree import Element, ParseError, XMLPullParser

from compliance.errors import InputError
from compliance.workbook.cellformat import (
    WHITE,
    Hiding,
    hiding,
    rgb,
    unseen_colour,
    white_in_format,
)
from compliance.workbook.excelvalues import (
    BUILTIN_FORMATS,
    CALENDAR_MAC_1904,
    CALENDAR_WINDOWS_1900,
    is_date_format,
    is_timedelta_format,
)
from compliance.workbook.xlsxfile import (
    _DAMAGE_ERRORS,
    _damaged,
    _one_line,
    _size,
    ambiguous,
    check_workbook,
    corrupt_member,
    invalid_xml,
    part_key,
)

MAX_READ_BYTES = 32 * 1024 * 1024
"""The sheets intake reads and the shared-string table, unpacked, together. A register of 1,000
proposals written by the template holds 12.4 MB of them; the text they hold is what intake keeps."""
MAX_STYLES_BYTES = 8 * 1024 * 1024
"""The stylesheet (read as a stream, only the cell styles' number formats kept): Excel's own cap
of 64,000 cell styles is about 6 MB of XML."""
MAX_WORKBOOK_BYTES = 4 * 1024 * 1024
"""The workbook part (sheet names, defined names...): the template's is 3 KB."""
MAX_SMALL_PART = 1024 * 1024
"""The content types and relationship parts: a few hundred bytes per sheet."""
MAX_SHEETS = 1000
"""Sheets in one workbook: the template has 20."""

_FEED = 64 * 1024
_CONTENT_TYPES = "[Content_Types].xml"
_XSTRING = re.compile(r"_x([0-9A-Fa-f]{4})_")


@dataclass(frozen=True)
class SheetEntry:
    title: str
    part: zipfile.ZipInfo
    kind: str
    """The relationship's kind: ``worksheet``, ``chartsheet``, ``dialogsheet``..."""
    hidden: bool = False
    """Whether the workbook hides the sheet (``hidden`` or ``veryHidden``)."""


@dataclass(frozen=True)
class Styles:
    count: int
    """Cell styles (``cellXfs``) the stylesheet defines; a cell's ``s`` must be below it."""
    dates: frozenset[int] = frozenset()
    durations: frozenset[int] = frozenset()
    colours: dict[int, str] = field(default_factory=dict)
    """Why a value in the style cannot be seen, by style (font colour on fill)."""
    text_formats: dict[int, str] = field(default_factory=dict)
    """The number format of each style that hides or replaces text."""
    number_formats: dict[int, tuple[str, int]] = field(default_factory=dict)
    """The number format of each style that hides numbers, and the signs it hides."""
    fills: dict[int, tuple[bool, str | None]] = field(default_factory=dict)
    """Each style's fill: whether it has one, and its RGB (for the colours of rich-text runs)."""


@dataclass
class Package:
    path: str
    archive: zipfile.ZipFile
    members: dict[str, zipfile.ZipInfo]
    sheets: list[SheetEntry] = field(default_factory=list)
    epoch: dt.datetime = CALENDAR_WINDOWS_1900
    styles: Styles = Styles(0)
    strings_part: zipfile.ZipInfo | None = None
    strings: list[str] = field(default_factory=list)
    string_colours: dict[int, list[str]] = field(default_factory=dict)
    """The RGB font colours of each shared string's rich-text runs."""
    bad_strings: set[int] = field(default_factory=set)
    """Shared strings holding more than one text where the schema allows one: readers differ on
    which they show (openpyxl the last, intake would join them)."""

    def close(self) -> None:
        self.archive.close()

    def load(self, sheets: list[SheetEntry]) -> None:
        """Check that ``sheets`` and the string table fit :data:`MAX_READ_BYTES`, then read the
        string table."""
        parts = [entry.part for entry in sheets]
        if self.strings_part is not None:
            parts.append(self.strings_part)
        total = sum(part.file_size for part in parts)
        if total > MAX_READ_BYTES:
            raise InputError(
                f"{self.path}: the sheets intake reads and their strings unpack to "
                f"{_size(total)}, more than {_size(MAX_READ_BYTES)}; split the workbook"
            )
        try:  # every member's CRC-32, once the parts to read are known to fit
            problem = corrupt_member(self.path, self.archive)
        except (OSError, NotImplementedError, ValueError) as exc:
            problem = _damaged(self.path, _one_line(str(exc)))
        if problem is not None:
            raise InputError(problem)
        if self.strings_part is not None:
            self.strings, self.bad_strings = _read_strings(
                self, self.strings_part, self.string_colours
            )


def decode_xstring(text: str) -> str:
    """Text as Excel shows it: ``_xHHHH_`` is the character U+HHHH (``_x005F_`` an underscore)."""
    if "_x" not in text:
        return text
    decoded = _XSTRING.sub(lambda m: chr(int(m.group(1), 16)), text)
    if decoded != text and any("\ud800" <= c <= "\udfff" for c in decoded):
        # Pairs of escaped surrogates are one character; a lone one stays a lone surrogate, which
        # the text rule refuses as it refuses JSON's "\ud800" (never silently a U+FFFD).
        return decoded.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    return decoded


def local(tag: str) -> str:
    return tag[tag.rfind("}") + 1 :]


MAIN = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",
)
"""SpreadsheetML's namespace, transitional and strict."""
RELATIONSHIPS = ("http://schemas.openxmlformats.org/package/2006/relationships",)
CONTENT_TYPES = ("http://schemas.openxmlformats.org/package/2006/content-types",)
_REL_IDS = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "http://purl.oclc.org/ooxml/officeDocument/relationships",
)
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"


_TRUE, _FALSE = frozenset({"1", "true"}), frozenset({"0", "false"})


def xsd_boolean(text: str | None, what: str) -> bool:
    """An attribute read as XML Schema reads a boolean: ``1``/``true`` or ``0``/``false``, its
    whitespace collapsed (``" 1"`` is true); raises ValueError naming ``what`` otherwise."""
    if text is None:
        return False
    value = text.strip(" \t\r\n")
    if value in _TRUE or value in _FALSE:
        return value in _TRUE
    raise ValueError(f"{what} {_one_line(repr(text), 20)}, which is not a boolean")


def _space(tag: str) -> str:
    return tag[1 : tag.rfind("}")] if tag.startswith("{") else ""


def foreign(path: str, space: str, part: str) -> InputError:
    """An element of another namespace where intake reads SpreadsheetML."""
    return InputError(
        ambiguous(
            path,
            f"an element of another namespace, {_one_line(space or 'none', 60)}, in {part}",
        )
    )


def walk(
    package: Package,
    info: zipfile.ZipInfo,
    spaces: tuple[str, ...] = MAIN,
    read: frozenset[str] = frozenset(),
) -> Iterator[tuple[bool, str, Element]]:
    """``(started, local name, element)`` for each element of the part in ``spaces``, as a
    stream: after each end, the parent is cleared, so memory stays that of one path from the root.
    Attributes are read at the start, text at the end.

    An ``extLst`` is skipped whole, as is an element of another namespace, unless it is inside
    one of the elements ``read`` (``""`` for the root): there, as anywhere for alternate content
    holding an element of ``spaces``, readers could differ, and the part is refused."""
    name = package.path
    parser: XMLPullParser[Element] = XMLPullParser(events=("start", "end"))
    stack: list[Element] = []
    reading = 0  # open elements of ``read``
    skip = 0  # depth of the element being skipped, 0 when none
    alternate = False  # the skipped element is alternate content
    tail = b""
    try:
        with package.archive.open(info) as stream:
            while True:
                chunk = stream.read(_FEED)
                if not stack and b"<!DOCTYPE" in tail + chunk:
                    raise InputError(
                        _damaged(name, f"{info.filename} holds a document type declaration")
                    )
                tail = chunk[-9:]
                if chunk:
                    parser.feed(chunk)
                else:
                    parser.close()
                for item in parser.read_events():
                    event, element = cast(tuple[str, Element], item)
                    space, tag = _space(element.tag), local(element.tag)
                    if event == "start":
                        stack.append(element)
                        if skip:
                            if alternate and space in spaces:
                                raise InputError(
                                    ambiguous(
                                        name,
                                        f"alternate content (mc:AlternateContent) in "
                                        f"{info.filename}",
                                    )
                                )
                            continue
                        if space not in spaces or tag == "extLst":
                            if reading or "" in read:
                                if space == MC:
                                    raise InputError(
                                        ambiguous(
                                            name, f"alternate content (mc:{tag}) in {info.filename}"
                                        )
                                    )
                                if tag != "extLst" or space not in spaces:
                                    raise foreign(name, space, info.filename)
                            skip, alternate = len(stack), space == MC
                            continue
                        reading += tag in read
                        yield True, tag, element
                    else:
                        depth = len(stack)
                        stack.pop()
                        if skip:
                            if depth == skip:
                                skip = 0
                        else:
                            reading -= tag in read
                            yield False, tag, element
                        if stack:
                            stack[-1].clear()
                if not chunk:
                    return
    except ParseError as exc:
        raise InputError(_damaged(name, invalid_xml(info.filename, exc))) from None
    except _DAMAGE_ERRORS:
        raise InputError(_damaged(name, f"{info.filename} is corrupt")) from None


def _rel_id(element: Element) -> str | None:
    """A sheet's ``r:id``, in the relationships namespace (transitional or strict)."""
    for space in _REL_IDS:
        value = element.get(f"{{{space}}}id")
        if value is not None:
            return value
    return None


def _part(package: Package, name: str, limit: int, what: str) -> zipfile.ZipInfo | None:
    info = package.members.get(part_key(name))
    if info is not None and info.file_size > limit:
        raise InputError(
            f"{package.path}: {what} ({info.filename}) unpacks to {_size(info.file_size)}, "
            f"more than {_size(limit)}"
        )
    return info


def _required(package: Package, name: str, limit: int, what: str) -> zipfile.ZipInfo:
    info = _part(package, name, limit, what)
    if info is None:
        raise InputError(_damaged(package.path, f"part {name} is missing"))
    return info


def _rels_name(source: str) -> str:
    folder, base = posixpath.split(source)
    return posixpath.join(folder, "_rels", f"{base}.rels")


@dataclass(frozen=True)
class _Rel:
    kind: str
    target: str
    external: bool


def _relationships(package: Package, source: str) -> dict[str, _Rel]:
    info = _part(package, _rels_name(source), MAX_SMALL_PART, "a relationship part")
    rels: dict[str, _Rel] = {}
    if info is None:
        return rels
    for started, name, element in walk(package, info, RELATIONSHIPS, frozenset({""})):
        if not started or name != "Relationship":
            continue
        ident = element.get("Id", "")
        if ident in rels:
            raise InputError(
                ambiguous(
                    package.path, f"two relationships {_one_line(ident, 40)} in {info.filename}"
                )
            )
        kind = element.get("Type", "")
        rels[ident] = _Rel(
            kind[kind.rfind("/") + 1 :],
            element.get("Target", ""),
            element.get("TargetMode", "") == "External",
        )
    return rels


def _resolve(package: Package, source: str, rel: _Rel, what: str) -> zipfile.ZipInfo:
    """The member a relationship of ``source`` points at."""
    target = rel.target.replace("\\", "/")
    if target.startswith("/"):
        resolved = posixpath.normpath(target.lstrip("/"))
    else:
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(source), target))
    if rel.external or resolved.startswith("../") or resolved == ".." or "://" in target:
        raise InputError(
            ambiguous(package.path, f"{what} is outside the workbook: {_one_line(rel.target, 60)}")
        )
    info = package.members.get(part_key(resolved))
    if info is None:
        raise InputError(_damaged(package.path, f"part {resolved} is missing"))
    member = info.filename.replace("\\", "/").lstrip("/")
    if member != resolved:  # Office compares names ignoring case, other readers do not
        raise InputError(
            ambiguous(
                package.path,
                f"{what} is {_one_line(resolved, 60)}, but the part is named "
                f"{_one_line(member, 60)}",
            )
        )
    return info


def _content_types(package: Package) -> dict[str, str]:
    info = _required(package, _CONTENT_TYPES, MAX_SMALL_PART, "the content types")
    overrides: dict[str, str] = {}
    for started, name, element in walk(package, info, CONTENT_TYPES, frozenset({""})):
        if not started or name != "Override":
            continue
        key = part_key(element.get("PartName", ""))
        kind = element.get("ContentType", "")
        if overrides.setdefault(key, kind) != kind:
            raise InputError(ambiguous(package.path, f"two content types for {_one_line(key, 60)}"))
    return overrides


def _main_part(package: Package, overrides: dict[str, str]) -> str:
    rels = [r for r in _relationships(package, "").values() if r.kind == "officeDocument"]
    if len({part_key(r.target) for r in rels}) > 1:
        raise InputError(ambiguous(package.path, "two main workbook parts"))
    if rels:
        return _resolve(package, "", rels[0], "the workbook part").filename
    declared = [key for key, kind in overrides.items() if kind.endswith(".main+xml")]
    return declared[0] if len(declared) == 1 else "xl/workbook.xml"


def _workbook(package: Package, part: str) -> list[tuple[str, str, bool]]:
    """``(title, relationship id, hidden)`` of each sheet, in order; sets the epoch."""
    info = _required(package, part, MAX_WORKBOOK_BYTES, "the workbook part")
    sheets: list[tuple[str, str, bool]] = []
    titles: dict[str, str] = {}
    seen_properties = False  # the workbook's properties (the date epoch) are given once
    for started, name, element in walk(package, info, read=frozenset({"sheets", "workbookPr"})):
        if not started:
            continue
        if name == "workbookPr":
            if seen_properties:
                raise InputError(ambiguous(package.path, f"two workbookPr in {info.filename}"))
            seen_properties = True
            try:
                date1904 = xsd_boolean(element.get("date1904"), "date1904")
            except ValueError as exc:
                raise InputError(_damaged(package.path, f"{info.filename}: {exc}")) from None
            if date1904:
                package.epoch = CALENDAR_MAC_1904
        elif name == "sheet":
            title = element.get("name", "")
            if title.lower() in titles:
                raise InputError(
                    ambiguous(package.path, f"two sheets named {_one_line(title, 40)!r}")
                )
            titles[title.lower()] = title
            hidden = element.get("state", "visible") != "visible"
            sheets.append((title, _rel_id(element) or "", hidden))
            if len(sheets) > MAX_SHEETS:
                raise InputError(f"{package.path}: has more than {MAX_SHEETS} sheets")
    return sheets


def _styles(package: Package, info: zipfile.ZipInfo) -> Styles:
    formats: dict[int, str] = {}
    xfs: list[tuple[int, int, int]] = []
    fonts: list[str | None] = []
    fills: list[tuple[bool, str | None]] = []
    group = ""  # the list being read: fonts, fills, cellXfs
    groups = frozenset({"numFmts", "fonts", "fills", "cellXfs", "dxfs", "cellStyleXfs"})
    for started, name, element in walk(package, info, read=groups):
        if name in groups:
            group = name if started else ""
        elif not started:
            continue
        elif name == "numFmt" and group == "numFmts":
            formats[_int(package, info, element.get("numFmtId"))] = element.get("formatCode", "")
        elif name == "xf" and group == "cellXfs":
            xfs.append(
                (
                    _int(package, info, element.get("numFmtId", "0")),
                    _int(package, info, element.get("fontId", "0")),
                    _int(package, info, element.get("fillId", "0")),
                )
            )
        elif group == "fonts" and name == "font":
            fonts.append(None)
        elif group == "fonts" and name == "color" and fonts:
            fonts[-1] = rgb(dict(element.attrib))
        elif group == "fills" and name == "fill":
            fills.append((False, None))
        elif group == "fills" and name == "patternFill":
            kind = element.get("patternType", "none")
            fills[-1:] = [(kind != "none", None)] if fills else []
        elif group == "fills" and name == "fgColor" and fills:
            fills[-1] = (fills[-1][0], rgb(dict(element.attrib)))
        elif group == "fills" and name == "gradientFill" and fills:
            fills[-1] = (True, None)
    dates: set[int] = set()
    durations: set[int] = set()
    colours: dict[int, str] = {}
    text_formats: dict[int, str] = {}
    number_formats: dict[int, tuple[str, int]] = {}
    style_fills: dict[int, tuple[bool, str | None]] = {}
    for index, (number, font_id, fill_id) in enumerate(xfs):
        code = formats.get(number, BUILTIN_FORMATS.get(number, "General"))
        if is_date_format(code):
            dates.add(index)
        if is_timedelta_format(code):
            durations.add(index)
        filled, fill = fills[fill_id] if 0 <= fill_id < len(fills) else (False, None)
        style_fills[index] = (filled, fill)
        font = fonts[font_id] if 0 <= font_id < len(fonts) else None
        if white_in_format(code):
            font = WHITE
        reason = unseen_colour(font, fill, filled)
        if reason is not None:
            colours[index] = reason
        # Built-in formats hide nothing, but the percent ones show 3 as 300%
        hidden = hiding(code) if number in formats or number in (9, 10) else Hiding(False, 0)
        if hidden.text:
            text_formats[index] = code
        if hidden.signs:
            number_formats[index] = (code, hidden.signs)
    return Styles(
        len(xfs),
        frozenset(dates),
        frozenset(durations),
        colours,
        text_formats,
        number_formats,
        style_fills,
    )


def _int(package: Package, info: zipfile.ZipInfo, text: str | None) -> int:
    try:
        return int(text or "")
    except ValueError:
        reason = f"{info.filename}: {_one_line(repr(text), 40)} is not a number"
        raise InputError(_damaged(package.path, reason)) from None


def _read_strings(
    package: Package, info: zipfile.ZipInfo, colours: dict[int, list[str]]
) -> tuple[list[str], set[int]]:
    """The shared strings, and the indexes of those holding more than one text where the schema
    allows one (two ``t`` in an item or in a run, or a ``t`` after a run); the RGB colours of
    each string's runs go to ``colours``."""
    strings: list[str] = []
    bad: set[int] = set()
    pieces: list[str] = []
    phonetic = 0
    texts = runs = texts_in_run = 0  # the item's own texts and runs, the run's texts
    in_run = False
    for started, name, element in walk(package, info, read=frozenset({""})):
        if name == "rPh":
            phonetic += 1 if started else -1
        elif name == "r" and not phonetic:
            in_run = started
            runs += started
            if started:
                texts_in_run = 0
        elif started:
            if name == "color" and in_run and not phonetic:
                colour = rgb(dict(element.attrib))
                if colour is not None:
                    colours.setdefault(len(strings), []).append(colour)
            if name == "t" and not phonetic:
                if in_run:
                    texts_in_run += 1
                    if texts_in_run > 1:
                        bad.add(len(strings))
                else:
                    texts += 1
                    if texts > 1 or runs:
                        bad.add(len(strings))
            continue
        elif name == "t" and not phonetic:
            pieces.append(element.text or "")
        elif name == "si":
            strings.append(decode_xstring("".join(pieces)))
            pieces.clear()
            texts = runs = 0
    return strings, bad


def open_package(path: str) -> Package:
    """The workbook at ``path`` checked and its small parts read; the caller closes it."""
    check_workbook(path, verify=False)  # the members' CRC-32 are checked in Package.load
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:  # changed since it was checked
        raise InputError(_damaged(path, _one_line(str(exc)))) from None
    package = Package(path, archive, {part_key(i.filename): i for i in archive.infolist()})
    try:
        overrides = _content_types(package)
        main = _main_part(package, overrides)
        sheets = _workbook(package, main)
        rels = _relationships(package, main)
        by_part: dict[str, str] = {}
        for title, ident, hidden in sheets:
            rel = rels.get(ident)
            if rel is None:
                raise InputError(_damaged(path, f"the sheet {_one_line(title, 40)!r} has no part"))
            info = _resolve(package, main, rel, f"the sheet {_one_line(title, 40)!r}")
            other = by_part.setdefault(info.filename, title)
            if other != title:
                raise InputError(
                    ambiguous(path, f"the sheets {other!r} and {title!r} are one part")
                )
            package.sheets.append(SheetEntry(title, info, rel.kind, hidden))
        for kind, what in (("sharedStrings", "string tables"), ("styles", "stylesheets")):
            found = [r for r in rels.values() if r.kind == kind]
            if len(found) > 1:
                raise InputError(ambiguous(path, f"two {what}"))
            if not found:
                continue
            info = _resolve(package, main, found[0], f"the {what[:-1]}")
            if kind == "styles":
                if info.file_size > MAX_STYLES_BYTES:
                    raise InputError(
                        f"{path}: the stylesheet ({info.filename}) unpacks to "
                        f"{_size(info.file_size)}, more than {_size(MAX_STYLES_BYTES)}"
                    )
                package.styles = _styles(package, info)
            else:
                package.strings_part = info
    except BaseException:
        package.close()
        raise
    return package
