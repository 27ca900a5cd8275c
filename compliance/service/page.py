"""The reviewer's page on ``compliance serve``, and the two API routes it needs.

- ``GET /`` (the page), ``GET /page.css`` and ``GET /page.js``: static files shipped in
  ``compliance/web``; no token needed, nothing about reviews in them. The page loads nothing
  else, from anywhere: its Content-Security-Policy allows scripts, styles, fetches and images from
  this service alone, and frames only from the page's own ``blob:`` documents (the report).
- ``GET /v1/template?layout=single|register``: the blank workbook ``compliance template``
  writes.
- ``GET /v1/decisions/{id}/report?format=json|html|markdown|sarif|xlsx``: a recorded review in
  one of the CLI's report formats, rendered from the decision log's record (the report the client
  received), so every format shows the same decision and no review runs twice. The report's
  reviews name the list items they speak of (report 1.5), so the rendering names them as the
  CLI's does; a record of an earlier report calls them by their place (``data flow 2``).

The ``/v1`` routes need the same bearer token as the rest of the API (:class:`AuthGate` checks it
before routing). The page keeps the token in memory and sends it only in the ``Authorization``
header; it never puts it in a URL.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Awaitable, Callable
from functools import cache
from importlib.resources import files
from typing import Any, Literal

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from compliance.reports.html import render_html
from compliance.reports.html_parts import stylesheet
from compliance.reports.markdown import render_markdown
from compliance.reports.sarif import render_sarif
from compliance.reports.xlsx import render_xlsx
from compliance.review.findings import Report
from compliance.rules.ruleset import Rule
from compliance.service.app import UNAUTHORIZED, Service, ServiceError
from compliance.service.openapi import DECISION_HEADERS, header, responses
from compliance.workbook.layout import Layout
from compliance.workbook.write import build, to_bytes

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Format = Literal["json", "html", "markdown", "sarif", "xlsx"]
MEDIA: dict[str, tuple[str, str]] = {
    "json": ("application/json", "json"),
    "html": ("text/html; charset=utf-8", "html"),
    "markdown": ("text/markdown; charset=utf-8", "md"),
    "sarif": ("application/sarif+json", "sarif"),
    "xlsx": (XLSX, "xlsx"),
}
"""Each format's media type and file suffix."""

MAX_RENDER_FINDINGS = 5000
"""A review with more findings is served as JSON only: rendering runs in the server's own
process, and 5,000 findings take about 8 s as a workbook (the slowest format)."""

REPORT_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"
"""An HTML report opened on its own runs nothing and loads nothing."""

STATIC = {
    "page.css": "text/css; charset=utf-8",
    "page.js": "text/javascript; charset=utf-8",
}

_render_lock = threading.Lock()
"""One report is rendered at a time, so renders take at most one core from the service."""


def _web(name: str) -> bytes:
    return files("compliance.service").joinpath("web").joinpath(name).read_bytes()


