"""What a rule author reads when a rule file does not load: the file and line, the rule, the key,
what is wrong, and the nearest thing that would be right.

``rules/org.yaml:14: rule ORG-001: violated_when.gtee: unknown operator 'gtee' (did you mean
'gte'?)``. Problems are written without lines while a rule set is built (most come from
validating parsed data, which has none); :func:`with_lines` then reads each file that has a
problem once more, with positions, and puts the line of the key each names after the file's
name. A valid rule set never pays for it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from compliance.intake.yamlfile import schema_message
from compliance.proposal.fields import Kind, catalogue, path_from_loc
from compliance.rules.spec_models import COUNT_OPERATORS, FIELD_OPERATORS, RuleSpec

if TYPE_CHECKING:
    from pydantic import ValidationError


def loc_text(loc: tuple[int | str, ...]) -> str:
    """A pydantic location inside a rule as ``violated_when.all[1].equals``."""
    parts = tuple(p for p in loc if not (isinstance(p, str) and p.startswith("<")))
    return path_from_loc(parts)


def schema_problems(exc: ValidationError, label: str, raw: Any) -> list[str]:
    """A problem line for each schema error of the file ``label`` holding ``raw``."""
    lines = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        where = label
        rest = loc
        if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
            rule_raw = raw.get("rules", [])[loc[1]] if isinstance(raw, dict) else None
            rule_id = rule_raw.get("id") if isinstance(rule_raw, dict) else None
            where = f"{label}: rule {rule_id or '#' + str(loc[1] + 1)}"
            rest = loc[2:]
        key = loc_text(rest) or "(rule)"
        unknown = unknown_key(loc) if error["type"] == "extra_forbidden" else None
        lines.append(f"{where}: {key}: {unknown or schema_message(error)}")
    return lines


def unknown_key(loc: tuple[int | str, ...]) -> str | None:
    """For a key a rule cannot have: which it is, and the nearest it could be."""
    if len(loc) < 2 or not isinstance(loc[-1], str):
        return None
    name, parent = loc[-1], loc[-2]
    if parent in ("<field>", "count"):
        known: tuple[str, ...] = FIELD_OPERATORS if parent == "<field>" else COUNT_OPERATORS
        hint = nearest(name, known) or f"; operators: {', '.join(known)}"
        return f"unknown operator '{name}'{hint}"
    if len(loc) == 3 and loc[0] == "rules":
        return f"unknown key{nearest(name, tuple(RuleSpec.model_fields))}"
    return None


def nearest(name: str, known: tuple[str, ...]) -> str:
    """`` (did you mean 'X'?)`` for the known name nearest ``name``, or nothing."""
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def suggest_field(path: str) -> str | None:
    """The field path nearest an unknown one."""
    matches = difflib.get_close_matches(path, list(catalogue()), n=1, cutoff=0.75)
    return matches[0] if matches else None


def nearest_placeholder(path: str, for_each: str | None) -> str | None:
    """The field a rule's message most likely meant: the nearest path it can use, else the one
    whose last name is nearest (``{recipeint}`` in a rule over data_sharing.flows is
    ``{data_sharing.flows[].recipient}``), its list's own fields first."""
    usable = [
        p
        for p, spec in catalogue().items()
        if spec.kind is not Kind.OBJECT and spec.list_path in (None, for_each)
    ]
    close = difflib.get_close_matches(path, usable, n=1, cutoff=0.75)
    if close:
        return close[0]
    by_leaf: dict[str, str] = {}
    for p in sorted(usable, key=lambda p: catalogue()[p].list_path is None):
        by_leaf.setdefault(_leaf(p), p)
    close = difflib.get_close_matches(_leaf(path), list(by_leaf), n=1, cutoff=0.75)
    return by_leaf[close[0]] if close else None


def _leaf(path: str) -> str:
    return path.rsplit(".", 1)[-1].removesuffix("[]")


# --------------------------------------------------------------------------- lines

_RULE = re.compile(r"rule (\S+): (\S+): ")
_KEY = re.compile(r"(\S+): ")
_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def with_lines(problems: list[str], files: Mapping[str, Path]) -> list[str]:
    """``problems`` with the line of the key each names after its file's label
    (``org.yaml: rule X: key: ...`` becomes ``org.yaml:12: rule X: key: ...``). ``files``: the
    rule files by the label problems name them with. A problem whose key cannot be found in its
    file is left as it is."""
    if not problems:
        return problems
    labels = sorted(files, key=len, reverse=True)
    trees: dict[str, Any] = {}
    out = []
    for problem in problems:
        label = next((lb for lb in labels if problem.startswith(f"{lb}: ")), None)
        if label is None:
            out.append(problem)
            continue
        if label not in trees:
            trees[label] = _compose(files[label])
        rest = problem[len(label) + 2 :]
        line = _line_of(trees[label], rest)
        out.append(problem if line is None else f"{label}:{line}: {rest}")
    return out


def _compose(path: Path) -> Any:
    """The file's node tree (positions, no values), or None if it cannot be read again."""
    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.compose(path.read_text(encoding="utf-8"), Loader=loader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None


def _line_of(root: Any, rest: str) -> int | None:
    if not isinstance(root, yaml.MappingNode):
        return None
    rule = _RULE.match(rest)
    if rule is not None:
        node = _rule_node(root, rule.group(1))
        if node is None:
            return None
        return _walk(node, rule.group(2), node.start_mark.line + 1)
    key = _KEY.match(rest)
    return None if key is None else _walk(root, key.group(1), None)


def _rule_node(root: yaml.MappingNode, rule_id: str) -> Any:
    rules = _child(root, "rules")
    if not isinstance(rules, yaml.SequenceNode):
        return None
    if rule_id.startswith("#") and rule_id[1:].isdigit():
        index = int(rule_id[1:]) - 1
        return rules.value[index] if 0 <= index < len(rules.value) else None
    for item in rules.value:
        ident = _child(item, "id")
        if isinstance(ident, yaml.ScalarNode) and ident.value == rule_id:
            return item
    return None


def _child(node: Any, key: str) -> Any:
    if isinstance(node, yaml.MappingNode):
        for key_node, value in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                return value
    return None


def _walk(node: Any, key: str, line: int | None) -> int | None:
    """The line of ``key`` (``violated_when.all[1].gtee``) under ``node``; where the path
    leaves the file (a key that is missing), the line of the last part found: where it would
    go. ``line``: what to give if not even the first part is found."""
    for name, index in _PART.findall(key):
        found = None
        if name and isinstance(node, yaml.MappingNode):
            for key_node, value in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == name:
                    found, line = value, key_node.start_mark.line + 1
                    break
        elif index and isinstance(node, yaml.SequenceNode) and int(index) < len(node.value):
            found = node.value[int(index)]
            line = found.start_mark.line + 1
        if found is None:
            return line
        node = found
    return line
