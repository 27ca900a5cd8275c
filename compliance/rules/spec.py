"""The schema of rule files, as pydantic models. A rule file that does not fit is a load error.

This layer checks shape: known keys only, the right types, exactly one operator per field test.
What needs the proposal model (does the field exist, is the value one of its choices, does the
operator suit the field) is checked next, in :mod:`compliance.rules.build`.

Severities and the id patterns are defined here; the models are defined in
:mod:`compliance.rules.spec_models` and imported from there on first use, so that what needs only
a severity (every review) does not pay for building them.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from compliance.rules.spec_models import (
        FIELD_OPERATORS,
        AllSpec,
        AnySpec,
        ConditionSpec,
        CountSpec,
        EscalationSpec,
        Example,
        Examples,
        FieldRefSpec,
        FieldTest,
        Literal_,
        ManifestSpec,
        NonBlank,
        NotSpec,
        Operand,
        Reference,
        RequirementId,
        RuleFileSpec,
        RuleSpec,
    )

RULE_ID_PATTERN = r"^[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+$"
DOMAIN_PATTERN = r"^[a-z][a-z0-9_]*$"
REQUIREMENT_ID_PATTERN = r"^[A-Z][A-Z0-9]*-[A-Z0-9]+$"
"""A framework requirement's id in the catalogue (``frameworks.yaml``): ``HRDDP-2``."""


class Severity(str, Enum):
    blocker = "blocker"
    high = "high"
    medium = "medium"
    low = "low"
    info = "info"

    @property
    def rank(self) -> int:
        """Higher is worse: blocker 4 ... info 0."""
        return _RANK[self]


_RANK = {
    Severity.blocker: 4,
    Severity.high: 3,
    Severity.medium: 2,
    Severity.low: 1,
    Severity.info: 0,
}

_MODELS = frozenset(
    {
        "AllSpec",
        "AnySpec",
        "ConditionSpec",
        "CountSpec",
        "EscalationSpec",
        "Example",
        "Examples",
        "FIELD_OPERATORS",
        "FieldRefSpec",
        "FieldTest",
        "Literal_",
        "ManifestSpec",
        "NonBlank",
        "NotSpec",
        "Operand",
        "Reference",
        "RequirementId",
        "RuleFileSpec",
        "RuleSpec",
    }
)
"""The rule-file schema's names, defined in :mod:`compliance.rules.spec_models`."""

__all__ = [
    "DOMAIN_PATTERN",
    "FIELD_OPERATORS",
    "REQUIREMENT_ID_PATTERN",
    "RULE_ID_PATTERN",
    "AllSpec",
    "AnySpec",
    "ConditionSpec",
    "CountSpec",
    "EscalationSpec",
    "Example",
    "Examples",
    "FieldRefSpec",
    "FieldTest",
    "Literal_",
    "ManifestSpec",
    "NonBlank",
    "NotSpec",
    "Operand",
    "Reference",
    "RequirementId",
    "RuleFileSpec",
    "RuleSpec",
    "Severity",
]


def __getattr__(name: str) -> Any:
    """The rule-file schema's models, imported on first use."""
    if name in _MODELS:
        from compliance.rules import spec_models as rulespec_models  # noqa: PLC0415

        return getattr(rulespec_models, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
