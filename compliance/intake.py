"""Reading proposals: JSON files holding one proposal or a list, JSON Lines, standard input, and
workbooks made from the template.

Workbooks are read by :mod:`compliance.workbook_read`; a directory stands for the proposal files
directly inside it. Every proposal comes back with a :class:`SourceMap` so that validation errors
and findings can point at the line, or the sheet and cell, an answer came from. All problems of
all inputs are collected and reported together as one :class:`InputError`, one line each.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compliance.errors import InputError
from compliance.jsonpos import LineIndex, value_offsets
from compliance.model import Proposal
from compliance.sourcemap import JsonText, SourceMap
from compliance.validation import ValidationProblems, validate_proposal
from compliance.workbook_layout import Layout
from compliance.workbook_read import read_workbook
from compliance.xlsxfile import is_workbook_path

JSON_LINES_SUFFIXES = frozenset({".jsonl", ".ndjson"})
PROPOSAL_SUFFIXES = frozenset({".json", ".xlsx", ".xlsm"}) | JSON_LINES_SUFFIXES
MAX_INPUT_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class LoadedProposal:
    proposal: Proposal
    source_map: SourceMap
    input_sha256: str = ""
    """sha256 of the bytes of the file (or standard input) the proposal was read from."""

    @property
    def source(self) -> str:
        return self.source_map.source


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _DuplicateKey("duplicate key")
    return out


def _loads(text: str) -> Any:
    """Parse JSON, refusing NaN and Infinity, and keys repeated in one object (a proposal must
    not carry two answers to one question)."""
    return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_no_duplicates)


def _duplicate_error(source: str, text: str, start: int, end: int) -> str:
    found: list[tuple[str, int]] = []
    value_offsets(text, start, end, duplicates=found)
    pointer, offset = found[0]
    line, column = LineIndex(text).line_column(offset)
    key = pointer.rsplit("/", 1)[1].replace("~1", "/").replace("~0", "~")
    return f"{source}:{line}:{column}: key '{key}' appears twice in one object ({pointer})"


def _decode(raw: bytes, source: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{source}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        ) from None


def _read_bytes(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
    p = Path(path)
    try:
        with p.open("rb") as handle:
            return handle.read(MAX_INPUT_BYTES + 1)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None


def _json_error(source: str, exc: Exception, text: str, start: int, end: int) -> str:
    if isinstance(exc, _DuplicateKey):
        return _duplicate_error(source, text, start, end)
    if isinstance(exc, json.JSONDecodeError):
        line_offset = text.count("\n", 0, start)
        return f"{source}:{exc.lineno + line_offset}:{exc.colno}: not valid JSON: {exc.msg}"
    if isinstance(exc, RecursionError):
        return f"{source}: not accepted: JSON nested too deeply"
    return f"{source}: not valid JSON: {exc}"


def _documents(source: str, text: str, json_lines: bool) -> list[tuple[Any, SourceMap, str]]:
    """Split ``text`` into proposal documents: (data, source map, label)."""
    holder = JsonText(source, text)
    if not json_lines:
        try:
            data = _loads(text)
        except (ValueError, RecursionError) as exc:
            is_extra = isinstance(exc, json.JSONDecodeError) and exc.msg == "Extra data"
            if not is_extra:
                raise InputError(_json_error(source, exc, text, 0, len(text))) from None
            json_lines = True  # several values one after the other: read it as JSON Lines
        else:
            segment = holder.add_segment(0, len(text))
            if isinstance(data, list):
                if not data:
                    raise InputError(f"{source}: the list of proposals is empty")
                return [
                    (item, SourceMap.for_json(holder, segment, f"/{i}"), f"proposal #{i + 1}")
                    for i, item in enumerate(data)
                ]
            return [(data, SourceMap.for_json(holder, segment), "proposal")]
    docs: list[tuple[Any, SourceMap, str]] = []
    problems: list[str] = []
    start = 0
    # Records end at "\n" only: str.splitlines() would also split inside strings at characters
    # JSON allows there unescaped (U+2028, U+0085, ...).
    for number, line in enumerate(text.split("\n"), start=1):
        end = start + len(line) + 1
        if line.strip():
            try:
                data = _loads(line)
            except (ValueError, RecursionError) as exc:
                problems.append(_json_error(source, exc, text, start, start + len(line)))
            else:
                segment = holder.add_segment(start, end)
                docs.append((data, SourceMap.for_json(holder, segment), f"line {number}"))
        start = end
    if problems:
        raise InputError(problems)
    if not docs:
        raise InputError(f"{source}: holds no proposals")
    return docs


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
        documents, problems, layout = read_workbook(path)
        return SourceRead(path, _validated(documents, problems, _file_sha256(path)), None, layout)
    raw = _read_bytes(path)
    if len(raw) > MAX_INPUT_BYTES:
        raise InputError(f"{path}: larger than {MAX_INPUT_BYTES // (1024 * 1024)} MiB")
    text = _decode(raw, path)
    if not text.strip():
        raise InputError(f"{path}: is empty")
    digest = hashlib.sha256(raw).hexdigest()
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


def _validated(
    documents: list[tuple[Any, SourceMap, str]], problems: list[str], digest: str
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
            problems.extend(exc.lines)
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
    found = sorted(
        str(child)
        for child in Path(directory).iterdir()
        if child.suffix.lower() in PROPOSAL_SUFFIXES
        and not child.name.startswith("~$")
        and child.is_file()
    )
    if not found:
        raise InputError(
            f"{directory}: a directory with no proposal files "
            f"({', '.join(sorted(PROPOSAL_SUFFIXES))})"
        )
    return found


def read_proposals(paths: list[str]) -> list[LoadedProposal]:
    """Read every proposal from every path; report all problems of all files at once.

    Proposal ids must be unique within the batch, so findings and decisions can be told apart.
    """
    return [item for source in read_inputs(paths) for item in source.loaded]


def read_inputs(paths: list[str], *, keep_documents: bool = False) -> list[SourceRead]:
    """Every file of ``paths`` (a directory stands for the proposal files in it) as read, with
    the checks of :func:`read_proposals`."""
    if not paths:
        raise InputError("no input given: name one or more proposal files, or - for stdin")
    if paths.count("-") > 1:
        raise InputError("standard input (-) can be read only once")
    sources: list[SourceRead] = []
    problems: list[str] = []
    for given in paths:
        try:
            files = _files_in(given) if given != "-" and Path(given).is_dir() else [given]
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        for path in files:
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
