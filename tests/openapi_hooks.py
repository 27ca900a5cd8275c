"""Schemathesis hooks for tests/test_openapi.py, loaded by ``st run`` (the ``hooks`` setting).

What JSON Schema cannot generate or state, the document says in words, and these hooks follow:
a workbook body is a workbook made from the template (real ones from the fixtures), JSON Lines
are proposals one per line, and the proposals of one request have different ids.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import strategies as st

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
WORKBOOK_MEDIA = (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-excel.sheet.macroenabled.12",
)
JSON_LINES_MEDIA = ("application/x-ndjson", "application/jsonl")

_WORKBOOKS = [
    (FIXTURES / "workbooks" / name).read_bytes()
    for name in ("register.xlsx", "flawed-data-sharing-biometrics-left-behind.xlsx")
]
_PROPOSALS = [
    json.dumps(json.loads(path.read_text(encoding="utf-8")))
    for path in sorted(FIXTURES.glob("*.json"))[:6]
]

schemathesis.openapi.media_type(
    WORKBOOK_MEDIA[0], st.sampled_from(_WORKBOOKS), aliases=WORKBOOK_MEDIA[1:]
)
schemathesis.openapi.media_type(
    JSON_LINES_MEDIA[0],
    st.lists(st.sampled_from(_PROPOSALS), min_size=1, max_size=3, unique=True).map(
        lambda lines: ("\n".join(lines) + "\n").encode("utf-8")
    ),
    aliases=JSON_LINES_MEDIA[1:],
)


@schemathesis.hook
def filter_case(context: Any, case: Any) -> bool:
    """No two proposals of one request share an id (the service refuses that with 422). A case
    hook, as the coverage phase applies no body hook."""
    body = case.body
    if not isinstance(body, list):
        return True
    ids = [json.dumps(item["id"]) for item in body if isinstance(item, dict) and "id" in item]
    return len(ids) == len(set(ids))
