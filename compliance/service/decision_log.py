"""The decision log: every review the HTTP service serves, recorded before the response is sent.

A :class:`DecisionRecord` says who asked (the token's name), when (UTC), what was reviewed (the
sha256 of the request body and whether it was JSON or a workbook), against what (rule set name,
version and hash; tool version), and what was decided: the overall decision, the exit code the
CLI would give, each proposal's decision, and the full JSON report returned to the client.

Two stores implement :class:`DecisionLog`; :func:`open_log` picks one from a target string:

- **SQLite** (the default; a file path or ``sqlite:///abs/path``): WAL journal, so readers never
  block the writer; ``synchronous=FULL``, so every commit is fsynced to the WAL before it returns;
  a busy timeout, and ``BEGIN IMMEDIATE`` for writes, so several processes can share the file;
  connections are pooled, so any thread may call any method.
- **PostgreSQL** (``postgresql://`` or ``postgres://``, psycopg 3), for several replicas: a small
  lock-protected pool of connections, autocommit off and an explicit commit per append (with
  ``synchronous_commit`` raised to ``on`` for the session if the server has it ``off``); a
  dropped connection is replaced and the operation
  retried once. ``?schema=NAME`` in the URL (or ``schema=`` to :func:`open_log`) keeps the tables
  in their own schema, created if missing; without it the tables go where the connection's
  ``search_path`` puts them. Passwords never appear in messages (the URL is shown as
  ``user:***@host``).

The schema (the same in both, version :data:`SCHEMA_VERSION`)::

    decisions(seq, id UNIQUE, created_at, client, input_sha256, input_kind, rule_set_name,
              rule_set_version, rule_set_hash, tool_version, decision, exit_code,
              proposals JSON, report JSON)
    decision_proposals(decision_id, position, proposal_id, decision)   -- PRIMARY KEY (id, position)

``seq`` is a monotonic sequence (SQLite ``AUTOINCREMENT``, PostgreSQL identity). Lists are newest
first by ``(created_at, seq)``, so ties in time are still ordered (by insertion) and ``before``
pagination is keyset pagination on that pair: no duplicates, no gaps. ``created_at`` is ISO 8601
text of fixed width in SQLite (``2026-01-31T09:00:00.000000+00:00``, so text order is time
order) and ``timestamptz`` in PostgreSQL; both keep microseconds. There are indexes on
``(created_at, seq)``, ``(client, created_at, seq)``, ``(decision, created_at, seq)`` and
``decision_proposals(proposal_id)``. ``proposals`` is kept in the row as well as in the side
table (which exists to index it), so a record is read back with one query.

The report is stored as JSON text: SQLite ``TEXT``; PostgreSQL ``json`` (not ``jsonb``). ``json``
keeps the exact text, key order included, so the stored report is the one the client received;
it is still validated by the server and can be cast to ``jsonb`` for an ad-hoc query. ``jsonb``
would reorder keys, reject ``\\u0000``, and buy nothing here: filters use indexed columns.

The version is SQLite's ``user_version`` pragma, or the one row of ``decision_log_version`` in
PostgreSQL. A store at an older version is migrated on open (in one transaction; in PostgreSQL
under an advisory lock, so replicas starting together do not race); a newer one is refused.

Durability: :meth:`DecisionLog.append` returns only once the record is committed and synced (SQLite:
the WAL is fsynced at commit; PostgreSQL: the server flushed its WAL). A process killed right
after ``append`` returns, even with SIGKILL, loses nothing; with SQLite a power failure does not
either, on storage that honours fsync.
"""

from __future__ import annotations

import builtins
import json
import logging
import re
import sqlite3
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from compliance.errors import ComplianceError, UsageError
from compliance.exitcodes import ExitCode
from compliance.review.decision import WORST_FIRST

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql

    _Conn = psycopg.Connection[tuple[Any, ...]]
    _Cursor = psycopg.Cursor[tuple[Any, ...]]

SCHEMA_VERSION = 1
"""The version of the tables this module reads and writes."""

