"""Where each value of a JSON text starts: JSON pointer -> character offset.

The standard library parser does not report positions, so findings and errors could not point at a
line. This scanner runs only on text that ``json.loads`` has already accepted, so it can assume
well-formed input; it tokenises with one regular expression and walks the tokens without recursion.
"""

from __future__ import annotations

import json
import re

_TOKEN = re.compile(
    r"""[ \t\r\n]*(?:
        (?P<string>"[^"\\]*(?:\\.[^"\\]*)*")
      | (?P<punct>[{}\[\]:,])
      | (?P<scalar>[^\s{}\[\]:,"]+)
    )""",
    re.VERBOSE | re.DOTALL,
)


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def value_offsets(
    text: str,
    start: int = 0,
    end: int | None = None,
    duplicates: list[tuple[str, int]] | None = None,
) -> dict[str, int]:
    """Map the JSON pointer of every value in ``text[start:end]`` to its offset in ``text``.

    The root value is ``""``; members are ``/key``; items are ``/0``. Offsets point at the first
    character of the value (the quote of a string, the bracket of an object or array). A key that
    repeats in one object is appended to ``duplicates`` as (pointer, offset of the later value).
    """
    stop = len(text) if end is None else end
    out: dict[str, int] = {}
    # Each frame: [pointer, is_object, next_index, pending_key]
    frames: list[list[object]] = []
    pos = start
    expecting_value_pointer: str | None = ""
    while pos < stop:
        match = _TOKEN.match(text, pos, stop)
        if match is None:
            break
        pos = match.end()
        kind = match.lastgroup
        offset = match.start(kind or "scalar")
        # Only punctuation and keys are read; a value is never copied out of ``text`` (a string
        # can be as long as the whole input).
        token = match.group(kind) if kind == "punct" else ""
        if kind == "punct":
            if token in "{[":
                pointer = expecting_value_pointer if expecting_value_pointer is not None else ""
                if pointer in out and duplicates is not None:
                    duplicates.append((pointer, offset))
                out[pointer] = offset
                frames.append([pointer, token == "{", 0, None])
                expecting_value_pointer = None if token == "{" else f"{pointer}/0"
            elif token in "}]":
                frames.pop()
                expecting_value_pointer = None
            elif token == ",":
                frame = frames[-1]
                if frame[1]:
                    expecting_value_pointer = None
                else:
                    frame[2] = int(str(frame[2])) + 1
                    expecting_value_pointer = f"{frame[0]}/{frame[2]}"
            elif token == ":":
                frame = frames[-1]
                expecting_value_pointer = f"{frame[0]}/{_escape(str(frame[3]))}"
            continue
        if kind == "string" and frames and frames[-1][1] and expecting_value_pointer is None:
            frames[-1][3] = json.loads(match.group(kind))
            continue
        pointer = expecting_value_pointer if expecting_value_pointer is not None else ""
        if pointer in out and duplicates is not None:
            duplicates.append((pointer, offset))
        out[pointer] = offset
        expecting_value_pointer = None
        if not frames:
            break
    return out


_CONSTANTS = frozenset({"NaN", "Infinity", "-Infinity"})


def constant_offset(text: str, start: int = 0, end: int | None = None) -> int | None:
    """Where the first ``NaN``, ``Infinity`` or ``-Infinity`` of ``text[start:end]`` is (the
    standard library reads them; JSON does not allow them), or ``None``."""
    stop = len(text) if end is None else end
    pos = start
    while pos < stop:
        match = _TOKEN.match(text, pos, stop)
        if match is None:
            return None
        pos = match.end()
        if match.lastgroup == "scalar" and match.group("scalar") in _CONSTANTS:
            return match.start("scalar")
    return None


_WS = re.compile(r"[ \t\r\n]*")
_BLOCK = 1 << 16


def pointer_offset(text: str, pointer: str, start: int = 0, end: int | None = None) -> int | None:
    """The offset of the value at ``pointer`` in the JSON value ``text[start:end]``, or ``None``.

    Unlike :func:`value_offsets` it walks only the path to the value, passing over every other
    value with the standard library's C scanner, so finding one place in a huge document costs
    no more than parsing what comes before it. ``text[start:end]`` must be valid JSON (the
    scanner may read past ``end`` only if it is not)."""
    stop = len(text) if end is None else end
    decoder = json.JSONDecoder()
    pos = _WS.match(text, start, stop).end()  # type: ignore[union-attr]
    parts = [] if pointer == "" else pointer[1:].split("/")
    for raw in parts:
        part = raw.replace("~1", "/").replace("~0", "~")
        if pos >= stop or text[pos] not in "{[":
            return None
        is_object = text[pos] == "{"
        pos = _WS.match(text, pos + 1, stop).end()  # type: ignore[union-attr]
        index = 0
        while pos < stop and text[pos] not in "}]":
            key: object = index
            if is_object:
                key, pos = decoder.raw_decode(text, pos)
                pos = _WS.match(text, pos, stop).end()  # type: ignore[union-attr]
                pos = _WS.match(text, pos + 1, stop).end()  # type: ignore[union-attr]  # ":"
            if (is_object and key == part) or (not is_object and str(index) == part):
                break
            _, pos = decoder.raw_decode(text, pos)
            pos = _WS.match(text, pos, stop).end()  # type: ignore[union-attr]
            if pos < stop and text[pos] == ",":
                pos = _WS.match(text, pos + 1, stop).end()  # type: ignore[union-attr]
            index += 1
        else:
            return None
    return pos if pos < stop else None


