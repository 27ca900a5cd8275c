"""The tree is the design: docs/architecture.md's table of packages is checked against the code.

Every package it names exists and every package of ``compliance/`` is named; imports only point
up the table (from a lower layer to a higher one, including imports inside functions and under
``TYPE_CHECKING``); the top level holds at most 10 modules and no module is over 600 lines. The
public library API is what ``from compliance import ...`` gives, and importing ``compliance``
alone costs nothing."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

import compliance

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "compliance"
DOC = ROOT / "docs" / "architecture.md"


def _layers() -> list[list[str]]:
    """The table's rows in order: the ``compliance/...`` paths each names."""
    text = DOC.read_text(encoding="utf-8")
    table = text.split("## The packages, lowest layer first", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| `compliance/")]
    return [re.findall(r"`(compliance/[\w/.]+)`", row.split("|")[1]) for row in rows]


LAYERS = _layers()
LAYER_OF = {path.rstrip("/"): index for index, paths in enumerate(LAYERS) for path in paths}


def _layer(module: str) -> int | None:
    """The layer of a dotted module name, or None for the package's front door."""
    parts = module.split(".")
    if parts == ["compliance"]:
        return None
    key = "/".join(parts[:2])
    for candidate in (key, key + ".py"):
        if candidate in LAYER_OF:
            return LAYER_OF[candidate]
    raise AssertionError(f"{module} is in no layer of docs/architecture.md")


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every module of the package that ``path`` imports, with the line, wherever the import is."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("compliance")]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if not node.module.startswith("compliance"):
                continue
            for alias in node.names:
                dotted = f"{node.module}.{alias.name}"
                is_module = (PACKAGE.parent / (dotted.replace(".", "/") + ".py")).is_file() or (
                    PACKAGE.parent / dotted.replace(".", "/")
                ).is_dir()
                found.append((node.lineno, dotted if is_module else node.module))
    return found


def test_the_table_names_every_package_and_only_packages_that_exist() -> None:
    named = {path.rstrip("/") for paths in LAYERS for path in paths}
    for path in named:
        assert (ROOT / path).exists(), f"docs/architecture.md names {path}, which does not exist"
    packages = {f"compliance/{p.name}" for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    top = {f"compliance/{p.name}" for p in PACKAGE.glob("*.py") if p.name != "__init__.py"}
    assert packages | top <= named, f"not in docs/architecture.md: {sorted(packages | top - named)}"


def test_imports_only_point_up_the_layers() -> None:
    wrong = []
    for path in _modules():
        if path == PACKAGE / "__init__.py":
            continue
        here = _layer(_name(path))
        assert here is not None
        for line, module in _imports(path):
            there = _layer(module)
            if there is not None and there > here:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert wrong == []


def test_the_top_level_is_small_and_no_module_is_long() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= 10, top
    long = {
        str(p.relative_to(ROOT)): n
        for p in _modules()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 600
    }
    assert long == {}


def test_the_public_api_is_what_the_page_shows_and_each_name_imports() -> None:
    text = DOC.read_text(encoding="utf-8")
    block = text.split("```python", 1)[1].split("```", 1)[0]
    shown = set(re.findall(r"\b([A-Z]\w+|load_\w+|read_\w+)\b", block))
    assert shown == set(compliance.__all__) - {"__version__"}
    for name in compliance.__all__:
        value = getattr(compliance, name)
        if name != "__version__":
            assert value.__module__ == compliance._HOMES[name], name
            assert _layer(value.__module__) is not None


@pytest.mark.parametrize("name", ["pydantic", "click", "openpyxl", "yaml", "durable"])
def test_importing_the_package_alone_imports_no_dependency(name: str) -> None:
    code = f"import sys, compliance; print({name!r} in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout == "False\n"
