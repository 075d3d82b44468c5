"""Alerting outages: what is late right now, the outage record, and ``/health/escalations``.

Alerting is *delayed* while any of these holds (``ALERT_DELAY_SECONDS``, 60 s; docs/escalation.md):

- a pending escalation step of an active alert is overdue by more than ``ALERT_DELAY_SECONDS``;
- a step has been ``sending`` for more than ``ALERT_STEP_STUCK_SECONDS`` (a killed worker);
- a committed grade evaluation has waited more than ``ALERT_DELAY_SECONDS`` for its alert processing
  (``monitoring.handoff.grade_committed`` queued it; the worker sets ``alerts_processed_at``).

Detection needs no worker: the web process runs it for the health check (load balancer, uptime
monitor) and for the clinicians' banner poll (``alerts.status_banner``), and records the outage
(:func:`observe`).  The auditor (in the worker) also observes before it repairs, and when it has
repaired everything it ends the outage (:func:`end_if_recovered`) and the caller raises the alarm.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Min
from django.utils import timezone

from monitoring.models import GradeEvaluation

from .models import (
    ACTIVE_STATUSES,
    AlertingOutage,
    AuditorHeartbeat,
    EscalationStep,
    OperationsAlarm,
    StepStatus,
)

#: The three ways alerting can be late, as named in the health body and the alarm.
OVERDUE_STEPS = "overdue_steps"
STUCK_STEPS = "stuck_steps"
WAITING_GRADES = "waiting_grades"
LABELS = {
    OVERDUE_STEPS: "escalation step(s) overdue",
    STUCK_STEPS: "escalation step(s) stuck in sending",
    WAITING_GRADES: "grade(s) waiting for alert processing",
}


@dataclass(frozen=True)
class Late:
    """``count`` items of one kind are late; the oldest has been due since ``since``."""

    what: str
    count: int
    since: datetime
    late_by_s: float

    def as_json(self) -> dict:
        return {
            "what": self.what,
            "description": LABELS[self.what],
            "count": self.count,
            "since": self.since.isoformat(),
            "late_by_s": round(self.late_by_s, 1),
        }


def late_items(*, now: datetime | None = None) -> list[Late]:
    """What is late at ``now`` (three aggregate queries on indexed columns; no patient data)."""
    at = now or timezone.now()
    delay = timedelta(seconds=settings.ALERT_DELAY_SECONDS)
    queries = [
        (
            OVERDUE_STEPS,
            EscalationStep.objects.filter(
                status=StepStatus.PENDING, due_at__lt=at - delay, alert__status__in=ACTIVE_STATUSES
            ),
            "due_at",
            delay,
        ),
        (
            STUCK_STEPS,
            EscalationStep.objects.filter(
                status=StepStatus.SENDING,
                claimed_at__lt=at - timedelta(seconds=settings.ALERT_STEP_STUCK_SECONDS),
            ),
            "claimed_at",
            timedelta(0),
        ),
        (
            WAITING_GRADES,
            GradeEvaluation.objects.filter(
                alerts_processed_at__isnull=True,
                evaluated_at__lt=at - delay,
                evaluated_at__gte=at - timedelta(hours=settings.ALERT_EVALUATION_SWEEP_HOURS),
            ),
            "evaluated_at",
            delay,
        ),
    ]
    found = []
    for what, qs, column, allowed in queries:
        row = qs.aggregate(n=Count("pk"), oldest=Min(column))
        if row["n"]:
            late_by = (at - row["oldest"] - allowed).total_seconds()
            found.append(Late(what=what, count=row["n"], since=row["oldest"], late_by_s=late_by))
    return found


def _worst(previous: dict, late: list[Late]) -> dict:
    worst = dict(previous)
    for item in late:
        old = worst.get(item.what, {})
        worst[item.what] = {
            "count": max(item.count, old.get("count", 0)),
            "late_by_s": round(max(item.late_by_s, old.get("late_by_s", 0.0)), 1),
        }
    return worst


def observe(*, now: datetime | None = None, late: list[Late] | None = None) -> AlertingOutage | None:
    """Record what is late: open the outage if none is open, keep its worst figures.  Returns the open
    outage, or None when nothing is late (an open outage is ended only by the auditor)."""
    at = now or timezone.now()
    late = late_items(now=at) if late is None else late
    if not late:
        return None
    started = min(item.since for item in late)
    outage = AlertingOutage.objects.filter(ended_at__isnull=True).first()
    if outage is None:
        try:
            with transaction.atomic():
                return AlertingOutage.objects.create(
                    started_at=started, detected_at=at, worst=_worst({}, late)
                )
        except IntegrityError:  # opened at the same moment by another process
            outage = AlertingOutage.objects.get(ended_at__isnull=True)
    worst = _worst(outage.worst, late)
    if worst != outage.worst or started < outage.started_at:
        AlertingOutage.objects.filter(pk=outage.pk).update(
            worst=worst, started_at=min(started, outage.started_at)
        )
    return outage


def end_if_recovered(*, now: datetime | None = None) -> AlertingOutage | None:
    """Called by the auditor after its repairs: if nothing is late any more, end the open outage and
    return it (the caller raises the alarm with :func:`summary`)."""
    at = now or timezone.now()
    if late_items(now=at):
        return None
    with transaction.atomic():
        outage = AlertingOutage.objects.select_for_update().filter(ended_at__isnull=True).first()
        if outage is None:
            return None
        outage.ended_at = at
        outage.open_marker = None
        outage.save(update_fields=["ended_at", "open_marker"])
    return outage


def duration_text(seconds: float) -> str:
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def summary(outage: AlertingOutage, *, rekicked: int) -> str:
    """The alarm text: how long alerting was delayed, what was late at worst, what was re-kicked."""
    length = (outage.ended_at - outage.started_at).total_seconds()
    worst = "; ".join(
        f"{v['count']} {LABELS[k]} (up to {duration_text(v['late_by_s'])} late)"
        for k, v in sorted(outage.worst.items())
    )
    return (
        f"Alerting was delayed for {duration_text(length)} "
        f"({outage.started_at:%H:%M:%S} to {outage.ended_at:%H:%M:%S} UTC). At worst: {worst}. "
        f"The auditor re-sent {rekicked} step(s)."
    )[:300]


def health(*, now: datetime | None = None) -> tuple[bool, dict]:
    """``/health/escalations``: 503 when the auditor has not run recently or alerting is delayed; the
    body names what is late and by how much (no patient data)."""
    at = now or timezone.now()
    late = late_items(now=at)
    observe(now=at, late=late)
    beat = AuditorHeartbeat.objects.filter(pk=1).first()
    max_age = settings.ALERT_HEARTBEAT_MAX_AGE_SECONDS
    body: dict = {"max_age_s": max_age, "delay_limit_s": settings.ALERT_DELAY_SECONDS}
    reasons = []
    if beat is None:
        reasons.append("the escalation auditor has never run")
    else:
        age = (at - beat.last_run_at).total_seconds()
        body.update(auditor_last_run=beat.last_run_at.isoformat(), auditor_age_s=round(age, 1))
        if age > max_age:
            reasons.append(f"the escalation auditor has not run for {int(age)} s")
    if late:
        reasons.append(
            "alerting is delayed: "
            + "; ".join(f"{i.count} {LABELS[i.what]}, up to {int(i.late_by_s)} s late" for i in late)
        )
    body["late"] = [item.as_json() for item in late]
    body["overdue_steps"] = next((i.count for i in late if i.what == OVERDUE_STEPS), 0)
    body["open_alarms"] = OperationsAlarm.objects.filter(cleared_at__isnull=True).count()
    body["status"] = "fail" if reasons else "ok"
    if reasons:
        body["reason"] = "; ".join(reasons)
    return not reasons, body
