"""``compliance rules impact``: the bundled fixtures reviewed with a baseline rule set and with
the current rules, compared."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]
import pytest

from compliance import Reviewer, load_rules
from compliance.batch.impact import baseline_rules, impact
from compliance.batch.impact_model import (
    DecisionChange,
    FindingChange,
    FindingRef,
    ImpactReport,
    LogReplay,
    RuleChanges,
    RuleImpact,
    impact_schema,
)
from compliance.batch.impact_render import render
from compliance.batch.windows import PARALLEL_MIN
from compliance.errors import UsageError
from compliance.intake.proposals import read_proposals
from compliance.review.findings import Decision
from compliance.rules.ruleset import RuleSet
from compliance.rules.spec import Severity
from compliance.rules.tuning import Selection
from compliance.service.decision_log import DecisionLog
from tests.conftest import FIXTURES, ROOT, run_cli
from tests.test_decision_log import Backend, _postgres
from tests.test_decision_log_kept import served

RULES = ROOT / "rules"
TODAY = dt.datetime.now(dt.timezone.utc).date()
FILES = sorted(str(p.relative_to(ROOT)) for p in FIXTURES.glob("*.json"))
A = Decision.approve
AC = Decision.approve_with_conditions
NI = Decision.needs_information
R = Decision.reject


def _blocks(path: Path) -> list[str]:
    return re.split(r"(?m)^(?=  - id: )", path.read_text(encoding="utf-8"))


def edited(target: Path, rule_id: str, edit: str = "delete", new_id: str = "") -> Path:
    """A copy of the built-in rules in ``target`` with rule ``rule_id`` deleted, its severity
    raised from medium to high ("raise"), or copied under ``new_id`` ("copy")."""
    shutil.copytree(RULES, target)
    for path in sorted(target.glob("*.yaml")):
        blocks = _blocks(path)
        for i, block in enumerate(blocks):
            if not block.startswith(f"  - id: {rule_id}\n"):
                continue
            if edit == "delete":
                blocks[i] = ""
            elif edit == "raise":
                assert block.count("    severity: medium\n") == 1
                blocks[i] = block.replace("    severity: medium\n", "    severity: high\n")
            else:
                blocks.append(block.replace(f"  - id: {rule_id}\n", f"  - id: {new_id}\n"))
            path.write_text("".join(blocks), encoding="utf-8")
            return target
    raise AssertionError(f"{rule_id}: not in the built-in rules")


@pytest.fixture(scope="module")
def current() -> Iterator[Reviewer]:
    with Reviewer(load_rules(), engine="reference") as reviewer:
        yield reviewer


def compared(current: Reviewer, base: RuleSet, paths: list[str] = FILES) -> ImpactReport:
    with Reviewer(base, engine="reference") as baseline:
        return impact(current, baseline, paths, jobs=1)


def fired_on(reviewer: Reviewer, rule_id: str) -> list[tuple[str, Decision]]:
    """Independently: the fixtures whose review by ``reviewer`` has a finding of ``rule_id``,
    in input order, with their decisions."""
    return fired_on_paths(reviewer, rule_id, FILES)


def fired_on_paths(
    reviewer: Reviewer, rule_id: str, paths: list[str]
) -> list[tuple[str, Decision]]:
    reviews = [reviewer.review(item.proposal) for item in read_proposals(paths)]
    return [
        (r.proposal_id, r.decision) for r in reviews if rule_id in {f.rule_id for f in r.findings}
    ]


def test_a_baseline_without_one_rule_names_exactly_the_proposals_it_fires_on(
    tmp_path: Path, current: Reviewer
) -> None:
    base = baseline_rules([edited(tmp_path / "base", "ACC-054")], Selection())
    assert len(base.rules) == len(current.ruleset.rules) - 1
    report = compared(current, base)

    fires = fired_on(current, "ACC-054")
    with Reviewer(base, engine="reference") as before:
        earlier = {
            item.proposal.id: before.review(item.proposal).decision
            for item in read_proposals(FILES)
        }
    ids = [pid for pid, _ in fires]
    assert ids == ["PRP-2026-213", "PRP-2026-207", "PRP-2026-204", "PRP-2026-205"]
    assert report.rule_changes == RuleChanges(added=["ACC-054"], removed=[], changed=[])
    assert report.rules == [
        RuleImpact(
            rule_id="ACC-054",
            status="added",
            newly_fires=4,
            stops_firing=0,
            changed=0,
            newly_fires_on=ids,
            stops_firing_on=[],
            changed_on=[],
        )
    ]
    assert [p.proposal_id for p in report.proposals] == ids
    assert [(p.decision_before, p.decision_after) for p in report.proposals] == [
        (earlier[pid], after) for pid, after in fires
    ]
    assert [(p.decision_before, p.decision_after) for p in report.proposals] == [
        (A, AC),
        (R, R),
        (R, R),
        (R, R),
    ]
    assert [(p.added, p.removed, p.changed) for p in report.proposals] == [
        ([FindingRef(rule_id="ACC-054", item=None, outcome="violation", severity=s)], [], [])
        for s in (Severity.medium, Severity.medium, Severity.high, Severity.high)
    ]
    s = report.summary
    assert (s.proposals, s.decided_differently, s.findings_differ, s.unchanged) == (56, 1, 4, 52)
    assert s.decisions == [
        DecisionChange(before=A, after=A, proposals=6),
        DecisionChange(before=A, after=AC, proposals=1),
        DecisionChange(before=AC, after=AC, proposals=14),
        DecisionChange(before=NI, after=NI, proposals=2),
        DecisionChange(before=R, after=R, proposals=33),
    ]


def test_the_text_report_of_a_removed_rule(tmp_path: Path) -> None:
    base = edited(tmp_path / "base", "ACC-054")
    result = run_cli("rules", "impact", "fixtures", "--baseline", str(base), "--no-config")
    old, new = load_rules([base], builtin=False), load_rules()
    assert (result.code, result.err) == (0, "")
    assert result.out == (
        "Impact of the rule change\n"
        f"  baseline: compliance-core 2.0.0, 124 rules, {old.hash[:19]}\n"
        f"  current:  compliance-core 2.0.0, 125 rules, {new.hash[:19]}\n"
        f"Rules in force on {TODAY}: added ACC-054; removed none; changed none\n"
        "56 proposals reviewed with both: 1 decided differently, 4 with different findings, "
        "52 unchanged\n"
        "\n"
        "Decisions (before -> after: proposals):\n"
        "  approve -> approve: 6 (unchanged)\n"
        "  approve -> approve with conditions: 1\n"
        "  approve with conditions -> approve with conditions: 14 (unchanged)\n"
        "  needs information -> needs information: 2 (unchanged)\n"
        "  reject -> reject: 33 (unchanged)\n"
        "\n"
        "Proposals that differ:\n"
        "  PRP-2026-213 (fixtures/exemplary-technology-border-identity-due-diligence.json): "
        "approve -> approve with conditions\n"
        "    + ACC-054: violation, medium\n"
        "  PRP-2026-207 (fixtures/flawed-accountability-sea-interception-no-remedy.json): "
        "reject (decision unchanged)\n"
        "    + ACC-054: violation, medium\n"
        "  PRP-2026-204 (fixtures/flawed-data-sharing-suspect-data-without-caveats.json): "
        "reject (decision unchanged)\n"
        "    + ACC-054: violation, high\n"
        "  PRP-2026-205 (fixtures/flawed-humanitarian-principles-outreach-cover-collection.json): "
        "reject (decision unchanged)\n"
        "    + ACC-054: violation, high\n"
        "\n"
        "Rules whose findings differ:\n"
        "  ACC-054 (added): newly fires on 4: PRP-2026-213, PRP-2026-207, PRP-2026-204, "
        "PRP-2026-205\n"
    )


def test_a_severity_change_regrades_the_findings_and_the_decisions(
    tmp_path: Path, current: Reviewer
) -> None:
    base = baseline_rules([edited(tmp_path / "base", "ACC-010", "raise")], Selection())
    report = compared(current, base)
    assert report.rule_changes == RuleChanges(added=[], removed=[], changed=["ACC-010"])
    assert [p.model_dump(mode="json") for p in report.proposals] == [
        {
            "proposal_id": "PRP-2026-063",
            "source": "fixtures/exemplary-counter-narcotics.json",
            "decision_before": "reject",
            "decision_after": "approve_with_conditions",
            "added": [],
            "removed": [],
            "changed": [
                FindingChange(
                    rule_id="ACC-010",
                    item="security_units[1]",
                    outcome_before="violation",
                    outcome_after="violation",
                    severity_before=Severity.high,
                    severity_after=Severity.medium,
                ).model_dump(mode="json")
            ],
        },
        {
            "proposal_id": "PRP-2026-047",
            "source": "fixtures/incomplete-coast-guard-training.json",
            "decision_before": "needs_information",
            "decision_after": "needs_information",
            "added": [],
            "removed": [],
            "changed": [
                {
                    "rule_id": "ACC-010",
                    "item": "security_units[0]",
                    "outcome_before": "needs_information",
                    "outcome_after": "needs_information",
                    "severity_before": "high",
                    "severity_after": "medium",
                }
            ],
        },
    ]
    assert [(pid, d) for pid, d in fired_on(current, "ACC-010")] == [
        ("PRP-2026-063", AC),
        ("PRP-2026-047", NI),
    ]
    assert report.rules == [
        RuleImpact(
            rule_id="ACC-010",
            status="changed",
            newly_fires=0,
            stops_firing=0,
            changed=2,
            newly_fires_on=[],
            stops_firing_on=[],
            changed_on=["PRP-2026-063", "PRP-2026-047"],
        )
    ]
    assert report.summary.decided_differently == 1
    assert (
        "  PRP-2026-063 (fixtures/exemplary-counter-narcotics.json): reject -> approve with "
        "conditions\n    ~ ACC-010 security_units[1]: high -> medium\n" in render("text", report)
    )


def test_a_rule_only_in_the_baseline_stops_firing(tmp_path: Path, current: Reviewer) -> None:
    base = baseline_rules([edited(tmp_path / "base", "ACC-054", "copy", "ACC-999")], Selection())
    report = compared(current, base)
    ids = ["PRP-2026-213", "PRP-2026-207", "PRP-2026-204", "PRP-2026-205"]
    assert report.rule_changes == RuleChanges(added=[], removed=["ACC-999"], changed=[])
    assert report.rules == [
        RuleImpact(
            rule_id="ACC-999",
            status="removed",
            newly_fires=0,
            stops_firing=4,
            changed=0,
            newly_fires_on=[],
            stops_firing_on=ids,
            changed_on=[],
        )
    ]
    assert [[f.rule_id for f in p.removed] for p in report.proposals] == [["ACC-999"]] * 4
    assert report.summary.decided_differently == 0  # ACC-054 still fires on each


def test_identical_rule_sets_change_nothing(tmp_path: Path, current: Reviewer) -> None:
    shutil.copytree(RULES, tmp_path / "base")
    report = compared(current, baseline_rules([tmp_path / "base"], Selection()))
    assert report.baseline.hash == report.current.hash
    assert (report.proposals, report.rules) == ([], [])
    assert report.rule_changes == RuleChanges(added=[], removed=[], changed=[])
    assert report.summary.unchanged == report.summary.proposals == 56
    assert all(d.before is d.after for d in report.summary.decisions)
    assert render("markdown", report).endswith(
        "## Proposals that differ\n\nNone.\n\n## Rules whose findings differ\n\nNone.\n"
    )


def test_the_config_selection_narrows_both_rule_sets(tmp_path: Path, current: Reviewer) -> None:
    base = edited(tmp_path / "base", "ACC-054")
    # --rule ACC-054 --domain monitoring: the baseline has the domain but not the rule
    narrowed = baseline_rules([base], Selection(rules=("ACC-054",), domains=("monitoring",)))
    assert {r.domain for r in narrowed.rules} == {"monitoring"}
    with pytest.raises(UsageError) as caught:
        baseline_rules([base], Selection(rules=("ACC-054",)))
    assert str(caught.value) == (
        "--baseline: the baseline has none of the rules or domains selected (--rule, --domain); "
        "nothing to compare"
    )


def test_invalid_input_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    base = str(tmp_path)
    shutil.copytree(RULES, tmp_path / "base")
    result = run_cli(
        "rules", "impact", FILES[0], str(bad), "--baseline", str(tmp_path / "base"), "--no-config"
    )
    assert (result.code, result.out) == (2, "")
    assert result.err == (
        f"error: {bad}:1:2: not valid JSON: Expecting property name enclosed in double quotes\n"
    )
    missing = run_cli("rules", "impact", FILES[0], "--baseline", f"{base}/none", "--no-config")
    assert (missing.code, missing.out) == (2, "")
    assert missing.err.endswith(
        f"Error: Invalid value for '--baseline': Directory '{base}/none' does not exist.\n"
    )
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "x.yaml").write_text("domain: monitoring\nrules: 3\n", encoding="utf-8")
    rules_error = run_cli("rules", "impact", FILES[0], "--baseline", str(broken), "--no-config")
    assert (rules_error.code, rules_error.out) == (5, "")


def test_the_json_report_validates_against_its_schema(tmp_path: Path) -> None:
    base = edited(tmp_path / "base", "ACC-010", "raise")
    out = tmp_path / "impact.json"
    result = run_cli(
        "rules", "impact", "fixtures", "--baseline", str(base), "--no-config",
        "--format", "json", "-o", str(out),
    )  # fmt: skip
    assert (result.code, result.out, result.err) == (0, "", "")
    schema = json.loads((ROOT / "docs" / "impact.schema.json").read_text(encoding="utf-8"))
    assert schema == impact_schema()
    document = json.loads(out.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(document)
    assert document["impact_version"] == "1.1"
    assert document["decision_log"] is None
    assert document["rule_changes"] == {"added": [], "removed": [], "changed": ["ACC-010"]}
    assert [p["proposal_id"] for p in document["proposals"]] == ["PRP-2026-063", "PRP-2026-047"]


def test_results_do_not_depend_on_the_number_of_jobs(tmp_path: Path, current: Reviewer) -> None:
    from benchmarks.synth import generate

    register = tmp_path / "register.jsonl"
    register.write_text(
        "".join(p.model_dump_json() + "\n" for p in generate(PARALLEL_MIN)), encoding="utf-8"
    )
    base = baseline_rules([edited(tmp_path / "base", "ACC-010", "raise")], Selection())
    with Reviewer(base, engine="reference") as baseline:
        one = impact(current, baseline, [str(register)], jobs=1)
        two = impact(current, baseline, [str(register)], jobs=2)
    assert one == two
    assert one.summary.proposals == PARALLEL_MIN
    assert one.rules[0].rule_id == "ACC-010"
    assert one.rules[0].changed > 0


def test_workbooks_are_read_as_review_reads_them(tmp_path: Path, current: Reviewer) -> None:
    book = str(FIXTURES / "workbooks" / "register.xlsx")
    base = baseline_rules([edited(tmp_path / "base", "ACC-010", "raise")], Selection())
    report = compared(current, base, [book])
    expected = [pid for pid, _ in fired_on_paths(current, "ACC-010", [book])]
    assert expected == ["PRP-2026-047"]
    assert report.summary.proposals == len(read_proposals([book])) == 3
    assert [p.proposal_id for p in report.proposals] == expected
    assert [(r.rule_id, r.changed_on) for r in report.rules] == [("ACC-010", expected)]


def test_a_rule_adopted_for_a_later_day_is_compared_on_that_day(tmp_path: Path) -> None:
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "ruleset.yaml").write_text("name: unit-policy\nversion: 1.0.0\n", encoding="utf-8")
    block = next(b for b in _blocks(RULES / "reporting_and_remedy.yaml") if "ACC-054\n" in b[:16])
    (extra / "later.yaml").write_text(
        "domain: accountability\nrules:\n"
        + block.replace("  - id: ACC-054\n", "  - id: ORG-054\n    effective_from: 2099-01-01\n"),
        encoding="utf-8",
    )
    shutil.copytree(RULES, tmp_path / "base")
    given = ["rules", "impact", "fixtures", "--baseline", str(tmp_path / "base"), "--no-config"]
    given += ["--rules", str(extra), "--format", "json"]
    today = run_cli(*given)
    assert (today.code, today.err) == (0, "")
    report = ImpactReport.model_validate_json(today.out)
    assert report.in_force_on == TODAY
    assert [(n.rule_id, n.reason) for n in report.not_in_force.current] == [
        ("ORG-054", "not_yet_in_force")
    ]
    assert (report.not_in_force.baseline, report.proposals, report.rules) == ([], [], [])
    later = run_cli(*given, "--in-force-on", "2099-01-01")
    assert (later.code, later.err) == (0, "")
    report = ImpactReport.model_validate_json(later.out)
    assert report.in_force_on == dt.date(2099, 1, 1)
    assert report.not_in_force.current == []
    assert report.rule_changes == RuleChanges(added=["ORG-054"], removed=[], changed=[])
    assert [(r.rule_id, r.newly_fires_on) for r in report.rules] == [
        ("ORG-054", ["PRP-2026-213", "PRP-2026-207", "PRP-2026-204", "PRP-2026-205"])
    ]
    text = run_cli(*given[:-2])
    assert (
        f"Rules in force on {TODAY}: added none; removed none; changed none\n"
        "Not in force that day (current): ORG-054 (from 2099-01-01)\n"
    ) in text.out


# ------------------------------------------------------------------ a decision log replayed


@pytest.fixture(params=["sqlite", "postgres"])
def log_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        yield Backend("sqlite", str(tmp_path / "decisions.sqlite"))
        return
    with _postgres() as postgres:
        yield postgres


BATCH = ["fixtures/flawed-data-sharing-suspect-data-without-caveats.json", FILES[1]]


def filled(log: DecisionLog) -> list[tuple[str, list[str]]]:
    """A log as a service keeping proposals fills it: each fixture in a request of its own,
    then one reviewed again by a service not keeping them, then a batch of two. Returns each
    kept record's id with the files of its proposals."""
    kept = [(served(log, (ROOT / f).read_bytes(), keep=True).id, [f]) for f in FILES]
    served(log, (ROOT / FILES[0]).read_bytes(), keep=False)
    body = json.dumps([json.loads((ROOT / f).read_text(encoding="utf-8")) for f in BATCH])
    kept.append((served(log, body.encode(), keep=True).id, BATCH))
    return kept


