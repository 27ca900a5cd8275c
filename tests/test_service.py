"""The HTTP service, started for real on a free loopback port, as a workflow tool would call it:
tokens, the same report as the CLI for every fixture, workbooks, limits, a killed worker, the
decision log."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the serve extra is not installed")

from compliance import __version__
from compliance.service.decision_log import open_log

from .conftest import FIXTURES, run_cli

TOKEN = "ci-token-" + "x" * 24
OTHER = "alice-token-" + "y" * 24
FIXTURE_FILES = sorted(FIXTURES.glob("*.json"))
REGISTER = FIXTURES / "workbooks" / "register.xlsx"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    output: Path

    def call(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        *,
        token: str | None = TOKEN,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
        timeout: float = 120,
    ) -> Answer:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        if body is not None:
            sent["Content-Type"] = content_type
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            return Answer(
                response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
            )
        finally:
            conn.close()

    def review(self, body: bytes, query: str = "", **kw: Any) -> Answer:
        return self.call("POST", "/v1/reviews" + query, body, **kw)

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        pids = [int(p) for p in children.read_text().split()]
        return [
            p
            for p in pids
            if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes().replace(b"\0", b" ")
        ]

    def records(self) -> int:
        log = open_log(str(self.log_path))
        try:
            return log.count()
        finally:
            log.close()


def start_server(tmp: Path, *args: str, env_tokens: str | None = None) -> Server:
    port = free_port()
    log_path = tmp / "decisions.sqlite"
    output = tmp / "server.log"
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp),
        "COMPLIANCE_API_TOKENS": env_tokens
        if env_tokens is not None
        else f"ci={TOKEN}, alice={OTHER}",
    }
    with output.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "compliance", "serve", "--port", str(port), "--no-config",
             "--decision-log", str(log_path), *args],
            cwd=tmp, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    return wait_ready(Server(process, port, log_path, output))


def wait_ready(server: Server) -> Server:
    """``server`` once /readyz answers 200; fails if its process exits or 90 s pass."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"the server exited: {_output(server)}")
        try:
            if server.call("GET", "/readyz", token=None, timeout=2).status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    server.process.kill()
    raise AssertionError(f"the server did not get ready: {_output(server)}")


def _output(server: Server) -> str:
    return server.output.read_text() if server.output.exists() else "(output not kept)"


def stop(server: Server) -> None:
    server.process.send_signal(signal.SIGINT)
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = start_server(tmp_path_factory.mktemp("service"), "--workers", "2", "--max-body-mb", "8")
    yield s
    stop(s)


def without_sources(report: dict[str, Any]) -> dict[str, Any]:
    """A report with input names left out: the CLI names files, the service the request."""
    text = json.dumps(report)
    data = json.loads(text)
    for review in data["reviews"]:
        review["source"] = None
        for finding in review["findings"]:
            for e in finding["evidence"]:
                if e["location"]:
                    e["location"]["source"] = None
        for u in review["unanswered"]:
            if u["location"]:
                u["location"]["source"] = None
    return data


# ----------------------------------------------------------------------------------- tokens


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/v1/reviews"), ("GET", "/v1/rules"), ("GET", "/v1/rules/DS-003"),
     ("GET", "/v1/schema"), ("GET", "/v1/decisions"), ("GET", "/v1/decisions/abc")],
)  # fmt: skip
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token-0000000000000", f"Basic {TOKEN}", "Bearer", f"Bearer {TOKEN}x"],
)
def test_without_a_valid_token_401_and_nothing_evaluated(
    server: Server, method: str, path: str, authorization: str | None
) -> None:
    before = server.records()
    body = (FIXTURES / "flawed-refugee-data-sharing.json").read_bytes()
    answer = server.call(
        method,
        path,
        body if method == "POST" else None,
        token=None,
        headers={"Authorization": authorization} if authorization else {},
    )
    assert answer.status == 401
    assert answer.headers["www-authenticate"] == 'Bearer realm="compliance"'
    assert answer.json() == {
        "error": {
            "status": 401,
            "code": "unauthorized",
            "message": "a valid bearer token is required (Authorization: Bearer <token>)",
            "problems": ["a valid bearer token is required (Authorization: Bearer <token>)"],
        }
    }
    assert "x-compliance-decision" not in answer.headers
    assert server.records() == before


