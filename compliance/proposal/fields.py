"""The field catalogue: every answerable field of the proposal, derived from the pydantic models.

Rules name fields by path and the catalogue is what those paths are checked against: whether the
field exists, what kind of value it holds (and so which operators apply), and, for enumerations,
which values are allowed. It is generated from :mod:`compliance.proposal.model`, never written by
hand.

Paths are dotted. A list of objects is written with ``[]`` when a path goes inside its items:
``data_sharing.flows[].lawful_basis``. Concrete paths in findings carry the index instead:
``data_sharing.flows[1].lawful_basis``.
"""

from __future__ import annotations

import datetime as dt
import re
import types
import typing
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.functional_validators import AfterValidator

from compliance.proposal import model
from compliance.proposal import scalars as model_types
from compliance.proposal.iso import COUNTRY_CODES, CURRENCY_CODES
from compliance.proposal.v2 import since


class Kind(str, Enum):
    """What a field holds; it decides which rule operators apply."""

    BOOL = "yes/no"
    ENUM = "choice"
    NUMBER = "number"
    DATE = "date"
    TEXT = "text"
    CODE = "code"
    ENUM_LIST = "list of choices"
    TEXT_LIST = "list of text"
    OBJECT_LIST = "table"
    OBJECT = "section"


_INDEX = re.compile(r"\[\d+\]")
_SEGMENT = re.compile(r"[^.\[\]]+|\[(\d+)\]")

LIST_KINDS = frozenset({Kind.ENUM_LIST, Kind.TEXT_LIST, Kind.OBJECT_LIST})


@dataclass(frozen=True)
class FieldSpec:
    """One field of the proposal as the rule language sees it."""

    path: str
    kind: Kind
    question: str
    values: tuple[str, ...] = ()
    """Allowed values of an enumeration, a list of choices, or a code (country, currency)."""
    integer: bool = False
    required: bool = False
    list_path: str | None = None
    """For a field inside the items of a list of objects: the path of that list."""
    model: type[BaseModel] | None = None
    """For a section or a table: the model of the object or of one item."""
    since: str = "1"
    """The contract version that introduced the field (or the section or table holding it)."""


def _strip(annotation: Any) -> tuple[Any, list[Any]]:
    """Remove Optional and Annotated layers; return the base type and all metadata seen."""
    metadata: list[Any] = []
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            args = get_args(annotation)
            metadata.extend(args[1:])
            annotation = args[0]
        elif origin in (Union, types.UnionType):
            members = [a for a in get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                raise TypeError(f"unsupported union {annotation!r}")
            annotation = members[0]
        else:
            return annotation, metadata


def _code_values(metadata: list[Any]) -> tuple[str, ...] | None:
    for item in metadata:
        if isinstance(item, AfterValidator):
            if item.func is model_types._country:
                return tuple(sorted(COUNTRY_CODES))
            if item.func is model_types._currency:
                return tuple(sorted(CURRENCY_CODES))
    return None


def _later(a: str, b: str) -> str:
    return max(a, b, key=int)


def _walk(
    cls: type[BaseModel], prefix: str, list_path: str | None, outer: str = "1"
) -> typing.Iterator[FieldSpec]:
    hints = typing.get_type_hints(cls, include_extras=True)
    for name, info in cls.model_fields.items():
        path = f"{prefix}{name}"
        question = info.description or name
        base, metadata = _strip(hints[name])
        required = info.is_required()
        version = _later(outer, since(info))
        common: dict[str, Any] = {
            "question": question,
            "required": required,
            "list_path": list_path,
            "since": version,
        }
        if get_origin(base) is list:
            (item,) = get_args(base)
            item_base, _ = _strip(item)
            if isinstance(item_base, type) and issubclass(item_base, BaseModel):
                yield FieldSpec(path, Kind.OBJECT_LIST, model=item_base, **common)
                if list_path is not None:
                    raise TypeError(f"{path}: lists of objects inside lists are not supported")
                yield from _walk(item_base, f"{path}[].", path, version)
            elif isinstance(item_base, type) and issubclass(item_base, Enum):
                values = tuple(str(m.value) for m in item_base)
                yield FieldSpec(path, Kind.ENUM_LIST, values=values, **common)
            elif item_base is str:
                yield FieldSpec(path, Kind.TEXT_LIST, **common)
            else:
                raise TypeError(f"{path}: unsupported list item type {item_base!r}")
        elif isinstance(base, type) and issubclass(base, BaseModel):
            yield FieldSpec(path, Kind.OBJECT, model=base, **common)
            yield from _walk(base, f"{path}.", list_path, version)
        elif isinstance(base, type) and issubclass(base, Enum):
            values = tuple(str(m.value) for m in base)
            yield FieldSpec(path, Kind.ENUM, values=values, **common)
        elif get_origin(base) is Literal:
            values = tuple(str(v) for v in get_args(base))
            yield FieldSpec(path, Kind.ENUM, values=values, **common)
        elif base is bool:
            yield FieldSpec(path, Kind.BOOL, **common)
        elif base is int:
            yield FieldSpec(path, Kind.NUMBER, integer=True, **common)
        elif base is float:
            yield FieldSpec(path, Kind.NUMBER, **common)
        elif base is dt.date:
            yield FieldSpec(path, Kind.DATE, **common)
        elif base is str:
            codes = _code_values(metadata)
            if codes is not None:
                yield FieldSpec(path, Kind.CODE, values=codes, **common)
            else:
                yield FieldSpec(path, Kind.TEXT, **common)
        else:
            raise TypeError(f"{path}: unsupported field type {base!r}")


@cache
def catalogue() -> dict[str, FieldSpec]:
    """Every field of :class:`compliance.proposal.model.Proposal`, keyed by path, in model order."""
    return {spec.path: spec for spec in _walk(model.Proposal, "", None)}


@cache
def catalogue_of(contract: str) -> dict[str, FieldSpec]:
    """The fields of contract version ``contract``: the catalogue without later fields."""
    return {path: spec for path, spec in catalogue().items() if int(spec.since) <= int(contract)}


@cache
def split_path(dotted: str) -> tuple[str, ...]:
    """``a.b.c`` -> ``("a", "b", "c")``, computed once per path."""
    return tuple(dotted.split("."))


def get_in(data: Any, parts: tuple[str, ...]) -> Any:
    """The value at ``parts`` in nested dicts; None as soon as a level is missing or None."""
    for part in parts:
        if data is None:
            return None
        data = data.get(part)
    return data


def generic_path(concrete: str) -> str:
    """``data_sharing.flows[2].purpose`` -> ``data_sharing.flows[].purpose``."""
    return _INDEX.sub("[]", concrete)


def json_pointer(concrete: str) -> str:
    """``data_sharing.flows[2].purpose`` -> ``/data_sharing/flows/2/purpose``."""
    parts = [m.group(1) or m.group(0) for m in _SEGMENT.finditer(concrete)]
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


def path_from_loc(loc: tuple[int | str, ...]) -> str:
    """A pydantic error location (``('data_sharing', 'flows', 1, 'purpose')``) as a field path."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
