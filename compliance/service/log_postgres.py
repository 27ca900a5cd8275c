"""The decision log in PostgreSQL (psycopg 3), shared by replicas (see
:mod:`compliance.service.decision_log`).

Connections come from a :class:`psycopg_pool.ConnectionPool` (at most ``pool_size``; one is kept
open, more are opened on demand and closed again when idle): autocommit off and an explicit
commit per append, with ``synchronous_commit`` raised to ``on`` for the session if the server has
it ``off``. A connection found dropped (a server restart, a terminated backend) is given back to
the pool, which replaces it; the pool's idle connections are checked at once (they were most
likely dropped too) and the operation is retried once on a fresh one. When no connection can be
had within ``pool_timeout`` seconds (the server is down), the operation fails with the reason a
direct connection attempt gives. The tables are created or migrated on open, on a connection of
their own, so a server that refuses the connection (a wrong password, no server) fails the open
at once with libpq's reason. Passwords never appear in messages (the URL is shown as
``user:***@host``).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from compliance.errors import UsageError
from compliance.service.decision_log import (
    _COLUMNS,
    _INSERT_COLUMNS,
    _SCHEMA_NAME,
    SCHEMA_VERSION,
    DecisionLog,
    DecisionLogError,
    DecisionRecord,
    _Query,
    _record_from_row,
    _redact,
    _row_values,
    _where,
    log,
)

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql
    from psycopg_pool import ConnectionPool

    _Conn = psycopg.Connection[tuple[Any, ...]]
    _Cursor = psycopg.Cursor[tuple[Any, ...]]

T = TypeVar("T")

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

_PG_MIGRATIONS: dict[int, tuple[str, ...]] = {
    0: _PG_SCHEMA_V1,
    1: ("ALTER TABLE {decisions} ADD COLUMN IF NOT EXISTS kept_proposals json",),
}

_PG_LOCK_KEY = 0x636F6D70  # "comp": with hashtext(schema), the advisory lock for creating tables
_PG_VERSION_TABLE = """CREATE TABLE IF NOT EXISTS {version} (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    version integer NOT NULL
)"""


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
    ``migrate=False``: the tables must exist at this tool's schema version; nothing is created.
    """

    def __init__(
        self,
        url: str,
        *,
        schema: str | None = None,
        pool_size: int = 8,
        connect_timeout: float = 10.0,
        pool_timeout: float = 30.0,
        migrate: bool = True,
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
        self._may_migrate = migrate
        self.store = _redact(url) + (
            f" (schema {schema})" if schema is not None and url_schema is None else ""
        )
        try:
            # psycopg and psycopg_pool are in the optional `serve` extra: SQLite works without.
            import psycopg  # noqa: PLC0415
            from psycopg import conninfo as pg_conninfo  # noqa: PLC0415
            from psycopg import sql  # noqa: PLC0415
            from psycopg_pool import ConnectionPool  # noqa: PLC0415
        except ImportError as exc:
            raise self._error(
                "connect", f"{exc.name} is not installed (pip install 'compliance[serve]')"
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
        self._pool: ConnectionPool[_Conn] | None = None
        try:
            first = self._connect()
        except psycopg.Error as exc:
            raise self._error("open", exc) from None
        try:
            self._migrate(first)
        except psycopg.Error as exc:
            raise self._error("open", exc) from None
        finally:
            first.close()
        self._pool = ConnectionPool(
            kwargs={**params, "autocommit": False},
            min_size=1,
            max_size=pool_size,
            open=True,
            configure=self._configure,
            timeout=pool_timeout,
            name="compliance-decision-log",
        )

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

    def _configure(self, conn: _Conn) -> None:
        """A new connection's session: UTC, and commits flushed before they return."""
        with conn.cursor() as cur:
            cur.execute("SET TIME ZONE 'UTC'")
            cur.execute("SHOW synchronous_commit")
            row = cur.fetchone()
            if row is not None and row[0] == "off":
                # A commit must be flushed to the server's WAL before append returns; any
                # other setting (on, local, remote_write, remote_apply) already does that.
                cur.execute("SET synchronous_commit TO on")
        conn.commit()

    def _connect(self) -> _Conn:
        """A connection outside the pool (to migrate, or to learn why the pool has none)."""
        conn = self._psycopg.connect(autocommit=False, **self._params)
        try:
            self._configure(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _acquire(self, action: str) -> tuple[ConnectionPool[_Conn], _Conn]:
        from psycopg_pool import PoolClosed, PoolTimeout  # noqa: PLC0415 - imported in __init__

        pool = self._pool
        if pool is None:  # pragma: no cover - only while opening
            raise self._error(action, "it is not open")
        try:
            return pool, pool.getconn()
        except PoolClosed:
            raise self._error(action, "it is closed") from None
        except PoolTimeout:
            pass
        try:  # why: a server that refuses connections says so
            self._connect().close()
        except self._psycopg.Error as exc:
            raise self._error(action, exc) from None
        raise self._error(action, "no connection became free in time")

    def _run(self, action: str, work: Callable[[_Conn, bool], T]) -> T:
        """``work(conn, retrying)`` on a pooled connection; a read-only transaction it leaves open
        is rolled back. If the connection turns out dropped, the pool replaces it (and checks
        its idle ones) and ``work`` runs once more (``retrying`` True)."""
        psycopg = self._psycopg
        for attempt in (1, 2):
            pool, conn = self._acquire(action)
            try:
                result = work(conn, attempt == 2)
                if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                    conn.rollback()
            except BaseException as exc:
                lost = conn.closed or conn.broken
                if not lost:
                    try:
                        conn.rollback()
                    except psycopg.Error:  # the pool closes what it cannot reset
                        log.debug("rollback failed", exc_info=True)
                pool.putconn(conn)  # a broken one is discarded and replaced
                if lost:
                    pool.check()  # the idle ones were most likely dropped too
                    if attempt == 1 and isinstance(exc, psycopg.OperationalError):
                        log.warning(
                            "decision log %s: connection lost (%s); reconnecting",
                            self.store,
                            self._scrub(exc),
                        )
                        continue
                if isinstance(exc, psycopg.Error):
                    raise self._error(action, exc) from None
                raise
            pool.putconn(conn)
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

    def _migrate(self, conn: _Conn) -> None:
        with conn.cursor() as cur:
            version = self._version(cur)
            if version == SCHEMA_VERSION:
                return
            if not self._may_migrate:
                raise self._not_current(version)
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
            f"INSERT INTO {{decisions}} ({_INSERT_COLUMNS}) VALUES "
            f"({', '.join(['%s'] * 11)}, %s::json, %s::json, %s::json) "
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

    def _kept_page(self, after: int, limit: int) -> builtins.list[tuple[int, str, str | None]]:
        def work(conn: _Conn, retrying: bool) -> builtins.list[tuple[int, str, str | None]]:
            with conn.cursor() as cur:
                cur.execute(
                    self._q(
                        "SELECT seq, id, kept_proposals::text FROM {decisions} "
                        "WHERE seq > %s ORDER BY seq LIMIT %s"
                    ),
                    (after, limit),
                )
                return [(int(seq), rid, kept) for seq, rid, kept in cur.fetchall()]

        return self._run("read the kept proposals", work)

    def check(self) -> None:
        def work(conn: _Conn, retrying: bool) -> None:
            with conn.cursor() as cur:
                if self._version(cur) != SCHEMA_VERSION:
                    raise self._error("use it", "its tables are missing")
                cur.execute(self._q("SELECT seq FROM {decisions} ORDER BY seq DESC LIMIT 1"))
                cur.fetchall()

        self._run("check it", work)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()


_PG_COLUMNS = ", ".join(
    f"d.{c}::text" if c in ("proposals", "report") else f"d.{c}"
    for c in (c.strip() for c in _COLUMNS.split(","))
)
