"""The SARIF 2.1.0 log: valid under the SARIF schema for every fixture, a result per finding with
the level the gate gives it, locations that point at lines and cells, waivers as suppressions,
stable fingerprints, and input text carried exactly."""

from __future__ import annotations

import copy
import dataclasses
import functools
import hashlib
import io
import json
import os
import re
import sys
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from jsonschema.protocols import Validator
from openpyxl.utils.cell import coordinate_to_tuple

from compliance.intake.proposals import read_proposals
from compliance.reports.markdown import md
from compliance.reports.sarif import render_sarif
from compliance.review.decision import Thresholds
from compliance.review.findings import Report
from compliance.review.reviewer import Reviewer
from compliance.review.waivers import load_waivers
from compliance.rules.ruleset import RuleSet, SeverityOverride
from compliance.rules.spec import Severity
from tests.conftest import FIXTURES, ROOT

SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif-2.1.0.schema.json").read_text("utf-8"))
JSON_FIXTURES = sorted(p.relative_to(ROOT).as_posix() for p in FIXTURES.glob("*.json"))
WORKBOOKS = sorted(p.relative_to(ROOT).as_posix() for p in (FIXTURES / "workbooks").glob("*.xlsx"))
BIOMETRICS = "fixtures/flawed-data-sharing-biometrics-left-behind.json"  # HO-F3-BIOMETRIC-ID
BIOMETRICS_XLSX = "fixtures/workbooks/flawed-data-sharing-biometrics-left-behind.xlsx"
DENIED_UNIT = "fixtures/flawed-accountability-un-support-denied-unit.json"  # HO-F6-SSR-UNITS

RANKS = ["info", "low", "medium", "high", "blocker"]
# severity -> (defaultConfiguration.level, security-severity), as the module docstring documents
SEVERITY_MAP = {
    "blocker": ("error", "9.5"),
    "high": ("error", "8.0"),
    "medium": ("warning", "5.5"),
    "low": ("note", "3.0"),
    "info": ("note", "1.0"),
}

Json = dict[str, Any]


# ------------------------------------------------------------------------------ the validator

_URI_CHARS = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*"
_URI_REFERENCE = re.compile(rf"(?:[A-Za-z][A-Za-z0-9+.\-]*:)?{_URI_CHARS}(?:#{_URI_CHARS})?")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")


def _is_uri_reference(value: object) -> bool:
    """RFC 3986 URI-reference (IP-literal hosts aside): no spaces, no raw non-ASCII, no
    backslashes, and a first segment with a colon only as a scheme."""
    if not isinstance(value, str):
        return True
    if not _URI_REFERENCE.fullmatch(value):
        return False
    head = re.split(r"[/?#]", value, maxsplit=1)[0]
    return ":" not in head or _SCHEME.match(head) is not None


def _is_uri(value: object) -> bool:
    """An absolute URI: a URI-reference with a scheme."""
    return not isinstance(value, str) or (
        _is_uri_reference(value) and _SCHEME.match(value) is not None
    )


@functools.cache
def _validator() -> Validator:
    """The schema's own validator class (draft 2020-12), checking formats too. jsonschema checks
    ``uri`` and ``uri-reference`` only when optional packages are installed, so those two are
    checked here; the formats it does check (``uuid``, ...) are kept."""
    cls = jsonschema.validators.validator_for(SCHEMA)
    cls.check_schema(SCHEMA)
    checker = jsonschema.FormatChecker(cls.FORMAT_CHECKER.checkers)
    checker.checks("uri")(_is_uri)
    checker.checks("uri-reference")(_is_uri_reference)
    validator: Validator = cls(SCHEMA, format_checker=checker)
    return validator


def schema_errors(log: Json) -> list[str]:
    return [f"{e.json_path}: {e.message}" for e in _validator().iter_errors(log)]


# ------------------------------------------------------------------------------ helpers


def review(reviewer: Reviewer, *paths: str) -> Report:
    """Review files given relative to the repository root (as a workflow run from it gives them);
    each path is read on its own, since the register repeats the ids of three JSON fixtures."""
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        loaded = [item for path in paths for item in read_proposals([path])]
    return reviewer.report([reviewer.review(i.proposal, i.source_map) for i in loaded])


def sarif(report: Report, ruleset: RuleSet, root: Path = ROOT) -> Json:
    """The log, input files taken relative to ``root`` (the repository root by default)."""
    text = render_sarif(report, ruleset.rules, ruleset.domain_title, root)
    assert text.endswith("}\n")
    log: Json = json.loads(text)
    return log


def run_of(log: Json) -> Json:
    (run,) = log["runs"]
    run_: Json = run
    return run_


def result_of(log: Json, rule_id: str, proposal_id: str) -> Json:
    (found,) = [
        r
        for r in run_of(log)["results"]
        if r["ruleId"] == rule_id and r["properties"]["proposal_id"] == proposal_id
    ]
    result: Json = found
    return result


