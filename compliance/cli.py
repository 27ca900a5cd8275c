"""The ``compliance`` command. It parses arguments and renders; the work is in library calls.

Every path out of :func:`main` ends in an exit code from :mod:`compliance.exitcodes`: user errors
(one :class:`ComplianceError` family) print one line per problem; anything unexpected is an
internal error. Nothing but a passing review exits 0.
"""

from __future__ import annotations

import datetime
import functools
import json
import math
import os
import sys
import traceback
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn, TypeVar, cast

import click

from compliance import __version__
from compliance.errors import ComplianceError, InputError, UsageError
from compliance.exitcodes import ExitCode
from compliance.gate import envvars, records, settings
from compliance.gate.config import CONFIG_NAME, ProjectConfig, resolve_config
from compliance.proposal.model import SCHEMA_VERSION
from compliance.reports.output import writable, write_parts
from compliance.reports.summary import decision_counts, written_line
from compliance.reports.text import render
from compliance.review import batch
from compliance.review.batch_run import review_batch
from compliance.review.decision import exit_code
from compliance.review.findings import Report
from compliance.review.reviewer import (
    CROSS_CHECKS,
    ENGINE_CHOICES,
    CrossCheck,
    EngineChoice,
    Reviewer,
)
from compliance.rules import tuning
from compliance.rules.load import builtin_rules_dir, load_rules
from compliance.rules.ruleset import RuleSet
from compliance.rules.spec import Severity
from compliance.words import counted
from compliance.workbook.layout import TEMPLATE_VERSION, Layout

F = TypeVar("F", bound=Callable[..., Any])

SEVERITY_CHOICE = click.Choice([s.value for s in Severity], case_sensitive=False)


def _rules_option(func: F) -> F:
    return click.option(
        "--rules",
        "rule_dirs",
        multiple=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="A directory of extra rule files, loaded after the built-in rules (repeatable).",
    )(func)


def _write(content: str | bytes, output: Path | None) -> None:
    """Write a report atomically to ``output``, or text to standard output."""
    write_parts([content], output)


def _writable(output: Path) -> None:
    writable(output)


def _new_file(output: Path, force: bool) -> Path:
    """``output``, unless it exists and ``force`` is not given: a filled-in workbook is work
    that an overwrite would destroy."""
    if output.exists() and not force:
        raise UsageError(f"{output}: already exists; give --force to overwrite it")
    return output


def _config_options(command: F) -> F:
    @functools.wraps(command)
    def chosen(*args: Any, **kwargs: Any) -> Any:
        # One of --config/--no-config on the command line overrides the other's variable.
        kwargs["config_path"], kwargs["no_config"] = envvars.config_choice(
            click.get_current_context(silent=True), kwargs["config_path"], kwargs["no_config"]
        )
        return command(*args, **kwargs)

    func = cast(F, chosen)
    func = click.option(
        "--no-config",
        is_flag=True,
        help=f"Ignore any {CONFIG_NAME} or [tool.compliance] in pyproject.toml (by default the "
        "one in the working directory or the nearest parent is used).",
    )(func)
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help=f"The project config file (default: {CONFIG_NAME}, or pyproject.toml with a "
        "[tool.compliance] table, searched upwards).",
    )(func)


def _selection_options(func: F) -> F:
    func = click.option(
        "--skip-rule",
        "skip_rules",
        multiple=True,
        metavar="ID",
        help="Do not run this rule (repeatable).",
    )(func)
    func = click.option(
        "--rule",
        "only_rules",
        multiple=True,
        metavar="ID",
        help="Run this rule (repeatable); with --domain, rules of either are run.",
    )(func)
    return click.option(
        "--domain",
        "domains",
        multiple=True,
        metavar="DOMAIN",
        help="Run only the rules of this domain (repeatable).",
    )(func)


def _load(
    rule_dirs: Sequence[Path],
    config_path: Path | None = None,
    no_config: bool = False,
    *,
    domains: tuple[str, ...] = (),
    only: tuple[str, ...] = (),
    skip: tuple[str, ...] = (),
) -> RuleSet:
    """The rules for this run: the config's and the command line's directories, narrowed and
    re-graded by the config and the selection options."""
    return _load_all(rule_dirs, config_path, no_config, domains=domains, only=only, skip=skip)[2]


def _load_all(
    rule_dirs: Sequence[Path],
    config_path: Path | None = None,
    no_config: bool = False,
    *,
    domains: tuple[str, ...] = (),
    only: tuple[str, ...] = (),
    skip: tuple[str, ...] = (),
) -> tuple[ProjectConfig, RuleSet, RuleSet]:
    """The config, every rule loaded, and the rules this run selects as the config grades them."""
    ctx = click.get_current_context(silent=True)
    found_by = envvars.origins(ctx, "config_path").get("config_path")
    config = resolve_config(config_path, use=not no_config, origin=found_by)
    loaded = load_rules(_directories(config.rule_dirs, rule_dirs), builtin=config.builtin)
    return config, loaded, tuning.apply(loaded, config.selection(domains, only, skip))


