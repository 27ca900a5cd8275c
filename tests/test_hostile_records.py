"""Hostile decision records: a records file that cannot be a record (a directory, a FIFO, a link,
a huge, deeply nested or non-UTF-8 file), as a record, as HEAD or as a witness, is invalid input
(exit 2) in one line naming it, within the budget, through the real command."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from compliance.errors import UsageError
from compliance.gate import record_witness, records
from compliance.gate.record_witness import DEPTH_MAX, HEAD_MAX_BYTES, RECORD_MAX_BYTES
from tests.hostile import run_bounded


@pytest.fixture
def chain(tmp_path: Path) -> Path:
    """Three records, written as a review would (the bodies are small: no review is needed)."""
    directory = tmp_path / "records"
    for number in (1, 2, 3):
        records.append(directory, [{"proposal": {"id": f"P-{number}"}, "decision": "approve"}])
    return directory


def _second(chain: Path) -> Path:
    return chain / "00000002-P-2.json"


def _directory(path: Path) -> None:
    path.unlink()
    path.mkdir()


def _fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def _link(path: Path) -> None:
    elsewhere = path.parent.parent / "elsewhere.json"
    elsewhere.write_bytes(path.read_bytes())
    path.unlink()
    path.symlink_to(elsewhere)


def _huge(path: Path) -> None:
    with path.open("r+b") as handle:
        handle.truncate(2**30)  # a sparse GiB: never read


def _deep(path: Path) -> None:
    path.write_bytes(b"[" * 100_000 + b"]" * 100_000)


def _just_too_deep(path: Path) -> None:
    """Within the interpreter's own recursion limit: the nesting bound is the project's."""
    path.write_bytes(b'{"a":' + b"[" * DEPTH_MAX + b"]" * DEPTH_MAX + b"}")


def _latin1(path: Path) -> None:
    path.write_bytes(b'{"decision": "r\xe9ject"}')


DAMAGES: dict[str, tuple[Callable[[Path], None], str]] = {
    "directory": (_directory, "a directory, not a file: damaged or replaced"),
    "fifo": (_fifo, "a FIFO, not a file: damaged or replaced"),
    "symlink": (_link, "a symbolic link, not a file: damaged or replaced"),
    "huge": (_huge, f"1073741824 bytes, over the limit of {RECORD_MAX_BYTES}: damaged or replaced"),
    "deep": (_deep, f"nested deeper than {DEPTH_MAX} levels: edited or damaged"),
    "just-too-deep": (_just_too_deep, f"nested deeper than {DEPTH_MAX} levels: edited or damaged"),
    "not-utf-8": (_latin1, "not UTF-8 (byte 15): edited or damaged"),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_record_is_invalid_input(chain: Path, damage: str) -> None:
    harm, reason = DAMAGES[damage]
    second = _second(chain)
    harm(second)
    result = run_bounded("verify-records", str(chain))
    assert (result.code, result.out) == (2, "")
    assert result.err == f"error: {second}: {reason} (1 record intact before it)\n"
    result.within_budget()


HEAD_DAMAGES: dict[str, tuple[Callable[[Path], None], str]] = {
    "directory": (_directory, "a directory, not a file"),
    "fifo": (_fifo, "a FIFO, not a file"),
    "symlink": (_link, "a symbolic link, not a file"),
    "huge": (_huge, f"1073741824 bytes, over the limit of {HEAD_MAX_BYTES}"),
    "deep": (_deep, f"200000 bytes, over the limit of {HEAD_MAX_BYTES}"),
    "just-too-deep": (_just_too_deep, f"nested deeper than {DEPTH_MAX} levels"),
    "not-utf-8": (_latin1, "not UTF-8 (byte 15)"),
}


@pytest.mark.parametrize("damage", HEAD_DAMAGES)
def test_a_damaged_head_is_invalid_input(chain: Path, damage: str) -> None:
    harm, reason = HEAD_DAMAGES[damage]
    head = chain / "HEAD"
    harm(head)
    result = run_bounded("verify-records", str(chain))
    assert (result.code, result.out) == (2, "")
    assert result.err == f"error: {head}: {reason} (3 records intact before it)\n"
    result.within_budget()


@pytest.mark.parametrize("damage", ["directory", "fifo", "huge", "deep"])
def test_a_review_does_not_append_after_a_damaged_head(
    chain: Path, damage: str, tmp_path: Path
) -> None:
    harm, reason = HEAD_DAMAGES[damage]
    head = chain / "HEAD"
    harm(head)
    proposal = Path(__file__).resolve().parent.parent / "fixtures" / "exemplary-humanitarian.json"
    result = run_bounded("review", str(proposal), "--record", str(chain))
    assert (result.code, result.out) == (2, "")
    assert result.err == f"error: {head}: {reason}; check: compliance verify-records {chain}\n"
    assert sorted(p.name for p in chain.iterdir() if p.name[0].isdigit())[-1] == "00000003-P-3.json"
    result.within_budget()


@pytest.mark.parametrize("damage", ["directory", "fifo", "huge"])
def test_a_damaged_witness_file_is_a_usage_error(chain: Path, damage: str, tmp_path: Path) -> None:
    kept = tmp_path / "kept"
    kept.write_bytes((chain / "HEAD").read_bytes())
    harm, reason = HEAD_DAMAGES[damage]
    harm(kept)
    result = run_bounded("verify-records", str(chain), "--witness", str(kept))
    assert (result.code, result.out) == (2, "")
    if damage == "directory":  # refused by the option itself, before it is read
        assert result.err.endswith(
            f"Error: Invalid value for '--witness': File '{kept}' is a directory.\n"
        )
    else:
        assert result.err == f"error: {kept}: {reason}: not a witness of a records head\n"
    result.within_budget()


def test_a_record_at_the_size_limit_costs_within_the_budget(chain: Path) -> None:
    """The widest JSON in the fewest bytes (empty arrays), as big as a record may be: parsed,
    checked for depth and hashed within the budget."""
    second = _second(chain)
    wide = b'{"a":[' + b"[]," * ((RECORD_MAX_BYTES - 16) // 3) + b"[]]}"
    assert len(wide) <= RECORD_MAX_BYTES
    second.write_bytes(wide)
    result = run_bounded("verify-records", str(chain))
    assert result.err == (
        f"error: {second}: its content does not match its record_hash: edited "
        "(1 record intact before it)\n"
    )
    result.within_budget()


def test_a_record_too_big_to_verify_is_not_written(tmp_path: Path) -> None:
    directory = tmp_path / "records"
    records.append(directory, [{"proposal": {"id": "P-1"}, "decision": "approve"}])
    big = {"proposal": {"id": "P-2"}, "decision": "approve", "notes": "x" * RECORD_MAX_BYTES}
    with pytest.raises(UsageError) as raised:
        records.append(directory, [{"proposal": {"id": "P-3"}}, big])
    size = len(records.canonical(big)) + 1  # indented as written: a little more
    assert str(raised.value).startswith(f"{directory / '00000003-P-2.json'}: the record would be ")
    assert str(raised.value).endswith(
        f" bytes, over the limit of {RECORD_MAX_BYTES}; no record of this run was written"
    )
    assert size > RECORD_MAX_BYTES
    assert sorted(p.name for p in directory.iterdir() if p.name[0].isdigit()) == [
        "00000001-P-1.json"
    ]
    assert records.verify(directory).problem is None


@pytest.mark.parametrize(
    ("text", "deep"),
    [
        ("[" * DEPTH_MAX + "]" * DEPTH_MAX, False),
        ('{"a":' + "[" * (DEPTH_MAX - 1) + "]" * (DEPTH_MAX - 1) + "}", False),
        ('{"a":' + "[" * DEPTH_MAX + "]" * DEPTH_MAX + "}", True),
        # Brackets and escaped quotes inside strings are text, not nesting.
        ('{"[[[": "' + "[{" * DEPTH_MAX + '\\"[", "b": ["]]]\\\\", {"c": "}"}]}', False),
        ("[" * DEPTH_MAX + '"\\"]"' + "]" * DEPTH_MAX, False),
        ("[" * DEPTH_MAX + '{"k": "]"}' + "]" * DEPTH_MAX, True),
    ],
)
def test_nesting_is_counted_outside_strings(text: str, deep: bool) -> None:
    if deep:
        with pytest.raises(record_witness.Damaged, match=f"nested deeper than {DEPTH_MAX} levels"):
            record_witness.parse_json(text.encode())
    else:
        assert record_witness.parse_json(text.encode()) is not None
