"""Writing what a command makes: a report or a workbook, atomically, never over work unasked."""

from __future__ import annotations

from pathlib import Path

from compliance.errors import UsageError
from compliance.reports.output import write_parts


def write(content: str | bytes, output: Path | None) -> None:
    """Write a report atomically to ``output``, or text to standard output."""
    write_parts([content], output)


def new_file(output: Path, force: bool) -> Path:
    """``output``, unless it exists and ``force`` is not given: a filled-in workbook is work
    that an overwrite would destroy."""
    if output.exists() and not force:
        raise UsageError(f"{output}: already exists; give --force to overwrite it")
    return output
