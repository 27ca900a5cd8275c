"""Reports written as a batch flows: text, JSON and JSON Lines.

Each format is a head (the run: tool, rules, gate, and for text and JSON the totals), one chunk
per review, and a tail. A chunk depends on its review alone, so it can be made in the process
that reviewed it; the head and tail are made once the batch is counted. Assembled in order they
give exactly the report the whole batch would render to (``Report.model_dump_json(indent=2)``
for JSON, :func:`compliance.report_text.render` for text).

JSON Lines (``--format jsonl``) is for batches too large to read as one document: one object
per line, each with one key, in this order: ``{"run": ...}`` (the report's fields known before
any review), ``{"review": ...}`` per proposal (as in the JSON report's ``reviews``), and
``{"summary": ..., "waivers": ...}`` last. A reader that did not get the last line did not get
the whole report.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from compliance.findings import Report, Review
from compliance.report_text import head_text, review_text, tail_text

STREAMED = ("text", "json", "jsonl")
"""Formats written as the batch flows; the others need the whole report at once."""

_REVIEWS_KEY = '\n  "reviews": []\n}'


@dataclass(frozen=True)
class Stream:
    """How one format is written a review at a time."""

    fmt: str
    domain_title: Callable[[str], str]

    def chunk(self, review: Review, first: bool) -> str:
        """The text of one review, as it follows the head (``first``) or the review before."""
        if self.fmt == "json":
            body = review.model_dump_json(indent=2).replace("\n", "\n    ")
            return ("\n    " if first else ",\n    ") + body
        if self.fmt == "jsonl":
            return '{"review":' + review.model_dump_json() + "}\n"
        return review_text(review, self.domain_title)

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
        return head_text(shell)

    def tail(self, shell: Report) -> str:
        if self.fmt == "json":
            return "\n  ]\n}\n"
        if self.fmt == "jsonl":
            waivers = "null" if shell.waivers is None else shell.waivers.model_dump_json()
            return '{"summary":' + shell.summary.model_dump_json() + ',"waivers":' + waivers + "}\n"
        return tail_text(shell)