MAX_LIMIT = 500
DECISIONS = tuple(d.value for d in WORST_FIRST)
INPUT_KINDS = ("json", "workbook")
EXIT_CODES = (ExitCode.PASSED, ExitCode.BLOCKED, ExitCode.NEEDS_INFORMATION)

log = logging.getLogger("compliance.service.decision_log")

_ID = re.compile(r"^[0-9a-f]{32}$")
_SHA256 = re.compile(r"^sha256:[0-9a-f]{64}$")
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_UTC = timezone.utc


class DecisionLogError(ComplianceError):
    """The decision log cannot be used. The message names the store (a path, or a URL without
    its password) and what failed."""

    exit_code = ExitCode.INTERNAL_ERROR


def new_id() -> str:
    """A new record id: a random UUID (version 4) as 32 lowercase hex digits."""
    return uuid.uuid4().hex


def _text(name: str, value: object) -> str:
    """A string every store keeps as it is: no NUL (PostgreSQL refuses it), valid UTF-8."""
    if not isinstance(value, str):
        raise ValueError(f"DecisionRecord.{name}: expected a string, got {type(value).__name__}")
    if "\x00" in value:
        raise ValueError(f"DecisionRecord.{name}: contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"DecisionRecord.{name}: not valid Unicode (a lone surrogate)") from None
    return value


def _iso(moment: datetime) -> str:
    """Fixed-width ISO 8601 in UTC with microseconds: text order is time order."""
    return moment.astimezone(_UTC).isoformat(timespec="microseconds")


def _json(value: Any) -> str:
    """Compact JSON; non-ASCII kept as is unless the text holds a lone surrogate (escaped then,
    as JSON allows), so any report that ``json.loads`` produced can be stored and read back."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(value, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    return text


@dataclass(frozen=True)
class DecisionRecord:
    """One review served. Validated on construction (a ``ValueError`` names the field);
    ``created_at`` is kept in UTC."""

    id: str
    created_at: datetime
    client: str
    input_sha256: str
    input_kind: str
    rule_set_name: str
    rule_set_version: str
    rule_set_hash: str
    tool_version: str
    decision: str
    exit_code: int
    proposals: list[dict[str, str]]
    report: dict[str, Any]
    report_json: str | None = field(default=None, compare=False, repr=False, kw_only=True)
    """The report as the JSON text the client received, when the caller has it (the service
    does): stored as it is rather than encoded again from ``report``, which it must decode to.
    Records read back from a store leave it ``None``."""

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not _ID.match(self.id):
            raise ValueError(
                f"DecisionRecord.id: expected 32 lowercase hex digits, got {self.id!r}"
            )
        if not isinstance(self.created_at, datetime) or self.created_at.utcoffset() is None:
            raise ValueError("DecisionRecord.created_at: expected a timezone-aware datetime")
        object.__setattr__(self, "created_at", self.created_at.astimezone(_UTC))
        for name in ("client", "rule_set_name", "rule_set_version", "rule_set_hash"):
            _text(name, getattr(self, name))
        _text("tool_version", self.tool_version)
        if not self.client:
            raise ValueError("DecisionRecord.client: empty (use 'anonymous')")
        if not isinstance(self.input_sha256, str) or not _SHA256.match(self.input_sha256):
            raise ValueError(
                f"DecisionRecord.input_sha256: expected 'sha256:' and 64 lowercase hex digits, "
                f"got {self.input_sha256!r}"
            )
        if self.input_kind not in INPUT_KINDS:
            raise ValueError(
                f"DecisionRecord.input_kind: {self.input_kind!r} is not json or workbook"
            )
        if self.decision not in DECISIONS:
            raise ValueError(f"DecisionRecord.decision: {self.decision!r} is not a decision")
        if type(self.exit_code) is not int or self.exit_code not in EXIT_CODES:
            raise ValueError(f"DecisionRecord.exit_code: {self.exit_code!r} is not 0, 3 or 4")
        if not isinstance(self.proposals, list):
            raise ValueError("DecisionRecord.proposals: expected a list")
        for n, item in enumerate(self.proposals):
            if not isinstance(item, dict) or set(item) != {"id", "decision"}:
                raise ValueError(
                    f"DecisionRecord.proposals[{n}]: expected {{'id': ..., 'decision': ...}}"
                )
            _text(f"proposals[{n}].id", item["id"])
            if item["decision"] not in DECISIONS:
                raise ValueError(
                    f"DecisionRecord.proposals[{n}].decision: {item['decision']!r} "
                    "is not a decision"
                )
        if not isinstance(self.report, dict):
            raise ValueError("DecisionRecord.report: expected a JSON object (dict)")
        if self.report_json is not None and not isinstance(self.report_json, str):
            raise ValueError("DecisionRecord.report_json: expected JSON text (str) or None")

    def summary(self) -> dict[str, Any]:
        """JSON-ready, without the report (for lists)."""
        return {
            "id": self.id,
            "created_at": _iso(self.created_at),
            "client": self.client,
            "input_sha256": self.input_sha256,
            "input_kind": self.input_kind,
            "rule_set_name": self.rule_set_name,
            "rule_set_version": self.rule_set_version,
            "rule_set_hash": self.rule_set_hash,
            "tool_version": self.tool_version,
            "decision": self.decision,
            "exit_code": self.exit_code,
            "proposals": [dict(p) for p in self.proposals],
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``created_at`` as ISO 8601 with ``+00:00`` and microseconds; the report
        included."""
        return {**self.summary(), "report": self.report}


_COLUMNS = (
    "id, created_at, client, input_sha256, input_kind, rule_set_name, rule_set_version, "
    "rule_set_hash, tool_version, decision, exit_code, proposals, report"
)


def _record_from_row(row: Sequence[Any]) -> DecisionRecord:
    created = row[1]
    created_at = created if isinstance(created, datetime) else datetime.fromisoformat(created)
    return DecisionRecord(
        id=row[0],
        created_at=created_at,
        client=row[2],
        input_sha256=row[3],
        input_kind=row[4],
        rule_set_name=row[5],
        rule_set_version=row[6],
        rule_set_hash=row[7],
        tool_version=row[8],
        decision=row[9],
        exit_code=int(row[10]),
        proposals=json.loads(row[11]),
        report=json.loads(row[12]),
    )


def _row_values(record: DecisionRecord, created_at: object) -> tuple[object, ...]:
    return (
        record.id,
        created_at,
        record.client,
        record.input_sha256,
        record.input_kind,
        record.rule_set_name,
        record.rule_set_version,
        record.rule_set_hash,
        record.tool_version,
        record.decision,
        record.exit_code,
        _json(record.proposals),
        _report_text(record),
    )


def _report_text(record: DecisionRecord) -> str:
    """The report's JSON text: the caller's own when it gave one that every store keeps (valid
    UTF-8, no NUL), else encoded from the dict."""
    text = record.report_json
    if text is not None and "\x00" not in text:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            pass
        else:
            return text
    return _json(record.report)


@dataclass(frozen=True)
class _Query:
    client: str | None
    decision: str | None
    proposal_id: str | None
    since: datetime | None
    until: datetime | None
    limit: int
    before: str | None


def _moment(name: str, value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise ValueError(f"{name}: expected a datetime")
    if value.utcoffset() is None:  # naive: taken as UTC, the log's own time
        value = value.replace(tzinfo=_UTC)
    return value.astimezone(_UTC)


def _where(
    query: _Query,
    mark: str,
    moment: Callable[[datetime], object],
    key: tuple[object, object] | None,
) -> tuple[str, list[object]]:
    """The WHERE clause (with ``mark`` as the parameter placeholder) and its parameters."""
    clauses: list[str] = []
    params: list[object] = []
    if query.client is not None:
        clauses.append(f"d.client = {mark}")
        params.append(query.client)
    if query.decision is not None:
        clauses.append(f"d.decision = {mark}")
        params.append(query.decision)
    if query.since is not None:
        clauses.append(f"d.created_at >= {mark}")
        params.append(moment(query.since))
    if query.until is not None:
        clauses.append(f"d.created_at < {mark}")
        params.append(moment(query.until))
    if query.proposal_id is not None:
        clauses.append(
            "d.id IN (SELECT p.decision_id FROM {proposals} p WHERE p.proposal_id = " + mark + ")"
        )
        params.append(query.proposal_id)
    if key is not None:
        clauses.append(f"(d.created_at, d.seq) < ({mark}, {mark})")
        params.extend(key)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


class DecisionLog(ABC):
    """Where decision records go. Every method may be called from any thread at once."""

    store: str
    """The store, for messages: a path, or a URL without its password."""

    @abstractmethod
    def append(self, record: DecisionRecord) -> None:
        """Add a record; it is committed and synced when this returns. An id already in the log
        is a :class:`DecisionLogError`."""

    @abstractmethod
    def get(self, record_id: str) -> DecisionRecord | None:
        """The record with this id, or None."""

    def list(
        self,
        *,
        client: str | None = None,
        decision: str | None = None,
        proposal_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        before: str | None = None,
    ) -> builtins.list[DecisionRecord]:
        """Records newest first (by ``created_at``, then by insertion), filtered: ``since``
        inclusive, ``until`` exclusive (naive datetimes are taken as UTC); ``proposal_id``: the
        record holds that proposal; ``before``: the id of a record, for the next page (records
        strictly older than it). ``ValueError`` for a limit outside 1..500, an unknown decision
        or an id in ``before`` that is not in the log."""
        if type(limit) is not int or not 1 <= limit <= MAX_LIMIT:
            raise ValueError(f"limit: {limit!r} is not between 1 and {MAX_LIMIT}")
        if decision is not None and decision not in DECISIONS:
            raise ValueError(f"decision: {decision!r} is not one of {', '.join(DECISIONS)}")
        query = _Query(
            client=client,
            decision=decision,
            proposal_id=proposal_id,
            since=_moment("since", since),
            until=_moment("until", until),
            limit=limit,
            before=before,
        )
        return self._list(query)

    @abstractmethod
    def _list(self, query: _Query) -> builtins.list[DecisionRecord]: ...

    @abstractmethod
    def count(self) -> int:
        """How many records the log holds."""

    @abstractmethod
    def check(self) -> None:
        """Raise :class:`DecisionLogError` if the store cannot be used (for a readiness probe)."""

    @abstractmethod
    def close(self) -> None:
        """Close every connection; idempotent. The log cannot be used afterwards."""

    def __enter__(self) -> DecisionLog:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.store!r})"

    def _error(self, action: str, detail: object) -> DecisionLogError:
        return DecisionLogError(f"decision log {self.store}: cannot {action}: {detail}")

    def _unknown_before(self, before: str) -> ValueError:
        # For the client: names no store (a ValueError may become a 400 response).
        return ValueError(f"before: no decision {before!r}")