def _directories(*groups: Sequence[Path]) -> list[Path]:
    """Rule directories in order, each once (the config and --rules may name the same one)."""
    seen: set[Path] = set()
    out: list[Path] = []
    for group in groups:
        for directory in group:
            key = directory.resolve()
            if key not in seen:
                seen.add(key)
                out.append(directory)
    return out


def _version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from compliance.engines import durable as durable_engine

    click.echo(f"compliance, version {__version__}")
    click.echo(f"engine: {durable_engine.describe()}")
    ctx.exit()


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_version,
    help="Show the version and the engine a review runs (--engine auto), and exit.",
)
def cli() -> None:
    """Check partnership proposals against compliance and ethics rules.

    Exit codes: 0 passed, 2 invalid input or usage, 3 blocked (reject), 4 needs information,
    5 rule set error, 6 internal error.

    Options can be set in the environment as COMPLIANCE_<COMMAND>_<OPTION>
    (COMPLIANCE_REVIEW_FAIL_ON=medium); COMPLIANCE_CONFIG, COMPLIANCE_RULES, COMPLIANCE_ENGINE
    and COMPLIANCE_JOBS apply to every command with that option. The command line wins, then
    the environment, then the config file. Shell completion: see the README.
    """


FORMATS = ("text", "json", "jsonl", "markdown", "junit", "sarif", "html", "xlsx")


def _gate_options(func: F) -> F:
    """Options that say how a review gates; ``review`` and ``config show`` share them."""
    func = click.option(
        "--as-of",
        type=click.DateTime(formats=["%Y-%m-%d"]),
        help="The judgment day, YYYY-MM-DD (default: today, UTC): the rules in force that day "
        "run, and waiver expiry is judged against it; to re-run a past decision.",
    )(func)
    func = click.option(
        "--record",
        "record_dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Append a decision record for every proposal to the hash-chained log in this "
        "directory (check it with: compliance verify-records DIR). Default: [records] "
        f"directory in {CONFIG_NAME}, if set.",
    )(func)
    func = click.option(
        "--waivers",
        "waivers_file",
        type=click.Path(dir_okay=False, path_type=Path),
        help=f"A waivers file (YAML) of accepted findings. Default: [waivers] file in "
        f"{CONFIG_NAME}, if set.",
    )(func)
    return click.option(
        "--fail-on",
        "fail_on",
        multiple=True,
        metavar="SEVERITY|DOMAIN=SEVERITY",
        help="Gate threshold: a violation at or above it rejects the proposal (default: high, "
        f"or [gate] in {CONFIG_NAME}). DOMAIN=SEVERITY sets one domain's threshold "
        "(repeatable); these go on top of the config's.",
    )(func)


def _settings(
    config: ProjectConfig,
    loaded: RuleSet,
    ruleset: RuleSet,
    fail_on: tuple[str, ...],
    waivers_file: Path | None,
    record_dir: Path | None,
    as_of: datetime.datetime | None,
) -> settings.RunSettings:
    ctx = click.get_current_context(silent=True)
    given = ("fail_on", "waivers_file", "record_dir", "as_of", "rule_dirs", "domains")
    return settings.resolve(
        config,
        loaded,
        ruleset,
        fail_on=fail_on,
        waivers_file=waivers_file,
        record_dir=record_dir,
        as_of=as_of.date() if as_of is not None else None,
        sources=envvars.origins(ctx, *given, "only_rules", "skip_rules"),
        rule_dirs=ctx.params.get("rule_dirs", ()) if ctx is not None else (),
    )


def _targets(formats: tuple[str, ...], outputs: tuple[Path, ...]) -> list[tuple[str, Path | None]]:
    """Pair each format with where it is written: one format may go to standard output; several
    need an --output each, in the same order (``-`` for standard output, at most once)."""
    chosen = formats or ("text",)
    if len(set(chosen)) != len(chosen):
        raise UsageError("--format: each format may be given once")
    if len(chosen) == 1 and len(outputs) <= 1:
        out = outputs[0] if outputs else None
        return _checked([(chosen[0], None if out is not None and str(out) == "-" else out)])
    if len(outputs) != len(chosen):
        raise UsageError(
            f"{len(chosen)} formats need {len(chosen)} --output options, one per format in the "
            f"same order (- for standard output); got {len(outputs)}"
        )
    pairs: list[tuple[str, Path | None]] = [
        (fmt, None if str(out) == "-" else out) for fmt, out in zip(chosen, outputs, strict=True)
    ]
    if sum(out is None for _, out in pairs) > 1:
        raise UsageError("--output -: only one format can go to standard output")
    written = [out.resolve() for _, out in pairs if out is not None]
    if len(set(written)) != len(written):
        raise UsageError("--output: two formats would be written to the same file")
    return _checked(pairs)


def _checked(pairs: list[tuple[str, Path | None]]) -> list[tuple[str, Path | None]]:
    for fmt, out in pairs:
        if out is None and fmt == "xlsx":
            raise UsageError("a workbook is not written to the terminal; give --output FILE")
        if out is not None:
            _writable(out)
    return pairs


