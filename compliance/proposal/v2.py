"""The sections and tables that contract v2 adds to the proposal (see
:mod:`compliance.proposal.model`).

Every field here is optional and marked ``x-since: "2"`` in the JSON Schema, like the v2 fields
added to v1 sections.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field
from pydantic.fields import FieldInfo

from compliance.proposal.choices import (
    IncidentType,
    Investigator,
    OrgType,
    RemedyForm,
    SubcontractorRole,
    TechnologyKind,
)
from compliance.proposal.scalars import LIST_MAX, Country, Text, YesNo, _Model, whole

SINCE = "x-since"
"""The JSON Schema key that marks a field added after contract v1."""
Hours = Annotated[Annotated[int, Field(ge=1, le=8760, strict=True)] | None, BeforeValidator(whole)]


def _v2(description: str, **kwargs: Any) -> Any:
    """A field added in contract v2: optional (unanswered), marked in the JSON Schema."""
    return Field(None, description=description, json_schema_extra={SINCE: "2"}, **kwargs)


class PostIncidentInvestigation(_Model):
    """Investigation of potentially unlawful deaths and serious injuries in operations."""

    duty: YesNo = _v2("Must every death or serious injury in an operation be investigated?")
    investigated_by: Investigator | None = _v2("Who investigates?")


class Remedy(_Model):
    """A route to remedy for people harmed, apart from the grievance channel."""

    available: YesNo = _v2(
        "Is there a route to compensation or other remedy for people harmed by the partnership?"
    )
    forms: list[RemedyForm] | None = _v2("Which forms of remedy can it give?", max_length=LIST_MAX)
    independent_of_operator: YesNo = _v2(
        "Is the remedy decided by a body independent of those who caused the harm?"
    )


class Whistleblowing(_Model):
    """Reporting of misconduct by staff."""

    channel: YesNo = _v2("Is there a channel for staff to report misconduct?")
    protection_from_retaliation: YesNo = _v2(
        "Are staff who report protected from retaliation by a written policy?"
    )
    anonymous: YesNo = _v2("Can staff report anonymously?")


class IncidentReporting(_Model):
    """Reporting of serious incidents to the funder."""

    duty: YesNo = _v2("Must serious incidents be reported to the funder?")
    deadline_hours: Hours = _v2("Within how many hours must they be reported?")
    covers: list[IncidentType] | None = _v2(
        "Which serious incidents must be reported?", max_length=LIST_MAX
    )


class Subcontractor(_Model):
    """A subcontractor or supplier below the prime partner."""

    name: Text = _v2("Name of the subcontractor or supplier.")
    role: SubcontractorRole | None = _v2("What does it do for the partnership?")
    country: Country = _v2("Country where it operates (ISO 3166-1 alpha-2).")
    armed: YesNo = _v2("Does it carry arms or use armed guards?")
    sanctions_screened: YesNo = _v2("Was it screened against the applicable sanctions lists?")
    beneficial_owners_declared: YesNo = _v2("Are its beneficial owners declared?")
    payments_to_armed_actors: YesNo = _v2(
        "Does it pay, or could it have to pay, checkpoint, access, protection or tax payments to "
        "armed actors?"
    )
    payments_declared_and_controlled: YesNo = _v2(
        "Are such payments declared to the funder and controlled?"
    )
    icoc_member: YesNo = _v2(
        "For a private security provider: is it a member of the International Code of Conduct "
        "Association?"
    )


class Technology(_Model):
    """Technology supplied that can be turned on people."""

    supplied: list[TechnologyKind] | None = _v2(
        "Which surveillance, biometric or identification technology is supplied?",
        max_length=LIST_MAX,
    )
    recipient_types: list[OrgType] | None = _v2(
        "What kinds of organisation receive it?", max_length=LIST_MAX
    )
    due_diligence_done: YesNo = _v2("Was human rights due diligence on its use done before supply?")
    export_control_assessed: YesNo = _v2(
        "Was it assessed under export controls on cyber-surveillance items?"
    )
    change_of_control_plan: YesNo = _v2(
        "Is there a plan for the systems and data if control of them changes?"
    )


def since(info: FieldInfo) -> str:
    """The contract version that introduced a field ("1" unless marked)."""
    extra = info.json_schema_extra
    if isinstance(extra, dict):
        value = extra.get(SINCE)
        if isinstance(value, str):
            return value
    return "1"


def v2_fields_set(model: BaseModel, prefix: str = "") -> list[str]:
    """Concrete paths of the v2 fields answered in ``model`` (``activities.covert_collection``).

    Only answered fields count: a v2 field left out or null says nothing a v1 document could not.
    """
    found: list[str] = []
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        if value is None:
            continue
        path = f"{prefix}{name}"
        if since(info) != "1":
            found.append(path)
        elif isinstance(value, BaseModel):
            found += v2_fields_set(value, f"{path}.")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, BaseModel):
                    found += v2_fields_set(item, f"{path}[{i}].")
    return found
