"""``compliance docs``: write or check the documents generated from the code."""

from __future__ import annotations

from pathlib import Path

import click

from compliance.exitcodes import ExitCode


@click.command()
@click.argument(
    "directory", required=False, type=click.Path(file_okay=False, path_type=Path), default="docs"
)
@click.option("--check", is_flag=True, help="Only check that the documents are up to date.")
def docs(directory: Path, check: bool) -> int:
    """Write the documents generated from the code (schemas, field reference) into DIRECTORY
    (default: docs). With --check, write nothing and exit 2 if any is missing or stale."""
    from compliance import docgen

    stale = docgen.write(directory, check=check)
    if check and stale:
        for name in stale:
            click.echo(f"stale: {directory / name} (run: compliance docs {directory})")
        return int(ExitCode.INVALID_INPUT)
    verb = "checked" if check else "wrote"
    click.echo(f"{verb} {len(docgen.documents())} documents in {directory}")
    return int(ExitCode.PASSED)
