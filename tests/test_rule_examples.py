"""Every rule's own examples, found by glob over the rule files and run with both engines.

Loading refuses a rule without a firing and a passing example, so a rule cannot enter the suite
untested.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from compliance import Reviewer, load_rules
from compliance.review.examples import check_example
from compliance.rules.coverage import CATALOGUE
from compliance.rules.load import MANIFEST
from compliance.rules.ruleset import Example, Rule

from .conftest import ROOT

RULE_FILES = sorted(
    p for p in (ROOT / "rules").glob("*.yaml") if p.name not in (MANIFEST, CATALOGUE)
)
RULESET = load_rules()
CASES: list[tuple[Rule, Example, str]] = []
for _rule in RULESET.rules:
    _counts: dict[str, int] = {}
    for _example in _rule.examples:
        _i = _counts.get(_example.kind, 0)
        _counts[_example.kind] = _i + 1
        CASES.append((_rule, _example, f"{_rule.id}-{_example.kind}-{_i}"))


def test_rule_files_are_found() -> None:
    assert RULE_FILES
    ids_in_files = set()
    for path in RULE_FILES:
        ids_in_files |= {r["id"] for r in yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]}
    assert ids_in_files == {r.id for r in RULESET.rules}


def test_every_rule_has_both_kinds_of_example() -> None:
    for rule in RULESET.rules:
        kinds = {e.kind for e in rule.examples}
        assert {"fires", "passes"} <= kinds, rule.id


@pytest.mark.parametrize(
    ("rule", "example"), [(r, e) for r, e, _ in CASES], ids=[i for *_, i in CASES]
)
def test_example(durable: Reviewer, reference: Reviewer, rule: Rule, example: Example) -> None:
    for reviewer in (durable, reference):
        assert check_example(rule, example, reviewer) is None


def test_rules_test_reports_a_failing_example(tmp_path: Path) -> None:
    """`compliance rules test` fails on an example that does not hold."""
    from compliance.review.examples import run_examples

    text = (ROOT / "rules" / "transparency.yaml").read_text(encoding="utf-8")
    broken = text.replace(
        "oversight: {agreement_disclosure: summary}",
        "oversight: {agreement_disclosure: confidential}",
    )
    assert broken != text
    (tmp_path / "transparency.yaml").write_text(broken, encoding="utf-8")
    # The rules name the requirements they cover, which the catalogue beside them defines.
    (tmp_path / CATALOGUE).write_bytes((ROOT / "rules" / CATALOGUE).read_bytes())
    results = run_examples(load_rules([tmp_path], builtin=False))
    failed = [(r.label, r.problem) for r in results if r.problem]
    assert failed == [
        (
            "TRN-002 passes[0] (summary published)",
            "durable engine: expected a pass, got a violation; reference engine: expected a pass, got a violation",
        )
    ]


@pytest.mark.parametrize(
    "name", ["flawed-refugee-data-sharing.json", "exemplary-humanitarian.json"]
)
def test_one_rules_findings_are_those_of_the_whole_review(
    durable: Reviewer, reference: Reviewer, name: str
) -> None:
    """``findings_of`` (what ``rules test`` uses) gives exactly the review's findings of that
    rule, on both engines, for every rule of the set."""
    from compliance.intake.proposals import read_proposals

    (item,) = read_proposals([str(ROOT / "fixtures" / name)])
    for reviewer in (durable, reference):
        review = reviewer.review(item.proposal)
        assert review.findings
        for rule in RULESET.rules:
            whole = [f for f in review.findings if f.rule_id == rule.id]
            alone = reviewer.findings_of(item.proposal, rule.id)
            assert sorted(alone, key=repr) == sorted(whole, key=repr), rule.id
