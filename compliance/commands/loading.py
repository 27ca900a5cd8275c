"""What the commands that review do with the options they share: load the rules a run selects
and resolve the gate's settings."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from pathlib import Path

import click

from compliance.gate import envvars, settings
from compliance.gate.config import ProjectConfig, resolve_config
from compliance.rules import tuning
from compliance.rules.load import load_rules
from compliance.rules.ruleset import RuleSet


def load_all(
    rule_dirs: Sequence[Path],
    config_path: Path | None = None,
    no_config: bool = False,
    *,
    domains: tuple[str, ...] = (),
    only: tuple[str, ...] = (),
    skip: tuple[str, ...] = (),
) -> tuple[ProjectConfig, RuleSet, RuleSet]:
    """The config, every rule loaded, and the rules this run selects as the config grades them."""
    ctx = click.get_current_context(silent=True)
    found_by = envvars.origins(ctx, "config_path").get("config_path")
    config = resolve_config(config_path, use=not no_config, origin=found_by)
    loaded = load_rules(directories(config.rule_dirs, rule_dirs), builtin=config.builtin)
    return config, loaded, tuning.apply(loaded, config.selection(domains, only, skip))


def directories(*groups: Sequence[Path]) -> list[Path]:
    """Rule directories in order, each once (the config and --rules may name the same one)."""
    seen: set[Path] = set()
    out: list[Path] = []
    for group in groups:
        for directory in group:
            key = directory.resolve()
            if key not in seen:
                seen.add(key)
                out.append(directory)
    return out


def run_settings(
    config: ProjectConfig,
    loaded: RuleSet,
    ruleset: RuleSet,
    fail_on: tuple[str, ...],
    waivers_file: Path | None,
    record_dir: Path | None,
    as_of: datetime.datetime | None,
) -> settings.RunSettings:
    """The gate's settings for this run, each with where it came from."""
    ctx = click.get_current_context(silent=True)
    given = ("fail_on", "waivers_file", "record_dir", "as_of", "rule_dirs", "domains")
    return settings.resolve(
        config,
        loaded,
        ruleset,
        fail_on=fail_on,
        waivers_file=waivers_file,
        record_dir=record_dir,
        as_of=as_of.date() if as_of is not None else None,
        sources=envvars.origins(ctx, *given, "only_rules", "skip_rules"),
        rule_dirs=ctx.params.get("rule_dirs", ()) if ctx is not None else (),
    )
