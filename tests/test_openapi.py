"""The service's OpenAPI document: valid OpenAPI 3.1, made from the models the service answers
with, and true of the live server. Schemathesis runs every operation of a real server on
loopback and fails on any answer the document does not describe (status, body, headers), on any
schema-valid body refused or schema-invalid one accepted, and on any 5xx."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the serve extra is not installed")
pytest.importorskip("schemathesis", reason="the dev extra is not installed")

import jsonschema  # type: ignore[import-untyped]
from fastapi import FastAPI
from pydantic import BaseModel
from schemathesis.specs.openapi.definitions import OPENAPI_31  # the official 2022-10-07 schema

from compliance.errors import InputError
from compliance.intake.proposals import read_text_upload
from compliance.proposal.model import Proposal
from compliance.review.findings import Report
from compliance.rules.docs import rule_summary
from compliance.rules.load import load_rules
from compliance.service import app as http_app
from compliance.service import models as http_models
from compliance.service.openapi import REF, complete, contract_v1, responses

from .conftest import FIXTURES
from .test_service import TOKEN, XLSX, Server, start_server, stop

HOOKS = Path(__file__).resolve().parent / "openapi_hooks.py"
THOROUGH = os.environ.get("COMPLIANCE_OPENAPI_THOROUGH") == "1"
"""Set to 1 for schemathesis's coverage phase on POST /v1/reviews too (thousands of reviews:
several minutes) and more examples per operation."""
live = pytest.mark.slow  # a live server (README: pytest -m "not slow" leaves these out)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = start_server(tmp_path_factory.mktemp("openapi"), "--workers", "2")
    yield s
    stop(s)


@pytest.fixture(scope="module")
def document(server: Server) -> dict[str, Any]:
    answer = server.call("GET", "/openapi.json", token=None)
    assert answer.status == 200
    return answer.json()  # type: ignore[no-any-return]


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def component(model: type[BaseModel]) -> dict[str, Any]:
    """``model``'s schema as the document's component, made by pydantic here."""
    schema = model.model_json_schema(ref_template=REF + "{model}")
    schema.pop("$defs", None)
    return schema


# ------------------------------------------------------------------------------ the live run


def _config(tmp: Path, record: str) -> Path:
    """schemathesis.toml: the token, a bounded deterministic run, the real record id for the
    operations that read one, and the statuses a schema-valid request may get."""
    examples = 25 if THOROUGH else 4
    valid_but_refused = '["2xx", "400", "401", "404"]'
    lines = [
        f'hooks = "{HOOKS}"',
        "[headers]",
        f'Authorization = "Bearer {TOKEN}"',
        "[generation]",
        f"max-examples = {examples}",
        "deterministic = true",
        'database = "none"',
        "[phases.stateful]",
        "max-steps = 6",
        # A query option may name a rule, domain or record this service does not have: 400
        # (the document says so); a refused body is never 400 but 422, and stays a failure.
        "[[operations]]",
        'include-name = "POST /v1/reviews"',
        f"checks.positive_data_acceptance.expected-statuses = {valid_but_refused}",
        f"phases.coverage.enabled = {'true' if THOROUGH else 'false'}",
        "[[operations]]",
        'include-name = "GET /v1/decisions"',
        f"checks.positive_data_acceptance.expected-statuses = {valid_but_refused}",
        f'parameters = {{ before = "{record}" }}',
    ]
    lines += [
        line
        for path in ("/v1/decisions/{record_id}", "/v1/decisions/{record_id}/report")
        for line in (
            "[[operations]]",
            f'include-name = "GET {path}"',
            f'parameters = {{ record_id = "{record}" }}',
        )
    ]
    path = tmp / "schemathesis.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@live
@pytest.mark.timeout(3600 if THOROUGH else 600)
def test_schemathesis_finds_every_answer_documented(
    server: Server, document: dict[str, Any], tmp_path: Path
) -> None:
    body = (FIXTURES / "flawed-data-sharing-refugee-onward-transfer.json").read_bytes()
    record = server.review(body).headers["x-compliance-decision-id"]
    config = _config(tmp_path, record)
    result = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run",
         f"http://127.0.0.1:{server.port}/openapi.json", "--checks", "all", "--workers", "2"],
        check=False, capture_output=True, text=True, cwd=tmp_path, timeout=3000 if THOROUGH else 500,
        env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_TELEMETRY": "false"},
    )  # fmt: skip
    out = result.stdout + result.stderr
    (tmp_path / "schemathesis.txt").write_text(out, encoding="utf-8")  # the whole run, to read
    assert result.returncode == 0, out[-12000:]
    count = sum(1 for _ in operations(document))
    assert f"Tested: {count}" in out, out[-3000:]
    assert "Failures:" not in out, out[-6000:]
    assert "Errors:" not in out, out[-6000:]


# --------------------------------------------------------------------- the document itself


@live
def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    problems = [
        f"{e.json_path}: {e.message[:200]}"
        for e in jsonschema.Draft202012Validator(OPENAPI_31).iter_errors(document)
    ]
    assert problems == []
    for schema in document["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)


@live
def test_bearer_scheme_on_every_v1_operation_and_none_on_health(document: dict[str, Any]) -> None:
    assert document["components"]["securitySchemes"] == {
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "description": "A token from COMPLIANCE_API_TOKENS or [[service.tokens]]: "
            "`Authorization: Bearer <token>`.",
        }
    }
    for path, method, operation in operations(document):
        if path.startswith("/v1/"):
            assert operation["security"] == [{"bearerAuth": []}], (method, path)
            assert "401" in operation["responses"], (method, path)
        else:
            assert "security" not in operation, (method, path)
            assert "401" not in operation["responses"], (method, path)
    health = {path for path, _, _ in operations(document) if not path.startswith("/v1/")}
    assert health == {"/healthz", "/readyz"}


@live
def test_operation_ids_are_the_handlers_names(document: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _, _, operation in operations(document)]
    assert len(ids) == len(set(ids))
    assert {
        "healthz", "readyz", "post_review", "get_decision", "list_decisions", "list_rules",
        "show_rule", "schema",
    } <= set(ids)  # fmt: skip


@live
def test_post_reviews_answers_the_report_with_its_headers(document: dict[str, Any]) -> None:
    post = document["paths"]["/v1/reviews"]["post"]
    assert sorted(post["responses"]) == [
        "200", "400", "401", "408", "413", "415", "422", "500", "503", "504",
    ]  # fmt: skip
    ok = post["responses"]["200"]
    assert ok["content"] == {"application/json": {"schema": {"$ref": REF + "Report"}}}
    assert document["components"]["schemas"]["Report"] == component(Report)
    assert {name: h["schema"] for name, h in ok["headers"].items()} == {
        "X-Compliance-Decision": {
            "type": "string",
            "enum": ["approve", "approve_with_conditions", "needs_information", "reject"],
        },
        "X-Compliance-Exit-Code": {"type": "integer", "enum": [0, 3, 4]},
        "X-Compliance-Decision-Id": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
        "Location": {"type": "string", "pattern": "^/v1/decisions/[0-9a-f]{32}$"},
    }
    assert all(h["required"] for h in ok["headers"].values())


@live
def test_post_reviews_takes_every_body_the_service_reads(document: dict[str, Any]) -> None:
    post = document["paths"]["/v1/reviews"]["post"]
    content = post["requestBody"]["content"]
    assert set(content) == (http_app.JSON_TYPES | http_app.WORKBOOK_TYPES | {"multipart/form-data"})
    proposal = content["application/json"]["schema"]["oneOf"]
    assert proposal[0]["$ref"] == REF + "Proposal"
    assert proposal[1]["type"] == "array"
    assert proposal[1]["items"] == proposal[0]
    assert proposal[1]["minItems"] == 1
    assert proposal[1]["maxItems"] == 1000
    assert document["components"]["schemas"]["Proposal"] == component(Proposal)
    for media in http_app.WORKBOOK_TYPES:
        assert content[media]["schema"]["format"] == "binary"
    multipart = content["multipart/form-data"]
    assert multipart["schema"]["required"] == ["file"]
    assert multipart["encoding"]["file"]["contentType"].split(", ") == [
        "application/json", XLSX, "application/vnd.ms-excel.sheet.macroenabled.12",
    ]  # fmt: skip
    assert [p["name"] for p in post["parameters"]] == [
        "fail_on", "domain", "rule", "skip_rule", "filename",
    ]  # fmt: skip


@live
def test_every_failure_has_the_error_body_and_no_fastapi_422(document: dict[str, Any]) -> None:
    assert document["components"]["schemas"]["ErrorBody"] == component(http_models.ErrorBody)
    assert document["components"]["schemas"]["ErrorDetail"] == component(http_models.ErrorDetail)
    text = json.dumps(document)
    assert "HTTPValidationError" not in text
    assert '"detail"' not in text
    for path, method, operation in operations(document):
        for status, answer in operation["responses"].items():
            for media in answer.get("content", {}).values():
                assert media["schema"] != {}, (method, path, status)  # every body has a schema
            if int(status) < 400 or (path, status) == ("/readyz", "503"):
                continue
            assert answer["content"] == {
                "application/json": {"schema": {"$ref": REF + "ErrorBody"}}
            }, (method, path, status)
        for status in ("400", "408", "413"):  # the middleware answers these on any path
            assert status in operation["responses"], (method, path, status)
        assert "422" not in operation["responses"] or (path, method) == ("/v1/reviews", "post")
    decisions = document["paths"]["/v1/decisions"]["get"]["responses"]
    assert sorted(decisions) == ["200", "400", "401", "408", "413", "500"]
    assert decisions["401"]["headers"]["WWW-Authenticate"]["schema"]["const"] == (
        'Bearer realm="compliance"'
    )


def test_without_tokens_the_document_has_no_security() -> None:
    app = FastAPI()

    @app.get("/v1/things", responses=responses(404, ok=http_models.Health))
    async def things() -> None: ...

    made = complete(app.openapi(), auth=False)
    operation = made["paths"]["/v1/things"]["get"]
    assert "security" not in operation
    assert "securitySchemes" not in made["components"]
    assert sorted(operation["responses"]) == ["200", "400", "404", "408", "413"]


# ------------------------------------------------------------- the models against the code


def test_the_rule_models_describe_every_rule_as_served() -> None:
    ruleset = load_rules()
    for rule in ruleset.rules:
        summary = json.dumps(rule_summary(rule, ruleset))
        http_models.RuleSummary.model_validate_json(summary, strict=True)
        detail = json.dumps(rule_summary(rule, ruleset, full=True))
        http_models.RuleDetail.model_validate_json(detail, strict=True)


def test_error_body_is_the_model() -> None:
    body = http_models.error_body(422, "invalid_input", ["a \udc80 b", "second"])
    assert (
        http_models.ErrorBody.model_validate(body).model_dump()
        == body
        == {
            "error": {
                "status": 422,
                "code": "invalid_input",
                "message": "a \\udc80 b",
                "problems": ["a \\udc80 b", "second"],
            }
        }
    )


# --------------------------------------------------- what schema and server now agree on


@live
def test_a_date_in_a_query_is_iso_8601_only(server: Server) -> None:
    answer = server.call("GET", "/v1/decisions?until=0.5")
    assert answer.status == 400
    assert answer.json()["error"]["problems"] == [
        "until: expected an ISO 8601 date and time such as 2026-01-31T09:00:00Z, got '0.5'"
    ]
    assert server.call("GET", "/v1/decisions?until=2026-01-31T09:00:00Z").status == 200


@live
def test_a_json_null_body_is_refused_as_the_schema_says(server: Server) -> None:
    answer = server.review(b"null")
    assert answer.status == 422
    assert answer.json()["error"]["problems"] == [
        "request.json:1:1: proposal: expected a proposal object, got null"
    ]


@live
def test_a_multipart_part_typed_as_a_workbook_is_read_as_one(server: Server) -> None:
    book = (FIXTURES / "workbooks" / "register.xlsx").read_bytes()
    boundary = "b0undary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="proposals"\r\n'
            f"Content-Type: {XLSX}\r\n\r\n"
        ).encode()
        + book
        + f"\r\n--{boundary}--\r\n".encode()
    )
    answer = server.review(body, content_type=f"multipart/form-data; boundary={boundary}")
    assert answer.status == 200, answer.body[:500]
    sources = {review["source"] for review in answer.json()["reviews"]}
    assert sources == {"proposals.xlsx"}


@pytest.mark.parametrize(
    ("change", "accepted"),
    [
        ({"title": "Training\tand\nmentoring"}, True),
        ({"title": "Training \x01"}, False),
        ({"title": " \u00a0 "}, False),
        ({"summary": "left \u202e right"}, False),
        ({"summary": "\x1c "}, True),  # blank: not answered
        ({"submitted_on": ""}, True),
        ({"submitted_on": "2026-02-30"}, False),
        ({"parties": [{"name": "Police", "country": ""}]}, True),
        ({"parties": [{"name": "Police", "country": "XX"}]}, False),
        ({"monitoring": {"review_frequency_months": 12.0}}, True),
        ({"monitoring": {"review_frequency_months": 12.5}}, False),
        ({"schema_version": "1", "technology": {"supplied": []}}, False),
        ({"schema_version": "1", "technology": None}, True),
    ],
)
def test_the_proposal_schema_and_the_intake_agree(change: dict[str, Any], accepted: bool) -> None:
    proposal = {"schema_version": "2", "id": "P-1", "title": "A partnership", **change}
    schema = {**Proposal.model_json_schema(), **contract_v1()}
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    assert validator.is_valid(proposal) is accepted
    try:
        read_text_upload(json.dumps(proposal).encode(), "request.json")
    except InputError:
        assert not accepted
    else:
        assert accepted
