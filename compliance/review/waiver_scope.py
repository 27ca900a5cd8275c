"""A waiver's ``path``: the part of a proposal a waiver is limited to.

A path is a field path (``data_sharing.flows[1].purpose``) or part of one
(``data_sharing.flows[1]``, ``human_rights``). An item of a list may be named by position,
``flows[1]``, or by what it holds, ``flows[recipient="Ministry of Interior"]``: the item whose
``recipient`` is that text (compared ignoring letter case and runs of spaces, nothing else).

A position follows the list: if the list is reordered, the waiver covers whatever item is now
there. A selector follows the item, and covers nothing (the waiver is reported unused) once no
item holds that value, so an accepted risk never moves to another item unseen. A selector that
names several items of a proposal is an error when that proposal is reviewed: a waiver accepts
the risk of the item its approver saw, never of others added since that share its name.

The value is written as a JSON string, in double quotes, with ``\\"`` and ``\\\\`` for a quote or
a backslash (JSON's escapes only; no control characters). The field must be a text field of the
list's items (a name, a recipient), not a choice or a code, which sort items rather than name
them.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from compliance.proposal.fields import Kind, catalogue

_STRING = r'"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"'
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
    def specificity(self) -> tuple[int, int]:
        """How narrow the scope is, for choosing among waivers: the deeper, the narrower; at the
        same depth, an item named by what it holds before one named by position."""
        depth = sum(2 if s.index is not None or s.field is not None else 1 for s in self.segments)
        return depth, int(self.has_selector)

    @property
    def key(self) -> str:
        """The scope in a canonical form: two paths that name the same part have one key."""
        parts = []
        for s in self.segments:
            if s.index is not None:
                parts.append(f"{s.name}[{s.index}]")
            elif s.field is not None:
                parts.append(f"{s.name}[{s.field}={json.dumps(_norm(s.value or ''))}]")
            else:
                parts.append(s.name)
        return ".".join(parts)

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
                    if isinstance(value, list) and seg.index < len(value):
                        step.append((f"{here}[{seg.index}]", value[seg.index]))
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
    return isinstance(held, str) and _norm(held) == _norm(wanted)


def _norm(text: str) -> str:
    """Letter case and runs of white space ignored; nothing else (no compatibility folding:
    two names that only look alike stay apart)."""
    return " ".join(unicodedata.normalize("NFC", text).split()).lower()


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
        if value is not None and any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
            return f"path {path!r}: a selector's value contains control characters"
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
                if field.kind is not Kind.TEXT:
                    return (
                        f"path {scope.text!r}: {generic}.{seg.field} is {field.kind.value}; an "
                        "item is named by a text field (a name, a recipient)"
                    )
    if generic in known or any(k.startswith((generic + ".", generic + "[")) for k in known):
        return scope
    return f"path {scope.text!r}: no such field in a proposal (see docs/fields.md)"
