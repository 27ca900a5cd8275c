"""Hostile bodies through the real service on loopback: each is answered 413 or 422 with the
CLI's line, quickly, no worker grows past the budget, and the service goes on serving."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.hostile import PEAK_MB
from tests.test_hostile_json import proposal
from tests.test_hostile_workbook import CASES as WORKBOOK_CASES
from tests.test_hostile_workbook import Members
from tests.test_hostile_workbook import _base as base_workbook
from tests.test_hostile_workbook import _write as write_workbook
from tests.test_service import FIXTURES, XLSX, Server, start_server, stop

WALL_SECONDS = 5.0


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = start_server(tmp_path_factory.mktemp("hostile"), "--workers", "1")
    yield s
    stop(s)


def _peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmHWM for {pid}")


Body = Callable[[], bytes]
Mutation = Callable[[Members], Members]

JSON_CASES: list[tuple[str, Body, str]] = [
    (
        "a 19 MiB summary",
        lambda: json.dumps(proposal(summary="x" * (19 * 1024 * 1024))).encode(),
        "request.json:1:160: PRP-2026-077: summary: text is longer than 20000 characters",
    ),
    (
        "a summary of 1.5 million numbers",
        lambda: json.dumps(proposal(summary=list(range(1_500_000)))).encode(),
        "request.json:1:160: PRP-2026-077: summary: a list of more than 10,000 items",
    ),
    (
        "half a million unknown keys",
        lambda: json.dumps(proposal(**{f"k{i}": 0 for i in range(500_000)})).encode(),
        "request.json: not accepted: more than one member per 16 characters",
    ),
    (
        "a million empty proposals",
        lambda: b"[" + b",".join([b"{}"] * 1_000_000) + b"]",
        "request.json: not accepted: more than one object or list per 16 characters",
    ),
    (
        "200,000 keys of 16 characters",
        lambda: json.dumps(proposal(**{f"key {i:012d}": 0 for i in range(200_000)})).encode(),
        "request.json: not accepted: an object of more than 10,000 members",
    ),
]


@pytest.mark.parametrize(("label", "body", "problem"), JSON_CASES, ids=[c[0] for c in JSON_CASES])
def test_hostile_json_bodies_are_422_quickly_within_budget(
    served: Server, label: str, body: Body, problem: str
) -> None:
    data = body()
    started = time.monotonic()
    answer = served.review(data)
    elapsed = time.monotonic() - started
    assert answer.status == 422, answer.body[:300]
    assert answer.json()["error"]["problems"] == [problem]
    assert elapsed < WALL_SECONDS, f"answered after {elapsed:.1f} s"
    for pid in served.worker_pids():
        assert _peak_mb(pid) < PEAK_MB, f"a worker peaked at {_peak_mb(pid):.0f} MB"
    assert served.call("GET", "/readyz", token=None).status == 200
    fixture = (FIXTURES / "exemplary-humanitarian.json").read_bytes()
    assert served.review(fixture).status == 200


def test_a_body_over_the_limit_is_413_before_it_is_read(served: Server) -> None:
    answer = served.review(json.dumps(proposal(summary="x" * (50 * 1024 * 1024))).encode())
    assert answer.status == 413
    assert answer.json()["error"]["code"] == "payload_too_large"


@pytest.mark.parametrize(
    ("name", "mutate", "message"), WORKBOOK_CASES, ids=[c[0] for c in WORKBOOK_CASES]
)
def test_hostile_workbook_bodies_are_422_quickly_within_budget(
    served: Server, tmp_path: Path, name: str, mutate: Mutation, message: str
) -> None:
    path = tmp_path / "book.xlsx"
    write_workbook(path, mutate(base_workbook()))
    started = time.monotonic()
    answer = served.review(path.read_bytes(), "?filename=book.xlsx", content_type=XLSX)
    elapsed = time.monotonic() - started
    assert answer.status == 422, answer.body[:300]
    assert answer.json()["error"]["problems"] == message.split("\nerror: ")
    assert elapsed < WALL_SECONDS, f"answered after {elapsed:.1f} s"
    for pid in served.worker_pids():
        assert _peak_mb(pid) < PEAK_MB, f"a worker peaked at {_peak_mb(pid):.0f} MB"
    assert served.call("GET", "/readyz", token=None).status == 200
