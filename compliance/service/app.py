"""The HTTP review service: the CLI's review over HTTP, for workflow tools.

A thin layer: it authenticates, reads the request within limits, hands the review to a worker
process (:mod:`compliance.service.workers`), commits a decision record
(:mod:`compliance.service.decision_log`) and only then answers. Every failure answers with a JSON
error body and never with a decision; a review that could not complete approves nothing.

Endpoints (``/openapi.json`` describes them):

- ``POST /v1/reviews``: a JSON proposal, a list of them or JSON Lines (``application/json``), a
  workbook (the body, as ``application/vnd.openxmlformats-officedocument.spreadsheetml.sheet``),
  or either as a ``multipart/form-data`` upload in the field ``file``. Query options as on the
  command line: ``fail_on`` (``high`` or ``data_sharing=medium``, repeatable), ``domain``,
  ``rule``, ``skip_rule``. Answers the JSON report of ``compliance review --format json``, with
  the decision in ``X-Compliance-Decision`` (the worst of the batch), the exit code the CLI would
  give in ``X-Compliance-Exit-Code`` and the record's id in ``X-Compliance-Decision-Id``.
- ``GET /v1/decisions/{id}``, ``GET /v1/decisions``: the decision log.
- ``GET /v1/rules``, ``GET /v1/rules/{id}``, ``GET /v1/schema``.
- ``GET /healthz`` (the process answers) and ``GET /readyz`` (workers and decision log ready):
  no token needed, and they reveal nothing about reviews.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import anyio
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from compliance import __version__, docgen
from compliance.errors import ComplianceError, InputError, UsageError
from compliance.exitcodes import ExitCode
from compliance.review.findings import Decision
from compliance.rules.docs import rule_summary
from compliance.rules.ruleset import RuleSet
from compliance.service import models as out
from compliance.service import openapi as api
from compliance.service.auth import Tokens
from compliance.service.decision_log import DecisionLog, DecisionRecord, new_id
from compliance.service.models import ErrorCode, error_body
from compliance.service.workers import JobTimeout, NoWorker, ReviewJob, WorkerCrashed, WorkerPool

log = logging.getLogger("compliance.http")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

WORKBOOK_TYPES = frozenset(
    {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-excel.sheet.macroenabled.12",
    }
)
JSON_TYPES = frozenset({"application/json", "application/x-ndjson", "application/jsonl"})
WORKBOOK_SUFFIXES = frozenset({".xlsx", ".xlsm"})
NAMED_SUFFIXES = WORKBOOK_SUFFIXES | {".json", ".jsonl", ".ndjson"}


@dataclass
class Service:
    """Everything a request needs; made once by ``compliance serve``."""

    pool: WorkerPool
    decisions: DecisionLog
    tokens: Tokens
    ruleset: RuleSet
    """The rules as loaded (for /v1/rules); reviews run in the workers."""
    auth: bool = True
    max_body: int = 20 * 1024 * 1024
    timeout: float = 60.0
    body_timeout: float = 30.0
    """Seconds a request body may take to arrive after its head (408 past it)."""
    queue_timeout: float = 60.0
    """How long a request waits for a free worker (one may be restarting after a crash)."""


class ServiceError(Exception):
    def __init__(
        self,
        status: int,
        code: ErrorCode,
        problems: list[str],
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(problems[0] if problems else code)
        self.status = status
        self.code = code
        self.problems = problems
        self.headers = headers or {}


def _error_response(exc: ServiceError) -> JSONResponse:
    return JSONResponse(
        error_body(exc.status, exc.code, exc.problems), status_code=exc.status, headers=exc.headers
    )


class BodyLimit:
    """ASGI middleware: a request body larger than ``limit`` bytes is refused with 413, whether
    it declares its length or streams in chunks, before anything reads it whole; one that has
    not fully arrived ``body_timeout`` seconds after its head is refused with 408 (a stalled
    or trickling client would otherwise hold its connection for ever)."""

    def __init__(
        self,
        app: Callable[[Scope, Receive, Send], Awaitable[None]],
        limit: int,
        body_timeout: float = 30.0,
    ) -> None:
        self.app = app
        self.limit = limit
        self.body_timeout = body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_big = ServiceError(
            413,
            "payload_too_large",
            [f"the request body is larger than this service accepts ({self.limit} bytes)"],
        )
        names = [name for name, _ in scope.get("headers", [])]
        if b"transfer-encoding" in names and b"content-length" in names:
            # RFC 9112 6.3: a proxy in front may frame such a request differently (smuggling)
            await _error_response(
                ServiceError(
                    400,
                    "invalid_request",
                    ["a request may not carry both Transfer-Encoding and Content-Length"],
                )
            )(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.limit:
                    await _error_response(too_big)(scope, receive, send)
                    return
        seen = 0
        started = False
        body_done = False
        deadline = anyio.current_time() + self.body_timeout

        async def limited() -> Message:
            nonlocal seen, body_done
            if body_done:
                return await receive()  # after the body: a disconnect, never timed
            try:
                with anyio.fail_after(max(0.0, deadline - anyio.current_time())):
                    message = await receive()
            except TimeoutError:
                raise ServiceError(
                    408,
                    "request_timeout",
                    [
                        f"the request body did not arrive within {self.body_timeout:g} s "
                        f"({seen} bytes received)"
                    ],
                    {"Connection": "close"},
                ) from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise too_big
                body_done = not message.get("more_body", False)
            else:
                body_done = True
            return message

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited, watch)
        except ServiceError as exc:
            if started:
                raise
            await _error_response(exc)(scope, receive, send)


UNAUTHORIZED = ServiceError(
    401,
    "unauthorized",
    ["a valid bearer token is required (Authorization: Bearer <token>)"],
    {"WWW-Authenticate": 'Bearer realm="compliance"'},
)


class AuthGate:
    """ASGI middleware: every request under /v1 needs a valid bearer token, checked before the
    request is routed, its query validated or its body read. The token's name goes into the
    request's state (``client``) for the decision log. Several Authorization headers are
    refused: which one counts would depend on the proxy in front."""

    def __init__(
        self,
        app: Callable[[Scope, Receive, Send], Awaitable[None]],
        tokens: Tokens,
        required: bool,
    ) -> None:
        self.app = app
        self.tokens = tokens
        self.required = required

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not (
            scope["path"] == "/v1" or scope["path"].startswith("/v1/")
        ):
            await self.app(scope, receive, send)
            return
        who: str | None = "anonymous"
        if self.required:
            given = [v for k, v in scope.get("headers", []) if k == b"authorization"]
            who = None
            if len(given) == 1:
                who = self.tokens.who(given[0].decode("latin-1"))
            if who is None:
                await _error_response(UNAUTHORIZED)(scope, receive, send)
                return
        scope.setdefault("state", {})["client"] = who
        await self.app(scope, receive, send)


def _problems_status(exc: ComplianceError) -> tuple[int, ErrorCode]:
    if isinstance(exc, JobTimeout):
        return 504, "review_timeout"
    if isinstance(exc, (WorkerCrashed, NoWorker)):
        return 503, "review_unavailable"
    if exc.exit_code == ExitCode.INVALID_INPUT:
        return (400, "invalid_request") if isinstance(exc, UsageError) else (422, "invalid_input")
    if exc.exit_code == ExitCode.RULES_ERROR:
        return 500, "rules_error"
    return 500, "internal_error"


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _kind_of(name: str) -> str:
    return "workbook" if PurePath(name).suffix.lower() in WORKBOOK_SUFFIXES else "json"


MAX_NAME_BYTES = 120


def _safe_name(name: str | None, default: str) -> str:
    """An upload's file name without directories or control characters, at most
    ``MAX_NAME_BYTES`` bytes of UTF-8 with its suffix kept (it says JSON or workbook)."""
    base = PurePath((name or "").replace("\\", "/")).name
    base = "".join(
        ch
        for ch in base
        if ch.isprintable() and ch not in "/\x00" and not 0xD800 <= ord(ch) < 0xE000
    ).strip()
    if not base or base in (".", ".."):
        return default
    suffix = PurePath(base).suffix if len(PurePath(base).suffix.encode()) <= 10 else ""
    stem = base[: len(base) - len(suffix)] if suffix else base
    while len((stem + suffix).encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1]
    return (stem + suffix) if stem.strip(" .") else default


def _upload_name(filename: str | None, content_type: str | None) -> str:
    """A multipart file's name: a workbook by its suffix or, when the name does not say, by the
    part's Content-Type (the name then gets .xlsx, which the reader goes by)."""
    name = _safe_name(filename, "")
    part = (content_type or "").split(";")[0].strip().lower()
    if part in WORKBOOK_TYPES and PurePath(name).suffix.lower() not in NAMED_SUFFIXES:
        return (name or "upload") + ".xlsx"
    return name or "upload.json"


