"""The framework coverage matrix: which rules check each requirement of the frameworks they cite.

A rule directory may carry a catalogue, ``frameworks.yaml``: the frameworks its rules rest on, each
with its operative requirements. Rules say what they check with ``covers: [ID, ...]``; the loader
refuses an id no loaded catalogue defines. This module reads catalogues and builds the matrix that
``compliance rules coverage`` and ``docs/coverage.md`` show. The matrix has problems when a
requirement is neither covered by a rule nor out of scope, when a requirement that a rule covers is
also marked out of scope, or when a rule covers nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from pydantic_core import ErrorDetails

from compliance.errors import RuleError
from compliance.proposal.fields import path_from_loc
from compliance.rules.load import CATALOGUE
from compliance.rules.ruleset import Framework, Requirement, Rule, RuleSet
from compliance.rules.spec import REQUIREMENT_ID_PATTERN
from compliance.words import counted

_Text = Annotated[str, StringConstraints(strict=True, min_length=1, strip_whitespace=True)]
_FRAMEWORK_ID = r"^[A-Z][A-Z0-9]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RequirementSpec(_Strict):
    id: Annotated[str, StringConstraints(strict=True, pattern=REQUIREMENT_ID_PATTERN)]
    provision: _Text
    summary: _Text
    out_of_scope: _Text | None = None


class FrameworkSpec(_Strict):
    id: Annotated[str, StringConstraints(strict=True, pattern=_FRAMEWORK_ID)]
    title: _Text
    instrument: _Text
    url: Annotated[str, StringConstraints(strict=True, pattern=r"^https?://\S+$")] | None = None
    requirements: list[RequirementSpec] = Field(min_length=1)


class CatalogueSpec(_Strict):
    frameworks: list[FrameworkSpec] = Field(min_length=1)


def _message(error: ErrorDetails) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown key"
    if error["type"] == "missing":
        return "required key is missing"
    return str(error["msg"]).removeprefix("Value error, ")


def parse_catalogue(raw: Any, label: str) -> tuple[Framework, ...]:
    """A catalogue file's frameworks; every problem is a :class:`RuleError` naming ``label``,
    the framework and the key."""
    try:
        spec = CatalogueSpec.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for error in exc.errors(include_url=False):
            loc = tuple(error["loc"])
            where = label
            if len(loc) >= 2 and loc[0] == "frameworks" and isinstance(loc[1], int):
                item = raw["frameworks"][loc[1]] if isinstance(raw, dict) else None
                fid = item.get("id") if isinstance(item, dict) else None
                where = f"{label}: framework {fid or '#' + str(loc[1] + 1)}"
                loc = loc[2:]
            lines.append(f"{where}: {path_from_loc(loc) or '(framework)'}: {_message(error)}")
        raise RuleError(lines) from None
    problems: list[str] = []
    seen: set[str] = set()
    frameworks = []
    for fw in spec.frameworks:
        where = f"{label}: framework {fw.id}"
        if fw.id in seen:
            problems.append(f"{where}: id: duplicate framework id")
        seen.add(fw.id)
        for i, req in enumerate(fw.requirements):
            if not req.id.startswith(f"{fw.id}-"):
                problems.append(
                    f"{where}: requirements[{i}].id: '{req.id}' does not begin with '{fw.id}-'"
                )
            elif req.id in seen:
                problems.append(f"{where}: requirements[{i}].id: duplicate requirement id")
            seen.add(req.id)
        frameworks.append(
            Framework(
                id=fw.id,
                title=fw.title,
                instrument=fw.instrument,
                url=fw.url,
                source=label,
                requirements=tuple(
                    Requirement(r.id, r.provision, r.summary, r.out_of_scope)
                    for r in fw.requirements
                ),
            )
        )
    if problems:
        raise RuleError(problems)
    return tuple(frameworks)


def check_covers(rules: Iterable[tuple[Rule, str]], frameworks: Iterable[Framework]) -> list[str]:
    """Load problems: requirement ids defined twice across catalogues, and ``covers`` ids that no
    catalogue defines. ``rules`` pairs each rule with its file as shown in messages."""
    problems: list[str] = []
    defined: dict[str, str] = {}
    for fw in frameworks:
        for req in fw.requirements:
            if req.id in defined:
                problems.append(
                    f"{fw.source}: framework {fw.id}: requirement {req.id}: duplicate "
                    f"requirement id (also in {defined[req.id]})"
                )
            else:
                defined[req.id] = fw.source
    for rule, where in rules:
        for i, rid in enumerate(rule.covers):
            if rid not in defined:
                known = "no catalogue is loaded" if not defined else f"see {CATALOGUE}"
                problems.append(
                    f"{where}: rule {rule.id}: covers[{i}]: unknown requirement '{rid}' ({known})"
                )
            elif rid in rule.covers[:i]:
                problems.append(f"{where}: rule {rule.id}: covers[{i}]: '{rid}' is listed twice")
    return problems


# --------------------------------------------------------------------------- the matrix


@dataclass(frozen=True)
class Row:
    requirement: Requirement
    rules: tuple[str, ...]


@dataclass(frozen=True)
class Matrix:
    frameworks: tuple[tuple[Framework, tuple[Row, ...]], ...]
    problems: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "frameworks": [
                {
                    "id": fw.id,
                    "title": fw.title,
                    "instrument": fw.instrument,
                    "url": fw.url,
                    "requirements": [
                        {
                            "id": row.requirement.id,
                            "provision": row.requirement.provision,
                            "summary": row.requirement.summary,
                            "rules": list(row.rules),
                            "out_of_scope": row.requirement.out_of_scope,
                        }
                        for row in rows
                    ],
                }
                for fw, rows in self.frameworks
            ]
        }


def matrix(ruleset: RuleSet) -> Matrix:
    """The coverage matrix of a loaded rule set, with its problems."""
    by_requirement: dict[str, list[str]] = {}
    problems: list[str] = []
    for rule in ruleset.rules:
        if not rule.covers:
            problems.append(f"rule {rule.id} ({rule.source}) covers no framework requirement")
        for rid in rule.covers:
            by_requirement.setdefault(rid, []).append(rule.id)
    out = []
    for fw in ruleset.frameworks:
        rows = []
        for req in fw.requirements:
            rules = tuple(sorted(by_requirement.get(req.id, ())))
            if not rules and req.out_of_scope is None:
                problems.append(
                    f"requirement {req.id} ({fw.source}) is checked by no rule and has no "
                    "out_of_scope reason"
                )
            if rules and req.out_of_scope is not None:
                problems.append(
                    f"requirement {req.id} ({fw.source}) is covered by {', '.join(rules)} but "
                    "marked out_of_scope: remove the reason"
                )
            rows.append(Row(req, rules))
        out.append((fw, tuple(rows)))
    if not ruleset.frameworks:
        problems.append(f"no framework catalogue ({CATALOGUE}) in the loaded rule directories")
    return Matrix(tuple(out), tuple(problems))


def render_json(m: Matrix) -> str:
    return json.dumps(m.to_dict(), indent=2, ensure_ascii=False) + "\n"


def render_text(m: Matrix) -> str:
    """The matrix for a terminal: per framework, each requirement and its rules or reason."""
    lines: list[str] = []
    for fw, rows in m.frameworks:
        checked = sum(1 for r in rows if r.rules)
        lines.append(f"{fw.id}  {fw.instrument}")
        lines.append(f"  {checked} of {counted(len(rows), 'requirement')} checked by rules")
        for row in rows:
            req = row.requirement
            lines.append(f"  {req.id}  {req.provision}")
            lines.append(f"    {' '.join(req.summary.split())}")
            if row.rules:
                lines.append(f"    rules: {', '.join(row.rules)}")
            if req.out_of_scope is not None:
                lines.append(f"    {_reason(req.out_of_scope)}")
        lines.append("")
    total = sum(len(rows) for _, rows in m.frameworks)
    covered = sum(1 for _, rows in m.frameworks for r in rows if r.rules)
    lines.append(
        f"{counted(len(m.frameworks), 'framework')}, {counted(total, 'requirement')}: "
        f"{covered} checked by rules, "
        f"{total - covered} out of scope or not checked yet"
    )
    lines.extend(f"problem: {p}" for p in m.problems)
    return "\n".join(lines) + "\n"


GAP = "Not checked yet:"
"""How a catalogue reason marks a gap: a requirement a review could check but no rule does."""


def _reason(text: str) -> str:
    text = " ".join(text.split())
    return text if text.startswith(GAP) else f"Out of scope: {text}"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render_markdown(m: Matrix) -> str:
    """``docs/coverage.md``: a table per framework."""
    out = [
        "# Framework coverage",
        "",
        "Generated by `compliance docs` from the framework catalogue (`rules/frameworks.yaml`) and "
        "the `covers` key of each rule; do not edit by hand. For each framework: its operative "
        "requirements, and the rules that check each one or why a proposal review cannot check "
        'it. A reason beginning "Not checked yet" marks a gap no rule closes yet. The same '
        "matrix: `compliance rules coverage [--format json]`.",
        "",
    ]
    for fw, rows in m.frameworks:
        checked = sum(1 for r in rows if r.rules)
        source = f"[{_cell(fw.instrument)}]({fw.url})" if fw.url else _cell(fw.instrument)
        out += [
            f"## {fw.title} ({fw.id})",
            "",
            f"{source}. {checked} of {counted(len(rows), 'requirement')} checked by rules.",
            "",
            "| Requirement | Provision | Summary | Rules or out of scope |",
            "|---|---|---|---|",
        ]
        for row in rows:
            req = row.requirement
            cells = []
            if row.rules:
                cells.append(", ".join(f"[{r}](rules.md#{r.lower()})" for r in row.rules))
            if req.out_of_scope is not None:
                cells.append(_cell(_reason(req.out_of_scope)))
            out.append(
                f"| {req.id} | {_cell(req.provision)} | {_cell(req.summary)} | {'; '.join(cells)} |"
            )
        out.append("")
    return "\n".join(out)
