"""The partnership proposal, intake contract v1, as pydantic models.

These models are the single source of truth for the proposal: the JSON Schema
(``compliance schema``), the field catalogue the rule language is checked against, and the field
reference in the docs are all generated from them. Names and nesting follow the v1 contract and
must not change.

Conventions enforced here:

- every yes/no question is tri-state: ``True``, ``False`` or ``None`` (not answered);
- unknown keys are input errors, so a misspelt field can never silently read as "not answered";
- free text is kept byte for byte; text that is empty or only whitespace counts as not answered;
- dates are ISO 8601 calendar dates (``2026-03-01``); country and currency codes are ISO 3166-1
  alpha-2 and ISO 4217, accepted in any case and stored upper-case;
- every list is bounded (``LIST_MAX`` items) and every text (``TEXT_MAX`` characters), so a hostile
  input cannot exhaust the rule engine.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import Enum
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from compliance.iso import COUNTRY_CODES, CURRENCY_CODES

TEXT_MAX = 20_000
AMOUNT_MAX = 1e15
LIST_MAX = 500
ID_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# --------------------------------------------------------------------------- enumerations


class Sector(str, Enum):
    counter_terrorism = "counter_terrorism"
    preventing_violent_extremism = "preventing_violent_extremism"
    counter_narcotics = "counter_narcotics"
    peacekeeping = "peacekeeping"
    humanitarian = "humanitarian"
    community_engagement = "community_engagement"
    border_and_migration = "border_and_migration"


class OrgType(str, Enum):
    un_entity = "un_entity"
    international_ngo = "international_ngo"
    national_ngo = "national_ngo"
    civil_society = "civil_society"
    government_civilian = "government_civilian"
    military = "military"
    police = "police"
    intelligence = "intelligence"
    private_company = "private_company"


class PartyRole(str, Enum):
    funder = "funder"
    implementer = "implementer"
    data_recipient = "data_recipient"
    security_provider = "security_provider"
    technology_vendor = "technology_vendor"
    oversight_body = "oversight_body"


class SupportType(str, Enum):
    training = "training"
    equipment = "equipment"
    salaries = "salaries"
    logistics = "logistics"
    operational_support = "operational_support"
    joint_operations = "joint_operations"
    data_sharing = "data_sharing"
    ngo_funding = "ngo_funding"
    community_programmes = "community_programmes"
    research = "research"


class VettingStatus(str, Enum):
    cleared = "cleared"
    pending = "pending"
    denied = "denied"
    not_vetted = "not_vetted"


class VettingRegime(str, Enum):
    leahy = "leahy"
    hrddp = "hrddp"
    national = "national"
    none = "none"


class DataProtectionRegime(str, Enum):
    gdpr = "gdpr"
    law_enforcement_directive = "law_enforcement_directive"
    international_org_rules = "international_org_rules"
    national = "national"
    none = "none"


class SanctionsExemption(str, Enum):
    unscr_2664 = "unscr_2664"
    national_licence = "national_licence"
    none = "none"
    not_applicable = "not_applicable"


class CtCertification(str, Enum):
    none = "none"
    project_scope = "project_scope"
    organisation_wide = "organisation_wide"


class NpoDueDiligence(str, Enum):
    risk_based = "risk_based"
    blanket = "blanket"
    none = "none"


class DataCategory(str, Enum):
    biographic = "biographic"
    biometric = "biometric"
    health = "health"
    location = "location"
    religion_or_ethnicity = "religion_or_ethnicity"
    criminal_record = "criminal_record"
    family = "family"
    financial = "financial"


class DataSubject(str, Enum):
    beneficiaries = "beneficiaries"
    refugees = "refugees"
    children = "children"
    staff = "staff"
    community_members = "community_members"


class Granularity(str, Enum):
    aggregate = "aggregate"
    pseudonymised = "pseudonymised"
    individual = "individual"


class PurposeCategory(str, Enum):
    service_delivery = "service_delivery"
    protection = "protection"
    research = "research"
    law_enforcement = "law_enforcement"
    intelligence = "intelligence"
    immigration = "immigration"
    repatriation = "repatriation"


class LawfulBasis(str, Enum):
    consent = "consent"
    vital_interest = "vital_interest"
    public_interest = "public_interest"
    legal_obligation = "legal_obligation"
    legitimate_interest = "legitimate_interest"
    mandate = "mandate"
    none = "none"


class TransferMechanism(str, Enum):
    adequacy = "adequacy"
    binding_instrument = "binding_instrument"
    derogation = "derogation"
    none = "none"
    not_applicable = "not_applicable"


class AssessmentStatus(str, Enum):
    full = "full"
    screening = "screening"
    none = "none"


class SecurityControl(str, Enum):
    encryption = "encryption"
    access_control = "access_control"
    patching = "patching"
    breach_notification = "breach_notification"
    audit_logging = "audit_logging"


class RecipientRecord(str, Enum):
    none_known = "none_known"
    credible_allegations = "credible_allegations"
    documented_violations = "documented_violations"


class RiskLevel(str, Enum):
    low = "low"
    medium = "medium"
    high = "high"


class CommunityEngagement(str, Enum):
    none = "none"
    informed = "informed"
    consulted = "consulted"
    co_designed = "co_designed"


class GrievanceCriterion(str, Enum):
    legitimate = "legitimate"
    accessible = "accessible"
    predictable = "predictable"
    equitable = "equitable"
    transparent = "transparent"
    rights_compatible = "rights_compatible"
    continuous_learning = "continuous_learning"
    dialogue_based = "dialogue_based"


class Disclosure(str, Enum):
    full = "full"
    summary = "summary"
    confidential = "confidential"


class EvaluationType(str, Enum):
    none = "none"
    internal = "internal"
    external = "external"
    external_published = "external_published"


class DataAtExit(str, Enum):
    delete = "delete"
    return_ = "return"
    archive = "archive"
    undecided = "undecided"


# --------------------------------------------------------------------------- scalar types


def _blank_to_none(value: object) -> object:
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _drop_blank_items(value: object) -> object:
    """A list of texts keeps its non-blank items: an empty string is not an answer."""
    if isinstance(value, list):
        return [v for v in value if not (isinstance(v, str) and not v.strip())]
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("string_too_short", "must not be empty")
    return value


def _iso_date(value: object) -> object:
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    if isinstance(value, str):
        if not value.strip():
            return None
        text = value.strip()
        if _DATE_RE.match(text):
            try:
                return dt.date.fromisoformat(text)
            except ValueError:
                pass
    raise PydanticCustomError(
        "iso_date",
        "'{value}' is not an ISO 8601 date (YYYY-MM-DD)",
        {"value": value},
    )


def _upper_code(value: object) -> object:
    value = _blank_to_none(value)
    if isinstance(value, str):
        return value.strip().upper()
    return value


def _country(value: str) -> str:
    if value not in COUNTRY_CODES:
        raise PydanticCustomError(
            "country_code",
            "'{value}' is not an ISO 3166-1 alpha-2 country code",
            {"value": value},
        )
    return value


def _currency(value: str) -> str:
    if value not in CURRENCY_CODES:
        raise PydanticCustomError(
            "currency_code", "'{value}' is not an ISO 4217 currency code", {"value": value}
        )
    return value


StrictText = Annotated[str, StringConstraints(strict=True, max_length=TEXT_MAX)]
Text = Annotated[StrictText | None, BeforeValidator(_blank_to_none)]
TextList = Annotated[
    Annotated[list[StrictText], Field(max_length=LIST_MAX)] | None,
    BeforeValidator(_drop_blank_items),
]
YesNo = StrictBool | None
Date = Annotated[dt.date | None, BeforeValidator(_iso_date)]
_CountryCode = Annotated[
    str,
    StringConstraints(strict=True, pattern=r"^[A-Z]{2}$"),
    AfterValidator(_country),
    WithJsonSchema(
        {
            "type": "string",
            "enum": sorted(COUNTRY_CODES),
            "description": "ISO 3166-1 alpha-2 (accepted in any case and stored upper-case)",
        }
    ),
]
_CurrencyCode = Annotated[
    str,
    StringConstraints(strict=True, pattern=r"^[A-Z]{3}$"),
    AfterValidator(_currency),
    WithJsonSchema(
        {
            "type": "string",
            "enum": sorted(CURRENCY_CODES),
            "description": "ISO 4217 (accepted in any case and stored upper-case)",
        }
    ),
]
Country = Annotated[_CountryCode | None, BeforeValidator(_upper_code)]
Currency = Annotated[_CurrencyCode | None, BeforeValidator(_upper_code)]
Days = Annotated[StrictInt, Field(ge=0, le=100_000)] | None
Months = Annotated[StrictInt, Field(ge=1, le=600)] | None
Amount = Annotated[StrictFloat, Field(ge=0, le=AMOUNT_MAX, allow_inf_nan=False)] | None


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=False)


# --------------------------------------------------------------------------- sections


class Lead(_Model):
    """The organisation leading the partnership."""

    name: Text = Field(None, description="Name of the lead organisation.")
    org_type: OrgType | None = Field(None, description="What kind of organisation leads it?")


class Party(_Model):
    """One organisation involved in the partnership."""

    name: Text = Field(None, description="Name of the party.")
    org_type: OrgType | None = Field(None, description="What kind of organisation is it?")
    country: Country = Field(None, description="Country of the party (ISO 3166-1 alpha-2).")
    roles: list[PartyRole] | None = Field(
        None, max_length=LIST_MAX, description="Which roles does the party play?"
    )


class Activities(_Model):
    """What the partnership does."""

    support_types: list[SupportType] | None = Field(
        None, max_length=LIST_MAX, description="Which kinds of support does the partnership give?"
    )
    humanitarian_component: YesNo = Field(
        None,
        description="Does the partnership deliver any aid, health, food, shelter or protection?",
    )
    military_assets_used: YesNo = Field(
        None, description="Are military assets (transport, logistics, personnel) used?"
    )
    last_resort_justification: Text = Field(
        None, description="Why does no civilian alternative to the military assets exist?"
    )
    armed_escorts: YesNo = Field(None, description="Are armed escorts used?")
    intelligence_use_prohibited: YesNo = Field(
        None,
        description="Does an explicit clause bar any use of the aid, staff, programmes or data "
        "for intelligence?",
    )
    aid_conditional_on_cooperation: YesNo = Field(
        None, description="Is aid tied to information, cooperation or security aims?"
    )
    operational_independence: YesNo = Field(
        None,
        description="Does the humanitarian partner alone decide who is served, where and with "
        "what?",
    )
    designated_groups_in_area: YesNo = Field(
        None, description="Do sanctioned or listed armed groups control or operate in the area?"
    )


class SecurityUnit(_Model):
    """A non-UN or foreign security force unit that receives support."""

    name: Text = Field(None, description="Name of the unit.")
    parent_force: Text = Field(None, description="Force the unit belongs to.")
    identified: YesNo = Field(None, description="Is the unit identified down to the unit level?")
    vetting_status: VettingStatus | None = Field(
        None, description="What is the unit's human rights vetting status?"
    )
    vetting_regime: VettingRegime | None = Field(
        None, description="Under which regime was the unit vetted?"
    )


class Legal(_Model):
    """Legal basis and the regimes that apply."""

    mandate_reference: Text = Field(
        None, description="Which law, resolution or agreement authorises the work?"
    )
    us_government_funding: YesNo = Field(
        None, description="Does any US government funding support this partnership?"
    )
    un_support_to_security_forces: YesNo = Field(
        None, description="Does a UN entity support non-UN security forces through it?"
    )
    data_protection_regime: DataProtectionRegime | None = Field(
        None, description="Which data protection regime governs the processing?"
    )
    sanctions_regimes: TextList = Field(None, description="Which sanctions regimes apply?")
    sanctions_exemption: SanctionsExemption | None = Field(
        None, description="Which sanctions exemption or licence is relied on?"
    )


class FundingSource(_Model):
    """One source of funds."""

    funder: Text = Field(None, description="Name of the funder.")
    funder_type: OrgType | None = Field(None, description="What kind of organisation funds it?")


class Funding(_Model):
    """Money: amounts, sources and financial-integrity controls."""

    total_amount: Amount = Field(None, description="Total amount of the partnership.")
    currency: Currency = Field(None, description="Currency of the amount (ISO 4217).")
    sources: list[FundingSource] | None = Field(
        None, max_length=LIST_MAX, description="Where does the money come from?"
    )
    counter_terrorism_certification: CtCertification | None = Field(
        None, description="What is the scope of any anti-terrorism certification signed?"
    )
    iati_identifier: Text = Field(
        None, description="IATI activity identifier under which the funding is published."
    )
    diversion_risk_assessment: YesNo = Field(
        None, description="Has a diversion risk assessment been done?"
    )
    third_party_monitoring: YesNo = Field(None, description="Is there third-party monitoring?")
    beneficial_owners_declared: YesNo = Field(
        None, description="Are the beneficial owners of partners and contractors declared?"
    )
    conflict_of_interest_declarations: YesNo = Field(
        None, description="Are conflict-of-interest declarations collected?"
    )
    competitive_procurement: YesNo = Field(None, description="Is procurement competitive?")
    npo_due_diligence: NpoDueDiligence | None = Field(
        None, description="How are partner non-profit organisations screened?"
    )


class DataFlow(_Model):
    """One flow of personal data to a recipient."""

    recipient: Text = Field(None, description="Who receives the data?")
    recipient_type: OrgType | None = Field(
        None, description="What kind of organisation receives it?"
    )
    categories: list[DataCategory] | None = Field(
        None, max_length=LIST_MAX, description="Which categories of personal data are shared?"
    )
    subjects: list[DataSubject] | None = Field(
        None, max_length=LIST_MAX, description="Whose data is it?"
    )
    granularity: Granularity | None = Field(
        None, description="Is the data aggregate, pseudonymised or individual-level?"
    )
    purpose: Text = Field(None, description="What is the data shared for?")
    purpose_category: PurposeCategory | None = Field(
        None, description="Which category does the purpose fall in?"
    )
    lawful_basis: LawfulBasis | None = Field(
        None, description="What is the lawful basis for the flow?"
    )
    onward_transfer_allowed: YesNo = Field(
        None, description="May the recipient pass the data on to others?"
    )
    cross_border: YesNo = Field(None, description="Does the data cross a border?")
    transfer_mechanism: TransferMechanism | None = Field(
        None, description="Which mechanism covers a cross-border transfer?"
    )
    retention_days: Days = Field(None, description="How many days does the recipient keep it?")
    recipient_is_origin_state_or_conflict_party: YesNo = Field(
        None,
        description="Is the recipient the authority people fled, or a party to the conflict "
        "targeting them?",
    )


class ImpactAssessment(_Model):
    """Data protection impact assessment."""

    status: AssessmentStatus | None = Field(
        None, description="Was a data protection impact assessment done?"
    )
    completed_on: Date = Field(
        None, description="When was the data protection impact assessment completed?"
    )


class DataSubjectNotice(_Model):
    """What people whose data is collected are told."""

    provided: YesNo = Field(None, description="Are people told who receives their data and why?")
    languages: TextList = Field(None, description="In which languages is the notice given?")


class Processor(_Model):
    """A processor handling personal data on the partnership's behalf."""

    name: Text = Field(None, description="Name of the processor.")
    contract_in_place: YesNo = Field(
        None, description="Is a data processing contract in place with it?"
    )
    data_location: Country = Field(
        None, description="Country where it holds the data (ISO 3166-1 alpha-2)."
    )


