"""What every escalation service shares: the clock, the alert's timeline, the step rows' sequence
and their cancellation."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Max
from django.utils import timezone

from ..models import Alert, AlertEvent, EscalationStep, StepStatus


def at_or_now(now: datetime | None) -> datetime:
    return now or timezone.now()


def record_event(alert: Alert, kind: str, text: str = "", *, user=None, at: datetime | None = None) -> None:
    AlertEvent.objects.create(alert=alert, kind=kind, text=text[:2000], user=user, at=at_or_now(at))


def next_sequence(alert: Alert) -> int:
    top = alert.steps.filter(generation=alert.generation).aggregate(m=Max("sequence"))["m"]
    return 0 if top is None else top + 1


def cancel_pending(alert: Alert, *, reason: str, kinds: Iterable[str] | None = None) -> int:
    qs = EscalationStep.objects.filter(alert=alert, status=StepStatus.PENDING)
    if kinds is not None:
        qs = qs.filter(kind__in=list(kinds))
    return qs.update(status=StepStatus.CANCELLED, outcome=reason[:200])
