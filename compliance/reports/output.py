"""Writing a report: atomically to a file, or to standard output.

A report is written whole or not at all: to a temporary file beside the target, renamed over it
once complete, so a reader never sees half a report. A symbolic link is written through (the link
stays); a pipe or a device (``/dev/stdout``) is written in place, never replaced by a file.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from compliance.errors import UsageError

Part = str | bytes | IO[bytes]
"""A piece of a report: text, bytes, or a spool file whose whole content is copied."""


def write_parts(parts: Sequence[Part], output: Path | None) -> None:
    """Write ``parts`` in order to ``output`` atomically, or to standard output (``None``)."""
    if output is None:
        if sys.stdout is None or sys.stdout.closed:
            raise UsageError("standard output is closed; write the report with --output FILE")
        if any(isinstance(p, bytes) for p in parts):
            raise UsageError("a workbook is not written to the terminal; give --output FILE")
        sys.stdout.flush()
        buffer = getattr(sys.stdout, "buffer", None)
        if buffer is None:  # a text-only stream
            for part in parts:
                sys.stdout.write(
                    part if isinstance(part, str) else _text_of(part)  # type: ignore[arg-type]
                )
        else:
            _copy(parts, buffer)
            buffer.flush()
        return
    with streamed_to(output) as handle:
        _copy(parts, handle)


@contextmanager
def streamed_to(output: Path | None) -> Iterator[IO[bytes]]:
    """A handle to write a report to as it is made: standard output itself (``None``), or a
    temporary file beside ``output`` that replaces it when the block ends without an error and
    is removed when it ends with one (a pipe or a device is written in place)."""
    if output is None:
        if sys.stdout is None or sys.stdout.closed:
            raise UsageError("standard output is closed; write the report with --output FILE")
        sys.stdout.flush()
        handle = getattr(sys.stdout, "buffer", None)
        if handle is None:
            raise UsageError("standard output takes no bytes; write the report with --output FILE")
        yield handle
        handle.flush()
        return
    target = Path(os.path.realpath(output)) if output.is_symlink() else output
    if target.exists() and not target.is_file():
        if target.is_dir():
            raise UsageError(f"{output}: is a directory")
        try:
            with target.open("wb") as handle:  # a pipe or a device: write, do not replace
                yield handle
        except OSError as exc:
            raise UsageError(f"{output}: cannot be written ({exc.strerror})") from None
        return
    directory = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise UsageError(f"{output}: cannot be written ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        _publish(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise UsageError(f"{output}: cannot be written ({exc.strerror})") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _publish(tmp: str, target: Path) -> None:
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; a report is an ordinary file
    os.replace(tmp, target)


def _text_of(spool: IO[bytes]) -> str:  # bytes were refused above
    spool.seek(0)
    return spool.read().decode("utf-8")


def _copy(parts: Sequence[Part], handle: IO[bytes]) -> None:
    for part in parts:
        if isinstance(part, str):
            handle.write(part.encode("utf-8"))
        elif isinstance(part, bytes):
            handle.write(part)
        else:
            part.seek(0)
            shutil.copyfileobj(part, handle, 1 << 20)


def writable(output: Path) -> None:
    """Refuse, before any review or record, an output that cannot be written."""
    target = Path(os.path.realpath(output))
    if target.is_dir():
        raise UsageError(f"{output}: is a directory")
    directory = target.parent
    if not directory.is_dir():
        raise UsageError(f"{output}: cannot be written (no directory {directory})")
    if not os.access(target if target.exists() else directory, os.W_OK):
        raise UsageError(f"{output}: cannot be written (permission denied)")
