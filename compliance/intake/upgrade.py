"""``compliance upgrade``: rewrite contract v1 proposals in their contract v2 form, nothing lost.

Inputs are read as ``review`` reads them (JSON objects, lists, JSON Lines, workbooks, directories)
and validated first: an invalid proposal is reported, never half upgraded. A v1 proposal becomes
v2 by its ``schema_version`` alone, since v2 only adds fields beside the v1 ones (all unanswered
in a v1 document). The output is chosen by OUT's suffix:

- ``.json``: one proposal as an object, several as a list; ``.jsonl``: one proposal a line. A
  proposal given as JSON keeps every value and its key order, only ``schema_version`` changes;
  one read from a workbook is written from its model, in model order.
- ``.xlsx``: a workbook of the current template (contract v2), in the layout of the input by
  default: the layout of the workbook read, or single for one proposal and register for several.

A proposal already at v2 is written unchanged and said so.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compliance.errors import UsageError
from compliance.intake.proposals import JSON_LINES_SUFFIXES, read_inputs
from compliance.proposal.model import SCHEMA_VERSION, Proposal
from compliance.workbook.layout import Layout
from compliance.workbook.write import build, to_bytes

JSON_SUFFIX = ".json"
WORKBOOK_SUFFIX = ".xlsx"
OUTPUT_SUFFIXES = (JSON_SUFFIX, *sorted(JSON_LINES_SUFFIXES), WORKBOOK_SUFFIX)


@dataclass(frozen=True)
class Upgraded:
    """The upgrade of a batch: the bytes to write and what to tell the user."""

    content: bytes
    proposals: int
    notes: list[str]
    """One line per proposal that was already at the current contract version."""
    layout: Layout | None
    """The layout of a workbook written; ``None`` for JSON."""


def output_kind(output: Path) -> str:
    """OUT's suffix, refused unless it says JSON, JSON Lines or a workbook."""
    suffix = output.suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise UsageError(
            f"{output}: the output must end in {', '.join(OUTPUT_SUFFIXES[:-1])} or "
            f"{OUTPUT_SUFFIXES[-1]} (it says which form to write)"
        )
    return suffix


def upgraded_json(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with ``schema_version`` set to the current version, in place of the old one
    (every other key, value and the key order kept)."""
    return {k: SCHEMA_VERSION if k == "schema_version" else v for k, v in document.items()}


def upgrade(paths: Sequence[str], output: Path, layout: Layout | None = None) -> Upgraded:
    """Read ``paths`` and make the content of ``output`` (see the module's documentation)."""
    kind = output_kind(output)
    if layout is not None and kind != WORKBOOK_SUFFIX:
        raise UsageError(f"{output}: --layout is for a workbook output ({WORKBOOK_SUFFIX})")
    sources = read_inputs(list(paths), keep_documents=True)
    proposals: list[Proposal] = []
    documents: list[dict[str, Any]] = []
    notes: list[str] = []
    for source in sources:
        for index, item in enumerate(source.loaded):
            proposal = item.proposal
            if proposal.schema_version == SCHEMA_VERSION:
                notes.append(
                    f"{item.source_map.locate('schema_version')}: {proposal.id}: already "
                    f"contract v{SCHEMA_VERSION}, written unchanged"
                )
            raw = source.documents[index] if source.documents is not None else None
            if isinstance(raw, dict):
                documents.append(upgraded_json(raw))
            else:
                documents.append(
                    proposal.model_dump(mode="json", exclude_none=True)
                    | {"schema_version": SCHEMA_VERSION}
                )
            proposals.append(proposal.model_copy(update={"schema_version": SCHEMA_VERSION}))
    if kind == WORKBOOK_SUFFIX:
        chosen = layout or _layout_of([s.layout for s in sources], len(proposals))
        book = to_bytes(build(chosen, proposals))
        return Upgraded(book, len(proposals), notes, chosen)
    if kind == JSON_SUFFIX:
        payload: Any = documents[0] if len(documents) == 1 else documents
        text = json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
    else:
        text = "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in documents)
    return Upgraded(text.encode("utf-8"), len(proposals), notes, None)


def _layout_of(layouts: list[Layout | None], count: int) -> Layout:
    """The input's layout: a register stays a register; one proposal goes in a single workbook;
    several in a register."""
    if Layout.register in layouts or count > 1:
        return Layout.register
    return Layout.single
