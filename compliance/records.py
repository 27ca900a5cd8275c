"""Decision records: one JSON file per review, chained by hashes so that tampering shows.

``compliance review --record DIR`` appends a record for every proposal it reviews. A record holds
what is needed to reproduce and audit the decision: the input file's sha256, a hash of the
normalised proposal, the rule set's version and hash, the tool version, the waivers applied, the
decision, the findings, and the UTC time.

The chain:

- record *n* is the file ``DIR/<n, 8 digits>-<proposal id>.json``, numbered from 1 with no gaps;
- each record carries ``record_hash``, the sha256 of its own canonical JSON without that field,
  so an edit to its content is caught in the record itself;
- each record carries ``previous``, the sha256 of the previous record's file bytes, so an edit to
  any byte of a record (even spacing), its removal or its replacement is caught by the next one;
- ``DIR/HEAD`` names the last record and the sha256 of its bytes, so removing or editing the
  last record is caught too.

``compliance verify-records DIR`` walks the chain and reports the first break, naming the record.
Appending takes an exclusive lock on ``DIR/.lock``, so concurrent reviews cannot fork the chain.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compliance import __version__
from compliance.errors import UsageError
from compliance.findings import Report, Review
from compliance.model import Proposal

if TYPE_CHECKING:
    from compliance.intake import LoadedProposal

RECORD_VERSION = "1.1"
HEAD_NAME = "HEAD"
_LOCK_NAME = ".lock"
_RECORD_NAME = re.compile(r"^(\d{8})-[A-Za-z0-9._-]{1,64}\.json$")


def canonical(value: Any) -> bytes:
    """The one byte form a value is hashed in: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def proposal_hash(proposal: Proposal) -> str:
    """Hash of the proposal as the contract reads it: the same answers give the same hash,
    whether they came from JSON or a workbook, in any key order or spacing."""
    return sha256(canonical(proposal.model_dump(mode="json", exclude_none=True)))


def _self_hash(record: dict[str, Any]) -> str:
    return sha256(canonical({k: v for k, v in record.items() if k != "record_hash"}))


