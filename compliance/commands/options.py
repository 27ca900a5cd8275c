"""Options that several commands declare: each is written once here, so that the commands that
share it cannot drift apart in its name, type, default or metavar. A command may word the help
its own way (``rules impact`` says "as for review"); the rest of the declaration is shared.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

import click

from compliance.gate import envvars
from compliance.gate.config import CONFIG_NAME
from compliance.review.reviewer import ENGINE_CHOICES
from compliance.rules.spec import Severity

F = TypeVar("F", bound=Callable[..., Any])

SEVERITY_CHOICE = click.Choice([s.value for s in Severity], case_sensitive=False)


def format_option(choices: Sequence[str] = ("text", "json")) -> Callable[[F], F]:
    """``--format`` of a command that prints one report (default: text)."""
    return click.option("--format", "fmt", type=click.Choice(list(choices)), default="text")


def rules_option(func: F) -> F:
    return click.option(
        "--rules",
        "rule_dirs",
        multiple=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="A directory of extra rule files, loaded after the built-in rules (repeatable).",
    )(func)


def config_options(command: F) -> F:
    @functools.wraps(command)
    def chosen(*args: Any, **kwargs: Any) -> Any:
        # One of --config/--no-config on the command line overrides the other's variable.
        kwargs["config_path"], kwargs["no_config"] = envvars.config_choice(
            click.get_current_context(silent=True), kwargs["config_path"], kwargs["no_config"]
        )
        return command(*args, **kwargs)

    func = cast(F, chosen)
    func = click.option(
        "--no-config",
        is_flag=True,
        help=f"Ignore any {CONFIG_NAME} or [tool.compliance] in pyproject.toml (by default the "
        "one in the working directory or the nearest parent is used).",
    )(func)
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help=f"The project config file (default: {CONFIG_NAME}, or pyproject.toml with a "
        "[tool.compliance] table, searched upwards).",
    )(func)


def selection_options(func: F) -> F:
    func = click.option(
        "--skip-rule",
        "skip_rules",
        multiple=True,
        metavar="ID",
        help="Do not run this rule (repeatable).",
    )(func)
    func = click.option(
        "--rule",
        "only_rules",
        multiple=True,
        metavar="ID",
        help="Run this rule (repeatable); with --domain, rules of either are run.",
    )(func)
    return click.option(
        "--domain",
        "domains",
        multiple=True,
        metavar="DOMAIN",
        help="Run only the rules of this domain (repeatable).",
    )(func)


def fail_on_option(help: str) -> Callable[[F], F]:
    return click.option(
        "--fail-on", "fail_on", multiple=True, metavar="SEVERITY|DOMAIN=SEVERITY", help=help
    )


def waivers_option(help: str) -> Callable[[F], F]:
    return click.option(
        "--waivers", "waivers_file", type=click.Path(dir_okay=False, path_type=Path), help=help
    )


def as_of_option(help: str) -> Callable[[F], F]:
    return click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), help=help)


def engine_option(help: str, *, show_default: bool = True) -> Callable[[F], F]:
    return click.option(
        "--engine",
        type=click.Choice(list(ENGINE_CHOICES)),
        default="auto",
        show_default=show_default,
        help=help,
    )


def jobs_option(help: str) -> Callable[[F], F]:
    return click.option("--jobs", type=click.IntRange(min=1), default=None, help=help)


def gate_options(func: F) -> F:
    """Options that say how a review gates; ``review`` and ``config show`` share them."""
    func = as_of_option(
        "The judgment day, YYYY-MM-DD (default: today, UTC): the rules in force that day "
        "run, and waiver expiry is judged against it; to re-run a past decision."
    )(func)
    func = click.option(
        "--record",
        "record_dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Append a decision record for every proposal to the hash-chained log in this "
        "directory (check it with: compliance verify-records DIR). Default: [records] "
        f"directory in {CONFIG_NAME}, if set.",
    )(func)
    func = waivers_option(
        f"A waivers file (YAML) of accepted findings. Default: [waivers] file in "
        f"{CONFIG_NAME}, if set."
    )(func)
    return fail_on_option(
        "Gate threshold: a violation at or above it rejects the proposal (default: high, "
        f"or [gate] in {CONFIG_NAME}). DOMAIN=SEVERITY sets one domain's threshold "
        "(repeatable); these go on top of the config's."
    )(func)