C = TypeVar("C")
T = TypeVar("T")


class _PoolClosed(Exception):
    pass


class _PoolTimeout(Exception):
    pass


class _Pool(Generic[C]):
    """Connections shared by threads: an idle one is reused (most recent first), a new one is
    opened while there are fewer than ``max_size`` (None: no bound), else the caller waits."""

    def __init__(
        self,
        connect: Callable[[], C],
        close: Callable[[C], None],
        max_size: int | None,
        timeout: float,
    ) -> None:
        self._connect = connect
        self._close = close
        self._max_size = max_size
        self._timeout = timeout
        self._idle: builtins.list[C] = []
        self._size = 0
        self._closed = False
        self._cond = threading.Condition()

    @property
    def closed(self) -> bool:
        return self._closed

    def acquire(self) -> C:
        deadline = time.monotonic() + self._timeout
        with self._cond:
            while True:
                if self._closed:
                    raise _PoolClosed
                if self._idle:
                    return self._idle.pop()
                if self._max_size is None or self._size < self._max_size:
                    self._size += 1
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise _PoolTimeout
                self._cond.wait(remaining)
        try:
            return self._connect()
        except BaseException:
            with self._cond:
                self._size -= 1
                self._cond.notify()
            raise

    def release(self, conn: C) -> None:
        with self._cond:
            if not self._closed:
                self._idle.append(conn)
                self._cond.notify()
                return
            self._size -= 1
        self._quietly_close(conn)

    def discard(self, conn: C) -> None:
        with self._cond:
            self._size -= 1
            self._cond.notify()
        self._quietly_close(conn)

    def discard_idle(self) -> None:
        """Close the idle connections (after one was found dropped: the others likely were)."""
        with self._cond:
            idle, self._idle = self._idle, []
            self._size -= len(idle)
            self._cond.notify_all()
        for conn in idle:
            self._quietly_close(conn)

    def close(self) -> None:
        with self._cond:
            self._closed = True
        self.discard_idle()

    def _quietly_close(self, conn: C) -> None:
        try:
            self._close(conn)
        except Exception:  # closing a broken connection: nothing left to do
            log.debug("closing a connection failed", exc_info=True)


