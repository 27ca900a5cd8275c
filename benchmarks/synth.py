"""Realistic synthetic proposals for benchmarks: the bundled fixtures, varied at random.

Each proposal starts from one of the fixtures (a sound one, a flawed one, an incomplete one) and
then, field by field, some answers are dropped (as in real drafts), some are changed to another
allowed value, and tables get between zero and several rows. The result spans every decision and
exercises every rule, with the shape and size of proposals people actually submit. Seeded, so a
benchmark run is repeatable.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import random
from pathlib import Path
from typing import Any

from compliance.proposal.fields import Kind, catalogue
from compliance.proposal.model import Proposal

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
DROP = 0.12
CHANGE = 0.10


def _templates() -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(FIXTURES.glob("*.json"))]


def _value(rng: random.Random, path: str, current: Any) -> Any:
    spec = catalogue()[path]
    if spec.kind is Kind.BOOL:
        return rng.random() < 0.5
    if spec.kind in (Kind.ENUM, Kind.CODE):
        return rng.choice(spec.values)
    if spec.kind is Kind.ENUM_LIST:
        return rng.sample(list(spec.values), rng.randint(0, min(4, len(spec.values))))
    if spec.kind is Kind.NUMBER:
        return rng.choice([1, 3, 6, 12, 30, 90, 365]) if spec.integer else rng.uniform(1e4, 5e6)
    if spec.kind is Kind.DATE:
        return (dt.date(2025, 6, 1) + dt.timedelta(days=rng.randint(0, 600))).isoformat()
    return current  # text: keep the practitioner's wording


def _vary(rng: random.Random, data: dict[str, Any], prefix: str) -> None:
    for key in list(data):
        path = f"{prefix}{key}"
        spec = catalogue().get(path)
        if spec is None or spec.required:
            continue
        value = data[key]
        if spec.kind is Kind.OBJECT and isinstance(value, dict):
            _vary(rng, value, f"{path}.")
        elif spec.kind is Kind.OBJECT_LIST and isinstance(value, list):
            rows = (
                [copy.deepcopy(rng.choice(value)) for _ in range(rng.randint(0, 4))]
                if value
                else []
            )
            for row in rows:
                _vary(rng, row, f"{path}[].")
            data[key] = rows
        elif rng.random() < DROP:
            del data[key]
        elif rng.random() < CHANGE:
            data[key] = _value(rng, path, value)


def generate(count: int, seed: int = 2026) -> list[Proposal]:
    """``count`` valid proposals (validated by the model, as intake would)."""
    rng = random.Random(seed)
    templates = _templates()
    out: list[Proposal] = []
    for i in range(count):
        data = copy.deepcopy(rng.choice(templates))
        _vary(rng, data, "")
        data["id"] = f"SYN-{i:06d}"
        out.append(Proposal.model_validate(data))
    return out
