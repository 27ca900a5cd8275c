"""Reviewing a large batch on several cores.

A review is CPU-bound Python, so a batch of many proposals (a register of a thousand rows) is
split over worker processes. They are forked from this process once the proposals are read and
the rule set is compiled, so each starts with its own copy of both and nothing is sent to it;
only the reviews come back, in order. Small batches, or one job, or a platform that cannot fork,
run in this process: the results are the same either way (a test checks it).

It fails closed: a worker that raises fails the batch with its error, and a worker that dies
fails it with :class:`EngineError`. No proposal is ever reported without its review.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING

from compliance.errors import EngineError
from compliance.findings import Review

if TYPE_CHECKING:
    from compliance.intake import LoadedProposal
    from compliance.review import Reviewer

PARALLEL_MIN = 200
"""Fewer proposals than this are reviewed in this process: forking costs more than it saves."""

CHUNKS_PER_JOB = 4

_batch: tuple[Reviewer, Sequence[LoadedProposal]] | None = None
"""The work of the current batch, inherited by forked workers."""


def default_jobs() -> int:
    """One job per core this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _review_range(bounds: tuple[int, int]) -> list[str]:
    """Reviews of a slice of the batch, as JSON: pydantic reads JSON back much faster than
    Python unpickles its models."""
    if _batch is None:
        raise EngineError("a review worker started without its batch")
    reviewer, items = _batch
    return [
        reviewer.review(item.proposal, item.source_map).model_dump_json()
        for item in items[slice(*bounds)]
    ]


def review_all(reviewer: Reviewer, items: Sequence[LoadedProposal], jobs: int) -> list[Review]:
    """Every item's review, in order, on up to ``jobs`` processes."""
    can_fork = "fork" in multiprocessing.get_all_start_methods()
    if jobs <= 1 or len(items) < PARALLEL_MIN or not can_fork:
        return [reviewer.review(item.proposal, item.source_map) for item in items]
    global _batch  # noqa: PLW0603 - forked workers find their batch here
    size = -(-len(items) // (jobs * CHUNKS_PER_JOB))
    bounds = [(start, min(start + size, len(items))) for start in range(0, len(items), size)]
    _batch = (reviewer, items)
    gc.freeze()  # workers' collections then leave the inherited objects (and their pages) alone
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            parts = list(pool.map(_review_range, bounds))
    except BrokenProcessPool:
        raise EngineError(
            "a review worker process died; no result is reported (run with --jobs 1 to "
            "review in one process)"
        ) from None
    finally:
        gc.unfreeze()
        _batch = None
    return [Review.model_validate_json(review) for part in parts for review in part]
