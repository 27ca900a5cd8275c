"""Selecting and tuning rules: --domain, --rule, --skip-rule and the project config file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from compliance import load_rules
from compliance.errors import ConfigError, UsageError
from compliance.exitcodes import ExitCode
from compliance.gate.config import find_config, load_config
from compliance.rules.ruleset import DisabledRule, RuleSet
from compliance.rules.spec import Severity
from compliance.rules.tuning import Override, Selection, apply

from .conftest import ROOT, run_cli

FLAWED = str(ROOT / "fixtures" / "flawed-refugee-data-sharing.json")
EXEMPLARY = str(ROOT / "fixtures" / "exemplary-community-policing.json")
PROJECT = ROOT / "fixtures" / "project-config"


@pytest.fixture(scope="module")
def builtin() -> RuleSet:
    return load_rules()


def _ids(ruleset: RuleSet) -> list[str]:
    return [r.id for r in ruleset.rules]


def test_an_empty_selection_changes_nothing(builtin: RuleSet) -> None:
    assert apply(builtin, Selection()) is builtin


def test_domains_and_rules_select_their_union(builtin: RuleSet) -> None:
    tuned = apply(builtin, Selection(domains=("transparency",), rules=("HR-002",)))
    expected = [r.id for r in builtin.rules if r.domain == "transparency" or r.id == "HR-002"]
    assert _ids(tuned) == expected
    assert tuned.tuning is not None
    assert tuned.tuning.loaded == len(builtin.rules)
    assert tuned.hash == builtin.hash  # the loaded content is the same; the selection is recorded


def test_skip_and_disable_remove_rules(builtin: RuleSet) -> None:
    disabled = (DisabledRule("TRN-005", "published by the donor", "compliance.toml"),)
    tuned = apply(builtin, Selection(skip=("ACC-008",), disabled=disabled))
    assert _ids(tuned) == [r.id for r in builtin.rules if r.id not in ("ACC-008", "TRN-005")]


def test_names_are_matched_without_regard_to_case(builtin: RuleSet) -> None:
    tuned = apply(builtin, Selection(domains=("Civilian_Harm",), rules=("acc-007",)))
    assert tuned.tuning is not None
    assert (tuned.tuning.domains, tuned.tuning.rules) == (("civilian_harm",), ("ACC-007",))
    assert _ids(tuned) == ["ACC-007", *(r.id for r in builtin.rules if r.id.startswith("CIV-"))]


def test_a_blocker_is_lowered_only_when_the_entry_says_so(builtin: RuleSet) -> None:
    override = Override("DS-003", Severity.high, "court order", "c.toml", downgrade_blocker=True)
    tuned = apply(builtin, Selection(overrides=(override,)))
    assert next(r for r in tuned.rules if r.id == "DS-003").severity is Severity.high


def test_an_override_regrades_the_rule_and_keeps_the_reason(builtin: RuleSet) -> None:
    override = Override("ACC-007", Severity.high, "board policy", "compliance.toml")
    tuned = apply(builtin, Selection(overrides=(override,)))
    rule = next(r for r in tuned.rules if r.id == "ACC-007")
    assert rule.severity is Severity.high
    assert rule.override is not None
    assert (rule.override.original, rule.override.reason) == (Severity.medium, "board policy")
    assert len(tuned.rules) == len(builtin.rules)


@pytest.mark.parametrize(
    ("selection", "problems"),
    [
        (
            Selection(rules=("DS-999",), skip=("TRN-01",)),
            [
                "--rule DS-999: no such rule (did you mean DS-019?)",
                "--skip-rule TRN-01: no such rule (did you mean TRN-001?)",
            ],
        ),
        (
            Selection(domains=("finance",)),
            ["--domain finance: no loaded rule has this domain (domains: "],
        ),
        (Selection(skip=("HR-001", "hr-001")), ["--skip-rule HR-001: given twice"]),
        (Selection(rules=("HR-001",), skip=("HR-001",)), ["--rule HR-001: also given with"]),
        (
            Selection(
                rules=("TRN-005",),
                disabled=(DisabledRule("TRN-005", "donor publishes", "c.toml"),),
                config="c.toml",
            ),
            ["--rule TRN-005: the rule is disabled by c.toml (donor publishes); remove it"],
        ),
        (
            Selection(overrides=(Override("ACC-007", Severity.medium, "r", "c.toml"),)),
            ["config: severity override for ACC-007: the rule is already medium"],
        ),
        (
            Selection(overrides=(Override("DS-003", Severity.high, "r", "c.toml"),)),
            ["config: severity override for DS-003: lowering a blocker needs downgrade_blocker"],
        ),
        (
            Selection(
                disabled=(DisabledRule("HR-001", "r", "c.toml"),),
                overrides=(Override("HR-001", Severity.low, "r", "c.toml"),),
                config="c.toml",
            ),
            ["c.toml: HR-001 is both disabled and given a new severity"],
        ),
        (
            Selection(
                domains=("civilian_harm",),
                skip=("CIV-001", "CIV-002", "CIV-003", "CIV-004", "CIV-005", "CIV-006", "CIV-007"),
            ),
            ["no rule is left to run after selection (a review without rules would pass "],
        ),
    ],
)
def test_selection_mistakes_are_errors(
    builtin: RuleSet, selection: Selection, problems: list[str]
) -> None:
    with pytest.raises(UsageError) as caught:
        apply(builtin, selection)
    assert len(caught.value.problems) == len(problems)
    for got, want in zip(caught.value.problems, problems, strict=True):
        assert got.startswith(want)


# ---------------------------------------------------------------------------- config file


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "compliance.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_bundled_project_config_loads() -> None:
    config = load_config(PROJECT / "compliance.toml")
    assert config.rule_dirs == (PROJECT / "policy-rules",)
    assert [d.rule_id for d in config.disabled] == ["TRN-005"]
    assert [(o.rule_id, o.severity) for o in config.overrides] == [("ACC-007", Severity.high)]


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        ("[rules]\ndisabled = []\n", ["rules.disabled: unknown key"]),
        (
            '[[rules.disable]]\nid = "TRN-005"\n',
            ["rules.disable[0].reason: required key is missing"],
        ),
        (
            '[[rules.severity]]\nid = "ACC-007"\nseverity = "urgent"\nreason = "x"\n',
            [
                "rules.severity[0].severity: Input should be 'blocker', 'high', 'medium', "
                "'low' or 'info'"
            ],
        ),
        ('[[rules.disable]]\nid = "TRN-005"\nreason = "  "\n', ["rules.disable[0].reason: "]),
        ("[rules\n", ["not valid TOML: "]),
        ('[rules]\nbuiltin = "no"\n', ["rules.builtin: Input should be a valid boolean"]),
        (
            '[rules]\ndirectories = ["missing"]\n',
            ["rules.directories[0]: 'missing' is not a directory (paths are relative to"],
        ),
        ("[rules]\nbuiltin = false\n", ["rules.builtin: false, but no rule directories"]),
    ],
)
def test_config_mistakes_name_the_file_and_key(
    tmp_path: Path, text: str, problems: list[str]
) -> None:
    path = _config(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert len(caught.value.problems) == len(problems)
    for got, want in zip(caught.value.problems, problems, strict=True):
        assert got.startswith(f"{path}: {want}")


def test_the_config_is_found_in_a_parent_directory(tmp_path: Path) -> None:
    path = _config(tmp_path, "")
    (tmp_path / "a" / "b").mkdir(parents=True)
    assert find_config(tmp_path / "a" / "b") == path
    (tmp_path / "a" / ".git").mkdir()  # the project root: never look above it
    assert find_config(tmp_path / "a" / "b") is None
    (tmp_path.parent / f"{tmp_path.name}-sibling").mkdir()
    assert find_config(tmp_path.parent / f"{tmp_path.name}-sibling") != path


# ---------------------------------------------------------------------------- the command


def _review_json(*args: str, cwd: Path = ROOT) -> dict[str, object]:
    run = run_cli("review", "--format", "json", *args, cwd=cwd)
    assert run.code in (0, 3, 4), run.err
    return json.loads(run.out)  # type: ignore[no-any-return]


def test_review_records_the_project_config_in_the_report(tmp_path: Path) -> None:
    report = _review_json(FLAWED, cwd=PROJECT)
    selection = report["selection"]
    assert selection == {
        "config": "compliance.toml",
        "builtin_rules": True,
        "rules_loaded": len(load_rules().rules) + 1,
        "rules_run": len(load_rules().rules),
        "domains": [],
        "rules": [],
        "skipped": [],
        "disabled": [
            {
                "rule_id": "TRN-005",
                "reason": "Our donor publishes every grant to IATI itself; the unit does not "
                "hold a publisher account.",
                "origin": "compliance.toml",
            }
        ],
        "severity_overrides": [
            {
                "rule_id": "ACC-007",
                "severity": "high",
                "original_severity": "medium",
                "reason": "Partnership board decision 2026-04: no partnership without a "
                "grievance mechanism.",
                "origin": "compliance.toml",
            }
        ],
    }
    review = report["reviews"][0]  # type: ignore[index]
    ids = {f["rule_id"] for f in review["findings"]}
    assert "TRN-005" not in ids
    sources = [s["name"] for s in report["rule_set"]["sources"]]  # type: ignore[index]
    assert sources == ["compliance-core", "partnership-unit-policy"]


def test_an_override_changes_the_decision_and_the_finding_says_why(tmp_path: Path) -> None:
    proposal = json.loads(Path(EXEMPLARY).read_text(encoding="utf-8"))
    proposal["oversight"]["grievance_mechanism"] = {"exists": False, "criteria_met": []}
    source = tmp_path / "proposal.json"
    source.write_text(json.dumps(proposal), encoding="utf-8")
    plain = run_cli("review", "--format", "json", "--no-config", str(source))
    assert plain.code == ExitCode.PASSED  # a medium finding is a condition, not a block
    _config(
        tmp_path,
        '[[rules.severity]]\nid = "ACC-007"\nseverity = "high"\nreason = "board policy"\n',
    )
    tuned = run_cli("review", "--format", "json", str(source), cwd=tmp_path)
    assert tuned.code == ExitCode.BLOCKED
    finding = next(
        f for f in json.loads(tuned.out)["reviews"][0]["findings"] if f["rule_id"] == "ACC-007"
    )
    assert finding["severity"] == "high"
    assert finding["severity_override"] == {
        "original_severity": "medium",
        "reason": "board policy",
        "origin": "compliance.toml",
    }
    text = run_cli("review", str(source), cwd=tmp_path).out
    assert "    graded:    high by compliance.toml (rule default medium): board policy\n" in text
    assert "graded:    ACC-007 medium -> high by compliance.toml: board policy\n" in text
    ignored = run_cli("review", "--no-config", str(source), cwd=tmp_path)
    assert ignored.code == ExitCode.PASSED


def test_selection_options_narrow_the_review_and_say_so() -> None:
    report = _review_json("--no-config", "--domain", "transparency", "--rule", "DS-003", FLAWED)
    ids = {f["rule_id"] for f in report["reviews"][0]["findings"]}  # type: ignore[index]
    assert "DS-003" in ids
    assert all(i.startswith("TRN-") or i == "DS-003" for i in ids)
    selection = report["selection"]
    assert selection["domains"] == ["transparency"]  # type: ignore[index]
    assert selection["rules"] == ["DS-003"]  # type: ignore[index]
    text = run_cli("review", "--no-config", "--skip-rule", "DS-003", FLAWED).out
    count = len(load_rules().rules)
    assert text.splitlines()[1] == (
        f"only {count - 1} of {count} rules ran (--skip-rule DS-003): "
        "the decisions cover those rules alone"
    )
    assert "] DS-003 " not in text


def test_selection_and_config_errors_exit_as_invalid_input(tmp_path: Path) -> None:
    run = run_cli("review", "--no-config", "--rule", "DS-999", FLAWED)
    assert (run.code, run.err) == (
        ExitCode.INVALID_INPUT,
        "error: --rule DS-999: no such rule (did you mean DS-019?)\n",
    )
    path = _config(tmp_path, '[[rules.disable]]\nid = "NOPE-1"\nreason = "x"\n')
    run = run_cli("review", FLAWED, cwd=tmp_path)
    assert (run.code, run.err) == (
        ExitCode.INVALID_INPUT,
        "error: compliance.toml: disabled rule NOPE-1: no such rule\n",
    )
    run = run_cli("review", "--config", str(tmp_path / "missing.toml"), FLAWED)
    assert (run.code, run.err) == (
        ExitCode.INVALID_INPUT,
        f"error: {tmp_path / 'missing.toml'}: no such file\n",
    )
    assert path.exists()


def test_a_config_without_the_builtin_rules_says_so_loudly(tmp_path: Path) -> None:
    shutil.copytree(PROJECT / "policy-rules", tmp_path / "policy-rules")
    _config(tmp_path, '[rules]\nbuiltin = false\ndirectories = ["policy-rules"]\n')
    run = run_cli("review", FLAWED, cwd=tmp_path)
    assert run.out.splitlines()[2] == (
        "the built-in rules were NOT loaded (builtin = false in compliance.toml): the decisions "
        "cover the project's own rules alone"
    )
    report = _review_json(FLAWED, cwd=tmp_path)
    assert report["selection"]["builtin_rules"] is False  # type: ignore[index]


def test_config_and_no_config_together_are_refused() -> None:
    run = run_cli("review", "--no-config", "--config", "compliance.toml", FLAWED, cwd=PROJECT)
    assert (run.code, run.err) == (
        ExitCode.INVALID_INPUT,
        "error: --config and --no-config contradict each other; give one\n",
    )


def test_rules_show_names_a_severity_change() -> None:
    run = run_cli("rules", "show", "ACC-007", cwd=PROJECT)
    assert run.out.splitlines()[3] == (
        "Severity:        high (rule file: medium; changed by compliance.toml: Partnership "
        "board decision 2026-04: no partnership without a grievance mechanism.)"
    )


def test_rules_list_shows_the_project_tuning() -> None:
    text = run_cli("rules", "list", "--domain", "accountability", cwd=PROJECT).out.splitlines()
    assert next(line for line in text if line.startswith("ACC-007")).startswith(
        "ACC-007  high*    accountability"
    )
    assert text[-2:] == [
        "* severity changed by the project config (see: compliance rules show ID)",
        "disabled by compliance.toml: TRN-005 (Our donor publishes every grant to IATI itself; "
        "the unit does not hold a publisher account.)",
    ]
    payload = json.loads(run_cli("rules", "list", "--format", "json", cwd=PROJECT).out)
    assert [d["rule_id"] for d in payload["disabled"]] == ["TRN-005"]
    assert "TRN-005" not in {r["id"] for r in payload["rules"]}
    assert "UNIT-001" in {r["id"] for r in payload["rules"]}


def test_a_rule_directory_named_twice_is_loaded_once() -> None:
    run = run_cli("review", "--rules", "policy-rules", EXEMPLARY, cwd=PROJECT)
    assert run.code == ExitCode.PASSED, run.err


def test_rules_show_of_a_disabled_rule_says_why() -> None:
    text = run_cli("rules", "show", "TRN-005", cwd=PROJECT).out
    assert text.endswith(
        "\nDisabled by compliance.toml: Our donor publishes every grant to IATI itself; the unit "
        "does not hold a publisher account.\n"
    )
    payload = json.loads(run_cli("rules", "show", "TRN-005", "--format", "json", cwd=PROJECT).out)
    assert payload["disabled"]["origin"] == "compliance.toml"


def test_a_config_lowers_a_blocker_only_with_downgrade_blocker(tmp_path: Path) -> None:
    entry = '[[rules.severity]]\nid = "DS-003"\nseverity = "high"\nreason = "court order"\n'
    _config(tmp_path, entry)
    refused = run_cli("rules", "list", cwd=tmp_path)
    assert refused.code == ExitCode.INVALID_INPUT
    assert "lowering a blocker needs downgrade_blocker = true" in refused.err
    _config(tmp_path, entry + "downgrade_blocker = true\n")
    allowed = run_cli("rules", "list", "--domain", "data_sharing", cwd=tmp_path)
    assert allowed.code == ExitCode.PASSED
    assert "DS-003  high*    data_sharing" in allowed.out
