"""``compliance config show``: the configuration a review would use, and where each value
comes from."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import click

from compliance.commands.loading import load_all, run_settings
from compliance.commands.options import (
    config_options,
    format_option,
    gate_options,
    rules_option,
    selection_options,
)
from compliance.exitcodes import ExitCode
from compliance.rules import tuning


@click.group("config")
def config_group() -> None:
    """The project configuration."""


@config_group.command("show")
@format_option()
@gate_options
@selection_options
@rules_option
@config_options
def config_show(
    fmt: str,
    fail_on: tuple[str, ...],
    waivers_file: Path | None,
    record_dir: Path | None,
    as_of: datetime.datetime | None,
    domains: tuple[str, ...],
    only_rules: tuple[str, ...],
    skip_rules: tuple[str, ...],
    rule_dirs: tuple[Path, ...],
    config_path: Path | None,
    no_config: bool,
) -> int:
    """Print the configuration a review would use (given the same options) and where each value
    comes from: the command line, an environment variable, the config file, or the default.
    Everything is validated as for a review (rules, config, waivers)."""
    config, loaded, ruleset = load_all(
        rule_dirs, config_path, no_config, domains=domains, only=only_rules, skip=skip_rules
    )
    run = run_settings(config, loaded, ruleset, fail_on, waivers_file, record_dir, as_of)
    rows = run.rows(config, tuning.in_force(ruleset, run.as_of.value))
    if fmt == "json":
        click.echo(json.dumps({"settings": rows}, indent=2, ensure_ascii=False))
        return int(ExitCode.PASSED)
    width = max(len(r["name"]) for r in rows)
    for row in rows:
        click.echo(f"{row['name']:<{width}}  {_shown(row['value'])}  [{row['origin']}]")
    return int(ExitCode.PASSED)


def _shown(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return "; ".join(str(v) for v in value) if value else "(none)"
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items()) if value else "(none)"
    return str(value)
