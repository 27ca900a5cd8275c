"""Rule files are validated strictly: every problem is a load error naming file, rule and key."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from compliance.errors import RuleError
from compliance.rules.load import load_rules
from tests.conftest import run_cli

BASE: dict[str, Any] = {
    "id": "ORG-001",
    "title": "Flows have a lawful basis",
    "severity": "high",
    "for_each": "data_sharing.flows",
    "violated_when": {"field": "data_sharing.flows[].lawful_basis", "equals": "none"},
    "message": "{data_sharing.flows[].recipient} has no lawful basis.",
    "remediation": "Record one.",
    "references": [
        {
            "instrument": "GDPR",
            "provision": "Art. 6",
            "url": "https://eur-lex.europa.eu/eli/reg/2016/679/oj",
            "binding": "required",
        }
    ],
    "examples": {
        "fires": [
            {"note": "n", "proposal": {"data_sharing": {"flows": [{"lawful_basis": "none"}]}}}
        ],
        "passes": [{"note": "p", "proposal": {"data_sharing": {"flows": []}}}],
    },
}


def rule(**changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(BASE)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def load_errors(tmp_path: Path, files: dict[str, Any]) -> list[str]:
    for name, content in files.items():
        text = content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False)
        (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(RuleError) as info:
        load_rules([tmp_path], builtin=False)
    prefix = f"{tmp_path}/"
    return [p.replace(prefix, "") for p in info.value.problems]


def root_rule(violated_when: dict[str, Any]) -> dict[str, Any]:
    """The base rule turned into a rule on the proposal itself, with another condition."""
    return rule(for_each=None, message="m", violated_when=violated_when)


def one_file(*rules: dict[str, Any], domain: str | None = "data_sharing") -> dict[str, Any]:
    body: dict[str, Any] = {"rules": list(rules)}
    if domain:
        body = {"domain": domain, **body}
    return {"org.yaml": body}


def test_a_valid_rule_loads(tmp_path: Path) -> None:
    for name, content in one_file(rule()).items():
        (tmp_path / name).write_text(yaml.safe_dump(content), encoding="utf-8")
    ruleset = load_rules([tmp_path], builtin=False)
    (loaded,) = ruleset.rules
    assert (loaded.id, loaded.domain, loaded.for_each) == (
        "ORG-001",
        "data_sharing",
        "data_sharing.flows",
    )
    assert ruleset.sources[0].name == tmp_path.name.lower()
    assert ruleset.hash.startswith("sha256:")


CASES: list[tuple[str, dict[str, Any], list[str]]] = [
    (
        "unknown key in a rule",
        one_file(rule(severty="high")),
        ["org.yaml:29: rule ORG-001: severty: unknown key (did you mean 'severity'?)"],
    ),
    (
        "bad severity",
        one_file(rule(severity="critical")),
        [
            "org.yaml:5: rule ORG-001: severity: Input should be 'blocker', 'high', 'medium', 'low' or 'info'"
        ],
    ),
    (
        "unknown operator",
        one_file(
            rule(violated_when={"field": "data_sharing.flows[].lawful_basis", "eqauls": "none"})
        ),
        [
            "org.yaml:9: rule ORG-001: violated_when.eqauls: unknown operator 'eqauls' "
            "(did you mean 'equals'?)"
        ],
    ),
    (
        "two operators",
        one_file(
            rule(
                violated_when={
                    "field": "legal.us_government_funding",
                    "equals": True,
                    "answered": True,
                }
            )
        ),
        [
            "org.yaml:7: rule ORG-001: violated_when: a field test takes exactly one operator "
            "(given: equals, answered; operators: equals, not_equals, one_of, not_one_of, gt, gte, "
            "lt, lte, answered, contains, contains_any, contains_all, count, any_item, all_items)"
        ],
    ),
    (
        "not a condition",
        one_file(rule(violated_when={"every": []})),
        [
            "org.yaml:7: rule ORG-001: violated_when: a condition is a mapping with one of: field, all, any, not"
        ],
    ),
    (
        "unknown field, with a suggestion",
        one_file(
            rule(
                for_each=None, violated_when={"field": "legal.us_goverment_funding", "equals": True}
            )
        ),
        [
            "org.yaml:7: rule ORG-001: violated_when.field: unknown field 'legal.us_goverment_funding' "
            "(did you mean 'legal.us_government_funding'?)",
            "org.yaml:9: rule ORG-001: message: placeholder {data_sharing.flows[].recipient} is inside "
            "the items of data_sharing.flows; only a rule with for_each: data_sharing.flows can use it",
        ],
    ),
    (
        "value outside the field's choices",
        one_file(
            rule(
                violated_when={
                    "field": "data_sharing.flows[].lawful_basis",
                    "one_of": ["none", "contract"],
                }
            )
        ),
        [
            "org.yaml:11: rule ORG-001: violated_when.one_of[1]: 'contract' is not one of consent, "
            "vital_interest, public_interest, legal_obligation, legitimate_interest, mandate, none "
            "(field data_sharing.flows[].lawful_basis)"
        ],
    ),
    (
        "operator that does not suit the field",
        one_file(rule(violated_when={"field": "data_sharing.flows[].purpose", "equals": "x"})),
        [
            "org.yaml:9: rule ORG-001: violated_when.equals: operator equals does not apply to "
            "data_sharing.flows[].purpose (text); use one of: answered"
        ],
    ),
    (
        "wrong value type",
        one_file(root_rule({"field": "legal.us_government_funding", "equals": "yes"})),
        [
            "org.yaml:8: rule ORG-001: violated_when.equals: legal.us_government_funding is yes/no; expected true or false, got 'yes'"
        ],
    ),
    (
        "a section instead of a field",
        one_file(root_rule({"field": "legal", "answered": False})),
        [
            "org.yaml:7: rule ORG-001: violated_when.field: 'legal' is a section, not a field; name one of: "
            "legal.mandate_reference, legal.us_government_funding, legal.un_support_to_security_forces, "
            "legal.data_protection_regime, legal.sanctions_regimes, legal.sanctions_exemption"
        ],
    ),
    (
        "item field outside its list",
        one_file(rule(for_each=None, message="m")),
        [
            "org.yaml:7: rule ORG-001: violated_when.field: 'data_sharing.flows[].lawful_basis' is a "
            "field of the items of data_sharing.flows; use it inside any_item/all_items on "
            "data_sharing.flows, or in a rule with for_each: data_sharing.flows"
        ],
    ),
    (
        "root field inside a quantifier",
        one_file(
            root_rule(
                {
                    "field": "data_sharing.flows",
                    "any_item": {"field": "legal.us_government_funding", "equals": True},
                }
            )
        ),
        [
            "org.yaml:9: rule ORG-001: violated_when.any_item.field: inside a quantifier over "
            "data_sharing.flows only fields of its items (data_sharing.flows[].…) can be tested; "
            "move the test on 'legal.us_government_funding' outside it"
        ],
    ),
    (
        "quantifier inside for_each",
        one_file(
            rule(
                violated_when={
                    "field": "security_units",
                    "any_item": {"field": "security_units[].identified", "equals": False},
                }
            )
        ),
        [
            "org.yaml:9: rule ORG-001: violated_when.any_item: a quantifier over security_units cannot "
            "be used inside for_each or another quantifier (not supported by the engine); write a "
            "separate rule"
        ],
    ),
    (
        "comparing fields of different kinds",
        one_file(
            root_rule(
                {
                    "field": "monitoring.start_date",
                    "gt": {"field": "oversight.reporting_frequency_months"},
                }
            )
        ),
        [
            "org.yaml:9: rule ORG-001: violated_when.gt.field: cannot compare monitoring.start_date (date) "
            "with oversight.reporting_frequency_months (number)"
        ],
    ),
    (
        "for_each over something that is not a table",
        one_file(rule(for_each="legal.sanctions_regimes", message="m")),
        [
            "org.yaml:6: rule ORG-001: for_each: 'legal.sanctions_regimes' is not a list of objects (a table)",
            "org.yaml:8: rule ORG-001: violated_when.field: 'data_sharing.flows[].lawful_basis' is a "
            "field of the items of data_sharing.flows; use it inside any_item/all_items on "
            "data_sharing.flows, or in a rule with for_each: data_sharing.flows",
        ],
    ),
    (
        "placeholder that names no field",
        one_file(rule(message="{data_sharing.flows[].recipient_name} lacks a basis.")),
        [
            "org.yaml:10: rule ORG-001: message: placeholder {data_sharing.flows[].recipient_name} names no field "
            "(did you mean {data_sharing.flows[].recipient}?)"
        ],
    ),
    (
        "missing examples",
        one_file(rule(examples=None)),
        ["org.yaml:3: rule ORG-001: examples: required key is missing"],
    ),
    (
        "no passing example",
        one_file(rule(examples={"fires": BASE["examples"]["fires"], "passes": []})),
        [
            "org.yaml:24: rule ORG-001: examples.passes: List should have at least 1 item after validation, not 0"
        ],
    ),
    (
        "invalid example proposal",
        one_file(
            rule(
                examples={
                    "fires": [
                        {
                            "note": "n",
                            "proposal": {"data_sharing": {"flows": [{"lawful_basis": "nope"}]}},
                        }
                    ],
                    "passes": BASE["examples"]["passes"],
                }
            )
        ),
        [
            "org.yaml:23: rule ORG-001: examples.fires[0].proposal.data_sharing.flows[0].lawful_basis: "
            "'nope' is not one of consent, vital_interest, public_interest, legal_obligation, "
            "legitimate_interest, mandate, none"
        ],
    ),
    (
        "reference without a URL",
        one_file(
            rule(references=[{"instrument": "GDPR", "provision": "Art. 6", "binding": "required"}])
        ),
        ["org.yaml:13: rule ORG-001: references[0].url: required key is missing"],
    ),
    (
        "bad binding",
        one_file(rule(references=[{**BASE["references"][0], "binding": "mandatory"}])),
        [
            "org.yaml:16: rule ORG-001: references[0].binding: Input should be 'required' or 'good_practice'"
        ],
    ),
    (
        "bad id",
        one_file(rule(id="org 1")),
        ["org.yaml: rule org 1: id: String should match pattern '^[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+$'"],
    ),
    (
        "no domain anywhere",
        one_file(rule(), domain=None),
        ["org.yaml:2: rule ORG-001: domain: no domain: set domain: in the file or in the rule"],
    ),
    (
        "domain differs from the file's",
        one_file(rule(domain="transparency")),
        [
            "org.yaml:29: rule ORG-001: domain: 'transparency' differs from the file's domain 'data_sharing'"
        ],
    ),
    (
        "duplicate ids across files",
        {
            "a.yaml": {"domain": "data_sharing", "rules": [rule()]},
            "b.yaml": {"domain": "data_sharing", "rules": [rule()]},
        },
        ["b.yaml:3: rule ORG-001: id: duplicate rule id (also in a.yaml)"],
    ),
    (
        "duplicate YAML key",
        {"org.yaml": "domain: data_sharing\ndomain: transparency\nrules: []\n"},
        ["org.yaml:2:1: invalid YAML: duplicate key 'domain'"],
    ),
    (
        "YAML syntax error",
        {"org.yaml": "rules: [\n  - id: X\n"},
        ["org.yaml:2:3: invalid YAML: did not find expected node content"],
    ),
    (
        "number the engine cannot take",
        one_file(root_rule({"field": "funding.total_amount", "gt": 1e-7})),
        [
            "org.yaml:8: rule ORG-001: violated_when.gt: 1e-07: numbers in rules must be finite, at most 1e15 in size, and whole or at least 0.0001 (field funding.total_amount)"
        ],
    ),
    (
        "not a number",
        one_file(root_rule({"field": "funding.total_amount", "gt": float("nan")})),
        [
            "org.yaml:8: rule ORG-001: violated_when.gt: NaN: numbers in rules must be finite, at most 1e15 in size, and whole or at least 0.0001 (field funding.total_amount)"
        ],
    ),
    (
        "negative count",
        one_file(root_rule({"field": "security_units", "count": {"gte": -1}})),
        [
            "org.yaml:9: rule ORG-001: violated_when.count.gte: Input should be greater than or equal to 0"
        ],
    ),
    (
        "unknown required field",
        one_file(rule(requires=["data_sharing.flows[].lawful_basis", "legal.nope"])),
        ["org.yaml:31: rule ORG-001: requires[1]: unknown field 'legal.nope'"],
    ),
    (
        "unmatched brace in a message",
        one_file(rule(message="{data_sharing.flows[].recipient}} has none")),
        [
            "org.yaml:10: rule ORG-001: message: unmatched '}' at character 33 (write }} for a literal brace)"
        ],
    ),
    (
        "binds_when on a good-practice source",
        one_file(
            rule(
                references=[
                    {
                        **BASE["references"][0],
                        "binding": "good_practice",
                        "binds_when": {"field": "legal.data_protection_regime", "equals": "gdpr"},
                    }
                ]
            )
        ),
        [
            "org.yaml:13: rule ORG-001: references[0]: binds_when applies only to a reference with binding: required"
        ],
    ),
    (
        "code outside its standard",
        one_file(root_rule({"field": "funding.currency", "equals": "usd"})),
        [
            "org.yaml:8: rule ORG-001: violated_when.equals: 'usd' is not an upper-case ISO 4217 code (field funding.currency)"
        ],
    ),
    (
        "empty rule list",
        {"org.yaml": {"domain": "data_sharing", "rules": []}},
        ["org.yaml:2: rules: List should have at least 1 item after validation, not 0"],
    ),
]


@pytest.mark.parametrize(("label", "files", "expected"), CASES, ids=[c[0] for c in CASES])
def test_load_errors(
    tmp_path: Path, label: str, files: dict[str, Any], expected: list[str]
) -> None:
    problems = load_errors(tmp_path, files)
    assert [p.split(": ", 1)[1] if p.startswith(tmp_path.name) else p for p in problems] == expected


def test_every_problem_of_every_file_is_reported(tmp_path: Path) -> None:
    problems = load_errors(
        tmp_path,
        {
            "a.yaml": {"domain": "data_sharing", "rules": [rule(severity="critical")]},
            "b.yaml": {"domain": "data_sharing", "rules": [rule(id="ORG-002", severty="x")]},
        },
    )
    assert len(problems) == 2


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(RuleError) as info:
        load_rules([tmp_path / "nope"], builtin=False)
    assert info.value.problems == [f"{tmp_path / 'nope'}: rule directory not found"]


def test_directory_without_rules(tmp_path: Path) -> None:
    with pytest.raises(RuleError) as info:
        load_rules([tmp_path], builtin=False)
    assert info.value.problems == [f"{tmp_path}: no rule files (*.yaml) found"]


def test_user_rules_are_added_to_the_builtin_set(tmp_path: Path) -> None:
    (tmp_path / "org.yaml").write_text(
        yaml.safe_dump(one_file(rule())["org.yaml"]), encoding="utf-8"
    )
    (tmp_path / "ruleset.yaml").write_text("name: acme-rules\nversion: 2.1.0\n", encoding="utf-8")
    ruleset = load_rules([tmp_path])
    assert ruleset.rules[-1].id == "ORG-001"
    assert [(s.name, s.version) for s in ruleset.sources] == [
        ("compliance-core", "2.0.0"),
        ("acme-rules", "2.1.0"),
    ]
    assert ruleset.name == "compliance-core+acme-rules"


def test_user_rule_clashing_with_a_builtin_id(tmp_path: Path) -> None:
    (tmp_path / "org.yaml").write_text(
        yaml.safe_dump(one_file(rule(id="DS-001"))["org.yaml"]), encoding="utf-8"
    )
    with pytest.raises(RuleError) as info:
        load_rules([tmp_path])
    assert info.value.problems == [
        f"{tmp_path}/org.yaml:16: rule DS-001: id: duplicate rule id (also in rules/data_sharing.yaml)"
    ]


def test_hash_changes_with_content_not_formatting(tmp_path: Path) -> None:
    a = tmp_path / "a" / "rules"
    b = tmp_path / "b" / "rules"
    a.mkdir(parents=True)
    b.mkdir(parents=True)
    content = one_file(rule())["org.yaml"]
    (a / "org.yaml").write_text(yaml.safe_dump(content, indent=2), encoding="utf-8")
    (b / "org.yaml").write_text(yaml.safe_dump(content, indent=4, width=60), encoding="utf-8")
    assert load_rules([a], builtin=False).hash != ""
    hash_a = load_rules([a], builtin=False).sources[0].hash
    hash_b = load_rules([b], builtin=False).sources[0].hash
    assert hash_a == hash_b
    changed = copy.deepcopy(content)
    changed["rules"][0]["severity"] = "medium"
    (b / "org.yaml").write_text(yaml.safe_dump(changed), encoding="utf-8")
    assert load_rules([b], builtin=False).sources[0].hash != hash_a


def test_hidden_directories_are_not_rule_files(tmp_path: Path) -> None:
    (tmp_path / "org.yaml").write_text(
        yaml.safe_dump(one_file(rule())["org.yaml"]), encoding="utf-8"
    )
    hidden = tmp_path / ".github" / "workflows"
    hidden.mkdir(parents=True)
    (hidden / "ci.yml").write_text("on: push\njobs: {}\n", encoding="utf-8")
    assert [r.id for r in load_rules([tmp_path], builtin=False).rules] == ["ORG-001"]


OPERATOR_TYPOS = """\
domain: data_sharing
rules:
  - id: ORG-001
    title: Large grants
    severity: high
    violated_when:
      field: funding.total_amount
      gtee: 1000
    message: m
    remediation: Record one.
    references: &refs
      - instrument: GDPR
        provision: Art. 6
        url: https://eur-lex.europa.eu/eli/reg/2016/679/oj
        binding: required
    examples: &examples
      fires:
        - note: n
          proposal: {funding: {total_amount: 5000}}
      passes:
        - note: p
          proposal: {funding: {total_amount: 10}}
  - id: ORG-003
    title: Count typo
    severity: high
    violated_when:
      field: security_units
      count: {gtee: 1}
    message: m
    remediation: r
    references: *refs
    examples: *examples
  - id: ORG-004
    title: Nothing near
    severity: high
    violated_when:
      field: security_units
      whenever: 1
    message: m
    remediation: r
    references: *refs
    examples: *examples
