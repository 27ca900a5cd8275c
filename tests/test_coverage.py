"""The framework coverage matrix: the catalogue, the rules' covers key, and `rules coverage`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from compliance.errors import RuleError
from compliance.exitcodes import ExitCode
from compliance.rules import coverage
from compliance.rules.load import load_rules

from .conftest import run_cli
from .test_ruleload import rule

CORE = {"HRDDP", "LEAHY", "UNSCREEN", "GDPR", "LED", "IASCDR", "UNSCR2664", "FATF", "UNGP", "PSEA"}

CATALOGUE: dict[str, Any] = {
    "frameworks": [
        {
            "id": "POL",
            "title": "Our policy",
            "instrument": "Our data policy (2024)",
            "url": "https://example.org/policy",
            "requirements": [
                {"id": "POL-1", "provision": "Section 1", "summary": "Flows have a lawful basis."},
                {
                    "id": "POL-2",
                    "provision": "Section 2",
                    "summary": "Staff are trained.",
                    "out_of_scope": "Checked in staff records, not in a proposal.",
                },
            ],
        }
    ]
}


def write_dir(tmp_path: Path, rules: list[dict[str, Any]], catalogue: Any = CATALOGUE) -> Path:
    (tmp_path / "data.yaml").write_text(
        yaml.safe_dump({"domain": "data_sharing", "rules": rules}, sort_keys=False),
        encoding="utf-8",
    )
    if catalogue is not None:
        (tmp_path / "frameworks.yaml").write_text(yaml.safe_dump(catalogue), encoding="utf-8")
    return tmp_path


def errors(tmp_path: Path) -> list[str]:
    with pytest.raises(RuleError) as info:
        load_rules([tmp_path], builtin=False)
    return [p.replace(f"{tmp_path}/", "") for p in info.value.problems]


# --------------------------------------------------------------------------- built-in rules


def test_the_json_form() -> None:
    run = run_cli("rules", "coverage", "--format", "json", "--no-config")
    assert (run.code, run.err) == (ExitCode.PASSED, "")
    payload = json.loads(run.out)
    assert list(payload) == ["frameworks"]
    for framework in payload["frameworks"]:
        assert list(framework) == ["id", "title", "instrument", "url", "requirements"]
        for requirement in framework["requirements"]:
            assert list(requirement) == ["id", "provision", "summary", "rules", "out_of_scope"]
    hrddp = payload["frameworks"][0]
    assert hrddp["requirements"][0] == {
        "id": "HRDDP-1",
        "provision": "Annex, core principle",
        "summary": "No UN support where there are substantial grounds for believing there is a "
        "real risk of the recipient committing grave violations and the authorities fail to take "
        "the necessary corrective or mitigating measures.",
        "rules": ["ACC-009"],
        "out_of_scope": None,
    }


def test_at_least_eight_core_frameworks() -> None:
    frameworks = load_rules().frameworks
    assert len(frameworks) >= 8
    assert {f.id for f in frameworks} >= CORE


def test_every_requirement_has_rules_or_a_reason_and_every_rule_covers_one() -> None:
    assert coverage.matrix(load_rules()).problems == ()


def test_every_builtin_rule_maps_to_a_requirement() -> None:
    ruleset = load_rules()
    assert [r.id for r in ruleset.rules if not r.covers] == []
    defined = {q.id for f in ruleset.frameworks for q in f.requirements}
    assert {c for r in ruleset.rules for c in r.covers} <= defined


def test_requirements_new_rules_will_cover_exist() -> None:
    defined = {q.id for f in load_rules().frameworks for q in f.requirements}
    wanted = {"GDPR-2", "GDPR-5", "GDPR-7", "GDPR-10", "GDPR-12", "GDPR-15", "GDPR-17", "GDPR-18"}
    wanted |= {"LED-1", "LED-3", "UNGP-22", "UNGP-25", "UNGP-29", "UNGP-31", "PSEA-5"}
    wanted |= {"HRDDP-2", "HRDDP-3", "HRDDP-6", "HRDDP-7", "LEAHY-6", "UNSCREEN-1", "FATF-1"}
    assert wanted <= defined


# --------------------------------------------------------------------------- a small catalogue


def test_text_output_of_a_small_catalogue(tmp_path: Path) -> None:
    write_dir(tmp_path, [rule(id="ORG-001", covers=["POL-1"])])
    text = coverage.render_text(coverage.matrix(load_rules([tmp_path], builtin=False)))
    assert text.splitlines() == [
        "POL  Our data policy (2024)",
        "  1 of 2 requirements checked by rules",
        "  POL-1  Section 1",
        "    Flows have a lawful basis.",
        "    rules: ORG-001",
        "  POL-2  Section 2",
        "    Staff are trained.",
        "    Out of scope: Checked in staff records, not in a proposal.",
        "",
        "1 framework, 2 requirements: 1 checked by rules, 1 out of scope or not checked yet",
    ]


def test_markdown_of_a_small_catalogue(tmp_path: Path) -> None:
    write_dir(tmp_path, [rule(id="ORG-001", covers=["POL-1"])])
    markdown = coverage.render_markdown(coverage.matrix(load_rules([tmp_path], builtin=False)))
    assert markdown.split("\n")[4:] == [
        "## Our policy (POL)",
        "",
        "[Our data policy (2024)](https://example.org/policy). 1 of 2 requirements checked by "
        "rules.",
        "",
        "| Requirement | Provision | Summary | Rules or out of scope |",
        "|---|---|---|---|",
        "| POL-1 | Section 1 | Flows have a lawful basis. | [ORG-001](rules.md#org-001) |",
        "| POL-2 | Section 2 | Staff are trained. | Out of scope: Checked in staff records, not in a "
        "proposal. |",
        "",
    ]


def test_problems_of_the_matrix(tmp_path: Path) -> None:
    catalogue = {"frameworks": [dict(CATALOGUE["frameworks"][0])]}
    catalogue["frameworks"][0]["requirements"] = [
        {"id": "POL-1", "provision": "S1", "summary": "s", "out_of_scope": "why"},
        {"id": "POL-2", "provision": "S2", "summary": "s"},
    ]
    write_dir(tmp_path, [rule(id="ORG-001", covers=["POL-1"]), rule(id="ORG-002")], catalogue)
    assert coverage.matrix(load_rules([tmp_path], builtin=False)).problems == (
        "rule ORG-002 (data.yaml) covers no framework requirement",
        f"requirement POL-1 ({tmp_path}/frameworks.yaml) is covered by ORG-001 but marked "
        "out_of_scope: remove the reason",
        f"requirement POL-2 ({tmp_path}/frameworks.yaml) is checked by no rule and has no "
        "out_of_scope reason",
    )


# --------------------------------------------------------------------------- load errors


def test_an_unknown_requirement_is_a_load_error(tmp_path: Path) -> None:
    write_dir(tmp_path, [rule(covers=["POL-1", "POL-9"])])
    assert errors(tmp_path) == [
        "data.yaml:31: rule ORG-001: covers[1]: unknown requirement 'POL-9' (see frameworks.yaml)"
    ]


def test_a_user_rule_may_cover_a_builtin_requirement(tmp_path: Path) -> None:
    write_dir(tmp_path, [rule(covers=["GDPR-5"])], catalogue=None)
    ruleset = load_rules([tmp_path])
    assert ruleset.rules[-1].covers == ("GDPR-5",)


def test_without_a_catalogue_every_id_is_unknown(tmp_path: Path) -> None:
    write_dir(tmp_path, [rule(covers=["GDPR-5"])], catalogue=None)
    assert errors(tmp_path) == [
        "data.yaml:30: rule ORG-001: covers[0]: unknown requirement 'GDPR-5' (no catalogue is loaded)"
    ]


def test_covers_is_checked_for_shape(tmp_path: Path) -> None:
    write_dir(tmp_path, [rule(covers="POL-1"), rule(id="ORG-002", covers=["pol 1"])])
    assert errors(tmp_path) == [
        "data.yaml:29: rule ORG-001: covers: Input should be a valid list",
        "data.yaml:57: rule ORG-002: covers[0]: String should match pattern "
        "'^[A-Z][A-Z0-9]*-[A-Z0-9]+$'",
    ]


def test_a_requirement_listed_twice(tmp_path: Path) -> None:
    write_dir(tmp_path, [rule(covers=["POL-1", "POL-1"])])
    assert errors(tmp_path) == ["data.yaml:31: rule ORG-001: covers[1]: 'POL-1' is listed twice"]


def test_catalogue_errors_name_file_framework_and_key(tmp_path: Path) -> None:
    bad: dict[str, Any] = {
        "frameworks": [
            {"id": "POL", "title": "t", "instrument": "i", "requirements": [{"id": "X-1"}]},
            {
                "id": "OTH",
                "title": "t",
                "instrument": "i",
                "requirements": [{"id": "POL-1", "provision": "p", "summary": "s"}],
            },
        ]
    }
    write_dir(tmp_path, [rule()], bad)
    assert errors(tmp_path) == [
        "frameworks.yaml: framework POL: requirements[0].provision: required key is missing",
        "frameworks.yaml: framework POL: requirements[0].summary: required key is missing",
    ]
    bad["frameworks"][0]["requirements"] = [{"id": "X-1", "provision": "p", "summary": "s"}]
    bad["frameworks"][1]["requirements"][0]["extra"] = 1
    write_dir(tmp_path, [rule()], bad)
    assert errors(tmp_path) == [
        "frameworks.yaml: framework OTH: requirements[0].extra: unknown key",
    ]
    del bad["frameworks"][1]["requirements"][0]["extra"]
    write_dir(tmp_path, [rule()], bad)
    assert errors(tmp_path) == [
        "frameworks.yaml: framework POL: requirements[0].id: 'X-1' does not begin with 'POL-'",
        "frameworks.yaml: framework OTH: requirements[0].id: 'POL-1' does not begin with 'OTH-'",
    ]


def test_a_requirement_defined_by_two_catalogues(tmp_path: Path) -> None:
    clash = {
        "frameworks": [
            {
                "id": "GDPR",
                "title": "t",
                "instrument": "i",
                "requirements": [{"id": "GDPR-5", "provision": "p", "summary": "s"}],
            }
        ]
    }
    write_dir(tmp_path, [rule(covers=["GDPR-5"])], clash)
    with pytest.raises(RuleError) as info:
        load_rules([tmp_path])
    assert info.value.problems == [
        f"{tmp_path}/frameworks.yaml: framework GDPR: requirement GDPR-5: duplicate requirement "
        "id (also in rules/frameworks.yaml)"
    ]


# --------------------------------------------------------------------------- the command


def test_the_command_text_and_exit_codes(tmp_path: Path) -> None:
    run = run_cli("rules", "coverage", "--no-config")
    assert run.code == ExitCode.PASSED
    lines = run.out.splitlines()
    assert lines[:4] == [
        "HRDDP  UN Human Rights Due Diligence Policy on UN support to non-UN security forces "
        "(A/67/775-S/2013/110), with the Guidance Note (2015)",
        lines[1],
        "  HRDDP-1  Annex, core principle",
        lines[3],
    ]
    assert not any(line.startswith("problem:") for line in lines)

    write_dir(tmp_path, [rule()], catalogue=None)
    run = run_cli("rules", "coverage", "--no-config", "--rules", str(tmp_path))
    assert run.code == ExitCode.RULES_ERROR
    assert int(run.code) == 5
    assert (
        run.out.splitlines()[-1]
        == "problem: rule ORG-001 (data.yaml) covers no framework requirement"
    )
    run = run_cli("rules", "coverage", "--format", "json", "--no-config", "--rules", str(tmp_path))
    assert run.code == ExitCode.RULES_ERROR
    assert run.err.splitlines() == [
        "problem: rule ORG-001 (data.yaml) covers no framework requirement"
    ]
    json.loads(run.out)

    write_dir(tmp_path, [rule(covers=["NOPE-1"])], catalogue=None)
    run = run_cli("rules", "coverage", "--no-config", "--rules", str(tmp_path))
    assert run.code == ExitCode.RULES_ERROR
    assert run.err.splitlines()[0] == (
        f"error: {tmp_path}/data.yaml:30: rule ORG-001: covers[0]: unknown requirement 'NOPE-1' "
        "(see frameworks.yaml)"
    )
