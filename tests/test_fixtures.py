"""The bundled proposals judge the rules: sound ones of every sector must pass, and each flawed
one must be flagged on the field that is actually wrong.

The fixtures were written from the frameworks and from documented partnership failures, not from
the rules; ``fixtures/expected/flawed-fields.json`` records, for each flawed proposal, which answers are the
defects and why. A rule change that stops flagging one, or starts blocking a sound proposal,
fails here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from compliance import Reviewer
from compliance.intake.proposals import read_proposals
from compliance.proposal.model import Sector
from compliance.review.findings import Decision, Review
from compliance.rules.spec import Severity

from .conftest import FIXTURES

EXEMPLARY = sorted(FIXTURES.glob("exemplary-*.json"))
EXPECTATIONS: dict[str, Any] = json.loads(
    (FIXTURES / "expected" / "flawed-fields.json").read_text(encoding="utf-8")
)
FLAWED = sorted(FIXTURES.glob("flawed-*.json"))


def _review(path: Path, reviewer: Reviewer) -> Review:
    [loaded] = read_proposals([str(path)])
    return reviewer.review(loaded.proposal, loaded.source_map)


def test_every_sector_has_an_exemplary_proposal() -> None:
    sectors = set()
    for path in EXEMPLARY:
        [loaded] = read_proposals([str(path)])
        sectors.add(loaded.proposal.sector)
    assert sectors == set(Sector)


@pytest.mark.parametrize("path", EXEMPLARY, ids=lambda p: p.name)
def test_exemplary_proposals_are_approved(path: Path, durable: Reviewer) -> None:
    review = _review(path, durable)
    serious = [
        f"{f.rule_id} {f.outcome}: {f.message}"
        for f in review.findings
        if f.severity in (Severity.blocker, Severity.high)
    ]
    assert serious == []
    assert review.decision in (Decision.approve, Decision.approve_with_conditions)


def test_every_flawed_fixture_has_expectations() -> None:
    assert sorted(EXPECTATIONS) == [p.name for p in FLAWED]
    domains = {e["domain"] for e in EXPECTATIONS.values()}
    assert len(domains) == 9


@pytest.mark.parametrize("path", FLAWED, ids=lambda p: p.name)
def test_flawed_proposals_are_flagged_on_the_wrong_fields(path: Path, durable: Reviewer) -> None:
    expected = EXPECTATIONS[path.name]
    review = _review(path, durable)
    assert review.decision is not Decision.approve
    flagged: dict[str, list[str]] = {}
    for f in review.findings:
        for e in f.evidence:
            if e.role != "context":
                flagged.setdefault(e.path, []).append(f.rule_id)
    missed = [w["path"] for w in expected["wrong"] if w["path"] not in flagged]
    assert missed == []
    assert any(f.domain == expected["domain"] for f in review.findings)


def test_all_fixtures_review_together_as_one_batch() -> None:
    """README's ``compliance review fixtures/*.json`` needs ids unique across the fixtures."""
    loaded = read_proposals([str(p) for p in sorted(FIXTURES.glob("*.json"))])
    assert len({item.proposal.id for item in loaded}) == len(loaded)
