"""The SARIF 2.1.0 report: findings as static-analysis results, for GitHub code scanning and other
SARIF viewers (VS Code's SARIF viewer, Azure DevOps, GitLab, DefectDojo, ...).

One run. ``tool.driver`` is ``compliance`` with a reporting descriptor for every rule that ran
(``rules``, in the order given; ``ruleIndex`` points into it); each finding of each proposal is
one result. The mapping:

Rule severity, on the rule's descriptor (``defaultConfiguration.level``, and GitHub code
scanning's ``security-severity``, a score from 0.0 to 10.0 that GitHub shows as critical, high,
medium or low; GitHub reads it only on rules tagged ``security``, so every rule is):

    severity   defaultConfiguration.level   security-severity   GitHub shows
    blocker    error                        9.5                 critical
    high       error                        8.0                 high
    medium     warning                      5.5                 medium
    low        note                         3.0                 low
    info       note                         1.0                 low

A result says what the gate did with the finding, at the report's thresholds (``--fail-on``, per
domain too):

- a violation is ``kind: "fail"``; its ``level`` is ``error`` when it blocks (it rejects the
  proposal), else ``warning`` (medium or worse) or ``note`` (low, info). A waived finding never
  blocks, so it is at most a ``warning``;
- an unanswered fact is ``kind: "open"`` (SARIF 3.27.9: the tool could not determine whether the
  rule is met) and, as SARIF 3.27.10 requires of any kind but ``fail``, ``level: "none"``. Whether
  it holds the proposal back (``needs_information``) is in ``properties.blocks``.

``properties.blocks`` is set on every result. ``message.text`` opens with the rule's title (the
descriptor's ``shortDescription``) on a line of its own, so that viewers which group results by
rule id and first line (sarif-tools, GitHub's alert list) keep one group per rule; then a blank
line, the finding's message, ``Fix:`` and the remediation, then the waiver if one matched.
``tool.driver.informationUri`` is the documentation URL the installed package declares
(``[project.urls]`` Documentation, else Homepage); none is written when it declares none, and
each rule's ``helpUri`` is the URL of its first reference. Text is never altered otherwise,
except that SARIF (3.11.5) reserves ``{`` and ``}`` in every message string for placeholders:
they are written ``{{`` and ``}}`` there (property bags hold the exact text).

Locations: one per evidence item the finding is about (its violating or unanswered answers):

- ``physicalLocation``: the input file relative to the source root, ``uriBaseId: "%SRCROOT%"``
  (``run.originalUriBaseIds`` gives the root's absolute ``file://`` URI; ``--source-root``, default
  the current directory); a file outside the root is an absolute ``file://`` URI with no base.
  Always a ``region``, since code scanning shows no result without ``startLine``: for JSON input
  the answer's ``startLine`` and ``startColumn`` (in Unicode code points: ``run.columnKind``); for
  a workbook the cell's row as ``startLine`` and its column number as ``startColumn`` (C14: 14
  and 3), with ``Sheet!C14`` as the region's ``message``. Standard input (``-``) has no file, so
  no physical location;
- ``logicalLocations``: the field path (``kind: "member"``, ``fullyQualifiedName`` the concrete
  path such as ``data_sharing.flows[1].purpose``), for a workbook the cell (``kind: "element"``,
  name ``Sheet!C14``), and the proposal (``kind: "object"``, its id). Sheet and cell are also in
  the location's ``properties``, with the JSON pointer for JSON input and ``present`` (false when
  the field is absent and the location is where it would be added).

A finding without such evidence gets one location: the proposal (logical) and line 1 of its file
(physical: the finding is about the proposal as a whole, and code scanning needs a line). An
answer with no location (a review made without a source map) points there too.
``partialFingerprints["complianceFinding/v1"]`` is a sha256 over the rule id, proposal id, item
(``subject``) and the sorted paths of the violating or unanswered evidence: it does not change
with line numbers, file names or wording, so code scanning tracks a result across runs.

A waiver in force is an external, accepted ``suppression`` with its justification, and its id,
approver, approval date and expiry in the suppression's ``properties``. An expired waiver
suppresses nothing: the message says it ran out, and ``properties.waiver`` carries it.

``run.invocations[0].properties`` holds each proposal's decision; ``run.properties`` the report
version, engine, rule set, thresholds, selection and waivers, as in the JSON report. The output is
deterministic: no clock is read, and keys are written in a fixed order.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import os
import posixpath
import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote

from compliance.proposal.sourcemap import Location
from compliance.reports.markdown import md
from compliance.review.decision import Thresholds
from compliance.review.findings import Evidence, Finding, Report, Review
from compliance.rules.ruleset import Rule
from compliance.rules.spec import Severity

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
FINGERPRINT = "complianceFinding/v1"
SRCROOT = "%SRCROOT%"

DEFAULT_LEVEL: dict[Severity, str] = {
    Severity.blocker: "error",
    Severity.high: "error",
    Severity.medium: "warning",
    Severity.low: "note",
    Severity.info: "note",
}
SECURITY_SEVERITY: dict[Severity, str] = {
    Severity.blocker: "9.5",
    Severity.high: "8.0",
    Severity.medium: "5.5",
    Severity.low: "3.0",
    Severity.info: "1.0",
}

Json = dict[str, Any]

_SEMVER = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?"
)
_SURROGATE = re.compile("[\ud800-\udfff]")
_WORD = re.compile(r"[A-Za-z0-9]+")


def sarif_text(text: str) -> str:
    """``text`` as a SARIF message string: literal braces doubled (SARIF 3.11.5)."""
    return text.replace("{", "{{").replace("}", "}}")


def _message(text: str) -> Json:
    return {"text": sarif_text(text)}


def level_of(finding: Finding, thresholds: Thresholds) -> str:
    """The result level: see the module docstring."""
    if finding.outcome != "violation":
        return "none"
    if thresholds.blocks(finding):
        return "error"
    return "warning" if finding.severity.rank >= Severity.medium.rank else "note"


def fingerprint(finding: Finding, proposal_id: str) -> str:
    """A stable identity for a finding across runs (see the module docstring)."""
    paths = sorted(e.path for e in finding.evidence if e.role != "context")
    key = [finding.rule_id, proposal_id, finding.subject, paths]
    canonical = json.dumps(key, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def source_root_uri(root: str) -> str:
    """The ``%SRCROOT%`` base: the absolute ``file://`` URI of the directory ``root``, ending with
    ``/`` (SARIF 3.14.14)."""
    path = os.path.abspath(root)
    return "file://" + _encode(path if path.endswith("/") else path + "/")


def artifact_location(source: str, root: str) -> Json | None:
    """The input file as a SARIF ``artifactLocation``: relative to ``root`` against
    ``%SRCROOT%`` when the file is under it, else an absolute ``file://`` URI; None for standard
    input. Paths are compared as written, then with symbolic links resolved."""
    if not source or source == "-":
        return None
    uri, base = _artifact(source, root, os.getcwd())
    return {"uri": uri} if base is None else {"uri": uri, "uriBaseId": base}


@functools.lru_cache(maxsize=1024)
def _artifact(source: str, root: str, cwd: str) -> tuple[str, str | None]:
    """(uri, uriBaseId) of a file, given from the directory ``cwd``: a batch's results name the
    same few files again and again, and resolving symbolic links costs a system call per path
    component."""
    absolute = os.path.abspath(source)
    inside = _under(absolute, os.path.abspath(root))
    if inside is None:
        inside = _under(os.path.realpath(source), os.path.realpath(root))
    if inside is not None:
        return _encode(inside), SRCROOT
    return "file://" + _encode(absolute), None


def _under(path: str, root: str) -> str | None:
    relative = posixpath.relpath(path, root)
    if relative == ".." or relative.startswith("../"):
        return None
    return relative


def _encode(path: str) -> str:
    # A colon is encoded too: a relative reference's first segment cannot hold one (RFC 3986).
    return quote(path, safe="/", errors="surrogateescape")


def _uri(url: str) -> str:
    """A rule file's URL as a valid URI: characters a URI cannot hold (non-ASCII, ``<``, ``|``,
    ...) percent-encoded; what is there already is kept."""
    return quote(url, safe="!#$%&'()*+,/:;=?@[]~")


def _rule_name(title: str) -> str:
    """``Due diligence completed before support starts`` -> ``DueDiligenceCompletedBefore...``."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = _WORD.findall(ascii_title.replace("'", ""))
    return "".join(w[0].upper() + w[1:] for w in words)


