"""Escalation policies: the snapshot frozen onto an alert, its expansion into step rows, and the
policy editor's save."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Membership, User
from accounts.permissions import require

from ..models import (
    Alert,
    EscalationPolicy,
    EscalationPolicyStep,
    EscalationStep,
    StepKind,
    Urgency,
)
from ..policy import DEFAULT_POLICY, PolicySnapshot, PolicyStep
from .common import next_sequence

log = logging.getLogger(__name__)


def policy_snapshot_for(team_id: int) -> PolicySnapshot:
    """The team's policy frozen now, or the built-in default when it has none (or no steps)."""
    policy = EscalationPolicy.objects.filter(team_id=team_id).first()
    if policy is None or not policy.steps.exists():
        return DEFAULT_POLICY
    return PolicySnapshot.of(policy)


def expand_chain(alert: Alert, *, start: datetime, from_index: int = 0) -> list[EscalationStep]:
    """Turn the alert's frozen policy into step rows with due times (generation = alert.generation).

    Emergent alerts notify every on-call slot of the first round at once (primary and backup).
    After the last repeat the leads (attending, charge nurse, coordinators) are notified.
    """
    snap = PolicySnapshot.from_json(alert.policy_snapshot)
    policy_steps = snap.chain_steps
    rounds: list[list[PolicyStep]] = []
    for r in range(snap.repeat_count + 1):
        steps = list(policy_steps[from_index:] if r == 0 else policy_steps)
        if steps:
            rounds.append(steps)
    rows: list[EscalationStep] = []
    seq = next_sequence(alert)
    due = start
    for r, steps in enumerate(rounds):
        groups: list[tuple[list[PolicyStep], int]] = []
        if alert.urgency == Urgency.EMERGENT and r == 0:
            oncall = [s for s in steps if s.is_oncall]
            if oncall:
                first = [steps[0], *[s for s in oncall if s is not steps[0]]]
                groups.append((first, steps[0].wait_minutes))
                steps = [s for s in steps[1:] if s not in oncall]
        groups.extend(([s], s.wait_minutes) for s in steps)
        for targets, wait in groups:
            rows.append(
                EscalationStep(
                    alert=alert,
                    generation=alert.generation,
                    sequence=seq,
                    kind=StepKind.PAGE,
                    targets=[s.to_json() for s in targets],
                    due_at=due,
                )
            )
            seq += 1
            due = due + timedelta(minutes=wait)
    if rows:
        due = due - timedelta(minutes=wait) + timedelta(minutes=snap.final_wait_minutes)
    rows.append(
        EscalationStep(
            alert=alert,
            generation=alert.generation,
            sequence=seq,
            kind=StepKind.FINAL,
            targets=[snap.final_step.to_json()],
            due_at=due,
        )
    )
    return EscalationStep.objects.bulk_create(rows)


def escalation_policy_save(*, team, by: User, policy: dict, steps: list[dict]) -> EscalationPolicy:
    """Replace ``team``'s escalation policy (fields + ordered steps) in one durable transaction.

    Alerts already open keep the policy copied onto them when they opened; the change applies to
    alerts opened from now on.  Every change is kept in the policy's and steps' history."""
    require(by, "policy.manage", team.pk)
    if not steps:
        raise ValidationError({"steps": ["An escalation policy needs at least one step."]})
    member_ids = set(Membership.objects.filter(team=team).values_list("user_id", flat=True))
    for number, step in enumerate(steps, start=1):
        user = step.get("user")
        if user is not None and user.pk not in member_ids:
            raise ValidationError({"steps": [f"Step {number}: {user} is not a member of {team}."]})
    with transaction.atomic(durable=True):
        obj, _created = EscalationPolicy.objects.select_for_update().get_or_create(team=team)
        for name in ("name", "repeat_count", "reminder_minutes", "final_wait_minutes"):
            setattr(obj, name, policy[name])
        obj.final_channels = list(policy["final_channels"])
        obj.full_clean()
        obj.save()
        for old in obj.steps.all():
            old.delete()  # one by one, so each removal is in the step history
        for position, step in enumerate(steps):
            EscalationPolicyStep.objects.create(
                policy=obj,
                position=position,
                target=step["target"],
                role=step.get("role") or "",
                user=step.get("user"),
                channels=list(step["channels"]),
                wait_minutes=step["wait_minutes"],
            )
    log.info("escalation policy of team %s changed by user %s", team.pk, by.pk)
    return obj
