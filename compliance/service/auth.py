"""Bearer tokens for the HTTP service.

Tokens come from the environment (``COMPLIANCE_API_TOKENS``: ``name=token`` pairs separated by
commas or line breaks) or from the project config (``[[service.tokens]]`` with a ``name`` and
the token's ``sha256``, so the config file holds no secret). Each token has a name; the decision
log records the name of the token that asked. Tokens are kept only as sha256 digests, compared in
constant time against every known token, and never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass

from compliance.errors import UsageError

ENV_TOKENS = "COMPLIANCE_API_TOKENS"
MIN_TOKEN_LENGTH = 16
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
_HEX = re.compile(r"[0-9a-f]{64}")


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


@dataclass(frozen=True)
class Tokens:
    """Known tokens: name -> sha256 digest."""

    by_name: Mapping[str, bytes]

    def __bool__(self) -> bool:
        return bool(self.by_name)

    def who(self, authorization: str | None) -> str | None:
        """The name of the token in an ``Authorization: Bearer ...`` header, or None. Every
        known token is compared, in constant time, whatever matches."""
        if not authorization:
            return None
        scheme, _, presented = authorization.partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            return None
        seen = digest(presented.strip())
        found: str | None = None
        for name, known in self.by_name.items():
            if hmac.compare_digest(seen, known):
                found = name
        return found


def parse_env(text: str) -> dict[str, bytes]:
    """``name=token`` pairs (commas or line breaks between them) as name -> digest."""
    out: dict[str, bytes] = {}
    problems: list[str] = []
    for n, raw in enumerate(re.split(r"[,\n]", text), start=1):
        part = raw.strip()
        if not part:
            continue
        name, sep, token = part.partition("=")
        name, token = name.strip(), token.strip()
        where = f"{ENV_TOKENS}: entry {n}"
        if not sep or not _NAME.fullmatch(name):
            problems.append(f"{where}: write it as name=token (a name of letters, digits, ._@-)")
        elif not (token.isascii() and token.isprintable()) or " " in token:
            problems.append(
                f"{where} ({name}): a token is printable ASCII without spaces (an HTTP header "
                "carries nothing else reliably)"
            )
        elif len(token) < MIN_TOKEN_LENGTH:
            problems.append(
                f"{where} ({name}): a token needs {MIN_TOKEN_LENGTH} characters or more"
            )
        elif name in out:
            problems.append(f"{where}: the name {name} is given twice")
        else:
            out[name] = digest(token)
    if problems:
        raise UsageError(problems)
    return out


def parse_config(entries: list[tuple[str, str]], origin: str) -> dict[str, bytes]:
    """``(name, sha256 hex)`` pairs from the config as name -> digest."""
    out: dict[str, bytes] = {}
    problems: list[str] = []
    for i, (name, hexdigest) in enumerate(entries):
        where = f"{origin}: service.tokens[{i}]"
        if not _NAME.fullmatch(name):
            problems.append(f"{where}: name {name!r}: letters, digits and ._@- only")
        elif not _HEX.fullmatch(hexdigest):
            problems.append(f"{where}: sha256 must be 64 lower-case hex digits")
        elif name in out:
            problems.append(f"{where}: the name {name} is given twice")
        else:
            out[name] = bytes.fromhex(hexdigest)
    if problems:
        raise UsageError(problems)
    return out


def merge(*groups: Mapping[str, bytes]) -> Tokens:
    merged: dict[str, bytes] = {}
    for group in groups:
        for name, value in group.items():
            if name in merged:
                raise UsageError(f"token name {name} is configured twice (environment and config)")
            merged[name] = value
    return Tokens(merged)


def is_loopback(host: str) -> bool:
    """Whether binding to ``host`` is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
