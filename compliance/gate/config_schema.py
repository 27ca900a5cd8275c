"""The schema of ``compliance.toml``: what each section may hold, validated strictly (an unknown
key or a wrong type is an error naming it). Imported only when a config file is read: a review
without one does not build these models."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, StringConstraints

from compliance.rules.spec import Severity

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
RuleId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DisableEntry(_Strict):
    id: RuleId
    reason: Reason = Field(description="Why the rule does not apply to this project's work.")


class SeverityEntry(_Strict):
    id: RuleId
    severity: Severity
    reason: Reason = Field(description="Why this project judges the rule at another severity.")
    downgrade_blocker: StrictBool = Field(
        False, description="Must be true to lower a blocker: a deliberate act, never a slip."
    )


class RulesSection(_Strict):
    directories: list[Annotated[StrictStr, StringConstraints(min_length=1)]] = Field(
        default_factory=list
    )
    builtin: StrictBool = True
    disable: list[DisableEntry] = Field(default_factory=list)
    severity: list[SeverityEntry] = Field(default_factory=list)


class GateSection(_Strict):
    fail_on: Severity | None = Field(None, description="The default gate threshold.")
    fail_on_domains: dict[Annotated[str, StringConstraints(min_length=1)], Severity] = Field(
        default_factory=dict, description="Thresholds for single domains."
    )


class WaiversSection(_Strict):
    file: Annotated[StrictStr, StringConstraints(min_length=1)] | None = None
    allow_blockers: StrictBool = Field(
        False, description="Whether waivers may accept blocker findings (default: no)."
    )


class RecordsSection(_Strict):
    directory: Annotated[StrictStr, StringConstraints(min_length=1)] | None = None


class TokenEntry(_Strict):
    name: Annotated[StrictStr, StringConstraints(min_length=1, max_length=64)]
    sha256: Annotated[StrictStr, StringConstraints(min_length=64, max_length=64)] = Field(
        description="sha256 of the token, in hex (the config holds no secret)."
    )


class ServiceSection(_Strict):
    tokens: list[TokenEntry] = Field(default_factory=list)
    decision_log: Annotated[StrictStr, StringConstraints(min_length=1)] | None = Field(
        None, description="SQLite file (relative to this file) or postgresql:// URL."
    )
    keep_proposals: StrictBool = Field(
        False,
        description="Keep each reviewed proposal in the decision log, for rules impact "
        "--decision-log: the log then holds personal data (default: no).",
    )


class RedactionProfileEntry(_Strict):
    fields: list[Annotated[StrictStr, StringConstraints(min_length=1, max_length=200)]] = Field(
        min_length=1,
        max_length=200,
        description="Free-text field paths ([] for list items), section or table paths (every "
        "free-text field inside), or * (all free text).",
    )
    keep_source: StrictBool = Field(
        False, description="Whether input file names stay (default: they are placeholders)."
    )


class RedactionSection(_Strict):
    profiles: dict[
        Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")], RedactionProfileEntry
    ] = Field(default_factory=dict)


class ConfigFile(_Strict):
    rules: RulesSection = Field(default_factory=RulesSection)
    service: ServiceSection = Field(default_factory=ServiceSection)
    gate: GateSection = Field(default_factory=GateSection)
    waivers: WaiversSection = Field(default_factory=WaiversSection)
    records: RecordsSection = Field(default_factory=RecordsSection)
    redaction: RedactionSection = Field(default_factory=RedactionSection)
