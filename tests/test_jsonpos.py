"""The JSON position scanner: every pointer it reports starts exactly at that value."""

from __future__ import annotations

import json
import tracemalloc
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from compliance.proposal.jsonpos import (
    LineIndex,
    PointerIndex,
    constant_offset,
    pointer_offset,
    value_offsets,
)

KEYS = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=6)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=25,
)


def pointers(value: Any, prefix: str = "") -> dict[str, Any]:
    out = {prefix: value}
    if isinstance(value, dict):
        for key, item in value.items():
            escaped = key.replace("~", "~0").replace("/", "~1")
            out.update(pointers(item, f"{prefix}/{escaped}"))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out.update(pointers(item, f"{prefix}/{i}"))
    return out


@settings(max_examples=300)
@given(VALUES, st.sampled_from([None, 1, 2]), st.booleans())
def test_every_pointer_starts_at_its_value(
    value: Any, indent: int | None, ascii_only: bool
) -> None:
    text = json.dumps(value, indent=indent, ensure_ascii=ascii_only)
    offsets = value_offsets(text)
    expected = pointers(value)
    assert set(offsets) == set(expected)
    decoder = json.JSONDecoder()
    for pointer, offset in offsets.items():
        decoded, _ = decoder.raw_decode(text, offset)
        assert decoded == expected[pointer]


def test_segments_of_json_lines() -> None:
    text = '{"a": 1}\n{"a": [true, {"b": "x"}]}\n'
    second = text.index("\n") + 1
    offsets = value_offsets(text, second, len(text))
    assert offsets == {
        "": second,
        "/a": second + 6,
        "/a/0": second + 7,
        "/a/1": second + 13,
        "/a/1/b": second + 19,
    }


def test_line_index() -> None:
    index = LineIndex("ab\ncd\n\nef")
    assert [index.line_column(i) for i in (0, 1, 3, 6, 7)] == [
        (1, 1),
        (1, 2),
        (2, 1),
        (3, 1),
        (4, 1),
    ]


@settings(max_examples=300)
@given(VALUES, st.sampled_from([None, 1, 2]), st.booleans())
def test_one_path_is_found_where_the_whole_map_puts_it(
    value: Any, indent: int | None, ascii_only: bool
) -> None:
    text = " " + json.dumps(value, indent=indent, ensure_ascii=ascii_only) + "\n"
    for pointer, offset in value_offsets(text, 1).items():
        assert pointer_offset(text, pointer, 1) == offset
    assert pointer_offset(text, "/no such key/7", 1) is None


@settings(max_examples=300)
@given(VALUES, st.sampled_from([None, 1, 2]), st.booleans(), st.randoms())
def test_the_pointer_index_finds_what_the_whole_map_does(
    value: Any, indent: int | None, ascii_only: bool, rng: Any
) -> None:
    """In any order of lookups: each container walked is listed once and kept."""
    text = " " + json.dumps(value, indent=indent, ensure_ascii=ascii_only) + "\n"
    expected = value_offsets(text, 1)
    index = PointerIndex(text, 1)
    pointers = list(expected)
    rng.shuffle(pointers)
    assert {p: index.offset(p) for p in pointers} == expected
    assert index.offset("/no such key/7") is None
    assert index.offset("/no such key") is None


def test_the_pointer_index_stops_at_a_scalar_and_unescapes_keys() -> None:
    text = '{"a/b": {"~": [10, "x"]}, "s": "t"}'
    index = PointerIndex(text)
    assert index.offset("/a~1b/~0/1") == text.index('"x"')
    assert index.offset("/s/0") is None
    assert index.offset("/a~1b/~0/01") is None
    assert index.offset("") == 0


def test_the_pointer_index_passes_over_a_long_string_without_a_copy() -> None:
    text = json.dumps({"summary": "x" * 3_000_000, "id": "A"})
    tracemalloc.start()
    try:
        assert PointerIndex(text).offset("/id") == len(text) - 4
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 100_000


def test_a_long_string_is_scanned_in_memory_of_its_own_size() -> None:
    """The string pattern once cost ~100 bytes per character (a backtracking frame each)."""
    text = json.dumps({"summary": "x" * 3_000_000, "id": "A"})
    assert value_offsets(text)["/id"] == len(text) - 4


@settings(max_examples=50)
@given(st.text(alphabet="ab\n", max_size=200_000), st.data())
def test_line_index_agrees_with_counting(text: str, data: st.DataObject) -> None:
    index = LineIndex(text)
    for offset in data.draw(st.lists(st.integers(0, len(text)), max_size=20)):
        line = text.count("\n", 0, offset) + 1
        assert index.line_column(offset) == (line, offset - text.rfind("\n", 0, offset))


def test_line_index_past_the_first_block() -> None:
    text = "\n" * 70_000 + "x" * 70_000 + "\ny"
    index = LineIndex(text)
    assert index.line_column(140_000) == (70_001, 70_001)
    assert index.line_column(len(text) - 1) == (70_002, 1)


def test_constant_offset() -> None:
    text = '{"a": "NaN", "b": [1, -Infinity]}'
    assert constant_offset(text) == text.index("-Infinity")
    assert constant_offset('{"a": "Infinity"}') is None
