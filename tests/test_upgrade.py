"""Contract v2 keeps v1 working: ``compliance upgrade`` loses nothing, and a v1 proposal and its
upgraded form get exactly the same review."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import openpyxl
import pytest
from pydantic import BaseModel

from compliance import docgen
from compliance.intake.proposals import LoadedProposal, read_proposals
from compliance.intake.upgrade import upgrade
from compliance.proposal.fields import catalogue
from compliance.proposal.model import Proposal
from compliance.proposal.v2 import since
from compliance.review.reviewer import Reviewer
from compliance.workbook.layout import Layout
from tests.conftest import FIXTURES, ROOT, Run, plain_review, run_cli

V1_JSON = sorted(
    p for p in FIXTURES.glob("*.json") if json.loads(p.read_text())["schema_version"] == "1"
)
V2_JSON = sorted(
    p for p in FIXTURES.glob("*.json") if json.loads(p.read_text())["schema_version"] == "2"
)
V1_WORKBOOKS = {
    "register.xlsx": "register",
    "flawed-data-sharing-biometrics-left-behind.xlsx": "single",
}


def _reviews(reviewer: Reviewer, loaded: list[LoadedProposal]) -> list[dict[str, Any]]:
    return [plain_review(reviewer.review(item.proposal, item.source_map)) for item in loaded]


def _upgraded(tmp_path: Path, paths: list[Path], name: str) -> Path:
    out = tmp_path / name
    out.write_bytes(upgrade([str(p) for p in paths], out).content)
    return out


def test_there_are_v1_and_v2_fixtures() -> None:
    assert len(V1_JSON) >= 20
    assert V2_JSON


@pytest.mark.parametrize("source", V1_JSON, ids=lambda p: p.stem)
def test_an_upgraded_v1_fixture_is_the_same_json_and_gets_the_same_review(
    source: Path, tmp_path: Path, durable: Reviewer
) -> None:
    out = _upgraded(tmp_path, [source], "up.json")
    before = json.loads(source.read_text(encoding="utf-8"))
    after = json.loads(out.read_text(encoding="utf-8"))
    assert after == {**before, "schema_version": "2"}
    assert list(after) == list(before)  # key order kept
    v1, v2 = read_proposals([str(source)]), read_proposals([str(out)])
    assert [p.proposal.schema_version for p in v2] == ["2"]
    assert _reviews(durable, v2) == _reviews(durable, v1)


def test_every_v1_fixture_upgrades_together_as_a_list_and_as_json_lines(
    tmp_path: Path, durable: Reviewer
) -> None:
    originals = [json.loads(p.read_text(encoding="utf-8")) for p in V1_JSON]
    expected = [{**data, "schema_version": "2"} for data in originals]
    listed = _upgraded(tmp_path, V1_JSON, "all.json")
    lines = _upgraded(tmp_path, V1_JSON, "all.jsonl")
    assert json.loads(listed.read_text(encoding="utf-8")) == expected
    assert [json.loads(line) for line in lines.read_text(encoding="utf-8").splitlines()] == (
        expected
    )
    v1 = _reviews(durable, read_proposals([str(p) for p in V1_JSON]))
    assert _reviews(durable, read_proposals([str(lines)])) == v1


def test_a_v2_proposal_is_written_unchanged(tmp_path: Path) -> None:
    source = V2_JSON[0]
    result = upgrade([str(source)], tmp_path / "same.json")
    assert json.loads(result.content) == json.loads(source.read_text(encoding="utf-8"))
    (note,) = result.notes
    proposal_id = json.loads(source.read_text(encoding="utf-8"))["id"]
    assert note == f"{source}:2:21: {proposal_id}: already contract v2, written unchanged"


@pytest.mark.parametrize(("workbook", "layout"), V1_WORKBOOKS.items())
def test_a_v1_workbook_upgrades_to_a_v2_workbook_and_to_json_with_the_same_review(
    workbook: str, layout: str, tmp_path: Path, durable: Reviewer
) -> None:
    source = FIXTURES / "workbooks" / workbook
    v1 = read_proposals([str(source)])
    assert {p.proposal.schema_version for p in v1} == {"1"}
    as_book = _upgraded(tmp_path, [source], "up.xlsx")
    info = openpyxl.load_workbook(as_book)["Instructions"]
    assert [info[f"B{r}"].value for r in (3, 4, 5)] == ["2", layout, "2"]
    as_json = _upgraded(tmp_path, [source], "up.json")
    expected = [p.proposal.model_copy(update={"schema_version": "2"}) for p in v1]
    for upgraded in (as_book, as_json):
        v2 = read_proposals([str(upgraded)])
        assert [p.proposal for p in v2] == expected
        assert _reviews(durable, v2) == _reviews(durable, v1)


def test_the_layout_can_be_chosen(tmp_path: Path) -> None:
    source = FIXTURES / "workbooks" / "flawed-data-sharing-biometrics-left-behind.xlsx"
    out = tmp_path / "register.xlsx"
    result = upgrade([str(source)], out, layout=None)
    assert result.layout is Layout.single
    out.write_bytes(upgrade([str(source)], out, layout=Layout.register).content)
    assert openpyxl.load_workbook(out)["Instructions"]["B4"].value == "register"
    assert [p.proposal.id for p in read_proposals([str(out)])] == ["HO-F3-BIOMETRIC-ID"]


# --------------------------------------------------------------------------- the command


def test_cli_upgrade_writes_nothing_on_stdout_and_refuses_to_overwrite(tmp_path: Path) -> None:
    source = str(V1_JSON[0])
    out = tmp_path / "up.json"
    assert run_cli("upgrade", source, str(out)) == Run(
        0, "", f"wrote {out} (1 proposal, contract v2)\n"
    )
    first = out.read_bytes()
    assert run_cli("upgrade", source, str(out)) == Run(
        2, "", f"error: {out}: already exists; give --force to overwrite it\n"
    )
    assert out.read_bytes() == first
    out.write_text("old")
    assert run_cli("upgrade", source, str(out), "--force").code == 0
    assert out.read_bytes() == first


def test_cli_upgrade_of_a_folder_into_a_register(tmp_path: Path) -> None:
    folder = FIXTURES / "workbooks"
    out = tmp_path / "all.xlsx"
    run = run_cli("upgrade", str(folder / "register.xlsx"), str(V2_JSON[0]), str(out))
    v2_id = json.loads(V2_JSON[0].read_text(encoding="utf-8"))["id"]
    assert run == Run(
        0,
        "",
        f"{V2_JSON[0]}:2:21: {v2_id}: already contract v2, written unchanged\n"
        f"wrote {out} (4 proposals, contract v2, register layout)\n",
    )
    assert len(read_proposals([str(out)])) == 4


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [
        (
            "an output of an unknown kind",
            ["fixtures/exemplary-humanitarian.json", "{tmp}/up.yaml"],
            "error: {tmp}/up.yaml: the output must end in .json, .jsonl, .ndjson or .xlsx (it "
            "says which form to write)",
        ),
        (
            "a layout for JSON",
            ["fixtures/exemplary-humanitarian.json", "{tmp}/up.json", "--layout", "register"],
            "error: {tmp}/up.json: --layout is for a workbook output (.xlsx)",
        ),
        (
            "a missing input",
            ["fixtures/missing.json", "{tmp}/up.json"],
            "error: fixtures/missing.json: no such file",
        ),
        (
            "several proposals in a single workbook",
            [
                "fixtures/exemplary-humanitarian.json",
                "fixtures/incomplete-coast-guard-training.json",
                "{tmp}/up.xlsx",
                "--layout",
                "single",
            ],
            "error: 2 proposals cannot go in one single-proposal workbook; use --layout "
            "register, or export into a directory",
        ),
    ],
)
def test_cli_upgrade_errors_are_one_line_with_exit_2(
    name: str, args: list[str], expected: str, tmp_path: Path
) -> None:
    run = run_cli("upgrade", *(a.format(tmp=tmp_path) for a in args))
    assert run == Run(2, "", expected.format(tmp=tmp_path) + "\n")
    assert list(tmp_path.iterdir()) == []


def test_cli_a_v1_proposal_answering_a_v2_field_is_not_upgraded(tmp_path: Path) -> None:
    text = (
        '{"schema_version": "1", "id": "P-1", "title": "t",\n'
        ' "activities": {"covert_collection": false},\n'
        ' "security_units": [{"name": "U", "vetted_by": "the_force_itself"}]}\n'
    )
    source = tmp_path / "mixed.json"
    source.write_text(text, encoding="utf-8")
    message = (
        'a contract v2 field in a v1 proposal: set schema_version to "2" (compliance upgrade '
        "does it)"
    )
    run = run_cli("upgrade", str(source), str(tmp_path / "up.json"))
    assert run == Run(
        2,
        "",
        f"error: {source}:2:38: P-1: activities.covert_collection: {message}\n"
        f"error: {source}:3:48: P-1: security_units[0].vetted_by: {message}\n",
    )
    assert not (tmp_path / "up.json").exists()
    assert run_cli("review", str(source)).err == run.err


# --------------------------------------------------------------------------- the schema


def test_the_published_schema_accepts_v1_and_v2_documents() -> None:
    schema = json.loads((ROOT / "docs" / "proposal.schema.json").read_text(encoding="utf-8"))
    assert schema == docgen.proposal_schema()
    assert schema["properties"]["schema_version"]["enum"] == ["1", "2"]
    validator = jsonschema.validators.validator_for(schema)
    validator.check_schema(schema)  # once: jsonschema.validate checks it again for every document
    for path in [*V1_JSON, *V2_JSON]:
        validator(schema).validate(json.loads(path.read_text(encoding="utf-8")))


def test_the_schema_marks_every_v2_field_and_no_v1_field() -> None:
    schema = docgen.proposal_schema()
    models: list[tuple[dict[str, Any], type[BaseModel]]] = [(schema, Proposal)]
    models += [
        (schema["$defs"][spec.model.__name__], spec.model)
        for spec in catalogue().values()
        if spec.model is not None
    ]
    marked = 0
    for body, model in models:
        for name, info in model.model_fields.items():
            mark = body["properties"][name].get("x-since", "1")
            assert mark == since(info), (model.__name__, name)
            marked += mark == "2"
    assert marked >= 40