# --- SQLite --------------------------------------------------------------------------------------

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

_SQLITE_MIGRATIONS: dict[int, tuple[str, ...]] = {0: _SQLITE_SCHEMA_V1}
"""Statements that take the schema from a version (the key) to the next."""


_SQLITE_INSERT = f"INSERT INTO decisions ({_COLUMNS}) VALUES ({', '.join('?' * 13)})"
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
    synced share the next commit (see :meth:`append`).
    """

    def __init__(self, path: str | Path, *, busy_timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.store = str(self.path)
        self._busy_timeout = busy_timeout
        self._write_lock = threading.Lock()
        self._queue_lock = threading.Lock()
        self._queue: list[_Pending] = []
        self._pool: _Pool[sqlite3.Connection] = _Pool(
            self._connect, sqlite3.Connection.close, None, busy_timeout
        )
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
            (mode,) = conn.execute("PRAGMA journal_mode = WAL").fetchone()
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

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        try:
            conn = self._pool.acquire()
        except _PoolClosed:
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
            if self._version(conn) == SCHEMA_VERSION:
                return
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


# --- PostgreSQL ----------------------------------------------------------------------------------

_PG_SCHEMA_V1 = (
    """CREATE TABLE IF NOT EXISTS {decisions} (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL,
        client text NOT NULL,
        input_sha256 text NOT NULL,
        input_kind text NOT NULL,
        rule_set_name text NOT NULL,
        rule_set_version text NOT NULL,
        rule_set_hash text NOT NULL,
        tool_version text NOT NULL,
        decision text NOT NULL,
        exit_code integer NOT NULL,
        proposals json NOT NULL,
        report json NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS {proposals} (
        decision_id text NOT NULL REFERENCES {decisions} (id),
        position integer NOT NULL,
        proposal_id text NOT NULL,
        decision text NOT NULL,
        PRIMARY KEY (decision_id, position)
    )""",
    "CREATE INDEX IF NOT EXISTS decisions_created ON {decisions} (created_at, seq)",
    "CREATE INDEX IF NOT EXISTS decisions_client ON {decisions} (client, created_at, seq)",
    "CREATE INDEX IF NOT EXISTS decisions_decision ON {decisions} (decision, created_at, seq)",
    "CREATE INDEX IF NOT EXISTS decision_proposals_proposal ON {proposals} (proposal_id)",
)

_PG_MIGRATIONS: dict[int, tuple[str, ...]] = {0: _PG_SCHEMA_V1}

_PG_LOCK_KEY = 0x636F6D70  # "comp": with hashtext(schema), the advisory lock for creating tables
_PG_VERSION_TABLE = """CREATE TABLE IF NOT EXISTS {version} (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    version integer NOT NULL
)"""


def _redact(url: str) -> str:
    """The URL without its password (in the user part or the query)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, hosts = netloc.rsplit("@", 1)
        if ":" in userinfo:
            netloc = f"{userinfo.split(':', 1)[0]}:***@{hosts}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = "&".join(f"{k}=***" if k == "password" else urlencode({k: v}) for k, v in pairs)
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def _split_url(url: str) -> tuple[str, str | None]:
    """The URL without ``schema=...`` (libpq does not know it), and that schema."""
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    schemas = [v for k, v in pairs if k == "schema"]
    rest = [(k, v) for k, v in pairs if k != "schema"]
    if len(schemas) > 1:
        raise UsageError(f"{_redact(url)}: schema= is given {len(schemas)} times")
    stripped = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(rest), parts.fragment))
    return stripped, schemas[0] if schemas else None


