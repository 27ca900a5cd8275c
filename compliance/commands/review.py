"""``compliance review``: review proposals, write the reports asked for, and gate on the result."""

from __future__ import annotations

import datetime
from pathlib import Path

import click

from compliance.batch import windows as batch
from compliance.batch.run import review_batch
from compliance.commands.loading import load_all, run_settings
from compliance.commands.options import (
    config_options,
    engine_option,
    gate_options,
    jobs_option,
    rules_option,
    selection_options,
)
from compliance.errors import UsageError
from compliance.exitcodes import ExitCode
from compliance.gate import records
from compliance.reports.output import writable
from compliance.reports.summary import decision_counts, written_line
from compliance.review.decision import exit_code
from compliance.review.findings import Report
from compliance.review.reviewer import CROSS_CHECKS, CrossCheck, EngineChoice, Reviewer
from compliance.rules import tuning
from compliance.rules.ruleset import RuleSet

FORMATS = ("text", "json", "jsonl", "markdown", "junit", "sarif", "html", "xlsx")


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
            writable(out)
    return pairs


def _render(
    fmt: str,
    report: Report,
    ruleset: RuleSet,
    output: Path | None = None,
    source_root: Path | None = None,
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

        return render_html(report, ruleset.domain_title)
    from compliance.reports.text import render

    return render(report, ruleset.domain_title)


@click.command()
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
@gate_options
@engine_option(
    "What decides which rules fire: durable_rules, or the plain-Python reference evaluator; "
    "auto: durable_rules where it loads (compliance --version says), else the reference "
    "evaluator, named in the report and on stderr. An explicit durable that cannot load exits 6."
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
@jobs_option(
    f"Processes that review a large batch ({batch.PARALLEL_MIN} proposals or more) at once "
    "(default: one per core; 1: in this process). Results do not depend on it."
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
@selection_options
@rules_option
@config_options
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
    config, loaded, ruleset = load_all(
        rule_dirs, config_path, no_config, domains=domains, only=only_rules, skip=skip_rules
    )
    run = run_settings(config, loaded, ruleset, fail_on, waivers_file, record_dir, as_of)
    ruleset = tuning.in_force(ruleset, run.as_of.value)  # the rules of the judgment day
    redaction = None
    if redact is not None:
        from compliance.reports.redact_check import public_text
        from compliance.review.redact import Redactor, profile_named

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
        from compliance.batch.progress import on_terminal

        with on_terminal(enabled=not quiet):
            report, result, head = review_batch(
                reviewer,
                list(paths),
                targets,
                jobs,
                lambda fmt, whole: _render(fmt, whole, ruleset, dict(targets)[fmt], source_root),
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
