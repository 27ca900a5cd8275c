"""The command as a workflow runs it (``python -m compliance``'s entry point, in this process;
a real subprocess where only a process shows it), exit codes, exact output."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import jsonschema
import pytest
import yaml

from compliance import load_rules
from compliance.cli import main
from compliance.exitcodes import ExitCode
from compliance.rules.ruleset import KNOWN_DOMAINS

from .conftest import FIXTURES, ROOT, run_cli

FLAWED = "fixtures/flawed-refugee-data-sharing.json"
EXEMPLARY = "fixtures/exemplary-community-policing.json"
INCOMPLETE = "fixtures/incomplete-coast-guard-training.json"
REPORT_SCHEMA = json.loads((ROOT / "docs" / "report.schema.json").read_text(encoding="utf-8"))


def test_flawed_proposal_is_blocked_with_evidence_and_remediation() -> None:
    run = run_cli("review", FLAWED, "--format", "json")
    assert run.code == ExitCode.BLOCKED == 3
    assert run.err == ""
    report = json.loads(run.out)
    jsonschema.validate(report, REPORT_SCHEMA)
    (review,) = report["reviews"]
    assert review["decision"] == "reject"
    assert review["findings"]
    for finding in review["findings"]:
        assert finding["remediation"]
        assert finding["references"]
        assert all(r["url"].startswith("https://") for r in finding["references"])
        role = "violation" if finding["outcome"] == "violation" else "unanswered"
        paths = [e["path"] for e in finding["evidence"] if e["role"] == role]
        assert paths
        for evidence in finding["evidence"]:
            assert evidence["location"]["source"] == FLAWED
            assert evidence["location"]["line"] >= 1


def test_exemplary_proposal_passes() -> None:
    run = run_cli("review", EXEMPLARY)
    assert run.code == ExitCode.PASSED == 0
    ruleset_line, *rest = run.out.splitlines()
    ruleset = load_rules()
    assert ruleset_line == (
        f"compliance 0.3.0: rules compliance-core 2.0.0 ({len(ruleset.rules)} rules, "
        f"{ruleset.hash[:19]}), engine durable, threshold high"
    )
    assert rest == [
        "",
        "PRP-2026-021  Community safety partnership: police, county government and civil society in Kwale and Kilifi",
        "  decision: APPROVE",
        f"  source:   {EXEMPLARY}",
        "  findings: none",
        "",
        "1 proposal reviewed: 1 approve",
    ]


def test_incomplete_proposal_needs_information() -> None:
    run = run_cli("review", INCOMPLETE)
    assert run.code == ExitCode.NEEDS_INFORMATION == 4
    assert "  decision: NEEDS_INFORMATION" in run.out.splitlines()
    assert "  QUESTIONS TO ANSWER" in run.out.splitlines()


def test_batch_exits_with_the_worst_decision() -> None:
    run = run_cli("review", EXEMPLARY, INCOMPLETE, "--format", "json")
    assert run.code == ExitCode.NEEDS_INFORMATION
    report = json.loads(run.out)
    assert report["summary"] == {
        "proposals": 2,
        "decisions": {
            "approve": 1,
            "approve_with_conditions": 0,
            "needs_information": 1,
            "reject": 0,
        },
    }
    assert run_cli("review", EXEMPLARY, FLAWED, INCOMPLETE).code == ExitCode.BLOCKED


INVALID = [
    (
        "malformed file",
        '{"schema_version": "1", "id": "P-9", "title": "t",,}',
        "error: {f}:1:51: not valid JSON: Expecting property name enclosed in double quotes",
    ),
    (
        "wrong type",
        '{"schema_version": "1", "id": "P-9", "title": "t", "activities": {"armed_escorts": "no"}}',
        "error: {f}:1:84: P-9: activities.armed_escorts: expected true, false or null (not answered), got 'no'",
    ),
    (
        "unknown enum value",
        '{"schema_version": "1", "id": "P-9", "title": "t", "safeguards": {"community_engagement": "consultation"}}',
        "error: {f}:1:91: P-9: safeguards.community_engagement: 'consultation' is not one of none, informed, consulted, co_designed",
    ),
]


@pytest.mark.parametrize(("label", "text", "expected"), INVALID, ids=[i[0] for i in INVALID])
@pytest.mark.parametrize("command", ["review", "validate"])
def test_invalid_input_exits_with_one_line_naming_the_field(
    tmp_path: Path, command: str, label: str, text: str, expected: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    run = run_cli(command, str(path))
    assert run.code == ExitCode.INVALID_INPUT == 2
    assert run.out == ""
    assert run.err.splitlines() == [expected.format(f=path)]


def test_stdin() -> None:
    text = (FIXTURES / "exemplary-community-policing.json").read_text(encoding="utf-8")
    run = run_cli("review", "-", "--format", "json", stdin=text)
    assert run.code == 0
    assert json.loads(run.out)["reviews"][0]["source"] == "-"


def test_output_file_and_fail_on(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    run = run_cli("review", INCOMPLETE, "--format", "json", "-o", str(out), "--fail-on", "medium")
    assert (run.code, run.out) == (ExitCode.NEEDS_INFORMATION, "")
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["threshold"] == "medium"
    assert run_cli("review", FLAWED, "--fail-on", "blocker").code == ExitCode.BLOCKED
    lenient = run_cli("review", INCOMPLETE, "--fail-on", "blocker", "--format", "json")
    assert lenient.code == ExitCode.NEEDS_INFORMATION  # ACC-003 is a blocker and unanswered


def test_reference_engine_gives_the_same_report() -> None:
    durable = json.loads(run_cli("review", FLAWED, INCOMPLETE, "--format", "json").out)
    reference = json.loads(
        run_cli("review", FLAWED, INCOMPLETE, "--format", "json", "--engine", "reference").out
    )
    assert (durable.pop("engine"), reference.pop("engine")) == ("durable", "reference")
    assert durable == reference


def test_user_rule_directory(tmp_path: Path) -> None:
    rule = {
        "id": "ORG-001",
        "title": "Our policy: agreements are published in full",
        "severity": "high",
        "violated_when": {"field": "oversight.agreement_disclosure", "not_equals": "full"},
        "message": "Disclosure is {oversight.agreement_disclosure}.",
        "remediation": "Publish it in full.",
        "references": [
            {
                "instrument": "Our policy",
                "provision": "3.1",
                "url": "https://example.org/policy",
                "binding": "required",
            }
        ],
        "examples": {
            "fires": [
                {"note": "summary", "proposal": {"oversight": {"agreement_disclosure": "summary"}}}
            ],
            "passes": [
                {"note": "full", "proposal": {"oversight": {"agreement_disclosure": "full"}}}
            ],
        },
    }
    (tmp_path / "policy.yaml").write_text(
        yaml.safe_dump({"domain": "transparency", "rules": [rule]}), encoding="utf-8"
    )
    run = run_cli("review", EXEMPLARY, "--rules", str(tmp_path), "--format", "json")
    assert run.code == ExitCode.BLOCKED
    (finding,) = json.loads(run.out)["reviews"][0]["findings"]
    assert (finding["rule_id"], finding["message"]) == ("ORG-001", "Disclosure is summary.")
    assert run_cli("rules", "test", str(tmp_path)).out.splitlines() == [
        f"1 rule, 2 examples in {tmp_path}: all passed"
    ]


def test_broken_rule_directory_exits_with_the_rules_code(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("rules:\n  - id: ORG-001\n", encoding="utf-8")
    run = run_cli("review", EXEMPLARY, "--rules", str(tmp_path))
    assert run.code == ExitCode.RULES_ERROR == 5
    assert (
        run.err.splitlines()[0]
        == f"error: {tmp_path}/bad.yaml:2: rule ORG-001: title: required key is missing"
    )


def test_rules_list_json() -> None:
    run = run_cli("rules", "list", "--format", "json")
    assert run.code == 0
    payload = json.loads(run.out)
    assert payload["rule_set"]["name"] == "compliance-core"
    rules = payload["rules"]
    assert len(rules) == payload["rule_set"]["rule_count"] >= 45
    for rule in rules:
        assert rule["remediation"]
        assert "Owner:" in rule["remediation"], rule["id"]
        assert any(r["url"].startswith("https://") for r in rule["references"])
        assert rule["examples"]["fires"] >= 1
        assert rule["examples"]["passes"] >= 1
    per_domain = Counter(r["domain"] for r in rules)
    assert set(per_domain) == set(KNOWN_DOMAINS)
    for core in ("accountability", "transparency", "data_sharing", "human_rights"):
        assert per_domain[core] >= 7, core


def test_rules_test_passes() -> None:
    run = run_cli("rules", "test")
    assert run.code == 0
    assert run.out.splitlines()[-1].endswith(": all passed")


def test_schema_is_the_generated_one() -> None:
    run = run_cli("schema")
    assert run.code == 0
    assert run.out == (ROOT / "docs" / "proposal.schema.json").read_text(encoding="utf-8")
    report = run_cli("schema", "--report")
    assert report.out == (ROOT / "docs" / "report.schema.json").read_text(encoding="utf-8")


def test_fixtures_validate_against_the_published_schema() -> None:
    schema = json.loads((ROOT / "docs" / "proposal.schema.json").read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)
    validator.check_schema(schema)  # once: jsonschema.validate checks it again for every document
    for path in FIXTURES.glob("*.json"):
        validator(schema).validate(json.loads(path.read_text(encoding="utf-8")))


def test_validate_counts_proposals() -> None:
    run = run_cli("validate", EXEMPLARY, FLAWED, INCOMPLETE)
    assert (run.code, run.out) == (0, "3 proposals valid\n")


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--version"], ExitCode.PASSED),
        (["review"], ExitCode.INVALID_INPUT),
        (["review", EXEMPLARY, "--format", "pdf"], ExitCode.INVALID_INPUT),
        (["review", EXEMPLARY, "--fail-on", "critical"], ExitCode.INVALID_INPUT),
        (["frobnicate"], ExitCode.INVALID_INPUT),
        (["review", "fixtures/missing.json"], ExitCode.INVALID_INPUT),
    ],
)
def test_usage_errors(args: list[str], code: ExitCode) -> None:
    assert run_cli(*args).code == code


@pytest.mark.parametrize(
    ("args", "suggested"),
    [(["reveiw"], "review"), (["valdate"], "validate"), (["rules", "lst"], "list")],
)
def test_a_mistyped_command_is_answered_with_the_command_meant(
    args: list[str], suggested: str
) -> None:
    """Every command is suggested, loaded or not (commands are imported only when they run)."""
    run = run_cli(*args)
    assert (run.code, run.out) == (ExitCode.INVALID_INPUT, "")
    assert run.err.endswith(f"Error: No such command '{args[-1]}'. Did you mean '{suggested}'?\n")


def test_an_unexpected_error_is_an_internal_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("compliance.review.reviewer.Reviewer.review", boom)
    with pytest.raises(SystemExit) as info:
        main(["review", str(ROOT / EXEMPLARY)])
    assert info.value.code == ExitCode.INTERNAL_ERROR == 6
    assert capsys.readouterr().err.splitlines() == [
        "internal error: RuntimeError: boom",
        "(set COMPLIANCE_DEBUG=1 for the traceback)",
    ]


def test_an_engine_failure_is_an_internal_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from compliance.errors import EngineError

    def fail(self: object, view: object) -> None:
        raise EngineError(
            "the rule engine failed on a proposal: Could not assert fact, error code: 303"
        )

    monkeypatch.setattr("compliance.rules.durable.DurableEngine.results", fail)
    with pytest.raises(SystemExit) as info:
        main(["review", str(ROOT / FLAWED)])
    assert info.value.code == ExitCode.INTERNAL_ERROR
    assert capsys.readouterr().err == (
        "error: the rule engine failed on a proposal: Could not assert fact, error code: 303\n"
    )


def test_control_characters_from_a_proposal_cannot_forge_report_lines(tmp_path: Path) -> None:
    doc = json.loads((FIXTURES / "flawed-refugee-data-sharing.json").read_text(encoding="utf-8"))
    # Escapes and bidirectional overrides are refused at intake; line breaks are text.
    doc["title"] = "Harmless\r"
    doc["data_sharing"]["flows"][1]["recipient"] = "X\n    finding:   (none)"
    path = tmp_path / "esc.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    run = run_cli("review", str(path))
    assert "PRP-2026-034  Harmless\\u000d" in run.out.splitlines()
    assert [
        line for line in run.out.splitlines() if line.strip().startswith("finding:   (none)")
    ] == []


def test_closed_standard_output_is_an_error() -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        f"{sys.executable} -m compliance review {EXEMPLARY} >&-",
        shell=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == ExitCode.INVALID_INPUT
    assert proc.stderr == "error: standard output is closed; write the report with --output FILE\n"


def test_report_file_gets_ordinary_permissions(tmp_path: Path) -> None:
    import os

    out = tmp_path / "r.txt"
    assert run_cli("review", EXEMPLARY, "-o", str(out)).code == 0
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask


def test_docs_check_writes_nothing(tmp_path: Path) -> None:
    run = run_cli("docs", "--check", str(tmp_path / "docs"))
    assert run.code == ExitCode.INVALID_INPUT
    assert not (tmp_path / "docs").exists()


def test_rules_list_text() -> None:
    run = run_cli("rules", "list")
    assert run.code == 0
    lines = run.out.splitlines()
    assert lines[0] == (
        "ACC-001  blocker  accountability            "
        "Human rights due diligence before UN support to non-UN security forces"
    )
    count = len(load_rules().rules)
    assert lines[-1] == f"{count} rules (compliance-core 2.0.0)"
    assert len(lines) == count + 1


def test_docs_writes_the_generated_documents(tmp_path: Path) -> None:
    run = run_cli("docs", str(tmp_path))
    assert (run.code, run.out) == (0, f"wrote 6 documents in {tmp_path}\n")
    names = (
        "fields.md",
        "proposal.schema.json",
        "report.schema.json",
        "impact.schema.json",
        "rules.md",
        "coverage.md",
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)
    for name in names:
        assert (tmp_path / name).read_text(encoding="utf-8") == (ROOT / "docs" / name).read_text(
            encoding="utf-8"
        )
    assert run_cli("docs", "--check", str(tmp_path)).code == 0


HR_002 = """\
HR-002  Religion, ethnicity or nationality are never risk indicators

