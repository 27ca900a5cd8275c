"""The last check of a redacted report: no redacted answer survives in any rendered output.

Redaction happens at the source (:mod:`compliance.review.redact`); this check is the safety net,
and it fails closed: an output that still holds a redacted answer is an internal error (exit 6) and
is never written. Each output is first read back as its reader would see it: JSON string literals
decoded (JSON, JSON Lines, SARIF), character references undone (HTML, JUnit, the workbook's XML
parts, Markdown), Markdown's backslash escapes dropped, percent-encoding undone (file URIs), then
compared in :func:`~compliance.review.redact.normal` form (Unicode NFKC, case-folded, whitespace
runs as one space, so a value wrapped across lines is still found) as a whole word or phrase, not
inside a longer word. A long value is also looked for by its first 60 characters (the text report
shortens long values).

An answer that is also text of the rule set, the field catalogue or the words every report frames
a review in (a sanctions regime "UN" that the rules name too, a language code "en", an indicator
"Complaints") cannot be told apart from that text in an output, so it is not looked for; it is
still replaced wherever it comes from the proposal.
"""

from __future__ import annotations

import functools
import html
import io
import json
import re
import urllib.parse
import zipfile
from collections.abc import Iterable
from typing import TYPE_CHECKING

from compliance.errors import EngineError
from compliance.proposal.fields import catalogue
from compliance.review.findings import Decision
from compliance.review.redact import Redactor, free_text_fields, label_of, normal
from compliance.rules.spec import Severity

if TYPE_CHECKING:
    from compliance.rules.ruleset import RuleSet

PREFIX = 60
"""A value longer than this is also looked for by its first this many characters."""

_JSON_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
_MD_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_WORD = re.compile(r"\w+")


def public_text(ruleset: RuleSet) -> str:
    """Text every report may hold whatever the proposal: the rules' words, the field catalogue
    and the placeholders' names, in :func:`~compliance.review.redact.normal` form."""
    parts: list[str] = ["source", "proposal", "waiver justification"]
    # The words every format frames a review in (decisions, severities, outcomes).
    parts += [d.value.replace("_", " ") for d in Decision] + [s.value for s in Severity]
    parts += ["violation", "needs information", "context", "unanswered", "waived", "expired"]
    for rule in ruleset.rules:
        parts += [rule.id, rule.title, rule.message, rule.remediation, rule.domain]
        parts += [ruleset.domain_title(rule.domain)]
        for ref in rule.references:
            parts += [str(v) for v in ref.to_dict().values() if isinstance(v, str)]
        parts += [e.reason for e in rule.escalations]
    for path, spec in catalogue().items():
        parts += [path, spec.question, *spec.values, *(v.replace("_", " ") for v in spec.values)]
    parts += [label_of(p) for p in free_text_fields()]
    return normal("\n".join(parts))


def readable(fmt: str, output: str | bytes) -> str:
    """An output as its reader sees it: escapes of its format undone."""
    if isinstance(output, bytes):
        if fmt != "xlsx":
            output = output.decode("utf-8")
        else:
            with zipfile.ZipFile(io.BytesIO(output)) as package:
                parts = [
                    package.read(name).decode("utf-8", "replace")
                    for name in package.namelist()
                    if name.endswith((".xml", ".rels", ".vml"))
                ]
            output = html.unescape("\n".join(parts))
    text: str = output
    if fmt in ("json", "jsonl", "sarif"):
        text = "\n".join(_decoded(m.group(1)) for m in _JSON_STRING.finditer(text))
    elif fmt in ("html", "junit"):
        text = html.unescape(text)
    elif fmt == "markdown":
        text = html.unescape(_MD_ESCAPE.sub(r"\1", text))
    return urllib.parse.unquote(text)


def _decoded(literal: str) -> str:
    if "\\" not in literal:
        return literal
    try:
        decoded = json.loads(f'"{literal}"')
    except ValueError:
        return literal
    return decoded if isinstance(decoded, str) else literal


def _wordy(char: str) -> bool:
    return char.isalnum() or char == "_"


def occurs(value: str, text: str, whole: bool = True) -> bool:
    """Whether ``value`` is in ``text`` not inside a longer word (at its end too when
    ``whole``): found by ``str.find``, its edges then looked at."""
    start = text.find(value)
    head = _wordy(value[:1])
    tail = whole and _wordy(value[-1:])
    while start != -1:
        end = start + len(value)
        if not (head and start > 0 and _wordy(text[start - 1])) and not (
            tail and end < len(text) and _wordy(text[end])
        ):
            return True
        start = text.find(value, start + 1)
    return False


@functools.lru_cache(maxsize=65536)
def _words(value: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(value))


def survivors(text: str, values: Iterable[str], redaction: Redactor) -> list[str]:
    """The values (in normal form) found in ``text`` as a whole word or phrase, or by their
    first :data:`PREFIX` characters, leaving out those the public text holds too."""
    seen = normal(text)
    words = set(_WORD.findall(seen))
    found: list[str] = []
    for value in values:
        own = _words(value)
        head = value[:PREFIX]
        whole = bool(value) and all(w in words for w in own)
        cut = len(value) > PREFIX and all(w in words for w in _words(head)[:-1])
        if not (whole or cut) or redaction.is_public(value, occurs):
            continue
        if (whole and occurs(value, seen)) or (cut and occurs(head, seen, whole=False)):
            found.append(value)
    return found


def check_output(
    redaction: Redactor, fmt: str, output: str | bytes, values: Iterable[str] | None = None
) -> None:
    """Raise :class:`EngineError` (nothing is written) when a redacted value (of ``values``, by
    default every one the report met) is in ``output``."""
    looked_for = redaction.hidden if values is None else values
    found = survivors(readable(fmt, output), looked_for, redaction)
    if found:
        shown = ", ".join(sorted(redaction.hidden[v] for v in found))
        raise EngineError(
            f"--redact {redaction.profile.name}: the {fmt} report still holds the answer(s) "
            f"behind {shown}; nothing is written"
        )
