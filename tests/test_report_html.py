"""The HTML report: what a reviewer sees, read back with the standard library's HTML parser; that
the page loads nothing and that no input can inject markup; waivers; and what a real browser
(headless Chromium, when one is installed) draws and prints."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest

from compliance import __version__
from compliance.intake.proposals import read_proposals
from compliance.proposal.sourcemap import Location
from compliance.reports.html import CSP, render_html
from compliance.reports.html_parts import SEVERITY_COLOUR
from compliance.reports.summary import WORST_FIRST
from compliance.review.decision import Thresholds
from compliance.review.findings import (
    REPORT_VERSION,
    Decision,
    ReferenceOut,
    Report,
    Review,
    SelectionOut,
    SeverityChange,
    Summary,
)
from compliance.review.reviewer import Reviewer
from compliance.review.waivers import load_waivers
from compliance.rules.ruleset import RuleSet
from compliance.rules.spec import Severity

from .conftest import FIXTURES

APPROVE = FIXTURES / "exemplary-community-policing.json"  # PRP-2026-021, no findings
CONDITIONS = FIXTURES / "exemplary-counter-narcotics.json"  # PRP-2026-063, 2 medium, 1 low
REJECT = FIXTURES / "flawed-data-sharing-biometrics-left-behind.json"  # HO-F3-BIOMETRIC-ID
INCOMPLETE = FIXTURES / "incomplete-coast-guard-training.json"  # PRP-2026-047
DENIED_UNIT = FIXTURES / "flawed-accountability-un-support-denied-unit.json"  # blocker and high
ALL = sorted(FIXTURES.glob("*.json"))
BATCH_ORDER = [  # the fixtures in a batch: rejected, needing information, approved with
    # conditions, approved; within a decision, in input (file name) order
    "PRP-2026-216", "PRP-2026-217", "PRP-2026-209", "PRP-2026-061", "HO-F4-LIBYA-LCG",
    "PRP-2026-202", "PRP-2026-215", "PRP-2026-207", "HO-F6-SSR-UNITS", "PRP-2026-224",
    "PRP-2026-208",
    "HO-F8-JOINT-SEA-OP", "PRP-2026-117", "PRP-2026-210", "HO-F3-BIOMETRIC-ID",
    "HO-F2-FAMILY-LINKS", "HO-F1-ROHINGYA", "PRP-2026-222", "PRP-2026-204", "PRP-2026-104",
    "HO-F7-SYRIA-NW",
    "PRP-2026-203", "PRP-2026-206", "PRP-2026-201", "PRP-2026-223", "PRP-2026-183",
    "HO-F5-PREVENT-SCHOOLS",
    "PRP-2026-218", "PRP-2026-095", "PRP-2026-205", "PRP-2026-136", "PRP-2026-034",
    "PRP-2026-072",
    "PRP-2026-129", "PRP-2026-047",
    "PRP-2026-083", "PRP-2026-219", "PRP-2026-063", "PRP-2026-052", "HO-S4-YEMEN-FOOD",
    "HO-S3-NL-GANG-EXIT", "PRP-2026-077", "HO-S6-US-POLICE-HN", "HO-S5-UNODC-MARITIME",
    "PRP-2026-214", "PRP-2026-071", "PRP-2026-058", "HO-S2-EU-RADICAL-RESEARCH",
    "HO-S1-UNDP-PRISONS", "PRP-2026-213",
    "PRP-2026-220", "PRP-2026-212", "PRP-2026-021", "PRP-2026-211", "PRP-2026-225",
    "PRP-2026-221",
]  # fmt: skip


# ---------------------------------------------------------------------------- a small DOM

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def text(self) -> str:
        """The text a reader sees, whitespace collapsed."""
        parts: list[str] = []

        def walk(node: Node) -> None:
            for child in node.children:
                if isinstance(child, str):
                    parts.append(child)
                elif child.tag not in ("title", "style"):  # tooltips and CSS are not read
                    walk(child)

        walk(self)
        return " ".join("".join(parts).split())

    def iter(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter()

    def all(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> list[Node]:
        return [
            n
            for n in self.iter()
            if (tag is None or n.tag == tag)
            and (cls is None or cls in n.classes)
            and all(n.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())
        ]

    def one(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> Node:
        found = self.all(tag, cls, **attrs)
        assert len(found) == 1, f"{len(found)} <{tag} class={cls} {attrs}>"
        return found[0]


class _Tree(HTMLParser):
    """Builds a :class:`Node` tree and fails on any end tag that does not close the element
    open: the report closes every element it opens (void elements aside)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {})
        self.stack = [self.root]
        self.doctype: str | None = None

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def _node(self, tag: str, attrs: list[tuple[str, str | None]]) -> Node:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        return node

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = self._node(tag, attrs)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._node(tag, attrs)  # <rect .../> in the SVG

    def handle_endtag(self, tag: str) -> None:
        assert tag not in VOID, f"</{tag}>"
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(page: str) -> Node:
    tree = _Tree()
    tree.feed(page)
    tree.close()
    assert tree.stack == [tree.root], f"unclosed: {[n.tag for n in tree.stack[1:]]}"
    assert tree.doctype == "doctype html"
    return tree.root


# ---------------------------------------------------------------------------- reports


def _report(reviewer: Reviewer, *paths: Path) -> Report:
    """The report on ``paths`` (each review names the list items it speaks of)."""
    loaded = read_proposals([str(p) for p in paths])
    return reviewer.report([reviewer.review(i.proposal, i.source_map) for i in loaded])