def gate(finding: Json, threshold: str, domains: dict[str, str]) -> tuple[str, bool]:
    """The level and whether the finding blocks, as the module docstring promises, from the JSON
    report alone."""
    rank = RANKS.index(finding["severity"])
    bar = RANKS.index(domains.get(finding["domain"], threshold))
    blocks = not finding["waived"] and rank >= bar
    if finding["outcome"] != "violation":
        return "none", blocks
    if blocks:
        return "error", True
    return ("warning" if rank >= RANKS.index("medium") else "note"), False


def unescape(text: str) -> str:
    """A SARIF message string back to its text (braces are doubled in message strings)."""
    return text.replace("{{", "{").replace("}}", "}")


@pytest.fixture(scope="module")
def all_fixtures(durable: Reviewer, ruleset: RuleSet) -> tuple[Report, Json]:
    """Every JSON fixture and every workbook in one review, with the default (durable) engine."""
    report = review(durable, *JSON_FIXTURES, *WORKBOOKS)
    return report, sarif(report, ruleset)


# ------------------------------------------------------------------------------ 1. the schema


@pytest.mark.parametrize("path", JSON_FIXTURES + WORKBOOKS)
def test_the_log_of_every_fixture_is_valid_sarif(
    path: str, durable: Reviewer, ruleset: RuleSet
) -> None:
    log = sarif(review(durable, path), ruleset)
    assert schema_errors(log) == []
    assert log["version"] == "2.1.0"
    assert list(log) == ["$schema", "version", "runs"]


def test_the_log_of_all_fixtures_at_once_is_valid_sarif(all_fixtures: tuple[Report, Json]) -> None:
    report, log = all_fixtures
    assert schema_errors(log) == []
    assert len(run_of(log)["results"]) == sum(len(r.findings) for r in report.reviews) > 150


@pytest.fixture(scope="module")
def biometrics(reference: Reviewer, ruleset: RuleSet) -> Json:
    """A valid log to break."""
    log = sarif(review(reference, BIOMETRICS), ruleset)
    assert schema_errors(log) == []
    return log


@pytest.mark.parametrize(
    ("path", "value", "keyword"),
    [
        ("runs/0/results/0/level", "fatal", "enum"),
        ("runs/0/results/0/kind", "failed", "enum"),
        ("reviewed_by", "me", "additionalProperties"),
        ("runs/0/results/0/severity", "high", "additionalProperties"),
        ("version", "2.2.0", "enum"),
        ("runs/0/results/0/locations/0/physicalLocation/region/startLine", 0, "minimum"),
        ("runs/0/results/0/locations/0/physicalLocation/artifactLocation/uri", "a b", "format"),
        ("runs/0/tool/driver/rules/0/helpUri", "docs/rules.md", "format"),
        ("runs/0/tool/driver/rules/0/properties/tags", ["a", "a"], "uniqueItems"),
    ],
)
def test_the_validator_is_strict(path: str, value: object, keyword: str, biometrics: Json) -> None:
    """A broken log is rejected, at the place broken: the schema test cannot pass vacuously."""
    broken = copy.deepcopy(biometrics)
    *parents, last = [int(k) if k.isdigit() else k for k in path.split("/")]
    node: Any = broken
    for key in parents:
        node = node[key]
    node[last] = value
    errors = {(e.json_path, str(e.validator)) for e in _validator().iter_errors(broken)}
    # the error is where the log was broken: an unknown key is reported on its parent object
    where = "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in parents)
    at = f"${where}" if keyword == "additionalProperties" else f"${where}.{last}"
    assert (at, keyword) in errors


# ------------------------------------------------------------------------------ 2. results


@pytest.mark.parametrize(
    "thresholds",
    [
        Thresholds(Severity.high),
        Thresholds(Severity.low),
        Thresholds(Severity.blocker, {"data_sharing": Severity.medium}),
    ],
    ids=["high", "low", "blocker-data_sharing-medium"],
)
def test_a_result_per_finding_with_the_level_the_gate_gives_it(
    thresholds: Thresholds, ruleset: RuleSet
) -> None:
    with Reviewer(ruleset, engine="reference", threshold=thresholds) as reviewer:
        report = review(reviewer, *JSON_FIXTURES)
    log = sarif(report, ruleset)
    assert schema_errors(log) == []
    data = report.model_dump(mode="json")
    threshold, domains = data["threshold"], data["domain_thresholds"]
    expected = [
        (
            r["proposal_id"],
            f["rule_id"],
            "fail" if f["outcome"] == "violation" else "open",
            *gate(f, threshold, domains),
            r["decision"],
        )
        for r in data["reviews"]
        for f in r["findings"]
    ]
    results = run_of(log)["results"]
    assert [
        (
            x["properties"]["proposal_id"],
            x["ruleId"],
            x["kind"],
            x["level"],
            x["properties"]["blocks"],
            x["properties"]["decision"],
        )
        for x in results
    ] == expected
    if thresholds == Thresholds(Severity.high):  # every level is exercised
        assert {x["level"] for x in results} == {"error", "warning", "note", "none"}
    # SARIF 3.27.10: a kind other than "fail" has level "none"
    assert all(x["level"] == "none" for x in results if x["kind"] != "fail")
    # ruleIndex points at the descriptor of ruleId
    rules = run_of(log)["tool"]["driver"]["rules"]
    assert all(rules[x["ruleIndex"]]["id"] == x["ruleId"] for x in results)
    # decisions, per proposal, in the invocation
    (invocation,) = run_of(log)["invocations"]
    assert invocation["executionSuccessful"] is True
    assert [(d["proposal_id"], d["decision"]) for d in invocation["properties"]["decisions"]] == [
        (r["proposal_id"], r["decision"]) for r in data["reviews"]
    ]
    assert run_of(log)["properties"]["threshold"] == threshold
    assert run_of(log)["properties"]["domain_thresholds"] == domains


