"""The SARIF log as its consumers read it: the real ``compliance review`` writes it, and
sarif-tools (the ``sarif`` command code-scanning users run) reads it without a warning, counts
what the JSON report of the same run says, and groups results by rule. Also where the log's
files are (``--source-root``) and the tool's documentation link (``informationUri``)."""

from __future__ import annotations

import email.message
import importlib.metadata
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from compliance.reports.sarif import information_uri
from compliance.review.reviewer import Reviewer
from compliance.rules.ruleset import RuleSet
from tests.conftest import ROOT, run_cli
from tests.test_report_sarif import BIOMETRICS, BIOMETRICS_XLSX, gate, review, sarif

Json = dict[str, Any]

OTHER = "fixtures/flawed-data-sharing-processor-breach.json"

LEVELS = ["error", "warning", "note", "none"]


def sarif_tools(*args: str, cwd: Path) -> str:
    """Run sarif-tools; it must succeed and print nothing on stderr."""
    proc = subprocess.run(
        [sys.executable, "-m", "sarif", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
        timeout=120,
    )
    assert (proc.returncode, proc.stderr) == (0, "")
    return proc.stdout


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, tuple[Json, Json]]]:
    """The same proposal as JSON and as a workbook, and another proposal, each reviewed by the
    real command into a JSON report and a SARIF log: ``{"json": (report, log), ...}``."""
    out = tmp_path_factory.mktemp("sarif")
    made: dict[str, tuple[Json, Json]] = {}
    for name, path in (("json", BIOMETRICS), ("xlsx", BIOMETRICS_XLSX), ("other", OTHER)):
        report, log = out / f"{name}.json", out / f"{name}.sarif"
        args = ["--format", "json", "--format", "sarif", "-o", str(report), "-o", str(log)]
        run = run_cli("review", path, *args)
        assert run.code == 3, run.err  # rejected
        made[name] = (json.loads(report.read_text("utf-8")), json.loads(log.read_text("utf-8")))
    return out, made


def expected_levels(report: Json) -> dict[str, Counter[str]]:
    """Rule ids by SARIF level, from the JSON report alone (the gate's documented mapping)."""
    by_level: dict[str, Counter[str]] = {level: Counter() for level in LEVELS}
    for r in report["reviews"]:
        for f in r["findings"]:
            level, _ = gate(f, report["threshold"], report["domain_thresholds"])
            by_level[level][f["rule_id"]] += 1
    return by_level


def summary_of(text: str) -> dict[str, tuple[int, dict[str, tuple[str, int]]]]:
    """``sarif summary`` output: level -> (count, rule id -> (its line's key, count))."""
    out: dict[str, tuple[int, dict[str, tuple[str, int]]]] = {}
    level = ""
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith(" - "):
            key, _, n = line[3:].rpartition(": ")
            rule = key.split(" ", 1)[0]
            assert rule not in out[level][1], f"{rule}: more than one line"
            out[level][1][rule] = (key, int(n))
        else:
            level, _, n = line.partition(": ")
            out[level] = (int(n), {})
    return out


def titles(report: Json) -> dict[str, str]:
    return {f["rule_id"]: f["title"] for r in report["reviews"] for f in r["findings"]}


@pytest.mark.parametrize("name", ["json", "xlsx"])
def test_sarif_tools_counts_what_the_report_says_by_rule(
    name: str, logs: tuple[Path, dict[str, tuple[Json, Json]]]
) -> None:
    out, made = logs
    report, _ = made[name]
    summary = summary_of(sarif_tools("summary", f"{name}.sarif", cwd=out))
    expected = expected_levels(report)
    named = titles(report)
    assert list(summary) == [level for level in LEVELS if expected[level]]
    for level, (count, rules) in summary.items():
        assert count == sum(expected[level].values())
        assert {rule: n for rule, (_, n) in rules.items()} == dict(expected[level])
        for rule, (key, _) in rules.items():
            # a line per rule, keyed by the rule's own words (sarif-tools cuts keys at 120)
            full = f"{rule} {named[rule]}"
            assert key == full if len(full) <= 120 else key.endswith(" ...")
            assert full.startswith(key.removesuffix(" ..."))
    assert summary["error"][0] == 2  # DS-004 and DS-011 block


