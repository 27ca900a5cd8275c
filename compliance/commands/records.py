"""``compliance verify-records``: check the hash chain of the decision records that
``review --record`` writes."""

from __future__ import annotations

from pathlib import Path

import click

from compliance.errors import InputError
from compliance.exitcodes import ExitCode
from compliance.gate import records


@click.command("verify-records")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--expect-record",
    "expect_records",
    multiple=True,
    metavar="SEQ:SHA256",
    help="A head kept from an earlier run (review --record prints it): record SEQ must still "
    "have this hash; records may follow it. Repeatable.",
)
@click.option(
    "--witness",
    "witness_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A file kept outside DIRECTORY holding an earlier head (a copy of DIRECTORY/HEAD, or "
    "SEQ:sha256:HEX); checked as --expect-record.",
)
@click.option(
    "--expect-head",
    metavar="SEQ:SHA256",
    help="The head the chain must end at exactly: no record cut from its end, none added since.",
)
def verify_records(
    directory: Path,
    expect_records: tuple[str, ...],
    witness_file: Path | None,
    expect_head: str | None,
) -> int:
    """Check the hash chain of the decision records in DIRECTORY (written by review --record):
    exit 0 when intact, 2 naming the first record that was edited, removed or added, or the
    witness (a head kept elsewhere) the chain no longer holds."""
    from compliance.gate import record_witness

    witnesses = record_witness.from_options(expect_head, expect_records, witness_file)
    verdict = records.verify(directory, witnesses)
    if verdict.problem is not None:
        raise InputError(verdict.message())
    click.echo(records.intact(directory, verdict, witnesses))
    return int(ExitCode.PASSED)
