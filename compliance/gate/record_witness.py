"""Records read as hostile input, and the witness that keeps a chain from being cut short.

Every file of a records directory is read with a bound: it must be a regular file (not a directory,
a symbolic link or a FIFO, which is never waited on), at most :data:`RECORD_MAX_BYTES` (``HEAD`` and
a witness file: :data:`HEAD_MAX_BYTES`), UTF-8, JSON nested at most :data:`DEPTH_MAX` deep with no
key given twice in one object. Size is checked on the open file before a byte is read, so a huge
file costs nothing.

A *witness* is a head of the chain kept outside the records directory: ``SEQ:sha256:HEX``, the
sequence of a record and the sha256 of its file bytes, as ``review --record`` prints it after
writing. The chain proves every record before the witnessed one (each holds the hash of the one
before), so a witness of record *n* proves records 1 to *n* are those that were witnessed, whatever
came after. An *exact* witness (``--expect-head``) also says nothing came after.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import Any

from compliance.errors import UsageError

RECORD_MAX_BYTES = 4 * 1024 * 1024
"""At most this many bytes in one record file (the largest the examples give is about 140 KB)."""
HEAD_MAX_BYTES = 4096
"""At most this many bytes in ``HEAD`` or a witness file (``HEAD`` is about 150 bytes)."""
DEPTH_MAX = 64
"""At most this deep nesting of arrays and objects in a record (records are about 6 deep)."""

_HEAD = re.compile(r"^(\d{1,8}):(?:sha256:)?([0-9a-fA-F]{64})$")


class Damaged(Exception):
    """A records file that cannot be a record: the message says why, without the file's name."""


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
)


def read_bounded(path: Path, limit: int) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes; else
    :class:`Damaged`. Never follows a symbolic link and never blocks on a FIFO."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Damaged("a symbolic link, not a file") from None
        if exc.errno == errno.ENOENT:
            raise Damaged("missing") from None
        raise Damaged(f"unreadable ({exc.strerror})") from None
    try:
        mode = os.fstat(fd)
        if not stat.S_ISREG(mode.st_mode):
            kind = next((name for test, name in _KINDS if test(mode.st_mode)), "not a file")
            raise Damaged(f"{kind}, not a file")
        if mode.st_size > limit:
            raise Damaged(f"{mode.st_size} bytes, over the limit of {limit}")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise Damaged(f"grew past the limit of {limit} bytes while read")
        return b"".join(chunks)
    except OSError as exc:
        raise Damaged(f"unreadable ({exc.strerror})") from None
    finally:
        os.close(fd)


# Of a valid JSON document, what is left once escapes, then every byte but brackets and quotes,
# then the strings are removed is its nesting (UTF-8 never uses an ASCII byte inside a character).
_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_NOT_SYNTAX = bytes(set(range(256)) - set(b'[]{}"'))
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def _too_deep(data: bytes) -> bool:
    """Whether the valid JSON ``data`` nests arrays and objects more than :data:`DEPTH_MAX` deep,
    counted on its brackets outside strings (about 1.5 times as fast as walking the parsed value,
    measured on a 140 KB record)."""
    syntax = _ESCAPE.sub(b"", data).translate(None, _NOT_SYNTAX)
    brackets = b"".join(syntax.split(b'"')[::2])
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0) > DEPTH_MAX


class _DuplicateKey(Exception):
    """An object of a records file gives one key twice: readers differ on which value counts."""


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            shown = key if len(key) <= 40 else key[:39] + "…"
            raise _DuplicateKey(f"the key {shown!r} given twice in one object")
        out[key] = value
    return out


def parse_json(data: bytes) -> Any:
    """``data`` as UTF-8 JSON nested at most :data:`DEPTH_MAX` deep, with no key given twice in
    one object; else :class:`Damaged`."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Damaged(f"not UTF-8 (byte {exc.start})") from None
    try:
        value = json.loads(text, object_pairs_hook=_unique)
    except RecursionError:
        raise Damaged(f"nested deeper than {DEPTH_MAX} levels") from None
    except _DuplicateKey as exc:
        raise Damaged(str(exc)) from None
    except ValueError:
        raise Damaged("not valid JSON") from None
    if _too_deep(data):
        raise Damaged(f"nested deeper than {DEPTH_MAX} levels")
    return value


@dataclass(frozen=True)
class Witness:
    """Record ``sequence`` of the chain has file bytes hashing to ``sha256``; if ``exact``, it
    is also the last record. ``source`` says where the witness came from, for messages."""

    sequence: int
    sha256: str
    exact: bool
    source: str

    def __str__(self) -> str:
        return f"{self.sequence}:{self.sha256}"


def head_text(sequence: int, sha256: str) -> str:
    """A head as a witness is given: ``SEQ:sha256:HEX``."""
    return f"{sequence}:{sha256}"


def parse(text: str, *, exact: bool, source: str) -> Witness:
    """A witness given as ``SEQ:sha256:HEX`` (or ``SEQ:HEX``); a usage error otherwise."""
    found = _HEAD.match(text.strip())
    if found is None or int(found.group(1)) < 1:
        shown = text if len(text) <= 80 else text[:79] + "…"
        raise UsageError(
            f"{source}: {shown!r} is not a head SEQ:sha256:HEX (as review --record prints it)"
        )
    return Witness(int(found.group(1)), "sha256:" + found.group(2).lower(), exact, source)


def read_file(path: Path) -> Witness:
    """The witness kept in ``path``: a copy of a records directory's ``HEAD``, or the line
    ``SEQ:sha256:HEX``. It proves a prefix of the chain (records may have followed it)."""
    source = f"the witness {path}"
    try:
        data = read_bounded(path, HEAD_MAX_BYTES)
        value = parse_json(data) if data.lstrip().startswith(b"{") else data.decode("utf-8")
    except (Damaged, UnicodeDecodeError) as exc:
        reason = exc if isinstance(exc, Damaged) else "not UTF-8"
        raise UsageError(f"{path}: {reason}: not a witness of a records head") from None
    if isinstance(value, dict):  # a copy of HEAD
        value = f"{value.get('sequence')}:{value.get('sha256')}"
    return parse(str(value), exact=False, source=source)


def from_options(
    expect_head: str | None, expect_records: tuple[str, ...], witness_file: Path | None
) -> list[Witness]:
    """The witnesses ``verify-records`` was given, in the order they are checked."""
    found = [parse(text, exact=False, source="--expect-record") for text in expect_records]
    if witness_file is not None:
        found.append(read_file(witness_file))
    if expect_head is not None:
        found.append(parse(expect_head, exact=True, source="--expect-head"))
    return found