def test_sarif_tools_groups_the_same_rule_across_proposals_and_files(
    logs: tuple[Path, dict[str, tuple[Json, Json]]],
) -> None:
    """Three logs: one proposal as JSON and as a workbook, and another proposal whose findings of
    the same rules say other things (TRN-005: "Funding of 30,000,000 (USD)" and "of 4,000,000
    (CHF)"). Each rule is still one line, counting all its results."""
    out, made = logs
    texts = {
        name: {
            x["ruleId"]: x["message"]["text"].split("\n\n")[1]
            for x in made[name][1]["runs"][0]["results"]
        }
        for name in ("json", "other")
    }
    assert texts["json"]["TRN-005"] != texts["other"]["TRN-005"]
    summary = summary_of(sarif_tools("summary", "json.sarif", "xlsx.sarif", "other.sarif", cwd=out))
    expected = {level: Counter[str]() for level in LEVELS}
    for name in ("json", "xlsx", "other"):
        for level, counted in expected_levels(made[name][0]).items():
            expected[level].update(counted)
    assert summary["note"][1]["TRN-005"][1] == 3
    for level, (count, rules) in summary.items():
        assert count == sum(expected[level].values())
        assert {rule: n for rule, (_, n) in rules.items()} == dict(expected[level])


@pytest.mark.parametrize(
    ("name", "path", "line"),
    [("json", BIOMETRICS, 113), ("xlsx", BIOMETRICS_XLSX, 3)],
)
def test_every_sarif_tools_output_reads_the_log_without_a_warning(
    name: str, path: str, line: int, logs: tuple[Path, dict[str, tuple[Json, Json]]]
) -> None:
    out, made = logs
    report, log = made[name]
    log_file = f"{name}.sarif"
    sarif_tools("info", log_file, cwd=out)
    sarif_tools("csv", "-o", f"{name}.csv", log_file, cwd=out)
    sarif_tools("html", "-o", f"{name}.html", log_file, cwd=out)
    sarif_tools("emacs", "-o", f"{name}.emacs", log_file, cwd=out)
    sarif_tools("codeclimate", "-o", f"{name}.cc.json", log_file, cwd=out)
    issues = json.loads((out / f"{name}.cc.json").read_text("utf-8"))
    assert len(issues) == sum(len(r["findings"]) for r in report["reviews"])
    # every issue is at a line of the file as given, relative to the repository root
    assert {i["location"]["path"] for i in issues} == {path}
    assert all(i["location"]["lines"]["begin"] >= 1 for i in issues)
    (ds004,) = [i for i in issues if i["check_name"] == "DS-004"]
    assert ds004["location"] == {"path": path, "lines": {"begin": line}}
    assert ds004["description"].startswith(
        "Impact assessment before sharing sensitive or vulnerable people's data\n\nSensitive "
    )
    # the log itself: the file against %SRCROOT%, the repository root the review ran in
    run = log["runs"][0]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == ROOT.as_uri() + "/"
    (result,) = [x for x in run["results"] if x["ruleId"] == "DS-004"]
    physical = result["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"] == {"uri": path, "uriBaseId": "%SRCROOT%"}
    assert physical["region"]["startLine"] == line


# ------------------------------------------------------------------------------ --source-root