INPUTS = {
    "approve": [APPROVE],
    "conditions": [CONDITIONS],
    "reject": [REJECT],
    "incomplete": [INCOMPLETE],
    "denied": [DENIED_UNIT],
    "batch": ALL,
}


@pytest.fixture(scope="module")
def reports(reference: Reviewer) -> dict[str, Report]:
    return {name: _report(reference, *paths) for name, paths in INPUTS.items()}


@pytest.fixture(scope="module")
def pages(reports: dict[str, Report], ruleset: RuleSet) -> dict[str, str]:
    return {name: render_html(report, ruleset.domain_title) for name, report in reports.items()}


def _section(root: Node, review: Review) -> Node:
    return root.one("section", cls="proposal", data_proposal=review.proposal_id)


# ---------------------------------------------------------------------------- the banner


@pytest.mark.parametrize(
    ("name", "decision", "shown", "counts"),
    [
        ("approve", "approve", "Approve", "Findings: none"),
        ("conditions", "approve_with_conditions", "Approve with conditions", None),
        (
            "reject",
            "reject",
            "Reject",
            "Findings: 6 violations (2 high, 2 medium, 2 low), "
            "12 need information (2 high, 10 medium)",
        ),
        ("incomplete", "needs_information", "Needs information", None),
    ],
)
def test_the_banner_says_the_decision_of_one_proposal(
    pages: dict[str, str],
    reports: dict[str, Report],
    name: str,
    decision: str,
    shown: str,
    counts: str | None,
) -> None:
    root = parse(pages[name])
    (review,) = reports[name].reviews
    banner = root.one("header", cls="banner")
    assert banner.classes == {"banner", f"d-{decision}"}
    assert banner.attrs["data-decision"] == decision == review.decision.value
    assert banner.one("p", cls="kicker").text() == "Decision at threshold high"
    assert banner.one("p", cls="decision").text() == shown
    assert banner.one("p", cls="subject").text() == f"{review.proposal_id} {review.title}"
    if counts is not None:
        assert banner.one("p", cls="counts").text() == counts
    # the banner comes first, then the findings, one line each (if any), then the chart
    tops = [n for n in root.one("body").children if isinstance(n, Node)]
    assert [n.tag for n in tops[:2]] == ["h1", "header"]
    blocks = [sorted(n.classes) for n in tops[2:4]]
    if review.findings:
        assert blocks == [["summary"], ["overview"]]
    else:
        assert blocks[0] == ["overview"]
    assert "chart" in root.one("div", cls="overview").all("section")[0].classes
    assert (
        root.one("head").one("title").text()
        == f"Compliance review: {review.proposal_id}: {shown.lower()}"
    )


def test_the_batch_banner_counts_decisions_and_gives_the_gate(
    pages: dict[str, str], reports: dict[str, Report]
) -> None:
    report = reports["batch"]
    root = parse(pages["batch"])
    banner = root.one("header", cls="banner")
    assert "d-reject" in banner.classes  # the worst decision's colour
    assert banner.attrs["data-gate"] == "3"
    assert banner.one("p", cls="decision").text() == f"{len(ALL)} proposals"
    d = {k.value: v for k, v in report.summary.decisions.items()}
    assert [li.text() for li in banner.all("li")] == [
        f"{d['reject']} reject",
        f"{d['needs_information']} needs information",
        f"{d['approve_with_conditions']} approve with conditions",
        f"{d['approve']} approve",
    ]
    assert all(d[k] for k in ("reject", "needs_information", "approve"))
    assert banner.one("p", cls="gate").text() == "Gate: blocked: at least one proposal is rejected."
    # the contents: one row per proposal, worst first, linking to that proposal's section,
    # and the sections in the same order
    rows = root.one("table", cls="proposal-table").one("tbody").all("tr")
    assert len(rows) == len(report.reviews) == len(ALL)
    ordered = sorted(report.reviews, key=lambda r: WORST_FIRST.index(r.decision))
    assert [row.one("a").text() for row in rows] == BATCH_ORDER
    assert [r.proposal_id for r in ordered] == BATCH_ORDER
    sections = [n.attrs["data-proposal"] for n in root.all("section", cls="proposal")]
    assert sections == BATCH_ORDER
    for row, review in zip(rows, ordered, strict=True):
        link = row.one("a")
        assert link.text() == review.proposal_id
        target = link.attrs["href"].removeprefix("#")
        assert root.one(id=target).attrs["data-proposal"] == review.proposal_id
        cells = [td.text() for td in row.all("td")]
        assert cells[1] == review.title
        assert row.attrs["data-decision"] == review.decision.value
        expected = " ".join(
            f"{n} {s.value}" for s in Severity if (n := review.counts.violations[s])
        )
        assert cells[3] == (expected or "none")
        assert cells[4] == str(sum(review.counts.needs_information.values()))
    (first,) = [row.all("td") for row in rows if row.one("a").text() == "PRP-2026-063"]
    assert [td.text() for td in first][2:] == [
        "Approve with conditions",
        "2 medium 1 low",
        "9",
        "0",
    ]


