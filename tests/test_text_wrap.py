"""The text report wraps blocks as textwrap does, through a remembered fast path: every text
gives exactly textwrap's lines (including what textwrap does with tabs, line breaks and Unicode
whitespace at a line's end)."""

from __future__ import annotations

import textwrap

from hypothesis import given, settings
from hypothesis import strategies as st

from compliance.reports.text import WIDTH, _wrapped

PIECES = st.sampled_from(
    ["a", "word", " ", "  ", "\t", "\n", "\r", "\x0b", "é", "-", "\u00a0", "\u2003", "x" * 30]
)


@settings(max_examples=3000, deadline=None)
@given(
    text=st.lists(PIECES, max_size=60).map("".join),
    label=st.sampled_from(["", "-", "evidence:", "x" * 12]),
    indent=st.sampled_from(["", "   ", "      "]),
)
def test_blocks_wrap_exactly_as_textwrap_does(text: str, label: str, indent: str) -> None:
    head = f"{indent}{label:<10} "
    expected = textwrap.wrap(
        text,
        width=WIDTH,
        initial_indent=head,
        subsequent_indent=" " * len(head),
        break_long_words=False,
        break_on_hyphens=False,
    ) or [head.rstrip()]
    _wrapped.cache_clear()
    assert list(_wrapped(label, text, indent)) == expected
    assert list(_wrapped(label, text, indent)) == expected  # and again, remembered