# ---------------------------------------------------------------------------------- rules


def _md(text: str) -> str:
    return md(" ".join(text.split()))


def _help(rule: Rule) -> Json:
    text = [f"Fix: {rule.remediation}"]
    markdown = [f"**Fix:** {_md(rule.remediation)}"]
    if rule.references:
        text += ["", "Sources:"]
        markdown += ["", "**Sources:**", ""]
        for ref in rule.references:
            text.append(f"- {ref.instrument}, {ref.provision}: {ref.url}")
            # parentheses encoded too: an unbalanced one would end the link (CommonMark)
            link = _uri(ref.url).replace("(", "%28").replace(")", "%29")
            markdown.append(f"- [{_md(ref.instrument)}, {_md(ref.provision)}]({link})")
    return {"text": sarif_text("\n".join(text)), "markdown": sarif_text("\n".join(markdown))}


def _descriptor(rule: Rule, domain_title: Callable[[str], str]) -> Json:
    title = domain_title(rule.domain)
    out: Json = {
        "id": rule.id,
        "name": _rule_name(rule.title) or rule.id,
        "shortDescription": _message(rule.title),
        "fullDescription": _message(
            f"{rule.title}. Domain: {title}. Severity: {rule.severity.value}."
        ),
        "help": _help(rule),
    }
    if rule.references:
        out["helpUri"] = _uri(rule.references[0].url)
    out["defaultConfiguration"] = {"level": DEFAULT_LEVEL[rule.severity]}
    props: Json = {
        # GitHub reads security-severity only on rules tagged "security" (else it shows the
        # SARIF level: error, warning, note).
        "tags": list(dict.fromkeys(["security", rule.domain, rule.severity.value])),
        "security-severity": SECURITY_SEVERITY[rule.severity],
        "domain": rule.domain,
        "domain_title": title,
        "severity": rule.severity.value,
    }
    if rule.override is not None:
        props["severity_override"] = {
            "original_severity": rule.override.original.value,
            "reason": rule.override.reason,
            "origin": rule.override.origin,
        }
    out["properties"] = props
    return out


