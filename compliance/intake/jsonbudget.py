"""The shape a JSON proposal may have, checked before it is validated, and the proposals of a
JSON list told apart as they are parsed.

The intake contract bounds every list (``LIST_MAX`` items) and every text (``TEXT_MAX``
characters), but validating a document that breaks those bounds a millionfold, and pointing at
where it does, would itself cost gigabytes. So each document parsed from JSON is first walked once
(without recursion) against the budgets below; one that exceeds them is refused with one line that
names where, and is never validated.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

MAX_DEPTH = 32
"""Containers nested in one proposal at most (the contract needs five)."""
MAX_ITEMS = 10_000
"""Members of one object or items of one list at most (the contract allows 500 items)."""
MAX_VALUES = 200_000
"""Values in one proposal at most, counting every member and item at every depth."""

CHARS_PER_CONTAINER = 16
"""An input holds at most one ``{`` or ``[`` per this many characters (plus a thousand). The
densest proposal written compactly holds one per 85; parsed, an empty list costs 64 bytes."""
CHARS_PER_MEMBER = 16
"""At most one ``:`` (an object's member) per this many characters (plus a thousand): the
densest compact proposal holds one per 32; parsed, a short key costs about 130 bytes."""
CHARS_PER_VALUE = 4
"""At most one ``,`` per this many characters (plus ten thousand): the densest compact proposal
holds one per 33."""

_WS = re.compile(r"[ \t\r\n]*")


def shape_problem(text: str) -> str | None:
    """Why the JSON ``text`` is denser in objects, members or values than any proposals are,
    judged before it is parsed, or ``None``.

    Parsing builds every value before a budget can be checked, and Python values cost far more
    than the characters they come from: a 12 MB list of empty lists took 1.5 GB to parse. These
    counts (characters inside strings included, so they can only overestimate) cost one pass of
    ``str.count`` each, and keep what parsing can cost to a few times the size of the text."""
    size = len(text)
    containers = text.count("{") + text.count("[")
    if containers > size // CHARS_PER_CONTAINER + 1000:
        return f"more than one object or list per {CHARS_PER_CONTAINER} characters"
    if text.count(":") > size // CHARS_PER_MEMBER + 1000:
        return f"more than one member per {CHARS_PER_MEMBER} characters"
    if text.count(",") > size // CHARS_PER_VALUE + 10_000:
        return f"more than one value per {CHARS_PER_VALUE} characters"
    return None


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def over_budget(document: Any) -> tuple[str, str] | None:
    """``(pointer, reason)`` for the first place ``document`` exceeds a budget, or ``None``."""
    values = 0
    stack: list[tuple[Any, str, int]] = [(document, "", 0)]
    while stack:
        value, pointer, depth = stack.pop()
        if isinstance(value, dict):
            members: Any = value.items()
        elif isinstance(value, list):
            members = enumerate(value)
        else:
            continue
        if depth >= MAX_DEPTH:
            return pointer, f"nested more than {MAX_DEPTH} levels deep"
        if len(value) > MAX_ITEMS:
            kind = "an object of" if isinstance(value, dict) else "a list of"
            noun = "members" if isinstance(value, dict) else "items"
            return pointer, f"{kind} more than {MAX_ITEMS:,} {noun}"
        values += len(value)
        if values > MAX_VALUES:
            return pointer, f"more than {MAX_VALUES:,} values in one proposal"
        for key, item in members:
            if isinstance(item, dict | list):
                stack.append((item, f"{pointer}/{_escape(str(key))}", depth + 1))
    return None


def list_items(
    text: str, decoder: json.JSONDecoder, check: Callable[[Any, int, int], None]
) -> list[tuple[Any, int, int]] | None:
    """The items of the JSON list that is the whole of ``text``, each with its span, parsed one
    at a time; ``check(item, start, end)`` sees each item as soon as it is parsed and may raise
    to stop. ``None`` when ``text`` is not exactly one well-formed list: the caller then parses
    it whole to report why."""
    pos = _WS.match(text).end()  # type: ignore[union-attr]
    if not text.startswith("[", pos):
        return None
    pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
    items: list[tuple[Any, int, int]] = []
    if text.startswith("]", pos):
        return items if _WS.match(text, pos + 1).end() == len(text) else None  # type: ignore[union-attr]
    while True:
        try:
            item, end = decoder.raw_decode(text, pos)
        except (ValueError, RecursionError):
            return None
        check(item, pos, end)
        items.append((item, pos, end))
        pos = _WS.match(text, end).end()  # type: ignore[union-attr]
        if text.startswith(",", pos):
            pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
        elif text.startswith("]", pos):
            return items if _WS.match(text, pos + 1).end() == len(text) else None  # type: ignore[union-attr]
        else:
            return None