class PostgresLog(DecisionLog):
    """The decision log in PostgreSQL, shared by replicas.

    ``url``: a libpq URL (``postgresql://user:password@host:port/db?...``); ``schema`` (or
    ``?schema=`` in the URL): the schema holding the tables, created if missing; None: the
    connection's ``search_path`` decides. ``pool_size``: connections kept at most;
    ``connect_timeout`` (unless the URL sets one) and ``pool_timeout`` are in seconds.
    """

    def __init__(
        self,
        url: str,
        *,
        schema: str | None = None,
        pool_size: int = 8,
        connect_timeout: float = 10.0,
        pool_timeout: float = 30.0,
    ) -> None:
        conninfo, url_schema = _split_url(url)
        if schema is not None and url_schema is not None and schema != url_schema:
            raise UsageError(
                f"{_redact(url)}: the URL says schema {url_schema!r} but {schema!r} was given"
            )
        schema = schema if schema is not None else url_schema
        if schema is not None and not _SCHEMA_NAME.match(schema):
            raise UsageError(
                f"{_redact(url)}: schema {schema!r} is not a plain lowercase name "
                "([a-z_][a-z0-9_]*, 63 characters at most)"
            )
        self.schema = schema
        self.store = _redact(url) + (
            f" (schema {schema})" if schema is not None and url_schema is None else ""
        )
        try:
            # psycopg is in the optional `serve` extra: SQLite works without it.
            import psycopg  # noqa: PLC0415
            from psycopg import conninfo as pg_conninfo  # noqa: PLC0415
            from psycopg import sql  # noqa: PLC0415
        except ImportError:
            raise self._error(
                "connect", "psycopg is not installed (pip install 'compliance[serve]')"
            ) from None
        self._psycopg = psycopg
        try:
            params: dict[str, Any] = pg_conninfo.conninfo_to_dict(conninfo)
        except psycopg.ProgrammingError as exc:
            raise UsageError(f"{self.store}: not a valid PostgreSQL URL ({exc})") from None
        self._secrets = [
            s
            for s in {str(params.get("password") or ""), unquote(urlsplit(url).password or "")}
            if s
        ]
        params.setdefault("connect_timeout", str(max(1, round(connect_timeout))))
        params.setdefault("application_name", "compliance-decision-log")
        self._params = params

        def name(table: str) -> sql.Identifier:
            return sql.Identifier(table) if schema is None else sql.Identifier(schema, table)

        self._names = {
            "decisions": name("decisions"),
            "proposals": name("decision_proposals"),
            "version": name("decision_log_version"),
        }
        self._sql = sql
        self._pool: _Pool[_Conn] = _Pool(
            self._connect, psycopg.Connection.close, pool_size, pool_timeout
        )
        try:
            self._run("open", self._migrate)
        except BaseException:
            self._pool.close()
            raise

    # -- plumbing

    def _scrub(self, detail: object) -> str:
        text = str(detail).strip()
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _error(self, action: str, detail: object) -> DecisionLogError:
        return super()._error(action, self._scrub(detail) if hasattr(self, "_secrets") else detail)

    def _q(self, template: str) -> sql.Composed:
        return self._sql.SQL(template).format(**self._names)

    def _connect(self) -> _Conn:
        conn = self._psycopg.connect(autocommit=False, **self._params)
        try:
            with conn.cursor() as cur:
                cur.execute("SET TIME ZONE 'UTC'")
                cur.execute("SHOW synchronous_commit")
                row = cur.fetchone()
                if row is not None and row[0] == "off":
                    # A commit must be flushed to the server's WAL before append returns; any
                    # other setting (on, local, remote_write, remote_apply) already does that.
                    cur.execute("SET synchronous_commit TO on")
            conn.commit()
        except BaseException:
            conn.close()
            raise
        return conn

    def _run(self, action: str, work: Callable[[_Conn, bool], T]) -> T:
        """``work(conn, retrying)`` on a pooled connection; a read-only transaction it leaves open
        is rolled back. If the connection turns out dropped, a new one is made and ``work`` runs
        once more (``retrying`` True)."""
        psycopg = self._psycopg
        for attempt in (1, 2):
            try:
                conn = self._pool.acquire()
            except _PoolClosed:
                raise self._error(action, "it is closed") from None
            except _PoolTimeout:
                raise self._error(action, "no connection became free in time") from None
            except psycopg.Error as exc:
                raise self._error(action, exc) from None
            try:
                result = work(conn, attempt == 2)
                if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                    conn.rollback()
            except BaseException as exc:
                if conn.closed or conn.broken:
                    self._pool.discard(conn)
                    self._pool.discard_idle()
                    if attempt == 1 and isinstance(exc, psycopg.OperationalError):
                        log.warning(
                            "decision log %s: connection lost (%s); reconnecting",
                            self.store,
                            self._scrub(exc),
                        )
                        continue
                else:
                    try:
                        conn.rollback()
                    except psycopg.Error:
                        self._pool.discard(conn)
                    else:
                        self._pool.release(conn)
                if isinstance(exc, psycopg.Error):
                    raise self._error(action, exc) from None
                raise
            self._pool.release(conn)
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    def _version(self, cur: _Cursor) -> int:
        table = (
            "decision_log_version" if self.schema is None else f"{self.schema}.decision_log_version"
        )
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", (table,))
        row = cur.fetchone()
        if row is None or not row[0]:
            return 0
        cur.execute(self._q("SELECT version FROM {version}"))
        row = cur.fetchone()
        version = 0 if row is None else int(row[0])
        if version > SCHEMA_VERSION:
            raise self._error(
                "use it",
                f"its schema version {version} is newer than this tool's ({SCHEMA_VERSION}); "
                "upgrade compliance or use another schema",
            )
        return version

    def _migrate(self, conn: _Conn, retrying: bool) -> None:
        with conn.cursor() as cur:
            if self._version(cur) == SCHEMA_VERSION:
                return
            # Replicas starting together: one creates the tables, the others wait, then see them.
            cur.execute(
                "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_PG_LOCK_KEY, self.schema or "")
            )
            cur.execute("SELECT to_regnamespace(%s) IS NULL", (self.schema,))
            row = cur.fetchone()
            if self.schema is not None and row is not None and row[0]:
                cur.execute(
                    self._sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                        self._sql.Identifier(self.schema)
                    )
                )
            cur.execute(self._q(_PG_VERSION_TABLE))
            version = self._version(cur)
            start = version
            while version < SCHEMA_VERSION:
                for statement in _PG_MIGRATIONS[version]:
                    cur.execute(self._q(statement))
                version += 1
            if version != start:
                cur.execute(self._q("DELETE FROM {version}"))
                cur.execute(self._q("INSERT INTO {version} (version) VALUES (%s)"), (version,))
        conn.commit()

    # -- the log

    def append(self, record: DecisionRecord) -> None:
        values = _row_values(record, record.created_at)
        proposals = [(record.id, n, p["id"], p["decision"]) for n, p in enumerate(record.proposals)]
        insert = self._q(
            f"INSERT INTO {{decisions}} ({_COLUMNS}) VALUES "
            f"({', '.join(['%s'] * 11)}, %s::json, %s::json) "
            "ON CONFLICT (id) DO NOTHING RETURNING seq"
        )
        insert_proposals = self._q(
            "INSERT INTO {proposals} (decision_id, position, proposal_id, decision) "
            "VALUES (%s, %s, %s, %s)"
        )

        def work(conn: _Conn, retrying: bool) -> None:
            with conn.cursor() as cur:
                cur.execute(insert, values)
                if cur.fetchone() is None:  # the id is taken
                    conn.rollback()
                    # Retrying after a dropped connection: the first commit may have landed.
                    if retrying and self._get(conn, record.id) == record:
                        conn.rollback()
                        return
                    raise self._error(f"append {record.id}", "that id is already in the log")
                if proposals:
                    cur.executemany(insert_proposals, proposals)
            conn.commit()

        self._run(f"append {record.id}", work)

    def _get(self, conn: _Conn, record_id: str) -> DecisionRecord | None:
        with conn.cursor() as cur:
            cur.execute(
                self._q(f"SELECT {_PG_COLUMNS} FROM {{decisions}} d WHERE d.id = %s"),
                (record_id,),
            )
            row = cur.fetchone()
        return None if row is None else _record_from_row(row)

    def get(self, record_id: str) -> DecisionRecord | None:
        return self._run(f"read {record_id!r}", lambda conn, _retrying: self._get(conn, record_id))

    def _list(self, query: _Query) -> builtins.list[DecisionRecord]:
        def work(conn: _Conn, retrying: bool) -> builtins.list[DecisionRecord]:
            with conn.cursor() as cur:
                key: tuple[object, object] | None = None
                if query.before is not None:
                    cur.execute(
                        self._q("SELECT created_at, seq FROM {decisions} WHERE id = %s"),
                        (query.before,),
                    )
                    key = cur.fetchone()
                    if key is None:
                        raise self._unknown_before(query.before)
                where, params = _where(query, "%s", lambda moment: moment, key)
                cur.execute(
                    self._q(
                        f"SELECT {_PG_COLUMNS} FROM {{decisions}} d{where} "
                        "ORDER BY d.created_at DESC, d.seq DESC LIMIT %s"
                    ),
                    [*params, query.limit],
                )
                rows = cur.fetchall()
            return [_record_from_row(row) for row in rows]

        return self._run("list decisions", work)

    def count(self) -> int:
        def work(conn: _Conn, retrying: bool) -> int:
            with conn.cursor() as cur:
                cur.execute(self._q("SELECT count(*) FROM {decisions}"))
                row = cur.fetchone()
            return 0 if row is None else int(row[0])

        return self._run("count decisions", work)

    def check(self) -> None:
        def work(conn: _Conn, retrying: bool) -> None:
            with conn.cursor() as cur:
                if self._version(cur) != SCHEMA_VERSION:
                    raise self._error("use it", "its tables are missing")
                cur.execute(self._q("SELECT seq FROM {decisions} ORDER BY seq DESC LIMIT 1"))
                cur.fetchall()

        self._run("check it", work)

    def close(self) -> None:
        self._pool.close()


