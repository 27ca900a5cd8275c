"""Waivers: accepted findings with governance. Applied, expired, unused, refused for blockers,
scoped to a path, validated strictly; and how the gate, the reports and the records show them."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from compliance.errors import ConfigError
from compliance.gate.records import verify
from compliance.intake.proposals import read_proposals
from compliance.reports.text import render
from compliance.review.findings import Finding, Report
from compliance.review.reviewer import Reviewer
from compliance.review.waivers import Waivers, load_waivers
from compliance.rules.ruleset import RuleSet

from .conftest import ROOT, run_cli

BIOMETRICS = "fixtures/flawed-data-sharing-biometrics-left-behind.json"  # HO-F3-BIOMETRIC-ID
REFUGEE = "fixtures/flawed-data-sharing-refugee-onward-transfer.json"  # HO-F1-ROHINGYA
LIBYA = "fixtures/flawed-accountability-coast-guard-unvetted.json"  # HO-F4-LIBYA-LCG
GATE = ROOT / "fixtures" / "gate"
MYANMAR = "Government of Myanmar (via Bangladesh)"  # HO-F1-ROHINGYA's flows[1]
RRRC = "Refugee Relief and Repatriation Commissioner, Bangladesh"  # and flows[0]
AS_OF = date(2026, 11, 21)
JUSTIFICATION = "The assessment is scheduled and funded; board minute 2026-09-28."


def as_of_warning(day: date = AS_OF) -> list[str]:
    """The line review prints first when waivers are judged as of a day that is not today
    (these tests pin the day, so on any later day they see it)."""
    if day == datetime.now(timezone.utc).date():
        return []
    return [
        f"--as-of {day}: the rules in force and the waivers were judged as of that day, not "
        "today; the decisions hold for that day"
    ]


def waiver(**fields: object) -> dict[str, object]:
    entry: dict[str, object] = {
        "id": "W-1",
        "rule": "DS-004",
        "proposal": "HO-F3-BIOMETRIC-ID",
        "justification": JUSTIFICATION,
        "approved_by": "Amina Diallo, General Counsel",
        "approved_on": "2026-10-01",
        "expires": "2027-03-31",
    }
    entry.update(fields)
    return {k: v for k, v in entry.items() if v is not None}


def write(tmp_path: Path, *entries: dict[str, object], name: str = "waivers.yaml") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"version": 1, "waivers": list(entries)}), encoding="utf-8")
    return path  # JSON is YAML


def review(ruleset: RuleSet, waivers: Waivers, *paths: str, threshold: str = "high") -> Report:
    from compliance.rules.spec import Severity

    items = read_proposals([str(ROOT / p) for p in paths])
    with Reviewer(
        ruleset, engine="reference", threshold=Severity(threshold), waivers=waivers
    ) as reviewer:
        return reviewer.report([reviewer.review(i.proposal) for i in items])


def finding(report: Report, rule_id: str, proposal: str = "HO-F3-BIOMETRIC-ID") -> Finding:
    (review_,) = [r for r in report.reviews if r.proposal_id == proposal]
    (found,) = [f for f in review_.findings if f.rule_id == rule_id]
    return found


# ------------------------------------------------------------------------------------- applied


def test_a_waiver_in_force_waives_the_finding_which_stays_in_the_report(
    ruleset: RuleSet, tmp_path: Path
) -> None:
    both = write(tmp_path, waiver(), waiver(id="W-2", rule="DS-011"))
    # The proposal answers the two high questions of contract v2 (written caveats, a torture-risk
    # assessment), so that its two high violations are all that stands in the way.
    proposal = json.loads((ROOT / BIOMETRICS).read_text(encoding="utf-8"))
    proposal["schema_version"] = "2"
    proposal["data_sharing"]["flows"][0] |= {
        "use_caveats_in_writing": True,
        "torture_risk_assessed": True,
    }
    answered = tmp_path / "biometrics-answered.json"
    answered.write_text(json.dumps(proposal), encoding="utf-8")
    report = review(ruleset, load_waivers(both, ruleset, as_of=AS_OF), str(answered))
    (r,) = report.reviews
    # DS-004 and DS-011 (high) were the only blockers: the proposal is approved, on conditions
    assert r.decision.value == "approve_with_conditions"
    waived = [f for f in r.findings if f.waived]
    assert [f.rule_id for f in waived] == ["DS-004", "DS-011"]
    w = waived[0].waiver
    assert w is not None
    assert (w.id, w.status, w.justification, w.approved_by) == (
        "W-1",
        "applied",
        JUSTIFICATION,
        "Amina Diallo, General Counsel",
    )
    assert (w.approved_on, w.expires, w.origin) == (date(2026, 10, 1), date(2027, 3, 31), str(both))
    assert r.counts.waived["high"] == 2
    assert r.counts.violations["high"] == 0
    assert report.waivers is not None
    assert [(u.id, u.status, u.findings) for u in report.waivers.waivers] == [
        ("W-1", "applied", 1),
        ("W-2", "applied", 1),
    ]


def test_without_the_waivers_the_same_proposal_is_rejected(ruleset: RuleSet) -> None:
    with Reviewer(ruleset, engine="reference") as reviewer:
        (item,) = read_proposals([str(ROOT / BIOMETRICS)])
        assert reviewer.review(item.proposal).decision.value == "reject"


def test_the_last_day_is_in_force_and_the_next_is_not(ruleset: RuleSet, tmp_path: Path) -> None:
    path = write(tmp_path, waiver(expires="2026-11-21"))
    on_the_day = review(ruleset, load_waivers(path, ruleset, as_of=AS_OF), BIOMETRICS)
    assert finding(on_the_day, "DS-004").waived
    after = review(ruleset, load_waivers(path, ruleset, as_of=date(2026, 11, 22)), BIOMETRICS)
    assert not finding(after, "DS-004").waived


# ------------------------------------------------------------------------------------- expired


def test_an_expired_waiver_reopens_the_finding_and_says_so(
    ruleset: RuleSet, tmp_path: Path
) -> None:
    path = write(tmp_path, waiver(approved_on="2026-05-04", expires="2026-08-31"))
    report = review(ruleset, load_waivers(path, ruleset, as_of=AS_OF), BIOMETRICS)
    (r,) = report.reviews
    assert r.decision.value == "reject"
    f = finding(report, "DS-004")
    assert not f.waived
    assert f.waiver is not None
    assert f.waiver.status == "expired"
    assert r.counts.violations["high"] == 2
    assert report.waivers is not None
    assert [(u.id, u.status, u.findings) for u in report.waivers.waivers] == [("W-1", "expired", 1)]
    text = render(report, ruleset.domain_title)
    assert (
        "    waiver:    W-1 EXPIRED on 2026-08-31: this finding is open again (it was approved by"
        in text
    )
    assert "waivers " + str(path) + " as of 2026-11-21: 1 expired (W-1)" in text.replace(
        "\n  ", " "
    )


# ------------------------------------------------------------------------------ unused, not run


def test_a_waiver_that_matches_nothing_is_reported_unused(ruleset: RuleSet, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        waiver(id="W-unused", rule="ACC-007"),  # ACC-007 does not fire on this proposal
        waiver(id="W-elsewhere", proposal="HO-F4-LIBYA-LCG", rule="MON-004"),
    )
    report = review(ruleset, load_waivers(path, ruleset, as_of=AS_OF), BIOMETRICS)
    assert report.waivers is not None
    assert [(u.id, u.status, u.findings) for u in report.waivers.waivers] == [
        ("W-unused", "unused", 0),
        ("W-elsewhere", "proposal_not_reviewed", 0),
    ]
    assert report.reviews[0].decision.value == "reject"
    assert not any(f.waived for f in report.reviews[0].findings)


def test_the_cli_warns_of_unused_and_expired_waivers_on_stderr(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        waiver(id="W-unused", rule="ACC-007"),
        waiver(id="W-old", rule="DS-011", approved_on="2026-01-05", expires="2026-06-30"),
    )
    run = run_cli("review", BIOMETRICS, "--waivers", str(path), "--as-of", "2026-11-21")
    assert run.code == 3
    assert run.err.splitlines() == [
        *as_of_warning(),
        "waiver W-unused (ACC-007, HO-F3-BIOMETRIC-ID): matched no finding",
        "waiver W-old (DS-011, HO-F3-BIOMETRIC-ID): expired on 2026-06-30; its findings are "
        "open again",
    ]


def test_a_waiver_for_a_rule_this_run_does_not_select_is_reported_as_such(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, waiver())
    run = run_cli(
        "review", BIOMETRICS, "--waivers", str(path), "--domain", "monitoring", "--format", "json"
    )
    report = json.loads(run.out)
    assert [(u["id"], u["status"]) for u in report["waivers"]["waivers"]] == [
        ("W-1", "rule_not_run")
    ]


# ------------------------------------------------------------------------------------ blockers


def test_a_waiver_for_a_blocker_is_refused_by_default(ruleset: RuleSet, tmp_path: Path) -> None:
    path = write(tmp_path, waiver(rule="DS-003", proposal="HO-F1-ROHINGYA"))
    with pytest.raises(ConfigError) as caught:
        load_waivers(path, ruleset, as_of=AS_OF)
    assert caught.value.problems == [
        f"{path}: waiver W-1: DS-003 is a blocker; blockers can be waived only when the project "
        "config sets allow_blockers = true in [waivers] (a blocker marks a bar in law or a "
        "serious harm)"
    ]
    run = run_cli("review", REFUGEE, "--waivers", str(path))
    assert run.code == 2
    assert run.out == ""
    assert run.err.startswith(f"error: {path}: waiver W-1: DS-003 is a blocker;")


def test_a_blocker_is_waived_when_the_config_allows_it(ruleset: RuleSet, tmp_path: Path) -> None:
    path = write(tmp_path, waiver(rule="DS-003", proposal="HO-F1-ROHINGYA"))
    report = review(ruleset, load_waivers(path, ruleset, as_of=AS_OF, allow_blockers=True), REFUGEE)
    ds003 = finding(report, "DS-003", "HO-F1-ROHINGYA")
    assert ds003.waived
    assert report.waivers is not None
    assert report.waivers.allow_blockers is True
    # through a config file, as a project sets it
    (tmp_path / "compliance.toml").write_text(
        '[waivers]\nfile = "waivers.yaml"\nallow_blockers = true\n', encoding="utf-8"
    )
    run = run_cli(
        "review", str(ROOT / REFUGEE), "--format", "json", "--as-of", "2026-11-21", cwd=tmp_path
    )
    assert run.err.splitlines() == as_of_warning()
    data = json.loads(run.out)
    assert data["waivers"]["allow_blockers"] is True
    assert data["waivers"]["file"] == "waivers.yaml"
    waived = [f["rule_id"] for f in data["reviews"][0]["findings"] if f["waived"]]
    assert waived == ["DS-003"]


def test_a_blocker_raised_by_the_config_cannot_be_waived_either(tmp_path: Path) -> None:
    path = write(tmp_path, waiver(rule="MON-004"))
    (tmp_path / "compliance.toml").write_text(
        '[[rules.severity]]\nid = "MON-004"\nseverity = "blocker"\n'
        'reason = "The donor requires an independent evaluation."\n',
        encoding="utf-8",
    )
    run = run_cli("review", str(ROOT / BIOMETRICS), "--waivers", str(path), cwd=tmp_path)
    assert run.code == 2
    assert "waiver W-1: MON-004 is a blocker" in run.err


# ---------------------------------------------------------------------------------- path scope


@pytest.mark.parametrize(
    ("path", "waived"),
    [
        (None, True),
        ("data_sharing.flows[1]", True),
        ("data_sharing.flows", True),
        ("data_sharing", True),
        ("data_sharing.flows[0]", False),
        ("data_sharing.flows[10]", False),
        ("legal", False),
        (f'data_sharing.flows[recipient="{MYANMAR}"]', True),
        (f'data_sharing.flows[recipient="{MYANMAR}"].granularity', True),
        ('data_sharing.flows[recipient="  government of MYANMAR   (via Bangladesh)"]', True),
        ('data_sharing.flows[recipient="\uff27overnment of Myanmar (via Bangladesh)"]', False),
        (f'data_sharing.flows[recipient="{RRRC}"]', False),
        ('data_sharing.flows[recipient="Government of Myanmar"]', False),  # not a prefix
        (f'data_sharing.flows[recipient="{MYANMAR}"].purpose', False),  # not its evidence
    ],
)
def test_a_path_limits_the_waiver_to_findings_about_that_part(
    ruleset: RuleSet, tmp_path: Path, path: str | None, waived: bool
) -> None:
    file = write(tmp_path, waiver(rule="DS-003", proposal="HO-F1-ROHINGYA", path=path))
    report = review(ruleset, load_waivers(file, ruleset, as_of=AS_OF, allow_blockers=True), REFUGEE)
    ds003 = finding(report, "DS-003", "HO-F1-ROHINGYA")
    assert ds003.subject == "data_sharing.flows[1]"
    assert ds003.waived is waived


# ---------------------------------------------------------------------------------- validation

BAD = [
    ("unknown key", {"approver": "x"}, "waiver W-1: approver: unknown key"),
    (
        "no justification",
        {"justification": None},
        "waiver W-1: justification: required key is missing",
    ),
    (
        "a justification too short to be one",
        {"justification": "ok"},
        "waiver W-1: justification: String should have at least 20 characters",
    ),
    ("no approver", {"approved_by": None}, "waiver W-1: approved_by: required key is missing"),
    ("no expiry", {"expires": None}, "waiver W-1: expires: required key is missing"),
    (
        "a date that does not exist",
        {"expires": "2027-02-30"},
        "waiver W-1: expires: '2027-02-30' is not a real date",
    ),
    (
        "a date in another format",
        {"approved_on": "01/10/2026"},
        "waiver W-1: approved_on: '01/10/2026' is not a date; write it as YYYY-MM-DD",
    ),
    (
        "a number for a date",
        {"expires": 20270331},
        "waiver W-1: expires: 20270331 is not a date; write it as YYYY-MM-DD",
    ),
    (
        "expiry before approval",
        {"expires": "2026-09-30"},
        "waiver W-1: expires 2026-09-30 is before approved_on 2026-10-01",
    ),
    (
        "approved after the review date",
        {"approved_on": "2026-12-01"},
        "waiver W-1: approved_on 2026-12-01 is after the review date 2026-11-21",
    ),
    (
        "an unknown rule",
        {"rule": "DS-999"},
        "waiver W-1: rule: no such rule 'DS-999' in the loaded rules",
    ),
    (
        "a path that is no field",
        {"path": "data_sharing.flow[1]"},
        "waiver W-1: path 'data_sharing.flow[1]': no such field in a proposal (see docs/fields.md)",
    ),
    (
        "a path that is not a path",
        {"path": "data_sharing/flows"},
        "waiver W-1: path 'data_sharing/flows' is not a field path (e.g. "
        'data_sharing.flows[1].purpose or data_sharing.flows[recipient="National Police"])',
    ),
    (
        "a selector on a field the items do not have",
        {"path": 'data_sharing.flows[name="Police"]'},
        "waiver W-1: path 'data_sharing.flows[name=\"Police\"]': the items of data_sharing.flows "
        "have no field 'name'",
    ),
    (
        "a selector on a number",
        {"path": 'data_sharing.flows[retention_days="30"]'},
        "waiver W-1: path 'data_sharing.flows[retention_days=\"30\"]': "
        "data_sharing.flows[].retention_days is number; an item is named by a text field (a "
        "name, a recipient)",
    ),
    (
        "a selector on a choice, which sorts items rather than names one",
        {"path": 'data_sharing.flows[granularity="individual"]'},
        "waiver W-1: path 'data_sharing.flows[granularity=\"individual\"]': "
        "data_sharing.flows[].granularity is choice; an item is named by a text field (a name, "
        "a recipient)",
    ),
    (
        "a selector with an escape JSON does not have",
        {"path": r'parties[name="C:\Users\x"]'},
        "waiver W-1: path 'parties[name=\"C:\\\\Users\\\\x\"]' is not a field path",
    ),
    (
        "a selector with an escaped control character",
        {"path": 'parties[name="\\u001b[2JPolice"]'},
        "waiver W-1: path 'parties[name=\"\\\\u001b[2JPolice\"]': a selector's value contains "
        "control characters",
    ),
    (
        "a selector on a section",
        {"path": 'human_rights[risk="x"]'},
        "waiver W-1: path 'human_rights[risk=\"x\"]': human_rights is not a table (a list of "
        "items)",
    ),
    (
        "a selector with an empty value",
        {"path": 'parties[name=" "]'},
        "waiver W-1: path 'parties[name=\" \"]': a selector needs a value",
    ),
    (
        "a selector without quotes",
        {"path": "parties[name=Police]"},
        "waiver W-1: path 'parties[name=Police]' is not a field path",
    ),
    (
        "an id with spaces",
        {"id": "W 1"},
        "waiver W 1: id: 'W 1' is not a waiver id: use letters, digits and . _ : / - (at most 64 "
        "characters), starting with a letter or digit",
    ),
    ("a rule id that is not text", {"rule": 4}, "waiver W-1: rule: Input should be a valid string"),
]


@pytest.mark.parametrize(
    ("change", "expected"), [(c, e) for _, c, e in BAD], ids=[n for n, _, _ in BAD]
)
def test_a_bad_waiver_is_an_error_naming_the_file_and_the_waiver(
    ruleset: RuleSet, tmp_path: Path, change: dict[str, object], expected: str
) -> None:
    entry = waiver()
    for key, value in change.items():
        if value is None:
            entry.pop(key)
        else:
            entry[key] = value
    path = write(tmp_path, entry)
    with pytest.raises(ConfigError) as caught:
        load_waivers(path, ruleset, as_of=AS_OF)
    (problem,) = caught.value.problems
    assert problem.startswith(f"{path}: {expected}")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "empty; a waivers file starts with 'version: 1'"),
        ("waivers: []\n", "version: required key is missing"),
        ("version: 2\nwaivers: []\n", "version: Input should be 1"),
        ("version: 1\nwaivers: {}\n", "waivers: Input should be a valid list"),
        (
            "- rule: DS-004\n",
            "(waiver): Input should be a valid dictionary or instance of WaiversFile",
        ),
        ("version: 1\nversion: 1\nwaivers: []\n", ":2:1: invalid YAML: duplicate key 'version'"),
        ("version: 1\nwaivers: [\n", ":3:1: invalid YAML:"),
    ],
)
def test_a_bad_waivers_file_is_an_error(
    ruleset: RuleSet, tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "waivers.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_waivers(path, ruleset, as_of=AS_OF)
    (problem,) = caught.value.problems
    sep = "" if expected.startswith(":") else ": "
    assert problem.startswith(f"{path}{sep}{expected}")


def test_every_problem_is_reported_at_once(ruleset: RuleSet, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        waiver(),
        waiver(),  # the same id, and the same rule and proposal
        waiver(id="W-3", rule="DS-999"),
    )
    with pytest.raises(ConfigError) as caught:
        load_waivers(path, ruleset, as_of=AS_OF)
    assert caught.value.problems == [
        f"{path}: waiver W-1: the id is used twice",
        f"{path}: waiver W-1: another waiver has the same rule, proposal and path (DS-004, "
        "HO-F3-BIOMETRIC-ID, no path)",
        f"{path}: waiver W-3: rule: no such rule 'DS-999' in the loaded rules",
    ]


def test_a_missing_waivers_file_exits_2(tmp_path: Path) -> None:
    run = run_cli("review", BIOMETRICS, "--waivers", str(tmp_path / "nope.yaml"))
    assert (run.code, run.out) == (2, "")
    assert run.err == f"error: {tmp_path / 'nope.yaml'}: no such file\n"


# ------------------------------------------------------------------ reports, records, fixture


def test_the_gate_fixture_shows_applied_expired_unused_and_not_reviewed() -> None:
    run = run_cli(
        "review", str(ROOT / BIOMETRICS), "--format", "json", "--as-of", "2026-11-21", cwd=GATE
    )
    assert run.code == 3
    report = json.loads(run.out)
    assert report["report_version"] == "1.5"
    assert report["domain_thresholds"] == {"monitoring": "medium"}
    assert [(u["id"], u["status"]) for u in report["waivers"]["waivers"]] == [
        ("W-2026-031", "applied"),
        ("W-2026-019", "expired"),
        ("W-2026-033", "unused"),
        ("W-2026-027", "proposal_not_reviewed"),
    ]
    findings = {f["rule_id"]: f for f in report["reviews"][0]["findings"]}
    assert findings["DS-004"]["waived"] is True
    assert findings["DS-011"]["waiver"]["status"] == "expired"
    assert run.err.splitlines() == [
        *as_of_warning(),
        "waiver W-2026-019 (DS-011, HO-F3-BIOMETRIC-ID): expired on 2026-08-31; its findings "
        "are open again",
        "waiver W-2026-033 (ACC-007, HO-F3-BIOMETRIC-ID): matched no finding",
    ]


def test_records_carry_the_waivers_applied(tmp_path: Path) -> None:
    path = write(tmp_path, waiver())
    records = tmp_path / "records"
    run = run_cli(
        "review",
        BIOMETRICS,
        "--waivers",
        str(path),
        "--as-of",
        "2026-11-21",
        "--record",
        str(records),
    )
    assert run.code == 3
    (record_file,) = sorted(records.glob("*.json"))
    record = json.loads(record_file.read_text(encoding="utf-8"))
    assert record["record_version"] == "1.2"
    assert record["waivers"]["file"] == str(path)
    assert record["waivers"]["as_of"] == "2026-11-21"
    assert record["waivers"]["sha256"].startswith("sha256:")
    assert record["waivers_applied"] == [
        {
            "id": "W-1",
            "rule_id": "DS-004",
            "subject": None,
            "approved_by": "Amina Diallo, General Counsel",
            "approved_on": "2026-10-01",
            "expires": "2027-03-31",
        }
    ]
    assert verify(records).problem is None


def test_markdown_and_text_mark_waived_findings(tmp_path: Path) -> None:
    path = write(tmp_path, waiver())
    args = ("review", BIOMETRICS, "--waivers", str(path), "--as-of", "2026-11-21")
    text = run_cli(*args).out
    assert "  [HIGH] DS-004  " in text
    assert "(VIOLATION, WAIVED)" in text
    assert (
        "    waived:    W-1, approved by Amina Diallo, General Counsel on 2026-10-01, in force"
        in text
    )
    assert "1 waived (1 high)" in text
    memo = run_cli(*args, "--format", "markdown").out
    assert "(violation, waived)" in memo
    assert "  - Waived: W-1, approved by Amina Diallo, General Counsel on 2026-10-01" in memo
    assert (
        "| `W-1` | DS-004 | `HO-F3-BIOMETRIC-ID` | Amina Diallo, General Counsel | 2027-03-31 | applied | 1 |"
        in memo
    )


def test_waivers_text_needs_no_yaml_knowledge(tmp_path: Path, ruleset: RuleSet) -> None:
    """The documented example, written as people write YAML (unquoted dates, folded text)."""
    path = tmp_path / "waivers.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            version: 1
            waivers:
              - id: W-2026-014
                rule: ds-004
                proposal: HO-F3-BIOMETRIC-ID
                justification: >-
                  The impact assessment is scheduled with the ministry's data protection officer.
                approved_by: Amina Diallo, General Counsel
                approved_on: 2026-10-01
                expires: 2027-03-31
            """
        ),
        encoding="utf-8",
    )
    loaded = load_waivers(path, ruleset, as_of=AS_OF)
    (w,) = loaded.items
    assert (w.rule_id, w.approved_on, w.expires) == ("DS-004", date(2026, 10, 1), date(2027, 3, 31))


