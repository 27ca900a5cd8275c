"""Shared fixtures: the built-in rule set and reviewers, built once per test session."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from compliance import Reviewer, load_rules
from compliance.cli import main
from compliance.review.findings import Review
from compliance.rules import durable as durable_engine
from compliance.rules.ruleset import RuleSet

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


def _temp_in_memory() -> None:
    """Put the tests' temporary files (``tmp_path``, ``tempfile``) in memory, on ``/dev/shm``,
    unless ``TMPDIR`` says where: the tests write and rewrite thousands of small files, and on
    a disk each rewrite waits for the write-back the file system forces on a truncated file. Only
    where ``/dev/shm`` has room (a container's default 64 MB has not)."""
    if "TMPDIR" in os.environ or not os.access("/dev/shm", os.W_OK):
        return
    room = os.statvfs("/dev/shm")
    if room.f_bavail * room.f_frsize >= 2 * 1024**3:
        os.environ["TMPDIR"] = "/dev/shm"
        tempfile.tempdir = None  # gettempdir() looks again


_temp_in_memory()

# One rule-set cache for the whole run, in this process and the commands it starts, apart from
# the user's own (tests of the cache itself point it elsewhere).
RULE_CACHE = os.environ.setdefault(
    "COMPLIANCE_CACHE_DIR", tempfile.mkdtemp(prefix="compliance-test-cache-")
)


@pytest.fixture(scope="session")
def ruleset() -> RuleSet:
    return load_rules()


@pytest.fixture(scope="session")
def durable(ruleset: RuleSet) -> Iterator[Reviewer]:
    with Reviewer(ruleset, engine="durable") as reviewer:
        yield reviewer


@pytest.fixture(scope="session")
def reference(ruleset: RuleSet) -> Iterator[Reviewer]:
    with Reviewer(ruleset, engine="reference") as reviewer:
        yield reviewer


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


CLI_ENV = {
    "PATH": "/usr/bin:/bin",
    "PYTHONIOENCODING": "utf-8",
    "COMPLIANCE_CACHE_DIR": RULE_CACHE,
    "COMPLIANCE_DAEMON": "off",
}
"""The whole environment the command sees: nothing from the caller's (no COMPLIANCE_* of theirs,
and never a daemon of theirs: each command runs in its own process)."""


def run_process(
    *args: str, stdin: str | None = None, cwd: Path = ROOT, env: Mapping[str, str] = {}
) -> Run:
    """Run the real ``compliance`` command in a subprocess, as a workflow would: for what only a
    process shows (its imports, start-up, ``python -m``, streams closed or killed under it)."""
    proc = subprocess.run(
        [sys.executable, "-m", "compliance", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
        env={**CLI_ENV, **env},
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


class _Sink(io.BytesIO):
    """A process's stdout or stderr: what was written stays readable after the stream is closed."""

    written = b""

    def close(self) -> None:
        if not self.closed:
            self.written = self.getvalue()
        super().close()

    def text(self) -> str:
        """What was written, as ``subprocess.run(text=True)`` reads it (UTF-8, any newline)."""
        data = self.written if self.closed else self.getvalue()
        return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


_RUN_CLI_ENGINES: dict[str, Any] = {}


@contextlib.contextmanager
def _engines_kept() -> Iterator[None]:
    """Within :func:`run_cli`, each durable engine a command closes is kept for the next command
    of the same rules, as the daemon's children take the one its warm-up built (about half of a
    command's work here). A pool of their own: engines built anywhere else are not affected."""
    saved = durable_engine._keeping, durable_engine._KEPT
    durable_engine._keeping, durable_engine._KEPT = True, _RUN_CLI_ENGINES
    try:
        yield
    finally:
        durable_engine._keeping, durable_engine._KEPT = saved


def run_cli(
    *args: str, stdin: str | None = None, cwd: Path = ROOT, env: Mapping[str, str] = {}
) -> Run:
    """Run the ``compliance`` command as :func:`run_process` does, in this process: the entry
    point ``python -m compliance`` calls (:func:`compliance.cli.main`, which maps every error to
    its exit code), with the same environment (``env`` added), working directory and stdin, and
    stdout and stderr buffered as a process's (UTF-8, stderr line by line, both flushed at the
    end). The process's state (environment, directory, streams, warning filters) is put back."""
    out, err = _Sink(), _Sink()
    streams = (
        io.TextIOWrapper(io.BytesIO((stdin or "").encode("utf-8")), encoding="utf-8"),
        io.TextIOWrapper(out, encoding="utf-8"),
        io.TextIOWrapper(err, encoding="utf-8", errors="backslashreplace", line_buffering=True),
    )
    saved = (sys.stdin, sys.stdout, sys.stderr), dict(os.environ), os.getcwd()
    os.environ.clear()
    os.environ.update({**CLI_ENV, **env})
    os.chdir(cwd)
    sys.stdin, sys.stdout, sys.stderr = streams
    try:
        with warnings.catch_warnings(), _engines_kept():
            main(list(args))
    except SystemExit as exit_:
        code = exit_.code
    else:  # main() always exits
        raise AssertionError("compliance.cli.main returned")
    finally:
        for stream in streams[1:]:
            if not stream.closed:
                stream.flush()
        sys.stdin, sys.stdout, sys.stderr = saved[0]
        os.environ.clear()
        os.environ.update(saved[1])
        os.chdir(saved[2])
    assert isinstance(code, int), code  # main() exits with an ExitCode's int, never a message
    return Run(code, out.text(), err.text())


def plain_review(review: Review) -> dict[str, Any]:
    """What a review says, without where it was read from (source, evidence and field locations):
    what must not differ between a proposal's forms (JSON, workbook, v1 and upgraded)."""
    data = review.model_dump(mode="json")
    data.pop("source")
    for finding in data["findings"]:
        for evidence in finding["evidence"]:
            evidence.pop("location")
    for field in data["unanswered"]:
        field.pop("location")
    return data


SLOW_MODULES = frozenset(
    {
        "test_service",
        "test_hostile_service",
        "test_webpage",
        "test_report_html_print",
        "test_daemon",
    }
)
"""Modules whose every test needs a live server, daemon or browser: marked ``slow``, which
``pytest -m "not slow"`` (README) leaves out."""
SLOW_TESTS = frozenset(
    {
        # Hypothesis: hundreds of generated proposals and rule sets on both engines.
        "test_generated_proposals_against_the_rule_set",
        "test_random_rules",
        "test_large_random_rule_sets_across_groups_and_shards",
        # A browser, or large inputs.
        "test_chromium_draws_the_chart_in_the_first_screen_and_prints",
        "test_editing_any_byte_of_a_record_breaks_the_chain_and_names_it",
        "test_a_large_register_reads_in_linear_time",
        "test_a_large_batch_shows_progress_on_a_terminal_only",
        # Pre-commit's own environment, schemathesis against a live server, generated text
        # against textwrap, a thousand reviews in one engine.
        "test_the_hook_fails_a_flawed_proposal_and_passes_a_sound_one",
        "test_schemathesis_finds_every_answer_documented",
        "test_blocks_wrap_exactly_as_textwrap_does",
        "test_many_reviews_leave_no_state_behind",
    }
)
"""Single tests elsewhere that take tens of seconds or more, marked ``slow`` by name (a test of
their own checks each name still exists); a new slow test can carry ``@pytest.mark.slow``."""


FIRST = (
    "test_generated_proposals_against_the_rule_set",
    "test_large_random_rule_sets_across_groups_and_shards",
    "test_random_rules",
    "test_the_hook_fails_a_flawed_proposal_and_passes_a_sound_one",
    "test_editing_any_byte_of_a_record_breaks_the_chain_and_names_it",
    "test_many_reviews_leave_no_state_behind",
    "test_a_large_batch_shows_progress_on_a_terminal_only",
)
"""The longest single tests (a minute or more on a busy machine), handed to the workers first
under ``pytest -n`` so that none is left running alone at the end."""
FAST_PER_MODULE = 1
"""``-m fast``: each module's first test that is not slow (its first case), needs no live server
and is not one of :data:`NOT_FAST`: a smoke test of every module, for the edit-test loop."""
NOT_FAST = frozenset(
    {
        # Seconds each (many reviews, forked workers, large or hostile inputs): the next test
        # of their module stands in.
        "test_parallel_outcomes_equal_sequential_ones",
        "test_a_hit_gives_the_rule_set_and_the_reviews_of_a_fresh_load",
        "test_a_register_streams_the_documents_it_reads",
        "test_hostile_json_is_refused_within_budget",
        "test_hostile_workbook_is_refused_in_one_line_within_budget",
        "test_every_pointer_starts_at_its_value",
        "test_a_baseline_without_one_rule_names_exactly_the_proposals_it_fires_on",
        "test_no_free_text_survives_in_any_format",
        "test_rule_files_are_found",
        "test_a_test_case_per_rule_per_proposal_with_outcomes_as_the_gate_sees_them",
        "test_generated_documents_are_up_to_date",
        "test_kept_reviews_come_back_from_workers_whole",
        "test_a_hit_brings_the_compiled_plan_and_a_tuned_rule_set_compiles_its_own",
        "test_the_text_report_of_a_removed_rule",
        "test_a_plan_that_does_not_decode_is_compiled_again",
        "test_small_windows_stay_in_this_process",
        "test_a_severity_change_regrades_the_findings_and_the_decisions",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    fast: dict[Path, set[str]] = {}
    for item in items:
        name = getattr(item, "originalname", item.name)
        if item.path.stem in SLOW_MODULES or name in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)
        elif (
            name not in (taken := fast.setdefault(item.path, set()))
            and len(taken) < FAST_PER_MODULE
            and name not in NOT_FAST
            and "server" not in getattr(item, "fixturenames", ())
        ):
            taken.add(name)
            item.add_marker(pytest.mark.fast)
    if os.environ.get("PYTEST_XDIST_WORKER"):  # every worker collects, in the same order
        first = sorted(
            (item for item in items if getattr(item, "originalname", item.name) in FIRST),
            key=lambda item: FIRST.index(getattr(item, "originalname", item.name)),
        )
        items[:] = first + [item for item in items if item not in first]
