"""Effective dates: a rule runs only on the days it is in force (``effective_from`` to
``effective_until``, both included), judged on the review's day: today (UTC) or ``--as-of``."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from compliance.cli import main
from compliance.errors import RuleError, UsageError
from compliance.review.reviewer import Reviewer
from compliance.rules import tuning
from compliance.rules.cache import PLAN_ATTRIBUTE
from compliance.rules.compiler import compile_ruleset
from compliance.rules.docs import rules_markdown
from compliance.rules.load import load_rules
from compliance.service.workers import ReviewJob, ServiceConfig, _Reviews
from tests.conftest import run_cli

TODAY = dt.datetime.now(dt.timezone.utc).date()


def rule(rule_id: str, severity: str, title: str, dates: str = "") -> str:
    """A rule on data flows without a lawful basis; ``dates``: its date lines, indented."""
    return f"""  - id: {rule_id}
    title: {title}
    severity: {severity}
{dates}    for_each: data_sharing.flows
    violated_when: {{field: "data_sharing.flows[].lawful_basis", equals: none}}
    message: "{{data_sharing.flows[].recipient}} has no lawful basis."
    remediation: Record one.
    references:
      - instrument: GDPR
        provision: Art. 6
        url: https://eur-lex.europa.eu/eli/reg/2016/679/oj
        binding: required
    examples:
      fires: [{{note: n, proposal: {{data_sharing: {{flows: [{{lawful_basis: none}}]}}}}}}]
      passes: [{{note: p, proposal: {{data_sharing: {{flows: []}}}}}}]
"""


RULES = "domain: data_sharing\nrules:\n" + "".join(
    [
        rule("OLD-001", "high", "Old wording", "    effective_until: 2026-06-30\n"),
        rule("MAR-001", "medium", "Adopted in March", "    effective_from: 2026-03-01\n"),
        rule("NEW-001", "low", "Not yet adopted", "    effective_from: 2099-01-01\n"),
        rule("NOW-001", "info", "Always in force"),
    ]
)
PROPOSAL = {
    "schema_version": "2",
    "id": "P-1",
    "title": "Data exchange",
    "data_sharing": {"flows": [{"recipient": "Ministry", "lawful_basis": "none"}]},
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project whose rules are the four above alone, and a proposal they all fire on."""
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "ruleset.yaml").write_text(
        "name: dated\nversion: 1.0.0\nreleased: 2026-01-15\n", encoding="utf-8"
    )
    (rules / "dated.yaml").write_text(RULES, encoding="utf-8")
    (tmp_path / "compliance.toml").write_text(
        '[rules]\nbuiltin = false\ndirectories = ["rules"]\n', encoding="utf-8"
    )
    (tmp_path / "p.json").write_text(json.dumps(PROPOSAL), encoding="utf-8")
    return tmp_path


def review(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *args: str,
) -> tuple[int, str, str]:
    """``compliance review p.json ARGS`` in this process, in the project."""
    monkeypatch.chdir(project)
    with pytest.raises(SystemExit) as exited:
        main(["review", "p.json", *args])
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def fired(report: dict[str, Any]) -> list[str]:
    return [f["rule_id"] for f in report["reviews"][0]["findings"]]


OLD = {
    "rule_id": "OLD-001",
    "title": "Old wording",
    "effective_from": None,
    "effective_until": "2026-06-30",
    "reason": "no_longer_in_force",
}
MAR = {
    "rule_id": "MAR-001",
    "title": "Adopted in March",
    "effective_from": "2026-03-01",
    "effective_until": None,
    "reason": "not_yet_in_force",
}
NEW = {
    "rule_id": "NEW-001",
    "title": "Not yet adopted",
    "effective_from": "2099-01-01",
    "effective_until": None,
    "reason": "not_yet_in_force",
}


def test_a_rule_past_its_last_day_is_skipped_today_and_applied_as_of_a_day_before(
    project: Path,
) -> None:
    today = run_cli("review", "p.json", "--format", "json", cwd=project)
    assert today.code == 0, today.err  # MAR-001 (medium) and NOW-001 (info): below the gate
    report = json.loads(today.out)
    assert report["as_of"] == TODAY.isoformat()
    assert report["rules_not_in_force"] == [OLD, NEW]
    assert fired(report) == ["MAR-001", "NOW-001"]
    assert report["selection"]["rules_loaded"] == 4
    assert report["selection"]["rules_run"] == 2

    before = run_cli("review", "p.json", "--format", "json", "--as-of", "2026-06-30", cwd=project)
    assert before.code == 3  # OLD-001 is high: on its last day it is in force, and rejects
    report = json.loads(before.out)
    assert report["as_of"] == "2026-06-30"
    assert report["rules_not_in_force"] == [NEW]
    assert fired(report) == ["OLD-001", "MAR-001", "NOW-001"]
    assert before.err == (
        "--as-of 2026-06-30: the rules in force and the waivers were judged as of that day, "
        "not today; the decisions hold for that day\n"
    )


