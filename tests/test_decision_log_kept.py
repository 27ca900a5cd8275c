"""The reviewed proposals a decision log keeps when the service is told to (personal data, off by
default): stored with the record by the path the service appends through, never served with it,
read back and validated by ``stored_proposals``, and the column added to a version 1 store.
SQLite and PostgreSQL, as in test_decision_log."""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace

import pytest

from compliance.errors import UsageError
from compliance.gate import envvars
from compliance.intake.proposals import read_source
from compliance.service import decision_log
from compliance.service.app import _review_and_record
from compliance.service.decision_log import (
    SCHEMA_VERSION,
    DecisionLog,
    DecisionRecord,
    StoredProposals,
    open_log,
    proposals_text,
)
from compliance.service.workers import ReviewJob, ServiceConfig, _Reviews
from tests.conftest import CLI_ENV, FIXTURES, run_cli
from tests.test_decision_log import PG_URL, Backend, _postgres, make_record

FLAWED = FIXTURES / "flawed-refugee-data-sharing.json"
EXEMPLARY = FIXTURES / "exemplary-humanitarian.json"


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        yield Backend("sqlite", str(tmp_path / "decisions.sqlite"))
        return
    with _postgres() as postgres:
        yield postgres


@functools.cache
def _reviews(keep: bool) -> _Reviews:
    return _Reviews(ServiceConfig(no_config=True, engine="reference", keep_proposals=keep))


def served(log: DecisionLog, body: bytes, *, keep: bool) -> DecisionRecord:
    """``body`` reviewed as ``POST /v1/reviews`` reviews it (the worker's side in this process)
    and recorded by the service's own append path, keeping the proposals or not."""
    reviews = _reviews(keep)
    service = SimpleNamespace(
        pool=SimpleNamespace(run=lambda job, _timeout, _wait: reviews.run(job)),
        decisions=log,
        timeout=60.0,
        queue_timeout=60.0,
    )
    _, record = _review_and_record(
        service,
        ReviewJob(body, "json", "request.json"),
        "ops-team",
        "json",
    )
    return record


def raw_kept(backend: Backend, record_id: str) -> str | None:
    """The kept_proposals column of a record, read past the log."""
    if backend.name == "sqlite":
        conn = sqlite3.connect(backend.target)
        try:
            row = conn.execute(
                "SELECT kept_proposals FROM decisions WHERE id = ?", (record_id,)
            ).fetchone()
        finally:
            conn.close()
    else:
        import psycopg

        with psycopg.connect(PG_URL) as pg:
            row = pg.execute(
                f"SELECT kept_proposals::text FROM {backend.schema}.decisions WHERE id = %s",
                (record_id,),
            ).fetchone()
    assert row is not None
    return row[0]


def proposals_of(*paths: Path) -> list[object]:
    return [item.proposal for path in paths for item in read_source(str(path))]


def test_off_by_default_nothing_is_kept(backend: Backend) -> None:
    assert ServiceConfig().keep_proposals is False
    with backend.open() as log:
        record = served(log, FLAWED.read_bytes(), keep=False)
        assert record.kept_proposals is None
        assert raw_kept(backend, record.id) is None
        assert list(log.stored_proposals()) == [StoredProposals(record.id, None)]


def test_on_the_validated_proposals_are_kept_and_read_back(backend: Backend) -> None:
    body = json.dumps([json.loads(FLAWED.read_text()), json.loads(EXEMPLARY.read_text())])
    with backend.open() as log:
        record = served(log, body.encode(), keep=True)
        kept = raw_kept(backend, record.id)
        assert kept == proposals_text(proposals_of(FLAWED, EXEMPLARY))
        assert [p["id"] for p in json.loads(kept or "")] == [p["id"] for p in record.proposals]
        assert list(log.stored_proposals()) == [
            StoredProposals(record.id, proposals_of(FLAWED, EXEMPLARY))
        ]
        # Never served: the record read back (what the HTTP API answers) does not carry them.
        got = log.get(record.id)
        assert got is not None
        assert got.kept_proposals is None
        assert "kept_proposals" not in got.to_dict()
        assert set(got.to_dict()) == set(record.to_dict())


