"""Reading proposals: JSON files holding one proposal or a list, JSON Lines, standard input, and
workbooks made from the template.

Workbooks are read by :mod:`compliance.workbook.read`; a directory stands for the proposal files
directly inside it. Every proposal comes back with a :class:`SourceMap` so that validation errors
and findings can point at the line, or the sheet and cell, an answer came from. All problems of
all inputs are collected and reported together as one :class:`InputError`, one line each.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from compliance.errors import InputError
from compliance.intake.boundedfile import read_limited
from compliance.intake.jsonbudget import MAX_ITEMS, list_items, over_budget, shape_problem
from compliance.proposal.jsonpos import constant_offset, value_offsets
from compliance.proposal.model import Proposal
from compliance.proposal.sourcemap import JsonText, SourceMap
from compliance.proposal.validation import ValidationProblems, shown_path, validate_proposal
from compliance.workbook.suffixes import is_workbook_path

if TYPE_CHECKING:
    from compliance.workbook.layout import Layout

JSON_LINES_SUFFIXES = frozenset({".jsonl", ".ndjson"})
PROPOSAL_SUFFIXES = frozenset({".json", ".xlsx", ".xlsm"}) | JSON_LINES_SUFFIXES
MAX_INPUT_BYTES = 64 * 1024 * 1024
"""The largest JSON or JSON Lines input (a file or standard input): about 12,000 proposals. A
larger batch is split into several files."""
_BLOCK = 1024 * 1024
MAX_PROBLEMS = 100
"""Problems reported for one input at most: past them, reading stops (a file of a million broken
lines costs no more than its first hundred)."""
MAX_PROPOSALS = 20_000
"""Proposals in one input at most."""
_ID_SHOWN = 60
MAX_DIRECTORY_FILES = 10_000
"""Proposal files read from one directory at most."""


@dataclass(frozen=True)
class LoadedProposal:
    proposal: Proposal
    source_map: SourceMap
    input_sha256: str = ""
    """sha256 of the bytes of the file (or standard input) the proposal was read from."""

    @property
    def source(self) -> str:
        return self.source_map.source


class _Constant(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _Constant(f"{name} is not valid JSON")


class _DuplicateKey(ValueError):
    pass


class _TooMany(ValueError):
    pass


def _number(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _TooMany(f"the number {text[:20]}{'…' if len(text) > 20 else ''} is out of range")
    return value


def _integer(text: str) -> int:
    if len(text) > 30:  # far past any amount; Python refuses 4,300 digits with its own advice
        raise _TooMany(f"a number of {len(text)} digits")
    return int(text)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    if len(pairs) > MAX_ITEMS:  # refused before a dict of them is built
        raise _TooMany(f"an object of more than {MAX_ITEMS:,} members")
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _DuplicateKey("duplicate key")
    return out


_DECODER = json.JSONDecoder(
    parse_constant=_reject_constant,
    object_pairs_hook=_no_duplicates,
    parse_float=_number,
    parse_int=_integer,
)


def _loads(text: str) -> Any:
    """Parse JSON, refusing NaN and Infinity, and keys repeated in one object (a proposal must
    not carry two answers to one question)."""
    return _DECODER.decode(text)


def _where(text: str, start: int, first_line: int, offset: int) -> tuple[int, int]:
    """(line, column) of ``offset``, counting from ``start``, which is on line ``first_line``:
    locating an error costs no more than the segment it was found in."""
    line = first_line + text.count("\n", start, offset)
    line_start = text.rfind("\n", start, offset) + 1 or start
    return line, offset - max(line_start, start) + 1


def _duplicate_error(source: str, text: str, start: int, end: int, first_line: int | None) -> str:
    found: list[tuple[str, int]] = []
    value_offsets(text, start, end, duplicates=found)
    pointer, offset = found[0]
    line, column = _where(text, start, first_line or 1, offset)
    key = shown_path((pointer.rsplit("/", 1)[1].replace("~1", "/").replace("~0", "~"),))
    where = "".join(f"/{shown_path((part,))}" for part in pointer.split("/")[1:])
    return f"{source}:{line}:{column}: key '{key}' appears twice in one object ({where})"


def _decode(raw: bytes, source: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{source}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        ) from None


def _read_bytes(path: str) -> bytes:
    """The bytes of ``path`` (see :func:`~compliance.intake.boundedfile.read_limited`: a regular
    file or a pipe, at most :data:`MAX_INPUT_BYTES`) or of standard input, refused at a NUL byte
    (JSON text never holds one)."""
    if path == "-":
        return _read_limited(sys.stdin.buffer, "-")
    raw = read_limited(Path(path), path, InputError, MAX_INPUT_BYTES)
    if (nul := raw.find(b"\x00")) >= 0:
        raise InputError(f"{path}: not JSON text (a NUL byte at offset {nul})")
    return raw


def _read_limited(handle: BinaryIO, source: str) -> bytes:
    blocks: list[bytes] = []
    size = 0
    while block := handle.read(_BLOCK):
        if (nul := block.find(b"\x00")) >= 0:
            raise InputError(f"{source}: not JSON text (a NUL byte at offset {size + nul})")
        size += len(block)
        if size > MAX_INPUT_BYTES:
            raise InputError(f"{source}: larger than {MAX_INPUT_BYTES // (1024 * 1024)} MiB")
        blocks.append(block)
    return b"".join(blocks)


def _text_of(path: str) -> tuple[str, str]:
    """The text of a JSON input and the sha256 of its bytes; the bytes are not kept."""
    raw = _read_bytes(path)
    return _decode(raw, path), hashlib.sha256(raw).hexdigest()


def _json_error(
    source: str, exc: Exception, text: str, start: int, end: int, first_line: int | None = None
) -> str:
    """One line for why ``text[start:end]`` (a JSON Lines record on line ``first_line``, or the
    whole text) is not JSON."""
    if isinstance(exc, _DuplicateKey):
        return _duplicate_error(source, text, start, end, first_line)
    if isinstance(exc, json.JSONDecodeError):
        line = exc.lineno + (first_line or 1) - 1
        return f"{source}:{line}:{exc.colno}: not valid JSON: {exc.msg}"
    if isinstance(exc, _Constant) and (offset := constant_offset(text, start, end)) is not None:
        line, column = _where(text, start, first_line or 1, offset)
        return f"{source}:{line}:{column}: not valid JSON: {exc}"
    where = source if first_line is None else f"{source}:{first_line}"
    if isinstance(exc, RecursionError):
        return f"{where}: not accepted: JSON nested too deeply"
    if isinstance(exc, _TooMany):
        return f"{where}: not accepted: {exc}"
    return f"{where}: not valid JSON: {exc}"


def _dotted_parts(pointer: str) -> list[str | int]:
    parts: list[str | int] = []
    for raw in pointer.split("/")[1:]:
        part = raw.replace("~1", "/").replace("~0", "~")
        parts.append(int(part) if part.isdigit() else part)
    return parts


def _dotted(pointer: str) -> str:
    """``parties[3].name`` for ``/parties/3/name``, each key cut short and escaped."""
    return shown_path(tuple(_dotted_parts(pointer))) or "(the whole proposal)"


def _budget(source: str, holder: JsonText, segment: int, data: Any, label: str) -> None:
    """Refuse ``data`` (held in ``segment``) if it is larger or deeper than a proposal can be."""
    found = over_budget(data)
    if found is None:
        return
    pointer, reason = found
    where = holder.location(segment, pointer)
    has_id = isinstance(data, dict) and isinstance(data.get("id"), str)
    name = data["id"] if has_id and len(data["id"]) <= _ID_SHOWN else label
    raise InputError(f"{where or source}: {name}: {_dotted(pointer)}: {reason}")


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text`` one at a time (a list of a million empty lines costs memory)."""
    start = 0
    while (end := text.find("\n", start)) >= 0:
        yield text[start:end]
        start = end + 1
    yield text[start:]


