"""Display helpers of the follow-up screens: times with their zone, three-valued answers in words."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def zoned(value: datetime | None) -> str:
    """A time in the care team's zone (the view sets it) with the zone shown: 2026-03-02 09:00 CET."""
    if value is None:
        return ""
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M %Z")


@register.filter
def zoned_date(value: datetime | None) -> str:
    if value is None:
        return ""
    return timezone.localtime(value).strftime("%Y-%m-%d %Z")


@register.filter
def tri(value: bool | None) -> str:
    """True / False / None (not decided: a value is missing) as the screen says them."""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return "not decided"


@register.filter
def days_to_months(hours: float | None) -> str:
    if hours is None:
        return ""
    return f"month {hours / 730.5:.1f}"
