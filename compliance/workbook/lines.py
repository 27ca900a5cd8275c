"""How the workbook reader words and places what it reads: a cell's value as text, the problem
lines it reports, where an answer goes in a proposal's data, and which validation lines a cell
the reader refused makes redundant."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from compliance.proposal.fields import split_path
from compliance.workbook.grid import Formula, formula_shown

_PARTS: dict[str, tuple[str, ...]] = {}
""":func:`split_path` of each generic path put, once (the paths are the model's, a few hundred)."""


def put(data: dict[str, Any], dotted: str, value: Any) -> None:
    parts = _PARTS.get(dotted)
    if parts is None:
        parts = _PARTS[dotted] = split_path(dotted)
    for part in parts[:-1]:
        data = data.setdefault(part, {})
    data[parts[-1]] = value


def some(names: list[str], count: int = 8) -> str:
    """Up to ``count`` of ``names``, quoted, and how many more there are."""
    shown_names = ", ".join(repr(name[:40]) for name in names[:count])
    more = len(names) - count
    return shown_names + (f" and {more} more" if more > 0 else "")


def formula_message(formula: Formula, what: str) -> str:
    return (
        f"holds a formula ({formula_shown(formula)}); type the {what} itself: intake does not "
        "judge a formula's saved result, which can differ from what Excel shows"
    )


def text_of(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _cell_of(path: str, line: str) -> str | None:
    """The ``path, Sheet!B2`` a problem line starts with, if it names a cell."""
    start = len(path) + 2
    if not line.startswith(f"{path}, "):
        return None
    end = line.find(": ", start)
    return line[:end] if end > 0 and "!" in line[start:end] else None


def validation_filter(path: str, problems: Iterable[str]) -> Callable[[str], bool]:
    """Whether to keep a validation line for the workbook at ``path``, given the problems its
    reading reported: a line at a cell the reader already refused (a formula, a hidden or
    malformed value) is dropped, since the value was not read (``required field is missing``
    would only repeat it)."""
    refused = {cell for line in problems if (cell := _cell_of(path, line)) is not None}
    return lambda line: _cell_of(path, line) not in refused
