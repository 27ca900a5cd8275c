"""Redacted reports (``--redact``): no free-text answer of any bundled fixture survives in any
format, the decisions and findings are those of the plain review, placeholders are stable, and
profiles choose what is hidden."""

from __future__ import annotations

import html
import io
import json
import re
import unicodedata
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from compliance.batch import windows as batch
from compliance.batch.run import review_batch
from compliance.commands.review import _render
from compliance.errors import ConfigError, EngineError, InputError
from compliance.gate.config import load_config
from compliance.intake.proposals import LoadedProposal
from compliance.proposal.fields import Kind, catalogue
from compliance.reports.redact_check import check_output, public_text
from compliance.review.findings import Report
from compliance.review.redact import Profile, Redactor, default_profile, label_of, resolve_fields
from compliance.review.reviewer import Reviewer
from compliance.review.waivers import load_waivers
from compliance.rules.ruleset import RuleSet
from tests.conftest import FIXTURES, run_cli

FORMATS = ("text", "json", "jsonl", "markdown", "junit", "sarif", "html", "xlsx")
INPUTS = sorted(
    [*FIXTURES.glob("*.json"), *(FIXTURES / "workbooks").glob("*.xlsx")], key=lambda p: p.name
)


def _free_text(data: Any, prefix: str = "") -> list[str]:
    """Every free-text answer of a proposal, found by the field catalogue's kinds."""
    specs = catalogue()
    out: list[str] = []
    for key, value in (data or {}).items():
        spec = specs.get(f"{prefix}{key}")
        if spec is None or value is None:
            continue
        if spec.kind is Kind.TEXT:
            out.append(value)
        elif spec.kind is Kind.TEXT_LIST:
            out.extend(value)
        elif spec.kind is Kind.OBJECT:
            out += _free_text(value, f"{prefix}{key}.")
        elif spec.kind is Kind.OBJECT_LIST:
            for item in value:
                out += _free_text(item, f"{prefix}{key}[].")
    return out


def _fold(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"-\s+", "-", " ".join(folded.split()))


_WORD = re.compile(r"\w")


def _contains(folded: str, value: str) -> bool:
    """``value`` in the text ``folded`` (by :func:`_fold`, once for all values) as a whole word or
    phrase, case-insensitively, across wrapping."""
    v = _fold(value)
    at = folded.find(v)
    while at != -1:
        cut_before = v[:1].isalnum() and _WORD.match(folded[at - 1 : at]) if at else False
        cut_after = v[-1:].isalnum() and _WORD.match(folded[at + len(v) : at + len(v) + 1])
        if not cut_before and not cut_after:
            return True
        at = folded.find(v, at + 1)
    return False


def _strings(data: Any) -> list[str]:
    if isinstance(data, dict):
        return [s for k, v in data.items() for s in (k, *_strings(v))]
    if isinstance(data, list):
        return [s for v in data for s in _strings(v)]
    return [data] if isinstance(data, str) else []


def _as_read(fmt: str, output: bytes) -> str:
    """What a reader of the output sees: JSON parsed, markup unescaped, workbook cells read."""
    if fmt in ("json", "sarif"):
        return "\n".join(_strings(json.loads(output)))
    if fmt == "jsonl":
        return "\n".join(s for line in output.splitlines() for s in _strings(json.loads(line)))
    if fmt == "xlsx":
        book = openpyxl.load_workbook(io.BytesIO(output))
        cells = [ws.title for ws in book.worksheets]
        for ws in book.worksheets:
            cells += [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
        return "\n".join(cells)
    text = output.decode()
    if fmt == "markdown":  # Markdown's backslash escapes, as a renderer drops them
        text = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text)
    return html.unescape(text) if fmt in ("html", "junit", "markdown") else text


