"""Building a rule set from rule directories: YAML -> schema check -> semantic check ->
:class:`RuleSet` (:func:`compliance.rules.load.load_rules` calls this when its cache has no entry).

Every problem is a load error naming the file, the rule and the key, and all problems are reported
together. Nothing is skipped: a rule that would silently not run looks exactly like a pass.

Semantic checks, against the field catalogue generated from the proposal model:

- every path exists and is a field (not a section);
- the operator suits the field (``gt`` on a number or date, ``contains`` on a list of choices, ...);
- every value is of the field's type, and one of its choices for an enumeration;
- fields inside list items are used only where an item is in scope (``for_each`` or a quantifier);
- message and remediation placeholders name fields the rule can see;
- examples are valid proposal fragments.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from compliance.errors import RuleError
from compliance.intake.yamlfile import read_yaml
from compliance.proposal.fields import Kind, catalogue
from compliance.proposal.model import AMOUNT_MAX, SCHEMA_VERSION, Proposal
from compliance.proposal.validation import describe, shown
from compliance.rules import conditions as c
from compliance.rules import escalation, templates
from compliance.rules.coverage import check_covers, parse_catalogue
from compliance.rules.load import CATALOGUE, MANIFEST, rule_files
from compliance.rules.messages import (
    nearest_placeholder,
    schema_problems,
    suggest_field,
    with_lines,
)
from compliance.rules.ruleset import (
    Example,
    ExampleKind,
    Framework,
    Reference,
    Rule,
    RuleSet,
    RuleSource,
)
from compliance.rules.spec_models import (
    AllSpec,
    AnySpec,
    FieldRefSpec,
    FieldTest,
    ManifestSpec,
    NotSpec,
    RuleFileSpec,
    RuleSpec,
)

# Smaller fractions are written with an exponent durable_rules' parser rejects.
NUMBER_MIN_FRACTION = 0.0001

_OPS_BY_KIND: dict[Kind, frozenset[str]] = {
    Kind.BOOL: frozenset({"equals", "not_equals", "answered"}),
    Kind.ENUM: frozenset({"equals", "not_equals", "one_of", "not_one_of", "answered"}),
    Kind.CODE: frozenset({"equals", "not_equals", "one_of", "not_one_of", "answered"}),
    Kind.NUMBER: frozenset(
        {"equals", "not_equals", "one_of", "not_one_of", "gt", "gte", "lt", "lte", "answered"}
    ),
    Kind.DATE: frozenset({"equals", "not_equals", "gt", "gte", "lt", "lte", "answered"}),
    Kind.TEXT: frozenset({"answered"}),
    Kind.ENUM_LIST: frozenset({"contains", "contains_any", "contains_all", "count", "answered"}),
    Kind.TEXT_LIST: frozenset({"count", "answered"}),
    Kind.OBJECT_LIST: frozenset({"any_item", "all_items", "count", "answered"}),
}


# --------------------------------------------------------------------------- conditions


@dataclass(frozen=True)
class _Scope:
    """Which list's items are in scope, and whether fields outside them may be read."""

    for_each: str | None
    quantifier: str | None = None

    @property
    def item_list(self) -> str | None:
        return self.quantifier or self.for_each


