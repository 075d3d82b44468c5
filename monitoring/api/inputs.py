"""Checks on what a client sends before it reaches a service: record ids in URLs and query
parameters, choice filters, and payload values no clinical value can be (NUL characters, absurd
numbers, deep nesting).  Each refusal is a 400 naming the field and what is allowed."""

from __future__ import annotations

import math
from typing import Any

from rest_framework import exceptions

MAX_ID = 2**63 - 1
ID_PATTERN = r"[0-9]{1,18}"

#: Larger than any physiological or laboratory value (the widest hard limit is 2 000 000 ng/mL).
MAX_PAYLOAD_NUMBER = 10**12
MAX_PAYLOAD_DEPTH = 8


def check_payload_values(payload: dict) -> None:
    """Reject what no clinical value can be before it reaches the core or the database: NUL
    characters (PostgreSQL cannot store them in JSON), absurdly large numbers and deep nesting.
    Raises a 400 keyed by the payload field, like the clinical core's own errors."""

    def walk(value: Any, field: str, depth: int) -> None:
        if depth > MAX_PAYLOAD_DEPTH:
            raise exceptions.ValidationError({field: ["is nested too deeply"]})
        if isinstance(value, str):
            if "\x00" in value:
                raise exceptions.ValidationError({field: ["must not contain NUL characters"]})
        elif isinstance(value, bool) or value is None:
            return
        elif isinstance(value, int | float):
            if abs(value) > MAX_PAYLOAD_NUMBER or (isinstance(value, float) and not math.isfinite(value)):
                raise exceptions.ValidationError(
                    {
                        field: [
                            f"{field} is not a plausible number (allowed: at most {MAX_PAYLOAD_NUMBER:.0e})"
                        ]
                    }
                )
        elif isinstance(value, dict):
            for key, item in value.items():
                if "\x00" in str(key):
                    raise exceptions.ValidationError({field: ["field names must not contain NUL characters"]})
                walk(item, field, depth + 1)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item, field, depth + 1)

    for key, value in payload.items():
        name = str(key)
        if "\x00" in name:
            raise exceptions.ValidationError({"payload": ["field names must not contain NUL characters"]})
        walk(value, name, 1)


def int_query_param(request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise exceptions.ValidationError({name: ["Must be a whole number."]}) from None
    if not 1 <= value <= MAX_ID:
        raise exceptions.ValidationError({name: [f"Must be between 1 and {MAX_ID}."]})
    return value


def choice_query_param(request, name: str, choices) -> str | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    allowed = [value for value, _ in choices]
    if raw not in allowed:
        raise exceptions.ValidationError({name: [f"Must be one of: {', '.join(allowed)}."]})
    return raw
