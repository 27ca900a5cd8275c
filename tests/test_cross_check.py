"""The cross-check modes: "fired" (the default), "full" and "sample" give the same reviews while
the engines agree, and each catches the disagreements it is meant to."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks.synth import generate
from compliance import Reviewer
from compliance.errors import EngineError
from compliance.intake.proposals import read_proposals
from compliance.proposal.model import Proposal
from compliance.review.reviewer import CROSS_CHECKS, SAMPLE_EVERY, CrossCheck, sampled
from compliance.rules.reference import TV, ReferenceEvaluator, proposal_view
from compliance.rules.ruleset import RuleSet

from .conftest import FIXTURES

FLAWED = FIXTURES / "flawed-refugee-data-sharing.json"
INPUTS = sorted(FIXTURES.glob("*.json")) + sorted((FIXTURES / "workbooks").glob("*.xlsx"))
SYNTHETIC = 320


@pytest.fixture(scope="module")
def reviewers(ruleset: RuleSet) -> Iterator[dict[str, Reviewer]]:
    made: dict[str, Reviewer] = {mode: Reviewer(ruleset, cross_check=mode) for mode in CROSS_CHECKS}
    made["reference"] = Reviewer(ruleset, engine="reference")
    yield made
    for reviewer in made.values():
        reviewer.close()


def test_the_modes_and_the_default(ruleset: RuleSet) -> None:
    assert CROSS_CHECKS == ("fired", "full", "sample")
    with Reviewer(ruleset) as reviewer:
        assert reviewer.cross_check == "fired"
    with pytest.raises(ValueError, match=r"^unknown cross-check 'some'$"):
        Reviewer(ruleset, cross_check="some")  # type: ignore[arg-type]


def test_the_sample_is_one_in_32_by_id() -> None:
    """A hash of the id picks the sample, so a proposal is sampled or not whatever the batch
    order, the number of workers or the run."""
    assert SAMPLE_EVERY == 32
    assert [i for i in range(200) if sampled(f"P-{i}")] == [41, 76, 83, 112, 125, 199]
    picked = sum(sampled(f"PRP-{i:05d}") for i in range(32_000))
    assert 900 < picked < 1100


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: p.name)
def test_every_mode_gives_the_same_reviews_of_the_fixtures(
    reviewers: dict[str, Reviewer], path: Path
) -> None:
    items = read_proposals([str(path)])
    assert items
    for item in items:
        expected = reviewers["full"].review(item.proposal, item.source_map).model_dump_json()
        for mode in ("fired", "sample", "reference"):
            got = reviewers[mode].review(item.proposal, item.source_map).model_dump_json()
            assert got == expected, (item.proposal.id, mode)


def test_every_mode_gives_the_same_reviews_of_synthetic_proposals(
    reviewers: dict[str, Reviewer],
) -> None:
    proposals = generate(SYNTHETIC)
    assert sum(sampled(p.id) for p in proposals) >= 5  # "sample" ran in full on some
    findings = 0
    for proposal in proposals:
        expected = reviewers["full"].review(proposal)
        findings += len(expected.findings)
        for mode in ("fired", "sample", "reference"):
            assert reviewers[mode].review(proposal) == expected, (proposal.id, mode)
    assert findings > 10 * SYNTHETIC


def test_a_rule_is_explained_alike_alone_and_among_all(ruleset: RuleSet) -> None:
    """What "fired" relies on: the reference evaluator's outcomes of one rule do not depend on
    which other rules it judged, or in what order."""
    evaluator = ReferenceEvaluator(ruleset)
    views = [proposal_view(p) for p in generate(40)]
    views.append(proposal_view(read_proposals([str(FLAWED)])[0].proposal))
    for view in views:
        every = evaluator.outcomes(view)
        for rule in reversed(ruleset.rules):
            alone = evaluator.outcomes_of(view, {rule.id})
            assert alone == [o for o in every if o.rule.id == rule.id]
        assert evaluator.outcomes_of(view, {o.rule.id for o in every}) == every


# ------------------------------------------------------------------ a broken engine


def _flawed(proposal_id: str) -> Proposal:
    (item,) = read_proposals([str(FLAWED)])
    return item.proposal.model_copy(update={"id": proposal_id})


SAMPLED = "P-41"
NOT_SAMPLED = "P-40"


def _broken(
    ruleset: RuleSet,
    mode: CrossCheck,
    monkeypatch: pytest.MonkeyPatch,
    change: Callable[[dict[str, TV]], None],
) -> Reviewer:
    """A reviewer whose durable engine's results are changed by ``change`` before use."""
    reviewer = Reviewer(ruleset, cross_check=mode)
    engine = reviewer._durable
    assert engine is not None
    real = engine.results

    def results(view: dict[str, Any]) -> dict[str, TV]:
        out = real(view)
        change(out)
        return out

    monkeypatch.setattr(engine, "results", results)
    return reviewer


