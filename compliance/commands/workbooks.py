"""``compliance template`` and ``compliance export``: the proposal workbook, blank or filled in."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from compliance.commands.files import new_file, write
from compliance.errors import UsageError
from compliance.exitcodes import ExitCode
from compliance.words import counted
from compliance.workbook.layout import TEMPLATE_VERSION, Layout

if TYPE_CHECKING:
    from compliance.commands.options import F

LAYOUT_CHOICE = click.Choice([layout.value for layout in Layout])


def layout_option(help: str) -> Callable[[F], F]:
    """``--layout`` of a command that writes proposals: by default, chosen from what it reads."""
    return click.option("--layout", type=LAYOUT_CHOICE, help=help)


@click.command()
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--layout",
    type=LAYOUT_CHOICE,
    default=Layout.single.value,
    show_default=True,
    help="single: one proposal per workbook (a folder of them reviews many); register: one row "
    "per proposal in one workbook.",
)
@click.option("--force", is_flag=True, help="Overwrite OUTPUT if it exists.")
def template(output: Path, layout: str, force: bool) -> int:
    """Write a blank proposal workbook for a legal team to fill in (generated from the intake
    contract, with drop-downs and guidance)."""
    from compliance.workbook.write import build, to_bytes

    write(to_bytes(build(Layout(layout))), new_file(output, force))
    click.echo(f"wrote {output} ({layout} layout, template version {TEMPLATE_VERSION})")
    return int(ExitCode.PASSED)


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.argument("output", type=click.Path(path_type=Path))
@layout_option(
    "single or register (default: single for one proposal, register for several). With "
    "single and several proposals, OUTPUT is a directory that gets one workbook per proposal."
)
@click.option("--force", is_flag=True, help="Overwrite workbooks that exist.")
def export(paths: tuple[str, ...], output: Path, layout: str | None, force: bool) -> int:
    """Fill the workbook template with proposals read from PATHS (JSON or workbooks) and write
    it to OUTPUT."""
    from compliance.intake.proposals import read_proposals
    from compliance.workbook.write import build, to_bytes

    proposals = [item.proposal for item in read_proposals(list(paths))]
    chosen = Layout(layout) if layout else Layout.single
    if layout is None and len(proposals) > 1:
        chosen = Layout.register
    if chosen is Layout.single and (len(proposals) > 1 or output.is_dir()):
        if not output.is_dir() and (output.exists() or output.suffix):
            raise UsageError(
                f"{output}: {len(proposals)} proposals in the single layout need a directory "
                "(one workbook each), or use --layout register"
            )
        targets = [new_file(output / f"{p.id}.xlsx", force) for p in proposals]
        books = [to_bytes(build(chosen, [p])) for p in proposals]  # all or nothing
        output.mkdir(parents=True, exist_ok=True)
        for book, target in zip(books, targets, strict=True):
            write(book, target)
        click.echo(f"wrote {counted(len(targets), 'workbook')} in {output}")
        return int(ExitCode.PASSED)
    write(to_bytes(build(chosen, proposals)), new_file(output, force))
    plural = "s" if len(proposals) != 1 else ""
    click.echo(f"wrote {output} ({len(proposals)} proposal{plural}, {chosen.value} layout)")
    return int(ExitCode.PASSED)