def test_a_result_carries_the_message_the_fix_and_the_evidence(
    all_fixtures: tuple[Report, Json],
) -> None:
    report, log = all_fixtures
    results = iter(run_of(log)["results"])
    rules = run_of(log)["tool"]["driver"]["rules"]
    for r in report.reviews:
        for f in r.findings:
            x = next(results)
            # the rule's own words first, on their own line, then this proposal's
            title = rules[x["ruleIndex"]]["shortDescription"]["text"]
            assert title == f.title
            assert unescape(x["message"]["text"]) == (
                f"{title}\n\n{f.message}\n\nFix: {f.remediation}"
            )
            props = x["properties"]
            assert (props["severity"], props["domain"], props["outcome"], props["subject"]) == (
                f.severity.value,
                f.domain,
                f.outcome,
                f.subject,
            )
            assert props["evidence"] == [
                {"path": e.path, "role": e.role, "value": e.model_dump(mode="json")["value"]}
                for e in f.evidence
            ]
            assert props["proposal_title"] == r.title


def test_exact_result_for_a_blocking_violation(reference: Reviewer, ruleset: RuleSet) -> None:
    log = sarif(review(reference, BIOMETRICS), ruleset)
    x = result_of(log, "DS-004", "HO-F3-BIOMETRIC-ID")
    assert {k: x[k] for k in ("ruleId", "kind", "level")} == {
        "ruleId": "DS-004",
        "kind": "fail",
        "level": "error",
    }
    assert x["message"]["text"] == (
        "Impact assessment before sharing sensitive or vulnerable people's data\n\n"
        "Sensitive data, or data about people at particular risk (refugees, children, suspects, "
        "detainees, victims or witnesses), is shared, but the data protection impact assessment "
        "is: none.\n\nFix: Carry out a full data protection impact assessment before any data is "
        "shared or any system is handed over: map the flows and the systems, assess the risks to "
        "the people concerned (misuse by the recipient or by a company for its own ends, function "
        "creep, breach, a change of control), decide the safeguards, and have it signed off by the "
        "data protection officer. Under Directive (EU) 2016/680 the competent authority makes the "
        "same assessment (Article 27). Owner: the data controller."
    )
    assert x["locations"] == [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": BIOMETRICS, "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 113, "startColumn": 17},
            },
            "logicalLocations": [
                {
                    "name": "status",
                    "fullyQualifiedName": "data_sharing.impact_assessment.status",
                    "kind": "member",
                },
                {
                    "name": "HO-F3-BIOMETRIC-ID",
                    "fullyQualifiedName": "HO-F3-BIOMETRIC-ID",
                    "kind": "object",
                },
            ],
            "message": {"text": 'data_sharing.impact_assessment.status: "none"'},
            "properties": {
                "role": "violation",
                "pointer": "/data_sharing/impact_assessment/status",
                "present": True,
            },
        }
    ]
    assert "suppressions" not in x
    props = x["properties"]
    assert (props["decision"], props["blocks"], props["waived"]) == ("reject", True, False)
    # GDPR binds only under a GDPR regime; this proposal's regime is national
    assert props["references"][0] == {
        "instrument": "Regulation (EU) 2016/679 (GDPR)",
        "provision": "Article 35(1) and 35(3)(b)",
        "url": "https://eur-lex.europa.eu/eli/reg/2016/679/oj",
        "binding": "good_practice",
    }