def _spurious(results: dict[str, TV]) -> None:
    assert "ACC-001" not in results
    results["ACC-001"] = TV.TRUE


def _dropped(results: dict[str, TV]) -> None:
    assert results["DS-003"] is TV.TRUE
    del results["DS-003"]


def _weakened(results: dict[str, TV]) -> None:
    assert results["DS-003"] is TV.TRUE
    results["DS-003"] = TV.UNKNOWN


def _disagree(proposal_id: str, what: str) -> str:
    return f"{proposal_id}: the rule engine and the reference evaluator disagree on {what}"


@pytest.mark.parametrize(
    ("mode", "proposal_id"),
    [("full", NOT_SAMPLED), ("fired", NOT_SAMPLED), ("sample", NOT_SAMPLED), ("sample", SAMPLED)],
)
def test_a_spurious_firing_is_caught_in_every_mode(
    ruleset: RuleSet, monkeypatch: pytest.MonkeyPatch, mode: CrossCheck, proposal_id: str
) -> None:
    with (
        _broken(ruleset, mode, monkeypatch, _spurious) as reviewer,
        pytest.raises(EngineError) as info,
    ):
        reviewer.review(_flawed(proposal_id))
    assert str(info.value) == _disagree(proposal_id, "ACC-001 (engine TRUE, reference FALSE)")


@pytest.mark.parametrize(
    ("mode", "proposal_id"),
    [("full", NOT_SAMPLED), ("fired", NOT_SAMPLED), ("sample", SAMPLED), ("sample", NOT_SAMPLED)],
)
def test_a_firing_of_the_wrong_kind_is_caught_in_every_mode(
    ruleset: RuleSet, monkeypatch: pytest.MonkeyPatch, mode: CrossCheck, proposal_id: str
) -> None:
    with (
        _broken(ruleset, mode, monkeypatch, _weakened) as reviewer,
        pytest.raises(EngineError) as info,
    ):
        reviewer.review(_flawed(proposal_id))
    assert str(info.value) == _disagree(proposal_id, "DS-003 (engine UNKNOWN, reference TRUE)")


@pytest.mark.parametrize(("mode", "proposal_id"), [("full", NOT_SAMPLED), ("sample", SAMPLED)])
def test_a_dropped_rule_is_caught_by_a_full_cross_check(
    ruleset: RuleSet, monkeypatch: pytest.MonkeyPatch, mode: CrossCheck, proposal_id: str
) -> None:
    with (
        _broken(ruleset, mode, monkeypatch, _dropped) as reviewer,
        pytest.raises(EngineError) as info,
    ):
        reviewer.review(_flawed(proposal_id))
    assert str(info.value) == _disagree(proposal_id, "DS-003 (engine FALSE, reference TRUE)")


@pytest.mark.parametrize("mode", ["fired", "sample"])
def test_a_dropped_rule_is_not_judged_again_without_a_full_cross_check(
    ruleset: RuleSet, monkeypatch: pytest.MonkeyPatch, mode: CrossCheck
) -> None:
    """The limit of "fired" (and of "sample" outside its sample): the engine alone decides that a
    rule does not fire; the differential tests and the full modes check that it is right."""
    with _broken(ruleset, mode, monkeypatch, _dropped) as reviewer:
        review = reviewer.review(_flawed(NOT_SAMPLED))
    with Reviewer(ruleset, cross_check="full") as sound:
        expected = sound.review(_flawed(NOT_SAMPLED))
    assert [f.rule_id for f in review.findings] == [
        f.rule_id for f in expected.findings if f.rule_id != "DS-003"
    ]
