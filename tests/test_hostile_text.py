"""Hostile text: one rule for the characters an answer may hold, whatever carries it (JSON, JSON
Lines, a workbook); outputs that quote or escape what a spreadsheet or Markdown reader would act
on; and error messages that stay one short line however much input they echo."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from compliance.errors import LINE_MAX, PROBLEMS_MAX, InputError, UsageError, one_line
from compliance.intake.proposals import read_proposals
from compliance.proposal.validation import shown
from compliance.workbook.xlsxtext import set_text
from tests.conftest import FIXTURES
from tests.hostile import run_bounded

SOUND = FIXTURES / "exemplary-humanitarian.json"
MINIMAL = {"schema_version": "1", "id": "P-1", "title": "t"}
CONTROL = "text may hold no control character but tab and line breaks"
RLO = (
    "holds a bidirectional control character (U+202E RIGHT-TO-LEFT OVERRIDE) at character 5, "
    "which makes text display in another order than it is read"
)
TOP_FIELDS = (
    "schema_version, id, title, summary, submitted_on, sector, lead, parties, activities, "
    "security_units, legal, funding, data_sharing, human_rights, safeguards, oversight, "
    "monitoring, subcontractors, technology"
)


def _sound() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SOUND.read_text(encoding="utf-8"))
    return data


def _stdin(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def _problems(tmp_path: Path, data: dict[str, Any]) -> list[str]:
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_proposals([str(path)])
    prefix = f"{path}:"
    assert all(p.startswith(prefix) for p in info.value.problems)
    return [p.removeprefix(prefix) for p in info.value.problems]


# ------------------------------------------------------------------------- the rule for text


@pytest.mark.parametrize(
    ("title", "message"),
    [
        ("Cash\x00aid", f"holds a control character (U+0000) at character 5; {CONTROL}"),
        ("Cash\u202etxt.exe", RLO),
        ("Cash\x1b[2K", f"holds a control character (U+001B) at character 5; {CONTROL}"),
        ("Cash\x7f", f"holds a control character (U+007F) at character 5; {CONTROL}"),
        ("Cash\x9b", f"holds a control character (U+009B) at character 5; {CONTROL}"),
        (
            "Cash\u2067x",
            "holds a bidirectional control character (U+2067 RIGHT-TO-LEFT ISOLATE) at "
            "character 5, which makes text display in another order than it is read",
        ),
        ("Cash\ufffe", "holds a non-character (U+FFFE) at character 5, which text may not contain"),
    ],
)
def test_a_refused_character_in_a_json_title_is_invalid_input(title: str, message: str) -> None:
    data = _sound()
    data["title"] = title
    run = run_bounded("review", "-", stdin=_stdin(data))
    assert (run.code, run.out) == (2, "")
    assert run.err == f"error: -:1:56: PRP-2026-077: title: {message}\n"
    run.within_budget()


def test_a_lone_surrogate_is_named_not_echoed() -> None:
    text = SOUND.read_text(encoding="utf-8").replace('"summary": "', '"summary": "\\udc80', 1)
    run = run_bounded("review", "-", stdin=text.encode("utf-8"))
    assert (run.code, run.out) == (2, "")
    assert run.err == (
        "error: -:5:14: PRP-2026-077: summary: holds a lone surrogate (U+DC80) at character 1, "
        "which is not a character\n"
    )


def test_every_text_field_follows_the_rule(tmp_path: Path) -> None:
    data = _sound()
    data["data_sharing"]["flows"][0]["recipient"] = "Ministry\u202a"
    data["data_sharing"]["data_subject_notice"]["languages"] = ["Somali", "Arabic\x00"]
    data["lead"]["name"] = "Aid\x85link"
    problems = _problems(tmp_path, data)
    assert [p.split(": ", 2)[2] for p in problems] == [
        f"lead.name: holds a control character (U+0085) at character 4; {CONTROL}",
        "data_sharing.flows[0].recipient: holds a bidirectional control character "
        "(U+202A LEFT-TO-RIGHT EMBEDDING) at character 9, which makes text display in another "
        "order than it is read",
        "data_sharing.data_subject_notice.languages[1]: holds a control character (U+0000) at "
        f"character 7; {CONTROL}",
    ]


def test_directional_marks_tabs_and_line_breaks_are_text(tmp_path: Path) -> None:
    """Arabic and Hebrew text uses the marks; they change no order the reader does not see."""
    data = _sound()
    data["title"] = "\u05e9\u05dc\u05d5\u05dd\u200f (Shalom) \u200e\u061c\tend\r\nnext"
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    (loaded,) = read_proposals([str(path)])
    assert loaded.proposal.title == data["title"]


def _bypassed_workbook(tmp_path: Path, title: str) -> Path:
    """A workbook exported from a sound proposal, its title then written by openpyxl itself."""
    book = tmp_path / "p.xlsx"
    exported = run_bounded("export", str(SOUND), str(book))
    assert exported.code == 0, exported.err
    wb = openpyxl.load_workbook(book)
    sheet = wb["Proposal"]
    assert sheet["A3"].value == "title"
    sheet["C3"] = title
    wb.save(book)
    return book


@pytest.mark.parametrize(
    ("title", "message"),
    [
        ("Cash\u202etxt.exe", RLO),
        ("Cash\x85aid", f"holds a control character (U+0085) at character 5; {CONTROL}"),
    ],
)
def test_a_workbook_is_held_to_the_same_rule(tmp_path: Path, title: str, message: str) -> None:
    book = _bypassed_workbook(tmp_path, title)
    run = run_bounded("review", str(book))
    assert (run.code, run.out) == (2, "")
    assert run.err == f"error: {book}, Proposal!C3: PRP-2026-077: title: {message}\n"
    run.within_budget()


def test_openpyxl_cannot_write_a_nul_into_a_workbook(tmp_path: Path) -> None:
    """So a NUL reaches a title through JSON only, where the rule refuses it (above)."""
    with pytest.raises(openpyxl.utils.exceptions.IllegalCharacterError):
        _bypassed_workbook(tmp_path, "Cash\x00aid")


# ------------------------------------------------------------------------- outputs


SPREADSHEET_STARTS = {
    "title": "\tTabbed title",
    "lead.name": '=HYPERLINK("http://example.org","x")',
    "data_sharing.flows[0].recipient": "@SUM(1+1)",
    "data_sharing.flows[0].purpose": "-2+3",
    "data_sharing.processors[0].name": "+1",
}
"""Answers a spreadsheet would compute (or a CSV saved from it would) unless quoted."""


def _set_path(data: dict[str, Any], dotted: str, value: str) -> None:
    *parents, last = dotted.replace("[0]", ".0").split(".")
    node: Any = data
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    node[last] = value


def _string_cells(book: Path) -> dict[str, Any]:
    return {
        c.value: c
        for sheet in openpyxl.load_workbook(book)
        for row in sheet.iter_rows()
        for c in row
        if isinstance(c.value, str)
    }


def test_export_quotes_what_a_spreadsheet_would_compute_and_reads_back_the_same(
    tmp_path: Path,
) -> None:
    data = _sound()
    data["data_sharing"]["processors"] = [{"name": "x", "contract_in_place": True}]
    for dotted, value in SPREADSHEET_STARTS.items():
        _set_path(data, dotted, value)
    data["summary"] = "# Not a heading\nsecond line"
    source = tmp_path / "p.json"
    source.write_text(json.dumps(data), encoding="utf-8")
    book = tmp_path / "p.xlsx"
    assert run_bounded("export", str(source), str(book)).code == 0
    cells = _string_cells(book)
    assert {
        v: (cells[v].data_type, cells[v].quotePrefix) for v in SPREADSHEET_STARTS.values()
    } == dict.fromkeys(SPREADSHEET_STARTS.values(), ("s", True))
    assert cells[data["summary"]].quotePrefix is False  # only what a spreadsheet computes
    (from_json,) = read_proposals([str(source)])
    (from_book,) = read_proposals([str(book)])
    # The export writes the current contract version; every answer reads back as it was.
    assert from_book.proposal == from_json.proposal.model_copy(update={"schema_version": "2"})


@pytest.mark.parametrize("title", ["\tTabbed title", "-1 title", "@A1"])
def test_the_excel_report_quotes_a_title_a_spreadsheet_would_compute(
    tmp_path: Path, title: str
) -> None:
    data = _sound()
    data["title"] = title
    source = tmp_path / "p.json"
    source.write_text(json.dumps(data), encoding="utf-8")
    report = tmp_path / "r.xlsx"
    run = run_bounded("review", str(source), "--format", "xlsx", "--output", str(report))
    assert run.code == 0, run.err
    cell = _string_cells(report)[title]
    assert (cell.data_type, cell.quotePrefix) == ("s", True)


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("=1+1", True),
        ("+1", True),
        ("-1", True),
        ("@A1", True),
        ("\tx", True),
        ("\rx", True),
        (" =1+1", False),
        ("#x", False),
        ("x=1", False),
    ],
)
def test_set_text_quotes_every_formula_start(text: str, quoted: bool) -> None:
    cell = openpyxl.Workbook().active["A1"]
    set_text(cell, text)
    assert (cell.value, cell.data_type, cell.quotePrefix) == (text, "s", quoted)


def test_an_escaped_character_is_written_as_text_a_spreadsheet_shows_as_is() -> None:
    """Excel reads ``_x0041_`` in a cell's XML as "A"; its underscore is escaped (``_x005F_``)."""
    cell = openpyxl.Workbook().active["A1"]
    set_text(cell, "Aid_x0041_link _x12G4_")
    assert cell.value == "Aid_x005F_x0041_link _x12G4_"


