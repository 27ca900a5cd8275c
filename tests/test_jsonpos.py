"""The JSON position scanner: every pointer it reports starts exactly at that value."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from compliance.jsonpos import LineIndex, value_offsets

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