def record_body(
    review: Review, item: LoadedProposal, report: Report, recorded_at: dt.datetime
) -> dict[str, Any]:
    """A review's record, before it takes its place in the chain."""
    rule_set = report.rule_set
    return {
        "record_version": RECORD_VERSION,
        "recorded_at": recorded_at.astimezone(dt.timezone.utc).isoformat(timespec="seconds"),
        "tool_version": __version__,
        "engine": report.engine,
        "rule_set": {"name": rule_set.name, "version": rule_set.version, "hash": rule_set.hash},
        "threshold": report.threshold.value,
        "domain_thresholds": {d: s.value for d, s in report.domain_thresholds.items()},
        "selection": None if report.selection is None else report.selection.model_dump(mode="json"),
        "input": {"source": item.source, "sha256": "sha256:" + item.input_sha256},
        "proposal": {"id": item.proposal.id, "sha256": proposal_hash(item.proposal)},
        "waivers": None
        if report.waivers is None
        else {
            "file": report.waivers.file,
            "sha256": report.waivers.sha256,
            "as_of": report.waivers.as_of.isoformat(),
        },
        "waivers_applied": [
            {
                "id": f.waiver.id,
                "rule_id": f.rule_id,
                "subject": f.subject,
                "approved_by": f.waiver.approved_by,
                "approved_on": f.waiver.approved_on.isoformat(),
                "expires": f.waiver.expires.isoformat(),
            }
            for f in review.findings
            if f.waived and f.waiver is not None
        ],
        "decision": review.decision.value,
        "counts": review.counts.model_dump(mode="json"),
        "findings": [f.model_dump(mode="json") for f in review.findings],
    }


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    with (directory / _LOCK_NAME).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_atomically(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_head(directory: Path) -> tuple[int, str | None]:
    head = directory / HEAD_NAME
    if not head.exists():
        if any(_RECORD_NAME.match(p.name) for p in directory.iterdir()):
            raise UsageError(
                f"{directory}: holds records but no {HEAD_NAME}; check it with: "
                f"compliance verify-records {directory}"
            )
        return 0, None
    try:
        data = json.loads(head.read_text(encoding="utf-8"))
        return int(data["sequence"]), str(data["sha256"])
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{head}: unreadable ({exc}); check: compliance verify-records") from None


def append(directory: Path, bodies: Sequence[dict[str, Any]]) -> list[Path]:
    """Add records to the chain in ``directory`` (made if missing); returns their files."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{directory}: cannot hold records ({exc.strerror})") from None
    written: list[Path] = []
    try:
        with _locked(directory):
            sequence, previous = _read_head(directory)
            for body in bodies:
                sequence += 1
                record = {"sequence": sequence, "previous": previous, **body}
                record["record_hash"] = _self_hash(record)
                data = json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
                path = directory / f"{sequence:08d}-{body['proposal']['id']}.json"
                _write_atomically(path, data.encode())
                previous = sha256(data.encode())
                _write_atomically(
                    directory / HEAD_NAME,
                    canonical({"sequence": sequence, "record": path.name, "sha256": previous}),
                )
                written.append(path)
    except OSError as exc:
        raise UsageError(f"{directory}: cannot write records ({exc.strerror})") from None
    return written


@dataclass(frozen=True)
class Verdict:
    records: int
    problem: str | None
    head: str | None


def verify(directory: Path) -> Verdict:
    """Walk the chain in ``directory``; the first break, if any, names the record."""
    if not directory.is_dir():
        raise UsageError(f"{directory}: no such directory of records")
    files = sorted(p for p in directory.iterdir() if _RECORD_NAME.match(p.name))
    previous: str | None = None
    for expected, path in enumerate(files, start=1):
        number = int(path.name[:8])
        if number != expected:
            missing = f"{expected:08d}" if number > expected else f"{number:08d} twice"
            return Verdict(expected - 1, f"{path}: record {missing} is missing before it", None)
        data = path.read_bytes()
        try:
            record = json.loads(data)
        except ValueError:
            return Verdict(expected - 1, f"{path}: not valid JSON: edited or damaged", None)
        if not isinstance(record, dict) or record.get("record_hash") != _self_hash(record):
            return Verdict(
                expected - 1, f"{path}: its content does not match its record_hash: edited", None
            )
        if record.get("sequence") != number:
            return Verdict(expected - 1, f"{path}: its sequence is not {number}: renamed", None)
        if record.get("previous") != previous:
            before = files[expected - 2].name if expected > 1 else "(none)"
            return Verdict(
                expected - 1,
                f"{path}: the previous record {before} is not the one it followed: "
                f"{before} was edited, replaced or removed",
                None,
            )
        previous = sha256(data)
    head_path = directory / HEAD_NAME
    if not files and not head_path.exists():
        return Verdict(0, None, None)
    try:
        head = json.loads(head_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Verdict(len(files), f"{head_path}: missing or unreadable", None)
    if not isinstance(head, dict) or head.get("sequence") != len(files):
        last = files[-1].name if files else "(none)"
        return Verdict(
            len(files),
            f"{head_path}: names record {head.get('sequence') if isinstance(head, dict) else '?'}"
            f" but the last record is {last}: records were removed or added",
            None,
        )
    if head.get("sha256") != previous:
        return Verdict(
            len(files), f"{files[-1]}: does not match the hash in {HEAD_NAME}: edited", None
        )
    return Verdict(len(files), None, previous)


def record_reviews(
    directory: Path,
    reviews: Sequence[Review],
    items: Sequence[LoadedProposal],
    report: Report,
    now: dt.datetime | None = None,
) -> list[Path]:
    """Append a record for every review (``items`` in the same order)."""
    recorded_at = now or dt.datetime.now(dt.timezone.utc)
    bodies = [
        record_body(review, item, report, recorded_at)
        for review, item in zip(reviews, items, strict=True)
    ]
    return append(directory, bodies)
