"""What a workbook is called: the file suffixes intake reads as Excel (a module of its own, so a
JSON review can ask without importing the workbook reader)."""

from __future__ import annotations

from pathlib import Path

WORKBOOK_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xltx", ".xltm", ".xls"})


def is_workbook_path(path: Path | str) -> bool:
    """True if ``path`` is named like an Excel workbook or template (.xlsx, .xlsm, .xltx,
    .xltm or .xls, any case)."""
    return Path(path).suffix.lower() in WORKBOOK_SUFFIXES