# ------------------------------------------------------- found by an adversarial review


def test_an_unanswered_question_is_not_waived_by_a_waiver_for_the_violation(
    ruleset: RuleSet, tmp_path: Path
) -> None:
    """A waiver accepts what was seen; when the answer is removed, the question stays open."""
    data = json.loads((ROOT / BIOMETRICS).read_text(encoding="utf-8"))
    del data["data_sharing"]["impact_assessment"]["status"]
    proposal = tmp_path / "p.json"
    proposal.write_text(json.dumps(data), encoding="utf-8")
    path = write(tmp_path, waiver())
    items = read_proposals([str(proposal)])
    with Reviewer(
        ruleset, engine="reference", waivers=load_waivers(path, ruleset, as_of=AS_OF)
    ) as reviewer:
        report = reviewer.report([reviewer.review(items[0].proposal)])
    ds004 = finding(report, "DS-004")
    assert ds004.outcome == "needs_information"
    assert not ds004.waived
    assert ds004.waiver is None


def test_the_most_specific_waiver_applies_and_the_others_are_superseded(
    ruleset: RuleSet, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        waiver(id="W-broad", rule="DS-003", proposal="HO-F1-ROHINGYA"),
        waiver(id="W-flow", rule="DS-003", proposal="HO-F1-ROHINGYA", path="data_sharing.flows[1]"),
        waiver(id="W-section", rule="DS-003", proposal="HO-F1-ROHINGYA", path="data_sharing"),
    )
    report = review(ruleset, load_waivers(path, ruleset, as_of=AS_OF, allow_blockers=True), REFUGEE)
    ds003 = finding(report, "DS-003", "HO-F1-ROHINGYA")
    assert ds003.waiver is not None
    assert ds003.waiver.id == "W-flow"
    assert ds003.waiver.superseded == ["W-broad", "W-section"]
    assert report.waivers is not None
    assert [(u.id, u.status) for u in report.waivers.waivers] == [
        ("W-broad", "superseded"),
        ("W-flow", "applied"),
        ("W-section", "superseded"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("expires: 2027-02-29", "8:14: invalid YAML: expires: 2027-02-29 is not a real date"),
        (
            "approved_on: 2026-13-01",
            "8:18: invalid YAML: approved_on: 2026-13-01 is not a real date",
        ),
    ],
)
def test_an_unquoted_date_that_does_not_exist_is_an_input_error(
    tmp_path: Path, text: str, expected: str
) -> None:
    entry = "\n".join(
        f"    {k}: {v}" for k, v in waiver().items() if k not in ("expires", "approved_on")
    )
    path = tmp_path / "w.yaml"
    path.write_text(f"version: 1\nwaivers:\n  - {entry.strip()}\n    {text}\n", encoding="utf-8")
    run = run_cli("review", BIOMETRICS, "--waivers", str(path))
    assert (run.code, run.out) == (2, "")
    assert run.err == f"error: {path}:{expected}\n"  # the line, column and key named


