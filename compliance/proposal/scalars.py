"""The scalar types of the proposal contract: text, yes/no, dates, codes, amounts, base model.

Conventions (see :mod:`compliance.proposal.model`): tri-state yes/no, text that is blank counts as
not answered, ISO dates and codes, bounded lists and texts.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    StrictBool,
    StrictFloat,
    StrictInt,
    StringConstraints,
    WithJsonSchema,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

from compliance.proposal.iso import COUNTRY_CODES, CURRENCY_CODES

TEXT_MAX = 20_000
AMOUNT_MAX = 1e15
LIST_MAX = 500
ID_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

NOT_TEXT = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]"
)
"""Characters no text of a proposal may hold, in JSON or in a workbook alike: control characters
other than tab, line feed and carriage return (C0, DEL, C1); the bidirectional embeddings,
overrides and isolates, which make text display in another order than it is read (the directional
marks U+200E, U+200F and U+061C stay allowed); lone surrogates; and the non-characters U+FFFE and
U+FFFF. A workbook cannot store most of them, and none belongs in an answer."""


def _blank_to_none(value: object) -> object:
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _drop_blank_items(value: object) -> object:
    """A list of texts keeps its non-blank items: an empty string is not an answer."""
    if isinstance(value, list):
        return [v for v in value if not (isinstance(v, str) and not v.strip())]
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("string_too_short", "must not be empty")
    return value


def refused_character(text: str) -> str | None:
    """What is wrong with ``text`` as the text of an answer (the first character
    :data:`NOT_TEXT` refuses, named by code point and position), or None when it is fine."""
    found = NOT_TEXT.search(text)
    if found is None:
        return None
    char = found.group()
    code = f"U+{ord(char):04X}"
    name = unicodedata.name(char, "")
    where = f"at character {found.start() + 1}"
    if "\u202a" <= char <= "\u202e" or "\u2066" <= char <= "\u2069":
        return (
            f"holds a bidirectional control character ({code} {name}) {where}, "
            "which makes text display in another order than it is read"
        )
    if "\ud800" <= char <= "\udfff":
        return f"holds a lone surrogate ({code}) {where}, which is not a character"
    if char in "\ufffe\uffff":
        return f"holds a non-character ({code}) {where}, which text may not contain"
    return (
        f"holds a control character ({code}) {where}; "
        "text may hold no control character but tab and line breaks"
    )


def _plain_text(value: str) -> str:
    problem = refused_character(value)
    if problem is not None:
        raise PydanticCustomError("text_character", problem)
    return value


def _iso_date(value: object) -> object:
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    if isinstance(value, str):
        if not value.strip():
            return None
        text = value.strip()
        if _DATE_RE.match(text):
            try:
                return dt.date.fromisoformat(text)
            except ValueError:
                pass
    raise PydanticCustomError(
        "iso_date",
        "'{value}' is not an ISO 8601 date (YYYY-MM-DD)",
        {"value": value},
    )


def _upper_code(value: object) -> object:
    value = _blank_to_none(value)
    if isinstance(value, str):
        return value.strip().upper()
    return value


def _country(value: str) -> str:
    if value not in COUNTRY_CODES:
        raise PydanticCustomError(
            "country_code",
            "'{value}' is not an ISO 3166-1 alpha-2 country code",
            {"value": value},
        )
    return value


def _currency(value: str) -> str:
    if value not in CURRENCY_CODES:
        raise PydanticCustomError(
            "currency_code", "'{value}' is not an ISO 4217 currency code", {"value": value}
        )
    return value


_REFUSED = (
    r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\ufffe\uffff"
)
_SPACE = (
    r"\t\n\u000b\u000c\r\u001c-\u001f \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
)
TEXT_PATTERN = f"^([{_SPACE}]*|[^{_REFUSED}]*)$"
"""JSON Schema of an answer's text: blank (not answered), or without a character :data:`NOT_TEXT`
refuses (lone surrogates aside: no JSON Schema regex dialect spells them). ``_SPACE`` is what
``str.strip`` removes."""
REQUIRED_TEXT_PATTERN = f"^[^{_REFUSED}]*[^{_REFUSED}{_SPACE}][^{_REFUSED}]*$"

StrictText = Annotated[
    str,
    StringConstraints(strict=True, max_length=TEXT_MAX),
    AfterValidator(_plain_text),
    WithJsonSchema({"type": "string", "maxLength": TEXT_MAX, "pattern": TEXT_PATTERN}),
]
RequiredText = Annotated[
    StrictText,
    AfterValidator(_not_blank),
    WithJsonSchema(
        {"type": "string", "minLength": 1, "maxLength": TEXT_MAX, "pattern": REQUIRED_TEXT_PATTERN}
    ),
]
Text = Annotated[StrictText | None, BeforeValidator(_blank_to_none)]
TextList = Annotated[
    Annotated[list[StrictText], Field(max_length=LIST_MAX)] | None,
    BeforeValidator(_drop_blank_items),
]


class _OrBlank:
    """In the JSON Schema, blank text beside the other values: it is read as not answered."""

    def __get_pydantic_json_schema__(
        self, core: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core)
        blank = {"type": "string", "pattern": f"^[{_SPACE}]*$", "description": "Not answered."}
        return {"anyOf": [*schema.get("anyOf", [schema]), blank]}


YesNo = StrictBool | None
Date = Annotated[dt.date | None, BeforeValidator(_iso_date), _OrBlank()]
_CountryCode = Annotated[
    str,
    StringConstraints(strict=True, pattern=r"^[A-Z]{2}$"),
    AfterValidator(_country),
    WithJsonSchema(
        {
            "type": "string",
            "enum": sorted(COUNTRY_CODES),
            "description": "ISO 3166-1 alpha-2 (accepted in any case and stored upper-case)",
        }
    ),
]
_CurrencyCode = Annotated[
    str,
    StringConstraints(strict=True, pattern=r"^[A-Z]{3}$"),
    AfterValidator(_currency),
    WithJsonSchema(
        {
            "type": "string",
            "enum": sorted(CURRENCY_CODES),
            "description": "ISO 4217 (accepted in any case and stored upper-case)",
        }
    ),
]
Country = Annotated[_CountryCode | None, BeforeValidator(_upper_code), _OrBlank()]
Currency = Annotated[_CurrencyCode | None, BeforeValidator(_upper_code), _OrBlank()]


def whole(value: object) -> object:
    """A whole number written with a fraction part (``12.0``) is that number, as JSON Schema
    counts it an integer; any other fraction stays one (and is refused)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Days = Annotated[Annotated[StrictInt, Field(ge=0, le=100_000)] | None, BeforeValidator(whole)]
Months = Annotated[Annotated[StrictInt, Field(ge=1, le=600)] | None, BeforeValidator(whole)]
Amount = Annotated[StrictFloat, Field(ge=0, le=AMOUNT_MAX, allow_inf_nan=False)] | None


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=False)
