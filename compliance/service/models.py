"""The bodies the HTTP service answers, as pydantic models: the OpenAPI document's schemas.

The review's report is :class:`compliance.review.findings.Report` and the proposal
:class:`compliance.proposal.model.Proposal`, the same models as the CLI's; this module adds what
only the service sends: the error body (built by :func:`error_body` from :class:`ErrorBody`'s
fields), health and readiness, decision-log records and pages, and the rules as ``GET /v1/rules``
lists them. The handlers build these bodies as plain dicts (a record's report is stored as text and
sent as it was); the service tests check every body they receive against these models, and
schemathesis checks the live server against the document made from them.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from compliance.review.findings import Decision, Report
from compliance.rules.spec import Severity

ErrorCode = Literal[
    "invalid_request",
    "unauthorized",
    "not_found",
    "method_not_allowed",
    "request_timeout",
    "payload_too_large",
    "unsupported_media_type",
    "invalid_input",
    "internal_error",
    "rules_error",
    "review_unavailable",
    "review_timeout",
    "http_error",
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ErrorDetail(_Body):
    status: int = Field(description="The HTTP status of the response, repeated.")
    code: ErrorCode = Field(description="What failed, for programs (see the service guide).")
    message: str = Field(description="The first problem (or the code when there is none).")
    problems: list[str] = Field(
        description="One line per problem, as the CLI prints them: file, line or sheet and "
        "cell, field path, what is wrong."
    )


class ErrorBody(_Body):
    """Every failure's body; a failure never carries a decision."""

    error: ErrorDetail


def _encodable(text: str) -> str:
    """Text that encodes as UTF-8: a lone surrogate from the input is shown escaped."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def error_body(status: int, code: ErrorCode, problems: list[str]) -> dict[str, Any]:
    """The JSON error body (an :class:`ErrorBody`) as a dict ready to send."""
    problems = [_encodable(p) for p in problems]
    return {
        "error": {
            "status": status,
            "code": code,
            "message": problems[0] if problems else code,
            "problems": problems,
        }
    }


ISO_DATETIME = r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?)?$"


def _iso_only(value: object) -> object:
    if isinstance(value, str) and not re.match(ISO_DATETIME, value):
        raise PydanticCustomError(
            "datetime_format",
            "expected an ISO 8601 date and time such as 2026-01-31T09:00:00Z, got '{value}'",
            {"value": value},
        )
    return value


IsoDateTime = Annotated[
    datetime,
    BeforeValidator(_iso_only),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": ISO_DATETIME,
            "description": "ISO 8601: a date, or a date and time (UTC when no offset is given).",
        }
    ),
]
"""A moment in a query: ISO 8601 alone (pydantic would also read ``0.5`` as a Unix time)."""


class Health(_Body):
    status: Literal["ok"]
    version: str = Field(description="The tool's version.")
    engine: Literal["durable", "reference"] = Field(
        description="What decides which rules fire in this service's reviews: durable_rules, or "
        "the reference evaluator where durable_rules cannot be loaded (the report says the same)."
    )


class Readiness(_Body):
    status: Literal["ready", "not_ready"]
    workers: int = Field(description="Review workers running.")
    workers_wanted: int = Field(description="Review workers the service was started with.")
    problems: list[str] = Field(description="Why it is not ready; empty when ready.")


class ProposalDecision(_Body):
    id: str = Field(description="The proposal's id.")
    decision: Decision


class DecisionSummary(_Body):
    """A record of the decision log without its report."""

    id: str = Field(pattern=r"^[0-9a-f]{32}$", description="The record's id.")
    created_at: datetime = Field(description="When it was recorded (UTC, microseconds).")
    client: str = Field(description="The name of the token that asked ('anonymous' without).")
    input_sha256: str = Field(
        pattern=r"^sha256:[0-9a-f]{64}$", description="sha256 of the request body."
    )
    input_kind: Literal["json", "workbook"]
    rule_set_name: str
    rule_set_version: str
    rule_set_hash: str
    tool_version: str
    decision: Decision = Field(description="The worst decision of the request.")
    exit_code: Literal[0, 3, 4] = Field(description="The exit code the CLI would give.")
    proposals: list[ProposalDecision] = Field(description="Each proposal's decision, in order.")


class DecisionRecordOut(DecisionSummary):
    """A record of the decision log with the report its client received."""

    report: Report


class DecisionPage(_Body):
    decisions: list[DecisionSummary] = Field(description="Newest first.")
    next: str | None = Field(
        description="The id to pass as `before` for the next page; null on the last page."
    )


class RuleReference(_Body):
    instrument: str
    provision: str
    url: str
    binding: Literal["required", "good_practice"]
    binds_when: list[str] | None = Field(
        description="When the source binds the proposal's actors (the condition, one line "
        "each); null when it always does."
    )


class RuleEscalation(_Body):
    severity: Severity
    reason: str
    when: list[str] = Field(description="The condition, one line each.")


class ExampleCounts(_Body):
    fires: int
    passes: int
    needs_information: int


class RuleSeverityOverride(_Body):
    original_severity: Severity
    reason: str
    origin: str


class RuleSummary(_Body):
    """A rule as ``compliance rules list --format json`` gives it."""

    id: str
    title: str
    domain: str
    domain_title: str
    severity: Severity = Field(description="The severity the rule is judged at.")
    for_each: str | None
    when_unanswered: Literal["needs_information", "ignore"]
    fields: list[str] = Field(description="The field paths the rule reads.")
    message: str
    remediation: str
    references: list[RuleReference]
    escalations: list[RuleEscalation]
    examples: ExampleCounts
    source: str = Field(description="The rule file.")
    effective_from: date | None = Field(None, description="The first day the rule is in force.")
    effective_until: date | None = Field(None, description="The last day the rule is in force.")
    severity_override: RuleSeverityOverride | None


class ExampleNote(_Body):
    kind: Literal["fires", "passes", "needs_information"]
    note: str


class RuleDetail(RuleSummary):
    """A rule as ``compliance rules show --format json`` gives it."""

    applies_when: list[str] | None
    violated_when: list[str]
    requires: list[str]
    example_notes: list[ExampleNote]


class RuleList(_Body):
    rule_set: str = Field(description="The rule set's name.")
    rules: list[RuleSummary]


class JsonSchemaDocument(BaseModel):
    """A JSON Schema (draft 2020-12) document: the proposal's, as docs/proposal.schema.json."""

    model_config = ConfigDict(extra="allow", title="JSON Schema document")
