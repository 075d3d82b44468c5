"""Demo set-up of alerting for the demo seeder: escalation policies and on-call schedules.

``seed_alerting(teams=None)`` is idempotent: it creates what is missing and leaves existing
policies, schedules and overrides as they are (a coordinator's edits survive re-seeding).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, time, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import CareTeam, Membership, Role
from alerts.models import (
    EscalationPolicy,
    EscalationPolicyStep,
    OnCallMember,
    OnCallSchedule,
    Slot,
)
from alerts.policy import DEFAULT_POLICY


def seed_alerting(teams: Iterable[CareTeam] | None = None, *, start: date | None = None) -> dict:
    """Give every team (or ``teams``) an escalation policy and primary/backup on-call rotations of its
    physicians (daily handover at 08:00 local time). Returns counts of what was created."""
    created = {"policies": 0, "schedules": 0, "members": 0}
    teams = list(teams) if teams is not None else list(CareTeam.objects.all())
    start = start or (timezone.now().date() - timedelta(days=1))
    with transaction.atomic():
        for team in teams:
            policy, made = EscalationPolicy.objects.get_or_create(
                team=team,
                defaults={
                    "name": f"{team.name} escalation",
                    "repeat_count": DEFAULT_POLICY.repeat_count,
                    "reminder_minutes": DEFAULT_POLICY.reminder_minutes,
                    "final_wait_minutes": DEFAULT_POLICY.final_wait_minutes,
                    "final_channels": list(DEFAULT_POLICY.final_channels),
                },
            )
            created["policies"] += int(made)
            if made or not policy.steps.exists():
                for i, step in enumerate(DEFAULT_POLICY.steps):  # the built-in policy, saved for the team
                    EscalationPolicyStep.objects.create(
                        policy=policy,
                        position=i,
                        target=step.target,
                        role=step.role,
                        channels=list(step.channels),
                        wait_minutes=step.wait_minutes,
                    )
            physicians = list(
                Membership.objects.filter(team=team, role=Role.PHYSICIAN)
                .order_by("-is_lead", "user_id")
                .values_list("user_id", flat=True)
            )
            for offset, slot in enumerate((Slot.PRIMARY, Slot.BACKUP)):
                schedule, made = OnCallSchedule.objects.get_or_create(
                    team=team,
                    slot=slot,
                    defaults={"start_date": start, "handover_time": time(8, 0), "shift_days": 1},
                )
                created["schedules"] += int(made)
                if made and physicians:
                    rotated = physicians[offset:] + physicians[:offset]
                    for pos, uid in enumerate(rotated):
                        OnCallMember.objects.create(schedule=schedule, user_id=uid, position=pos)
                        created["members"] += 1
    return created
