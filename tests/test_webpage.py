"""The reviewer's page on ``compliance serve``: its API routes over plain HTTP, then the page itself
in a real browser (Debian's Chromium driven by Playwright) against a real server on loopback, as a
reviewer would use it: type the token, download the template, drop a file, read the review,
download it in every format, keyboard only, at WCAG AA contrast, with nothing leaving loopback and
the token in no URL."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the serve extra is not installed")

from compliance.service.decision_log import DecisionRecord, new_id, open_log

from .conftest import FIXTURES, run_cli
from .test_service import OTHER, TOKEN, Server, start_server, stop

CHROMIUM = Path("/usr/bin/chromium")
FLAWED = FIXTURES / "flawed-refugee-data-sharing.json"
EXEMPLARY = FIXTURES / "exemplary-humanitarian.json"
WRONG = "not-the-right-token-0000000000"
UNAUTHORIZED = "a valid bearer token is required (Authorization: Bearer <token>)"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("json", "html", "markdown", "sarif", "xlsx")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = start_server(tmp_path_factory.mktemp("webpage"), "--workers", "1", "--max-body-mb", "1")
    yield s
    stop(s)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The flawed fixture as JSON and as a workbook made by ``compliance export``, under the
    names the page uploads them with."""
    home = tmp_path_factory.mktemp("files")
    json_file = home / "refugee-data.json"
    shutil.copy(FLAWED, json_file)
    book = home / "refugee-data.xlsx"
    run = run_cli("export", str(FLAWED), str(book))
    assert run.code == 0, run.err
    return {"json": json_file, "workbook": book}


def upload(server: Server, path: Path, token: str = TOKEN) -> Any:
    """POST ``path`` as the page does: a multipart upload in the field ``file``."""
    boundary = "page-boundary-7d1f"
    kind = XLSX if path.suffix == ".xlsx" else "application/json"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
            f"Content-Type: {kind}\r\n\r\n"
        ).encode()
        + path.read_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return server.call(
        "POST",
        "/v1/reviews",
        body,
        token=token,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def report_of(server: Server, record_id: str, fmt: str, token: str | None = TOKEN) -> Any:
    return server.call("GET", f"/v1/decisions/{record_id}/report?format={fmt}", token=token)


def error(status: int, code: str, message: str) -> dict[str, Any]:
    return {"error": {"status": status, "code": code, "message": message, "problems": [message]}}


def sheets(book: bytes) -> dict[str, list[tuple[Any, ...]]]:
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(book))
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets}


def items_named(html: bytes) -> tuple[list[str], list[str]]:
    """How an HTML report names the list items: in its one-line findings, then in the details."""
    page = html.decode()
    return (
        re.findall(r'class="about">\(([^<]*)\)', page),
        re.findall(r'<p class="item">(.*?)</p>', page),
    )


def refugee_items(origin: str, host: str, vendor: str) -> tuple[list[str], list[str]]:
    """:func:`items_named` of the flawed fixture's HTML report, its recipients and processor
    (``data_sharing.flows[1]``, ``flows[0]``, ``processors[0]``) called ``origin``, ``host`` and
    ``vendor``."""
    lines = [origin] * 3 + [vendor, host] + [origin] * 4 + [vendor]
    paths = {
        origin: "data_sharing.flows[1]",
        host: "data_sharing.flows[0]",
        vendor: "data_sharing.processors[0]",
    }
    return lines, [f"Item: {label} <code>{paths[label]}</code>" for label in lines]


# ----------------------------------------------------------------------- the API, over HTTP


