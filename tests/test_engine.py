"""The durable_rules wrapper: isolation, no state left behind, and failing closed."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from typing import Any

import pytest

from compliance import Reviewer
from compliance.errors import EngineError
from compliance.intake.proposals import read_proposals
from compliance.proposal.fields import Kind, catalogue
from compliance.rules.compiler import (
    GROUP_BUDGET,
    MAX_FACT_PROPERTIES,
    MAX_GROUPS,
    compile_ruleset,
    fact_plan,
)
from compliance.rules.durable import DurableEngine
from compliance.rules.reference import TV, proposal_view
from compliance.rules.ruleset import RuleSet

from .conftest import FIXTURES, ROOT
from .strategies import make_rule

FLAWED = FIXTURES / "flawed-refugee-data-sharing.json"
EXEMPLARY = FIXTURES / "exemplary-community-policing.json"


def view_of(path: Any) -> dict[str, Any]:
    (item,) = read_proposals([str(path)])
    return proposal_view(item.proposal)


def test_many_reviews_leave_no_state_behind(ruleset: RuleSet) -> None:
    """Well past the engine's cap of 1024 live sessions, every review gives the same result."""
    flawed, exemplary = view_of(FLAWED), view_of(EXEMPLARY)
    # A rule that asks nothing (when_unanswered: ignore) may be unknown on the sound fixture: the
    # review drops that, and it is all the engine may hold for it.
    ignored = {r.id for r in ruleset.rules if r.when_unanswered == "ignore"}
    with DurableEngine(compile_ruleset(ruleset)) as engine:
        first = engine.results(flawed)
        assert first  # the flawed fixture fires rules
        clean = engine.results(exemplary)
        assert set(clean) <= ignored
        assert set(clean.values()) <= {TV.UNKNOWN}
        for _ in range(1500):
            assert engine.results(flawed) == first
            assert engine.results(exemplary) == clean


def test_engines_are_independent(ruleset: RuleSet) -> None:
    """Two engines (one per rule set) in one process: same ruleset names, no interference."""
    subset = RuleSet(rules=ruleset.rules[:3], sources=ruleset.sources, hash="subset")
    flawed = view_of(FLAWED)
    with (
        DurableEngine(compile_ruleset(ruleset)) as full,
        DurableEngine(compile_ruleset(subset)) as small,
    ):
        expected_small = {
            k: v for k, v in full.results(flawed).items() if k in {r.id for r in subset.rules}
        }
        for _ in range(3):
            assert small.results(flawed) == expected_small
            assert set(full.results(flawed)) > set(expected_small)


def test_concurrent_reviews_from_threads(durable: Reviewer) -> None:
    (item,) = read_proposals([str(FLAWED)])
    expected = durable.review(item.proposal, item.source_map)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(50):
                assert durable.review(item.proposal, item.source_map) == expected
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_closed_engine_refuses_work(ruleset: RuleSet) -> None:
    engine = DurableEngine(compile_ruleset(ruleset))
    engine.close()
    engine.close()  # idempotent
    with pytest.raises(EngineError, match="closed"):
        engine.results(view_of(EXEMPLARY))


def test_disagreement_between_engines_fails_closed(
    ruleset: RuleSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    reviewer = Reviewer(ruleset)
    (item,) = read_proposals([str(EXEMPLARY)])
    assert reviewer._durable is not None
    monkeypatch.setattr(reviewer._durable, "results", lambda view: {"ACC-001": TV.TRUE})
    with pytest.raises(EngineError) as info:
        reviewer.review(item.proposal)
    assert str(info.value) == (
        "PRP-2026-021: the rule engine and the reference evaluator disagree on "
        "ACC-001 (engine TRUE, reference FALSE)"
    )
    reviewer.close()


def test_an_engine_error_stops_the_engine_without_crashing() -> None:
    """More pending condition nodes than the engine's stack holds (error 303): the wrapper raises
    EngineError, never touches the session again (that can crash the process) and refuses
    further work. Run in a subprocess so a crash would show as a failure, not kill the suite."""
    script = textwrap.dedent(
        """
        from compliance.rules.compiler import Form, CompiledRule, Plan, Shard, FactPlan
        from compliance.rules.durable import DurableEngine
        from compliance.errors import EngineError
        # 70 distinct engine rules under one group marker, all true for the fact: error 303.
        rules = tuple(
            CompiledRule(f"X-{i:03d}", Form({f"/k{i}": 1}), Form({"$gte": {f"/k{i}": 1}}))
            for i in range(35)
        )
        plan = Plan((Shard("s0", (rules,)),), FactPlan(), 1)
        facts = {f"/k{i}": 1 for i in range(35)}
        plan.facts.build = lambda view: dict(facts)
        engine = DurableEngine(plan)
        for attempt in range(2):
            try:
                engine.results({})
            except EngineError as exc:
                print(type(exc).__name__, str(exc).split(":")[0])
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "EngineError the rule engine failed on a proposal",
        "EngineError the rule engine failed earlier and was stopped",
    ]


def test_fact_stays_within_the_engine_property_limit() -> None:
    """Even a rule set reading every field of the proposal fits in one engine fact."""
    from compliance.rules import conditions as c

    root_fields = [
        p for p, s in catalogue().items() if s.list_path is None and s.kind is not Kind.OBJECT
    ]
    rules = [
        make_rule(id=f"ALL-{i:03d}", violated_when=c.Answered(path, True))
        for i, path in enumerate(root_fields)
    ]
    plan = fact_plan(rules)
    assert plan.property_count(MAX_GROUPS) <= MAX_FACT_PROPERTIES


def test_group_limits_stay_under_the_engine_stack() -> None:
    assert MAX_GROUPS - 1 + GROUP_BUDGET < 64


@pytest.mark.parametrize("amount", [5e-05, 1e-07, 1e15, 123456.78, 0.0, 999999999999999.9])
def test_every_valid_number_reaches_the_engine(
    durable: Reviewer, reference: Reviewer, amount: float
) -> None:
    """durable_rules' parser rejects numbers written with an exponent but no fraction."""
    from compliance.proposal.model import Proposal

    proposal = Proposal.model_validate(
        {
            "schema_version": "1",
            "id": "P-1",
            "title": "t",
            "funding": {"total_amount": amount, "currency": "EUR"},
        }
    )
    assert durable.review(proposal) == reference.review(proposal)
