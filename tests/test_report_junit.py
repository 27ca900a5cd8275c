"""The JUnit XML report, parsed back: one test case per rule per proposal, outcomes as the gate
sees them."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, run_cli

SOURCES = [
    FIXTURES / "exemplary-humanitarian.json",
    FIXTURES / "flawed-data-sharing-biometrics-left-behind.json",
    FIXTURES / "incomplete-coast-guard-training.json",
]


def _both(*args: str) -> tuple[ET.Element, dict[str, object]]:
    junit = run_cli("review", *map(str, SOURCES), "--format", "junit", *args)
    report = run_cli("review", *map(str, SOURCES), "--format", "json", *args)
    assert junit.code == report.code == 3
    return ET.fromstring(junit.out), json.loads(report.out)


def _named(cases: list[ET.Element], tag: str) -> set[str]:
    """Rule ids of the test cases that hold a ``tag`` element."""
    return {c.get("name", "").split(":")[0] for c in cases if c.find(tag) is not None}


@pytest.mark.parametrize("threshold", ["high", "low"])
def test_a_test_case_per_rule_per_proposal_with_outcomes_as_the_gate_sees_them(
    threshold: str,
) -> None:
    root, report = _both("--fail-on", threshold)
    rank = ["info", "low", "medium", "high", "blocker"].index
    rules = json.loads(run_cli("rules", "list", "--format", "json").out)["rules"]
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [r["proposal_id"] for r in report["reviews"]]
    for suite, review in zip(suites, report["reviews"], strict=True):
        cases = suite.findall("testcase")
        assert [c.get("name") for c in cases] == [f"{r['id']}: {r['title']}" for r in rules]
        blocking = [f for f in review["findings"] if rank(f["severity"]) >= rank(threshold)]
        failed = {f["rule_id"] for f in blocking if f["outcome"] == "violation"}
        errored = {f["rule_id"] for f in blocking if f["outcome"] != "violation"} - failed
        conditions = {f["rule_id"] for f in review["findings"]} - failed - errored

        assert _named(cases, "failure") == failed
        assert _named(cases, "error") == errored
        assert _named(cases, "system-out") == conditions
        assert suite.get("tests") == str(len(rules))
        assert suite.get("failures") == str(len(failed))
        assert suite.get("errors") == str(len(errored))
        decision = suite.find("properties/property[@name='decision']")
        assert decision is not None
        assert decision.get("value") == review["decision"]
    assert root.get("tests") == str(len(rules) * len(SOURCES))
    assert root.get("failures") == str(sum(int(s.get("failures", "")) for s in suites))


def test_a_failure_says_what_is_wrong_and_how_to_fix_it() -> None:
    root, _ = _both()
    case = root.find(
        "testsuite[@name='HO-F3-BIOMETRIC-ID']/testcase[@classname='HO-F3-BIOMETRIC-ID.data_sharing']/failure"
    )
    assert case is not None
    assert case.get("type") == "high"
    text = case.text or ""
    assert "evidence (violation): data_sharing.impact_assessment.status" in text
    assert "fix: Carry out a full data protection impact assessment" in text


def test_input_text_is_escaped(tmp_path: Path) -> None:
    data = json.loads(SOURCES[0].read_text())
    data["title"] = 'A "title" <with> &markup; ]]> and <!-- a comment -->'
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data))
    result = run_cli("review", str(path), "--format", "junit")
    assert result.code == 0
    title = ET.fromstring(result.out).find("testsuite/properties/property[@name='title']")
    assert title is not None
    assert title.get("value") == data["title"]
