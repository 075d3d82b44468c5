"""Alerts, escalation policies, on-call schedules, escalation steps and notifications.

The escalation *timers* are database rows (:class:`EscalationStep` with a ``due_at``): a beat tick
claims due rows with ``SELECT … FOR UPDATE SKIP LOCKED`` and sends them.  Broker countdowns are never
used as timers (a Redis restart or a visibility-timeout redelivery must not lose or duplicate a page).
Every notification carries an idempotency key protected by a unique constraint.

One module per subject; Django finds the app's models here, so this package lists them all:

- :mod:`.vocabulary`: syndromes, urgencies, channels (defined once) and escalation targets
- :mod:`.policies`: escalation policies and their steps
- :mod:`.oncall`: on-call schedules, members and overrides
- :mod:`.alert`: alerts and their timeline
- :mod:`.steps`: escalation steps (the timers) and notifications
- :mod:`.operations`: operations alarms, alerting outages, the auditor's heartbeat
- :mod:`.checks`: overdue-check tasks
"""

from __future__ import annotations

from .alert import ACTIVE_STATUSES, Alert, AlertEvent, AlertQuerySet, AlertStatus, EventKind
from .checks import CheckTask, CheckTaskStatus
from .oncall import OnCallMember, OnCallOverride, OnCallSchedule, Slot
from .operations import AlarmKind, AlertingOutage, AuditorHeartbeat, OperationsAlarm
from .policies import EscalationPolicy, EscalationPolicyStep
from .steps import EscalationStep, Notification, NotificationStatus, StepKind, StepStatus, new_token
from .vocabulary import (
    EVALUATED_SYNDROMES,
    FINDING_SYNDROMES,
    FOLLOWUP_SYNDROMES,
    GRADED_SYNDROMES,
    OVERDUE_SYNDROMES,
    PAGE_CHANNELS,
    ROUTINE_CHANNELS,
    SMS_NOW,
    URGENCY_RANK,
    Channel,
    Syndrome,
    Target,
    Urgency,
    urgency_for_grade,
)

__all__ = [
    "ACTIVE_STATUSES",
    "EVALUATED_SYNDROMES",
    "FINDING_SYNDROMES",
    "FOLLOWUP_SYNDROMES",
    "GRADED_SYNDROMES",
    "OVERDUE_SYNDROMES",
    "PAGE_CHANNELS",
    "ROUTINE_CHANNELS",
    "SMS_NOW",
    "URGENCY_RANK",
    "AlarmKind",
    "Alert",
    "AlertEvent",
    "AlertQuerySet",
    "AlertStatus",
    "AlertingOutage",
    "AuditorHeartbeat",
    "Channel",
    "CheckTask",
    "CheckTaskStatus",
    "EscalationPolicy",
    "EscalationPolicyStep",
    "EscalationStep",
    "EventKind",
    "Notification",
    "NotificationStatus",
    "OnCallMember",
    "OnCallOverride",
    "OnCallSchedule",
    "OperationsAlarm",
    "Slot",
    "StepKind",
    "StepStatus",
    "Syndrome",
    "Target",
    "Urgency",
    "new_token",
    "urgency_for_grade",
]
