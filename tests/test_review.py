"""Findings and the decision policy, on the bundled fixtures and in isolation."""

from __future__ import annotations

from typing import Literal

import pytest

from compliance import Reviewer
from compliance.exitcodes import ExitCode
from compliance.intake.proposals import read_proposals
from compliance.review.decision import decide, exit_code
from compliance.review.findings import Decision, Finding
from compliance.rules.spec import Severity
from compliance.rules.templates import parse, render

from .conftest import FIXTURES

Outcome = Literal["violation", "needs_information"]


def finding(severity: str, outcome: Outcome = "violation") -> Finding:
    return Finding(
        rule_id="X-001",
        outcome=outcome,
        domain="d",
        severity=Severity(severity),
        title="t",
        message="m",
        evidence=[],
        remediation="r",
        references=[],
    )


V = "violation"
N = "needs_information"

POLICY = [
    ([], "high", Decision.approve),
    ([("info", V)], "high", Decision.approve),
    ([("low", V)], "high", Decision.approve_with_conditions),
    ([("medium", N)], "high", Decision.approve_with_conditions),
    ([("high", N)], "high", Decision.needs_information),
    ([("blocker", N), ("medium", V)], "high", Decision.needs_information),
    ([("high", V), ("blocker", N)], "high", Decision.reject),
    ([("medium", V)], "medium", Decision.reject),
    ([("high", V)], "blocker", Decision.approve_with_conditions),
    ([("blocker", N)], "blocker", Decision.needs_information),
    ([("info", V)], "info", Decision.reject),
]


@pytest.mark.parametrize(("found", "threshold", "expected"), POLICY)
def test_decision_policy(
    found: list[tuple[str, Outcome]], threshold: str, expected: Decision
) -> None:
    findings = [finding(sev, out) for sev, out in found]
    assert decide(findings, Severity(threshold)) is expected


def test_batch_exit_code() -> None:
    assert exit_code([Decision.approve, Decision.approve_with_conditions]) is ExitCode.PASSED
    assert exit_code([Decision.approve, Decision.needs_information]) is ExitCode.NEEDS_INFORMATION
    assert exit_code([Decision.needs_information, Decision.reject]) is ExitCode.BLOCKED
    assert exit_code([]) is ExitCode.INVALID_INPUT


def test_exit_codes_are_distinct_and_only_a_pass_is_zero() -> None:
    codes = [int(c) for c in ExitCode]
    assert len(set(codes)) == len(codes)
    assert [c for c in ExitCode if int(c) == 0] == [ExitCode.PASSED]
    assert 1 not in codes  # what an uncaught Python exception exits with


def review(reviewer: Reviewer, name: str):  # type: ignore[no-untyped-def]
    (item,) = read_proposals([str(FIXTURES / name)])
    return reviewer.review(item.proposal, item.source_map)