async def _read_input(request: Request) -> tuple[bytes, str, str]:
    """(body, kind, name) from a JSON body, a workbook body, or a multipart upload."""
    media = _media_type(request)
    if media == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=10)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise ServiceError(
                422, "invalid_input", ["multipart upload: no file in the field 'file'"]
            )
        name = _upload_name(upload.filename, upload.content_type)
        body = await upload.read()
        return body, _kind_of(name), name
    body = await request.body()
    if media in JSON_TYPES or media.endswith("+json"):
        return body, "json", "request.json"
    if media in WORKBOOK_TYPES:
        name = _safe_name(request.query_params.get("filename"), "upload.xlsx")
        if PurePath(name).suffix.lower() not in WORKBOOK_SUFFIXES:
            name += ".xlsx"
        return body, "workbook", name
    raise ServiceError(
        415,
        "unsupported_media_type",
        [
            f"Content-Type {media or '(none)'} is not accepted: send application/json, a "
            "workbook (application/vnd.openxmlformats-officedocument.spreadsheetml.sheet) or a "
            "multipart/form-data upload in the field 'file'"
        ],
    )


def _review_and_record(
    service: Service, job: ReviewJob, who: str, kind: str
) -> tuple[str, DecisionRecord]:
    """The review by a worker, then its record committed, in one trip off the event loop (each
    trip costs a hand-off to a thread and back). The thread, not the busy event loop, takes the
    worker's answer, so the worker is free for its next job at once. Raises what the response
    reports if the review did not complete."""
    result = service.pool.run(job, service.timeout, service.queue_timeout)
    if result.report_json is None or result.decision is None:
        if result.usage:
            raise UsageError(result.problems)
        error = ComplianceError(result.problems)
        error.exit_code = ExitCode(result.exit_code)
        raise error
    report = json.loads(result.report_json)
    record = DecisionRecord(
        id=new_id(),
        created_at=dt.datetime.now(dt.timezone.utc),
        client=who,
        input_sha256="sha256:" + hashlib.sha256(job.body).hexdigest(),
        input_kind=kind,
        rule_set_name=report["rule_set"]["name"],
        rule_set_version=report["rule_set"]["version"],
        rule_set_hash=report["rule_set"]["hash"],
        tool_version=report["tool_version"],
        decision=result.decision,
        exit_code=result.exit_code,
        proposals=result.proposals,
        report=report,
        report_json=result.report_json,  # stored as sent, not encoded again
        kept_proposals=result.kept_proposals,  # None unless the service keeps proposals
    )
    service.decisions.append(record)  # committed before the response is sent
    return result.report_json, record


