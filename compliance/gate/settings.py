"""The effective settings of a run, and where each came from.

Four places set how a review gates: built-in defaults, the project config (``compliance.toml``
or ``[tool.compliance]`` in ``pyproject.toml``), environment variables and the command line, each
overriding the one before (the command line and the environment both reach a run as options;
``sources`` says which gave each). ``compliance config show`` prints the
result of :func:`resolve` with each value's origin, and ``compliance review`` uses the same
result, so what is shown is what runs.

Thresholds merge: ``--fail-on SEVERITY`` replaces the config's default threshold, and
``--fail-on DOMAIN=SEVERITY`` that domain's; what the command line does not name stays as the
config sets it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from compliance.errors import UsageError
from compliance.gate.config import ProjectConfig, shown_path
from compliance.review.decision import DEFAULT_THRESHOLD, Thresholds
from compliance.rules.ruleset import RuleSet, not_in_force_text
from compliance.rules.spec import Severity

if TYPE_CHECKING:
    from compliance.review.waivers import Waivers

T = TypeVar("T")

DEFAULT = "default"
COMMAND_LINE = "command line"


@dataclass(frozen=True)
class Setting(Generic[T]):
    value: T
    origin: str


@dataclass(frozen=True)
class RunSettings:
    thresholds: Setting[Thresholds]
    waivers_file: Setting[Path | None]
    allow_blocker_waivers: Setting[bool]
    record_dir: Setting[Path | None]
    as_of: Setting[dt.date]
    waivers: Waivers | None
    """The waivers file, read and validated (None when there is none)."""
    sources: Mapping[str, str] = field(default_factory=dict)
    """Where each option given came from (see :func:`resolve`)."""
    rule_dirs: tuple[Path, ...] = ()
    """Rule directories given as options (``--rules``), beside the config file's."""

    def rows(self, config: ProjectConfig, ruleset: RuleSet) -> list[dict[str, Any]]:
        """Every setting as ``{"name", "value", "origin"}``, for ``config show``."""
        file_origin = config.label or DEFAULT
        t = self.thresholds.value
        tuning = ruleset.tuning
        loaded = tuning.loaded if tuning is not None else len(ruleset.rules)
        loaded += len(ruleset.not_in_force) if tuning is None else 0
        rows: list[dict[str, Any]] = [
            {
                "name": "config file",
                "value": config.label,
                "origin": config.found_by if config.label else DEFAULT,
            },
            {
                "name": "built-in rules",
                "value": config.builtin,
                "origin": file_origin if not config.builtin else DEFAULT,
            },
            {
                "name": "rule directories",
                "value": [shown_path(d) for d in config.rule_dirs]
                + [str(d) for d in self.rule_dirs],
                "origin": " and ".join(
                    [file_origin] * bool(config.rule_dirs) + self._given("rule_dirs")
                )
                or DEFAULT,
            },
            {
                "name": "rule set",
                "value": f"{ruleset.name} {ruleset.version}",
                "origin": file_origin if config.rule_dirs or not config.builtin else DEFAULT,
            },
            {
                "name": "rules run",
                "value": f"{len(ruleset.rules)} of {loaded}",
                "origin": self._selection_origin()
                if tuning is not None and (tuning.domains or tuning.rules or tuning.skipped)
                else file_origin
                if config.disabled
                else f"effective dates, as of {self.as_of.value}"
                if ruleset.not_in_force
                else DEFAULT,
            },
            {
                "name": "disabled rules",
                "value": [f"{d.rule_id}: {d.reason}" for d in config.disabled],
                "origin": file_origin if config.disabled else DEFAULT,
            },
            {
                "name": "severity overrides",
                "value": [
                    f"{o.rule_id} -> {o.severity.value}: {o.reason}" for o in config.overrides
                ],
                "origin": file_origin if config.overrides else DEFAULT,
            },
            {"name": "threshold", "value": t.default.value, "origin": self.thresholds.origin},
            {
                "name": "domain thresholds",
                "value": {d: s.value for d, s in t.domains.items()},
                "origin": self.thresholds.origin if t.domains else DEFAULT,
            },
            {
                "name": "waivers file",
                "value": None
                if self.waivers_file.value is None
                else shown_path(self.waivers_file.value),
                "origin": self.waivers_file.origin,
            },
            {
                "name": "waivers",
                "value": None if self.waivers is None else len(self.waivers.items),
                "origin": self.waivers_file.origin,
            },
            {
                "name": "blocker waivers allowed",
                "value": self.allow_blocker_waivers.value,
                "origin": self.allow_blocker_waivers.origin,
            },
            {
                "name": "record directory",
                "value": None
                if self.record_dir.value is None
                else shown_path(self.record_dir.value),
                "origin": self.record_dir.origin,
            },
            {
                "name": "waivers judged as of",
                "value": self.as_of.value.isoformat(),
                "origin": self.as_of.origin,
            },
        ]
        if ruleset.not_in_force:  # rules skipped for their dates on the judgment day
            rows.append(
                {
                    "name": "rules not in force",
                    "value": [not_in_force_text(n) for n in ruleset.not_in_force],
                    "origin": self.as_of.origin,
                }
            )
        return rows

    def _given(self, *names: str) -> list[str]:
        return [self.sources[n] for n in names if n in self.sources]

    def _selection_origin(self) -> str:
        given = self._given("domains", "only_rules", "skip_rules")
        if not given or all(g.startswith(COMMAND_LINE) for g in given):
            return f"{COMMAND_LINE} (--domain, --rule, --skip-rule)"
        return " and ".join(given)


