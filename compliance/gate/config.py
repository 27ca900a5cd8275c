"""The project configuration: ``compliance.toml``, or a ``[tool.compliance]`` table in
``pyproject.toml`` (the same keys, under ``tool.compliance``).

It is found in the working directory or the nearest parent that has one (``--config FILE`` names
one, ``--no-config`` ignores it); a ``pyproject.toml`` without the table is passed over. Both in
one directory is an error: one of them would be silently ignored. It is validated strictly, like
rule files: an unknown key or a missing reason is an error naming the file and the key, never
silently ignored.

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

    [gate]
    fail_on = "high"                    # the default threshold
    fail_on_domains = { data_sharing = "medium" }

    [waivers]
    file = "waivers.yaml"               # relative to this file
    allow_blockers = false              # the default: blockers cannot be waived

    [records]
    directory = "decisions"             # review appends decision records here

Lowering a blocker needs ``downgrade_blocker = true`` in its entry.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compliance.errors import ConfigError, InputError, UsageError
from compliance.intake.yamlfile import read_text, schema_message
from compliance.proposal.fields import path_from_loc
from compliance.rules.ruleset import DisabledRule
from compliance.rules.spec import Severity
from compliance.rules.tuning import Override, Selection

if TYPE_CHECKING:
    from pydantic import ValidationError

    from compliance.review.redact import Profile


CONFIG_NAME = "compliance.toml"
PYPROJECT = "pyproject.toml"
TABLE = "tool.compliance"
CONFIG_MAX_BYTES = 1024 * 1024
"""At most this many bytes in a config file (a config is a few KB); checked on the open file
before a byte is read."""


@dataclass(frozen=True)
class ProjectConfig:
    """A loaded config: where it came from, and what it asks for."""

    path: Path | None
    label: str | None = None
    """How the file is named in errors and reports (relative to the working directory), with
    the table for ``pyproject.toml``: ``pyproject.toml [tool.compliance]``."""
    found_by: str = "found"
    """How the file was chosen: found by the search, or named by an option or variable."""
    rule_dirs: tuple[Path, ...] = ()
    builtin: bool = True
    disabled: tuple[DisabledRule, ...] = ()
    overrides: tuple[Override, ...] = ()
    fail_on: Severity | None = None
    fail_on_domains: Mapping[str, Severity] = field(default_factory=dict)
    waivers_file: Path | None = None
    allow_blocker_waivers: bool = False
    record_dir: Path | None = None
    service_tokens: tuple[tuple[str, str], ...] = ()
    """(name, sha256 hex) of the HTTP service's tokens."""
    decision_log: str | None = None
    """The HTTP service's decision log: a SQLite path (resolved) or a PostgreSQL URL."""
    keep_proposals: bool = False
    """Whether the decision log keeps the reviewed proposals (personal data)."""
    redaction_profiles: Mapping[str, Profile] = field(default_factory=dict)
    """``[redaction.profiles.NAME]``: what ``--redact NAME`` hides."""

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
            config=self.label,
            builtin=self.builtin,
        )


def find_config(start: Path) -> Path | None:
    """``compliance.toml``, or ``pyproject.toml`` with a ``[tool.compliance]`` table, in
    ``start`` or its nearest parent that has one, looking no higher than the project's root (a
    directory with ``.git``) or the home directory, so that a file outside the project can never
    tune its reviews. Both in one directory is an error."""
    home = Path.home().resolve() if "HOME" in os.environ else None
    for directory in (start, *start.parents):
        candidate = directory / CONFIG_NAME
        pyproject = directory / PYPROJECT
        table = pyproject.is_file() and _table(pyproject, shown_path(pyproject)) is not None
        if candidate.is_file():
            if table:
                raise ConfigError(
                    f"{shown_path(candidate)} and {shown_path(pyproject)} [{TABLE}] both "
                    "configure this project; keep one (the other would be ignored)"
                )
            return candidate
        if table:
            return pyproject
        if (directory / ".git").exists() or directory.resolve() == home:
            return None
    return None


def _read_toml(path: Path, label: str) -> dict[str, Any]:
    # Imported when a file is read: a review with no configuration file needs no TOML parser.
    if sys.version_info >= (3, 11):
        import tomllib  # noqa: PLC0415
    else:  # pragma: no cover - Python 3.10 only; tomli is the library tomllib was made from
        import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]  # noqa: PLC0415
    text = read_text(path, label, ConfigError, CONFIG_MAX_BYTES)
    try:
        parsed: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{label}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{label}: not accepted: TOML nested too deeply") from None
    return parsed


def _table(path: Path, label: str) -> Any:
    """The ``[tool.compliance]`` table of a ``pyproject.toml``, or None. A file that does not
    mention it is not parsed (another tool's broken pyproject is no concern of ours)."""
    text = read_text(path, label, ConfigError, CONFIG_MAX_BYTES)
    if "compliance" not in text:
        return None
    tool = _read_toml(path, label).get("tool")
    return tool.get("compliance") if isinstance(tool, dict) else None