@cache
def _report_style_hash() -> str:
    """The CSP source of the HTML report's inline stylesheet: the page frames the report as a
    ``blob:`` document, which inherits the page's policy, so the policy allows that stylesheet
    (and no other inline style) by its hash."""
    digest = hashlib.sha256(stylesheet().encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def page_csp() -> str:
    return (
        "default-src 'none'; script-src 'self'; connect-src 'self'; "
        f"style-src 'self' {_report_style_hash()}; img-src 'self' data:; frame-src blob:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def _security_headers() -> dict[str, str]:
    return {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }


@cache
def _template(layout: str) -> bytes:
    return to_bytes(build(Layout(layout)))


def _rules_that_ran(report: Report, rules: tuple[Rule, ...]) -> list[Rule]:
    """The service's rules narrowed as the request narrowed them (``domain``, ``rule``,
    ``skip_rule``): SARIF describes the rules that ran."""
    sel = report.selection
    if sel is None:
        return list(rules)
    domains, chosen, skipped = set(sel.domains), set(sel.rules), set(sel.skipped)
    return [
        r
        for r in rules
        if (not (domains or chosen) or r.domain in domains or r.id in chosen)
        and r.id not in skipped
    ]


def _render(service: Service, report_data: dict[str, Any], fmt: str) -> bytes:
    report = Report.model_validate(report_data)
    ruleset = service.ruleset
    if fmt == "html":
        return render_html(report, ruleset.domain_title).encode("utf-8")
    if fmt == "markdown":
        return render_markdown(report, ruleset.domain_title).encode("utf-8")
    if fmt == "sarif":
        rules = _rules_that_ran(report, ruleset.rules)
        log = json.loads(render_sarif(report, rules, ruleset.domain_title))
        for run in log.get("runs", ()):
            # Uploads are named without directories, so their URIs are relative, against a
            # %SRCROOT% the client knows; where this service runs (its directory) is not said.
            run.get("originalUriBaseIds", {}).get("%SRCROOT%", {}).pop("uri", None)
        text = json.dumps(log, indent=2, ensure_ascii=False) + "\n"
        return text.encode("utf-8", "backslashreplace")  # a lone surrogate as its JSON escape
    return render_xlsx(report, ruleset.domain_title)


def _report_responses() -> dict[int | str, dict[str, Any]]:
    binary = {"type": "string", "format": "binary"}
    content: dict[str, Any] = {"application/json": {"schema": {"type": "object"}}}
    for fmt, (media, _) in MEDIA.items():
        if fmt != "json":
            kind = media.split(";")[0]  # a +json type (SARIF) is a JSON object
            text = {"type": "object" if kind.endswith("+json") else "string"}
            content[kind] = {"schema": binary if fmt == "xlsx" else text}
    headers = {k: v for k, v in DECISION_HEADERS.items() if k != "Location"}
    headers["Content-Disposition"] = header(
        "attachment, named review-ID.SUFFIX (json, html, md, sarif, xlsx).", {"type": "string"}
    )
    return responses(
        400,
        404,
        500,
        503,
        ok_content=content,
        ok_description="The recorded review: with format=json the JSON report exactly as "
        "POST /v1/reviews answered it; otherwise rendered from it as `compliance review "
        "--format FORMAT` renders a review.",
        ok_headers=headers,
        notes={
            400: "A query option is wrong, or the format cannot be rendered for this decision: "
            f"over {MAX_RENDER_FINDINGS} findings, or made with another rule set than the "
            "service runs now (format=json is always served).",
            404: "No such decision.",
            503: "Another report was being rendered and did not finish in time; retry.",
        },
    )


def _template_responses() -> dict[int | str, dict[str, Any]]:
    return responses(
        500,
        ok_content={XLSX: {"schema": {"type": "string", "format": "binary"}}},
        ok_description="The blank workbook `compliance template --layout LAYOUT` writes.",
        ok_headers={
            "Content-Disposition": header(
                "attachment, named proposal-template.xlsx or proposal-register.xlsx.",
                {"type": "string"},
            )
        },
    )


def page_router(service: Service) -> APIRouter:
    router = APIRouter()

    def client(request: Request) -> str:
        who = getattr(request.state, "client", None)
        if not isinstance(who, str):  # the gate did not run: refuse rather than serve
            raise UNAUTHORIZED
        return who

    @router.get("/", include_in_schema=False)
    async def page() -> Response:
        headers = {**_security_headers(), "Content-Security-Policy": page_csp()}
        return Response(_web("index.html"), media_type="text/html; charset=utf-8", headers=headers)

    def static(name: str) -> Callable[[], Awaitable[Response]]:
        async def serve() -> Response:
            return Response(_web(name), media_type=STATIC[name], headers=_security_headers())

        return serve

    for name in STATIC:
        router.add_api_route(f"/{name}", static(name), methods=["GET"], include_in_schema=False)

    @router.get(
        "/v1/template",
        tags=["page"],
        summary="The blank proposal workbook",
        responses=_template_responses(),
        response_class=Response,
    )
    async def template(
        request: Request,
        layout: Literal["single", "register"] = Query(
            "single",
            description="single: one proposal per workbook; register: one row per proposal.",
        ),
    ) -> Response:
        client(request)
        book = await anyio.to_thread.run_sync(_template, layout)
        name = "proposal-template.xlsx" if layout == "single" else "proposal-register.xlsx"
        return Response(
            book,
            media_type=XLSX,
            headers={
                **_security_headers(),
                "Content-Disposition": f'attachment; filename="{name}"',
            },
        )

    @router.get(
        "/v1/decisions/{record_id}/report",
        tags=["decisions"],
        summary="A recorded review in a report format",
        responses=_report_responses(),
        response_class=Response,
    )
    async def recorded_report(
        request: Request,
        record_id: str,
        format: Format = Query("json", description="json, html, markdown, sarif or xlsx."),
    ) -> Response:
        client(request)
        record = await anyio.to_thread.run_sync(service.decisions.get, record_id)
        if record is None:
            raise ServiceError(404, "not_found", [f"no decision {record_id!r}"])
        media, suffix = MEDIA[format]
        headers = {
            **_security_headers(),
            "Content-Disposition": f'attachment; filename="review-{record.id}.{suffix}"',
            "X-Compliance-Decision": record.decision,
            "X-Compliance-Exit-Code": str(record.exit_code),
            "X-Compliance-Decision-Id": record.id,
        }
        if format == "json":
            body = record.report_json or json.dumps(
                record.report, ensure_ascii=False, separators=(",", ":")
            )
            return Response(body.encode("utf-8"), media_type=media, headers=headers)
        if record.rule_set_hash != service.ruleset.hash:
            raise ServiceError(
                400,
                "invalid_request",
                [
                    f"decision {record.id} was made with rule set {record.rule_set_name} "
                    f"{record.rule_set_version} ({record.rule_set_hash}); this service now runs "
                    f"{service.ruleset.name} {service.ruleset.version} "
                    f"({service.ruleset.hash}): only format=json is served for it"
                ],
            )
        found = sum(len(r.get("findings", ())) for r in record.report.get("reviews", ()))
        if found > MAX_RENDER_FINDINGS:
            raise ServiceError(
                400,
                "invalid_request",
                [
                    f"decision {record.id} has {found} findings; this service renders at most "
                    f"{MAX_RENDER_FINDINGS} as {format}: download format=json, or review fewer "
                    "proposals per request"
                ],
            )

        def render() -> bytes:
            if not _render_lock.acquire(timeout=service.queue_timeout):
                raise ServiceError(
                    503,
                    "review_unavailable",
                    ["another report is being rendered; nothing was rendered, retry"],
                )
            try:
                return _render(service, record.report, format)
            finally:
                _render_lock.release()

        body_bytes = await anyio.to_thread.run_sync(render)
        if format == "html":
            headers["Content-Security-Policy"] = REPORT_CSP
        return Response(body_bytes, media_type=media, headers=headers)

    return router