# ---------------------------------------------------------------------------------- results


def _proposal_location(review: Review) -> Json:
    return {"name": review.proposal_id, "fullyQualifiedName": review.proposal_id, "kind": "object"}


def _field_location(path: str) -> Json:
    name = path.rsplit(".", 1)[-1]
    return {"name": name, "fullyQualifiedName": path, "kind": "member"}


_CELL = re.compile(r"([A-Z]{1,3})([1-9][0-9]*)")


def cell_region(sheet: str, cell: str | None) -> Json:
    """A workbook cell as a text region code scanning accepts: ``startLine`` the cell's row,
    ``startColumn`` its column number (C14: line 14, column 3), the sheet and cell in the
    region's message. A sheet without a cell is line 1, column 1."""
    found = _CELL.fullmatch(cell or "")
    if found is None:
        return {"startLine": 1, "startColumn": 1, "message": _message(sheet)}
    letters, row = found.groups()
    column = 0
    for letter in letters:
        column = column * 26 + ord(letter) - ord("A") + 1
    return {"startLine": int(row), "startColumn": column, "message": _message(f"{sheet}!{cell}")}


def _file_start(source: str | None, root: str) -> Json | None:
    """The start of the proposal's file: where a finding with no located answer points."""
    artifact = artifact_location(source or "-", root)
    if artifact is None:
        return None
    return {"artifactLocation": artifact, "region": {"startLine": 1, "startColumn": 1}}


