"""The escalation chain with real worker processes, PostgreSQL and Redis.

Long waits use controlled time: steps are created with due times seconds away (the database rows
are the timers), the tick runs every second and the stuck threshold is 3 s (env of the worker).
"""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from alerts import services
from alerts.models import Alert, AlertStatus, EscalationStep, Notification, StepStatus
from monitoring.models import ObservationKind
from monitoring.services import observation_record
from tests.alerts.conftest import make_evaluation
from tests.alerts.receivers import WebhookReceiver

from .conftest import SECRET, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), pytest.mark.timeout(90)]


def open_alert(infusion, *, grade=2, at=None) -> Alert:
    """Open an alert and its step rows without dispatching (the worker must do the sending)."""
    at = at or timezone.now()
    ev = make_evaluation(infusion, crs=grade)
    with transaction.atomic():
        return services.open_alert(
            infusion=infusion,
            ev=ev,
            syndrome="crs",
            grade=grade,
            urgency="urgent" if grade == 2 else "emergent",
            now=at,
        )


def test_observation_commit_reaches_the_worker_and_pages(start_worker, ward, receivers):
    hook, smtp = receivers
    start_worker("w1")
    t0 = time.monotonic()
    _obs, evaluation, created = observation_record(
        infusion=ward["infusion"],
        kind=ObservationKind.VITALS,
        recorded_by=ward["nurse"],
        payload={
            "temp_c": 39.1,
            "hr": 124,
            "sbp": 118,
            "dbp": 70,
            "rr": 20,
            "spo2": 97,
            "o2_device": "room_air",
        },
        observed_at=timezone.now() - timedelta(minutes=1),
        client_uuid=uuid.uuid4(),
    )
    assert created and evaluation.crs_grade == 1
    alert = wait_for(lambda: Alert.objects.filter(infusion=ward["infusion"], syndrome="crs").first(), 30)
    wait_for(lambda: Alert.objects.get(pk=alert.pk).first_notified_at, 15)
    wait_for(lambda: len(hook.requests) >= 1 and len(smtp.messages) >= 1, 15)
    elapsed = time.monotonic() - t0
    alert.refresh_from_db()
    assert alert.evaluation_id == evaluation.pk and alert.grade == 1
    assert hook.requests[0]["body"]["to"] == "+4915100000001" and hook.requests[0]["ok"]
    assert ward["infusion"].patient.family_name not in smtp.messages[0]["Subject"]
    print(f"commit -> first notification (incl. worker start) {elapsed:.2f} s")


def test_sigkill_while_sending_then_restart_delivers_exactly_once(start_worker, ward, transactional_db):
    with WebhookReceiver(SECRET, delay_first=6.0) as slow_hook:
        worker = start_worker("w1", webhook_url=slow_hook.url)
        alert = open_alert(ward["infusion"])
        wait_for(lambda: len(slow_hook.requests) >= 1, 30)  # the SMS request is in flight
        worker.kill()  # SIGKILL the whole worker process group mid-send
        step = alert.steps.order_by("sequence").first()
        assert EscalationStep.objects.get(pk=step.pk).status == StepStatus.SENDING
        start_worker("w2", webhook_url=slow_hook.url)  # auditor finds it stuck (3 s) and re-kicks it
        wait_for(lambda: EscalationStep.objects.get(pk=step.pk).status == StepStatus.SENT, 40)
        time.sleep(2)
    sms = Notification.objects.filter(step=step, channel="sms")
    assert sms.count() == 1 and sms.get().status == "sent"
    assert len(slow_hook.unique_keys) == 1  # same idempotency key on the redelivery: one SMS at the gateway
    assert all(r["ok"] for r in slow_hook.requests)
    assert Notification.objects.filter(step=step, channel="inapp").count() == 1


def test_broker_flushed_while_steps_pending_every_step_still_sent_on_time(start_worker, ward, receivers):
    hook, _smtp = receivers
    now = timezone.now()
    alert = open_alert(ward["infusion"], at=now)
    first, second, final = alert.steps.order_by("sequence")
    EscalationStep.objects.filter(pk=second.pk).update(due_at=now + timedelta(seconds=6))
    EscalationStep.objects.filter(pk=final.pk).update(due_at=now + timedelta(seconds=10))
    worker = start_worker("w1")
    wait_for(lambda: EscalationStep.objects.get(pk=first.pk).status == StepStatus.SENT, 30)
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()  # the broker loses every queued message
    worker.kill()  # and the worker (with its beat) restarts
    w2 = start_worker("w2")
    # The rows are the timers: once a worker is back, a step already due goes out within a few ticks
    # (1 s here) of the worker being ready, and a step due later within a few ticks of its due time.
    # How long the restart itself takes is the machine's (20 s and more on a loaded CI box), not ours.
    back_at = wait_for(lambda: w2.ready_at(), 60)
    for step in (second, final):
        wait_for(lambda s=step: EscalationStep.objects.get(pk=s.pk).status == StepStatus.SENT, 40)
    for step in EscalationStep.objects.filter(pk__in=[second.pk, final.pk]):
        lateness = (step.sent_at - max(step.due_at, back_at)).total_seconds()
        assert lateness <= 8, f"step {step.sequence} sent {lateness:.1f} s after due with a worker back"
    assert {r["body"]["to"] for r in hook.requests} == {"+4915100000001", "+4915100000002"}


def test_duplicate_tasks_and_two_workers_send_each_notification_once(start_worker, ward, receivers):
    from alerts.tasks import process_evaluation, tick

    hook, smtp = receivers
    evaluations = []
    for i in range(12):
        from tests import factories

        patient = factories.make_patient(ward["team"])
        infusion = factories.make_infusion(patient, ward["infusion"].product)
        evaluations.append(make_evaluation(infusion, crs=2 + (i % 2)))
    start_worker("w1")
    start_worker("w2")
    for ev in evaluations:
        process_evaluation.delay(ev.pk)
        process_evaluation.delay(ev.pk)  # the same task delivered twice
    for _ in range(5):
        tick.delay()
    wait_for(lambda: Alert.objects.filter(first_notified_at__isnull=False).count() == 12, 40)
    expected_sms = lambda: Notification.objects.filter(channel="sms", status="sent").count()  # noqa: E731
    wait_for(lambda: len(hook.requests) >= expected_sms() > 0 and len(smtp.messages) >= 12, 20)
    time.sleep(3)
    assert Alert.objects.count() == 12
    assert len(hook.requests) == len(hook.unique_keys) == expected_sms()
    assert len(smtp.message_ids) == len(set(smtp.message_ids))
    assert len(smtp.messages) == Notification.objects.filter(channel="email", status="sent").count()


def test_acknowledged_between_due_time_and_send_nothing_is_sent(start_worker, ward, receivers):
    hook, smtp = receivers
    now = timezone.now()
    alert = open_alert(ward["infusion"], at=now - timedelta(minutes=10))  # every page step is already due
    services.alert_acknowledge(alert=alert, user=ward["primary"])  # no worker ran yet
    ack_at = Alert.objects.get(pk=alert.pk).acknowledged_at
    start_worker("w1")
    time.sleep(6)  # several ticks and an auditor run
    assert Notification.objects.filter(alert=alert).exclude(step__kind="reminder").count() == 0
    assert hook.requests == [] and smtp.messages == []
    assert not alert.steps.filter(
        status=StepStatus.SENT, sent_at__gte=ack_at, kind__in=["page", "final"]
    ).exists()
    assert Alert.objects.get(pk=alert.pk).status == AlertStatus.ACKNOWLEDGED
