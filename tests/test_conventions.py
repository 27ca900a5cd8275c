"""The conventions of the tools people already run: options from environment variables,
``[tool.compliance]`` in pyproject.toml, shell completion, and a progress line on a terminal."""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from compliance.cli import cli
from compliance.gate import envvars
from tests.conftest import ROOT, RULE_CACHE, Run, run_cli

FLAWED = ROOT / "fixtures" / "flawed-data-sharing-processor-breach.json"
SOUND = ROOT / "fixtures" / "exemplary-humanitarian.json"


def run(*args: str, cwd: Path = ROOT, **env: str) -> Run:
    return run_cli(*args, cwd=cwd, env=env)


def rows(result: Run) -> dict[str, dict[str, object]]:
    assert result.code == 0, result.err
    return {r["name"]: r for r in json.loads(result.out)["settings"]}


# ------------------------------------------------------------------ environment variables


def test_every_option_has_one_variable_and_none_is_taken_or_dangerous() -> None:
    every = {name: cli.load(name) for name in cli.lazy}  # each command's module, imported
    names = envvars.attach(click.Group(commands=every))
    assert names["COMPLIANCE_REVIEW_FAIL_ON"] == ["review --fail-on"]
    assert names["COMPLIANCE_RULES_LIST_FORMAT"] == ["rules list --format"]
    assert names["COMPLIANCE_VERIFY_RECORDS_EXPECT_HEAD"] == ["verify-records --expect-head"]
    assert "serve --config" in names["COMPLIANCE_CONFIG"]
    assert "review --config" in names["COMPLIANCE_CONFIG"]
    assert names["COMPLIANCE_ENGINE"] == [
        "review --engine",
        "serve --engine",
        "rules impact --engine",
    ]
    assert names["COMPLIANCE_JOBS"] == ["review --jobs", "rules impact --jobs"]
    assert not set(names) & envvars.RESERVED
    for name, options in names.items():
        assert name.startswith("COMPLIANCE_")
        if name not in envvars.SHARED.values():
            assert len(options) == 1, (name, options)  # one option per variable
    flags = {option.split()[-1] for options in names.values() for option in options}
    assert not flags & envvars.NEVER


def test_a_variable_sets_an_option_and_the_command_line_wins() -> None:
    assert run("review", str(FLAWED), "--no-config").code == 3
    # --no-fail is never read from the environment: a variable left set must not open the gate
    assert run("review", str(FLAWED), "--no-config", COMPLIANCE_REVIEW_NO_FAIL="1").code == 3
    assert run("review", str(SOUND), "--no-config").out != ""
    assert run("review", str(SOUND), "--no-config", COMPLIANCE_REVIEW_QUIET="1").out == ""
    assert run("review", str(SOUND), "--no-config").code == 0
    # a variable's values are separated by spaces; with "info", the sound proposal's open
    # question gates it (exit 4)
    strict = run("review", str(SOUND), "--no-config", COMPLIANCE_REVIEW_FAIL_ON="info low")
    assert (strict.code, strict.err) == (
        2,
        "error: --fail-on low: a default threshold is already given\n",
    )
    assert run("review", str(SOUND), "--no-config", COMPLIANCE_REVIEW_FAIL_ON="info").code == 4
    given = run(
        "review", str(SOUND), "--no-config", "--fail-on", "high", COMPLIANCE_REVIEW_FAIL_ON="info"
    )
    assert given.code == 0


def test_force_and_no_auth_are_never_read_from_the_environment(tmp_path: Path) -> None:
    (tmp_path / "t.xlsx").write_bytes(b"work")
    made = run("template", "t.xlsx", cwd=tmp_path, COMPLIANCE_TEMPLATE_FORCE="1")
    assert (made.code, made.err) == (
        2,
        "error: t.xlsx: already exists; give --force to overwrite it\n",
    )
    assert (tmp_path / "t.xlsx").read_bytes() == b"work"


