"""Hostile JSON, JSON Lines and standard input: each class is refused with one line and exit 2,
within the budget of 5 s of CPU and 256 MB, through the real command."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from compliance.exitcodes import ExitCode
from tests.hostile import run_bounded

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "exemplary-humanitarian.json"


def proposal(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    data.update(changes)
    return data


def write_json(tmp: Path, name: str, data: Any) -> Path:
    path = tmp / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def write_text(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


def _at(path: Path, needle: str, shift: int = 0) -> str:
    """``line:column`` of the first ``needle`` in ``path``, moved on by ``shift`` characters."""
    text = path.read_text(encoding="utf-8")
    offset = text.index(needle) + shift
    return f"{text.count(chr(10), 0, offset) + 1}:{offset - text.rfind(chr(10), 0, offset)}"


QX = '"x'
Case = tuple[str, Callable[[Path], Path], Callable[[Path], str]]

CASES: list[Case] = [
    (
        "a 50 MB summary",
        lambda t: write_json(t, "summary.json", proposal(summary="x" * 50_000_000)),
        lambda p: f"{p}:{_at(p, QX)}: PRP-2026-077: summary: text is longer than 20000 characters",
    ),
    (
        "a summary of 3 million numbers",
        lambda t: write_json(t, "list.json", proposal(summary=list(range(3_000_000)))),
        lambda p: f"{p}:{_at(p, '[0,')}: PRP-2026-077: summary: a list of more than 10,000 items",
    ),
    (
        "a million unknown keys",
        lambda t: write_json(t, "keys.json", proposal(**{f"k{i}": 0 for i in range(1_000_000)})),
        lambda p: f"{p}: not accepted: more than one member per 16 characters",
    ),
    (
        "half a million unknown keys of 16 characters",
        lambda t: write_json(
            t, "keys16.json", proposal(**{f"key {i:012d}": 0 for i in range(500_000)})
        ),
        lambda p: f"{p}: not accepted: an object of more than 10,000 members",
    ),
    (
        "100,000 nested lists",
        lambda t: write_text(t, "deep.json", "[" * 100_000 + "]" * 100_000),
        lambda p: f"{p}: not accepted: more than one object or list per 16 characters",
    ),
    (
        "100,000 nested lists spaced out",
        lambda t: write_text(t, "deep16.json", ("[" + " " * 15) * 100_000 + "]" * 100_000),
        lambda p: f"{p}: not accepted: JSON nested too deeply",
    ),
    (
        "a 60 MB list of empty lists",
        lambda t: write_text(t, "lists.json", "[" + "[]," * 20_000_000 + "[]]"),
        lambda p: f"{p}: not accepted: more than one object or list per 16 characters",
    ),
    (
        "a 60 MB list of zeros",
        lambda t: write_text(t, "zeros.json", "[" + "0," * 30_000_000 + "0]"),
        lambda p: f"{p}: not accepted: more than one value per 4 characters",
    ),
    (
        "a number of 5,000 digits",
        lambda t: write_text(
            t,
            "digits.json",
            json.dumps(proposal(summary=0)).replace('"summary": 0', '"summary": ' + "9" * 5000),
        ),
        lambda p: f"{p}: not accepted: a number of 5000 digits",
    ),
    (
        "a summary nested 900 levels deep",
        lambda t: write_json(
            t, "deep900.json", proposal(summary=json.loads("[" * 900 + "]" * 900))
        ),
        lambda p: (
            f"{p}:{_at(p, '[' * 33, 31)}: "
            f"PRP-2026-077: summary{'[0]' * 31}: nested more than 32 levels deep"
        ),
    ),
    (
        "a million empty proposals",
        lambda t: write_text(t, "empty.json", "[" + ",".join(["{}"] * 1_000_000) + "]"),
        lambda p: f"{p}: not accepted: more than one object or list per 16 characters",
    ),
    (
        "a million small proposals",
        lambda t: write_text(
            t, "small.json", "[" + ",".join(['{"title": "xxxxxxx"}'] * 10**6) + "]"
        ),
        lambda p: f"{p}: more than 20,000 proposals; split it into several files",
    ),
    (
        "a million broken JSON Lines",
        lambda t: write_text(t, "broken.jsonl", "{not JSON at all}\n" * 1_000_000),
        lambda p: f"{p}: more than 100 problems; fix these first",
    ),
    (
        "a million blank lines before a proposal",
        lambda t: write_text(t, "blank.jsonl", "\n" * 1_000_000 + '{"id": NaN}\n'),
        lambda p: f"{p}:1000001:8: not valid JSON: NaN is not valid JSON",
    ),
    (
        "a key of a million characters",
        lambda t: write_json(t, "key.json", proposal(**{"k" * 1_000_000: 1})),
        lambda p: (
            f"{p}:{_at(p, ': 1}', 2)}: "
            f"PRP-2026-077: {'k' * 39}…: unknown field (allowed here: schema_version, id, title, "
            "summary, submitted_on, sector, lead, parties, activities, security_units, legal, funding,"
            " data_sharing, human_rights, safeguards, oversight, monitoring, subcontractors, "
            "technology)"
        ),
    ),
    (
        "a file over 64 MiB",
        lambda t: write_text(t, "big.json", " " * (64 * 1024 * 1024 + 1)),
        lambda p: f"{p}: larger than 64 MiB",
    ),
    (
        "a NUL byte",
        lambda t: write_text(t, "nul.json", '{"id": "A"}' + "\0" * 1000),
        lambda p: f"{p}: not JSON text (a NUL byte at offset 11)",
    ),
]


@pytest.mark.parametrize(("label", "make", "expected"), CASES, ids=[c[0] for c in CASES])
def test_hostile_json_is_refused_within_budget(
    tmp_path: Path, label: str, make: Callable[[Path], Path], expected: Callable[[Path], str]
) -> None:
    path = make(tmp_path)
    run = run_bounded("review", str(path))
    assert (run.code, run.out) == (ExitCode.INVALID_INPUT, ""), run.err[:500]
    lines = run.err.splitlines()
    assert lines[-1 if "problems" in expected(path) else 0] == f"error: {expected(path)}"
    assert all(len(line) <= 520 for line in lines)
    run.within_budget()


def test_an_endless_stream_on_standard_input_is_refused_at_the_first_nul(tmp_path: Path) -> None:
    run = run_bounded("review", "-", stdin=b'{"id": "A"}\n' + b"\0" * 50_000_000)
    assert (run.code, run.err) == (
        ExitCode.INVALID_INPUT,
        "error: -: not JSON text (a NUL byte at offset 12)\n",
    )
    run.within_budget()


def test_a_pipe_without_a_writer_or_a_device_is_refused_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    run = run_bounded("review", str(fifo), "/dev/zero")
    assert (run.code, run.err) == (
        ExitCode.INVALID_INPUT,
        f"error: {fifo}: a pipe with nothing to read (no writer)\n"
        "error: /dev/zero: not a regular file\n",
    )
    run.within_budget()


def test_a_directory_of_too_many_files_is_refused(tmp_path: Path) -> None:
    for i in range(10_001):
        (tmp_path / f"{i:05d}.json").write_bytes(b"{}")
    run = run_bounded("review", str(tmp_path))
    assert (run.code, run.err) == (
        ExitCode.INVALID_INPUT,
        f"error: {tmp_path}: more than 10000 proposal files; review it in parts\n",
    )
    run.within_budget()
