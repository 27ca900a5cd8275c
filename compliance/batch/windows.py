"""A batch of any size reviewed as a stream, in windows, on one or several processes.

Proposals flow from the inputs to the reports a window at a time (:data:`WINDOW` proposals):
JSON Lines files are read a record at a time and parsed where they are reviewed; other inputs
(JSON documents, workbooks, standard input) are read whole, within their own limits, and their
proposals join the flow. Each review is turned at once into the chunks of the reports that are
written as they go (:mod:`compliance.reports.stream`), counted, and let go; only a format that
needs the whole report (HTML, SARIF, ...) or decision records keep the reviews. What stays per
proposal is its id, to refuse a duplicate: about 140 bytes.

Nothing is reported before the whole input is read and valid: chunks go to spool files, which
become the reports at the end. An invalid proposal fails the batch (its problems, up to
:data:`~compliance.intake.proposals.MAX_PROBLEMS`, are reported together) and the rest of the input
is only validated, not reviewed.

A window of at least :data:`PARALLEL_MIN` proposals is split over ``jobs`` forked worker
processes, which inherit the window and the compiled rules, so nothing is sent to them; they
send back the chunks and counts, not the reviews. Results do not depend on ``jobs`` (a test
checks it). A worker that dies fails the batch with :class:`EngineError`.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compliance.errors import EngineError, InputError
from compliance.gate.records import record_body
from compliance.intake.jsonlines import RawLine, file_sha256, open_regular, records
from compliance.intake.proposals import (
    MAX_PROBLEMS,
    LoadedProposal,
    check_paths,
    files_of,
    load_line,
    read_file,
    workbook_items,
)
from compliance.reports.stream import Spool, Stream
from compliance.review.findings import Decision, Report, Review
from compliance.review.waiver_tally import WaiverMark, WaiverTally, marks_of
from compliance.workbook.suffixes import is_workbook_path

if TYPE_CHECKING:
    import datetime as dt

    from compliance.review.reviewer import Reviewer

PARALLEL_MIN = 200
"""A window with fewer proposals than this is reviewed in this process: forking costs more
than it saves."""
WINDOW = 2000
"""Proposals read, reviewed and written per step."""
CHUNKS_PER_JOB = 4

Unit = LoadedProposal | RawLine

Progress = Callable[[int, str], None]
"""Told the number of proposals done and the input being read, after each proposal."""
_progress: list[Progress] = []


@contextlib.contextmanager
def progress(report: Progress) -> Iterator[None]:
    """Batches run in this block call ``report`` after each proposal (a progress line on a
    terminal; it decides how often to draw)."""
    _progress.append(report)
    try:
        yield
    finally:
        _progress.remove(report)


@dataclass(frozen=True)
class Problems:
    """Problems of an input found while reading it (not of one proposal)."""

    lines: tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    """What one proposal gave: its problems, or its review as the batch needs it."""

    problems: tuple[str, ...] = ()
    proposal_id: str = ""
    decision: Decision | None = None
    chunks: tuple[bytes, ...] = ()
    """Each stream's part for this review, encoded (UTF-8)."""
    marks: tuple[WaiverMark, ...] = ()
    review: Review | None = None
    review_json: str | None = None
    record: dict[str, Any] | None = None


@dataclass
class Plan:
    """What every review of the batch does; set up before any worker is forked."""

    reviewer: Reviewer
    streams: tuple[Stream, ...]
    keep_reviews: bool = False
    record_shell: Report | None = None
    """The report (without reviews) decision records are made against, when recording."""
    recorded_at: dt.datetime | None = None
    review: bool = True
    """False once the batch has failed: the rest is only validated."""