def test_a_decision_log_replayed_names_exactly_the_decisions_a_rule_fires_on(
    tmp_path: Path, current: Reviewer, log_backend: Backend
) -> None:
    assert len(read_proposals(BATCH[:1])) == 1
    base = baseline_rules([edited(tmp_path / "base", "ACC-054")], Selection())
    with log_backend.open() as log:
        kept = filled(log)
        with Reviewer(base, engine="reference") as baseline:
            report = impact(current, baseline, [], jobs=1, stored=log.stored_proposals())
            both = impact(current, baseline, FILES, jobs=1, stored=log.stored_proposals())
    # Independently: the proposals ACC-054 fires on, named as the log names them.
    fires = {pid for pid, _ in fired_on(current, "ACC-054")}
    names: list[tuple[str, str]] = []
    for record_id, files in kept:
        for n, item in enumerate(read_proposals(files), 1):
            if item.proposal.id in fires:
                names.append(
                    (record_id if len(files) == 1 else f"{record_id}#{n}", item.proposal.id)
                )
    assert [pid for _, pid in names] == [
        "PRP-2026-213", "PRP-2026-207", "PRP-2026-204", "PRP-2026-205", "PRP-2026-204",
    ]  # fmt: skip
    assert names[-1][0] == f"{kept[-1][0]}#1"
    ids = [name for name, _ in names]
    assert report.rules == [
        RuleImpact(
            rule_id="ACC-054",
            status="added",
            newly_fires=5,
            stops_firing=0,
            changed=0,
            newly_fires_on=ids,
            stops_firing_on=[],
            changed_on=[],
        )
    ]
    assert [(p.proposal_id, p.source) for p in report.proposals] == names
    assert [(p.decision_before, p.decision_after) for p in report.proposals] == [
        (A, AC), (R, R), (R, R), (R, R), (R, R),
    ]  # fmt: skip
    assert report.decision_log == LogReplay(
        decisions=58, replayed=57, proposals=58, without_proposals=1
    )
    s = report.summary
    assert (s.proposals, s.decided_differently, s.findings_differ, s.unchanged) == (58, 1, 5, 53)
    assert (
        "58 proposals reviewed with both: 1 decided differently, 5 with different findings, "
        "53 unchanged\n"
        "Decision log: 58 decisions read, 57 replayed (58 proposals); "
        "1 decision has no stored proposal\n"
    ) in render("text", report)
    assert (
        "- Decision log: 58 decisions read, 57 replayed (58 proposals); 1 decision has no "
        "stored proposal\n"
    ) in render("markdown", report)
    # With the paths first: the fixtures by their own ids, then the log's decisions.
    assert both.rules[0].newly_fires_on == [
        "PRP-2026-213", "PRP-2026-207", "PRP-2026-204", "PRP-2026-205", *ids,
    ]  # fmt: skip
    assert both.summary.proposals == 56 + 58
    assert both.decision_log == report.decision_log


