"""``compliance validate``: check proposals against the intake contract without reviewing them."""

from __future__ import annotations

import click

from compliance.exitcodes import ExitCode


@click.command()
@click.argument("paths", nargs=-1, required=True)
def validate(paths: tuple[str, ...]) -> int:
    """Check that proposals (JSON, workbooks, directories) are valid under the intake contract,
    without reviewing them."""
    from compliance.intake.proposals import read_proposals

    loaded = read_proposals(list(paths))
    click.echo(f"{len(loaded)} proposal{'s' if len(loaded) != 1 else ''} valid")
    return int(ExitCode.PASSED)