def test_the_batch_gate_says_needs_information_or_nothing_reviewed(
    reference: Reviewer, reports: dict[str, Report], ruleset: RuleSet
) -> None:
    report = _report(reference, APPROVE, INCOMPLETE)
    banner = parse(render_html(report, ruleset.domain_title)).one("header", cls="banner")
    assert "d-needs_information" in banner.classes
    assert banner.attrs["data-gate"] == "4"
    assert banner.one("p", cls="gate").text() == (
        "Gate: needs information: none is rejected, but at least one leaves a question open "
        "that a blocking rule needs."
    )
    empty = reports["approve"].model_copy(
        update={
            "reviews": [],
            "summary": Summary(proposals=0, decisions=dict.fromkeys(Decision, 0)),
        }
    )
    root = parse(render_html(empty, ruleset.domain_title))
    banner = root.one("header", cls="banner")
    assert "d-empty" in banner.classes
    assert banner.one("p", cls="decision").text() == "0 proposals"
    assert banner.one("p", cls="gate").text() == "Gate: no proposal was reviewed."
    assert root.one("section", cls="chart").one("p", cls="no-findings").text() == "No findings."


# ---------------------------------------------------------------------------- the summary

SUMMARY_REJECT = [
    "high violation DS-004 Impact assessment before sharing sensitive or vulnerable people's data",
    "high violation DS-011 Biometric data has an emergency deletion plan",
    "medium violation ACC-008 Grievance mechanism meets the UNGP 31 effectiveness criteria",
    "medium violation MON-006 What happens to shared personal data at exit is decided",
    "low violation MON-004 The evaluation is independent and published",
    "low violation TRN-005 Funding published to the IATI Standard",
    "high needs information DS-018 Personal data passed to another state's security or "
    'enforcement bodies carries written caveats (data flow "Host-nation Ministry of Interior")',
    "high needs information DS-019 The risk of torture is assessed before personal data goes to "
    "another state's security or enforcement bodies (data flow \"Host-nation Ministry of "
    'Interior")',
    "medium needs information ACC-018 People harmed by the partnership have a route to remedy, "
    "not only a complaints channel",
    "medium needs information ACC-050 Staff can report misconduct through a channel that "
    "protects them from retaliation",
    "medium needs information ACC-051 Serious incidents are reported to the funder within a set "
    "time",
    "medium needs information DS-020 Processors may use the data only for the partnership, by "
    'contract (processor "Biometric device vendor")',
    "medium needs information DS-021 Surveillance, biometric or identity systems supplied have a "
    "plan for their data if control changes",
    "medium needs information FIN-004 Third-party monitoring where partners, subcontractors, "
    "authorities or others deliver in a conflict-affected or high-risk setting",
    "medium needs information FIN-011 Subcontractors and suppliers screened against the "
    "applicable sanctions lists",
    "medium needs information FIN-014 Aid and goods are not distributed under the control of "
    "armed groups or local power-holders",
    "medium needs information HR-013 Areas, communities or people are not chosen for cameras, "
    "patrols, programmes or outreach by religion, ethnicity or nationality",
    "medium needs information HR-014 Human rights due diligence before surveillance or "
    "identification technology goes to security or state authorities, units named or not",
]


def test_the_summary_opens_the_page_worst_first_linking_to_each_finding(
    pages: dict[str, str], reports: dict[str, Report]
) -> None:
    root = parse(pages["reject"])
    (review,) = reports["reject"].reviews
    tops = [n for n in root.one("body").children if isinstance(n, Node)]
    summary = tops[2]
    assert summary.classes == {"summary"}
    assert summary.one("h2").text() == "Findings, worst first"
    items = summary.one("ol", cls="summary-lines").all("li")
    assert [li.text() for li in items] == SUMMARY_REJECT
    # each line links to its own finding's details: every finding once
    targets = [root.one(id=li.one("a").attrs["href"].removeprefix("#")) for li in items]
    assert [t.attrs["data-rule"] for t in targets] == [li.attrs["data-rule"] for li in items]
    assert {t.attrs["id"] for t in targets} == {a.attrs["id"] for a in root.all("article")}
    assert len(targets) == len(review.findings)
    assert items[0].one("span", cls="badge").attrs["class"] == "badge s-high"
    # a review without names (a report made before 1.5) calls an item by its place in its list
    old = reports["reject"].model_copy(
        update={
            "reviews": [r.model_copy(update={"item_names": {}}) for r in reports["reject"].reviews]
        }
    )
    bare = parse(render_html(old, lambda d: d))
    lines = [li.text() for li in bare.one("div", cls="summary").all("li")]
    assert lines[6].endswith("carries written caveats (data flow 1)")
    assert [p.text() for p in bare.all("p", cls="item")][:1] == [
        "Item: data flow 1 data_sharing.flows[0]"
    ]


def test_a_workbook_summary_gives_the_sheet_and_row(reference: Reviewer, ruleset: RuleSet) -> None:
    workbook = FIXTURES / "workbooks" / "flawed-data-sharing-biometrics-left-behind.xlsx"
    report = _report(reference, workbook)
    root = parse(render_html(report, ruleset.domain_title))
    lines = [li.text() for li in root.one("div", cls="summary").all("li")]
    assert lines[:2] == [
        "high violation DS-004 Impact assessment before sharing sensitive or vulnerable people's "
        "data (Data sharing, row 3)",
        "high violation DS-011 Biometric data has an emergency deletion plan (Data sharing, "
        "row 10)",
    ]
    assert lines[6] == (
        "high needs information DS-018 Personal data passed to another state's security or "
        'enforcement bodies carries written caveats (data flow "Host-nation Ministry of '
        'Interior"; Data sharing flows, row 2)'
    )
    assert lines[11] == (
        "medium needs information DS-020 Processors may use the data only for the partnership, "
        'by contract (processor "Biometric device vendor"; Data sharing processors, row 2)'
    )
    item = root.one("article", data_rule="DS-018").one("p", cls="item")
    assert item.text() == (
        'Item: data flow "Host-nation Ministry of Interior" data_sharing.flows[0]'
    )


