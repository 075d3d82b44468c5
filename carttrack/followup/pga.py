"""Physician global assessment (PGA-1) [Petri PGA]: 0–3, two decimals, anchors
0 none, 1 mild, 2 moderate, 3 severe; assessed before the serology results are known."""

from __future__ import annotations

PGA_MIN = 0.0
PGA_MAX = 3.0
PGA_DECIMALS = 2
PGA_DECIMAL_SLACK = 1e-6  # 0.49 is 48.99999… hundredths in binary: only float noise is forgiven
PGA_ANCHORS: tuple[tuple[float, str], ...] = (
    (0.0, "none"),
    (1.0, "mild"),
    (2.0, "moderate"),
    (3.0, "severe"),
)


def has_at_most_two_decimals(value: float) -> bool:
    scaled = value * 10.0**PGA_DECIMALS
    return abs(scaled - round(scaled)) < PGA_DECIMAL_SLACK


def nearest_anchor(value: float) -> str:
    """The anchor a PGA is nearest to (for the slider's wording)."""
    return min(PGA_ANCHORS, key=lambda a: abs(a[0] - value))[1]
