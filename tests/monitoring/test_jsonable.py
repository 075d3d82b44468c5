"""``grading.jsonable``: what a stored grade's JSON is made of (no Django database needed)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from monitoring.grading import jsonable


class Grade(enum.IntEnum):
    TWO = 2


class Kind(enum.StrEnum):
    VITALS = "vitals"


class Flag(enum.Enum):
    ON = True


@dataclass(frozen=True)
class Inner:
    grade: Grade
    at: datetime


@dataclass(frozen=True)
class Outer:
    kind: Kind
    dose: Decimal
    items: tuple[Inner, ...]
    flag: Flag
    extra: dict


def test_enums_dataclasses_decimals_and_times_become_plain_json():
    at = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    value = Outer(Kind.VITALS, Decimal("648.0"), (Inner(Grade.TWO, at),), Flag.ON, {1: frozenset({3})})
    result = jsonable(value)
    assert result == {
        "kind": "vitals",
        "dose": 648.0,
        "items": [{"grade": 2, "at": "2026-12-01T08:30:00+00:00"}],
        "flag": True,
        "extra": {"1": [3]},
    }
    # Enum members are replaced by their plain values, not kept as int/str subclasses.
    assert type(result["kind"]) is str and type(result["items"][0]["grade"]) is int
    assert [jsonable(v) for v in ("x", 1, 1.5, True, None)] == ["x", 1, 1.5, True, None]