def test_config_show_names_the_variable_each_value_came_from(tmp_path: Path) -> None:
    (tmp_path / "compliance.toml").write_text('[gate]\nfail_on = "low"\n', encoding="utf-8")
    shown = rows(
        run(
            "config",
            "show",
            "--format",
            "json",
            "--rule",
            "DS-001",
            cwd=tmp_path,
            COMPLIANCE_CONFIG_SHOW_FAIL_ON="data_sharing=medium",
            COMPLIANCE_CONFIG_SHOW_RECORD="decisions",
            COMPLIANCE_CONFIG_SHOW_DOMAIN="monitoring",
        )
    )
    assert shown["config file"]["origin"] == "found"
    assert shown["threshold"] == {
        "name": "threshold",
        "value": "low",
        "origin": "compliance.toml and environment (COMPLIANCE_CONFIG_SHOW_FAIL_ON)",
    }
    assert shown["domain thresholds"]["value"] == {"data_sharing": "medium"}
    assert shown["record directory"] == {
        "name": "record directory",
        "value": "decisions",
        "origin": "environment (COMPLIANCE_CONFIG_SHOW_RECORD)",
    }
    assert shown["rules run"]["origin"] == (
        "environment (COMPLIANCE_CONFIG_SHOW_DOMAIN) and command line (--rule)"
    )
    # the command line replaces the variable, which replaces the file
    shown = rows(
        run(
            "config",
            "show",
            "--format",
            "json",
            "--fail-on",
            "blocker",
            cwd=tmp_path,
            COMPLIANCE_CONFIG_SHOW_FAIL_ON="medium",
        )
    )
    assert shown["threshold"]["value"] == "blocker"
    assert shown["threshold"]["origin"] == "compliance.toml and command line (--fail-on)"


def test_the_config_file_from_a_variable_and_no_config_on_the_command_line(
    tmp_path: Path,
) -> None:
    (tmp_path / "other.toml").write_text('[gate]\nfail_on = "medium"\n', encoding="utf-8")
    shown = rows(
        run("config", "show", "--format", "json", cwd=tmp_path, COMPLIANCE_CONFIG="other.toml")
    )
    assert shown["config file"] == {
        "name": "config file",
        "value": "other.toml",
        "origin": "environment (COMPLIANCE_CONFIG)",
    }
    assert shown["threshold"]["origin"] == "other.toml"
    shown = rows(
        run(
            "config",
            "show",
            "--format",
            "json",
            "--no-config",
            cwd=tmp_path,
            COMPLIANCE_CONFIG="other.toml",
        )
    )
    assert shown["config file"]["value"] is None
    both = run(
        "config",
        "show",
        cwd=tmp_path,
        COMPLIANCE_CONFIG="other.toml",
        COMPLIANCE_CONFIG_SHOW_NO_CONFIG="1",
    )
    assert (both.code, both.err) == (
        2,
        "error: COMPLIANCE_CONFIG and COMPLIANCE_CONFIG_SHOW_NO_CONFIG contradict each other; "
        "unset one\n",
    )


def test_help_names_the_variables_of_the_common_options() -> None:
    shown = run("review", "--help")
    assert "COMPLIANCE_REVIEW_FAIL_ON" in shown.out
    assert "COMPLIANCE_CONFIG]" in " ".join(shown.out.split())
    top = " ".join(run("--help").out.split())
    assert "Options can be set in the environment as COMPLIANCE_<COMMAND>_<OPTION>" in top


# ------------------------------------------------------------------ pyproject.toml


PYPROJECT = """[project]
name = "partnerships"

[tool.compliance.gate]
fail_on = "medium"

[[tool.compliance.rules.disable]]
id = "TRN-005"
reason = "The donor publishes every grant to IATI."
"""