def test_a_decision_log_with_nothing_to_replay_is_a_usage_error(
    current: Reviewer, log_backend: Backend
) -> None:
    base = load_rules()
    with log_backend.open() as log, Reviewer(base, engine="reference") as baseline:
        with pytest.raises(UsageError) as empty:
            impact(current, baseline, [], jobs=1, stored=log.stored_proposals())
        served(log, (ROOT / FILES[0]).read_bytes(), keep=False)
        served(log, (ROOT / FILES[1]).read_bytes(), keep=False)
        with pytest.raises(UsageError) as none_kept:
            impact(current, baseline, [], jobs=1, stored=log.stored_proposals())
        with_paths = impact(current, baseline, FILES[:1], jobs=1, stored=log.stored_proposals())
    assert empty.value.problems == ["--decision-log: the log holds no decision"]
    assert none_kept.value.problems == [
        "--decision-log: nothing to compare: 2 decisions have no stored proposal (the service "
        "keeps them only with --keep-proposals)"
    ]
    assert with_paths.summary.proposals == 1
    assert with_paths.decision_log == LogReplay(
        decisions=2, replayed=0, proposals=0, without_proposals=2
    )
    assert "; 2 decisions have no stored proposal\n" in render("text", with_paths)


def test_rules_impact_replays_a_decision_log_from_the_command_line(
    tmp_path: Path, log_backend: Backend
) -> None:
    base = edited(tmp_path / "base", "ACC-054")
    with log_backend.open() as log:
        kept = filled(log)
    fires = ["PRP-2026-213", "PRP-2026-207", "PRP-2026-204", "PRP-2026-205"]
    ids = [
        record_id if len(files) == 1 else f"{record_id}#{n}"
        for record_id, files in kept
        for n, item in enumerate(read_proposals(files), 1)
        if item.proposal.id in fires
    ]
    given = ["rules", "impact", "--baseline", str(base), "--no-config"]
    result = run_cli(*given, "--decision-log", log_backend.target)
    assert (result.code, result.err) == (
        0,
        "decision log: 1 decision has no stored proposal (not compared)\n",
    )
    assert (
        "Decision log: 58 decisions read, 57 replayed (58 proposals); 1 decision has no stored "
        "proposal\n"
    ) in result.out
    assert result.out.endswith(
        f"Rules whose findings differ:\n  ACC-054 (added): newly fires on 5: {', '.join(ids)}\n"
    )
    as_json = run_cli(*given, "fixtures", "--decision-log", log_backend.target, "--format", "json")
    report = ImpactReport.model_validate_json(as_json.out)
    assert report.rules[0].newly_fires_on == [*fires, *ids]  # the paths' proposals first
    assert report.decision_log == LogReplay(
        decisions=58, replayed=57, proposals=58, without_proposals=1
    )


