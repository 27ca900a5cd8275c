"""The ``compliance`` command: the root group, ``--version``, and the error boundary.

Each command is defined in its own module of :mod:`compliance.commands` and imported only when
it runs (or ``--help`` lists it): start-up is most of a one-proposal review. Every path out of
:func:`main` ends in an exit code from :mod:`compliance.exitcodes`: user errors (one
:class:`ComplianceError` family) print one line per problem; anything unexpected is an internal
error. Nothing but a passing review exits 0.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

import click

from compliance import __version__
from compliance.errors import ComplianceError
from compliance.exitcodes import ExitCode
from compliance.gate import envvars

COMMANDS = {
    "review": "compliance.commands.review:review",
    "config": "compliance.commands.config:config_group",
    "serve": "compliance.commands.serve:serve",
    "validate": "compliance.commands.validate:validate",
    "verify-records": "compliance.commands.records:verify_records",
    "template": "compliance.commands.workbooks:template",
    "export": "compliance.commands.workbooks:export",
    "upgrade": "compliance.commands.upgrade:upgrade",
    "schema": "compliance.commands.schema:schema",
    "docs": "compliance.commands.docs:docs",
    "rules": "compliance.commands.rules:rules",
    "daemon": "compliance.commands.daemon:daemon_group",
}
"""Each command and the ``module:name`` that defines it; ``--help`` lists them sorted."""


class LazyGroup(click.Group):
    """A group that imports a command's module when the command is asked for (click's pattern
    for lazily loading subcommands). Every command added, lazily or not, gets its options'
    environment variables (:func:`compliance.gate.envvars.attach`) before it parses them."""

    def __init__(self, *args: Any, lazy: Mapping[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            return self.load(cmd_name)
        return super().get_command(ctx, cmd_name)

    def load(self, name: str) -> click.Command:
        """The command ``name``, its module imported the first time."""
        if name not in self.commands:
            module, _, attr = self.lazy[name].partition(":")
            command = getattr(importlib.import_module(module), attr)
            if not isinstance(command, click.Command):
                raise TypeError(f"{self.lazy[name]} is not a command")
            self.add_command(command, name)
        return self.commands[name]

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        super().add_command(cmd, name)
        envvars.attach(self)  # the new command's options; the others keep theirs

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        # click suggests a command from those already loaded alone: suggest from them all.
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.NoSuchCommand as error:
            raise click.exceptions.NoSuchCommand(
                error.command_name, possibilities=self.list_commands(ctx), ctx=ctx
            ) from None


def _version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from compliance.rules import durable as durable_engine

    click.echo(f"compliance, version {__version__}")
    click.echo(f"engine: {durable_engine.describe()}")
    ctx.exit()


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_version,
    help="Show the version and the engine a review runs (--engine auto), and exit.",
)
def cli() -> None:
    """Check partnership proposals against compliance and ethics rules.

    Exit codes: 0 passed, 2 invalid input or usage, 3 blocked (reject), 4 needs information,
    5 rule set error, 6 internal error.

    Options can be set in the environment as COMPLIANCE_<COMMAND>_<OPTION>
    (COMPLIANCE_REVIEW_FAIL_ON=medium); COMPLIANCE_CONFIG, COMPLIANCE_RULES, COMPLIANCE_ENGINE
    and COMPLIANCE_JOBS apply to every command with that option. The command line wins, then
    the environment, then the config file. Shell completion: see the README.
    """


def _debug() -> bool:
    return os.environ.get("COMPLIANCE_DEBUG", "") not in ("", "0")


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Entry point: run the command and exit with its code, failing closed on any error."""
    # openpyxl warns about workbook features it drops on reading (data-validation extensions,
    # slicers, ...): nothing intake reads, and noise in a report's stderr.
    warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
    try:
        code = cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="compliance",
            standalone_mode=False,
        )
    except click.exceptions.Exit as exc:  # --help, --version
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(int(ExitCode.INVALID_INPUT))
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(int(ExitCode.INTERNAL_ERROR))
    except ComplianceError as exc:
        for line in exc.problems:
            click.echo(f"error: {line}", err=True)
        sys.exit(int(exc.exit_code))
    except BrokenPipeError:
        sys.stderr.close()
        sys.exit(int(ExitCode.INTERNAL_ERROR))
    except Exception as exc:
        click.echo(f"internal error: {type(exc).__name__}: {exc}", err=True)
        if _debug():
            traceback.print_exc()
        else:
            click.echo("(set COMPLIANCE_DEBUG=1 for the traceback)", err=True)
        sys.exit(int(ExitCode.INTERNAL_ERROR))
    if not isinstance(code, int):
        sys.exit(int(ExitCode.INTERNAL_ERROR))
    sys.exit(code)
