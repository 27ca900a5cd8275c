"""Reading a JSON Lines file a record at a time, so that a batch of any size costs the memory of
its largest record, not of the file.

Only a regular file is read this way (a pipe or standard input is read whole, within the limits
of :mod:`compliance.intake.proposals`). Each record is handed on as text with its line number;
parsing and validating it (:func:`compliance.intake.proposals.load_line`) can then happen in any
process.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from compliance.errors import InputError
from compliance.intake.boundedfile import size_text

MAX_RECORD_BYTES = 64 * 1024 * 1024
"""The largest JSON Lines record (one proposal), as for a whole JSON file."""
MAX_STREAMED_PROPOSALS = 2_000_000
"""Proposals in one JSON Lines file at most. A batch remembers each proposal's id (to refuse a
duplicate), about 140 bytes each; everything else flows through."""
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class RawLine:
    """One JSON Lines record as read: not yet parsed."""

    source: str
    number: int
    text: str
    digest: str
    """sha256 of the whole file's bytes when it was asked for up front (decision records name
    the input they came from), else empty."""


def open_regular(path: str) -> BinaryIO | None:
    """``path`` opened for reading if it is a regular file, else ``None`` (a pipe, a device or
    anything else is left to the whole-input reader and its checks)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return os.fdopen(fd, "rb")


def file_sha256(handle: BinaryIO) -> str:
    """sha256 of the rest of ``handle``'s bytes; the handle is rewound after."""
    digest = hashlib.sha256()
    for block in iter(lambda: handle.read(1 << 20), b""):
        digest.update(block)
    handle.seek(0)
    return digest.hexdigest()


def records(handle: BinaryIO, source: str, digest: str = "") -> Iterator[RawLine]:
    """The non-blank records of the JSON Lines file ``handle``, one at a time. Raises
    :class:`InputError` (reading stops) for a file that is empty, not UTF-8, holds a NUL byte, a
    record over :data:`MAX_RECORD_BYTES` or more than :data:`MAX_STREAMED_PROPOSALS` records."""
    offset = 0
    count = 0
    number = 0
    with handle:
        while raw := handle.readline(MAX_RECORD_BYTES + 1):
            number += 1
            if len(raw) > MAX_RECORD_BYTES:
                raise InputError(
                    f"{source}:{number}: a record larger than {size_text(MAX_RECORD_BYTES)}"
                )
            if (nul := raw.find(b"\x00")) >= 0:
                raise InputError(f"{source}: not JSON text (a NUL byte at offset {offset + nul})")
            body = raw[len(_BOM) :] if offset == 0 and raw.startswith(_BOM) else raw
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError as exc:
                at = offset + (len(raw) - len(body)) + exc.start
                raise InputError(
                    f"{source}: not UTF-8 text (byte 0x{body[exc.start]:02x} at offset {at})"
                ) from None
            offset += len(raw)
            line = text[:-1] if text.endswith("\n") else text
            if not line.strip():
                continue
            count += 1
            if count > MAX_STREAMED_PROPOSALS:
                raise InputError(
                    f"{source}: more than {MAX_STREAMED_PROPOSALS:,} proposals; split it into "
                    "several files"
                )
            yield RawLine(source, number, line, digest)
    if count == 0:
        raise InputError(f"{source}: is empty")
