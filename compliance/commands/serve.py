"""``compliance serve``: reviews over HTTP, with the service's limits as options."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from compliance.commands.options import F, config_options, engine_option, rules_option
from compliance.errors import UsageError
from compliance.exitcodes import ExitCode
from compliance.review.reviewer import EngineChoice


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


@click.command()
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
    "--keep-proposals",
    is_flag=True,
    help="Keep each reviewed proposal in the decision log, for rules impact --decision-log: "
    "the log then holds personal data (also [service] keep_proposals; never from the "
    "environment).",
)
@engine_option("As for review; GET /healthz names the engine that runs.")
@rules_option
@config_options
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
    keep_proposals: bool,
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
            keep_proposals=keep_proposals,
            config_path=config_path,
            no_config=no_config,
            rule_dirs=rule_dirs,
            engine=engine,
        )
    )
    return int(ExitCode.PASSED)