def test_each_proposal_of_a_batch_opens_with_its_decision_and_summary(
    pages: dict[str, str],
) -> None:
    root = parse(pages["batch"])
    tops = [n for n in root.one("body").children if isinstance(n, Node)]
    assert [n for n in tops if "summary" in n.classes] == []  # no summary of one proposal on top
    section = root.one("section", cls="proposal", data_proposal="HO-F3-BIOMETRIC-ID")
    children = [n for n in section.children if isinstance(n, Node)]
    assert [n.tag for n in children[:4]] == ["h2", "p", "p", "div"]
    assert children[1].one("span", cls="chip").text() == "Reject"
    assert children[3].one("h3").text() == "Findings, worst first"
    assert [li.text() for li in children[3].all("li")] == SUMMARY_REJECT
    for link in children[3].all("a"):
        assert section.one(id=link.attrs["href"].removeprefix("#")).tag == "article"
    # an approved proposal without findings has no summary, and says so
    approved = root.one("section", cls="proposal", data_proposal="PRP-2026-021")
    assert approved.all("div", cls="summary") == []
    assert approved.one("p", cls="no-findings").text() == "No findings."


def test_print_cites_each_source_by_its_number_in_the_proposals_list(
    pages: dict[str, str],
) -> None:
    section = parse(pages["reject"]).one("section", cls="proposal")
    listed = section.one("div", cls="sources").one("ol").all("li")
    assert [li.attrs["value"] for li in listed] == [str(n) for n in range(1, len(listed) + 1)]
    texts = [li.text() for li in listed]
    assert len(set(texts)) == len(texts) == 41  # each once (46 citations)
    cited = 0
    for article in section.all("article"):
        for ref in article.one("ul", cls="references").all("li"):
            n = int(ref.one(cls="cite").text().strip("[]"))
            assert texts[n - 1] == ref.one(cls="full").text()
            cited += 1
    assert cited == 46
    # the words every open question repeats are marked, to be printed once
    ds018 = section.one("article", data_rule="DS-018")
    assert ds018.one("p", cls="message").one("span", cls="lead").text() == (
        "Not enough information to check this rule."
    )
    assert ds018.one("p", cls="fix").one("span", cls="lead").text() == (
        "Answer the questions named in this finding in the proposal, then review it again."
    )


# ---------------------------------------------------------------------------- findings


@pytest.mark.parametrize("name", ["reject", "incomplete", "batch"])
def test_each_finding_is_shown_once_in_its_proposal_section(
    pages: dict[str, str], reports: dict[str, Report], name: str
) -> None:
    root = parse(pages[name])
    for review in reports[name].reviews:
        section = _section(root, review)
        articles = section.all("article", cls="finding")
        assert len(articles) == len(review.findings)
        shown = [a.one("span", cls="rule-id").text() for a in articles]
        assert Counter(shown) == Counter(f.rule_id for f in review.findings)
        # each rule id is written once per finding in its details, in the finding's own header
        assert sum(len(a.all(cls="rule-id")) for a in articles) == len(review.findings)
        headings = [h.attrs["data-domain"] for h in section.all("h3", cls="domain")]
        assert len(headings) == len({f.domain for f in review.findings})


def test_a_finding_shows_outcome_gate_evidence_fix_and_sources(
    pages: dict[str, str], reports: dict[str, Report]
) -> None:
    root = parse(pages["reject"])
    (review,) = reports["reject"].reviews
    article = root.one("article", data_rule="DS-004")
    head = article.one("header", cls="finding-head").text()
    assert head == (
        "high DS-004 Impact assessment before sharing sensitive or vulnerable people's data "
        "Violation Blocks at threshold high: rejects the proposal"
    )
    assert article.one("span", cls="badge").attrs["class"] == "badge s-high"
    assert article.one("p", cls="message").text() == (
        "Sensitive data, or data about people at particular risk (refugees, children, suspects, "
        "detainees, victims or witnesses), is shared, but the data protection impact assessment "
        "is: none."
    )
    rows = [[td.text() for td in tr.all("td")] for tr in article.one("tbody").all("tr")]
    assert rows[:2] == [
        ["data_sharing.impact_assessment.status", '"none"', "violation", f"{REJECT}:113:17"],
        ["data_sharing.flows[0].granularity", '"individual"', "context", f"{REJECT}:101:24"],
    ]
    assert article.one("p", cls="fix").text().startswith("Fix: Carry out a full data protection")
    refs = article.one("ul", cls="references").all("li")
    assert refs[0].one(cls="full").text() == (
        "Good practice per Regulation (EU) 2016/679 (GDPR), Article 35(1) and 35(3)(b)"
    )
    assert refs[0].one(cls="cite").text() == "[1]"  # what print shows; the proposal lists it
    assert refs[0].one("a").attrs["href"].startswith("https://eur-lex.europa.eu/")
    # a low finding is a condition, not a block
    low = root.one("article", data_rule="TRN-005")
    assert low.one(cls="gate-condition").text() == (
        "Does not block at threshold high: a condition of approval"
    )
    thresholds = Thresholds.of_report(reports["reject"])
    blocking = {f.rule_id for f in review.findings if thresholds.blocks(f)}
    shown = {a.attrs["data-rule"] for a in root.all("article") if "blocks" in a.classes}
    assert shown == blocking == {"DS-004", "DS-011", "DS-018", "DS-019"}


