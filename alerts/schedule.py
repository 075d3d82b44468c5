"""The Celery beat schedule: the one place that defines periodic tasks (``config/celery.py`` installs it)."""

import os

from django.conf import settings


def _seconds(name: str, default: int) -> float:
    """From Django settings (env-driven in config/settings/base.py); env if settings are not loaded."""
    if settings.configured:
        return float(getattr(settings, name, default))
    return float(os.environ.get(name) or default)


def beat_schedule() -> dict[str, dict]:
    """The periodic tasks, their intervals read when the Celery app is finalised (settings loaded)."""
    return {
        # The escalation timer: claims due EscalationStep rows (≤ 15 s between ticks).
        "alerts-tick": {
            "task": "alerts.tick",
            "schedule": _seconds("ALERT_TICK_SECONDS", 10),
            "options": {"expires": 60},
        },
        # The auditor: re-kicks overdue/stuck steps, raises operations alarms, writes the heartbeat.
        "alerts-audit": {
            "task": "alerts.audit",
            "schedule": _seconds("ALERT_AUDITOR_SECONDS", 60),
            "options": {"expires": 120},
        },
        # Overdue bedside checks → nurse tasks → charge-nurse alerts after the grace period.
        "alerts-overdue-checks": {
            "task": "alerts.overdue_checks",
            "schedule": 60.0,
            "options": {"expires": 120},
        },
        # Follow-up visits whose window closed undocumented → coordinator tasks and a routine alert (G-1).
        # (Cheap when no window closed: one query, no course is read.)
        "followup-overdue-visits": {
            "task": "followup.overdue_visits",
            "schedule": _seconds("FOLLOWUP_SCAN_SECONDS", 60),
            "options": {"expires": 120},
        },
    }
