"""The schema of rule files, as pydantic models (re-exported by :mod:`compliance.rules.spec`, which
imports this module only when one of them is used: building these classes takes a noticeable
part of the start-up, and a rule set read from the rule-set cache needs none of them).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    Tag,
    model_validator,
)

from compliance.rules.spec import (
    DOMAIN_PATTERN,
    REQUIREMENT_ID_PATTERN,
    RULE_ID_PATTERN,
    Severity,
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


NonBlank = Annotated[str, StringConstraints(strict=True, min_length=1, strip_whitespace=True)]
Literal_ = StrictBool | StrictInt | float | dt.date | str
RequirementId = Annotated[str, StringConstraints(strict=True, pattern=REQUIREMENT_ID_PATTERN)]


def _day(value: Any) -> Any:
    """A day written ``YYYY-MM-DD`` (unquoted, or quoted): nothing else, no time of day (the
    same dates a waivers file takes)."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{value!r} is not a real date") from None
    raise ValueError(f"{value!r} is not a date; write it as YYYY-MM-DD")


Day = Annotated[dt.date, BeforeValidator(_day)]
"""A date in a rule file or manifest (``effective_from``, ``effective_until``, ``released``)."""


class FieldRefSpec(_Strict):
    """``{field: other.path}``: compare with the value of another field."""

    field: NonBlank


Operand = FieldRefSpec | Literal_