_PG_COLUMNS = ", ".join(
    f"d.{c}::text" if c in ("proposals", "report") else f"d.{c}"
    for c in (c.strip() for c in _COLUMNS.split(","))
)


# --- Choosing a store ----------------------------------------------------------------------------


def open_log(target: str, *, schema: str | None = None) -> DecisionLog:
    """The decision log at ``target``: ``postgresql://...`` or ``postgres://...`` (a libpq URL;
    ``?schema=NAME`` or ``schema`` picks the PostgreSQL schema), ``sqlite:///abs/path``, or a
    plain file path (its directory is created). A malformed target is a :class:`UsageError`; a
    store that cannot be opened, a :class:`DecisionLogError`."""
    if not isinstance(target, str) or not target.strip():
        raise UsageError("decision log: no target given (a file path or a postgresql:// URL)")
    if target.startswith(("postgresql://", "postgres://")):
        return PostgresLog(target, schema=schema)
    if schema is not None:
        raise UsageError(f"decision log {target}: schema= applies only to PostgreSQL")
    if target.startswith("sqlite://"):
        path = target[len("sqlite://") :]
        if not path.startswith("/"):
            raise UsageError(
                f"decision log {target}: expected sqlite:///absolute/path (three slashes)"
            )
        return SqliteLog(path)
    if _URL_SCHEME.match(target):
        raise UsageError(
            f"decision log {_redact(target)}: unsupported; use a file path, sqlite:///path "
            "or postgresql://..."
        )
    return SqliteLog(Path(target).expanduser())
