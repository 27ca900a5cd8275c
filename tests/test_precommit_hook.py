"""The published pre-commit hook, run by the real ``pre-commit`` in a repository holding a sound
and a flawed proposal, whose ``.pre-commit-config.yaml`` names this project at its committed
revision, as a user's names the published one. pre-commit builds the hook's own environment once
(in a store of the test's own) by pip-installing this project (durable_rules compiles unless
pip's cache holds its wheel), so this takes minutes on a cold cache: marked slow, run in CI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow

SOUND = ROOT / "fixtures" / "exemplary-humanitarian.json"
FLAWED = ROOT / "fixtures" / "flawed-data-sharing-processor-breach.json"
PRE_COMMIT = Path(sys.executable).parent / "pre-commit"


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(
        ["git", "-c", "user.name=test", "-c", "user.email=test@example.org", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def _config(repo: Path) -> None:
    """The repository's pre-commit configuration: this project's hook at its committed revision
    (not edits in progress beside it), as pre-commit installs a published hook."""
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {json.dumps(str(ROOT))}\n  rev: {head}\n"
        "  hooks:\n  - id: compliance-review\n",
        encoding="utf-8",
    )


def _run(repo: Path, *files: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMPLIANCE_", "GIT_"))}
    return subprocess.run(
        [str(PRE_COMMIT), "run", "compliance-review", "--files", *files],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
        env={**env, "PRE_COMMIT_HOME": str(repo.parent / "pre-commit-store")},
        timeout=1200,
    )


@pytest.mark.skipif(not PRE_COMMIT.exists(), reason="pre-commit is not installed (dev extra)")
@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_the_hook_fails_a_flawed_proposal_and_passes_a_sound_one(tmp_path: Path) -> None:
    repo = tmp_path / "partnerships"
    (repo / "proposals").mkdir(parents=True)
    shutil.copy(SOUND, repo / "proposals" / "sound.json")
    shutil.copy(FLAWED, repo / "proposals" / "flawed.json")
    (repo / "notes.json").write_text("{}", encoding="utf-8")  # not a proposal: not reviewed
    _config(repo)
    _git("init", "-q", cwd=repo)
    _git("add", ".", cwd=repo)
    _git("commit", "-q", "-m", "proposals", cwd=repo)

    flawed = _run(repo, "proposals/flawed.json", "notes.json")
    assert flawed.returncode == 1, flawed.stdout + flawed.stderr
    assert "compliance review" in flawed.stdout
    assert "Failed" in flawed.stdout
    assert "- exit code: 3" in flawed.stdout  # rejected
    assert "DS-" in flawed.stdout  # the findings are shown
    assert "1 proposal reviewed: 1 reject" in flawed.stdout

    sound = _run(repo, "proposals/sound.json", "notes.json")
    assert sound.returncode == 0, sound.stdout + sound.stderr
    assert "Passed" in sound.stdout

    skipped = _run(repo, "notes.json")
    assert skipped.returncode == 0, skipped.stdout + skipped.stderr
    assert "(no files to check)Skipped" in skipped.stdout
