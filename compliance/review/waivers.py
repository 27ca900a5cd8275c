"""Waivers: findings a project accepts, with who accepted them, why, and until when.

A waivers file (YAML) lists accepted findings. It is validated as strictly as a rule file: an
unknown key, a missing justification, a date that is not a date, a rule that does not exist, a
path that is not a field, a waiver given twice, or an expiry before its approval is an error that
names the file and the waiver, never a waiver silently ignored.

.. code-block:: yaml

    version: 1
    waivers:
      - id: W-2026-014
        rule: DS-003
        proposal: HO-F3-BIOMETRIC-ID
        path: data_sharing.flows[1]          # optional: only findings about this part (an item
                                             # may be named by a field: flows[recipient="..."])
        justification: >-
          The flow is covered by the ministry's data-sharing agreement of 2026-09-12, annex B.
        approved_by: Jane Doe, General Counsel
        approved_on: 2026-10-01
        expires: 2027-03-31                  # the last day it is in force

A waiver matches a finding of its rule about its proposal (and, with ``path``, whose subject or
whose violating or unanswered evidence lies at or under that path). While in force (approved on or
before the review date, not past its expiry) it waives the finding: the finding is still reported,
marked waived with the justification and approver, and the gate does not count it. After its
expiry the finding is open again and says which waiver ran out. A waiver that matched nothing is
reported as unused.

Blockers mark a bar in law or a serious harm: a waiver for one is refused unless the project
config sets ``[waivers] allow_blockers = true``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictStr,
    StringConstraints,
    ValidationError,
)

from compliance.errors import ConfigError
from compliance.intake.boundedfile import read_limited
from compliance.intake.yamlfile import parse_yaml, schema_message
from compliance.proposal.fields import path_from_loc
from compliance.proposal.model import ID_PATTERN
from compliance.review.findings import Finding, Review, WaiverOnFinding, WaiversOut, WaiverUse
from compliance.review.waiver_scope import Scope
from compliance.review.waiver_scope import parse as parse_scope
from compliance.review.waiver_tally import WaiverTally, marks_of
from compliance.rules.ruleset import RuleSet
from compliance.rules.spec import Severity

WAIVERS_VERSION = 1
WAIVERS_MAX_BYTES = 1024 * 1024
"""At most this many bytes in a waivers file (a waiver takes about 500 bytes: some 2,000 waivers);
checked on the open file before a byte is read."""
WAIVERS_MAX_COUNT = 5000
"""At most this many waivers in one file, counted before any is validated."""

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value: Any) -> Any:
    """A date written as YAML reads it (unquoted) or as ISO text; nothing else (no numbers, no
    times, no other formats)."""
    if isinstance(value, date) and not hasattr(value, "hour"):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{value!r} is not a real date") from None
    raise ValueError(f"{value!r} is not a date; write it as YYYY-MM-DD")


def _no_controls(value: Any) -> Any:
    """Text shown in reports and on terminals: no control characters but line breaks."""
    if isinstance(value, str) and any(
        unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in value
    ):
        raise ValueError("contains control characters")
    return value


def _whole_number(value: Any) -> Any:
    if type(value) is not int:
        raise ValueError(f"{value!r} is not a version number; write version: 1")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
Text = Annotated[
    StrictStr,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=4000),
    BeforeValidator(_no_controls),
]
ProposalId = Annotated[StrictStr, StringConstraints(strip_whitespace=True, pattern=ID_PATTERN)]
WAIVER_ID = r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$"
WaiverId = Annotated[StrictStr, StringConstraints(strip_whitespace=True, pattern=WAIVER_ID)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WaiverEntry(_Strict):
    id: WaiverId = Field(description="The waiver's own reference, e.g. the approval's number.")
    rule: Text = Field(description="The id of the rule whose finding is accepted.")
    proposal: ProposalId = Field(description="The id of the proposal.")
    path: Text | None = Field(
        None, description="A field path that limits the waiver to findings about that part."
    )
    justification: Annotated[
        StrictStr,
        StringConstraints(strip_whitespace=True, min_length=20, max_length=4000),
        BeforeValidator(_no_controls),
    ] = Field(description="Why the risk is accepted (at least a sentence).")
    approved_by: Text = Field(description="Who accepted the risk: a name and a role.")
    approved_on: IsoDate
    expires: IsoDate = Field(description="The last day the waiver is in force.")


class WaiversFile(_Strict):
    version: Annotated[Literal[1], BeforeValidator(_whole_number)]
    waivers: list[WaiverEntry]


@dataclass(frozen=True)
class Waiver:
    id: str
    rule_id: str
    proposal_id: str
    path: str | None
    justification: str
    approved_by: str
    approved_on: date
    expires: date
    origin: str
    scope: Scope | None = field(default=None, init=False, compare=False)
    """The parsed ``path``, made from it."""

    def __post_init__(self) -> None:
        if self.path is None:
            object.__setattr__(self, "scope", None)
            return
        scope = parse_scope(self.path)
        if isinstance(scope, str):
            raise ValueError(f"waiver {self.id}: {scope}")
        object.__setattr__(self, "scope", scope)

    def in_force(self, as_of: date) -> bool:
        return self.approved_on <= as_of <= self.expires

    def rank(self) -> tuple[tuple[int, int], date, str]:
        """For choosing among waivers that match one finding: the most specific path, then the
        latest expiry, then the id (never the order of the file)."""
        return (self.scope.specificity if self.scope else (0, 0)), self.expires, self.id

    def covers(self, finding: Finding, proposal: dict[str, Any], proposal_id: str) -> bool:
        """Whether the finding is about this waiver's path in ``proposal`` (any finding when
        the waiver has no path). A selector that names several items is an error: the waiver
        was approved for one."""
        if self.scope is None:
            return True
        scopes = self.scope.concrete(proposal)
        if len(scopes) > 1:
            raise ConfigError(
                f"{self.origin}: waiver {self.id}: path {self.path!r} names {len(scopes)} items "
                f"of {proposal_id} ({', '.join(scopes)}); a waiver accepts the risk of one "
                "item: name it by a field that tells it apart, or by position"
            )
        paths = [e.path for e in finding.evidence if e.role != "context"]
        if finding.subject is not None:
            paths.append(finding.subject)
        return any(_under(p, scope) for p in paths for scope in scopes)

    def on_finding(
        self, status: Literal["applied", "expired"], superseded: list[str]
    ) -> WaiverOnFinding:
        return WaiverOnFinding(
            id=self.id,
            status=status,
            justification=self.justification,
            approved_by=self.approved_by,
            approved_on=self.approved_on,
            expires=self.expires,
            origin=self.origin,
            superseded=superseded,
        )


def _under(path: str, scope: str) -> bool:
    return path == scope or path.startswith((scope + ".", scope + "["))


@dataclass(frozen=True)
class Waivers:
    """A validated waivers file, judged as of one day."""

    label: str
    sha256: str
    as_of: date
    allow_blockers: bool
    items: tuple[Waiver, ...]
    _by_key: Mapping[tuple[str, str], tuple[Waiver, ...]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        index: dict[tuple[str, str], list[Waiver]] = {}
        for waiver in self.items:
            index.setdefault((waiver.rule_id, waiver.proposal_id), []).append(waiver)
        object.__setattr__(self, "_by_key", {k: tuple(v) for k, v in index.items()})

    def apply(self, proposal_id: str, finding: Finding, proposal: dict[str, Any]) -> Finding:
        """The finding with the waiver that matches it in ``proposal`` (the proposal as plain
        data), if any: one in force waives it; else an expired one re-opens it and says so. The
        other waivers that matched are named as superseded by it."""
        if finding.outcome != "violation":
            return finding  # an unanswered question is answered, not waived
        if finding.severity is Severity.blocker and not self.allow_blockers:
            # The waivers file is checked against each rule's floor; a finding that an
            # escalation made a blocker is not waived either unless blockers may be.
            return finding
        candidates = [
            w
            for w in self._by_key.get((finding.rule_id, proposal_id), ())
            if w.covers(finding, proposal, proposal_id)
        ]
        if not candidates:
            return finding
        in_force = [w for w in candidates if w.in_force(self.as_of)]
        expired = [w for w in candidates if w.expires < self.as_of]
        if in_force:
            chosen = max(in_force, key=Waiver.rank)
            status: Literal["applied", "expired"] = "applied"
        elif expired:
            chosen = max(expired, key=lambda w: (w.expires, w.rank()))
            status = "expired"
        else:
            return finding  # approved after the review date: not yet in force
        others = [w.id for w in candidates if w is not chosen]
        return finding.model_copy(
            update={"waived": status == "applied", "waiver": chosen.on_finding(status, others)}
        )

    def tally(self) -> WaiverTally:
        """An empty tally of what these waivers do, to count reviews into as they go."""
        return WaiverTally(frozenset(w.proposal_id for w in self.items))

    def usage(self, reviews: Iterable[Review] | WaiverTally, ruleset: RuleSet) -> WaiversOut:
        """What each waiver did in a run: from its reviews, or from a tally counted as they
        went (see :class:`WaiverTally`)."""
        if isinstance(reviews, WaiverTally):
            tally = reviews
        else:
            tally = self.tally()
            for review in reviews:
                tally.add(review.proposal_id, marks_of(review))
        reviewed = tally.reviewed
        matched = tally.matched
        applied = tally.applied
        superseded = tally.superseded
        running = {r.id for r in ruleset.rules}
        uses = []
        for w in self.items:
            count = matched.get(w.id, 0)
            status: Any
            if w.id in applied:
                status = "applied"
            elif count:
                status = "expired"
            elif w.id in superseded:
                status = "superseded"
            elif w.rule_id not in running:
                status = "rule_not_run"
            elif w.proposal_id not in reviewed:
                status = "proposal_not_reviewed"
            else:
                status = "unused"
            uses.append(
                WaiverUse(
                    id=w.id,
                    rule_id=w.rule_id,
                    proposal_id=w.proposal_id,
                    path=w.path,
                    approved_by=w.approved_by,
                    approved_on=w.approved_on,
                    expires=w.expires,
                    status=status,
                    findings=count,
                )
            )
        return WaiversOut(
            file=self.label,
            sha256="sha256:" + self.sha256,
            as_of=self.as_of,
            allow_blockers=self.allow_blockers,
            waivers=uses,
        )


def load_waivers(
    path: Path,
    ruleset: RuleSet,
    *,
    as_of: date,
    allow_blockers: bool = False,
    severities: Mapping[str, Severity] | None = None,
    label: str | None = None,
) -> Waivers:
    """Read and validate a waivers file against the loaded rules. ``severities`` gives each
    rule's severity as the project judges it (default: the rule set's); ``as_of`` is the day
    expiry is judged against. Every problem is reported at once, as a :class:`ConfigError`."""
    label = label or str(path)
    data = read_limited(path, label, ConfigError, WAIVERS_MAX_BYTES)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{label}: not UTF-8 text") from None
    raw = parse_yaml(text, label, ConfigError)
    if raw is None:
        raise ConfigError(f"{label}: empty; a waivers file starts with 'version: 1'")
    entries = raw.get("waivers") if isinstance(raw, dict) else None
    if isinstance(entries, list) and len(entries) > WAIVERS_MAX_COUNT:
        raise ConfigError(f"{label}: {len(entries)} waivers, over the limit of {WAIVERS_MAX_COUNT}")
    try:
        parsed = WaiversFile.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_schema_problems(exc, label, raw)) from None
    by_id = {r.id.upper(): r for r in ruleset.rules}
    graded = dict(severities or {r.id: r.severity for r in ruleset.rules})
    problems: list[str] = []
    seen_ids: set[str] = set()
    seen_scopes: set[tuple[str, str, str | None]] = set()
    items: list[Waiver] = []
    for entry in parsed.waivers:
        where = f"{label}: waiver {entry.id}"
        rule = by_id.get(entry.rule.upper())
        if entry.id.upper() in seen_ids:
            problems.append(f"{where}: the id is used twice")
        seen_ids.add(entry.id.upper())
        if rule is None:
            problems.append(f"{where}: rule: no such rule {entry.rule!r} in the loaded rules")
            continue
        scope_of_path = parse_scope(entry.path) if entry.path is not None else None
        path_ok = not isinstance(scope_of_path, str)
        if isinstance(scope_of_path, str):
            problems.append(f"{where}: {scope_of_path}")
            scope_of_path = None
        scope = (rule.id, entry.proposal, scope_of_path.key if scope_of_path else None)
        if path_ok and scope in seen_scopes:
            problems.append(
                f"{where}: another waiver has the same rule, proposal and path ({rule.id}, "
                f"{entry.proposal}" + (f", {entry.path})" if entry.path else ", no path)")
            )
        seen_scopes.add(scope)
        if entry.expires < entry.approved_on:
            problems.append(
                f"{where}: expires {entry.expires} is before approved_on {entry.approved_on}"
            )
        if entry.approved_on > as_of:
            problems.append(
                f"{where}: approved_on {entry.approved_on} is after the review date {as_of}"
            )
        if graded.get(rule.id) is Severity.blocker and not allow_blockers:
            problems.append(
                f"{where}: {rule.id} is a blocker; blockers can be waived only when the project "
                "config sets allow_blockers = true in [waivers] (a blocker marks a bar in law "
                "or a serious harm)"
            )
        if not path_ok:
            continue  # refused above; the file is reported once every waiver is checked
        items.append(
            Waiver(
                id=entry.id,
                rule_id=rule.id,
                proposal_id=entry.proposal,
                path=entry.path,
                justification=entry.justification,
                approved_by=entry.approved_by,
                approved_on=entry.approved_on,
                expires=entry.expires,
                origin=label,
            )
        )
    if problems:
        raise ConfigError(problems)
    return Waivers(
        label=label,
        sha256=hashlib.sha256(data).hexdigest(),
        as_of=as_of,
        allow_blockers=allow_blockers,
        items=tuple(items),
    )


def _schema_problems(exc: ValidationError, label: str, raw: Any) -> list[str]:
    lines = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        where = label
        if len(loc) >= 2 and loc[0] == "waivers" and isinstance(loc[1], int):
            items = raw.get("waivers") if isinstance(raw, dict) else None
            item = items[loc[1]] if isinstance(items, list) and loc[1] < len(items) else None
            name = item.get("id") if isinstance(item, dict) else None
            where = f"{label}: waiver {name if isinstance(name, str) else '#' + str(loc[1] + 1)}"
            loc = loc[2:]
        message = schema_message(error)
        if error["type"] == "string_pattern_mismatch" and loc == ("id",):
            message = (
                f"{error['input']!r} is not a waiver id: use letters, digits and . _ : / - "
                "(at most 64 characters), starting with a letter or digit"
            )
        lines.append(f"{where}: {path_from_loc(loc) or '(waiver)'}: {message}")
    return lines