def _too_many(source: str) -> str:
    return f"{source}: more than {MAX_PROPOSALS:,} proposals; split it into several files"


def _documents(source: str, text: str, json_lines: bool) -> list[tuple[Any, SourceMap, str]]:
    """Split ``text`` into proposal documents: (data, source map, label). A list is parsed one
    proposal at a time, each checked against the budgets as soon as it is read."""
    holder = JsonText(source, text)
    if problem := shape_problem(text):
        raise InputError(f"{source}: not accepted: {problem}")
    if not json_lines:

        def check(item: Any, start: int, end: int) -> None:
            number = len(holder_items)
            if number == MAX_PROPOSALS:
                raise InputError(_too_many(source))
            segment = holder.add_segment(start, end, f"/{number}")
            _budget(source, holder, segment, item, f"proposal #{number + 1}")
            holder_items.append(
                (item, SourceMap.for_json(holder, segment), f"proposal #{number + 1}")
            )

        holder_items: list[tuple[Any, SourceMap, str]] = []
        if list_items(text, _DECODER, check) is not None:
            if not holder_items:
                raise InputError(f"{source}: the list of proposals is empty")
            return holder_items
        holder = JsonText(source, text)
        try:
            data = _loads(text)
        except (ValueError, RecursionError) as exc:
            is_extra = isinstance(exc, json.JSONDecodeError) and exc.msg == "Extra data"
            if not is_extra:
                raise InputError(_json_error(source, exc, text, 0, len(text))) from None
            json_lines = True  # several values one after the other: read it as JSON Lines
        else:
            segment = holder.add_segment(0, len(text))
            if isinstance(data, list):  # a list the item parser did not take: report why
                raise InputError(f"{source}: not a list of proposals")
            _budget(source, holder, segment, data, "proposal")
            return [(data, SourceMap.for_json(holder, segment), "proposal")]
    docs: list[tuple[Any, SourceMap, str]] = []
    problems: list[str] = []
    start = 0
    # Records end at "\n" only: str.splitlines() would also split inside strings at characters
    # JSON allows there unescaped (U+2028, U+0085, ...).
    for number, line in enumerate(_lines(text), start=1):
        end = start + len(line) + 1
        if line.strip():
            try:
                data = _loads(line)
            except (ValueError, RecursionError) as exc:
                problems.append(_json_error(source, exc, text, start, start + len(line), number))
                if len(problems) == MAX_PROBLEMS:
                    problems.append(f"{source}: more than {MAX_PROBLEMS} problems; fix these first")
                    break
            else:
                if len(docs) == MAX_PROPOSALS:
                    raise InputError(_too_many(source))
                segment = holder.add_segment(start, end)
                _budget(source, holder, segment, data, f"line {number}")
                docs.append((data, SourceMap.for_json(holder, segment), f"line {number}"))
        start = end
    if problems:
        raise InputError(problems)
    if not docs:
        raise InputError(f"{source}: holds no proposals")
    return docs


