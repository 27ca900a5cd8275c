"""Reports written as a batch flows: text, JSON and JSON Lines.

Each format is a head (the run: tool, rules, gate, and for text and JSON the totals), one chunk
per review, and a tail. A chunk depends on its review alone, so it can be made in the process
that reviewed it; the head and tail are made once the batch is counted. Assembled in order they
give exactly the report the whole batch would render to (``Report.model_dump_json(indent=2)``
for JSON, :func:`compliance.reports.text.render` for text).

JSON Lines (``--format jsonl``) is for batches too large to read as one document: one object
per line, each with one key, in this order: ``{"run": ...}`` (the report's fields known before
any review), ``{"review": ...}`` per proposal (as in the JSON report's ``reviews``), and
``{"summary": ..., "waivers": ...}`` last. A reader that did not get the last line did not get
the whole report.

A text report lists its reviews worst first (:data:`~compliance.reports.summary.WORST_FIRST`),
in input order within a decision: each text chunk starts with its decision's rank (one digit),
by which :class:`DecisionSpools` files it in that decision's spool and drops it; the spools are
read one after the other at the end. JSON and JSON Lines keep the input order.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any, Protocol

from compliance.reports.summary import FAILING, WORST_FIRST, decision_rank
from compliance.review.findings import Decision, Report, Review

STREAMED = ("text", "json", "jsonl")
"""Formats written as the batch flows; the others need the whole report at once."""

_REVIEWS_KEY = '\n  "reviews": []\n}'


@dataclass(frozen=True)
class Stream:
    """How one format is written a review at a time."""

    fmt: str
    domain_title: Callable[[str], str]
    brief: bool = False
    """Text: each review's opening lines alone (``--brief``)."""
    failing_only: bool = False
    """Text: only the reviews that fail the gate (``--quiet``)."""

    def chunk(self, review: Review, first: bool, proposal: Any = None) -> str:
        """The text of one review, as it follows the head (``first``) or the review before. A text
        chunk starts with its decision's rank, for :class:`DecisionSpools`. ``proposal``, the
        reviewed one, is for streams that need it (an impact comparison); a report's streams
        read all they show from the review."""
        if self.fmt == "json":
            body = review.model_dump_json(indent=2).replace("\n", "\n    ")
            return ("\n    " if first else ",\n    ") + body
        if self.fmt == "jsonl":
            return '{"review":' + review.model_dump_json() + "}\n"
        # The text report's module is imported when a text report is written, not for JSON.
        from compliance.reports.text import brief_text, review_text  # noqa: PLC0415

        rank = str(decision_rank(review.decision))
        if self.brief:
            return rank + brief_text(review)
        return rank + review_text(review, self.domain_title)

    def head(self, shell: Report) -> str:
        """What comes before the reviews. ``shell`` is the report (its reviews, if it holds any,
        are not written here)."""
        if self.fmt == "json":
            whole = shell.model_copy(update={"reviews": []}).model_dump_json(indent=2)
            if not whole.endswith(_REVIEWS_KEY):
                raise AssertionError("the JSON report must end with its reviews")
            return whole[: -len(_REVIEWS_KEY)] + '\n  "reviews": ['
        if self.fmt == "jsonl":
            run = shell.model_dump(mode="json", exclude={"summary", "waivers", "reviews"})
            return json.dumps({"run": run}, ensure_ascii=False, separators=(",", ":")) + "\n"
        from compliance.reports.text import head_text  # noqa: PLC0415

        return "" if self.brief else head_text(shell, self.failing_only)

    def tail(self, shell: Report) -> str:
        if self.fmt == "json":
            return "\n  ]\n}\n"
        if self.fmt == "jsonl":
            waivers = "null" if shell.waivers is None else shell.waivers.model_dump_json()
            return '{"summary":' + shell.summary.model_dump_json() + ',"waivers":' + waivers + "}\n"
        from compliance.reports.text import brief_tail, tail_text  # noqa: PLC0415

        if self.brief:
            return brief_tail(shell, self.failing_only)
        return tail_text(shell, self.failing_only)

    def shown(self) -> tuple[Decision, ...]:
        """The decisions whose reviews a text report shows, in the order it shows them."""
        return tuple(d for d in WORST_FIRST if not self.failing_only or d in FAILING)


class Spool(Protocol):
    """Where a stream's chunks go as the batch flows."""

    def write(self, data: bytes, /) -> object: ...


class DecisionSpools:
    """A text report's chunks, a temporary file per decision: memory stays flat however many
    reviews there are, and the reviews are read back worst first."""

    def __init__(self, stack: contextlib.ExitStack) -> None:
        """Open the spools in ``stack``, which closes (and so removes) them."""
        self._files = [
            stack.enter_context(tempfile.TemporaryFile())  # noqa: SIM115 - the stack closes it
            for _ in WORST_FIRST
        ]

    def write(self, data: bytes, /) -> int:
        """File a text chunk (its first byte the rank of its decision) in its decision's spool."""
        return self._files[data[0] - ord("0")].write(memoryview(data)[1:])

    def parts(self, decisions: tuple[Decision, ...]) -> list[IO[bytes]]:
        """The spools of ``decisions``, in that order."""
        return [self._files[decision_rank(d)] for d in decisions]
