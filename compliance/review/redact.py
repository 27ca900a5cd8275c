"""Redacted reports: a proposal's free text replaced by placeholders (``--redact PROFILE``).

Redaction happens at the source: the proposal is reviewed as a copy whose free-text answers (the
fields of kind text and list of text in the field catalogue, or those a profile names) are
placeholders such as ``[party 2]``, so every message, evidence value, item name and title made
from them carries the placeholder, never the answer. Text answers are only ever tested for being
answered (and text lists counted), so the copy is judged exactly as the proposal is. The real
proposal id still matches waivers; the input's name is replaced too unless the profile keeps it.
A last check over every rendered output (:mod:`compliance.reports.redact_check`) fails the run when
a redacted answer survives anywhere.

A placeholder is named after the kind of thing the field holds (derived from its path: the list
item for a ``name``, the field otherwise) and numbered in the order values are met in the report;
the same value (compared after Unicode normalisation, case folding and whitespace) gets the same
placeholder everywhere in the report, whichever field it is met in first.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from compliance.errors import InputError
from compliance.proposal.fields import Kind, catalogue
from compliance.review.findings import RedactionOut

if TYPE_CHECKING:
    from compliance.proposal.sourcemap import Location
    from compliance.review.findings import Report, Review

DEFAULT_PROFILE = "default"
FREE_TEXT = frozenset({Kind.TEXT, Kind.TEXT_LIST})
WAIVER_NOTE = "[waiver justification]"
"""What a waiver's justification reads in a redacted report: it is written about the proposal
and may name what the proposal names."""


@cache
def free_text_fields() -> tuple[str, ...]:
    """Every free-text field of the proposal (generic paths, in catalogue order)."""
    return tuple(p for p, s in catalogue().items() if s.kind in FREE_TEXT)


def _singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


@cache
def label_of(path: str) -> str:
    """What a placeholder for ``path`` calls its value: ``parties[].name`` -> ``party``,
    ``data_sharing.flows[].recipient`` -> ``recipient``, ``monitoring.indicators`` ->
    ``indicator``; the proposal id is ``proposal``."""
    if path == "id":
        return "proposal"
    parts = path.replace("[]", "").split(".")
    name = parts[-1]
    if name == "name" and len(parts) > 1:
        name = _singular(parts[-2])
    elif catalogue()[path].kind is Kind.TEXT_LIST:
        name = _singular(name)
    return name.replace("_", " ")


def normal(text: str) -> str:
    """The form values are compared in: NFKC, case-folded, whitespace runs as one space, no
    space after a hyphen (a wrapped line may break there)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"-\s+", "-", " ".join(folded.split()))


@dataclass(frozen=True)
class Profile:
    """Which free-text fields a redacted report hides."""

    name: str
    fields: frozenset[str]
    keep_source: bool = False
    origin: str = "built in"


def resolve_fields(entries: Iterable[str], where: str) -> frozenset[str]:
    """The free-text fields ``entries`` name: ``*`` (all of them), a free-text field's path, or a
    section's or table's path (every free-text field inside it)."""
    specs = catalogue()
    chosen: set[str] = set()
    problems: list[str] = []
    for entry in entries:
        if entry == "*":
            chosen.update(free_text_fields())
            continue
        spec = specs.get(entry)
        if spec is None:
            problems.append(f"{where}: {entry!r} is not a field of the proposal")
        elif spec.kind in FREE_TEXT:
            chosen.add(entry)
        elif spec.kind in (Kind.OBJECT, Kind.OBJECT_LIST):
            inside = [p for p in free_text_fields() if p.startswith((entry + ".", entry + "[]."))]
            if not inside:
                problems.append(f"{where}: {entry!r} holds no free text")
            chosen.update(inside)
        else:
            problems.append(
                f"{where}: {entry!r} is a {spec.kind.value}, not free text (only free-text "
                "fields are redacted)"
            )
    if problems:
        raise InputError(problems)
    return frozenset(chosen)


@cache
def default_profile() -> Profile:
    """The built-in profile: every free-text field, the proposal id included, and input names."""
    return Profile(DEFAULT_PROFILE, frozenset(free_text_fields()))


def profile_named(name: str, configured: Mapping[str, Profile]) -> Profile:
    """The profile ``--redact NAME`` asks for: ``default`` or one of the config's."""
    known = {DEFAULT_PROFILE: default_profile(), **configured}
    found = known.get(name)
    if found is None:
        raise InputError(f"--redact: unknown profile {name!r} (known: {', '.join(sorted(known))})")
    return found


