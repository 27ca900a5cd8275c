"""A review command's batch, from its inputs to its reports, in flat memory.

The reports that can be written as the batch flows (:data:`~compliance.reports.stream.STREAMED`)
are: JSON Lines straight to where it goes (standard output as reviews are made; a file through a
temporary file beside it, renamed at the end), text and JSON through spool files, since their
heads carry the batch's totals (text through one spool per decision, read back worst first). The
others are rendered from the whole report at the end. Decision records are appended before any
report is written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, TypeVar

from compliance.batch import windows as batch
from compliance.reports.output import streamed_to, write_parts
from compliance.reports.stream import STREAMED, DecisionSpools, Stream
from compliance.review.findings import Decision, Report, Summary

if TYPE_CHECKING:
    from compliance.review.reviewer import Reviewer

T = TypeVar("T")

Target = tuple[str, Path | None]


def review_batch(
    reviewer: Reviewer,
    paths: list[str],
    targets: list[Target],
    jobs: int | None,
    render: Callable[[str, Report], str | bytes],
    record: Callable[[list[dict[str, object]]], T] | None = None,
    *,
    brief: bool = False,
    failing_only: bool = False,
) -> tuple[Report, batch.Result, T | None]:
    """Review ``paths`` and write each target's report; ``record`` (when recording) gets every
    review's decision-record body before anything is reported and returns what the caller wants
    back. ``render`` gets a whole-report format and the report. ``brief`` and ``failing_only``
    shape the text report (see :mod:`compliance.reports.text`). Returns the report (its reviews
    only when a whole-report format was asked for), the batch's counts and what ``record``
    returned."""
    shell = reviewer.report([])
    redaction = reviewer.redaction
    if redaction is not None:  # imported only for a redacted review
        from compliance.reports.redact_check import check_output  # noqa: PLC0415

    def checked(fmt: str, output: str) -> str:
        if redaction is not None:
            check_output(redaction, fmt, output)
        return output

    streams = [(fmt, out) for fmt, out in targets if fmt in STREAMED]
    plan = batch.Plan(
        reviewer,
        tuple(
            Stream(fmt, reviewer.ruleset.domain_title, brief, failing_only) for fmt, _ in streams
        ),
        keep_reviews=len(streams) < len(targets),
        record_shell=shell if record is not None else None,
        recorded_at=dt.datetime.now(dt.timezone.utc) if record is not None else None,
    )
    with contextlib.ExitStack() as stack:
        sinks: list[IO[bytes] | DecisionSpools] = []
        for (fmt, out), stream in zip(streams, plan.streams, strict=True):
            if fmt == "jsonl":  # its head is known now: straight to where it goes
                lines = stack.enter_context(streamed_to(out))
                lines.write(checked(fmt, stream.head(shell)).encode())
                sinks.append(lines)
            elif fmt == "text":
                sinks.append(DecisionSpools(stack))
            else:
                sinks.append(stack.enter_context(tempfile.TemporaryFile()))
        result = batch.run(plan, paths, sinks, jobs or batch.default_jobs())
        report = _counted(shell, reviewer, result)
        whole = {fmt: render(fmt, report) for fmt, _ in targets if fmt not in STREAMED}
        if redaction is not None:  # fails closed: nothing is written if an answer survived
            for fmt, output in whole.items():
                check_output(redaction, fmt, output)
        recorded = record(result.bodies) if record is not None else None
        for (fmt, out), stream, sink in zip(streams, plan.streams, sinks, strict=True):
            head, tail = checked(fmt, stream.head(report)), checked(fmt, stream.tail(report))
            if fmt == "jsonl":
                sink.write(tail.encode())
            elif isinstance(sink, DecisionSpools):
                reviews = sink.parts(stream.shown())
                write_parts([head, *reviews, tail], out)
            else:
                write_parts([head, sink, tail], out)
        for fmt, out in targets:
            if fmt in whole:
                write_parts([whole[fmt]], out)
    return report, result, recorded


def _counted(shell: Report, reviewer: Reviewer, result: batch.Result) -> Report:
    waivers = reviewer.waivers
    counted = shell.model_copy(
        update={
            "summary": Summary(
                proposals=result.proposals,
                decisions={d: result.decisions[d] for d in Decision},
            ),
            "waivers": None
            if waivers is None or result.tally is None
            else waivers.usage(result.tally, reviewer.ruleset),
            "reviews": result.reviews,
        }
    )
    return counted if reviewer.redaction is None else reviewer.redaction.report(counted)
