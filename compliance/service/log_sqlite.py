"""The decision log in one SQLite file, the default store (see
:mod:`compliance.service.decision_log`).

WAL journal, so readers never block the writer; ``synchronous=FULL``, so every commit is fsynced
to the WAL before it returns; a busy timeout, and ``BEGIN IMMEDIATE`` for writes, so several
processes can share the file. Connections are kept for reuse (:class:`_Connections`: opening one
costs more than a query), so any thread may call any method; writes from one object's threads
are serialised by a lock and grouped into shared commits.
"""

from __future__ import annotations

import builtins
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from compliance.errors import UsageError
from compliance.service.decision_log import (
    _COLUMNS,
    _INSERT_COLUMNS,
    SCHEMA_VERSION,
    DecisionLog,
    DecisionLogError,
    DecisionRecord,
    _iso,
    _Query,
    _record_from_row,
    _row_values,
    _where,
    log,
)

T = TypeVar("T")


class _Closed(Exception):
    pass


class _Connections:
    """Open connections to the file, reused by any thread (one at a time each): an idle one is
    taken if there is one, else a new one is opened. Not bounded and never waited for: SQLite
    serialises writers itself (with the busy timeout), and a reader never blocks in WAL mode."""

    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self._connect = connect
        self._idle: builtins.list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self.closed = False

    def acquire(self) -> sqlite3.Connection:
        with self._lock:
            if self.closed:
                raise _Closed
            if self._idle:
                return self._idle.pop()
        return self._connect()

    def release(self, conn: sqlite3.Connection) -> None:
        with self._lock:
            if not self.closed:
                self._idle.append(conn)
                return
        self.discard(conn)

    @staticmethod
    def discard(conn: sqlite3.Connection) -> None:
        try:
            conn.close()
        except sqlite3.Error:  # closing a broken connection: nothing left to do
            log.debug("closing a connection failed", exc_info=True)

    def close(self) -> None:
        """No more connections; the idle ones are closed now, those in use when released."""
        with self._lock:
            self.closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            self.discard(conn)


_SQLITE_SCHEMA_V1 = (
    """CREATE TABLE IF NOT EXISTS decisions (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        client TEXT NOT NULL,
        input_sha256 TEXT NOT NULL,
        input_kind TEXT NOT NULL,
        rule_set_name TEXT NOT NULL,
        rule_set_version TEXT NOT NULL,
        rule_set_hash TEXT NOT NULL,
        tool_version TEXT NOT NULL,
        decision TEXT NOT NULL,
        exit_code INTEGER NOT NULL,
        proposals TEXT NOT NULL,
        report TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS decision_proposals (
        decision_id TEXT NOT NULL REFERENCES decisions (id),
        position INTEGER NOT NULL,
        proposal_id TEXT NOT NULL,
        decision TEXT NOT NULL,
        PRIMARY KEY (decision_id, position)
    )""",
    "CREATE INDEX IF NOT EXISTS decisions_created ON decisions (created_at, seq)",
    "CREATE INDEX IF NOT EXISTS decisions_client ON decisions (client, created_at, seq)",
    "CREATE INDEX IF NOT EXISTS decisions_decision ON decisions (decision, created_at, seq)",
    "CREATE INDEX IF NOT EXISTS decision_proposals_proposal ON decision_proposals (proposal_id)",
)

_SQLITE_MIGRATIONS: dict[int, tuple[str, ...]] = {
    0: _SQLITE_SCHEMA_V1,
    1: ("ALTER TABLE decisions ADD COLUMN kept_proposals TEXT",),
}
"""Statements that take the schema from a version (the key) to the next."""


_SQLITE_INSERT = f"INSERT INTO decisions ({_INSERT_COLUMNS}) VALUES ({', '.join('?' * 14)})"
_SQLITE_INSERT_PROPOSALS = (
    "INSERT INTO decision_proposals (decision_id, position, proposal_id, decision) "
    "VALUES (?, ?, ?, ?)"
)


@dataclass
class _Pending:
    """A record waiting for a group commit, and how that went."""

    id: str
    values: tuple[object, ...]
    proposals: list[tuple[str, int, str, str]]
    done: bool = False
    error: DecisionLogError | None = None


