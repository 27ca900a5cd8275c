"""Reading the project's YAML files (rules, catalogue, manifest, waivers): safe loading that refuses
duplicate keys, and errors that name the file, line and column, or the key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic_core import ErrorDetails

from compliance.errors import ComplianceError, RuleError


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML that refuses duplicate keys instead of keeping the last one."""


def _mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    out: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in out:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        out[key] = loader.construct_object(value_node, deep=deep)
    return out


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def read_yaml(path: Path, label: str, error: type[ComplianceError] = RuleError) -> Any:
    """A YAML file's content, loaded safely and refusing duplicate keys; problems raise
    ``error`` naming ``label`` (and the line and column)."""
    return parse_yaml(read_text(path, label, error), label, error)


def read_text(path: Path, label: str, error: type[ComplianceError] = RuleError) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{label}: no such file") from None
    except IsADirectoryError:
        raise error(f"{label}: is a directory, not a file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{label}: cannot be read ({exc})") from None


def parse_yaml(text: str, label: str, error: type[ComplianceError] = RuleError) -> Any:
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{label}:{mark.line + 1}:{mark.column + 1}" if mark else label
        raise error(f"{where}: invalid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise error(f"{label}: invalid YAML: {exc}") from None
    except ValueError as exc:  # an unquoted date that does not exist: 2027-02-29
        raise error(f"{label}: invalid YAML: {exc} (a date that does not exist?)") from None


def schema_message(error: ErrorDetails) -> str:
    """What is wrong with one key of a strictly validated file (rules, config), in a few words."""
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    return str(error["msg"]).removeprefix("Value error, ")
