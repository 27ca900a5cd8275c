"""A waiver's ``path``: the part of a proposal a waiver is limited to.

A path is a field path (``data_sharing.flows[1].purpose``) or part of one
(``data_sharing.flows[1]``, ``human_rights``). An item of a list may be named by position,
``flows[1]``, or by what it holds, ``flows[recipient="Ministry of Interior"]``: the items whose
``recipient`` is that text (compared ignoring case and runs of spaces).

A position follows the list: if the list is reordered, the waiver covers whatever item is now
there. A selector follows the item, and covers nothing (the waiver is reported unused) once no
item holds that value, so an accepted risk never moves to another item unseen.

The value is written as a JSON string, in double quotes, with ``\\"`` and ``\\\\`` for a quote or
a backslash. The field must be a text, choice or code field of the list's items.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from enum import Enum
from typing import Any

from compliance.fields import Kind, catalogue

_SELECTABLE = (Kind.TEXT, Kind.ENUM, Kind.CODE)
_STRING = r'"(?:[^"\\\x00-\x1f]|\\.)*"'
_SEGMENT = re.compile(
    rf"(?P<name>[a-z_]+)(?:\[(?:(?P<index>0|[1-9]\d*)|(?P<field>[a-z_]+)=(?P<value>{_STRING}))\])?"
)


@dataclass(frozen=True)
class Segment:
    name: str
    index: int | None = None
    field: str | None = None
    value: str | None = None


@dataclass(frozen=True)
class Scope:
    """A parsed waiver path."""

    text: str
    segments: tuple[Segment, ...]

    @property
    def has_selector(self) -> bool:
        return any(s.field is not None for s in self.segments)

    @property
    def specificity(self) -> int:
        """How narrow the scope is: the deeper, the narrower (for choosing among waivers)."""
        return sum(2 if s.index is not None or s.field is not None else 1 for s in self.segments)

    def concrete(self, proposal: dict[str, Any]) -> tuple[str, ...]:
        """The concrete paths (positions only) this scope names in ``proposal``: one for a path
        without selectors, one per matching item for each selector (none if none matches)."""
        if not self.has_selector:
            return (self.text,)
        found: list[tuple[str, Any]] = [("", proposal)]
        for seg in self.segments:
            step: list[tuple[str, Any]] = []
            for prefix, data in found:
                here = f"{prefix}.{seg.name}" if prefix else seg.name
                value = data.get(seg.name) if isinstance(data, dict) else None
                if seg.index is not None:
                    item = value[seg.index] if isinstance(value, list) else None
                    step.append((f"{here}[{seg.index}]", item))
                elif seg.field is not None:
                    for i, item in enumerate(value if isinstance(value, list) else []):
                        held = item.get(seg.field) if isinstance(item, dict) else None
                        if held is not None and _same(held, seg.value or ""):
                            step.append((f"{here}[{i}]", item))
                else:
                    step.append((here, value))
            found = step
        return tuple(path for path, _ in found)


def _same(held: Any, wanted: str) -> bool:
    text = held.value if isinstance(held, Enum) else held
    return isinstance(text, str) and _norm(text) == _norm(wanted)


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split()).casefold()


EXAMPLE = 'data_sharing.flows[1].purpose or data_sharing.flows[recipient="National Police"]'


def parse(path: str) -> Scope | str:
    """The scope ``path`` names, or why it names none."""
    segments: list[Segment] = []
    at = 0
    while True:
        match = _SEGMENT.match(path, at)
        if match is None:
            return f"path {path!r} is not a field path (e.g. {EXAMPLE})"
        value = json.loads(match["value"]) if match["value"] is not None else None
        if value is not None and not value.strip():
            return f"path {path!r}: a selector needs a value"
        segments.append(
            Segment(
                match["name"],
                int(match["index"]) if match["index"] is not None else None,
                match["field"],
                value,
            )
        )
        at = match.end()
        if at == len(path):
            break
        if path[at] != ".":
            return f"path {path!r} is not a field path (e.g. {EXAMPLE})"
        at += 1
    return _check(Scope(path, tuple(segments)))


def _check(scope: Scope) -> Scope | str:
    known = catalogue()
    generic = ""
    for seg in scope.segments:
        generic = f"{generic}.{seg.name}" if generic else seg.name
        if seg.index is not None or seg.field is not None:
            spec = known.get(generic)
            if spec is None:
                return f"path {scope.text!r}: no such field in a proposal (see docs/fields.md)"
            if spec.kind is not Kind.OBJECT_LIST:
                return f"path {scope.text!r}: {generic} is not a table (a list of items)"
            generic += "[]"
            if seg.field is not None:
                field = known.get(f"{generic}.{seg.field}")
                if field is None:
                    return (
                        f"path {scope.text!r}: the items of {generic[:-2]} have no field "
                        f"{seg.field!r}"
                    )
                if field.kind not in _SELECTABLE:
                    return (
                        f"path {scope.text!r}: {generic}.{seg.field} is {field.kind.value}; an "
                        "item is selected by a text, choice or code field"
                    )
    if generic in known or any(k.startswith((generic + ".", generic + "[")) for k in known):
        return scope
    return f"path {scope.text!r}: no such field in a proposal (see docs/fields.md)"
