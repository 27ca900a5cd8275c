"""The cases :mod:`benchmarks.compare_trees` runs with each tree, and the inputs they read.

Each case is one ``compliance`` command line; ``{out}`` in an argument is the case's own output
folder and ``<TREE>`` the source tree it runs with. The inputs are copied from one tree into each
tree's working directory, so both read the same files under the same relative paths.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

AS_OF = "2026-12-01"
"""The judgment day every review is pinned to, so the rules in force do not move with the date."""

FORMATS = ("text", "json", "jsonl", "markdown", "junit", "sarif", "html", "xlsx")


@dataclass
class Case:
    """One command, run alike in both trees."""

    name: str
    args: list[str]
    cwd: str = "."
    stdin: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    then: list[list[str]] = field(default_factory=list)
    """Commands run after it, in the same place (to check what it wrote)."""


# -- the workspace -----------------------------------------------------------------------------


def _remove_rule(rules: Path, target: Path, rule_id: str, edit: str) -> None:
    """A copy of ``rules`` in ``target`` with ``rule_id`` deleted, or its severity raised from
    medium to high ("raise") (as tests/test_impact.py makes its baselines)."""
    shutil.copytree(rules, target)
    for path in sorted(target.glob("*.yaml")):
        blocks = re.split(r"(?m)^(?=  - id: )", path.read_text(encoding="utf-8"))
        for i, block in enumerate(blocks):
            if block.startswith(f"  - id: {rule_id}\n"):
                if edit == "delete":
                    blocks[i] = ""
                else:
                    blocks[i] = block.replace("    severity: medium\n", "    severity: high\n", 1)
                path.write_text("".join(blocks), encoding="utf-8")
                return
    raise SystemExit(f"{rule_id}: not in {rules}")


def prepare(workspace: Path, inputs: Path) -> None:
    """The inputs every case reads, copied from the ``inputs`` tree into ``workspace``."""
    shutil.copytree(inputs / "fixtures", workspace / "fixtures")
    shutil.copytree(inputs / "fixtures" / "project-config", workspace / "project")
    lines: list[str] = []
    for path in sorted((inputs / "fixtures").glob("*.json")):
        loaded = json.loads(path.read_text(encoding="utf-8"))
        for proposal in loaded if isinstance(loaded, list) else [loaded]:
            lines.append(json.dumps(proposal, ensure_ascii=False))
    (workspace / "register.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    _remove_rule(inputs / "rules", workspace / "baseline-without-ACC-054", "ACC-054", "delete")
    _remove_rule(inputs / "rules", workspace / "baseline-ACC-010-medium", "ACC-010", "raise")
    (workspace / "broken.json").write_text('{"title": "cut short",\n', encoding="utf-8")
    (workspace / "empty-object.json").write_text("{}\n", encoding="utf-8")
    (workspace / "out").mkdir()


# -- the cases ---------------------------------------------------------------------------------


def _review_all_formats(name: str, inputs: list[str], *options: str) -> Case:
    args = ["review", *inputs, "--as-of", AS_OF, *options]
    for fmt in FORMATS:
        args += ["--format", fmt, "-o", f"{{out}}/report.{fmt}"]
    return Case(name, args)


def cases(workspace: Path, commands: list[list[str]]) -> list[Case]:
    """Every case, named for the diff; ``{out}`` in an argument is the case's output folder."""
    found: list[Case] = []
    add = found.append
    fixtures = sorted(p.name for p in (workspace / "fixtures").glob("*.json"))
    workbooks = sorted(p.name for p in (workspace / "fixtures" / "workbooks").glob("*.xlsx"))
    for name in fixtures:
        add(_review_all_formats(f"review/{name}", [f"fixtures/{name}"]))
    for name in workbooks:
        path = f"fixtures/workbooks/{name}"
        add(_review_all_formats(f"review/workbooks/{name}", [path]))
    for fmt in FORMATS:
        if fmt != "xlsx":  # a workbook is never written to a terminal's standard output
            given = ["review", "fixtures", "--as-of", AS_OF, "--format", fmt]
            add(Case(f"review/fixtures-dir/stdout-{fmt}", given))
    add(_review_all_formats("review/fixtures-dir/formats", ["fixtures"]))
    add(_review_all_formats("review/register.jsonl/formats", ["register.jsonl"]))
    stdin = (workspace / "fixtures" / fixtures[0]).read_text(encoding="utf-8")
    add(
        Case("review/stdin/json", ["review", "-", "--as-of", AS_OF, "--format", "json"], ".", stdin)
    )
    add(
        _review_all_formats(
            "review/waivers", ["fixtures"], "--waivers", "fixtures/gate/waivers.yaml"
        )
    )
    gate = ["--config", "fixtures/gate/compliance.toml"]
    add(_review_all_formats("review/gate-config", ["fixtures"], *gate))
    add(Case("review/project-config", ["review", "../fixtures", "--as-of", AS_OF], "project"))
    add(_review_all_formats("review/redact-default", ["fixtures"], "--redact", "default"))
    for fail_on in ("blocker", "low", "info", "monitoring=medium", "high"):
        given = ["review", "fixtures", "--as-of", AS_OF, "--fail-on", fail_on, "--brief"]
        add(Case(f"review/fail-on-{fail_on}", given))
    one = f"fixtures/{fixtures[0]}"
    for label, options in (
        ("brief", ["--brief"]),
        ("quiet", ["-q"]),
        ("brief-quiet", ["--brief", "-q"]),
        ("no-fail", ["--no-fail", "--brief"]),
        ("engine-reference", ["--engine", "reference", "--format", "json"]),
        ("cross-check-full", ["--cross-check", "full", "--format", "json"]),
        (
            "domain-rule-skip",
            ["--domain", "monitoring", "--rule", "ACC-054", "--skip-rule", "MON-004"],
        ),
        ("jobs-2", ["--jobs", "2", "--format", "jsonl"]),
    ):
        add(
            Case(f"review/fixtures-dir/{label}", ["review", "fixtures", "--as-of", AS_OF, *options])
        )
    add(Case("review/one/quiet", ["review", one, "--as-of", AS_OF, "-q"]))
    add(
        Case(
            "review/env-fail-on",
            ["review", "fixtures", "--as-of", AS_OF, "--brief"],
            ".",
            None,
            {"COMPLIANCE_REVIEW_FAIL_ON": "medium"},
        )
    )
    add(
        Case(
            "review/record",
            ["review", "fixtures", "--as-of", AS_OF, "--record", "{out}/records", "-q"],
            then=[
                ["verify-records", "{out}/records"],
                ["verify-records", "{out}/records", "--expect-record", "1:sha256:" + "0" * 64],
            ],
        )
    )
    add(Case("review/errors/missing-file", ["review", "no-such.json", "--as-of", AS_OF]))
    add(Case("review/errors/broken-json", ["review", "broken.json", "--as-of", AS_OF]))
    add(Case("review/errors/invalid-proposal", ["review", "empty-object.json", "--as-of", AS_OF]))
    add(Case("review/errors/bad-fail-on", ["review", one, "--fail-on", "severe"]))
    add(Case("review/errors/bad-format", ["review", one, "--format", "pdf"]))
    add(Case("review/errors/unknown-rule", ["review", one, "--rule", "ACC-9999"]))
    add(
        Case(
            "review/errors/outputs-mismatch",
            ["review", one, "--format", "json", "--format", "html", "-o", "{out}/a"],
        )
    )
    add(Case("validate/fixtures", ["validate", "fixtures"]))
    add(Case("validate/workbooks", ["validate", "fixtures/workbooks"]))
    add(Case("validate/invalid", ["validate", "empty-object.json", "broken.json", one]))
    add(Case("schema/proposal", ["schema"]))
    add(Case("schema/report", ["schema", "--report"]))
    add(Case("schema/to-file", ["schema", "-o", "{out}/proposal.schema.json"]))
    for layout in ("single", "register"):
        add(Case(f"template/{layout}", ["template", "--layout", layout, "{out}/template.xlsx"]))
    add(Case("template/exists", ["template", "fixtures/workbooks/register.xlsx"]))
    add(Case("export/one", ["export", one, "{out}/one.xlsx"]))
    add(Case("export/register", ["export", "fixtures", "{out}/register.xlsx"]))
    add(
        Case(
            "export/single-dir",
            [
                "export",
                "--layout",
                "single",
                *[f"fixtures/{n}" for n in fixtures[:3]],
                "{out}/singles",
            ],
        )
    )
    for suffix in ("json", "jsonl", "xlsx"):
        add(
            Case(
                f"upgrade/register-to-{suffix}",
                ["upgrade", "fixtures/workbooks", f"{{out}}/upgraded.{suffix}"],
            )
        )
    add(Case("upgrade/json", ["upgrade", "fixtures", "{out}/upgraded.json"]))
    for fmt in ("text", "json"):
        add(Case(f"rules/list/{fmt}", ["rules", "list", "--format", fmt]))
        add(Case(f"rules/show/ACC-054/{fmt}", ["rules", "show", "ACC-054", "--format", fmt]))
        add(Case(f"rules/coverage/{fmt}", ["rules", "coverage", "--format", fmt]))
        add(
            Case(
                f"config/show/gate/{fmt}",
                ["config", "show", "--format", fmt, *gate, "--as-of", AS_OF],
            )
        )
        add(Case(f"config/show/project/{fmt}", ["config", "show", "--format", fmt], "project"))
    add(
        Case(
            "rules/list/filtered", ["rules", "list", "--domain", "monitoring", "--severity", "high"]
        )
    )
    add(Case("rules/list/project", ["rules", "list"], "project"))
    add(Case("rules/show/unknown", ["rules", "show", "ACC-05"]))
    add(Case("rules/test", ["rules", "test"]))
    add(Case("rules/test/project", ["rules", "test", "policy-rules"], "project"))
    add(Case("rules/docs", ["rules", "docs", "{out}"]))
    add(Case("rules/docs/check", ["rules", "docs", "--check", "<TREE>/docs"]))
    for base in ("baseline-without-ACC-054", "baseline-ACC-010-medium"):
        for fmt in ("text", "json", "markdown"):
            given = ["rules", "impact", "fixtures", "--baseline", base, "--as-of", AS_OF]
            add(Case(f"rules/impact/{base}/{fmt}", [*given, "--no-config", "--format", fmt]))
    add(
        Case(
            "rules/impact/to-file",
            [
                "rules",
                "impact",
                "fixtures",
                "--baseline",
                "baseline-without-ACC-054",
                "--as-of",
                AS_OF,
                "--format",
                "json",
                "-o",
                "{out}/impact.json",
            ],
        )
    )
    add(
        Case(
            "config/show/env",
            ["config", "show", "--no-config"],
            ".",
            None,
            {"COMPLIANCE_CONFIG_SHOW_FAIL_ON": "low", "COMPLIANCE_RULES": "project/policy-rules"},
        )
    )
    add(Case("docs/write", ["docs", "{out}"]))
    add(Case("docs/check", ["docs", "--check", "<TREE>/docs"]))
    add(Case("verify-records/empty", ["verify-records", "fixtures"]))
    add(Case("version", ["--version"]))
    add(Case("no-command", []))
    add(Case("unknown-command", ["reveiw"]))
    for command in commands:
        add(Case("help/" + ("/".join(command) or "compliance"), [*command, "--help"]))
    add(Case("help/-h", ["-h"]))
    return found


def command_paths(run_help: Callable[[list[str]], str]) -> list[list[str]]:
    """Every command and subcommand a tree's help lists, the root first."""
    found: list[list[str]] = []
    todo: list[list[str]] = [[]]
    while todo:
        command = todo.pop(0)
        found.append(command)
        text = run_help([*command, "--help"])
        if "\nCommands:\n" in text:
            for line in text.split("\nCommands:\n", 1)[1].splitlines():
                match = re.match(r"  (\S+)", line)
                if match:
                    todo.append([*command, match.group(1)])
    return found