class _Builder:
    """Turns a validated rule spec into condition trees, collecting every problem."""

    def __init__(self, where: str, for_each: str | None) -> None:
        self.where = where
        self.for_each = for_each
        self.problems: list[str] = []

    def fail(self, key: str, message: str) -> None:
        self.problems.append(f"{self.where}: {key}: {message}")

    def field(self, path: str, key: str, scope: _Scope) -> Any:
        spec = catalogue().get(path)
        if spec is None:
            hint = suggest_field(path)
            self.fail(
                key, f"unknown field '{path}'" + (f" (did you mean '{hint}'?)" if hint else "")
            )
            return None
        if spec.kind is Kind.OBJECT:
            members = ", ".join(
                f"{path}.{m}" for m in (spec.model.model_fields if spec.model else ())
            )
            self.fail(key, f"'{path}' is a section, not a field; name one of: {members}")
            return None
        if spec.list_path is not None and spec.list_path != scope.item_list:
            self.fail(
                key,
                f"'{path}' is a field of the items of {spec.list_path}; use it inside "
                f"any_item/all_items on {spec.list_path}, or in a rule with "
                f"for_each: {spec.list_path}",
            )
            return None
        if scope.quantifier is not None and spec.list_path != scope.quantifier:
            self.fail(
                key,
                f"inside a quantifier over {scope.quantifier} only fields of its items "
                f"({scope.quantifier}[].…) can be tested; move the test on '{path}' outside it",
            )
            return None
        return spec

    def value(self, spec: Any, raw: Any, key: str) -> c.Scalar | None:
        kind = spec.kind
        if kind is Kind.BOOL:
            if isinstance(raw, bool):
                return raw
            self.fail(key, f"{spec.path} is yes/no; expected true or false, got {shown(raw)}")
        elif kind in (Kind.ENUM, Kind.ENUM_LIST, Kind.CODE):
            if isinstance(raw, str) and raw in spec.values:
                return raw
            if kind is Kind.CODE:
                standard = "ISO 3166-1 alpha-2" if len(spec.values[0]) == 2 else "ISO 4217"
                self.fail(
                    key, f"{shown(raw)} is not an upper-case {standard} code (field {spec.path})"
                )
            else:
                allowed = ", ".join(spec.values)
                self.fail(key, f"{shown(raw)} is not one of {allowed} (field {spec.path})")
        elif kind is Kind.NUMBER:
            if isinstance(raw, (int, float)) and not isinstance(raw, bool):
                if (
                    math.isfinite(raw)
                    and abs(raw) <= AMOUNT_MAX
                    and (raw == int(raw) or abs(raw) >= NUMBER_MIN_FRACTION)
                ):
                    return raw
                self.fail(
                    key,
                    f"{shown(raw)}: numbers in rules must be finite, at most 1e15 in size, and "
                    f"whole or at least {NUMBER_MIN_FRACTION} (field {spec.path})",
                )
                return None
            self.fail(key, f"{spec.path} is a number; got {shown(raw)}")
        elif kind is Kind.DATE:
            if isinstance(raw, dt.date) and not isinstance(raw, dt.datetime):
                return raw
            if isinstance(raw, str):
                try:
                    return dt.date.fromisoformat(raw)
                except ValueError:
                    pass
            self.fail(key, f"{spec.path} is a date; expected YYYY-MM-DD, got {shown(raw)}")
        else:
            self.fail(key, f"{spec.path} ({spec.kind.value}) cannot be compared with a value")
        return None

    def condition(self, node: Any, key: str, scope: _Scope) -> c.Condition | None:
        if isinstance(node, AllSpec):
            items = [self.condition(n, f"{key}.all[{i}]", scope) for i, n in enumerate(node.all)]
            return c.All(tuple(i for i in items if i is not None)) if None not in items else None
        if isinstance(node, AnySpec):
            items = [self.condition(n, f"{key}.any[{i}]", scope) for i, n in enumerate(node.any)]
            return c.AnyOf(tuple(i for i in items if i is not None)) if None not in items else None
        if isinstance(node, NotSpec):
            inner = self.condition(node.not_, f"{key}.not", scope)
            return c.Not(inner) if inner is not None else None
        assert isinstance(node, FieldTest)
        return self.field_test(node, key, scope)

    def field_test(self, node: FieldTest, key: str, scope: _Scope) -> c.Condition | None:
        op = node.operator
        spec = self.field(node.field, f"{key}.field", scope)
        if spec is None:
            return None
        allowed = _OPS_BY_KIND[spec.kind]
        if op not in allowed:
            self.fail(
                f"{key}.{op}",
                f"operator {op} does not apply to {spec.path} ({spec.kind.value}); "
                f"use one of: {', '.join(sorted(allowed))}",
            )
            return None
        raw = getattr(node, op)
        okey = f"{key}.{op}"
        if op == "answered":
            return c.Answered(spec.path, bool(raw))
        if op in ("equals", "not_equals"):
            value = self.value(spec, raw, okey)
            return None if value is None else c.Compare(spec.path, c.CompareOp(op), value)
        if op in ("one_of", "not_one_of"):
            values = [self.value(spec, v, f"{okey}[{i}]") for i, v in enumerate(raw)]
            if None in values:
                return None
            one_of = c.OneOf(spec.path, tuple(v for v in values if v is not None))
            return one_of if op == "one_of" else c.Not(one_of)
        if op in ("gt", "gte", "lt", "lte"):
            return self.comparison(spec, c.CompareOp(op), raw, okey, scope)
        if op in ("contains", "contains_any", "contains_all"):
            raws = [raw] if op == "contains" else list(raw)
            values = [self.value(spec, v, okey) for v in raws]
            if None in values:
                return None
            mode = "all" if op == "contains_all" else "any"
            return c.Contains(spec.path, tuple(v for v in values if v is not None), mode)
        if op == "count":
            (count_op,) = [
                k
                for k in ("equals", "not_equals", "gt", "gte", "lt", "lte")
                if getattr(raw, k) is not None
            ]
            return c.Count(spec.path, c.CompareOp(count_op), int(getattr(raw, count_op)))
        # any_item / all_items
        if scope.item_list is not None:
            self.fail(
                okey,
                f"a quantifier over {spec.path} cannot be used inside for_each or another "
                "quantifier (not supported by the engine); write a separate rule",
            )
            return None
        where = self.condition(raw, okey, _Scope(scope.for_each, spec.path))
        if where is None:
            return None
        return c.Quantified(spec.path, "any" if op == "any_item" else "all", where)

    def comparison(
        self, spec: Any, op: c.CompareOp, raw: Any, key: str, scope: _Scope
    ) -> c.Condition | None:
        if not isinstance(raw, FieldRefSpec):
            value = self.value(spec, raw, key)
            return None if value is None else c.Compare(spec.path, op, value)
        other = self.field(raw.field, f"{key}.field", scope)
        if other is None:
            return None
        if other.kind is not spec.kind:
            self.fail(
                f"{key}.field",
                f"cannot compare {spec.path} ({spec.kind.value}) with {other.path} "
                f"({other.kind.value})",
            )
            return None
        if spec.list_path is not None and other.list_path is not None:
            self.fail(
                f"{key}.field",
                "comparing two fields of the same list item is not supported by the engine",
            )
            return None
        if other.list_path is not None:  # keep the item field on the left
            return c.Compare(other.path, _MIRROR[op], c.FieldRef(spec.path))
        return c.Compare(spec.path, op, c.FieldRef(other.path))

    def template(self, text: str, key: str) -> None:
        placeholders, problems = templates.parse(text)
        for problem in problems:
            self.fail(key, problem)
        for placeholder in placeholders:
            path = placeholder.path
            spec = catalogue().get(path)
            if spec is None:
                hint = nearest_placeholder(path, self.for_each)
                self.fail(
                    key,
                    f"placeholder {{{path}}} names no field"
                    + (f" (did you mean {{{hint}}}?)" if hint else ""),
                )
            elif spec.kind is Kind.OBJECT:
                self.fail(key, f"placeholder {{{path}}} names a section, not a field")
            elif spec.list_path is not None and spec.list_path != self.for_each:
                self.fail(
                    key,
                    f"placeholder {{{path}}} is inside the items of {spec.list_path}; only a "
                    f"rule with for_each: {spec.list_path} can use it",
                )


