"""The order a ward reads its patients in (issue 13 item 5): highest current grade first, then the
most open alerts, then the most overdue checks, then by name.  One key for "My patients" and the census."""

from __future__ import annotations


def risk_order(
    *, top_grade: int | None, open_alerts: int, overdue_checks: int, name: str
) -> tuple[int, int, int, str]:
    """Sort key (ascending sort puts the patient at highest risk first); an ungraded patient counts as 0."""
    return (-(top_grade or 0), -open_alerts, -overdue_checks, name.lower())
