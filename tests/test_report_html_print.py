"""The HTML report on paper: every flawed fixture printed by headless Chromium (through
Playwright) on A4 and on Letter, its pages counted in the PDF; and what the print view keeps."""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from compliance.reports.html import render_html
from compliance.review.reviewer import Reviewer
from compliance.rules.ruleset import RuleSet

from .conftest import FIXTURES
from .test_report_html import _report

CHROMIUM = Path("/usr/bin/chromium")
FLAWED = sorted(FIXTURES.glob("flawed-*.json"))
BAR = 4
"""A typical flawed proposal prints on fewer pages than this."""
LARGEST = {
    "flawed-civilian-harm-joint-sea-operation.json": 4,  # 21 findings, 50 sources
    "flawed-refugee-data-sharing.json": 6,  # 41 findings, 127 pieces of evidence
}
"""The fixtures with the most findings, and the most pages they may take."""


DRAWN = """els => {
  const generated = (e, which) => {
    const c = getComputedStyle(e, which).content;
    return c && c !== "none" && c !== "normal" ? JSON.parse(c) : "";
  };
  const text = n => {
    if (n.nodeType === Node.TEXT_NODE) return n.textContent;
    if (n.nodeType !== Node.ELEMENT_NODE || n.getClientRects().length === 0) return "";
    return generated(n, "::before") + [...n.childNodes].map(text).join("")
      + generated(n, "::after");
  };
  return els.filter(e => e.getClientRects().length > 0)
    .map(e => text(e).replace(/\\s+/g, " ").trim());
}"""
"""Script: what each element shows, as :func:`test_print_folds_the_details_and_keeps_the_facts`
reads it."""


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


def page_count(pdf: bytes) -> int:
    """The pages of a PDF: its page objects (``/Type /Page``, not the ``/Pages`` tree)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


def test_page_count_counts_page_objects_not_the_tree() -> None:
    pdf = b"<< /Type /Pages /Kids [3 0 R 4 0 R] >> << /Type /Page >> <</Type/Page/Parent 2 0 R>>"
    assert page_count(pdf) == 2


@pytest.fixture(scope="module")
def printed(
    browser: Any, reference: Reviewer, ruleset: RuleSet, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[int, int]]:
    """Each flawed fixture's report printed on A4 and on Letter: its page counts."""
    folder = tmp_path_factory.mktemp("printed")
    tab = browser.new_page()
    counts: dict[str, tuple[int, int]] = {}
    for path in FLAWED:
        report = _report(reference, path)
        page = folder / f"{path.stem}.html"
        page.write_text(render_html(report, ruleset.domain_title), encoding="utf-8")
        tab.goto(page.as_uri())
        a4, letter = (tab.pdf(format=size) for size in ("A4", "Letter"))
        assert a4.startswith(b"%PDF-")
        counts[path.name] = (page_count(a4), page_count(letter))
    tab.close()
    return counts


def test_a_flawed_proposal_prints_on_under_four_pages(
    printed: dict[str, tuple[int, int]],
) -> None:
    assert len(printed) == len(FLAWED) == 34
    over = {name: max(pages) for name, pages in printed.items() if max(pages) >= BAR}
    assert set(over) <= set(LARGEST), printed
    for name, pages in over.items():
        assert pages <= LARGEST[name], printed
    # the typical one: the median fixture, and the one the text report's example is
    assert statistics.median(max(pages) for pages in printed.values()) < BAR
    assert max(printed["flawed-data-sharing-biometrics-left-behind.json"]) < BAR
    assert all(min(pages) >= 1 for pages in printed.values())


def test_print_folds_the_details_and_keeps_the_facts(
    browser: Any, reference: Reviewer, ruleset: RuleSet, tmp_path: Path
) -> None:
    path = FIXTURES / "flawed-data-sharing-biometrics-left-behind.json"
    report = _report(reference, path)
    page = tmp_path / "report.html"
    page.write_text(render_html(report, ruleset.domain_title), encoding="utf-8")
    tab = browser.new_page()
    tab.goto(page.as_uri())

    def shown(selector: str) -> list[str]:
        """The text of each element drawn, as drawn: generated content (``::before``,
        ``::after``) included, what is not displayed left out, whitespace collapsed."""
        return list(tab.eval_on_selector_all(selector, DRAWN))

    on_screen = (shown(".sources"), shown(".references .full"), shown(".cite"))
    assert on_screen[0] == []  # the numbered list is for paper
    assert len(on_screen[1]) == 46
    assert on_screen[2] == []
    tab.emulate_media(media="print")
    assert shown(".references .full") == []
    assert len(shown(".cite")) == 46
    assert shown(".sources h3") == ["Sources (good practice, unless marked required)"]
    # evidence runs on as a line: the value that breaks the rule and where, the file named once
    assert shown("article[data-rule='DS-004'] .evidence") == [
        'Evidence: data_sharing.impact_assessment.status = "none" (113:17)'
    ]
    assert shown(".proposal > .source") == [f"Source: {path}"]
    # the words every open question repeats, printed once under the questions
    assert shown(".lead") == []
    assert shown("article[data-rule='DS-018'] .fix")[0].startswith(
        "Fix: If the answers show a violation: Attach written caveats"
    )
    assert shown(".ask") == [
        "Answer each question where it says, then review the proposal again: until then, the "
        "rules that need the answer cannot be checked."
    ]
    assert shown(".unanswered tr")[0] == (
        '☐ data flow "Host-nation Ministry of Interior": Do written caveats limit the recipient\'s '
        "use and onward transfer of the data? data_sharing.flows[0].use_caveats_in_writing "
        "— add it at 89:7 — needed by DS-018"
    )
    # a blocking finding still says so; the gate's long words are on screen
    assert shown("article[data-rule='DS-004'] .gate-blocks") == ["Blocks"]
    tab.close()