def test_health_and_readiness_need_no_token(server: Server) -> None:
    health = server.call("GET", "/healthz", token=None).json()
    assert health == {"status": "ok", "version": __version__, "engine": "durable"}
    ready = server.call("GET", "/readyz", token=None).json()
    assert ready["status"] == "ready"
    assert ready["workers"] == 2


def test_tokens_are_never_logged(server: Server) -> None:
    server.review(b"{}")
    server.review(b"{}", token="not-a-real-token-at-all")
    text = server.output.read_text(errors="replace")
    assert TOKEN not in text
    assert "not-a-real-token-at-all" not in text


# ----------------------------------------------------------------- the same report as the CLI


@pytest.fixture(scope="module")
def cli_reports() -> dict[str, tuple[int, dict[str, Any]]]:
    out: dict[str, tuple[int, dict[str, Any]]] = {}
    for path in FIXTURE_FILES:
        run = run_cli("review", str(path), "--format", "json", "--no-config")
        out[path.name] = (run.code, json.loads(run.out))
    return out


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=[p.name for p in FIXTURE_FILES])
def test_the_same_report_as_the_cli_for_every_fixture(
    server: Server, cli_reports: dict[str, tuple[int, dict[str, Any]]], path: Path
) -> None:
    code, expected = cli_reports[path.name]
    answer = server.review(path.read_bytes())
    assert answer.status == 200, answer.body
    report = answer.json()
    assert without_sources(report) == without_sources(expected)
    assert {r["source"] for r in report["reviews"]} == {"request.json"}
    decisions = [r["decision"] for r in report["reviews"]]
    order = ["reject", "needs_information", "approve_with_conditions", "approve"]
    assert answer.headers["x-compliance-decision"] == min(decisions, key=order.index)
    assert answer.headers["x-compliance-exit-code"] == str(code)
    record_id = answer.headers["x-compliance-decision-id"]
    assert answer.headers["location"] == f"/v1/decisions/{record_id}"
    record = server.call("GET", f"/v1/decisions/{record_id}").json()
    assert record["report"] == report
    assert record["client"] == "ci"
    assert record["exit_code"] == code


def test_a_workbook_as_the_body_or_an_upload(server: Server) -> None:
    run = run_cli("review", str(REGISTER), "--format", "json", "--no-config")
    expected = json.loads(run.out)
    raw = server.review(REGISTER.read_bytes(), "?filename=register.xlsx", content_type=XLSX)
    assert raw.status == 200, raw.body
    assert without_sources(raw.json()) == without_sources(expected)
    (location, *_) = [
        e["location"] for r in raw.json()["reviews"] for f in r["findings"] for e in f["evidence"]
    ]
    assert location["source"] == "register.xlsx"
    assert location["sheet"] is not None
    boundary = uuid.uuid4().hex
    form = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="../../etc/register.xlsx"\r\nContent-Type: {XLSX}\r\n\r\n'
        ).encode()
        + REGISTER.read_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    upload = server.review(form, content_type=f"multipart/form-data; boundary={boundary}")
    assert upload.status == 200, upload.body
    assert upload.json() == raw.json()
    assert upload.headers["x-compliance-exit-code"] == str(run.code)


# ------------------------------------------------------------------------------ options, errors


def test_query_options_mirror_the_cli(server: Server) -> None:
    body = (FIXTURES / "flawed-accountability-coast-guard-unvetted.json").read_bytes()
    answer = server.review(body, "?fail_on=blocker&fail_on=accountability%3Dhigh")
    report = answer.json()
    assert report["threshold"] == "blocker"
    assert report["domain_thresholds"] == {"accountability": "high"}
    assert answer.headers["x-compliance-decision"] == "reject"
    narrowed = server.review(body, "?domain=monitoring").json()
    assert narrowed["selection"]["domains"] == ["monitoring"]
    assert {f["domain"] for r in narrowed["reviews"] for f in r["findings"]} == {"monitoring"}


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        (
            "?fail_on=severe",
            "--fail-on severe: 'severe' is not a severity (blocker, high, medium, low, info)",
        ),
        ("?domain=data", "--domain data: no loaded rule has this domain"),
        ("?rule=DS-999", "--rule DS-999: no such rule (did you mean DS-019?)"),
    ],
)
def test_bad_options_are_400_with_the_cli_message(server: Server, query: str, problem: str) -> None:
    before = server.records()
    answer = server.review(b"{}", query)
    assert answer.status == 400
    error = answer.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["message"].startswith(problem)
    assert server.records() == before


