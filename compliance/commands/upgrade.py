"""``compliance upgrade``: rewrite contract v1 proposals in their contract v2 form."""

from __future__ import annotations

from pathlib import Path

import click

from compliance.commands.files import new_file, write
from compliance.commands.workbooks import layout_option
from compliance.exitcodes import ExitCode
from compliance.proposal.model import SCHEMA_VERSION
from compliance.workbook.layout import Layout


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
@layout_option(
    "For a workbook OUTPUT: single or register (default: the layout of the input "
    "workbook; else single for one proposal, register for several)."
)
@click.option("--force", is_flag=True, help="Overwrite OUTPUT if it exists.")
def upgrade(paths: tuple[str, ...], output: Path, layout: str | None, force: bool) -> int:
    """Rewrite contract v1 proposals read from PATHS (JSON, workbooks, directories) in their
    contract v2 form, nothing lost, into OUTPUT: JSON (.json: an object for one proposal, a list
    for several), JSON Lines (.jsonl) or a v2 workbook (.xlsx). Messages go to stderr."""
    from compliance.intake import upgrade as upgrading

    upgrading.output_kind(output)
    target = new_file(output, force)
    result = upgrading.upgrade(list(paths), output, Layout(layout) if layout else None)
    write(result.content, target)
    for note in result.notes:
        click.echo(note, err=True)
    plural = "s" if result.proposals != 1 else ""
    shape = f", {result.layout.value} layout" if result.layout else ""
    click.echo(
        f"wrote {output} ({result.proposals} proposal{plural}, contract v{SCHEMA_VERSION}{shape})",
        err=True,
    )
    return int(ExitCode.PASSED)
