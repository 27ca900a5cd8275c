"""Proposals of a workbook handed over one at a time (:func:`iter_workbook`): the same documents,
problems and layout as :func:`read_workbook`, with the workbook's own checks made before the
first one."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from compliance.errors import InputError
from compliance.intake.proposals import read_proposals
from compliance.workbook.layout import Layout
from compliance.workbook.read import Document, iter_workbook, read_workbook
from compliance.workbook.write import build, to_bytes
from tests.conftest import FIXTURES

ALL = sorted(FIXTURES.glob("*.json"))
RICH = FIXTURES / "flawed-data-sharing-biometrics-left-behind.json"


def _register(tmp_path: Path, sources: list[Path]) -> Path:
    loaded = read_proposals([str(source) for source in sources])
    path = tmp_path / "register.xlsx"
    path.write_bytes(to_bytes(build(Layout.register, [item.proposal for item in loaded])))
    return path


def _seen(document: Document, paths: list[str]) -> tuple[object, str, list[str]]:
    data, source_map, label = document
    return data, label, [str(source_map.locate(path)) for path in paths]


PATHS = ["id", "title", "data_sharing.flows[0].categories", "parties[1].name", "nowhere.at_all"]


def test_a_register_streams_the_documents_it_reads(tmp_path: Path) -> None:
    path = _register(tmp_path, ALL)
    documents, problems, layout = read_workbook(str(path))
    stream, streamed_problems, streamed_layout = iter_workbook(str(path))
    assert streamed_layout is layout is Layout.register
    streamed = list(stream)
    assert len(streamed) == len(documents) == len(ALL)
    assert [_seen(d, PATHS) for d in streamed] == [_seen(d, PATHS) for d in documents]
    assert streamed_problems == problems == []


def test_cell_problems_arrive_with_their_proposal(tmp_path: Path) -> None:
    path = _register(tmp_path, [RICH, FIXTURES / "exemplary-humanitarian.json"])
    book = openpyxl.load_workbook(path)
    book["Proposals"]["E3"] = "peace_keeping"  # the second proposal's sector, one letter off
    book.save(path)
    expected = [
        f"{path}, Proposals!E3: PRP-2026-077: sector: 'peace_keeping' is not one of "
        "counter_terrorism, preventing_violent_extremism, counter_narcotics, peacekeeping, "
        "humanitarian, community_engagement, border_and_migration (did you mean 'peacekeeping'?)"
    ]
    stream, problems, _ = iter_workbook(str(path))
    first = next(stream)
    assert first[2] == "HO-F3-BIOMETRIC-ID"
    assert problems == []
    second = next(stream)
    assert second[2] == "PRP-2026-077"
    assert problems == expected
    assert next(stream, None) is None
    assert read_workbook(str(path))[1] == expected


def test_a_workbook_unreadable_as_a_whole_is_refused_before_the_first(tmp_path: Path) -> None:
    path = _register(tmp_path, [RICH, FIXTURES / "exemplary-humanitarian.json"])
    book = openpyxl.load_workbook(path)
    book["Proposals"]["A3"] = None  # a row with answers and no id
    book.save(path)
    with pytest.raises(InputError) as eager:
        read_workbook(str(path))
    with pytest.raises(InputError) as streamed:
        iter_workbook(str(path))
    assert streamed.value.problems == eager.value.problems
    assert eager.value.problems[:2] == [
        f"{path}, Proposals!A3: this row has answers but no proposal id",
        f"{path}, Parties!A5: proposal id 'PRP-2026-077' is not on the Proposals sheet",
    ]
