"""Who is on call: rotations with wall-clock handovers, overrides and swaps (time-zone aware)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from .models import OnCallOverride, OnCallSchedule, Slot


def oncall_user_id(schedule: OnCallSchedule, at: datetime | None = None) -> int | None:
    """The user on call for ``schedule`` at ``at``: the newest covering override, else the rotation."""
    at = at or timezone.now()
    override = (
        OnCallOverride.objects.filter(schedule=schedule, starts_at__lte=at, ends_at__gt=at)
        .order_by("-created_at", "-id")
        .values_list("user_id", flat=True)
        .first()
    )
    if override:
        return override
    member_ids = list(schedule.members.order_by("position", "id").values_list("user_id", flat=True))
    return schedule.rotation_user_id(schedule.shift_index_at(at), member_ids)


def oncall_for_team(team_id: int, slot: str = Slot.PRIMARY, at: datetime | None = None) -> int | None:
    schedule = OnCallSchedule.objects.select_related("team").filter(team_id=team_id, slot=slot).first()
    if schedule is None:
        return None
    return oncall_user_id(schedule, at)
