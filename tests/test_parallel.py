"""A large batch reviewed on several processes gives exactly the sequential result, and fails
closed when a worker fails."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from compliance import parallel
from compliance.errors import EngineError
from compliance.intake import LoadedProposal, read_proposals
from compliance.parallel import PARALLEL_MIN, review_all
from compliance.review import Reviewer
from tests.conftest import FIXTURES


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> list[LoadedProposal]:
    """PARALLEL_MIN + 17 proposals (every fixture, many times over), from one JSON list."""
    fixtures = [json.loads(p.read_text()) for p in sorted(FIXTURES.glob("*.json"))]
    proposals = []
    for index in range(PARALLEL_MIN + 17):
        data = dict(fixtures[index % len(fixtures)])
        data["id"] = f"{data['id']}-{index}"
        proposals.append(data)
    path = tmp_path_factory.mktemp("batch") / "batch.json"
    path.write_text(json.dumps(proposals, indent=1))
    return read_proposals([str(path)])


def test_parallel_reviews_equal_sequential_ones(
    batch: list[LoadedProposal], durable: Reviewer
) -> None:
    sequential = review_all(durable, batch, jobs=1)
    assert [r.proposal_id for r in sequential] == [item.proposal.id for item in batch]
    assert review_all(durable, batch, jobs=3) == sequential


def test_small_batches_stay_in_this_process(
    batch: list[LoadedProposal], durable: Reviewer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_pool(*args: object, **kwargs: object) -> None:
        raise AssertionError("a small batch must not fork")

    monkeypatch.setattr(parallel, "ProcessPoolExecutor", no_pool)
    small = batch[: PARALLEL_MIN - 1]
    assert [r.proposal_id for r in review_all(durable, small, jobs=4)] == [
        item.proposal.id for item in small
    ]


def test_a_worker_that_dies_fails_the_batch(
    batch: list[LoadedProposal], durable: Reviewer, monkeypatch: pytest.MonkeyPatch
) -> None:
    parent = os.getpid()
    real = Reviewer.review

    def die_in_a_worker(self: Reviewer, *args: object, **kwargs: object) -> object:
        if os.getpid() != parent:
            os._exit(9)  # as a crash in the engine would
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Reviewer, "review", die_in_a_worker)
    with pytest.raises(EngineError) as caught:
        review_all(durable, batch, jobs=2)
    assert caught.value.problems == [
        "a review worker process died; no result is reported (run with --jobs 1 to review in "
        "one process)"
    ]
    assert parallel._batch is None  # nothing left behind


def test_a_worker_error_fails_the_batch_with_that_error(
    batch: list[LoadedProposal], durable: Reviewer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disagree(self: Reviewer, *args: object, **kwargs: object) -> object:
        raise EngineError("P-1: the rule engine and the reference evaluator disagree on X-1")

    monkeypatch.setattr(Reviewer, "review", disagree)
    with pytest.raises(EngineError, match="disagree on X-1"):
        review_all(durable, batch, jobs=2)


def test_the_cli_takes_jobs(tmp_path: Path) -> None:
    from tests.conftest import run_cli

    one = run_cli("review", str(FIXTURES / "exemplary-humanitarian.json"), "--jobs", "1")
    assert one.code == 0
    bad = run_cli("review", str(FIXTURES / "exemplary-humanitarian.json"), "--jobs", "0")
    assert bad.code == 2
    assert "Invalid value for '--jobs': 0 is not in the range x>=1." in bad.err