def _render(
    fmt: str,
    report: Report,
    ruleset: RuleSet,
    output: Path | None = None,
    source_root: Path | None = None,
    names: Sequence[Mapping[str, str]] = (),
) -> str | bytes:
    if fmt == "json":
        return report.model_dump_json(indent=2) + "\n"
    # Each format's module is imported when it is asked for: start-up is most of a review.
    if fmt == "xlsx":
        from compliance.reports.xlsx import render_xlsx

        return render_xlsx(report, ruleset.domain_title, output)
    if fmt == "markdown":
        from compliance.reports.markdown import render_markdown

        return render_markdown(report, ruleset.domain_title)
    if fmt == "junit":
        from compliance.reports.junit import render_junit

        return render_junit(report, ruleset.rules)
    if fmt == "sarif":
        from compliance.reports.sarif import render_sarif

        return render_sarif(report, ruleset.rules, ruleset.domain_title, source_root)
    if fmt == "html":
        from compliance.reports.html import render_html

        return render_html(report, ruleset.domain_title, names)
    return render(report, ruleset.domain_title)


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--format",
    "formats",
    type=click.Choice(FORMATS),
    multiple=True,
    help="Report format, repeatable (default: text). markdown: a memo for a ticket or pull "
    "request; junit: JUnit XML, a test case per rule per proposal; sarif: SARIF 2.1.0 for code "
    "scanning; html: a self-contained page for reviewers; xlsx: an Excel workbook; jsonl: JSON "
    "Lines, a line per review, for batches of any size. text, json and jsonl are written as the "
    "batch flows (memory does not grow with it); the others hold the whole report.",
)
@click.option(
    "-o",
    "--output",
    "outputs",
    multiple=True,
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Write the report to this file instead of standard output. With several --format "
    "options, give one --output each, in the same order.",
)
@_gate_options
@click.option(
    "--engine",
    type=click.Choice(list(ENGINE_CHOICES)),
    default="auto",
    show_default=True,
    help="What decides which rules fire: durable_rules, or the plain-Python reference evaluator; "
    "auto: durable_rules where it loads (compliance --version says), else the reference "
    "evaluator, named in the report and on stderr. An explicit durable that cannot load exits 6.",
)
@click.option(
    "--cross-check",
    "cross_check",
    type=click.Choice(list(CROSS_CHECKS)),
    default="fired",
    show_default=True,
    help="With the durable engine, how much the reference evaluator checks it: fired (the rules "
    "the engine fired, which it also explains), sample (every rule, on one proposal in 32 by a "
    "hash of its id), full (every rule on every proposal). A disagreement fails the run (exit 6).",
)
@click.option(
    "--brief",
    is_flag=True,
    help="Shorten the text report to each proposal's decision and its findings in a line each, "
    "worst first, and the count of decisions.",
)
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="Say only what fails: the text report leaves out approved proposals (and is empty when "
    "none fails); no line on stderr about the files written. Other formats are unchanged; "
    "warnings and errors still print.",
)
@click.option(
    "--no-fail",
    is_flag=True,
    help="Report without gating: exit 0 whatever the decisions (for a rollout). Invalid input "
    "(2) and internal errors (6) still fail.",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help=f"Processes that review a large batch ({batch.PARALLEL_MIN} proposals or more) at once "
    "(default: one per core; 1: in this process). Results do not depend on it.",
)
@click.option(
    "--source-root",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="SARIF: the directory input files are given relative to (%SRCROOT%, for code "
    "scanning: the repository root). Default: the current directory. A file outside it is "
    "an absolute file:// URI.",
)
@click.option(
    "--redact",
    "redact",
    metavar="PROFILE",
    default=None,
    help="Replace the proposals' free text (names, recipients, purposes, titles...) by "
    "placeholders such as [party 2] in every report and decision record. default: all free "
    "text; other profiles are [redaction.profiles.NAME] in the config.",
)
@_selection_options
@_rules_option
@_config_options
def review(
    paths: tuple[str, ...],
    formats: tuple[str, ...],
    outputs: tuple[Path, ...],
    fail_on: tuple[str, ...],
    waivers_file: Path | None,
    record_dir: Path | None,
    as_of: datetime.datetime | None,
    engine: EngineChoice,
    cross_check: CrossCheck,
    no_fail: bool,
    brief: bool,
    quiet: bool,
    jobs: int | None,
    source_root: Path | None,
    redact: str | None,
    domains: tuple[str, ...],
    only_rules: tuple[str, ...],
    skip_rules: tuple[str, ...],
    rule_dirs: tuple[Path, ...],
    config_path: Path | None,
    no_config: bool,
) -> int:
    """Review proposals and gate on the result. PATHS are JSON files (one proposal or a list),
    JSON Lines, - for stdin, workbooks made from the template, or directories of these.

    Exit code 0 when every proposal is approved (with or without conditions), 3 when any is
    rejected, 4 when any needs information. A narrowed selection (--domain, --rule, --skip-rule,
    rules disabled in the config) is recorded in the report: the decision covers only the rules
    that ran. Waived findings are reported but do not gate.
    """
    targets = _targets(formats, outputs)
    if brief and "text" not in dict(targets):
        raise UsageError("--brief shortens the text report; add --format text")
    config, loaded, ruleset = _load_all(
        rule_dirs, config_path, no_config, domains=domains, only=only_rules, skip=skip_rules
    )
    run = _settings(config, loaded, ruleset, fail_on, waivers_file, record_dir, as_of)
    ruleset = tuning.in_force(ruleset, run.as_of.value)  # the rules of the judgment day
    redaction = None
    if redact is not None:
        from compliance.reports.redact import Redactor, profile_named
        from compliance.reports.redact_check import public_text

        redaction = Redactor(profile_named(redact, config.redaction_profiles), public_text(loaded))
    with Reviewer(
        ruleset,
        engine=engine,
        threshold=run.thresholds.value,
        waivers=run.waivers,
        cross_check=cross_check,
        redaction=redaction,
    ) as reviewer:
        if reviewer.fallback is not None:
            click.echo(f"engine: the reference evaluator decides ({reviewer.fallback})", err=True)
        recording = run.record_dir.value
        from compliance.reports.progress import on_terminal

        with on_terminal(enabled=not quiet):
            report, result, head = review_batch(
                reviewer,
                list(paths),
                targets,
                jobs,
                lambda fmt, whole, names: _render(
                    fmt, whole, ruleset, dict(targets)[fmt], source_root, names
                ),
                None if recording is None else lambda bodies: records.append(recording, bodies),
                brief=brief,
                failing_only=quiet,
            )
    if head is not None:
        click.echo(head.notice(), err=True)
    # Only for a day given with --as-of: a run without it that crosses midnight UTC judged as
    # of the day it started, which is no news.
    if as_of is not None and run.as_of.value != datetime.datetime.now(datetime.timezone.utc).date():
        click.echo(
            f"--as-of {run.as_of.value}: the rules in force and the waivers were judged as of "
            "that day, not today; the decisions hold for that day",
            err=True,
        )
    if report.waivers is not None:
        for use in report.waivers.waivers:
            if use.status in ("unused", "expired"):
                what = (
                    "matched no finding"
                    if use.status == "unused"
                    else (f"expired on {use.expires}; its findings are open again")
                )
                click.echo(f"waiver {use.id} ({use.rule_id}, {use.proposal_id}): {what}", err=True)
    gate = exit_code(d for d, n in result.decisions.items() if n)
    code = gate
    if no_fail and gate is not ExitCode.PASSED:
        click.echo(f"--no-fail: not gating (the decisions would exit {int(gate)})", err=True)
        code = ExitCode.PASSED
    files = [str(out) for _, out in targets if out is not None]
    if files and not quiet:
        click.echo(written_line(files, decision_counts(report.summary), int(code)), err=True)
    return int(code)