def test_an_invalid_proposal_is_422_with_the_cli_field_paths(
    server: Server, tmp_path: Path
) -> None:
    data = json.loads((FIXTURES / "flawed-refugee-data-sharing.json").read_text())
    data["data_sharing"]["flows"][1]["granularity"] = "everything"
    del data["title"]
    text = json.dumps(data, indent=2)
    (tmp_path / "request.json").write_text(text)
    cli = run_cli("review", "request.json", "--no-config", cwd=tmp_path)
    assert cli.code == 2
    answer = server.review(text.encode())
    assert answer.status == 422
    error = answer.json()["error"]
    assert error["code"] == "invalid_input"
    assert error["problems"] == [line.removeprefix("error: ") for line in cli.err.splitlines()]
    assert any("data_sharing.flows[1].granularity" in p for p in error["problems"])


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b"", "application/json", 422, "invalid_input"),
        (b"{not json", "application/json", 422, "invalid_input"),
        (b"PK\x03\x04 not a workbook", XLSX, 422, "invalid_input"),
        (b"<proposal/>", "application/xml", 415, "unsupported_media_type"),
        (b"x" * (9 * 1024 * 1024), "application/json", 413, "payload_too_large"),
    ],
    ids=["empty", "not json", "not a workbook", "xml", "too large"],
)
def test_every_failure_is_a_json_error_and_no_decision(
    server: Server, body: bytes, content_type: str, status: int, code: str
) -> None:
    before = server.records()
    answer = server.review(body, content_type=content_type)
    assert answer.status == status
    assert answer.json()["error"]["code"] == code
    assert "x-compliance-decision" not in answer.headers
    assert server.records() == before


def test_a_chunked_body_past_the_limit_is_413(server: Server) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    chunks = (b"x" * 65536 for _ in range(144))  # 9 MiB, no Content-Length
    conn.request(
        "POST",
        "/v1/reviews",
        body=chunks,
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        encode_chunked=True,
    )
    response = conn.getresponse()
    assert response.status == 413
    conn.close()


# ---------------------------------------------------------------------------- rules, schema, api


def test_rules_schema_and_openapi(server: Server) -> None:
    rules = server.call("GET", "/v1/rules").json()
    listed = json.loads(run_cli("rules", "list", "--format", "json", "--no-config").out)
    assert rules["rules"] == listed["rules"]
    one = server.call("GET", "/v1/rules/ds-003").json()
    shown = json.loads(run_cli("rules", "show", "DS-003", "--format", "json", "--no-config").out)
    shown.pop("disabled")
    assert one == shown
    assert server.call("GET", "/v1/rules/NOPE-1").status == 404
    schema = server.call("GET", "/v1/schema").json()
    assert schema == json.loads(run_cli("schema").out)
    openapi = server.call("GET", "/openapi.json", token=None).json()
    assert {"/v1/reviews", "/v1/decisions", "/v1/decisions/{record_id}", "/v1/rules",
            "/v1/schema", "/healthz", "/readyz"} <= set(openapi["paths"])  # fmt: skip
    body = openapi["paths"]["/v1/reviews"]["post"]["requestBody"]["content"]
    assert set(body) == {"application/json", "application/x-ndjson", "application/jsonl", XLSX,
                         "application/vnd.ms-excel.sheet.macroenabled.12", "multipart/form-data"}  # fmt: skip


