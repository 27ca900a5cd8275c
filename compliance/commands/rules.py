"""``compliance rules``: inspect and test the rule set (``rules impact`` is in its own module)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import click

from compliance.commands import loading
from compliance.commands.options import SEVERITY_CHOICE, config_options, format_option, rules_option
from compliance.commands.rules_impact import rules_impact
from compliance.errors import UsageError
from compliance.exitcodes import ExitCode
from compliance.gate.config import resolve_config
from compliance.rules import tuning
from compliance.rules.load import builtin_rules_dir, load_rules
from compliance.words import counted, did_you_mean


@click.group()
def rules() -> None:
    """Inspect and test the rule set."""


@rules.command("list")
@format_option()
@click.option(
    "--domain", "domains", multiple=True, metavar="DOMAIN", help="Only this domain (repeatable)."
)
@click.option(
    "--severity",
    "severities",
    multiple=True,
    type=SEVERITY_CHOICE,
    help="Only rules of this severity (repeatable).",
)
@rules_option
@config_options
def rules_list(
    fmt: str,
    domains: tuple[str, ...],
    severities: tuple[str, ...],
    rule_dirs: tuple[Path, ...],
    config_path: Path | None,
    no_config: bool,
) -> int:
    """List the rules a review would run (after the config's disables and severity changes)."""
    ruleset = loading.load_all(rule_dirs, config_path, no_config, domains=domains)[2]
    wanted = {s.lower() for s in severities}
    shown = [r for r in ruleset.rules if not wanted or r.severity.value in wanted]
    if fmt == "json":
        from compliance.rules.docs import rule_summary

        payload = {
            "rule_set": ruleset.identity(),
            "rules": [rule_summary(rule, ruleset) for rule in shown],
            "disabled": [
                {"rule_id": d.rule_id, "reason": d.reason, "origin": d.origin}
                for d in (ruleset.tuning.disabled if ruleset.tuning else ())
            ],
        }
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return int(ExitCode.PASSED)
    width = max((len(r.id) for r in shown), default=2)
    from compliance.rules.docs import dates_note, released_text

    for rule in shown:
        grade = rule.severity.value + ("*" if rule.override is not None else "")
        dates = dates_note(rule)
        click.echo(f"{rule.id:<{width}}  {grade:<8} {rule.domain:<24}  {rule.title}{dates}")
    click.echo(
        f"{counted(len(shown), 'rule')} ({ruleset.name} {ruleset.version}{released_text(ruleset)})"
    )
    if any(r.override is not None for r in shown):
        click.echo("* severity changed by the project config (see: compliance rules show ID)")
    if ruleset.tuning is not None:
        for d in ruleset.tuning.disabled:
            click.echo(f"disabled by {d.origin}: {d.rule_id} ({d.reason})")
    return int(ExitCode.PASSED)


@rules.command("show")
@click.argument("rule_id", metavar="ID")
@format_option()
@rules_option
@config_options
def rules_show(
    rule_id: str,
    fmt: str,
    rule_dirs: tuple[Path, ...],
    config_path: Path | None,
    no_config: bool,
) -> int:
    """Print one rule in full: when it applies, what it checks, its message, remediation,
    references and examples."""
    config = resolve_config(config_path, use=not no_config)
    loaded = load_rules(loading.directories(config.rule_dirs, rule_dirs), builtin=config.builtin)
    tuning.apply(loaded, config.selection())  # the config must be valid, as for a review
    ruleset = tuning.apply(loaded, replace(config.selection(), disabled=()))
    wanted = rule_id.strip().upper()  # ids are upper case; accept what a user types
    rule = next((r for r in ruleset.rules if r.id.upper() == wanted), None)
    if rule is None:
        hint = did_you_mean(wanted, [r.id for r in ruleset.rules])
        raise UsageError(f"{rule_id}: no such rule{hint}; see: compliance rules list")
    disabled = next((d for d in config.disabled if d.rule_id == rule.id), None)
    from compliance.rules.docs import rule_summary, show_text

    if fmt == "json":
        payload = rule_summary(rule, ruleset, full=True)
        payload["disabled"] = (
            None if disabled is None else {"reason": disabled.reason, "origin": disabled.origin}
        )
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return int(ExitCode.PASSED)
    text = show_text(rule, ruleset)
    if disabled is not None:
        text += f"\nDisabled by {disabled.origin}: {disabled.reason}\n"
    click.echo(text, nl=False)
    return int(ExitCode.PASSED)


@rules.command("coverage")
@format_option()
@rules_option
@config_options
def rules_coverage(
    fmt: str, rule_dirs: tuple[Path, ...], config_path: Path | None, no_config: bool
) -> int:
    """For each framework in the rule directories' catalogues (frameworks.yaml), its requirements
    and the rules a review would run that check each one, or why it is out of scope. Exit 5 if a
    requirement has neither, or a rule covers nothing."""
    from compliance.rules import coverage

    matrix = coverage.matrix(loading.load_all(rule_dirs, config_path, no_config)[2])
    if fmt == "json":
        click.echo(coverage.render_json(matrix), nl=False)
        for problem in matrix.problems:
            click.echo(f"problem: {problem}", err=True)
    else:
        click.echo(coverage.render_text(matrix), nl=False)
    return int(ExitCode.RULES_ERROR if matrix.problems else ExitCode.PASSED)


# Defined in its own module, the group's largest; added here, in its place among the others.
rules.add_command(rules_impact)


@rules.command("docs")
@click.argument(
    "directory", required=False, type=click.Path(file_okay=False, path_type=Path), default="docs"
)
@click.option("--check", is_flag=True, help="Only check that the file is up to date.")
def rules_docs(directory: Path, check: bool) -> int:
    """Write the rules reference (DIRECTORY/rules.md, default docs/) from the built-in rule files.
    With --check, write nothing and exit 2 if it is missing or stale."""
    from compliance import docgen
    from compliance.rules.docs import RULES_DOC

    stale = docgen.write(directory, check=check, only=[RULES_DOC])
    target = directory / RULES_DOC
    if check and stale:
        click.echo(f"stale: {target} (run: compliance rules docs {directory})")
        return int(ExitCode.INVALID_INPUT)
    click.echo(f"{'checked' if check else 'wrote'} {target}")
    return int(ExitCode.PASSED)


@rules.command("test")
@click.argument("directories", nargs=-1, type=click.Path(file_okay=False, path_type=Path))
def rules_test(directories: tuple[Path, ...]) -> int:
    """Run every rule's examples (default: the built-in rules) with both engines."""
    ruleset = load_rules(list(directories), builtin=not directories)
    from compliance.review.examples import run_examples

    results = run_examples(ruleset)
    failed = [r for r in results if r.problem]
    for result in failed:
        click.echo(f"FAIL {result.label}: {result.problem}")
    where = ", ".join(str(d) for d in directories) or str(builtin_rules_dir().name)
    click.echo(
        f"{counted(len(ruleset.rules), 'rule')}, {counted(len(results), 'example')} in {where}: "
        + (f"{len(failed)} failed" if failed else "all passed")
    )
    return int(ExitCode.RULES_ERROR if failed else ExitCode.PASSED)
