"""The tests' way of running the command: ``run_cli`` (in the test process) gives exactly what
``run_process`` (``python -m compliance`` in a subprocess) gives, and leaves the process as it
found it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from . import hostile
from .conftest import CLI_ENV, FIXTURES, ROOT, run_cli, run_process

FLAWED = "fixtures/flawed-refugee-data-sharing.json"
WORKBOOK = "fixtures/workbooks/flawed-data-sharing-biometrics-left-behind.xlsx"


@pytest.mark.parametrize(
    ("args", "stdin"),
    [
        (("review", FLAWED), None),  # a blocked review: exit 3, the text report
        (("review", FLAWED, "--format", "json", "--no-fail"), None),
        (("review", WORKBOOK, "--format", "markdown"), None),
        (("review", "-", "--format", "sarif"), (FIXTURES / "incomplete-coast-guard-training.json")),
        (("review", "-"), "{not json"),  # invalid input: exit 2, one line on stderr
        (("review", "fixtures/missing.json"), None),
        (("review", FLAWED, "--fail-on", "severe"), None),  # click's usage error
        (("--version",), None),
        (("rules", "list", "--format", "json"), None),
        (("config", "show"), None),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, tuple) else None,
)
def test_in_process_is_what_the_process_gives(
    args: tuple[str, ...], stdin: Path | str | None
) -> None:
    text = stdin.read_text(encoding="utf-8") if isinstance(stdin, Path) else stdin
    assert run_cli(*args, stdin=text) == run_process(*args, stdin=text)


def test_the_environment_is_the_clean_one_and_comes_back(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A variable of the caller's never reaches the command (as with a process started with
    ``CLI_ENV``); the caller's environment, directory and streams are back afterwards."""
    monkeypatch.setenv("COMPLIANCE_REVIEW_FORMAT", "json")
    monkeypatch.chdir(tmp_path)
    streams = (sys.stdin, sys.stdout, sys.stderr)
    ran = run_cli("review", str(ROOT / FLAWED), "--no-fail", cwd=tmp_path)
    assert ran == run_process("review", str(ROOT / FLAWED), "--no-fail", cwd=tmp_path)
    assert not ran.out.startswith("{")
    assert os.environ["COMPLIANCE_REVIEW_FORMAT"] == "json"
    assert Path.cwd() == tmp_path
    assert (sys.stdin, sys.stdout, sys.stderr) == streams
    given = run_cli("review", FLAWED, "--no-fail", env={"COMPLIANCE_REVIEW_FORMAT": "json"})
    assert given.out.startswith("{")
    assert set(CLI_ENV) == {"PATH", "PYTHONIOENCODING", "COMPLIANCE_CACHE_DIR", "COMPLIANCE_DAEMON"}


@pytest.mark.parametrize(
    ("args", "stdin"),
    [
        (("review", FLAWED, "--format", "json", "--no-fail"), None),
        (("review", WORKBOOK, "--format", "markdown"), None),
        (("review", "-", "--format", "sarif"), (FIXTURES / "incomplete-coast-guard-training.json")),
        (("review", "-"), "{not json"),
        (("review", "fixtures/missing.json"), None),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, tuple) else None,
)
def test_a_bounded_run_is_what_the_process_gives(
    args: tuple[str, ...], stdin: Path | str | None
) -> None:
    """The hostile-input tests' runs, forked from a warm process, give exactly what the command
    gives in a process of its own, and read back a CPU time and a peak memory."""
    text = stdin.read_text(encoding="utf-8") if isinstance(stdin, Path) else stdin
    bounded = hostile.run_bounded(*args, stdin=None if text is None else text.encode("utf-8"))
    alone = run_process(*args, stdin=text)
    assert (bounded.code, bounded.out, bounded.err) == (alone.code, alone.out, alone.err)
    assert 0 < bounded.cpu < hostile.CPU_SECONDS
    assert 20 < bounded.peak_mb < hostile.PEAK_MB


def test_a_bounded_run_past_its_deadline_is_killed_and_the_next_one_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(hostile, "_WALL_SECONDS", 0.05)
    with pytest.raises(AssertionError, match=r"still running after 0.05 s: \('review', 'fixtures'"):
        hostile.run_bounded("review", "fixtures", "--format", "json", "--jobs", "2")
    monkeypatch.undo()
    assert hostile.run_bounded("review", FLAWED).code == 3


def test_a_bounded_run_after_its_server_ended_starts_another() -> None:
    assert hostile.run_bounded("review", FLAWED).code == 3
    ended = hostile._servers[-1]
    ended.kill()
    ended.wait()
    assert hostile.run_bounded("review", FLAWED).code == 3
    assert hostile._servers[-1] is not ended
    assert hostile._servers[-1].poll() is None