def test_export_refuses_an_answer_a_spreadsheet_would_show_otherwise(tmp_path: Path) -> None:
    data = _sound()
    data["lead"]["name"] = "Aid_x0041_link"
    source = tmp_path / "p.json"
    source.write_text(json.dumps(data), encoding="utf-8")
    run = run_bounded("export", str(source), str(tmp_path / "p.xlsx"))
    assert (run.code, run.out) == (2, "")
    assert run.err == (
        "error: PRP-2026-077: lead.name: holds '_x0041_', which Excel shows as the character it "
        "encodes\n"
    )
    assert not (tmp_path / "p.xlsx").exists()


def test_a_leading_hash_in_a_title_is_no_markdown_heading(tmp_path: Path) -> None:
    data = _sound()
    data["title"] = "# Approved ##"
    run = run_bounded("review", "-", "--format", "markdown", stdin=_stdin(data))
    assert run.code == 0, run.err
    assert "## `PRP-2026-077`: \\# Approved \\#\\#" in run.out.splitlines()
    assert [line for line in run.out.splitlines() if "Approved" in line] == [
        "## `PRP-2026-077`: \\# Approved \\#\\#"
    ]


def test_the_html_report_escapes_a_hostile_title(tmp_path: Path) -> None:
    data = _sound()
    data["title"] = "<script>alert(1)</script> & \"quoted\" 'single'"
    run = run_bounded("review", "-", "--format", "html", stdin=_stdin(data))
    assert run.code == 0, run.err
    assert "<script>alert" not in run.out
    assert (
        "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quoted&quot; &#x27;single&#x27;"
        in run.out
    )