"""

PLACEHOLDER_TYPOS = """\
domain: data_sharing
rules:
  - id: ORG-002
    title: Flows have a lawful basis
    severity: high
    for_each: data_sharing.flows
    violated_when:
      field: data_sharing.flows[].lawful_basis
      equals: none
    message: "{recipeint} has no lawful basis; {lead.nmae} leads."
    remediation: Record one.
    references:
      - instrument: GDPR
        provision: Art. 6
        url: https://eur-lex.europa.eu/eli/reg/2016/679/oj
        binding: required
    examples:
      fires:
        - note: n
          proposal: {data_sharing: {flows: [{lawful_basis: none}]}}
      passes:
        - note: p
          proposal: {data_sharing: {flows: []}}
"""


def test_typos_are_named_with_their_line_and_the_nearest_name(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(OPERATOR_TYPOS, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(PLACEHOLDER_TYPOS, encoding="utf-8")
    with pytest.raises(RuleError) as info:
        load_rules([tmp_path], builtin=False)
    assert [p.removeprefix(f"{tmp_path}/") for p in info.value.problems] == [
        "a.yaml:8: rule ORG-001: violated_when.gtee: unknown operator 'gtee' (did you mean 'gte'?)",
        "a.yaml:28: rule ORG-003: violated_when.count.gtee: unknown operator 'gtee' (did you mean 'gte'?)",
        "a.yaml:38: rule ORG-004: violated_when.whenever: unknown operator 'whenever'; operators: "
        "equals, not_equals, one_of, not_one_of, gt, gte, lt, lte, answered, contains, contains_any, "
        "contains_all, count, any_item, all_items",
        "b.yaml:10: rule ORG-002: message: placeholder {recipeint} names no field "
        "(did you mean {data_sharing.flows[].recipient}?)",
        "b.yaml:10: rule ORG-002: message: placeholder {lead.nmae} names no field "
        "(did you mean {lead.name}?)",
    ]


def test_the_command_shows_the_line(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(OPERATOR_TYPOS, encoding="utf-8")
    run = run_cli("rules", "test", str(tmp_path))
    assert run.code == 5
    assert run.err.splitlines()[0] == (
        f"error: {tmp_path}/a.yaml:8: rule ORG-001: violated_when.gtee: unknown operator 'gtee' "
        "(did you mean 'gte'?)"
    )