def test_a_rule_descriptor_per_rule_that_ran(
    all_fixtures: tuple[Report, Json], ruleset: RuleSet
) -> None:
    report, log = all_fixtures
    driver = run_of(log)["tool"]["driver"]
    assert (driver["name"], driver["version"], driver["semanticVersion"]) == (
        "compliance",
        report.tool_version,
        report.tool_version,
    )
    descriptors = driver["rules"]
    assert len(descriptors) == report.rule_set.rule_count == len(ruleset.rules)
    for rule, d in zip(ruleset.rules, descriptors, strict=True):
        level, security = SEVERITY_MAP[rule.severity.value]
        assert d["id"] == rule.id
        assert d["shortDescription"] == {"text": rule.title}
        assert d["defaultConfiguration"] == {"level": level}
        assert d["properties"] == {
            "tags": ["security", rule.domain, rule.severity.value],
            "security-severity": security,
            "domain": rule.domain,
            "domain_title": ruleset.domain_title(rule.domain),
            "severity": rule.severity.value,
        }
        assert d["helpUri"] == rule.references[0].url
        assert d["help"]["text"].startswith(f"Fix: {rule.remediation}\n\nSources:\n")
        assert d["help"]["markdown"].startswith(f"**Fix:** {md(rule.remediation)}\n")
        for ref in rule.references:
            assert f"- {ref.instrument}, {ref.provision}: {ref.url}" in d["help"]["text"]
            # parentheses encoded, so that none can end the link early (CommonMark)
            link = ref.url.replace("(", "%28").replace(")", "%29")
            assert f"]({link})" in d["help"]["markdown"]
    ds004 = descriptors[[r.id for r in ruleset.rules].index("DS-004")]
    assert ds004["name"] == "ImpactAssessmentBeforeSharingSensitiveOrVulnerablePeoplesData"
    assert ds004["fullDescription"] == {
        "text": "Impact assessment before sharing sensitive or vulnerable people's data. "
        "Domain: Data sharing and data protection. Severity: high."
    }
    assert ds004["help"]["markdown"].endswith(
        "\n\n**Sources:**\n\n"
        "- [Regulation (EU) 2016/679 (GDPR), Article 35(1) and 35(3)(b)]"
        "(https://eur-lex.europa.eu/eli/reg/2016/679/oj)\n"
        "- [Directive (EU) 2016/680 (law enforcement directive), Article 27 (data protection "
        "impact assessment)](https://eur-lex.europa.eu/eli/dir/2016/680/oj)\n"
        "- [UNHCR Policy on the Protection of Personal Data of Persons of Concern (2015), "
        "Part 4, data protection impact assessments](https://www.refworld.org/docid/55643c1d4.html)\n"
        "- [IASC Operational Guidance on Data Responsibility in Humanitarian Action (2021, "
        "revised 2023), actions for data responsibility, data impact assessment]"
        "(https://interagencystandingcommittee.org/operational-response/"
        "iasc-operational-guidance-data-responsibility-humanitarian-action-0)"
    )


def test_a_narrowed_run_describes_only_the_rules_that_ran(ruleset: RuleSet) -> None:
    narrowed = dataclasses.replace(
        ruleset, rules=tuple(r for r in ruleset.rules if r.domain == "data_sharing")
    )
    with Reviewer(narrowed, engine="reference") as reviewer:
        report = review(reviewer, BIOMETRICS)
    log = sarif(report, narrowed)
    assert schema_errors(log) == []
    ids = [d["id"] for d in run_of(log)["tool"]["driver"]["rules"]]
    assert ids == [r.id for r in narrowed.rules]
    assert len(ids) == report.rule_set.rule_count
    assert [(x["ruleId"], ids[x["ruleIndex"]]) for x in run_of(log)["results"]] == [
        ("DS-004", "DS-004"),
        ("DS-011", "DS-011"),
        ("DS-018", "DS-018"),
        ("DS-019", "DS-019"),
        ("DS-020", "DS-020"),
        ("DS-021", "DS-021"),
    ]
    # the rules passed must be the rules that ran
    with pytest.raises(ValueError, match="not among the rules given"):
        render_sarif(report, [r for r in narrowed.rules if r.id != "DS-011"], str)


def test_a_projects_own_rule_text_and_urls_stay_valid(
    reference: Reviewer, ruleset: RuleSet
) -> None:
    """Rules from a project's own directory: a URL with characters a URI cannot hold, text with
    braces and a line break, and a severity the project changed."""
    rule = next(r for r in ruleset.rules if r.id == "DS-004")
    own = dataclasses.replace(
        rule,
        severity=Severity.medium,
        override=SeverityOverride(Severity.high, "Assessments are reviewed twice.", "c.toml"),
        remediation="Fill in {the form}.\nThen review.",
        references=(dataclasses.replace(rule.references[0], url="https://ex.org/règle|2(b"),),
    )
    rules = [own if r.id == "DS-004" else r for r in ruleset.rules]
    report = review(reference, BIOMETRICS)
    log = json.loads(render_sarif(report, rules, ruleset.domain_title))
    assert schema_errors(log) == []
    d = run_of(log)["tool"]["driver"]["rules"][rules.index(own)]
    assert d["helpUri"] == "https://ex.org/r%C3%A8gle%7C2(b"
    assert d["help"] == {
        "text": "Fix: Fill in {{the form}}.\nThen review.\n\nSources:\n"
        "- Regulation (EU) 2016/679 (GDPR), Article 35(1) and 35(3)(b): https://ex.org/règle|2(b",
        "markdown": "**Fix:** Fill in {{the form}}. Then review.\n\n**Sources:**\n\n"
        "- [Regulation (EU) 2016/679 (GDPR), Article 35(1) and 35(3)(b)]"
        "(https://ex.org/r%C3%A8gle%7C2%28b)",
    }
    assert d["defaultConfiguration"] == {"level": "warning"}
    assert d["properties"]["security-severity"] == "5.5"
    assert d["properties"]["severity_override"] == {
        "original_severity": "high",
        "reason": "Assessments are reviewed twice.",
        "origin": "c.toml",
    }