_MIRROR = {
    c.CompareOp.GT: c.CompareOp.LT,
    c.CompareOp.GE: c.CompareOp.LE,
    c.CompareOp.LT: c.CompareOp.GT,
    c.CompareOp.LE: c.CompareOp.GE,
    c.CompareOp.EQ: c.CompareOp.EQ,
    c.CompareOp.NE: c.CompareOp.NE,
}


# --------------------------------------------------------------------------- examples


EXAMPLE_DEFAULTS = {"schema_version": SCHEMA_VERSION, "title": "Rule example"}


def example_proposal(fragment: dict[str, Any], rule_id: str, index: int) -> dict[str, Any]:
    """A rule example's fragment completed with the required fields it may leave out."""
    data = {**EXAMPLE_DEFAULTS, "id": f"{rule_id}.example-{index + 1}"}
    data.update(fragment)
    return data


def _examples(spec: RuleSpec, where: str) -> tuple[tuple[Example, ...], list[str]]:
    out: list[Example] = []
    problems: list[str] = []
    kinds: tuple[ExampleKind, ...] = ("fires", "passes", "needs_information")
    for kind in kinds:
        for i, ex in enumerate(getattr(spec.examples, kind)):
            data = example_proposal(ex.proposal, spec.id, len(out))
            try:
                proposal = Proposal.model_validate(data)
            except ValidationError as exc:
                for error in exc.errors(include_url=False):
                    path, message = describe(dict(error))
                    problems.append(f"{where}: examples.{kind}[{i}].proposal.{path}: {message}")
                continue
            evidence = tuple(ex.evidence) if ex.evidence is not None else None
            if evidence is not None and kind != "fires":
                problems.append(
                    f"{where}: examples.{kind}[{i}].evidence: only fires examples "
                    "can name expected evidence"
                )
            out.append(Example(kind, ex.note, proposal, evidence, ex.severity))
    return tuple(out), problems


