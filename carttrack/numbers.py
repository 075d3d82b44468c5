"""How numbers appear in drivers and findings: with the precision that decided the comparison.

A MAP of 64.67 against a 65 mmHg threshold reads "MAP 64.7 < 65 mmHg", never "65 < 65"; a value
recorded as a whole number stays whole ("SBP 85 < 90 mmHg"). EVAL-6."""

from __future__ import annotations

MAX_DECIMALS = 6  # beyond this a difference is float noise, not a clinical value


def plain(value: float) -> str:
    """A recorded number as written: 85, 3.5, 0.25 (no trailing zeros, no exponent)."""
    text = f"{value:.{MAX_DECIMALS}f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def against(value: float, threshold: float) -> str:
    """``value`` rounded to one decimal (whole numbers stay whole), with more decimals only where the
    rounding would put it on the threshold or across it."""
    for d in range(0 if float(value).is_integer() else 1, MAX_DECIMALS + 1):
        rounded = round(value, d)
        if _same_side(rounded, value, threshold):
            return plain(rounded)
    return plain(value)


def _same_side(rounded: float, value: float, threshold: float) -> bool:
    if value == threshold:
        return rounded == threshold
    return rounded != threshold and (rounded < threshold) == (value < threshold)
