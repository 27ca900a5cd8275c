"""compliance: a rules-based compliance and ethics checker for partnership proposals.

Library use::

    from compliance import Reviewer, load_rules, read_proposals

    ruleset = load_rules()                       # built-in rules (+ extra directories)
    with Reviewer(ruleset, threshold=Severity.high) as reviewer:
        for item in read_proposals(["proposal.json"]):
            review = reviewer.review(item.proposal, item.source_map)
            print(review.decision, [f.rule_id for f in review.findings])

With waivers and a threshold per domain::

    waivers = load_waivers(Path("waivers.yaml"), ruleset, as_of=date.today())
    thresholds = Thresholds(Severity.high, {"data_sharing": Severity.medium})
    with Reviewer(ruleset, threshold=thresholds, waivers=waivers) as reviewer:
        ...
"""

__version__ = "0.3.0"

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from compliance.errors import ComplianceError, EngineError, InputError, RuleError
    from compliance.intake.proposals import LoadedProposal, read_proposals
    from compliance.proposal.model import Proposal
    from compliance.review.decision import Thresholds
    from compliance.review.findings import Decision, Finding, Report, Review
    from compliance.review.reviewer import Reviewer
    from compliance.review.waivers import Waivers, load_waivers
    from compliance.rules.load import load_rules
    from compliance.rules.spec import Severity

_HOMES = {
    "ComplianceError": "compliance.errors",
    "Decision": "compliance.review.findings",
    "EngineError": "compliance.errors",
    "Finding": "compliance.review.findings",
    "InputError": "compliance.errors",
    "LoadedProposal": "compliance.intake.proposals",
    "Proposal": "compliance.proposal.model",
    "Report": "compliance.review.findings",
    "Review": "compliance.review.findings",
    "Reviewer": "compliance.review.reviewer",
    "RuleError": "compliance.errors",
    "Severity": "compliance.rules.spec",
    "Thresholds": "compliance.review.decision",
    "Waivers": "compliance.review.waivers",
    "load_rules": "compliance.rules.load",
    "load_waivers": "compliance.review.waivers",
    "read_proposals": "compliance.intake.proposals",
}
"""Where each public name is defined: importing ``compliance`` (as every command does) imports
none of them; each is imported on first use, so a command pays only for what it uses."""


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib  # noqa: PLC0415

    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


__all__ = [
    "ComplianceError",
    "Decision",
    "EngineError",
    "Finding",
    "InputError",
    "LoadedProposal",
    "Proposal",
    "Report",
    "Review",
    "Reviewer",
    "RuleError",
    "Severity",
    "Thresholds",
    "Waivers",
    "__version__",
    "load_rules",
    "load_waivers",
    "read_proposals",
]