def _problems(exc: ValidationError, label: str) -> list[str]:
    return [
        f"{label}: {path_from_loc(tuple(err['loc'])) or '(top level)'}: {schema_message(err)}"
        for err in exc.errors(include_url=False)
    ]


def load_config(path: Path, label: str | None = None, found_by: str = "found") -> ProjectConfig:
    """Read and validate ``path`` (its ``[tool.compliance]`` table for a ``pyproject.toml``);
    rule directories are resolved against its folder and must exist. ``label`` names the file
    in messages (default: ``path`` as given)."""
    # Imported here: a review without a config file does not build the file's models.
    from pydantic import ValidationError  # noqa: PLC0415

    from compliance.gate import config_schema  # noqa: PLC0415
    from compliance.review.redact import DEFAULT_PROFILE, Profile, resolve_fields  # noqa: PLC0415

    label = label or str(path)
    raw: Any
    if path.name == PYPROJECT:
        raw = _table(path, label)
        if raw is None:
            raise ConfigError(f"{label}: has no [{TABLE}] table")
        label = f"{label} [{TABLE}]"
        if not isinstance(raw, dict):
            raise ConfigError(f"{label}: not a table")
    else:
        raw = _read_toml(path, label)
    try:
        parsed = config_schema.ConfigFile.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_problems(exc, label)) from None
    base = path.parent
    problems: list[str] = []
    dirs: list[Path] = []
    for i, name in enumerate(parsed.rules.directories):
        directory = base / name
        if not directory.is_dir():
            problems.append(
                f"{label}: rules.directories[{i}]: {name!r} is not a directory "
                f"(paths are relative to the config file)"
            )
        elif directory.resolve() in {d.resolve() for d in dirs}:
            problems.append(f"{label}: rules.directories[{i}]: {name!r} is listed twice")
        else:
            dirs.append(directory)
    if not parsed.rules.builtin and not dirs:
        problems.append(f"{label}: rules.builtin: false, but no rule directories are given")
    waivers_file = None
    if parsed.waivers.file is not None:
        waivers_file = base / parsed.waivers.file
        if not waivers_file.is_file():
            problems.append(
                f"{label}: waivers.file: {parsed.waivers.file!r} is not a file "
                "(paths are relative to the config file)"
            )
    profiles: dict[str, Profile] = {}
    for name, entry in parsed.redaction.profiles.items():
        where = f"{label}: redaction.profiles.{name}"
        if name == DEFAULT_PROFILE:
            problems.append(f"{where}: 'default' is built in (all free text); name yours otherwise")
            continue
        try:
            chosen = resolve_fields(entry.fields, f"{where}.fields")
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        profiles[name] = Profile(name, chosen, entry.keep_source, label)
    if problems:
        raise ConfigError(problems)
    records = parsed.records.directory
    return ProjectConfig(
        path=path,
        label=label,
        found_by=found_by,
        rule_dirs=tuple(dirs),
        builtin=parsed.rules.builtin,
        disabled=tuple(DisabledRule(e.id, e.reason, label) for e in parsed.rules.disable),
        overrides=tuple(
            Override(e.id, e.severity, e.reason, label, e.downgrade_blocker)
            for e in parsed.rules.severity
        ),
        fail_on=parsed.gate.fail_on,
        fail_on_domains=dict(parsed.gate.fail_on_domains),
        waivers_file=waivers_file,
        allow_blocker_waivers=parsed.waivers.allow_blockers,
        record_dir=base / records if records is not None else None,
        service_tokens=tuple((t.name, t.sha256) for t in parsed.service.tokens),
        decision_log=_log_target(parsed.service.decision_log, base),
        keep_proposals=parsed.service.keep_proposals,
        redaction_profiles=profiles,
    )


def _log_target(value: str | None, base: Path) -> str | None:
    if value is None or value.startswith(("postgresql://", "postgres://")):
        return value
    return str(base / value)


def resolve_config(
    explicit: Path | None, *, use: bool = True, cwd: Path | None = None, origin: str | None = None
) -> ProjectConfig:
    """The config for a run: ``explicit`` if given, else the one found from ``cwd``, else none.
    ``origin`` says where ``explicit`` came from (default: ``--config``)."""
    if explicit is not None:
        if not use:
            raise UsageError("--config and --no-config contradict each other; give one")
        return load_config(explicit, found_by=origin or "command line (--config)")
    if not use:
        return ProjectConfig(path=None)
    here = (cwd or Path.cwd()).absolute()
    found = find_config(here)
    if found is None:
        return ProjectConfig(path=None)
    return load_config(found, shown_path(found, here))


def shown_path(path: Path, base: Path | None = None) -> str:
    """A path as the user would write it: relative to ``base`` (the working directory), not by
    its absolute path (reports and messages carry no machine paths)."""
    if not path.is_absolute():
        return str(path)
    try:
        return os.path.relpath(path, base or Path.cwd())
    except ValueError:  # another drive
        return str(path)
