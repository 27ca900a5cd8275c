"""Shared fixtures: the built-in rule set and reviewers, built once per test session."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from compliance import Reviewer, load_rules
from compliance.review.findings import Review
from compliance.rules.ruleset import RuleSet

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"

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


def run_cli(*args: str, stdin: str | None = None, cwd: Path = ROOT) -> Run:
    """Run the real ``compliance`` command in a subprocess, as a workflow would."""
    proc = subprocess.run(
        [sys.executable, "-m", "compliance", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONIOENCODING": "utf-8",
            "COMPLIANCE_CACHE_DIR": RULE_CACHE,
        },
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


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
    {"test_service", "test_hostile_service", "test_webpage", "test_report_html_print"}
)
"""Modules whose every test needs a live server or a browser: marked ``slow``, which
``pytest -m "not slow"`` (README) leaves out."""
SLOW_TESTS = frozenset(
    {
        # Hypothesis: hundreds of generated proposals and rule sets on both engines (the last
        # counts what the first compared, so they go together).
        "test_generated_proposals_against_the_rule_set",
        "test_enough_generated_proposals_were_compared",
        "test_random_rules",
        "test_large_random_rule_sets_across_groups_and_shards",
        # A browser, or large inputs.
        "test_chromium_draws_the_chart_in_the_first_screen_and_prints",
        "test_editing_any_byte_of_a_record_breaks_the_chain_and_names_it",
        "test_a_large_register_reads_in_linear_time",
        "test_a_large_batch_shows_progress_on_a_terminal_only",
    }
)
"""Single tests elsewhere that take tens of seconds or more, marked ``slow`` by name (a test of
their own checks each name still exists); a new slow test can carry ``@pytest.mark.slow``."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        name = getattr(item, "originalname", item.name)
        if item.path.stem in SLOW_MODULES or name in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)
