"""Reads of the alerts app, always scoped to the user (another team's alert is simply not found)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.models import CareTeam, User
from accounts.permissions import team_ids_with
from monitoring.models import Infusion

from .models import (
    ACTIVE_STATUSES,
    URGENCY_RANK,
    Alert,
    AlertEvent,
    Channel,
    CheckTask,
    CheckTaskStatus,
    EscalationStep,
    Notification,
    OnCallSchedule,
    OperationsAlarm,
    Slot,
    StepStatus,
)
from .oncall import oncall_user_id


def alerts_visible_to(user) -> QuerySet[Alert]:
    """Every alert of the user's care teams (the one scoping method for alerts)."""
    return Alert.objects.visible_to(user)


def inbox_alerts(user) -> list[Alert]:
    """Open and acknowledged alerts of the user's teams, most urgent and oldest first."""
    qs = (
        alerts_visible_to(user)
        .filter(status__in=ACTIVE_STATUSES)
        .select_related("patient", "infusion__product", "care_team", "acknowledged_by")
        .annotate(
            unread=Count(
                "notifications",
                filter=Q(
                    notifications__recipient=user,
                    notifications__channel=Channel.INAPP,
                    notifications__read_at__isnull=True,
                ),
            )
        )
    )
    return sorted(qs, key=lambda a: (a.status != "open", -URGENCY_RANK.get(a.urgency, 0), a.opened_at))


def alert_detail(user, alert_id: int, patient_id: int | None = None) -> Alert:
    qs = alerts_visible_to(user).select_related(
        "patient",
        "infusion__product",
        "care_team",
        "acknowledged_by",
        "resolved_by",
        "evaluation__decision_policy",
    )
    if patient_id is not None:
        qs = qs.filter(patient_id=patient_id)
    return qs.prefetch_related(
        Prefetch("events", queryset=AlertEvent.objects.select_related("user").order_by("at", "id")),
        Prefetch("steps", queryset=EscalationStep.objects.order_by("generation", "sequence")),
        Prefetch(
            "notifications", queryset=Notification.objects.select_related("recipient").order_by("created_at")
        ),
    ).get(pk=alert_id)


def pending_steps(alert: Alert) -> list[EscalationStep]:
    return [s for s in alert.steps.all() if s.status in (StepStatus.PENDING, StepStatus.SENDING)]


def open_check_tasks(user) -> QuerySet[CheckTask]:
    return (
        CheckTask.objects.filter(status=CheckTaskStatus.OPEN, care_team_id__in=user.team_ids())
        .select_related("infusion__patient", "alert")
        .order_by("due_at")
    )


def check_task_for(user, task_id: int) -> CheckTask | None:
    """A nurse task of one of the user's teams, on an infusion the user may see (else None)."""
    visible = Infusion.objects.visible_to(user).values("pk")
    return (
        CheckTask.objects.filter(pk=task_id, care_team_id__in=user.team_ids(), infusion_id__in=visible)
        .select_related("infusion")
        .first()
    )


def unread_count(user) -> int:
    return Notification.objects.filter(recipient=user, channel=Channel.INAPP, read_at__isnull=True).count()


def oncall_overview(user, *, now: datetime | None = None, shifts_ahead: int = 7) -> list[dict]:
    """Per team of the user: who is on call now (primary, backup) and the next shifts."""
    now = now or timezone.now()
    teams = CareTeam.objects.filter(pk__in=user.team_ids()).order_by("name")
    schedules = {
        (s.team_id, s.slot): s
        for s in OnCallSchedule.objects.filter(team__in=teams)
        .select_related("team")
        .prefetch_related("members__user", "overrides__user")
    }
    manage = set(team_ids_with(user, "schedule.manage"))
    users = {}
    out = []
    for team in teams:
        row = {"team": team, "slots": [], "can_manage": team.pk in manage}
        for slot in (Slot.PRIMARY, Slot.BACKUP):
            schedule = schedules.get((team.pk, slot))
            entry = {
                "slot": slot,
                "label": Slot(slot).label,
                "schedule": schedule,
                "now": None,
                "upcoming": [],
                "overrides": [],
            }
            if schedule is not None:
                uid = oncall_user_id(schedule, now)
                entry["now"] = _user(users, uid)
                index = schedule.shift_index_at(now)
                start_index = 0 if index is None else index
                for i in range(start_index, start_index + shifts_ahead):
                    start, end = schedule.shift_bounds(i)
                    entry["upcoming"].append(
                        {
                            "index": i,
                            "start": start,
                            "end": end,
                            "user": _user(users, oncall_user_id(schedule, start)),
                        }
                    )
                entry["overrides"] = [o for o in schedule.overrides.all() if o.ends_at > now]
                entry["members"] = [m.user for m in schedule.members.all()]
            row["slots"].append(entry)
        row["gap"] = row["slots"][0]["now"] is None
        out.append(row)
    return out


def _user(cache: dict, uid: int | None) -> User | None:
    if uid is None:
        return None
    if uid not in cache:
        cache[uid] = User.objects.filter(pk=uid).first()
    return cache[uid]


def open_alarms(user) -> QuerySet[OperationsAlarm]:
    teams = team_ids_with(user, "schedule.manage")
    return OperationsAlarm.objects.filter(Q(team_id__in=teams) | Q(team__isnull=True)).order_by(
        "cleared_at", "-last_seen_at"
    )


def recent_alarms(user, *, days: int = 7) -> QuerySet[OperationsAlarm]:
    since = timezone.now() - timedelta(days=days)
    return open_alarms(user).filter(Q(cleared_at__isnull=True) | Q(cleared_at__gte=since))[:200]
