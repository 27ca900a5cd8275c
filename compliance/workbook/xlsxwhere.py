"""Where in a workbook openpyxl was when it failed, read from the exception's traceback: the zip
member it was reading, or the step of opening it (the stylesheet, the workbook part...), so that a
damaged file's one-line message can name the part."""

from __future__ import annotations

import zipfile
from types import TracebackType


def member_of(exc: BaseException) -> str | None:
    """The zip member being read when ``exc`` was raised, found on its traceback: a
    ``ZipExtFile`` held by a frame, directly or as the ``source`` of openpyxl's parser."""
    found: str | None = None
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:
        for value in tb.tb_frame.f_locals.values():
            candidate = value if isinstance(value, zipfile.ZipExtFile) else None
            source = getattr(value, "source", None) if candidate is None else None
            if isinstance(source, zipfile.ZipExtFile):
                candidate = source
            if candidate is not None:
                found = candidate.name
        tb = tb.tb_next
    return found


def step_of(exc: BaseException) -> str | None:
    """What openpyxl was reading when ``exc`` was raised while opening a workbook ("stylesheet",
    "workbook"...): the ``action`` its ``ExcelReader.read`` keeps for its own error message."""
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_globals.get("__name__") == "openpyxl.reader.excel":
            action = frame.f_locals.get("action")
            if isinstance(action, str):
                return action.removeprefix("read ")
        tb = tb.tb_next
    return None
