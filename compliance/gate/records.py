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

What the chain alone cannot show is a cut end: removing the last records (or all of them) and
rewriting ``HEAD`` leaves a consistent chain. A witness does (see
:mod:`compliance.gate.record_witness`): the head a run printed, kept outside the directory and given
back to ``verify-records``. Every file is read as hostile input: bounded in size and nesting, and
only if it is a regular file.
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
from compliance.gate.record_witness import (
    HEAD_MAX_BYTES,
    RECORD_MAX_BYTES,
    Damaged,
    Witness,
    head_text,
    parse_json,
    read_bounded,
)
from compliance.proposal.model import Proposal
from compliance.review.findings import Report, Review

if TYPE_CHECKING:
    from compliance.intake.proposals import LoadedProposal

RECORD_VERSION = "1.2"
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
        "as_of": None if report.as_of is None else report.as_of.isoformat(),
        "rules_not_in_force": [n.model_dump(mode="json") for n in report.rules_not_in_force],
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
    if not os.path.lexists(head):
        if any(_RECORD_NAME.match(p.name) for p in directory.iterdir()):
            raise UsageError(
                f"{directory}: holds records but no {HEAD_NAME}; check it with: "
                f"compliance verify-records {directory}"
            )
        return 0, None
    try:
        data = parse_json(read_bounded(head, HEAD_MAX_BYTES))
        return int(data["sequence"]), str(data["sha256"])
    except Damaged as exc:
        raise UsageError(f"{head}: {exc}; check: compliance verify-records {directory}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{head}: unreadable ({exc}); check: compliance verify-records") from None


@dataclass(frozen=True)
class Head:
    """The last record of a chain after a run wrote to it: what a caller keeps as a witness."""

    directory: Path
    sequence: int
    sha256: str

    def __str__(self) -> str:
        return head_text(self.sequence, self.sha256)

    def notice(self) -> str:
        """The line a run that wrote records prints, so that its caller can keep the head."""
        return (
            f"{self.directory}: head {self}; keep it outside {self.directory}, and later: "
            f"compliance verify-records {self.directory} --expect-record {self}"
        )


def _file_part(proposal_id: str) -> str:
    """A proposal id as a record's file name holds it: a redacted record's placeholder
    (``[proposal 1]``) as ``proposal-1``; an id is otherwise kept as it is."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", proposal_id).strip("-")[:64] or "proposal"


def append(directory: Path, bodies: Sequence[dict[str, Any]]) -> Head | None:
    """Add records to the chain in ``directory`` (made if missing); returns the new head (None
    for an empty chain given nothing to add). A record over :data:`RECORD_MAX_BYTES`, which
    ``verify-records`` would refuse, is not written, nor is any other of the same run."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{directory}: cannot hold records ({exc.strerror})") from None
    try:
        with _locked(directory):
            sequence, previous = _read_head(directory)
            chained: list[tuple[Path, bytes, str]] = []
            for body in bodies:
                sequence += 1
                record = {"sequence": sequence, "previous": previous, **body}
                record["record_hash"] = _self_hash(record)
                text = json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
                data = text.encode()
                path = directory / f"{sequence:08d}-{_file_part(body['proposal']['id'])}.json"
                if len(data) > RECORD_MAX_BYTES:
                    raise UsageError(
                        f"{path}: the record would be {len(data)} bytes, over the limit of "
                        f"{RECORD_MAX_BYTES}; no record of this run was written"
                    )
                previous = sha256(data)
                chained.append((path, data, previous))
            for number, (path, data, digest) in enumerate(
                chained, start=sequence - len(chained) + 1
            ):
                _write_atomically(path, data)
                _write_atomically(
                    directory / HEAD_NAME,
                    canonical({"sequence": number, "record": path.name, "sha256": digest}),
                )
    except OSError as exc:
        raise UsageError(f"{directory}: cannot write records ({exc.strerror})") from None
    return None if previous is None else Head(directory, sequence, previous)


@dataclass(frozen=True)
class Verdict:
    records: int
    """How many records, from the first, are intact before the problem (all, without one)."""
    problem: str | None
    head: str | None
    whole: bool = False
    """The problem is about the whole chain (a witness it fails, no records), not one record."""

    def message(self) -> str:
        """The problem as ``verify-records`` says it: with the intact records counted, unless
        it is about the whole chain."""
        if self.whole or self.problem is None:
            return self.problem or ""
        plural = "s" if self.records != 1 else ""
        return f"{self.problem} ({self.records} record{plural} intact before it)"