# ------------------------------------------------------------------------- messages


def test_a_one_megabyte_unknown_key_gives_one_short_line() -> None:
    key = "k" * (1 << 20)
    text = '{"schema_version": "1", "id": "P-1", "title": "t", "' + key + '": 1}'
    run = run_bounded("review", "-", stdin=text.encode())
    assert (run.code, run.out) == (2, "")
    assert run.err == (
        f"error: -:1:1048632: P-1: {'k' * 39}…: unknown field (allowed here: {TOP_FIELDS})\n"
    )
    run.within_budget()


def test_an_unknown_key_is_echoed_escaped(tmp_path: Path) -> None:
    assert _problems(tmp_path, {**MINIMAL, "tit\u202ele\n": 1}) == [
        "1:64: P-1: tit\\u202ele\\n: unknown field (did you mean 'title'? allowed here: "
        f"{TOP_FIELDS})"
    ]


def test_a_misspelt_field_of_a_table_item_lists_the_item_fields(tmp_path: Path) -> None:
    data = {**MINIMAL, "data_sharing": {"flows": [{"recipeint": "Ministry"}]}}
    assert _problems(tmp_path, data) == [
        "1:93: P-1: data_sharing.flows[0].recipeint: unknown field (did you mean 'recipient'? "
        "allowed here: recipient, recipient_type, categories, subjects, granularity, purpose, "
        "purpose_category, lawful_basis, onward_transfer_allowed, cross_border, "
        "transfer_mechanism, retention_days, recipient_is_origin_state_or_conflict_party, "
        "purpose_fully_disclosed, covert_collection, use_caveats_in_writing, "
        "torture_risk_assessed)"
    ]


