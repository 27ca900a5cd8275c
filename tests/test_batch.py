"""A batch flows from the inputs to the reports in windows: on several processes it gives exactly
the sequential result and fails closed when a worker fails; JSON Lines files are read a record at
a time with the problems, limits and messages of a whole read; the streamed reports are those the
whole batch renders to."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from compliance.batch import windows as batch
from compliance.batch.windows import PARALLEL_MIN, Plan, review_window, run
from compliance.errors import EngineError, InputError
from compliance.intake.proposals import LoadedProposal, read_proposals
from compliance.reports.stream import Stream
from compliance.review.reviewer import Reviewer
from tests.conftest import FIXTURES, run_cli


def _fixture_documents() -> list[dict[str, object]]:
    found = [json.loads(p.read_text()) for p in sorted(FIXTURES.glob("*.json"))]
    return [d for d in found if isinstance(d, dict)]


def _many(count: int) -> list[dict[str, object]]:
    fixtures = _fixture_documents()
    proposals = []
    for index in range(count):
        data = dict(fixtures[index % len(fixtures)])
        data["id"] = f"{data['id']}-{index}"
        proposals.append(data)
    return proposals


LINES = PARALLEL_MIN + 50


@pytest.fixture(scope="module")
def items(tmp_path_factory: pytest.TempPathFactory) -> list[LoadedProposal]:
    """PARALLEL_MIN + 17 proposals (every fixture, many times over), from one JSON list."""
    path = tmp_path_factory.mktemp("batch") / "batch.json"
    path.write_text(json.dumps(_many(PARALLEL_MIN + 17), indent=1))
    return read_proposals([str(path)])


@pytest.fixture(scope="module")
def lines_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same kind of batch as JSON Lines, large enough to be forked."""
    path = tmp_path_factory.mktemp("lines") / "batch.jsonl"
    with path.open("w") as handle:
        for data in _many(LINES):
            handle.write(json.dumps(data) + "\n")
    return path


def _plan(reviewer: Reviewer, *formats: str) -> Plan:
    return Plan(reviewer, tuple(Stream(f, reviewer.ruleset.domain_title) for f in formats))


def test_parallel_outcomes_equal_sequential_ones(
    items: list[LoadedProposal], durable: Reviewer
) -> None:
    plan = _plan(durable, "json", "text", "jsonl")
    sequential = list(review_window(plan, items, 0, jobs=1))
    assert [o.proposal_id for o in sequential] == [item.proposal.id for item in items]
    parallel = list(review_window(plan, items, 0, jobs=3))
    assert [(o.proposal_id, o.decision, o.chunks, o.marks) for o in parallel] == [
        (o.proposal_id, o.decision, o.chunks, o.marks) for o in sequential
    ]
    assert sequential[0].chunks[0].startswith(b"\n    {")  # the first review: no comma
    assert sequential[1].chunks[0].startswith(b",\n    {")


def test_kept_reviews_come_back_from_workers_whole(
    items: list[LoadedProposal], durable: Reviewer
) -> None:
    plan = Plan(durable, (), keep_reviews=True)
    sequential = [o.review for o in review_window(plan, items, 0, jobs=1)]
    assert [o.review for o in review_window(plan, items, 0, jobs=2)] == sequential
    assert sequential[0] == durable.review(items[0].proposal, items[0].source_map)


def test_small_windows_stay_in_this_process(
    items: list[LoadedProposal], durable: Reviewer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_pool(*args: object, **kwargs: object) -> None:
        raise AssertionError("a small window must not fork")

    monkeypatch.setattr(batch, "ProcessPoolExecutor", no_pool)
    small = items[: PARALLEL_MIN - 1]
    outcomes = list(review_window(_plan(durable), small, 0, jobs=4))
    assert [o.proposal_id for o in outcomes] == [item.proposal.id for item in small]


def test_a_worker_that_dies_fails_the_batch(
    items: list[LoadedProposal], durable: Reviewer, monkeypatch: pytest.MonkeyPatch
) -> None:
    parent = os.getpid()
    real = Reviewer.review

    def die_in_a_worker(self: Reviewer, *args: object, **kwargs: object) -> object:
        if os.getpid() != parent:
            os._exit(9)  # as a crash in the engine would
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Reviewer, "review", die_in_a_worker)
    with pytest.raises(EngineError) as caught:
        list(review_window(_plan(durable), items, 0, jobs=2))
    assert caught.value.problems == [
        "a review worker process died; no result is reported (run with --jobs 1 to review in "
        "one process)"
    ]
    assert batch._work is None  # nothing left behind


