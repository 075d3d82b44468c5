"""``{% may "capability" as name %}``: whether the signed-in user holds a capability in any of their
teams (the permission matrix, ``accounts.permissions.can``), to show a link only to those it serves;
``{{ time|team_time:zone }}``: a time in a given care team's zone."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django import template

from accounts.permissions import can

register = template.Library()


@register.simple_tag(takes_context=True)
def may(context, capability: str) -> bool:
    request = context.get("request")
    return request is not None and can(request.user, capability)


@register.filter
def team_time(value: datetime | None, zone_name: str) -> str:
    """Day and time in a care team's zone, with the zone's abbreviation ("02 Dec 14:05 CET"); for
    lists that mix teams, where no one zone is active."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(zone_name or "UTC")).strftime("%d %b %Y %H:%M %Z")