def test_the_source_root_option_sets_srcroot(tmp_path: Path) -> None:
    log = tmp_path / "r.sarif"
    run = run_cli(
        "review", BIOMETRICS_XLSX, "--format", "sarif", "-o", str(log), "--source-root", "fixtures"
    )
    assert run.code == 3
    run_ = json.loads(log.read_text("utf-8"))["runs"][0]
    assert run_["originalUriBaseIds"]["%SRCROOT%"]["uri"] == (ROOT / "fixtures").as_uri() + "/"
    uris = {
        json.dumps(loc["physicalLocation"]["artifactLocation"])
        for x in run_["results"]
        for loc in x["locations"]
    }
    assert uris == {
        json.dumps(
            {
                "uri": "workbooks/flawed-data-sharing-biometrics-left-behind.xlsx",
                "uriBaseId": "%SRCROOT%",
            }
        )
    }


def test_a_file_outside_the_source_root_keeps_an_absolute_uri(tmp_path: Path) -> None:
    log = tmp_path / "r.sarif"
    run = run_cli(
        "review", str(ROOT / BIOMETRICS), "--format", "sarif", "-o", str(log), cwd=tmp_path
    )
    assert run.code == 3
    run_ = json.loads(log.read_text("utf-8"))["runs"][0]
    assert run_["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.as_uri() + "/"
    (x,) = [x for x in run_["results"] if x["ruleId"] == "DS-004"]
    assert x["locations"][0]["physicalLocation"]["artifactLocation"] == {
        "uri": (ROOT / BIOMETRICS).as_uri()
    }


def test_a_source_root_that_is_not_a_directory_is_a_usage_error(tmp_path: Path) -> None:
    run = run_cli("review", BIOMETRICS, "--format", "sarif", "--source-root", str(tmp_path / "no"))
    assert run.code == 2
    assert (
        f"Invalid value for '--source-root': Directory '{tmp_path / 'no'}' does not exist."
        in run.err
    )


# ------------------------------------------------------------------------------ informationUri


def _metadata(*headers: tuple[str, str]) -> email.message.Message:
    meta = email.message.Message()
    for key, value in headers:
        meta[key] = value
    return meta


@pytest.mark.parametrize(
    ("headers", "uri"),
    [
        (
            [
                ("Project-URL", "Source, https://git.example.org/compliance"),
                ("Project-URL", "Homepage, https://example.org/compliance"),
                ("Project-URL", "Documentation, https://docs.example.org/compliance/"),
            ],
            "https://docs.example.org/compliance/",
        ),
        (
            [("Project-URL", "docs, https://docs.example.org/règles")],
            "https://docs.example.org/r%C3%A8gles",
        ),
        (
            [
                ("Project-URL", "Home Page, https://example.org/compliance"),
                ("Home-page", "https://old.example.org/"),
            ],
            "https://example.org/compliance",
        ),
        ([("Home-page", "https://old.example.org/")], "https://old.example.org/"),
        # a URL that is not http(s) is no link for a browser; nothing declared, nothing given
        ([("Project-URL", "Documentation, docs/gate.md")], None),
        ([("Project-URL", "Source, https://git.example.org/compliance")], None),
        ([], None),
    ],
)
def test_information_uri_is_the_documentation_url_the_package_declares(
    headers: list[tuple[str, str]], uri: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importlib.metadata, "metadata", lambda name: _metadata(*headers))
    assert information_uri() == uri


@pytest.mark.parametrize("declared", [True, False])
def test_information_uri_is_in_the_driver_when_declared(
    declared: bool, reference: Reviewer, ruleset: RuleSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = "https://docs.example.org/compliance/"
    headers = [("Project-URL", f"Documentation, {docs}")] if declared else []
    monkeypatch.setattr(importlib.metadata, "metadata", lambda name: _metadata(*headers))
    driver = sarif(review(reference, BIOMETRICS), ruleset)["runs"][0]["tool"]["driver"]
    if declared:
        assert list(driver) == ["name", "version", "semanticVersion", "informationUri", "rules"]
        assert driver["informationUri"] == docs
    else:
        assert list(driver) == ["name", "version", "semanticVersion", "rules"]


def test_no_information_uri_when_the_package_is_not_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def missing(name: str) -> email.message.Message:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "metadata", missing)
    assert information_uri() is None
