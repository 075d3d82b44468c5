"""The auditor (every minute): what the tick missed is repaired, alarms raised, the heartbeat
written; and the escalation health check that reads it."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from monitoring.models import GradeEvaluation, Infusion, InfusionStatus

from .. import outage
from ..models import (
    ACTIVE_STATUSES,
    AlarmKind,
    Alert,
    AlertStatus,
    AuditorHeartbeat,
    EscalationStep,
    OnCallSchedule,
    Slot,
    StepKind,
    StepStatus,
)
from ..oncall import oncall_for_team
from ..policy import PolicyStep
from .alarms import clear_alarms, raise_alarm
from .common import add_step, at_or_now
from .dispatch import dispatch_due_steps
from .raising import alert_process_evaluation


def run_auditor(*, now: datetime | None = None) -> dict:
    """Find what the tick missed, repair it, raise alarms, write the heartbeat."""
    at = at_or_now(now)
    outage.observe(now=at)  # an outage nobody saw from the web side is still recorded
    findings: dict[str, list] = {
        "unprocessed_evaluations": [],
        "overdue": [],
        "stuck": [],
        "idle_alerts": [],
        "oncall_gaps": [],
    }
    # A grade whose alert task never ran (message lost by the broker, worker gone before it
    # started) must still raise its alert: process it here, oldest first, and say so.
    unprocessed_before = at - timedelta(seconds=settings.ALERT_EVALUATION_GRACE_SECONDS)
    for evaluation_id in (
        GradeEvaluation.objects.filter(
            alerts_processed_at__isnull=True,
            evaluated_at__lt=unprocessed_before,
            evaluated_at__gte=at - timedelta(hours=settings.ALERT_EVALUATION_SWEEP_HOURS),
        )
        .order_by("evaluated_at", "id")
        .values_list("pk", flat=True)[:200]
    ):
        findings["unprocessed_evaluations"].append(evaluation_id)
        alert_process_evaluation(evaluation_id=evaluation_id, now=now)
    if findings["unprocessed_evaluations"]:
        raise_alarm(
            kind=AlarmKind.UNPROCESSED_EVALUATION,
            key=f"unprocessed_evaluations:{at:%Y%m%d%H%M}",
            message=f"{len(findings['unprocessed_evaluations'])} grade evaluation(s) had not reached the "
            "alert task (broker or worker trouble?); the auditor processed them",
            now=at,
        )
    overdue_after = timedelta(seconds=max(60, 3 * settings.ALERT_TICK_SECONDS))
    for step in EscalationStep.objects.filter(
        status=StepStatus.PENDING, due_at__lt=at - overdue_after, alert__status__in=ACTIVE_STATUSES
    ).select_related("alert")[:200]:
        findings["overdue"].append(step.pk)
        raise_alarm(
            kind=AlarmKind.OVERDUE_STEP,
            key=f"overdue_step:{step.pk}",
            team_id=step.alert.care_team_id,
            message=f"Alert #{step.alert_id} step {step.sequence + 1} was due at "
            f"{step.due_at:%H:%M:%S} UTC and not sent (scheduler tick not running?)",
            now=at,
        )
    stuck_before = at - timedelta(seconds=settings.ALERT_STEP_STUCK_SECONDS)
    for step in EscalationStep.objects.filter(
        status=StepStatus.SENDING, claimed_at__lt=stuck_before
    ).select_related("alert")[:200]:
        if EscalationStep.objects.filter(
            pk=step.pk, status=StepStatus.SENDING, claim_token=step.claim_token
        ).update(
            status=StepStatus.PENDING, claim_token=None, outcome="re-kicked by the auditor (stuck in sending)"
        ):
            findings["stuck"].append(step.pk)
            raise_alarm(
                kind=AlarmKind.STUCK_STEP,
                key=f"stuck_step:{step.pk}",
                team_id=step.alert.care_team_id,
                message=f"Alert #{step.alert_id} step {step.sequence + 1} was stuck in sending "
                "(worker lost?); re-sent",
                now=at,
            )
    for alert in Alert.objects.filter(status=AlertStatus.OPEN, escalation_stopped=False).exclude(
        steps__status__in=[StepStatus.PENDING, StepStatus.SENDING]
    )[:200]:
        findings["idle_alerts"].append(alert.pk)
        with transaction.atomic():
            locked = Alert.objects.select_for_update().get(pk=alert.pk)
            if (
                locked.status == AlertStatus.OPEN
                and not locked.steps.filter(status__in=[StepStatus.PENDING, StepStatus.SENDING]).exists()
            ):
                add_step(locked, kind=StepKind.FINAL, due_at=at, targets=[PolicyStep.leads().to_json()])
        raise_alarm(
            kind=AlarmKind.ALERT_WITHOUT_STEPS,
            key=f"alert_idle:{alert.pk}:{alert.generation}",
            team_id=alert.care_team_id,
            message=f"Open alert #{alert.pk} had no pending escalation step; the leads are paged",
            now=at,
        )
    gap_keys: set[str] = set()
    team_ids = set(
        Infusion.objects.filter(status=InfusionStatus.ACTIVE).values_list("care_team_id", flat=True)
    )
    team_ids |= set(OnCallSchedule.objects.values_list("team_id", flat=True))
    for team_id in sorted(team_ids):
        if oncall_for_team(team_id, Slot.PRIMARY, at) is None:
            key = f"oncall_gap:{team_id}:primary"
            gap_keys.add(key)
            findings["oncall_gaps"].append(team_id)
            raise_alarm(
                kind=AlarmKind.ONCALL_GAP,
                key=key,
                team_id=team_id,
                message="Nobody is on call (primary) for this care team right now",
                now=at,
            )
    clear_alarms("oncall_gap:", gap_keys, at)
    kicked = (
        dispatch_due_steps(now=now)
        if (findings["overdue"] or findings["stuck"] or findings["idle_alerts"])
        else 0
    )
    summary = {k: v[:50] for k, v in findings.items()}
    summary["kicked"] = kicked
    if (ended := outage.end_if_recovered(now=now)) is not None:  # the worker is back: say how long
        ended.alarm = raise_alarm(
            kind=AlarmKind.ALERTING_OUTAGE,
            key=f"alerting_outage:{ended.pk}",
            message=outage.summary(ended, rekicked=kicked),
            now=at,
        )
        ended.save(update_fields=["alarm"])
    AuditorHeartbeat.objects.update_or_create(
        pk=1, defaults={"last_run_at": timezone.now(), "findings": summary}
    )
    return summary


def escalation_health(*, now: datetime | None = None) -> tuple[bool, dict]:
    """``/health/escalations``: the auditor's heartbeat and what is late (``alerts.outage``)."""
    return outage.health(now=now)
