"""Validate one proposal and say what is wrong in words a person can act on.

Pydantic's own messages name types and internal locations; here every problem becomes one line that
names where it is (file and line, or sheet and cell), the field path, what was seen and what is
allowed. The whole error list of a proposal is reported at once, never only the first.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import ValidationError

from compliance.proposal.fields import Kind, catalogue, generic_path, path_from_loc
from compliance.proposal.model import CONTRACT_VERSION_ERROR, LIST_MAX, TEXT_MAX, Proposal
from compliance.proposal.scalars import NOT_TEXT, refused_character
from compliance.proposal.sourcemap import SourceMap

_MAX_SHOWN = 60
"""At most this many characters of a value seen in the input are shown in a message."""
_MAX_KEY = 40
"""At most this many characters of each key of a field path are shown in a message."""

# Shown escaped, so a message stays one line and displays as it reads: line breaks, tabs and every
# character the text rule refuses (controls, bidirectional overrides, lone surrogates).
_ESCAPED = re.compile(NOT_TEXT.pattern[:-1] + "\t\n\r]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(text: str) -> str:
    return _ESCAPED.sub(lambda m: _NAMED.get(m.group()) or f"\\u{ord(m.group()):04x}", text)


def _cut(text: str, limit: int) -> str:
    """``text`` escaped and cut to ``limit`` characters with a trailing "…" (only the part shown
    is escaped, so a huge value costs no more than a short one)."""
    flat = _escape(text[:limit])
    if len(flat) <= limit and len(text) <= limit:
        return flat
    return flat[: limit - 1] + "…"


def shown(value: Any) -> str:
    """A short rendering of a seen value for a message: one line, at most about 60 characters."""
    if isinstance(value, str):
        return "'" + _cut(value, _MAX_SHOWN) + "'"
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    return _cut(text, _MAX_SHOWN)


def shown_path(loc: tuple[int | str, ...]) -> str:
    """A field path for a message, each key cut short and escaped (an unknown key is input)."""
    return path_from_loc(tuple(_cut(p, _MAX_KEY) if isinstance(p, str) else p for p in loc))


def _number(value: Any) -> str:
    """A limit as a person writes it: 1000000000000000, not 1e+15 or 0.0."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _allowed(path: str) -> str:
    spec = catalogue().get(generic_path(path))
    if spec is None or not spec.values:
        return ""
    if spec.kind is Kind.CODE:
        return ""
    return ", ".join(spec.values)


def _members(parent: str) -> list[str]:
    """The fields of the object at ``parent`` (a section, or an item of a table)."""
    if not parent:
        return list(Proposal.model_fields)
    generic = generic_path(parent)
    # An item of a table (``data_sharing.flows[0]``) has the fields of the table's item model.
    spec = catalogue().get(generic.removesuffix("[]"))
    if spec is None or spec.model is None:
        return []
    return list(spec.model.model_fields)