def test_rules_impact_needs_paths_or_a_decision_log_that_exists(tmp_path: Path) -> None:
    given = ["rules", "impact", "--baseline", str(RULES), "--no-config"]
    nothing = run_cli(*given)
    assert (nothing.code, nothing.out) == (2, "")
    assert nothing.err == "error: rules impact: give PATHS to compare, --decision-log, or both\n"
    missing = tmp_path / "no-such.sqlite"
    absent = run_cli(*given, "--decision-log", str(missing))
    assert (absent.code, absent.out) == (2, "")
    assert absent.err == f"error: decision log {missing}: cannot open: no such file\n"
    assert not missing.exists()


def test_the_packaged_rules_by_name_as_the_baseline_of_a_projects_own_rules(
    tmp_path: Path,
) -> None:
    """``--baseline builtin`` (or the name and version reports show) compares a project's own
    rule directory against the rules the tool ships: exactly the proposals its rule fires on."""
    source = next(p for p in sorted(RULES.glob("*.yaml")) if "  - id: ACC-054\n" in p.read_text())
    header, *blocks = _blocks(source)
    (block,) = [b for b in blocks if b.startswith("  - id: ACC-054\n")]
    project = tmp_path / "project-rules"
    project.mkdir()
    (project / "own.yaml").write_text(
        header + block.replace("  - id: ACC-054\n", "  - id: ACC-900\n"), encoding="utf-8"
    )
    args = ("rules", "impact", "fixtures", "--rules", str(project), "--no-config", "--format")
    by_name = run_cli(*args, "json", "--baseline", "builtin")
    by_version = run_cli(*args, "json", "--baseline", "compliance-core@2.0.0")
    assert (by_name.code, by_name.err, by_version.code) == (0, "", 0)
    assert json.loads(by_name.out) == json.loads(by_version.out)
    report = json.loads(by_name.out)
    assert report["baseline"]["name"] == "compliance-core"
    assert report["rule_changes"] == {"added": ["ACC-900"], "removed": [], "changed": []}
    assert [r["newly_fires_on"] for r in report["rules"]] == [
        ["PRP-2026-213", "PRP-2026-207", "PRP-2026-204", "PRP-2026-205"]
    ]
    other = run_cli(*args, "json", "--baseline", "compliance-core@1.0.0")
    assert (other.code, other.out) == (2, "")
    assert other.err.endswith(
        "Error: Invalid value for '--baseline': Directory 'compliance-core@1.0.0' does not exist.\n"
    )
