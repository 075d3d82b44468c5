"""What monitoring hands to the alerting app, without importing it: a registry the alerts app fills at
start-up (``AlertsConfig.ready``).

Monitoring sits below alerts in the layers (``docs/architecture.md``): it stores observations and
grades, and must not know how an alert is raised, who is paged or how an overdue check's task closes.
It declares here what it needs (:class:`Alerting`); the alerts app registers the one implementation.

Why a registry rather than a signal or a task name: exactly one receiver must act on a committed
grade, its failure must be seen (a lost alert can harm a patient), and when the broker is down the
same receiver must run in-process.  A signal allows zero or many receivers and hides that none is
connected; a task name alone cannot fall back to in-process processing.  The registry is checked at
start-up (system check ``monitoring.E001``, registered by ``MonitoringConfig.ready``), so a
deployment without an alerting receiver does not start silently.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Protocol

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)


class Alerting(Protocol):
    """The alerting app as monitoring sees it."""

    def enqueue_evaluation(self, evaluation_id: int) -> None:
        """Queue a committed grade evaluation for the alert worker (raises if the broker is down)."""

    def process_evaluation(self, evaluation_id: int) -> None:
        """Raise or upgrade the alert a committed evaluation calls for, in this process."""

    def record_missed_check(
        self, *, infusion: Any, check_type: str, due_at: datetime, reason: str, user: Any
    ) -> Any:
        """Store why a due check was not done and close its overdue task and alert (one transaction)."""

    def course_closed(self, infusion_id: int) -> None:
        """The infusion's monitoring was closed (committed): stop and close the course's alerts, naming
        who closed it and why (from the infusion's history)."""

    def open_alert_counts(self, infusion_ids: list[int]) -> dict[int, int]:
        """How many alerts are open (or acknowledged, not resolved) per infusion: "My patients" sorts
        by risk with it (issue 13 item 5).  Infusions without one are absent."""


_registered: Alerting | None = None


def register(alerting: Alerting) -> None:
    """Called once by the alerts app's ``ready()``; a second registration replaces the first."""
    global _registered  # the one process-wide receiver, set at start-up
    _registered = alerting


def alerting() -> Alerting:
    if _registered is None:
        raise ImproperlyConfigured("No alerting registered with monitoring.handoff (is 'alerts' installed?)")
    return _registered


def grade_committed(evaluation_id: int) -> None:
    """Hand a committed evaluation to the alert worker; if the broker is unreachable, process it in this
    process instead (the alert service is idempotent per evaluation)."""
    receiver = alerting()
    try:
        receiver.enqueue_evaluation(evaluation_id)
    except Exception:
        logger.exception(
            "could not enqueue alert processing of evaluation %s; processing in-process", evaluation_id
        )
        receiver.process_evaluation(evaluation_id)


def course_closed(infusion_id: int) -> None:
    """After the commit that closed an infusion: the alerting app closes its alerts with the course.
    Run in this process (no broker hop: the close must stop the next page); should it fail, the
    sender of a due step finds the closed course and closes the alerts the same way."""
    alerting().course_closed(infusion_id)


def check_alerting_registered(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    if _registered is not None:
        return []
    return [
        checks.Error(
            "No alerting app is registered: committed grades would raise no alert.",
            hint="Add 'alerts' to INSTALLED_APPS (its AppConfig.ready registers with monitoring.handoff).",
            id="monitoring.E001",
        )
    ]