def parse_fail_on(values: Sequence[str], ruleset: RuleSet) -> Thresholds | None:
    """``--fail-on`` values (``high``, ``data_sharing=medium``) as thresholds; None when none is
    given. A domain must be one the loaded rules have."""
    if not values:
        return None
    default: Severity | None = None
    domains: dict[str, Severity] = {}
    problems: list[str] = []
    for raw in values:
        domain, sep, grade = raw.partition("=")
        if not sep:
            domain, grade = "", raw
        severity = _severity(grade.strip())
        if severity is None:
            problems.append(
                f"--fail-on {raw}: {grade.strip()!r} is not a severity "
                f"({', '.join(s.value for s in Severity)})"
            )
            continue
        if not sep:
            if default is not None:
                problems.append(f"--fail-on {raw}: a default threshold is already given")
            default = severity
            continue
        try:
            name = canonical_domain(domain.strip(), ruleset, "--fail-on")
        except UsageError as exc:
            problems.extend(exc.problems)
            continue
        if name in domains:
            problems.append(f"--fail-on {raw}: the domain {name} is given twice")
        domains[name] = severity
    if problems:
        raise UsageError(problems)
    return Thresholds(default or DEFAULT_THRESHOLD, domains)


def _severity(text: str) -> Severity | None:
    try:
        return Severity(text.lower())
    except ValueError:
        return None


def canonical_domain(name: str, ruleset: RuleSet, where: str) -> str:
    known = {r.domain.lower(): r.domain for r in ruleset.rules}
    real = known.get(name.lower())
    if real is None:
        raise UsageError(
            f"{where}: {name!r}: no loaded rule has this domain "
            f"(domains: {', '.join(sorted(known.values()))})"
        )
    return real


