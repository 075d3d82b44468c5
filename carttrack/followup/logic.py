"""Three-valued answers and comparisons at a threshold, shared by the follow-up rules.

A definition (DORIS, LLDAS, drug-free remission, a renal response) is True when every criterion is
met, False when one fails on assessed data, and None ("not decided") when the answer depends on
something not assessed (DORIS-4): Kleene's strong three-valued logic.

Comparisons at a published edge tolerate binary floating-point noise only (0.85 × 80 is 68, 0.3 / 1.5
is 20 %): a value within FLOAT_EPS of the edge is at the edge.
"""

from __future__ import annotations

from collections.abc import Iterable

Tri = bool | None
FLOAT_EPS = 1e-9  # relative; removes float noise only, never a clinical rounding


def all_of(values: Iterable[Tri]) -> Tri:
    """Kleene AND: False if any is False, else None if any is None, else True."""
    undecided = False
    for v in values:
        if v is False:
            return False
        if v is None:
            undecided = True
    return None if undecided else True


def any_of(values: Iterable[Tri]) -> Tri:
    """Kleene OR: True if any is True, else None if any is None, else False."""
    undecided = False
    for v in values:
        if v is True:
            return True
        if v is None:
            undecided = True
    return None if undecided else False


def negate(value: Tri) -> Tri:
    return None if value is None else not value


def _slack(limit: float) -> float:
    return FLOAT_EPS * max(1.0, abs(limit))


def at_least(value: float, limit: float) -> bool:
    return value >= limit - _slack(limit)


def at_most(value: float, limit: float) -> bool:
    return value <= limit + _slack(limit)


def above(value: float, limit: float) -> bool:
    return value > limit + _slack(limit)


def below(value: float, limit: float) -> bool:
    return value < limit - _slack(limit)


def mark(value: Tri) -> str:
    """How a criterion's answer is written in a driver."""
    return "met" if value is True else "not met" if value is False else "not decided"
