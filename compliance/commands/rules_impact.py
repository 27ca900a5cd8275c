"""``compliance rules impact``: what a change to the rules does to the decisions on a set of
proposals, reviewed under the baseline rule set and the current one."""

from __future__ import annotations

import contextlib
import datetime
from pathlib import Path
from typing import Any

import click

from compliance.commands.files import write
from compliance.commands.loading import load_all, run_settings
from compliance.commands.options import (
    as_of_option,
    config_options,
    engine_option,
    fail_on_option,
    format_option,
    jobs_option,
    rules_option,
    selection_options,
    waivers_option,
)
from compliance.errors import UsageError
from compliance.exitcodes import ExitCode
from compliance.reports.output import writable
from compliance.review.reviewer import EngineChoice
from compliance.rules.load import builtin_rules_dir

BUILTIN = "builtin"
"""The name ``--baseline`` takes for the rule set this tool ships."""


class Baseline(click.Path):
    """A baseline rule directory, or the packaged rule set by name: ``builtin``, or its name and
    version as its reports show them (``compliance-core@2.0.0``)."""

    def __init__(self) -> None:
        super().__init__(exists=True, file_okay=False, path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and value in packaged_names():
            return builtin_rules_dir()
        return super().convert(value, param, ctx)


def packaged_names() -> tuple[str, ...]:
    """What ``--baseline`` accepts for the built-in rules: ``builtin`` and ``NAME@VERSION``
    from the built-in ``ruleset.yaml``."""
    from compliance.intake.yamlfile import parse_yaml
    from compliance.rules.load import MANIFEST

    manifest = parse_yaml((builtin_rules_dir() / MANIFEST).read_text(encoding="utf-8"), MANIFEST)
    return (BUILTIN, f"{manifest['name']}@{manifest['version']}")


@click.command("impact")
@click.argument("paths", nargs=-1)
@click.option(
    "--baseline",
    "baseline_dirs",
    multiple=True,
    required=True,
    type=Baseline(),
    help="A rule directory of the rule set before the change (repeatable: the directories "
    "together, in order, are the baseline; the built-in rules are not added to it), or the "
    "rules this tool ships: 'builtin', or their name and version as reports show them "
    "(compliance-core@2.0.0), to see what a project's own rules and configuration change.",
)
@format_option(("text", "json", "markdown"))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to this file instead of standard output.",
)
@fail_on_option("The gate threshold both rule sets decide with, as for review.")
@waivers_option("A waivers file applied under both rule sets, as for review.")
@as_of_option(
    "The judgment day, YYYY-MM-DD, as for review: waiver expiry and (unless "
    "--in-force-on) the rules in force."
)
@click.option(
    "--in-force-on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Compare the rules in force on this day, YYYY-MM-DD, in both rule sets; it may be "
    "after today, to see what a rule adopted for a later day will change (default: the "
    "judgment day).",
)
@click.option(
    "--decision-log",
    "decision_log",
    metavar="PATH|URL",
    help="Also compare the proposals a service kept in this decision log (serve "
    "--keep-proposals), after PATHS: a SQLite file or a postgresql:// URL, as for serve. Each is "
    "named by its decision's id; decisions with no stored proposal are counted.",
)
@engine_option("As for review.", show_default=False)
@jobs_option("As for review.")
@selection_options
@rules_option
@config_options
def rules_impact(
    paths: tuple[str, ...],
    baseline_dirs: tuple[Path, ...],
    fmt: str,
    output: Path | None,
    fail_on: tuple[str, ...],
    waivers_file: Path | None,
    as_of: datetime.datetime | None,
    in_force_on: datetime.datetime | None,
    decision_log: str | None,
    engine: EngineChoice,
    jobs: int | None,
    domains: tuple[str, ...],
    only_rules: tuple[str, ...],
    skip_rules: tuple[str, ...],
    rule_dirs: tuple[Path, ...],
    config_path: Path | None,
    no_config: bool,
) -> int:
    """Review PATHS (as review reads them), and the proposals a decision log kept
    (--decision-log), with a baseline rule set and with the current rules and configuration, and
    report what the change does: per proposal the decision before and after and the findings
    added, removed or graded differently; per rule the proposals it newly fires or stops firing
    on; totals by decision change. A report, not a gate: exit 0 unless the input is invalid."""
    from compliance.batch import impact, impact_render

    if not paths and decision_log is None:
        raise UsageError("rules impact: give PATHS to compare, --decision-log, or both")
    if output is not None:
        writable(output)
    config, loaded, ruleset = load_all(
        rule_dirs, config_path, no_config, domains=domains, only=only_rules, skip=skip_rules
    )
    run = run_settings(config, loaded, ruleset, fail_on, waivers_file, None, as_of)
    selection = config.selection(domains, only_rules, skip_rules)
    with contextlib.ExitStack() as stack:
        stored = None
        if decision_log is not None:
            from compliance.service.decision_log import open_log

            stored = stack.enter_context(open_log(decision_log, migrate=False)).stored_proposals()
        report, fallback = impact.run(
            ruleset,
            run,
            baseline_dirs,
            selection,
            paths,
            engine=engine,
            jobs=jobs,
            in_force_on=in_force_on.date() if in_force_on is not None else None,
            stored=stored,
        )
    if fallback is not None:
        click.echo(f"engine: the reference evaluator decides ({fallback})", err=True)
    if report.decision_log is not None and report.decision_log.without_proposals:
        click.echo(f"decision log: {report.decision_log.not_replayed()} (not compared)", err=True)
    write(impact_render.render(fmt, report), output)
    return int(ExitCode.PASSED)