def load_line(source: str, number: int, line: str, digest: str) -> LoadedProposal:
    """One JSON Lines record, the proposal on line ``number`` of ``source``, read and validated
    as a record of a whole file is (see :func:`_documents`); :class:`InputError` with every
    problem otherwise. A file of any size is read this way, a record at a time."""
    if problem := shape_problem(line):
        raise InputError(f"{source}:{number}: not accepted: {problem}")
    try:
        data = _loads(line)
    except (ValueError, RecursionError) as exc:
        raise InputError(_json_error(source, exc, line, 0, len(line), number)) from None
    holder = JsonText(source, line, first_line=number)
    segment = holder.add_segment(0, len(line))
    _budget(source, holder, segment, data, f"line {number}")
    return _validated([(data, SourceMap.for_json(holder, segment), f"line {number}")], [], digest)[
        0
    ]


@dataclass(frozen=True)
class SourceRead:
    """One input file (or standard input) as read: its proposals, validated, and what they were
    read from."""

    path: str
    loaded: list[LoadedProposal]
    documents: list[Any] | None
    """Each proposal's JSON as given (key order kept), when the input is JSON and it was asked
    for; ``None`` for a workbook."""
    layout: Layout | None
    """The layout of a workbook; ``None`` for JSON."""


def read_source(path: str) -> list[LoadedProposal]:
    """Read and validate every proposal in one file (or ``-`` for standard input)."""
    return read_file(path).loaded