def test_the_run_records_the_rule_set_and_the_gate(all_fixtures: tuple[Report, Json]) -> None:
    report, log = all_fixtures
    data = report.model_dump(mode="json")
    assert run_of(log)["properties"] == {
        "report_version": "1.5",
        "engine": "durable",
        "rule_set": data["rule_set"],
        "threshold": "high",
        "domain_thresholds": {},
    }
    assert run_of(log)["columnKind"] == "unicodeCodePoints"
    assert run_of(log)["invocations"][0]["properties"]["summary"] == data["summary"]


def test_the_output_is_deterministic(ruleset: RuleSet) -> None:
    def once() -> str:
        with Reviewer(ruleset, engine="reference") as reviewer:
            report = review(reviewer, *JSON_FIXTURES[:5], WORKBOOKS[0])
        return render_sarif(report, ruleset.rules, ruleset.domain_title)

    first = once()
    assert once() == first
    assert first.startswith('{\n  "$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/')


# ------------------------------------------------------------------------------ 3. locations


def _about(finding: Json) -> list[Json]:
    return [e for e in finding["evidence"] if e["role"] != "context"]


def test_json_input_gives_the_line_and_column_of_each_answer(
    all_fixtures: tuple[Report, Json],
) -> None:
    report, log = all_fixtures
    results = iter(run_of(log)["results"])
    checked = 0
    for r in report.model_dump(mode="json")["reviews"]:
        for f in r["findings"]:
            x = next(results)
            if not r["source"].endswith(".json"):
                continue
            assert len(x["locations"]) == len(_about(f))
            for e, loc in zip(_about(f), x["locations"], strict=True):
                where = e["location"]
                assert loc["physicalLocation"] == {
                    "artifactLocation": {"uri": r["source"], "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": where["line"], "startColumn": where["column"]},
                }
                assert loc["logicalLocations"][0]["fullyQualifiedName"] == e["path"]
                assert loc["logicalLocations"][-1] == {
                    "name": r["proposal_id"],
                    "fullyQualifiedName": r["proposal_id"],
                    "kind": "object",
                }
                assert loc["properties"] == {
                    "role": e["role"],
                    "pointer": where["pointer"],
                    "present": where["present"],
                }
                checked += 1
    assert checked > 150


def test_workbook_input_gives_the_sheet_and_cell_of_each_answer(
    all_fixtures: tuple[Report, Json],
) -> None:
    report, log = all_fixtures
    results = iter(run_of(log)["results"])
    checked = 0
    for r in report.model_dump(mode="json")["reviews"]:
        for f in r["findings"]:
            x = next(results)
            if not r["source"].endswith(".xlsx"):
                continue
            for e, loc in zip(_about(f), x["locations"], strict=True):
                where = e["location"]
                cell = f"{where['sheet']}!{where['cell']}"
                # code scanning needs a line: the cell's row, and its column number
                row, column = coordinate_to_tuple(where["cell"])
                assert loc["physicalLocation"] == {
                    "artifactLocation": {"uri": r["source"], "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": row, "startColumn": column, "message": {"text": cell}},
                }
                assert loc["logicalLocations"][1] == {
                    "name": cell,
                    "fullyQualifiedName": f"{r['source']}/{cell}",
                    "kind": "element",
                }
                assert loc["properties"] == {
                    "role": e["role"],
                    "sheet": where["sheet"],
                    "cell": where["cell"],
                    "present": where["present"],
                }
                checked += 1
    assert checked > 50