def test_stored_proposals_come_oldest_first_a_page_at_a_time(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(decision_log, "KEPT_PAGE", 2)
    kept = proposals_text(proposals_of(EXEMPLARY))
    records = [
        make_record(n, created_at=make_record().created_at.replace(year=2030 - n)) for n in range(5)
    ]
    records = [
        r if n % 2 else DecisionRecord(**_fields(r), kept_proposals=kept)
        for n, r in enumerate(records)
    ]
    with backend.open() as log:
        for record in records:
            log.append(record)
        got = list(log.stored_proposals())
    # Insertion order, not time order (the records were made newest first).
    assert [g.record_id for g in got] == [r.id for r in records]
    assert [g.proposals is None for g in got] == [False, True, False, True, False]
    assert got[0].proposals == proposals_of(EXEMPLARY)


def _fields(record: DecisionRecord) -> dict[str, object]:
    names = set(DecisionRecord.__dataclass_fields__) - {"report_json", "kept_proposals"}
    return {name: getattr(record, name) for name in names}


def test_a_kept_proposal_no_longer_valid_names_its_decision(backend: Backend) -> None:
    record = DecisionRecord(**_fields(make_record()), kept_proposals='[{"id": "PRP-1"}]')
    with backend.open() as log:
        log.append(record)
        with pytest.raises(Exception, match=f"^decision {record.id}") as caught:
            list(log.stored_proposals())
    assert type(caught.value).__name__ == "InputError"


def version_1_store(backend: Backend, record: DecisionRecord) -> None:
    """A store as a release before ``kept_proposals`` wrote it, holding ``record``."""
    values: Sequence[object] = decision_log._row_values(
        record, decision_log._iso(record.created_at)
    )
    if backend.name == "sqlite":
        from compliance.service.log_sqlite import _SQLITE_SCHEMA_V1

        conn = sqlite3.connect(backend.target)
        try:
            for statement in _SQLITE_SCHEMA_V1:
                conn.execute(statement)
            conn.execute(
                f"INSERT INTO decisions ({decision_log._COLUMNS}) VALUES ({', '.join('?' * 13)})",
                values[:13],
            )
            conn.execute("PRAGMA user_version = 1")
            conn.commit()
        finally:
            conn.close()
        return
    import psycopg

    from compliance.service.log_postgres import _PG_SCHEMA_V1, _PG_VERSION_TABLE

    names = {
        "decisions": f"{backend.schema}.decisions",
        "proposals": f"{backend.schema}.decision_proposals",
        "version": f"{backend.schema}.decision_log_version",
    }
    with psycopg.connect(PG_URL, autocommit=True) as pg:
        pg.execute(f"CREATE SCHEMA {backend.schema}")
        for statement in (*_PG_SCHEMA_V1, _PG_VERSION_TABLE):
            pg.execute(statement.format(**names))
        pg.execute(
            f"INSERT INTO {names['decisions']} ({decision_log._COLUMNS}) VALUES "
            f"({', '.join(['%s'] * 11)}, %s::json, %s::json)",
            values[:13],
        )
        pg.execute(f"INSERT INTO {names['version']} (version) VALUES (1)")


def schema_version(backend: Backend) -> int:
    if backend.name == "sqlite":
        conn = sqlite3.connect(backend.target)
        try:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(PG_URL) as pg:
        row = pg.execute(f"SELECT version FROM {backend.schema}.decision_log_version").fetchone()
    assert row is not None
    return int(row[0])


def test_a_version_1_store_is_migrated_to_keep_proposals(backend: Backend) -> None:
    """A store written before the column existed: opened, it gains the column (NULL for every
    record) and keeps its records."""
    record = make_record()
    version_1_store(backend, record)
    with backend.open() as log:
        assert log.get(record.id) == record
        assert list(log.stored_proposals()) == [StoredProposals(record.id, None)]
        kept = served(log, EXEMPLARY.read_bytes(), keep=True)
        assert log.count() == 2
    assert raw_kept(backend, record.id) is None
    assert raw_kept(backend, kept.id) == proposals_text(proposals_of(EXEMPLARY))
    assert schema_version(backend) == SCHEMA_VERSION == 2


def test_a_reader_neither_creates_nor_migrates_a_store(backend: Backend) -> None:
    """open_log(migrate=False), as rules impact opens a log: a store that is not there or is at
    an older version is a usage error, and is left as it was."""
    with pytest.raises(UsageError) as missing:
        open_log(backend.target, migrate=False)
    record = make_record()
    version_1_store(backend, record)
    with pytest.raises(UsageError) as older:
        open_log(backend.target, migrate=False)
    assert schema_version(backend) == 1
    with backend.open():  # a service migrates it
        pass
    with open_log(backend.target, migrate=False) as log:
        assert list(log.stored_proposals()) == [StoredProposals(record.id, None)]
    if backend.name == "sqlite":
        store = backend.target
        assert missing.value.problems == [f"decision log {store}: cannot open: no such file"]
    else:
        store = decision_log._redact(backend.target)
        assert store.startswith("postgresql://compliance_test:***@")
        assert missing.value.problems == [
            f"decision log {store}: cannot use it: its tables are missing"
        ]
    assert older.value.problems == [
        f"decision log {store}: cannot use it: its schema version 1 is older than this tool's "
        "(2); a service of this version updates it when it starts"
    ]


# ------------------------------------------------------------------ turning it on


def test_the_flag_turns_it_on_never_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from compliance.service import serve as server

    seen: list[server.ServeOptions] = []
    monkeypatch.setattr(server, "run", seen.append)
    monkeypatch.setitem(CLI_ENV, "COMPLIANCE_SERVE_KEEP_PROPOSALS", "1")
    assert run_cli("serve", "--no-config").code == 0
    assert run_cli("serve", "--no-config", "--keep-proposals").code == 0
    assert [options.keep_proposals for options in seen] == [False, True]
    assert "--keep-proposals" in envvars.NEVER


@pytest.mark.parametrize(("setting", "kept"), [("", False), ("keep_proposals = true\n", True)])
def test_the_config_turns_it_on_and_the_service_says_so(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    setting: str,
    kept: bool,
) -> None:
    from compliance.service import serve as server

    config = tmp_path / "compliance.toml"
    config.write_text(f'[service]\ndecision_log = "d.sqlite"\n{setting}', encoding="utf-8")
    started: list[ServiceConfig] = []
    monkeypatch.setattr(server, "started", lambda c, _n: started.append(c) or SimpleNamespace())
    with caplog.at_level("WARNING", logger="compliance.http"):
        service = server.build(server.ServeOptions(no_auth=True, config_path=config))
    service.decisions.close()
    assert [c.keep_proposals for c in started] == [kept]
    warned = [r.getMessage() for r in caplog.records if "personal data" in r.getMessage()]
    assert warned == (
        [f"the decision log {tmp_path / 'd.sqlite'} keeps every reviewed proposal (personal data)"]
        if kept
        else []
    )