def test_unanswered_questions_name_the_place_to_answer(
    pages: dict[str, str], reports: dict[str, Report]
) -> None:
    root = parse(pages["incomplete"])
    (review,) = reports["incomplete"].reviews
    table = root.one("table", cls="unanswered")
    rows = table.one("tbody").all("tr")
    assert len(rows) == len(review.unanswered) == 37
    cells = [td.text() for td in rows[0].all("td")]
    assert cells == [
        'security unit "Coast Guard Sector 2 patrol crews": What is the unit\'s human rights '
        "vetting status?",
        "security_units[0].vetting_status",
        f"not in the file: add it at {INCOMPLETE}:20:5",
        "ACC-003, ACC-004, ACC-014, ACC-016, ACC-010",
    ]
    # the proposal needs information: its questions come first, a checklist before the details
    section = _section(root, review)
    order = [
        n.tag
        for n in section.iter()
        if n.tag in ("table", "article") and (n.tag == "article" or "unanswered" in n.classes)
    ]
    assert order == ["table"] + ["article"] * len(review.findings)
    rejected = _section(parse(pages["reject"]), reports["reject"].reviews[0])
    order = [
        n.tag
        for n in rejected.iter()
        if n.tag in ("table", "article") and (n.tag == "article" or "unanswered" in n.classes)
    ]
    n = len(reports["reject"].reviews[0].findings)
    assert order == ["article"] * n + ["table"]  # a rejection's come last
    for link in rows[0].all("a"):  # each rule links to its finding
        target = root.one(id=link.attrs["href"].removeprefix("#"))
        assert target.attrs["data-rule"] == link.text()
    assert "blocks" in root.one("article", data_rule="ACC-003").classes
    assert root.one("article", data_rule="ACC-003").one(cls="gate-blocks").text() == (
        "Blocks at threshold high: the answer is needed before approval"
    )


def test_a_workbook_question_names_the_cell_to_fill(
    reports: dict[str, Report], ruleset: RuleSet
) -> None:
    report = reports["incomplete"]
    (review,) = report.reviews
    cell = Location(source="proposal.xlsx", sheet="Security units", cell="E3", present=False)
    first = review.unanswered[0].model_copy(update={"location": cell})
    changed = review.model_copy(update={"unanswered": [first, *review.unanswered[1:]]})
    root = parse(
        render_html(report.model_copy(update={"reviews": [changed]}), ruleset.domain_title)
    )
    row = root.one("table", cls="unanswered").one("tbody").all("tr")[0]
    assert row.one("td", cls="where").text() == "fill in proposal.xlsx, Security units!E3"


# ---------------------------------------------------------------------------- the chart


def _expected_chart(report: Report) -> Counter[tuple[str, str]]:
    return Counter((f.domain, f.severity.value) for r in report.reviews for f in r.findings)


@pytest.mark.parametrize("name", ["reject", "incomplete", "denied", "batch"])
def test_the_chart_has_a_bar_per_domain_and_the_reports_counts(
    pages: dict[str, str], reports: dict[str, Report], name: str
) -> None:
    report = reports[name]
    svg = parse(pages[name]).one("svg", id="chart-findings")
    assert svg.attrs["role"] == "img"
    assert svg.attrs["aria-label"].startswith("Findings by domain and severity, ")
    expected = _expected_chart(report)
    bars = svg.all("g", cls="bar")
    assert len(bars) == len({domain for domain, _ in expected})
    seen: Counter[tuple[str, str]] = Counter()
    for bar in bars:
        domain = bar.attrs["data-domain"]
        for rect in bar.all("rect", cls="segment"):
            severity = rect.attrs["data-severity"]
            assert rect.attrs["fill"] == SEVERITY_COLOUR[Severity(severity)]
            seen[domain, severity] += int(rect.attrs["data-count"])
        labels = {t.attrs["data-severity"]: t.text() for t in bar.all("text", cls="count")}
        assert labels == {
            s: str(n) for (d, s), n in expected.items() if d == domain
        }  # every count is labelled on its segment
        assert bar.one("text", cls="total").text() == bar.attrs["data-total"]
    assert seen == expected
    # per severity, the counts of the report: violations, open questions and waived
    for s in Severity:
        total = sum(
            r.counts.violations[s] + r.counts.needs_information[s] + r.counts.waived[s]
            for r in report.reviews
        )
        assert sum(n for (_, sev), n in seen.items() if sev == s.value) == total
        legend = svg.one("g", cls="legend-item", data_severity=s.value)
        assert legend.text() == f"{s.value} ({total})"


def test_the_batch_chart_covers_every_proposal(
    pages: dict[str, str], reports: dict[str, Report], ruleset: RuleSet
) -> None:
    svg = parse(pages["batch"]).one("svg", id="chart-findings")
    domains = [b.one("text", cls="domain").text() for b in svg.all("g", cls="bar")]
    assert domains[:2] == ["Accountability", "Data sharing and data protection"]
    assert set(domains) == {ruleset.domain_title(d) for d, _ in _expected_chart(reports["batch"])}
    assert "(all proposals)" in parse(pages["batch"]).one("h2", id="chart").text()


def test_no_findings_no_chart(pages: dict[str, str]) -> None:
    root = parse(pages["approve"])
    assert root.all("svg") == []
    assert root.one("section", cls="chart").one("p", cls="no-findings").text() == "No findings."
    assert root.one("section", cls="proposal").one("p", cls="no-findings").text() == "No findings."


# ---------------------------------------------------------------------------- self-contained