class Redactor:
    """The placeholders of one report: made as proposals are reviewed, the same for the same
    value throughout. Not shared between reports (numbering starts again)."""

    def __init__(self, profile: Profile, public: str = "") -> None:
        self.profile = profile
        self.public = public
        """Text any report may hold (see :func:`compliance.reports.redact_check.public_text`)."""
        self._by_value: dict[str, str] = {}
        self._counts: Counter[str] = Counter()
        self.hidden: dict[str, str] = {}
        """Every redacted value met (in :func:`normal` form) with its placeholder."""
        self.met: set[str] = set()
        """The redacted values of the proposal last reviewed (its view, id and input name)."""
        self._public: dict[str, bool] = {}

    def is_public(self, value: str, occurs: Callable[[str, str], bool]) -> bool:
        """Whether a value (in :func:`normal` form) is in the public text (asked once)."""
        known = self._public.get(value)
        if known is None:
            known = self._public[value] = bool(self.public) and occurs(value, self.public)
        return known

    # ------------------------------------------------------------------ placeholders

    def placeholder(self, label: str, value: str) -> str:
        key = normal(value)
        self.met.add(key)
        found = self._by_value.get(key)
        if found is None:
            self._counts[label] += 1
            found = self._by_value[key] = f"[{label} {self._counts[label]}]"
            self.hidden[key] = found
        return found

    def source(self, source: str) -> str:
        """An input's name as a redacted report gives it."""
        if self.profile.keep_source or source == "-":
            return source
        return self.placeholder("source", source)

    def proposal_id(self, proposal_id: str) -> str:
        if "id" not in self.profile.fields:
            return proposal_id
        return self.placeholder(label_of("id"), proposal_id)

    # ------------------------------------------------------------------ the proposal

    def view(self, view: dict[str, Any]) -> dict[str, Any]:
        """A copy of a proposal's plain view with the profile's free text as placeholders; any
        other free-text answer equal to a redacted one is replaced too (the same words)."""
        self.met = set()
        found: list[tuple[str, str]] = []
        _collect(view, "", found)
        redacted = {normal(v) for p, v in found if p in self.profile.fields}
        for path, value in found:  # numbered in catalogue order, wherever the value is
            if normal(value) in redacted:
                self.placeholder(label_of(path), value)
        shown: dict[str, Any] = _replaced(view, "", redacted, self._by_value)
        return shown

    # ------------------------------------------------------------------ what the review adds

    def review(self, review: Review) -> Review:
        """The parts of a review not made from the proposal's answers: the input's name in the
        review and in every location, and waiver justifications."""
        findings = [
            f.model_copy(
                update={
                    "evidence": [
                        e.model_copy(update={"location": self._located(e.location)})
                        for e in f.evidence
                    ],
                    "waiver": None
                    if f.waiver is None
                    else f.waiver.model_copy(update={"justification": WAIVER_NOTE}),
                }
            )
            for f in review.findings
        ]
        unanswered = [
            u.model_copy(update={"location": self._located(u.location)}) for u in review.unanswered
        ]
        return review.model_copy(
            update={
                "source": None if review.source is None else self.source(review.source),
                "findings": findings,
                "unanswered": unanswered,
            }
        )

    def _located(self, location: Location | None) -> Location | None:
        if location is None:
            return None
        return location.model_copy(update={"source": self.source(location.source)})

    def report(self, report: Report) -> Report:
        """The report's own parts: what profile redacted it, and the proposal ids the waivers
        file names."""
        waivers = report.waivers
        if waivers is not None:
            uses = [
                w.model_copy(update={"proposal_id": self.proposal_id(w.proposal_id)})
                for w in waivers.waivers
            ]
            waivers = waivers.model_copy(update={"waivers": uses})
        return report.model_copy(update={"redaction": self.out(), "waivers": waivers})

    def out(self) -> RedactionOut:
        return RedactionOut(
            profile=self.profile.name,
            fields=[p for p in free_text_fields() if p in self.profile.fields],
            source_kept=self.profile.keep_source,
        )

    def record(self, body: dict[str, Any]) -> dict[str, Any]:
        """A decision record's body as a redacted record holds it: the review in it is already
        redacted; the proposal id and input name are replaced, their hashes kept (whoever holds
        the proposal can match it), and the record says by which profile."""
        return {
            **body,
            "input": {**body["input"], "source": self.source(body["input"]["source"])},
            "proposal": {**body["proposal"], "id": self.proposal_id(body["proposal"]["id"])},
            "redaction": self.out().model_dump(mode="json"),
        }


def _collect(data: Any, prefix: str, out: list[tuple[str, str]]) -> None:
    """Every free-text answer in a plain view, with its generic path."""
    if not isinstance(data, dict):
        return
    specs = catalogue()
    for key, value in data.items():
        path = f"{prefix}{key}"
        spec = specs.get(path)
        if spec is None or value is None:
            continue
        if spec.kind is Kind.TEXT and isinstance(value, str):
            out.append((path, value))
        elif spec.kind is Kind.TEXT_LIST and isinstance(value, list):
            out.extend((path, v) for v in value if isinstance(v, str))
        elif spec.kind is Kind.OBJECT:
            _collect(value, path + ".", out)
        elif spec.kind is Kind.OBJECT_LIST and isinstance(value, list):
            for item in value:
                _collect(item, path + "[].", out)


def _replaced(data: Any, prefix: str, redacted: set[str], by_value: dict[str, str]) -> Any:
    if not isinstance(data, dict):
        return data
    specs = catalogue()
    out: dict[str, Any] = {}
    for key, given in data.items():
        value = given
        path = f"{prefix}{key}"
        spec = specs.get(path)
        kind = spec.kind if spec is not None else None
        if kind is Kind.TEXT and isinstance(value, str) and normal(value) in redacted:
            value = by_value[normal(value)]
        elif kind is Kind.TEXT_LIST and isinstance(value, list):
            value = [
                by_value[normal(v)] if isinstance(v, str) and normal(v) in redacted else v
                for v in value
            ]
        elif kind is Kind.OBJECT:
            value = _replaced(value, path + ".", redacted, by_value)
        elif kind is Kind.OBJECT_LIST and isinstance(value, list):
            value = [_replaced(item, path + "[].", redacted, by_value) for item in value]
        out[key] = value
    return out


def redaction_line(out: RedactionOut) -> str:
    """The line a text, Markdown or HTML report says it is redacted in."""
    also = "" if out.source_kept else " (input names too)"
    return (
        f"redacted by profile {out.profile}: the proposals' free text is shown as "
        f"placeholders{also}"
    )
