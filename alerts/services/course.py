"""An alert follows its course: a closed course or a recorded death closes its alerts (the follow-up
alerts of a course completed as planned go on)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from accounts.models import User
from monitoring.models import CloseReason, Infusion, InfusionStatus, Observation, ObservationKind

from ..models import (
    ACTIVE_STATUSES,
    FOLLOWUP_SYNDROMES,
    Alert,
    CheckTask,
    CheckTaskStatus,
    EventKind,
)
from .common import at_or_now, resolve_alert


@dataclass(frozen=True)
class CourseEnd:
    who: User | None
    why: str
    death: bool


def course_end(infusion: Infusion) -> CourseEnd | None:
    """(who, why) when the course has ended: a death recorded (who recorded it) or its monitoring
    closed (who: from the infusion's history); None while it goes on."""
    death = (
        Observation.objects.current()
        .filter(infusion=infusion, kind=ObservationKind.EVENT, payload__event="death")
        .select_related("recorded_by")
        .order_by("observed_at", "id")
        .first()
    )
    if death is not None:
        cause = death.payload.get("attributed_to")
        return CourseEnd(death.recorded_by, "death recorded" + (f" (cause: {cause})" if cause else ""), True)
    if infusion.status != InfusionStatus.ACTIVE:
        closing = infusion.history.filter(status=InfusionStatus.CLOSED).order_by("-history_date").first()
        who = closing.history_user if closing is not None else None
        return CourseEnd(who, f"monitoring closed ({infusion.get_close_reason_display() or 'closed'})", False)
    return None


def follow_up_goes_on(infusion: Infusion, alert_syndrome: str | None = None) -> bool:
    """A course whose acute monitoring closed as complete goes on into follow-up (VISIT-2): its
    follow-up alerts stay open and page; only a death ends them."""
    return infusion.close_reason == CloseReason.MONITORING_COMPLETE and (
        alert_syndrome is None or alert_syndrome in FOLLOWUP_SYNDROMES
    )


def close_with_course(infusion: Infusion, *, ended: CourseEnd, now: datetime) -> list[int]:
    """Stop every pending step of the course's active alerts and mark them closed with the course,
    with an event naming who and why (a course going on into follow-up keeps its follow-up alerts).
    Call inside a transaction holding the infusion's lock."""
    closed: list[int] = []
    who, why = ended.who, ended.why
    by = f" by {who}" if who is not None else ""
    alerts = Alert.objects.select_for_update().filter(infusion=infusion, status__in=ACTIVE_STATUSES)
    if not ended.death and follow_up_goes_on(infusion):
        alerts = alerts.exclude(syndrome__in=FOLLOWUP_SYNDROMES)
    for alert in alerts:
        resolve_alert(
            alert,
            at=now,
            by=who,
            text=lambda stopped: f"Closed with the course: {why}{by}; {stopped} pending step(s) stopped",
            steps_outcome="closed with the course",
            kind=EventKind.COURSE_CLOSED,
            supersede=True,
        )
        CheckTask.objects.filter(alert=alert, status=CheckTaskStatus.OPEN).update(
            status=CheckTaskStatus.DONE, closed_at=now
        )
        closed.append(alert.pk)
    return closed


def alerts_close_with_course(*, infusion_id: int, now: datetime | None = None) -> list[int]:
    """The course of ``infusion_id`` ended (monitoring closed, or a death recorded): close its alerts.
    Idempotent; monitoring calls it through ``monitoring.handoff.course_closed`` (alerts/handoff.py)."""
    at = at_or_now(now)
    with transaction.atomic(durable=True):  # after monitoring's commit (on_commit) or from a worker
        infusion = Infusion.objects.select_for_update().filter(pk=infusion_id).first()
        if infusion is None:
            return []
        ended = course_end(infusion)
        if ended is None:
            return []
        return close_with_course(infusion, ended=ended, now=at)