@pytest.mark.parametrize("name", ["approve", "reject", "incomplete", "batch"])
def test_the_page_loads_nothing_and_is_one_document(pages: dict[str, str], name: str) -> None:
    page = pages[name]
    root = parse(page)
    assert page.startswith('<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">')
    assert root.one("meta", http_equiv="Content-Security-Policy").attrs["content"] == CSP
    assert CSP.startswith("default-src 'none'; style-src 'unsafe-inline'; img-src data:;")
    for tag in ("script", "link", "img", "iframe", "object", "embed", "base", "form", "image"):
        assert root.all(tag) == [], tag
    ids = [n.attrs["id"] for n in root.iter() if "id" in n.attrs]
    assert len(ids) == len(set(ids))
    for node in root.iter():
        for attr in ("src", "srcset", "xlink:href", "poster", "data", "action", "background"):
            assert attr not in node.attrs, (node.tag, attr)
        if "href" in node.attrs:
            href = node.attrs["href"]
            assert node.tag == "a", node.tag
            assert href.startswith(("#", "https://", "http://")), href
            if href.startswith("#"):
                assert href[1:] in ids  # every internal link has its target
        assert not any(k.startswith("on") for k in node.attrs), node.attrs
    (style,) = root.all("style")
    css = style.text()
    assert "@import" not in css
    assert "url(" not in css.replace("url(data:", "")
    assert "@media print" in css
    assert "print-color-adjust: exact" in css


def test_the_page_depends_on_the_report_alone(
    reports: dict[str, Report], ruleset: RuleSet, pages: dict[str, str]
) -> None:
    """A report read back from its JSON (stored, piped, served) renders to the same page."""
    stored = Report.model_validate_json(reports["batch"].model_dump_json())
    assert render_html(stored, ruleset.domain_title) == pages["batch"]


# ---------------------------------------------------------------------------- the run


def test_the_run_facts_are_listed(pages: dict[str, str], reports: dict[str, Report]) -> None:
    report = reports["reject"]
    rows = parse(pages["reject"]).one("table", cls="facts").all("tr")
    facts = {tr.one("th").text(): tr.one("td").text() for tr in rows}
    assert facts == {
        "Tool": f"compliance {__version__} (report version {REPORT_VERSION})",
        "Engine": "reference",
        "Rule set": f"compliance-core {report.rule_set.version} (125 rules)",
        "Rule set hash": report.rule_set.hash,
        "Threshold": "high: findings at or above it block",
    }


def test_a_tuned_narrowed_run_says_so(reports: dict[str, Report], ruleset: RuleSet) -> None:
    report = reports["reject"]
    (review,) = report.reviews
    index = next(i for i, f in enumerate(review.findings) if f.rule_id == "MON-006")
    graded = review.findings[index].model_copy(  # medium in the rule file
        update={
            "severity": Severity.low,
            "severity_override": SeverityChange(
                original_severity=Severity.medium,
                reason="Exit plans are agreed at the steering committee <b>anyway</b>",
                origin="compliance.toml",
            ),
        }
    )
    assert graded.rule_id == "MON-006"
    findings = [*review.findings[:index], graded, *review.findings[index + 1 :]]
    tuned = report.model_copy(
        update={
            "domain_thresholds": {"data_sharing": Severity.medium},
            "selection": SelectionOut(
                config="compliance.toml",
                builtin_rules=True,
                rules_loaded=72,
                rules_run=15,
                domains=["data_sharing"],
                rules=[],
                skipped=["DS-003"],
                disabled=[],
                severity_overrides=[],
            ),
            "reviews": [review.model_copy(update={"findings": findings})],
        }
    )
    root = parse(render_html(tuned, ruleset.domain_title))
    assert root.one("p", cls="warning").text() == (
        "Only 15 of 72 rules ran: the decisions cover those rules alone."
    )
    facts = {tr.one("th").text(): tr.one("td").text() for tr in root.one(cls="facts").all("tr")}
    assert facts["Domain thresholds"] == "Data sharing and data protection (data_sharing): medium"
    assert facts["Rules run"] == "only 15 of 72 rules loaded: the decisions cover those rules alone"
    assert facts["Selection"] == "--domain data_sharing --skip-rule DS-003"
    assert facts["Config"] == "compliance.toml"
    assert root.one("p", cls="override").text() == (
        "Severity changed: low (rule default medium) by compliance.toml: Exit plans are agreed "
        "at the steering committee <b>anyway</b>"
    )
    assert root.one("article", data_rule="DS-004").one(cls="gate-blocks").text() == (
        "Blocks at threshold medium (this domain's): rejects the proposal"
    )


# ---------------------------------------------------------------------------- hostile input

HOSTILE_TITLE = '<script>alert(1)</script> "><img src=x onerror=alert(2)> Fish & Chips\nline two'
HOSTILE_UNIT = "<script>alert('unit')</script> \"Red\" & <b>Blue</b>\nBattalion"