class DataSharing(_Model):
    """Personal data: flows, assessments, notices, processors and security."""

    flows: list[DataFlow] | None = Field(
        None,
        max_length=LIST_MAX,
        description="Which flows of personal data go to which recipients?",
    )
    impact_assessment: ImpactAssessment | None = Field(
        None, description="Data protection impact assessment."
    )
    consent_separable_from_aid: YesNo = Field(
        None, description="Can people refuse consent and still receive assistance?"
    )
    data_subject_notice: DataSubjectNotice | None = Field(
        None, description="Notice given to the people whose data is collected."
    )
    processors: list[Processor] | None = Field(
        None, max_length=LIST_MAX, description="Which processors handle the data?"
    )
    security_controls: list[SecurityControl] | None = Field(
        None, max_length=LIST_MAX, description="Which security controls protect the data?"
    )
    emergency_deletion_plan: YesNo = Field(
        None,
        description="Is there a plan to delete the data if control of the territory or system "
        "changes?",
    )


class DueDiligence(_Model):
    """Human rights due diligence on the recipients."""

    done: YesNo = Field(None, description="Has human rights due diligence been done?")
    completed_on: Date = Field(
        None, description="When was the human rights due diligence completed?"
    )


class Mitigation(_Model):
    """One identified risk and the measure that mitigates it."""

    risk: Text = Field(None, description="The risk identified.")
    measure: Text = Field(None, description="The measure that mitigates it.")


