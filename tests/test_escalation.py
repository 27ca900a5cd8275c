"""Severity escalation: a finding graded above its rule's floor where the rule's condition holds,
the same on both engines, for violations and open questions, and recorded in the report."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from compliance import Reviewer, load_rules
from compliance.errors import RuleError
from compliance.proposal.model import Proposal
from compliance.reports.html import render_html
from compliance.reports.markdown import render_markdown
from compliance.reports.sarif import render_sarif
from compliance.reports.text import render
from compliance.review.examples import run_examples
from compliance.review.findings import Decision, EscalationOut, Finding
from compliance.review.reviewer import ENGINES
from compliance.rules.docs import rule_summary, show_text
from compliance.rules.ruleset import RuleSet
from compliance.rules.spec import Severity
from compliance.rules.tuning import Override, Selection, apply

from .conftest import run_cli

UNGP = {
    "instrument": "UN Guiding Principles on Business and Human Rights",
    "provision": "Principle 31",
    "url": "https://www.ohchr.org/sites/default/files/documents/publications/guidingprinciplesbusinesshr_en.pdf",
    "binding": "good_practice",
}
HIGH_RISK = "the operation's human-rights risk is high"
HALF_MISSED = "half or more of the UNGP 31 criteria are missed"
ALL = [
    "legitimate",
    "accessible",
    "predictable",
    "equitable",
    "transparent",
    "rights_compatible",
    "continuous_learning",
    "dialogue_based",
]


def grievance(criteria: list[str] | None, risk: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "oversight": {"grievance_mechanism": {"exists": True}},
        "data_sharing": {"flows": []},
    }
    if criteria is not None:
        out["oversight"]["grievance_mechanism"]["criteria_met"] = criteria
    if risk is not None:
        out["human_rights"] = {"risk_level": risk}
    return out


GRIEVANCE_RULE: dict[str, Any] = {
    "id": "TST-001",
    "title": "The grievance mechanism meets the UNGP 31 criteria",
    "severity": "low",
    "applies_when": {"field": "oversight.grievance_mechanism.exists", "equals": True},
    "violated_when": {"field": "oversight.grievance_mechanism.criteria_met", "count": {"lt": 8}},
    "escalate": [
        {
            "severity": "medium",
            "when": {"field": "oversight.grievance_mechanism.criteria_met", "count": {"lte": 4}},
            "reason": HALF_MISSED,
        },
        {
            "severity": "high",
            "when": {"field": "human_rights.risk_level", "equals": "high"},
            "reason": HIGH_RISK,
        },
    ],
    "message": "The grievance mechanism misses some of the UNGP 31 criteria.",
    "remediation": "Meet them all.",
    "references": [UNGP],
    "examples": {
        "fires": [
            {"note": "one missed", "proposal": grievance(ALL[:7]), "severity": "low"},
            {"note": "four missed", "proposal": grievance(ALL[:4]), "severity": "medium"},
            {"note": "one missed, high risk", "proposal": grievance(ALL[:7], "high")},
            {"note": "unknown risk", "proposal": grievance(ALL[:2]), "severity": "medium"},
        ],
        "passes": [{"note": "all met", "proposal": grievance(ALL, "high")}],
        "needs_information": [
            {"note": "criteria unanswered", "proposal": grievance(None, "low"), "severity": "low"},
            {"note": "high risk", "proposal": grievance(None, "high"), "severity": "high"},
        ],
    },
}


def flows(*items: dict[str, Any]) -> dict[str, Any]:
    return {
        "data_sharing": {"flows": list(items)},
        "oversight": {"grievance_mechanism": {"exists": False}},
    }


CHILDREN = {"lawful_basis": "none", "subjects": ["children"], "recipient_type": "police"}
STAFF = {"lawful_basis": "none", "subjects": ["staff"], "recipient_type": "police"}
TO_ARMY = {"lawful_basis": "none", "subjects": ["children"], "recipient_type": "military"}

FLOW_RULE: dict[str, Any] = {
    "id": "TST-002",
    "title": "Every flow has a lawful basis",
    "severity": "medium",
    "for_each": "data_sharing.flows",
    "violated_when": {"field": "data_sharing.flows[].lawful_basis", "equals": "none"},
    "escalate": [
        {
            "severity": "high",
            "when": {
                "field": "data_sharing.flows[].subjects",
                "contains_any": ["children", "refugees"],
            },
            "reason": "the data subjects are children or refugees",
        },
        {
            "severity": "blocker",
            "when": {
                "all": [
                    {"field": "data_sharing.flows[].recipient_type", "equals": "military"},
                    {"field": "human_rights.risk_level", "equals": "high"},
                ]
            },
            "reason": "a military recipient where the human-rights risk is high",
        },
    ],
    "message": "{data_sharing.flows[].recipient} receives data with no lawful basis.",
    "remediation": "Record one.",
    "references": [UNGP],
    "examples": {
        "fires": [
            {"note": "staff", "proposal": flows(STAFF), "severity": "medium"},
            {"note": "children", "proposal": flows(STAFF, CHILDREN), "severity": "high"},
            {
                "note": "army, high risk",
                "proposal": {**flows(TO_ARMY), "human_rights": {"risk_level": "high"}},
                "severity": "blocker",
            },
        ],
        "passes": [{"note": "basis", "proposal": flows({"lawful_basis": "consent"})}],
        "needs_information": [
            {"note": "no list", "proposal": {"data_sharing": {}}, "severity": "medium"}
        ],
    },
}


def write_rules(directory: Path, *rules: dict[str, Any]) -> Path:
    directory.mkdir(exist_ok=True)
    text = yaml.safe_dump({"domain": "accountability", "rules": list(rules)}, sort_keys=False)
    (directory / "escalation.yaml").write_text(text, encoding="utf-8")
    return directory


@pytest.fixture(scope="module")
def rules_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_rules(tmp_path_factory.mktemp("rules"), GRIEVANCE_RULE, FLOW_RULE)


@pytest.fixture(scope="module")
def ruleset(rules_dir: Path) -> RuleSet:
    return load_rules([rules_dir], builtin=False)


def proposal(fragment: dict[str, Any]) -> Proposal:
    return Proposal.model_validate(
        {"schema_version": "1", "id": "PRP-1", "title": "Escalation", **fragment}
    )


def graded(finding: Finding) -> tuple[str, str, str | None, str, str | None]:
    e = finding.escalation
    return (
        finding.rule_id,
        finding.outcome,
        finding.subject,
        finding.severity.value,
        None if e is None else f"{e.base_severity.value}: {e.reason}",
    )


def review_both(ruleset: RuleSet, fragment: dict[str, Any]) -> list[Any]:
    results = []
    for engine in ENGINES:
        with Reviewer(ruleset, engine=engine) as reviewer:
            review = reviewer.review(proposal(fragment))
        results.append((review.decision.value, [graded(f) for f in review.findings]))
    assert results[0] == results[1]
    return list(results[0])


# --------------------------------------------------------------------------- loading


def load_errors(tmp_path: Path, rule: dict[str, Any]) -> list[str]:
    write_rules(tmp_path, rule)
    with pytest.raises(RuleError) as info:
        load_rules([tmp_path], builtin=False)
    return [p.replace(f"{tmp_path}/", "") for p in info.value.problems]


def changed(**changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(GRIEVANCE_RULE)
    out.update(changes)
    return out


def test_an_escalation_must_raise_the_severity(tmp_path: Path) -> None:
    rule = changed(severity="medium")
    assert load_errors(tmp_path, rule) == [
        "escalation.yaml:14: rule TST-001: escalate[0].severity: medium is not above the rule's "
        "severity medium; an escalation must raise it",
        "escalation.yaml:49: rule TST-001: examples.fires[0].severity: the rule never gives low "
        "(it gives: medium, medium, high)",
        "escalation.yaml:120: rule TST-001: examples.needs_information[0].severity: the rule never "
        "gives low (it gives: medium, medium, high)",
    ]


def test_escalations_are_in_ascending_order(tmp_path: Path) -> None:
    rule = changed(escalate=list(reversed(GRIEVANCE_RULE["escalate"])))
    assert load_errors(tmp_path, rule) == [
        "escalation.yaml:19: rule TST-001: escalate[1].severity: medium is not above the "
        "escalation before it (high); list escalations in ascending order of severity"
    ]


def test_an_escalation_condition_is_checked_like_applies_when(tmp_path: Path) -> None:
    escalate = copy.deepcopy(GRIEVANCE_RULE["escalate"])
    escalate[0]["when"] = {"field": "human_rights.risk_levle", "equals": "high"}
    escalate[1]["when"] = {"field": "data_sharing.flows[].recipient_type", "equals": "army"}
    assert load_errors(tmp_path, changed(escalate=escalate)) == [
        "escalation.yaml:16: rule TST-001: escalate[0].when.field: unknown field "
        "'human_rights.risk_levle' (did you mean 'human_rights.risk_level'?)",
        "escalation.yaml:21: rule TST-001: escalate[1].when.field: "
        "'data_sharing.flows[].recipient_type' is a field of the items of data_sharing.flows; "
        "use it inside any_item/all_items on data_sharing.flows, or in a rule with for_each: "
        "data_sharing.flows",
    ]


def test_an_escalation_takes_only_its_keys(tmp_path: Path) -> None:
    escalate = [{"severity": "high", "when": {"field": "human_rights.risk_level"}, "level": 2}]
    assert load_errors(tmp_path, changed(escalate=escalate)) == [
        "escalation.yaml:15: rule TST-001: escalate[0].when: a field test takes exactly one "
        "operator (given: none; operators: equals, not_equals, one_of, not_one_of, gt, gte, "
        "lt, lte, answered, contains, contains_any, contains_all, count, any_item, all_items)",
        "escalation.yaml:14: rule TST-001: escalate[0].reason: required key is missing",
        "escalation.yaml:17: rule TST-001: escalate[0].level: unknown key",
    ]
    assert load_errors(tmp_path, changed(escalate=[])) == [
        "escalation.yaml:13: rule TST-001: escalate: List should have at least 1 item after "
        "validation, not 0"
    ]


def test_a_passing_example_names_no_severity(tmp_path: Path) -> None:
    examples = copy.deepcopy(GRIEVANCE_RULE["examples"])
    examples["passes"][0]["severity"] = "high"
    assert load_errors(tmp_path, changed(examples=examples)) == [
        "escalation.yaml:110: rule TST-001: examples.passes[0].severity: a passing example has no "
        "finding, so no severity"
    ]


# --------------------------------------------------------------------------- reviewing


def test_the_examples_hold_their_severity_on_both_engines(ruleset: RuleSet) -> None:
    results = run_examples(ruleset)
    assert [(r.label, r.problem) for r in results if r.problem] == []
    assert len(results) == 12


def test_a_wrong_example_severity_fails_rules_test(tmp_path: Path) -> None:
    examples = copy.deepcopy(GRIEVANCE_RULE["examples"])
    examples["fires"][2]["severity"] = "medium"
    write_rules(tmp_path, changed(examples=examples))
    run = run_cli("rules", "test", str(tmp_path))
    problem = f"expected severity medium, got high ({HIGH_RISK})"
    assert (run.code, run.out.splitlines()) == (
        5,
        [
            f"FAIL TST-001 fires[2] (one missed, high risk): durable engine: {problem}; "
            f"reference engine: {problem}",
            f"1 rule, 7 examples in {tmp_path}: 1 failed",
        ],
    )


def test_the_highest_true_escalation_grades_the_finding(ruleset: RuleSet) -> None:
    assert review_both(ruleset, grievance(ALL[:7])) == [
        "approve_with_conditions",
        [("TST-001", "violation", None, "low", None)],
    ]
    assert review_both(ruleset, grievance(ALL[:3], "medium")) == [
        "approve_with_conditions",
        [("TST-001", "violation", None, "medium", f"low: {HALF_MISSED}")],
    ]
    assert review_both(ruleset, grievance(ALL[:3], "high")) == [
        "reject",
        [("TST-001", "violation", None, "high", f"low: {HIGH_RISK}")],
    ]


def test_each_item_of_a_for_each_rule_is_graded_on_its_own(ruleset: RuleSet) -> None:
    fragment = {**flows(STAFF, CHILDREN, TO_ARMY), "human_rights": {"risk_level": "high"}}
    reason = "a military recipient where the human-rights risk is high"
    assert review_both(ruleset, fragment) == [
        "reject",
        [
            ("TST-002", "violation", "data_sharing.flows[2]", "blocker", f"medium: {reason}"),
            (
                "TST-002",
                "violation",
                "data_sharing.flows[1]",
                "high",
                "medium: the data subjects are children or refugees",
            ),
            ("TST-002", "violation", "data_sharing.flows[0]", "medium", None),
        ],
    ]


def test_an_escalated_question_holds_the_proposal_back(ruleset: RuleSet) -> None:
    """Unanswered criteria: a low question where the risk is low (a condition of approval), a
    high one where it is high (the answer could reveal a blocking violation)."""
    assert review_both(ruleset, grievance(None, "low")) == [
        "approve_with_conditions",
        [("TST-001", "needs_information", None, "low", None)],
    ]
    assert review_both(ruleset, grievance(None, "high")) == [
        "needs_information",
        [("TST-001", "needs_information", None, "high", f"low: {HIGH_RISK}")],
    ]
    # An unknown escalation condition does not escalate: only the rule's floor is certain.
    assert review_both(ruleset, grievance(None)) == [
        "approve_with_conditions",
        [("TST-001", "needs_information", None, "low", None)],
    ]


def override(ruleset: RuleSet, severity: Severity) -> RuleSet:
    entry = Override("TST-001", severity, "our context", "compliance.toml")
    return apply(ruleset, Selection(overrides=(entry,), config="compliance.toml"))


def test_an_override_replaces_the_floor_and_higher_escalations_still_apply(
    ruleset: RuleSet,
) -> None:
    raised = override(ruleset, Severity.medium)
    # The medium escalation no longer raises anything; the high one still does.
    assert review_both(raised, grievance(ALL[:3], "low")) == [
        "approve_with_conditions",
        [("TST-001", "violation", None, "medium", None)],
    ]
    assert review_both(raised, grievance(ALL[:3], "high")) == [
        "reject",
        [("TST-001", "violation", None, "high", f"medium: {HIGH_RISK}")],
    ]
    with Reviewer(override(ruleset, Severity.high), engine="reference") as reviewer:
        (finding,) = reviewer.review(proposal(grievance(ALL[:3], "high"))).findings
    assert (finding.severity, finding.escalation) == (Severity.high, None)
    assert finding.severity_override is not None
    assert finding.severity_override.original_severity is Severity.low


# --------------------------------------------------------------------------- reports


def test_the_json_report_records_why(rules_dir: Path, tmp_path: Path) -> None:
    paths = []
    for name, fragment in (("raised", grievance(ALL[:3], "high")), ("floor", grievance(ALL[:7]))):
        path = tmp_path / f"{name}.json"
        head = {"schema_version": "1", "id": name, "title": "Escalation"}
        path.write_text(json.dumps({**head, **fragment}), encoding="utf-8")
        paths.append(str(path))
    run = run_cli("review", *paths, "--rules", str(rules_dir), "--format", "json")
    report = json.loads(run.out)
    assert report["report_version"] == "1.5"
    assert [
        (r["proposal_id"], f["severity"], f["escalation"])
        for r in report["reviews"]
        for f in r["findings"]
        if f["rule_id"] == "TST-001"
    ] == [
        ("raised", "high", {"base_severity": "low", "reason": HIGH_RISK}),
        ("floor", "low", None),
    ]


def test_text_markdown_html_and_sarif_reports_say_why(ruleset: RuleSet) -> None:
    with Reviewer(ruleset, engine="reference") as reviewer:
        review = reviewer.review(proposal(grievance(ALL[:3], "high")))
        report = reviewer.report([review])
    assert review.findings[0].escalation == EscalationOut(
        base_severity=Severity.low, reason=HIGH_RISK
    )
    assert (
        f"    escalated: high (rule severity low): {HIGH_RISK}"
        in render(report, ruleset.domain_title).splitlines()
    )
    assert (
        f"  - Escalated to high (rule severity low): {HIGH_RISK}"
        in render_markdown(report, ruleset.domain_title).splitlines()
    )
    assert review.decision is Decision.reject
    assert (
        '<p class="escalation">Severity raised: high (rule severity low): the operation&#x27;s '
        "human-rights risk is high</p>"
    ) in render_html(report, ruleset.domain_title)
    (result,) = json.loads(render_sarif(report, ruleset.rules, ruleset.domain_title))["runs"][0][
        "results"
    ]
    assert result["properties"]["escalation"] == {"base_severity": "low", "reason": HIGH_RISK}


def test_rules_show_and_list_name_the_escalations(ruleset: RuleSet) -> None:
    rule = ruleset.rules[0]
    text = show_text(rule, ruleset)
    assert (
        "\nEscalates (the highest that holds):\n"
        f"  - to medium where {HALF_MISSED}:\n"
        "      number of oversight.grievance_mechanism.criteria_met ≤ 4\n"
        f"  - to high where {HIGH_RISK}:\n"
        "      human_rights.risk_level is high\n\nMessage:"
    ) in text
    assert rule_summary(rule, ruleset)["escalations"] == [
        {
            "severity": "medium",
            "reason": HALF_MISSED,
            "when": ["number of oversight.grievance_mechanism.criteria_met ≤ 4"],
        },
        {"severity": "high", "reason": HIGH_RISK, "when": ["human_rights.risk_level is high"]},
    ]
