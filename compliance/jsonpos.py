"""Where each value of a JSON text starts: JSON pointer -> character offset.

The standard library parser does not report positions, so findings and errors could not point at a
line. This scanner runs only on text that ``json.loads`` has already accepted, so it can assume
well-formed input; it tokenises with one regular expression and walks the tokens without recursion.
"""

from __future__ import annotations

import bisect
import json
import re

_TOKEN = re.compile(
    r"""[ \t\r\n]*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
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
        token = match.group(kind or "scalar")
        offset = match.start(kind or "scalar")
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
            frames[-1][3] = json.loads(token)
            continue
        pointer = expecting_value_pointer if expecting_value_pointer is not None else ""
        if pointer in out and duplicates is not None:
            duplicates.append((pointer, offset))
        out[pointer] = offset
        expecting_value_pointer = None
        if not frames:
            break
    return out


class LineIndex:
    """Turns character offsets into 1-based (line, column) pairs."""

    def __init__(self, text: str) -> None:
        self._starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line_column(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self._starts, offset)
        return line, offset - self._starts[line - 1] + 1
