"""The Markdown memo: exact lines a reviewer pastes into a ticket, and input that cannot inject."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compliance.intake.proposals import read_proposals
from compliance.reports.markdown import code, md, render_markdown
from compliance.review.findings import Report
from compliance.review.reviewer import Reviewer
from compliance.rules.ruleset import RuleSet
from tests.conftest import FIXTURES, run_cli


def _report(durable: Reviewer, *paths: Path) -> Report:
    loaded = read_proposals([str(p) for p in paths])
    return durable.report([durable.review(i.proposal, i.source_map) for i in loaded])


def test_the_memo_opens_with_the_run_and_a_decision_table(
    durable: Reviewer, ruleset: RuleSet
) -> None:
    report = _report(
        durable,
        FIXTURES / "exemplary-community-policing.json",  # approved with no findings
        FIXTURES / "flawed-data-sharing-biometrics-left-behind.json",
    )
    lines = render_markdown(report, ruleset.domain_title).splitlines()
    assert lines[:8] == [
        "# Compliance review",
        "",
        f"2 proposals: 1 approve, 1 reject. compliance {report.tool_version}, rules "
        f"compliance-core {ruleset.version} (125 rules, `{ruleset.hash[:19]}`), engine durable, "
        "threshold high.",
        "",
        "| Proposal | Decision | blocker | high | medium | low | info | Needs information | Waived |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        "| `PRP-2026-021` | approve | 0 | 0 | 0 | 0 | 0 | 0 | 0 |",
        "| `HO-F3-BIOMETRIC-ID` | reject | 0 | 2 | 2 | 2 | 0 | 12 | 0 |",
    ]
    evidence = report.reviews[1].findings[0].evidence
    source = md(str(FIXTURES / "flawed-data-sharing-biometrics-left-behind.json"))
    start = lines.index("### Data sharing and data protection")
    assert lines[start + 2 : start + 6] == [
        "- **HIGH · DS-004: Impact assessment before sharing sensitive or vulnerable people's "
        "data** (violation)",
        "  - Sensitive data, or data about people at particular risk (refugees, children, "
        "suspects, detainees, victims or witnesses), is shared, but the data protection impact "
        "assessment is: none.",
        f'  - Evidence: `data_sharing.impact_assessment.status` = `"none"` ({source}:113:17)',
        f'  - Evidence (context): `data_sharing.flows[0].granularity` = `"individual"` '
        f"({source}:101:24)",
    ]
    assert [str(e.location).rsplit(".json", 1)[1] for e in evidence[:2]] == [":113:17", ":101:24"]
    assert any(
        line.startswith("  - Source: good practice per [Regulation (EU) 2016/679") for line in lines
    )


def test_unanswered_questions_are_listed(durable: Reviewer, ruleset: RuleSet) -> None:
    report = _report(durable, FIXTURES / "incomplete-coast-guard-training.json")
    lines = render_markdown(report, ruleset.domain_title).splitlines()
    start = lines.index("### Questions to answer")
    assert lines[start + 2].startswith("- `security_units[0].vetting_status`: What is the unit's")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[click](javascript:alert(1))", "\\[click\\](javascript:alert(1))"),
        ("![img](http://x/y.png)", "!\\[img\\](http://x/y.png)"),
        ("<script>alert(1)</script>", "\\<script\\>alert(1)\\</script\\>"),
        ("a | b", "a \\| b"),
        ("**bold** _it_ ~~s~~ `code`", "\\*\\*bold\\*\\* \\_it\\_ \\~\\~s\\~\\~ \\`code\\`"),
        ("line one\nline two", r"line one\\u000aline two"),  # escaped by clean(), then md()
        ("&lt;", "\\&lt;"),
        ("# heading", "\\# heading"),
        ("Title ##", "Title \\#\\#"),
        ("- item", "\\- item"),
        ("+ item", "\\+ item"),
        ("* item", "\\* item"),
        ("1. first", "1\\. first"),
        ("12) twelfth", "12\\) twelfth"),
        ("---", "\\---"),
        ("=== x", "\\=== x"),
        ("> quote", "\\> quote"),
        ("```python", "\\`\\`\\`python"),
        ("\t# after a tab", r"\\u0009\# after a tab"),
        ("in 2026. - fine + ok", "in 2026. - fine + ok"),
    ],
)
def test_input_text_is_literal(text: str, expected: str) -> None:
    assert md(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain", "`plain`"),
        ("a`b", "``a`b``"),
        ("``x", "``` ``x ```"),
        ("a|b", "`a\\|b`"),
    ],
)
def test_code_spans_cannot_be_closed_from_inside(text: str, expected: str) -> None:
    assert code(text) == expected


def test_a_hostile_title_stays_text_through_the_cli(tmp_path: Path) -> None:
    data = json.loads((FIXTURES / "exemplary-humanitarian.json").read_text())
    data["title"] = "Fine | [approve](http://evil) <img src=x onerror=alert(1)>"
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data))
    result = run_cli("review", str(path), "--format", "markdown")
    assert result.code == 0
    assert (
        "## `PRP-2026-077`: Fine \\| \\[approve\\](http://evil) \\<img src=x "
        "onerror=alert(1)\\>" in result.out.splitlines()
    )


def test_input_starting_a_list_item_opens_no_block(tmp_path: Path) -> None:
    """A finding's message can start with an answer: it stays the text of its list item."""
    data = json.loads((FIXTURES / "flawed-refugee-data-sharing.json").read_text())
    for name, start in (
        ("# Heading", "\\# Heading"),
        ("- Item", "\\- Item"),
        ("1. One", "1\\. One"),
    ):
        data["data_sharing"]["processors"][0]["name"] = name
        path = tmp_path / "p.json"
        path.write_text(json.dumps(data))
        result = run_cli("review", str(path), "--format", "markdown")
        assert result.code == 3
        assert (
            f"  - {start} handles the data (held in SG) without a data processing contract."
            in result.out.splitlines()
        )


def test_a_narrowed_run_says_so_up_front() -> None:
    result = run_cli(
        "review",
        str(FIXTURES / "exemplary-humanitarian.json"),
        "--format",
        "markdown",
        "--domain",
        "data_sharing",
    )
    lines = result.out.splitlines()
    assert lines[3:5] == [
        "",
        "> Only 25 of 125 rules ran: the decisions cover those rules alone.",
    ]
