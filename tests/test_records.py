"""Decision records: what a record holds, and that the chain shows any edit, removal or addition."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
from pathlib import Path

import pytest

from compliance.gate import records
from compliance.intake.proposals import read_proposals
from compliance.intake.upgrade import upgrade
from compliance.workbook.layout import Layout
from compliance.workbook.write import build, to_bytes
from tests.conftest import FIXTURES, Run, run_cli

SOUND = FIXTURES / "exemplary-humanitarian.json"
FLAWED = FIXTURES / "flawed-refugee-data-sharing.json"


def _recorded(tmp_path: Path, *sources: Path) -> Path:
    directory = tmp_path / "records"
    result = run_cli("review", *map(str, sources), "--record", str(directory), "--format", "json")
    assert result.code in (0, 3), result.err
    head = _head(directory)
    assert result.err == (
        f"{directory}: head {head}; keep it outside {directory}, and later: "
        f"compliance verify-records {directory} --expect-record {head}\n"
    )
    return directory


def _head(directory: Path) -> str:
    """The head as a run prints it, from HEAD; checked against the last record's bytes."""
    head = json.loads((directory / "HEAD").read_text())
    last = _files(directory)[-1]
    assert head["sha256"] == "sha256:" + hashlib.sha256(last.read_bytes()).hexdigest()
    return f"{head['sequence']}:{head['sha256']}"


def _files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.name[0].isdigit())


def test_a_record_per_review_and_an_intact_chain(tmp_path: Path) -> None:
    directory = _recorded(tmp_path, SOUND, FLAWED)
    assert [p.name for p in _files(directory)] == [
        "00000001-PRP-2026-077.json",
        "00000002-PRP-2026-034.json",
    ]
    assert run_cli("verify-records", str(directory)) == Run(
        0,
        f"{directory}: 2 records, chain intact, head {_head(directory)}; no witness given: "
        "records cut from its end would not show\n",
        "",
    )


def test_a_record_holds_what_an_audit_needs(tmp_path: Path) -> None:
    directory = _recorded(tmp_path, FLAWED)
    report = json.loads(run_cli("review", str(FLAWED), "--format", "json").out)
    (path,) = _files(directory)
    record = json.loads(path.read_text())
    assert sorted(record) == [
        "as_of",
        "counts",
        "decision",
        "domain_thresholds",
        "engine",
        "findings",
        "input",
        "previous",
        "proposal",
        "record_hash",
        "record_version",
        "recorded_at",
        "rule_set",
        "rules_not_in_force",
        "selection",
        "sequence",
        "threshold",
        "tool_version",
        "waivers",
        "waivers_applied",
    ]
    assert (record["record_version"], record["waivers"], record["waivers_applied"]) == (
        "1.2",
        None,
        [],
    )
    assert record["domain_thresholds"] == {}
    assert record["input"] == {
        "source": str(FLAWED),
        "sha256": "sha256:" + hashlib.sha256(FLAWED.read_bytes()).hexdigest(),
    }
    assert record["rule_set"] == {
        key: report["rule_set"][key] for key in ("name", "version", "hash")
    }
    assert record["decision"] == "reject" == report["reviews"][0]["decision"]
    assert record["findings"] == report["reviews"][0]["findings"]
    assert record["previous"] is None
    assert record["sequence"] == 1
    assert record["recorded_at"].endswith("+00:00")


def test_the_proposal_hash_is_the_same_from_json_and_from_a_workbook(tmp_path: Path) -> None:
    # A workbook holds contract v2, so the JSON is the fixture's v2 form (compliance upgrade).
    v2 = tmp_path / "p.json"
    v2.write_bytes(upgrade([str(FLAWED)], v2).content)
    (from_json,) = read_proposals([str(v2)])
    assert from_json.proposal.schema_version == "2"
    book = tmp_path / "p.xlsx"
    book.write_bytes(to_bytes(build(Layout.single, [from_json.proposal])))
    (from_book,) = read_proposals([str(book)])
    assert records.proposal_hash(from_book.proposal) == records.proposal_hash(from_json.proposal)
    assert from_book.input_sha256 == hashlib.sha256(book.read_bytes()).hexdigest()