def test_tool_compliance_in_pyproject_is_the_config(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (tmp_path / "sub").mkdir()
    shown = rows(run("config", "show", "--format", "json", cwd=tmp_path / "sub"))
    here = "../pyproject.toml [tool.compliance]"
    assert shown["config file"] == {"name": "config file", "value": here, "origin": "found"}
    assert shown["threshold"] == {"name": "threshold", "value": "medium", "origin": here}
    assert shown["disabled rules"]["value"] == ["TRN-005: The donor publishes every grant to IATI."]


def test_a_pyproject_without_the_table_is_passed_over(tmp_path: Path) -> None:
    (tmp_path / "compliance.toml").write_text('[gate]\nfail_on = "low"\n', encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "pyproject.toml").write_text(
        '[project]\nname = "x"\n[tool.ruff]\nline-length = 100\n', encoding="utf-8"
    )
    shown = rows(run("config", "show", "--format", "json", cwd=tmp_path / "sub"))
    assert shown["config file"]["value"] == "../compliance.toml"
    named = run("config", "show", "--config", "pyproject.toml", cwd=tmp_path / "sub")
    assert (named.code, named.err) == (2, "error: pyproject.toml: has no [tool.compliance] table\n")


def test_both_files_in_one_directory_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (tmp_path / "compliance.toml").write_text('[gate]\nfail_on = "low"\n', encoding="utf-8")
    both = run("review", str(SOUND), cwd=tmp_path)
    assert (both.code, both.out, both.err) == (
        2,
        "",
        "error: compliance.toml and pyproject.toml [tool.compliance] both configure this "
        "project; keep one (the other would be ignored)\n",
    )


def test_a_pyproject_table_is_validated_like_compliance_toml(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.compliance.gate]\nfail_on = "severe"\n[tool.compliance.record]\ndirectory = "x"\n',
        encoding="utf-8",
    )
    bad = run("review", str(SOUND), cwd=tmp_path)
    assert bad.code == 2
    assert bad.err.splitlines() == [
        "error: pyproject.toml [tool.compliance]: gate.fail_on: Input should be 'blocker', "
        "'high', 'medium', 'low' or 'info'",
        "error: pyproject.toml [tool.compliance]: record: unknown key",
    ]


# ------------------------------------------------------------------ shell completion


@pytest.mark.parametrize(
    ("shell", "marker"),
    [
        ("bash_source", "_compliance_completion()"),
        ("zsh_source", "#compdef compliance"),
        ("fish_source", "function _compliance_completion"),
    ],
)
def test_shell_completion_scripts_are_produced(shell: str, marker: str) -> None:
    script = run(_COMPLIANCE_COMPLETE=shell)
    assert script.code == 0, script.err
    assert marker in script.out
    assert "_COMPLIANCE_COMPLETE" in script.out


def test_completion_offers_the_commands_and_options() -> None:
    words = run(_COMPLIANCE_COMPLETE="bash_complete", COMP_WORDS="compliance rev", COMP_CWORD="1")
    assert words.out.splitlines() == ["plain,review"]
    words = run(
        _COMPLIANCE_COMPLETE="bash_complete",
        COMP_WORDS="compliance review --fail",
        COMP_CWORD="2",
    )
    assert words.out.splitlines() == ["plain,--fail-on"]


# ------------------------------------------------------------------ progress on a terminal


