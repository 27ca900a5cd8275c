"""Reading a named file within a size limit, without ever waiting on a pipe nobody writes to.

Every file the tool reads by name (a proposal, the config, a waivers file, a rule file) goes
through :func:`read_limited`: it must be a regular file, or a pipe such as the shell's ``<(...)``;
its size is checked on the open file before a byte is read, and a pipe is read up to the limit.
"""

from __future__ import annotations

import os
import select
import stat
from pathlib import Path

from compliance.errors import ComplianceError


def read_limited(path: Path, label: str, error: type[ComplianceError], limit: int) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes, else ``error``
    naming ``label``. Opened without blocking, so a named pipe without a writer is refused
    instead of waited on (a pipe with one, as from ``<(...)``, is read up to ``limit``); the size
    of a file is checked on the open file before a byte is read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise error(f"{label}: no such file") from None
    except IsADirectoryError:
        raise error(f"{label}: is a directory, not a file") from None
    except OSError as exc:
        raise error(f"{label}: cannot be read ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(fd)
        if stat.S_ISDIR(mode.st_mode):
            raise error(f"{label}: is a directory, not a file")
        if stat.S_ISFIFO(mode.st_mode):  # a pipe, as from the shell's <(...)
            data = _read_pipe(fd, label, error, limit)
        elif not stat.S_ISREG(mode.st_mode):
            raise error(f"{label}: not a regular file")
        elif mode.st_size > limit:
            raise error(f"{label}: larger than {size_text(limit)}")
        else:
            try:
                data = handle.read(limit + 1)
            except OSError as exc:
                raise error(f"{label}: cannot be read ({exc.strerror})") from None
    if len(data) > limit:
        raise error(f"{label}: larger than {size_text(limit)}")
    return data


PIPE_WAIT_SECONDS = 10.0
"""A pipe that gives no data for this long is refused instead of waited on."""


def _read_pipe(fd: int, label: str, error: type[ComplianceError], limit: int) -> bytes:
    """A pipe's bytes up to ``limit``: a pipe nobody writes to (a named pipe without a writer)
    is refused at once, one whose writer stalls after :data:`PIPE_WAIT_SECONDS`."""
    chunks: list[bytes] = []
    size = 0
    poll = select.poll()
    poll.register(fd, select.POLLIN)
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:  # a writer, but nothing written yet
            if not poll.poll(PIPE_WAIT_SECONDS * 1000):
                raise error(f"{label}: a pipe that gave nothing to read in time") from None
            continue
        except OSError as exc:
            raise error(f"{label}: cannot be read ({exc.strerror})") from None
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise error(f"{label}: larger than {size_text(limit)}")
    if not chunks:
        raise error(f"{label}: a pipe with nothing to read (no writer)")
    return b"".join(chunks)


def size_text(limit: int) -> str:
    """A limit in bytes as people read it."""
    return f"{limit // (1024 * 1024)} MiB" if limit % (1024 * 1024) == 0 else f"{limit} bytes"