def test_runs_extend_one_chain(tmp_path: Path) -> None:
    directory = _recorded(tmp_path, SOUND, FLAWED)
    _recorded(tmp_path, FLAWED)
    names = [p.name for p in _files(directory)]
    assert names[-1] == "00000003-PRP-2026-034.json"
    third = json.loads((directory / names[-1]).read_text())
    assert third["previous"] == records.sha256((directory / names[1]).read_bytes())
    assert records.verify(directory).problem is None


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] = data[offset] + 1 if data[offset] < 0x7E else 0x21
    path.write_bytes(bytes(data))


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sound, a rejected and an incomplete proposal's records. The first two have one finding
    each: the byte-editing test verifies the chain once per edited byte, and records of 25 and
    140 KB (proposals with many findings) only made that slower, not more thorough."""
    return _recorded(
        tmp_path_factory.mktemp("chain"),
        SOUND.parent / "exemplary-technology-border-identity-due-diligence.json",
        SOUND.parent / "flawed-financial-integrity-transporter-checkpoint-payments.json",
        SOUND.parent / "incomplete-coast-guard-training.json",
    )


def test_editing_any_byte_of_a_record_breaks_the_chain_and_names_it(
    chain: Path, tmp_path: Path
) -> None:
    """Every byte of the first record (a sound proposal's), and every 29th byte of the others
    (the first is a different one in each: 29 is prime to every field's width)."""
    copy = _copy(chain, tmp_path)
    for index, path in enumerate(_files(copy)):
        original = path.read_bytes()
        offsets = range(len(original)) if index == 0 else range(index, len(original), 29)
        for offset in offsets:
            _flip(path, offset)
            verdict = records.verify(copy)
            assert verdict.problem is not None, (path.name, offset)
            assert path.name in verdict.problem, (path.name, offset, verdict.problem)
            path.write_bytes(original)
        assert records.verify(copy).problem is None


def test_the_cli_names_the_edited_record(chain: Path, tmp_path: Path) -> None:
    copy = _copy(chain, tmp_path)
    second = _files(copy)[1]
    record = json.loads(second.read_text())
    record["decision"] = "approve"  # the edit an attacker would make
    second.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    result = run_cli("verify-records", str(copy))
    assert result == Run(
        2,
        "",
        f"error: {second}: its content does not match its record_hash: edited "
        "(1 record intact before it)\n",
    )


def _copy(chain: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy"
    copy.mkdir()
    for path in chain.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    return copy


def test_a_removed_record_is_named(chain: Path, tmp_path: Path) -> None:
    copy = _copy(chain, tmp_path)
    _, second, third = _files(copy)
    second.unlink()
    assert records.verify(copy).problem == f"{third}: record 00000002 is missing before it"


def test_a_removed_last_record_is_caught_by_the_head(chain: Path, tmp_path: Path) -> None:
    copy = _copy(chain, tmp_path)
    _, second, third = _files(copy)
    third.unlink()
    assert records.verify(copy).problem == (
        f"{copy / 'HEAD'}: names record 3 but the last record is {second.name}: "
        "records were removed or added"
    )


def test_a_record_replaced_by_a_consistent_forgery_is_caught_by_the_next(
    chain: Path, tmp_path: Path
) -> None:
    """A forger who rewrites a record and recomputes its record_hash still breaks the link."""
    copy = _copy(chain, tmp_path)
    first, second, _ = _files(copy)
    record = json.loads(first.read_text())
    # the sound proposal is approved on conditions: the v2 questions it leaves open
    assert record["decision"] == "approve_with_conditions"
    record["decision"] = "reject"
    record["record_hash"] = records._self_hash(record)
    first.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    assert records.verify(copy).problem == (
        f"{second}: the previous record {first.name} is not the one it followed: "
        f"{first.name} was edited, replaced or removed"
    )


def test_verify_a_missing_directory(tmp_path: Path) -> None:
    assert run_cli("verify-records", str(tmp_path / "none")) == Run(
        2, "", f"error: {tmp_path / 'none'}: no such directory of records\n"
    )


def _append_many(directory: str) -> None:
    (item,) = read_proposals([str(SOUND)])
    body = {"proposal": {"id": item.proposal.id}, "decision": "approve"}
    for _ in range(20):
        records.append(Path(directory), [body])


def test_concurrent_appends_keep_one_chain(tmp_path: Path) -> None:
    directory = tmp_path / "records"
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_append_many, args=(str(directory),)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert [w.exitcode for w in workers] == [0, 0, 0]
    assert records.verify(directory) == records.Verdict(60, None, records.verify(directory).head)


def test_records_that_cannot_be_written_fail_the_review(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("a file where a directory should be")
    where = blocker / "records"
    result = run_cli("review", str(SOUND), "--record", str(where))
    assert result == Run(2, "", f"error: {where}: cannot hold records (Not a directory)\n")
    # nothing was reported without its record: stdout is empty


def test_a_missing_head_is_named(chain: Path, tmp_path: Path) -> None:
    copy = _copy(chain, tmp_path)
    (copy / "HEAD").unlink()
    assert records.verify(copy).problem == f"{copy / 'HEAD'}: missing"
    result = run_cli("review", str(SOUND), "--record", str(copy))
    assert result == Run(
        2,
        "",
        f"error: {copy}: holds records but no HEAD; check it with: compliance verify-records "
        f"{copy}\n",
    )


# ------------------------------------------------------------------ witnesses: a cut end shows


def _set_head(directory: Path) -> None:
    """Rewrite HEAD to name the last record, as someone who cut the end would."""
    last = _files(directory)[-1]
    (directory / "HEAD").write_bytes(
        records.canonical(
            {
                "sequence": int(last.name[:8]),
                "record": last.name,
                "sha256": records.sha256(last.read_bytes()),
            }
        )
    )


def _forge_append(directory: Path) -> Path:
    """A consistent record appended by hand: linked, self-hashed, HEAD rewritten."""
    last = _files(directory)[-1]
    record = json.loads(last.read_text())
    record["sequence"] += 1
    record["previous"] = records.sha256(last.read_bytes())
    record["decision"] = "approve"
    record["record_hash"] = records._self_hash(record)
    forged = directory / f"{record['sequence']:08d}-{record['proposal']['id']}.json"
    forged.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    _set_head(directory)
    return forged


NO_WITNESS = "no witness given: records cut from its end would not show"


def test_a_cut_end_shows_only_against_a_witness(chain: Path, tmp_path: Path) -> None:
    copy = _copy(chain, tmp_path)
    witness = _head(copy)
    _, second, third = _files(copy)
    third.unlink()
    _set_head(copy)
    # without a witness the shorter chain is consistent, and says what it cannot show
    assert run_cli("verify-records", str(copy)) == Run(
        0,
        f"{copy}: 2 records, chain intact, head {_head(copy)}; {NO_WITNESS}\n",
        "",
    )
    for option in ("--expect-record", "--expect-head"):
        assert run_cli("verify-records", str(copy), option, witness) == Run(
            2,
            "",
            f"error: {copy}: {option} names record 3 but the chain ends at {second.name}: "
            "records were removed from its end\n",
        )


def test_deleting_everything_shows(chain: Path, tmp_path: Path) -> None:
    copy = _copy(chain, tmp_path)
    witness = _head(copy)
    for path in copy.iterdir():
        path.unlink()
    assert run_cli("verify-records", str(copy)) == Run(
        2, "", f"error: {copy}: holds no records: nothing to verify\n"
    )
    assert run_cli("verify-records", str(copy), "--expect-head", witness) == Run(
        2,
        "",
        f"error: {copy}: --expect-head names record 3 but no record is left: records were "
        "removed\n",
    )
    # a HEAD naming record 0 is no chain either
    (copy / "HEAD").write_bytes(records.canonical({"sequence": 0, "sha256": None}))
    assert run_cli("verify-records", str(copy)) == Run(
        2, "", f"error: {copy}: holds no records: nothing to verify\n"
    )


def test_a_forged_append_shows_only_against_the_newest_head(chain: Path, tmp_path: Path) -> None:
    copy = _copy(chain, tmp_path)
    witness = _head(copy)
    forged = _forge_append(copy)
    four = f"{copy}: 4 records, chain intact, head {_head(copy)}"
    assert run_cli("verify-records", str(copy)) == Run(0, f"{four}; {NO_WITNESS}\n", "")
    # an older head proves the records up to it, not that none was added after it
    assert run_cli("verify-records", str(copy), "--expect-record", witness) == Run(
        0, f"{four}; held by --expect-record (record 3)\n", ""
    )
    assert run_cli("verify-records", str(copy), "--expect-head", witness) == Run(
        2,
        "",
        f"error: {forged}: a record after record 3, which --expect-head gives as the last: "
        "added since that head was taken (3 records intact before it)\n",
    )


def test_a_rebuilt_chain_shows_against_any_witness(chain: Path, tmp_path: Path) -> None:
    """Someone who rewrites every record consistently (here: a decision changed in the first)
    leaves a chain that verifies alone, but not against a head kept elsewhere."""
    witness = _head(chain)
    bodies = []
    for path in _files(chain):
        record = json.loads(path.read_text())
        for key in ("sequence", "previous", "record_hash"):
            del record[key]
        bodies.append(record)
    bodies[0]["decision"] = "reject"
    rebuilt = tmp_path / "rebuilt"
    records.append(rebuilt, bodies)
    assert run_cli("verify-records", str(rebuilt)).code == 0
    third = _files(rebuilt)[2]
    for option in ("--expect-record", "--expect-head"):
        assert run_cli("verify-records", str(rebuilt), option, witness) == Run(
            2,
            "",
            f"error: {third}: its sha256 is not the one {option} gives: the records up to it "
            "were rewritten\n",
        )


def test_an_older_witness_holds_on_a_chain_grown_since(chain: Path, tmp_path: Path) -> None:
    copy = _copy(chain, tmp_path)
    witness = _head(copy)
    kept = tmp_path / "kept-HEAD"
    kept.write_bytes((copy / "HEAD").read_bytes())  # a copy of HEAD kept elsewhere
    line = tmp_path / "kept-line"
    line.write_text(witness + "\n")  # or the head as review printed it
    first = records.sha256(_files(copy)[0].read_bytes())
    grown = run_cli("review", str(SOUND), "--record", str(copy))
    assert grown.code == 0
    new_head = _head(copy)
    assert new_head.startswith("4:sha256:")
    result = run_cli(
        "verify-records", str(copy),
        "--expect-record", f"1:{first.removeprefix('sha256:')}",  # the bare hex is taken too
        "--witness", str(kept),
        "--expect-head", new_head,
    )  # fmt: skip
    assert result == Run(
        0,
        f"{copy}: 4 records, chain intact, head {new_head}; held by --expect-record (record 1), "
        f"the witness {kept} (record 3), --expect-head (record 4)\n",
        "",
    )
    assert run_cli("verify-records", str(copy), "--witness", str(line)).code == 0
    assert run_cli("verify-records", str(copy), "--expect-head", witness).code == 2


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("3", "'3'"),
        ("0:sha256:" + "a" * 64, "'0:sha256:" + "a" * 64 + "'"),
        ("1:sha256:" + "g" * 64, "'1:sha256:" + "g" * 64 + "'"),
        ("1:" + "a" * 200, "'1:" + "a" * 77 + "…'"),
    ],
)
def test_a_witness_that_is_no_head_is_a_usage_error(chain: Path, given: str, shown: str) -> None:
    assert run_cli("verify-records", str(chain), "--expect-head", given) == Run(
        2,
        "",
        f"error: --expect-head: {shown} is not a head SEQ:sha256:HEX (as review --record prints "
        "it)\n",
    )


def test_a_witness_file_that_holds_no_head(chain: Path, tmp_path: Path) -> None:
    kept = tmp_path / "kept"
    kept.write_text('{"sequence": 3}')
    assert run_cli("verify-records", str(chain), "--witness", str(kept)) == Run(
        2,
        "",
        f"error: the witness {kept}: '3:None' is not a head SEQ:sha256:HEX (as review --record "
        "prints it)\n",
    )
    kept.write_bytes(b"\xff3:sha256:")
    assert run_cli("verify-records", str(chain), "--witness", str(kept)) == Run(
        2, "", f"error: {kept}: not UTF-8: not a witness of a records head\n"
    )