def _batch(tmp_path: Path, count: int) -> Path:
    proposal = json.loads(SOUND.read_text(encoding="utf-8"))
    lines = []
    for i in range(count):
        proposal["id"] = f"P-{i:05d}"
        lines.append(json.dumps(proposal))
    path = tmp_path / "batch.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _with_terminal(args: list[str], cwd: Path) -> tuple[int, bytes]:
    """Run the CLI with stderr on a pseudo-terminal; what the terminal received."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "compliance", *args],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=follower,
        env={"PATH": "/usr/bin:/bin", "COMPLIANCE_CACHE_DIR": RULE_CACHE, "COLUMNS": "200"},
    )
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal's other end is closed
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    return proc.wait(), seen


def test_a_large_batch_shows_progress_on_a_terminal_only(tmp_path: Path) -> None:
    batch = _batch(tmp_path, 400)
    args = ["review", str(batch), "--jobs", "1", "--format", "jsonl", "-o", "out.jsonl"]
    written = "wrote out.jsonl; 400 proposals: 400 approve_with_conditions; exit 0"
    code, seen = _with_terminal(args, tmp_path)
    assert code == 0
    text = seen.decode()
    assert f"proposals reviewed (reading {batch})\x1b[K" in text
    # the line is rewritten in place, then erased before anything else is printed
    assert text.startswith("\r")
    assert text.endswith(f"\r\x1b[K{written}\r\n")
    assert "\n" not in text.removesuffix("\r\n")
    # not on a pipe: stderr is exactly what it always was
    piped = run(*args, cwd=tmp_path)
    assert (piped.code, piped.err) == (0, written + "\n")
    # nor with --quiet
    code, seen = _with_terminal([*args, "--quiet"], tmp_path)
    assert (code, seen) == (0, b"")


def test_a_small_review_draws_nothing(tmp_path: Path) -> None:
    code, seen = _with_terminal(["review", str(SOUND), "-o", "out.txt"], tmp_path)
    assert code == 0
    assert seen.decode() == "wrote out.txt; 1 proposal: 1 approve_with_conditions; exit 0\r\n"


def test_the_variables_are_the_options_long_names() -> None:
    option = click.Option(["-o", "--output", "outputs"])
    assert envvars.flag_of(option) == "--output"
    assert envvars.variable(("rules", "list"), "--format") == "COMPLIANCE_RULES_LIST_FORMAT"


def test_the_progress_line_is_one_line_of_printable_text(monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import time

    from compliance.batch import progress

    monkeypatch.setenv("COLUMNS", "60")
    out = io.StringIO()
    line = progress.Line(out, clock=time.monotonic() - progress.DELAY)
    line(12000, "in\x1b[2Jbox/\nbatch.jsonl")
    line(12001, "later.jsonl")  # within the interval: not drawn
    assert out.getvalue() == "\r12,000 proposals reviewed (reading in?[2Jbox/?batch.jsonl)\x1b[K"
    line.due = 0
    line(1, "a-very-long-name-of-a-file-that-does-not-fit-in-sixty-columns.jsonl")
    last = out.getvalue().rsplit("\r", 1)[1]
    assert last == "1 proposal reviewed (reading a-very-long-name-of-a-file-th…\x1b[K"
    line.erase()
    assert out.getvalue().endswith("\r\x1b[K")


def test_another_tools_broken_pyproject_is_no_concern_unless_it_mentions_compliance(
    tmp_path: Path,
) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text('[project\nname = "x"\n', encoding="utf-8")
    shown = rows(run("config", "show", "--format", "json", cwd=tmp_path))
    assert shown["config file"] == {"name": "config file", "value": None, "origin": "default"}
    (tmp_path / "pyproject.toml").write_text("[tool.compliance\nx = 1\n", encoding="utf-8")
    broken = run("config", "show", cwd=tmp_path)
    assert (broken.code, broken.err) == (
        2,
        "error: pyproject.toml: not valid TOML: Expected ']' at the end of a table declaration "
        "(at line 1, column 17)\n",
    )


def test_config_show_lists_the_rule_directories_of_the_file_and_the_variable(
    tmp_path: Path,
) -> None:
    project = ROOT / "fixtures" / "project-config"
    extra = tmp_path / "extra-rules"
    shutil.copytree(project / "policy-rules", extra)
    for path in extra.glob("*.yaml"):
        path.write_text(path.read_text(encoding="utf-8").replace("UNIT-001", "UNIT-901"))
    shown = rows(
        run("config", "show", "--format", "json", cwd=project, COMPLIANCE_RULES=str(extra))
    )
    assert shown["rule directories"] == {
        "name": "rule directories",
        "value": ["policy-rules", str(extra)],
        "origin": "compliance.toml and environment (COMPLIANCE_RULES)",
    }
