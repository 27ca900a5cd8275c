"""``compliance schema``: the JSON Schema of a proposal or of the JSON report."""

from __future__ import annotations

import json
from pathlib import Path

import click

from compliance.commands.files import write
from compliance.exitcodes import ExitCode


@click.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the schema to this file.",
)
@click.option("--report", is_flag=True, help="Print the schema of the JSON report instead.")
def schema(output: Path | None, report: bool) -> int:
    """Print the JSON Schema of a proposal (or of the JSON report), generated from the models."""
    from compliance import docgen

    payload = docgen.report_schema() if report else docgen.proposal_schema()
    write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", output)
    return int(ExitCode.PASSED)