@cli.group("config")
def config_group() -> None:
    """The project configuration."""


@config_group.command("show")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@_gate_options
@_selection_options
@_rules_option
@_config_options
def config_show(
    fmt: str,
    fail_on: tuple[str, ...],
    waivers_file: Path | None,
    record_dir: Path | None,
    as_of: datetime.datetime | None,
    domains: tuple[str, ...],
    only_rules: tuple[str, ...],
    skip_rules: tuple[str, ...],
    rule_dirs: tuple[Path, ...],
    config_path: Path | None,
    no_config: bool,
) -> int:
    """Print the configuration a review would use (given the same options) and where each value
    comes from: the command line, an environment variable, the config file, or the default.
    Everything is validated as for a review (rules, config, waivers)."""
    config, loaded, ruleset = _load_all(
        rule_dirs, config_path, no_config, domains=domains, only=only_rules, skip=skip_rules
    )
    run = _settings(config, loaded, ruleset, fail_on, waivers_file, record_dir, as_of)
    rows = run.rows(config, tuning.in_force(ruleset, run.as_of.value))
    if fmt == "json":
        click.echo(json.dumps({"settings": rows}, indent=2, ensure_ascii=False))
        return int(ExitCode.PASSED)
    width = max(len(r["name"]) for r in rows)
    for row in rows:
        click.echo(f"{row['name']:<{width}}  {_shown(row['value'])}  [{row['origin']}]")
    return int(ExitCode.PASSED)


def _shown(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return "; ".join(str(v) for v in value) if value else "(none)"
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items()) if value else "(none)"
    return str(value)