def test_a_waivers_file_read_from_a_pipe_is_hashed_as_read(tmp_path: Path) -> None:
    path = write(tmp_path, waiver())
    script = (
        f"{sys.executable} -m compliance review {ROOT / BIOMETRICS} --format json "
        f"--waivers <(cat {path})"
    )
    proc = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, check=False, cwd=ROOT
    )
    report = json.loads(proc.stdout)
    assert report["waivers"]["sha256"] == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"id": "w-1"}, "waiver w-1: the id is used twice"),
        ({"path": "data_sharing.flows[01]"}, "is not a field path"),
        ({"proposal": "HO F3 \u0406D"}, "waiver W-2: proposal: String should match pattern"),
        (
            {"approved_by": "Amina\x1b[2K Diallo"},
            "waiver W-2: approved_by: contains control characters",
        ),
    ],
)
def test_stricter_fields(
    ruleset: RuleSet, tmp_path: Path, change: dict[str, object], expected: str
) -> None:
    second = waiver(id="W-2", rule="DS-011") | change
    path = write(tmp_path, waiver(), second)
    with pytest.raises(ConfigError) as caught:
        load_waivers(path, ruleset, as_of=AS_OF)
    assert any(expected in p for p in caught.value.problems), caught.value.problems


def test_version_must_be_the_number_1(ruleset: RuleSet, tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text("version: true\nwaivers: []\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        load_waivers(path, ruleset, as_of=AS_OF)


def test_as_of_is_refused_after_today_and_announced_before_it(tmp_path: Path) -> None:
    path = write(tmp_path, waiver())
    future = run_cli("review", BIOMETRICS, "--waivers", str(path), "--as-of", "2999-01-01")
    assert future.code == 2
    assert future.err.startswith("error: --as-of 2999-01-01: a day after today")
    past = run_cli("review", BIOMETRICS, "--waivers", str(path), "--as-of", "2026-10-02")
    assert past.err.splitlines()[-1] == (
        "--as-of 2026-10-02: the rules in force and the waivers were judged as of that day, "
        "not today; the decisions hold for that day"
    )


def test_a_blocker_the_config_lowered_stays_waivable_in_a_narrowed_run(tmp_path: Path) -> None:
    write(tmp_path, waiver(rule="DS-003", proposal="HO-F1-ROHINGYA"))
    (tmp_path / "compliance.toml").write_text(
        '[waivers]\nfile = "waivers.yaml"\n\n[[rules.severity]]\nid = "DS-003"\n'
        'severity = "high"\nreason = "The board judges onward transfer case by case."\n'
        "downgrade_blocker = true\n",
        encoding="utf-8",
    )
    for extra in ([], ["--domain", "accountability"], ["--skip-rule", "DS-003"]):
        run = run_cli("config", "show", *extra, cwd=tmp_path)
        assert run.code == 0, run.err


def refugee_flows(tmp_path: Path, change: Callable[[list[dict[str, Any]]], None]) -> Path:
    """HO-F1-ROHINGYA with its flows changed by ``change``, written to a file."""
    data = json.loads((ROOT / REFUGEE).read_text(encoding="utf-8"))
    change(data["data_sharing"]["flows"])
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(data), encoding="utf-8")
    return changed


def to_myanmar(**fields: object) -> dict[str, object]:
    """A waiver of DS-003 for HO-F1-ROHINGYA's flow to the Government of Myanmar, by name."""
    return waiver(
        rule="DS-003",
        proposal="HO-F1-ROHINGYA",
        path=f'data_sharing.flows[recipient="{MYANMAR}"]',
        **fields,
    )


def review_allowing_blockers(ruleset: RuleSet, waivers_file: Path, proposal: Path) -> Report:
    waivers = load_waivers(waivers_file, ruleset, as_of=AS_OF, allow_blockers=True)
    return review(ruleset, waivers, str(proposal))


def test_a_selector_follows_its_item_when_the_list_is_reordered_and_a_position_does_not(
    ruleset: RuleSet, tmp_path: Path
) -> None:
    def swap(flows: list[dict[str, Any]]) -> None:
        flows[:] = [flows[1], flows[0]]  # the Myanmar flow is now flows[0]

    path = write(
        tmp_path,
        waiver(id="W-pos", rule="DS-003", proposal="HO-F1-ROHINGYA", path="data_sharing.flows[1]"),
        to_myanmar(id="W-item"),
    )
    report = review_allowing_blockers(ruleset, path, refugee_flows(tmp_path, swap))
    ds003 = finding(report, "DS-003", "HO-F1-ROHINGYA")
    assert ds003.subject == "data_sharing.flows[0]"
    assert (ds003.waived, ds003.waiver and ds003.waiver.id) == (True, "W-item")
    assert report.waivers is not None
    assert [(u.id, u.status) for u in report.waivers.waivers] == [
        ("W-pos", "unused"),
        ("W-item", "applied"),
    ]


def test_a_selector_whose_item_is_gone_waives_nothing(ruleset: RuleSet, tmp_path: Path) -> None:
    def rename(flows: list[dict[str, Any]]) -> None:
        flows[1]["recipient"] = "Government of Myanmar, Ministry of Immigration"

    path = write(tmp_path, to_myanmar())
    report = review_allowing_blockers(ruleset, path, refugee_flows(tmp_path, rename))
    ds003 = finding(report, "DS-003", "HO-F1-ROHINGYA")
    assert (ds003.waived, ds003.waiver) == (False, None)
    assert report.reviews[0].decision == "reject"
    assert report.waivers is not None
    assert [(u.id, u.status) for u in report.waivers.waivers] == [("W-1", "unused")]


class _Clock(datetime):
    """A UTC clock that reads 23:59:59 on 2026-11-21 the first time and a second later after."""

    reads = 0

    @classmethod
    def now(cls, tz: Any = None) -> Any:  # type: ignore[override]
        cls.reads += 1
        moment = datetime(2026, 11, 21, 23, 59, 59) if cls.reads == 1 else datetime(2026, 11, 22)
        return moment.replace(tzinfo=tz)


def test_a_run_without_as_of_that_crosses_midnight_announces_no_as_of(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import compliance.cli
    import compliance.commands.review
    import compliance.gate.settings

    # the datetime module, once
    assert compliance.gate.settings.dt is compliance.commands.review.datetime
    monkeypatch.setattr(compliance.commands.review.datetime, "datetime", _Clock)
    path = write(tmp_path, waiver())
    args = ["review", str(ROOT / BIOMETRICS), "--waivers", str(path), "--no-config"]
    with pytest.raises(SystemExit) as exited:
        compliance.cli.main([*args, "--format", "json"])
    assert exited.value.code == 3
    out, err = capsys.readouterr()
    assert json.loads(out)["waivers"]["as_of"] == "2026-11-21"  # the day the run began
    assert err == ""  # and no word of --as-of, which was not given


def test_a_selector_that_names_several_items_is_an_error_not_a_wider_waiver(
    ruleset: RuleSet, tmp_path: Path
) -> None:
    def add(flows: list[dict[str, Any]]) -> None:
        flows.append({**flows[1], "purpose": "Biometric verification before return"})

    added = refugee_flows(tmp_path, add)
    path = write(tmp_path, to_myanmar())
    with pytest.raises(ConfigError) as caught:
        review_allowing_blockers(ruleset, path, added)
    assert caught.value.problems == [
        f"{path}: waiver W-1: path 'data_sharing.flows[recipient=\"{MYANMAR}\"]' names 2 items "
        "of HO-F1-ROHINGYA (data_sharing.flows[1], data_sharing.flows[2]); a waiver accepts the "
        "risk of one item: name it by a field that tells it apart, or by position"
    ]
    (tmp_path / "compliance.toml").write_text(
        '[waivers]\nfile = "waivers.yaml"\nallow_blockers = true\n', encoding="utf-8"
    )
    run = run_cli("review", str(added), "--as-of", "2026-11-21", cwd=tmp_path)
    assert (run.code, run.out) == (2, "")
    assert run.err.splitlines()[-1].startswith("error: waivers.yaml: waiver W-1: path ")


def test_paths_that_name_the_same_item_are_the_same_waiver(
    ruleset: RuleSet, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        waiver(id="W-a", rule="DS-003", path=f'data_sharing.flows[recipient="{MYANMAR}"]'),
        waiver(
            id="W-b",
            rule="DS-003",
            path='data_sharing.flows[recipient="GOVERNMENT  OF MYANMAR (VIA \\u0042ANGLADESH)"]',
        ),
    )
    with pytest.raises(ConfigError) as caught:
        load_waivers(path, ruleset, as_of=AS_OF, allow_blockers=True)
    (problem,) = caught.value.problems
    assert problem.startswith(
        f"{path}: waiver W-b: another waiver has the same rule, proposal and path (DS-003, "
    )


@pytest.mark.parametrize("selector_first", [True, False])
def test_between_a_selector_and_a_position_for_one_item_the_selector_applies(
    ruleset: RuleSet, tmp_path: Path, selector_first: bool
) -> None:
    by_item = waiver(
        id="W-item",
        rule="DS-003",
        proposal="HO-F1-ROHINGYA",
        path=f'data_sharing.flows[recipient="{MYANMAR}"]',
    )
    by_position = waiver(
        id="W-pos", rule="DS-003", proposal="HO-F1-ROHINGYA", path="data_sharing.flows[1]"
    )
    entries = (by_item, by_position) if selector_first else (by_position, by_item)
    path = write(tmp_path, *entries)
    report = review(ruleset, load_waivers(path, ruleset, as_of=AS_OF, allow_blockers=True), REFUGEE)
    ds003 = finding(report, "DS-003", "HO-F1-ROHINGYA")
    assert ds003.waiver is not None
    assert (ds003.waiver.id, ds003.waiver.superseded) == ("W-item", ["W-pos"])


def test_a_waiver_made_in_code_keeps_its_path(ruleset: RuleSet) -> None:
    from compliance.review.waivers import Waiver

    fields: dict[str, Any] = {
        "id": "W-api",
        "rule_id": "DS-016",
        "proposal_id": "HO-F1-ROHINGYA",
        "justification": JUSTIFICATION,
        "approved_by": "Amina Diallo, General Counsel",
        "approved_on": date(2026, 10, 1),
        "expires": date(2027, 3, 31),
        "origin": "code",
    }
    with pytest.raises(ValueError, match="is not a field path"):
        Waiver(path="data_sharing/flows", **fields)
    scoped = Waiver(path="data_sharing.flows[1]", **fields)  # DS-016 fires on flows[0]
    waivers = Waivers("code", "0" * 64, AS_OF, False, (scoped,))
    report = review(ruleset, waivers, REFUGEE)
    assert finding(report, "DS-016", "HO-F1-ROHINGYA").waived is False
