"""What people do with an alert: acknowledge, add a note, resolve; reading in-app notifications."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.permissions import require
from carttrack import wording

from ..models import (
    Alert,
    AlertStatus,
    Channel,
    EventKind,
    Notification,
    StepKind,
)
from ..policy import PolicySnapshot
from .common import add_step, at_or_now, cancel_pending, record_event, resolve_alert


def _locked_active(alert: Alert) -> Alert:
    return Alert.objects.select_for_update().get(pk=alert.pk)


def alert_acknowledge(*, alert: Alert, user, note: str = "", now: datetime | None = None) -> Alert:
    """Acknowledge: pending pages are cancelled in the same transaction; a reminder is scheduled."""
    require(user, "alert.acknowledge", alert.care_team_id)
    at = at_or_now(now)
    with transaction.atomic(durable=True):
        locked = _locked_active(alert)
        if locked.status == AlertStatus.RESOLVED:
            raise ValidationError("This alert is already resolved.")
        if locked.status == AlertStatus.OPEN:
            locked.status = AlertStatus.ACKNOWLEDGED
            locked.acknowledged_at = at
            locked.acknowledged_by = user
            if note.strip():
                locked.last_action_at = at
            locked.save(
                update_fields=["status", "acknowledged_at", "acknowledged_by", "last_action_at", "updated_at"]
            )
            cancelled = cancel_pending(
                locked,
                reason=f"acknowledged by {wording.person(user)}",
                kinds=[StepKind.PAGE, StepKind.FINAL],
            )
            record_event(
                locked, EventKind.ACKNOWLEDGED, f"{cancelled} pending step(s) cancelled", user=user, at=at
            )
            reminder = PolicySnapshot.from_json(locked.policy_snapshot).reminder_minutes
            add_step(locked, kind=StepKind.REMINDER, due_at=at + timedelta(minutes=reminder))
            Notification.objects.filter(
                alert=locked, recipient=user, channel=Channel.INAPP, read_at__isnull=True
            ).update(read_at=at)
        if note.strip():
            record_event(locked, EventKind.NOTE, note.strip(), user=user, at=at)
    return locked


def alert_add_note(*, alert: Alert, user, text: str, now: datetime | None = None) -> Alert:
    """A note (what was done or ordered) goes on the alert's timeline; it does not stop the reminder and
    re-escalation chain (only acknowledging, resolving or a recorded medication order do)."""
    require(user, "alert.acknowledge", alert.care_team_id)
    if not text.strip():
        raise ValidationError({"text": ["Write what was done or decided."]})
    at = at_or_now(now)
    with transaction.atomic(durable=True):
        locked = _locked_active(alert)
        locked.last_action_at = at
        locked.save(update_fields=["last_action_at", "updated_at"])
        record_event(locked, EventKind.NOTE, text.strip(), user=user, at=at)
    return locked


def alert_resolve(*, alert: Alert, user, note: str, now: datetime | None = None) -> Alert:
    require(user, "alert.resolve", alert.care_team_id)
    if not (note or "").strip():
        raise ValidationError({"note": ["Say why the alert is resolved."]})
    at = at_or_now(now)
    with transaction.atomic(durable=True):
        locked = _locked_active(alert)
        if locked.status == AlertStatus.RESOLVED:
            return locked
        if locked.acknowledged_at is None:
            locked.acknowledged_at = at
            locked.acknowledged_by = user
        locked.last_action_at = at
        resolve_alert(
            locked,
            at=at,
            by=user,
            text=lambda cancelled: f"{note.strip()} ({cancelled} pending step(s) cancelled)",
            steps_outcome=f"resolved by {wording.person(user)}",
        )
    return locked


def notifications_mark_read(
    *, user, alert_ids: Iterable[int] | None = None, now: datetime | None = None
) -> int:
    qs = Notification.objects.filter(recipient=user, channel=Channel.INAPP, read_at__isnull=True)
    if alert_ids is not None:
        qs = qs.filter(alert_id__in=list(alert_ids))
    return qs.update(read_at=at_or_now(now))
