"""The project configuration file, ``compliance.toml``.

It is found in the working directory or the nearest parent that has one (``--config FILE`` names
one, ``--no-config`` ignores it). It is validated strictly, like rule files: an unknown key or a
missing reason is an error naming the file and the key, never silently ignored.

.. code-block:: toml

    [rules]
    directories = ["policy/rules"]      # extra rule directories, relative to this file
    builtin = true                      # load the built-in rules too (default)

    [[rules.disable]]
    id = "TRN-005"
    reason = "Funding is published through the donor's own IATI feed."

    [[rules.severity]]
    id = "ACC-007"
    severity = "high"
    reason = "Board policy 2026-04: no partnership without a grievance mechanism."
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from compliance.errors import ConfigError
from compliance.fields import path_from_loc
from compliance.ruleset import DisabledRule
from compliance.rulespec import Severity
from compliance.tuning import Override, Selection

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only; tomli is the library tomllib was made from
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

CONFIG_NAME = "compliance.toml"

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
RuleId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DisableEntry(_Strict):
    id: RuleId
    reason: Reason = Field(description="Why the rule does not apply to this project's work.")


class SeverityEntry(_Strict):
    id: RuleId
    severity: Severity
    reason: Reason = Field(description="Why this project judges the rule at another severity.")


class RulesSection(_Strict):
    directories: list[str] = Field(default_factory=list)
    builtin: bool = True
    disable: list[DisableEntry] = Field(default_factory=list)
    severity: list[SeverityEntry] = Field(default_factory=list)


class ConfigFile(_Strict):
    rules: RulesSection = Field(default_factory=RulesSection)


@dataclass(frozen=True)
class ProjectConfig:
    """A loaded config: where it came from, and what it asks for."""

    path: Path | None
    rule_dirs: tuple[Path, ...] = ()
    builtin: bool = True
    disabled: tuple[DisabledRule, ...] = ()
    overrides: tuple[Override, ...] = ()

    def selection(
        self, domains: tuple[str, ...] = (), rules: tuple[str, ...] = (), skip: tuple[str, ...] = ()
    ) -> Selection:
        """The selection for one run: the command line's choices plus this file's tuning."""
        return Selection(
            domains=domains,
            rules=rules,
            skip=skip,
            disabled=self.disabled,
            overrides=self.overrides,
            config=str(self.path) if self.path is not None else None,
        )


def find_config(start: Path) -> Path | None:
    """``compliance.toml`` in ``start`` or its nearest parent that has one."""
    for directory in (start, *start.parents):
        candidate = directory / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None


def _problems(exc: ValidationError, label: str) -> list[str]:
    lines = []
    for err in exc.errors():
        where = path_from_loc(tuple(err["loc"])) or "(top level)"
        if err["type"] == "extra_forbidden":
            message = "unknown key"
        elif err["type"] == "missing":
            message = "missing (required)"
        else:
            message = err["msg"]
        lines.append(f"{label}: {where}: {message}")
    return lines


def load_config(path: Path) -> ProjectConfig:
    """Read and validate ``path``; rule directories are resolved against its folder."""
    label = str(path)
    try:
        raw: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{label}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{label}: cannot be read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{label}: not valid TOML: {exc}") from None
    try:
        parsed = ConfigFile.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_problems(exc, label)) from None
    base = path.parent
    return ProjectConfig(
        path=path,
        rule_dirs=tuple(base / d for d in parsed.rules.directories),
        builtin=parsed.rules.builtin,
        disabled=tuple(DisabledRule(e.id, e.reason, label) for e in parsed.rules.disable),
        overrides=tuple(Override(e.id, e.severity, e.reason, label) for e in parsed.rules.severity),
    )


def resolve_config(
    explicit: Path | None, *, use: bool = True, cwd: Path | None = None
) -> ProjectConfig:
    """The config for a run: ``explicit`` if given, else the one found from ``cwd``, else none."""
    if explicit is not None:
        return load_config(explicit)
    if not use:
        return ProjectConfig(path=None)
    here = cwd or Path.cwd()
    found = find_config(here)
    if found is None:
        return ProjectConfig(path=None)
    with contextlib.suppress(ValueError):  # name it as the user would, not by its absolute path
        found = Path(os.path.relpath(found, here))
    return load_config(found)