def default_jobs() -> int:
    """One job per core this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def units(
    paths: Sequence[str], skip: set[str], *, digests: bool = False
) -> Iterator[Unit | Problems]:
    """Every proposal of ``paths`` as it is read; problems of an input as :class:`Problems`.
    Reading an input stops once its name is in ``skip``. ``digests``: JSON Lines records carry
    the sha256 of their file (read once more up front)."""
    for given in paths:
        try:
            files = files_of(given)
        except InputError as exc:
            yield Problems(tuple(exc.problems))
            continue
        for path in files:
            handle = open_regular(path) if Path(path).suffix.lower() in _STREAMED else None
            try:
                if handle is not None:
                    digest = file_sha256(handle) if digests else ""
                    for line in records(handle, path, digest):
                        if path in skip:
                            break
                        yield line
                elif is_workbook_path(path):
                    yield from workbook_items(path)
                else:
                    yield from read_file(path).loaded
            except InputError as exc:
                yield Problems(tuple(exc.problems))


_STREAMED = frozenset({".jsonl", ".ndjson"})


def process(plan: Plan, unit: Unit, index: int, keep_object: bool) -> Outcome:
    """Read (a JSON Lines record), review and render one proposal."""
    if isinstance(unit, RawLine):
        try:
            item = load_line(unit.source, unit.number, unit.text, unit.digest)
        except InputError as exc:
            return Outcome(problems=tuple(exc.problems))
    else:
        item = unit
    if not plan.review:
        return Outcome(proposal_id=item.proposal.id)
    review = plan.reviewer.review(item.proposal, item.source_map)
    redaction = plan.reviewer.redaction
    if redaction is not None:  # imported only for a redacted review
        from compliance.reports.redact_check import check_output  # noqa: PLC0415
    record = None
    if plan.record_shell is not None and plan.recorded_at is not None:
        record = record_body(review, item, plan.record_shell, plan.recorded_at)
        if redaction is not None:
            record = redaction.record(record)
            check_output(redaction, "json", json.dumps(record, default=str), redaction.met)
    kept = plan.keep_reviews
    chunks = tuple(s.chunk(review, index == 0, item.proposal) for s in plan.streams)
    if redaction is not None:
        for stream, chunk in zip(plan.streams, chunks, strict=True):
            check_output(redaction, stream.fmt, chunk, redaction.met)
    return Outcome(
        proposal_id=item.proposal.id,  # waivers and duplicates go by the real id
        decision=review.decision,
        chunks=tuple(c.encode() for c in chunks),
        marks=marks_of(review),
        review=review if kept and keep_object else None,
        review_json=review.model_dump_json() if kept and not keep_object else None,
        record=record,
    )


_work: tuple[Plan, Sequence[Unit], int] | None = None
"""The window being reviewed, inherited by forked workers."""


def _review_range(bounds: tuple[int, int]) -> list[Outcome]:
    if _work is None:
        raise EngineError("a review worker started without its batch")
    plan, window, first = _work
    return [process(plan, window[i], first + i, keep_object=False) for i in range(*bounds)]


def review_window(plan: Plan, window: Sequence[Unit], first: int, jobs: int) -> Iterator[Outcome]:
    """The outcomes of a window of proposals, in order, on up to ``jobs`` processes: each as
    soon as it is known, so that the caller writes one part while the workers make the next."""
    # A redacted report numbers its placeholders across the batch: in this process.
    serial = plan.reviewer.redaction is not None
    if serial or jobs <= 1 or len(window) < PARALLEL_MIN or not hasattr(os, "fork"):
        for i, unit in enumerate(window):
            yield process(plan, unit, first + i, keep_object=True)
        return
    yield from _forked(plan, window, first, jobs)


def ProcessPoolExecutor(**kwargs: Any) -> Any:
    """The process pool (imported only when a window is forked: a small review never pays for
    it)."""
    from concurrent.futures import ProcessPoolExecutor as pool  # noqa: PLC0415

    return pool(**kwargs)


def _forked(plan: Plan, window: Sequence[Unit], first: int, jobs: int) -> Iterator[Outcome]:
    import multiprocessing  # noqa: PLC0415 - see ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool  # noqa: PLC0415

    global _work  # noqa: PLW0603 - forked workers find their window here
    size = -(-len(window) // (jobs * CHUNKS_PER_JOB))
    bounds = [(start, min(start + size, len(window))) for start in range(0, len(window), size)]
    _work = (plan, window, first)
    gc.freeze()  # workers' collections then leave the inherited objects (and their pages) alone
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            # Taken in order as they come: this process writes one part while workers make
            # the next, and holds at most the parts made ahead of the one it waits for.
            for part in pool.map(_review_range, bounds):
                for outcome in part:
                    yield _with_review(outcome) if plan.keep_reviews else outcome
    except BrokenProcessPool:
        raise EngineError(
            "a review worker process died; no result is reported (run with --jobs 1 to "
            "review in one process)"
        ) from None
    finally:
        gc.unfreeze()
        _work = None


def _with_review(outcome: Outcome) -> Outcome:
    if outcome.review_json is None:
        return outcome
    review = Review.model_validate_json(outcome.review_json)
    return replace(outcome, review=review, review_json=None)


@dataclass
class Result:
    """A batch as counted: what the reports' heads and tails, the gate and the records need."""

    decisions: Counter[Decision] = field(default_factory=Counter)
    tally: WaiverTally | None = None
    reviews: list[Review] = field(default_factory=list)
    bodies: list[dict[str, Any]] = field(default_factory=list)

    @property
    def proposals(self) -> int:
        return sum(self.decisions.values())