def _physical(loc: Location, root: str) -> Json | None:
    artifact = artifact_location(loc.source, root)
    if artifact is None:
        return None
    if loc.sheet is not None:
        region = cell_region(loc.sheet, loc.cell)
    else:
        region = {"startLine": loc.line or 1, "startColumn": loc.column or 1}
    return {"artifactLocation": artifact, "region": region}


def _location(e: Evidence, review: Review, root: str) -> Json:
    out: Json = {}
    logical = [_field_location(e.path)]
    props: Json = {"role": e.role}
    loc = e.location
    physical = _file_start(review.source, root) if loc is None else _physical(loc, root)
    if physical is not None:
        out["physicalLocation"] = physical
    if loc is not None:
        if loc.sheet is not None:
            cell = f"{loc.sheet}!{loc.cell}" if loc.cell else loc.sheet
            logical.append(
                {"name": cell, "fullyQualifiedName": f"{loc.source}/{cell}", "kind": "element"}
            )
            props["sheet"] = loc.sheet
            props["cell"] = loc.cell
        if loc.pointer is not None:
            props["pointer"] = loc.pointer
        props["present"] = loc.present
    logical.append(_proposal_location(review))
    out["logicalLocations"] = logical
    if e.role == "unanswered" or e.value is None:
        seen = "not answered"
    else:
        seen = json.dumps(e.value, ensure_ascii=False, default=str)
    out["message"] = _message(f"{e.path}: {seen}")
    out["properties"] = props
    return out


def _locations(finding: Finding, review: Review, root: str) -> list[Json]:
    about = [e for e in finding.evidence if e.role != "context"]
    if about:
        return [_location(e, review, root) for e in about]
    out: Json = {}
    physical = _file_start(review.source, root)
    if physical is not None:
        out["physicalLocation"] = physical
    out["logicalLocations"] = [_proposal_location(review)]
    return [out]


def _waiver_note(finding: Finding) -> str:
    w = finding.waiver
    if w is None:
        return ""
    if w.status == "applied":
        return (
            f"\n\nWaived by {w.id} until {w.expires.isoformat()} (approved by {w.approved_by} "
            f"on {w.approved_on.isoformat()}): {w.justification}"
        )
    return (
        f"\n\nWaiver {w.id} (approved by {w.approved_by} on {w.approved_on.isoformat()}) ran out "
        f"on {w.expires.isoformat()}: the finding is open again."
    )


def _result(
    finding: Finding,
    review: Review,
    rules: Sequence[Rule],
    index: dict[str, int],
    thresholds: Thresholds,
    root: str,
) -> Json:
    if finding.rule_id not in index:
        raise ValueError(
            f"{review.proposal_id}: finding of rule {finding.rule_id}, which is not among the "
            "rules given: pass the rules that ran"
        )
    # The rule's title first, on its own line: viewers group results by rule and first line.
    title = rules[index[finding.rule_id]].title
    fix = f"Fix: {finding.remediation}{_waiver_note(finding)}"
    text = f"{title}\n\n{finding.message}\n\n{fix}"
    out: Json = {
        "ruleId": finding.rule_id,
        "ruleIndex": index[finding.rule_id],
        "kind": "fail" if finding.outcome == "violation" else "open",
        "level": level_of(finding, thresholds),
        "message": _message(text),
        "locations": _locations(finding, review, root),
        "partialFingerprints": {FINGERPRINT: fingerprint(finding, review.proposal_id)},
    }
    if finding.waived and finding.waiver is not None:
        w = finding.waiver
        out["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": w.justification,
                "properties": {
                    "waiver_id": w.id,
                    "approved_by": w.approved_by,
                    "approved_on": w.approved_on.isoformat(),
                    "expires": w.expires.isoformat(),
                    "origin": w.origin,
                },
            }
        ]
    dumped = finding.model_dump(mode="json")
    props: Json = {
        "proposal_id": review.proposal_id,
        "proposal_title": review.title,
        "decision": review.decision.value,
        "outcome": finding.outcome,
        "severity": finding.severity.value,
        "domain": finding.domain,
        "blocks": thresholds.blocks(finding),
        "subject": finding.subject,
        "evidence": [
            {"path": e["path"], "role": e["role"], "value": e["value"]} for e in dumped["evidence"]
        ],
        "references": dumped["references"],
        "waived": finding.waived,
    }
    if finding.waiver is not None:
        props["waiver"] = dumped["waiver"]
    if finding.severity_override is not None:
        props["severity_override"] = dumped["severity_override"]
    if finding.escalation is not None:
        props["escalation"] = dumped["escalation"]
    out["properties"] = props
    return out


