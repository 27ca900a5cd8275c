"""Hostile configuration: a waivers file, a project config or a records HEAD or witness that is
huge, deeply nested, a named pipe, an alias bomb or a JSON object with a key given twice is invalid
input (exit 2) in one line naming the file, within the budget, through the real command."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from compliance.gate import records
from compliance.gate.config import CONFIG_MAX_BYTES
from compliance.intake.yamlfile import DEPTH_MAX, YAML_MAX_BYTES
from compliance.review.waivers import WAIVERS_MAX_BYTES, WAIVERS_MAX_COUNT
from tests.hostile import ROOT, run_bounded

F = "fixtures/exemplary-humanitarian.json"


def _write(text: str) -> Callable[[Path], object]:
    return lambda path: path.write_text(text, encoding="utf-8")


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _alias_bomb(path: Path) -> None:
    lines = ["version: 1", "a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


WAIVERS = [
    (
        "deep list",
        _write("[" * 100_000 + "]" * 100_000),
        "1:1001: invalid YAML: exceeded maximum nesting depth",
    ),
    (
        "deep mapping",
        _write("{a: " * 50_000 + "}" * 50_000),
        f"1:254: invalid YAML: nested deeper than {DEPTH_MAX} levels",
    ),
    ("56 MB", _write("waivers:\n" + "  - {}\n" * 8_000_000), ": larger than 1 MiB"),
    ("named pipe", _fifo, ": a pipe with nothing to read (no writer)"),
    (
        "alias bomb",
        _alias_bomb,
        "8:5: invalid YAML: holds more than 1,000,000 values once its aliases are expanded",
    ),
]


@pytest.mark.parametrize(
    ("make", "expected"), [c[1:] for c in WAIVERS], ids=[c[0] for c in WAIVERS]
)
def test_hostile_waivers_file(
    tmp_path: Path, make: Callable[[Path], object], expected: str
) -> None:
    path = tmp_path / "w.yaml"
    make(path)
    sep = "" if expected.startswith(":") else ":"
    run = run_bounded("review", "--no-config", "--waivers", str(path), F)
    assert (run.code, run.err) == (2, f"error: {path}{sep}{expected}\n")
    run.within_budget()


def test_a_dense_waivers_file_just_under_the_limit_is_refused_within_budget(
    tmp_path: Path,
) -> None:
    path = tmp_path / "w.yaml"
    head = "version: 1\nwaivers:\n"
    path.write_text(head + "  - {}\n" * ((WAIVERS_MAX_BYTES - len(head)) // 7), encoding="utf-8")
    run = run_bounded("review", "--no-config", "--waivers", str(path), F)
    count = (WAIVERS_MAX_BYTES - len(head)) // 7
    assert (run.code, run.err) == (
        2,
        f"error: {path}: {count} waivers, over the limit of {WAIVERS_MAX_COUNT}\n",
    )
    run.within_budget()


CONFIGS = [
    ("deep arrays", _write("a = " + "[" * 100_000 + "]" * 100_000 + "\n")),
    ("deep inline tables", _write("a = " + "{b = " * 50_000 + "}" * 50_000 + "\n")),
]


@pytest.mark.parametrize("make", [c[1] for c in CONFIGS], ids=[c[0] for c in CONFIGS])
def test_deeply_nested_config(tmp_path: Path, make: Callable[[Path], object]) -> None:
    path = tmp_path / "c.toml"
    make(path)
    run = run_bounded("review", "--config", str(path), F)
    assert (run.code, run.err) == (2, f"error: {path}: not accepted: TOML nested too deeply\n")
    run.within_budget()


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (_write("x = [" + "0," * 30_000_000 + "]\n"), "larger than 1 MiB"),
        (_fifo, "a pipe with nothing to read (no writer)"),
    ],
    ids=["60 MB", "named pipe"],
)
def test_huge_or_fifo_config(tmp_path: Path, make: Callable[[Path], object], expected: str) -> None:
    path = tmp_path / "c.toml"
    make(path)
    run = run_bounded("review", "--config", str(path), F)
    assert (run.code, run.err) == (2, f"error: {path}: {expected}\n")
    run.within_budget()


def test_the_limits_keep_well_above_real_files() -> None:
    largest_rule_file = max(p.stat().st_size for p in (ROOT / "rules").glob("*.yaml"))
    assert largest_rule_file * 10 < YAML_MAX_BYTES
    assert CONFIG_MAX_BYTES == WAIVERS_MAX_BYTES == 1024 * 1024


@pytest.fixture
def chain(tmp_path: Path) -> Path:
    directory = tmp_path / "records"
    for number in (1, 2):
        records.append(directory, [{"proposal": {"id": f"P-{number}"}, "decision": "approve"}])
    return directory


def _twice(head: Path) -> bytes:
    """``head``'s JSON with ``sequence`` given a second time, as 1 (the chain has 2 records)."""
    value = json.loads(head.read_text(encoding="utf-8"))
    body = json.dumps(value)
    return (body[:-1] + ', "sequence": 1}').encode()


def test_a_head_with_a_key_given_twice_is_refused(chain: Path) -> None:
    head = chain / "HEAD"
    head.write_bytes(_twice(head))
    run = run_bounded("verify-records", str(chain))
    assert run.code == 2
    assert run.err == (
        f"error: {head}: the key 'sequence' given twice in one object (2 records intact before it)\n"
    )
    run.within_budget()


def test_a_witness_with_a_key_given_twice_is_refused(chain: Path, tmp_path: Path) -> None:
    witness = tmp_path / "kept-head.json"
    witness.write_bytes(_twice(chain / "HEAD"))
    run = run_bounded("verify-records", str(chain), "--witness", str(witness))
    assert (run.code, run.err) == (
        2,
        f"error: {witness}: the key 'sequence' given twice in one object: "
        "not a witness of a records head\n",
    )
    run.within_budget()
