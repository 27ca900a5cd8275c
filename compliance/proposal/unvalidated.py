"""Model instances of values the code made itself, built without validating them again.

Validating a small frozen model costs more than the rest of building it, and a review builds
thousands (findings, their evidence, the locations of the answers shown). Where every value is
already of its field's type, :func:`instance` builds the instance pydantic would, without the
validator: callers give every field, defaults too, so it equals, hashes and serialises as the
validated one (tests hold each caller to that).
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


def instance(cls: type[M], fields: dict[str, Any], fields_set: set[str]) -> M:
    """An instance of ``cls`` holding ``fields`` (every field of the model, in its order), with
    ``fields_set`` as the fields given explicitly."""
    made = cls.__new__(cls)
    object.__setattr__(made, "__dict__", fields)
    object.__setattr__(made, "__pydantic_fields_set__", fields_set)
    object.__setattr__(made, "__pydantic_extra__", None)
    object.__setattr__(made, "__pydantic_private__", None)
    return made