class PointerIndex:
    """Offsets of values in the JSON value ``text[start:end]``, found by walking only the
    containers on the pointers asked for, and in each only as far as the member asked for, as
    :func:`pointer_offset` does; the walk is kept and goes on from there for the next pointer,
    so the places shown in one proposal cost at most about one parse of it (values passed over by
    the standard library's C scanner), where :func:`value_offsets` tokenises every value in
    Python. A key that repeats in an object gives its first value, as :func:`pointer_offset`.
    ``text[start:end]`` must be valid JSON."""

    def __init__(self, text: str, start: int = 0, end: int | None = None) -> None:
        self._text = text
        self._stop = len(text) if end is None else end
        root = _WS.match(text, start, self._stop).end()  # type: ignore[union-attr]
        self._found: dict[str, int | None] = {"": root if root < self._stop else None}
        # Per container walked (by offset): its members seen so far, where the walk stopped
        # (-1: at the end), whether it stopped before the value of the last member seen, whether
        # it is an object, and how many members it has seen.
        self._walks: dict[int, tuple[dict[str, int], int, bool, bool, int]] = {}

    def offset(self, pointer: str) -> int | None:
        """The offset of the value at ``pointer``, or ``None`` if there is none."""
        found = self._found.get(pointer, -1)
        if found != -1:
            return found
        parent, _, raw = pointer.rpartition("/")
        base = self.offset(parent)
        if base is not None:
            found = self._member(base, raw.replace("~1", "/").replace("~0", "~"))
        else:
            found = None
        self._found[pointer] = found
        return found

    def _member(self, container: int, part: str) -> int | None:
        """The offset of member ``part`` (a key, or an index as text) of the container."""
        text, stop = self._text, self._stop
        walk = self._walks.get(container)
        if walk is None:
            if text[container] not in "{[":
                return None
            begin = _skip(text, container + 1, stop)
            walk = ({}, begin, False, text[container] == "{", 0)
        members, pos, pending, is_object, index = walk
        if part in members or pos < 0:
            return members.get(part)
        decode = _DECODER.raw_decode
        found = None
        while True:
            if pending:  # pass over the value of the member seen last
                if text[pos] == '"':  # without a copy: a string can be most of the input
                    pos = _STRING.match(text, pos, stop).end()  # type: ignore[union-attr]
                else:
                    _, pos = decode(text, pos)
                pos = _skip(text, pos, stop)
                if pos < stop and text[pos] == ",":
                    pos = _skip(text, pos + 1, stop)
            if pos >= stop or text[pos] in "}]":
                pos = -1
                break
            if is_object:
                key, pos = decode(text, pos)
                pos = _skip(text, pos, stop)
                pos = _skip(text, pos + 1, stop)  # ":"
            else:
                key = str(index)
            index += 1
            members.setdefault(key, pos)
            pending = True
            if key == part:
                found = members[key]
                break
        self._walks[container] = (members, pos, pending, is_object, index)
        return found


def _skip(text: str, pos: int, stop: int) -> int:
    """The first position from ``pos`` that is not JSON whitespace (most JSON, and every JSON
    Lines record a program writes, has none between tokens: no pattern is run then)."""
    if pos < stop and text[pos] in " \t\r\n":
        return _WS.match(text, pos, stop).end()  # type: ignore[union-attr]
    return pos


_DECODER = json.JSONDecoder()
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)


class LineIndex:
    """Turns character offsets into 1-based (line, column) pairs.

    It keeps the line count and the last line break at every 64 KiB of text, not every line
    start, so a text of millions of empty lines costs kilobytes to index, and a lookup scans at
    most 64 KiB: less when it counts on from the lookup before it, in the same block (the
    answers shown of one proposal are close to each other)."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._lines = [0]  # line breaks before each block
        self._last = [-1]  # offset of the last line break before each block
        for block in range(_BLOCK, len(text) + 1, _BLOCK):
            before = block - _BLOCK
            self._lines.append(self._lines[-1] + text.count("\n", before, block))
            found = text.rfind("\n", before, block)
            self._last.append(found if found >= 0 else self._last[-1])
        self._near = (0, 1)  # the offset and line of the lookup before

    def line_column(self, offset: int) -> tuple[int, int]:
        block = min(offset // _BLOCK, len(self._lines) - 1)
        begin = block * _BLOCK
        near, near_line = self._near
        if begin <= near <= offset:
            line = near_line + self._text.count("\n", near, offset)
        elif begin <= offset < near and near - offset < offset - begin:
            line = near_line - self._text.count("\n", offset, near)
        else:
            line = self._lines[block] + self._text.count("\n", begin, offset) + 1
        self._near = (offset, line)
        found = self._text.rfind("\n", begin, offset)
        last = found if found >= 0 else self._last[block]
        return line, offset - last
