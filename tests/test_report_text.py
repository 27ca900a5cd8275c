"""The text report and the review command's output lead with what matters: a line per finding
worst first, questions first for an incomplete proposal, batches worst first with their count,
--brief, --quiet, and the line on stderr when reports go to files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compliance.batch import windows as batch
from compliance.intake.proposals import read_proposals
from compliance.proposal.fields import Kind, catalogue
from compliance.reports.summary import item_label, summarize, summary_lines
from compliance.reports.text import render
from compliance.review.findings import Report
from compliance.review.items import item_names, item_tables
from compliance.review.reviewer import Reviewer
from compliance.rules.ruleset import RuleSet

from .conftest import Run, run_cli

APPROVED = "fixtures/exemplary-community-policing.json"
CONDITIONS = "fixtures/exemplary-humanitarian.json"
INCOMPLETE = "fixtures/incomplete-coast-guard-training.json"
COAST_GUARD = "fixtures/flawed-accountability-coast-guard-unvetted.json"
BIOMETRICS = "fixtures/flawed-data-sharing-biometrics-left-behind.json"
REFUGEE = "fixtures/flawed-refugee-data-sharing.json"
BOOK = "fixtures/workbooks/flawed-data-sharing-biometrics-left-behind.xlsx"

COAST_GUARD_OPENING = [
    "HO-F4-LIBYA-LCG  Support to the Libyan Coast Guard for search and rescue and border management",
    "  decision: REJECT",
    f"  source:   {COAST_GUARD}",
    "  findings: 4 violations (3 high, 1 low), 13 need information (1 blocker, 7 high, 5 medium)",
    "    violation          high     ACC-006  Conditions for suspending support to security forces",
    "    violation          high     ACC-007  A grievance mechanism for affected people",
    "    violation          high     ACC-014  Units of a force with a record of violations are "
    'vetted before support, whoever funds it  (security unit "Libyan Coast Guard, Western Sector '
    '(Zaw…")',
    "    violation          low      MON-004  The evaluation is independent and published",
    "    needs information  blocker  HR-017   A refoulement or detention risk is met by its own "
    "recorded safeguard, not a free-text or unrelated row",
    "    needs information  high     ACC-018  People harmed by the partnership have a route to "
    "remedy, not only a complaints channel",
    "    needs information  high     ACC-050  Staff can report misconduct through a channel that "
    "protects them from retaliation",
    "    needs information  high     ACC-051  Serious incidents are reported to the funder within "
    "a set time",
    "    needs information  high     CIV-004  Partners in operations agree use-of-force rules "
    "consistent with the UN Basic Principles",
    "    needs information  high     CIV-005  Deaths and serious injuries in operations are "
    "investigated promptly and independently",
    "    needs information  high     CIV-006  Civilian harm in supported operations is tracked "
    "incident by incident",
    "    needs information  high     HR-007   A high human rights risk has mitigation measures",
    "    needs information  medium   DS-021   Surveillance, biometric or identity systems "
    "supplied have a plan for their data if control changes",
    "    needs information  medium   FIN-004  Third-party monitoring where partners, "
    "subcontractors, authorities or others deliver in a conflict-affected or high-risk setting",
    "    needs information  medium   FIN-011  Subcontractors and suppliers screened against the "
    "applicable sanctions lists",
    "    needs information  medium   FIN-014  Aid and goods are not distributed under the control "
    "of armed groups or local power-holders",
    "    needs information  medium   HR-014   Human rights due diligence before surveillance or "
    "identification technology goes to security or state authorities, units named or not",
]

APPROVED_OPENING = [
    "PRP-2026-021  Community safety partnership: police, county government and civil society in "
    "Kwale and Kilifi",
    "  decision: APPROVE",
    f"  source:   {APPROVED}",
    "  findings: none",
]


# ------------------------------------------------------------------------------ the summary


def test_a_flawed_proposal_opens_with_a_line_per_finding_worst_first() -> None:
    run = run_cli("review", COAST_GUARD)
    assert run.code == 3
    lines = run.out.splitlines()
    assert lines[2 : 2 + len(COAST_GUARD_OPENING)] == COAST_GUARD_OPENING
    # then the details, the domain with the worst finding first
    assert lines[2 + len(COAST_GUARD_OPENING) :][:2] == ["", "  HUMAN-RIGHTS SAFEGUARDS"]


def test_the_summary_names_each_item_by_what_it_holds(durable: Reviewer) -> None:
    (item,) = read_proposals([BIOMETRICS])
    review = durable.review(item.proposal, item.source_map)
    names = {
        "data_sharing.flows[0]": "Host-nation Ministry of Interior",
        "data_sharing.processors[0]": "Biometric device vendor",
    }
    assert review.item_names == names  # the review carries them, so any render has them
    assert item_names(item.proposal, review.findings, review.unanswered) == names
    lines = summary_lines(summarize(review))
    assert [line for line in lines if "(" in line] == [
        "needs information  high     DS-018   Personal data passed to another state's security "
        "or enforcement bodies carries written caveats  (data flow "
        '"Host-nation Ministry of Interior")',
        "needs information  high     DS-019   The risk of torture is assessed before personal "
        "data goes to another state's security or enforcement bodies  (data flow "
        '"Host-nation Ministry of Interior")',
        "needs information  medium   DS-020   Processors may use the data only for the "
        'partnership, by contract  (processor "Biometric device vendor")',
    ]
    # a review without names (a report made before 1.5) calls an item by its place in its list
    unnamed = review.model_copy(update={"item_names": {}})
    assert summary_lines(summarize(unnamed))[6].endswith("  (data flow 1)")


def test_a_workbook_summary_gives_each_finding_its_sheet_and_row() -> None:
    run = run_cli("review", BOOK, "--brief")
    assert run.code == 3
    assert run.out.splitlines() == [
        "HO-F3-BIOMETRIC-ID  Biometric enrolment of security-force recruits and population for "
        "counter-insurgency identity management",
        "  decision: REJECT",
        f"  source:   {BOOK}",
        "  findings: 6 violations (2 high, 2 medium, 2 low), 12 need information (2 high, "
        "10 medium)",
        "    violation          high     DS-004   Impact assessment before sharing sensitive or "
        "vulnerable people's data  (Data sharing, row 3)",
        "    violation          high     DS-011   Biometric data has an emergency deletion plan  "
        "(Data sharing, row 10)",
        "    violation          medium   ACC-008  Grievance mechanism meets the UNGP 31 "
        "effectiveness criteria  (Oversight, row 3)",
        "    violation          medium   MON-006  What happens to shared personal data at exit is "
        "decided  (Monitoring, row 8)",
        "    violation          low      MON-004  The evaluation is independent and published  "
        "(Monitoring, row 5)",
        "    violation          low      TRN-005  Funding published to the IATI Standard  "
        "(Funding, row 6)",
        "    needs information  high     DS-018   Personal data passed to another state's "
        'security or enforcement bodies carries written caveats  (data flow "Host-nation '
        'Ministry of Interior"; Data sharing flows, row 2)',
        "    needs information  high     DS-019   The risk of torture is assessed before personal "
        "data goes to another state's security or enforcement bodies  (data flow \"Host-nation "
        'Ministry of Interior"; Data sharing flows, row 2)',
        # This workbook is of the first layout, which has no cells for these answers: they are
        # placed where the source map says they would have to be added.
        "    needs information  medium   ACC-018  People harmed by the partnership have a route "
        "to remedy, not only a complaints channel  (Proposal, row 2)",
        "    needs information  medium   ACC-050  Staff can report misconduct through a channel "
        "that protects them from retaliation  (Proposal, row 2)",
        "    needs information  medium   ACC-051  Serious incidents are reported to the funder "
        "within a set time  (Proposal, row 2)",
        "    needs information  medium   DS-020   Processors may use the data only for the "
        'partnership, by contract  (processor "Biometric device vendor"; Data sharing '
        "processors, row 2)",
        "    needs information  medium   DS-021   Surveillance, biometric or identity systems "
        "supplied have a plan for their data if control changes  (Proposal, row 2)",
        "    needs information  medium   FIN-004  Third-party monitoring where partners, "
        "subcontractors, authorities or others deliver in a conflict-affected or high-risk "
        "setting  (Proposal, row 2)",
        "    needs information  medium   FIN-011  Subcontractors and suppliers screened against "
        "the applicable sanctions lists  (Proposal, row 2)",
        "    needs information  medium   FIN-014  Aid and goods are not distributed under the "
        "control of armed groups or local power-holders  (Proposal, row 2)",
        "    needs information  medium   HR-013   Areas, communities or people are not chosen for "
        "cameras, patrols, programmes or outreach by religion, ethnicity or nationality  "
        "(Proposal, row 2)",
        "    needs information  medium   HR-014   Human rights due diligence before surveillance "
        "or identification technology goes to security or state authorities, units named or not"
        "  (Proposal, row 2)",
        "",
        "1 proposal reviewed: 1 reject",
    ]


def test_items_are_named_by_the_first_text_field_of_their_table() -> None:
    tables = {path for path, spec in catalogue().items() if spec.kind is Kind.OBJECT_LIST}
    assert set(item_tables()) == tables
    assert {path: (t.noun, t.name_field) for path, t in item_tables().items()} == {
        "parties": ("party", "name"),
        "security_units": ("security unit", "name"),
        "funding.sources": ("funding source", "funder"),
        "data_sharing.flows": ("data flow", "recipient"),
        "data_sharing.processors": ("processor", "name"),
        "human_rights.mitigations": ("mitigation", "risk"),
        "subcontractors": ("subcontractor", "name"),
    }
    assert item_label("funding.sources[2]", {}) == "funding source 3"
    # a name's line breaks cannot start a line of their own in a one-line summary
    forged = "X\n    violation          blocker  ACC-001"
    assert item_label("data_sharing.flows[1]", {"data_sharing.flows[1]": forged}) == (
        'data flow "X violation blocker ACC-001"'
    )
    long = "A name\nthat runs over two lines and well past forty characters"
    assert item_label("parties[0]", {"parties[0]": long}) == (
        'party "A name that runs over two lines and wel…"'
    )


# ------------------------------------------------------------------------------ questions


def _checklist(lines: list[str]) -> list[str]:
    start = lines.index("  QUESTIONS TO ANSWER")
    end = lines.index("", start + 1)
    return lines[start + 1 : end]


def test_an_incomplete_proposal_lists_its_questions_before_the_details() -> None:
    run = run_cli("review", INCOMPLETE)
    assert run.code == 4
    lines = run.out.splitlines()
    assert lines.index("  QUESTIONS TO ANSWER") < lines.index("  ACCOUNTABILITY")
    assert lines.count("  QUESTIONS TO ANSWER") == 1
    checklist = _checklist(lines)
    assert checklist[:8] == [
        '   [ ] security unit "Coast Guard Sector 2 patrol crews": What is the unit\'s human '
        "rights vetting",
        "       status?",
        "       security_units[0].vetting_status; needed by ACC-003, ACC-004, ACC-014, ACC-016, "
        "ACC-010",
        "   [ ] Does any US government funding support this partnership?",
        "       legal.us_government_funding; needed by ACC-003, ACC-004, ACC-014, ACC-016, "
        "ACC-010, FIN-009",
        "   [ ] Could the support contribute to refoulement or detention abuse?",
        "       human_rights.refoulement_or_detention_risk; needed by HR-004, HR-017",
        '   [ ] mitigation "Crews intercept boats and return people…": Which harm does the risk '
        "concern",
    ]
    assert sum(line.startswith("   [ ] ") for line in checklist) == 37  # every question


def test_a_workbook_checklist_gives_the_sheet_and_cell(tmp_path: Path) -> None:
    book = tmp_path / "incomplete.xlsx"
    assert run_cli("export", INCOMPLETE, str(book)).code == 0
    run = run_cli("review", str(book))
    assert run.code == 4
    assert _checklist(run.out.splitlines())[:7] == [
        '   [ ] security unit "Coast Guard Sector 2 patrol crews": What is the unit\'s human '
        "rights vetting",
        "       status?",
        "       Security units!D2, security_units[0].vetting_status; needed by ACC-003, ACC-004, "
        "ACC-014,",
        "       ACC-016, ACC-010",
        "   [ ] Does any US government funding support this partnership?",
        "       Legal!C3, legal.us_government_funding; needed by ACC-003, ACC-004, ACC-014, "
        "ACC-016, ACC-010,",
        "       FIN-009",
    ]


def test_a_decided_proposal_keeps_its_questions_after_the_details() -> None:
    run = run_cli("review", COAST_GUARD)
    lines = run.out.splitlines()
    assert lines.index("  QUESTIONS TO ANSWER") > lines.index("  ACCOUNTABILITY")


# ------------------------------------------------------------------------------ batches


def test_a_batch_comes_worst_first_with_its_count_at_the_top() -> None:
    run = run_cli("review", APPROVED, INCOMPLETE, BIOMETRICS, CONDITIONS, REFUGEE)
    assert run.code == 3
    lines = run.out.splitlines()
    assert (
        lines[1]
        == "5 proposals: 2 reject, 1 needs_information, 1 approve_with_conditions, 1 approve"
    )
    heads = [
        (line, lines[i + 1]) for i, line in enumerate(lines) if line.startswith(("HO-", "PRP-"))
    ]
    assert [(head.split("  ")[0], decision) for head, decision in heads] == [
        ("HO-F3-BIOMETRIC-ID", "  decision: REJECT"),  # rejected, in input order
        ("PRP-2026-034", "  decision: REJECT"),
        ("PRP-2026-047", "  decision: NEEDS_INFORMATION"),
        ("PRP-2026-077", "  decision: APPROVE_WITH_CONDITIONS"),
        ("PRP-2026-021", "  decision: APPROVE"),
    ]
    assert lines[-1] == (
        "5 proposals reviewed: 2 reject, 1 needs_information, 1 approve_with_conditions, 1 approve"
    )


def test_the_streamed_text_report_reads_as_the_whole_report(
    ruleset: RuleSet, tmp_path: Path
) -> None:
    paths = [APPROVED, INCOMPLETE, BIOMETRICS, CONDITIONS]
    outs = [tmp_path / "r.json", tmp_path / "r.txt", tmp_path / "brief.txt"]
    run = run_cli(
        "review", *paths, "--format", "json", "--format", "text",
        "-o", str(outs[0]), "-o", str(outs[1]), "--no-fail",
    )  # fmt: skip
    assert run.code == 0, run.err
    brief = run_cli("review", *paths, "--brief", "--quiet", "-o", str(outs[2]))
    assert brief.code == 3
    # The JSON report read back renders the same text, its items named: the names are in it.
    report = Report.model_validate_json(outs[0].read_text(encoding="utf-8"))
    assert [r.item_names for r in report.reviews] == [
        {},
        {
            "security_units[0]": "Coast Guard Sector 2 patrol crews",
            "human_rights.mitigations[0]": "Crews intercept boats and return people to unsafe "
            "ports",
        },
        {
            "data_sharing.flows[0]": "Host-nation Ministry of Interior",
            "data_sharing.processors[0]": "Biometric device vendor",
        },
        {},
    ]
    assert outs[1].read_text(encoding="utf-8") == render(report, ruleset.domain_title)
    assert 'data flow "Host-nation Ministry of Interior"' in outs[1].read_text(encoding="utf-8")
    assert outs[2].read_text(encoding="utf-8") == render(
        report, ruleset.domain_title, brief=True, failing_only=True
    )


# ------------------------------------------------------------------------------ the command


def test_brief_prints_the_openings_and_the_count() -> None:
    run = run_cli("review", APPROVED, COAST_GUARD, "--brief")
    assert (run.code, run.err) == (3, "")
    assert run.out == "\n".join(
        [
            *COAST_GUARD_OPENING,
            "",
            *APPROVED_OPENING,
            "",
            "2 proposals reviewed: 1 reject, 1 approve",
            "",
        ]
    )


def test_brief_is_for_the_text_report() -> None:
    run = run_cli("review", APPROVED, "--brief", "--format", "json")
    assert (run.code, run.out) == (2, "")
    assert run.err == "error: --brief shortens the text report; add --format text\n"


def test_quiet_says_nothing_when_everything_passes(tmp_path: Path) -> None:
    assert run_cli("review", APPROVED, CONDITIONS, "--quiet") == Run(0, "", "")
    out = tmp_path / "r.json"
    run = run_cli("review", APPROVED, "-q", "--format", "json", "-o", str(out))
    assert (run.code, run.out, run.err) == (0, "", "")
    assert json.loads(out.read_text(encoding="utf-8"))["summary"]["proposals"] == 1


def test_quiet_shows_only_what_fails() -> None:
    run = run_cli("review", APPROVED, COAST_GUARD, CONDITIONS, "--quiet", "--brief")
    assert (run.code, run.err) == (3, "")
    assert run.out == "\n".join(
        [
            *COAST_GUARD_OPENING,
            "",
            "3 proposals reviewed: 1 reject, 1 approve_with_conditions, 1 approve",
            "",
        ]
    )
    full = run_cli("review", APPROVED, COAST_GUARD, CONDITIONS, "--quiet").out.splitlines()
    assert full[1:3] == [
        "3 proposals: 1 reject, 1 approve_with_conditions, 1 approve",
        "(--quiet: 2 approved proposals not shown)",
    ]
    assert [line for line in full if line.startswith(("HO-", "PRP-"))] == [COAST_GUARD_OPENING[0]]


def test_reports_written_to_files_are_announced_on_stderr(tmp_path: Path) -> None:
    json_out, html_out = tmp_path / "r.json", tmp_path / "r.html"
    run = run_cli(
        "review", APPROVED, COAST_GUARD, "--format", "json", "--format", "html",
        "-o", str(json_out), "-o", str(html_out),
    )  # fmt: skip
    assert (run.code, run.out) == (3, "")
    assert run.err == (f"wrote {json_out}, {html_out}; 2 proposals: 1 reject, 1 approve; exit 3\n")
    run = run_cli("review", INCOMPLETE, "--format", "json", "-o", str(json_out), "--no-fail")
    assert (run.code, run.out) == (0, "")
    assert run.err.splitlines() == [
        "--no-fail: not gating (the decisions would exit 4)",
        f"wrote {json_out}; 1 proposal: 1 needs_information; exit 0",
    ]
    # text on standard output, JSON to a file: the report and the line
    run = run_cli(
        "review", APPROVED, "--format", "text", "--format", "json", "-o", "-", "-o", str(json_out)
    )
    assert run.code == 0
    assert run.out.splitlines()[2:6] == APPROVED_OPENING
    assert run.err == f"wrote {json_out}; 1 proposal: 1 approve; exit 0\n"
    # nothing written to a file: nothing said
    assert run_cli("review", APPROVED).err == ""


@pytest.mark.parametrize("option", ["--quiet", "-q"])
def test_quiet_keeps_the_exit_code_and_errors(option: str) -> None:
    assert run_cli("review", COAST_GUARD, option, "--format", "json").code == 3
    missing = run_cli("review", "nope.json", option)
    assert (missing.code, missing.out) == (2, "")
    assert missing.err.startswith("error: nope.json")


# ------------------------------------------------------------------------------ item names


def test_item_names_come_back_from_review_workers(
    durable: Reviewer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch, "PARALLEL_MIN", 2)  # fork even this small window
    items = read_proposals([BIOMETRICS, APPROVED, INCOMPLETE])
    plan = batch.Plan(durable, (), keep_reviews=True)
    sequential = [
        o.review.item_names for o in batch.review_window(plan, items, 0, jobs=1) if o.review
    ]
    forked = [o.review.item_names for o in batch.review_window(plan, items, 0, jobs=2) if o.review]
    assert forked == sequential
    assert sequential == [
        {
            "data_sharing.flows[0]": "Host-nation Ministry of Interior",
            "data_sharing.processors[0]": "Biometric device vendor",
        },
        {},
        {
            "security_units[0]": "Coast Guard Sector 2 patrol crews",
            "human_rights.mitigations[0]": "Crews intercept boats and return people to unsafe "
            "ports",
        },
    ]


def test_a_whole_report_format_names_items_too(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    assert run_cli("review", BIOMETRICS, "--format", "html", "-o", str(out)).code == 3
    assert "data flow &quot;Host-nation Ministry of Interior&quot;" in out.read_text("utf-8")
