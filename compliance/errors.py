"""The one family of user-facing errors. Entry points (CLI, HTTP) catch :class:`ComplianceError`
at their boundary, print its message and exit with its code; anything else is an internal error.

Messages say what is wrong and where: file, line or sheet and cell, and field path.
"""

from __future__ import annotations

import re

from compliance.exitcodes import ExitCode

LINE_MAX = 500
"""At most this many characters in one line of an error about the input; a longer line is cut
with a trailing "…". Messages cut what they echo well before this; this is the last defence."""
PROBLEMS_MAX = 1000
"""At most this many problems are listed for one error about the input; a last line counts the
rest."""

# Line breaks and the characters a terminal would act on or display out of order are shown escaped.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def one_line(text: str, limit: int = LINE_MAX) -> str:
    """``text`` as one line of at most ``limit`` characters: controls, line breaks, bidirectional
    controls and lone surrogates escaped (``\\u000a``), the rest cut with a trailing "…"."""
    flat = _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text[: limit + 1])
    if len(flat) <= limit and len(text) <= limit:
        return flat
    return flat[: limit - 1] + "…"


class ComplianceError(Exception):
    """Base of every error meant for the user. ``problems`` holds one line per problem."""

    exit_code: ExitCode = ExitCode.INTERNAL_ERROR

    def __init__(self, problems: str | list[str]) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class _InputProblems(ComplianceError):
    """An error about what the user gave: each problem is one line, bounded by :data:`LINE_MAX`,
    however much of the input it echoes, and at most :data:`PROBLEMS_MAX` problems are listed."""

    def __init__(self, problems: str | list[str]) -> None:
        listed = [problems] if isinstance(problems, str) else problems
        lines = [one_line(p) for p in listed[:PROBLEMS_MAX]]
        if len(listed) > PROBLEMS_MAX:
            lines.append(f"… and {len(listed) - PROBLEMS_MAX} more problems")
        super().__init__(lines)


class InputError(_InputProblems):
    """A proposal could not be read or is not valid under the intake contract."""

    exit_code = ExitCode.INVALID_INPUT


class UsageError(_InputProblems):
    """The command or its options are wrong."""

    exit_code = ExitCode.INVALID_INPUT


class ConfigError(_InputProblems):
    """The project configuration file is unreadable or invalid."""

    exit_code = ExitCode.INVALID_INPUT


class RuleError(ComplianceError):
    """A rule file is invalid, or rule examples fail."""

    exit_code = ExitCode.RULES_ERROR


class EngineError(ComplianceError):
    """The rule engine failed or disagreed with itself. Never a pass."""

    exit_code = ExitCode.INTERNAL_ERROR
