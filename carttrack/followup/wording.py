"""How follow-up drivers write times and numbers (one wording for every rule).

Follow-up times are relative to this course's infusion; the screens show them with the date and the
team's time zone. A driver says "day 182.5" for t_hours 4380 (CASE-7: a year is 8 766 h).
"""

from __future__ import annotations

HOURS_PER_DAY = 24.0
HOURS_PER_YEAR = 8766.0  # CASE-7: a year is 8 766 h (365.25 days)
HOURS_PER_MONTH = HOURS_PER_YEAR / 12.0


def num(value: float) -> str:
    """A recorded number as written: 0.49, 5, 2.25 (up to 6 significant digits)."""
    return f"{value:g}"


DAY_DECIMALS = 1  # "day 287.9": a driver names the day, the screen shows the date and time


def day(t_hours: float) -> str:
    return f"day {round(t_hours / HOURS_PER_DAY, DAY_DECIMALS):g}"


def first_upper(text: str) -> str:
    """A label at the start of a line: "CVA" and "HBV, HCV and HIV screening" keep their capitals
    (``str.capitalize`` would write "Cva" and "Hbv, hcv and hiv screening")."""
    return text[:1].upper() + text[1:]
