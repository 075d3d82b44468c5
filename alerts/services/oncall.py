"""On-call management: overrides and swaps of a rotation."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User
from accounts.permissions import require

from ..models import OnCallOverride, OnCallSchedule
from ..oncall import oncall_user_id


def oncall_override_create(
    *, schedule: OnCallSchedule, user: User, starts_at: datetime, ends_at: datetime, by, reason: str = ""
) -> OnCallOverride:
    require(by, "schedule.manage", schedule.team_id)
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": ["The override must end after it starts."]})
    schedule.check_can_hold(user)
    with transaction.atomic(durable=True):
        return OnCallOverride.objects.create(
            schedule=schedule,
            user=user,
            starts_at=starts_at,
            ends_at=ends_at,
            reason=reason[:200],
            created_by=by,
        )


def oncall_swap(*, schedule: OnCallSchedule, shift_a: int, shift_b: int, by, reason: str = "") -> tuple:
    """Swap two shifts of a rotation: whoever holds shift A takes B and vice versa (two overrides)."""
    require(by, "schedule.manage", schedule.team_id)
    if shift_a == shift_b:
        raise ValidationError({"shift_b": ["Pick two different shifts."]})
    a_start, a_end = schedule.shift_bounds(shift_a)
    b_start, b_end = schedule.shift_bounds(shift_b)
    user_a = oncall_user_id(schedule, a_start)
    user_b = oncall_user_id(schedule, b_start)
    if user_a is None or user_b is None:
        raise ValidationError("Both shifts need someone on call to be swapped.")
    for uid in (user_a, user_b):  # a rotation member who lost the role is not swapped back in
        schedule.check_can_hold(User.objects.filter(pk=uid).first())
    text = (reason or "swap")[:200]
    with transaction.atomic(durable=True):
        first = OnCallOverride.objects.create(
            schedule=schedule, user_id=user_b, starts_at=a_start, ends_at=a_end, reason=text, created_by=by
        )
        second = OnCallOverride.objects.create(
            schedule=schedule, user_id=user_a, starts_at=b_start, ends_at=b_end, reason=text, created_by=by
        )
    return first, second