def create_app(service: Service) -> FastAPI:
    app = FastAPI(
        title="compliance review service",
        version=__version__,
        description="Review partnership proposals against compliance and ethics rules. "
        "Send `Authorization: Bearer <token>` on every /v1 request.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    api.install(app, auth=service.auth)

    @app.exception_handler(ServiceError)
    async def service_error(_: Request, exc: ServiceError) -> JSONResponse:
        return _error_response(exc)

    @app.exception_handler(ComplianceError)
    async def compliance_error(_: Request, exc: ComplianceError) -> JSONResponse:
        status, code = _problems_status(exc)
        return _error_response(ServiceError(status, code, exc.problems))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            f"{'.'.join(str(p) for p in e['loc'] if p != 'query')}: {e['msg']}"
            for e in exc.errors()
        ]
        return _error_response(ServiceError(400, "invalid_request", problems))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes: dict[int, ErrorCode] = {
            404: "not_found",
            405: "method_not_allowed",
            400: "invalid_request",
        }
        return _error_response(
            ServiceError(
                exc.status_code,
                codes.get(exc.status_code, "http_error"),
                [str(exc.detail)],
                dict(exc.headers or {}),
            )
        )

    @app.exception_handler(ClientDisconnect)
    async def disconnected(_: Request, exc: ClientDisconnect) -> Response:
        return Response(status_code=499)  # nobody is listening; nothing was reviewed

    @app.exception_handler(Exception)
    async def internal_error(_: Request, exc: Exception) -> JSONResponse:
        log.error("internal error: %s: %s", type(exc).__name__, exc)
        return _error_response(
            ServiceError(500, "internal_error", ["internal error; nothing was judged"])
        )

    def client(request: Request) -> str:
        """The token's name, which :class:`AuthGate` checked before routing."""
        who = getattr(request.state, "client", None)
        if not isinstance(who, str):  # the gate did not run: refuse rather than serve
            raise UNAUTHORIZED
        return who

    @app.get("/healthz", tags=["service"], responses=api.responses(ok=out.Health))
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__, "engine": service.pool.config.engine}

    @app.get(
        "/readyz",
        tags=["service"],
        responses=api.responses(
            500,
            ok=out.Readiness,
            special={503: api.body(out.Readiness, "Not ready: the problems say why.")},
        ),
    )
    async def readyz() -> JSONResponse:
        alive = service.pool.alive()
        problems = []
        if alive == 0:
            problems.append("no review worker is running")
        try:
            await anyio.to_thread.run_sync(service.decisions.check)
        except ComplianceError as exc:
            problems.extend(exc.problems)
        body = {
            "status": "ready" if not problems else "not_ready",
            "workers": alive,
            "workers_wanted": service.pool.size,
            "problems": problems,
        }
        return JSONResponse(body, status_code=200 if not problems else 503)

    @app.post(
        "/v1/reviews",
        tags=["reviews"],
        openapi_extra=api.review_request(service.pool.config.max_proposals),
        responses=api.REVIEW_RESPONSES,
    )
    async def post_review(
        request: Request,
        fail_on: list[str] = Query([], description="high, or DOMAIN=SEVERITY (repeatable)"),
        domain: list[str] = Query([]),
        rule: list[str] = Query([]),
        skip_rule: list[str] = Query([]),
    ) -> Response:
        who = client(request)  # before the body is read: nothing is evaluated without a token
        body, kind, name = await _read_input(request)
        if not body:
            raise InputError(f"{name}: is empty")
        job = ReviewJob(
            body=body,
            kind="workbook" if kind == "workbook" else "json",
            name=name,
            fail_on=tuple(fail_on),
            domains=tuple(domain),
            rules=tuple(rule),
            skip=tuple(skip_rule),
        )
        report_json, record = await anyio.to_thread.run_sync(
            _review_and_record, service, job, who, kind
        )
        return Response(
            content=report_json,
            media_type="application/json",
            headers={
                "X-Compliance-Decision": record.decision,
                "X-Compliance-Exit-Code": str(record.exit_code),
                "X-Compliance-Decision-Id": record.id,
                "Location": f"/v1/decisions/{record.id}",
            },
        )

    @app.get(
        "/v1/decisions/{record_id}",
        tags=["decisions"],
        responses=api.responses(404, 500, ok=out.DecisionRecordOut),
    )
    async def get_decision(request: Request, record_id: str) -> JSONResponse:
        client(request)
        record = await anyio.to_thread.run_sync(service.decisions.get, record_id)
        if record is None:
            raise ServiceError(404, "not_found", [f"no decision {record_id!r}"])
        return JSONResponse(record.to_dict())

    @app.get(
        "/v1/decisions", tags=["decisions"], responses=api.responses(400, 500, ok=out.DecisionPage)
    )
    async def list_decisions(
        request: Request,
        client_name: str | None = Query(None, alias="client"),
        decision: Decision | None = None,
        proposal_id: str | None = None,
        since: out.IsoDateTime | None = None,
        until: out.IsoDateTime | None = None,
        limit: int = Query(50, ge=1, le=500),
        before: str | None = None,
    ) -> JSONResponse:
        client(request)

        def query() -> list[DecisionRecord]:
            try:
                return service.decisions.list(
                    client=client_name,
                    decision=decision.value if decision else None,
                    proposal_id=proposal_id,
                    since=since,
                    until=until,
                    limit=limit,
                    before=before,
                )
            except ValueError as exc:
                raise ServiceError(400, "invalid_request", [str(exc)]) from None

        records = await anyio.to_thread.run_sync(query)
        more = len(records) == limit
        return JSONResponse(
            {
                "decisions": [r.summary() for r in records],
                "next": records[-1].id if more and records else None,
            }
        )

    @app.get("/v1/rules", tags=["rules"], responses=api.responses(ok=out.RuleList))
    async def list_rules(request: Request, domain: list[str] = Query([])) -> JSONResponse:
        client(request)
        wanted = {d.lower() for d in domain}
        rules = [
            rule_summary(r, service.ruleset)
            for r in service.ruleset.rules
            if not wanted or r.domain.lower() in wanted
        ]
        return JSONResponse({"rule_set": service.ruleset.name, "rules": rules})

    @app.get("/v1/rules/{rule_id}", tags=["rules"], responses=api.responses(404, ok=out.RuleDetail))
    async def show_rule(request: Request, rule_id: str) -> JSONResponse:
        client(request)
        wanted = rule_id.strip().upper()
        for r in service.ruleset.rules:
            if r.id.upper() == wanted:
                return JSONResponse(rule_summary(r, service.ruleset, full=True))
        raise ServiceError(404, "not_found", [f"{rule_id}: no such rule"])

    @app.get("/v1/schema", tags=["rules"], responses=api.responses(ok=out.JsonSchemaDocument))
    async def schema(request: Request) -> JSONResponse:
        client(request)
        return JSONResponse(docgen.proposal_schema())

    from compliance.service.page import page_router  # noqa: PLC0415 - it imports this module

    app.include_router(page_router(service))
    return app


def with_limits(app: FastAPI, service: Service) -> AuthGate:
    """The app behind its gates: tokens first, then the body limit."""
    return AuthGate(
        BodyLimit(app, service.max_body, service.body_timeout), service.tokens, service.auth
    )
