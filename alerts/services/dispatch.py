"""Claiming due steps (SKIP LOCKED, fencing token) and sending them: pages, reminders, un-acknowledgement."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from monitoring.models import InfusionStatus, Observation, ObservationKind

from ..models import (
    PAGE_CHANNELS,
    SMS_NOW,
    AlarmKind,
    Alert,
    AlertStatus,
    Channel,
    EscalationStep,
    EventKind,
    StepKind,
    StepStatus,
    new_token,
)
from ..policy import PolicySnapshot
from .alarms import raise_alarm
from .common import add_step, at_or_now, record_event
from .course import alerts_close_with_course, follow_up_goes_on
from .delivery import leads_of, notify_step, resolve_recipients
from .policies import expand_chain

log = logging.getLogger(__name__)


MAX_STEP_ATTEMPTS = 5


def claim_due_steps(
    *, now: datetime | None = None, alert_ids: Iterable[int] | None = None, limit: int = 50
) -> list[tuple[int, str]]:
    """Claim up to ``limit`` due pending steps (skip rows another worker holds); returns (id, token)."""
    at = at_or_now(now)
    with transaction.atomic(durable=True):  # the claim commits before any sending starts
        qs = EscalationStep.objects.select_for_update(skip_locked=True).filter(
            status=StepStatus.PENDING, due_at__lte=at
        )
        if alert_ids is not None:
            qs = qs.filter(alert_id__in=list(alert_ids))
        ids = list(qs.order_by("due_at", "id").values_list("id", flat=True)[:limit])
        claimed = []
        for step_id in ids:
            token = new_token()
            n = EscalationStep.objects.filter(pk=step_id, status=StepStatus.PENDING).update(
                status=StepStatus.SENDING,
                claim_token=token,
                claimed_at=timezone.now(),
                attempts=F("attempts") + 1,
            )
            if n:
                claimed.append((step_id, str(token)))
    return claimed


def dispatch_due_steps(
    *,
    now: datetime | None = None,
    alert_ids: Iterable[int] | None = None,
    limit: int = 50,
    max_batches: int = 20,
) -> int:
    """Claim and send every due step (in batches). Returns how many steps were processed."""
    done = 0
    alert_ids = list(alert_ids) if alert_ids is not None else None
    for _ in range(max_batches):
        claimed = claim_due_steps(now=now, alert_ids=alert_ids, limit=limit)
        if not claimed:
            break
        for step_id, token in claimed:
            send_claimed_step(step_id=step_id, token=token, now=now)
            done += 1
    return done


def send_claimed_step(*, step_id: int, token: str, now: datetime | None = None) -> None:
    """Send one step this process claimed; a failure is logged, not raised, so one broken step does not
    starve the others (it stays ``sending`` and the auditor re-kicks it)."""
    try:
        send_step(step_id=step_id, token=token, now=now)
    except Exception:
        log.exception("escalation step %s failed while sending", step_id)


def _finish_step(
    step_id: int, token: str, *, status: str, outcome: str, due_at: datetime | None = None
) -> bool:
    values: dict = {"status": status, "outcome": outcome[:200]}
    if status == StepStatus.SENT:
        values["sent_at"] = timezone.now()
    if status == StepStatus.PENDING:
        values.update(claim_token=None, due_at=due_at)
    return bool(
        EscalationStep.objects.filter(pk=step_id, status=StepStatus.SENDING, claim_token=token).update(
            **values
        )
    )


def send_step(*, step_id: int, token: str, now: datetime | None = None) -> str:
    """Send one claimed step. Only the holder of ``token`` may act on it (fencing)."""
    step = EscalationStep.objects.select_related("alert__infusion").filter(pk=step_id).first()
    if step is None or step.status != StepStatus.SENDING or str(step.claim_token) != token:
        return "fenced out"
    alert = step.alert
    infusion = alert.infusion
    if infusion.status != InfusionStatus.ACTIVE and not follow_up_goes_on(infusion, alert.syndrome):
        # the course closed: its alerts page nobody (follow-up alerts of a completed course go on)
        alerts_close_with_course(infusion_id=alert.infusion_id, now=now)
        _finish_step(step_id, token, status=StepStatus.CANCELLED, outcome="closed with the course")
        return "cancelled"
    if step.generation != alert.generation:
        _finish_step(step_id, token, status=StepStatus.CANCELLED, outcome="superseded (alert re-paged)")
        return "superseded"
    if step.kind in (StepKind.PAGE, StepKind.FINAL):
        if alert.status != AlertStatus.OPEN:
            _finish_step(step_id, token, status=StepStatus.CANCELLED, outcome=f"alert {alert.status}")
            return "cancelled"
        return _send_page(step, token, now=now)
    if step.kind == StepKind.REMINDER:
        return _send_reminder(step, token, now=now)
    if step.kind == StepKind.UNACK:
        return _unacknowledge(step, token, now=now)
    _finish_step(step_id, token, status=StepStatus.FAILED, outcome=f"unknown kind {step.kind}")
    return "failed"


def _send_page(step: EscalationStep, token: str, *, now: datetime | None) -> str:
    alert = step.alert
    at = at_or_now(now)
    pairs, notes = resolve_recipients(alert, step.targets, now=at)
    if not pairs:
        # Nobody reachable for this step: never page into the void; go to the leads now.
        leads = leads_of(alert.care_team_id)
        pairs = [(u, ch) for u in leads for ch in PAGE_CHANNELS]
        text = "; ".join(notes) or "no recipient"
        record_event(
            alert, EventKind.NO_RECIPIENT, f"Step {step.sequence + 1}: {text}; notifying the leads instead"
        )
        raise_alarm(
            kind=AlarmKind.NO_RECIPIENT,
            key=f"no_recipient:{step.pk}",
            team_id=alert.care_team_id,
            message=f"Alert #{alert.pk} step {step.sequence + 1}: {text}",
        )
    sent = failed = 0
    fenced = False
    failed_channels: set[str] = set()
    results = notify_step(step, token, pairs, require_status=AlertStatus.OPEN)
    for (_user, channel), result in zip(pairs, results, strict=False):
        if result in ("sent", "duplicate"):  # duplicate: delivered by an earlier attempt
            sent += 1
        elif result == "failed":
            failed += 1
            failed_channels.add(channel)
        elif result == "fenced":
            fenced = True
    if fenced:
        _finish_step(step.pk, token, status=StepStatus.CANCELLED, outcome="alert no longer open")
        return "cancelled"
    if failed and step.attempts < MAX_STEP_ATTEMPTS:
        # Retry only what failed (delivered notifications are skipped by their idempotency key).
        retry_at = timezone.now() + timedelta(seconds=15 * step.attempts)
        _finish_step(
            step.pk, token, status=StepStatus.PENDING, outcome=f"{failed} failed; retrying", due_at=retry_at
        )
        if sent == 0:
            return "retry"
        return "partly sent; retrying"
    for channel in sorted(failed_channels):  # one open alarm per team and channel, counted
        raise_alarm(
            kind=AlarmKind.DELIVERY_FAILED,
            key=f"delivery_failed:{alert.care_team_id}:{channel}",
            team_id=alert.care_team_id,
            message=f"{Channel(channel).label} notifications fail for this care team "
            f"(last: alert #{alert.pk}, step {step.sequence + 1}); check contact details and the gateway",
        )
    status = StepStatus.SENT if sent else StepStatus.FAILED
    _finish_step(step.pk, token, status=status, outcome=f"{sent} sent, {failed} failed")
    if step.kind == StepKind.FINAL:
        _schedule_repeat_final(alert, step)
    return "sent" if sent else "failed"


def _schedule_repeat_final(alert: Alert, step: EscalationStep) -> None:
    """An unacknowledged alert keeps paging the leads until someone acknowledges it."""
    wait = max(5, PolicySnapshot.from_json(alert.policy_snapshot).final_wait_minutes)
    with transaction.atomic():
        locked = Alert.objects.select_for_update().get(pk=alert.pk)
        if locked.status != AlertStatus.OPEN or locked.generation != step.generation:
            return
        add_step(
            locked, kind=StepKind.FINAL, due_at=timezone.now() + timedelta(minutes=wait), targets=step.targets
        )


def _acknowledgement_step_not_needed(
    alert: Alert, step: EscalationStep, token: str, *, generation: int | None
) -> str | None:
    """A reminder or un-acknowledgement step is cancelled when the alert is no longer acknowledged
    (or, given ``generation``, was re-paged since), and not needed once a medication order was
    recorded after the acknowledgement; returns what it did, or None when the step goes ahead."""
    if alert.status != AlertStatus.ACKNOWLEDGED or (
        generation is not None and alert.generation != generation
    ):
        _finish_step(step.pk, token, status=StepStatus.CANCELLED, outcome=f"alert {alert.status}")
        return "cancelled"
    if _acted_since_ack(alert):
        _finish_step(step.pk, token, status=StepStatus.CANCELLED, outcome="medication order recorded")
        return "not needed"
    return None


def _send_reminder(step: EscalationStep, token: str, *, now: datetime | None) -> str:
    alert = step.alert
    stale = _acknowledgement_step_not_needed(alert, step, token, generation=None)
    if stale is not None:
        return stale
    user = alert.acknowledged_by
    pairs = [(user, ch) for ch in SMS_NOW] if user is not None else []
    results = notify_step(step, token, pairs, require_status=AlertStatus.ACKNOWLEDGED, prefix="REMINDER ")
    if "fenced" in results:
        _finish_step(step.pk, token, status=StepStatus.CANCELLED, outcome="alert changed")
        return "cancelled"
    reminder = PolicySnapshot.from_json(alert.policy_snapshot).reminder_minutes
    with transaction.atomic():
        locked = Alert.objects.select_for_update().get(pk=alert.pk)
        if locked.status == AlertStatus.ACKNOWLEDGED and locked.generation == step.generation:
            record_event(
                locked,
                EventKind.REMINDER,
                f"Not resolved and no order {reminder} min after acknowledgement: reminded {user}",
            )
            add_step(locked, kind=StepKind.UNACK, due_at=at_or_now(now) + timedelta(minutes=reminder))
        _finish_step(step.pk, token, status=StepStatus.SENT, outcome="reminded")
    return "sent"


def _acted_since_ack(alert: Alert) -> bool:
    if alert.acknowledged_at is None:
        return False
    # A note is not an action: it is kept on the timeline (``last_action_at``) but does not stop the
    # reminder or the re-escalation; only a recorded medication order, or resolving, does.
    return Observation.objects.filter(
        infusion_id=alert.infusion_id, kind=ObservationKind.MEDICATION, recorded_at__gte=alert.acknowledged_at
    ).exists()


def _unacknowledge(step: EscalationStep, token: str, *, now: datetime | None) -> str:
    at = at_or_now(now)
    with transaction.atomic():
        alert = Alert.objects.select_for_update().get(pk=step.alert_id)
        stale = _acknowledgement_step_not_needed(alert, step, token, generation=step.generation)
        if stale is not None:
            return stale
        who = alert.acknowledged_by
        alert.status = AlertStatus.OPEN
        alert.acknowledged_at = None
        alert.acknowledged_by = None
        alert.generation += 1
        alert.save(update_fields=["status", "acknowledged_at", "acknowledged_by", "generation", "updated_at"])
        record_event(
            alert,
            EventKind.UNACKNOWLEDGED,
            f"Acknowledged by {who} but not resolved and no order after the reminder: escalating",
            at=at,
        )
        n_steps = len(PolicySnapshot.from_json(alert.policy_snapshot).chain_steps)
        expand_chain(alert, start=at, from_index=1 if n_steps > 1 else 0)
        record_event(alert, EventKind.ESCALATED, "Escalation restarted at the next level", at=at)
        _finish_step(step.pk, token, status=StepStatus.SENT, outcome="un-acknowledged and escalated")
    dispatch_due_steps(alert_ids=[alert.pk], now=now)
    return "sent"
