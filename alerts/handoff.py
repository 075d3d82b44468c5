"""The alerts app's side of ``monitoring.handoff``: what monitoring calls, without importing alerts.

Registered by ``AlertsConfig.ready``.  Each method looks the task and service up when it is called,
so a test that replaces ``process_evaluation.delay`` or a service function sees its replacement.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count

from monitoring.models import Infusion, MissedCheck

from . import services, tasks
from .models import ACTIVE_STATUSES, Alert


class AlertingForMonitoring:
    """Implements :class:`monitoring.handoff.Alerting`."""

    def enqueue_evaluation(self, evaluation_id: int) -> None:
        tasks.process_evaluation.delay(evaluation_id)

    def process_evaluation(self, evaluation_id: int) -> None:
        services.alert_process_evaluation(evaluation_id=evaluation_id)

    def record_missed_check(
        self, *, infusion: Infusion, check_type: str, due_at: datetime, reason: str, user
    ) -> MissedCheck:
        return services.missed_check_record(
            infusion=infusion, check_type=check_type, due_at=due_at, reason=reason, user=user
        )

    def course_closed(self, infusion_id: int) -> None:
        services.alerts_close_with_course(infusion_id=infusion_id)

    def open_alert_counts(self, infusion_ids: list[int]) -> dict[int, int]:
        rows = (
            Alert.objects.filter(infusion_id__in=infusion_ids, status__in=ACTIVE_STATUSES)
            .values("infusion_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        return {row["infusion_id"]: row["n"] for row in rows}