class CountSpec(_Strict):
    """``count: {gte: 1}``: compare the number of items of a list."""

    equals: Annotated[StrictInt, Field(ge=0)] | None = None
    not_equals: Annotated[StrictInt, Field(ge=0)] | None = None
    gt: Annotated[StrictInt, Field(ge=0)] | None = None
    gte: Annotated[StrictInt, Field(ge=0)] | None = None
    lt: Annotated[StrictInt, Field(ge=1)] | None = None
    lte: Annotated[StrictInt, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _one(self) -> CountSpec:
        given = [k for k in COUNT_OPERATORS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"count takes exactly one of {', '.join(COUNT_OPERATORS)}")
        return self


COUNT_OPERATORS = ("equals", "not_equals", "gt", "gte", "lt", "lte")

FIELD_OPERATORS = (
    "equals",
    "not_equals",
    "one_of",
    "not_one_of",
    "gt",
    "gte",
    "lt",
    "lte",
    "answered",
    "contains",
    "contains_any",
    "contains_all",
    "count",
    "any_item",
    "all_items",
)


class FieldTest(_Strict):
    """A test on one field: ``field`` and exactly one operator."""

    field: NonBlank
    equals: Literal_ | None = None
    not_equals: Literal_ | None = None
    one_of: list[Literal_] | None = Field(None, min_length=1)
    not_one_of: list[Literal_] | None = Field(None, min_length=1)
    gt: Operand | None = None
    gte: Operand | None = None
    lt: Operand | None = None
    lte: Operand | None = None
    answered: StrictBool | None = None
    contains: Literal_ | None = None
    contains_any: list[Literal_] | None = Field(None, min_length=1)
    contains_all: list[Literal_] | None = Field(None, min_length=1)
    count: CountSpec | None = None
    any_item: ConditionSpec | None = None
    all_items: ConditionSpec | None = None

    @model_validator(mode="before")
    @classmethod
    def _exactly_one(cls, data: Any) -> Any:
        if isinstance(data, dict):
            given = [k for k in FIELD_OPERATORS if k in data]
            if any(k not in FIELD_OPERATORS and k != "field" for k in data) and len(given) < 2:
                return data  # an unknown key, reported with a suggestion (see rulebuild)
            if len(given) != 1:
                shown = ", ".join(given) if given else "none"
                raise ValueError(
                    f"a field test takes exactly one operator (given: {shown}; "
                    f"operators: {', '.join(FIELD_OPERATORS)})"
                )
            if data[given[0]] is None:
                raise ValueError(f"operator {given[0]} needs a value")
        return data

    @property
    def operator(self) -> str:
        for name in FIELD_OPERATORS:
            if getattr(self, name) is not None:
                return name
        raise AssertionError("validated field test without operator")


class AllSpec(_Strict):
    all: list[ConditionSpec] = Field(min_length=1)


class AnySpec(_Strict):
    any: list[ConditionSpec] = Field(min_length=1)


class NotSpec(_Strict):
    not_: ConditionSpec = Field(alias="not")


def _condition_tag(value: Any) -> str | None:
    if isinstance(value, BaseModel):  # when serialising an already validated spec
        return _TAG_OF_MODEL.get(type(value).__name__)
    if isinstance(value, dict):
        for key in ("all", "any", "not", "field"):
            if key in value:
                return f"<{key}>"
    return None


ConditionSpec = Annotated[
    Annotated[AllSpec, Tag("<all>")]
    | Annotated[AnySpec, Tag("<any>")]
    | Annotated[NotSpec, Tag("<not>")]
    | Annotated[FieldTest, Tag("<field>")],
    Discriminator(
        _condition_tag,
        custom_error_type="condition",
        custom_error_message="a condition is a mapping with one of: field, all, any, not",
    ),
]


class Reference(_Strict):
    """A source the rule rests on."""

    instrument: NonBlank
    provision: NonBlank
    url: Annotated[str, StringConstraints(strict=True, pattern=r"^https?://\S+$")]
    binding: Literal["required", "good_practice"]
    binds_when: ConditionSpec | None = None
    """For a required source: when it binds the proposal's actors. Where this is not true for a
    proposal (false or unanswered), the source is reported as good practice."""

    @model_validator(mode="after")
    def _binds_only_required(self) -> Reference:
        if self.binds_when is not None and self.binding != "required":
            raise ValueError("binds_when applies only to a reference with binding: required")
        return self


class Example(_Strict):
    """A proposal fragment and what the rule must conclude on it."""

    note: NonBlank
    proposal: dict[str, Any]
    evidence: list[NonBlank] | None = None
    """For ``fires`` examples: the exact violation evidence paths expected (optional)."""
    severity: Severity | None = None
    """For ``fires`` and ``needs_information`` examples: the finding's severity expected, after
    escalation (optional)."""


class EscalationSpec(_Strict):
    """``escalate: [{severity, when, reason}]``: a higher severity where ``when`` is true."""

    severity: Severity
    when: ConditionSpec
    reason: NonBlank


class Examples(_Strict):
    fires: list[Example] = Field(min_length=1)
    passes: list[Example] = Field(min_length=1)
    needs_information: list[Example] = Field(default_factory=list)


class RuleSpec(_Strict):
    id: Annotated[str, StringConstraints(strict=True, pattern=RULE_ID_PATTERN)]
    title: NonBlank
    domain: Annotated[str, StringConstraints(strict=True, pattern=DOMAIN_PATTERN)] | None = None
    severity: Severity
    covers: list[RequirementId] = Field(default_factory=list)
    """Ids of the framework requirements the rule checks (see the catalogue)."""
    for_each: NonBlank | None = None
    applies_when: ConditionSpec | None = None
    violated_when: ConditionSpec
    when_unanswered: Literal["needs_information", "ignore"] = "needs_information"
    requires: list[NonBlank] = Field(default_factory=list)
    escalate: list[EscalationSpec] | None = Field(None, min_length=1)
    message: NonBlank
    remediation: NonBlank
    references: list[Reference] = Field(min_length=1)
    examples: Examples
    effective_from: Day | None = None
    """The first day the rule is in force (none: since always)."""
    effective_until: Day | None = None
    """The last day the rule is in force, that day included (none: until further notice)."""


class RuleFileSpec(_Strict):
    domain: Annotated[str, StringConstraints(strict=True, pattern=DOMAIN_PATTERN)] | None = None
    rules: list[RuleSpec] = Field(min_length=1)


class ManifestSpec(_Strict):
    """``ruleset.yaml`` in a rule directory: the rule set's identity."""

    name: Annotated[str, StringConstraints(strict=True, pattern=r"^[a-z0-9][a-z0-9._-]*$")]
    version: Annotated[str, StringConstraints(strict=True, min_length=1)]
    released: Day | None = None
    """The day this version of the rule set was released."""
    description: NonBlank | None = None
    domains: dict[str, NonBlank] = Field(default_factory=dict)
    """Display titles of domains this rule set introduces, by domain id."""


_TAG_OF_MODEL = {"AllSpec": "<all>", "AnySpec": "<any>", "NotSpec": "<not>", "FieldTest": "<field>"}

for _model in (FieldTest, AllSpec, AnySpec, NotSpec, Reference, EscalationSpec):
    _model.model_rebuild()