def _run(
    reviewer: Reviewer, ruleset: RuleSet, path: Path, tmp: Path, formats: tuple[str, ...]
) -> tuple[Report, dict[str, bytes]]:
    targets = [(fmt, tmp / f"report.{fmt}") for fmt in formats]
    report, _, _ = review_batch(
        reviewer,
        [str(path)],
        list(targets),
        1,
        lambda fmt, whole: _render(fmt, whole, ruleset, dict(targets)[fmt], None),
    )
    return report, {fmt: out.read_bytes() for fmt, out in targets}


def _findings(report: Report) -> list[list[tuple[str, str, str, str | None, tuple[str, ...]]]]:
    return [
        [
            (f.rule_id, f.severity.value, f.outcome, f.subject, tuple(e.path for e in f.evidence))
            for f in r.findings
        ]
        for r in report.reviews
    ]


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: p.name)
def test_no_free_text_survives_in_any_format(path: Path, ruleset: RuleSet, tmp_path: Path) -> None:
    loaded = [u for u in batch.units([str(path)], set()) if isinstance(u, LoadedProposal)]
    values = {v for item in loaded for v in _free_text(item.proposal.model_dump())}
    public = public_text(ruleset)
    # An answer that is also the rules' or the catalogue's own text cannot be looked for in an
    # output (it is there whatever the proposal says); it must really be that text.
    public_folded = _fold(public)
    skipped = {v for v in values if _contains(public_folded, v)}
    assert all(_fold(v) in public for v in skipped)
    plain_reviewer = Reviewer(ruleset, engine="reference")
    plain, _ = _run(plain_reviewer, ruleset, path, tmp_path, ("markdown",))
    redactor = Redactor(default_profile(), public)
    redacting = Reviewer(ruleset, engine="reference", redaction=redactor)
    redacted, outputs = _run(redacting, ruleset, path, tmp_path, FORMATS)
    for fmt, output in outputs.items():
        seen = _as_read(fmt, output)
        seen_folded = _fold(seen)
        leaked = sorted(v for v in values - skipped if _contains(seen_folded, v))
        assert leaked == [], (fmt, leaked)
        if fmt in ("text", "markdown", "html"):
            assert "redacted by profile default" in seen
    assert redacted.redaction is not None
    assert redacted.redaction.profile == "default"
    assert [r.decision for r in redacted.reviews] == [r.decision for r in plain.reviews]
    assert [r.counts for r in redacted.reviews] == [r.counts for r in plain.reviews]
    assert _findings(redacted) == _findings(plain)
    assert [r.proposal_id for r in redacted.reviews] == [
        redactor.proposal_id(item.proposal.id) for item in loaded
    ]
    assert all(re.fullmatch(r"\[proposal \d+\]", r.proposal_id) for r in redacted.reviews)


def test_placeholders_are_stable_and_distinct() -> None:
    redactor = Redactor(default_profile())
    view = {
        "id": "P-1",
        "title": "Police training in Borno",
        "lead": {"name": "Relief Consortium"},
        "parties": [{"name": "relief  consortium"}, {"name": "Borno State Police"}],
        "legal": {"sanctions_regimes": ["UN", "EU"]},
    }
    shown = redactor.view(view)
    assert shown == {
        "id": "[proposal 1]",
        "title": "[title 1]",
        "lead": {"name": "[lead 1]"},
        "parties": [{"name": "[lead 1]"}, {"name": "[party 1]"}],
        "legal": {"sanctions_regimes": ["[sanctions regime 1]", "[sanctions regime 2]"]},
    }
    again = redactor.view({"id": "P-2", "parties": [{"name": "Borno State Police"}]})
    assert again == {"id": "[proposal 2]", "parties": [{"name": "[party 1]"}]}
    assert redactor.source("fixtures/a.json") == "[source 1]"
    assert redactor.source("fixtures/a.json") == "[source 1]"
    assert redactor.source("-") == "-"