class HumanRights(_Model):
    """Human rights risks and safeguards."""

    due_diligence: DueDiligence | None = Field(
        None, description="Human rights due diligence on the recipients."
    )
    recipient_record: RecipientRecord | None = Field(
        None, description="What is known of the recipients' human rights record?"
    )
    risk_level: RiskLevel | None = Field(
        None, description="What level of human rights risk was assessed?"
    )
    mitigations: list[Mitigation] | None = Field(
        None,
        max_length=LIST_MAX,
        description="Which risks were identified, and what mitigates each?",
    )
    refoulement_or_detention_risk: YesNo = Field(
        None, description="Could the support contribute to refoulement or detention abuse?"
    )
    death_penalty_for_drug_offences: YesNo = Field(
        None, description="Does the recipient state apply the death penalty for drug offences?"
    )
    referral_criteria: Text = Field(
        None, description="What are the criteria for referring a person to the programme?"
    )
    protected_traits_used_as_indicators: YesNo = Field(
        None, description="Are religion, ethnicity or nationality used as risk indicators?"
    )
    confidentiality_override: YesNo = Field(
        None,
        description="Must staff report people despite health or education confidentiality duties?",
    )


class Safeguards(_Model):
    """Safeguarding, protection and engagement."""

    psea_code: YesNo = Field(
        None,
        description="Is there a code on sexual exploitation and abuse, with a duty to report "
        "and a complaints channel?",
    )
    civilian_harm_plan: YesNo = Field(
        None,
        description="Is there a plan to assess, track, respond to and learn from civilian harm?",
    )
    protection_of_civilians_plan: YesNo = Field(
        None, description="Is there a protection-of-civilians plan?"
    )
    staff_safety_assessment: YesNo = Field(
        None,
        description="Has staff safety been assessed, including reprisal risk from being seen with "
        "security actors?",
    )
    community_engagement: CommunityEngagement | None = Field(
        None, description="How far are communities involved in the design?"
    )
    roles_and_responsibilities_defined: YesNo = Field(
        None, description="Are the partners' roles and responsibilities defined?"
    )
    capacity_building_plan: YesNo = Field(
        None, description="Is there a capacity-building and sustainability plan?"
    )


