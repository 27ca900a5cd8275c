"""Process exit codes: the contract a workflow gates on. Defined here and nowhere else.

Every failure has its own non-zero code, and none of them is 0: invalid input, a broken rule set or
an internal error can never be mistaken for a pass. Code 1 is never returned on purpose; it is what
Python exits with when an exception escapes, so a workflow that sees it must also treat it as a
failure (the CLI catches everything at its boundary to avoid it).
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    PASSED = 0
    """Every proposal was approved, with or without conditions, at the gate threshold."""
    INVALID_INPUT = 2
    """Input could not be read or validated, or the command line was wrong. Nothing was judged."""
    BLOCKED = 3
    """At least one proposal has a finding at or above the threshold (decision ``reject``)."""
    NEEDS_INFORMATION = 4
    """No proposal is blocked, but at least one leaves facts unanswered that a rule at or above
    the threshold needs (decision ``needs_information``)."""
    RULES_ERROR = 5
    """A rule file is invalid, or ``compliance rules test`` found a rule whose examples fail."""
    INTERNAL_ERROR = 6
    """The tool itself failed (for example the rule engine crashed). Nothing was judged."""
