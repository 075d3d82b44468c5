"""Celery tasks of the alerts app.  Tasks take ids and call a service; nothing else."""

from celery import shared_task

from . import services


@shared_task(name="alerts.process_evaluation", acks_late=True, autoretry_for=(Exception,),
             retry_backoff=True, retry_jitter=True, max_retries=8)
def process_evaluation(evaluation_id: int) -> None:
    """Raise or upgrade the alert a stored grade evaluation calls for."""
    services.alert_process_evaluation(evaluation_id=evaluation_id)
