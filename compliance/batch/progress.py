"""A progress line on standard error while a large batch is reviewed, for a person watching.

It is drawn only when standard error is a terminal (never into a pipe, a file or a CI log, where
stderr stays exactly as it is without it), first after :data:`DELAY` seconds (a small review
never shows it) and then at most every :data:`INTERVAL` seconds, as one line rewritten in
place; it is erased when the batch ends, before anything else is printed.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import time
from collections.abc import Iterator
from typing import TextIO

from compliance.batch import windows as batch

DELAY = 0.5
INTERVAL = 0.5


class Line:
    """Draws ``N proposals reviewed (reading SOURCE)`` on ``stream``, at most every
    :data:`INTERVAL` seconds."""

    def __init__(self, stream: TextIO, clock: float | None = None) -> None:
        self.stream = stream
        self.due = (time.monotonic() if clock is None else clock) + DELAY
        self.drawn = False

    def __call__(self, done: int, source: str) -> None:
        now = time.monotonic()
        if now < self.due:
            return
        self.due = now + INTERVAL
        plural = "" if done == 1 else "s"
        shown = "".join(c if c.isprintable() else "?" for c in source)  # no escapes from names
        text = f"{done:,} proposal{plural} reviewed (reading {shown})"
        width = shutil.get_terminal_size((80, 24)).columns - 1
        if len(text) > width:
            text = text[: max(width - 1, 0)] + "…"
        self.stream.write(f"\r{text}\x1b[K")
        self.stream.flush()
        self.drawn = True

    def erase(self) -> None:
        if self.drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.drawn = False


@contextlib.contextmanager
def on_terminal(enabled: bool = True, stream: TextIO | None = None) -> Iterator[None]:
    """Show a progress line for the batches run in this block, when ``enabled`` and ``stream``
    (default: standard error) is a terminal."""
    out = sys.stderr if stream is None else stream
    if not enabled or not _is_terminal(out):
        yield
        return
    line = Line(out)
    try:
        with batch.progress(line):
            yield
    finally:
        line.erase()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or not a real stream
        return False
