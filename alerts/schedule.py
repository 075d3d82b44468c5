"""The Celery beat schedule: the one place that defines periodic tasks."""

from django.conf import settings

BEAT_SCHEDULE: dict[str, dict] = {
    # The escalation timer: claims due EscalationStep rows (≤ 15 s between ticks).
    "alerts-tick": {
        "task": "alerts.tick",
        "schedule": float(settings.ALERT_TICK_SECONDS),
        "options": {"expires": 60},
    },
    # The auditor: re-kicks overdue/stuck steps, raises operations alarms, writes the heartbeat.
    "alerts-audit": {
        "task": "alerts.audit",
        "schedule": float(settings.ALERT_AUDITOR_SECONDS),
        "options": {"expires": 120},
    },
    "alerts-overdue-checks": {"task": "alerts.overdue_checks", "schedule": 60.0, "options": {"expires": 120}},
}