def _unknown_field(key: object, parent: str) -> str:
    members = _members(parent)
    if not members:  # Never an empty suggestion: every object of the contract has fields.
        return "unknown field"
    import difflib  # noqa: PLC0415 - only when a key is unknown

    close = difflib.get_close_matches(str(key)[:_MAX_KEY], members, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return f"unknown field ({hint}allowed here: {', '.join(members)})"


def describe(error: dict[str, Any]) -> tuple[str, str]:
    """(field path, message) for one pydantic error."""
    loc = tuple(error["loc"])
    path = path_from_loc(loc)
    kind = error["type"]
    seen = error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        return path, _unknown_field(loc[-1], path_from_loc(loc[:-1]))
    if kind == "iso_date":
        return path, f"{shown(seen)} is not an ISO 8601 date (YYYY-MM-DD)"
    if kind == "country_code":
        return path, f"{shown(seen)} is not an ISO 3166-1 alpha-2 country code"
    if kind == "currency_code":
        return path, f"{shown(seen)} is not an ISO 4217 currency code"
    if kind == "missing":
        return path, "required field is missing"
    if kind == "literal_error":
        return path, f"{shown(seen)} is not {ctx.get('expected')}"
    if kind == "enum":
        # An item of a list of choices is reported at the item; name the list's allowed values.
        list_path = path_from_loc(loc[:-1]) if isinstance(loc[-1], int) else path
        allowed = _allowed(list_path) or str(ctx.get("expected", ""))
        return path, f"{shown(seen)} is not one of {allowed}"
    if kind == "bool_type":
        return path, f"expected true, false or null (not answered), got {shown(seen)}"
    if kind == "int_type":
        return path, f"expected a whole number, got {shown(seen)}"
    if kind == "float_type":
        return path, f"expected a number, got {shown(seen)}"
    if kind == "finite_number":
        return path, "expected a finite number"
    if kind == "string_unicode" and isinstance(seen, str):
        # A lone surrogate (JSON can write one as an escape): named like the text rule names it.
        return path, refused_character(seen) or "is not valid Unicode text"
    if kind == "string_type":
        return path, f"expected text, got {shown(seen)}"
    if kind == "list_type":
        return path, f"expected a list, got {shown(seen)}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return path, f"expected an object, got {shown(seen)}"
    if kind == "string_pattern_mismatch":
        if path == "id":
            return path, (
                f"{shown(seen)} is not a valid proposal id (1-64 letters, digits, '.', '_' or '-')"
            )
        spec = catalogue().get(generic_path(path))
        if spec is not None and spec.kind is Kind.CODE and len(spec.values[0]) == 2:
            return path, f"{shown(seen)} is not an ISO 3166-1 alpha-2 country code"
        if spec is not None and spec.kind is Kind.CODE:
            return path, f"{shown(seen)} is not an ISO 4217 currency code"
        return path, f"{shown(seen)} does not match {ctx.get('pattern')}"
    if kind == "string_too_short":
        return path, "must not be empty"
    if kind == "string_too_long":
        return path, f"text is longer than {TEXT_MAX} characters"
    if kind == "too_long":
        return path, f"has more than {LIST_MAX} items"
    if kind in ("greater_than_equal", "greater_than"):
        return path, f"{shown(seen)} is too small (minimum {_number(ctx.get('ge', ctx.get('gt')))})"
    if kind in ("less_than_equal", "less_than"):
        return path, f"{shown(seen)} is too large (maximum {_number(ctx.get('le', ctx.get('lt')))})"
    return path, str(error.get("msg", kind))


def validate_proposal(data: object, source_map: SourceMap, label: str) -> Proposal:
    """Validate ``data`` as a proposal or raise :class:`ValidationProblems` listing every problem.

    ``label`` names the proposal in messages (its id when it has one, else its position).
    """
    label = shown(label) if len(label) > _MAX_SHOWN or _ESCAPED.search(label) else label
    if not isinstance(data, dict):
        loc = source_map.locate("")
        raise ValidationProblems([f"{loc}: {label}: expected a proposal object, got {shown(data)}"])
    try:
        return Proposal.model_validate(data)
    except ValidationError as exc:
        lines = []
        later: list[str] | None = None
        for error in exc.errors(include_url=False):
            if error["type"] == CONTRACT_VERSION_ERROR:
                later = (error.get("ctx") or {}).get("paths", "").split(", ")
                continue
            path, message = describe(dict(error))
            loc = source_map.locate(path)
            where = shown_path(tuple(error["loc"])) or "(proposal)"
            lines.append(f"{loc}: {label}: {where}: {message}")
        if later is None and data.get("schema_version") == "1":
            # The model checks versions only once the rest is valid: say it now, all at once.
            later = _later_fields(data)
        for path in later or ():
            # One line per v2 field a v1 document answers, each at its own place.
            lines.append(
                f"{source_map.locate(path)}: {label}: {path}: a contract v2 field in a v1 "
                'proposal: set schema_version to "2" (compliance upgrade does it)'
            )
        raise ValidationProblems(lines) from None


def _later_fields(data: dict[str, Any], prefix: str = "") -> list[str]:
    """Concrete paths of the fields after contract v1 answered (not null) in raw ``data``."""
    found: list[str] = []
    for key, value in data.items():
        path = f"{prefix}{key}"
        spec = catalogue().get(generic_path(path))
        if spec is None or value is None:
            continue
        if spec.since != "1":
            found.append(path)
        elif isinstance(value, dict):
            found += _later_fields(value, f"{path}.")
        elif isinstance(value, list) and spec.kind is Kind.OBJECT_LIST:
            for index, item in enumerate(value):
                if isinstance(item, dict):
                    found += _later_fields(item, f"{path}[{index}].")
    return found


class ValidationProblems(Exception):
    """Problems found in one proposal (collected by intake into one :class:`InputError`)."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines
