"""``compliance serve``: build the service from the project config and run it on uvicorn.

Kept apart from :mod:`compliance.cli` because FastAPI and uvicorn are the optional ``serve``
extra: the CLI imports this module only when asked to serve.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import uvicorn

from compliance.errors import UsageError
from compliance.gate.config import resolve_config
from compliance.rules import durable as durable_engine
from compliance.rules import tuning
from compliance.rules.load import load_rules
from compliance.service import auth as http_auth
from compliance.service.app import Service, create_app, with_limits
from compliance.service.decision_log import open_log
from compliance.service.protocol import head_deadline
from compliance.service.workers import ServiceConfig, started
from compliance.words import counted

DEFAULT_LOG = "compliance-decisions.sqlite"


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2
    decision_log: str | None = None
    timeout: float = 60.0
    head_timeout: float = 10.0
    body_timeout: float = 30.0
    max_body: int = 20 * 1024 * 1024
    max_proposals: int = 1000
    no_auth: bool = False
    config_path: Path | None = None
    no_config: bool = False
    rule_dirs: tuple[Path, ...] = ()
    engine: Literal["auto", "durable", "reference"] = "auto"
    keep_proposals: bool = False


def build(options: ServeOptions) -> Service:
    """The service: tokens checked, rules loaded, workers started, decision log open. Any
    problem is a :class:`ComplianceError` before the port is bound."""
    project = resolve_config(options.config_path, use=not options.no_config)
    tokens = http_auth.merge(
        http_auth.parse_env(os.environ.get(http_auth.ENV_TOKENS, "")),
        http_auth.parse_config(list(project.service_tokens), project.label or "config"),
    )
    if options.no_auth:
        if not http_auth.is_loopback(options.host):
            raise UsageError(
                f"--insecure-no-auth is allowed only on a loopback address (127.0.0.1, ::1), "
                f"not {options.host}: anyone who can reach the port could use the service"
            )
    elif not tokens:
        raise UsageError(
            f"no API tokens: set {http_auth.ENV_TOKENS}=name=token (16 characters or more) or "
            "[[service.tokens]] in compliance.toml; or, on 127.0.0.1 only, --insecure-no-auth"
        )
    # Before any worker starts: an explicit durable that cannot load fails here (exit 6).
    engine, fallback = durable_engine.resolve(options.engine)
    if fallback is not None:
        logging.getLogger("compliance.http").warning(
            "the reference evaluator decides: %s", fallback
        )
    loaded = load_rules([*project.rule_dirs, *options.rule_dirs], builtin=project.builtin)
    ruleset = tuning.apply(loaded, project.selection())
    target = options.decision_log or project.decision_log or DEFAULT_LOG
    decisions = open_log(target)
    keep = options.keep_proposals or project.keep_proposals
    if keep:
        logging.getLogger("compliance.http").warning(
            "the decision log %s keeps every reviewed proposal (personal data)", decisions.store
        )
    config = ServiceConfig(
        config_path=options.config_path,
        no_config=options.no_config,
        rule_dirs=options.rule_dirs,
        engine=engine,
        max_proposals=options.max_proposals,
        keep_proposals=keep,
    )
    try:
        pool = started(config, options.workers)
    except BaseException:
        decisions.close()
        raise
    return Service(
        pool=pool,
        decisions=decisions,
        tokens=tokens,
        ruleset=ruleset,
        auth=not options.no_auth,
        max_body=options.max_body,
        timeout=options.timeout,
        body_timeout=options.body_timeout,
    )


def run(options: ServeOptions) -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(name)s: %(message)s")
    service = build(options)
    app = with_limits(create_app(service), service)
    auth = (
        "off (loopback only)" if options.no_auth else counted(len(service.tokens.by_name), "token")
    )
    logging.getLogger("compliance.http").info(
        "serving on %s:%d: %s, auth %s",
        options.host,
        options.port,
        counted(options.workers, "worker"),
        auth,
    )
    try:
        uvicorn.run(
            app,
            host=options.host,
            port=options.port,
            log_level="info",
            access_log=True,
            http=head_deadline(options.head_timeout),
            timeout_graceful_shutdown=10,
        )
    finally:
        service.pool.close()
        service.decisions.close()
