"""The proposal contract: the pydantic models, the field catalogue derived from them, validation
and the v1 upgrade."""
