"""The partnership proposal, intake contract v2, as pydantic models.

These models are the single source of truth for the proposal: the JSON Schema
(``compliance schema``), the field catalogue the rule language is checked against, the workbook
template and the field reference in the docs are all generated from them. Names and nesting of
contract v1 must not change; v2 adds fields beside them, each marked ``x-since: "2"`` in its
JSON Schema. A document that says ``schema_version: "1"`` is read as before and may not answer a
v2 field (``compliance upgrade`` rewrites it as v2); its v2 facts are unanswered.

Conventions enforced here:

- every yes/no question is tri-state: ``True``, ``False`` or ``None`` (not answered);
- unknown keys are input errors, so a misspelt field can never silently read as "not answered";
- free text is kept byte for byte; text that is empty or only whitespace counts as not answered;
- dates are ISO 8601 calendar dates (``2026-03-01``); country and currency codes are ISO 3166-1
  alpha-2 and ISO 4217, accepted in any case and stored upper-case;
- every list is bounded (``LIST_MAX`` items) and every text (``TEXT_MAX`` characters), so a hostile
  input cannot exhaust the rule engine.

Choices are in :mod:`compliance.proposal.choices`, scalar types in
:mod:`compliance.proposal.scalars`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from compliance.proposal.choices import (
    AssessmentStatus,
    BreachConsequence,
    CommunityEngagement,
    CtCertification,
    DataAtExit,
    DataCategory,
    DataProtectionRegime,
    DataSubject,
    Disclosure,
    DistributionControl,
    EvaluationType,
    Granularity,
    GrievanceCriterion,
    LawfulBasis,
    MeasureForm,
    MeasureGiver,
    MeasureKind,
    MonitoredBy,
    NpoDueDiligence,
    OrgType,
    PartyRole,
    PersonnelScreening,
    PurposeCategory,
    RecipientRecord,
    RiskLevel,
    RiskType,
    SanctionsExemption,
    Sector,
    SecurityControl,
    SupportType,
    TransferMechanism,
    UseOfForceRules,
    VettedBy,
    VettingLevel,
    VettingRegime,
    VettingSource,
    VettingStatus,
)
from compliance.proposal.scalars import (
    AMOUNT_MAX,
    ID_PATTERN,
    LIST_MAX,
    TEXT_MAX,
    Amount,
    Country,
    Currency,
    Date,
    Days,
    Months,
    RequiredText,
    Text,
    TextList,
    YesNo,
    _Model,
)

# --------------------------------------------------------------------------- sections
from compliance.proposal.v2 import (
    IncidentReporting,
    PostIncidentInvestigation,
    Remedy,
    Subcontractor,
    Technology,
    Whistleblowing,
    _v2,
    v2_fields_set,
)

__all__ = ["AMOUNT_MAX", "ID_PATTERN", "LIST_MAX", "TEXT_MAX"]


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
    high_risk_setting: YesNo = _v2(
        "Is the area conflict-affected or otherwise high-risk for diversion or abuse?"
    )
    distribution_controlled_by: DistributionControl | None = _v2(
        "Who controls the distribution of aid, funds or goods on the ground?"
    )
    covert_collection: YesNo = _v2(
        "Does the partnership gather information on people without their knowledge, or under "
        "cover of engagement, outreach or aid?"
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
    record: RecipientRecord | None = _v2("What is known of this unit's own human rights record?")
    vetted_by: VettedBy | None = _v2("Who vetted the unit?")
    vetting_level: VettingLevel | None = _v2(
        "Were the unit's individual members vetted, the unit, or both?"
    )
    vetting_sources: list[VettingSource] | None = _v2(
        "Which sources did the vetting check?", max_length=LIST_MAX
    )
    vetted_on: Date = _v2("When was the unit vetted?")
    contributed_personnel: YesNo = _v2(
        "Is the unit made of personnel a member state contributes to a UN operation?"
    )
    personnel_screening: PersonnelScreening | None = _v2(
        "How were contributed personnel screened for human rights violations?"
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
    purpose_fully_disclosed: YesNo = _v2(
        "Is the purpose told to the people concerned the whole purpose of the flow?"
    )
    covert_collection: YesNo = _v2("Is the data collected without the people's knowledge?")
    use_caveats_in_writing: YesNo = _v2(
        "Do written caveats limit the recipient's use and onward transfer of the data?"
    )
    torture_risk_assessed: YesNo = _v2(
        "Was the risk that sharing leads to torture or ill-treatment assessed before sharing?"
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
    private_company: YesNo = _v2("Is the processor a private company?")
    use_limited_by_contract: YesNo = _v2(
        "Does the contract bar the processor from using the data for its own purposes?"
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
    risk_type: RiskType | None = _v2("Which harm does the risk concern (killing, torture, ...)?")
    measure_kinds: list[MeasureKind] | None = _v2(
        "Which kinds of measure address the risk?", max_length=LIST_MAX
    )
    form: MeasureForm | None = _v2("What form does the strongest commitment against the risk take?")
    given_by: MeasureGiver | None = _v2("Who gives that commitment?")
    monitored_by: MonitoredBy | None = _v2("Who monitors compliance with it?")
    monitoring_frequency_months: Months = _v2("How often (in months) is compliance monitored?")
    breach_consequence: BreachConsequence | None = _v2(
        "What happens if the commitment is breached?"
    )


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
    selection_by_protected_traits: YesNo = _v2(
        "Are areas, communities or people for cameras, patrols, programmes or outreach chosen by "
        "religion, ethnicity or nationality (singled out for who they are, not on evidence of "
        "conduct or need; including every community in balanced numbers is not this)?"
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
    use_of_force_rules: UseOfForceRules | None = _v2(
        "Which rules on the use of force do the partners in joint operations follow?"
    )
    post_incident_investigation: PostIncidentInvestigation | None = _v2(
        "Investigation of deaths and serious injuries in operations."
    )
    civilian_harm_tracking: YesNo = _v2("Is civilian harm tracked, incident by incident?")


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
    remedy: Remedy | None = _v2("Remedy for people harmed.")
    whistleblowing: Whistleblowing | None = _v2("Reporting of misconduct by staff.")
    serious_incident_reporting: IncidentReporting | None = _v2(
        "Reporting of serious incidents to the funder."
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
    """A partnership proposal (intake contract v2; a v1 document is one without v2 fields)."""

    model_config = ConfigDict(
        extra="forbid",
        title="Partnership proposal",
        json_schema_extra={
            "$comment": "Generated from the code (compliance docs); do not edit by hand."
        },
    )

    schema_version: Literal["1", "2"] = Field(
        description='Version of the intake contract: "2" (or "1", without the fields added in v2).'
    )
    id: Annotated[str, StringConstraints(strict=True, pattern=ID_PATTERN)] = Field(
        description="Proposal identifier, unique within one batch."
    )
    title: RequiredText = Field(description="Title of the proposal.")
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
    subcontractors: list[Subcontractor] | None = _v2(
        "Which subcontractors and suppliers work below the prime partner?", max_length=LIST_MAX
    )
    technology: Technology | None = _v2("Technology supplied that can be turned on people.")

    @model_validator(mode="after")
    def _v2_fields_need_v2(self) -> Proposal:
        if self.schema_version == "1":
            found = v2_fields_set(self)
            if found:
                raise PydanticCustomError(
                    CONTRACT_VERSION_ERROR,
                    '{paths} belong to contract v2: set schema_version to "2" '
                    "(compliance upgrade does it)",
                    {"paths": ", ".join(found)},
                )
        return self


SCHEMA_VERSION = "2"
"""The contract version this tool writes (templates, exports, upgrades)."""
SCHEMA_VERSIONS = ("1", "2")
"""The contract versions this tool reads."""
CONTRACT_VERSION_ERROR = "contract_version"
