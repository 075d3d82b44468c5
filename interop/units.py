"""UCUM unit conversion at import (FHIR-5), by a maintained UCUM library (``ucumvert``: a UCUM
grammar and a pint registry of its units), never by string matching.

A value already in one of the units its case-file field takes as written is passed on unchanged,
and the clinical core converts it with its own named factors (UNIT-1, UNIT-3, UNIT-4, UNIT-10); any
other unit is converted by the library into the first accepted unit of the same dimension."""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass

from ucumvert import PintUcumRegistry

#: Only binary floating-point noise of the conversion is removed, as for °F (A-1, UNIT-1).
NOISE_DIGITS = 9

_lock = threading.Lock()


class UnitNotConvertible(ValueError):
    """The unit is not UCUM, or it does not convert into any accepted unit."""


@functools.cache
def _registry() -> PintUcumRegistry:
    return PintUcumRegistry()


@functools.lru_cache(maxsize=512)
def _parsed(unit: str):
    with _lock:  # the UCUM parser is not documented as thread-safe
        return _registry().from_ucum(unit)


@dataclass(frozen=True)
class Converted:
    value: float
    unit: str  # the accepted unit the value is now in


def convert(value: float, unit: str, accepted: tuple[str, ...]) -> Converted:
    """``value`` in ``unit`` as one of the ``accepted`` UCUM units (as written if it is one)."""
    if unit in accepted:
        return Converted(value, unit)
    try:
        source = _parsed(unit)
    except Exception as exc:  # the library's parse errors: lark's and its own InvalidUcumError
        raise UnitNotConvertible(f"{unit!r} is not a UCUM unit") from exc
    for target_unit in accepted:
        try:
            quantity = _registry().Quantity(value * source.magnitude, source.units)
            result = quantity.to(_parsed(target_unit))
        except Exception:  # noqa: S112 - pint's DimensionalityError: try the next accepted unit
            continue
        return Converted(round(float(result.magnitude), NOISE_DIGITS), target_unit)
    raise UnitNotConvertible(f"{unit!r} does not convert to {' or '.join(accepted)}")