Domain:          Human-rights safeguards (human_rights)
Severity:        blocker
Source:          human_rights.yaml
If unanswered:   asks for information

Applies when:
  any of:
    sector is one of counter_terrorism, preventing_violent_extremism, border_and_migration, community_engagement, counter_narcotics
    all of:
      human_rights.protected_traits_used_as_indicators is answered
      human_rights.protected_traits_used_as_indicators is yes

Violated when:
  human_rights.protected_traits_used_as_indicators is yes

Message:
  "{title}" uses religion, ethnicity or nationality as risk indicators, which is discriminatory
  profiling.

Remediation:
  Remove every identity-based indicator from risk assessments, watch lists and referral forms;
  base any assessment on individual conduct; review past cases flagged on those grounds and
  delete the resulting records. Owner: the programme lead, checked by the oversight body.

References:
  - required by International Covenant on Civil and Political Rights, Articles 2(1) and 26 (non-discrimination)
    https://www.ohchr.org/en/instruments-mechanisms/instruments/international-covenant-civil-and-political-rights
    only where (otherwise good practice):
      any of:
        lead.org_type is one of government_civilian, military, police, intelligence
        some item of parties where parties[].org_type is one of government_civilian, military, police, intelligence
  - good practice per UN Secretary-General, report on the Plan of Action to Prevent Violent Extremism (A/72/621), paragraph 4 (violent extremism is not to be associated with any religion, nationality or ethnic group)
    https://undocs.org/A/72/621

