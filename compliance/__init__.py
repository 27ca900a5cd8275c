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

from compliance.decision import Thresholds
from compliance.errors import ComplianceError, EngineError, InputError, RuleError
from compliance.findings import Decision, Finding, Report, Review
from compliance.intake import LoadedProposal, read_proposals
from compliance.model import Proposal
from compliance.review import Reviewer
from compliance.ruleload import load_rules
from compliance.rulespec import Severity
from compliance.waivers import Waivers, load_waivers

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
