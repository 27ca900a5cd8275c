"""The scalar types of the proposal contract: text, yes/no, dates, codes, amounts, base model.

Conventions (see :mod:`compliance.model`): tri-state yes/no, text that is blank counts as not
answered, ISO dates and codes, bounded lists and texts.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from compliance.iso import COUNTRY_CODES, CURRENCY_CODES

TEXT_MAX = 20_000
AMOUNT_MAX = 1e15
LIST_MAX = 500
ID_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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


StrictText = Annotated[str, StringConstraints(strict=True, max_length=TEXT_MAX)]
Text = Annotated[StrictText | None, BeforeValidator(_blank_to_none)]
TextList = Annotated[
    Annotated[list[StrictText], Field(max_length=LIST_MAX)] | None,
    BeforeValidator(_drop_blank_items),
]
YesNo = StrictBool | None
Date = Annotated[dt.date | None, BeforeValidator(_iso_date)]
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
Country = Annotated[_CountryCode | None, BeforeValidator(_upper_code)]
Currency = Annotated[_CurrencyCode | None, BeforeValidator(_upper_code)]
Days = Annotated[StrictInt, Field(ge=0, le=100_000)] | None
Months = Annotated[StrictInt, Field(ge=1, le=600)] | None
Amount = Annotated[StrictFloat, Field(ge=0, le=AMOUNT_MAX, allow_inf_nan=False)] | None


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=False)
