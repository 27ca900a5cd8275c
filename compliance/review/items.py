"""The list items of a proposal a review speaks of, and their names.

A finding of a ``for_each`` rule is about one item of a list (its ``subject``:
``data_sharing.flows[1]``); a question may be about one too (``security_units[0].vetting_status``).
A legal team thinks of an item by what it holds, not by its place, so the review carries each such
item's name (:attr:`~compliance.review.findings.Review.item_names`), read from the proposal as it is
reviewed: every report rendered from the review, then or later (a decision record, a JSON report
read back), names the item the same way.

An item is named by the first text field of its model (a party, unit, processor or subcontractor
by its ``name``, a funding source by its ``funder``, a data flow by its ``recipient``, a
mitigation by its ``risk``), read from the field catalogue, and called by its model's name
(``DataFlow``: "data flow").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import BaseModel

from compliance.proposal.fields import Kind, catalogue, generic_path
from compliance.review.findings import Finding, UnansweredField

ITEM = re.compile(r"^(.*?)\[(\d+)\]")
"""A path's first list item: the list's path and the item's index."""


@dataclass(frozen=True)
class ItemTable:
    """A list of items in the proposal (a table of the workbook), as reports name them."""

    noun: str
    """What one item is called: ``DataFlow`` -> ``data flow``."""
    name_field: str | None
    """The field whose answer names an item: the first text field of the item's model."""


@cache
def item_tables() -> dict[str, ItemTable]:
    """Every list of items in the proposal (its generic path) with how an item is named."""
    specs = catalogue()
    tables: dict[str, ItemTable] = {}
    for path, spec in specs.items():
        if spec.kind is not Kind.OBJECT_LIST or spec.model is None:
            continue
        texts = [p for p, s in specs.items() if s.list_path == path and s.kind is Kind.TEXT]
        noun = re.sub(r"(?<!^)(?=[A-Z])", " ", spec.model.__name__).lower()
        tables[path] = ItemTable(noun, texts[0].rsplit(".", 1)[1] if texts else None)
    return tables


def table_of(item: str) -> ItemTable | None:
    """The list an item (``data_sharing.flows[1]``) is in; None for a path in no list of items."""
    match = ITEM.match(item)
    return None if match is None else item_tables().get(generic_path(match.group(1)))


def item_of(path: str) -> str | None:
    """The list item a concrete path is in or is (``data_sharing.flows[1].purpose`` ->
    ``data_sharing.flows[1]``); None when it is in no list of items."""
    match = ITEM.match(path)
    if match is None or generic_path(match.group(1)) not in item_tables():
        return None
    return match.group(0)


def _read(data: Any, part: str) -> Any:
    if isinstance(data, BaseModel):
        return getattr(data, part, None)
    if isinstance(data, Mapping):
        return data.get(part)
    return None


def _value_at(proposal: Any, item: str, field: str) -> Any:
    data = proposal
    for segment in re.finditer(r"([^.\[\]]+)|\[(\d+)\]", f"{item}.{field}"):
        if data is None:
            return None
        if segment.group(2) is not None:
            index = int(segment.group(2))
            data = data[index] if isinstance(data, list) and index < len(data) else None
        else:
            data = _read(data, segment.group(1))
    return data


def item_names(
    proposal: Any, findings: Iterable[Finding], unanswered: Iterable[UnansweredField] = ()
) -> dict[str, str]:
    """The name of every list item the findings judge (their ``subject``) or the questions are
    about, by the item's path, in the order they are met; read from ``proposal`` (the
    :class:`~compliance.proposal.model.Proposal`, or its plain view as reviewed: a redacted
    review's names are placeholders). Items whose naming field is not answered are left out."""
    paths = [f.subject for f in findings if f.subject is not None]
    paths += [u.path for u in unanswered]
    names: dict[str, str] = {}
    for path in paths:
        item = item_of(path)
        if item is None or item in names:
            continue
        table = table_of(item)
        if table is None or table.name_field is None:
            continue
        value = _value_at(proposal, item, table.name_field)
        if isinstance(value, str) and value.strip():
            names[item] = value
    return names
