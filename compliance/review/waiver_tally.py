"""What waivers did across a run, counted review by review: the part of waivers a batch needs
for every review, kept apart from reading and applying waivers (which only a run with a waivers
file pays for)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from compliance.review.findings import Review

WaiverMark = tuple[str, bool, tuple[str, ...]]
"""A finding's waiver: its id, whether it applied, and the waivers it superseded."""


def marks_of(review: Review) -> tuple[WaiverMark, ...]:
    """The waivers a review's findings matched: all a run's usage needs of the review."""
    return tuple(
        (f.waiver.id, f.waiver.status == "applied", tuple(f.waiver.superseded))
        for f in review.findings
        if f.waiver is not None
    )


@dataclass
class WaiverTally:
    """What waivers matched across a run, counted review by review so that a batch of any size
    is not held to report it. Only the proposal ids the waivers name are remembered."""

    named: frozenset[str]
    reviewed: set[str] = field(default_factory=set)
    matched: dict[str, int] = field(default_factory=dict)
    applied: set[str] = field(default_factory=set)
    superseded: set[str] = field(default_factory=set)

    def add(self, proposal_id: str, marks: Iterable[WaiverMark]) -> None:
        if proposal_id in self.named:
            self.reviewed.add(proposal_id)
        for waiver_id, applied, superseded in marks:
            self.matched[waiver_id] = self.matched.get(waiver_id, 0) + 1
            if applied:
                self.applied.add(waiver_id)
            self.superseded.update(superseded)