# --------------------------------------------------------------------------- rules


def _build_rule(
    spec: RuleSpec, file_domain: str | None, source: str, label: str
) -> tuple[Rule | None, list[str]]:
    where = f"{label}: rule {spec.id}"
    builder = _Builder(where, spec.for_each)
    domain = spec.domain or file_domain
    if spec.domain and file_domain and spec.domain != file_domain:
        builder.fail("domain", f"'{spec.domain}' differs from the file's domain '{file_domain}'")
    if domain is None:
        builder.fail("domain", "no domain: set domain: in the file or in the rule")
    if spec.effective_from and spec.effective_until and spec.effective_until < spec.effective_from:
        builder.fail(
            "effective_until",
            f"{spec.effective_until} is before effective_from {spec.effective_from}: the rule "
            "would never be in force (effective_until is the last day it is in force)",
        )
    if spec.for_each is not None:
        target = catalogue().get(spec.for_each)
        if target is None or target.kind is not Kind.OBJECT_LIST:
            builder.fail("for_each", f"'{spec.for_each}' is not a list of objects (a table)")
    scope = _Scope(spec.for_each)
    applies = (
        builder.condition(spec.applies_when, "applies_when", scope)
        if spec.applies_when is not None
        else None
    )
    violated = builder.condition(spec.violated_when, "violated_when", scope)
    references = []
    for i, ref in enumerate(spec.references):
        binds = None
        if ref.binds_when is not None:
            binds = builder.condition(ref.binds_when, f"references[{i}].binds_when", _Scope(None))
        references.append(Reference(ref.instrument, ref.provision, ref.url, ref.binding, binds))
    requires = [
        builder.field(path, f"requires[{i}]", scope) for i, path in enumerate(spec.requires)
    ]
    escalations = escalation.build(
        spec.escalate or (),
        spec.severity,
        lambda node, key: builder.condition(node, key, scope),
        builder.fail,
    )
    builder.template(spec.message, "message")
    builder.template(spec.remediation, "remediation")
    examples, example_problems = _examples(spec, where)
    problems = builder.problems + example_problems + escalation.example_problems(spec, where)
    if problems or violated is None or domain is None:
        return None, problems
    rule = Rule(
        id=spec.id,
        title=spec.title,
        domain=domain,
        severity=spec.severity,
        violated_when=violated,
        message=spec.message,
        remediation=spec.remediation,
        references=tuple(references),
        source=source,
        applies_when=applies,
        for_each=spec.for_each,
        when_unanswered=spec.when_unanswered,
        requires=tuple(r.path for r in requires if r is not None),
        examples=examples,
        escalations=escalations,
        covers=tuple(spec.covers),
        effective_from=spec.effective_from,
        effective_until=spec.effective_until,
    )
    return rule, []


@dataclass(frozen=True)
class _LoadedDir:
    rules: list[Rule]
    specs: list[dict[str, Any]]
    manifest: ManifestSpec
    frameworks: tuple[Framework, ...] = ()


