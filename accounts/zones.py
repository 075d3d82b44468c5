"""The care team's zone for pages that are not about one team (census, inbox, lists): times a person
reads there are written in the zone of the team they work in, with its abbreviation ("14:05 CET").

A page about one team (a patient, an alert) renders in that team's zone instead
(``timezone.override(ZoneInfo(team.time_zone))``); a list across teams of different zones wraps each
team's rows in ``{% timezone %}``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from zoneinfo import ZoneInfo

from django.utils import timezone

from .models import CareTeam


def care_team_zone(user) -> ZoneInfo:
    """The zone of the user's care team (of the first by name if several; UTC without a team)."""
    if user is None or not user.is_authenticated:
        return ZoneInfo("UTC")
    zone = CareTeam.objects.filter(memberships__user=user).values_list("time_zone", flat=True).first()
    return ZoneInfo(zone or "UTC")


def in_care_team_zone(view: Callable) -> Callable:
    """A view decorator: the page is rendered in the signed-in person's care-team zone."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        with timezone.override(care_team_zone(request.user)):
            return view(request, *args, **kwargs)

    return wrapped