class FiniteRange(click.FloatRange):
    """A number of seconds or MiB: FloatRange, refusing nan (which passes every bound, since
    comparisons with it are false) and infinity."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


def _limit(name: str, minimum: float, default: float, help: str) -> Callable[[F], F]:
    """A service limit: a finite number at least ``minimum``, its default shown."""
    return click.option(
        name, type=FiniteRange(min=minimum), default=default, show_default=True, help=help
    )


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Review worker processes (a worker that crashes is replaced; its request fails).",
)
@click.option(
    "--decision-log",
    metavar="PATH|URL",
    help="Where every review served is recorded: a SQLite file, or a postgresql:// URL "
    "(default: [service] decision_log in the config, else compliance-decisions.sqlite).",
)
@_limit(
    "--timeout",
    1,
    60.0,
    "Seconds a review may take; past it the worker is stopped and the request fails (504).",
)
@_limit(
    "--head-timeout",
    0.1,
    10.0,
    "Seconds a client has to send each request's head (line "
    "and headers); past it: 408 and the connection is closed.",
)
@_limit(
    "--body-timeout",
    0.1,
    30.0,
    "Seconds a request's body may take to arrive after its head; past it: 408.",
)
@_limit("--max-body-mb", 0.001, 20.0, "Largest request body accepted, in MiB (larger: 413).")
@click.option(
    "--max-proposals",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Most proposals reviewed in one request.",
)
@click.option(
    "--insecure-no-auth",
    is_flag=True,
    help="Serve without tokens; refused unless --host is a loopback address.",
)
@click.option(
    "--engine",
    type=click.Choice(list(ENGINE_CHOICES)),
    default="auto",
    show_default=True,
    help="As for review; GET /healthz names the engine that runs.",
)
@_rules_option
@_config_options
def serve(
    host: str,
    port: int,
    workers: int,
    decision_log: str | None,
    timeout: float,
    head_timeout: float,
    body_timeout: float,
    max_body_mb: float,
    max_proposals: int,
    insecure_no_auth: bool,
    engine: EngineChoice,
    rule_dirs: tuple[Path, ...],
    config_path: Path | None,
    no_config: bool,
) -> int:
    """Serve reviews over HTTP (POST /v1/reviews, the decision log, rules and schema). Needs
    the serve extra (pip install 'compliance[serve]'). Tokens come from COMPLIANCE_API_TOKENS
    (name=token, comma-separated) or [[service.tokens]] in the config; see docs/service.md."""
    try:
        from compliance.service import serve as server
    except ImportError as exc:
        raise UsageError(
            f"the HTTP service needs the serve extra ({exc.name} is not installed): "
            "pip install 'compliance[serve]'"
        ) from None
    server.run(
        server.ServeOptions(
            host=host,
            port=port,
            workers=workers,
            decision_log=decision_log,
            timeout=timeout,
            head_timeout=head_timeout,
            body_timeout=body_timeout,
            max_body=int(max_body_mb * 1024 * 1024),
            max_proposals=max_proposals,
            no_auth=insecure_no_auth,
            config_path=config_path,
            no_config=no_config,
            rule_dirs=rule_dirs,
            engine=engine,
        )
    )
    return int(ExitCode.PASSED)


@cli.command()
@click.argument("paths", nargs=-1, required=True)
def validate(paths: tuple[str, ...]) -> int:
    """Check that proposals (JSON, workbooks, directories) are valid under the intake contract,
    without reviewing them."""
    from compliance.intake.proposals import read_proposals

    loaded = read_proposals(list(paths))
    click.echo(f"{len(loaded)} proposal{'s' if len(loaded) != 1 else ''} valid")
    return int(ExitCode.PASSED)


@cli.command("verify-records")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--expect-record",
    "expect_records",
    multiple=True,
    metavar="SEQ:SHA256",
    help="A head kept from an earlier run (review --record prints it): record SEQ must still "
    "have this hash; records may follow it. Repeatable.",
)
@click.option(
    "--witness",
    "witness_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A file kept outside DIRECTORY holding an earlier head (a copy of DIRECTORY/HEAD, or "
    "SEQ:sha256:HEX); checked as --expect-record.",
)
@click.option(
    "--expect-head",
    metavar="SEQ:SHA256",
    help="The head the chain must end at exactly: no record cut from its end, none added since.",
)
def verify_records(
    directory: Path,
    expect_records: tuple[str, ...],
    witness_file: Path | None,
    expect_head: str | None,
) -> int:
    """Check the hash chain of the decision records in DIRECTORY (written by review --record):
    exit 0 when intact, 2 naming the first record that was edited, removed or added, or the
    witness (a head kept elsewhere) the chain no longer holds."""
    from compliance.gate import record_witness

    witnesses = record_witness.from_options(expect_head, expect_records, witness_file)
    verdict = records.verify(directory, witnesses)
    if verdict.problem is not None:
        raise InputError(verdict.message())
    click.echo(records.intact(directory, verdict, witnesses))
    return int(ExitCode.PASSED)


LAYOUT_CHOICE = click.Choice([layout.value for layout in Layout])


@cli.command()
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--layout",
    type=LAYOUT_CHOICE,
    default=Layout.single.value,
    show_default=True,
    help="single: one proposal per workbook (a folder of them reviews many); register: one row "
    "per proposal in one workbook.",
)
@click.option("--force", is_flag=True, help="Overwrite OUTPUT if it exists.")
def template(output: Path, layout: str, force: bool) -> int:
    """Write a blank proposal workbook for a legal team to fill in (generated from the intake
    contract, with drop-downs and guidance)."""
    from compliance.workbook.write import build, to_bytes

    _write(to_bytes(build(Layout(layout))), _new_file(output, force))
    click.echo(f"wrote {output} ({layout} layout, template version {TEMPLATE_VERSION})")
    return int(ExitCode.PASSED)


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.argument("output", type=click.Path(path_type=Path))
@click.option(
    "--layout",
    type=LAYOUT_CHOICE,
    help="single or register (default: single for one proposal, register for several). With "
    "single and several proposals, OUTPUT is a directory that gets one workbook per proposal.",
)
@click.option("--force", is_flag=True, help="Overwrite workbooks that exist.")
def export(paths: tuple[str, ...], output: Path, layout: str | None, force: bool) -> int:
    """Fill the workbook template with proposals read from PATHS (JSON or workbooks) and write
    it to OUTPUT."""
    from compliance.intake.proposals import read_proposals
    from compliance.workbook.write import build, to_bytes

    proposals = [item.proposal for item in read_proposals(list(paths))]
    chosen = Layout(layout) if layout else Layout.single
    if layout is None and len(proposals) > 1:
        chosen = Layout.register
    if chosen is Layout.single and (len(proposals) > 1 or output.is_dir()):
        if not output.is_dir() and (output.exists() or output.suffix):
            raise UsageError(
                f"{output}: {len(proposals)} proposals in the single layout need a directory "
                "(one workbook each), or use --layout register"
            )
        targets = [_new_file(output / f"{p.id}.xlsx", force) for p in proposals]
        books = [to_bytes(build(chosen, [p])) for p in proposals]  # all or nothing
        output.mkdir(parents=True, exist_ok=True)
        for book, target in zip(books, targets, strict=True):
            _write(book, target)
        click.echo(f"wrote {counted(len(targets), 'workbook')} in {output}")
        return int(ExitCode.PASSED)
    _write(to_bytes(build(chosen, proposals)), _new_file(output, force))
    plural = "s" if len(proposals) != 1 else ""
    click.echo(f"wrote {output} ({len(proposals)} proposal{plural}, {chosen.value} layout)")
    return int(ExitCode.PASSED)


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--layout",
    type=LAYOUT_CHOICE,
    help="For a workbook OUTPUT: single or register (default: the layout of the input "
    "workbook; else single for one proposal, register for several).",
)
@click.option("--force", is_flag=True, help="Overwrite OUTPUT if it exists.")
def upgrade(paths: tuple[str, ...], output: Path, layout: str | None, force: bool) -> int:
    """Rewrite contract v1 proposals read from PATHS (JSON, workbooks, directories) in their
    contract v2 form, nothing lost, into OUTPUT: JSON (.json: an object for one proposal, a list
    for several), JSON Lines (.jsonl) or a v2 workbook (.xlsx). Messages go to stderr."""
    from compliance.proposal import upgrade as upgrading

    upgrading.output_kind(output)
    target = _new_file(output, force)
    result = upgrading.upgrade(list(paths), output, Layout(layout) if layout else None)
    _write(result.content, target)
    for note in result.notes:
        click.echo(note, err=True)
    plural = "s" if result.proposals != 1 else ""
    shape = f", {result.layout.value} layout" if result.layout else ""
    click.echo(
        f"wrote {output} ({result.proposals} proposal{plural}, contract v{SCHEMA_VERSION}{shape})",
        err=True,
    )
    return int(ExitCode.PASSED)


@cli.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the schema to this file.",
)
@click.option("--report", is_flag=True, help="Print the schema of the JSON report instead.")
def schema(output: Path | None, report: bool) -> int:
    """Print the JSON Schema of a proposal (or of the JSON report), generated from the models."""
    from compliance import docgen

    payload = docgen.report_schema() if report else docgen.proposal_schema()
    _write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", output)
    return int(ExitCode.PASSED)


@cli.command()
@click.argument(
    "directory", required=False, type=click.Path(file_okay=False, path_type=Path), default="docs"
)
@click.option("--check", is_flag=True, help="Only check that the documents are up to date.")
def docs(directory: Path, check: bool) -> int:
    """Write the documents generated from the code (schemas, field reference) into DIRECTORY
    (default: docs). With --check, write nothing and exit 2 if any is missing or stale."""
    from compliance import docgen

    stale = docgen.write(directory, check=check)
    if check and stale:
        for name in stale:
            click.echo(f"stale: {directory / name} (run: compliance docs {directory})")
        return int(ExitCode.INVALID_INPUT)
    verb = "checked" if check else "wrote"
    click.echo(f"{verb} {len(docgen.documents())} documents in {directory}")
    return int(ExitCode.PASSED)


@cli.group()
def rules() -> None:
    """Inspect and test the rule set."""


@rules.command("list")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option(
    "--domain", "domains", multiple=True, metavar="DOMAIN", help="Only this domain (repeatable)."
)
@click.option(
    "--severity",
    "severities",
    multiple=True,
    type=SEVERITY_CHOICE,
    help="Only rules of this severity (repeatable).",
)
@_rules_option
@_config_options
def rules_list(
    fmt: str,
    domains: tuple[str, ...],
    severities: tuple[str, ...],
    rule_dirs: tuple[Path, ...],
    config_path: Path | None,
    no_config: bool,
) -> int:
    """List the rules a review would run (after the config's disables and severity changes)."""
    ruleset = _load(rule_dirs, config_path, no_config, domains=domains)
    wanted = {s.lower() for s in severities}
    shown = [r for r in ruleset.rules if not wanted or r.severity.value in wanted]
    if fmt == "json":
        from compliance.rules.docs import rule_summary

        payload = {
            "rule_set": ruleset.identity(),
            "rules": [rule_summary(rule, ruleset) for rule in shown],
            "disabled": [
                {"rule_id": d.rule_id, "reason": d.reason, "origin": d.origin}
                for d in (ruleset.tuning.disabled if ruleset.tuning else ())
            ],
        }
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return int(ExitCode.PASSED)
    width = max((len(r.id) for r in shown), default=2)
    from compliance.rules.docs import dates_note, released_text

    for rule in shown:
        grade = rule.severity.value + ("*" if rule.override is not None else "")
        dates = dates_note(rule)
        click.echo(f"{rule.id:<{width}}  {grade:<8} {rule.domain:<24}  {rule.title}{dates}")
    click.echo(
        f"{counted(len(shown), 'rule')} ({ruleset.name} {ruleset.version}{released_text(ruleset)})"
    )
    if any(r.override is not None for r in shown):
        click.echo("* severity changed by the project config (see: compliance rules show ID)")
    if ruleset.tuning is not None:
        for d in ruleset.tuning.disabled:
            click.echo(f"disabled by {d.origin}: {d.rule_id} ({d.reason})")
    return int(ExitCode.PASSED)


@rules.command("show")
@click.argument("rule_id", metavar="ID")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@_rules_option
@_config_options
def rules_show(
    rule_id: str,
    fmt: str,
    rule_dirs: tuple[Path, ...],
    config_path: Path | None,
    no_config: bool,
) -> int:
    """Print one rule in full: when it applies, what it checks, its message, remediation,
    references and examples."""
    config = resolve_config(config_path, use=not no_config)
    loaded = load_rules(_directories(config.rule_dirs, rule_dirs), builtin=config.builtin)
    tuning.apply(loaded, config.selection())  # the config must be valid, as for a review
    ruleset = tuning.apply(loaded, replace(config.selection(), disabled=()))
    wanted = rule_id.strip().upper()  # ids are upper case; accept what a user types
    rule = next((r for r in ruleset.rules if r.id.upper() == wanted), None)
    if rule is None:
        hint = tuning.did_you_mean(wanted, [r.id for r in ruleset.rules])
        raise UsageError(f"{rule_id}: no such rule{hint}; see: compliance rules list")
    disabled = next((d for d in config.disabled if d.rule_id == rule.id), None)
    from compliance.rules.docs import rule_summary, show_text

    if fmt == "json":
        payload = rule_summary(rule, ruleset, full=True)
        payload["disabled"] = (
            None if disabled is None else {"reason": disabled.reason, "origin": disabled.origin}
        )
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return int(ExitCode.PASSED)
    text = show_text(rule, ruleset)
    if disabled is not None:
        text += f"\nDisabled by {disabled.origin}: {disabled.reason}\n"
    click.echo(text, nl=False)
    return int(ExitCode.PASSED)


@rules.command("coverage")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@_rules_option
@_config_options
def rules_coverage(
    fmt: str, rule_dirs: tuple[Path, ...], config_path: Path | None, no_config: bool
) -> int:
    """For each framework in the rule directories' catalogues (frameworks.yaml), its requirements
    and the rules a review would run that check each one, or why it is out of scope. Exit 5 if a
    requirement has neither, or a rule covers nothing."""
    from compliance.rules import coverage

    matrix = coverage.matrix(_load(rule_dirs, config_path, no_config))
    if fmt == "json":
        click.echo(coverage.render_json(matrix), nl=False)
        for problem in matrix.problems:
            click.echo(f"problem: {problem}", err=True)
    else:
        click.echo(coverage.render_text(matrix), nl=False)
    return int(ExitCode.RULES_ERROR if matrix.problems else ExitCode.PASSED)


@rules.command("impact")
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--baseline",
    "baseline_dirs",
    multiple=True,
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A rule directory of the rule set before the change (repeatable: the directories "
    "together, in order, are the baseline; the built-in rules are not added to it).",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to this file instead of standard output.",
)
@click.option(
    "--fail-on",
    "fail_on",
    multiple=True,
    metavar="SEVERITY|DOMAIN=SEVERITY",
    help="The gate threshold both rule sets decide with, as for review.",
)
@click.option(
    "--waivers",
    "waivers_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A waivers file applied under both rule sets, as for review.",
)
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The judgment day, YYYY-MM-DD, as for review: waiver expiry and (unless "
    "--in-force-on) the rules in force.",
)
@click.option(
    "--in-force-on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Compare the rules in force on this day, YYYY-MM-DD, in both rule sets; it may be "
    "after today, to see what a rule adopted for a later day will change (default: the "
    "judgment day).",
)
@click.option(
    "--engine", type=click.Choice(list(ENGINE_CHOICES)), default="auto", help="As for review."
)
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="As for review.")
@_selection_options
@_rules_option
@_config_options
def rules_impact(
    paths: tuple[str, ...],
    baseline_dirs: tuple[Path, ...],
    fmt: str,
    output: Path | None,
    fail_on: tuple[str, ...],
    waivers_file: Path | None,
    as_of: datetime.datetime | None,
    in_force_on: datetime.datetime | None,
    engine: EngineChoice,
    jobs: int | None,
    domains: tuple[str, ...],
    only_rules: tuple[str, ...],
    skip_rules: tuple[str, ...],
    rule_dirs: tuple[Path, ...],
    config_path: Path | None,
    no_config: bool,
) -> int:
    """Review PATHS (as review reads them) with a baseline rule set and with the current rules
    and configuration, and report what the change does: per proposal the decision before and
    after and the findings added, removed or graded differently; per rule the proposals it newly
    fires or stops firing on; totals by decision change. A report, not a gate: exit 0 unless
    the input is invalid."""
    from compliance.review import impact, impact_render

    if output is not None:
        _writable(output)
    config, loaded, ruleset = _load_all(
        rule_dirs, config_path, no_config, domains=domains, only=only_rules, skip=skip_rules
    )
    run = _settings(config, loaded, ruleset, fail_on, waivers_file, None, as_of)
    selection = config.selection(domains, only_rules, skip_rules)
    report, fallback = impact.run(
        ruleset,
        run,
        baseline_dirs,
        selection,
        paths,
        engine=engine,
        jobs=jobs,
        in_force_on=in_force_on.date() if in_force_on is not None else None,
    )
    if fallback is not None:
        click.echo(f"engine: the reference evaluator decides ({fallback})", err=True)
    _write(impact_render.render(fmt, report), output)
    return int(ExitCode.PASSED)


