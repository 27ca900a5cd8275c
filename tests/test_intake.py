"""JSON intake: formats, the source map, and one exact line per problem."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from compliance.errors import InputError
from compliance.intake.proposals import read_proposals

MINIMAL = {"schema_version": "1", "id": "P-1", "title": "Minimal"}


def write(tmp_path: Path, name: str, text: str | bytes) -> str:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


def problems(paths: list[str]) -> list[str]:
    with pytest.raises(InputError) as info:
        read_proposals(paths)
    return info.value.problems


def test_single_object(tmp_path: Path) -> None:
    path = write(tmp_path, "one.json", json.dumps(MINIMAL))
    (item,) = read_proposals([path])
    assert item.proposal.id == "P-1"
    assert item.source == path


def test_list_of_proposals_keeps_order_and_positions(tmp_path: Path) -> None:
    docs = [
        {**MINIMAL, "id": "A"},
        {**MINIMAL, "id": "B", "legal": {"us_government_funding": True}},
    ]
    path = write(tmp_path, "list.json", json.dumps(docs, indent=2))
    items = read_proposals([path])
    assert [i.proposal.id for i in items] == ["A", "B"]
    loc = items[1].source_map.locate("legal.us_government_funding")
    text = Path(path).read_text()
    line = at(text, '"us_government_funding": true').split(":")[0]
    assert (loc.pointer, str(loc.line), loc.present) == (
        "/1/legal/us_government_funding",
        line,
        True,
    )


def test_json_lines_by_extension(tmp_path: Path) -> None:
    lines = [json.dumps({**MINIMAL, "id": f"L{i}"}) for i in range(3)]
    path = write(tmp_path, "batch.jsonl", "\n".join(lines) + "\n\n")
    items = read_proposals([path])
    assert [i.proposal.id for i in items] == ["L0", "L1", "L2"]
    assert items[2].source_map.locate("id").line == 3


def test_concatenated_objects_are_read_as_json_lines(tmp_path: Path) -> None:
    text = json.dumps({**MINIMAL, "id": "X"}) + "\n" + json.dumps({**MINIMAL, "id": "Y"}) + "\n"
    path = write(tmp_path, "two.json", text)
    assert [i.proposal.id for i in read_proposals([path])] == ["X", "Y"]


def test_several_files_at_once(tmp_path: Path) -> None:
    a = write(tmp_path, "a.json", json.dumps({**MINIMAL, "id": "A"}))
    b = write(tmp_path, "b.json", json.dumps({**MINIMAL, "id": "B"}))
    assert [i.proposal.id for i in read_proposals([a, b])] == ["A", "B"]


def test_free_text_kept_byte_for_byte_and_blank_text_is_unanswered(tmp_path: Path) -> None:
    summary = "  مشروع الحماية — Проект 保护 \u200b "
    doc = {**MINIMAL, "summary": summary, "legal": {"mandate_reference": "   "}}
    path = write(tmp_path, "u.json", json.dumps(doc, ensure_ascii=False))
    (item,) = read_proposals([path])
    assert item.proposal.summary == summary
    assert item.proposal.legal is not None
    assert item.proposal.legal.mandate_reference is None


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, "bom.json", b"\xef\xbb\xbf" + json.dumps(MINIMAL).encode())
    assert read_proposals([path])[0].proposal.id == "P-1"


def test_codes_are_normalised(tmp_path: Path) -> None:
    doc = {**MINIMAL, "parties": [{"country": " ke "}], "funding": {"currency": "usd"}}
    (item,) = read_proposals([write(tmp_path, "c.json", json.dumps(doc))])
    assert item.proposal.parties is not None
    assert item.proposal.parties[0].country == "KE"
    assert item.proposal.funding is not None
    assert item.proposal.funding.currency == "USD"


def test_absent_field_locates_where_it_would_go(tmp_path: Path) -> None:
    doc = {**MINIMAL, "data_sharing": {"flows": [{"recipient": "X"}]}}
    path = write(tmp_path, "a.json", json.dumps(doc, indent=2))
    (item,) = read_proposals([path])
    loc = item.source_map.locate("data_sharing.flows[0].lawful_basis")
    text = Path(path).read_text()
    assert (loc.pointer, f"{loc.line}:{loc.column}", loc.present) == (
        "/data_sharing/flows/0",
        at(text, '{\n        "recipient"'),
        False,
    )


V2_IN_V1 = (
    'a contract v2 field in a v1 proposal: set schema_version to "2" (compliance upgrade does it)'
)
ALLOWED_BASES = (
    "consent, vital_interest, public_interest, legal_obligation, legitimate_interest, mandate, none"
)


def at(text: str, marker: str) -> str:
    """``line:column`` (1-based) of the first occurrence of ``marker`` in ``text``."""
    offset = text.index(marker)
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"{line}:{column}"


# (label, input text, [(where the problem is, as a marker in the text or None; message)])
BAD = [
    (
        "wrong type",
        '{"schema_version": "1", "id": "P-1", "title": "t",\n "legal": {"us_government_funding": "yes"}}',
        [
            (
                '"yes"',
                "P-1: legal.us_government_funding: expected true, false or null (not answered), got 'yes'",
            )
        ],
    ),
    (
        "unknown enum value",
        '{"schema_version": "1", "id": "P-1", "title": "t", "data_sharing": {"flows": [{"lawful_basis": "consnt"}]}}',
        [
            (
                '"consnt"',
                f"P-1: data_sharing.flows[0].lawful_basis: 'consnt' is not one of {ALLOWED_BASES}",
            )
        ],
    ),
    (
        "unknown item of a list of choices",
        '{"schema_version": "1", "id": "P-1", "title": "t", "data_sharing": {"security_controls": ["encryption", "firewall"]}}',
        [
            (
                '"firewall"',
                "P-1: data_sharing.security_controls[1]: 'firewall' is not one of encryption, access_control, patching, breach_notification, audit_logging",
            )
        ],
    ),
    (
        "unknown field",
        '{"schema_version": "1", "id": "P-1", "title": "t", "legal": {"us_funding": true}}',
        [
            (
                "true",
                "P-1: legal.us_funding: unknown field (did you mean 'us_government_funding'? allowed here: mandate_reference, us_government_funding, un_support_to_security_forces, data_protection_regime, sanctions_regimes, sanctions_exemption)",
            )
        ],
    ),
    (
        "missing required field",
        '{"schema_version": "1", "title": "t"}',
        [("{", "proposal: id: required field is missing")],
    ),
    (
        "bad date",
        '{"schema_version": "1", "id": "P-1", "title": "t", "monitoring": {"start_date": "01/03/2026"}}',
        [
            (
                '"01/03',
                "P-1: monitoring.start_date: '01/03/2026' is not an ISO 8601 date (YYYY-MM-DD)",
            )
        ],
    ),
    (
        "impossible date",
        '{"schema_version": "1", "id": "P-1", "title": "t", "monitoring": {"start_date": "2026-02-30"}}',
        [
            (
                '"2026-02-30"',
                "P-1: monitoring.start_date: '2026-02-30' is not an ISO 8601 date (YYYY-MM-DD)",
            )
        ],
    ),
    (
        "bad country",
        '{"schema_version": "1", "id": "P-1", "title": "t", "parties": [{"country": "XX"}]}',
        [('"XX"', "P-1: parties[0].country: 'XX' is not an ISO 3166-1 alpha-2 country code")],
    ),
    (
        "bad id",
        '{"schema_version": "1", "id": "P 1", "title": "t"}',
        [
            (
                '"P 1"',
                "P 1: id: 'P 1' is not a valid proposal id (1-64 letters, digits, '.', '_' or '-')",
            )
        ],
    ),
    (
        "wrong schema version",
        '{"schema_version": "3", "id": "P-1", "title": "t"}',
        [('"3"', "P-1: schema_version: '3' is not '1' or '2'")],
    ),
    (
        "contract v2 fields in a v1 proposal, each at its place",
        '{"schema_version": "1", "id": "P-1", "title": "t",\n'
        ' "activities": {"armed_escorts": false, "covert_collection": false},\n'
        ' "data_sharing": {"flows": [{"recipient": "A"}, {"recipient": "B", "use_caveats_in_writing": true}]},\n'
        ' "oversight": {"remedy": {"available": true}},\n'
        ' "subcontractors": [], "technology": null}',
        [
            ("false}", f"P-1: activities.covert_collection: {V2_IN_V1}"),
            ("true}", f"P-1: data_sharing.flows[1].use_caveats_in_writing: {V2_IN_V1}"),
            ('{"available"', f"P-1: oversight.remedy: {V2_IN_V1}"),
            ("[]", f"P-1: subcontractors: {V2_IN_V1}"),
        ],
    ),
    (
        "contract v2 fields in a v1 proposal with other problems: all said at once",
        '{"schema_version": "1", "id": "P-1", "title": "t", "sector": "policing",'
        ' "technology": {"supplied": []}}',
        [
            (
                '"policing"',
                "P-1: sector: 'policing' is not one of counter_terrorism, preventing_violent_extremism, counter_narcotics, peacekeeping, humanitarian, community_engagement, border_and_migration",
            ),
            ('{"supplied"', f"P-1: technology: {V2_IN_V1}"),
        ],
    ),
    (
        "unknown field where contract v2 added fields",
        '{"schema_version": "1", "id": "P-1", "title": "t", "oversight": {"remedies": true}}',
        [
            (
                "true",
                "P-1: oversight.remedies: unknown field (did you mean 'remedy'? allowed here: grievance_mechanism, independent_oversight_body, suspension_triggers, recipient_notified_in_writing, agreement_disclosure, reporting_frequency_months, remedy, whistleblowing, serious_incident_reporting)",
            )
        ],
    ),
    (
        "number as text",
        '{"schema_version": "1", "id": "P-1", "title": "t", "oversight": {"reporting_frequency_months": "3"}}',
        [('"3"', "P-1: oversight.reporting_frequency_months: expected a whole number, got '3'")],
    ),
    (
        "negative amount",
        '{"schema_version": "1", "id": "P-1", "title": "t", "funding": {"total_amount": -5}}',
        [("-5", "P-1: funding.total_amount: -5 is too small (minimum 0)")],
    ),
    (
        "section is not an object",
        '{"schema_version": "1", "id": "P-1", "title": "t", "legal": []}',
        [("[]", "P-1: legal: expected an object, got []")],
    ),
    (
        "several problems at once",
        '{"schema_version": "1", "id": "P-1", "title": "t", "sector": "policing", "legal": {"un_support_to_security_forces": 1}}',
        [
            (
                '"policing"',
                "P-1: sector: 'policing' is not one of counter_terrorism, preventing_violent_extremism, counter_narcotics, peacekeeping, humanitarian, community_engagement, border_and_migration",
            ),
            (
                "1}",
                "P-1: legal.un_support_to_security_forces: expected true, false or null (not answered), got 1",
            ),
        ],
    ),
    ("a number", "42", [("42", "proposal: expected a proposal object, got 42")]),
    (
        "list item not an object",
        '[{"schema_version": "1", "id": "A", "title": "t"}, "x"]',
        [('"x"', "proposal #2: expected a proposal object, got 'x'")],
    ),
]


@pytest.mark.parametrize(("label", "text", "expected"), BAD, ids=[b[0] for b in BAD])
def test_invalid_input_gives_one_exact_line_per_problem(
    tmp_path: Path, label: str, text: str, expected: list[tuple[str, str]]
) -> None:
    path = write(tmp_path, "bad.json", text)
    assert problems([path]) == [
        f"{path}:{at(text, marker)}: {message}" for marker, message in expected
    ]


UNREADABLE = [
    (
        "malformed JSON",
        '{"schema_version": "1",\n "id": }',
        "{f}:2:8: not valid JSON: Expecting value",
    ),
    (
        "NaN is not JSON",
        '{"funding": {"total_amount": NaN}}',
        "{f}:1:30: not valid JSON: NaN is not valid JSON",
    ),
    (
        "Infinity on line 2 of JSON Lines",
        '{"id": "A"}\n{"funding": {"total_amount": -Infinity}}\n',
        "{f}:2:30: not valid JSON: -Infinity is not valid JSON",
    ),
    (
        "a list nested too deeply for the parser",
        ("[" + " " * 15) * 100_000 + "]" * 100_000,
        "{f}: not accepted: JSON nested too deeply",
    ),
    (
        "denser in lists than any proposal",
        "[" * 100_000 + "]" * 100_000,
        "{f}: not accepted: more than one object or list per 16 characters",
    ),
    (
        "denser in members than any proposal",
        "{" + ",".join(f'"{i}":0' for i in range(5_000)) + "}",
        "{f}: not accepted: more than one member per 16 characters",
    ),
    (
        "denser in values than any proposal",
        "[" + ",".join(["0"] * 30_000) + "]",
        "{f}: not accepted: more than one value per 4 characters",
    ),
    (
        "a number out of range",
        '{"funding": {"total_amount": 1e999}}',
        "{f}: not accepted: the number 1e999 is out of range",
    ),
    (
        "a number of too many digits",
        '{"funding": {"total_amount": ' + "9" * 5000 + "}}",
        "{f}: not accepted: a number of 5000 digits",
    ),
    (
        "an object of too many members",
        "{" + ",".join(f'"key number {i:06d}": 0' for i in range(10_001)) + "}",
        "{f}: not accepted: an object of more than 10,000 members",
    ),
    (
        "too many proposals",
        "[" + ",".join(['{"title": "xxxxxxx"}'] * 20_001) + "]",
        "{f}: more than 20,000 proposals; split it into several files",
    ),
    ("empty file", "  \n", "{f}: is empty"),
    ("empty list", "[]", "{f}: the list of proposals is empty"),
]


@pytest.mark.parametrize(("label", "text", "expected"), UNREADABLE, ids=[u[0] for u in UNREADABLE])
def test_unreadable_input(tmp_path: Path, label: str, text: str, expected: str) -> None:
    path = write(tmp_path, "bad.json", text)
    assert problems([path]) == [expected.format(f=path)]


def test_not_utf8(tmp_path: Path) -> None:
    raw = '{"title": "caf\xe9"}'.encode("latin-1")
    path = write(tmp_path, "latin1.json", raw)
    assert problems([path]) == [f"{path}: not UTF-8 text (byte 0xe9 at offset {raw.index(0xE9)})"]


def test_json_lines_errors_name_the_line(tmp_path: Path) -> None:
    text = (
        json.dumps(MINIMAL)
        + '\n{"schema_version": "1", "id": "P-2", "title": "t", "sector": "x"}\n{oops\n'
    )
    path = write(tmp_path, "b.jsonl", text)
    assert problems([path]) == [
        f"{path}:3:2: not valid JSON: Expecting property name enclosed in double quotes"
    ]


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    a = write(tmp_path, "a.json", json.dumps(MINIMAL))
    b = write(tmp_path, "b.json", json.dumps(MINIMAL))
    assert problems([a, b]) == [
        f"{b}:1:31: P-1: id: duplicate proposal id (first seen at {a}:1:31)"
    ]


def test_problems_of_all_files_are_reported_together(tmp_path: Path) -> None:
    a = write(tmp_path, "a.json", "{")
    missing = str(tmp_path / "missing.json")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert problems([a, missing, str(empty)]) == [
        f"{a}:1:2: not valid JSON: Expecting property name enclosed in double quotes",
        f"{missing}: no such file",
        f"{empty}: a directory with no proposal files (.json, .jsonl, .ndjson, .xlsm, .xlsx)",
    ]


def test_a_directory_stands_for_the_proposal_files_in_it(tmp_path: Path) -> None:
    write(tmp_path, "b.json", json.dumps(MINIMAL))
    write(tmp_path, "a.jsonl", json.dumps({**MINIMAL, "id": "P-0"}) + "\n")
    write(tmp_path, ".hidden.json", json.dumps({**MINIMAL, "id": "P-2"}))  # read, not skipped
    write(tmp_path, "~$lock.json", "{")  # an Office lock file: skipped
    write(tmp_path, "notes.md", "not a proposal")
    (tmp_path / "nested").mkdir()
    write(tmp_path / "nested", "c.json", "{")  # not read: only files directly inside
    assert [item.proposal.id for item in read_proposals([str(tmp_path)])] == ["P-2", "P-0", "P-1"]


def test_a_file_named_xlsx_goes_to_workbook_intake(tmp_path: Path) -> None:
    path = write(tmp_path, "book.xlsx", b"PK\x03\x04")
    assert problems([path]) == [
        f"{path}: is damaged or truncated (the end of the zip file is missing); "
        "save it again from Excel"
    ]


def test_no_input() -> None:
    assert problems([]) == ["no input given: name one or more proposal files, or - for stdin"]


def test_duplicate_keys_are_refused_with_their_place(tmp_path: Path) -> None:
    text = '{"schema_version": "1", "id": "P-1", "title": "t",\n "legal": {"us_government_funding": true}, "legal": {}}'
    path = write(tmp_path, "dup.json", text)
    assert problems([path]) == [
        f"{path}:{at(text, '{}')}: key 'legal' appears twice in one object (/legal)"
    ]


def test_duplicate_keys_in_json_lines(tmp_path: Path) -> None:
    text = (
        json.dumps(MINIMAL)
        + '\n{"schema_version": "1", "id": "B", "title": "t", "legal": {"sanctions_regimes": [], "sanctions_regimes": ["UN 1267"]}}\n'
    )
    path = write(tmp_path, "dup.jsonl", text)
    where = at(text, '["UN')
    assert problems([path]) == [
        f"{path}:{where}: key 'sanctions_regimes' appears twice in one object (/legal/sanctions_regimes)"
    ]


def test_json_lines_records_end_at_newlines_only(tmp_path: Path) -> None:
    """U+2028, U+2029 and the like may stand unescaped inside JSON strings."""
    title = "Line\u2028separator\u2029next"
    text = (
        json.dumps({**MINIMAL, "title": title}, ensure_ascii=False)
        + "\r\n"
        + json.dumps({**MINIMAL, "id": "P-2"})
        + "\r\n"
    )
    items = read_proposals([write(tmp_path, "u.jsonl", text)])
    assert [(i.proposal.id, i.proposal.title) for i in items] == [
        ("P-1", title),
        ("P-2", "Minimal"),
    ]
    assert items[1].source_map.locate("id").line == 2


def test_a_next_line_control_neither_ends_a_record_nor_stands_in_a_text(tmp_path: Path) -> None:
    """U+0085 is a line break to some readers: the record goes on, and the text rule refuses it."""
    text = json.dumps({**MINIMAL, "title": "one\u0085two"}, ensure_ascii=False) + "\n"
    path = write(tmp_path, "u.jsonl", text)
    assert problems([path]) == [
        f"{path}:1:47: P-1: title: holds a control character (U+0085) at character 4; "
        "text may hold no control character but tab and line breaks"
    ]


def test_blank_items_of_a_text_list_are_not_answers(tmp_path: Path) -> None:
    doc = {
        **MINIMAL,
        "data_sharing": {
            "data_subject_notice": {"provided": True, "languages": ["  ", "Somali", ""]}
        },
    }
    (item,) = read_proposals([write(tmp_path, "b.json", json.dumps(doc))])
    assert item.proposal.data_sharing is not None
    assert item.proposal.data_sharing.data_subject_notice is not None
    assert item.proposal.data_sharing.data_subject_notice.languages == ["Somali"]


def test_blank_title_and_huge_amounts_are_invalid(tmp_path: Path) -> None:
    text = '{"schema_version": "1", "id": "P-1", "title": "   ", "funding": {"total_amount": 2e15}}'
    path = write(tmp_path, "t.json", text)
    title, amount = at(text, '"   "'), at(text, "2e15")
    assert problems([path]) == [
        f"{path}:{title}: P-1: title: must not be empty",
        f"{path}:{amount}: P-1: funding.total_amount: 2000000000000000.0 is too large (maximum 1000000000000000)",
    ]


def test_a_long_invalid_id_is_shortened_in_the_label(tmp_path: Path) -> None:
    long_id = "X" * 200
    path = write(tmp_path, "l.json", json.dumps({**MINIMAL, "id": long_id}))
    (line,) = problems([path])
    assert line.startswith(f"{path}:1:31: 'XXXX")
    assert len(line) < len(path) + 260


def test_every_list_may_be_left_unanswered(tmp_path: Path) -> None:
    doc = {
        **MINIMAL,
        "parties": None,
        "legal": {"sanctions_regimes": None},
        "data_sharing": {
            "flows": None,
            "security_controls": None,
            "data_subject_notice": {"languages": None},
        },
        "monitoring": {"indicators": None},
    }
    (item,) = read_proposals([write(tmp_path, "n.json", json.dumps(doc))])
    assert item.proposal.monitoring is not None
    assert item.proposal.monitoring.indicators is None


def test_list_length_is_bounded(tmp_path: Path) -> None:
    doc = {**MINIMAL, "monitoring": {"indicators": ["x"] * 501}}
    path = write(tmp_path, "long.json", json.dumps(doc))
    text = Path(path).read_text()
    assert problems([path]) == [
        f"{path}:{at(text, '[')}: P-1: monitoring.indicators: has more than 500 items"
    ]


def test_a_proposal_is_read_from_a_pipe_as_from_the_shells_process_substitution() -> None:
    """``compliance review <(...)`` names an anonymous pipe (``/dev/fd/N``): it is read up to the
    size limit, like a file."""
    fixture = Path(__file__).resolve().parent.parent / "fixtures" / "exemplary-humanitarian.json"
    read_end, write_end = os.pipe()

    def write() -> None:
        with os.fdopen(write_end, "wb") as handle:
            handle.write(fixture.read_bytes())

    writer = threading.Thread(target=write)
    writer.start()
    try:
        loaded = read_proposals([f"/dev/fd/{read_end}"])
    finally:
        writer.join(timeout=10)
        os.close(read_end)
    assert [item.proposal.id for item in loaded] == [json.loads(fixture.read_text())["id"]]
