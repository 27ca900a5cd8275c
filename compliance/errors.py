"""The one family of user-facing errors. Entry points (CLI, HTTP) catch :class:`ComplianceError`
at their boundary, print its message and exit with its code; anything else is an internal error.

Messages say what is wrong and where: file, line or sheet and cell, and field path.
"""

from __future__ import annotations

from compliance.exitcodes import ExitCode


class ComplianceError(Exception):
    """Base of every error meant for the user. ``problems`` holds one line per problem."""

    exit_code: ExitCode = ExitCode.INTERNAL_ERROR

    def __init__(self, problems: str | list[str]) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class InputError(ComplianceError):
    """A proposal could not be read or is not valid under the intake contract."""

    exit_code = ExitCode.INVALID_INPUT


class UsageError(ComplianceError):
    """The command or its options are wrong."""

    exit_code = ExitCode.INVALID_INPUT


class ConfigError(ComplianceError):
    """The project configuration file is unreadable or invalid."""

    exit_code = ExitCode.INVALID_INPUT


class RuleError(ComplianceError):
    """A rule file is invalid, or rule examples fail."""

    exit_code = ExitCode.RULES_ERROR


class EngineError(ComplianceError):
    """The rule engine failed or disagreed with itself. Never a pass."""

    exit_code = ExitCode.INTERNAL_ERROR
