"""Generated documents are fresh, and README's two commands are the ones CI runs."""

from __future__ import annotations

import re

from compliance import docgen

from .conftest import ROOT


def test_generated_documents_are_up_to_date() -> None:
    stale = docgen.write(ROOT / "docs", check=True)
    assert stale == [], "run: compliance docs"


def _code_lines(text: str) -> list[str]:
    blocks = re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.DOTALL)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_readme_commands_are_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = _code_lines(readme)
    install, tests = commands[0], commands[1]
    assert "pip install" in install
    assert "compliance review fixtures/" in install
    assert tests == ".venv/bin/python -m pytest"
    ci_lines = [line.strip() for line in ci.splitlines()]
    assert install in ci_lines
    assert tests in ci_lines
    fixture = install.rsplit(" ", 1)[1]
    assert (ROOT / fixture).is_file()
