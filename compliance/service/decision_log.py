"""The decision log: every review the HTTP service serves, recorded before the response is sent.

A :class:`DecisionRecord` says who asked (the token's name), when (UTC), what was reviewed (the
sha256 of the request body and whether it was JSON or a workbook), against what (rule set name,
version and hash; tool version), and what was decided: the overall decision, the exit code the
CLI would give, each proposal's decision, and the full JSON report returned to the client.

Two stores implement :class:`DecisionLog`, each in a module of its own; :func:`open_log` picks
one from a target string:

- **SQLite** (:mod:`compliance.service.log_sqlite`; the default; a file path or
  ``sqlite:///abs/path``): WAL journal, so readers never block the writer; ``synchronous=FULL``,
  so every commit is fsynced to the WAL before it returns; a busy timeout, and ``BEGIN
  IMMEDIATE`` for writes, so several processes can share the file; connections are reused, so any
  thread may call any method.
- **PostgreSQL** (:mod:`compliance.service.log_postgres`; ``postgresql://`` or ``postgres://``,
  psycopg 3), for several replicas: connections from a ``psycopg_pool`` pool, autocommit off and
  an explicit commit per append (with ``synchronous_commit`` raised to ``on`` for the session if
  the server has it ``off``); a dropped connection is replaced and the operation retried once.
  ``?schema=NAME`` in the URL (or ``schema=`` to :func:`open_log`) keeps the tables in their own
  schema, created if missing; without it the tables go where the connection's ``search_path``
  puts them. Passwords never appear in messages (the URL is shown as ``user:***@host``).

This module holds what both share: the record, the queries' filters, the log's interface and the
choice of a store.

The schema (the same in both, version :data:`SCHEMA_VERSION`)::

    decisions(seq, id UNIQUE, created_at, client, input_sha256, input_kind, rule_set_name,
              rule_set_version, rule_set_hash, tool_version, decision, exit_code,
              proposals JSON, report JSON, kept_proposals JSON NULL)
    decision_proposals(decision_id, position, proposal_id, decision)   -- PRIMARY KEY (id, position)

``seq`` is a monotonic sequence (SQLite ``AUTOINCREMENT``, PostgreSQL identity). Lists are newest
first by ``(created_at, seq)``, so ties in time are still ordered (by insertion) and ``before``
pagination is keyset pagination on that pair: no duplicates, no gaps. ``created_at`` is ISO 8601
text of fixed width in SQLite (``2026-01-31T09:00:00.000000+00:00``, so text order is time
order) and ``timestamptz`` in PostgreSQL; both keep microseconds. There are indexes on
``(created_at, seq)``, ``(client, created_at, seq)``, ``(decision, created_at, seq)`` and
``decision_proposals(proposal_id)``. ``proposals`` is kept in the row as well as in the side
table (which exists to index it), so a record is read back with one query. ``kept_proposals``
(version 2) holds the reviewed proposals themselves, as validated JSON, only when the service
keeps them (``compliance serve --keep-proposals``: personal data, off by default); it is NULL
otherwise, and never read by :meth:`DecisionLog.get` or :meth:`DecisionLog.list` (so never
served over HTTP): :meth:`DecisionLog.stored_proposals` reads it, for ``rules impact
--decision-log``.

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
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from compliance.errors import ComplianceError, UsageError
from compliance.exitcodes import ExitCode
from compliance.review.decision import WORST_FIRST

if TYPE_CHECKING:
    from compliance.proposal.model import Proposal

SCHEMA_VERSION = 2
"""The version of the tables this module reads and writes (2: ``kept_proposals``)."""

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
    kept_proposals: str | None = field(default=None, compare=False, repr=False, kw_only=True)
    """The reviewed proposals as validated JSON (an array, in the order of ``proposals``; see
    :func:`proposals_text`), when the service keeps them: personal data. Never part of
    :meth:`to_dict`; records read back leave it ``None`` (:meth:`DecisionLog.stored_proposals`
    reads it)."""

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
        if self.kept_proposals is not None and not isinstance(self.kept_proposals, str):
            raise ValueError("DecisionRecord.kept_proposals: expected JSON text (str) or None")

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
_INSERT_COLUMNS = _COLUMNS + ", kept_proposals"


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
        None if record.kept_proposals is None else _as_stored(record.kept_proposals),
    )


def _report_text(record: DecisionRecord) -> str:
    """The report's JSON text: the caller's own when it gave one that every store keeps (valid
    UTF-8, no NUL), else encoded from the dict."""
    if record.report_json is None:
        return _json(record.report)
    return _as_stored(record.report_json, record.report)


def _as_stored(text: str, value: Any = None) -> str:
    """JSON ``text`` as it is if every store keeps it (valid UTF-8, no NUL), else encoded again
    from ``value`` (by default, what ``text`` decodes to)."""
    if "\x00" not in text:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            pass
        else:
            return text
    return _json(json.loads(text) if value is None else value)


def proposals_text(proposals: Sequence[Proposal]) -> str:
    """The proposals as a decision record keeps them (``kept_proposals``): a JSON array of each
    proposal as validated (``None`` left out), which the intake reads back to the same
    proposals."""
    return _json([p.model_dump(mode="json", exclude_none=True) for p in proposals])


class StoredProposals(NamedTuple):
    """A record's reviewed proposals, as :meth:`DecisionLog.stored_proposals` yields them."""

    record_id: str
    proposals: list[Proposal] | None
    """The proposals, in the order of the record's ``proposals``; None when they were not
    kept."""