def _no_records(directory: Path, witnesses: Sequence[Witness]) -> Verdict:
    if witnesses:
        last = max(witnesses, key=lambda w: w.sequence)
        return Verdict(
            0,
            f"{directory}: {last.source} names record {last.sequence} but no record is left: "
            "records were removed",
            None,
            whole=True,
        )
    return Verdict(0, f"{directory}: holds no records: nothing to verify", None, whole=True)


def _witnesses_hold(
    directory: Path, files: Sequence[Path], witnesses: Sequence[Witness]
) -> Verdict | None:
    """After an intact walk: a witness beyond the end, or an exact one with records after it."""
    for witness in witnesses:
        if witness.sequence > len(files):
            return Verdict(
                0,
                f"{directory}: {witness.source} names record {witness.sequence} but the chain "
                f"ends at {files[-1].name}: records were removed from its end",
                None,
                whole=True,
            )
    for witness in witnesses:
        if witness.exact and len(files) > witness.sequence:
            return Verdict(
                witness.sequence,
                f"{files[witness.sequence]}: a record after record {witness.sequence}, which "
                f"{witness.source} gives as the last: added since that head was taken",
                None,
            )
    return None


def verify(directory: Path, witnesses: Sequence[Witness] = ()) -> Verdict:
    """Walk the chain in ``directory``; the first break, if any, names the record. Each witness
    (a head kept elsewhere) must hold: its record has its hash and, if exact, is the last."""
    if not directory.is_dir():
        raise UsageError(f"{directory}: no such directory of records")
    files = sorted(p for p in directory.iterdir() if _RECORD_NAME.match(p.name))
    previous: str | None = None
    for expected, path in enumerate(files, start=1):
        number = int(path.name[:8])
        if number != expected:
            missing = f"{expected:08d}" if number > expected else f"{number:08d} twice"
            return Verdict(expected - 1, f"{path}: record {missing} is missing before it", None)
        try:
            data = read_bounded(path, RECORD_MAX_BYTES)
        except Damaged as exc:
            return Verdict(expected - 1, f"{path}: {exc}: damaged or replaced", None)
        try:
            record = parse_json(data)
        except Damaged as exc:
            return Verdict(expected - 1, f"{path}: {exc}: edited or damaged", None)
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
        for witness in witnesses:
            if witness.sequence == number and witness.sha256 != previous:
                return Verdict(
                    0,
                    f"{path}: its sha256 is not the one {witness.source} gives: the records up "
                    "to it were rewritten",
                    None,
                    whole=True,
                )
    head_path = directory / HEAD_NAME
    if not files and (witnesses or not os.path.lexists(head_path)):
        return _no_records(directory, witnesses)
    try:
        head = parse_json(read_bounded(head_path, HEAD_MAX_BYTES))
    except Damaged as exc:
        return Verdict(len(files), f"{head_path}: {exc}", None)
    if not isinstance(head, dict) or head.get("sequence") != len(files):
        last = files[-1].name if files else "(none)"
        return Verdict(
            len(files),
            f"{head_path}: names record {head.get('sequence') if isinstance(head, dict) else '?'}"
            f" but the last record is {last}: records were removed or added",
            None,
        )
    if not files:  # a HEAD naming record 0
        return _no_records(directory, witnesses)
    if head.get("sha256") != previous:
        return Verdict(
            len(files), f"{files[-1]}: does not match the hash in {HEAD_NAME}: edited", None
        )
    return _witnesses_hold(directory, files, witnesses) or Verdict(len(files), None, previous)


def intact(directory: Path, verdict: Verdict, witnesses: Sequence[Witness]) -> str:
    """The line ``verify-records`` prints for an intact chain: its head, and what held it."""
    plural = "s" if verdict.records != 1 else ""
    said = f"{directory}: {verdict.records} record{plural}, chain intact, head "
    said += head_text(verdict.records, verdict.head or "")
    if not witnesses:
        return said + "; no witness given: records cut from its end would not show"
    return said + "; held by " + ", ".join(f"{w.source} (record {w.sequence})" for w in witnesses)


def record_reviews(
    directory: Path,
    reviews: Sequence[Review],
    items: Sequence[LoadedProposal],
    report: Report,
    now: dt.datetime | None = None,
) -> Head | None:
    """Append a record for every review (``items`` in the same order); returns the new head."""
    recorded_at = now or dt.datetime.now(dt.timezone.utc)
    bodies = [
        record_body(review, item, report, recorded_at)
        for review, item in zip(reviews, items, strict=True)
    ]
    return append(directory, bodies)