@rules.command("docs")
@click.argument(
    "directory", required=False, type=click.Path(file_okay=False, path_type=Path), default="docs"
)
@click.option("--check", is_flag=True, help="Only check that the file is up to date.")
def rules_docs(directory: Path, check: bool) -> int:
    """Write the rules reference (DIRECTORY/rules.md, default docs/) from the built-in rule files.
    With --check, write nothing and exit 2 if it is missing or stale."""
    from compliance import docgen
    from compliance.rules.docs import RULES_DOC

    stale = docgen.write(directory, check=check, only=[RULES_DOC])
    target = directory / RULES_DOC
    if check and stale:
        click.echo(f"stale: {target} (run: compliance rules docs {directory})")
        return int(ExitCode.INVALID_INPUT)
    click.echo(f"{'checked' if check else 'wrote'} {target}")
    return int(ExitCode.PASSED)


@rules.command("test")
@click.argument("directories", nargs=-1, type=click.Path(file_okay=False, path_type=Path))
def rules_test(directories: tuple[Path, ...]) -> int:
    """Run every rule's examples (default: the built-in rules) with both engines."""
    ruleset = load_rules(list(directories), builtin=not directories)
    from compliance.rules.examples import run_examples

    results = run_examples(ruleset)
    failed = [r for r in results if r.problem]
    for result in failed:
        click.echo(f"FAIL {result.label}: {result.problem}")
    where = ", ".join(str(d) for d in directories) or str(builtin_rules_dir().name)
    click.echo(
        f"{counted(len(ruleset.rules), 'rule')}, {counted(len(results), 'example')} in {where}: "
        + (f"{len(failed)} failed" if failed else "all passed")
    )
    return int(ExitCode.RULES_ERROR if failed else ExitCode.PASSED)