def test_hostile_text_stays_text(tmp_path: Path, reference: Reviewer, ruleset: RuleSet) -> None:
    data = json.loads(DENIED_UNIT.read_text(encoding="utf-8"))
    data["title"] = HOSTILE_TITLE
    data["security_units"][0]["name"] = HOSTILE_UNIT
    path = tmp_path / 'odd "name" <i>.json'
    path.write_text(json.dumps(data), encoding="utf-8")
    report = _report(reference, path)
    # a reference whose URL is not http(s) is shown, never linked
    (review,) = report.reviews
    first = review.findings[0]
    odd = ReferenceOut(
        instrument="Local <policy>",
        provision="s. 1",
        url="javascript:alert(3)",
        binding="required",
    )
    first = first.model_copy(update={"references": [*first.references, odd]})
    report = report.model_copy(
        update={"reviews": [review.model_copy(update={"findings": [first, *review.findings[1:]]})]}
    )
    page = render_html(report, ruleset.domain_title)

    for raw in ("<script", "<img", "<b>", "<i>", "<policy>", 'href="javascript'):
        assert raw not in page, raw
    assert (
        "&lt;script&gt;alert(1)&lt;/script&gt; &quot;&gt;&lt;img src=x onerror=alert(2)&gt; "
        "Fish &amp; Chips\\u000aline two" in page
    )
    assert "&lt;script&gt;alert(&#x27;unit&#x27;)&lt;/script&gt; &quot;Red&quot; &amp; " in page
    root = parse(page)
    assert [n.tag for n in root.iter() if n.tag in ("script", "img", "b", "i", "policy")] == []
    shown_title = HOSTILE_TITLE.replace("\n", "\\u000a")
    assert root.one("p", cls="subject").text() == f"{review.proposal_id} {shown_title}"
    assert (
        root.one("head").one("title").text() == f"Compliance review: {review.proposal_id}: reject"
    )
    unit = HOSTILE_UNIT.replace("\n", "\\u000a")
    # the unit's name in the summary: whitespace collapsed, cut to 40 characters, and text
    named = [li.text() for li in root.one("div", cls="summary").all("li")]
    shown_unit = 'security unit "<script>alert(\'unit\')</script> "Red" &…"'
    assert any(line.endswith(f"({shown_unit})") for line in named), named
    message = root.one("article", data_rule="ACC-009").one("p", cls="message").text()
    assert message.startswith(f"{unit} of FARDC was denied")
    where = root.one("article", data_rule="ACC-009").one("tbody").all("td")[3].text()
    assert where.startswith(f"{path}:")
    # the odd reference: text, with its URL beside it, and no link
    item = root.one("article", data_rule=first.rule_id).one("ul", cls="references").all("li")[-1]
    assert item.one(cls="full").text() == "Required by Local <policy>, s. 1 javascript:alert(3)"
    assert item.all("a") == []
    assert all(a.attrs["href"].startswith(("#", "https://")) for a in root.all("a"))


# ---------------------------------------------------------------------------- waivers

JUSTIFICATION = "The assessment is scheduled and funded; board minute 2026-09-28."


@pytest.fixture(scope="module")
def waived(tmp_path_factory: pytest.TempPathFactory, ruleset: RuleSet) -> tuple[Report, str]:
    folder = tmp_path_factory.mktemp("waivers")
    # The proposal answers the two high questions of contract v2 (written caveats, a torture-risk
    # assessment), so that its two high violations, once waived, are all that stood in the way.
    proposal = json.loads(REJECT.read_text(encoding="utf-8"))
    proposal["schema_version"] = "2"
    proposal["data_sharing"]["flows"][0] |= {
        "use_caveats_in_writing": True,
        "torture_risk_assessed": True,
    }
    answered = folder / REJECT.name
    answered.write_text(json.dumps(proposal), encoding="utf-8")
    path = folder / "waivers.yaml"
    path.write_text(
        f"""version: 1
waivers:
  - id: W-2026-014
    rule: DS-004
    proposal: HO-F3-BIOMETRIC-ID
    justification: "{JUSTIFICATION}"
    approved_by: Amina Diallo, General Counsel
    approved_on: 2026-10-01
    expires: 2027-03-31
  - id: W-2026-015
    rule: DS-011
    proposal: HO-F3-BIOMETRIC-ID
    path: data_sharing.emergency_deletion_plan
    justification: The deletion plan is annexed to the contract signed on 2026-10-02.
    approved_by: Amina Diallo, General Counsel
    approved_on: 2026-10-02
    expires: 2027-03-31
  - id: W-2025-003
    rule: MON-006
    proposal: HO-F3-BIOMETRIC-ID
    justification: Exit terms were to be agreed at the first steering committee.
    approved_by: Jon Park, Programme Director
    approved_on: 2025-09-01
    expires: 2026-03-31
  - id: W-2026-020
    rule: CIV-001
    proposal: HO-F3-BIOMETRIC-ID
    justification: Kept for the second phase, which adds joint patrols.
    approved_by: Jon Park, Programme Director
    approved_on: 2026-10-01
    expires: 2027-10-01
""",
        encoding="utf-8",
    )
    waivers = load_waivers(path, ruleset, as_of=date(2026, 11, 21))
    with Reviewer(ruleset, engine="reference", waivers=waivers) as reviewer:
        report = _report(reviewer, answered)
    return report, render_html(report, ruleset.domain_title)


def test_a_waived_finding_is_marked_with_who_and_why(waived: tuple[Report, str]) -> None:
    report, page = waived
    root = parse(page)
    (review,) = report.reviews
    assert review.decision.value == "approve_with_conditions"  # both highs are waived
    assert root.one("header", cls="banner").one("p", cls="decision").text() == (
        "Approve with conditions"
    )
    article = root.one("article", data_rule="DS-004")
    assert {"waived", "blocks"} & article.classes == {"waived"}
    assert article.one("span", cls="waived-tag").text() == "Waived"
    assert article.one(cls="gate-waived").text() == "Does not block: waived"
    note = article.one("div", cls="waiver")
    assert note.classes == {"waiver", "applied"}
    assert [p.text() for p in note.all("p")] == [
        "Waived by waiver W-2026-014: accepted risk, it does not block.",
        f"Justification: {JUSTIFICATION}",
        "Approved by Amina Diallo, General Counsel on 2026-10-01; expires 2027-03-31 (the last "
        f"day in force); from {report.waivers.file if report.waivers else ''}.",
    ]