def test_a_huge_or_hostile_value_is_cut_and_escaped(tmp_path: Path) -> None:
    data = {**MINIMAL, "submitted_on": "\u202e" + "9" * 100_000, "sector": "x\x1b[31m"}
    assert _problems(tmp_path, data) == [
        f"1:68: P-1: submitted_on: '\\u202e{'9' * 53}…' is not an ISO 8601 date (YYYY-MM-DD)",
        "1:100083: P-1: sector: 'x\\u001b[31m' is not one of counter_terrorism, "
        "preventing_violent_extremism, counter_narcotics, peacekeeping, humanitarian, "
        "community_engagement, border_and_migration",
    ]


def test_an_id_with_an_override_is_named_escaped(tmp_path: Path) -> None:
    assert _problems(tmp_path, {**MINIMAL, "id": "P\u202e1"}) == [
        "1:31: 'P\\u202e1': id: 'P\\u202e1' is not a valid proposal id (1-64 letters, digits, "
        "'.', '_' or '-')"
    ]


def test_shown_escapes_only_the_part_it_shows() -> None:
    assert shown("a\tb\nc\rd\x00e\u2066f\ud800") == "'a\\tb\\nc\\rd\\u0000e\\u2066f\\ud800'"
    assert shown("é" * 60) == "'" + "é" * 60 + "'"
    assert shown("é" * 61) == "'" + "é" * 59 + "…'"
    assert shown(["\u202e"] * 40) == '["' + '\\u202e", "' * 5 + '\\u202e"…'


def test_every_input_error_line_is_one_bounded_line() -> None:
    assert one_line("x" * LINE_MAX) == "x" * LINE_MAX
    assert one_line("x" * (LINE_MAX + 1)) == "x" * (LINE_MAX - 1) + "…"
    assert one_line("a\nb\x1b\u202ec") == "a\\u000ab\\u001b\\u202ec"
    error = InputError(["y" * 1_000_000, "two\nlines"])
    assert error.problems == ["y" * (LINE_MAX - 1) + "…", "two\\u000alines"]
    assert UsageError("z" * 600).problems == ["z" * (LINE_MAX - 1) + "…"]


def test_at_most_so_many_problems_are_listed() -> None:
    error = InputError([f"problem {n}" for n in range(PROBLEMS_MAX + 5)])
    assert len(error.problems) == PROBLEMS_MAX + 1
    assert error.problems[-2:] == [f"problem {PROBLEMS_MAX - 1}", "… and 5 more problems"]