def test_flawed_fixture_findings(durable: Reviewer) -> None:
    result = review(durable, "flawed-refugee-data-sharing.json")
    assert result.decision is Decision.reject
    got = [
        (
            f.rule_id,
            f.severity.value,
            f.subject,
            [e.path for e in f.evidence if e.role == "violation"],
        )
        for f in result.findings
    ]
    assert got == [
        (
            "DS-003",
            "blocker",
            "data_sharing.flows[1]",
            [
                "data_sharing.flows[1].recipient_is_origin_state_or_conflict_party",
                "data_sharing.flows[1].granularity",
            ],
        ),
        # escalated from high: children's data, and refugees' data used for their return
        (
            "DS-005",
            "blocker",
            "data_sharing.flows[1]",
            ["data_sharing.flows[1].purpose_category", "data_sharing.impact_assessment.status"],
        ),
        (
            "DS-017",
            "blocker",
            "data_sharing.flows[1]",
            ["data_sharing.flows[1].purpose_category", "data_sharing.impact_assessment.status"],
        ),
        (
            "HR-004",
            "blocker",
            None,
            ["human_rights.refoulement_or_detention_risk", "human_rights.mitigations"],
        ),
        ("HUM-001", "blocker", None, ["activities.aid_conditional_on_cooperation"]),
        # escalated from medium: refugees and children, and a high-risk operation
        ("ACC-007", "high", None, ["oversight.grievance_mechanism.exists"]),
        ("DS-004", "high", None, ["data_sharing.impact_assessment.status"]),
        (
            "DS-008",
            "high",
            "data_sharing.processors[0]",
            ["data_sharing.processors[0].contract_in_place"],
        ),
        ("DS-009", "high", None, ["data_sharing.security_controls"]),
        ("DS-010", "high", None, ["data_sharing.consent_separable_from_aid"]),
        ("DS-011", "high", None, ["data_sharing.emergency_deletion_plan"]),
        (
            "DS-016",
            "high",
            "data_sharing.flows[0]",
            ["data_sharing.flows[0].onward_transfer_allowed"],
        ),
        (
            "DS-016",
            "high",
            "data_sharing.flows[1]",
            ["data_sharing.flows[1].onward_transfer_allowed"],
        ),
        ("HR-007", "high", None, ["human_rights.mitigations"]),
        ("HUM-002", "high", None, ["activities.intelligence_use_prohibited"]),
        ("HUM-004", "high", None, ["activities.operational_independence"]),
        ("TRN-003", "high", None, ["data_sharing.data_subject_notice.provided"]),
        # v2 questions, escalated from medium by the high human rights risk
        ("ACC-018", "high", None, []),
        ("ACC-050", "high", None, []),
        ("ACC-051", "high", None, []),
        # v2 questions on the cross-border flow to the country of origin
        ("DS-018", "high", "data_sharing.flows[1]", []),
        ("DS-019", "high", "data_sharing.flows[1]", []),
        ("HUM-006", "high", None, []),
        ("DS-007", "medium", "data_sharing.flows[1]", ["data_sharing.flows[1].retention_days"]),
        ("LOC-001", "medium", None, ["safeguards.community_engagement"]),
        ("LOC-005", "medium", None, ["safeguards.roles_and_responsibilities_defined"]),
        ("MON-003", "medium", None, ["monitoring.independent_evaluation"]),
        ("MON-006", "medium", None, ["monitoring.data_at_exit"]),
        ("TRN-002", "medium", None, ["oversight.agreement_disclosure"]),
        ("TRN-006", "medium", None, ["oversight.independent_oversight_body"]),
        ("DS-020", "medium", "data_sharing.processors[0]", []),
        ("FIN-003", "medium", None, []),
        ("FIN-004", "medium", None, []),
        ("FIN-006", "medium", None, []),
        ("FIN-007", "medium", None, []),
        ("FIN-008", "medium", None, []),
        ("FIN-011", "medium", None, []),
        ("FIN-014", "medium", None, []),
        ("FIN-015", "medium", None, []),
        ("TRN-005", "low", None, ["funding.iati_identifier"]),
        ("LOC-004", "low", None, []),
    ]
    blocker = result.findings[0]
    assert blocker.message == (
        "Ministry of Home Affairs of the country of origin is the authority people fled or a "
        "party to the conflict, and would receive individual biographic, biometric, family, "
        "religion or ethnicity data about refugees, children."
    )
    evidence = blocker.evidence[0]
    assert evidence.value is True
    assert evidence.location is not None
    assert (evidence.location.pointer, evidence.location.line) == (
        "/data_sharing/flows/1/recipient_is_origin_state_or_conflict_party",
        69,
    )
    # The UNHCR policy binds UNHCR, which is not a party here.
    assert [r.binding for r in blocker.references] == ["good_practice", "good_practice"]
    assert result.counts.violations[Severity.high] == 12


def test_incomplete_fixture_asks_the_questions(durable: Reviewer) -> None:
    result = review(durable, "incomplete-coast-guard-training.json")
    assert result.decision is Decision.needs_information
    assert [f.rule_id for f in result.findings] == [
        "ACC-003",
        "HR-004",
        "HR-017",
        "ACC-004",
        "ACC-011",
        "ACC-014",
        "ACC-016",
        "FIN-001",
        "LOC-002",
        "MON-001",
        "ACC-010",
        "ACC-018",
        "ACC-050",
        "ACC-051",
        "DS-021",
        "FIN-003",
        "FIN-004",
        "FIN-006",
        "FIN-007",
        "FIN-008",
        "FIN-009",
        "FIN-011",
        "FIN-014",
        "HR-014",
        "LOC-003",
        "LOC-005",
        "MON-002",
        "MON-003",
        "LOC-004",
        "MON-004",
        "TRN-007",
    ]
    assert {f.outcome for f in result.findings} == {"needs_information"}
    assert result.findings[0].message == (
        "Not enough information to check this rule. Answer: What is the unit's human rights "
        "vetting status? (security_units[0].vetting_status); Does any US government funding "
        "support this partnership? (legal.us_government_funding)"
    )
    assert result.findings[0].remediation.startswith(
        "Answer the questions named in this finding in the proposal, then review it again. "
        "If the answers show a violation: Remove the unit"
    )
    assert [(u.path, u.rules) for u in result.unanswered] == [
        (
            "security_units[0].vetting_status",
            ["ACC-003", "ACC-004", "ACC-014", "ACC-016", "ACC-010"],
        ),
        (
            "legal.us_government_funding",
            ["ACC-003", "ACC-004", "ACC-014", "ACC-016", "ACC-010", "FIN-009"],
        ),
        ("human_rights.refoulement_or_detention_risk", ["HR-004", "HR-017"]),
        ("human_rights.mitigations[0].risk_type", ["HR-017"]),
        ("security_units[0].vetting_regime", ["ACC-004", "ACC-014", "ACC-010"]),
        ("human_rights.due_diligence.done", ["ACC-011"]),
        ("human_rights.recipient_record", ["ACC-014", "ACC-016"]),
        ("security_units[0].vetted_by", ["ACC-016"]),
        ("legal.sanctions_regimes", ["FIN-001"]),
        (
            "activities.designated_groups_in_area",
            ["FIN-001", "LOC-002", "FIN-003", "FIN-004", "FIN-014", "LOC-003"],
        ),
        ("safeguards.staff_safety_assessment", ["LOC-002", "LOC-003"]),
        ("monitoring.human_rights_incidents_tracked", ["MON-001"]),
        ("oversight.remedy.available", ["ACC-018"]),
        ("oversight.remedy.independent_of_operator", ["ACC-018"]),
        ("oversight.whistleblowing.channel", ["ACC-050"]),
        ("oversight.whistleblowing.protection_from_retaliation", ["ACC-050"]),
        ("oversight.serious_incident_reporting.duty", ["ACC-051"]),
        ("oversight.serious_incident_reporting.deadline_hours", ["ACC-051"]),
        ("technology.change_of_control_plan", ["DS-021"]),
        ("technology.supplied", ["DS-021", "HR-014"]),
        ("funding.diversion_risk_assessment", ["FIN-003"]),
        ("activities.high_risk_setting", ["FIN-003", "FIN-004", "FIN-014"]),
        ("funding.third_party_monitoring", ["FIN-004"]),
        ("activities.distribution_controlled_by", ["FIN-004", "FIN-014"]),
        ("subcontractors", ["FIN-004", "FIN-011"]),
        ("funding.beneficial_owners_declared", ["FIN-006"]),
        ("funding.conflict_of_interest_declarations", ["FIN-007"]),
        ("funding.competitive_procurement", ["FIN-008"]),
        ("funding.counter_terrorism_certification", ["FIN-009"]),
        ("funding.sources", ["FIN-009", "TRN-007"]),
        ("technology.due_diligence_done", ["HR-014"]),
        ("technology.recipient_types", ["HR-014"]),
        ("safeguards.roles_and_responsibilities_defined", ["LOC-005"]),
        ("monitoring.indicators", ["MON-002"]),
        ("monitoring.review_frequency_months", ["MON-002"]),
        ("monitoring.independent_evaluation", ["MON-003", "MON-004"]),
        ("safeguards.capacity_building_plan", ["LOC-004"]),
    ]