def test_the_text_report_names_the_day_and_the_rules_not_run(project: Path) -> None:
    text = run_cli("review", "p.json", cwd=project)
    assert text.out.splitlines()[1:7] == [
        "config compliance.toml",
        "the built-in rules were NOT loaded (builtin = false in compliance.toml): the decisions "
        "cover the project's own rules alone",
        f"judged as of {TODAY}: the rules in force that day ran",
        "not run:   OLD-001 Old wording: no longer in force (until 2026-06-30)",
        "not run:   NEW-001 Not yet adopted: not yet in force (from 2099-01-01)",
        "",
    ]
    assert text.out.splitlines()[0].startswith("compliance ")
    assert ": rules dated 1.0.0 (2 rules, " in text.out.splitlines()[0]


def test_a_rule_before_its_first_day_is_skipped(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = review(project, capsys, monkeypatch, "--format", "json", "--as-of", "2026-02-28")
    report = json.loads(out)
    assert code == 3
    assert report["rules_not_in_force"] == [MAR, NEW]
    assert fired(report) == ["OLD-001", "NOW-001"]
    _, out, _ = review(project, capsys, monkeypatch, "--as-of", "2026-02-28", "--format", "jsonl")
    run = json.loads(out.splitlines()[0])["run"]
    assert (run["as_of"], run["rules_not_in_force"]) == ("2026-02-28", [MAR, NEW])
    code, out, _ = review(project, capsys, monkeypatch, "--as-of", "2026-02-28", "--format", "text")
    assert out.splitlines()[3:6] == [
        "judged as of 2026-02-28: the rules in force that day ran",
        "not run:   MAR-001 Adopted in March: not yet in force (from 2026-03-01)",
        "not run:   NEW-001 Not yet adopted: not yet in force (from 2099-01-01)",
    ]


@pytest.mark.parametrize("day", ["2026-02-28", "2026-03-01", "2026-06-30", "2026-07-01", None])
def test_both_engines_run_the_rules_in_force_and_agree(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    day: str | None,
) -> None:
    as_of = ["--as-of", day] if day else []
    reports = []
    for engine in ("reference", "durable"):
        _, out, _ = review(
            project, capsys, monkeypatch, "--format", "json", "--engine", engine, *as_of
        )
        report = json.loads(out)
        assert report.pop("engine") == engine
        reports.append(report)
    assert reports[0] == reports[1]
    expected = {
        "2026-02-28": ["OLD-001", "NOW-001"],
        "2026-03-01": ["OLD-001", "MAR-001", "NOW-001"],
        "2026-06-30": ["OLD-001", "MAR-001", "NOW-001"],
        "2026-07-01": ["MAR-001", "NOW-001"],
        None: ["MAR-001", "NOW-001"],
    }
    assert fired(reports[0]) == expected[day]


def test_the_compiled_engine_holds_only_the_rules_in_force(project: Path) -> None:
    loaded = load_rules([project / "rules"], builtin=False)
    chosen = tuning.in_force(loaded, dt.date(2026, 7, 1))
    plan = compile_ruleset(chosen)
    compiled = [r.rule_id for s in plan.shards for g in s.groups for r in g]
    assert compiled == ["MAR-001", "NOW-001"]
    assert not hasattr(chosen, PLAN_ATTRIBUTE)  # the loaded set's plan (four rules) is not used
    with Reviewer(chosen, engine="durable") as reviewer:
        assert [r.id for r in reviewer.ruleset.rules] == ["MAR-001", "NOW-001"]


def test_a_rule_set_without_dates_keeps_its_compiled_plan(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.yaml").write_text(
        "domain: data_sharing\nrules:\n" + rule("NOW-001", "info", "Always"), encoding="utf-8"
    )
    load_rules([rules], builtin=False)  # stored in the rule-set cache with its plan
    loaded = load_rules([rules], builtin=False)
    chosen = tuning.in_force(loaded, dt.date(2026, 7, 1))
    assert chosen.rules == loaded.rules
    assert getattr(chosen, PLAN_ATTRIBUTE) is getattr(loaded, PLAN_ATTRIBUTE)
    assert (chosen.as_of, chosen.not_in_force) == (dt.date(2026, 7, 1), ())


def test_no_rule_in_force_is_an_error(project: Path) -> None:
    loaded = load_rules([project / "rules"], builtin=False)
    only_new = tuning.apply(loaded, tuning.Selection(rules=("NEW-001",)))
    with pytest.raises(UsageError) as info:
        tuning.in_force(only_new, dt.date(2026, 7, 1))
    assert info.value.problems == [
        "no rule is in force on 2026-07-01 among the 1 selected (a review without rules would "
        "pass everything); check the rules' effective_from and effective_until, and --as-of"
    ]


# ---------------------------------------------------------------------------- load errors


def load_problems(tmp_path: Path, dates: str, manifest: str = "") -> list[str]:
    rules = tmp_path / "r"
    rules.mkdir()
    if manifest:
        (rules / "ruleset.yaml").write_text(manifest, encoding="utf-8")
    text = "domain: data_sharing\nrules:\n" + rule("DAT-001", "high", "Dated", dates)
    (rules / "dated.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(RuleError) as info:
        load_rules([rules], builtin=False)
    return [p.replace(f"{rules}/", "") for p in info.value.problems]


@pytest.mark.parametrize(
    ("dates", "problem"),
    [
        (
            "    effective_from: 2026-03-01\n    effective_until: 2026-02-28\n",
            "dated.yaml:7: rule DAT-001: effective_until: 2026-02-28 is before effective_from "
            "2026-03-01: the rule would never be in force (effective_until is the last day it "
            "is in force)",
        ),
        (
            "    effective_from: '2026-3-1'\n",
            "dated.yaml:6: rule DAT-001: effective_from: '2026-3-1' is not a date; write it as "
            "YYYY-MM-DD",
        ),
        (
            "    effective_until: '2026-02-30'\n",
            "dated.yaml:6: rule DAT-001: effective_until: '2026-02-30' is not a real date",
        ),
        (
            "    effective_until: 2026-02-30\n",
            "dated.yaml:6:22: invalid YAML: effective_until: 2026-02-30 is not a real date",
        ),
        (
            "    effective_from: 2026-03-01 10:00:00\n",
            "dated.yaml:6: rule DAT-001: effective_from: datetime.datetime(2026, 3, 1, 10, 0) is "
            "not a date; write it as YYYY-MM-DD",
        ),
        (
            "    effective_from: 20260301\n",
            "dated.yaml:6: rule DAT-001: effective_from: 20260301 is not a date; write it as "
            "YYYY-MM-DD",
        ),
    ],
    ids=["until-before-from", "malformed", "no-such-day", "no-such-day-unquoted", "time", "number"],
)
def test_a_bad_date_or_an_impossible_range_does_not_load(
    tmp_path: Path, dates: str, problem: str
) -> None:
    assert load_problems(tmp_path, dates) == [problem]


def test_a_rule_set_release_date_must_be_a_date(tmp_path: Path) -> None:
    manifest = "name: dated\nversion: 1.0.0\nreleased: next week\n"
    assert load_problems(tmp_path, "", manifest) == [
        "ruleset.yaml:3: released: 'next week' is not a date; write it as YYYY-MM-DD"
    ]


def test_a_one_day_rule_loads(tmp_path: Path) -> None:
    rules = tmp_path / "r"
    rules.mkdir()
    dates = "    effective_from: 2026-03-01\n    effective_until: 2026-03-01\n"
    text = "domain: data_sharing\nrules:\n" + rule("DAT-001", "high", "Dated", dates)
    (rules / "dated.yaml").write_text(text, encoding="utf-8")
    (only,) = load_rules([rules], builtin=False).rules
    days = [dt.date(2026, 2, 28), dt.date(2026, 3, 1), dt.date(2026, 3, 2)]
    assert [only.in_force(d) for d in days] == [False, True, False]


# ---------------------------------------------------------------------------- listings, records


def test_rules_list_and_show_give_the_dates(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    with pytest.raises(SystemExit):
        main(["rules", "list"])
    assert capsys.readouterr().out.splitlines() == [
        "OLD-001  high     data_sharing              Old wording  "
        "(in force until 2026-06-30; no longer in force)",
        "MAR-001  medium   data_sharing              Adopted in March  (in force from 2026-03-01)",
        "NEW-001  low      data_sharing              Not yet adopted  "
        "(in force from 2099-01-01; not yet in force)",
        "NOW-001  info     data_sharing              Always in force",
        "4 rules (dated 1.0.0, released 2026-01-15)",
    ]
    with pytest.raises(SystemExit):
        main(["rules", "list", "--format", "json"])
    listed = json.loads(capsys.readouterr().out)
    assert [(r["id"], r["effective_from"], r["effective_until"]) for r in listed["rules"]] == [
        ("OLD-001", None, "2026-06-30"),
        ("MAR-001", "2026-03-01", None),
        ("NEW-001", "2099-01-01", None),
        ("NOW-001", None, None),
    ]
    assert listed["rule_set"]["sources"][0]["released"] == "2026-01-15"
    with pytest.raises(SystemExit):
        main(["rules", "show", "OLD-001"])
    assert capsys.readouterr().out.splitlines()[5] == (
        "In force:        until 2026-06-30 (that day included); no longer in force"
    )


def test_the_rules_reference_gives_the_dates_and_the_release(project: Path) -> None:
    text = rules_markdown(load_rules([project / "rules"], builtin=False)).splitlines()
    assert text[4].startswith("Rule set **dated 1.0.0**, released 2026-01-15: 4 rules in 1 domain.")
    facts = [line for line in text if line.startswith("Severity **")]
    assert facts == [
        "Severity **high**; file `dated.yaml`; judged for each item of `data_sharing.flows`; "
        "in force until 2026-06-30 (that day included).",
        "Severity **medium**; file `dated.yaml`; judged for each item of `data_sharing.flows`; "
        "in force from 2026-03-01.",
        "Severity **low**; file `dated.yaml`; judged for each item of `data_sharing.flows`; "
        "in force from 2099-01-01.",
        "Severity **info**; file `dated.yaml`; judged for each item of `data_sharing.flows`.",
    ]


def test_config_show_names_the_rules_not_in_force(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    with pytest.raises(SystemExit):
        main(["config", "show", "--as-of", "2026-07-01"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[4] == "rules run                2 of 4  [effective dates, as of 2026-07-01]"
    assert lines[-2:] == [
        "waivers judged as of     2026-07-01  [command line (--as-of)]",
        "rules not in force       OLD-001: no longer in force (until 2026-06-30); NEW-001: not "
        "yet in force (from 2099-01-01)  [command line (--as-of)]",
    ]


def test_rules_test_runs_the_examples_of_every_rule_whatever_its_dates(project: Path) -> None:
    run = run_cli("rules", "test", "rules", cwd=project)
    assert (run.code, run.out) == (0, "4 rules, 8 examples in rules: all passed\n")


def test_a_record_carries_the_judgment_day(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, _ = review(project, capsys, monkeypatch, "--as-of", "2026-07-01", "--record", "rec")
    assert code == 0
    (path,) = sorted((project / "rec").glob("*.json"))
    record = json.loads(path.read_text(encoding="utf-8"))
    assert (record["record_version"], record["as_of"]) == ("1.2", "2026-07-01")
    assert record["rules_not_in_force"] == [OLD, NEW]


def test_the_markdown_and_html_reports_say_the_day(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, out, _ = review(
        project, capsys, monkeypatch, "--as-of", "2026-07-01", "--format", "markdown"
    )
    assert out.splitlines()[4:7] == [
        "Judged as of 2026-07-01: the rules in force that day ran.",
        "- Not run: OLD-001 Old wording: no longer in force (until 2026-06-30).",
        "- Not run: NEW-001 Not yet adopted: not yet in force (from 2099-01-01).",
    ]
    _, out, _ = review(project, capsys, monkeypatch, "--as-of", "2026-07-01", "--format", "html")
    assert (
        '<tr><th scope="row">Judged as of</th><td>2026-07-01: the rules in force that day ran'
        "</td></tr>"
    ) in out
    assert (
        '<tr><th scope="row">Not in force</th><td>OLD-001 Old wording: no longer in force '
        "(until 2026-06-30)</td></tr>"
    ) in out


# ---------------------------------------------------------------------------- the service


class _Clock(dt.datetime):
    """A UTC clock set by the test."""

    moment = dt.datetime(2026, 6, 30, 23, 59, 59)

    @classmethod
    def now(cls, tz: Any = None) -> Any:
        return cls.moment.replace(tzinfo=tz)


def test_a_service_worker_judges_each_request_on_its_own_day(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    monkeypatch.setattr(dt, "datetime", _Clock)
    reviews = _Reviews(ServiceConfig(config_path=project / "compliance.toml", engine="reference"))
    body = json.dumps(PROPOSAL).encode()

    def judged() -> tuple[str, list[str], list[str]]:
        result = reviews.run(ReviewJob(body, "json", "request.json"))  # the request's day
        assert result.report_json is not None
        report = json.loads(result.report_json)
        not_run = [n["rule_id"] for n in report["rules_not_in_force"]]
        return report["as_of"], not_run, fired(report)

    everything = ["OLD-001", "MAR-001", "NOW-001"]
    assert judged() == ("2026-06-30", ["NEW-001"], everything)
    first = reviews._reviewers[((), (), (), (), ("2026-06-30",))]
    assert judged()[0] == "2026-06-30"
    assert list(reviews._reviewers.values()) == [first]  # made once that day
    # Past midnight: the next request's day stops OLD-001, with reviewers made for that day.
    _Clock.moment = dt.datetime(2026, 7, 1, 0, 0, 1)
    assert judged() == ("2026-07-01", ["OLD-001", "NEW-001"], ["MAR-001", "NOW-001"])
    assert list(reviews._reviewers) == [((), (), (), (), ("2026-07-01",))]