class SqliteLog(DecisionLog):
    """The decision log in one SQLite file (WAL mode, ``synchronous=FULL``).

    ``busy_timeout`` (seconds) is how long a write waits for another process's write to finish.
    Writes from this object's threads are serialised by a lock, so they never wait on SQLite's
    busy handler among themselves, and grouped: the records appended while one commit is being
    synced share the next commit (see :meth:`append`). ``migrate=False``: the file must exist at
    this tool's schema version; nothing is created or migrated.
    """

    def __init__(
        self, path: str | Path, *, busy_timeout: float = 30.0, migrate: bool = True
    ) -> None:
        self.path = Path(path)
        self.store = str(self.path)
        self._busy_timeout = busy_timeout
        self._may_migrate = migrate
        self._write_lock = threading.Lock()
        self._queue_lock = threading.Lock()
        self._queue: list[_Pending] = []
        self._pool = _Connections(self._connect)
        if not migrate and not self.path.exists():  # connecting would create it
            raise UsageError(f"decision log {self.store}: cannot open: no such file")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise self._error("create its directory", exc.strerror or exc) from None
        try:
            is_dir = self.path.is_dir()
        except OSError as exc:
            raise self._error("open", exc.strerror or exc) from None
        if is_dir:
            raise self._error("open", "it is a directory")
        try:
            with self._connection() as conn:
                self._migrate(conn)
                stat = self.path.stat()
        except OSError as exc:
            self._pool.close()
            raise self._error("open", exc.strerror or exc) from None
        except BaseException:
            self._pool.close()
            raise
        self._identity = (stat.st_dev, stat.st_ino)

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.path,
                timeout=self._busy_timeout,
                isolation_level=None,  # autocommit: transactions are explicit
                check_same_thread=False,  # pooled: used by one thread at a time
            )
        except sqlite3.Error as exc:
            raise self._error("open", exc) from None
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
            (mode,) = self._journal_wal(conn)
            if str(mode).lower() != "wal":
                raise self._error("open", f"WAL mode is not available (journal mode {mode})")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            conn.close()
            raise self._error("open", exc) from None
        except BaseException:
            conn.close()
            raise
        return conn

    def _journal_wal(self, conn: sqlite3.Connection) -> tuple[str]:
        """Switch to WAL, waiting up to the busy timeout for the lock that takes: SQLite answers
        "database is locked" at once, without its busy handler, while another process is
        creating or switching the same new file (several replicas starting together)."""
        deadline = time.monotonic() + self._busy_timeout
        while True:
            try:
                row: tuple[str] = conn.execute("PRAGMA journal_mode = WAL").fetchone()
                return row
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.01)

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        try:
            conn = self._pool.acquire()
        except _Closed:
            raise self._error("use it", "it is closed") from None
        try:
            yield conn
        except BaseException as exc:
            # A connection SQLite failed on, or left in a transaction, is never handed out again.
            if isinstance(exc, sqlite3.Error) or conn.in_transaction:
                self._pool.discard(conn)
            else:
                self._pool.release(conn)
            raise
        self._pool.release(conn)

    @contextmanager
    def _transaction(self, conn: sqlite3.Connection, begin: str) -> Iterator[None]:
        conn.execute(begin)
        try:
            yield
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _version(self, conn: sqlite3.Connection) -> int:
        (version,) = conn.execute("PRAGMA user_version").fetchone()
        if version > SCHEMA_VERSION:
            raise self._error(
                "use it",
                f"its schema version {version} is newer than this tool's ({SCHEMA_VERSION}); "
                "upgrade compliance or use another file",
            )
        return int(version)

    def _migrate(self, conn: sqlite3.Connection) -> None:
        try:
            version = self._version(conn)
            if version == SCHEMA_VERSION:
                return
            if not self._may_migrate:
                raise self._not_current(version)
            with self._write_lock, self._transaction(conn, "BEGIN IMMEDIATE"):
                version = self._version(conn)  # again, now that no other process can write
                while version < SCHEMA_VERSION:
                    for statement in _SQLITE_MIGRATIONS[version]:
                        conn.execute(statement)
                    version += 1
                    conn.execute(f"PRAGMA user_version = {version}")
        except sqlite3.Error as exc:
            raise self._error("open", exc) from None

    def append(self, record: DecisionRecord) -> None:
        """Group commit: records appended while another commit is being synced are written
        together in the next transaction, one fsync for all of them; each call still returns
        only once its own record is committed, and a record that cannot be written (its id is
        taken) fails alone, in a savepoint."""
        pending = _Pending(
            record.id,
            _row_values(record, _iso(record.created_at)),
            [(record.id, n, p["id"], p["decision"]) for n, p in enumerate(record.proposals)],
        )
        with self._queue_lock:
            self._queue.append(pending)
        with self._write_lock:  # held by whoever commits; queued records go with the next
            if not pending.done:
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                self._commit(batch)
        if pending.error is not None:
            raise pending.error

    def _commit(self, batch: builtins.list[_Pending]) -> None:
        """Write ``batch`` in one transaction; every item ends done, and with an error unless
        the transaction holding it committed."""
        committed = False
        try:
            with self._connection() as conn, self._transaction(conn, "BEGIN IMMEDIATE"):
                gone = self._file_problem()  # never write to a deleted file
                if gone is not None:
                    for item in batch:
                        item.error = self._error(f"append {item.id}", gone)
                    return
                for item in batch:
                    conn.execute("SAVEPOINT record")
                    try:
                        conn.execute(_SQLITE_INSERT, item.values)
                        conn.executemany(_SQLITE_INSERT_PROPOSALS, item.proposals)
                    except sqlite3.Error as exc:
                        conn.execute("ROLLBACK TO record")
                        item.error = self._append_error(item.id, exc)
                    conn.execute("RELEASE record")
            committed = True
        except DecisionLogError as exc:
            for item in batch:
                if item.error is None:
                    item.error = DecisionLogError(exc.problems)
        except sqlite3.Error as exc:
            for item in batch:
                if item.error is None:
                    item.error = self._error(f"append {item.id}", exc)
        finally:
            for item in batch:
                if not committed and item.error is None:  # fail closed, whatever stopped it
                    item.error = self._error(f"append {item.id}", "the commit did not complete")
                item.done = True

    def _append_error(self, record_id: str, exc: sqlite3.Error) -> DecisionLogError:
        if isinstance(exc, sqlite3.IntegrityError) and "decisions.id" in str(exc):
            return self._error(f"append {record_id}", "that id is already in the log")
        return self._error(f"append {record_id}", exc)

    def _read(self, action: str, work: Callable[[sqlite3.Connection], T]) -> T:
        try:
            with self._connection() as conn, self._transaction(conn, "BEGIN"):
                return work(conn)
        except sqlite3.Error as exc:
            raise self._error(action, exc) from None

    def get(self, record_id: str) -> DecisionRecord | None:
        def work(conn: sqlite3.Connection) -> DecisionRecord | None:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM decisions WHERE id = ?", (record_id,)
            ).fetchone()
            return None if row is None else _record_from_row(row)

        return self._read(f"read {record_id!r}", work)

    def _list(self, query: _Query) -> builtins.list[DecisionRecord]:
        def work(conn: sqlite3.Connection) -> builtins.list[DecisionRecord]:
            key: tuple[object, object] | None = None
            if query.before is not None:
                key = conn.execute(
                    "SELECT created_at, seq FROM decisions WHERE id = ?", (query.before,)
                ).fetchone()
                if key is None:
                    raise self._unknown_before(query.before)
            where, params = _where(query, "?", _iso, key)
            columns = ", ".join(f"d.{c.strip()}" for c in _COLUMNS.split(","))
            statement = (
                f"SELECT {columns} FROM decisions d{where} "
                "ORDER BY d.created_at DESC, d.seq DESC LIMIT ?"
            ).format(proposals="decision_proposals")
            rows = conn.execute(statement, [*params, query.limit]).fetchall()
            return [_record_from_row(row) for row in rows]

        return self._read("list decisions", work)

    def count(self) -> int:
        def work(conn: sqlite3.Connection) -> int:
            (n,) = conn.execute("SELECT count(*) FROM decisions").fetchone()
            return int(n)

        return self._read("count decisions", work)

    def _kept_page(self, after: int, limit: int) -> builtins.list[tuple[int, str, str | None]]:
        def work(conn: sqlite3.Connection) -> builtins.list[tuple[int, str, str | None]]:
            return conn.execute(
                "SELECT seq, id, kept_proposals FROM decisions WHERE seq > ? ORDER BY seq LIMIT ?",
                (after, limit),
            ).fetchall()

        return self._read("read the kept proposals", work)

    def _same_file(self, action: str) -> None:
        """Raise unless the path still names the file that was opened: a record written to a
        deleted or replaced file would be lost."""
        problem = self._file_problem()
        if problem is not None:
            raise self._error(action, problem)

    def _file_problem(self) -> str | None:
        try:
            stat = self.path.stat()
        except OSError as exc:
            return f"the file is gone ({exc.strerror})"
        if (stat.st_dev, stat.st_ino) != self._identity:
            return "the file was replaced since it was opened"
        return None

    def check(self) -> None:
        if self._pool.closed:
            raise self._error("use it", "it is closed")
        self._same_file("use it")

        def work(conn: sqlite3.Connection) -> None:
            if self._version(conn) != SCHEMA_VERSION:
                raise self._error("use it", "its schema is missing")
            conn.execute("SELECT seq FROM decisions ORDER BY seq DESC LIMIT 1").fetchall()

        self._read("check it", work)

    def close(self) -> None:
        self._pool.close()
