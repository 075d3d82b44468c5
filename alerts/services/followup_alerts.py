"""Follow-up alerts (ALERT-13), raised by the followup app through the same escalation chain."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from accounts.models import Role

from ..models import PAGE_CHANNELS, ROUTINE_CHANNELS, Alert, Target, Urgency
from ..policy import PolicySnapshot, PolicyStep, single_step_policy
from .checks import close_overdue_alert
from .common import at_or_now
from .dispatch import dispatch_due_steps
from .raising import open_unless_active

#: Pages to the recipients' role, then the leads. An urgent follow-up alert repeats once and pages by
#: SMS too; a routine one goes to the inbox and by e-mail, once.
FOLLOWUP_WAIT_MINUTES = {Urgency.URGENT: 15, Urgency.ROUTINE: 60}


def followup_policy_snapshot(*, role: str, urgency: str) -> PolicySnapshot:
    urgent = urgency == Urgency.URGENT
    wait = FOLLOWUP_WAIT_MINUTES.get(urgency, FOLLOWUP_WAIT_MINUTES[Urgency.ROUTINE])
    return single_step_policy(
        name=f"Follow-up: {Role(role).label.lower()}s of the team",
        step=PolicyStep(
            target=Target.ROLE,
            role=role,
            channels=PAGE_CHANNELS if urgent else ROUTINE_CHANNELS,
            wait_minutes=wait,
        ),
        repeat_count=1 if urgent else 0,
        final_wait_minutes=wait,
    )


def alert_raise_followup(
    *,
    infusion_id: int,
    syndrome: str,
    urgency: str,
    role: str,
    summary: str,
    drivers: list,
    due_at: datetime | None = None,
    now: datetime | None = None,
) -> Alert | None:
    """Open a follow-up alert for the course to everyone with ``role`` in its care team (then the
    leads), or None when one of this syndrome is already active for the course. Runs in the caller's
    transaction (or its own); the first step is dispatched after commit."""
    at = at_or_now(now)
    alert = open_unless_active(
        infusion_id=infusion_id,
        syndrome=syndrome,
        urgency=urgency,
        snapshot=followup_policy_snapshot(role=role, urgency=urgency),
        now=at,
        due_at=due_at,
        summary=summary[:200],
        drivers=drivers,
    )
    if alert is not None:
        transaction.on_commit(lambda: dispatch_due_steps(alert_ids=[alert.pk], now=now), robust=True)
    return alert


def alert_close_followup(*, alert_id: int, reason: str, now: datetime | None = None) -> None:
    """Resolve a follow-up alert whose cause went away (an overdue visit documented since)."""
    alert = Alert.objects.filter(pk=alert_id).first()
    if alert is not None and alert.is_active:
        close_overdue_alert(alert, at=at_or_now(now), reason=reason)