def _load_dir(directory: Path, display: str) -> _LoadedDir:
    problems: list[str] = []
    if not directory.is_dir():
        raise RuleError(f"{display}: rule directory not found")
    manifest_path = directory / MANIFEST
    if manifest_path.is_file():
        raw_manifest = read_yaml(manifest_path, f"{display}/{MANIFEST}")
        try:
            manifest = ManifestSpec.model_validate(raw_manifest)
        except ValidationError as exc:
            raise RuleError(schema_problems(exc, f"{display}/{MANIFEST}", raw_manifest)) from None
    else:
        manifest = ManifestSpec(
            name=re.sub(r"[^a-z0-9._-]", "-", directory.name.lower()) or "rules",
            version="unversioned",
        )
    frameworks: tuple[Framework, ...] = ()
    if (directory / CATALOGUE).is_file():
        label = f"{display}/{CATALOGUE}"
        try:
            frameworks = parse_catalogue(read_yaml(directory / CATALOGUE, label), label)
        except RuleError as exc:
            problems.extend(exc.problems)
    rules: list[Rule] = []
    specs: list[dict[str, Any]] = []
    files = rule_files(directory)
    if not files:
        raise RuleError(f"{display}: no rule files (*.yaml) found")
    for path in files:
        relative = path.relative_to(directory).as_posix()
        label = f"{display}/{relative}"
        try:
            raw = read_yaml(path, label)
        except RuleError as exc:
            problems.extend(exc.problems)
            continue
        try:
            file_spec = RuleFileSpec.model_validate(raw)
        except ValidationError as exc:
            problems.extend(schema_problems(exc, label, raw))
            continue
        for rule_spec in file_spec.rules:
            rule, rule_problems = _build_rule(rule_spec, file_spec.domain, relative, label)
            problems.extend(rule_problems)
            if rule is not None:
                rules.append(rule)
                dumped = rule_spec.model_dump(mode="json", by_alias=True, exclude_none=True)
                dumped["domain"] = rule.domain
                specs.append(dumped)
    if problems:
        raise RuleError(problems)
    return _LoadedDir(rules, specs, manifest, frameworks)


def _digest(payload: object) -> str:
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _files_by_label(dirs: list[tuple[Path, str]]) -> dict[str, Path]:
    """Every file read, by the label problems name it with."""
    files: dict[str, Path] = {}
    for directory, display in dirs:
        if directory.is_dir():
            for path in [directory / MANIFEST, directory / CATALOGUE, *rule_files(directory)]:
                files[f"{display}/{path.relative_to(directory).as_posix()}"] = path
    return files


def build_rules(dirs: list[tuple[Path, str]]) -> RuleSet:
    """Load every rule directory (path, name shown in messages), in order; rule ids must be
    unique across everything loaded. Every problem is reported, together, as a
    :class:`RuleError`."""
    problems: list[str] = []
    loaded: list[tuple[_LoadedDir, str]] = []
    for directory, display in dirs:
        try:
            loaded.append((_load_dir(directory, display), display))
        except RuleError as exc:
            problems.extend(exc.problems)
    first_seen: dict[str, str] = {}
    rules: list[Rule] = []
    sources: list[RuleSource] = []
    titles: dict[str, str] = {}
    all_specs: list[dict[str, Any]] = []
    for item, display in loaded:
        for rule in item.rules:
            here = f"{display}/{rule.source}"
            if rule.id in first_seen:
                problems.append(
                    f"{here}: rule {rule.id}: id: duplicate rule id (also in {first_seen[rule.id]})"
                )
            else:
                first_seen[rule.id] = here
            rules.append(rule)
        manifest = item.manifest.model_dump(mode="json", exclude_none=True)
        manifest.setdefault("description", None)  # hashed as before release dates were known
        sources.append(
            RuleSource(
                name=item.manifest.name,
                version=item.manifest.version,
                hash=_digest({"manifest": manifest, "rules": item.specs}),
                rule_count=len(item.rules),
                released=item.manifest.released,
            )
        )
        titles.update(item.manifest.domains)
        all_specs.append({"manifest": manifest, "rules": item.specs})
    frameworks = tuple(fw for item, _ in loaded for fw in item.frameworks)
    problems.extend(
        check_covers(
            ((rule, f"{display}/{rule.source}") for item, display in loaded for rule in item.rules),
            frameworks,
        )
    )
    if problems:
        raise RuleError(with_lines(problems, _files_by_label(dirs)))
    return RuleSet(
        rules=tuple(rules),
        sources=tuple(sources),
        hash=_digest(all_specs),
        domain_titles=titles,
        frameworks=frameworks,
    )