def test_a_worker_error_fails_the_batch_with_that_error(
    items: list[LoadedProposal], durable: Reviewer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disagree(self: Reviewer, *args: object, **kwargs: object) -> object:
        raise EngineError("P-1: the rule engine and the reference evaluator disagree on X-1")

    monkeypatch.setattr(Reviewer, "review", disagree)
    with pytest.raises(EngineError, match="disagree on X-1"):
        list(review_window(_plan(durable), items, 0, jobs=2))


def test_a_streamed_batch_flows_in_windows_and_keeps_no_review(
    lines_file: Path, durable: Reviewer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch, "WINDOW", 100)
    monkeypatch.setattr(batch, "PARALLEL_MIN", 40)  # windows of 100, 100, 50: all forked
    spools = [io.BytesIO(), io.BytesIO()]
    result = run(_plan(durable, "jsonl", "text"), [str(lines_file)], spools, jobs=2)
    assert result.proposals == LINES
    assert result.reviews == []
    assert result.bodies == []
    lines = spools[0].getvalue().decode().splitlines()
    assert [json.loads(line)["review"]["proposal_id"] for line in lines] == [
        str(d["id"]) for d in _many(LINES)
    ]
    alone = io.BytesIO()
    run(_plan(durable, "text"), [str(lines_file)], [alone], jobs=1)
    assert alone.getvalue() == spools[1].getvalue()


def test_the_cli_takes_jobs() -> None:
    one = run_cli("review", str(FIXTURES / "exemplary-humanitarian.json"), "--jobs", "1")
    assert one.code == 0
    bad = run_cli("review", str(FIXTURES / "exemplary-humanitarian.json"), "--jobs", "0")
    assert bad.code == 2
    assert (
        "Invalid value for '--jobs' (env var: 'COMPLIANCE_REVIEW_JOBS', 'COMPLIANCE_JOBS'): "
        "0 is not in the range x>=1." in bad.err
    )


def test_streamed_reports_equal_the_whole_report_at_any_jobs(
    lines_file: Path, tmp_path: Path
) -> None:
    """The JSON report of a JSON Lines batch, streamed, is the document the whole batch dumps
    to; the same with --jobs 1 and 2; its reviews are those of the JSON Lines report."""
    outs = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"r{jobs}.json"
        lines = tmp_path / f"r{jobs}.jsonl"
        done = run_cli(
            "review", str(lines_file), "--format", "json", "--format", "jsonl",
            "-o", str(out), "-o", str(lines), "--jobs", jobs, "--no-fail",
        )  # fmt: skip
        assert done.code == 0, done.err
        outs[jobs] = (out.read_bytes(), lines.read_bytes())
    assert outs["1"] == outs["2"]
    report = json.loads(outs["1"][0])
    records = [json.loads(line) for line in outs["1"][1].decode().splitlines()]
    assert [list(r) for r in records[:1]] == [["run"]]
    assert list(records[-1]) == ["summary", "waivers"]
    assert records[-1] == {"summary": report["summary"], "waivers": None}
    assert [r["review"] for r in records[1:-1]] == report["reviews"]
    run_part = {k: v for k, v in report.items() if k not in ("summary", "waivers", "reviews")}
    assert records[0] == {"run": run_part}
    assert report["summary"]["proposals"] == LINES


def _write_lines(path: Path, rows: list[str]) -> Path:
    path.write_text("".join(row + "\n" for row in rows), encoding="utf-8")
    return path


def test_a_bad_record_fails_the_stream_and_nothing_is_written(tmp_path: Path) -> None:
    good = [json.dumps(d) for d in _many(5)]
    path = _write_lines(tmp_path / "b.jsonl", [good[0], "", good[1], "{not json", good[2]])
    out = tmp_path / "out.json"
    done = run_cli("review", str(path), "--format", "json", "-o", str(out))
    assert done.code == 2
    assert done.err == (
        f"error: {path}:4:2: not valid JSON: Expecting property name enclosed in double quotes\n"
    )
    assert not out.exists()
    assert done.out == ""


def test_problems_of_a_stream_are_capped_as_a_whole_read_caps_them(tmp_path: Path) -> None:
    path = _write_lines(tmp_path / "bad.jsonl", ["[1,"] * 150)
    done = run_cli("review", str(path))
    assert done.code == 2
    lines = done.err.splitlines()
    assert len(lines) == 101
    assert lines[0] == f"error: {path}:1:4: not valid JSON: Expecting value"
    assert lines[-1] == f"error: {path}: more than 100 problems; fix these first"


def test_a_duplicate_id_in_a_stream_names_where_it_was_first_read(tmp_path: Path) -> None:
    rows = [json.dumps(d) for d in _many(3)]
    rows.append(rows[1])
    path = _write_lines(tmp_path / "dup.jsonl", rows)
    done = run_cli("review", str(path))
    assert done.code == 2
    pid = json.loads(rows[1])["id"]
    column = rows[1].index('"id"') + 7  # the value, after "id": and a space
    assert done.err == (
        f"error: {path}:4:{column}: {pid}: id: duplicate proposal id (first seen at "
        f"{path}:2:{column})\n"
    )


def test_a_stream_with_no_record_is_empty(tmp_path: Path) -> None:
    path = _write_lines(tmp_path / "blank.jsonl", ["", "   "])
    done = run_cli("review", str(path))
    assert (done.code, done.err) == (2, f"error: {path}: is empty\n")


def test_a_record_over_the_limit_is_refused(
    tmp_path: Path, durable: Reviewer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from compliance.intake import jsonlines

    monkeypatch.setattr(jsonlines, "MAX_RECORD_BYTES", 1000)
    rows = [json.dumps({"id": "P-1", "note": "x" * 2000})]
    path = _write_lines(tmp_path / "big.jsonl", rows)
    with pytest.raises(InputError) as caught:
        run(_plan(durable, "json"), [str(path)], [io.BytesIO()], jobs=1)
    assert caught.value.problems == [f"{path}:1: a record larger than 1000 bytes"]


def test_the_cli_takes_a_cross_check_mode_and_the_report_does_not_change(tmp_path: Path) -> None:
    flawed = str(FIXTURES / "flawed-refugee-data-sharing.json")
    reports = []
    for mode in ("fired", "sample", "full"):
        out = tmp_path / f"{mode}.json"
        done = run_cli("review", flawed, "--cross-check", mode, "--format", "json", "-o", str(out))
        assert done.code == 3, done.err
        reports.append(out.read_bytes())
    assert reports[0] == reports[1] == reports[2]
    bad = run_cli("review", flawed, "--cross-check", "some")
    assert bad.code == 2
    assert "Invalid value for '--cross-check': 'some' is not one of 'fired', 'full', 'sample'." in (
        bad.err
    )


def test_json_lines_go_out_as_they_are_made_and_end_with_the_summary(tmp_path: Path) -> None:
    rows = [json.dumps(d) for d in _many(3)]
    path = _write_lines(tmp_path / "ok.jsonl", rows)
    done = run_cli("review", str(path), "--format", "jsonl", "--no-fail")
    assert done.code == 0, done.err
    lines = [json.loads(line) for line in done.out.splitlines()]
    assert [next(iter(line)) for line in lines] == ["run", "review", "review", "review", "summary"]
    assert [line["review"]["source"] for line in lines[1:-1]] == [str(path)] * 3
    assert lines[-1]["summary"]["proposals"] == 3


def test_json_lines_of_a_failed_batch_have_no_summary_and_no_file(tmp_path: Path) -> None:
    rows = [json.dumps(d) for d in _many(2)]
    path = _write_lines(tmp_path / "bad.jsonl", [*rows, "[]"])
    done = run_cli("review", str(path), "--format", "jsonl")
    assert done.code == 2
    assert done.err == f"error: {path}:3:1: line 3: expected a proposal object, got []\n"
    # What was reviewed before the bad record went out; the summary line, never.
    assert [next(iter(json.loads(line))) for line in done.out.splitlines()] == [
        "run",
        "review",
        "review",
    ]
    out = tmp_path / "report.jsonl"
    done = run_cli("review", str(path), "--format", "jsonl", "-o", str(out))
    assert done.code == 2
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (b'{"b": "\x00"}', "not JSON text (a NUL byte at offset {})"),
        (b'{"b": "\xff"}', "not UTF-8 text (byte 0xff at offset {})"),
    ],
)
def test_a_streamed_file_is_refused_at_a_nul_or_a_bad_byte_with_its_offset(
    tmp_path: Path, bad: bytes, message: str
) -> None:
    first = json.dumps(_many(1)[0]).encode() + b"\n"
    path = tmp_path / "bad.jsonl"
    path.write_bytes(first + bad + b"\n")
    done = run_cli("review", str(path))
    assert done.code == 2
    assert done.err == f"error: {path}: {message.format(len(first) + 7)}\n"


def test_a_streamed_file_may_begin_with_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(_many(1)[0]).encode() + b"\n")
    done = run_cli("review", str(path), "--format", "json", "--no-fail")
    assert done.code == 0, done.err
    assert json.loads(done.out)["summary"]["proposals"] == 1