Examples: 1 fires, 3 passes, 1 needs information
  fires: nationality used as a risk marker at the border
  passes: conduct-based indicators
  passes: counter-narcotics programme, no identity-based indicators
  passes: a food distribution is not asked about risk profiling
  needs_information: prevention programme, not stated
"""


def test_rules_show_prints_one_rule_in_full() -> None:
    run = run_cli("rules", "show", "hr-002")
    assert (run.code, run.out) == (0, HR_002)
    as_json = json.loads(run_cli("rules", "show", "HR-002", "--format", "json").out)
    assert as_json["violated_when"] == ["human_rights.protected_traits_used_as_indicators is yes"]
    assert as_json["references"][0]["binds_when"][0] == "any of:"
    missing = run_cli("rules", "show", "HR-02")
    assert (missing.code, missing.err) == (
        ExitCode.INVALID_INPUT,
        "error: HR-02: no such rule (did you mean HR-022?); see: compliance rules list\n",
    )


def test_rules_list_filters_by_domain_and_severity() -> None:
    run = run_cli("rules", "list", "--domain", "human_rights", "--severity", "blocker")
    expected = [
        r for r in load_rules().rules if r.domain == "human_rights" and r.severity == "blocker"
    ]
    lines = run.out.splitlines()
    assert run.code == 0
    assert [line.split()[0] for line in lines[:-1]] == [r.id for r in expected]
    assert all("  blocker  human_rights  " in line for line in lines[:-1])
    assert lines[-1] == f"{len(expected)} rules (compliance-core 2.0.0)"
    unknown = run_cli("rules", "list", "--domain", "finance")
    assert unknown.code == ExitCode.INVALID_INPUT
    assert unknown.err.startswith("error: --domain finance: no loaded rule has this domain")


def test_rules_docs_writes_the_reference_and_check_finds_it_stale(tmp_path: Path) -> None:
    run = run_cli("rules", "docs", str(tmp_path))
    assert (run.code, run.out) == (0, f"wrote {tmp_path / 'rules.md'}\n")
    written = (tmp_path / "rules.md").read_text(encoding="utf-8")
    assert written == (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert run_cli("rules", "docs", "--check", str(tmp_path)).code == 0
    (tmp_path / "rules.md").write_text(written.replace("HR-002", "HR-02"), encoding="utf-8")
    stale = run_cli("rules", "docs", "--check", str(tmp_path))
    assert (stale.code, stale.out) == (
        ExitCode.INVALID_INPUT,
        f"stale: {tmp_path / 'rules.md'} (run: compliance rules docs {tmp_path})\n",
    )


def test_no_fail_reports_without_gating(tmp_path: Path) -> None:
    flawed = str(FIXTURES / "flawed-refugee-data-sharing.json")
    gated = run_cli("review", flawed, "--format", "json")
    rollout = run_cli("review", flawed, "--format", "json", "--no-fail")
    assert gated.code == 3
    assert rollout.code == 0
    assert rollout.err == "--no-fail: not gating (the decisions would exit 3)\n"
    assert json.loads(rollout.out)["reviews"] == json.loads(gated.out)["reviews"]
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    assert run_cli("review", str(bad), "--no-fail").code == 2  # invalid input still fails
    sound = run_cli("review", str(FIXTURES / "exemplary-humanitarian.json"), "--no-fail")
    assert (sound.code, sound.err) == (0, "")