def test_every_result_is_at_a_line_of_a_file_under_the_source_root(
    all_fixtures: tuple[Report, Json],
) -> None:
    """GitHub code scanning needs a file and a start line for every result: every location of
    every result of every fixture, JSON or workbook, has them."""
    _, log = all_fixtures
    run = run_of(log)
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == ROOT.as_uri() + "/"
    sources = set(JSON_FIXTURES) | set(WORKBOOKS)
    seen = set()
    for x in run["results"]:
        for loc in x["locations"]:
            physical = loc["physicalLocation"]
            assert physical["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
            assert physical["artifactLocation"]["uri"] in sources
            assert physical["region"]["startLine"] >= 1
            assert physical["region"]["startColumn"] >= 1
            seen.add(physical["artifactLocation"]["uri"])
    assert {p for p in seen if p.endswith(".xlsx")} == set(WORKBOOKS)


def test_the_cell_of_a_workbook_finding_exactly(reference: Reviewer, ruleset: RuleSet) -> None:
    log = sarif(review(reference, BIOMETRICS_XLSX), ruleset)
    (loc,) = result_of(log, "DS-004", "HO-F3-BIOMETRIC-ID")["locations"]
    assert loc == {
        "physicalLocation": {
            "artifactLocation": {"uri": BIOMETRICS_XLSX, "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": 3, "startColumn": 3, "message": {"text": "Data sharing!C3"}},
        },
        "logicalLocations": [
            {
                "name": "status",
                "fullyQualifiedName": "data_sharing.impact_assessment.status",
                "kind": "member",
            },
            {
                "name": "Data sharing!C3",
                "fullyQualifiedName": f"{BIOMETRICS_XLSX}/Data sharing!C3",
                "kind": "element",
            },
            {
                "name": "HO-F3-BIOMETRIC-ID",
                "fullyQualifiedName": "HO-F3-BIOMETRIC-ID",
                "kind": "object",
            },
        ],
        "message": {"text": 'data_sharing.impact_assessment.status: "none"'},
        "properties": {"role": "violation", "sheet": "Data sharing", "cell": "C3", "present": True},
    }


@pytest.fixture
def odd_file(tmp_path: Path) -> Path:
    """A copy of a fixture in a directory and under a name that a URI must encode."""
    folder = tmp_path / "my proposals"
    folder.mkdir()
    path = folder / "Übersicht #1 (draft).json"
    path.write_bytes((ROOT / BIOMETRICS).read_bytes())
    return path


ODD_URI = "my%20proposals/%C3%9Cbersicht%20%231%20%28draft%29.json"


def _file_uri(path: Path) -> str:
    return "file://" + "/".join(part.replace(" ", "%20") for part in path.as_posix().split("/"))


@pytest.mark.parametrize(
    ("given", "root", "artifact"),
    [
        # under the root (the current directory unless --source-root says otherwise): relative
        ("relative", None, {"uri": ODD_URI, "uriBaseId": "%SRCROOT%"}),
        ("absolute", None, {"uri": ODD_URI, "uriBaseId": "%SRCROOT%"}),
        ("relative", "..", {"uri": "{cwd}/" + ODD_URI, "uriBaseId": "%SRCROOT%"}),
        # outside it: an absolute file URI, and no base
        ("relative", "elsewhere", {"uri": "file://{cwd_uri}/" + ODD_URI}),
        ("absolute", "elsewhere", {"uri": "file://{cwd_uri}/" + ODD_URI}),
        ("stdin", None, None),
    ],
    ids=["relative", "absolute", "root-above", "outside-relative", "outside-absolute", "stdin"],
)
def test_files_are_uris_relative_to_the_source_root(
    given: str,
    root: str | None,
    artifact: Json | None,
    odd_file: Path,
    reference: Reviewer,
    ruleset: RuleSet,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cwd = odd_file.parent.parent
    (cwd / "elsewhere").mkdir()
    monkeypatch.chdir(cwd)
    if given == "relative":
        path = str(odd_file.relative_to(cwd))
    elif given == "absolute":
        path = str(odd_file)
    else:
        path = "-"
        stdin = io.TextIOWrapper(io.BytesIO(odd_file.read_bytes()), encoding="utf-8")
        monkeypatch.setattr(sys, "stdin", stdin)
    loaded = read_proposals([path])
    report = reference.report([reference.review(i.proposal, i.source_map) for i in loaded])
    text = render_sarif(report, ruleset.rules, ruleset.domain_title, root)
    log = json.loads(text)
    assert schema_errors(log) == []
    base = (cwd / root).resolve() if root is not None else cwd
    assert run_of(log)["originalUriBaseIds"] == {
        "%SRCROOT%": {
            "uri": _file_uri(base) + "/",
            "description": {
                "text": "The source root: input files under it are given relative to it."
            },
        }
    }
    (loc,) = result_of(log, "DS-004", "HO-F3-BIOMETRIC-ID")["locations"]
    if artifact is None:  # standard input is no file: where it is, is the field and proposal
        assert "physicalLocation" not in loc
        assert [ll["kind"] for ll in loc["logicalLocations"]] == ["member", "object"]
        return
    expected = {
        k: v.format(cwd=cwd.name, cwd_uri=_file_uri(cwd)[len("file://") :])
        for k, v in artifact.items()
    }
    assert loc["physicalLocation"] == {
        "artifactLocation": expected,
        "region": {"startLine": 113, "startColumn": 17},
    }


def test_a_root_reached_through_a_symbolic_link_still_holds_the_file(
    odd_file: Path, reference: Reviewer, ruleset: RuleSet, tmp_path: Path
) -> None:
    """The file given by its real path, the root through a link to its directory."""
    link = tmp_path / "link"
    link.symlink_to(odd_file.parent.parent, target_is_directory=True)
    loaded = read_proposals([str(odd_file)])
    report = reference.report([reference.review(i.proposal, i.source_map) for i in loaded])
    log = json.loads(render_sarif(report, ruleset.rules, ruleset.domain_title, link))
    (loc,) = result_of(log, "DS-004", "HO-F3-BIOMETRIC-ID")["locations"]
    assert loc["physicalLocation"]["artifactLocation"] == {
        "uri": ODD_URI,
        "uriBaseId": "%SRCROOT%",
    }


def test_a_file_name_that_is_not_utf8_is_written_as_utf8(
    tmp_path: Path, reference: Reviewer, ruleset: RuleSet
) -> None:
    raw = os.path.join(os.fsencode(tmp_path), b"bad\xff.json")
    with open(raw, "wb") as handle:
        handle.write((ROOT / BIOMETRICS).read_bytes())
    loaded = read_proposals([os.fsdecode(raw)])
    report = reference.report([reference.review(i.proposal, i.source_map) for i in loaded])
    text = render_sarif(report, ruleset.rules, ruleset.domain_title)
    text.encode("utf-8")  # no lone surrogate left: the file can be written
    log = json.loads(text)
    assert schema_errors(log) == []
    (loc,) = result_of(log, "DS-004", "HO-F3-BIOMETRIC-ID")["locations"]
    assert loc["physicalLocation"]["artifactLocation"]["uri"].endswith("/bad%FF.json")
    decisions = run_of(log)["invocations"][0]["properties"]["decisions"]
    assert decisions[0]["source"] == os.fsdecode(raw)  # the same string as in the JSON report


def test_findings_without_located_evidence_point_at_the_proposal(
    reference: Reviewer, ruleset: RuleSet
) -> None:
    """A finding with no answer of its own to point at, or an answer with no location, points
    at line 1 of the proposal's file (code scanning shows a result only with a line); with no
    file at all (a review made without a source), at the proposal alone."""
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        (item,) = read_proposals([BIOMETRICS])
    bare = reference.review(item.proposal)  # as a library: no source map
    located = reference.review(item.proposal, item.source_map)
    first, second = located.findings[:2]
    context_only = first.model_copy(
        update={"evidence": [e for e in first.evidence if e.role == "context"]}
    )
    unlocated = second.model_copy(
        update={"evidence": [e.model_copy(update={"location": None}) for e in second.evidence]}
    )
    located = located.model_copy(
        update={"findings": [context_only, unlocated, *located.findings[2:]]}
    )
    log = sarif(reference.report([bare, located]), ruleset)
    assert schema_errors(log) == []
    results = run_of(log)["results"]
    proposal = {
        "name": "HO-F3-BIOMETRIC-ID",
        "fullyQualifiedName": "HO-F3-BIOMETRIC-ID",
        "kind": "object",
    }
    for x in results[: len(bare.findings)]:
        for loc in x["locations"]:
            assert "physicalLocation" not in loc
            assert loc["logicalLocations"][0]["kind"] == "member"
            assert loc["logicalLocations"][-1] == proposal
    file_start = {
        "artifactLocation": {"uri": BIOMETRICS, "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 1, "startColumn": 1},
    }
    assert results[len(bare.findings)]["locations"] == [
        {"physicalLocation": file_start, "logicalLocations": [proposal]}
    ]
    unlocated_result = results[len(bare.findings) + 1]
    assert unlocated_result["locations"]
    for loc in unlocated_result["locations"]:
        assert loc["physicalLocation"] == file_start
        assert loc["properties"] == {"role": "violation"}


# ------------------------------------------------------------------------------ fingerprints


def test_fingerprints_are_stable_and_tell_findings_apart(
    all_fixtures: tuple[Report, Json],
) -> None:
    report, log = all_fixtures
    results = iter(run_of(log)["results"])
    by_source: dict[str, list[str]] = {}
    for r in report.reviews:
        for f in r.findings:
            x = next(results)
            paths = sorted(e.path for e in f.evidence if e.role != "context")
            key = json.dumps(
                [f.rule_id, r.proposal_id, f.subject, paths],
                ensure_ascii=False,
                separators=(",", ":"),
            )
            digest = hashlib.sha256(key.encode()).hexdigest()
            assert x["partialFingerprints"] == {"complianceFinding/v1": digest}
            by_source.setdefault(f"{r.source}#{r.proposal_id}", []).append(digest)
    for prints in by_source.values():
        assert len(set(prints)) == len(prints)  # DS-016 fires twice on one proposal: two prints
    # the same proposal as JSON and as a workbook: other file, lines and cells, same prints
    assert (
        by_source[f"{BIOMETRICS}#HO-F3-BIOMETRIC-ID"]
        == by_source[f"{BIOMETRICS_XLSX}#HO-F3-BIOMETRIC-ID"]
    )


# ------------------------------------------------------------------------------ 4. waivers

JUSTIFICATION = "The assessment is scheduled and funded; board minute 2026-09-28."
APPROVER = "Amina Diallo, General Counsel"


@pytest.fixture(scope="module")
def waived(ruleset: RuleSet, tmp_path_factory: pytest.TempPathFactory) -> tuple[Report, Json]:
    """DS-004 waived until 2027-03-31; the waiver for DS-011 ran out on 2026-06-30."""
    path = tmp_path_factory.mktemp("waivers") / "waivers.yaml"
    path.write_text(
        "version: 1\n"
        "waivers:\n"
        "  - id: W-2026-014\n"
        "    rule: DS-004\n"
        "    proposal: HO-F3-BIOMETRIC-ID\n"
        f"    justification: '{JUSTIFICATION}'\n"
        f"    approved_by: {APPROVER}\n"
        "    approved_on: 2026-10-01\n"
        "    expires: 2027-03-31\n"
        "  - id: W-2025-003\n"
        "    rule: DS-011\n"
        "    proposal: HO-F3-BIOMETRIC-ID\n"
        f"    justification: '{JUSTIFICATION}'\n"
        "    approved_by: Jane Doe, DPO\n"
        "    approved_on: 2025-01-15\n"
        "    expires: 2026-06-30\n",
        encoding="utf-8",
    )
    waivers = load_waivers(path, ruleset, as_of=date(2026, 11, 21), label="waivers.yaml")
    with Reviewer(ruleset, engine="reference", waivers=waivers) as reviewer:
        report = review(reviewer, BIOMETRICS)
    return report, sarif(report, ruleset)


def test_a_waived_finding_is_an_accepted_external_suppression(
    waived: tuple[Report, Json],
) -> None:
    _, log = waived
    assert schema_errors(log) == []
    x = result_of(log, "DS-004", "HO-F3-BIOMETRIC-ID")
    assert x["suppressions"] == [
        {
            "kind": "external",
            "status": "accepted",
            "justification": JUSTIFICATION,
            "properties": {
                "waiver_id": "W-2026-014",
                "approved_by": APPROVER,
                "approved_on": "2026-10-01",
                "expires": "2027-03-31",
                "origin": "waivers.yaml",
            },
        }
    ]
    assert x["level"] == "warning"  # high, but waived: it does not block
    assert (x["properties"]["waived"], x["properties"]["blocks"]) == (True, False)
    assert x["message"]["text"].endswith(
        "Owner: the data controller.\n\nWaived by W-2026-014 until 2027-03-31 (approved by "
        f"{APPROVER} on 2026-10-01): {JUSTIFICATION}"
    )


def test_an_expired_waiver_suppresses_nothing_and_says_it_ran_out(
    waived: tuple[Report, Json],
) -> None:
    report, log = waived
    x = result_of(log, "DS-011", "HO-F3-BIOMETRIC-ID")
    assert "suppressions" not in x
    assert x["level"] == "error"
    assert x["message"]["text"].endswith(
        "\n\nWaiver W-2025-003 (approved by Jane Doe, DPO on 2025-01-15) ran out on "
        "2026-06-30: the finding is open again."
    )
    assert x["properties"]["waived"] is False
    assert x["properties"]["waiver"] == {
        "id": "W-2025-003",
        "status": "expired",
        "justification": JUSTIFICATION,
        "approved_by": "Jane Doe, DPO",
        "approved_on": "2025-01-15",
        "expires": "2026-06-30",
        "origin": "waivers.yaml",
        "superseded": [],
    }
    suppressed = [r["ruleId"] for r in run_of(log)["results"] if "suppressions" in r]
    assert suppressed == ["DS-004"]
    assert report.waivers is not None
    assert run_of(log)["properties"]["waivers"] == report.waivers.model_dump(mode="json")
    assert [w["status"] for w in run_of(log)["properties"]["waivers"]["waivers"]] == [
        "applied",
        "expired",
    ]
    assert run_of(log)["invocations"][0]["properties"]["decisions"][0]["decision"] == "reject"


# ------------------------------------------------------------------------------ 5. hostile text

HOSTILE = 'Unit "Alpha" \\ {0} }}{{ </script><!-- x -->\n\tline two \u200f ü 漢字 😀 \r'


def test_hostile_input_survives_as_exact_json_strings(
    tmp_path: Path, reference: Reviewer, ruleset: RuleSet
) -> None:
    data = json.loads((ROOT / DENIED_UNIT).read_text("utf-8"))
    data["title"] = HOSTILE
    data["security_units"][0]["name"] = HOSTILE
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    loaded = read_proposals([str(path)])
    report = reference.report([reference.review(i.proposal, i.source_map) for i in loaded])
    text = render_sarif(report, ruleset.rules, ruleset.domain_title)
    assert "\n\t" not in text  # control characters are escaped inside JSON strings
    log = json.loads(text)
    assert schema_errors(log) == []
    (r,) = report.reviews
    finding = next(f for f in r.findings if f.rule_id == "ACC-009")
    assert finding.message.startswith(HOSTILE)
    x = result_of(log, "ACC-009", r.proposal_id)
    assert x["properties"]["proposal_title"] == HOSTILE
    assert run_of(log)["invocations"][0]["properties"]["decisions"][0]["title"] == HOSTILE
    assert unescape(x["message"]["text"]) == (
        f"{finding.title}\n\n{finding.message}\n\nFix: {finding.remediation}"
    )
    assert x["message"]["text"].startswith(
        "No UN support to a unit that failed human rights vetting\n\n"
        'Unit "Alpha" \\ {{0}} }}}}{{{{ </script><!-- x -->\n\tline two \u200f ü 漢字 😀 \r'
    )
