"""Celery tasks of the followup app: they take ids and call a service."""

from celery import shared_task

from . import services


@shared_task(
    name=services.PROCESS_FINDINGS_TASK,
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=8,
)
def process_findings(evaluation_id: int) -> None:
    """Alerts and coordinator tasks of a stored follow-up result (idempotent per finding)."""
    services.findings_process(evaluation_id=evaluation_id)


@shared_task(name="followup.overdue_visits", acks_late=True, ignore_result=True, expires=120)
def overdue_visits() -> dict:
    """Courses in which a visit window closed undocumented get their overdue-visit tasks (G-1)."""
    return services.overdue_visits_scan()
