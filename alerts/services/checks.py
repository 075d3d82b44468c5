"""Overdue bedside checks end to end: nurse tasks, charge-nurse alerts after the grace period, and a
nurse's reason for a missed check."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.permissions import require
from carttrack import wording
from monitoring.models import CheckType, Infusion, InfusionStatus, MissedCheck
from monitoring.schedules import checks_for_infusions

from ..models import (
    ACTIVE_STATUSES,
    OVERDUE_SYNDROMES,
    SMS_NOW,
    Alert,
    CheckTask,
    CheckTaskStatus,
    Syndrome,
    Target,
    Urgency,
)
from ..policy import PolicyStep, single_step_policy
from .common import at_or_now, resolve_alert
from .dispatch import dispatch_due_steps
from .raising import open_unless_active

#: Two due times this close apart name the same due check (the tablet posts the time it showed).
SAME_DUE_CHECK = timedelta(minutes=1)


def overdue_checks_scan(*, now: datetime | None = None) -> dict:
    """Overdue assessments (MON-4, MON-6, MON-8, MON-14) become nurse tasks; after the template's grace
    period an alert to the charge nurse. A recorded reason (MissedCheck) or a done check closes the task."""
    at = at_or_now(now)
    infusion_ids = list(Infusion.objects.filter(status=InfusionStatus.ACTIVE).values_list("id", flat=True))
    statuses = checks_for_infusions(infusion_ids, now=at)
    infusions = {
        i.pk: i
        for i in Infusion.objects.filter(pk__in=infusion_ids).select_related(
            "product__monitoring_template", "care_team"
        )
    }
    overdue_now: set[tuple[int, str]] = set()
    opened = tasks = 0
    for infusion_id, checks in statuses.items():
        infusion = infusions[infusion_id]
        grace = timedelta(minutes=infusion.product.monitoring_template.overdue_grace_minutes)
        for check in checks:
            if not check.is_overdue or check.next_due is None:
                continue
            overdue_now.add((infusion_id, check.check_type))
            task, created = CheckTask.objects.get_or_create(
                infusion_id=infusion_id,
                check_type=check.check_type,
                due_at=check.next_due,
                defaults={"care_team_id": infusion.care_team_id},
            )
            tasks += int(created)
            if check.missed_reason:
                if task.status == CheckTaskStatus.OPEN:
                    CheckTask.objects.filter(pk=task.pk).update(
                        status=CheckTaskStatus.REASON_RECORDED, closed_at=at
                    )
                continue
            if task.status == CheckTaskStatus.OPEN and task.alert_id is None and check.overdue_by >= grace:
                alert = _open_overdue_alert(
                    infusion=infusion,
                    check_type=check.check_type,
                    due_at=check.next_due,
                    now=at,
                )
                if alert is not None:
                    CheckTask.objects.filter(pk=task.pk).update(alert=alert)
                    opened += 1
    # Checks done since (or with a reason recorded) close their tasks and overdue alerts.
    for task in CheckTask.objects.filter(status=CheckTaskStatus.OPEN).select_related("alert"):
        if (task.infusion_id, task.check_type) in overdue_now and task.infusion_id in statuses:
            still = next((c for c in statuses[task.infusion_id] if c.check_type == task.check_type), None)
            if still is not None and still.next_due == task.due_at:
                continue
        reason = MissedCheck.objects.filter(
            infusion_id=task.infusion_id,
            check_type=task.check_type,
            due_at__gte=task.due_at - timedelta(minutes=1),
        ).exists()
        CheckTask.objects.filter(pk=task.pk, status=CheckTaskStatus.OPEN).update(
            status=CheckTaskStatus.REASON_RECORDED if reason else CheckTaskStatus.DONE, closed_at=at
        )
        if task.alert_id and task.alert.is_active:
            close_overdue_alert(task.alert, at=at, reason="reason recorded" if reason else "check done")
    if opened:
        dispatch_due_steps(now=now)
    return {"tasks_created": tasks, "alerts_opened": opened}


def _open_overdue_alert(
    *, infusion: Infusion, check_type: str, due_at: datetime, now: datetime
) -> Alert | None:
    syndrome = OVERDUE_SYNDROMES[check_type]
    snapshot = single_step_policy(
        name="Overdue check: charge nurse",
        step=PolicyStep(target=Target.CHARGE_NURSE, channels=SMS_NOW, wait_minutes=15),
        repeat_count=1,
        final_wait_minutes=15,
    )
    return open_unless_active(
        infusion_id=infusion.pk,
        syndrome=syndrome,
        urgency=Urgency.URGENT,
        snapshot=snapshot,
        now=now,
        due_at=due_at,
        # In the care team's zone, with the day (a check can be days overdue), and the delay in words
        # ("due 2 Dec 14:05 CET, overdue by 2 h 10 min"): the alert's title on screens and in SMS/pager text.
        summary=(
            f"{Syndrome(syndrome).label}: due {wording.moment(due_at, infusion.care_team.time_zone)}, "
            f"{wording.overdue_by(now - due_at)}"
        ),
    )


def close_overdue_alert(alert: Alert, *, at: datetime, reason: str) -> None:
    with transaction.atomic():
        locked = Alert.objects.select_for_update().get(pk=alert.pk)
        if locked.status not in ACTIVE_STATUSES:
            return
        resolve_alert(locked, at=at, text=lambda _n: f"Closed automatically: {reason}", steps_outcome=reason)


def missed_check_record(
    *, infusion: Infusion, check_type: str, due_at: datetime, reason: str, user, now: datetime | None = None
) -> MissedCheck:
    """A nurse records why a due check was not done; the task closes and any overdue alert resolves."""
    require(user, "check.record_missed", infusion.care_team_id)
    if check_type not in CheckType.values:
        raise ValidationError(
            {"check_type": [f"{check_type!r} is not one of: {', '.join(CheckType.values)}"]}
        )
    if not reason.strip():
        raise ValidationError({"reason": ["Say why the check was not done."]})
    at = at_or_now(now)
    with transaction.atomic(durable=True):
        # The infusion row serialises two nurses recording the same check (two tablets, the inbox).
        locked = Infusion.objects.select_for_update().select_related("care_team").get(pk=infusion.pk)
        _refuse_unless_open(locked, check_type=check_type, due_at=due_at)
        missed = MissedCheck.objects.create(
            infusion=infusion,
            check_type=check_type,
            due_at=due_at,
            reason=reason.strip()[:300],
            recorded_by=user,
            recorded_at=at,
        )
        for task in CheckTask.objects.select_for_update().filter(
            infusion=infusion, check_type=check_type, status=CheckTaskStatus.OPEN
        ):
            CheckTask.objects.filter(pk=task.pk).update(status=CheckTaskStatus.REASON_RECORDED, closed_at=at)
            if task.alert_id:
                alert = Alert.objects.select_for_update().get(pk=task.alert_id)
                if alert.is_active:
                    resolve_alert(
                        alert,
                        at=at,
                        by=user,
                        text=lambda _n: f"Reason recorded: {reason.strip()}",
                        steps_outcome="reason for missed check recorded",
                    )
    return missed


def _refuse_unless_open(infusion: Infusion, *, check_type: str, due_at: datetime) -> None:
    """A reason is recorded once per due check, and only while the infusion is monitored: a second
    nurse (or a stale page) learns who recorded it, when and why, and nothing is stored twice."""
    zone = infusion.care_team.time_zone
    label = CheckType(check_type).label
    if infusion.status != InfusionStatus.ACTIVE:
        raise ValidationError(
            {"check_type": [f"{label}: monitoring of this infusion is closed, so no check is due."]}
        )
    earlier = (
        MissedCheck.objects.filter(
            infusion=infusion,
            check_type=check_type,
            due_at__range=(due_at - SAME_DUE_CHECK, due_at + SAME_DUE_CHECK),
        )
        .select_related("recorded_by")
        .first()
    )
    if earlier is not None:
        raise ValidationError(
            {
                "due_at": [
                    f"{label} due {wording.clock(earlier.due_at, zone)}: {earlier.recorded_by} already "
                    f"recorded why it was not done at {wording.clock(earlier.recorded_at, zone)} "
                    f"(“{earlier.reason}”). Nothing new was recorded."
                ]
            }
        )


def check_task_record_missed(
    *, task: CheckTask, reason: str, user, now: datetime | None = None
) -> MissedCheck:
    """The inbox's "not done because …" on a nurse task: the reason is kept with the task's check."""
    return missed_check_record(
        infusion=task.infusion,
        check_type=task.check_type,
        due_at=task.due_at,
        reason=reason,
        user=user,
        now=now,
    )