def test_the_page_is_served_with_a_policy_that_forbids_remote_loads(server: Server) -> None:
    page = server.call("GET", "/", token=None)
    assert page.status == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    csp = page.headers["content-security-policy"]
    style_hash = re.search(r"'sha256-[A-Za-z0-9+/=]+'", csp)
    assert style_hash is not None
    assert csp == (
        "default-src 'none'; script-src 'self'; connect-src 'self'; "
        f"style-src 'self' {style_hash.group(0)}; img-src 'self' data:; frame-src blob:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    html = page.body.decode()
    assert "<script>" not in html
    assert " style=" not in html
    assert "<style" not in html
    links = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert links == ["data:,", "/page.css", "/page.js"]
    for name, media in (("page.css", "text/css"), ("page.js", "text/javascript")):
        answer = server.call("GET", f"/{name}", token=None)
        assert answer.status == 200
        assert answer.headers["content-type"] == f"{media}; charset=utf-8"
        assert b"http:" not in answer.body
        assert b"https:" not in answer.body
    assert server.call("GET", "/page.txt", token=None).status == 404
    assert server.call("POST", "/page.js", b"{}", token=None).status == 405


def test_the_report_stylesheet_is_the_one_the_page_policy_allows(server: Server) -> None:
    """The page frames the HTML report as a blob: document, which inherits the page's policy:
    its one inline stylesheet must be allowed by hash, or the report shows unstyled."""
    answer = upload(server, FLAWED)
    html = report_of(server, answer.headers["x-compliance-decision-id"], "html").body.decode()
    styles = re.findall(r"<style>(.*?)</style>", html, re.S)
    assert len(styles) == 1
    assert " style=" not in html
    digest = base64.b64encode(hashlib.sha256(styles[0].encode()).digest()).decode()
    assert (
        f"'sha256-{digest}'"
        in server.call("GET", "/", token=None).headers["content-security-policy"]
    )


def test_a_recorded_review_in_every_format_is_the_cli_report(
    server: Server, files: dict[str, Path]
) -> None:
    answer = upload(server, files["json"])
    assert answer.status == 200
    assert answer.headers["x-compliance-decision"] == "reject"
    record_id = answer.headers["x-compliance-decision-id"]
    got = {fmt: report_of(server, record_id, fmt) for fmt in FORMATS}
    for fmt, (media, suffix) in {
        "json": ("application/json", "json"),
        "html": ("text/html; charset=utf-8", "html"),
        "markdown": ("text/markdown; charset=utf-8", "md"),
        "sarif": ("application/sarif+json", "sarif"),
        "xlsx": (XLSX, "xlsx"),
    }.items():
        one = got[fmt]
        assert one.status == 200, one.body[:300]
        assert one.headers["content-type"] == media
        assert one.headers["content-disposition"] == (
            f'attachment; filename="review-{record_id}.{suffix}"'
        )
        assert one.headers["x-compliance-decision"] == "reject"
        assert one.headers["x-compliance-exit-code"] == "3"
        assert one.headers["x-compliance-decision-id"] == record_id
        assert one.headers["x-content-type-options"] == "nosniff"
    assert got["json"].body == answer.body  # the report exactly as the review answered it
    assert got["html"].headers["content-security-policy"] == (
        "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    )
    # The same reports as the CLI's for the same file under the same name.
    home = files["json"].parent
    cli_formats = ("markdown", "sarif", "html", "xlsx")
    run = run_cli(
        "review", files["json"].name, "--no-config",
        *(arg for fmt in cli_formats for arg in ("--format", fmt, "-o", f"cli.{fmt}")),
        cwd=home,
    )  # fmt: skip
    assert run.code == 3, run.err
    cli = {fmt: (home / f"cli.{fmt}").read_bytes() for fmt in cli_formats}
    assert got["markdown"].body == cli["markdown"]
    # The record keeps the report, whose reviews name their list items: the service's page names
    # them by what they hold, as the CLI's does.
    assert got["html"].body == cli["html"]
    assert items_named(got["html"].body) == refugee_items(
        "data flow &quot;Ministry of Home Affairs of the country…&quot;",
        "data flow &quot;Host Government Refugee Relief Commissi…&quot;",
        "processor &quot;BioID Systems Ltd&quot;",
    )
    assert sheets(got["xlsx"].body) == sheets(cli["xlsx"])
    cli_sarif = json.loads(cli["sarif"])
    base = cli_sarif["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]
    assert base.pop("uri") == home.as_uri() + "/"
    assert json.loads(got["sarif"].body) == cli_sarif  # where the service runs is not said
    assert str(server.log_path.parent) not in got["sarif"].body.decode()
    report = json.loads(answer.body)
    sarif = json.loads(got["sarif"].body)
    assert sarif["version"] == "2.1.0"
    assert sarif["runs"][0]["invocations"][0]["properties"]["decisions"][0]["decision"] == "reject"
    assert [r["ruleId"] for r in sarif["runs"][0]["results"]] == [
        f["rule_id"] for f in report["reviews"][0]["findings"]
    ]
    assert "**Decision: reject**." in got["markdown"].body.decode()
    book = sheets(got["xlsx"].body)
    assert ("Decisions", "1 reject") in [row[:2] for row in book["Summary"]]
    assert [row[5] for row in book["Findings"][1:]] == [
        f["rule_id"] for f in report["reviews"][0]["findings"]
    ]


def test_sarif_of_a_narrowed_review_describes_the_rules_that_ran(
    server: Server, tmp_path: Path
) -> None:
    answer = server.review(FLAWED.read_bytes(), "?domain=data_sharing&skip_rule=DS-003")
    assert answer.status == 200
    got = json.loads(report_of(server, answer.headers["x-compliance-decision-id"], "sarif").body)
    shutil.copy(FLAWED, tmp_path / "request.json")
    run = run_cli(
        "review", "request.json", "--no-config", "--domain", "data_sharing",
        "--skip-rule", "DS-003", "--format", "sarif", cwd=tmp_path,
    )  # fmt: skip
    cli = json.loads(run.out)
    del cli["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert got == cli
    ids = [r["id"] for r in got["runs"][0]["tool"]["driver"]["rules"]]
    assert ids
    assert all(i.startswith("DS-") for i in ids)
    assert "DS-003" not in ids


def test_the_template_is_the_cli_template(server: Server) -> None:
    from compliance.workbook.layout import Layout
    from compliance.workbook.write import build, to_bytes  # what `compliance template` writes

    for layout, name in (
        ("single", "proposal-template.xlsx"),
        ("register", "proposal-register.xlsx"),
    ):
        answer = server.call("GET", f"/v1/template?layout={layout}")
        assert answer.status == 200
        assert answer.headers["content-type"] == XLSX
        assert answer.headers["content-disposition"] == f'attachment; filename="{name}"'
        assert sheets(answer.body) == sheets(to_bytes(build(Layout(layout))))
    assert server.call("GET", "/v1/template").headers["content-disposition"] == (
        'attachment; filename="proposal-template.xlsx"'
    )
    bad = server.call("GET", "/v1/template?layout=wide")
    assert bad.status == 400
    assert bad.json()["error"]["code"] == "invalid_request"
    assert bad.json()["error"]["message"] == "layout: Input should be 'single' or 'register'"


@pytest.mark.parametrize(
    "path", ["/v1/template", "/v1/decisions/0123456789abcdef0123456789abcdef/report"]
)
@pytest.mark.parametrize("token", [None, WRONG])
def test_the_new_routes_need_a_token(server: Server, path: str, token: str | None) -> None:
    answer = server.call("GET", path, token=token)
    assert answer.status == 401
    assert answer.json() == error(401, "unauthorized", UNAUTHORIZED)


def test_report_errors(server: Server) -> None:
    missing = report_of(server, "0123456789abcdef0123456789abcdef", "html")
    assert missing.status == 404
    assert missing.json() == error(
        404, "not_found", "no decision '0123456789abcdef0123456789abcdef'"
    )
    record_id = upload(server, EXEMPLARY).headers["x-compliance-decision-id"]
    bad = report_of(server, record_id, "pdf")
    assert bad.status == 400
    assert bad.json()["error"]["message"] == (
        "format: Input should be 'json', 'html', 'markdown', 'sarif' or 'xlsx'"
    )
    assert report_of(server, record_id, "junit").status == 400


def test_a_decision_made_with_other_rules_is_served_as_json_only(server: Server) -> None:
    answer = upload(server, EXEMPLARY)
    log = open_log(str(server.log_path))
    try:
        kept = log.get(answer.headers["x-compliance-decision-id"])
        assert kept is not None
        old = DecisionRecord(
            **{
                **{k: getattr(kept, k) for k in kept.__dataclass_fields__ if k != "report_json"},
                "id": new_id(),
                "rule_set_hash": "sha256:" + "0" * 64,
            }
        )
        log.append(old)
    finally:
        log.close()
    assert report_of(server, old.id, "json").json() == json.loads(answer.body)
    refused = report_of(server, old.id, "markdown")
    assert refused.status == 400
    assert refused.json()["error"]["message"] == (
        f"decision {old.id} was made with rule set {old.rule_set_name} {old.rule_set_version} "
        f"(sha256:{'0' * 64}); this service now runs {old.rule_set_name} "
        f"{old.rule_set_version} ({kept.rule_set_hash}): only format=json is served for it"
    )


def test_a_decision_recorded_before_reviews_named_their_items_renders_them_by_place(
    server: Server,
) -> None:
    """A record of report 1.4 has no item names: it still renders, each item by its place."""
    answer = upload(server, FLAWED)
    log = open_log(str(server.log_path))
    try:
        kept = log.get(answer.headers["x-compliance-decision-id"])
        assert kept is not None
        report = json.loads(answer.body)
        assert report["report_version"] == "1.5"
        assert report["reviews"][0]["item_names"] == {
            "data_sharing.flows[1]": "Ministry of Home Affairs of the country of origin",
            "data_sharing.processors[0]": "BioID Systems Ltd",
            "data_sharing.flows[0]": "Host Government Refugee Relief Commission",
        }
        report["report_version"] = "1.4"
        for review in report["reviews"]:
            del review["item_names"]
        old = DecisionRecord(
            **{
                **{
                    k: getattr(kept, k)
                    for k in kept.__dataclass_fields__
                    if k not in ("report_json", "report")
                },
                "id": new_id(),
                "report": report,
            }
        )
        log.append(old)
    finally:
        log.close()
    assert report_of(server, old.id, "json").json() == report
    served = report_of(server, old.id, "html")
    assert served.status == 200
    assert items_named(served.body) == refugee_items("data flow 2", "data flow 1", "processor 1")
    assert "report version 1.4" in served.body.decode()
    assert report_of(server, old.id, "markdown").status == 200


def test_a_review_with_too_many_findings_is_served_as_json_only(server: Server) -> None:
    base = json.loads(FLAWED.read_text())
    batch = [dict(base, id=f"BIG-{i:03d}") for i in range(130)]
    answer = server.review(json.dumps(batch).encode())
    assert answer.status == 200
    found = sum(len(r["findings"]) for r in json.loads(answer.body)["reviews"])
    assert found > 5000
    record_id = answer.headers["x-compliance-decision-id"]
    refused = report_of(server, record_id, "xlsx")
    assert refused.status == 400
    assert refused.json()["error"]["message"] == (
        f"decision {record_id} has {found} findings; this service renders at most 5000 as "
        "xlsx: download format=json, or review fewer proposals per request"
    )
    assert report_of(server, record_id, "json").body == answer.body


def test_the_new_routes_are_in_the_openapi_document(server: Server) -> None:
    doc = server.call("GET", "/openapi.json", token=None).json()
    report = doc["paths"]["/v1/decisions/{record_id}/report"]["get"]
    assert sorted(report["responses"]) == ["200", "400", "401", "404", "408", "413", "500", "503"]
    assert sorted(report["responses"]["200"]["content"]) == sorted(
        ["application/json", "text/html", "text/markdown", "application/sarif+json", XLSX]
    )
    template = doc["paths"]["/v1/template"]["get"]
    assert sorted(template["responses"]) == ["200", "400", "401", "408", "413", "500"]
    assert list(template["responses"]["200"]["content"]) == [XLSX]
    assert "/" not in doc["paths"]
    assert "/page.js" not in doc["paths"]


# --------------------------------------------------------------------------- in a browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        yield launched
        launched.close()


class Visit:
    """One browser tab on the page, recording every request it makes."""

    def __init__(self, browser: Any, server: Server) -> None:
        self.base = f"http://127.0.0.1:{server.port}"
        self.context = browser.new_context(accept_downloads=True)
        self.page = self.context.new_page()
        # File choosers are intercepted from the start. Playwright turns interception on when
        # the first "filechooser" listener is added, with a message it does not wait for; added
        # only around a key press (expect_file_chooser), the press could reach Chromium first on a
        # loaded machine, headless Chromium then cancelled its own dialog, and the wait timed out
        # (2 of 30 runs of test_keyboard_only with three busy loops beside it).
        self.page.on("filechooser", lambda chooser: None)
        self.urls: list[str] = []
        self.context.on("request", lambda request: self.urls.append(request.url))
        self.page.goto(self.base + "/")

    def download(self, action: Any) -> tuple[str, bytes]:
        with self.page.expect_download() as info:
            action()
        path = info.value.path()
        return info.value.suggested_filename, Path(path).read_bytes()

    def review(self, path: Path, decision: str) -> None:
        self.page.set_input_files("#file", str(path))
        self.page.click("#review")
        self.wait_reviewed(path, decision)

    def wait_reviewed(self, path: Path, decision: str) -> None:
        self.page.wait_for_selector(f"#status:has-text('Reviewed {path.name}')")
        assert self.page.text_content("#decision") == f"{LABELS[decision]} ({decision})"

    def check_loopback_only(self, *secrets: str) -> None:
        assert self.urls
        for url in self.urls:
            assert url.startswith((self.base + "/", "blob:" + self.base + "/", "data:")), url
            for secret in secrets:
                assert secret not in url

    def close(self) -> None:
        self.context.close()


LABELS = {
    "reject": "Rejected",
    "needs_information": "Needs information",
    "approve_with_conditions": "Approved with conditions",
    "approve": "Approved",
}


@pytest.fixture
def visit(browser: Any, server: Server) -> Iterator[Visit]:
    v = Visit(browser, server)
    yield v
    v.close()


def check_download(server: Server, record_id: str, fmt: str, name: str, body: bytes) -> None:
    """A downloaded review: named after the file reviewed, and the service's report of that
    review in that format (which the HTTP tests hold to the CLI's)."""
    suffix = {"json": "json", "markdown": "md", "sarif": "sarif", "xlsx": "xlsx", "html": "html"}
    assert name == f"refugee-data-review.{suffix[fmt]}"
    expected = report_of(server, record_id, fmt).body
    if fmt == "xlsx":
        assert sheets(body) == sheets(expected)
    else:
        assert body == expected
    if fmt == "json":
        assert json.loads(body)["reviews"][0]["decision"] == "reject"


def test_a_reviewer_downloads_the_template_reviews_and_downloads_the_review(
    visit: Visit, server: Server, files: dict[str, Path]
) -> None:
    page = visit.page
    assert page.title() == "Compliance review"
    assert page.get_attribute("#token", "type") == "password"
    page.fill("#token", TOKEN)
    for button, name in (
        ("#template-single", "proposal-template.xlsx"),
        ("#template-register", "proposal-register.xlsx"),
    ):
        got_name, book = visit.download(lambda b=button: page.click(b))
        assert got_name == name
        assert "Instructions" in sheets(book) or len(sheets(book)) > 1
    # A JSON proposal through the file input.
    visit.review(files["json"], "reject")
    detail = page.text_content("#decision-detail") or ""
    record_id = re.search(r"Decision record ([0-9a-f]{32})\.", detail)
    assert record_id is not None
    report = json.loads(report_of(server, record_id.group(1), "json").body)
    findings = report["reviews"][0]["findings"]
    assert detail == (
        f"1 proposal from refugee-data.json, {len(findings)} findings; the command line would "
        f"exit with 3. Decision record {record_id.group(1)}."
    )
    frame = page.frame_locator("#report")
    assert page.get_attribute("#report", "sandbox") == ""
    frame.locator("body").wait_for()
    text = frame.locator("body").inner_text()
    for finding in findings:
        assert finding["rule_id"] in text
    assert "reject" in text.lower()
    # The report's own stylesheet applies inside the frame: the frame inherits the page's
    # policy, which allows that stylesheet by its hash (without it, Chromium drops the sheet).
    assert frame.locator("body").evaluate(
        "() => [document.styleSheets.length, document.styleSheets[0].cssRules.length > 50]"
    ) == [1, True]
    for fmt in ("xlsx", "markdown", "sarif", "json", "html"):
        name, body = visit.download(lambda f=fmt: page.click(f"#downloads [data-format={f}]"))
        check_download(server, record_id.group(1), fmt, name, body)
    # A workbook dropped on the drop zone.
    workbook = files["workbook"]
    transfer = page.evaluate_handle(
        """([name, data]) => {
            const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
            const t = new DataTransfer();
            t.items.add(new File([bytes], name));
            return t;
        }""",
        [workbook.name, base64.b64encode(workbook.read_bytes()).decode()],
    )
    page.dispatch_event("#drop", "drop", {"dataTransfer": transfer})
    assert page.text_content("#chosen") == (
        f"Chosen: {workbook.name} ({workbook.stat().st_size:,} bytes). Press Review."
    )
    page.click("#review")
    visit.wait_reviewed(workbook, "reject")
    frame.locator("body").wait_for()
    book_text = frame.locator("body").inner_text()
    name, body = visit.download(lambda: page.click("#downloads [data-format=json]"))
    assert name == "refugee-data-review.json"
    book_review = json.loads(body)["reviews"][0]
    assert book_review["decision"] == "reject"
    assert book_review["source"] == "refugee-data.xlsx"
    assert "refugee-data.xlsx" in book_text
    for finding in book_review["findings"]:
        assert finding["rule_id"] in book_text
    # Recent decisions: the two reviews, newest first.
    page.click("#decisions-load")
    page.wait_for_selector("#decisions:not([hidden])")
    rows = page.locator("#decisions-rows tr")
    assert rows.count() >= 2
    assert rows.nth(0).locator("td").nth(1).inner_text() == "Rejected"
    assert rows.nth(0).locator("td").nth(3).inner_text() == "ci"
    rows.nth(1).get_by_role("button", name="Open the review of PRP-2026-034").click()
    page.wait_for_selector("#status:has-text('Showing decision')")
    assert (page.text_content("#decision-detail") or "").startswith(
        "1 proposal: PRP-2026-034; asked by ci at "
    )
    visit.check_loopback_only(TOKEN)
    assert TOKEN not in server.output.read_text(errors="replace")


def test_keyboard_only(visit: Visit, files: dict[str, Path]) -> None:
    page = visit.page
    order = []
    for _ in range(5):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => [document.activeElement.id, getComputedStyle(document.activeElement)"
            ".outlineStyle, getComputedStyle(document.activeElement).outlineWidth]"
        )
        order.append(focused[0])
        assert focused[1:] == ["solid", "3px"], focused  # a visible focus indicator
        if focused[0] == "token":
            page.keyboard.type(TOKEN)
        if focused[0] == "file":
            with page.expect_file_chooser() as chooser:
                page.keyboard.press("Space")
            chooser.value.set_files(str(files["json"]))
    assert order == ["token", "template-single", "template-register", "file", "review"]
    unlabelled = page.evaluate(
        "() => [...document.querySelectorAll('input')].filter((i) => !i.labels.length)"
        ".map((i) => i.id)"
    )
    assert unlabelled == []
    assert page.evaluate("() => document.querySelectorAll('[onclick], div[tabindex]').length") == 0
    page.keyboard.press("Enter")
    visit.wait_reviewed(files["json"], "reject")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.dataset.format") == "xlsx"
    page.keyboard.press("Tab")
    name, body = visit.download(lambda: page.keyboard.press("Enter"))
    assert name == "refugee-data-review.md"
    assert body.decode().startswith("#")
    visit.check_loopback_only(TOKEN)


def test_a_wrong_token_shows_the_error_line(visit: Visit, files: dict[str, Path]) -> None:
    page = visit.page
    page.click("#template-single")
    page.wait_for_selector("#error:not([hidden])")
    assert page.text_content("#error-line") == "Type your access token first."
    page.fill("#token", "two words-0000000000")
    page.click("#template-single")
    assert page.text_content("#error-line") == (
        "A token is printable ASCII without spaces: check what was typed."
    )
    page.fill("#token", WRONG)
    page.click("#template-single")
    page.wait_for_selector("#error-line:has-text('Error 401')")
    assert page.text_content("#error-line") == f"Error 401: {UNAUTHORIZED}"
    page.click("#error-line")  # the line stays until the next action
    page.set_input_files("#file", str(files["json"]))
    page.click("#review")
    page.wait_for_function("() => !document.querySelector('#review').disabled")
    assert page.text_content("#error-line") == f"Error 401: {UNAUTHORIZED}"
    assert page.is_hidden("#result")
    page.click("#decisions-load")
    page.wait_for_function("() => !document.querySelector('#decisions-load').disabled")
    assert page.text_content("#error-line") == f"Error 401: {UNAUTHORIZED}"
    visit.check_loopback_only(WRONG)


def test_an_invalid_proposal_lists_its_problems(visit: Visit, tmp_path: Path) -> None:
    page = visit.page
    bad = tmp_path / "bad.json"
    data = json.loads(FLAWED.read_text())
    data["data_sharing"]["flows"][0]["granularity"] = "everything"
    bad.write_text(json.dumps(data, indent=2))
    page.fill("#token", OTHER)
    page.set_input_files("#file", str(bad))
    page.click("#review")
    page.wait_for_selector("#error:not([hidden])")
    line = page.text_content("#error-line") or ""
    assert line.startswith("Error 422: bad.json:")
    assert "granularity" in line


def test_the_page_keeps_the_api_limits(visit: Visit, tmp_path: Path) -> None:
    page = visit.page
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (1024 * 1024 + 1) + FLAWED.read_bytes())
    page.fill("#token", TOKEN)
    page.set_input_files("#file", str(big))
    page.click("#review")
    page.wait_for_selector("#error:not([hidden])")
    assert page.text_content("#error-line") == (
        "Error 413: the request body is larger than this service accepts (1048576 bytes)"
    )
    assert page.is_hidden("#result")


def _luminance(rgb: tuple[float, float, float]) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


TEXT_COLOURS = """() => {
    const rgb = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
    const background = (el) => {
        for (let e = el; e; e = e.parentElement) {
            const c = rgb(getComputedStyle(e).backgroundColor);
            if (c.length === 3 || (c.length === 4 && c[3] === 1)) return c.slice(0, 3);
        }
        return [255, 255, 255];
    };
    const out = [];
    for (const el of document.querySelectorAll("body *")) {
        const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
        const box = el.getBoundingClientRect();
        if (!own || box.width === 0 || box.height === 0) continue;
        out.push([el.tagName + "#" + el.id + "." + el.className,
                  rgb(getComputedStyle(el).color).slice(0, 3), background(el)]);
    }
    return out;
}"""


def test_every_text_meets_wcag_aa_contrast(visit: Visit) -> None:
    page = visit.page
    # Show every state the page can be in: the error box, the result, each decision, the table.
    page.evaluate(
        """() => {
            for (const id of ["error", "result", "decisions"]) document.getElementById(id).hidden = false;
            document.getElementById("error-line").textContent = "Error 401: example";
            document.getElementById("decisions-rows").innerHTML =
                "<tr><td>2026-01-01</td><td>Rejected</td><td>P-1</td><td>ci</td>" +
                "<td><button type='button'>Open</button></td></tr>";
            document.getElementById("downloads").querySelector("button").disabled = true;
        }"""
    )
    checked = 0
    for decision in ("reject", "needs_information", "approve_with_conditions", "approve"):
        page.evaluate(
            "(d) => { const e = document.getElementById('decision'); e.dataset.decision = d; "
            "e.textContent = d; }",
            decision,
        )
        for where, colour, background in page.evaluate(TEXT_COLOURS):
            ratio = contrast(tuple(colour), tuple(background))
            assert ratio >= 4.5, f"{where}: {colour} on {background} is {ratio:.2f}:1"
            checked += 1
    assert checked > 80
    # The drop zone while a file is dragged over it.
    page.evaluate("() => document.getElementById('drop').classList.add('over')")
    for where, colour, background in page.evaluate(TEXT_COLOURS):
        assert contrast(tuple(colour), tuple(background)) >= 4.5, where