def test_the_decision_log_lists_and_filters(server: Server) -> None:
    body = (FIXTURES / "exemplary-community-policing.json").read_bytes()
    mine = server.review(body, token=OTHER)
    assert mine.status == 200
    listed = server.call("GET", "/v1/decisions?client=alice&limit=5").json()
    assert [d["id"] for d in listed["decisions"]][:1] == [mine.headers["x-compliance-decision-id"]]
    assert all(d["client"] == "alice" for d in listed["decisions"])
    assert "report" not in listed["decisions"][0]
    by_proposal = server.call("GET", "/v1/decisions?proposal_id=PRP-2026-021").json()
    assert by_proposal["decisions"]
    assert server.call("GET", "/v1/decisions?limit=0").json()["error"] == {
        "status": 400,
        "code": "invalid_request",
        "message": "limit: Input should be greater than or equal to 1",
        "problems": ["limit: Input should be greater than or equal to 1"],
    }
    assert server.call("GET", "/v1/decisions/nope").status == 404


def test_concurrent_clients_get_one_record_per_successful_response(server: Server) -> None:
    """A small load (the full one is benchmarks/bench_service.py): 16 clients, 400 reviews."""
    before = server.records()
    bodies = [p.read_bytes() for p in FIXTURE_FILES]
    ids: list[str] = []
    statuses: list[int] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        for i in range(25):
            answer = server.review(bodies[(n * 25 + i) % len(bodies)])
            with lock:
                statuses.append(answer.status)
                if answer.status == 200:
                    ids.append(answer.headers["x-compliance-decision-id"])

    threads = [threading.Thread(target=client, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses.count(200) == 400
    assert len(set(ids)) == 400
    assert server.records() == before + 400
    log = open_log(str(server.log_path))
    try:
        assert all(log.get(i) is not None for i in ids)
    finally:
        log.close()


# -------------------------------------------------------------------------- crash isolation


def _batch(n: int) -> bytes:
    base = [json.loads(p.read_text()) for p in FIXTURE_FILES]
    items = []
    for i in range(n):
        item = dict(base[i % len(base)])
        item["id"] = f"LOAD-{i:05d}"
        items.append(item)
    return json.dumps(items).encode()


def _ended(pid: int) -> bool:
    """Whether the process has ended: gone, or a zombie its parent has not reaped yet."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except FileNotFoundError:
        return True
    return stat.rpartition(b")")[2].split()[:1] in ([b"Z"], [b"X"])


def _cpu_ticks(pid: int) -> int:
    """The process's user and system CPU time so far, in clock ticks (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_bytes().rpartition(b")")[2].split()
    except FileNotFoundError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime and stime: fields 14 and 15 of stat


def _wait_busy(pids: list[int]) -> None:
    """Wait until the workers have spent a fifth of a second of CPU since the call: a review is
    running in one of them. (A fixed sleep was a guess that a loaded machine could outrun.)"""
    ticks = os.sysconf("SC_CLK_TCK") // 5
    before = sum(_cpu_ticks(pid) for pid in pids)
    deadline = time.monotonic() + 60
    while sum(_cpu_ticks(pid) for pid in pids) - before < ticks:
        assert time.monotonic() < deadline, "no worker began the review within 60 s"
        time.sleep(0.02)


def test_a_killed_worker_fails_its_request_and_the_next_succeeds(server: Server) -> None:
    before = server.records()
    pids = server.worker_pids()
    assert len(pids) == 2
    answers: list[Answer] = []
    body = _batch(900)
    assert len(body) < 8 * 1024 * 1024
    request = threading.Thread(target=lambda: answers.append(server.review(body)))
    request.start()
    _wait_busy(pids)  # the batch takes seconds: a worker is mid-review
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    request.join(timeout=120)
    (answer,) = answers
    assert answer.status == 503, answer.body
    assert answer.json()["error"]["code"] == "review_unavailable"
    assert "x-compliance-decision" not in answer.headers
    assert server.records() == before  # nothing recorded, nothing approved
    # A SIGKILL takes a moment to end a process: a job handed to a worker still dying fails
    # closed (503) as the one above did. Once both are dead, the next request is served.
    deadline = time.monotonic() + 30
    while not all(_ended(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    body = (FIXTURES / "exemplary-community-policing.json").read_bytes()
    again = server.review(body)
    assert again.status == 200
    assert again.headers["x-compliance-decision"] == "approve"
    deadline = time.monotonic() + 60
    while len(server.worker_pids()) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(set(server.worker_pids()) - set(pids)) == 2  # both replaced
    assert server.process.poll() is None


# -------------------------------------------------------------------- a server of its own


def test_timeouts_and_a_record_that_outlives_a_kill(tmp_path: Path) -> None:
    s = start_server(tmp_path, "--workers", "1", "--timeout", "1")
    try:
        slow = s.review(_batch(1000))
        assert slow.status == 504, slow.body
        assert slow.json()["error"]["code"] == "review_timeout"
        ok = s.review((FIXTURES / "flawed-refugee-data-sharing.json").read_bytes())
        assert ok.status == 200
        record_id = ok.headers["x-compliance-decision-id"]
    finally:
        s.process.kill()  # no shutdown: the record must already be on disk
        s.process.wait()
    log = open_log(str(s.log_path))
    try:
        record = log.get(record_id)
        assert record is not None
        assert record.decision == "reject"
        assert log.count() == 1
    finally:
        log.close()


@pytest.mark.parametrize(
    ("args", "tokens", "message"),
    [
        (
            ["--host", "0.0.0.0", "--insecure-no-auth"],
            "",
            "error: --insecure-no-auth is allowed only on a loopback address",
        ),
        ([], "", "error: no API tokens: set COMPLIANCE_API_TOKENS=name=token"),
        (
            [],
            "ci=short",
            "error: COMPLIANCE_API_TOKENS: entry 1 (ci): a token needs 16 characters or more",
        ),
    ],
)
def test_serving_without_safe_auth_is_refused(
    tmp_path: Path, args: list[str], tokens: str, message: str
) -> None:
    run = run_cli(
        *("serve", "--port", str(free_port()), "--no-config", *args),
        cwd=tmp_path,
        env={"COMPLIANCE_API_TOKENS": tokens},
    )
    assert (run.code, run.out) == (2, "")
    assert run.err.startswith(message)


def test_without_auth_on_loopback_the_log_says_anonymous(tmp_path: Path) -> None:
    s = start_server(tmp_path, "--workers", "1", "--insecure-no-auth", env_tokens="")
    try:
        answer = s.review((FIXTURES / "exemplary-community-policing.json").read_bytes(), token=None)
        assert answer.status == 200
        record = s.call(
            "GET", f"/v1/decisions/{answer.headers['x-compliance-decision-id']}", token=None
        )
        assert record.json()["client"] == "anonymous"
    finally:
        stop(s)


def test_a_postgresql_decision_log(tmp_path: Path) -> None:
    url = os.environ.get("COMPLIANCE_TEST_POSTGRES_URL")
    if not url:
        pytest.skip(
            "COMPLIANCE_TEST_POSTGRES_URL is not set (run .ci/postgres and eval its output)"
        )
    schema = f"svc_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    target = f"{url}{'&' if '?' in url else '?'}schema={schema}"
    port = free_port()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "COMPLIANCE_API_TOKENS": f"ci={TOKEN}"}
    process = subprocess.Popen(
        [sys.executable, "-m", "compliance", "serve", "--port", str(port), "--no-config",
         "--workers", "1", "--decision-log", target],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    s = Server(process, port, tmp_path / "unused", tmp_path / "unused.log")
    try:
        wait_ready(s)
        answer = s.review((FIXTURES / "flawed-refugee-data-sharing.json").read_bytes())
        assert answer.status == 200
        record_id = answer.headers["x-compliance-decision-id"]
    finally:
        process.kill()
        process.wait()
    log = open_log(target)
    try:
        record = log.get(record_id)
        assert record is not None
        assert record.report == answer.json()
    finally:
        log.close()
        import psycopg

        with psycopg.connect(url) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


# --------------------------------------------------------- found by an adversarial review


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/v1/decisions?limit=abc", 400, "invalid_request"),
        ("/v1/decisions?since=notadate", 400, "invalid_request"),
        ("/v1/nothing-here", 404, "not_found"),
        ("/nothing-here", 404, "not_found"),
    ],
)
def test_every_error_has_the_json_error_body(
    server: Server, path: str, status: int, code: str
) -> None:
    answer = server.call("GET", path)
    assert answer.status == status
    assert answer.json()["error"]["code"] == code
    if path.startswith("/v1"):  # and without a token, the token is checked first
        assert server.call("GET", path, token=None).status == 401


def test_two_authorization_headers_are_refused(server: Server) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.putrequest("GET", "/v1/rules")
    conn.putheader("Authorization", f"Bearer {TOKEN}")
    conn.putheader("Authorization", "Bearer wrong-wrong-wrong-wrong")
    conn.endheaders()
    assert conn.getresponse().status == 401
    conn.close()


@pytest.mark.parametrize(
    "name", ["\U0001f600" * 70 + ".xlsx", "\u00fc" * 119 + ".xlsx", "a" * 300 + ".xlsx"]
)
def test_long_upload_names_are_shortened_and_keep_their_suffix(server: Server, name: str) -> None:
    from urllib.parse import quote

    answer = server.review(
        (FIXTURES / "workbooks" / "flawed-data-sharing-biometrics-left-behind.xlsx").read_bytes(),
        f"?filename={quote(name)}",
        content_type=XLSX,
    )
    assert answer.status == 200, answer.body
    source = answer.json()["reviews"][0]["source"]
    assert source.endswith(".xlsx")
    assert len(source.encode()) <= 120


def test_a_lone_surrogate_is_a_422_like_the_cli(server: Server) -> None:
    text = (FIXTURES / "exemplary-humanitarian.json").read_text()
    text = text.replace('"id": "', '"id": "\\ud800', 1)
    answer = server.review(text.encode())
    assert answer.status == 422
    assert answer.json()["error"]["code"] == "invalid_input"


def test_a_stopped_worker_is_replaced_and_a_stop_mid_review_times_out(tmp_path: Path) -> None:
    s = start_server(tmp_path, "--workers", "1", "--timeout", "3")
    try:
        body = (FIXTURES / "exemplary-humanitarian.json").read_bytes()
        (first,) = s.worker_pids()
        os.kill(first, signal.SIGSTOP)  # stopped while idle: never sent a job
        assert s.review(body).status == 200
        (second,) = s.worker_pids()
        assert second != first
        answers: list[Answer] = []
        request = threading.Thread(target=lambda: answers.append(s.review(_batch(900))))
        started = time.monotonic()
        request.start()
        _wait_busy([second])
        os.kill(second, signal.SIGSTOP)  # stopped mid-review
        request.join(timeout=60)
        (answer,) = answers
        assert answer.status == 504
        assert answer.json()["error"]["code"] == "review_timeout"
        assert time.monotonic() - started < 20
        assert s.review(body).status == 200
        assert s.records() == 2
    finally:
        stop(s)


def test_a_deleted_decision_log_fails_closed(tmp_path: Path) -> None:
    s = start_server(tmp_path, "--workers", "1")
    try:
        body = (FIXTURES / "exemplary-humanitarian.json").read_bytes()
        assert s.review(body).status == 200
        for suffix in ("", "-wal", "-shm"):
            Path(f"{s.log_path}{suffix}").unlink(missing_ok=True)
        answer = s.review(body)
        assert answer.status == 500
        assert "x-compliance-decision" not in answer.headers
        assert "the file is gone" in answer.json()["error"]["message"]
        assert s.call("GET", "/readyz", token=None).status == 503
    finally:
        stop(s)


def test_tokens_and_the_decision_log_from_the_config(tmp_path: Path) -> None:
    import hashlib

    token = "from-the-config-" + "z" * 20
    (tmp_path / "compliance.toml").write_text(
        '[service]\ndecision_log = "logs/decisions.sqlite"\n\n[[service.tokens]]\n'
        f'name = "portal"\nsha256 = "{hashlib.sha256(token.encode()).hexdigest()}"\n',
        encoding="utf-8",
    )
    (tmp_path / "logs").mkdir()
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "compliance", "serve", "--port", str(port), "--workers", "1"],
        cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    s = Server(process, port, tmp_path / "logs" / "decisions.sqlite", tmp_path / "none")
    try:
        wait_ready(s)
        body = (FIXTURES / "exemplary-humanitarian.json").read_bytes()
        assert s.review(body, token=TOKEN).status == 401  # only the config's token
        answer = s.review(body, token=token)
        assert answer.status == 200
        record = s.call(
            "GET", f"/v1/decisions/{answer.headers['x-compliance-decision-id']}", token=token
        )
        assert record.json()["client"] == "portal"
        assert s.records() == 1
        too_many = s.review(_batch(1001), token=token)
        assert too_many.status == 422
        assert too_many.json()["error"]["message"] == (
            "request.json: 1001 proposals; this service reviews at most 1000 per request"
        )
    finally:
        stop(s)


def test_transfer_encoding_with_content_length_is_refused(server: Server) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(
            b"POST /v1/reviews HTTP/1.1\r\nHost: x\r\n"
            + f"Authorization: Bearer {TOKEN}\r\n".encode()
            + b"Content-Type: application/json\r\nContent-Length: 4\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
        )
        response = http.client.HTTPResponse(sock)
        response.begin()
        body = json.loads(response.read())
    assert response.status == 400
    assert body["error"]["message"] == (
        "a request may not carry both Transfer-Encoding and Content-Length"
    )


# ---------------------------------------------------------------------------- slow clients

HEAD_TIMEOUT = 2.0
BODY_TIMEOUT = 3.0


@pytest.fixture(scope="module")
def deadlines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = start_server(
        tmp_path_factory.mktemp("deadlines"),
        "--workers", "1",
        "--head-timeout", str(HEAD_TIMEOUT),
        "--body-timeout", str(BODY_TIMEOUT),
    )  # fmt: skip
    yield s
    stop(s)


def _until_closed(sock: socket.socket, limit: float = 30) -> tuple[float, bytes]:
    """Seconds until the server closed ``sock``, and everything it sent before."""
    started = time.monotonic()
    sock.settimeout(limit)
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return time.monotonic() - started, received


def _answer(raw: bytes) -> tuple[int, dict[str, str], Any]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("ascii").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, json.loads(body)


def _head(length: int) -> bytes:
    return (
        b"POST /v1/reviews HTTP/1.1\r\nHost: x\r\n"
        + f"Authorization: Bearer {TOKEN}\r\n".encode()
        + f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n".encode()
    )


def test_a_connection_that_sends_nothing_is_closed_at_the_head_timeout(
    deadlines: Server,
) -> None:
    with socket.create_connection(("127.0.0.1", deadlines.port)) as sock:
        waited, received = _until_closed(sock)
    assert received == b""
    assert HEAD_TIMEOUT - 0.1 <= waited < HEAD_TIMEOUT + 5


def test_a_stalled_request_head_is_408_and_the_connection_closed(deadlines: Server) -> None:
    before = deadlines.records()
    with socket.create_connection(("127.0.0.1", deadlines.port)) as sock:
        sock.sendall(b"POST /v1/reviews HTTP/1.1\r\nHost: x\r\n")
        waited, received = _until_closed(sock)
    status, headers, body = _answer(received)
    assert (status, headers["connection"]) == (408, "close")
    assert body == {
        "error": {
            "status": 408,
            "code": "request_timeout",
            "message": "the request head did not arrive within 2 s",
            "problems": ["the request head did not arrive within 2 s"],
        }
    }
    assert HEAD_TIMEOUT - 0.1 <= waited < HEAD_TIMEOUT + 5
    assert deadlines.records() == before
    assert "request head incomplete after 2 s (36 bytes): closed" in _output(deadlines)


def test_a_stalled_body_is_408_and_nothing_is_reviewed(deadlines: Server) -> None:
    before = deadlines.records()
    with socket.create_connection(("127.0.0.1", deadlines.port)) as sock:
        sock.sendall(_head(100) + b'{"proposal_id": ')
        waited, received = _until_closed(sock)
    status, headers, body = _answer(received)
    assert (status, headers["connection"]) == (408, "close")
    assert "x-compliance-decision" not in headers
    assert body["error"]["problems"] == [
        "the request body did not arrive within 3 s (16 bytes received)"
    ]
    assert BODY_TIMEOUT - 0.1 <= waited < BODY_TIMEOUT + 5
    assert deadlines.records() == before


def test_a_slow_client_within_the_deadlines_is_served(deadlines: Server) -> None:
    body = (FIXTURES / "exemplary-community-policing.json").read_bytes()
    head = _head(len(body))
    with socket.create_connection(("127.0.0.1", deadlines.port), timeout=60) as sock:
        for part in (head[:20], head[20:60], head[60:]):  # the head over about 1 s, in time
            sock.sendall(part)
            time.sleep(0.4)
        third = len(body) // 3
        for part in (body[:third], body[third : 2 * third], body[2 * third :]):
            sock.sendall(part)
            time.sleep(0.6)
        response = http.client.HTTPResponse(sock)
        response.begin()
        report = json.loads(response.read())
    assert response.status == 200
    assert response.getheader("X-Compliance-Decision") == "approve"
    assert report["reviews"][0]["decision"] == "approve"


def test_the_next_request_on_a_kept_alive_connection_has_its_own_head_deadline(
    deadlines: Server,
) -> None:
    with socket.create_connection(("127.0.0.1", deadlines.port), timeout=60) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        first = http.client.HTTPResponse(sock)
        first.begin()
        first.read()
        assert first.status == 200
        time.sleep(HEAD_TIMEOUT + 0.5)  # idle longer than a head may take: keep-alive's to end
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        waited, received = _until_closed(sock)
    assert _answer(received)[0] == 408
    assert HEAD_TIMEOUT - 0.1 <= waited < HEAD_TIMEOUT + 5


def test_a_body_answered_before_it_was_read_cannot_be_trickled_for_ever(
    deadlines: Server,
) -> None:
    with socket.create_connection(("127.0.0.1", deadlines.port)) as sock:
        sock.sendall(b"POST /v1/reviews HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n")
        sock.settimeout(30)
        answer = http.client.HTTPResponse(sock)
        answer.begin()
        answer.read()
        assert answer.status == 401  # at once: no token, and the body is never read
        sock.settimeout(0.25)
        started = time.monotonic()
        closed = False
        while not closed and time.monotonic() - started < HEAD_TIMEOUT + 8:
            try:
                sock.sendall(b"x")  # one byte of the body every 0.25 s
                closed = sock.recv(65536) == b""
            except TimeoutError:
                pass  # still open
            except OSError:
                closed = True  # reset by the server
        waited = time.monotonic() - started
    assert closed
    assert HEAD_TIMEOUT - 0.1 <= waited < HEAD_TIMEOUT + 5
    assert "request body unfinished 2 s after its response: closed" in _output(deadlines)


@pytest.mark.parametrize(
    ("opening", "then"),
    [
        # a head begun right behind a body the response did not wait for
        (
            b"POST /v1/reviews HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n",
            b"helloGET /healthz HTTP/1.1\r\n",
        ),
        # a head begun in the same packet as a complete request (pipelined)
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\n", b""),
    ],
    ids=["after-a-discarded-body", "pipelined"],
)
def test_a_head_begun_behind_a_response_has_the_head_deadline(
    deadlines: Server, opening: bytes, then: bytes
) -> None:
    with socket.create_connection(("127.0.0.1", deadlines.port)) as sock:
        sock.sendall(opening)
        sock.settimeout(30)
        first = http.client.HTTPResponse(sock)
        first.begin()
        first.read()
        assert first.status in (401, 200)
        if then:
            sock.sendall(then)  # then nothing more
        waited, received = _until_closed(sock)
    assert _answer(received)[0] == 408  # not a silent close by keep-alive (5 s)
    assert HEAD_TIMEOUT - 0.5 <= waited < HEAD_TIMEOUT + 2.5


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--head-timeout", "nan"),
        ("--body-timeout", "NaN"),
        ("--timeout", "inf"),
        ("--max-body-mb", "nan"),
    ],
)
def test_limits_must_be_finite_numbers(option: str, value: str) -> None:
    run = run_cli("serve", "--insecure-no-auth", "--no-config", option, value)
    assert (run.code, run.out) == (2, "")
    assert run.err.splitlines()[-1] == (
        f"Error: Invalid value for '{option}': {value!r} is not a finite number"
    )