def _thresholds(
    config: ProjectConfig,
    loaded: RuleSet,
    fail_on: Sequence[str],
    file_origin: str,
    given_by: str = f"{COMMAND_LINE} (--fail-on)",
) -> Setting[Thresholds]:
    """The config's thresholds with the command line's on top, and where they came from."""
    domains: dict[str, Severity] = {}
    problems: list[str] = []
    for name, severity in config.fail_on_domains.items():
        try:
            real = canonical_domain(name, loaded, f"{file_origin}: gate.fail_on_domains")
        except UsageError as exc:
            problems.extend(exc.problems)
            continue
        if real in domains:
            problems.append(f"{file_origin}: gate.fail_on_domains: {real} is given twice")
        domains[real] = severity
    if problems:
        raise UsageError(problems)
    default = config.fail_on or DEFAULT_THRESHOLD
    origins = {file_origin} if config.fail_on is not None or domains else set()
    given = parse_fail_on(fail_on, loaded)
    if given is not None:
        origins.add(given_by)
        if any("=" not in value for value in fail_on):
            default = given.default
        domains.update(given.domains)
    origin = " and ".join(sorted(origins, key=lambda o: o != file_origin)) or DEFAULT
    return Setting(Thresholds(default, domains), origin)


def resolve(
    config: ProjectConfig,
    loaded: RuleSet,
    ruleset: RuleSet,
    *,
    fail_on: Sequence[str] = (),
    waivers_file: Path | None = None,
    record_dir: Path | None = None,
    as_of: dt.date | None = None,
    sources: Mapping[str, str] | None = None,
    rule_dirs: Sequence[Path] = (),
) -> RunSettings:
    """The settings of a run: the options', else the config's, else the defaults.
    ``loaded`` is every rule loaded (waivers may name rules this run does not select);
    ``ruleset`` is what runs, as the project grades it. ``sources`` says where each option
    given came from, by parameter name (``{"fail_on": "environment (COMPLIANCE_...)"}``); an
    option not in it came from the command line."""
    sources = dict(sources or {})

    def given(name: str, flag: str) -> str:
        return sources.get(name, f"{COMMAND_LINE} ({flag})")

    file_origin = config.label or "config"
    thresholds = _thresholds(config, loaded, fail_on, file_origin, given("fail_on", "--fail-on"))
    waivers_at: Setting[Path | None]
    if waivers_file is not None:
        waivers_at = Setting(waivers_file, given("waivers_file", "--waivers"))
    elif config.waivers_file is not None:
        waivers_at = Setting(config.waivers_file, file_origin)
    else:
        waivers_at = Setting(None, DEFAULT)
    allow = Setting(
        config.allow_blocker_waivers, file_origin if config.allow_blocker_waivers else DEFAULT
    )
    records_at: Setting[Path | None]
    if record_dir is not None:
        records_at = Setting(record_dir, given("record_dir", "--record"))
    elif config.record_dir is not None:
        records_at = Setting(config.record_dir, file_origin)
    else:
        records_at = Setting(None, DEFAULT)
    today = dt.datetime.now(dt.timezone.utc).date()
    if as_of is not None and as_of > today:
        raise UsageError(
            f"--as-of {as_of}: a day after today ({today}); rules and waivers are judged as of "
            "today or a past day (to re-run a past decision)"
        )
    day = (
        Setting(as_of, given("as_of", "--as-of"))
        if as_of is not None
        else Setting(today, "default (today, UTC)")
    )
    waivers = None
    if waivers_at.value is not None:
        severities = {r.id: r.severity for r in loaded.rules}
        canonical = {r.id.upper(): r.id for r in loaded.rules}
        for override in config.overrides:  # as the project grades them, run or not
            if (rule_id := canonical.get(override.rule_id.strip().upper())) is not None:
                severities[rule_id] = override.severity
        severities.update({r.id: r.severity for r in ruleset.rules})
        from compliance.review.waivers import load_waivers  # noqa: PLC0415 - only with a waivers file

        waivers = load_waivers(
            waivers_at.value,
            loaded,
            as_of=day.value,
            allow_blockers=allow.value,
            severities=severities,
            label=str(waivers_file) if waivers_file is not None else shown_path(waivers_at.value),
        )
    return RunSettings(
        thresholds=thresholds,
        waivers_file=waivers_at,
        allow_blocker_waivers=allow,
        record_dir=records_at,
        as_of=day,
        waivers=waivers,
        sources=sources,
        rule_dirs=tuple(rule_dirs),
    )