def test_labels_come_from_the_field_paths() -> None:
    assert [
        label_of(p)
        for p in (
            "id",
            "parties[].name",
            "security_units[].name",
            "security_units[].parent_force",
            "data_sharing.flows[].recipient",
            "monitoring.indicators",
            "data_sharing.processors[].name",
        )
    ] == [
        "proposal",
        "party",
        "security unit",
        "parent force",
        "recipient",
        "indicator",
        "processor",
    ]


def test_a_profile_hides_only_its_fields(ruleset: RuleSet, tmp_path: Path) -> None:
    fields = resolve_fields(["parties[].name", "data_sharing"], "test")
    assert fields == {
        "parties[].name",
        "data_sharing.flows[].recipient",
        "data_sharing.flows[].purpose",
        "data_sharing.data_subject_notice.languages",
        "data_sharing.processors[].name",
    }
    path = FIXTURES / "flawed-refugee-data-sharing.json"
    redactor = Redactor(Profile("donor", fields, keep_source=True), public_text(ruleset))
    report, outputs = _run(
        Reviewer(ruleset, engine="reference", redaction=redactor),
        ruleset,
        path,
        tmp_path,
        ("json", "markdown"),
    )
    review = report.reviews[0]
    assert review.proposal_id == "PRP-2026-034"
    assert (
        review.title == "Biometric registration of refugees and data exchange for return planning"
    )
    assert review.source == str(path)
    text = outputs["json"].decode()
    assert "Relief Registration Consortium" not in text
    assert "[lead 1]" in text  # the lead's name is a party's name too: hidden as the same words


def test_profile_problems_are_named() -> None:
    with pytest.raises(InputError) as caught:
        resolve_fields(["parties[].country", "nowhere", "activities"], "p")
    assert caught.value.problems == [
        "p: 'parties[].country' is a code, not free text (only free-text fields are redacted)",
        "p: 'nowhere' is not a field of the proposal",
    ]


def test_the_final_check_fails_closed() -> None:
    redactor = Redactor(default_profile())
    redactor.view({"id": "P-1", "parties": [{"name": "Ministry of Interior & Safety"}]})
    check_output(redactor, "text", "a report of [party 1]")
    with pytest.raises(EngineError) as caught:
        check_output(redactor, "html", "<p>ministry of\n  interior &amp; safety</p>")
    assert str(caught.value) == (
        "--redact default: the html report still holds the answer(s) behind [party 1]; "
        "nothing is written"
    )
    with pytest.raises(EngineError):
        check_output(redactor, "json", '{"a": "Ministry of Interior \\u0026 Safety"}')
    check_output(redactor, "text", "P-10 is another proposal")  # a whole word only


def test_cli_redact_option_and_records(tmp_path: Path) -> None:
    fixture = str(FIXTURES / "flawed-refugee-data-sharing.json")
    unknown = run_cli("review", fixture, "--redact", "nobody", "--no-config")
    assert unknown.code == 2
    assert unknown.err.strip().endswith("--redact: unknown profile 'nobody' (known: default)")
    records = tmp_path / "records"
    done = run_cli(
        "review", fixture, "--redact", "default", "--record", str(records), "--no-config"
    )
    assert done.code == 3
    assert "Relief Registration" not in done.out
    assert "redacted by profile default" in done.out
    (body,) = [json.loads(p.read_text()) for p in records.glob("0*.json")]
    assert body["redaction"]["profile"] == "default"
    assert body["proposal"]["id"] == "[proposal 1]"
    assert "Relief Registration" not in json.dumps(body)
    verified = run_cli("verify-records", str(records))
    assert verified.code == 0, verified.err


