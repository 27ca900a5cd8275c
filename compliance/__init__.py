"""compliance: a rules-based compliance and ethics checker for partnership proposals.

Library use::

    from compliance import Reviewer, load_rules, read_proposals

    ruleset = load_rules()                       # built-in rules (+ extra directories)
    with Reviewer(ruleset, threshold=Severity.high) as reviewer:
        for item in read_proposals(["proposal.json"]):
            review = reviewer.review(item.proposal, item.source_map)
            print(review.decision, [f.rule_id for f in review.findings])
"""

__version__ = "0.3.0"

from compliance.errors import ComplianceError, EngineError, InputError, RuleError
from compliance.findings import Decision, Finding, Report, Review
from compliance.intake import LoadedProposal, read_proposals
from compliance.model import Proposal
from compliance.review import Reviewer
from compliance.ruleload import load_rules
from compliance.rulespec import Severity

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
    "__version__",
    "load_rules",
    "read_proposals",
]
