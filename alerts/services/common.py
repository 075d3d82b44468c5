"""What every escalation service shares: the clock, the alert's timeline, the step rows' sequence
and their cancellation."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from django.db.models import Max
from django.utils import timezone

from ..models import (
    Alert,
    AlertEvent,
    AlertStatus,
    CheckTask,
    CheckTaskStatus,
    EscalationStep,
    EventKind,
    StepStatus,
)


def at_or_now(now: datetime | None) -> datetime:
    return now or timezone.now()


def record_event(alert: Alert, kind: str, text: str = "", *, user=None, at: datetime | None = None) -> None:
    AlertEvent.objects.create(alert=alert, kind=kind, text=text[:2000], user=user, at=at_or_now(at))


def next_sequence(alert: Alert) -> int:
    top = alert.steps.filter(generation=alert.generation).aggregate(m=Max("sequence"))["m"]
    return 0 if top is None else top + 1


def add_step(
    alert: Alert, *, kind: str, due_at: datetime, targets: list[dict] | None = None
) -> EscalationStep:
    """One more step row of the alert's current generation (the caller holds the alert's row lock)."""
    return EscalationStep.objects.create(
        alert=alert,
        generation=alert.generation,
        sequence=next_sequence(alert),
        kind=kind,
        targets=targets or [],
        due_at=due_at,
    )


def cancel_pending(alert: Alert, *, reason: str, kinds: Iterable[str] | None = None) -> int:
    qs = EscalationStep.objects.filter(alert=alert, status=StepStatus.PENDING)
    if kinds is not None:
        qs = qs.filter(kind__in=list(kinds))
    return qs.update(status=StepStatus.CANCELLED, outcome=reason[:200])


def resolve_alert(
    alert: Alert,
    *,
    at: datetime,
    by=None,
    text: Callable[[int], str],
    steps_outcome: str,
    kind: str = EventKind.RESOLVED,
    supersede: bool = False,
) -> int:
    """Resolve ``alert`` (the caller holds its row lock, inside a transaction): resolved at ``at`` by
    ``by`` (None: by the system), its pending steps stopped with ``steps_outcome``, its open check task
    done, and one timeline event of ``kind`` whose text is ``text(number of steps stopped)``.

    ``supersede`` also moves the alert to a new generation, so that a step a sender already claimed is
    superseded rather than sent.  Returns the number of pending steps stopped."""
    alert.status = AlertStatus.RESOLVED
    alert.resolved_at = at
    alert.resolved_by = by
    if supersede:
        alert.generation += 1
    alert.save()
    stopped = cancel_pending(alert, reason=steps_outcome)
    record_event(alert, kind, text(stopped), user=by, at=at)
    CheckTask.objects.filter(alert=alert, status=CheckTaskStatus.OPEN).update(
        status=CheckTaskStatus.DONE, closed_at=at
    )
    return stopped
