"""The Excel report's links back to the cells of the input workbook work wherever the report is
saved: each is relative to the report's own directory, as Excel and LibreOffice resolve it."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils.cell import coordinate_to_tuple
from openpyxl.workbook.workbook import Workbook

from compliance import Reviewer
from compliance.intake.proposals import read_proposals
from compliance.proposal.sourcemap import Location
from compliance.reports.xlsx import render_xlsx
from compliance.reports.xlsx_links import link_base, location_link
from compliance.review.findings import Report
from tests.conftest import FIXTURES, run_cli

WORKBOOK = FIXTURES / "workbooks" / "flawed-data-sharing-biometrics-left-behind.xlsx"


def links(report: Workbook) -> list[tuple[str, str, str]]:
    """Every cell link of the Findings and Unanswered sheets: (sheet, shown text, target)."""
    out = []
    for name, column in (("Findings", "L"), ("Unanswered", "E")):
        for cell in report[name][column][1:]:
            if cell.hyperlink is not None:
                out.append((name, str(cell.value), str(cell.hyperlink.target)))
    return out


def assert_links_resolve(report_path: Path, book: Path) -> int:
    """Resolve each link as a spreadsheet does, from the report's directory: it names ``book``
    and the very cell the Location column shows, which exists in that workbook."""
    found = links(load_workbook(report_path))
    assert found
    target_book = load_workbook(book)
    for _, shown, target in found:
        path, _, place = target.partition("#")
        assert not os.path.isabs(path)
        assert os.path.normpath(report_path.parent / path) == os.path.normpath(book)
        sheet, _, cell = place.rpartition("!")
        sheet = sheet[1:-1].replace("''", "'")
        assert shown.split("\n")[0] == f"{sheet}!{cell}"
        row, column = coordinate_to_tuple(cell)
        ws = target_book[sheet]  # the sheet is there, and the cell within what it holds
        assert row <= ws.max_row
        assert column <= ws.max_column
    return len(found)


def test_links_resolve_from_where_the_report_is_written(tmp_path: Path) -> None:
    """The real command, run from a third directory, the input and the report in two others
    (names with spaces); then both moved elsewhere together: the links still resolve."""
    book = tmp_path / "tree" / "proposals in" / "my book.xlsx"
    book.parent.mkdir(parents=True)
    shutil.copyfile(WORKBOOK, book)
    (tmp_path / "tree" / "reports" / "2026 Q4").mkdir(parents=True)
    (tmp_path / "work").mkdir()
    run = run_cli(
        "review",
        "../tree/proposals in/my book.xlsx",
        "--format",
        "xlsx",
        "-o",
        "../tree/reports/2026 Q4/report.xlsx",
        cwd=tmp_path / "work",
    )
    assert run.code == 3, run.err
    report = tmp_path / "tree" / "reports" / "2026 Q4" / "report.xlsx"
    found = links(load_workbook(report))
    assert ("Findings", "Data sharing!C3", "../../proposals in/my book.xlsx#'Data sharing'!C3") in [
        (sheet, shown.split("\n")[0], target) for sheet, shown, target in found
    ]
    assert assert_links_resolve(report, book) > 10
    moved = tmp_path / "elsewhere" / "copy"
    moved.parent.mkdir()
    shutil.move(tmp_path / "tree", moved)
    assert_links_resolve(
        moved / "reports" / "2026 Q4" / "report.xlsx", moved / "proposals in" / "my book.xlsx"
    )


@pytest.fixture(scope="module")
def report(reference: Reviewer) -> Report:
    items = read_proposals([str(WORKBOOK)])
    return reference.report([reference.review(i.proposal, i.source_map) for i in items])


def targets(data: bytes) -> set[str]:
    return {target for _, _, target in links(load_workbook(io.BytesIO(data)))}


def test_a_report_written_to_a_device_links_absolute_paths(report: Report) -> None:
    """Written in place to a pipe or a device (-o /dev/stdout), the report has no known
    directory: links hold the input's absolute path."""
    found = targets(render_xlsx(report, str, "/dev/null"))
    assert found
    assert {t.partition("#")[0] for t in found} == {str(WORKBOOK)}


def test_a_fifo_has_no_link_base_and_a_new_file_its_directory(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert link_base(fifo) is None
    assert link_base(tmp_path / "sub" / "new.xlsx") == str(tmp_path / "sub")
    assert link_base("report.xlsx") == os.getcwd()


def test_without_an_output_links_keep_the_path_as_given(report: Report) -> None:
    """As a library (or for a download from the service) the report's place is unknown: the
    input's path is kept as it was given."""
    loc = Location(source="in/b.xlsx", sheet="Funding", cell="C4")
    assert location_link(loc, as_given=True) == "in/b.xlsx#'Funding'!C4"
    assert (
        location_link(loc, "/srv/reports")
        == os.path.relpath(os.path.abspath("in/b.xlsx"), "/srv/reports") + "#'Funding'!C4"
    )
    assert location_link(loc) == os.path.abspath("in/b.xlsx") + "#'Funding'!C4"
    found = targets(render_xlsx(report, str))
    assert {t.partition("#")[0] for t in found} == {str(WORKBOOK)}
