"""Reading the project's YAML files (rules, catalogue, manifest, waivers): safe loading that refuses
duplicate keys, and errors that name the file, line and column, or the key.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from compliance.errors import ComplianceError, RuleError
from compliance.intake.boundedfile import read_limited

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails

YAML_MAX_BYTES = 4 * 1024 * 1024
"""At most this many bytes in a rule file, catalogue or manifest (the largest built-in rule file
is about 100 KB); the size is checked on the open file before a byte is read."""
DEPTH_MAX = 64
"""At most this deep nesting of lists and mappings in a YAML file (rule files are about 8 deep)."""


EXPANDED_MAX = 1_000_000
"""At most this many values in a YAML file once its aliases are expanded: an alias (``*name``)
is allowed (``yaml.safe_dump`` writes one for a value used twice), but an alias of an alias of
... would make whatever reads the result walk an exponential number of values."""


def read_yaml(path: Path, label: str, error: type[ComplianceError] = RuleError) -> Any:
    """A YAML file's content, loaded safely and refusing duplicate keys; problems raise
    ``error`` naming ``label`` (and the line and column)."""
    return parse_yaml(read_text(path, label, error), label, error)


def read_text(
    path: Path, label: str, error: type[ComplianceError] = RuleError, limit: int = YAML_MAX_BYTES
) -> str:
    """The UTF-8 text of ``path``; see :func:`read_limited`."""
    data = read_limited(path, label, error, limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise error(f"{label}: not UTF-8 text") from None


def parse_yaml(text: str, label: str, error: type[ComplianceError] = RuleError) -> Any:
    """The content of ``text``, safely: duplicate keys, nesting deeper than :data:`DEPTH_MAX`
    and more than :data:`EXPANDED_MAX` values are refused. libyaml composes the document; the
    position-aware loader reads it again only to report a problem (file, line, column). PyYAML
    is imported on the first call (see :mod:`compliance.intake.yamlparse`)."""
    from compliance.intake.yamlparse import parse  # noqa: PLC0415

    return parse(text, label, error)


def schema_message(error: ErrorDetails) -> str:
    """What is wrong with one key of a strictly validated file (rules, config), in a few words."""
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    return str(error["msg"]).removeprefix("Value error, ")