def _debug() -> bool:
    return os.environ.get("COMPLIANCE_DEBUG", "") not in ("", "0")


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Entry point: run the command and exit with its code, failing closed on any error."""
    envvars.attach(cli)  # again: a command added since this module was imported
    # openpyxl warns about workbook features it drops on reading (data-validation extensions,
    # slicers, ...): nothing intake reads, and noise in a report's stderr.
    warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
    try:
        code = cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="compliance",
            standalone_mode=False,
        )
    except click.exceptions.Exit as exc:  # --help, --version
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(int(ExitCode.INVALID_INPUT))
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(int(ExitCode.INTERNAL_ERROR))
    except ComplianceError as exc:
        for line in exc.problems:
            click.echo(f"error: {line}", err=True)
        sys.exit(int(exc.exit_code))
    except BrokenPipeError:
        sys.stderr.close()
        sys.exit(int(ExitCode.INTERNAL_ERROR))
    except Exception as exc:
        click.echo(f"internal error: {type(exc).__name__}: {exc}", err=True)
        if _debug():
            traceback.print_exc()
        else:
            click.echo("(set COMPLIANCE_DEBUG=1 for the traceback)", err=True)
        sys.exit(int(ExitCode.INTERNAL_ERROR))
    if not isinstance(code, int):
        sys.exit(int(ExitCode.INTERNAL_ERROR))
    sys.exit(code)


envvars.attach(cli)  # every command of this module is defined by now