def test_waivers_still_match_and_their_notes_are_hidden(ruleset: RuleSet, tmp_path: Path) -> None:
    waivers = load_waivers(FIXTURES / "gate" / "waivers.yaml", ruleset, as_of=date(2026, 11, 1))
    path = FIXTURES / "flawed-data-sharing-biometrics-left-behind.json"
    plain, _ = _run(
        Reviewer(ruleset, engine="reference", waivers=waivers), ruleset, path, tmp_path, ("html",)
    )
    redactor = Redactor(default_profile(), public_text(ruleset))
    redacted, outputs = _run(
        Reviewer(ruleset, engine="reference", waivers=waivers, redaction=redactor),
        ruleset,
        path,
        tmp_path,
        ("json", "html"),
    )
    applied = [f.waiver for f in redacted.reviews[0].findings if f.waiver is not None]
    before = [f.waiver for f in plain.reviews[0].findings if f.waiver is not None]
    assert [(w.id, w.status) for w in applied] == [(w.id, w.status) for w in before]
    assert applied
    assert {w.justification for w in applied} == {"[waiver justification]"}
    assert redacted.reviews[0].decision == plain.reviews[0].decision
    assert redacted.waivers is not None
    # The reviewed proposal's waivers name it by its placeholder; a waiver for a proposal not
    # in this report gets one of its own.
    assert {
        (u.proposal_id, u.status != "proposal_not_reviewed") for u in redacted.waivers.waivers
    } == {
        ("[proposal 1]", True),
        ("[proposal 2]", False),
    }
    for output in outputs.values():
        assert "HO-F3-BIOMETRIC-ID" not in output.decode()
        assert "ombudsperson" not in output.decode()


def test_profiles_in_the_config(tmp_path: Path) -> None:
    config = tmp_path / "compliance.toml"
    config.write_text(
        '[redaction.profiles.donor]\nfields = ["parties[].name", "security_units"]\n'
        "keep_source = true\n"
    )
    loaded = load_config(config, "compliance.toml")
    assert loaded.redaction_profiles == {
        "donor": Profile(
            "donor",
            frozenset({"parties[].name", "security_units[].name", "security_units[].parent_force"}),
            keep_source=True,
            origin="compliance.toml",
        )
    }
    config.write_text(
        '[redaction.profiles.default]\nfields = ["*"]\n'
        '[redaction.profiles.odd]\nfields = ["funding.total_amount"]\n'
    )
    with pytest.raises(ConfigError) as caught:
        load_config(config, "compliance.toml")
    assert caught.value.problems == [
        "compliance.toml: redaction.profiles.default: 'default' is built in (all free text); "
        "name yours otherwise",
        "compliance.toml: redaction.profiles.odd.fields: 'funding.total_amount' is a number, not "
        "free text (only free-text fields are redacted)",
    ]


def test_cli_config_profile(tmp_path: Path) -> None:
    config = tmp_path / "compliance.toml"
    config.write_text('[redaction.profiles.donor]\nfields = ["parties[].name"]\n')
    fixture = str(FIXTURES / "flawed-refugee-data-sharing.json")
    unknown = run_cli("review", fixture, "--redact", "donr", "--config", str(config))
    assert unknown.code == 2
    assert unknown.err.strip().endswith("--redact: unknown profile 'donr' (known: default, donor)")
    done = run_cli("review", fixture, "--redact", "donor", "--config", str(config), "-q")
    assert done.code == 3
    assert "PRP-2026-034  Biometric registration of refugees" in done.out
    assert "Relief Registration Consortium" not in done.out
    assert "redacted by profile donor" in done.out


def test_an_answer_that_is_also_the_reports_own_words_is_not_looked_for(ruleset: RuleSet) -> None:
    redactor = Redactor(default_profile(), public_text(ruleset))
    shown = redactor.view({"id": "P-1", "parties": [{"name": "Reject"}, {"name": "Ombuds Ltd"}]})
    assert shown["parties"] == [{"name": "[party 1]"}, {"name": "[party 2]"}]
    check_output(redactor, "text", "[proposal 1]\n  decision: REJECT\n  ([party 1])")
    with pytest.raises(EngineError):
        check_output(redactor, "text", "decision: REJECT (Ombuds Ltd)")