def run(
    plan: Plan,
    paths: Sequence[str],
    spools: Sequence[Spool],
    jobs: int,
) -> Result:
    """Review every proposal of ``paths``, writing each stream's chunks to its spool; raise
    :class:`InputError` with every problem (nothing in the spools is then to be reported)."""
    check_paths(list(paths))
    waivers = plan.reviewer.waivers
    result = Result(tally=waivers.tally() if waivers is not None else None)
    state = _State(_Ids())
    index = 0
    window: list[Unit] = []

    tick = _progress[-1] if _progress else None

    def flush() -> None:
        nonlocal index
        outcomes = review_window(plan, window, index, jobs)
        for done, (unit, outcome) in enumerate(zip(window, outcomes, strict=True), index + 1):
            state.absorb(plan, result, unit, outcome, spools)
            if tick is not None:
                tick(done, unit.source)
        index += len(window)
        window.clear()

    for unit in units(paths, state.capped, digests=plan.record_shell is not None):
        if isinstance(unit, Problems):
            if window:  # the proposals read before come first, as they were read
                flush()
            state.problems.extend(unit.lines)
            plan.review = False
            continue
        if not state.starts(unit.source):
            break
        window.append(unit)
        if len(window) >= WINDOW:
            flush()
    if window:
        flush()
    problems = state.problems + state.ids.duplicates()
    if problems:
        raise InputError(problems)
    return result


@dataclass
class _State:
    """The problems of a batch so far, capped as a whole read caps them: at most
    :data:`MAX_PROBLEMS` per input, and no new input once there are that many in all."""

    ids: _Ids
    problems: list[str] = field(default_factory=list)
    per_source: Counter[str] = field(default_factory=Counter)
    capped: set[str] = field(default_factory=set)
    current: str | None = None
    done: bool = False

    def starts(self, source: str) -> bool:
        """Whether a proposal of ``source`` is still read (a new input is not, past the cap)."""
        if source != self.current:
            self.current = source
            if len(self.problems) >= MAX_PROBLEMS:
                self.problems.append(f"more than {MAX_PROBLEMS} problems in all; fix these first")
                self.done = True
        return not self.done

    def absorb(
        self,
        plan: Plan,
        result: Result,
        unit: Unit,
        outcome: Outcome,
        spools: Sequence[Spool],
    ) -> None:
        if outcome.problems:
            plan.review = False
            source = unit.source
            if source in self.capped:
                return
            room = MAX_PROBLEMS - self.per_source[source]
            self.problems.extend(outcome.problems[:room])
            self.per_source[source] += len(outcome.problems)
            if self.per_source[source] >= MAX_PROBLEMS:
                self.problems.append(
                    f"{source}: more than {MAX_PROBLEMS} problems; fix these first"
                )
                self.capped.add(source)
            return
        self.ids.add(outcome.proposal_id, unit)
        if self.ids.found:
            plan.review = False  # a duplicate id fails the batch: the rest is only validated
        if not plan.review or outcome.decision is None:
            return
        result.decisions[outcome.decision] += 1
        for spool, chunk in zip(spools, outcome.chunks, strict=True):
            spool.write(chunk)
        if result.tally is not None:
            result.tally.add(outcome.proposal_id, outcome.marks)
        if outcome.review is not None:
            result.reviews.append(outcome.review)
        if outcome.record is not None:
            result.bodies.append(outcome.record)


class _Ids:
    """Every proposal id of the batch and where it was read, compactly (an input's number and
    the proposal's line or position in it); a duplicate's first place is found again only when
    one is reported."""

    def __init__(self) -> None:
        self._stdin: list[LoadedProposal] = []
        self._sources: dict[str, int] = {}
        self._names: list[str] = []
        self._position: dict[str, int] = {}
        self._seen: dict[str, int] = {}
        self._found: list[tuple[str, str, int]] = []

    @property
    def found(self) -> bool:
        return bool(self._found)

    def add(self, proposal_id: str, unit: Unit) -> None:
        source = unit.source
        number = self._sources.get(source)
        if number is None:
            number = self._sources[source] = len(self._names)
            self._names.append(source)
        if isinstance(unit, RawLine):
            position = unit.number
        else:
            if source == "-":  # read once: kept (within the input limit) to be found again
                self._stdin.append(unit)
            position = self._position.get(source, 0)
            self._position[source] = position + 1
        first = self._seen.setdefault(proposal_id, (number << 32) | position)
        if first != (number << 32) | position:
            self._found.append((proposal_id, _where_id(unit), first))

    def duplicates(self) -> list[str]:
        return [
            f"{where}: {pid}: id: duplicate proposal id (first seen at {self._first(first)})"
            for pid, where, first in self._found
        ]

    def _first(self, packed: int) -> str:
        source = self._names[packed >> 32]
        position = packed & 0xFFFFFFFF
        if source == "-":
            return _where_id(self._stdin[position])
        return _locate_again(source, position)


def _where_id(unit: Unit) -> str:
    if isinstance(unit, RawLine):
        item = load_line(unit.source, unit.number, unit.text, unit.digest)
        return str(item.source_map.locate("id"))
    return str(unit.source_map.locate("id"))


def _locate_again(source: str, position: int) -> str:
    """Where the id of a proposal read earlier is: its input is read again up to it."""
    handle = open_regular(source) if Path(source).suffix.lower() in _STREAMED else None
    if handle is not None:
        for line in records(handle, source):
            if line.number == position:
                handle.close()
                return _where_id(line)
    else:
        return _where_id(read_file(source).loaded[position])
    return source