def test_an_expired_waiver_reopens_its_finding(waived: tuple[Report, str]) -> None:
    _, page = waived
    article = parse(page).one("article", data_rule="MON-006")
    assert {"reopened", "waived"} & article.classes == {"reopened"}
    note = article.one("div", cls="waiver")
    assert note.classes == {"waiver", "expired"}
    assert note.all("p")[0].text() == (
        "Waiver W-2025-003 expired on 2026-03-31 — finding re-opened."
    )
    assert article.all(cls="waived-tag") == []
    assert article.one(cls="gate-condition").text() == (
        "Does not block at threshold high: a condition of approval"
    )


def test_the_waivers_table_lists_every_waiver_used_or_not(waived: tuple[Report, str]) -> None:
    report, page = waived
    root = parse(page)
    section = root.one("section", cls="waivers")
    assert report.waivers is not None
    assert section.one("p").text() == (
        f"{report.waivers.file} ({report.waivers.sha256}), judged as of 2026-11-21."
    )
    rows = [[td.text() for td in tr.all("td")] for tr in section.one("tbody").all("tr")]
    assert rows == [
        ["W-2026-014", "DS-004", "HO-F3-BIOMETRIC-ID", "any", "Amina Diallo, General Counsel",
         "2026-10-01", "2027-03-31", "applied", "1"],
        ["W-2026-015", "DS-011", "HO-F3-BIOMETRIC-ID", "data_sharing.emergency_deletion_plan",
         "Amina Diallo, General Counsel", "2026-10-02", "2027-03-31", "applied", "1"],
        ["W-2025-003", "MON-006", "HO-F3-BIOMETRIC-ID", "any", "Jon Park, Programme Director",
         "2025-09-01", "2026-03-31", "expired: its findings are open again", "1"],
        ["W-2026-020", "CIV-001", "HO-F3-BIOMETRIC-ID", "any", "Jon Park, Programme Director",
         "2026-10-01", "2027-10-01", "unused: no finding matched", "0"],
    ]  # fmt: skip
    facts = {tr.one("th").text(): tr.one("td").text() for tr in root.one(cls="facts").all("tr")}
    assert facts["Waivers as of"] == "2026-11-21; blockers may be waived: no"
    assert facts["Waivers file"] == f"{report.waivers.file} ({report.waivers.sha256})"
    assert (
        root.one("header", cls="banner").one("p", cls="counts").text().endswith("2 waived (2 high)")
    )


# ---------------------------------------------------------------------------- Chromium

CHROMIUM = (
    shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
)
WINDOW = (1280, 1600)
DECISION_BANNER = {"batch": "#b42318", "denied": "#b42318"}


def _chromium(*args: str, cwd: Path) -> None:
    """Run headless Chromium once, in its own process group so that a hang kills it whole."""
    assert CHROMIUM is not None
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={cwd / 'profile'}",
        *args,
    ]
    proc = subprocess.Popen(
        command,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"chromium did not finish in 60 s: {' '.join(command)}")
    assert proc.returncode == 0, err.decode(errors="replace")[-2000:]


def _rgb(colour: str) -> tuple[int, int, int]:
    return (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))


@pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium, chromium-browser or google-chrome on PATH"
)
@pytest.mark.parametrize("name", ["batch", "denied"])
def test_chromium_draws_the_chart_in_the_first_screen_and_prints(
    pages: dict[str, str], tmp_path: Path, name: str
) -> None:
    # Pillow decodes the screenshot: a 1280x1600 PNG is filtered (Paeth and others) and a
    # pure-Python unfilter of its 6 MB takes seconds; Pillow is a test-only dependency.
    image_module = pytest.importorskip("PIL.Image", reason="pillow (the dev extra) is needed")
    page = tmp_path / f"{name}.html"
    page.write_text(pages[name], encoding="utf-8")
    png = tmp_path / f"{name}.png"
    _chromium(
        f"--window-size={WINDOW[0]},{WINDOW[1]}", f"--screenshot={png}", page.as_uri(), cwd=tmp_path
    )
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("COMPLIANCE_SCREENSHOT_DIR"):
        out = Path(os.environ["COMPLIANCE_SCREENSHOT_DIR"])
        out.mkdir(parents=True, exist_ok=True)
        shutil.copy(png, out / f"html-report-{name}.png")

    with image_module.open(png) as shot:
        assert shot.format == "PNG"
        assert shot.size == WINDOW
        pixels = {
            rgb: n for n, rgb in shot.convert("RGB").getcolors(maxcolors=WINDOW[0] * WINDOW[1])
        }

    # The chart's segments, as the SVG draws them (CSS pixels; the screenshot is at scale 1).
    svg = parse(pages[name]).one("svg", id="chart-findings")
    area: Counter[str] = Counter()
    for rect in svg.all("rect", cls="segment"):
        area[rect.attrs["data-severity"]] += int(rect.attrs["width"]) * int(rect.attrs["height"])
    for severity in (Severity.blocker, Severity.high):
        drawn = pixels.get(_rgb(SEVERITY_COLOUR[severity]), 0)
        assert area[severity.value] > 500
        # every pixel of the segments is on screen, in the exact colour, but for the labels
        # written on them (badges lower in the page only add to it)
        assert drawn >= 0.85 * area[severity.value] > 500, (severity, drawn, area)
    assert pixels.get(_rgb(DECISION_BANNER[name]), 0) > 50_000  # the banner, in its colour

    pdf = tmp_path / f"{name}.pdf"
    _chromium("--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri(), cwd=tmp_path)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    assert data.count(b"/Type /Page") + data.count(b"/Type/Page") >= 1
