"""The decision log's write path as the service uses it: group commits in SQLite (records that
arrive while a commit is being synced share the next one, and each still fails alone) and the
report stored as the JSON text the client received."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from compliance.service.decision_log import DecisionLogError, DecisionRecord, new_id
from compliance.service.log_sqlite import SqliteLog

T0 = dt.datetime(2026, 3, 1, 9, 0, 0, 123456, tzinfo=dt.timezone.utc)


def record(n: int, record_id: str | None = None, report_json: str | None = None) -> DecisionRecord:
    return DecisionRecord(
        id=record_id or new_id(),
        created_at=T0 + dt.timedelta(seconds=n),
        client="ops-team",
        input_sha256="sha256:" + f"{n:064x}",
        input_kind="json",
        rule_set_name="builtin",
        rule_set_version="2026.1",
        rule_set_hash="sha256:" + "ab" * 32,
        tool_version="0.3.0",
        decision="approve",
        exit_code=0,
        proposals=[{"id": f"PRP-{n}", "decision": "approve"}],
        report={"report_version": "1.2", "n": n},
        report_json=report_json,
    )


def stored_report(path: Path, record_id: str) -> str:
    with sqlite3.connect(path) as conn:
        (text,) = conn.execute("SELECT report FROM decisions WHERE id = ?", (record_id,)).fetchone()
    return str(text)


def test_appends_queued_behind_a_commit_share_one_and_a_taken_id_fails_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "decisions.sqlite"
    log = SqliteLog(path)
    taken = record(0)
    log.append(taken)
    batch = [record(n) for n in range(1, 6)]
    batch.insert(2, record(9, record_id=taken.id))  # a second record with a taken id
    errors: dict[str, str] = {}

    def append(r: DecisionRecord) -> None:
        try:
            log.append(r)
        except DecisionLogError as exc:
            errors[r.input_sha256] = str(exc)

    commits: list[int] = []
    commit = log._commit

    def counted(items: list[Any]) -> None:
        commits.append(len(items))
        commit(items)

    monkeypatch.setattr(log, "_commit", counted)
    with log._write_lock:  # a commit in progress: everything appended now waits for the next
        threads = [threading.Thread(target=append, args=(r,)) for r in batch]
        for t in threads:
            t.start()
        while len(log._queue) < len(batch):
            threading.Event().wait(0.01)
    for t in threads:
        t.join()
    assert commits == [len(batch)]  # one transaction, one sync, for all six
    assert errors == {
        batch[2].input_sha256: f"decision log {path}: cannot append {taken.id}: "
        "that id is already in the log"
    }
    assert log.count() == 6
    for r in batch[:2] + batch[3:]:
        assert log.get(r.id) == r
    assert log.get(taken.id) == taken
    log.close()


def test_a_batch_is_refused_whole_when_the_file_is_gone(tmp_path: Path) -> None:
    path = tmp_path / "decisions.sqlite"
    log = SqliteLog(path)
    path.unlink()
    records = [record(n) for n in range(3)]
    errors: list[str] = []

    def append(r: DecisionRecord) -> None:
        with pytest.raises(DecisionLogError) as caught:
            log.append(r)
        errors.append(str(caught.value))

    with log._write_lock:
        threads = [threading.Thread(target=append, args=(r,)) for r in records]
        for t in threads:
            t.start()
        while len(log._queue) < len(records):
            threading.Event().wait(0.01)
    for t in threads:
        t.join()
    assert sorted(errors) == sorted(
        f"decision log {path}: cannot append {r.id}: the file is gone (No such file or directory)"
        for r in records
    )
    log.close()


def test_the_report_is_stored_as_the_text_the_client_received(tmp_path: Path) -> None:
    path = tmp_path / "decisions.sqlite"
    log = SqliteLog(path)
    sent = '{"report_version": "1.2",  "n": 1}'  # spacing no encoder of the dict would give
    given = record(1, report_json=sent)
    log.append(given)
    assert stored_report(path, given.id) == sent
    got = log.get(given.id)
    assert got == given
    assert got is not None
    assert got.report_json is None
    assert got.report == given.report
    log.close()


def test_report_text_a_store_cannot_keep_is_encoded_from_the_report(tmp_path: Path) -> None:
    path = tmp_path / "decisions.sqlite"
    log = SqliteLog(path)
    surrogate = record(1, report_json='{"report_version": "1.2", "n": "\ud800"}')
    log.append(surrogate)
    assert stored_report(path, surrogate.id) == '{"report_version":"1.2","n":1}'
    with pytest.raises(ValueError, match=r"DecisionRecord.report_json: expected JSON text"):
        record(2, report_json=b"{}")  # type: ignore[arg-type]
    log.close()