class GrievanceMechanism(_Model):
    """The grievance mechanism for affected people."""

    exists: YesNo = Field(None, description="Is there a grievance mechanism for affected people?")
    criteria_met: list[GrievanceCriterion] | None = Field(
        None,
        max_length=LIST_MAX,
        description="Which UNGP 31 effectiveness criteria does it meet?",
    )


class Oversight(_Model):
    """Oversight, grievance and suspension."""

    grievance_mechanism: GrievanceMechanism | None = Field(
        None, description="The grievance mechanism for affected people."
    )
    independent_oversight_body: Text = Field(
        None, description="Which independent body oversees the partnership?"
    )
    suspension_triggers: Text = Field(
        None, description="When is support suspended, and who decides?"
    )
    recipient_notified_in_writing: YesNo = Field(
        None, description="Were the recipients told in writing of the conditions on support?"
    )
    agreement_disclosure: Disclosure | None = Field(
        None, description="How much of the agreement is published?"
    )
    reporting_frequency_months: Months = Field(
        None, description="How often (in months) does the partnership report?"
    )


class Monitoring(_Model):
    """Monitoring, evaluation and exit."""

    indicators: TextList = Field(None, description="Which indicators are monitored?")
    human_rights_incidents_tracked: YesNo = Field(
        None, description="Are human rights incidents tracked?"
    )
    review_frequency_months: Months = Field(
        None, description="How often (in months) is the partnership reviewed?"
    )
    independent_evaluation: EvaluationType | None = Field(
        None, description="What evaluation is planned?"
    )
    start_date: Date = Field(None, description="When does the support start?")
    end_date: Date = Field(None, description="When does the support end?")
    data_at_exit: DataAtExit | None = Field(
        None, description="What happens to shared data when the partnership ends?"
    )


