"""The choices of the proposal contract: every enumeration a field may take.

Members are lower_snake_case and are the values a proposal (JSON or workbook) writes. Contract v2
adds enumerations for its new fields and a few members to v1 ones (the categories of data subjects
that Directive (EU) 2016/680 Art. 6 distinguishes); no v1 member is renamed or removed.
"""

from __future__ import annotations

from enum import Enum


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
    # v2: Directive (EU) 2016/680 Art. 6 distinguishes these categories of data subjects.
    suspects = "suspects"
    detainees = "detainees"
    victims = "victims"
    witnesses = "witnesses"
    convicted_persons = "convicted_persons"


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


# --------------------------------------------------------------------------- contract v2


class RiskType(str, Enum):
    """What an identified risk is a risk of."""

    unlawful_killing = "unlawful_killing"
    torture_or_ill_treatment = "torture_or_ill_treatment"
    enforced_disappearance = "enforced_disappearance"
    arbitrary_detention = "arbitrary_detention"
    sexual_violence = "sexual_violence"
    refoulement = "refoulement"
    death_penalty = "death_penalty"
    discrimination = "discrimination"
    privacy_or_data_misuse = "privacy_or_data_misuse"
    diversion = "diversion"
    recruitment_of_children = "recruitment_of_children"
    other = "other"


class MeasureKind(str, Enum):
    assurance = "assurance"
    caveat = "caveat"
    condition = "condition"
    monitoring = "monitoring"
    training = "training"
    suspension_trigger = "suspension_trigger"
    vetting = "vetting"
    policy_dialogue = "policy_dialogue"
    other = "other"


class MeasureForm(str, Enum):
    binding_written_term = "binding_written_term"
    diplomatic_assurance = "diplomatic_assurance"
    verbal = "verbal"
    none = "none"


class MeasureGiver(str, Enum):
    recipient_state = "recipient_state"
    recipient_force = "recipient_force"
    recipient_unit = "recipient_unit"
    partner_organisation = "partner_organisation"
    funder = "funder"
    un_entity = "un_entity"
    none = "none"


class MonitoredBy(str, Enum):
    independent_body = "independent_body"
    un_entity = "un_entity"
    funder = "funder"
    implementer = "implementer"
    recipient_itself = "recipient_itself"
    none = "none"


class BreachConsequence(str, Enum):
    suspend_or_withdraw = "suspend_or_withdraw"
    intercession_only = "intercession_only"
    none = "none"


class VettedBy(str, Enum):
    donor_government = "donor_government"
    un_entity = "un_entity"
    independent_national_body = "independent_national_body"
    the_force_itself = "the_force_itself"
    recipient_government = "recipient_government"
    none = "none"


class VettingLevel(str, Enum):
    individuals = "individuals"
    unit = "unit"
    individuals_and_unit = "individuals_and_unit"


class VettingSource(str, Enum):
    donor_government_records = "donor_government_records"
    un_human_rights_reporting = "un_human_rights_reporting"
    ngo_reports = "ngo_reports"
    media = "media"
    judicial_records = "judicial_records"
    national_human_rights_institution = "national_human_rights_institution"
    force_internal_records = "force_internal_records"


class PersonnelScreening(str, Enum):
    un_screening = "un_screening"
    self_certification = "self_certification"
    none = "none"


class SubcontractorRole(str, Enum):
    transport = "transport"
    security = "security"
    construction = "construction"
    supplier = "supplier"
    cash_transfer = "cash_transfer"
    distribution = "distribution"
    technology = "technology"
    other = "other"


class DistributionControl(str, Enum):
    implementer = "implementer"
    community_committee = "community_committee"
    authorities = "authorities"
    security_forces = "security_forces"
    armed_group = "armed_group"
    local_power_holders = "local_power_holders"
    not_applicable = "not_applicable"


class RemedyForm(str, Enum):
    compensation = "compensation"
    restitution = "restitution"
    rehabilitation = "rehabilitation"
    satisfaction = "satisfaction"
    guarantees_of_non_repetition = "guarantees_of_non_repetition"


class IncidentType(str, Enum):
    sexual_exploitation_and_abuse = "sexual_exploitation_and_abuse"
    deaths_or_serious_injury = "deaths_or_serious_injury"
    diversion = "diversion"
    data_breach = "data_breach"
    human_rights_violations = "human_rights_violations"


class UseOfForceRules(str, Enum):
    aligned_with_un_basic_principles = "aligned_with_un_basic_principles"
    partner_own_rules = "partner_own_rules"
    none = "none"


class Investigator(str, Enum):
    independent_body = "independent_body"
    joint_with_independent_oversight = "joint_with_independent_oversight"
    the_force_itself = "the_force_itself"
    none = "none"


class TechnologyKind(str, Enum):
    surveillance = "surveillance"
    biometric = "biometric"
    identity_management = "identity_management"
    communications_interception = "communications_interception"
    facial_recognition = "facial_recognition"
    data_analytics = "data_analytics"
    drones = "drones"