def test_exemplary_fixture_is_approved_without_findings(durable: Reviewer) -> None:
    result = review(durable, "exemplary-community-policing.json")
    assert (result.decision, result.findings, result.unanswered) == (Decision.approve, [], [])


def test_threshold_changes_the_decision(ruleset) -> None:  # type: ignore[no-untyped-def]
    with Reviewer(ruleset, threshold=Severity.blocker) as lenient:
        result = review(lenient, "incomplete-coast-guard-training.json")
    assert result.decision is Decision.needs_information  # ACC-003 is a blocker
    with Reviewer(ruleset, threshold=Severity.blocker, engine="reference") as lenient:
        (item,) = read_proposals([str(FIXTURES / "flawed-refugee-data-sharing.json")])
        assert lenient.review(item.proposal).decision is Decision.reject


def test_templates() -> None:
    values = {
        "data_sharing.flows[].categories": ["biometric", "religion_or_ethnicity"],
        "security_units[].parent_force": None,
        "funding.total_amount": 1500000.0,
        "legal.us_government_funding": True,
        "data_sharing.flows[].transfer_mechanism": "not_applicable",
        "data_sharing.flows[].subjects": [],
    }
    text = (
        "{data_sharing.flows[].categories} / {security_units[].parent_force} / "
        "{security_units[].parent_force|its parent force} / {funding.total_amount} / "
        "{legal.us_government_funding} / {data_sharing.flows[].transfer_mechanism} / "
        "{data_sharing.flows[].subjects|people} / {{literal}}"
    )
    assert render(text, values.get) == (
        "biometric, religion or ethnicity / (not answered) / its parent force / 1,500,000 / "
        "yes / not applicable / people / {literal}"
    )


def test_template_braces_are_checked() -> None:
    placeholders, problems = parse("units: {security_units[].name}} and {{x}} {")
    assert [p.path for p in placeholders] == ["security_units[].name"]
    assert problems == [
        "unmatched '}' at character 31 (write }} for a literal brace)",
        "unmatched '{' at character 43 (write {{ for a literal brace)",
    ]


@pytest.mark.parametrize(
    ("regime", "binding"),
    [("gdpr", "required"), ("national", "good_practice"), (None, "good_practice")],
)
def test_a_source_is_required_only_where_it_binds(
    durable: Reviewer, regime: str | None, binding: str
) -> None:
    """GDPR articles are cited as binding only when the GDPR governs the processing."""
    from compliance.proposal.model import Proposal

    proposal = Proposal.model_validate(
        {
            "schema_version": "1",
            "id": "P-1",
            "title": "t",
            "legal": {"data_protection_regime": regime},
            "data_sharing": {
                "flows": [{"recipient": "X", "granularity": "individual", "lawful_basis": "none"}]
            },
        }
    )
    (finding,) = [f for f in durable.review(proposal).findings if f.rule_id == "DS-001"]
    gdpr = [r for r in finding.references if "GDPR" in r.instrument]
    assert [r.binding for r in gdpr] == [binding]