KEPT_PAGE = 200
"""Records :meth:`DecisionLog.stored_proposals` reads per query."""


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

    def stored_proposals(self) -> Iterator[StoredProposals]:
        """Every record of the log, oldest first (in insertion order), with the proposals it
        reviewed as the service kept them, read and validated as the service reads a request
        (a proposal no longer valid is an :class:`~compliance.errors.InputError` naming its
        record); ``proposals`` is None for a record whose proposals were not kept. Records are
        read :data:`KEPT_PAGE` at a time."""
        from compliance.intake.proposals import read_text_upload  # noqa: PLC0415 - on use

        after = 0
        while True:
            page = self._kept_page(after, KEPT_PAGE)
            for _, record_id, text in page:
                proposals = None
                if text is not None:
                    loaded = read_text_upload(text.encode("utf-8"), f"decision {record_id}")
                    proposals = [item.proposal for item in loaded]
                yield StoredProposals(record_id, proposals)
            if len(page) < KEPT_PAGE:
                return
            after = page[-1][0]

    @abstractmethod
    def _kept_page(self, after: int, limit: int) -> builtins.list[tuple[int, str, str | None]]:
        """``(seq, id, kept_proposals)`` of up to ``limit`` records after ``seq`` ``after``, by
        ``seq``."""

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

    def _not_current(self, version: int) -> UsageError:
        """A store opened without ``migrate`` that is not at this tool's schema version."""
        problem = (
            "its tables are missing"
            if version == 0
            else f"its schema version {version} is older than this tool's ({SCHEMA_VERSION}); "
            "a service of this version updates it when it starts"
        )
        return UsageError(f"decision log {self.store}: cannot use it: {problem}")

    def _unknown_before(self, before: str) -> ValueError:
        # For the client: names no store (a ValueError may become a 400 response).
        return ValueError(f"before: no decision {before!r}")


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


# --- Choosing a store ----------------------------------------------------------------------------


def open_log(target: str, *, schema: str | None = None, migrate: bool = True) -> DecisionLog:
    """The decision log at ``target``: ``postgresql://...`` or ``postgres://...`` (a libpq URL;
    ``?schema=NAME`` or ``schema`` picks the PostgreSQL schema), ``sqlite:///abs/path``, or a
    plain file path (its directory is created). A malformed target is a :class:`UsageError`; a
    store that cannot be opened, a :class:`DecisionLogError`. ``migrate=False`` (a reader, such
    as ``rules impact``): the store must exist at this tool's schema version, and nothing is
    created or migrated (a :class:`UsageError` otherwise)."""
    if not isinstance(target, str) or not target.strip():
        raise UsageError("decision log: no target given (a file path or a postgresql:// URL)")
    if target.startswith(("postgresql://", "postgres://")):
        from compliance.service.log_postgres import PostgresLog  # noqa: PLC0415 - psycopg

        return PostgresLog(target, schema=schema, migrate=migrate)
    if schema is not None:
        raise UsageError(f"decision log {target}: schema= applies only to PostgreSQL")
    from compliance.service.log_sqlite import SqliteLog  # noqa: PLC0415 - it imports this

    if target.startswith("sqlite://"):
        path = target[len("sqlite://") :]
        if not path.startswith("/"):
            raise UsageError(
                f"decision log {target}: expected sqlite:///absolute/path (three slashes)"
            )
        return SqliteLog(path, migrate=migrate)
    if _URL_SCHEME.match(target):
        raise UsageError(
            f"decision log {_redact(target)}: unsupported; use a file path, sqlite:///path "
            "or postgresql://..."
        )
    return SqliteLog(Path(target).expanduser(), migrate=migrate)
