"""Whether a cell's style lets a person opening the workbook see the value it stores.

Intake judges only what a person sees. A number format can show other text than the cell holds
(``;;;"Nothing to see"``), or nothing (``;;;``); a font can be the colour of its fill. This module
works out, once per cell style of the stylesheet, which values the style hides:

- text: the format's text section (its fourth, or the one holding ``@``) shows the text only
  when it prints ``@`` alone (colours, padding and spaces aside); anything else adds or replaces
  text;
- numbers and dates: the section that applies (positive, negative, zero; every one when the format
  has conditions) must hold a digit, date or time placeholder or ``General``: a section of
  literal text, or an empty one, hides the value (a dash for zero, as accounting formats show
  it, excepted);
- colour: a font whose RGB colour is its solid fill's, or white (``FFFFFF``, or a ``[White]``
  format) with no fill.

Not judged: theme and indexed colours other than white, conditional formats, tiny fonts, row
heights or column widths that are small but not zero, shapes drawn over a cell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

POSITIVE, NEGATIVE, ZERO = 1, 2, 4
ALL_SIGNS = POSITIVE | NEGATIVE | ZERO
WHITE = "FFFFFF"
#: Indexed colours 1 and 9 are white in the default palette every reader uses.
_INDEXED_WHITE = frozenset({"1", "9"})
_CONDITION = re.compile(r"\[\s*[<>=]")
_PLACEHOLDERS = frozenset("0#?yYmMdDhHsSeE")


def _tokens(section: str) -> list[tuple[str, str]]:
    """The section read once into what it prints: ``("literal", text)`` for quoted text and
    escaped characters, ``("elapsed", "h")`` for ``[h]``, ``[mm]``, ``[ss]``, ``("bare", char)``
    for every other character; brackets (colours, conditions), padding (``_x``) and fills
    (``*x``) print nothing and are left out."""
    out: list[tuple[str, str]] = []
    index = 0
    while index < len(section):
        char = section[index]
        if char == '"':
            end = section.find('"', index + 1)
            out.append(("literal", section[index + 1 : end if end >= 0 else len(section)]))
            index = len(section) if end < 0 else end + 1
        elif char == "\\":
            out.append(("literal", section[index + 1 : index + 2]))
            index += 2
        elif char in "_*":  # a space the width of one character, a fill
            index += 2
        elif char == "[":
            end = section.find("]", index + 1)
            inner = section[index + 1 : end if end >= 0 else len(section)]
            if inner and set(inner.lower()) <= set("hms"):
                out.append(("elapsed", inner))
            index = len(section) if end < 0 else end + 1
        else:
            out.append(("bare", char))
            index += 1
    return out


def _plain(section: str) -> str:
    """The section without quoted text, escaped characters and brackets (``[h]`` kept as
    ``h``): what is left are placeholders and the literal characters Excel allows bare."""
    return "".join(text for kind, text in _tokens(section) if kind != "literal")


def sections(code: str) -> list[str]:
    """The format's sections, split at each ``;`` that is not quoted, escaped or bracketed."""
    parts: list[str] = []
    start = index = 0
    while index < len(code):
        char = code[index]
        if char == '"':
            end = code.find('"', index + 1)
            index = len(code) if end < 0 else end + 1
            continue
        if char in "\\_*":
            index += 2
            continue
        if char == "[":
            end = code.find("]", index + 1)
            index = len(code) if end < 0 else end + 1
            continue
        if char == ";":
            parts.append(code[start:index])
            start = index + 1
        index += 1
    parts.append(code[start:])
    return parts


def _bare(section: str) -> str:
    """The characters the section prints: quoted and escaped text and bare characters, without
    brackets, padding (``_x``), fills (``*x``) and spaces."""
    return "".join(t for kind, t in _tokens(section) if kind != "elapsed").replace(" ", "")


def _shows_number(section: str) -> bool:
    plain = _plain(section)
    return "general" in plain.lower() or any(char in _PLACEHOLDERS for char in plain)


def _literal(section: str) -> str:
    """The text the section prints as it is: quoted and escaped."""
    return "".join(text for kind, text in _tokens(section) if kind == "literal")


_DATE_PLACEHOLDERS = frozenset("yYmMdDhHsS")


def _other_digits(section: str) -> bool:
    """Whether the section shows other digits than the value's: digits printed as text
    (``"1"0``, ``0\\0``, a bare ``1``), a percent (``0%`` shows 3 as 300%) or a scaling comma
    after the last digit placeholder (``0,`` shows 3000 as 3)."""
    plain = _plain(section)
    if any(char.isdigit() for char in _literal(section)) or any(c in "123456789" for c in plain):
        return True
    if "%" in plain:
        return True
    if any(char in _DATE_PLACEHOLDERS for char in plain) or "general" in plain.lower():
        return False
    last = max(plain.rfind(char) for char in "0#?")
    return last >= 0 and "," in plain[last:].split(".")[0]


def _text_section(parts: list[str]) -> str | None:
    if len(parts) >= 4:
        return parts[3]
    return next((part for part in parts if "@" in _plain(part)), None)


@dataclass(frozen=True)
class Hiding:
    """What one number format hides: text, and numbers of which signs."""

    text: bool
    signs: int


def hiding(code: str) -> Hiding:
    """What the number format ``code`` hides (``General`` and the built-in formats: nothing)."""
    parts = sections(code)
    text_part = _text_section(parts)
    text = text_part is not None and _bare(text_part) != "@"
    numeric = parts[:3]
    if len(parts) == 1 and text_part is not None:
        return Hiding(text, 0)  # a text format: numbers show as General
    if _CONDITION.search(code):
        hidden = any(not _shows_number(part) or _other_digits(part) for part in numeric)
        return Hiding(text, ALL_SIGNS if hidden else 0)
    positive = numeric[0]
    negative = numeric[1] if len(numeric) > 1 else positive
    zero = numeric[2] if len(numeric) > 2 else positive
    signs = 0
    for sign, part in ((POSITIVE, positive), (NEGATIVE, negative), (ZERO, zero)):
        dash = sign == ZERO and "-" in _bare(part) and set(_bare(part)) <= set("-$€£¥")
        if (not _shows_number(part) and not dash) or _other_digits(part):
            signs |= sign  # an accounting format's zero, a dash, is how zero is shown
    return Hiding(text, signs)


def white_in_format(code: str) -> bool:
    return "[white]" in code.lower()


def rgb(attrs: dict[str, str]) -> str | None:
    """A colour element's RGB (``FFFFFF``), when it gives one; None for theme colours."""
    value = attrs.get("rgb")
    if value is not None:
        return value.strip().upper()[-6:]
    if attrs.get("indexed", "").strip() in _INDEXED_WHITE:
        return WHITE
    return None


def unseen_colour(font: str | None, fill: str | None, filled: bool) -> str | None:
    """Why text in ``font`` colour on ``fill`` (``filled``: a fill of any pattern) cannot be
    seen, or None."""
    if font is None:
        return None
    if filled and fill is not None and fill == font:
        return f"is written in the colour of its fill ({font})"
    if not filled and font == WHITE:
        return f"is written in white ({WHITE}) with no fill"
    return None
