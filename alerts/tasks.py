"""Celery tasks of the alerts app.  Tasks take ids and call a service; nothing else.

No countdown/ETA is ever used as a timer: the due times live in ``EscalationStep`` rows, claimed by the
dispatcher (``alerts/dispatcher.py``, which hands each to ``alerts.send_step``) and by the
``alerts.tick`` beat task as the safety net.  Every task is idempotent (unique keys, conditional updates),
so a redelivery after a worker crash or a broker restart is harmless.
"""

from celery import shared_task

from . import services


@shared_task(
    name="alerts.process_evaluation",
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=8,
)
def process_evaluation(evaluation_id: int) -> None:
    """Raise or upgrade the alert a stored grade evaluation calls for."""
    services.alert_process_evaluation(evaluation_id=evaluation_id)


@shared_task(name="alerts.tick", acks_late=True, ignore_result=True, expires=60)
def tick() -> int:
    """Claim and send every due escalation step (beat, every ``ALERT_TICK_SECONDS``)."""
    return services.dispatch_due_steps()


@shared_task(name="alerts.send_step", acks_late=True, ignore_result=True, expires=600)
def send_step(step_id: int, token: str) -> str:
    """Send one step the dispatcher claimed (``token`` fences out a copy delivered after a re-kick)."""
    return services.send_step(step_id=step_id, token=token)


@shared_task(name="alerts.audit", acks_late=True, ignore_result=True, expires=120)
def audit() -> dict:
    """Overdue/stuck steps, open alerts with nothing pending, on-call gaps; writes the heartbeat."""
    return services.run_auditor()


@shared_task(name="alerts.overdue_checks", acks_late=True, ignore_result=True, expires=120)
def overdue_checks() -> dict:
    """Overdue bedside assessments become nurse tasks, then charge-nurse alerts after the grace period."""
    return services.overdue_checks_scan()
