"""The decision log, on SQLite and on a real PostgreSQL server: exact round trips, filters, keyset
pagination, concurrency, durability after SIGKILL, schema versions and errors that name the store.

Every test that takes ``backend`` or ``log`` runs on both stores. The PostgreSQL runs use the
server named by COMPLIANCE_TEST_POSTGRES_URL (``.ci/postgres`` starts one and prints it) and skip
when it is unset; each test gets its own schema, dropped afterwards, so parallel runs and
replicas do not collide.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import random
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from compliance.errors import UsageError
from compliance.exitcodes import ExitCode
from compliance.service.decision_log import (
    SCHEMA_VERSION,
    DecisionLog,
    DecisionLogError,
    DecisionRecord,
    new_id,
    open_log,
)
from compliance.service.log_postgres import PostgresLog
from compliance.service.log_sqlite import SqliteLog

from .conftest import ROOT

PG_URL = os.environ.get("COMPLIANCE_TEST_POSTGRES_URL", "")
PG_SKIP = (
    "COMPLIANCE_TEST_POSTGRES_URL is not set: the PostgreSQL decision log tests need a server "
    "(run .ci/postgres and eval its output)"
)
_RUN = f"dl_{os.getpid()}_{uuid.uuid4().hex[:8]}"  # this run's schemas: dl_<pid>_<random>_<n>
_SCHEMAS = itertools.count()
T0 = dt.datetime(2026, 3, 1, 9, 0, 0, 123456, tzinfo=dt.timezone.utc)


def _with_query(url: str, **params: str) -> str:
    return url + ("&" if "?" in url else "?") + "&".join(f"{k}={v}" for k, v in params.items())


def _drop_schema(schema: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@dataclass(frozen=True)
class Backend:
    name: str
    target: str  # what open_log takes
    schema: str | None = None

    def open(self) -> DecisionLog:
        return open_log(self.target)


@contextmanager
def _postgres() -> Iterator[Backend]:
    if not PG_URL:
        pytest.skip(PG_SKIP)
    schema = f"{_RUN}_{next(_SCHEMAS)}"
    try:
        yield Backend("postgres", _with_query(PG_URL, schema=schema), schema)
    finally:
        _drop_schema(schema)


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        yield Backend("sqlite", str(tmp_path / "logs" / "decisions.sqlite"))
        return
    with _postgres() as postgres:
        yield postgres


@pytest.fixture
def postgres() -> Iterator[Backend]:
    """PostgreSQL only: a schema of its own."""
    with _postgres() as backend:
        yield backend


@pytest.fixture
def log(backend: Backend) -> Iterator[DecisionLog]:
    with backend.open() as opened:
        yield opened


def make_record(n: int = 0, **changes: Any) -> DecisionRecord:
    fields: dict[str, Any] = {
        "id": new_id(),
        "created_at": T0 + dt.timedelta(seconds=n),
        "client": "ops-team",
        "input_sha256": "sha256:" + f"{n:064x}",
        "input_kind": "json",
        "rule_set_name": "builtin",
        "rule_set_version": "2026.1",
        "rule_set_hash": "sha256:" + "ab" * 32,
        "tool_version": "0.3.0",
        "decision": "approve",
        "exit_code": 0,
        "proposals": [{"id": f"PRP-{n}", "decision": "approve"}],
        "report": {"report_version": "1.2", "reviews": [{"proposal_id": f"PRP-{n}"}]},
    }
    fields.update(changes)
    return DecisionRecord(**fields)


def _page_through(log: DecisionLog, limit: int, **filters: Any) -> list[str]:
    ids: list[str] = []
    before: str | None = None
    while True:
        page = log.list(limit=limit, before=before, **filters)
        ids.extend(r.id for r in page)
        if len(page) < limit:
            return ids
        before = page[-1].id


# --- Records ------------------------------------------------------------------------------------

RICH_REPORT: dict[str, Any] = {
    "report_version": "1.2",
    "tool_version": "0.3.0",
    "zeta_before_alpha": True,  # key order is kept, not sorted
    "rule_set": {"name": "builtin", "version": "2026.1", "hash": "sha256:" + "cd" * 32},
    "summary": {"proposals": 2, "decisions": {"reject": 1, "needs_information": 1}},
    "reviews": [
        {
            "proposal_id": "PRP-2026-034",
            "title": "Partage de données biométriques — réfugiés (ثبت‌نام) 难民数据 🛂",
            "decision": "reject",
            "findings": [
                {
                    "rule_id": "DP-001",
                    "severity": "critical",
                    "message": "Ministère de l'Intérieur would receive «biometric» data: ñ, ß, İ, ǅ",
                    "evidence": [
                        {
                            "path": "data_sharing.flows[1].granularity",
                            "value": "individual",
                            "location": {"file": "flawed.xlsx", "sheet": "Flows", "cell": "M3"},
                        },
                        {"path": "x", "value": None, "location": None},
                    ],
                    "references": [
                        {"url": "https://example.org/a(b)?c=d&e=é", "binding": "required"}
                    ],
                    "waived": False,
                    "weights": [0.1, 1e-300, 1.5e300, -0.0, 12345678901234567890],
                    "controls": 'tab\tnewline\nquote"backslash\\nul\x00bell\x07',
                    "astral": "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 and a lone surrogate \ud800",
                },
            ],
            "unanswered": [],
        },
        {"proposal_id": "PRP-2026-077", "decision": "needs_information", "findings": []},
    ],
    "empty": {},
    "nested": [[[]], [{}], [[1, [2, [3, {"deep": ["🌍"]}]]]]],
}


def test_a_record_round_trips_exactly(log: DecisionLog) -> None:
    record = make_record(
        7,
        created_at=dt.datetime(
            2026, 3, 1, 14, 30, 5, 654321, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))
        ),
        client="ministère-équipe ✓",
        input_kind="workbook",
        decision="reject",
        exit_code=3,
        proposals=[
            {"id": "PRP-2026-034", "decision": "reject"},
            {"id": "PRP-2026-077", "decision": "needs_information"},
            {"id": "PRP-2026-034", "decision": "reject"},  # the same id twice in a batch
        ],
        report=RICH_REPORT,
    )
    log.append(record)
    got = log.get(record.id)
    assert got == record
    assert got is not None
    for name in DecisionRecord.__dataclass_fields__:
        assert getattr(got, name) == getattr(record, name), name
    assert got.created_at == dt.datetime(2026, 3, 1, 9, 0, 5, 654321, tzinfo=dt.timezone.utc)
    assert got.created_at.tzinfo == dt.timezone.utc
    assert list(got.report) == list(RICH_REPORT)  # key order
    assert list(got.report["reviews"][0]["findings"][0]) == list(
        RICH_REPORT["reviews"][0]["findings"][0]
    )
    assert got.report["reviews"][0]["findings"][0]["weights"][4] == 12345678901234567890
    assert str(got.report["reviews"][0]["findings"][0]["weights"][3]) == "-0.0"
    assert got.to_dict() == record.to_dict()
    assert [r.id for r in log.list(proposal_id="PRP-2026-077")] == [record.id]


def test_get_of_an_unknown_id_is_none(log: DecisionLog) -> None:
    log.append(make_record())
    assert log.get(new_id()) is None
    assert log.get("not an id") is None
    assert log.get("") is None


def test_an_id_already_in_the_log_is_refused(log: DecisionLog) -> None:
    record = make_record()
    log.append(record)
    with pytest.raises(
        DecisionLogError, match=f"cannot append {record.id}: that id is already in the log"
    ):
        log.append(replace(record, client="someone-else"))
    assert log.count() == 1
    assert log.get(record.id) == record


def test_to_dict_is_json_ready_and_summary_leaves_out_the_report() -> None:
    record = make_record(
        1, created_at=dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    )
    out = record.to_dict()
    assert out == {
        "id": record.id,
        "created_at": "2026-03-01T09:00:00.000000+00:00",
        "client": "ops-team",
        "input_sha256": "sha256:" + "0" * 63 + "1",
        "input_kind": "json",
        "rule_set_name": "builtin",
        "rule_set_version": "2026.1",
        "rule_set_hash": "sha256:" + "ab" * 32,
        "tool_version": "0.3.0",
        "decision": "approve",
        "exit_code": 0,
        "proposals": [{"id": "PRP-1", "decision": "approve"}],
        "report": record.report,
    }
    assert dt.datetime.fromisoformat(out["created_at"]) == record.created_at
    summary = record.summary()
    assert "report" not in summary
    assert summary == {k: v for k, v in out.items() if k != "report"}
    import json

    assert json.loads(json.dumps(out)) == out


def test_new_ids_are_uuid4_hex() -> None:
    ids = {new_id() for _ in range(1000)}
    assert len(ids) == 1000
    for value in itertools.islice(ids, 20):
        assert uuid.UUID(hex=value).version == 4
        assert value == value.lower()
        assert len(value) == 32


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"id": "ABC"}, "DecisionRecord.id"),
        ({"id": uuid.uuid4().hex.upper()}, "DecisionRecord.id"),
        ({"created_at": dt.datetime(2026, 1, 1)}, "timezone-aware"),
        ({"client": ""}, "DecisionRecord.client"),
        ({"client": "a\x00b"}, "NUL"),
        ({"rule_set_name": "\udc80"}, "lone surrogate"),
        ({"input_sha256": "a" * 64}, "DecisionRecord.input_sha256"),
        ({"input_kind": "xlsx"}, "DecisionRecord.input_kind"),
        ({"decision": "approved"}, "DecisionRecord.decision"),
        ({"exit_code": 2}, "DecisionRecord.exit_code"),
        ({"exit_code": True}, "DecisionRecord.exit_code"),
        ({"proposals": [{"id": "P"}]}, r"DecisionRecord.proposals\[0\]"),
        ({"proposals": [{"id": "P", "decision": "maybe"}]}, r"proposals\[0\].decision"),
        ({"proposals": ({"id": "P", "decision": "approve"},)}, "DecisionRecord.proposals"),
        ({"report": []}, "DecisionRecord.report"),
    ],
)
def test_a_malformed_record_is_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_record(**changes)


def test_exit_codes_are_the_gates() -> None:
    assert {
        make_record(exit_code=int(c)).exit_code
        for c in (ExitCode.PASSED, ExitCode.BLOCKED, ExitCode.NEEDS_INFORMATION)
    } == {0, 3, 4}


# --- Lists --------------------------------------------------------------------------------------


def test_list_filters(log: DecisionLog) -> None:
    spec = [
        # (seconds after T0, client, decision, proposal ids)
        (0, "alice", "approve", ["P-1"]),
        (10, "bob", "reject", ["P-2", "P-3"]),
        (20, "alice", "needs_information", ["P-3"]),
        (30, "carol", "approve_with_conditions", ["P-4"]),
        (40, "alice", "reject", ["P-1", "P-5"]),
        (50, "bob", "approve", []),
    ]
    records = [
        make_record(
            n,
            client=client,
            decision=decision,
            exit_code={"reject": 3, "needs_information": 4}.get(decision, 0),
            proposals=[{"id": p, "decision": decision} for p in proposals],
        )
        for n, client, decision, proposals in spec
    ]
    for record in random.Random(4).sample(records, len(records)):
        log.append(record)
    at = [r.id for r in records]

    def ids(**filters: Any) -> list[str]:
        return [r.id for r in log.list(**filters)]

    assert ids() == at[::-1]
    assert ids(client="alice") == [at[4], at[2], at[0]]
    assert ids(client="nobody") == []
    assert ids(decision="reject") == [at[4], at[1]]
    assert ids(decision="approve") == [at[5], at[0]]
    assert ids(proposal_id="P-3") == [at[2], at[1]]
    assert ids(proposal_id="P-1") == [at[4], at[0]]
    assert ids(proposal_id="P-9") == []
    assert ids(since=T0 + dt.timedelta(seconds=20)) == [at[5], at[4], at[3], at[2]]  # inclusive
    assert ids(until=T0 + dt.timedelta(seconds=20)) == [at[1], at[0]]  # exclusive
    assert ids(since=T0 + dt.timedelta(seconds=10), until=T0 + dt.timedelta(seconds=40)) == [
        at[3],
        at[2],
        at[1],
    ]
    assert ids(since=T0 + dt.timedelta(seconds=10, microseconds=1)) == [at[5], at[4], at[3], at[2]]
    # Another offset, or a naive datetime (taken as UTC), means the same instant.
    plus_two = dt.timezone(dt.timedelta(hours=2))
    assert ids(since=(T0 + dt.timedelta(seconds=40)).astimezone(plus_two)) == [at[5], at[4]]
    assert ids(since=(T0 + dt.timedelta(seconds=40)).replace(tzinfo=None)) == [at[5], at[4]]
    assert ids(client="alice", decision="reject", proposal_id="P-5") == [at[4]]
    assert ids(client="alice", proposal_id="P-3", until=T0 + dt.timedelta(seconds=20)) == []
    assert ids(client="bob", limit=1) == [at[5]]
    assert ids(client="bob", limit=1, before=at[5]) == [at[1]]
    assert log.list(client="carol")[0] == records[3]  # full records, reports included


def test_newest_first_and_ties_in_time_keep_insertion_order(log: DecisionLog) -> None:
    same = T0 + dt.timedelta(hours=1)
    early, tie_a, tie_b, tie_c, late = (
        make_record(0),
        make_record(1, created_at=same),
        make_record(2, created_at=same),
        make_record(3, created_at=same),
        make_record(4, created_at=same + dt.timedelta(microseconds=1)),
    )
    for record in (tie_a, late, early, tie_b, tie_c):
        log.append(record)
    assert [r.id for r in log.list()] == [late.id, tie_c.id, tie_b.id, tie_a.id, early.id]
    assert [r.id for r in log.list(before=tie_c.id)] == [tie_b.id, tie_a.id, early.id]
    assert [r.id for r in log.list(before=tie_b.id, limit=1)] == [tie_a.id]
    assert log.list(before=early.id) == []


def test_before_pages_through_250_records_without_duplicates_or_gaps(log: DecisionLog) -> None:
    # 25 instants, 10 records each, appended out of time order: ties must still page cleanly.
    records = [
        make_record(
            n,
            created_at=T0 + dt.timedelta(minutes=n % 25),
            client=("alice", "bob", "carol")[n % 3],
        )
        for n in range(250)
    ]
    shuffled = random.Random(250).sample(records, len(records))
    for record in shuffled:
        log.append(record)
    order = {r.id: i for i, r in enumerate(shuffled)}  # insertion order breaks ties
    expected = [
        r.id for r in sorted(records, key=lambda r: (r.created_at, order[r.id]), reverse=True)
    ]
    for limit in (1, 7, 50, 250, 500):
        pages = _page_through(log, limit)
        assert pages == expected, limit
    assert len(set(_page_through(log, 7))) == 250
    bobs = [i for i in expected if log.get(i) is not None and log.get(i).client == "bob"]  # type: ignore[union-attr]
    assert _page_through(log, 9, client="bob") == bobs
    assert len(bobs) == 83


def test_limit_and_argument_bounds(log: DecisionLog) -> None:
    for n in range(3):
        log.append(make_record(n))
    assert len(log.list(limit=1)) == 1
    assert len(log.list(limit=500)) == 3
    assert len(log.list()) == 3  # default 50
    for bad in (0, -1, 501, 10_000):
        with pytest.raises(ValueError, match="limit"):
            log.list(limit=bad)
    with pytest.raises(ValueError, match="limit"):
        log.list(limit=True)
    with pytest.raises(ValueError, match="decision: 'rejected' is not one of"):
        log.list(decision="rejected")
    unknown = new_id()
    with pytest.raises(ValueError, match=f"before: no decision '{unknown}'"):
        log.list(before=unknown)


def test_count(log: DecisionLog) -> None:
    assert log.count() == 0
    for n in range(12):
        log.append(make_record(n))
    assert log.count() == 12


# --- Concurrency --------------------------------------------------------------------------------


def test_2000_appends_from_16_threads_are_all_there_exactly_once(log: DecisionLog) -> None:
    threads, each = 16, 125
    appended: list[list[str]] = [[] for _ in range(threads)]
    failures: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def work(t: int) -> None:
        try:
            barrier.wait()
            for n in range(each):
                record = make_record(
                    n, client=f"thread-{t}", created_at=dt.datetime.now(dt.timezone.utc)
                )
                log.append(record)
                appended[t].append(record.id)
                if n % 25 == 0:  # readers alongside the writers
                    assert log.get(record.id) == record
                    assert log.list(client=f"thread-{t}", limit=1)[0].id == record.id
        except BaseException as exc:
            failures.append(exc)

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert failures == []
    assert log.count() == threads * each
    listed = _page_through(log, 500)
    assert len(listed) == threads * each
    assert sorted(listed) == sorted(itertools.chain.from_iterable(appended))
    for t in (0, threads - 1):
        assert _page_through(log, 500, client=f"thread-{t}") == appended[t][::-1]


def test_sqlite_shared_by_several_processes(tmp_path: Path) -> None:
    """Four processes open a new file at the same instant (all racing to switch it to WAL and
    create the schema) and append. Without waiting for the WAL switch's lock, about one open in
    sixty failed with "database is locked"."""
    path = tmp_path / "shared.sqlite"
    start = time.time() + 2.0  # after every process has imported: they open together
    script = textwrap.dedent(
        """
        import datetime as dt, sys, time
        from compliance.service.decision_log import open_log
        from tests.test_decision_log import make_record
        while time.time() < float(sys.argv[3]):
            pass
        with open_log(sys.argv[1]) as log:
            for n in range(50):
                log.append(make_record(n, client=sys.argv[2], created_at=dt.datetime.now(dt.timezone.utc)))
        """
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(path), f"proc-{p}", str(start)],
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in range(4)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    with open_log(str(path)) as log:
        assert log.count() == 200
        for p in range(4):
            assert len(_page_through(log, 500, client=f"proc-{p}")) == 50


def test_postgres_replicas_starting_together_create_the_schema_once(postgres: Backend) -> None:
    target = postgres.target
    barrier = threading.Barrier(6)
    opened: list[DecisionLog] = []
    failures: list[BaseException] = []

    def start() -> None:
        try:
            barrier.wait()
            opened.append(open_log(target))
        except BaseException as exc:
            failures.append(exc)

    try:
        replicas = [threading.Thread(target=start) for _ in range(6)]
        for replica in replicas:
            replica.start()
        for replica in replicas:
            replica.join()
        assert failures == []
        records = [make_record(n) for n in range(6)]
        for replica, record in zip(opened, records, strict=True):
            replica.append(record)
        for replica in opened:
            assert replica.count() == 6
            replica.check()
    finally:
        for replica in opened:
            replica.close()


# --- Durability ---------------------------------------------------------------------------------


def test_a_record_survives_sigkill_right_after_append(backend: Backend, tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import sys, time
        from compliance.service.decision_log import open_log
        from tests.test_decision_log import RICH_REPORT, make_record
        log = open_log(sys.argv[1])
        record = make_record(1, report=RICH_REPORT)
        log.append(record)
        print(record.id, flush=True)
        time.sleep(120)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script, backend.target],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        assert ready, "the subprocess printed no id within 60 s"
        record_id = proc.stdout.readline().strip()
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL, err
    assert len(record_id) == 32, err
    if backend.name == "sqlite":
        wal = Path(backend.target + "-wal")
        assert wal.stat().st_size > 0  # the record was in the WAL only: recovery replays it
    with backend.open() as log:
        got = log.get(record_id)
        assert got is not None
        assert got.report == RICH_REPORT
        assert log.count() == 1


# --- Schema versions and broken stores ----------------------------------------------------------


def test_a_store_with_a_newer_schema_version_is_refused(backend: Backend) -> None:
    with backend.open() as log:
        log.append(make_record())
    if backend.name == "sqlite":
        with sqlite3.connect(backend.target) as conn:
            conn.execute("PRAGMA user_version = 99")
        conn.close()
        store = backend.target
    else:
        import psycopg

        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"UPDATE {backend.schema}.decision_log_version SET version = 99")
        store = "compliance_test:***@"
    with pytest.raises(
        DecisionLogError,
        match=f"schema version 99 is newer than this tool's \\({SCHEMA_VERSION}\\)",
    ) as caught:
        backend.open()
    assert store in str(caught.value)
    assert caught.value.exit_code == ExitCode.INTERNAL_ERROR


def test_a_new_store_gets_the_current_schema_version(backend: Backend) -> None:
    with backend.open() as log:
        log.check()
    if backend.name == "sqlite":
        conn = sqlite3.connect(backend.target)
        try:
            assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
            names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        finally:
            conn.close()
    else:
        import psycopg

        with psycopg.connect(PG_URL) as conn:
            assert conn.execute(
                f"SELECT version FROM {backend.schema}.decision_log_version"
            ).fetchall() == [(SCHEMA_VERSION,)]
            names = {
                row[0]
                for row in conn.execute(
                    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s",
                    (backend.schema,),
                )
            }
            assert conn.execute(
                "SELECT data_type FROM information_schema.columns WHERE table_schema = %s AND table_name = 'decisions' AND column_name = 'report'",
                (backend.schema,),
            ).fetchone() == ("json",)
    assert {
        "decisions",
        "decision_proposals",
        "decisions_created",
        "decisions_client",
        "decisions_decision",
        "decision_proposals_proposal",
    } <= names
    with backend.open() as log:  # opening again changes nothing
        assert log.count() == 0


def test_sqlite_is_in_wal_mode_with_full_sync_and_indexed_filters(tmp_path: Path) -> None:
    log = SqliteLog(tmp_path / "d.sqlite")
    try:
        with log._connection() as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
            assert conn.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
            assert conn.execute("PRAGMA busy_timeout").fetchone()[0] > 0

            def plan(sql: str, *params: object) -> str:
                return " | ".join(
                    row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params)
                )

            assert "decision_proposals_proposal" in plan(
                "SELECT decision_id FROM decision_proposals WHERE proposal_id = ?", "P"
            )
            assert "decisions_client" in plan(
                "SELECT * FROM decisions WHERE client = ? ORDER BY created_at DESC, seq DESC LIMIT 5",
                "a",
            )
            assert "decisions_decision" in plan(
                "SELECT * FROM decisions WHERE decision = ? ORDER BY created_at DESC, seq DESC LIMIT 5",
                "a",
            )
            assert "decisions_created" in plan(
                "SELECT * FROM decisions ORDER BY created_at DESC, seq DESC LIMIT 5"
            )
    finally:
        log.close()


def test_a_corrupt_sqlite_file_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "decisions.sqlite"
    path.write_bytes(b"this is not a database, just bytes\n" * 200)
    with pytest.raises(DecisionLogError, match="file is not a database") as caught:
        open_log(str(path))
    assert str(caught.value).startswith(f"decision log {path}: cannot open: ")
    assert caught.value.exit_code == ExitCode.INTERNAL_ERROR


def test_a_sqlite_path_that_cannot_be_a_file_is_an_error_naming_it(tmp_path: Path) -> None:
    directory = tmp_path / "a-directory"
    directory.mkdir()
    with pytest.raises(
        DecisionLogError, match=f"^decision log {directory}: cannot open: it is a directory$"
    ):
        open_log(str(directory))
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(
        DecisionLogError,
        match=f"^decision log {blocker}/sub/d.sqlite: cannot create its directory: ",
    ):
        open_log(str(blocker / "sub" / "d.sqlite"))


def _open_error(path: Path) -> str:
    """The message of open_log(path) from a user who cannot read it: this process, or, when it
    runs as root (which reads anything), a forked child that became nobody."""
    if os.geteuid() != 0:
        with pytest.raises(DecisionLogError) as caught:
            open_log(str(path))
        return str(caught.value)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop root, try, report through the pipe, never return to pytest
        try:
            os.setgid(65534)
            os.setuid(65534)
            try:
                open_log(str(path)).close()
                message = "opened"
            except DecisionLogError as exc:
                message = str(exc)
            os.write(write, message.encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        message = pipe.read().decode()
    os.waitpid(pid, 0)
    return message


def test_an_unreadable_sqlite_file_is_an_error_naming_it() -> None:
    directory = Path(tempfile.mkdtemp(prefix="decision-log-unreadable-"))  # reachable by nobody
    try:
        directory.chmod(0o755)
        path = directory / "decisions.sqlite"
        with open_log(str(path)) as log:
            log.append(make_record())
        path.chmod(0)
        assert (
            _open_error(path) == f"decision log {path}: cannot open: unable to open database file"
        )
    finally:
        shutil.rmtree(directory)


def test_check_reports_a_store_that_became_unusable(backend: Backend) -> None:
    log = backend.open()
    log.check()
    if backend.name == "sqlite":
        Path(backend.target).unlink()
        with pytest.raises(
            DecisionLogError,
            match=f"^decision log {backend.target}: cannot use it: the file is gone",
        ):
            log.check()
    else:
        _drop_schema(backend.schema or "")
        with pytest.raises(DecisionLogError, match="cannot use it: its tables are missing"):
            log.check()
    log.close()
    with pytest.raises(DecisionLogError, match="it is closed"):
        log.check()
    with pytest.raises(DecisionLogError, match="it is closed"):
        log.append(make_record())
    log.close()  # idempotent


# --- PostgreSQL only ----------------------------------------------------------------------------


def test_postgres_reconnects_once_when_its_connections_were_dropped(
    postgres: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    import psycopg

    name = f"dl-reconnect-{uuid.uuid4().hex[:8]}"
    with open_log(_with_query(postgres.target, application_name=name)) as log:
        first = make_record(1)
        log.append(first)
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            killed = admin.execute(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s",
                (name,),
            ).fetchone()
        assert killed is not None
        assert killed[0] >= 1
        second = make_record(2)
        with caplog.at_level("WARNING", logger="compliance.service.decision_log"):
            log.append(
                second
            )  # the pooled connection is dead: a new one, and the append goes through
        assert "connection lost" in caplog.text
        assert "reconnecting" in caplog.text
        assert "compliance_test_loopback" not in caplog.text
        assert log.get(first.id) == first
        assert log.get(second.id) == second
        assert log.count() == 2
        log.check()


def test_postgres_append_committed_just_before_the_connection_dropped_is_kept_once(
    postgres: Backend,
) -> None:
    """The commit reached the server but the connection died before the client heard back: the
    retry finds the same record already there and succeeds, without a second copy. (A pool of
    one: the append must get the connection patched here, not another one the pool opened.)"""
    with PostgresLog(postgres.target, pool_size=1) as log:
        assert log._pool is not None
        conn = log._pool.getconn()
        real_commit = conn.commit

        def commit_then_drop() -> None:
            real_commit()
            conn.commit = real_commit  # type: ignore[method-assign]
            conn.execute("SELECT pg_terminate_backend(pg_backend_pid())")

        conn.commit = commit_then_drop  # type: ignore[method-assign]
        log._pool.putconn(conn)
        record = make_record()
        log.append(record)
        assert conn.broken or conn.closed
        assert log.count() == 1
        assert log.get(record.id) == record
        other = replace(make_record(), id=record.id, client="someone-else")
        with pytest.raises(DecisionLogError, match="that id is already in the log"):
            log.append(other)


def test_postgres_waits_for_a_connection_then_fails_with_the_reason(postgres: Backend) -> None:
    """The server stops answering after the log was opened: an operation waits ``pool_timeout``
    for the pool to reconnect, then fails naming what a connection attempt says, no password."""
    log = PostgresLog(postgres.target, pool_timeout=1.0)
    try:
        assert log._pool is not None
        log._pool.wait(timeout=30)  # its one connection is made: none is on its way
        gone = {**log._params, "port": "9"}  # nothing listens there: connections are refused
        log._params = gone
        log._pool.kwargs = {**gone, "autocommit": False}
        log._pool.drain()  # the idle connection is closed; its replacement cannot connect
        with pytest.raises(DecisionLogError) as caught:
            log.count()
        message = str(caught.value)
        assert message.startswith("decision log postgresql://compliance_test:***@")
        assert ": cannot count decisions: " in message
        assert "Connection refused" in message
        assert "compliance_test_loopback" not in message
    finally:
        log.close()


def test_postgres_errors_never_show_the_password(postgres: Backend) -> None:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(postgres.target)
    host = parts.netloc.rsplit("@", 1)[1]
    wrong = urlunsplit(parts._replace(netloc=f"compliance_test:Wr0ng-S3cret-pw@{host}"))
    with pytest.raises(DecisionLogError) as caught:
        open_log(wrong)
    message = str(caught.value)
    assert "Wr0ng-S3cret-pw" not in message
    assert message.startswith(f"decision log postgresql://compliance_test:***@{host}")
    assert "password authentication failed" in message
    assert "cannot open" in message
    assert "Wr0ng-S3cret-pw" not in repr(caught.value)


def test_a_postgres_server_that_is_not_there_is_an_error_without_the_password() -> None:
    pytest.importorskip("psycopg")
    with pytest.raises(DecisionLogError) as caught:
        open_log(
            "postgresql://someone:Sup3r-S3cret@127.0.0.1:9/nowhere?connect_timeout=3&password=Sup3r-S3cret"
        )
    message = str(caught.value)
    assert "Sup3r-S3cret" not in message
    assert message.startswith(
        "decision log postgresql://someone:***@127.0.0.1:9/nowhere?connect_timeout=3&password=***: cannot open: "
    )


def test_the_postgres_schema_can_be_given_in_the_url_or_as_an_argument(postgres: Backend) -> None:
    schema = postgres.schema
    assert schema is not None
    record = make_record()
    with open_log(PG_URL, schema=schema) as log:
        assert isinstance(log, PostgresLog)
        assert log.schema == schema
        assert log.store.endswith(f" (schema {schema})")
        assert ":***@" in log.store
        log.append(record)
    with open_log(postgres.target) as log:
        assert log.get(record.id) == record
    with open_log(postgres.target, schema=schema) as log:
        assert log.count() == 1


# --- Targets ------------------------------------------------------------------------------------


def test_open_log_chooses_the_store_from_the_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deep = tmp_path / "a" / "b" / "decisions.sqlite"
    with open_log(f"sqlite://{deep}") as log:
        assert isinstance(log, SqliteLog)
        assert log.path == deep
        assert repr(log) == f"SqliteLog('{deep}')"
    assert deep.is_file()
    monkeypatch.chdir(tmp_path)
    with open_log("relative/decisions.sqlite") as log:
        assert isinstance(log, SqliteLog)
    assert (tmp_path / "relative" / "decisions.sqlite").is_file()


@pytest.mark.parametrize(
    ("target", "schema", "message"),
    [
        ("", None, "no target given"),
        ("   ", None, "no target given"),
        ("sqlite://relative.db", None, "three slashes"),
        ("mysql://u:hunter2pass@db/x", None, r"decision log mysql://u:\*\*\*@db/x: unsupported"),
        ("decisions.sqlite", "public", "schema= applies only to PostgreSQL"),
        ("postgresql://u:pw@127.0.0.1:9/db?schema=Bad-Name", None, "not a plain lowercase name"),
        ("postgresql://u:pw@127.0.0.1:9/db?schema=a&schema=b", None, "schema= is given 2 times"),
        (
            "postgresql://u:pw@127.0.0.1:9/db?schema=a",
            "b",
            "the URL says schema 'a' but 'b' was given",
        ),
    ],
)
def test_a_malformed_target_is_a_usage_error(target: str, schema: str | None, message: str) -> None:
    with pytest.raises(UsageError, match=message) as caught:
        open_log(target, schema=schema)
    assert "hunter2pass" not in str(caught.value)
    assert not isinstance(caught.value, DecisionLogError)