class Proposal(_Model):
    """A partnership proposal (intake contract v1)."""

    model_config = ConfigDict(
        extra="forbid",
        title="Partnership proposal",
        json_schema_extra={"$comment": "Generated from compliance.model; do not edit by hand."},
    )

    schema_version: Literal["1"] = Field(description='Version of the intake contract: "1".')
    id: Annotated[str, StringConstraints(strict=True, pattern=ID_PATTERN)] = Field(
        description="Proposal identifier, unique within one batch."
    )
    title: Annotated[
        str, StringConstraints(strict=True, max_length=TEXT_MAX), AfterValidator(_not_blank)
    ] = Field(description="Title of the proposal.")
    summary: Text = Field(None, description="Short summary of the partnership.")
    submitted_on: Date = Field(None, description="When was the proposal submitted?")
    sector: Sector | None = Field(None, description="What is the partnership's field of work?")
    lead: Lead | None = Field(None, description="The organisation leading the partnership.")
    parties: list[Party] | None = Field(
        None, max_length=LIST_MAX, description="Who is involved in the partnership?"
    )
    activities: Activities | None = Field(None, description="What the partnership does.")
    security_units: list[SecurityUnit] | None = Field(
        None,
        max_length=LIST_MAX,
        description="Which non-UN or foreign security force units receive support?",
    )
    legal: Legal | None = Field(None, description="Legal basis and the regimes that apply.")
    funding: Funding | None = Field(None, description="Money and financial-integrity controls.")
    data_sharing: DataSharing | None = Field(None, description="Personal data.")
    human_rights: HumanRights | None = Field(None, description="Human rights risks.")
    safeguards: Safeguards | None = Field(None, description="Safeguarding and protection.")
    oversight: Oversight | None = Field(None, description="Oversight, grievance, suspension.")
    monitoring: Monitoring | None = Field(None, description="Monitoring, evaluation and exit.")


SCHEMA_VERSION = "1"