def read_file(path: str, *, keep_documents: bool = False) -> SourceRead:
    """Read and validate every proposal in one file (or ``-`` for standard input), keeping the
    JSON documents as given when ``keep_documents``."""
    suffix = Path(path).suffix.lower() if path != "-" else ""
    if is_workbook_path(path):
        # Imported for a workbook alone: a JSON review does not pay for the workbook reader.
        from compliance.workbook.read import read_workbook, validation_filter  # noqa: PLC0415

        documents, problems, layout = read_workbook(path)
        keep = validation_filter(path, problems)  # no second line at a cell already refused
        loaded = _validated(documents, problems, _file_sha256(path), keep)
        return SourceRead(path, loaded, None, layout)
    text, digest = _text_of(path)
    if not text.strip():
        raise InputError(f"{path}: is empty")
    parsed = _documents(path, text, suffix in JSON_LINES_SUFFIXES)
    loaded = _validated(parsed, [], digest)
    return SourceRead(path, loaded, [d[0] for d in parsed] if keep_documents else None, None)


def read_text_upload(raw: bytes, source: str) -> list[LoadedProposal]:
    """Read and validate the proposals of a JSON body (an object, a list, or JSON Lines) that did
    not come from a file, such as an HTTP request; ``source`` names it in messages."""
    if len(raw) > MAX_INPUT_BYTES:
        raise InputError(f"{source}: larger than {MAX_INPUT_BYTES // (1024 * 1024)} MiB")
    text = _decode(raw, source)
    if not text.strip():
        raise InputError(f"{source}: is empty")
    loaded = _validated(_documents(source, text, False), [], hashlib.sha256(raw).hexdigest())
    if problems := duplicate_ids(loaded):
        raise InputError(problems)
    return loaded


def _file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def workbook_items(path: str) -> Iterator[LoadedProposal]:
    """The proposals of a workbook one at a time, validated, as :func:`read_file` reads them:
    the sheets are read and checked whole (within their limits), then each proposal is assembled,
    validated and handed on. Proposals stop being handed on at the first problem; then
    :class:`InputError` is raised at the end with every problem, in :func:`read_file`'s order
    (the cells', then the validation's)."""
    from compliance.workbook.read import iter_workbook, validation_filter  # noqa: PLC0415

    documents, problems, _ = iter_workbook(path)
    digest = _file_sha256(path)
    invalid: list[str] = []
    for data, source_map, position in documents:
        has_id = isinstance(data, dict) and isinstance(data.get("id"), str)
        try:
            proposal = validate_proposal(data, source_map, data["id"] if has_id else position)
        except ValidationProblems as exc:
            if len(invalid) < _MAX_HELD:
                invalid.extend(exc.lines)
            continue
        if not problems and not invalid:
            yield LoadedProposal(proposal, source_map, digest)
    keep = validation_filter(path, problems)  # no second line at a cell already refused
    found = list(problems) + [line for line in invalid if keep(line)]
    if len(found) >= MAX_PROBLEMS:
        del found[MAX_PROBLEMS:]
        found.append(f"{path}: more than {MAX_PROBLEMS} problems; fix these first")
    if found:
        raise InputError(found)


_MAX_HELD = 100 * MAX_PROBLEMS
"""Validation lines held for a workbook at most (all but the first hundred are never shown)."""