# ---------------------------------------------------------------------------------- the log


def _run_properties(report: Report) -> Json:
    dumped = report.model_dump(mode="json")
    props: Json = {
        "report_version": report.report_version,
        "engine": report.engine,
        "rule_set": dumped["rule_set"],
        "threshold": report.threshold.value,
        "domain_thresholds": dumped["domain_thresholds"],
    }
    if report.selection is not None:
        props["selection"] = dumped["selection"]
    if report.waivers is not None:
        props["waivers"] = dumped["waivers"]
    return props


def information_uri() -> str | None:
    """The tool's documentation URL as the installed distribution declares it: its
    ``Project-URL`` labelled Documentation (or Docs), else Homepage, else ``Home-page``; None when
    it declares none (or is not installed)."""
    try:
        meta = importlib.metadata.metadata("compliance")
    except importlib.metadata.PackageNotFoundError:
        return None
    urls: dict[str, str] = {}
    for entry in meta.get_all("Project-URL") or []:
        label, _, url = entry.partition(",")
        # labels compare as PEP 753 normalises them: "Documentation", "docs" and "Home Page"
        urls.setdefault(re.sub(r"[^a-z]", "", label.lower()), url.strip())
    candidates = [urls.get("documentation"), urls.get("docs"), urls.get("homepage")]
    candidates += meta.get_all("Home-page") or []
    for url in candidates:
        if url and re.match(r"https?://\S+$", url):
            return _uri(url)
    return None


def render_sarif(
    report: Report,
    rules: Sequence[Rule],
    domain_title: Callable[[str], str],
    source_root: str | os.PathLike[str] | None = None,
) -> str:
    """The report as a SARIF 2.1.0 log (JSON text ending with a newline). ``rules``: the rules
    that ran (the rule set after selection and tuning); ``domain_title`` names a domain;
    ``source_root`` is ``%SRCROOT%``, the directory input files are given relative to (default:
    the current directory)."""
    root = os.path.abspath(os.fspath(source_root) if source_root is not None else os.curdir)
    index: dict[str, int] = {}
    for i, rule in enumerate(rules):
        index.setdefault(rule.id, i)
    thresholds = Thresholds.of_report(report)
    driver: Json = {"name": "compliance", "version": report.tool_version}
    if _SEMVER.fullmatch(report.tool_version):
        driver["semanticVersion"] = report.tool_version
    info = information_uri()
    if info is not None:
        driver["informationUri"] = info
    driver["rules"] = [_descriptor(rule, domain_title) for rule in rules]
    decisions = [
        {
            "proposal_id": r.proposal_id,
            "title": r.title,
            "source": r.source,
            "decision": r.decision.value,
        }
        for r in report.reviews
    ]
    run: Json = {
        "tool": {"driver": driver},
        "invocations": [
            {
                "executionSuccessful": True,
                "properties": {
                    "decisions": decisions,
                    "summary": report.summary.model_dump(mode="json"),
                },
            }
        ],
        "originalUriBaseIds": {
            SRCROOT: {
                "uri": source_root_uri(root),
                "description": _message(
                    "The source root: input files under it are given relative to it."
                ),
            }
        },
        "columnKind": "unicodeCodePoints",
        "results": [
            _result(finding, review, rules, index, thresholds, root)
            for review in report.reviews
            for finding in review.findings
        ],
        "properties": _run_properties(report),
    }
    log = {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}
    text = json.dumps(log, indent=2, ensure_ascii=False)
    # A file name that is not valid UTF-8 reaches us with lone surrogates: escape them, so the
    # text can be written as UTF-8 and still reads back as the same string.
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text) + "\n"
