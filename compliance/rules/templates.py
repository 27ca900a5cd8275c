"""Message templates: ``{field.path}`` placeholders, parsed the same way when a rule loads and
when a finding is written.

- ``{data_sharing.flows[].recipient}`` is replaced by the answer, written for a reader: lists
  joined with commas, yes/no as "yes"/"no", choices with spaces for underscores, large numbers
  with thousands separators;
- ``{path|text}`` uses ``text`` when the field is unanswered or an empty list (otherwise an
  unanswered field reads "(not answered)");
- ``{{`` and ``}}`` are literal braces; any other brace is an error.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import Any

from compliance.proposal.fields import Kind, catalogue

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}|]*)(?:\|([^{}]*))?\}|[{}]")


@dataclass(frozen=True)
class Placeholder:
    path: str
    fallback: str | None


def parse(text: str) -> tuple[list[Placeholder], list[str]]:
    """The placeholders of ``text`` and the problems with its braces."""
    found: list[Placeholder] = []
    problems: list[str] = []
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        if token in ("{{", "}}"):
            continue
        if token in ("{", "}"):
            problems.append(
                f"unmatched '{token}' at character {match.start() + 1} (write {token}{token} for "
                "a literal brace)"
            )
            continue
        found.append(Placeholder(match.group(1).strip(), match.group(2)))
    return found, problems


def render_value(value: Any, kind: Kind | None = None) -> str:
    """A field value as a person reads it in a message."""
    if isinstance(value, Enum):
        value = value.value
    if value is None:
        return "(not answered)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        item_kind = Kind.ENUM if kind is Kind.ENUM_LIST else None
        return ", ".join(render_value(v, item_kind) for v in value) if value else "(none)"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (int, float)):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    return text.replace("_", " ") if kind is Kind.ENUM else text


_Piece = str | tuple[str, str | None, Kind | None]


@cache
def compiled(text: str) -> Callable[[Callable[[str], Any]], str]:
    """``lambda lookup: render(text, lookup)``, with the template read once, not per finding."""
    pieces: list[_Piece] = []
    last = 0
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        pieces.append(text[last : match.start()])
        last = match.end()
        if token in ("{{", "}}", "{", "}"):
            pieces.append(token[0])
        else:
            path = match.group(1).strip()
            spec = catalogue().get(path)
            pieces.append((path, match.group(2), spec.kind if spec is not None else None))
    pieces.append(text[last:])
    static = [p for p in pieces if p]

    def fill(lookup: Callable[[str], Any]) -> str:
        out = []
        for piece in static:
            if isinstance(piece, str):
                out.append(piece)
                continue
            path, fallback, kind = piece
            value = lookup(path)
            if isinstance(value, Enum):
                value = value.value
            if fallback is not None and (value is None or value == []):
                out.append(fallback)
            else:
                out.append(render_value(value, kind))
        return "".join(out)

    return fill


def render(text: str, lookup: Callable[[str], Any]) -> str:
    """Fill the placeholders of a validated template with the values ``lookup`` returns."""

    def fill(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}", "{", "}"):
            return token[0]
        path, fallback = match.group(1).strip(), match.group(2)
        value = lookup(path)
        if isinstance(value, Enum):
            value = value.value
        if fallback is not None and (value is None or value == []):
            return fallback
        spec = catalogue().get(path)
        return render_value(value, spec.kind if spec is not None else None)

    return _TOKEN.sub(fill, text)