def _validated(
    documents: list[tuple[Any, SourceMap, str]],
    problems: list[str],
    digest: str,
    keep: Callable[[str], bool] = lambda line: True,
) -> list[LoadedProposal]:
    """Validate each document; raise one :class:`InputError` with these and all other problems."""
    loaded: list[LoadedProposal] = []
    problems = list(problems)
    for data, source_map, position in documents:
        has_id = isinstance(data, dict) and isinstance(data.get("id"), str)
        label = data["id"] if has_id else position
        try:
            proposal = validate_proposal(data, source_map, label)
        except ValidationProblems as exc:
            problems.extend(line for line in exc.lines if keep(line))
            if len(problems) >= MAX_PROBLEMS:
                source = source_map.source
                del problems[MAX_PROBLEMS:]
                problems.append(f"{source}: more than {MAX_PROBLEMS} problems; fix these first")
                break
        else:
            loaded.append(LoadedProposal(proposal, source_map, digest))
    if problems:
        raise InputError(problems)
    return loaded


def _files_in(directory: str) -> list[str]:
    """The proposal files directly inside ``directory``, by name (a folder of single-proposal
    workbooks is one way to review many). Only Office lock files (``~$book.xlsx``) are skipped: a
    hidden file is read like any other, so no proposal goes unreviewed unseen. An empty folder is
    an error, never a pass."""
    found: list[str] = []
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                name = entry.name
                if Path(name).suffix.lower() not in PROPOSAL_SUFFIXES or name.startswith("~$"):
                    continue
                if entry.is_file():
                    found.append(entry.path)
                    if len(found) > MAX_DIRECTORY_FILES:
                        raise InputError(
                            f"{directory}: more than {MAX_DIRECTORY_FILES} proposal files; "
                            "review it in parts"
                        )
    except OSError as exc:
        raise InputError(f"{directory}: cannot be read ({exc.strerror})") from None
    found.sort()
    if not found:
        raise InputError(
            f"{directory}: a directory with no proposal files "
            f"({', '.join(sorted(PROPOSAL_SUFFIXES))})"
        )
    return found


def check_paths(paths: list[str]) -> None:
    """Refuse a batch that names no input, or standard input twice."""
    if not paths:
        raise InputError("no input given: name one or more proposal files, or - for stdin")
    if paths.count("-") > 1:
        raise InputError("standard input (-) can be read only once")


def files_of(given: str) -> list[str]:
    """The files a path given for review stands for: itself, or a directory's proposal files."""
    return _files_in(given) if given != "-" and Path(given).is_dir() else [given]


def read_proposals(paths: list[str]) -> list[LoadedProposal]:
    """Read every proposal from every path; report all problems of all files at once.

    Proposal ids must be unique within the batch, so findings and decisions can be told apart.
    """
    return [item for source in read_inputs(paths) for item in source.loaded]


def read_inputs(paths: list[str], *, keep_documents: bool = False) -> list[SourceRead]:
    """Every file of ``paths`` (a directory stands for the proposal files in it) as read, with
    the checks of :func:`read_proposals`."""
    check_paths(paths)
    sources: list[SourceRead] = []
    problems: list[str] = []
    for given in paths:
        try:
            files = files_of(given)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        for path in files:
            if len(problems) >= MAX_PROBLEMS:
                problems.append(f"more than {MAX_PROBLEMS} problems in all; fix these first")
                break
            try:
                sources.append(read_file(path, keep_documents=keep_documents))
            except InputError as exc:
                problems.extend(exc.problems)
    problems.extend(duplicate_ids([item for source in sources for item in source.loaded]))
    if problems:
        raise InputError(problems)
    return sources


def duplicate_ids(loaded: list[LoadedProposal]) -> list[str]:
    """A problem for every proposal id given twice in a batch: findings and decisions must be
    told apart."""
    problems: list[str] = []
    seen: dict[str, LoadedProposal] = {}
    for item in loaded:
        first = seen.setdefault(item.proposal.id, item)
        if first is not item:
            where = item.source_map.locate("id")
            problems.append(
                f"{where}: {item.proposal.id}: id: duplicate proposal id (first seen at "
                f"{first.source_map.locate('id')})"
            )
    return problems
