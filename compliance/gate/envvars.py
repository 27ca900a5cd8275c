"""Options from environment variables, as CI systems and containers set them.

Every option of every command can be given as ``COMPLIANCE_<COMMAND>_<OPTION>``: the command's
words and the option's long name in upper case, ``-`` as ``_`` (``review --fail-on`` is
``COMPLIANCE_REVIEW_FAIL_ON``, ``rules list --format`` is ``COMPLIANCE_RULES_LIST_FORMAT``). Four
options that several commands share also have a shorter name that applies to each of them:
:data:`SHARED`. The command line wins over the environment, which wins over the config file,
which wins over the default.

A few options are never read from the environment (:data:`NEVER`): one left set in a shell must
not overwrite a filled-in workbook, turn the gate off, serve without authentication or start
keeping personal data. Variables
the tool already reads for other purposes (:data:`RESERVED`) are never an option's name.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import click
from click.core import ParameterSource

from compliance.errors import UsageError

PREFIX = "COMPLIANCE"
SHARED = {
    "--config": "COMPLIANCE_CONFIG",
    "--rules": "COMPLIANCE_RULES",
    "--engine": "COMPLIANCE_ENGINE",
    "--jobs": "COMPLIANCE_JOBS",
}
"""Short names for options several commands share; the command's own name comes first."""
SHOWN = frozenset({*SHARED, "--fail-on"})
"""Options whose variables ``--help`` names (the rule for the others is in the group's help)."""
NEVER = frozenset(
    {"--force", "--insecure-no-auth", "--keep-proposals", "--no-fail", "--help", "--version"}
)
RESERVED = frozenset(
    {
        "COMPLIANCE_API_TOKENS",
        "COMPLIANCE_CACHE_DIR",
        "COMPLIANCE_DAEMON",
        "COMPLIANCE_DEBUG",
        "COMPLIANCE_SCREENSHOT_DIR",
        "COMPLIANCE_TEST_POSTGRES_URL",
    }
)
"""Variables read for other purposes: the service's tokens, the rule-set cache, the daemon's
socket, tracebacks, and the test suite's."""


def _commands(
    command: click.Command, path: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))


def flag_of(param: click.Option) -> str | None:
    """The option's longest ``--name``."""
    longs = [o for o in param.opts if o.startswith("--")]
    return max(longs, key=len) if longs else None


def variable(path: tuple[str, ...], flag: str) -> str:
    """``COMPLIANCE_<COMMAND>_<OPTION>`` for an option of the command at ``path``."""
    words = [PREFIX, *path, flag[2:]]
    return "_".join(words).upper().replace("-", "_")


def attach(group: click.Group) -> dict[str, list[str]]:
    """Give every option of ``group``'s commands its environment variables (once: an option
    that already has some keeps them). Returns every variable and the options it sets, as
    ``review --fail-on``."""
    names: dict[str, list[str]] = {}
    for path, command in _commands(group, ()):
        for param in command.params:
            if not isinstance(param, click.Option) or param.is_eager:
                continue
            flag = flag_of(param)
            if flag is None or flag in NEVER:
                continue
            if param.envvar is None:
                own = variable(path, flag)
                param.envvar = [own, SHARED[flag]] if flag in SHARED else [own]
                param.show_envvar = flag in SHOWN
            for name in [param.envvar] if isinstance(param.envvar, str) else param.envvar:
                names.setdefault(name, []).append(" ".join([*path, flag]))
    return names


def origin(ctx: click.Context, name: str) -> str | None:
    """Where the value of parameter ``name`` came from, as ``config show`` says it:
    ``command line (--fail-on)`` or ``environment (COMPLIANCE_REVIEW_FAIL_ON)``; None for a
    default."""
    source = ctx.get_parameter_source(name)
    param = next((p for p in ctx.command.params if p.name == name), None)
    if param is None or not isinstance(param, click.Option):
        return None
    if source is ParameterSource.ENVIRONMENT:
        return f"environment ({_used(ctx, name)})"
    if source is ParameterSource.COMMANDLINE:
        return f"command line ({flag_of(param)})"
    return None


def _used(ctx: click.Context, name: str) -> str:
    """The variable that set parameter ``name`` (the first of its variables that is set)."""
    param = next(p for p in ctx.command.params if p.name == name)
    envvar = param.envvar or []
    candidates = [envvar] if isinstance(envvar, str) else list(envvar)
    return next((v for v in candidates if os.environ.get(v)), candidates[0])


def origins(ctx: click.Context | None, *names: str) -> dict[str, str]:
    """:func:`origin` of each of ``names`` that was given (none without a context)."""
    if ctx is None:
        return {}
    out = {}
    for name in names:
        where = origin(ctx, name)
        if where is not None:
            out[name] = where
    return out


def config_choice(
    ctx: click.Context | None, config_path: Path | None, no_config: bool
) -> tuple[Path | None, bool]:
    """``--config`` and ``--no-config``, where one on the command line overrides the other in
    the environment; both in the same place still contradict each other (an error)."""
    if ctx is None or config_path is None or not no_config:
        return config_path, no_config
    path_from = ctx.get_parameter_source("config_path")
    none_from = ctx.get_parameter_source("no_config")
    if path_from is ParameterSource.COMMANDLINE and none_from is ParameterSource.ENVIRONMENT:
        return config_path, False
    if path_from is ParameterSource.ENVIRONMENT and none_from is ParameterSource.COMMANDLINE:
        return None, True
    if path_from is ParameterSource.ENVIRONMENT and none_from is ParameterSource.ENVIRONMENT:
        both = [_used(ctx, name) for name in ("config_path", "no_config")]
        raise UsageError(f"{both[0]} and {both[1]} contradict each other; unset one")
    return config_path, no_config
